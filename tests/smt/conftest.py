"""Shared fixtures of the Z3 tests."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("z3")

from workbench.lang import ir
from workbench.smt.cli import load_spec_arg

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def stdlib() -> ir.Spec:
    return load_spec_arg("stdlib")


@pytest.fixture(scope="session")
def examples() -> Path:
    return ROOT / "specs" / "examples"
