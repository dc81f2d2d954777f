"""``--strategy auto``: cheap features on the obligation's own encoding, built once."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from workbench.smt import obligations
from workbench.strategy.features import FEATURES, PROBE_FEATURES
from workbench.strategy.select import _features


def _args(action: str, **kw: object) -> argparse.Namespace:
    base = {"prove_action": action, "specs": ["stdlib.timing"], "assume": [], "spans": 2,
            "events": None, "links": None, "timeout": 30.0, "emit_smt2": None}
    return argparse.Namespace(**{**base, **kw})


@pytest.mark.parametrize("action", ["consistent", "redundant"])
def test_auto_encodes_the_spec_once(action: str, monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[object] = []
    real = obligations.Problem.__init__

    def counting(self: obligations.Problem, *a: object, **k: object) -> None:
        built.append(self)
        real(self, *a, **k)  # type: ignore[arg-type]

    monkeypatch.setattr(obligations.Problem, "__init__", counting)
    args = _args(action)
    feats = _features(args)
    assert feats is not None and len(built) == 1
    assert feats["probe.size"] > 0 and feats["meta.n"] == 2 and feats["ir.nodes"] > 0
    assert set(PROBE_FEATURES) <= set(feats) and set(feats) >= set(FEATURES)
    from workbench.smt.cli import _options, load_spec_arg

    spec = load_spec_arg("stdlib.timing")
    run = obligations.consistent if action == "consistent" else obligations.redundant
    out = run(spec, [], _options(args)) if action == "consistent" else run(spec, _options(args))
    assert out is not None and len(built) == 1  # the check took the prebuilt problem
    assert obligations._PREBUILT == {}


def test_a_prebuilt_problem_is_taken_once_and_only_for_equal_formulas() -> None:
    from workbench.lang import parse_formula

    f = parse_formula("forall s in spans: s.duration >= 0s")
    g = parse_formula("forall s in spans: s.duration >= 1s")
    opts = obligations.Options(spans=2)
    pb = obligations.prebuild([f], {}, opts)
    assert obligations.take_problem([g], {}, opts) is not pb
    assert obligations.take_problem([f], {}, obligations.Options(spans=3)) is not pb
    later = obligations.Options(spans=2, timeout=5.0)
    taken = obligations.take_problem([parse_formula("forall s in spans: s.duration >= 0s")],
                                     {}, later)
    assert taken is pb and taken.options is later
    assert obligations.take_problem([f], {}, opts) is not pb


def test_ir_features_need_no_encoding(monkeypatch: pytest.MonkeyPatch) -> None:
    from workbench.strategy.features import SELECTOR_FEATURES

    def refuse(*a: object, **k: object) -> None:
        raise AssertionError("encoded")

    monkeypatch.setattr(obligations.Problem, "__init__", refuse)
    for action in ("consistent", "redundant", "vacuous"):
        feats = _features(_args(action), probes=False)
        assert feats is not None and set(SELECTOR_FEATURES) <= set(feats)
        assert feats["ir.nodes"] > 0 and not any(k.startswith("probe.") for k in feats)


def test_a_run_stopped_by_the_clock_is_not_a_label() -> None:
    from workbench.strategy.label import determined
    from workbench.strategy.portfolio import Run

    assert determined(Run("a", "sat", 5, 0.1), 100)
    assert determined(Run("a", "unknown", 100, 1.0, "max. resource limit exceeded"), 100)
    assert determined(Run("a", "unknown", 0, 0.0, "tactic failed"), 100)
    assert not determined(Run("a", "unknown", 40, 5.0, "timeout"), 100)
    assert not determined(Run("a", "unknown", 40, 5.0, "killed: past the wall-clock limit"), 100)


def test_relabelling_reuses_the_runs_of_unchanged_obligations(tmp_path: Path,
                                                               tiny_dir: Path) -> None:
    from tests.strategy.conftest import FEW
    from workbench.cli import main
    from workbench.strategy.label import read_labels

    d, out = tiny_dir, tmp_path
    first, second = out / "a.jsonl.gz", out / "b.jsonl.gz"
    args = ["strategy", "label", "--corpus", str(d), "--strategies", ",".join(FEW[:2])]
    assert main([*args, "--out", str(first)]) == 0
    assert main([*args[:-1], ",".join(FEW), "--out", str(second), "--reuse", str(first),
                 "--reuse-manifest", str(d / "manifest.json")]) == 0
    before = {lab.id: lab for lab in read_labels(first)}
    after = read_labels(second)
    assert after and all(set(lab.runs) == set(FEW) for lab in after)
    for lab in after:  # the kept runs are the first labelling's, to the second
        for s in FEW[:2]:
            assert lab.runs[s].seconds == before[lab.id].runs[s].seconds


def test_encoding_reused_by_the_check_is_not_counted_as_choosing() -> None:
    from workbench.strategy.select import choose_for_args

    args = _args("consistent", strategy="auto")
    choice = choose_for_args(args)
    obligations._PREBUILT.clear()
    if choice.mode != "auto":
        pytest.skip(f"no shipped model here ({choice.why})")
    assert "encoding the goal (reused by the check)" in choice.why
    encode = float(choice.why.rsplit(", ", 1)[1].split("s ", 1)[0])
    assert encode > 0 and choice.seconds >= 0
    reused: dict[str, float] = {}
    assert _features(args, reused=reused) is not None and reused["encode"] > 0
    obligations._PREBUILT.clear()
    vac: dict[str, float] = {}
    assert _features(_args("vacuous"), reused=vac) is not None and vac == {}
