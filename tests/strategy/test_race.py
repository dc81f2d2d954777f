"""Racing strategies: ``race`` on SMT-LIB and ``otlspec prove --strategy portfolio``."""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

import pytest

from tests.strategy.conftest import FEW
from workbench.cli import main
from workbench.strategy.portfolio import run_strategy, strategy
from workbench.strategy.race import _race, race, render
from workbench.strategy.select import as_run, portfolio_for

SAT = "(declare-fun x () Int)(declare-fun y () Int)(assert (< x y))(assert (< y 10))(check-sat)"
UNSAT = "(declare-fun x () Int)(assert (< x 0))(assert (> x 5))(check-sat)"
EXAMPLES = Path(__file__).resolve().parents[2] / "specs" / "examples"
CORPUS_DIR = Path(__file__).resolve().parents[2] / "datasets" / "obligations"


def _definitive(v: object) -> bool:
    return v in ("sat", "unsat")


def test_race_gives_the_single_strategy_verdict() -> None:
    strats = [strategy(n) for n in FEW]
    for text, want in ((SAT, "sat"), (UNSAT, "unsat")):
        out = race(text, strats, timeout=2.0)
        assert out.winner is not None and out.winner.value.status == want
        assert {run_strategy(text, s).status for s in strats} == {want}
        assert out.winner.name in FEW and len(out.finishes) == len(FEW)
        assert "won in" in render(out)


