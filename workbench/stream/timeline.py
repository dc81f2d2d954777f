"""What a binding's temporal formula reads of the timeline, and online timeline accumulators.

A binding's temporal formula is read at point 0. Two facts let a late span skip most of them:

*Closed formulas.* ``always (end(r) -> not eventually[skew, inf] start(s))`` with ``r`` and
``s`` bound only relates points of ``r`` and ``s``: whatever other spans arrive, their points
change neither the order nor the distance of those points, and contribute the operator's
neutral value (the implication is true at a point that is not ``r``'s end). Such a formula
depends on its bound spans alone (:func:`top_closed`), so its footprint on the timeline is
empty: a binding whose temporal body is closed is span-local (the fast path) or follows its
relations' footprint (:mod:`workbench.stream.monitor`).

The analysis reads each point formula's value at the points of the bound spans (*closed*:
unchanged by other spans' points) and its *background*, its value at any other point:
``false`` or ``true``, ``uniform`` (a formula without timeline content: the same at every
point) or ``open`` (it depends on the span at that point). A windowed operator is closed when
its argument is and the background is the operator's neutral value (``false`` for the
``any`` windows, ``true`` for the ``all`` ones, :attr:`workbench.stream.ops.TemporalRule.window`).

*Anchored formulas.* ``always (start(r) -> once[0s, 5s] exists f in spans where G: end(f))``
is not closed (any span's end may fall in the window), but it is a fold, over ``r``'s trigger
points (its starts), of windowed operators whose arguments are *point-local* (their value at a
point depends on that point's span and ``r`` only). Old points keep their values and their
place in each window when spans arrive, so each window's value is monotone: an ``any`` window
turns true, an ``all`` window false, only by a new point inside it. :class:`TimelineSpec`
makes such a formula an accumulator (:mod:`workbench.stream.accumulate`): its state, per
binding, keeps each trigger point's window values, and a new span's points are tested against
the windows of the triggers in time range only (:meth:`TimelineSpec.reach`).
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from workbench.lang import ir
from workbench.stream.ops import TEMPORAL
from workbench.stream.pointwise import PointFn, positions
from workbench.stream.state import PointT, SpanRec, TraceState, points_of
from workbench.traces.context import END, EVENT, START

if TYPE_CHECKING:
    from workbench.stream.evaluate import Compiler

_ATOMS = (ir.StartOf, ir.EndOf, ir.EventOf)
#: backgrounds (see the module docstring)
FALSE, TRUE, UNIFORM, OPEN = "false", "true", "uniform", "open"
_NEUTRAL = {"any": FALSE, "all": TRUE}
#: nodes a point-local formula may not contain (they read the trace beyond its own spans)
_NONLOCAL = (ir.Spans, ir.Roots, ir.Rel, ir.HappensBefore)


def _neg(bg: str) -> str:
    return TRUE if bg == FALSE else FALSE if bg == TRUE else bg


def _and(bgs: list[str]) -> str:
    if FALSE in bgs:
        return FALSE
    for one in (TRUE, UNIFORM):
        if all(b == one for b in bgs):
            return one
    return OPEN


def _or(bgs: list[str]) -> str:
    return _neg(_and([_neg(b) for b in bgs]))


def point_exists(node: ir.Node) -> bool:
    """``exists y in S where G: atom(y)`` with a guard without timeline content: at a point
    it reads only that point's span."""
    return isinstance(node, ir.Quant) and node.kind == "exists" \
        and isinstance(node.body, _ATOMS) and node.body.arg.name == node.var \
        and (node.guard is None or not ir.is_temporal(node.guard))


def _window_of(node: ir.Node) -> str:
    return TEMPORAL[node.op].window if isinstance(node, ir.Temporal) else ""


