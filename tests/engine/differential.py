"""Helpers of the differential tests: run a property on a compiled backend and on the
reference interpreter and demand identical verdicts and witnesses."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from workbench.engine import reference
from workbench.engine.base import PropertyResult
from workbench.engine.codegen_terms import Unsupported
from workbench.engine.compiled import Runner, Timings, check_property
from workbench.lang import ir
from workbench.traces.model import SpanTable

ROOT = Path(__file__).resolve().parents[2]


@cache
def stdlib() -> ir.Spec:
    from workbench.lang import parse_spec

    return parse_spec("spec all_of_stdlib\nimport stdlib\n")


@cache
def stdlib_data() -> SpanTable:
    """Every pass/fail trace of the stdlib's tests in one table."""
    from workbench.traces import load_traces

    return load_traces(sorted((ROOT / "tests" / "data" / "stdlib").glob("*/*.json")))


def real_files() -> list[Path]:
    """The bundled real traces (``datasets/real``)."""
    base = ROOT / "datasets" / "real"
    suffixes = {".json", ".jsonl", ".pb", ".gz", ".zst", ".bin"}
    return sorted(p for p in base.rglob("*") if p.is_file() and p.suffix in suffixes) \
        if base.is_dir() else []


def same(a: PropertyResult, b: PropertyResult) -> str | None:
    """``None`` when two results agree exactly, else a description of the first difference."""
    if a.holds.shape != b.holds.shape or not np.array_equal(a.holds, b.holds):
        diff = np.nonzero(a.holds != b.holds)[0][:5].tolist()
        return f"{a.prop.name}: verdicts differ on traces {diff}"
    for trace in sorted(set(a.witnesses) | set(b.witnesses)):
        wa, wb = a.witnesses.get(trace), b.witnesses.get(trace)
        if wa != wb:
            return (f"{a.prop.name}: witnesses differ on trace {trace}:\n"
                    f"  {a.backend}: {wa}\n  {b.backend}: {wb}")
    return None


def compare(
    runner: Runner,
    prop: ir.Property,
    table: SpanTable,
    values: Mapping[str, Any] | None = None,
    timings: Timings | None = None,
) -> str | None:
    """Run ``prop`` on ``runner`` and on the reference; describe a disagreement (or ``None``).

    A property outside the compiled fragment is skipped (``None``): dispatch sends it to the
    reference interpreter, so there is nothing to compare.
    """
    values = dict(values or {})
    expected = reference.check_property(prop, table, values)
    try:
        got = check_property(runner, prop, table, values, timings or Timings())
    except Unsupported:
        return None
    return same(got, expected)
