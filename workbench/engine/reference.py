"""The reference interpreter: the semantics oracle of otlspec.

This module is a direct, deliberately plain reading of ``docs/language.md``. Every other backend
is tested against it, so clarity wins over speed here: one trace at a time, Python objects,
no precomputed indexes beyond what the definitions name (children, timeline, happens-before).

Values
------
* a span is its table row (``int``); an event is an :class:`~workbench.traces.model.EventView`;
* times and durations are ``int`` nanoseconds (a ``/`` on durations may give a ``float``);
* enum members are their names (``"CLIENT"``, ``"ERROR"``), ids their lowercase hex text;
* :data:`UNDEF` is the undefined value (an absent attribute, ``min`` of nothing, ``x / 0``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from workbench.engine.base import CheckResult, PropertyResult, SpanRef, TimelinePoint, Witness
from workbench.engine.regex import Regex, RegexTimeout, compile_regex
from workbench.lang import ir
from workbench.lang.walk import postorder
from workbench.traces.model import KIND_NAMES, STATUS_NAMES, EventView, SpanTable


class _Undef:
    __slots__ = ()

    def __repr__(self) -> str:
        return "<undefined>"


UNDEF: Any = _Undef()

#: Witnesses kept per (property, trace); the verdict is always exact.
MAX_WITNESSES = 50

START, EVENT, END = 0, 1, 2
_PHASE_NAMES = {START: "start", EVENT: "event", END: "end"}


@dataclass(frozen=True, slots=True)
class Point:
    """A timeline point: ``(time, phase, row, k)`` with ``k`` the event index (0 otherwise)."""

    time: int
    phase: int
    row: int
    k: int
    name: str = ""  # event name for EVENT points


class TraceContext:
    """One trace of a table, with the derived structure the semantics talks about."""

    def __init__(self, table: SpanTable, trace: int) -> None:
        self.table = table
        self.trace = trace
        self.rows = list(table.trace_rows(trace))

    # --------------------------------------------------------------------- structure
    @cached_property
    def children(self) -> dict[int, list[int]]:
        out: dict[int, list[int]] = {r: [] for r in self.rows}
        for r in self.rows:
            p = int(self.table.parent[r])
            if p >= 0:
                out[p].append(r)
        return out

    def parent(self, row: int) -> list[int]:
        p = int(self.table.parent[row])
        return [p] if p >= 0 else []

    def ancestors(self, row: int) -> list[int]:
        """Spans reached by following parent pointers one or more steps.

        ``row`` itself is among them when it lies on a parent cycle.
        """
        out: list[int] = []
        seen: set[int] = set()
        p = int(self.table.parent[row])
        while p >= 0 and p not in seen:
            seen.add(p)
            out.append(p)
            p = int(self.table.parent[p])
        return out

    def descendants(self, row: int) -> list[int]:
        out: list[int] = []
        seen: set[int] = set()
        stack = list(reversed(self.children[row]))
        while stack:
            r = stack.pop()
            if r in seen:
                continue
            seen.add(r)
            out.append(r)
            stack.extend(reversed(self.children[r]))
        return out

    def siblings(self, row: int) -> list[int]:
        p = int(self.table.parent[row])
        if p < 0:
            return []
        return [c for c in self.children[p] if c != row]

    def linked(self, row: int) -> list[int]:
        lo, hi = int(self.table.link_offsets[row]), int(self.table.link_offsets[row + 1])
        out: list[int] = []
        for j in range(lo, hi):
            target = int(self.table.link_row[j])
            if (
                target >= 0
                and int(self.table.trace_index[target]) == self.trace
                and target not in out
            ):
                out.append(target)
        return out

    def events(self, row: int) -> list[EventView]:
        return self.table.events_of(row)

    def is_root(self, row: int) -> bool:
        return int(self.table.parent_id_len[row]) == 0

    # --------------------------------------------------------------------- timeline
    @cached_property
    def timeline(self) -> list[Point]:
        t = self.table
        points: list[Point] = []
        for r in self.rows:
            points.append(Point(int(t.start[r]), START, r, 0))
            for ev in t.events_of(r):
                points.append(Point(ev.time, EVENT, r, ev.index, ev.name))
            if bool(t.has_end[r]):
                points.append(Point(int(t.end[r]), END, r, 0))
        points.sort(key=lambda p: (p.time, p.phase, p.row, p.k))
        return points

    # --------------------------------------------------------------------- happens-before
    @cached_property
    def _hb_edges(self) -> dict[tuple[int, int], list[tuple[int, int]]]:
        """Edges between points ``(row, START|END)`` as defined in the manual."""
        t = self.table
        edges: dict[tuple[int, int], list[tuple[int, int]]] = {}

        def add(a: tuple[int, int], b: tuple[int, int]) -> None:
            edges.setdefault(a, []).append(b)

        asynchronous = {KIND_NAMES.index("PRODUCER"), KIND_NAMES.index("CONSUMER")}
        for r in self.rows:
            add((r, START), (r, END))
            p = int(t.parent[r])
            if p >= 0:
                add((p, START), (r, START))
                if int(t.kind[r]) not in asynchronous and int(t.kind[p]) not in asynchronous:
                    add((r, END), (p, END))
            for target in self.linked(r):
                add((target, START), (r, START))
        for kids in self.children.values():
            for a in kids:
                for b in kids:
                    if a != b and bool(t.has_end[a]) and int(t.end[a]) < int(t.start[b]):
                        add((a, END), (b, START))
        return edges

    def _reach(self, source: tuple[int, int]) -> frozenset[tuple[int, int]]:
        cache: dict[tuple[int, int], frozenset[tuple[int, int]]] = self.__dict__.setdefault(
            "_reach_cache", {}
        )
        found = cache.get(source)
        if found is None:
            seen: set[tuple[int, int]] = set()
            stack = list(self._hb_edges.get(source, ()))
            while stack:
                node = stack.pop()
                if node in seen:
                    continue
                seen.add(node)
                stack.extend(self._hb_edges.get(node, ()))
            found = cache[source] = frozenset(seen)
        return found

    def happens_before(self, a: int, b: int) -> bool:
        return (b, START) in self._reach((a, END))


# ------------------------------------------------------------------------- values


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _equal(a: Any, b: Any) -> bool:
    if _is_number(a) and _is_number(b):
        return bool(a == b)
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if type(a) is not type(b):
        return False
    return bool(a == b)


def _order(op: str, a: Any, b: Any) -> bool:
    comparable = (_is_number(a) and _is_number(b)) or (isinstance(a, str) and isinstance(b, str))
    if not comparable:
        return False
    if op == "<":
        return bool(a < b)
    if op == "<=":
        return bool(a <= b)
    if op == ">":
        return bool(a > b)
    return bool(a >= b)


def _luhn(value: Any) -> bool:
    digits = [int(c) for c in str(value) if c in "0123456789"]
    if not 13 <= len(digits) <= 19:
        return False
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _to_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, EventView):
        return value.name
    return str(value)


_FUNCS: dict[str, Callable[[Any], Any]] = {
    "len": lambda v: len(v) if isinstance(v, str | list | dict) else UNDEF,
    "lower": lambda v: v.lower() if isinstance(v, str) else UNDEF,
    "upper": lambda v: v.upper() if isinstance(v, str) else UNDEF,
    "abs": lambda v: abs(v) if _is_number(v) else UNDEF,
    "canon": lambda v: (
        "".join(c for c in v.lower() if c.isalnum()) if isinstance(v, str) else UNDEF
    ),
    "luhn": lambda v: _luhn(v) if isinstance(v, str | int) and not isinstance(v, bool) else False,
    "str": _to_text,
}


def format_duration(ns: float) -> str:
    """Render nanoseconds with the largest unit that keeps it readable (``1.5ms``)."""
    sign = "-" if ns < 0 else ""
    ns = abs(ns)
    for unit, size in (("h", 3_600e9), ("m", 60e9), ("s", 1e9), ("ms", 1e6), ("us", 1e3)):
        if ns >= size:
            return f"{sign}{ns / size:.6g}{unit}"
    return f"{sign}{ns:.6g}ns"


# ------------------------------------------------------------------------- interpreter

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
        return -v if _is_number(v) else UNDEF

    def _arith(self, node: ir.Arith, env: Env, pos: int) -> Any:
        a = self.value(node.left, env, pos)
        b = self.value(node.right, env, pos)
        if not (_is_number(a) and _is_number(b)):
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
        args = [self.value(a, env, pos) for a in node.args]
        if any(a is UNDEF for a in args):
            return False if node.func == "luhn" else UNDEF
        return _FUNCS[node.func](*args)

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
                if not any(_equal(v, d) for d in distinct):
                    distinct.append(v)
            return len(distinct)
        numbers = [v for v in values if _is_number(v)]
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
        ctx = self.ctx
        if isinstance(node, ir.Spans):
            return list(ctx.rows)
        if isinstance(node, ir.Roots):
            return [r for r in ctx.rows if ctx.is_root(r)]
        if isinstance(node, ir.Rel):
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
        if isinstance(node, ir.Events):
            return ctx.events(env[node.arg.name])
        if isinstance(node, ir.Comprehension):
            return [
                m
                for m in self.members(node.domain, env, pos)
                if self.holds(node.guard, {**env, node.var: m}, pos)
            ]
        raise TypeError(f"reference: {type(node).__name__} is not a set")

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
            return _equal(a, b)
        if node.op == "!=":
            return not _equal(a, b)
        return _order(node.op, a, b)

    def _match(self, node: ir.Match, env: Env, pos: int) -> bool:
        v = self.value(node.operand, env, pos)
        try:
            return isinstance(v, str) and _regex(node.pattern).search(v)
        except RegexTimeout as err:  # name the span (the property is added by check_property)
            names = [n for n in postorder(node.operand) if isinstance(n, ir.Var)]
            row = env.get(names[0].name) if names else None
            if row is None:
                raise
            ref = _ref(self.ctx.table, row)
            where = f"span {ref.span_id} ({ref.name!r}, trace {ref.trace_id})"
            raise err.within(span=where) from None

    def _in_list(self, node: ir.InList, env: Env, pos: int) -> bool:
        v = self.value(node.operand, env, pos)
        if v is UNDEF:
            return False
        return any(_equal(v, item.value) for item in node.items.items)

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
        n = len(self.ctx.timeline)
        op, iv = node.op, node.interval
        if op == "next":
            return pos + 1 < n and self.holds(node.args[0], env, pos + 1)
        if op == "wnext":
            return pos + 1 >= n or self.holds(node.args[0], env, pos + 1)
        if op == "previously":
            return pos > 0 and self.holds(node.args[0], env, pos - 1)
        if n == 0:
            return op in ("always", "historically")
        if op in ("eventually", "once"):
            return any(
                self.holds(node.args[0], env, j) for j in self.window(pos, iv, op == "eventually")
            )
        if op in ("always", "historically"):
            return all(
                self.holds(node.args[0], env, j) for j in self.window(pos, iv, op == "always")
            )
        # until / since: psi at some j in the window, phi in between (pos included for until)
        phi, psi = node.args
        future = op == "until"
        for j in self.window(pos, iv, future):
            if self.holds(psi, env, j):
                between = range(pos, j) if future else range(j + 1, pos + 1)
                if all(self.holds(phi, env, k) for k in between):
                    return True
        return False


def _key(value: Any) -> Any:
    return ("event", value.row, value.index) if isinstance(value, EventView) else value


def _regex(pattern: str) -> Regex:
    return compile_regex(pattern)  # RE2 where it keeps re's meaning, re under a time budget


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

_FORMULA_TYPES = tuple(_HOLDS_DISPATCH)

#: The reference backend's coverage table: every IR node it evaluates (all of them).
CAPABILITIES: dict[type, str] = {
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
        )
    },
}


# ------------------------------------------------------------------------- witnesses


@dataclass
class _Failure:
    env: dict[str, Any]
    order: list[str]
    position: int | None


def explain(
    interp: Interpreter,
    node: ir.Node,
    env: dict[str, Any],
    order: list[str],
    pos: int,
    moved: bool,
    limit: int,
) -> list[_Failure]:
    """The falsifying assignments of a formula that does not hold at ``pos``.

    Descends through leading ``forall`` binders (one failure per falsifying member), through
    ``always`` (to the first failing position), into the first false conjunct, and through
    ``not exists``; anything else is reported as one failure at the current bindings.
    """
    if isinstance(node, ir.Quant) and node.kind == "forall":
        out: list[_Failure] = []
        for m in interp.members(node.domain, env, pos):
            inner = {**env, node.var: m}
            if node.guard is not None and not interp.holds(node.guard, inner, pos):
                continue
            if not interp.holds(node.body, inner, pos):
                out.extend(
                    explain(
                        interp, node.body, inner, [*order, node.var], pos, moved, limit - len(out)
                    )
                )
                if len(out) >= limit:
                    break
        return out
    if isinstance(node, ir.Not) and isinstance(node.arg, ir.Quant) and node.arg.kind == "exists":
        q = node.arg
        as_forall = ir.Quant("forall", q.var, q.domain, q.guard, ir.Not(q.body))
        return explain(interp, as_forall, env, order, pos, moved, limit)
    if isinstance(node, ir.Temporal) and node.op in ("always", "historically"):
        for j in interp.window(pos, node.interval, node.op == "always"):
            if not interp.holds(node.args[0], env, j):
                return explain(interp, node.args[0], env, order, j, True, limit)
    if isinstance(node, ir.And):
        for arg in node.args:
            if not interp.holds(arg, env, pos):
                return explain(interp, arg, env, order, pos, moved, limit)
    if isinstance(node, ir.Implies) and ir.is_temporal(node.left):
        # an implication whose trigger is a timeline atom: the failure is at this point
        return [_Failure(dict(env), order, pos)]
    return [_Failure(dict(env), order, pos if moved else None)]


def _ref(table: SpanTable, value: Any) -> SpanRef:
    if isinstance(value, EventView):
        row = value.row
        summary = table.row_summary(row)
        return SpanRef(
            row,
            summary["trace_id"],
            summary["span_id"],
            f"{summary['name']}#event[{value.index}] {value.name}",
            summary["service"],
        )
    summary = table.row_summary(int(value))
    return SpanRef(
        int(value), summary["trace_id"], summary["span_id"], summary["name"], summary["service"]
    )


def render_message(interp: Interpreter, prop: ir.Property, env: Mapping[str, Any]) -> str:
    """Fill the property's message template with the witness's values."""
    if prop.message is None:
        return f"property {prop.name} is violated"
    out: list[str] = []
    for part in prop.message.parts:
        if isinstance(part, str):
            out.append(part)
            continue
        try:
            value = interp.value(part, env, 0)
        except KeyError:
            value = UNDEF
        out.append(render_value(part, value, env))
    return "".join(out)


def render_value(expr: ir.Node, value: Any, env: Mapping[str, Any]) -> str:
    if value is UNDEF:
        return "<undefined>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, EventView):
        return value.name
    typ = static_type(expr, env)
    if typ is ir.Type.DURATION and _is_number(value):
        return format_duration(value)
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def static_type(expr: ir.Node, env: Mapping[str, Any]) -> ir.Type | None:
    """Enough typing to render values: durations are shown with units."""
    if isinstance(expr, ir.Const | ir.ParamRef):
        return expr.type
    if isinstance(expr, ir.Field):
        subject = env.get(expr.base.name)
        table = ir.EVENT_FIELDS if isinstance(subject, EventView) else ir.SPAN_FIELDS
        return table.get(expr.name, (None,))[0]
    if isinstance(expr, ir.Arith):
        left, right = static_type(expr.left, env), static_type(expr.right, env)
        if left is ir.Type.TIME and right is ir.Type.TIME and expr.op == "-":
            return ir.Type.DURATION
        if ir.Type.DURATION in (left, right) and expr.op != "/":
            return ir.Type.TIME if ir.Type.TIME in (left, right) else ir.Type.DURATION
        return left
    if isinstance(expr, ir.Neg):
        return static_type(expr.operand, env)
    if isinstance(expr, ir.Aggregate) and expr.body is not None and expr.op != "distinct":
        return static_type(expr.body, {**env, str(expr.var): 0})
    return None


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
                what = _describe_point(table, p)
                point = TimelinePoint(position, p.time, what)
            bindings = tuple((name, _ref(table, failure.env[name])) for name in failure.order)
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


def _describe_point(table: SpanTable, p: Point) -> str:
    label = f"{table.name_of(p.row)}#{table.span_id_hex(p.row)}"
    if p.phase == EVENT:
        return f"event({label}, {p.name!r})"
    return f"{_PHASE_NAMES[p.phase]}({label})"


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
