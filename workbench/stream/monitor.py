"""Incremental verdicts: a new span re-verifies only the bindings it can affect.

A property whose formula is ``forall x in spans|roots where G: B`` (or ``exists``) keeps, per
trace, the value of ``G -> B`` (``G and B``) for every binding of ``x`` and the number of
falsifying (satisfying) bindings, so the verdict is a counter test. Which bindings a new span
``n`` can change follows from the relations ``G`` and ``B`` read (their *footprint*):

========== =====================================================================
LOCAL      only ``x``'s own fields, attributes and events: only ``x = n`` (the fast path:
           its verdict is final the moment the span arrives)
PARENT     ``parent(x)``: ``n`` and the spans whose parent id is ``n``'s id
CHILDREN   ``children(x)``: ``n`` and the spans with ``n``'s parent id
SIBLINGS   ``siblings(x)``: ``n`` and the spans with ``n``'s parent id or whose parent is ``n``
ANCESTORS  ``ancestors(x)``, ``x.depth``: ``n`` and the spans below ``n``
DESCENDANTS ``descendants(x)``: ``n`` and the spans above ``n``
GLOBAL     ``spans``, ``roots``, the timeline, relations of other variables: every binding
========== =====================================================================

(:mod:`workbench.stream.footprint`). A temporal formula that depends on its bound spans'
points alone is *closed* and reads nothing more (:mod:`workbench.stream.timeline`).

A span whose id duplicates one already seen may change how parent ids resolve: it is treated
as GLOBAL. A body that is itself a quantifier over ``descendants(x)`` is kept per pair
(:mod:`workbench.stream.pairs`). Any other formula shape is re-evaluated whole on each update
(still only for the trace that changed, and by the compiled closures, never the batch engine).

Accumulators (:mod:`workbench.stream.accumulate`) are kept per binding *signature* (bindings
with equal values of what the accumulator reads share one state) and, for equality joins, in
hash buckets, for order joins in sorted lists (:mod:`workbench.stream.ranges`), and anchored
temporal formulas by trigger time (:mod:`workbench.stream.timeline`): a new span is fed only to
the states it can reach, and only the bindings whose accumulator value changed are
re-evaluated. Each trace's state has a byte estimate
(:attr:`TraceMonitor.nbytes`, :attr:`StreamMonitor.held_bytes`) that ``serve`` counts against
``--max-memory``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from workbench.lang import ir
from workbench.stream import accumulate, pairs
from workbench.stream.accumulate import ACC, NOMATCH, WILD, AccSpec, AnySpec, AnyState
from workbench.stream.evaluate import Compiler, Fn, Unsupported, at0
from workbench.stream.footprint import BITS_ANCESTORS as _ANCESTORS
from workbench.stream.footprint import BITS_CHILDREN as _CHILDREN
from workbench.stream.footprint import BITS_CHILDREN_OR_SIBLINGS as _CHILDREN_OR_SIBLINGS
from workbench.stream.footprint import BITS_DESCENDANTS as _DESCENDANTS
from workbench.stream.footprint import BITS_GLOBAL as _GLOBAL
from workbench.stream.footprint import BITS_PARENT_OR_SIBLINGS as _PARENT_OR_SIBLINGS
from workbench.stream.footprint import BITS_SIBLINGS as _SIBLINGS
from workbench.stream.footprint import Footprint, footprint
from workbench.stream.pairs import PairSpec, PairState, pair_spec
from workbench.stream.ranges import RangeIndex
from workbench.stream.state import SpanRec, TraceState
from workbench.stream.timeline import TimelineSpec, TimelineState, TriggerIndex


@dataclass
class Plan:
    """One property compiled for the stream."""

    prop: ir.Property
    #: "bindings" (a top-level quantifier over spans or roots), "pairs" (whose body is a
    #: quantifier over a relation of its variable: :mod:`workbench.stream.pairs`) or "whole"
    mode: str
    formula: Fn
    var: str = ""
    roots_only: bool = False
    forall: bool = True
    guard: Fn | None = None
    body: Fn | None = None
    guard_fp: Footprint = Footprint.GLOBAL
    body_fp: Footprint = Footprint.GLOBAL
    #: the body's accumulators (:mod:`workbench.stream.accumulate`), slot order
    accs: list[AnySpec] = field(default_factory=list)
    #: the inner quantifier of a "pairs" plan
    pairs: PairSpec | None = None
    #: the footprints as plain ints and whether the plan is deferred, computed once (Flag
    #: arithmetic is slow on the per-span path)
    gbits: int = field(init=False, default=0)
    bbits: int = field(init=False, default=0)
    is_deferred: bool = field(init=False, default=False)
    is_fast: bool = field(init=False, default=False)

    def __post_init__(self) -> None:
        self.gbits, self.bbits = self.guard_fp.value, self.body_fp.value
        self.is_deferred = self.mode == "whole" or bool((self.gbits | self.bbits) & _GLOBAL)
        self.is_fast = self.mode == "bindings" and not (self.gbits | self.bbits) \
            and not self.accs

    @property
    def name(self) -> str:
        return self.prop.name

    @property
    def deferred(self) -> bool:
        """Whether the plan reads the whole trace (the timeline, every span): it is evaluated
        when a verdict is asked for (trace completion: the deep path), not on every arrival."""
        return self.is_deferred

    @property
    def fast(self) -> bool:
        """Whether a span's verdict is final when it arrives (span-local)."""
        return self.is_fast


