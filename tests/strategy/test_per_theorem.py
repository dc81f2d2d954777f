"""``prove theorem --strategy auto``: each theorem of a file gets its own strategy."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import z3

from workbench.cli import main
from workbench.smt import theorem
from workbench.strategy import select
from workbench.strategy.portfolio import strategy
from workbench.strategy.select import PerTheorem, choose_for_theorem

THEOREMS = '''
from workbench.smt.theorem import Theorem, formula

THEOREMS = [
    Theorem("small", "a premise implies itself",
            formula("forall s in spans: s.duration >= 0s"),
            premises=[formula("forall s in spans: s.duration >= 0s")], spans=2),
    Theorem("large", "a child's duration is not negative when its parent's is not",
            formula("forall s in spans: forall c in children(s): "
                    "(s.duration >= 0s and c.duration >= 0s) or c.duration >= 0s"),
            premises=[formula("forall s in spans: s.duration >= 0s")], spans=2),
]
'''


class SizeModel:
    """A cost model stand-in: ``preprocess`` is cheap on small formulas, ``qfidl`` on large."""

    def __init__(self) -> None:
        self.features = ["ir.nodes"]
        self.strategies = ["preprocess", "qfidl"]

    def predict(self, feats: dict[str, float]) -> dict[str, float]:
        small = feats["ir.nodes"] < 10
        return {"preprocess": 1.0 if small else 2.0, "qfidl": 2.0 if small else 1.0}

    def why(self, feats: dict[str, float], chosen: str) -> list[tuple[str, float]]:
        return [("ir.nodes", 1.0)]


@pytest.fixture
def theorem_file(tmp_path: Path) -> Path:
    path = tmp_path / "two.py"
    path.write_text(THEOREMS, encoding="utf-8")
    return path


@pytest.fixture
def tactics(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The Z3 tactic installed while each theorem runs, by theorem name."""
    seen: dict[str, str] = {}
    real = theorem.run_theorem

    def recording(thm: theorem.Theorem, timeout: float = 120.0) -> theorem.TheoremResult:
        seen[thm.name] = str(z3.get_param("tactic.default_tactic"))
        return real(thm, timeout)

    monkeypatch.setattr(theorem, "run_theorem", recording)
    return seen


def test_the_choice_is_made_from_each_theorems_own_formulas(theorem_file: Path) -> None:
    small, large = theorem.load_theorems(theorem_file)
    model: Any = SizeModel()
    assert select._theorem_features(small, probes=False)["ir.nodes"] < 10
    assert select._theorem_features(large, probes=False)["ir.nodes"] >= 10
    assert choose_for_theorem(small, model).strategy.name == "preprocess"
    assert choose_for_theorem(large, model).strategy.name == "qfidl"


def test_two_theorems_of_one_file_run_under_different_strategies(
        theorem_file: Path, tactics: dict[str, str], monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(select, "_load_model", SizeModel)
    unset = z3.get_param("tactic.default_tactic")
    assert main(["prove", "theorem", str(theorem_file)]) == 0
    assert tactics == {"small": strategy("preprocess").tactic, "large": "qfidl"}
    err = capsys.readouterr().err
    assert "strategy: auto per theorem (2 theorems" in err
    assert "preprocess x1" in err and "qfidl x1" in err
    assert z3.get_param("tactic.default_tactic") == unset  # reset after each theorem


def test_a_named_strategy_runs_every_theorem(theorem_file: Path, tactics: dict[str, str],
                                             monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(select, "_load_model", SizeModel)
    assert main(["prove", "theorem", str(theorem_file), "--strategy", "simplify-smt"]) == 0
    assert tactics == {"small": "(then simplify smt)", "large": "(then simplify smt)"}
    assert "strategy: simplify-smt (fixed; asked for)" in capsys.readouterr().err


def test_without_a_model_every_theorem_falls_back() -> None:
    per = PerTheorem()
    per._loaded = True  # as if the shipped model were missing
    thm = theorem.Theorem("t", "trivial", theorem.formula("forall s in spans: true"), spans=1)
    with per(thm):
        assert z3.get_param("tactic.default_tactic") == strategy(select.FALLBACK).tactic
    assert [c.mode for _, c in per.choices] == ["fallback"]
    assert "1 by fallback" in per.render()
