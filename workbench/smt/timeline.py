"""The timeline and happens-before of trace terms.

The timeline is every span start, span event and span end, ordered as the reference orders
them: by ``(time, phase, row, event index)`` with phases start < event < end. Over symbolic
times the order of two points is a term (:meth:`Timeline.lt`); a point's position is the
number of present points before it (:meth:`Timeline.pos`), defined once per point.

Happens-before is reachability in the edge graph of ``TraceContext._hb_edges``: start -> end
of each span, parent start -> child start, child end -> parent end unless either is a
PRODUCER or CONSUMER, link target start -> linking span start, and end of a sibling ->
start of a later sibling that has an end (``end < start``). Reachability is computed by
repeated squaring (``ceil(log2(2n))`` rounds), each round defined by fresh Boolean variables.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import z3

from workbench.smt.model import TraceTerms
from workbench.smt.terms import Bool, Num, band, bnot, bor, count, lift, num_cmp, sub
from workbench.smt.values import EncodingError

START, EVENT, END = 0, 1, 2
#: Largest number of timeline points encoded for a trace with symbolic times.
MAX_SYMBOLIC_POINTS = 400
#: Largest number of spans for happens-before over symbolic times.
MAX_SYMBOLIC_HB_SPANS = 60


@dataclass(frozen=True, slots=True)
class Point:
    """A potential timeline point: phase, span slot, event index, presence and time."""

    phase: int
    span: int
    k: int
    present: Bool
    time: Num


class Timeline:
    """Points, their order and positions, and happens-before, for one :class:`TraceTerms`."""

    def __init__(self, terms: TraceTerms) -> None:
        self.terms = terms
        pts: list[Point] = []
        for i, sp in enumerate(terms.spans):
            pts.append(Point(START, i, 0, sp.act, sp.start))
            for k, ev in enumerate(sp.events):
                pts.append(Point(EVENT, i, k, ev.act, ev.time))
            pts.append(Point(END, i, 0, band(sp.act, sp.has_end), sp.end))
        self.points = pts
        symbolic_times = any(isinstance(p.time, z3.ExprRef) for p in pts)
        if symbolic_times and not terms.symbolic and len(pts) > MAX_SYMBOLIC_POINTS:
            raise EncodingError(
                f"the timeline has {len(pts)} points with symbolic times; temporal properties "
                f"are encoded for at most {MAX_SYMBOLIC_POINTS}"
            )
        self._lt: dict[tuple[int, int], Bool] = {}
        self._pos: dict[int, Num] = {}
        self._hb: dict[tuple[int, int], Bool] | None = None
        self._n_present: Num | None = None

    # ----------------------------------------------------------------- order
    def lt(self, x: int, y: int) -> Bool:
        """Point ``x`` comes strictly before point ``y`` (both assumed present)."""
        if x == y:
            return False
        key = (x, y)
        found = self._lt.get(key)
        if found is None:
            a, b = self.points[x], self.points[y]
            found = self._lt[key] = bor(
                num_cmp("<", a.time, b.time),
                band(num_cmp("==", a.time, b.time), self._tie(a, b)),
            )
        return found

    def _tie(self, a: Point, b: Point) -> Bool:
        if a.phase != b.phase:
            return a.phase < b.phase
        if a.span == b.span:
            return a.k < b.k
        return self.terms.row_lt(a.span, b.span)

    def le(self, x: int, y: int) -> Bool:
        """``x`` is ``y`` or comes before it."""
        return True if x == y else self.lt(x, y)

    def pos(self, x: int) -> Num:
        """The position of point ``x``: how many present points come before it."""
        found = self._pos.get(x)
        if found is None:
            term = count([band(p.present, self.lt(y, x)) for y, p in enumerate(self.points)
                          if y != x])
            if isinstance(term, z3.ExprRef):
                var = z3.Int(f"pos_{x}")
                self.terms.axioms.append(var == term)
                term = var
            found = self._pos[x] = term
        return found

    def succ(self, x: int, y: int) -> Bool:
        """``y`` is the point right after ``x``."""
        if x == y:
            return False
        return band(self.points[y].present, self.lt(x, y),
                    num_cmp("==", self.pos(y), _plus1(self.pos(x))))

    def is_last(self, x: int) -> Bool:
        """No present point comes after ``x``."""
        return bnot(bor(*[band(p.present, self.lt(x, y)) for y, p in enumerate(self.points)
                          if y != x]))

    def first_candidates(self) -> list[int]:
        """Points that can be the first of the timeline (the earliest start, or an event)."""
        out = []
        for x, p in enumerate(self.points):
            if (p.phase == START and p.span == 0) or p.phase == EVENT or not self.terms.symbolic:
                out.append(x)
        return out

    def is_first(self, x: int) -> Bool:
        """``x`` is present and nothing comes before it."""
        return band(self.points[x].present, num_cmp("==", self.pos(x), 0))

    def window(self, x: int, y: int, lo: int, hi: int | None, future: bool) -> Bool:
        """``y`` is present and in the window of ``x``: after (or before) it by ``[lo, hi]``."""
        a, b = self.points[x], self.points[y]
        dist = sub(b.time, a.time) if future else sub(a.time, b.time)
        order = self.le(x, y) if future else self.le(y, x)
        parts = [b.present, order]
        if lo > 0:
            parts.append(num_cmp(">=", dist, lo))
        if hi is not None:
            parts.append(num_cmp("<=", dist, hi))
        return band(*parts)

    # ----------------------------------------------------------------- happens-before
    def hb(self, a: int, b: int) -> Bool:
        """Span ``a`` happens before span ``b``."""
        if self._hb is None:
            self._hb = self._reach()
        return self._hb[(2 * a + 1, 2 * b)]

    def _edges(self) -> dict[tuple[int, int], Bool]:
        t = self.terms
        n = t.n
        edges: dict[tuple[int, int], list[Bool]] = {}

        def add(u: int, v: int, cond: Bool) -> None:
            edges.setdefault((u, v), []).append(cond)

        for i, sp in enumerate(t.spans):
            # as in the reference: a span without an end has no end point
            add(2 * i, 2 * i + 1, band(sp.act, sp.has_end))
            for p in range(n):
                is_parent = t.parent_is(i, p)
                if is_parent is False:
                    continue
                add(2 * p, 2 * i, is_parent)
                sync = band(_not_async(sp.kind_code), _not_async(t.spans[p].kind_code))
                add(2 * i + 1, 2 * p + 1,
                    band(is_parent, sync, sp.has_end, t.spans[p].has_end))
            for l_act, target in sp.links:
                for j in range(n):
                    add(2 * j, 2 * i, band(sp.act, l_act, num_cmp("==", target, j),
                                           t.spans[j].act))
        for p in range(n):
            for a in range(n):
                pa = t.parent_is(a, p)
                if pa is False:
                    continue
                for b in range(n):
                    if a == b:
                        continue
                    pb = t.parent_is(b, p)
                    if pb is False:
                        continue
                    before = num_cmp("<", t.spans[a].end, t.spans[b].start)
                    # as in the reference: only a sibling that recorded an end precedes others
                    add(2 * a + 1, 2 * b, band(pa, pb, t.spans[a].has_end, before))
        return {k: bor(*v) for k, v in edges.items()}

    def _reach(self) -> dict[tuple[int, int], Bool]:
        t = self.terms
        m = 2 * t.n
        symbolic = any(isinstance(x, z3.ExprRef) for x in (sp.start for sp in t.spans))
        if symbolic and not t.symbolic and t.n > MAX_SYMBOLIC_HB_SPANS:
            raise EncodingError(
                f"happens-before over symbolic times is encoded for at most "
                f"{MAX_SYMBOLIC_HB_SPANS} spans (this trace has {t.n})"
            )
        edges = self._edges()
        reach = {(u, v): edges.get((u, v), False) for u in range(m) for v in range(m)}
        rounds = max(1, math.ceil(math.log2(max(m, 2))))
        for r in range(rounds):
            nxt: dict[tuple[int, int], Bool] = {}
            for u in range(m):
                for v in range(m):
                    via = [band(reach[(u, w)], reach[(w, v)]) for w in range(m)]
                    term = bor(reach[(u, v)], *via)
                    if isinstance(term, z3.ExprRef) and not z3.is_const(term):
                        var = z3.Bool(f"hb{r}_{u}_{v}_{id(self)}")
                        t.axioms.append(var == term)
                        term = var
                    nxt[(u, v)] = term
            reach = nxt
        return reach

    def n_present(self) -> Num:
        """How many points the timeline has."""
        if self._n_present is None:
            self._n_present = count([p.present for p in self.points])
        return self._n_present


def _not_async(kind_code: Num) -> Bool:
    """The kind is neither PRODUCER (4) nor CONSUMER (5)."""
    if isinstance(kind_code, int):
        return kind_code not in (4, 5)
    return band(kind_code != 4, kind_code != 5)


def _plus1(x: Num) -> Num:
    return x + 1


def boolterm(b: Bool) -> z3.BoolRef:
    """A Z3 term for a folded boolean."""
    return lift(b)