def point_info(node: ir.Node, bound: frozenset[str]) -> tuple[bool, str]:
    """``(closed, background)`` of ``node`` read at a point (see the module docstring)."""
    if not ir.is_temporal(node):
        return True, UNIFORM
    if isinstance(node, _ATOMS):
        return (True, FALSE) if node.arg.name in bound else (False, OPEN)
    if isinstance(node, ir.Not):
        closed, bg = point_info(node.arg, bound)
        return closed, _neg(bg)
    if isinstance(node, ir.Implies):
        node = ir.Or((ir.Not(node.left), node.right))
    if isinstance(node, ir.And | ir.Or):
        infos = [point_info(a, bound) for a in node.args]
        bgs = [bg for _, bg in infos]
        return all(c for c, _ in infos), _and(bgs) if isinstance(node, ir.And) else _or(bgs)
    if point_exists(node):  # at a bound span's point: that span's own data
        return True, OPEN
    window = _window_of(node)
    if window:
        assert isinstance(node, ir.Temporal)
        closed, bg = point_info(node.args[0], bound)
        if bg == UNIFORM and node.interval.lo == 0:  # the window holds the point itself
            return True, UNIFORM
        return closed and bg == _NEUTRAL[window], OPEN
    return False, OPEN


def _everywhere(node: ir.Node) -> bool:
    """A future window from point 0 over the whole timeline (``[0, inf]``)."""
    return isinstance(node, ir.Temporal) and node.op in ir.FUTURE_OPS \
        and bool(_window_of(node)) and node.interval.lo == 0 and node.interval.hi is None


def top_closed(node: ir.Node, bound: frozenset[str]) -> bool:
    """Whether ``node`` read at point 0 depends on the timeline only through the points of
    the spans bound to ``bound`` (and the quantifiers inside it)."""
    if not ir.is_temporal(node):
        return True
    if isinstance(node, ir.Not):
        return top_closed(node.arg, bound)
    if isinstance(node, ir.Implies):
        return top_closed(node.left, bound) and top_closed(node.right, bound)
    if isinstance(node, ir.And | ir.Or):
        return all(top_closed(a, bound) for a in node.args)
    if isinstance(node, ir.Quant):
        inner = bound | {node.var}
        return (node.guard is None or top_closed(node.guard, inner)) \
            and top_closed(node.body, inner)
    if _everywhere(node):
        assert isinstance(node, ir.Temporal)
        closed, bg = point_info(node.args[0], bound)
        return closed and bg in (_NEUTRAL[_window_of(node)], UNIFORM)
    return False


def _local(node: ir.Node | None, var: str) -> bool:
    """No timeline content, no set of the trace, no relation, no depth."""
    if node is None:
        return True
    if ir.is_temporal(node) or isinstance(node, _NONLOCAL) or (
            isinstance(node, ir.Field) and node.name == "depth"):
        return False
    return all(_local(c, var) for c in node.children())


def point_local(node: ir.Node, var: str) -> bool:
    """Whether ``node``'s value at a point depends only on that point (its span, event and
    phase) and ``var``'s span: atoms of ``var``, ``exists y in spans|roots where G:
    atom(y)``, formulas of the spans' own data, and boolean combinations."""
    if isinstance(node, _ATOMS):
        return node.arg.name == var
    if isinstance(node, ir.Not | ir.And | ir.Or | ir.Implies):
        return all(point_local(c, var) for c in node.children())
    if point_exists(node):
        assert isinstance(node, ir.Quant)
        return isinstance(node.domain, ir.Spans | ir.Roots) and _local(node.guard, var)
    return _local(node, var)


def _phase(node: ir.Node) -> int:
    return START if isinstance(node, ir.StartOf) else END if isinstance(node, ir.EndOf) else EVENT


#: ``(trigger atom, the formula at each trigger point, "all" or "any")``
Shape = tuple[ir.Node, ir.Node, str]


