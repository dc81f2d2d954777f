"""Probe-guided strategies: ``Cond`` trees, their Z3 tactics, and learning them."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import z3

from workbench.strategy.cond import Cond, learn, simulate, tactic_strategies
from workbench.strategy.label import Label
from workbench.strategy.portfolio import Run, run_strategy, strategy

SAT = "(declare-fun x () Int)(declare-fun y () Int)(assert (< x y))(assert (< y 10))(check-sat)"
UNSAT = "(declare-fun x () Int)(assert (< x 0))(assert (> x 5))(check-sat)"


def test_a_cond_compiles_to_a_z3_tactic_that_branches_on_probes() -> None:
    tree = Cond("num-consts", ">", 1, "qfidl", Cond("size", ">", 100, "preprocess", "default"))
    assert tree.tactic() == ("(if (> num-consts 1) qfidl (if (> size 100) (then simplify "
                             "propagate-values solve-eqs elim-uncnstr smt) default))")
    assert tree.leaves() == ["qfidl", "preprocess", "default"]
    assert "num-consts > 1 ? qfidl" in tree.render()
    strat = tree.as_strategy("probe-tree")
    for text, want in ((SAT, "sat"), (UNSAT, "unsat")):
        assert run_strategy(text, strat).status == want
    # two constants in SAT: the tactic takes the qfidl branch, with qfidl's resource count
    assert run_strategy(SAT, strat).rlimit == run_strategy(SAT, strategy("qfidl")).rlimit
    # one constant in UNSAT: the else branch, which is Z3's default
    assert run_strategy(UNSAT, strat).rlimit == run_strategy(UNSAT, strategy("default")).rlimit


def test_the_leaf_a_tree_picks_matches_the_probe_z3_computes() -> None:
    tree = Cond("num-consts", ">", 1, "qfidl", "default")
    ctx = z3.Context()
    goal = z3.Goal(ctx=ctx)
    goal.add(*z3.parse_smt2_string(SAT, ctx=ctx))
    consts = z3.Probe("num-consts", ctx=ctx)(goal)
    assert consts == 2 and tree.leaf({"probe.num-consts": consts}) == "qfidl"


def test_bad_trees_are_refused_with_the_reason() -> None:
    with pytest.raises(ValueError, match="unknown probe 'nodes'"):
        Cond("nodes", ">", 1, "default", "qfidl")
    with pytest.raises(ValueError, match="must be an integer"):
        Cond("size", ">", 1.5, "default", "qfidl")
    with pytest.raises(ValueError, match="unknown comparison"):
        Cond("size", "!=", 1, "default", "qfidl")
    with pytest.raises(ValueError, match="sets global parameters"):
        Cond("size", ">", 1, "seed-7", "qfidl").tactic()
    assert "seed-7" not in tactic_strategies(["seed-7", "qfidl", "default"])


def _labels(n: int = 200, seed: int = 1) -> list[Label]:
    """qfidl is cheap on goals of many constants, preprocess on the others."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        consts = rng.randint(0, 400)
        big = consts > 200
        runs = {"default": Run("default", "sat", 3000, 0.01),
                "qfidl": Run("qfidl", "sat", 100 if big else 9000, 0.01),
                "preprocess": Run("preprocess", "sat", 9000 if big else 100, 0.01),
                "seed-7": Run("seed-7", "sat", 1, 0.01)}  # params: never a tactic leaf
        out.append(Label(f"o{i}", "vacuity", "f", 3, "base",
                         {"probe.num-consts": float(consts), "probe.size": float(i)}, 0.0,
                         runs))
    return out


def test_learning_finds_the_probe_split_and_beats_every_single_strategy() -> None:
    labels = _labels()
    tree = learn(labels, ["default", "qfidl", "preprocess", "seed-7"], depth=2)
    assert isinstance(tree, Cond) and tree.probe == "num-consts"
    assert 195 <= tree.value <= 205 and "seed-7" not in tree.leaves()
    total = sum(simulate(tree, lab) for lab in labels)
    assert total == 100 * len(labels)  # every obligation on its cheap strategy
    assert all(total < sum(simulate(s, lab) for lab in labels)
               for s in ("default", "qfidl", "preprocess"))


