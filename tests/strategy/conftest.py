"""A tiny corpus shared by the strategy tests (a few obligations, seconds to build)."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("z3")

from workbench.strategy.corpus import Config, Obligation, generate, write

TINY = Config(seed=3, bounds=(2,), variant_bounds=(), modules=("timing",), theorems=False,
              examples=True, repairs=False, implication_pairs=1, limit=8)
#: Strategies the fast tests run (the whole portfolio is for the slow ones).
FEW = ("default", "preprocess", "qfidl")


@pytest.fixture(scope="session")
def tiny() -> list[Obligation]:
    obs, _ = generate(TINY)
    return obs


@pytest.fixture(scope="session")
def tiny_dir(tiny: list[Obligation], tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("obligations")
    write(tiny, d, TINY)
    return d