def compile_property(prop: ir.Property, compiler: Compiler) -> Plan:
    """The stream plan of ``prop``; raises :class:`Unsupported` outside the fragment."""
    f = prop.formula
    whole = compiler.formula(f)
    if isinstance(f, ir.Quant) and isinstance(f.domain, ir.Spans | ir.Roots):
        nodes = accumulate.find(f.body, f.var)
        gfp, bfp = footprint(f.guard, f.var), footprint(f.body, f.var, nodes)
        local = Compiler(compiler.params, slots={n: k for k, n in enumerate(nodes)},
                         once=frozenset() if nodes or gfp or bfp else frozenset({f.var}))
        inner = None if nodes else pair_spec(f, local)
        if inner is not None:
            return Plan(
                prop, "pairs", whole, var=f.var, roots_only=isinstance(f.domain, ir.Roots),
                forall=f.kind == "forall",
                guard=None if f.guard is None else local.formula(f.guard),
                guard_fp=gfp, body_fp=Footprint(inner.rel_bits | inner.xbits), pairs=inner)
        return Plan(
            prop, "bindings", whole, var=f.var, roots_only=isinstance(f.domain, ir.Roots),
            forall=f.kind == "forall",
            guard=None if f.guard is None else local.formula(f.guard),
            body=local.formula(f.body),
            guard_fp=gfp, body_fp=bfp,
            accs=[accumulate.spec_of(n, f.var, local) for n in nodes],
        )
    return Plan(prop, "whole", whole)


class _Ranged:
    """New members of an order join, with their sort keys (:mod:`workbench.stream.ranges`)."""

    __slots__ = ("keyed",)

    def __init__(self, keyed: list[tuple[SpanRec, tuple[int, Any] | None]]) -> None:
        self.keyed = keyed


#: what new spans bring one accumulator: members by bucket, a list every binding takes, or
#: members by sort key
Members = dict[Any, list[SpanRec]] | list[SpanRec] | _Ranged


class _Group:
    """One accumulator state shared by the bindings of one signature (equal binding values:
    equal states), fed each member once."""

    __slots__ = ("bindings", "bucket", "rec", "state")

    def __init__(self, state: AnyState, rec: SpanRec, bucket: Any) -> None:
        self.state = state
        self.rec = rec  # a representative binding
        self.bucket = bucket
        self.bindings: set[int] = set()


