"""The hash-grouped evaluation of the quadratic stdlib shapes agrees with the reference's
nested loops exactly (verdicts and witnesses), and is linear in the trace's size."""

from __future__ import annotations

import time

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

from tests.engine.differential import real_files, same, stdlib, stdlib_data
from tests.engine.table_strategy import tables
from workbench.engine import check, grouped, reference
from workbench.lang import ir, parse_spec
from workbench.traces import load_traces
from workbench.traces.builder import TableBuilder
from workbench.traces.model import SpanTable

QUADRATIC = ("unique_span_ids", "service_name_consistent", "no_parent_cycle")

EXTRA = parse_spec(
    """spec extra
property dup_names_guarded {
  check forall s in spans where s.kind == SERVER: count(x in spans where x.name == s.name) <= 1
}
property name_case {
  message "{a.name} / {b.name}"
  check forall a in spans, b in spans where a.name < b.name: lower(a.name) != lower(b.name)
}
property dup_parent_ids {
  check forall s in spans: count(y in spans where s.parent_id == y.parent_id) < 3
}
property dup_durations_non_roots {
  message "{s.name}: {count(x in spans where x.duration == s.duration)} share its duration"
  check forall s in spans where not s.is_root: count(x in spans where x.duration == s.duration) < 2
}
property dup_attr {
  check forall s in spans: count(x in spans where x.attributes["k"] == s.attributes["k"]) <= 1
}
property few_per_kind_and_depth {
  check forall s in spans where s.depth < 2: count(x in spans where x.kind == s.kind) != 2
}
property dup_ends {
  check forall s in spans: count(x in spans where x.end == s.end) < 2
}
property kind_by_id {
  check forall a in spans, b in spans where a.span_id < b.span_id: a.kind != b.kind
}
property service_by_start {
  message "{a.service} {b.service}"
  check forall a in spans, b in spans where a.start < b.start: lower(a.service) != lower(b.service)
}
property attr_pairs {
  check forall a in spans, b in spans where a.attributes["k"] < b.attributes["k"]: a.name != b.name
}
"""
)


def _props(extra: int | None = None) -> list[ir.Property]:
    spec = stdlib()
    return [spec.property(n) for n in QUADRATIC] + list(EXTRA.properties)[:extra]


def _agree(table: SpanTable, limit: int = reference.MAX_WITNESSES, extra: int | None = None
           ) -> None:
    for prop in _props(extra):
        shape = grouped.match(prop.formula)
        assert shape is not None, prop.name
        fast = shape[1](prop, table, {}, limit)
        slow = reference.check_property(prop, table, {}, limit)
        assert same(fast, slow) is None, same(fast, slow)


def test_recognizes_only_its_shapes() -> None:
    names = {p.name for p in stdlib().properties if grouped.match(p.formula) is not None}
    assert names == set(QUADRATIC)


def test_agrees_with_the_reference_on_the_stdlib_data() -> None:
    _agree(stdlib_data())


def test_agrees_with_the_reference_on_the_real_traces() -> None:
    files = real_files()
    if not files:
        pytest.skip("no bundled real traces")
    ok = []
    for path in files:
        try:
            if load_traces([path]).n_spans:
                ok.append(path)
        except Exception:
            continue
    _agree(load_traces(ok), extra=3)  # the reference's nested loops are slow here


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(tables(max_traces=3, max_spans=12))
def test_agrees_with_the_reference_on_random_tables(table: SpanTable) -> None:
    _agree(table)
    _agree(table, limit=2)  # the witness limit cuts the nested loop's order at the same place


def _one_trace(n: int, *, chain: bool, services: tuple[str, ...], dup_every: int = 0
               ) -> SpanTable:
    b = TableBuilder()
    res = {s: b.add_resource([("service.name", s)]) for s in services}
    for i in range(n):
        sid = (i + 1) if not dup_every or i % dup_every else 1
        parent = (i if chain else 1) if i else 0
        b.add_span(trace_id="0af7651916cd43dd8448eb211c80319c", span_id=f"{sid:016x}",
                   parent_id=f"{parent:016x}" if i else "", name=f"op{i % 7}",
                   resource=res[services[i % len(services)]],
                   start=1_000 + i, end=10_000_000 + n - i)
    return b.build()


def test_the_quadratic_shapes_scale_linearly() -> None:
    spec = ir.Spec("q", "", (), tuple(stdlib().property(n) for n in QUADRATIC))
    seconds = {}
    for n in (4_000, 16_000):
        wide = _one_trace(n, chain=False, services=("cart", "Cart", "frontend"), dup_every=97)
        deep = _one_trace(n, chain=True, services=("frontend",))
        t0 = time.perf_counter()
        for table in (wide, deep):
            result = check(spec, table, backend="auto")
            assert result.timings.get("grouped", 0) > 0
        seconds[n] = time.perf_counter() - t0
    # 4x the spans: linear is ~4x, the nested loops were ~16x
    assert seconds[16_000] < 10 * seconds[4_000] + 0.5, seconds


def test_cycle_rows() -> None:
    parent = np.asarray([-1, 0, 3, 4, 2, 4, 1])  # 2 -> 3 -> 4 -> 2 is a cycle; 5 hangs off it
    assert grouped.cycle_rows(parent).tolist() == [False, False, True, True, True, False, False]
    chain = np.arange(-1, 200_000 - 1)
    assert not grouped.cycle_rows(chain).any()


@settings(max_examples=25, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(table=tables(max_traces=4, max_spans=12))
def test_the_tables_cycle_column_is_the_parent_walk(table: SpanTable) -> None:
    """``no_parent_cycle`` reads the loader's ``in_cycle``: the rows the O(n) walk finds."""
    assert grouped.table_cycle_rows(table).tolist() == \
        grouped.cycle_rows(np.asarray(table.parent)).tolist()
