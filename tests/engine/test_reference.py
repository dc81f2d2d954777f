"""Unit tests of the reference semantics, on hand-built traces and IR (no parser involved)."""

from __future__ import annotations

import pytest

from workbench.engine.reference import UNDEF, Interpreter, TraceContext, check
from workbench.lang import ir
from workbench.lang.ir import (
    Aggregate,
    And,
    Arith,
    Attr,
    Call,
    Compare,
    Const,
    EndOf,
    EventOf,
    Field,
    HappensBefore,
    Has,
    Implies,
    InList,
    Interval,
    ListLit,
    Match,
    Member,
    Not,
    Property,
    Quant,
    Rel,
    Spans,
    StartOf,
    Template,
    Temporal,
    Type,
    Var,
)
from workbench.traces.builder import TableBuilder
from workbench.traces.model import SpanTable

T = "ab" * 16
S, C, P, R = Var("s"), Var("c"), Var("p"), Var("r")


def sid(n: int) -> str:
    return format(n, "016x")


def make(spans: list[dict]) -> SpanTable:
    """Build a one-trace table; each dict gives id (int), parent (int|None) and span fields."""
    b = TableBuilder()
    res = b.add_resource([("service.name", "svc")])
    for sp in spans:
        sp = dict(sp)
        parent = sp.pop("parent", None)
        b.add_span(
            trace_id=sp.pop("trace", T),
            span_id=sid(sp.pop("id")),
            parent_id="" if parent is None else sid(parent),
            resource=res,
            **sp,
        )
    return b.build()


def interp(table: SpanTable, trace: int = 0) -> Interpreter:
    return Interpreter(TraceContext(table, trace), {})


def row_of(table: SpanTable, n: int) -> int:
    return next(r for r in range(table.n_spans) if table.span_id_hex(r) == sid(n))


@pytest.fixture
def rpc() -> SpanTable:
    # root(1) SERVER [0,100] -> call(2) CLIENT ERROR [10,40] with exception event at 20
    #                       -> call(3) CLIENT [50,90]
    return make(
        [
            dict(
                id=1, name="root", kind=2, start=0, end=100, attributes=[("http.status_code", 200)]
            ),
            dict(
                id=2,
                parent=1,
                name="call",
                kind=3,
                status=2,
                start=10,
                end=40,
                events=[("exception", 20, [("exception.type", "Timeout")])],
            ),
            dict(id=3, parent=1, name="call", kind=3, start=50, end=90),
        ]
    )


def holds(table: SpanTable, formula: ir.Node, **env: int) -> bool:
    it = interp(table)
    return it.holds(formula, {k: row_of(table, v) for k, v in env.items()}, 0)


def test_timeline_order_and_atoms(rpc: SpanTable) -> None:
    line = TraceContext(rpc, 0).timeline
    assert [(p.time, p.phase) for p in line] == [
        (0, 0),
        (10, 0),
        (20, 1),
        (40, 2),
        (50, 0),
        (90, 2),
        (100, 2),
    ]
    it = interp(rpc)
    env = {"s": row_of(rpc, 2)}
    assert it.holds(StartOf(S), env, 1)
    assert it.holds(EventOf(S, "exception"), env, 2)
    assert not it.holds(EventOf(S, "retry"), env, 2)
    assert it.holds(EndOf(S), env, 3)


def test_metric_intervals(rpc: SpanTable) -> None:
    it = interp(rpc)
    env = {"s": row_of(rpc, 2), "r": row_of(rpc, 3)}
    # from the end of s (t=40, pos 3), r starts 10ns later
    assert it.holds(Temporal("eventually", (StartOf(R),), Interval(0, 10)), env, 3)
    assert not it.holds(Temporal("eventually", (StartOf(R),), Interval(0, 9)), env, 3)
    assert not it.holds(Temporal("eventually", (StartOf(R),), Interval(11, None)), env, 3)
    # past: at r's start (pos 4), s ended 10ns before
    assert it.holds(Temporal("once", (EndOf(S),), Interval(10, 10)), env, 4)
    assert not it.holds(Temporal("historically", (Not(EndOf(S)),)), env, 4)
    # next / wnext / previously at the edges
    assert not it.holds(Temporal("next", (Const(True, Type.BOOL),)), env, 6)
    assert it.holds(Temporal("wnext", (Const(False, Type.BOOL),)), env, 6)
    assert not it.holds(Temporal("previously", (Const(True, Type.BOOL),)), env, 0)


