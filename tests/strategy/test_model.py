"""The cost model, the selector, the evaluation and the command line."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from workbench.cli import main
from workbench.strategy.evaluate import evaluate, folds_by_family, render
from workbench.strategy.label import Label
from workbench.strategy.model import MODEL_PATH, CostModel, cost, train
from workbench.strategy.portfolio import Run

pytest.importorskip("sklearn")


def synthetic(n: int = 120, seed: int = 0) -> list[Label]:
    """'fast' wins when ir.nodes is large, 'slow' otherwise; 'never' never answers."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        size = rng.uniform(0, 1000)
        big = size > 500
        runs = {"default": Run("default", "sat", 5000, 0.05),
                "fast": Run("fast", "sat", 500 if big else 50_000, 0.01),
                "slow": Run("slow", "sat", 50_000 if big else 500, 0.01),
                "never": Run("never", "unknown", 10, 0.0)}
        out.append(Label(f"o{i}", "consistency", f"fam{i % 6}", 3, "base",
                         {"ir.nodes": size, "meta.n": 3.0}, 0.001, runs))
    return out


def test_cost_is_par2_in_resource_units() -> None:
    lab = synthetic(1)[0]
    assert cost(lab, "default", rlimit=10_000) == 5000
    assert cost(lab, "never", rlimit=10_000) == 20_000
    assert cost(lab, "missing", rlimit=10_000) == 20_000


def test_the_model_learns_which_strategy_fits(tmp_path: Path) -> None:
    model = train(synthetic(), seed=0, trees=8, rlimit=100_000)
    assert model.choose({"ir.nodes": 900.0, "meta.n": 3.0}) == "fast"
    assert model.choose({"ir.nodes": 100.0, "meta.n": 3.0}) == "slow"
    why = model.why({"ir.nodes": 900.0, "meta.n": 3.0}, "fast")
    assert why and why[0][0] == "ir.nodes"
    path = tmp_path / "m.json.gz"
    model.save(path)
    back = CostModel.load(path)
    x = {"ir.nodes": 321.0, "meta.n": 3.0}
    assert back.predict(x) == pytest.approx(model.predict(x))


def test_evaluation_compares_against_sbs_and_vbs() -> None:
    labels = synthetic()
    report = evaluate(labels, folds=3, seed=0, rlimit=100_000, trees=8)
    m = report["methods"]
    assert m["VBS"]["par2_rlimit_mean"] <= m["selector"]["par2_rlimit_mean"]
    assert m["VBS"]["par2_rlimit_mean"] <= m["SBS"]["par2_rlimit_mean"]
    assert m["selector"]["par2_rlimit_mean"] < m["SBS"]["par2_rlimit_mean"]
    assert report["gap_closed"] > 0.5
    assert "selector" in render(report)
    groups = folds_by_family(labels, 3)
    fams = [{labels[i].family for i in g} for g in groups]
    assert all(not (a & b) for i, a in enumerate(fams) for b in fams[i + 1:])


def test_the_shipped_model_loads_and_names_portfolio_strategies() -> None:
    from workbench.strategy.portfolio import names

    model = CostModel.load(MODEL_PATH)
    assert set(model.strategies) <= set(names()) and model.trained_on >= 1000
    assert MODEL_PATH.stat().st_size < 1_000_000


def test_cli_strategy_commands(tmp_path: Path, tiny_dir: Path,
                               capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "labels.jsonl.gz"
    assert main(["strategy", "label", "--corpus", str(tiny_dir), "--out", str(out),
                 "--strategies", "default,preprocess", "--timeout", "2", "--nice", "0"]) == 0
    assert "every answering strategy agrees" in capsys.readouterr().out
    model = tmp_path / "m.json.gz"
    assert main(["strategy", "train", "--labels", str(out), "--out", str(model)]) == 0
    assert CostModel.load(model).strategies == ["default", "preprocess"]
    report = tmp_path / "r.json"
    assert main(["strategy", "eval", "--labels", str(out), "--folds", "2", "--output",
                 str(report)]) == 0
    assert json.loads(report.read_text())["obligations"] == 8
    assert main(["strategy", "list"]) == 0
    assert "lia2sat" in capsys.readouterr().out


def test_prove_prints_the_strategy_and_keeps_its_verdicts(
        capsys: pytest.CaptureFixture[str]) -> None:
    examples = Path(__file__).resolve().parents[2] / "specs" / "examples"
    for choice in ("default", "preprocess", "auto"):
        code = main(["prove", "vacuous", str(examples / "vacuous.otlspec"), "--strategy",
                     choice])
        out, err = capsys.readouterr()
        assert code == 1 and "vacuous" in out
        assert err.startswith(f"strategy: {choice if choice != 'auto' else ''}")
        assert "(auto;" in err or choice != "auto"
    assert main(["prove", "consistent", str(examples / "vacuous.otlspec"),
                 "--strategy", "nope"]) == 2
