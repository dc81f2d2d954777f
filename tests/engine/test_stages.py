"""engine.check walks the stages (engine/stages.py) before the backends: a stage may finish a
property itself or pin it to one backend, and adding one is a class plus a STAGES entry."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pytest

from tests.engine.differential import stdlib, stdlib_data
from workbench.engine import check, stages
from workbench.engine.base import Backend, PropertyResult, Timings
from workbench.lang import ir
from workbench.traces.model import SpanTable


class _Toy:
    """Finishes ``span_ended`` with all-true verdicts and pins ``trace_id_valid`` to reference."""

    name = "toy"

    def __init__(self) -> None:
        self.seen: list[str] = []

    def plan(self, props: Sequence[ir.Property], table: SpanTable, values: Mapping[str, Any],
             chain: Sequence[Backend], requested: str, timings: Timings
             ) -> dict[str, stages.Decision]:
        self.seen = [p.name for p in props]
        out: dict[str, stages.Decision] = {}
        for p in props:
            if p.name == "span_ended":
                res = PropertyResult(p, np.ones(table.n_traces, np.bool_), backend="toy")
                out[p.name] = stages.Finished(res, "toy: finished here")
            elif p.name == "trace_id_valid":
                out[p.name] = stages.Pinned("reference", "toy: pinned to the reference")
        return out


def test_a_stage_finishes_and_pins(monkeypatch: pytest.MonkeyPatch) -> None:
    toy = _Toy()
    monkeypatch.setattr(stages, "STAGES", (*stages.STAGES, toy))
    table = stdlib_data()
    names = ["span_ended", "trace_id_valid", "unique_span_ids"]
    result = check(stdlib(), table, backend="reference", properties=names)
    # the grouped stage ran first and finished unique_span_ids: the toy never saw it
    assert sorted(toy.seen) == ["span_ended", "trace_id_valid"]
    assert result["span_ended"].backend == "toy"
    assert result["span_ended"].reason == "toy: finished here"
    assert bool(result["span_ended"].holds.all())
    assert result["trace_id_valid"].backend == "reference"
    assert result["trace_id_valid"].reason == "toy: pinned to the reference"
    plain = check(stdlib(), table, backend="reference", properties=["trace_id_valid"])
    assert np.array_equal(result["trace_id_valid"].holds, plain["trace_id_valid"].holds)
    assert "hash-grouped" in result["unique_span_ids"].reason
