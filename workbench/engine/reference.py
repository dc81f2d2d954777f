"""The reference interpreter: the semantics oracle of otlspec.

This module is a direct, deliberately plain reading of ``docs/language.md``. Every other backend
is tested against it, so clarity wins over speed here: one trace at a time, Python objects,
no precomputed indexes beyond what the definitions name (children, timeline, happens-before).

Values (spans are rows, events :class:`~workbench.traces.model.EventView`, times ``int``
nanoseconds, :data:`~workbench.engine.values.UNDEF` the undefined value) and their equality,
ordering and built-in functions are defined once, in :mod:`workbench.engine.values`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from workbench.engine.base import (
    CheckResult,
    Outcome,
    PropertyResult,
    TimelinePoint,
    Timings,
    Witness,
)
from workbench.engine.regex import RegexTimeout
from workbench.engine.values import (
    BUILTINS,
    UNDEF,
    equal,
    is_number,
    order,
    regex,
)
from workbench.engine.witness import (
    describe_point,
    explain,
    render_message,
    span_ref,
)
from workbench.lang import ir
from workbench.lang.walk import postorder
from workbench.traces.context import END, EVENT, START, Point, TraceContext
from workbench.traces.model import KIND_NAMES, STATUS_NAMES, EventView, SpanTable

#: Witnesses kept per (property, trace); the verdict is always exact.
MAX_WITNESSES = 50

Env = Mapping[str, Any]


class Interpreter:
    """Evaluates formulas of one spec on one trace. ``params`` binds :class:`ir.ParamRef`."""

    def __init__(self, ctx: TraceContext, params: Mapping[str, Any]) -> None:
        self.ctx = ctx
        self.table = ctx.table
        self.params = params
        self._memo: dict[tuple[ir.Node, tuple[tuple[str, Any], ...], int], bool] = {}

    # --------------------------------------------------------------------- terms
    def value(self, node: ir.Node, env: Env, pos: int) -> Any:
        method = _VALUE_DISPATCH.get(type(node))
        if method is None:
            if isinstance(node, _FORMULA_TYPES):
                return self.holds(node, env, pos)
            raise TypeError(f"reference: no value rule for {type(node).__name__}")
        return method(self, node, env, pos)

    def _const(self, node: ir.Const, env: Env, pos: int) -> Any:
        return node.value

    def _param(self, node: ir.ParamRef, env: Env, pos: int) -> Any:
        return self.params[node.name]

    def _var(self, node: ir.Var, env: Env, pos: int) -> Any:
        return env[node.name]

    def _field(self, node: ir.Field, env: Env, pos: int) -> Any:
        subject = env[node.base.name]
        if isinstance(subject, EventView):
            return subject.name if node.name == "name" else subject.time
        return span_field(self.ctx, subject, node.name)

    def _attr(self, node: ir.Attr, env: Env, pos: int) -> Any:
        subject = env[node.base.name]
        if isinstance(subject, EventView):
            attrs = subject.attributes
        elif node.scope == "resource":
            attrs = self.table.resource_of(subject)
        else:
            attrs = self.table.attributes_of(subject)
        return attrs.get(node.key, UNDEF)

    def _neg(self, node: ir.Neg, env: Env, pos: int) -> Any:
        v = self.value(node.operand, env, pos)
        return -v if is_number(v) else UNDEF

    def _arith(self, node: ir.Arith, env: Env, pos: int) -> Any:
        a = self.value(node.left, env, pos)
        b = self.value(node.right, env, pos)
        if not (is_number(a) and is_number(b)):
            return UNDEF
        if node.op == "+":
            return a + b
        if node.op == "-":
            return a - b
        if node.op == "*":
            return a * b
        if b == 0:
            return UNDEF
        if node.op == "/":
            return a / b
        return a % b

    def _call(self, node: ir.Call, env: Env, pos: int) -> Any:
        return BUILTINS[node.func](*(self.value(a, env, pos) for a in node.args))

    def _aggregate(self, node: ir.Aggregate, env: Env, pos: int) -> Any:
        members = self.members(node.domain, env, pos)
        if node.op == "count":
            return len(members)
        assert node.var is not None and node.body is not None
        values = []
        for m in members:
            v = self.value(node.body, {**env, node.var: m}, pos)
            if v is not UNDEF:
                values.append(v)
        if node.op == "distinct":
            distinct: list[Any] = []
            for v in values:
                if not any(equal(v, d) for d in distinct):
                    distinct.append(v)
            return len(distinct)
        numbers = [v for v in values if is_number(v)]
        if node.op == "sum":
            return sum(numbers)
        if not numbers:
            return UNDEF
        if node.op == "min":
            return min(numbers)
        if node.op == "max":
            return max(numbers)
        return sum(numbers) / len(numbers)

    # --------------------------------------------------------------------- sets
    def members(self, node: ir.Node, env: Env, pos: int) -> list[Any]:
        """The members of a set term, in a deterministic order (rows ascending for spans)."""
        method = _MEMBERS_DISPATCH.get(type(node))
        if method is None:
            raise TypeError(f"reference: {type(node).__name__} is not a set")
        return method(self, node, env, pos)

    def _spans(self, node: ir.Spans, env: Env, pos: int) -> list[Any]:
        return list(self.ctx.rows)

    def _roots(self, node: ir.Roots, env: Env, pos: int) -> list[Any]:
        ctx = self.ctx
        return [r for r in ctx.rows if ctx.is_root(r)]

    def _rel(self, node: ir.Rel, env: Env, pos: int) -> list[Any]:
        ctx = self.ctx
        row = env[node.arg.name]
        rel: Callable[[int], list[int]] = {
            "parent": ctx.parent,
            "children": lambda r: ctx.children[r],
            "ancestors": ctx.ancestors,
            "descendants": ctx.descendants,
            "siblings": ctx.siblings,
            "linked": ctx.linked,
        }[node.rel]
        return sorted(rel(row))

    def _events(self, node: ir.Events, env: Env, pos: int) -> list[Any]:
        return self.ctx.events(env[node.arg.name])

    def _comprehension(self, node: ir.Comprehension, env: Env, pos: int) -> list[Any]:
        return [
            m
            for m in self.members(node.domain, env, pos)
            if self.holds(node.guard, {**env, node.var: m}, pos)
        ]

    # --------------------------------------------------------------------- formulas
    def holds(self, node: ir.Node, env: Env, pos: int) -> bool:
        method = _HOLDS_DISPATCH.get(type(node))
        if method is None:
            v = self.value(node, env, pos)
            return v is True
        return method(self, node, env, pos)

    def _compare(self, node: ir.Compare, env: Env, pos: int) -> bool:
        a = self.value(node.left, env, pos)
        b = self.value(node.right, env, pos)
        if a is UNDEF or b is UNDEF:
            return False
        if node.op == "==":
            return equal(a, b)
        if node.op == "!=":
            return not equal(a, b)
        return order(node.op, a, b)

    def _match(self, node: ir.Match, env: Env, pos: int) -> bool:
        v = self.value(node.operand, env, pos)
        try:
            return isinstance(v, str) and regex(node.pattern).search(v)
        except RegexTimeout as err:  # name the span (the property is added by check_property)
            names = [n for n in postorder(node.operand) if isinstance(n, ir.Var)]
            row = env.get(names[0].name) if names else None
            if row is None:
                raise
            ref = span_ref(self.ctx.table, row)
            where = f"span {ref.span_id} ({ref.name!r}, trace {ref.trace_id})"
            raise err.within(span=where) from None

    def _in_list(self, node: ir.InList, env: Env, pos: int) -> bool:
        v = self.value(node.operand, env, pos)
        if v is UNDEF:
            return False
        return any(equal(v, item.value) for item in node.items.items)

    def _member(self, node: ir.Member, env: Env, pos: int) -> bool:
        return env[node.elem.name] in self.members(node.domain, env, pos)

    def _has(self, node: ir.Has, env: Env, pos: int) -> bool:
        return self.value(node.operand, env, pos) is not UNDEF

    def _hb(self, node: ir.HappensBefore, env: Env, pos: int) -> bool:
        return self.ctx.happens_before(env[node.left.name], env[node.right.name])

    def _not(self, node: ir.Not, env: Env, pos: int) -> bool:
        return not self.holds(node.arg, env, pos)

    def _and(self, node: ir.And, env: Env, pos: int) -> bool:
        return all(self.holds(a, env, pos) for a in node.args)

    def _or(self, node: ir.Or, env: Env, pos: int) -> bool:
        return any(self.holds(a, env, pos) for a in node.args)

    def _implies(self, node: ir.Implies, env: Env, pos: int) -> bool:
        return (not self.holds(node.left, env, pos)) or self.holds(node.right, env, pos)

    def _quant(self, node: ir.Quant, env: Env, pos: int) -> bool:
        for m in self.members(node.domain, env, pos):
            inner = {**env, node.var: m}
            if node.guard is not None and not self.holds(node.guard, inner, pos):
                continue
            if node.kind == "exists" and self.holds(node.body, inner, pos):
                return True
            if node.kind == "forall" and not self.holds(node.body, inner, pos):
                return False
        return node.kind == "forall"

    def _const_holds(self, node: ir.Const, env: Env, pos: int) -> bool:
        return node.value is True

    # --------------------------------------------------------------------- timeline
    def _point(self, pos: int) -> Point | None:
        line = self.ctx.timeline
        return line[pos] if 0 <= pos < len(line) else None

    def _start_of(self, node: ir.StartOf, env: Env, pos: int) -> bool:
        p = self._point(pos)
        return p is not None and p.phase == START and p.row == env[node.arg.name]

    def _end_of(self, node: ir.EndOf, env: Env, pos: int) -> bool:
        p = self._point(pos)
        return p is not None and p.phase == END and p.row == env[node.arg.name]

    def _event_of(self, node: ir.EventOf, env: Env, pos: int) -> bool:
        p = self._point(pos)
        if p is None or p.phase != EVENT or p.row != env[node.arg.name]:
            return False
        return node.name is None or p.name == node.name

    def window(self, pos: int, interval: ir.Interval, future: bool) -> Iterable[int]:
        """Positions j reachable from ``pos`` whose time distance lies in ``interval``."""
        line = self.ctx.timeline
        t0 = line[pos].time if line else 0
        rng = range(pos, len(line)) if future else range(pos, -1, -1)
        for j in rng:
            dist = line[j].time - t0 if future else t0 - line[j].time
            if interval.hi is not None and dist > interval.hi:
                break
            if dist >= interval.lo:
                yield j

    def _temporal(self, node: ir.Temporal, env: Env, pos: int) -> bool:
        key = (node, tuple(sorted((k, _key(v)) for k, v in env.items())), pos)
        found = self._memo.get(key)
        if found is None:
            found = self._memo[key] = self._temporal_uncached(node, env, pos)
        return found

    def _temporal_uncached(self, node: ir.Temporal, env: Env, pos: int) -> bool:
        return _TEMPORAL[node.op](self, node, env, pos)

    def _next(self, node: ir.Temporal, env: Env, pos: int) -> bool:
        return pos + 1 < len(self.ctx.timeline) and self.holds(node.args[0], env, pos + 1)

    def _wnext(self, node: ir.Temporal, env: Env, pos: int) -> bool:
        return pos + 1 >= len(self.ctx.timeline) or self.holds(node.args[0], env, pos + 1)

    def _previously(self, node: ir.Temporal, env: Env, pos: int) -> bool:
        return pos > 0 and self.holds(node.args[0], env, pos - 1)

    def _some(self, node: ir.Temporal, env: Env, pos: int, future: bool) -> bool:
        """``eventually`` / ``once``: the argument holds somewhere in the window."""
        if not self.ctx.timeline:
            return False
        return any(self.holds(node.args[0], env, j)
                   for j in self.window(pos, node.interval, future))

    def _every(self, node: ir.Temporal, env: Env, pos: int, future: bool) -> bool:
        """``always`` / ``historically``: the argument holds everywhere in the window."""
        if not self.ctx.timeline:
            return True
        return all(self.holds(node.args[0], env, j)
                   for j in self.window(pos, node.interval, future))

    def _until(self, node: ir.Temporal, env: Env, pos: int, future: bool) -> bool:
        """``until`` / ``since``: psi at some j in the window, phi in between (pos included
        for until)."""
        if not self.ctx.timeline:
            return False
        phi, psi = node.args
        for j in self.window(pos, node.interval, future):
            if self.holds(psi, env, j):
                between = range(pos, j) if future else range(j + 1, pos + 1)
                if all(self.holds(phi, env, k) for k in between):
                    return True
        return False


def _key(value: Any) -> Any:
    return ("event", value.row, value.index) if isinstance(value, EventView) else value


def span_field(ctx: TraceContext, row: int, name: str) -> Any:
    """The value of span field ``name`` on ``row`` (see ``ir.SPAN_FIELDS``)."""
    t = ctx.table
    if name == "trace_id":
        return t.trace_id_hex[int(t.trace_index[row])]
    if name == "span_id":
        return t.span_id_hex(row)
    if name == "parent_id":
        return t.parent_id_hex(row)
    if name == "name":
        return t.name_of(row)
    if name == "kind":
        return KIND_NAMES[int(t.kind[row])]
    if name == "status":
        return STATUS_NAMES[int(t.status[row])]
    if name == "status_message":
        return t.strings[int(t.status_message[row])]
    if name == "start":
        return int(t.start[row])
    if name == "end":
        return int(t.end[row]) if bool(t.has_end[row]) else UNDEF
    if name == "duration":
        return int(t.end[row]) - int(t.start[row]) if bool(t.has_end[row]) else UNDEF
    if name == "service":
        return t.service_of(row)
    if name == "scope":
        return t.strings[int(t.scope[row])]
    if name == "depth":
        return int(t.depth[row])
    if name == "is_root":
        return ctx.is_root(row)
    if name == "has_end":
        return bool(t.has_end[row])
    if name == "flags":
        return int(t.flags[row])
    if name == "sampled":
        return bool(int(t.flags[row]) & 1)
    if name == "trace_state":
        return t.strings[int(t.trace_state[row])]
    if name == "event_count":
        return int(t.event_offsets[row + 1] - t.event_offsets[row])
    if name == "link_count":
        return int(t.link_offsets[row + 1] - t.link_offsets[row])
    if name == "attribute_count":
        return int(t.attrs.offsets[row + 1] - t.attrs.offsets[row])
    raise KeyError(f"unknown span field {name!r}")


_VALUE_DISPATCH: dict[type, Callable[..., Any]] = {
    ir.Const: Interpreter._const,
    ir.ParamRef: Interpreter._param,
    ir.Var: Interpreter._var,
    ir.Field: Interpreter._field,
    ir.Attr: Interpreter._attr,
    ir.Neg: Interpreter._neg,
    ir.Arith: Interpreter._arith,
    ir.Call: Interpreter._call,
    ir.Aggregate: Interpreter._aggregate,
}

_HOLDS_DISPATCH: dict[type, Callable[..., bool]] = {
    ir.Const: Interpreter._const_holds,
    ir.Compare: Interpreter._compare,
    ir.Match: Interpreter._match,
    ir.InList: Interpreter._in_list,
    ir.Member: Interpreter._member,
    ir.Has: Interpreter._has,
    ir.HappensBefore: Interpreter._hb,
    ir.Not: Interpreter._not,
    ir.And: Interpreter._and,
    ir.Or: Interpreter._or,
    ir.Implies: Interpreter._implies,
    ir.Quant: Interpreter._quant,
    ir.StartOf: Interpreter._start_of,
    ir.EndOf: Interpreter._end_of,
    ir.EventOf: Interpreter._event_of,
    ir.Temporal: Interpreter._temporal,
}

_MEMBERS_DISPATCH: dict[type, Callable[..., list[Any]]] = {
    ir.Spans: Interpreter._spans,
    ir.Roots: Interpreter._roots,
    ir.Rel: Interpreter._rel,
    ir.Events: Interpreter._events,
    ir.Comprehension: Interpreter._comprehension,
}

_FORMULA_TYPES = tuple(_HOLDS_DISPATCH)

#: One rule per temporal operator (an unknown one is a KeyError, never another's branch).
_TEMPORAL: dict[str, Callable[[Interpreter, ir.Temporal, Env, int], bool]] = {
    "always": lambda i, n, e, p: i._every(n, e, p, True),
    "eventually": lambda i, n, e, p: i._some(n, e, p, True),
    "next": Interpreter._next,
    "wnext": Interpreter._wnext,
    "until": lambda i, n, e, p: i._until(n, e, p, True),
    "historically": lambda i, n, e, p: i._every(n, e, p, False),
    "once": lambda i, n, e, p: i._some(n, e, p, False),
    "previously": Interpreter._previously,
    "since": lambda i, n, e, p: i._until(n, e, p, False),
}

#: The reference backend's coverage table: every IR node it evaluates (all of them).
CAPABILITIES: dict[Any, str] = {
    **{cls: "interpreted" for cls in _VALUE_DISPATCH},
    **{cls: "interpreted" for cls in _HOLDS_DISPATCH},
    **{
        cls: "interpreted"
        for cls in (
            ir.Spans,
            ir.Roots,
            ir.Rel,
            ir.Events,
            ir.Comprehension,
            ir.ListLit,
            ir.Interval,
            ir.Template,
            ir.Property,
            ir.Param,
            ir.Spec,
        )
    },
    **{("temporal", op): "interpreted" for op in _TEMPORAL},
}


# ------------------------------------------------------------------------- entry points


def param_values(spec: ir.Spec, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Default values of the spec's lets and params, with already-typed overrides applied."""
    values: dict[str, Any] = {p.name: p.default.value for p in spec.params}
    values.update(overrides or {})
    return values


