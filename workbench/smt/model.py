"""Trace terms: one trace as per-span terms, symbolic (a bounded unknown trace) or concrete.

:func:`symbolic_trace` creates Z3 variables for a trace of at most ``n`` spans, together with
the well-formedness axioms that every trace loaded into a :class:`SpanTable` satisfies:

* at least one span; slots ``0..k-1`` are the spans (``act``), sorted by start time, which is
  exactly the row order the table builder produces (ties by input order);
* span ids are unique (slot ``i`` has the fixed id ``i + 1``); the trace id is fixed;
* parent pointers form a forest: a span is a root (no parent id), names a span of the trace,
  or names an absent span (an orphan); ``depth`` is a rank that rules out cycles;
* ``end >= start`` for spans with an end (a span without one has ``end = start`` in the
  table's column, as the builder writes it); times lie in ``[T0, TMAX]``;
* events and links belong to present spans and fill their slots in order.

:func:`concrete_trace` reads one trace of a table; only the times may be symbolic (clock
offsets per service, for ``otlspec fix``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import z3

from workbench.engine.values import UNDEF
from workbench.lang import ir
from workbench.smt.domain import Usage, ValueDomain
from workbench.smt.terms import Bool, Num, add, band, bor, count, ite, lift
from workbench.smt.values import SVal
from workbench.traces.context import TraceContext
from workbench.traces.model import KIND_NAMES, STATUS_NAMES, SpanTable

#: Earliest and latest timestamps of a symbolic trace (ns since the epoch).
T0 = 1_700_000_000_000_000_000
TMAX = 5_000_000_000_000_000_000
#: The trace id of symbolic traces.
TRACE_ID = "5eed0000000000000000000000000001"
ORPHAN = -2
ROOT = -1


def slot_id(i: int) -> str:
    """The span id of symbolic slot ``i``."""
    return format(i + 1, "016x")


def orphan_id(i: int) -> str:
    """The (absent) parent id named by symbolic slot ``i`` when it is an orphan."""
    return format(0xDEAD000000000000 + i + 1, "016x")


@dataclass
class EventSlot:
    """One span event: presence, name, time and the attributes the formulas read."""

    act: Bool
    name: SVal
    time: Num
    attrs: dict[str, SVal]


@dataclass
class SpanSlot:
    """One span; every field the language exposes, as a term or a constant."""

    act: Bool
    par: Num  # ROOT, ORPHAN, or the slot of the parent
    fields: dict[str, SVal]
    start: Num
    end: Num
    has_end: Bool
    attrs: dict[str, SVal]
    resource: dict[str, SVal]
    events: list[EventSlot] = field(default_factory=list)
    links: list[tuple[Bool, Num]] = field(default_factory=list)  # (present, target or -1)
    kind_code: Num = 0  # index into KIND_NAMES (for happens-before)


@dataclass
class TraceTerms:
    """A trace as terms; :attr:`axioms` grows as lazily defined relations are used."""

    spans: list[SpanSlot]
    domain: ValueDomain
    symbolic: bool
    axioms: list[Bool] = field(default_factory=list)
    variables: dict[str, z3.ExprRef] = field(default_factory=dict)
    ancestors_fn: Callable[[int, int], Bool] | None = None
    row_lt_fn: Callable[[int, int], Bool] | None = None
    _anc: dict[tuple[int, int], Bool] = field(default_factory=dict)

    @property
    def n(self) -> int:
        """Number of span slots."""
        return len(self.spans)

    def parent_is(self, i: int, j: int) -> Bool:
        """Span ``j`` is the (resolved) parent of span ``i``."""
        if i == j and self.symbolic:
            return False
        return band(self.spans[i].act, self.spans[j].act, _num_is(self.spans[i].par, j))

    def is_root(self, i: int) -> Bool:
        """Span ``i`` names no parent."""
        return _num_is(self.spans[i].par, ROOT)

    def ancestor(self, i: int, j: int) -> Bool:
        """``j`` is in ``ancestors(i)``."""
        if self.ancestors_fn is not None:
            return self.ancestors_fn(i, j)
        if not self._anc:
            self._define_ancestors()
        return self._anc[(i, j)]

    def _define_ancestors(self) -> None:
        n = self.n
        for i in range(n):
            for j in range(n):
                self._anc[(i, j)] = z3.Bool(f"anc_{i}_{j}")
        for i in range(n):
            for j in range(n):
                body = bor(self.parent_is(i, j),
                           *[band(self.parent_is(i, k), self._anc[(k, j)]) for k in range(n)
                             if k != i])
                self.axioms.append(self._anc[(i, j)] == lift(body))

    def row_lt(self, i: int, j: int) -> Bool:
        """Row ``i`` comes before row ``j`` in the table (sorted by start, then input order)."""
        if self.row_lt_fn is not None:
            return self.row_lt_fn(i, j)
        return i < j


def _num_is(x: Num, v: int) -> Bool:
    if isinstance(x, int):
        return x == v
    return x == v


# ------------------------------------------------------------------------ symbolic


@dataclass(frozen=True)
class Bounds:
    """Sizes of a symbolic trace: spans, events per span, links per span, extra attributes."""

    spans: int = 4
    events: int = 0
    links: int = 0
    extra_attributes: int = 0


def default_bounds(usage: Usage, spans: int) -> Bounds:
    """Bounds that model what ``usage`` reads: events/links only when formulas read them."""
    return Bounds(spans=spans, events=2 if usage.events else 0,
                  links=1 if (usage.links or usage.hb) else 0,
                  extra_attributes=2 if "attribute_count" in usage.fields else 0)


def symbolic_trace(usage: Usage, domain: ValueDomain, bounds: Bounds) -> TraceTerms:
    """A bounded symbolic trace with its well-formedness axioms (see the module docstring)."""
    n = bounds.spans
    if n < 1:
        raise ValueError("a symbolic trace needs at least one span slot")
    dom = domain
    ax: list[Bool] = []
    vars_: dict[str, z3.ExprRef] = {}

    def iv(name: str) -> z3.ArithRef:
        v = vars_[name] = z3.Int(name)
        return v

    def bv(name: str) -> z3.BoolRef:
        v = vars_[name] = z3.Bool(name)
        return v

    def str_var(name: str, allowed: list[int] | None = None) -> SVal:
        v = iv(name)
        if allowed is None:
            ax.append(z3.And(v >= 0, v < dom.n_str))
        else:
            ax.append(z3.Or(*[v == c for c in allowed]))
        return SVal("str", True, None, v)

    def attr_var(name: str) -> SVal:
        v = iv(name)
        ax.append(z3.And(v >= -1, v < dom.size))
        return SVal("any", v >= 0, None, v)

    kind_codes = [dom.code(k) for k in KIND_NAMES]
    status_codes = [dom.code(s) for s in STATUS_NAMES]
    spans: list[SpanSlot] = []
    for i in range(n):
        p = f"s{i}"
        act = True if i == 0 else bv(f"{p}.act")
        start, end, has_end = iv(f"{p}.start"), iv(f"{p}.end"), bv(f"{p}.has_end")
        par, depth = iv(f"{p}.parent"), iv(f"{p}.depth")
        flags = iv(f"{p}.flags")
        kind = str_var(f"{p}.kind", kind_codes)
        kind_index = iv(f"{p}.kind_index")
        ax.append(z3.And(*[(kind_index == k) == (kind.term == c)
                           for k, c in enumerate(kind_codes)]))
        fields = {
            "trace_id": SVal.const(TRACE_ID),
            "span_id": SVal.const(slot_id(i)),
            "name": str_var(f"{p}.name"),
            "kind": kind,
            "status": str_var(f"{p}.status", status_codes),
            "status_message": str_var(f"{p}.status_message"),
            "service": str_var(f"{p}.service"),
            "scope": str_var(f"{p}.scope"),
            "trace_state": str_var(f"{p}.trace_state"),
            "flags": SVal.num(flags),
            "depth": SVal.num(depth),
        }
        # time, structure and flags axioms
        ax += [start >= T0, start <= TMAX, end <= TMAX, z3.Implies(has_end, end >= start),
               z3.Implies(z3.Not(has_end), end == start), flags >= 0, flags < 2**32, depth >= 0]
        allowed_par = [ROOT, ORPHAN, *[j for j in range(n) if j != i]]
        ax.append(z3.Or(*[par == v for v in allowed_par]))
        for j in range(n):
            if j != i:
                ax.append(z3.Implies(par == j, z3.And(_act_term(j, vars_), depth ==
                                                      _depth_of(j, vars_) + 1)))
        ax.append(z3.Implies(par < 0, depth == 0))
        attrs = {k: attr_var(f"{p}.attr[{k}]") for k in sorted(usage.span_keys)}
        resource = {k: attr_var(f"{p}.resource[{k}]") for k in sorted(usage.resource_keys)}
        if "service.name" in resource:
            r = resource["service.name"]
            ax.append(fields["service"].term == z3.If(
                z3.And(r.term >= 0, r.term < dom.n_str), r.term, dom.code("")))
        events: list[EventSlot] = []
        for k in range(bounds.events):
            q = f"{p}.ev{k}"
            e_act, e_time = bv(f"{q}.act"), iv(f"{q}.time")
            ax += [z3.Implies(e_act, act if isinstance(act, z3.BoolRef) else z3.BoolVal(act)),
                   e_time >= T0, e_time <= TMAX]
            if k > 0:
                ax.append(z3.Implies(e_act, events[k - 1].act))
            e_attrs = {key: attr_var(f"{q}.attr[{key}]") for key in sorted(usage.event_keys)}
            events.append(EventSlot(e_act, str_var(f"{q}.name"), e_time, e_attrs))
        links: list[tuple[Bool, Num]] = []
        for k in range(bounds.links):
            q = f"{p}.link{k}"
            l_act, target = bv(f"{q}.act"), iv(f"{q}.target")
            ax += [z3.Implies(l_act, act if isinstance(act, z3.BoolRef) else z3.BoolVal(act)),
                   target >= -1, target < n]
            if k > 0:
                ax.append(z3.Implies(l_act, links[k - 1][0]))
            for j in range(n):
                ax.append(z3.Implies(z3.And(l_act, target == j), _act_term(j, vars_)))
            links.append((l_act, target))
        extra: Num = 0
        if bounds.extra_attributes:
            extra = iv(f"{p}.extra_attributes")
            ax.append(z3.And(extra >= 0, extra <= bounds.extra_attributes))
        fields["event_count"] = SVal.num(count([e.act for e in events]))
        fields["link_count"] = SVal.num(count([lk[0] for lk in links]))
        fields["attribute_count"] = SVal.num(add(count([a.defined for a in attrs.values()]),
                                                 extra))
        fields["sampled"] = SVal.boolean(flags % 2 == 1)
        spans.append(SpanSlot(act=act, par=par, fields=fields, start=start, end=end,
                              has_end=has_end, attrs=attrs, resource=resource, events=events,
                              links=links, kind_code=kind_index))
    for i in range(1, n):
        ax.append(z3.Implies(spans[i].act, spans[i - 1].act))
        ax.append(z3.Implies(spans[i].act, spans[i - 1].start <= spans[i].start))
    terms = TraceTerms(spans=spans, domain=dom, symbolic=True, axioms=ax, variables=vars_)
    for i, sp in enumerate(spans):
        sp.fields["parent_id"] = _parent_id(i, sp.par, n, dom)
        sp.fields["is_root"] = SVal.boolean(sp.par == ROOT)
    return terms


def _act_term(j: int, vars_: Mapping[str, z3.ExprRef]) -> z3.BoolRef:
    return z3.BoolVal(True) if j == 0 else z3.Bool(f"s{j}.act")


def _depth_of(j: int, vars_: Mapping[str, z3.ExprRef]) -> z3.ArithRef:
    return z3.Int(f"s{j}.depth")


def _parent_id(i: int, par: Num, n: int, dom: ValueDomain) -> SVal:
    code: Any = dom.code(orphan_id(i))
    code = ite(par == ROOT, dom.code(""), code)
    for j in range(n):
        if j != i:
            code = ite(par == j, dom.code(slot_id(j)), code)
    return SVal.string(code, dom)


def symbolic_strings(bounds: Bounds) -> set[str]:
    """Strings a symbolic trace of these bounds needs in its domain."""
    out = {TRACE_ID, "", *KIND_NAMES, *STATUS_NAMES}
    for i in range(bounds.spans):
        out.add(slot_id(i))
        out.add(orphan_id(i))
    return out


# ------------------------------------------------------------------------ concrete


def concrete_trace(
    table: SpanTable,
    trace: int,
    usage: Usage,
    domain: ValueDomain,
    shift: Callable[[int], Num] | None = None,
) -> TraceTerms:
    """One trace of ``table`` as terms; ``shift(row)`` (optional) is added to every time of
    that row's span (start, end, events): a symbolic clock offset."""
    from workbench.engine.reference import span_field

    ctx = TraceContext(table, trace)
    rows = ctx.rows
    index = {r: i for i, r in enumerate(rows)}
    spans: list[SpanSlot] = []
    for r in rows:
        off: Num = shift(r) if shift is not None else 0
        fields: dict[str, SVal] = {}
        for name in ir.SPAN_FIELDS:
            if name in ("start", "end", "duration"):
                continue
            fields[name] = SVal.const(span_field(ctx, r, name))
        attrs_all = table.attributes_of(r)
        res_all = table.resource_of(r)
        attrs = {k: SVal.const(attrs_all.get(k, UNDEF)) for k in usage.span_keys}
        resource = {k: SVal.const(res_all.get(k, UNDEF)) for k in usage.resource_keys}
        events = [
            EventSlot(True, SVal.const(ev.name), add(ev.time, off),
                      {k: SVal.const(ev.attributes.get(k, UNDEF)) for k in usage.event_keys})
            for ev in table.events_of(r)
        ]
        p = int(table.parent[r])
        par = index[p] if p >= 0 else (ROOT if int(table.parent_id_len[r]) == 0 else ORPHAN)
        links: list[tuple[Bool, Num]] = []
        lo, hi = int(table.link_offsets[r]), int(table.link_offsets[r + 1])
        for j in range(lo, hi):
            target = int(table.link_row[j])
            ok = target >= 0 and int(table.trace_index[target]) == trace
            links.append((True, index[target] if ok else -1))
        has_end = bool(table.has_end[r])
        start = add(int(table.start[r]), off)
        end = add(int(table.end[r]), off) if has_end else start
        spans.append(SpanSlot(True, par, fields, start, end, has_end, attrs, resource, events,
                              links, int(table.kind[r])))
    terms = TraceTerms(spans=spans, domain=domain, symbolic=False)
    anc_sets = {index[r]: {index[a] for a in ctx.ancestors(r)} for r in rows}
    terms.ancestors_fn = lambda i, j: j in anc_sets[i]
    if shift is not None:
        def row_lt(i: int, j: int) -> Bool:
            a, b = spans[i].start, spans[j].start
            return bor(a < b, band(a == b, i < j)) if i != j else False
        terms.row_lt_fn = row_lt
    return terms