@dataclass
class _Cache:
    """Per (trace, property): binding values and the count of bad ones."""

    guard: dict[int, bool] = field(default_factory=dict)
    value: dict[int, bool] = field(default_factory=dict)
    #: accumulator states of the bindings whose guard holds
    acc: dict[int, list[AnyState]] = field(default_factory=dict)
    #: a "pairs" plan's pairs (:mod:`workbench.stream.pairs`)
    pair_state: PairState | None = None
    bad: int = 0  # forall: falsified bindings; exists: satisfied ones
    whole: bool = True
    error: str = ""  # evaluation failed here: the batch engine decides
    #: spans added since a deferred plan was last evaluated, and whether one duplicated an id
    pending: list[SpanRec] = field(default_factory=list)
    pending_dup: bool = False
    dirty: bool = False
    #: per accumulator (slot order): the shared states by binding signature, each span's
    #: signature, and (indexed) the members and the states' signatures by bucket;
    #: ``wild``: an unhashable key turned the indexes off
    groups: list[dict[Any, _Group]] = field(default_factory=list)
    sigs: list[dict[int, Any]] = field(default_factory=list)
    members: list[dict[Any, list[SpanRec]]] = field(default_factory=list)
    holders: list[dict[Any, set[Any]]] = field(default_factory=list)
    wild: bool = False
    #: per accumulator: the order join's sorted members and groups (None: not an order join)
    ranges: list[RangeIndex | None] = field(default_factory=list)
    #: per accumulator: a timeline accumulator's states by trigger time (None: not one)
    triggers: list[TriggerIndex | None] = field(default_factory=list)


@dataclass
class Stats:
    """Work done, for benchmarks and ``/metrics``."""

    updates: int = 0
    spans: int = 0
    bindings: int = 0  # binding evaluations
    wholes: int = 0  # whole-formula evaluations


#: Estimated bytes of one span's record (its dicts, ids, memo and the trace's indexes on it),
#: of one attribute or field value, and of one plan's per-binding cache entries (values,
#: guards, signatures, index slots); calibrated with tracemalloc on generated traces.
SPAN_BYTES = 1200
VALUE_BYTES = 120
BINDING_BYTES = 160


def span_bytes(rec: SpanRec, n_plans: int) -> int:
    """The estimated bytes one span adds to its trace's stream state."""
    n_values = len(rec.fields) + len(rec.attrs) + len(rec.resource) + 4 * len(rec.events)
    return SPAN_BYTES + VALUE_BYTES * n_values + BINDING_BYTES * n_plans


