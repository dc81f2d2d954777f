"""Nested bindings over a relation: ``forall r in roots, s in descendants(r) where G: B``.

A property whose body is itself a quantifier over a relation of the outer variable
(``children(x)``, ``descendants(x)``, ...) is kept per *pair* ``(x, y)``: the value of the inner
``G -> B`` (``G and B`` for ``exists``) of each pair and, per ``x``, the count of falsifying
(satisfying) pairs, so ``x``'s body value is a counter test, like the outer bindings'
(:mod:`workbench.stream.monitor`). A new span ``n`` evaluates

* the pairs of the outer bindings whose relation set may have grown (the relation's own
  footprint: the ancestors of ``n`` for ``descendants``) that are not kept yet: the new
  members, never the old ones;
* every pair of the outer bindings the inner formula's footprint *in x* reaches, and the
  pairs whose ``y`` its footprint *in y* reaches (``exists a in ancestors(s)``: the pairs of
  the spans below ``n``), through an index of the pairs by ``y``.

Relations only grow while span ids are unique; a duplicated id (which may change how parent
ids resolve) re-evaluates every pair, as the outer bindings do. The inner formula's temporal
parts must depend on ``x`` and ``y`` alone (:func:`workbench.stream.timeline.top_closed`), or
the property stays a plain binding plan.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from workbench.lang import ir
from workbench.stream.evaluate import Compiler, Fn, at0
from workbench.stream.footprint import BITS_GLOBAL, REL, Footprint, footprints
from workbench.stream.state import SpanRec, TraceState

if TYPE_CHECKING:
    from workbench.stream.monitor import Plan, Stats, TraceMonitor, _Cache


#: The relations kept per pair: those whose sets grow with the trace (a root's descendants
#: are all of it). A parent, children or siblings set is small enough that re-evaluating
#: the binding's whole body costs less than the pairs' bookkeeping.
PAIRED = frozenset({"descendants"})


class PairSpec:
    """The inner quantifier of a pair plan, compiled."""

    def __init__(self, inner: ir.Quant, rel: Footprint, fx: Footprint, fy: Footprint,
                 compiler: Compiler) -> None:
        self.var = inner.var
        assert isinstance(inner.domain, ir.Rel)
        self.rel = inner.domain.rel
        self.forall = inner.kind == "forall"
        self.members: Fn = compiler.members(inner.domain)
        self.guard: Fn | None = None if inner.guard is None else compiler.formula(inner.guard)
        self.body: Fn = compiler.formula(inner.body)
        #: footprints as plain ints: the relation set, the inner formula's in x and in y
        self.rel_bits, self.xbits, self.ybits = rel.value, fx.value, fy.value


def pair_spec(f: ir.Quant, compiler: Compiler) -> PairSpec | None:
    """The pair plan of ``f`` (a quantifier over spans or roots), or ``None``."""

    inner = f.body
    if not (isinstance(inner, ir.Quant) and isinstance(inner.domain, ir.Rel)
            and inner.domain.arg.name == f.var and inner.domain.rel in PAIRED
            and inner.var != f.var):
        return None
    fx, fy = Footprint.LOCAL, Footprint.LOCAL
    for part in (inner.guard, inner.body):
        fps = footprints(part, (f.var, inner.var))
        if fps is None:
            return None
        fx |= fps[f.var]
        fy |= fps[inner.var]
    return PairSpec(inner, REL[inner.domain.rel], fx, fy, compiler)


@dataclass
class PairState:
    """Per (trace, pair plan): the pairs' values, the bad count per outer binding, and the
    outer bindings of each inner span."""

    values: dict[int, dict[int, bool]] = field(default_factory=dict)
    count: dict[int, int] = field(default_factory=dict)
    by_y: dict[int, set[int]] = field(default_factory=dict)

    def drop(self, x: int) -> None:
        for y in self.values.pop(x, {}):
            self.by_y.get(y, set()).discard(x)
        self.count.pop(x, None)


def evaluate(mon: TraceMonitor, plan: Plan, cache: _Cache, new: list[SpanRec], dup: bool,
             stats: Stats | None) -> None:
    """Re-verify what ``new`` can affect of a pair plan (see the module docstring)."""
    st = mon.state
    ps = plan.pairs
    assert ps is not None
    if cache.pair_state is None or dup or plan.gbits & BITS_GLOBAL:
        cache.pair_state = PairState()
        cache.guard.clear()
        cache.value.clear()
        cache.bad = 0
        outer = {r.seq for r in st.spans}
        whole = set(outer)
    else:
        fresh = {n.seq for n in new}
        whole = fresh | mon._affected(plan, new, ps.xbits)
        outer = whole | mon._affected(plan, new, plan.gbits) \
            | mon._affected(plan, new, ps.rel_bits)
    pst = cache.pair_state
    by_seq, var, yvar = st.by_seq, plan.var, ps.var
    env: dict[str, Any] = {}
    evals = 0
    touched: set[int] = set()

    def pair(x: SpanRec, y: SpanRec, vals: dict[int, bool]) -> None:
        nonlocal evals
        evals += 1
        env[var], env[yvar] = x, y
        g = True if ps.guard is None else at0(ps.guard(st, env))
        v = at0(ps.body(st, env)) if g else ps.forall
        old = vals.get(y.seq)
        vals[y.seq] = v
        bad = (not v) if ps.forall else v
        if old is None:
            pst.by_y.setdefault(y.seq, set()).add(x.seq)
            pst.count[x.seq] = pst.count.get(x.seq, 0) + bad
        else:
            pst.count[x.seq] += bad - ((not old) if ps.forall else old)

    guard = plan.guard
    anc: dict[int, set[int]] = {}
    for q in outer:
        x = by_seq[q]
        if plan.roots_only and not x.is_root:
            continue
        touched.add(q)
        env.clear()
        env[var] = x
        evals += 1
        g = True if guard is None else at0(guard(st, env))
        cache.guard[q] = g
        if not g:
            pst.drop(q)
            continue
        vals = pst.values.get(q)
        if vals is None or q in whole:
            if vals is not None:
                pst.drop(q)
            vals = pst.values[q] = {}
            pst.count[q] = 0
            for y in list(ps.members(st, {var: x})):
                pair(x, y, vals)
        else:
            grown = _grown(st, ps.rel, x, new, anc)
            for y in list(ps.members(st, {var: x})) if grown is None else grown:
                if y.seq not in vals:
                    pair(x, y, vals)
    if ps.ybits:
        for y in mon._affected(plan, new, ps.ybits):
            for q in list(pst.by_y.get(y, ())):
                if q in whole:
                    continue  # re-evaluated whole above
                vals = pst.values.get(q)
                if vals is not None and y in vals:
                    pair(by_seq[q], by_seq[y], vals)
                    touched.add(q)
    for q in touched:
        g = cache.guard.get(q, True)
        if g:
            n_bad = pst.count.get(q, 0)
            v = n_bad == 0 if ps.forall else n_bad > 0
        else:
            v = plan.forall
        old = cache.value.get(q)
        cache.value[q] = v
        bad_new = (not v) if plan.forall else v
        if old is None:
            cache.bad += bad_new
        else:
            cache.bad += bad_new - ((not old) if plan.forall else old)
    if stats is not None:
        stats.bindings += evals


def _grown(st: TraceState, rel: str, x: SpanRec, new: list[SpanRec],
           anc: dict[int, set[int]]) -> list[SpanRec] | None:
    """The members ``rel(x)`` may have gained with ``new`` (``x`` not new itself, ids unique),
    or ``None``: read the whole relation. ``anc`` caches the new spans' ancestors."""
    if rel == "children":
        return [n for n in new if st.parent_of(n) is x]
    if rel in ("parent", "siblings"):
        p = st.parent_of(x)
        if p is None:
            return []
        fresh = {n.seq for n in new}
        if p.seq in fresh:  # x's parent just arrived: the whole relation is new
            return None
        if rel == "parent":
            return []
        return [n for n in new if n is not x and st.parent_of(n) is p]
    if rel == "ancestors":
        fresh = {n.seq for n in new}
        if any(a.seq in fresh for a in st.ancestors(x)):
            return None
        return []
    if rel == "descendants":
        out: list[SpanRec] = []
        for n in new:
            up = anc.get(n.seq)
            if up is None:
                up = anc[n.seq] = {a.seq for a in st.ancestors(n)}
            if x.seq in up:
                out.append(n)
                out.extend(st.descendants(n))
        return out
    return None


__all__ = ["PairSpec", "PairState", "evaluate", "pair_spec"]