def check_property(
    prop: ir.Property,
    table: SpanTable,
    params: Mapping[str, Any],
    max_witnesses: int = MAX_WITNESSES,
) -> PropertyResult:
    """Verdicts and witnesses of one property on every trace."""
    started = time.perf_counter()
    holds = np.ones(table.n_traces, dtype=np.bool_)
    witnesses: dict[int, list[Witness]] = {}
    temporal = ir.is_temporal(prop.formula)
    for trace in range(table.n_traces):
        ctx = TraceContext(table, trace)
        interp = Interpreter(ctx, params)
        try:
            if interp.holds(prop.formula, {}, 0):
                continue
            failures = list(explain(interp, prop.formula, {}, [], 0, False, max_witnesses))
        except RegexTimeout as err:
            raise err.within(prop=prop.name) from None
        holds[trace] = False
        found = []
        for failure in failures:
            position = failure.position
            if position is None and temporal:
                position = 0
            point = None
            if position is not None and ctx.timeline:
                p = ctx.timeline[position]
                what = describe_point(table, p)
                point = TimelinePoint(position, p.time, what)
            bindings = tuple((name, span_ref(table, failure.env[name])) for name in failure.order)
            message = render_message(interp, prop, failure.env)
            found.append(Witness(bindings, message, point))
        witnesses[trace] = found
    return PropertyResult(
        prop=prop,
        holds=holds,
        witnesses=witnesses,
        backend="reference",
        seconds=time.perf_counter() - started,
    )