class TraceMonitor:
    """The stream state of one trace: its spans and every plan's cache."""

    def __init__(self, plans: Sequence[Plan]) -> None:
        self.plans = plans
        self.state = TraceState()
        self.caches = [_Cache() for _ in plans]
        self.stats: Stats | None = None
        #: estimated bytes of this trace's state (:func:`span_bytes` per span)
        self.nbytes = 0

    def reset(self) -> None:
        self.state.reset()
        self.caches = [_Cache() for _ in self.plans]
        self.nbytes = 0

    @property
    def n_spans(self) -> int:
        return len(self.state.spans)

    # ------------------------------------------------------------------ update
    def update(self, recs: Iterable[SpanRec], stats: Stats | None = None) -> None:
        """Join ``recs`` and re-verify what they can affect."""
        st = self.state
        new = list(recs)
        dup = any(r.key is not None and r.key in st.by_key for r in new)
        st.add(new)
        n_plans = len(self.plans)
        self.nbytes += sum(span_bytes(r, n_plans) for r in new)
        if stats is not None:
            stats.updates += 1
            stats.spans += len(new)
        self.stats = stats
        for plan, cache in zip(self.plans, self.caches, strict=True):
            if cache.error:
                continue
            if plan.is_deferred:
                cache.pending.extend(new)
                cache.pending_dup |= dup
                cache.dirty = True
                continue
            self._evaluate(plan, cache, new, dup)

    def _evaluate(self, plan: Plan, cache: _Cache, new: list[SpanRec], dup: bool) -> None:
        stats = self.stats
        try:
            if plan.mode == "whole":
                cache.whole = at0(plan.formula(self.state, {}))
                if stats is not None:
                    stats.wholes += 1
            elif plan.is_fast and not dup:
                self._local(plan, cache, new, stats)
            elif plan.mode == "pairs":
                pairs.evaluate(self, plan, cache, new, dup, stats)
            else:
                self._bindings(plan, cache, new, dup, stats)
        except Exception as err:  # e.g. a regex timeout: the batch engine reports it
            cache.error = f"stream: evaluation failed ({type(err).__name__}: {err})"

    def settle(self, k: int | None = None) -> None:
        """Evaluate the deferred plans (plan ``k`` only) on the spans added since."""
        for j in range(len(self.plans)) if k is None else (k,):
            cache = self.caches[j]
            if cache.dirty and not cache.error:
                self._evaluate(self.plans[j], cache, cache.pending, cache.pending_dup)
                cache.pending, cache.pending_dup, cache.dirty = [], False, False

    def error(self, k: int) -> str:
        """Why plan ``k`` could not be evaluated here ('' when it could)."""
        self.settle(k)
        return self.caches[k].error

    def _affected(self, plan: Plan, new: list[SpanRec], bits: int) -> set[int]:
        st = self.state
        out: set[int] = set()
        if not bits:
            return out
        for n in new:
            if bits & _PARENT_OR_SIBLINGS and n.key is not None:
                out.update(c.seq for c in st.by_parent_key.get(n.key, ()))
            if bits & _CHILDREN_OR_SIBLINGS and n.parent_key is not None:
                if bits & _CHILDREN:
                    out.update(p.seq for p in st.by_key.get(n.parent_key, ()))
                if bits & _SIBLINGS:
                    out.update(c.seq for c in st.by_parent_key.get(n.parent_key, ()))
            if bits & _ANCESTORS:
                out.update(d.seq for d in st.descendants(n))
            if bits & _DESCENDANTS:
                out.update(a.seq for a in st.ancestors(n))
        return out

    def _index(self, plan: Plan, cache: _Cache, new: list[SpanRec]) -> list[Members]:
        """Per accumulator, what ``new`` brings it: the new members by bucket (indexed: a
        state takes its bucket's) or a list every state takes (empty: nothing changes;
        an accumulator over ``roots`` takes only new roots). Files the new spans' signatures
        and member buckets."""
        st = self.state
        accs = plan.accs
        if not cache.groups:
            cache.groups = [{} for _ in accs]
            cache.sigs = [{} for _ in accs]
            cache.members = [{} for _ in accs]
            cache.holders = [{} for _ in accs]
            cache.ranges = [RangeIndex(a.order_op) if a.ranged else None for a in accs]
            cache.triggers = [TriggerIndex(a.reach) if isinstance(a, TimelineSpec) else None
                              for a in accs]
        rows: list[list[tuple[SpanRec, Any]] | None] = []
        if not cache.wild:
            for a in accs:
                if not a.indexed:
                    rows.append(None)
                    continue
                keyed = [(n, a.member_bucket(st, n)) for n in new]
                if any(mb is WILD for _, mb in keyed):
                    cache.wild = True  # unhashable (or undefined) key: index off from now
                    break
                rows.append(keyed)
        if cache.wild:
            rows = [None] * len(accs)
        out: list[Members] = []
        for j, a in enumerate(accs):
            sigs = cache.sigs[j]
            for n in new:
                sigs[n.seq] = a.signature(st, n)
            rng = cache.ranges[j]
            if rng is not None:
                assert isinstance(a, AccSpec)
                keyed = [(n, a.member_range(st, n)) for n in new]
                for n, k in keyed:
                    if k is not None:
                        rng.add_member(k, n)
                out.append(_Ranged(keyed))
                continue
            row = rows[j]
            if row is None:
                out.append([n for n in new if n.parent_key is None] if a.roots_only else new)
                continue
            groups: dict[Any, list[SpanRec]] = {}
            members = cache.members[j]
            for n, mb in row:
                if mb is not NOMATCH:
                    groups.setdefault(mb, []).append(n)
                    members.setdefault(mb, []).append(n)
            out.append(groups)
        return out

    def _feed(self, cache: _Cache, news: list[Members], seqs: set[int]) -> None:
        """Feed the existing shared states what is new to them; the bindings of every state
        whose value changed join ``seqs``."""
        st = self.state
        held = cache.acc
        for j, got in enumerate(news):
            groups = cache.groups[j]
            if isinstance(got, dict):
                holders = cache.holders[j]
                work = [(groups[g], ms) for k, ms in got.items() for g in holders.get(k, ())]
            elif isinstance(got, _Ranged):
                rng = cache.ranges[j]
                assert rng is not None
                by: dict[int, tuple[_Group, list[SpanRec]]] = {}
                for n, k in got.keyed:
                    if k is not None:
                        for g in rng.groups_for(k):
                            by.setdefault(id(g), (g, []))[1].append(n)
                work = list(by.values())
            elif got and cache.triggers[j] is not None:
                work = [(g, got) for g in cache.triggers[j].near(got)]  # type: ignore[union-attr]
            elif got:
                work = [(g, got) for g in groups.values()]
            else:
                continue
            for grp, ms in work:
                state = grp.state
                old = state.value
                state.feed(st, grp.rec, ms)
                now = state.value
                if not (now is old or (type(now) is type(old) and now == old)):
                    seqs.update(q for q in grp.bindings if q in held)

    def _states(self, plan: Plan, cache: _Cache, news: list[Members], rec: SpanRec
                ) -> list[AnyState]:
        """The shared states of binding ``rec`` (new ones fed every member so far)."""
        st = self.state
        out = []
        for j, a in enumerate(plan.accs):
            sig = cache.sigs[j][rec.seq]
            groups = cache.groups[j]
            grp = groups.get(sig)
            rng = cache.ranges[j]
            if grp is None and rng is not None:
                assert isinstance(a, AccSpec)
                bk = a.binding_range(st, rec)
                grp = groups[sig] = _Group(a.new(), rec, bk)
                if bk is not None:  # otherwise it orders with nothing: no member counts
                    grp.state.feed(st, rec, rng.members_for(bk))
                    rng.add_group(bk, grp)
            elif grp is None:
                indexed = isinstance(news[j], dict)
                bb = a.binding_bucket(st, rec) if indexed else NOMATCH
                if indexed and bb is WILD:  # cannot happen with a member-side WILD: be safe
                    raise RuntimeError("unhashable join key on the binding side")
                grp = groups[sig] = _Group(a.new(), rec, bb)
                if not indexed:
                    grp.state.feed(st, rec, st.spans)
                    trig = cache.triggers[j]
                    if trig is not None:
                        assert isinstance(grp.state, TimelineState)
                        trig.add(grp, grp.state.times())
                elif bb is not NOMATCH:
                    grp.state.feed(st, rec, cache.members[j].get(bb, ()))
                    cache.holders[j].setdefault(bb, set()).add(sig)
            grp.bindings.add(rec.seq)
            out.append(grp.state)
        return out

    def _local(self, plan: Plan, cache: _Cache, new: list[SpanRec], stats: Stats | None
               ) -> None:
        """A span-local plan (the fast path): the new spans' bindings, once each."""
        st = self.state
        var, guard, body, forall = plan.var, plan.guard, plan.body, plan.forall
        assert body is not None
        env: dict[str, Any] = {}
        values, guards = cache.value, cache.guard
        bad = 0
        n = 0
        for rec in new:
            if plan.roots_only and rec.parent_key is not None:
                continue
            n += 1
            env[var] = rec
            g = True if guard is None else at0(guard(st, env))
            v = at0(body(st, env)) if g else forall
            guards[rec.seq] = g
            values[rec.seq] = v
            bad += (not v) if forall else v
        cache.bad += bad
        if stats is not None:
            stats.bindings += n

    def _bindings(self, plan: Plan, cache: _Cache, new: list[SpanRec], dup: bool,
                  stats: Stats | None) -> None:
        st = self.state
        accs = plan.accs
        news = self._index(plan, cache, new) if accs else []
        changed: set[int] = set()
        if accs:
            self._feed(cache, news, changed)
        gbits, bbits = plan.gbits, plan.bbits
        if dup or gbits & _GLOBAL:
            todo = list(st.roots() if plan.roots_only else st.spans)
        elif not (gbits or bbits or changed):  # span-local: the new spans only
            todo = [r for r in new if r.is_root] if plan.roots_only else new
        else:
            seqs = {n.seq for n in new} | changed
            seqs |= self._affected(plan, new, gbits)
            if bbits & _GLOBAL:  # every binding whose guard holds
                seqs |= {q for q, g in cache.guard.items() if g}
            else:
                seqs |= {q for q in self._affected(plan, new, bbits)
                         if cache.guard.get(q, True)}
            by_seq = st.by_seq
            todo = [by_seq[q] for q in seqs]
            if plan.roots_only:
                todo = [r for r in todo if r.is_root]
        var, guard, body, forall = plan.var, plan.guard, plan.body, plan.forall
        assert body is not None
        env: dict[str, Any] = {}
        for rec in todo:
            seq = rec.seq
            env[var] = rec
            g = True if guard is None else at0(guard(st, env))
            if g:
                if accs:
                    states = cache.acc.get(seq)
                    if states is None:
                        states = cache.acc[seq] = self._states(plan, cache, news, rec)
                    env[ACC] = states
                b = at0(body(st, env))
                v = b
            else:
                if cache.acc.pop(seq, None) is not None:
                    self._drop(cache, seq)
                v = forall
            old = cache.value.get(seq)
            cache.guard[seq] = g
            cache.value[seq] = v
            bad_new = (not v) if forall else v
            if old is None:
                cache.bad += bad_new
            else:
                cache.bad += bad_new - ((not old) if forall else old)
        if stats is not None:
            stats.bindings += len(todo)

    @staticmethod
    def _drop(cache: _Cache, seq: int) -> None:
        """Binding ``seq``'s guard failed: it leaves its states (a state only it used goes)."""
        for j, groups in enumerate(cache.groups):
            sig = cache.sigs[j][seq]
            grp = groups.get(sig)
            if grp is None:
                continue
            grp.bindings.discard(seq)
            if not grp.bindings:
                del groups[sig]
                rng, trig = cache.ranges[j], cache.triggers[j]
                if trig is not None:
                    assert isinstance(grp.state, TimelineState)
                    trig.remove(grp, grp.state.times())
                if rng is not None:
                    if grp.bucket is not None:
                        rng.remove_group(grp.bucket, grp)
                else:
                    cache.holders[j].get(grp.bucket, set()).discard(sig)

    # ------------------------------------------------------------------ verdicts
    def verdict(self, k: int) -> bool:
        """The verdict of plan ``k`` on the spans seen so far."""
        self.settle(k)
        plan, cache = self.plans[k], self.caches[k]
        if plan.mode == "whole":
            if not self.state.spans:  # never updated: evaluate the empty trace
                return at0(plan.formula(self.state, {}))
            return cache.whole
        return cache.bad == 0 if plan.forall else cache.bad > 0

    def failing(self, k: int) -> list[SpanRec]:
        """The bindings that falsify a ``forall`` plan, in row order."""
        self.settle(k)
        plan, cache = self.plans[k], self.caches[k]
        if plan.mode == "whole" or not plan.forall:
            return []
        return [r for r in self.state.spans if cache.value.get(r.seq) is False]


