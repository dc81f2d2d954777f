"""Incremental temporal bindings and nested bindings over relations, against the oracle.

Closed temporal formulas (depending on their bound spans alone) are span-local, anchored ones
are timeline accumulators (:mod:`workbench.stream.timeline`), and quantifiers over a relation
of the binding are kept per pair (:mod:`workbench.stream.pairs`). Each must be invisible: every
prefix verdict, in random orders and chunks, equals the reference's; and a late span must
re-verify only the bindings it can reach.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.engine.table_strategy import build, traces
from tests.stream.test_differential import _replay
from workbench.engine import reference
from workbench.lang import ir, parse_spec
from workbench.stream import StreamMonitor, pairs, records_from_table
from workbench.stream.footprint import REL, Footprint
from workbench.stream.pairs import PairSpec
from workbench.stream.timeline import TimelineSpec, top_closed

TIMELINE = parse_spec(
    """spec timeline
property retried {
  check forall s in spans where s.status == ERROR:
    always (end(s) -> eventually[0ns, 20ns] exists r in spans
      where r.name == s.name and r.span_id != s.span_id: start(r))
}
property preceded {
  check forall r in spans where r.kind == CLIENT:
    always (start(r) -> once[0ns, 15ns] exists f in spans
      where f.name == r.name and f.span_id != r.span_id: end(f))
}
property quiet_after_end {
  check forall s in spans:
    always (end(s) -> always[1ns, 10ns] not exists y in spans where y.service == s.service:
      start(y))
}
property no_root_end_before {
  check forall s in spans where s.kind == SERVER:
    always (start(s) -> historically[0ns, 8ns] not exists y in roots: end(y))
}
property some_exception_then_error {
  check exists s in spans:
    eventually (event(s, "exception") and eventually[0ns, 30ns] exists y in spans
      where y.status == ERROR: end(y))
}
property mixed_leaves {
  check forall s in spans where s.has_end:
    always (start(s) -> s.status != ERROR
      or (eventually[0ns, 50ns] end(s) and once[0ns, 5ns] exists y in spans
        where y.kind == SERVER: start(y)))
}
property with_a_root_disjunct {
  check forall s in spans where s.status == ERROR:
    (exists r in roots: r.status == ERROR)
      or always (end(s) -> eventually[0ns, 10ns] exists y in spans where y.kind == CLIENT:
        start(y))
}
property closed_self {
  check forall s in spans:
    always (event(s, "exception") -> s.status == ERROR and eventually[0ns, 40ns] end(s))
}
property closed_descendants {
  check forall r in roots, s in descendants(r)
    where r.has_end and not exists a in ancestors(s): a.kind == PRODUCER:
    always (end(r) -> not eventually[5ns, inf] start(s))
}
property pairs_children {
  check forall p in spans, c in children(p): c.start >= p.start
}
property pairs_siblings {
  check forall s in spans, b in siblings(s): b.name != s.name or b.kind != s.kind
}
property pairs_ancestors {
  check forall s in spans, a in ancestors(s) where a.kind == SERVER:
    exists c in children(a): c.status != ERROR
}
property pairs_parent_exists {
  check exists s in spans, p in parent(s): p.status == ERROR
}
property pairs_depth {
  check forall r in spans, d in descendants(r): d.depth > r.depth
}
property pairs_exists_inner {
  check forall r in roots: exists d in descendants(r) where d.kind == CLIENT: d.name == r.name
}
"""
)


def _props() -> list[ir.Property]:
    return list(TIMELINE.properties)


@contextlib.contextmanager
def _paired(relations: frozenset[str]) -> Iterator[None]:
    """Keep these relations per pair (by default only ``descendants``; every relation's
    growth rule is tested with all of them)."""
    old = pairs.PAIRED
    pairs.PAIRED = relations
    try:
        yield
    finally:
        pairs.PAIRED = old


EVERY = frozenset(REL)


def test_the_shapes_are_recognised() -> None:
    with _paired(EVERY):
        monitor = StreamMonitor(_props())
    assert monitor.unsupported == {}
    plans = {p.name: p for p in monitor.plans}
    for name in ("retried", "preceded", "quiet_after_end", "no_root_end_before",
                 "mixed_leaves"):
        assert [type(a) for a in plans[name].accs] == [TimelineSpec], name
        assert not plans[name].deferred, name
    assert [type(a).__name__ for a in plans["with_a_root_disjunct"].accs] == \
        ["AccSpec", "TimelineSpec"]
    assert plans["closed_self"].fast  # depends on its own span only: the fast path
    for name in ("closed_descendants", "pairs_children", "pairs_siblings", "pairs_ancestors",
                 "pairs_parent_exists", "pairs_depth", "pairs_exists_inner"):
        assert plans[name].mode == "pairs" and isinstance(plans[name].pairs, PairSpec), name
        assert not plans[name].deferred, name
    assert plans["closed_descendants"].pairs.ybits == Footprint.ANCESTORS.value
    default = {p.name: p.mode for p in StreamMonitor(_props()).plans}
    assert default["closed_descendants"] == default["pairs_depth"] == "pairs"
    assert default["pairs_children"] == default["pairs_siblings"] == "bindings"


def test_closed_and_open_formulas() -> None:
    spec = parse_spec(
        """spec c
