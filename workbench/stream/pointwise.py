"""Temporal formulas evaluated at one timeline point, for the points that matter.

A binding's verdict reads its formula at point 0 only. The sweep of
:mod:`workbench.stream.ops` computes a temporal operator at *every* point, which is what a
nested operator needs; at the top of a binding (no enclosing temporal operator) that is
wasted work on a long trace: ``always (end(r) -> not eventually[skew, inf] start(s))`` only
matters where ``r`` ends, and ``eventually[..] start(s)`` only asks whether ``s``'s one start
point falls in a window. :class:`Pointwise` compiles formulas to ``(state, env, i) -> bool``:

* windows are index ranges found by bisection on the sorted point times (the reference's
  window, exactly: ``j >= i`` with ``t_j - t_i`` in ``[lo, hi]``, or ``j <= i`` for the past);
* ``always``/``historically`` of ``atom(x) -> f`` visit only ``x``'s points of that kind in the
  window; ``eventually``/``once`` of ``atom(x)`` bisect ``x``'s points;
* ``exists y in S where G: atom(y)`` at a point looks at that point's span only;
* anything else (``until``, ``since``, nested sweeps) falls back to the dense value at ``i``.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from workbench.lang import ir
from workbench.stream.ops import TEMPORAL
from workbench.stream.state import TraceState
from workbench.traces.context import END, EVENT, START

if TYPE_CHECKING:
    from workbench.stream.evaluate import Compiler

PointFn = Callable[[TraceState, dict[str, Any], int], bool]
_ATOMS = (ir.StartOf, ir.EndOf, ir.EventOf)


def _phase(node: ir.Node) -> int:
    return START if isinstance(node, ir.StartOf) else END if isinstance(node, ir.EndOf) else EVENT


def window(times: list[int], i: int, lo: int, hi: int | None, future: bool) -> tuple[int, int]:
    """The index range ``[a, b)`` of the reference's window from point ``i``."""
    t = times[i]
    if future:
        a = max(i, bisect.bisect_left(times, t + lo))
        b = len(times) if hi is None else bisect.bisect_right(times, t + hi)
        return a, max(a, b)
    a = 0 if hi is None else bisect.bisect_left(times, t - hi)
    b = min(i + 1, bisect.bisect_right(times, t - lo))
    return a, max(a, b)


def positions(st: TraceState, rec: Any, phase: int, name: str | None) -> list[int]:
    """The sorted indices of ``rec``'s timeline points of ``phase`` (named ``name``)."""
    return st.positions(rec, phase, name)