def test_until_and_since(rpc: SpanTable) -> None:
    it = interp(rpc)
    env = {"s": row_of(rpc, 2)}
    not_end = Not(EndOf(S))
    assert it.holds(Temporal("until", (not_end, EndOf(S))), env, 0)
    assert not it.holds(Temporal("until", (not_end, EndOf(S)), Interval(0, 39)), env, 0)
    assert it.holds(Temporal("since", (not_end, EndOf(S))), env, 6)
    # psi at the current position: until holds with an empty prefix
    assert it.holds(Temporal("until", (Const(False, Type.BOOL), StartOf(S))), env, 1)


def test_undefined_makes_atoms_false(rpc: SpanTable) -> None:
    missing = Attr(S, "nope")
    assert not holds(rpc, Compare("==", missing, Const("x", Type.STR)), s=1)
    assert not holds(rpc, Compare("!=", missing, Const("x", Type.STR)), s=1)
    assert holds(rpc, Not(Compare("==", missing, Const("x", Type.STR))), s=1)
    assert not holds(rpc, Has(missing), s=1)
    assert holds(rpc, Has(Attr(S, "http.status_code")), s=1)
    assert not holds(rpc, Match(missing, "."), s=1)
    assert not holds(rpc, InList(missing, ListLit((Const("x", Type.STR),))), s=1)
    empty_min = Aggregate("min", Rel("children", S), "c", Field(C, "duration"))
    assert interp(rpc).value(empty_min, {"s": row_of(rpc, 3)}, 0) is UNDEF
    assert not holds(rpc, Compare(">=", empty_min, Const(0, Type.DURATION)), s=3)
    div0 = Arith("/", Field(S, "duration"), Const(0, Type.INT))
    assert interp(rpc).value(div0, {"s": row_of(rpc, 1)}, 0) is UNDEF


def test_value_comparisons_are_typed(rpc: SpanTable) -> None:
    code = Attr(S, "http.status_code")
    assert holds(rpc, Compare("==", code, Const(200.0, Type.FLOAT)), s=1)
    assert not holds(rpc, Compare("==", code, Const("200", Type.STR)), s=1)
    assert holds(rpc, Compare("!=", code, Const("200", Type.STR)), s=1)
    assert not holds(rpc, Compare("<", code, Const("300", Type.STR)), s=1)
    assert not holds(rpc, Compare("==", Const(True, Type.BOOL), Const(1, Type.INT)))


def test_aggregates(rpc: SpanTable) -> None:
    it = interp(rpc)
    env = {"s": row_of(rpc, 1)}
    kids = Rel("children", S)
    assert it.value(Aggregate("count", kids), env, 0) == 2
    assert it.value(Aggregate("sum", kids, "c", Field(C, "duration")), env, 0) == 70
    assert it.value(Aggregate("min", kids, "c", Field(C, "duration")), env, 0) == 30
    assert it.value(Aggregate("max", kids, "c", Field(C, "duration")), env, 0) == 40
    assert it.value(Aggregate("avg", kids, "c", Field(C, "duration")), env, 0) == 35
    assert it.value(Aggregate("distinct", kids, "c", Field(C, "name")), env, 0) == 1


def test_relations_on_a_cycle() -> None:
    # 1 <-> 2 cycle, 3 under 2
    table = make(
        [
            dict(id=1, parent=2, start=0, end=1),
            dict(id=2, parent=1, start=0, end=1),
            dict(id=3, parent=2, start=0, end=1),
        ]
    )
    ctx = TraceContext(table, 0)
    r1, r2, r3 = (row_of(table, n) for n in (1, 2, 3))
    assert sorted(ctx.ancestors(r1)) == sorted([r1, r2])
    assert sorted(ctx.ancestors(r3)) == sorted([r1, r2])
    assert r1 in ctx.descendants(r1)
    assert list(table.depth[[r1, r2, r3]]) == [2, 2, 2]
    assert holds(table, Member(S, Rel("ancestors", S)), s=1)
    assert not holds(table, Member(S, Rel("ancestors", S)), s=3)


def test_siblings_linked_and_hb() -> None:
    table = make(
        [
            dict(id=1, name="root", kind=2, start=0, end=100),
            dict(id=2, parent=1, name="a", kind=3, start=10, end=20),
            dict(id=3, parent=1, name="b", kind=3, start=30, end=40),
            dict(id=4, parent=1, name="c", kind=4, start=15, end=35),  # PRODUCER
            dict(id=5, name="consumer", kind=5, start=200, end=300, links=[(T, sid(4), [])]),
        ]
    )
    ctx = TraceContext(table, 0)
    r = {n: row_of(table, n) for n in range(1, 6)}
    assert sorted(ctx.siblings(r[2])) == sorted([r[3], r[4]])
    assert ctx.linked(r[5]) == [r[4]]
    assert ctx.happens_before(r[2], r[3])  # sibling sequencing a.end < b.start
    assert not ctx.happens_before(r[3], r[2])
    assert not ctx.happens_before(r[2], r[4])  # overlapping siblings are concurrent
    assert ctx.happens_before(r[2], r[2]) is False  # irreflexive here
    # link: start(4) -> start(5); via the link, only spans ending before 4 starts precede 5
    assert ctx.happens_before(r[2], r[5]) is False
    assert holds(table, HappensBefore(Var("a"), Var("b")), a=2, b=3)