def test_first_definitive_answer_wins_and_the_rest_are_killed() -> None:
    def slow() -> str:
        time.sleep(30)
        return "sat"

    started = time.perf_counter()
    out = _race([("gives-up", lambda: "unknown"), ("slow", slow), ("quick", lambda: "unsat"),
                 ("crash", lambda: 1 // 0)], _definitive, deadline=20.0)
    assert time.perf_counter() - started < 10
    assert out.winner is not None and out.winner.name == "quick"
    states = out.states()
    assert states["slow"] == "killed" and states["quick"] == "answered"
    # the two others finish before or are killed after the winner, never win
    assert states["gives-up"] in ("gave-up", "killed") and states["crash"] in ("crashed",
                                                                                 "killed")


def test_the_deadline_bounds_the_race() -> None:
    def slow() -> str:
        time.sleep(30)
        return "sat"

    started = time.perf_counter()
    out = _race([("a", slow), ("b", slow)], _definitive, deadline=0.5)
    assert time.perf_counter() - started < 5
    assert out.winner is None and out.timed_out
    assert out.states() == {"a": "killed", "b": "killed"}
    assert "no winner (deadline passed" in render(out)


def test_the_portfolio_skips_strategies_an_action_runs_alike() -> None:
    ranked = ["simplify-smt", "preprocess", "seed-7", "default"]
    # redundant checks under assumptions only: tactics do not apply, so the two tactic-only
    # strategies are Z3's default there, and only one of them (plus seed-7) is raced
    assert [s.name for s in portfolio_for(ranked, "redundant", 3)] == ["simplify-smt",
                                                                      "seed-7"]
    for action in ("vacuous", "consistent", "implies", "theorem"):
        assert [s.name for s in portfolio_for(ranked, action, 3)] == ranked[:3]
    assert as_run(strategy("preprocess"), "redundant").tactic is None
    assert as_run(strategy("preprocess"), "implies").tactic is not None


def _verdicts(out: str) -> list[str]:
    """Verdict lines without their timings."""
    return [re.sub(r", [0-9.]+s\]", "]", line) for line in out.splitlines() if line.strip()]


@pytest.mark.slow
def test_prove_portfolio_keeps_the_verdicts(capsys: pytest.CaptureFixture[str]) -> None:
    spec = str(EXAMPLES / "vacuous.otlspec")
    assert main(["prove", "vacuous", spec, "--strategy", "default"]) == 1
    single = _verdicts(capsys.readouterr().out)
    assert main(["prove", "vacuous", spec, "--strategy", "portfolio", "--portfolio-k",
                 "2"]) == 1
    out, err = capsys.readouterr()
    assert _verdicts(out) == single
    assert err.startswith("strategy: portfolio of ") and "won in" in err


def test_prove_portfolio_writes_the_winners_files(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    witness, smt2 = tmp_path / "w.json", tmp_path / "o.smt2"
    code = main(["prove", "consistent", str(EXAMPLES / "vacuous.otlspec"), "--strategy",
                 "portfolio", "--portfolio-k", "2", "--output", str(witness),
                 "--emit-smt2", str(smt2), "--format", "json"])
    out, err = capsys.readouterr()
    assert code == 0 and json.loads(out)[0]["status"] == "sat"
    assert json.loads(witness.read_text())["resourceSpans"]
    assert smt2.read_text().startswith("; otlspec: consistent")
    assert str(witness) in err and "otlspec-race-" not in err + out
    assert sorted(os.listdir(tmp_path)) == ["o.smt2", "w.json"]


def test_prove_portfolio_rejects_bad_bounds(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["prove", "vacuous", str(EXAMPLES / "vacuous.otlspec"), "--strategy",
                 "portfolio", "--portfolio-k", "0"]) == 2
    assert "--portfolio-k must be at least 1" in capsys.readouterr().err


@pytest.mark.slow
def test_portfolio_verdicts_equal_every_single_strategy_verdict(
        capsys: pytest.CaptureFixture[str]) -> None:
    cases = [["vacuous", str(EXAMPLES / "vacuous.otlspec")],
             ["redundant", "stdlib.timing"],
             ["consistent", str(EXAMPLES / "vacuous.otlspec")]]
    for case in cases:
        code = main(["prove", *case, "--strategy", "portfolio", "--portfolio-k", "4",
                     "--format", "json"])
        raced = [(o["subject"], o["status"]) for o in json.loads(capsys.readouterr().out)]
        for name in ("default", "preprocess", "simplify-smt", "qfidl", "arith-legacy"):
            assert main(["prove", *case, "--strategy", name, "--format", "json"]) == code
            single = [(o["subject"], o["status"]) for o in
                      json.loads(capsys.readouterr().out)]
            assert single == raced, (case, name)


def test_without_a_model_auto_falls_back_to_the_single_best_strategy(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import argparse

    import workbench.strategy.model as model_mod
    from workbench.strategy.label import read_labels
    from workbench.strategy.model import cost
    from workbench.strategy.select import FALLBACK, choose_for_args

    monkeypatch.setattr(model_mod, "MODEL_PATH", tmp_path / "absent.json.gz")
    choice = choose_for_args(argparse.Namespace(strategy="auto", prove_action="vacuous"))
    assert (choice.strategy.name, choice.mode) == (FALLBACK, "fallback")
    assert choice.ranked[0] == FALLBACK
    labels = read_labels(CORPUS_DIR / "labels.jsonl.gz")
    names = sorted({s for lab in labels for s in lab.runs})
    assert FALLBACK == min(names, key=lambda s: (sum(cost(lab, s) for lab in labels), s))
    assert choose_for_args(argparse.Namespace(strategy="default")).strategy.tactic is None


def test_choosing_for_vacuous_encodes_one_trigger_not_the_whole_spec(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import workbench.smt.obligations as obligations
    from workbench.smt.cli import load_spec_arg
    from workbench.strategy.corpus import Config, _Builder

    made: list[int] = []
    real = obligations.Problem

    def counting(*args: object, **kwargs: object) -> object:
        made.append(1)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(obligations, "Problem", counting)
    spec = load_spec_arg("stdlib.structure")
    b = _Builder(Config(limit=1))
    b.spec("cli", list(spec.properties), {p.name: p.default.value for p in spec.params}, 3,
           "cli", ("vacuity",))
    assert len(b.out) == 1 and b.out[0].kind == "vacuity"
    assert len(made) <= 2 < len(spec.properties)  # was: the spec, then every trigger


def test_prove_asks_the_model_unless_asked_otherwise(
        capsys: pytest.CaptureFixture[str]) -> None:
    spec = str(EXAMPLES / "vacuous.otlspec")
    assert main(["prove", "vacuous", spec]) == 1
    out, err = capsys.readouterr()
    assert err.startswith("strategy: ") and "(auto; top features: " in err
    assert main(["prove", "vacuous", spec, "--strategy", "default"]) == 1
    again, err = capsys.readouterr()
    assert err.startswith("strategy: default (fixed; asked for)")
    assert _verdicts(again) == _verdicts(out)