property a { check forall s in spans: eventually[0ns, 5ns] start(s) }
property b { check forall s in spans: always (start(s) -> eventually[1ns, 5ns] true) }
property c { check forall s in spans: always (start(s) -> s.status == ERROR) }
property d { check forall s in spans: always (not start(s)) }
"""
    )
    closed = {p.name: top_closed(p.formula.body, frozenset({"s"})) for p in spec.properties}
    # a: the window from point 0 depends on the first point's time; b: on whether other
    # points exist 1-5ns later; d: on whether any other point exists at all
    assert closed == {"a": False, "b": False, "c": True, "d": True}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(trace_list=traces(max_traces=1, max_spans=7), seed=st.integers(0, 2**16))
def test_timeline_and_pairs_every_prefix(trace_list: list[list[dict[str, Any]]],
                                         seed: int) -> None:
    _replay(_props(), trace_list[0], seed, {})
    with _paired(EVERY):
        _replay(_props(), trace_list[0], seed, {})


@pytest.mark.slow
@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(trace_list=traces(max_traces=1, max_spans=10), seed=st.integers(0, 2**16))
def test_timeline_and_pairs_every_prefix_long(trace_list: list[list[dict[str, Any]]],
                                              seed: int) -> None:
    with _paired(EVERY):
        _replay(_props(), trace_list[0], seed, {})


def _span(k: int, parent: str, start: int, **kw: Any) -> dict[str, Any]:
    out = dict(trace_id="a" * 32, span_id=format(k + 1, "016x"), parent_id=parent,
               name=f"op{k % 4}", kind=3, status=0, status_message="", start=start,
               end=start + 4, flags=1, service="front", attributes=[], events=[], links=[])
    out.update(kw)
    return out


def test_a_late_span_reaches_only_its_windows_and_pairs() -> None:
    root = _span(0, "", 0, end=100_000)
    spans = [root] + [_span(k, root["span_id"], 10 * k) for k in range(1, 400)]
    spans[200]["status"] = 2  # one failed call: `retried` holds one binding
    late = 300
    table = build([spans])
    recs = records_from_table(table, table.trace_rows(0))
    by_input = sorted(range(len(spans)), key=lambda j: (spans[j]["start"], j))
    rec_of = {j: recs[row] for row, j in enumerate(by_input)}
    # not: the late span is a sibling of every other span, and every (span, root) pair
    # reads the root's children, which it joins: those pairs all change
    wide = ("pairs_siblings", "pairs_ancestors")
    with _paired(EVERY):
        monitor = StreamMonitor([p for p in _props() if p.name not in wide])
    monitor.update("t", [rec_of[j] for j in range(len(spans)) if j != late])
    mon = monitor.trace("t")
    before = monitor.stats.bindings
    monitor.update("t", [rec_of[late]])
    # a few bindings per plan (the late span's own, its parent's pair), not one per span
    assert monitor.stats.bindings - before < 4 * len(monitor.plans)
    want = build([spans])
    for k, plan in enumerate(monitor.plans):
        assert mon.verdict(k) == bool(reference.check_property(plan.prop, want, {}).holds[0]), \
            plan.name


def test_a_late_span_feeds_only_the_triggers_in_its_time_range() -> None:
    root = _span(0, "", 0, end=10_000)
    spans = [root] + [_span(k, root["span_id"], 100 * k, status=2) for k in range(1, 50)]
    spans.append(_span(50, root["span_id"], 2_000_000, name="op1"))  # far from every end
    spans.append(_span(51, root["span_id"], 1_010, name="op3"))  # 6ns after a failed end
    table = build([spans])
    recs = records_from_table(table, table.trace_rows(0))
    by_input = sorted(range(len(spans)), key=lambda j: (spans[j]["start"], j))
    rec_of = {j: recs[row] for row, j in enumerate(by_input)}
    props = [p for p in _props() if p.name == "retried"]
    monitor = StreamMonitor(props)
    monitor.update("t", [rec_of[j] for j in range(50)])
    mon = monitor.trace("t")
    trig = mon.caches[0].triggers[0]
    assert trig is not None
    reached: list[Any] = []
    orig = trig.near

    def spy(new: Any) -> list[Any]:
        found = orig(new)
        reached.append([g.rec.seq for g in found])
        return found
    trig.near = spy  # type: ignore[method-assign]
    for j in (50, 51):
        monitor.update("t", [rec_of[j]])
        prefix = build([[spans[i] for i in range(j + 1)]])
        assert mon.verdict(0) == bool(
            reference.check_property(props[0], prefix, {}).holds[0])
    # the far span reaches no failed call's end; the near one only those within 20ns
    assert reached[0] == []
    assert 0 < len(reached[1]) <= 2


@pytest.mark.slow
@pytest.mark.parametrize("seed", [3, 11])
def test_generated_traces_with_faults_in_random_chunks(seed: int) -> None:
    """Generated traces (retries, exceptions, deep trees, injected faults) through the whole
    stdlib in random order and chunks: every trace's verdicts equal the reference's."""
    import random

    from tests.engine.differential import stdlib
    from workbench.datasets.faults import inject, parse_faults
    from workbench.datasets.generator import generate
    from workbench.datasets.writer import otlp_proto as write_otlp
    from workbench.lang import bind_params
    from workbench.traces import otlp_proto
    from workbench.traces.builder import TableBuilder

    spec = bind_params(stdlib(), None)
    values = reference.param_values(spec)
    ds = generate(traces=8, seed=seed, services=5)
    inject(ds, parse_faults("all", 8, rate=0.5), seed=seed)
    builder = TableBuilder()
    otlp_proto.load(write_otlp(ds, ds.traces), "otlp", builder)
    table = builder.build()
    want = {p.name: reference.check_property(p, table, values).holds for p in spec.properties}
    rng = random.Random(seed)
    monitor = StreamMonitor(list(spec.properties), values)
    assert monitor.unsupported == {}
    for t in range(table.n_traces):
        recs = records_from_table(table, table.trace_rows(t))
        rng.shuffle(recs)
        while recs:
            k = rng.randint(1, 12)
            monitor.update(str(t), recs[:k])
            recs = recs[k:]
        mon = monitor.trace(str(t))
        for n, plan in enumerate(monitor.plans):
            assert not mon.error(n), mon.error(n)
            assert mon.verdict(n) == bool(want[plan.name][t]), (plan.name, t)
