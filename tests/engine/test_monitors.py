"""The propositional metric temporal fragment against independent monitors.

A trace of ``n`` spans that start at times ``0, 1, ..., n-1`` and have no end is a timeline of
``n`` points one nanosecond apart: exactly a discrete-time word. Each span carries booleans
``p`` and ``q``; the atom ``p`` at a point is "the span starting here has ``p``". A formula
``f`` over ``p``/``q`` is then checked pointwise with

    forall s in spans: always (start(s) -> f')

whose witnesses are the points where ``f`` is false; those must be exactly the steps where
``reelay`` (past operators, discrete time) or ``rtamt`` (future operators, discrete time)
computes false. The semantic differences with their *dense-time* modes and with other
end-of-trace conventions are documented, with examples, in ``docs/backends.md``.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workbench.engine import numba_cpu, reference
from workbench.engine.compiled import Timings, check_property
from workbench.lang import ir
from workbench.lang.ir import Attr, Compare, Const, Interval, Quant, Spans, StartOf, Type, Var
from workbench.traces.builder import TableBuilder
from workbench.traces.model import SpanTable

reelay = pytest.importorskip("reelay")
rtamt = pytest.importorskip("rtamt")

#: ("p",), ("not", f), ("and", f, g), ("once", lo, hi, f), ("since", lo, hi, f, g)...
Formula = tuple[Any, ...]


def _interval(draw: st.DrawFn, unbounded: bool) -> tuple[int, int | None]:
    lo = draw(st.integers(0, 3))
    if unbounded and draw(st.booleans()):
        return lo, None
    return lo, lo + draw(st.integers(0, 3))


@st.composite
def formulas(draw: st.DrawFn, past: bool, depth: int = 3) -> Formula:
    if depth == 0 or draw(st.integers(0, 3)) == 0:
        return (draw(st.sampled_from(["p", "q"])),)
    ops = ["not", "and", "or"] + (
        ["once", "historically", "since", "previously"] if past
        else ["eventually", "always", "until", "next"])
    op = draw(st.sampled_from(ops))
    sub = formulas(past, depth - 1)
    if op in ("not", "previously", "next"):
        return (op, draw(sub))
    if op in ("and", "or"):
        return (op, draw(sub), draw(sub))
    lo, hi = _interval(draw, unbounded=past)
    if op in ("since", "until"):
        return (op, lo, hi, draw(sub), draw(sub))
    return (op, lo, hi, draw(sub))


def to_ir(f: Formula) -> ir.Node:
    op = f[0]
    if op in ("p", "q"):
        r = Var("r")
        flag = Compare("==", Attr(r, op), Const(True, Type.BOOL))
        return Quant("exists", "r", Spans(), flag, StartOf(r))
    if op == "not":
        return ir.Not(to_ir(f[1]))
    if op in ("and", "or"):
        return (ir.And if op == "and" else ir.Or)((to_ir(f[1]), to_ir(f[2])))
    if op == "previously":
        return ir.Temporal(op, (to_ir(f[1]),))
    if op == "next":  # rtamt's next is weak at the end of the trace: otlspec's wnext
        return ir.Temporal("wnext", (to_ir(f[1]),))
    iv = Interval(f[1], f[2])
    return ir.Temporal(op, tuple(to_ir(g) for g in f[3:]), iv)


def to_reelay(f: Formula) -> str:
    op = f[0]
    if op in ("p", "q"):
        return "{" + op + "}"
    if op == "not":
        return f"(not {to_reelay(f[1])})"
    if op in ("and", "or"):
        return f"({to_reelay(f[1])} {op} {to_reelay(f[2])})"
    if op == "previously":
        return f"(pre {to_reelay(f[1])})"
    if f[1] == 0 and f[2] == 0:
        # reelay reads an upper bound of 0 as "no bound" ([0:0] = [0:]); at distance 0 the
        # operators reduce to their (last) operand, which is what [0, 0] means here
        return to_reelay(f[-1])
    bound = f"[{f[1]}:{'' if f[2] is None else f[2]}]"
    if op == "since":
        return f"({to_reelay(f[3])} since{bound} {to_reelay(f[4])})"
    return f"({op}{bound} {to_reelay(f[3])})"


def to_rtamt(f: Formula) -> str:
    op = f[0]
    if op in ("p", "q"):
        return f"({op} > 0.5)"
    if op == "not":
        return f"(not {to_rtamt(f[1])})"
    if op in ("and", "or"):
        return f"({to_rtamt(f[1])} {op} {to_rtamt(f[2])})"
    if op == "next":
        return f"(next {to_rtamt(f[1])})"
    bound = f"[{f[1]},{f[2]}]"
    if op == "until":
        return f"({to_rtamt(f[3])} until{bound} {to_rtamt(f[4])})"
    return f"({op}{bound} {to_rtamt(f[3])})"


def word_table(word: list[tuple[bool, bool]]) -> SpanTable:
    b = TableBuilder()
    res = b.add_resource([("service.name", "m")])
    for t, (p, q) in enumerate(word):
        b.add_span(trace_id="ab" * 16, span_id=format(t + 1, "016x"), start=t, end=None,
                   resource=res, attributes=[("p", p), ("q", q)])
    return b.build()


def otlspec_values(f: Formula, word: list[tuple[bool, bool]], runner: Any) -> list[bool]:
    """Truth of ``f`` at each point, from the witnesses of the pointwise property."""
    s = Var("s")
    formula = Quant("forall", "s", Spans(), None,
                    ir.Temporal("always", (ir.Implies(StartOf(s), to_ir(f)),)))
    prop = ir.Property("pointwise", formula)
    table = word_table(word)
    result = (check_property(runner, prop, table, {}, Timings(), 10**6) if runner is not None
              else reference.check_property(prop, table, {}, 10**6))
    false_at = {w.position.index for ws in result.witnesses.values() for w in ws
                if w.position is not None}
    return [k not in false_at for k in range(len(word))]


def reelay_values(f: Formula, word: list[tuple[bool, bool]]) -> list[bool]:
    monitor = reelay.discrete_timed_monitor(pattern=to_reelay(f), condense=False)
    return [bool(monitor.update({"time": t, "p": p, "q": q})["value"])
            for t, (p, q) in enumerate(word)]


def rtamt_values(f: Formula, word: list[tuple[bool, bool]]) -> list[bool]:
    spec = rtamt.StlDiscreteTimeSpecification()
    spec.declare_var("p", "float")
    spec.declare_var("q", "float")
    spec.spec = to_rtamt(f)
    spec.parse()
    times = list(range(len(word)))
    out = spec.evaluate({"time": times, "p": [float(p) for p, _ in word],
                         "q": [float(q) for _, q in word]})
    return [value > 0 for _, value in out]


words = st.lists(st.tuples(st.booleans(), st.booleans()), min_size=1, max_size=10)
SETTINGS = settings(max_examples=120, deadline=None, derandomize=True, database=None,
                    suppress_health_check=list(HealthCheck))


@SETTINGS
@given(f=formulas(past=True), word=words)
def test_past_fragment_matches_reelay(f: Formula, word: list[tuple[bool, bool]]) -> None:
    want = reelay_values(f, word)
    assert otlspec_values(f, word, None) == want, to_reelay(f)
    assert otlspec_values(f, word, numba_cpu.PythonRunner()) == want, to_reelay(f)


@SETTINGS
@given(f=formulas(past=False), word=words.filter(lambda w: len(w) >= 2))  # rtamt needs 2 samples
def test_future_fragment_matches_rtamt(f: Formula, word: list[tuple[bool, bool]]) -> None:
    want = rtamt_values(f, word)
    assert otlspec_values(f, word, None) == want, to_rtamt(f)
    assert otlspec_values(f, word, numba_cpu.PythonRunner()) == want, to_rtamt(f)


def test_a_compiled_pointwise_check_on_numba() -> None:
    f: Formula = ("since", 0, 2, ("not", ("q",)), ("p",))
    word = [(True, False), (False, False), (False, True), (False, False), (True, True)]
    assert otlspec_values(f, word, numba_cpu.runner()) == reelay_values(f, word)
