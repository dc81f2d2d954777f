"""The kernels' value helpers and edge cases of the lowering, against the reference.

``kernel_lib`` is exercised as plain Python (the same code numba compiles); the edge-case
tests run small properties through the CPU backend and the reference side by side.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.engine.differential import compare
from workbench.engine import explain_backend, kernel_lib, numba_cpu
from workbench.engine import reference as ref
from workbench.engine import values as pv
from workbench.engine.codegen_terms import B, F, I, S, U
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
    Implies,
    Interval,
    Member,
    Not,
    Property,
    Quant,
    Rel,
    Spans,
    StartOf,
    Temporal,
    Type,
    Var,
)
from workbench.traces.builder import TableBuilder
from workbench.traces.model import SpanTable

numbers = st.one_of(
    st.integers(-(2**62), 2**62),
    st.sampled_from([0, 1, -1, 2**53, 2**53 + 1, 2**63 - 1, -(2**63)]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, -0.0, 0.5, 2.0**53, 2.0**63, -(2.0**63), 9.3e18]),
)
values = st.one_of(numbers, st.booleans(), st.sampled_from(["a", "b", ""]))
RANK = {"": 0, "a": 1, "b": 2}


def triple(v: Any) -> tuple[int, int, float]:
    if isinstance(v, bool):
        return B, int(v), 0.0
    if isinstance(v, int):
        return I, v, 0.0
    if isinstance(v, float):
        return F, 0, v
    return S, RANK[v], 0.0


@settings(max_examples=400, deadline=None)
@given(values, values)
def test_equality_and_order_match_the_reference(a: Any, b: Any) -> None:
    ta, tb = triple(a), triple(b)
    rank = np.arange(3).reshape(1, 3)
    none = np.zeros(1, np.int64)
    assert kernel_lib.eqv(*ta, *tb, none, none, 0, 0) == pv.equal(a, b)
    for code, op in enumerate(("<", "<=", ">", ">=")):
        assert kernel_lib.ordv(code, *ta, *tb, rank, 0) == pv.order(op, a, b), op


@settings(max_examples=400, deadline=None)
@given(numbers, numbers, st.sampled_from("+-*/%"))
def test_arithmetic_matches_the_reference(a: Any, b: Any, op: str) -> None:
    want = _py_arith(op, a, b)
    got = kernel_lib.arith("+-*/%".index(op), *triple(a), *triple(b))
    if want is ref.UNDEF:
        assert got[0] == U
        return
    if isinstance(want, int) and abs(want) >= 2**63:
        return  # Python ints do not overflow; int64 does (documented)
    value = got[1] if got[0] == I else got[2]
    assert (got[0] == I) == isinstance(want, int)
    assert value == want or (isinstance(want, float) and math.isnan(want) and math.isnan(value))


def _py_arith(op: str, a: Any, b: Any) -> Any:
    if op in "/%" and b == 0:
        return ref.UNDEF
    try:
        return {"+": a + b, "-": a - b, "*": a * b}[op] if op in "+-*" else (
            a / b if op == "/" else a % b)
    except (OverflowError, ZeroDivisionError):
        return ref.UNDEF


@given(st.integers(0, 10**19))
def test_luhn_of_ints(n: int) -> None:
    if n < 2**63:
        assert kernel_lib.luhn_int(n) == pv.luhn(n)


# ------------------------------------------------------------------ edge cases end to end

T = "ab" * 16


def sid(n: int) -> str:
    return format(n, "016x")


def table(spans: list[dict[str, Any]]) -> SpanTable:
    b = TableBuilder()
    res = b.add_resource([("service.name", "svc")])
    for sp in spans:
        sp = dict(sp)
        parent = sp.pop("parent", None)
        b.add_span(trace_id=sp.pop("trace", T), span_id=sid(sp.pop("id")),
                   parent_id="" if parent is None else sid(parent), resource=res, **sp)
    return b.build()


S_, R_, C_ = Var("s"), Var("r"), Var("c")


def check(formula: ir.Node, t: SpanTable, message: ir.Template | None = None) -> None:
    prop = Property("p", formula, message=message)
    assert compare(numba_cpu.PythonRunner(), prop, t) is None


CYCLE = [dict(id=1, parent=3, start=0, end=10), dict(id=2, parent=1, start=1, end=9),
         dict(id=3, parent=2, start=2, end=8), dict(id=4, parent=3, start=3, end=4),
         dict(id=5, start=0, end=1), dict(id=6, parent=5, start=0, end=1)]


@pytest.mark.parametrize("rel", ir.RELATIONS)
def test_relations_with_a_parent_cycle(rel: str) -> None:
    t = table(CYCLE)
    check(Quant("forall", "s", Spans(), None,
                Compare("==", Aggregate("count", Rel(rel, S_)), Const(1, Type.INT))), t)
    check(Quant("forall", "s", Spans(), None,
                Not(Quant("exists", "r", Rel(rel, S_), None, Member(R_, Rel("ancestors", S_))))), t)
    check(Quant("forall", "s", Spans(), None, Compare(
        "<", Aggregate("sum", Rel(rel, S_), "r", Field(R_, "start")), Const(3, Type.INT))), t)


def test_timeline_ties_and_triggers() -> None:
    t = table([dict(id=1, start=0, end=10, events=[("x", 10, []), ("x", 0, [])]),
               dict(id=2, parent=1, start=0, end=10), dict(id=3, parent=1, start=10, end=None)])
    ev = Temporal("eventually", (EventOf(S_, "x"),), Interval(0, 0))
    for formula in (
        Quant("forall", "s", Spans(), None, Temporal("always", (Implies(StartOf(S_), ev),))),
        Quant("forall", "s", Spans(), None, Temporal("always", (Implies(EndOf(S_), Temporal(
            "once", (Quant("exists", "r", Spans(), None, StartOf(R_)),), Interval(10, 10))),))),
        Quant("forall", "s", Spans(), None, Temporal(
            "until", (Not(EndOf(S_)), EventOf(S_, None)), Interval(0, 5))),
        Quant("forall", "s", Spans(), None, Temporal(
            "since", (Not(StartOf(S_)), EndOf(S_)), Interval(1, 20))),
        Temporal("always", (Implies(Temporal("next", (Const(True, Type.BOOL),)),
                                    Temporal("previously", (Const(False, Type.BOOL),))),)),
    ):
        check(formula, t)


def test_str_of_attribute_numbers_lists_and_nan() -> None:
    t = table([dict(id=k + 1, start=k, end=k + 1, attributes=[("v", v)])
               for k, v in enumerate([1, 1.0, 1e20, float("nan"), [1, 2], [1.0, 2.0],
                                      {"a": 1}, True, b"\x01", "x"])])
    v = Attr(S_, "v")
    check(Quant("forall", "s", Spans(), None,
                Not(Quant("exists", "r", Spans(), Compare("<", Field(R_, "start"),
                                                          Field(S_, "start")),
                          Compare("==", Call("str", (Attr(R_, "v"),)), Call("str", (v,)))))), t)
    check(Quant("forall", "s", Spans(), None,
                Compare("==", Aggregate("distinct", Spans(), "r", Attr(R_, "v")),
                        Const(7, Type.INT))), t)
    longer = Compare(">", Call("len", (v,)), Const(1, Type.INT))
    check(Quant("forall", "s", Spans(), None, longer), t)


def test_sum_order_and_min_type() -> None:
    t = table([dict(id=1, start=0, end=1, attributes=[("v", 1e16)]),
               dict(id=2, start=1, end=2, attributes=[("v", 1)]),
               dict(id=3, start=2, end=3, attributes=[("v", 1)])])
    total = Aggregate("sum", Spans(), "r", Attr(R_, "v"))
    check(Compare("==", total, Const(1e16, Type.FLOAT)), t)
    check(Compare("==", Call("str", (Aggregate("min", Spans(), "r", Attr(R_, "v")),)),
                  Const("1", Type.STR)), t)


def test_witness_messages_and_positions() -> None:
    t = table(CYCLE)
    msg = ir.Template(("span ", Field(S_, "name"), " at ", Field(S_, "start"),
                       " lasts ", Arith("-", Field(S_, "end"), Field(S_, "start"))))
    check(Quant("forall", "s", Spans(), None, Temporal("always", (Implies(
        StartOf(S_), Compare("<", Field(S_, "depth"), Const(2, Type.INT))),))), t, msg)
    check(Quant("forall", "s", Spans(), None, And((
        Compare("<", Field(S_, "start"), Const(2, Type.INT)),
        Quant("forall", "c", Rel("children", S_), None,
              Compare(">", Field(C_, "start"), Field(S_, "start")))))), t, msg)


def test_hb_runs_on_the_reference_and_says_why() -> None:
    prop = Property("p", Quant("forall", "s", Spans(), None, HappensBefore(S_, S_)))
    backend, reason = explain_backend(prop, "numba")
    assert backend == "reference"
    assert "hb" in reason and reason.endswith("-> reference")