def test_learning_keeps_a_leaf_when_no_split_helps() -> None:
    labels = [Label(f"o{i}", "vacuity", "f", 3, "base", {"probe.size": float(i)}, 0.0,
                    {"default": Run("default", "sat", 10, 0.0),
                     "qfidl": Run("qfidl", "sat", 20, 0.0)}) for i in range(100)]
    assert learn(labels, ["default", "qfidl"]) == "default"
    with pytest.raises(ValueError, match="no candidate strategy"):
        learn(labels, ["seed-7"])


def test_the_evaluation_reports_races_and_the_probe_tree() -> None:
    pytest.importorskip("sklearn")
    from workbench.strategy.evaluate import evaluate, head_to_head, render

    labels = _labels(160)
    for i, lab in enumerate(labels):
        lab.family = f"fam{i % 3}"
        del lab.runs["seed-7"]
    report = evaluate(labels, folds=3, rlimit=100_000, trees=4, k=2)
    m, closed = report["methods"], report["gap_closed_by"]
    assert {"portfolio", "race-sbs", "cond"} <= set(m)
    assert m["VBS"]["par2_rlimit_mean"] == 100  # every obligation has a 100-unit strategy
    assert closed["cond"]["rlimit"] > 0.9  # thresholds learned on other folds: near 200
    assert m["portfolio"]["par2_rlimit_mean"] <= m["selector"]["par2_rlimit_mean"]
    assert report["portfolio"]["k"] == 2 and report["sbs_vbs_gap"]["rlimit"] > 0
    assert all(f["cond"].startswith("num-consts > ") for f in report["folds"])
    assert "gap closed (rlimit)" in render(report)
    h2h = head_to_head(labels, "default", "qfidl")
    big = sum(lab.features["probe.num-consts"] > 200 for lab in labels)
    assert h2h["all"]["wins"] == big and h2h["all"]["losses"] == len(labels) - big


def test_cli_strategy_cond_prints_the_learned_tactic(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import gzip
    import json

    from workbench.cli import main

    path = tmp_path / "labels.jsonl.gz"
    labels = _labels()
    for lab in labels:
        del lab.runs["seed-7"]
    with gzip.open(path, "wt", encoding="utf-8") as f:
        f.writelines(json.dumps(lab.to_json()) + "\n" for lab in labels)
    assert main(["strategy", "cond", "--labels", str(path), "--depth", "1"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("num-consts > ") and "tactic: (if (> num-consts " in out
    assert "PAR-2 100 rlimit" in out
    assert main(["strategy", "cond", "--labels", str(tmp_path / "none.gz")]) == 2
    assert "no labels" in capsys.readouterr().err


def test_the_portfolio_ships_a_probe_tree_that_answers() -> None:
    from workbench.strategy.portfolio import PROBE_TREE

    strat = strategy("probe-tree")
    assert strat.tactic == PROBE_TREE and not strat.params
    assert run_strategy(SAT, strat).status == "sat"
    assert run_strategy(UNSAT, strat).status == "unsat"


@pytest.mark.slow
def test_the_shipped_probe_tree_is_what_the_committed_labels_teach() -> None:
    from workbench.strategy.evaluate import cond_candidates
    from workbench.strategy.label import read_labels
    from workbench.strategy.portfolio import PROBE_TREE

    root = Path(__file__).resolve().parents[2]
    labels = read_labels(root / "datasets" / "obligations" / "labels.jsonl.gz")
    tree = learn(labels, cond_candidates(sorted({s for lab in labels for s in lab.runs})))
    assert isinstance(tree, Cond) and tree.tactic() == PROBE_TREE