class ReferenceBackend:
    """The reference interpreter as a :class:`~workbench.engine.base.Backend`: the last of
    the chain, it runs every property."""

    name = "reference"
    note = "the reference interpreter evaluates every IR node"
    capabilities = CAPABILITIES

    def available(self) -> tuple[bool, str]:
        return True, "the reference interpreter"

    def unsupported(self, prop: ir.Property, values: Mapping[str, Any]) -> str | None:
        return None

    def check(self, props: Sequence[ir.Property], table: SpanTable, values: Mapping[str, Any],
              timings: Timings | None = None) -> list[Outcome]:
        out: list[Outcome] = []
        for prop in props:
            t0 = time.perf_counter()
            out.append(check_property(prop, table, values))
            if timings is not None:
                timings.add("reference", time.perf_counter() - t0)
        return out

    def __repr__(self) -> str:
        return "<reference backend>"


#: This module's entry in :data:`workbench.engine.base.REGISTRY`.
BACKEND = ReferenceBackend()


def check(
    spec: ir.Spec,
    table: SpanTable,
    params: Mapping[str, Any] | None = None,
    *,
    max_witnesses: int = MAX_WITNESSES,
    properties: Iterable[str] | None = None,
) -> CheckResult:
    """Check every property of ``spec`` (or those named) on every trace of ``table``.

    ``params`` are already-typed values (ns for durations) overriding the spec's defaults;
    use :func:`workbench.lang.bind_params` to parse ``--param`` text.
    """
    started = time.perf_counter()
    values = param_values(spec, params)
    wanted = None if properties is None else set(properties)
    results = [
        check_property(prop, table, values, max_witnesses)
        for prop in spec.properties
        if wanted is None or prop.name in wanted
    ]
    return CheckResult(
        spec=spec,
        table=table,
        results=results,
        params=values,
        timings={"check": time.perf_counter() - started},
    )
