"""The memoized ``exists/forall a in ancestors(s): Q(a)`` of the compiled kernels
(:meth:`~workbench.engine.codegen_sets.SetsGen.ancestor_memo`) agrees with the reference
interpreter (verdicts and witnesses), on random forests, deep chains, chains that run into a
parent cycle, and chains below a missing parent; and a deep chain costs linear time."""

from __future__ import annotations

import time
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.engine import table_strategy
from tests.engine.differential import compare, stdlib
from workbench.engine import numba_cpu
from workbench.engine.compiled import bind, generated
from workbench.engine.reference import param_values
from workbench.lang import ir
from workbench.lang.ir import Compare, Const, Field, Not, Quant, Rel, Spans, Type, Var
from workbench.traces.builder import TableBuilder
from workbench.traces.model import SpanTable

S, A = Var("s"), Var("a")
KIND = Field(A, "kind")
PREDICATES: list[ir.Node] = [
    Field(A, "is_root"),
    Compare("==", Field(A, "status"), Const("ERROR", Type.STATUS)),
    Compare("==", KIND, Const("CLIENT", Type.KIND)),
    Compare("<", Field(A, "start"), Const(10, Type.INT)),
]


def ancestor_formula(kind: str, guard: ir.Node | None, body: ir.Node, outer: ir.Node | None,
                     negate: bool) -> ir.Node:
    inner: ir.Node = Quant(kind, "a", Rel("ancestors", S), guard, body)  # type: ignore[arg-type]
    return Quant("forall", "s", Spans(), outer, Not(inner) if negate else inner)


def table(parents: list[int | None], trace: str = "ab" * 16, status: int = 0,
          kind: int = 3) -> SpanTable:
    """One trace: span ``k`` (id ``k + 1``) has parent ``parents[k]`` (an index, ``None``: a
    root, ``-1``: a missing parent)."""
    b = TableBuilder()
    res = b.add_resource([("service.name", "svc")])
    for k, p in enumerate(parents):
        pid = "" if p is None else ("f" * 16 if p < 0 else f"{p + 1:016x}")
        b.add_span(trace_id=trace, span_id=f"{k + 1:016x}", parent_id=pid, resource=res,
                   kind=kind if k % 3 else 2, status=status if k % 4 else 2, start=k, end=k + 5,
                   name=f"op{k % 3}")
    return b.build()


def check_all(t: SpanTable) -> None:
    runner = numba_cpu.PythonRunner()
    for p in PREDICATES:
        for kind in ("exists", "forall"):
            for guard in (None, Compare("!=", KIND, Const("SERVER", Type.KIND))):
                for negate in (False, True):
                    f = ancestor_formula(kind, guard, p, None, negate)
                    got = compare(runner, ir.Property("p", f), t)
                    assert got is None, (kind, guard, p, negate, got)


SHAPES = {
    "chain": [None, *range(0, 39)],
    "tree": [None, 0, 0, 1, 1, 2, 2, 3, 3, 4, 5, 6, 7, 8, 9, 10, 14, 16, 16, 2],
    "below a missing parent": [-1, 0, 1, 2, None, 4, 1, 6],
    # 0 -> 1 -> 2 -> 0 is a cycle; 3..5 hang below it; 6..9 a normal tree beside it
    "rho": [2, 0, 1, 2, 3, 4, None, 6, 7, 6],
    "two roots": [None, 0, 1, None, 3, 4, 0, 6],
}


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_shapes_agree_with_the_reference(shape: str) -> None:
    check_all(table(SHAPES[shape]))
    check_all(table(SHAPES[shape], status=2, kind=2))


def test_memoized_shapes_are_the_ones_that_may_be() -> None:
    """Only binder-local, position-free bodies are memoized (the stdlib's four uses)."""
    spec = stdlib()
    values = param_values(spec)
    memoized = {p.name for p in spec.properties
                if generated(bind(p.formula, values)).sites.anc_memos}
    assert memoized == {"error_surfaces_to_ancestor", "reachable_from_root",
                        "client_error_retried", "no_span_after_root_end"}
    outer = Compare("==", Field(A, "service"), Field(S, "service"))  # mentions s: not memoized
    f = ancestor_formula("exists", None, outer, None, False)
    assert not generated(f).sites.anc_memos


@settings(max_examples=20, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(t=table_strategy.tables(max_traces=3, max_spans=12), data=st.data())
def test_random_forests_agree_with_the_reference(t: SpanTable, data: Any) -> None:
    runner = numba_cpu.PythonRunner()
    kind = data.draw(st.sampled_from(["exists", "forall"]))
    body = data.draw(st.sampled_from(PREDICATES))
    guard = data.draw(st.sampled_from([None, *PREDICATES]))
    outer = data.draw(st.sampled_from([None, Not(Field(S, "is_root")), *PREDICATES[1:3]]))
    outer = None if outer is None else _rename(outer)  # the predicate, on s
    negate = data.draw(st.booleans())
    f = ancestor_formula(kind, guard, body, outer, negate)
    assert compare(runner, ir.Property("p", f), t) is None


def _rename(node: ir.Node) -> ir.Node:
    from workbench.lang.walk import transform

    return transform(node, {Var: lambda v: S if v == A else None})


def test_a_deep_chain_is_linear() -> None:
    """``reachable_from_root`` on a 20k-deep chain, as plain Python (no compilation): once
    O(n x depth), 2 * 10^8 steps (minutes), now one pass over the chain."""
    from workbench.engine.base import Timings
    from workbench.engine.compiled import check_property

    spec = stdlib()
    deep = table([None, *range(0, 19_999)])
    t0 = time.process_time()
    res = check_property(numba_cpu.PythonRunner(), spec.property("reachable_from_root"), deep,
                         param_values(spec), Timings())
    assert res.holds.all()
    assert time.process_time() - t0 < 3.0