def shape(node: ir.Node, var: str) -> Shape | None:
    """``always[0, inf] (atom(var) -> P)`` or ``eventually[0, inf] (atom(var) and P)``, with
    ``P`` a boolean combination of leaves each closed or a windowed operator of a point-local
    formula; ``None`` otherwise."""
    if not _everywhere(node):
        return None
    assert isinstance(node, ir.Temporal)
    window, arg = _window_of(node), node.args[0]
    if window == "all" and isinstance(arg, ir.Implies):
        trig, rest = arg.left, arg.right
    elif window == "any" and isinstance(arg, ir.And) and isinstance(arg.args[0], _ATOMS):
        trig = arg.args[0]
        rest = arg.args[1] if len(arg.args) == 2 else ir.And(arg.args[1:])
    else:
        return None
    if not isinstance(trig, _ATOMS) or trig.arg.name != var:
        return None
    return (trig, rest, window) if all(_leaf_ok(leaf, var) for leaf in _leaves(rest)) else None


def _leaves(node: ir.Node) -> list[ir.Node]:
    if isinstance(node, ir.Not | ir.And | ir.Or | ir.Implies):
        return [leaf for c in node.children() for leaf in _leaves(c)]
    return [node]


def _leaf_ok(leaf: ir.Node, var: str) -> bool:
    if _window_of(leaf):
        assert isinstance(leaf, ir.Temporal)
        return point_local(leaf.args[0], var)
    return _local(leaf, var) or (isinstance(leaf, _ATOMS) and leaf.arg.name == var)


def anchored(node: ir.Node, var: str) -> bool:
    """Whether ``node`` is a timeline accumulator of bindings of ``var`` (see the module
    docstring): anchored on ``var``'s points, reading no other variable, and not closed."""
    from workbench.stream.accumulate import free_vars

    return shape(node, var) is not None and free_vars(node) <= {var} \
        and not top_closed(node, frozenset({var}))


def _fold(node: ir.Node, leaves: list[ir.Node]) -> Callable[[list[bool]], bool]:
    """``node``'s boolean structure as a function of its leaves' values (leaf order)."""
    if isinstance(node, ir.Not):
        a = _fold(node.arg, leaves)
        return lambda v: not a(v)
    if isinstance(node, ir.Implies):
        left, right = _fold(node.left, leaves), _fold(node.right, leaves)
        return lambda v: (not left(v)) or right(v)
    if isinstance(node, ir.And | ir.Or):
        args = [_fold(a, leaves) for a in node.args]
        if isinstance(node, ir.And):
            return lambda v: all(a(v) for a in args)
        return lambda v: any(a(v) for a in args)
    k = len(leaves)
    leaves.append(node)
    return lambda v: v[k]


class TimelineSpec:
    """An anchored temporal formula compiled as an accumulator (see the module docstring).

    The interface is :class:`workbench.stream.accumulate.AccSpec`'s: never hash-indexed, one
    state per binding (it reads the binding's own points).
    """

    indexed = False
    ranged = False
    order_op = ""
    roots_only = False
    comp_var = None

    def __init__(self, node: ir.Node, var: str, compiler: Compiler) -> None:
        found = shape(node, var)
        assert found is not None
        trig, rest, self.fold_kind = found
        self.node, self.var = node, var
        self.phase = _phase(trig)
        self.name = trig.name if isinstance(trig, ir.EventOf) else None
        leaves: list[ir.Node] = []
        self.fold = _fold(rest, leaves)
        #: each leaf read at a trigger point (the pointwise evaluators: the batch's values)
        self.leaf_fns: list[PointFn] = [compiler.pointwise.point(leaf) for leaf in leaves]
        #: the leaves new points can change: (leaf, future, lo, hi, "any"/"all", argument)
        self.open: list[tuple[int, bool, int, int | None, str, PointFn]] = []
        bound = frozenset({var})
        for k, leaf in enumerate(leaves):
            window = _window_of(leaf)
            if not window:
                continue
            assert isinstance(leaf, ir.Temporal)
            closed, _ = point_info(leaf, bound)
            if not closed:
                self.open.append((k, leaf.op in ir.FUTURE_OPS, leaf.interval.lo,
                                  leaf.interval.hi, window, compiler.pointwise.point(
                                      leaf.args[0])))
        #: how far in time a new point can be from a trigger it changes (``None``: any)
        self.reach: int | None = max(
            (hi for _, _, _, hi, _, _ in self.open), default=0,
            key=lambda h: float("inf") if h is None else h)

    def signature(self, st: TraceState, rec: SpanRec) -> Any:
        return rec.seq

    def member_bucket(self, st: TraceState, m: SpanRec) -> Any:
        raise TypeError("a timeline accumulator is not hash-indexed")

    binding_bucket = member_bucket

    def new(self) -> TimelineState:
        return TimelineState(self)


