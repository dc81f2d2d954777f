"""A 2-worker Dask LocalCluster (processes) shared by the distributed tests, and test data."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("distributed",
                    reason="the dist extra is not installed (pip install -e '.[dist]')")

ROOT = Path(__file__).resolve().parents[2]
REAL = ROOT / "datasets" / "real"


@pytest.fixture(scope="session")
def client() -> Iterator[Any]:
    """A client on a LocalCluster of two single-threaded worker processes."""
    from workbench.distributed import connect

    with connect(workers=2) as c:
        yield c


def split_file(src: Path, out_a: Path, out_b: Path) -> None:
    """Write the spans of an OTLP JSON file into two files, alternating, so that its traces
    straddle both files (the shuffle must bring them back together)."""
    doc = json.loads(src.read_text(encoding="utf-8"))
    halves: list[dict[str, Any]] = [json.loads(json.dumps(doc)), json.loads(json.dumps(doc))]
    for h, half in enumerate(halves):
        for rs in half["resourceSpans"]:
            for ss in rs["scopeSpans"]:
                ss["spans"] = ss["spans"][h::2]
    out_a.write_text(json.dumps(halves[0]), encoding="utf-8")
    out_b.write_text(json.dumps(halves[1]), encoding="utf-8")


@pytest.fixture(scope="session")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Generated OTLP JSON traces with faults, 12 traces per file, one file split in two."""
    from workbench.datasets import labels as lb
    from workbench.datasets.faults import inject
    from workbench.datasets.generator import generate
    from workbench.datasets.writer import write_dataset

    ds = generate(traces=60, seed=5)
    inject(ds, {cls: 1 for cls in lb.VARIANTS}, seed=5)
    out = tmp_path_factory.mktemp("gen")
    write_dataset(ds, out, traces_per_file=12)
    files = sorted(out.rglob("*.json"))
    files = [f for f in files if f.name != "manifest.json" and "labels" not in f.name]
    first = files[0]
    split_file(first, first.with_name("split-a.json"), first.with_name("split-b.json"))
    first.unlink()
    return out
