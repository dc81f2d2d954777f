"""The stream backend against the reference interpreter (the oracle).

Spans are fed in random order and random chunks; after *every* chunk the incremental verdict
must equal the reference's verdict on a table of exactly the spans seen so far. Corpus: the
stdlib's pass/fail traces with the whole stdlib; Hypothesis: generated traces and formulas (the
fragment the stream supports; a formula outside it must say why).
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tests.engine.differential import stdlib, stdlib_data
from tests.engine.table_strategy import build, traces
from tests.strategies import formulas
from workbench.engine import reference
from workbench.lang import bind_params, ir
from workbench.stream import StreamMonitor, records_from_table
from workbench.stream.backend import BACKEND
from workbench.stream.evaluate import Compiler, Unsupported
from workbench.stream.monitor import compile_property
from workbench.traces.model import SpanTable


def _replay(props: list[ir.Property], spans: list[dict[str, Any]], seed: int,
            values: dict[str, Any]) -> None:
    """Feed one trace's spans in a random order and chunking; compare after every chunk."""
    full = build([spans])
    rng = random.Random(seed)
    order = list(range(len(spans)))
    rng.shuffle(order)
    monitor = StreamMonitor(props, values)
    seen: list[int] = []
    recs = {r.seq: r for r in records_from_table(full, full.trace_rows(0))} if spans else {}
    # the input index of each span -> its row in the full table
    row_of = _rows_by_input(full, spans)
    i = 0
    while i < len(order) or not seen:
        k = rng.randint(1, 3)
        chunk = order[i:i + k]
        i += k
        seen.extend(chunk)
        mon = monitor.update("t", [recs[row_of[j]] for j in chunk])
        prefix = build([[spans[j] for j in sorted(seen)]]) if seen else build([[]])
        for n, plan in enumerate(monitor.plans):
            want = bool(reference.check_property(plan.prop, prefix, values).holds[0]) \
                if prefix.n_traces else True
            if mon.error(n):
                continue
            got = mon.verdict(n)
            assert got == want, (f"{plan.name}: stream {got}, reference {want} after "
                                 f"{len(seen)} of {len(spans)} spans (order {order[:len(seen)]})")
        if not order:
            break


def _rows_by_input(table: SpanTable, spans: list[dict[str, Any]]) -> dict[int, int]:
    """Input index -> row: rows are sorted by (start, input index)."""
    ranked = sorted(range(len(spans)), key=lambda j: (int(spans[j]["start"]), j))
    return {j: row for row, j in enumerate(ranked)}


@pytest.fixture(scope="module")
def corpus() -> tuple[ir.Spec, SpanTable, dict[str, Any]]:
    spec = bind_params(stdlib(), None)
    return spec, stdlib_data(), reference.param_values(spec)


@pytest.fixture(scope="module")
def oracle(corpus: tuple[ir.Spec, SpanTable, dict[str, Any]]) -> dict[str, Any]:
    """The reference's results on the corpus, once."""
    spec, table, values = corpus
    return {p.name: reference.check_property(p, table, values) for p in spec.properties}


@pytest.mark.parametrize("seed", [0, pytest.param(1, marks=pytest.mark.slow),
                                  pytest.param(2, marks=pytest.mark.slow)])
def test_stdlib_corpus_in_random_order_and_chunks(
        corpus: tuple[ir.Spec, SpanTable, dict[str, Any]], oracle: dict[str, Any],
        seed: int) -> None:
    spec, table, values = corpus
    monitor = StreamMonitor(spec.properties, values)
    assert monitor.unsupported == {}, monitor.unsupported
    want = {name: res.holds for name, res in oracle.items()}
    rng = random.Random(seed)
    for trace in range(table.n_traces):
        recs = records_from_table(table, table.trace_rows(trace))
        rng.shuffle(recs)
        while recs:
            k = rng.randint(1, 4)
            monitor.update(str(trace), recs[:k])
            recs = recs[k:]
        mon = monitor.trace(str(trace))
        for n, plan in enumerate(monitor.plans):
            assert not mon.error(n), mon.error(n)
            assert mon.verdict(n) == bool(want[plan.name][trace]), (plan.name, trace)


@pytest.mark.slow
def test_backend_equals_reference_with_witnesses(
        corpus: tuple[ir.Spec, SpanTable, dict[str, Any]], oracle: dict[str, Any]) -> None:
    spec, table, values = corpus
    props = list(spec.properties)
    for prop, got in zip(props, BACKEND.check(props, table, values), strict=True):
        want = oracle[prop.name]
        assert not isinstance(got, Exception), got
        assert np.array_equal(got.holds, want.holds), prop.name
        assert got.witnesses == want.witnesses, prop.name


def _supported(formula: ir.Node) -> ir.Property | None:
    prop = ir.Property("p", formula)
    try:
        compile_property(prop, Compiler({}))
    except Unsupported as err:
        assert str(err), "an unsupported formula says why"
        return None
    return prop


@pytest.mark.slow
@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(trace_list=traces(max_traces=1, max_spans=7), formula=formulas(max_depth=3),
       seed=st.integers(0, 2**16))
def test_generated_traces_and_formulas_every_prefix(
        trace_list: list[list[dict[str, Any]]], formula: ir.Node, seed: int) -> None:
    prop = _supported(formula)
    assume(prop is not None)
    assert prop is not None
    _replay([prop], trace_list[0], seed, {})


@pytest.mark.slow
@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(trace_list=traces(max_traces=1, max_spans=8), seed=st.integers(0, 2**16))
def test_generated_traces_stdlib_every_prefix(
        corpus: tuple[ir.Spec, SpanTable, dict[str, Any]],
        trace_list: list[list[dict[str, Any]]], seed: int) -> None:
    spec, _, values = corpus
    _replay(list(spec.properties), trace_list[0], seed, values)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(trace_list=traces(max_traces=1, max_spans=5), formula=formulas(max_depth=2),
       seed=st.integers(0, 2**16))
def test_generated_quick(trace_list: list[list[dict[str, Any]]], formula: ir.Node,
                         seed: int) -> None:
    prop = _supported(formula)
    assume(prop is not None)
    assert prop is not None
    _replay([prop], trace_list[0], seed, {})