class Pointwise:
    """Compiles temporal formulas to point evaluators (see the module docstring)."""

    def __init__(self, compiler: Compiler) -> None:
        self.c = compiler
        self._memo: dict[ir.Node, PointFn] = {}

    def point(self, node: ir.Node) -> PointFn:
        found = self._memo.get(node)
        if found is None:
            found = self._memo[node] = self._make(node)
        return found

    def _make(self, node: ir.Node) -> PointFn:
        c = self.c
        if not c.temporal(node):
            f = c.dense(node)
            return lambda st, env, i: bool(f(st, env))
        if isinstance(node, _ATOMS):
            var, phase = node.arg.name, _phase(node)
            name = node.name if isinstance(node, ir.EventOf) else None

            def atom(st: TraceState, env: dict[str, Any], i: int) -> bool:
                p = st.points[i]
                return p[4] is env[var] and p[1] == phase and (name is None or p[5] == name)
            return atom
        if isinstance(node, ir.Not):
            a = self.point(node.arg)
            return lambda st, env, i: not a(st, env, i)
        if isinstance(node, ir.And):
            args = [self.point(x) for x in node.args]
            return lambda st, env, i: all(a(st, env, i) for a in args)
        if isinstance(node, ir.Or):
            args = [self.point(x) for x in node.args]
            return lambda st, env, i: any(a(st, env, i) for a in args)
        if isinstance(node, ir.Implies):
            left, right = self.point(node.left), self.point(node.right)
            return lambda st, env, i: (not left(st, env, i)) or right(st, env, i)
        if isinstance(node, ir.Quant):
            return self._quant(node)
        if isinstance(node, ir.Temporal):
            form, shift, flag = TEMPORAL[node.op].point  # every op has one (tests check)
            if form == "window":
                return self._window(node, flag)
            if form == "step":
                return self._step(node, shift, flag)
        dense = c.dense(node)  # the sweep (until, since, ...), read at i

        def fallback(st: TraceState, env: dict[str, Any], i: int) -> bool:
            v = dense(st, env)
            return bool(v[i]) if isinstance(v, list) else bool(v)
        return fallback

    def _step(self, node: ir.Temporal, shift: int, flag: bool) -> PointFn:
        arg = self.point(node.args[0])

        def step(st: TraceState, env: dict[str, Any], i: int) -> bool:
            j = i + shift
            if 0 <= j < len(st.points):
                return arg(st, env, j)
            return flag  # no neighbour: the weak operators hold
        return step

    def _quant(self, node: ir.Quant) -> PointFn:
        c = self.c
        members, var = c.members(node.domain), node.var
        forall = node.kind == "forall"
        if not forall and isinstance(node.body, _ATOMS) and node.body.arg.name == var \
                and (node.guard is None or not c.temporal(node.guard)):
            guard = None if node.guard is None else c.dense(node.guard)
            phase = _phase(node.body)
            name = node.body.name if isinstance(node.body, ir.EventOf) else None
            everyone = isinstance(node.domain, ir.Spans)

            def point_exists(st: TraceState, env: dict[str, Any], i: int) -> bool:
                p = st.points[i]
                if p[1] != phase or (name is not None and p[5] != name):
                    return False
                rec = p[4]
                if not everyone and not any(m is rec for m in members(st, env)):
                    return False
                return guard is None or bool(guard(st, {**env, var: rec}))
            return point_exists
        guard_p = None if node.guard is None else self.point(node.guard)
        body = self.point(node.body)

        def quant(st: TraceState, env: dict[str, Any], i: int) -> bool:
            inner = dict(env)
            for m in members(st, env):
                inner[var] = m
                if guard_p is not None and not guard_p(st, inner, i):
                    continue
                b = body(st, inner, i)
                if forall and not b:
                    return False
                if not forall and b:
                    return True
            return forall
        return quant

    def _window(self, node: ir.Temporal, every: bool) -> PointFn:
        op, lo, hi = node.op, node.interval.lo, node.interval.hi
        future = op in ir.FUTURE_OPS
        arg = node.args[0]
        if every and isinstance(arg, ir.Implies) and isinstance(arg.left, _ATOMS):
            # only the trigger's points can falsify the implication
            trig = arg.left
            tvar, tphase = trig.arg.name, _phase(trig)
            tname = trig.name if isinstance(trig, ir.EventOf) else None
            then = self.point(arg.right)

            def triggered(st: TraceState, env: dict[str, Any], i: int) -> bool:
                a, b = window(st.times, i, lo, hi, future)
                for j in positions(st, env[tvar], tphase, tname):
                    if a <= j < b and not then(st, env, j):
                        return False
                return True
            return triggered
        if not every and isinstance(arg, _ATOMS):
            avar, aphase = arg.arg.name, _phase(arg)
            aname = arg.name if isinstance(arg, ir.EventOf) else None

            def hit(st: TraceState, env: dict[str, Any], i: int) -> bool:
                a, b = window(st.times, i, lo, hi, future)
                return any(a <= j < b for j in positions(st, env[avar], aphase, aname))
            return hit
        f = self.point(arg)

        def scan(st: TraceState, env: dict[str, Any], i: int) -> bool:
            a, b = window(st.times, i, lo, hi, future)
            if every:
                return all(f(st, env, j) for j in range(a, b))
            return any(f(st, env, j) for j in range(a, b))
        return scan


__all__ = ["Pointwise", "positions", "window"]