class StreamMonitor:
    """Incremental verdicts of bound properties over many traces.

    Parameters
    ----------
    props:
        Bound properties (``--param`` values applied); those outside the stream fragment are
        listed in :attr:`unsupported` with the reason and left to the batch engine.
    params:
        Values of any parameter references left in the formulas.
    """

    def __init__(self, props: Sequence[ir.Property], params: Mapping[str, Any] | None = None
                 ) -> None:
        compiler = Compiler(params)
        self.plans: list[Plan] = []
        self.unsupported: dict[str, str] = {}
        for prop in props:
            try:
                self.plans.append(compile_property(prop, compiler))
            except Unsupported as err:
                self.unsupported[prop.name] = str(err)
        self.traces: dict[str, TraceMonitor] = {}
        self.stats = Stats()
        #: estimated bytes of every trace's stream state (kept up to date by update/reset)
        self.held_bytes = 0

    def trace(self, key: str) -> TraceMonitor:
        found = self.traces.get(key)
        if found is None:
            found = self.traces[key] = TraceMonitor(self.plans)
        return found

    def update(self, key: str, recs: Iterable[SpanRec]) -> TraceMonitor:
        """Add spans to trace ``key``; returns its monitor."""
        mon = self.trace(key)
        before = mon.nbytes
        mon.update(recs, self.stats)
        self.held_bytes += mon.nbytes - before
        return mon

    def verdicts(self, key: str) -> dict[str, bool | str]:
        """Per supported property: its verdict, or the reason the batch engine must decide."""
        mon = self.trace(key)
        return {p.name: (mon.error(k) or mon.verdict(k)) for k, p in enumerate(mon.plans)}

    def reset(self, key: str | None = None) -> None:
        """Forget trace ``key`` (every trace when ``None``)."""
        if key is None:
            self.traces.clear()
            self.held_bytes = 0
        else:
            gone = self.traces.pop(key, None)
            if gone is not None:
                self.held_bytes -= gone.nbytes


__all__ = ["Footprint", "Plan", "Stats", "StreamMonitor", "TraceMonitor", "compile_property",
           "footprint", "span_bytes"]
