"""Shared fixtures: a small generated dataset with every fault class injected."""

from __future__ import annotations

from pathlib import Path

import pytest

from workbench.datasets import labels as lb
from workbench.datasets.faults import inject
from workbench.datasets.generator import generate
from workbench.datasets.writer import write_dataset

ROOT = Path(__file__).resolve().parents[2]
RETRIES = ROOT / "experiments" / "specs" / "retries.otlspec"


@pytest.fixture(scope="session")
def faulty_dataset(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    """80 traces, every fault class injected (once per variant where the traces allow)."""
    ds = generate(traces=80, seed=3)
    inject(ds, {cls: len(v) for cls, v in lb.VARIANTS.items()}, seed=3)
    out = tmp_path_factory.mktemp("faulty")
    write_dataset(ds, out)
    return out, ds


@pytest.fixture(scope="session")
def spec_with_retries() -> object:
    from workbench.lang import load_specs

    return load_specs(["stdlib", str(RETRIES)])
