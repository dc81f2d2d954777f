"""The strategy portfolio, labelling and features on a tiny corpus."""

from __future__ import annotations

from pathlib import Path

import pytest
import z3

from tests.strategy.conftest import FEW
from workbench.strategy.corpus import Obligation
from workbench.strategy.features import FEATURES, smt_features, vector
from workbench.strategy.label import Label, Labeller, label_corpus, read_labels
from workbench.strategy.portfolio import PORTFOLIO, Run, applied, run_strategy, strategy

SAT = "(declare-fun x () Int)(declare-fun y () Int)(assert (< x y))(assert (< y 10))(check-sat)"
UNSAT = "(declare-fun x () Int)(assert (< x 0))(assert (> x 5))(check-sat)"


def test_the_portfolio_has_at_least_eight_distinct_strategies() -> None:
    assert len(PORTFOLIO) >= 8
    configs = {(s.tactic, tuple(sorted(s.params.items()))) for s in PORTFOLIO}
    assert len(configs) == len(PORTFOLIO)
    assert strategy("default").tactic is None


def test_strategies_answer_and_count_resources_deterministically() -> None:
    for name in FEW:
        a = run_strategy(SAT, strategy(name))
        b = run_strategy(SAT, strategy(name))
        assert a.status == "sat" and (a.rlimit, a.status) == (b.rlimit, b.status)
        assert run_strategy(UNSAT, strategy(name)).status == "unsat"


def test_a_tiny_resource_limit_gives_unknown() -> None:
    import re

    big = "".join(f"(declare-fun x{i} () Int)" for i in range(61))
    big += "".join(f"(assert (< x{i} x{i + 1}))" for i in range(60))
    big += "(assert (< x60 x0))(check-sat)"
    run = run_strategy(big, strategy("default"), rlimit=50)
    assert run.status == "unknown" and re.search("resource|canceled", run.reason)


def test_applied_installs_and_resets_the_tactic() -> None:
    lia2sat = strategy("lia2sat")
    x = z3.Int("x")
    with applied(lia2sat):
        s = z3.Solver()
        s.add(x > 10**15)
        assert s.check() == z3.unknown  # lia2pb rejects unbounded integers
    s = z3.Solver()
    s.add(x > 10**15)
    assert s.check() == z3.sat


def test_features_are_a_fixed_vector(tiny: list[Obligation]) -> None:
    ctx = z3.Context()
    assertions = list(z3.parse_smt2_string(tiny[0].smt2, ctx=ctx))
    feats = smt_features(assertions)
    assert feats["smt.dag_nodes"] > 0 and feats["probe.num-consts"] > 0
    assert feats["smt.op_const_int"] > 0 and feats["smt.max_depth"] > 1
    assert len(vector(feats)) == len(FEATURES)


def test_labelling_runs_every_strategy_and_resumes(tiny: list[Obligation],
                                                   tmp_path: Path) -> None:
    path = tmp_path / "labels.jsonl.gz"
    first = label_corpus(tiny[:2], FEW, path, timeout=2.0, niceness=0)
    assert len(first) == 2
    for lab in first:
        assert set(lab.runs) == set(FEW) and not lab.disagreement
        assert all(r.solved and r.rlimit > 0 for r in lab.runs.values())
        assert lab.features["meta.n"] == 2 and lab.feature_seconds > 0
    again = label_corpus(tiny[:3], FEW, path, timeout=2.0, niceness=0)
    assert len(again) == 3
    by_id = {lab.id: lab for lab in read_labels(path)}
    for lab in first:  # resumed, not relabelled; the counts are reproducible anyway
        assert {s: r.rlimit for s, r in by_id[lab.id].runs.items()} == {
            s: r.rlimit for s, r in lab.runs.items()}


def test_a_worker_that_dies_is_restarted(tiny: list[Obligation]) -> None:
    with Labeller(timeout=2.0, niceness=0) as lb:
        lab = lb.label(tiny[0], ["default"])
        lb._proc.kill()
        lb._proc.join()
        again = lb.label(tiny[0], ["default"])
    assert again.runs["default"].rlimit == lab.runs["default"].rlimit


def test_disagreement_is_detected() -> None:
    lab = Label("x", "consistency", "f", 2, "base", {}, 0.0,
                {"a": Run("a", "sat", 1, 0.0), "b": Run("b", "unsat", 1, 0.0),
                 "c": Run("c", "unknown", 9, 0.0)})
    assert lab.disagreement and lab.answers == {"sat", "unsat"}
    assert Label.from_json(lab.to_json()).disagreement


@pytest.mark.slow
def test_the_whole_portfolio_agrees_on_a_mixed_corpus(tmp_path: Path) -> None:
    from workbench.strategy.corpus import Config, generate
    from workbench.strategy.portfolio import names

    obs, _ = generate(Config(seed=2, bounds=(3,), variant_bounds=(3,), modules=("timing",),
                             implication_pairs=2))
    labels = label_corpus(obs[::3], names(), tmp_path / "l.jsonl.gz", timeout=5.0)
    assert len(labels) == len(obs[::3]) >= 10
    assert not [lab.id for lab in labels if lab.disagreement]
    assert all(lab.runs["default"].solved for lab in labels)
