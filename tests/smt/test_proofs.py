"""Every theorem file in proofs/ runs, with the outcome it expects."""

from __future__ import annotations

from pathlib import Path

import pytest

from workbench.smt.theorem import load_theorems, run_theorem

PROOFS = sorted((Path(__file__).resolve().parents[2] / "proofs").glob("*.py"))


@pytest.mark.parametrize("path", PROOFS, ids=[p.stem for p in PROOFS])
def test_theorem_file(path: Path) -> None:
    for thm in load_theorems(path):
        res = run_theorem(thm, timeout=120)
        assert res.as_expected, res.render()
        if res.status == "refuted":
            assert res.counterexample
