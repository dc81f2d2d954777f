"""The generated benchmark tables (:func:`workbench.datasets.scale.generate_table`) are
reproducible, well formed, and checked alike by the compiled backend and the reference."""

from __future__ import annotations

import numpy as np

from tests.engine.differential import compare, stdlib
from workbench.datasets.scale import generate_table as synth_table
from workbench.engine import numba_cpu
from workbench.engine.reference import param_values
from workbench.traces.model import SpanTable
from workbench.traces.records import table_records


def test_reproducible() -> None:
    a, b = synth_table(3000, seed=3), synth_table(3000, seed=3)
    for name in ("trace_offsets", "parent", "start", "end", "kind", "status", "name"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
    assert np.array_equal(a.attrs.sval, b.attrs.sval)
    assert not np.array_equal(a.start, synth_table(3000, seed=4).start)


def test_well_formed_like_a_loaded_table() -> None:
    t = synth_table(3000, seed=5)
    n = t.n_spans
    assert 2000 <= n <= 3000
    assert np.all(np.diff(t.trace_index) >= 0)
    for tr in range(t.n_traces):
        lo, hi = t.trace_offsets[tr], t.trace_offsets[tr + 1]
        assert np.all(np.diff(t.start[lo:hi]) >= 0)
    child = np.nonzero(t.parent >= 0)[0]
    assert np.array_equal(t.parent_span_id[child], t.span_id[t.parent[child]])
    assert np.array_equal(t.depth[child], t.depth[t.parent[child]] + 1)
    assert np.array_equal(t.trace_index[child], t.trace_index[t.parent[child]])
    # the loader builds the same structure from the same spans
    again = SpanTable.from_records(table_records(t))
    assert np.array_equal(again.parent, t.parent)
    assert np.array_equal(again.depth, t.depth)


def test_stdlib_agrees_on_a_synthetic_table() -> None:
    spec = stdlib()
    table = synth_table(1500, seed=11)
    problems = [compare(numba_cpu.runner(), p, table, param_values(spec))
                for p in spec.properties]
    assert [p for p in problems if p] == []