class TimelineState:
    """One binding's anchored formula: per trigger point, its key, time and leaf values."""

    __slots__ = ("spec", "triggers")

    def __init__(self, spec: TimelineSpec) -> None:
        self.spec = spec
        self.triggers: list[tuple[tuple[Any, ...], int, list[bool]]] | None = None

    def times(self) -> list[int]:
        """The binding's trigger times."""
        return [t for _, t, _ in self.triggers or ()]

    def feed(self, st: TraceState, rec: SpanRec, members: Iterable[SpanRec]) -> None:
        """Fold in the points of ``members`` (spans new to the trace) for binding ``rec``; the
        first call reads the whole timeline instead."""
        s = self.spec
        env = {s.var: rec}
        if self.triggers is None:
            pts = st.points
            self.triggers = [(pts[j][:4], pts[j][0], [bool(f(st, env, j)) for f in s.leaf_fns])
                             for j in positions(st, rec, s.phase, s.name)]
            return
        if not s.open or not self.triggers:
            return
        new: list[PointT] = [p for m in members for p in points_of(m)]
        for key, t, vals in self.triggers:
            for k, future, lo, hi, window, arg in s.open:
                if vals[k] is (window == "any"):  # settled: monotone
                    continue
                for p in new:
                    d = p[0] - t if future else t - p[0]
                    if d < lo or (hi is not None and d > hi):
                        continue
                    if (p[:4] >= key) if future else (p[:4] <= key):
                        q = bool(arg(st, env, st.index_of(p)))
                        if q is (window == "any"):
                            vals[k] = q
                            break

    @property
    def value(self) -> bool:
        s = self.spec
        vals = (s.fold(v) for _, _, v in self.triggers or ())
        return all(vals) if s.fold_kind == "all" else any(vals)


class TriggerIndex:
    """The trigger times of one timeline accumulator's states, sorted: a new point at time
    ``t`` can change only the states with a trigger in ``[t - reach, t + reach]``."""

    def __init__(self, reach: int | None) -> None:
        self.reach = reach
        self._times: list[int] = []
        self._groups: list[Any] = []
        self._all: dict[int, Any] = {}  # id -> group (reach None: every group)

    def add(self, group: Any, times: list[int]) -> None:
        self._all[id(group)] = group
        for t in times:
            i = bisect.bisect_right(self._times, t)
            self._times.insert(i, t)
            self._groups.insert(i, group)

    def remove(self, group: Any, times: list[int]) -> None:
        self._all.pop(id(group), None)
        for t in times:
            i = bisect.bisect_left(self._times, t)
            while i < len(self._times) and self._times[i] == t:
                if self._groups[i] is group:
                    del self._times[i], self._groups[i]
                    break
                i += 1

    def near(self, spans: Iterable[SpanRec]) -> list[Any]:
        """The groups a point of ``spans`` may fall in a window of (each once)."""
        if self.reach is None:
            return list(self._all.values())
        found: dict[int, Any] = {}
        r = self.reach
        for m in spans:
            for p in points_of(m):
                a = bisect.bisect_left(self._times, p[0] - r)
                b = bisect.bisect_right(self._times, p[0] + r)
                for g in self._groups[a:b]:
                    found[id(g)] = g
        return list(found.values())


__all__ = ["FALSE", "OPEN", "TRUE", "UNIFORM", "TimelineSpec", "TimelineState", "TriggerIndex",
           "anchored", "point_exists", "point_info", "point_local", "shape", "top_closed"]