def test_quantifier_guard_and_witnesses(rpc: SpanTable) -> None:
    prop = Property(
        "client_ok",
        Quant(
            "forall",
            "s",
            Spans(),
            Compare("==", Field(S, "kind"), Const("CLIENT", Type.KIND)),
            Compare("!=", Field(S, "status"), Const("ERROR", Type.STATUS)),
        ),
        message=Template(("client ", Field(S, "name"), " failed after ", Field(S, "duration"))),
    )
    res = check(ir.Spec("t", "", (), (prop,)), rpc)["client_ok"]
    assert not res.holds[0]
    (w,) = res.witnesses[0]
    assert w.bindings[0][0] == "s" and w.bindings[0][1].span_id == sid(2)
    assert w.message == "client call failed after 30ns"
    assert w.position is None


def test_temporal_witness_position(rpc: SpanTable) -> None:
    retry = Quant(
        "exists",
        "r",
        Spans(),
        And(
            (
                Compare("==", Field(R, "name"), Field(S, "name")),
                Compare("!=", Field(R, "span_id"), Field(S, "span_id")),
            )
        ),
        StartOf(R),
    )
    body = Temporal(
        "always", (Implies(EndOf(S), Temporal("eventually", (retry,), Interval(0, 5))),)
    )
    prop = Property(
        "retry",
        Quant(
            "forall",
            "s",
            Spans(),
            Compare("==", Field(S, "status"), Const("ERROR", Type.STATUS)),
            body,
        ),
    )
    res = check(ir.Spec("t", "", (), (prop,)), rpc)["retry"]
    assert not res.holds[0]
    (w,) = res.witnesses[0]
    assert w.position is not None and w.position.index == 3 and w.position.time == 40
    assert w.position.what.startswith("end(call#")
    ok = Property(
        "retry",
        Quant(
            "forall",
            "s",
            Spans(),
            Compare("==", Field(S, "status"), Const("ERROR", Type.STATUS)),
            Temporal(
                "always", (Implies(EndOf(S), Temporal("eventually", (retry,), Interval(0, 10))),)
            ),
        ),
    )
    assert check(ir.Spec("t", "", (), (ok,)), rpc)["retry"].holds[0]


def test_functions() -> None:
    table = make(
        [
            dict(
                id=1,
                name="User_Service",
                start=0,
                end=1,
                attributes=[("card", "4111 1111 1111 1111"), ("bad", "4111 1111 1111 1112")],
            )
        ]
    )
    it = interp(table)
    env = {"s": 0}
    assert it.value(Call("canon", (Field(S, "name"),)), env, 0) == "userservice"
    assert it.value(Call("luhn", (Attr(S, "card"),)), env, 0) is True
    assert it.value(Call("luhn", (Attr(S, "bad"),)), env, 0) is False
    assert it.value(Call("luhn", (Attr(S, "missing"),)), env, 0) is False
    assert it.value(Call("len", (Field(S, "name"),)), env, 0) == 12


def test_missing_end_is_undefined() -> None:
    table = make([dict(id=1, start=5)])
    assert interp(table).value(Field(S, "end"), {"s": 0}, 0) is UNDEF
    assert len(TraceContext(table, 0).timeline) == 1


def test_multiple_traces_have_separate_verdicts() -> None:
    b = TableBuilder()
    res = b.add_resource([])
    b.add_span(trace_id="01" * 16, span_id=sid(1), start=0, end=1, resource=res)
    b.add_span(trace_id="02" * 16, span_id=sid(1), parent_id=sid(9), start=0, end=1, resource=res)
    table = b.build()
    prop = Property(
        "parent_exists",
        Quant(
            "forall",
            "s",
            Spans(),
            Not(Field(S, "is_root")),
            Compare("==", Aggregate("count", Rel("parent", S)), Const(1, Type.INT)),
        ),
    )
    res_ = check(ir.Spec("t", "", (), (prop,)), table)["parent_exists"]
    assert list(res_.holds) == [True, False]
    assert list(res_.witnesses) == [1]
