"""Name resolution and static typing: raw IR -> typed IR.

:class:`Checker` walks a raw formula with a scope of bound variables and returns the typed
formula: bare names become variables, :class:`~workbench.lang.ir.ParamRef` or enum constants;
attribute scopes are fixed (``e.attributes`` of an event variable gets scope ``event``); the
literal ``0`` compared with a duration becomes ``0s``; interval bounds written as names get
their values. The typing rules are the table in ``docs/language.md``. Handlers are found
through a dict keyed on the node class.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from workbench.errors import SourcePos, SpecTypeError
from workbench.lang import ir
from workbench.lang.construct import intern
from workbench.lang.functions import (
    AGGREGATE_TYPES,
    CALL_SIGNATURES,
    NUMERIC,
    SCALARS,
    TEXT,
    VALUE_PEERS,
    suggest_enum,
)
from workbench.lang.ir import KINDS, STATUSES, Const, Node, Property, Type, Var
from workbench.lang.parser import PosTable, RawFile, RawProperty, Source
from workbench.lang.printer import enum_const

ELEMENT = {Type.SPANS: Type.SPAN, Type.EVENTS: Type.EVENT}

Env = Mapping[str, Type]
Handler = Callable[["Checker", Any, Env], tuple[Node, Type]]


def an(typ: Type) -> str:
    """``an int``, ``a duration``: a type name with its article."""
    return ("an " if str(typ)[0] in "aeiou" else "a ") + str(typ)


def _close(name: str, options: Iterable[str]) -> list[str]:
    return difflib.get_close_matches(name, list(options), n=3, cutoff=0.6)


def suggest(name: str, options: Iterable[str]) -> str | None:
    close = _close(name, options)
    return "did you mean " + " or ".join(f"`{c}`" for c in close) + "?" if close else None


def arith_type(op: str, lt: Type, rt: Type) -> Type | None:
    """The type of ``left op right``, or ``None`` when the operation is ill-typed."""
    if lt in NUMERIC and rt in NUMERIC:
        return Type.INT if (lt is rt is Type.INT and op != "/") else Type.FLOAT
    if Type.VALUE in (lt, rt) and {lt, rt} <= NUMERIC | {Type.VALUE}:
        return Type.FLOAT
    pair = (lt, rt)
    table: dict[tuple[Type, Type], Type] = {
        (Type.TIME, Type.TIME): Type.DURATION,
        (Type.DURATION, Type.DURATION): Type.DURATION,
        (Type.TIME, Type.DURATION): Type.TIME,
    }
    if op == "-" and pair in table:
        return table[pair]
    if op == "+" and pair in table and pair != (Type.TIME, Type.TIME):
        return table[pair]
    if op == "+" and pair == (Type.DURATION, Type.TIME):
        return Type.TIME
    if op == "*" and Type.DURATION in pair and (set(pair) - {Type.DURATION}) <= NUMERIC:
        return Type.DURATION if pair != (Type.DURATION, Type.DURATION) else None
    if op == "/" and lt is Type.DURATION:
        return {Type.DURATION: Type.FLOAT, Type.INT: Type.DURATION}.get(rt)
    return None


def _is_zero_literal(node: Node) -> bool:
    return isinstance(node, Const) and node.type is Type.INT and node.value == 0


class Checker:
    """Resolves and types raw IR.

    Parameters
    ----------
    params:
        Visible ``let``/``param`` names and their values.
    source, positions:
        Where the raw nodes came from, for error messages (optional).
    """

    def __init__(
        self,
        params: Mapping[str, Const] | None = None,
        source: Source | None = None,
        positions: PosTable | None = None,
    ) -> None:
        self.params = dict(params or {})
        self.source = source or Source("<string>", "")
        self.positions = positions or PosTable()
        self._stack: list[Node] = []
        #: Set while checking message holes: every variable the formula binds.
        self.hole_binders: frozenset[str] | None = None

    # ------------------------------------------------------------------ plumbing
    def check(self, node: Node, env: Env) -> tuple[Node, Type]:
        """Type ``node`` in scope ``env``; returns the typed node and its type."""
        handler = _HANDLERS.get(type(node))
        if handler is None:
            raise self.error(f"unexpected {type(node).__name__} in an expression", node)
        self._stack.append(node)
        try:
            new, typ = handler(self, node, env)
        finally:
            self._stack.pop()
        self.positions.copy(node, new := intern(new))  # equal typed sub-trees: one object
        return new, typ

    def formula(self, node: Node, env: Env, what: str = "a condition") -> Node:
        """Check that ``node`` is a boolean formula."""
        new, typ = self.check(node, env)
        if typ is not Type.BOOL:
            hint = None
            if typ is Type.VALUE:
                hint = 'compare the attribute, e.g. `== true` or `== "x"`'
            raise self.error(f"{what} must be a boolean formula, not {typ}", node, hint)
        return new

    def error(
        self, message: str, node: Node | None, hint: str | None = None, anchor: bool = False
    ) -> SpecTypeError:
        """A :class:`SpecTypeError` at ``node`` (or the nearest enclosing node with a position)."""
        pos: SourcePos | None = None
        for candidate in ([node] if node is not None else []) + self._stack[::-1]:
            pos = (self.positions.anchor if anchor else self.positions.span)(candidate)
            if pos is not None:
                break
        err = self.source.error(SpecTypeError, message, pos, hint)
        assert isinstance(err, SpecTypeError)
        return err

    def _unknown(self, name: str, node: Node, env: Env) -> SpecTypeError:
        if self.hole_binders is not None and name in self.hole_binders:
            bound = ", ".join(f"`{v}`" for v in env) or "none"
            return self.error(
                f"`{name}` is not bound by the property's leading `forall` quantifiers",
                node,
                f"message holes may use those variables only (here: {bound})",
            )
        options = [*env, *self.params, *KINDS, *STATUSES]
        hint = suggest_enum(name) if name not in KINDS + STATUSES else None
        hint = hint or suggest(name, options)
        if hint is None and env:  # short names rarely come close: list what is in scope
            hint = "variables bound here: " + ", ".join(f"`{v}`" for v in env)
        return self.error(f"unknown name `{name}`", node, hint)

    def bound_var(self, node: Node, env: Env, what: str, want: Type | None = None) -> Type:
        """Check that ``node`` is a variable bound in ``env`` (of type ``want`` if given)."""
        if not isinstance(node, Var):
            raise self.error(f"{what} takes a variable", node)
        if node.name not in env:
            if node.name in self.params:
                raise self.error(f"`{node.name}` is a let/param, not a span variable", node)
            raise self._unknown(node.name, node, env)
        typ = env[node.name]
        if want is not None and typ is not want:
            raise self.error(f"{what} takes {an(want)} variable; `{node.name}` is {an(typ)}", node)
        return typ

    def domain(self, node: Node, env: Env) -> tuple[Node, Type]:
        """Check a quantifier / comprehension / aggregate domain; returns (node, element type)."""
        new, typ = self.check(node, env)
        if typ not in ELEMENT:
            raise self.error(
                f"this ranges over a set of spans or events, not over {typ}",
                node,
                "use spans, roots, a relation such as children(s), events(s) or {x in S where ...}",
            )
        return new, ELEMENT[typ]

    # ------------------------------------------------------------------ terms
    def _const(self, node: Const, env: Env) -> tuple[Node, Type]:
        return node, node.type

    def _param_ref(self, node: ir.ParamRef, env: Env) -> tuple[Node, Type]:
        return node, node.type

    def _var(self, node: Var, env: Env) -> tuple[Node, Type]:
        if node.name in env:
            return node, env[node.name]
        if node.name in self.params:
            typ = self.params[node.name].type
            return ir.ParamRef(node.name, typ), typ
        found = enum_const(node.name)
        if found is not None:
            return found, found.type
        raise self._unknown(node.name, node, env)

    def _list(self, node: ir.ListLit, env: Env) -> tuple[Node, Type]:
        return node, Type.LIST

    def _field(self, node: ir.Field, env: Env) -> tuple[Node, Type]:
        typ = self.bound_var(node.base, env, "a field access")
        table = (
            ir.SPAN_FIELDS if typ is Type.SPAN else ir.EVENT_FIELDS if typ is Type.EVENT else None
        )
        if table is None:
            raise self.error(
                f"`{node.base.name}` is {an(typ)}; only spans and events have fields", node
            )
        if node.name not in table:
            close = _close(node.name, table)
            hint = (
                "did you mean " + " or ".join(f"`{c}`" for c in close) + "?"
                if close
                else f"{typ} fields: " + ", ".join(table)
            )
            raise self.error(f"unknown {typ} field `{node.name}`", node, hint, anchor=True)
        return node, table[node.name][0]

    def _attr(self, node: ir.Attr, env: Env) -> tuple[Node, Type]:
        typ = self.bound_var(node.base, env, "an attribute lookup")
        scope = node.scope
        if typ is Type.EVENT:
            if scope == "resource":
                raise self.error("events have no resource attributes", node, anchor=True)
            scope = "event"
        elif typ is Type.SPAN and scope == "event":
            scope = "span"
        elif typ not in (Type.SPAN, Type.EVENT):
            raise self.error(f"`{node.base.name}` is {an(typ)} and has no attributes", node)
        if scope != node.scope:
            return ir.Attr(node.base, node.key, scope), Type.VALUE
        return node, Type.VALUE

    def _neg(self, node: ir.Neg, env: Env) -> tuple[Node, Type]:
        arg, typ = self.check(node.operand, env)
        if typ in (Type.INT, Type.FLOAT, Type.DURATION):
            return ir.Neg(arg), typ
        if typ is Type.VALUE:
            return ir.Neg(arg), Type.FLOAT
        raise self.error(f"cannot negate {an(typ)}", node)

    def _arith(self, node: ir.Arith, env: Env) -> tuple[Node, Type]:
        left, lt = self.check(node.left, env)
        right, rt = self.check(node.right, env)
        typ = arith_type(node.op, lt, rt)
        if typ is None:
            hint = None
            if {lt, rt} & {Type.DURATION, Type.TIME} and {lt, rt} & NUMERIC and node.op in "+-":
                number = right if rt in NUMERIC else left
                example = f"{number.value}ms" if isinstance(number, Const) else "5ms"
                raise self.error(
                    f"unit mismatch: `{node.op}` on {an(lt)} and {an(rt)}",
                    node,
                    f"write a unit, e.g. `{example}`",
                    anchor=True,
                )
            raise self.error(f"cannot apply `{node.op}` to {lt} and {rt}", node, hint, anchor=True)
        return ir.Arith(node.op, left, right), typ

    def _call(self, node: ir.Call, env: Env) -> tuple[Node, Type]:
        sig = CALL_SIGNATURES.get(node.func)
        if sig is None:
            raise self.error(f"unknown function `{node.func}`", node, anchor=True)
        if len(node.args) != 1:
            raise self.error(f"{node.func}() takes 1 argument, got {len(node.args)}", node)
        arg, typ = self.check(node.args[0], env)
        accepts, result = sig
        if typ not in accepts:
            names = ", ".join(sorted(str(t) for t in accepts))
            raise self.error(f"{node.func}() takes {names}, not {typ}", node.args[0])
        out = result if result is not None else (Type.FLOAT if typ is Type.VALUE else typ)
        return ir.Call(node.func, (arg,)), out

    # ------------------------------------------------------------------ sets and aggregates
    def _spans(self, node: Node, env: Env) -> tuple[Node, Type]:
        return node, Type.SPANS

    def _rel(self, node: ir.Rel, env: Env) -> tuple[Node, Type]:
        self.bound_var(node.arg, env, f"{node.rel}()", Type.SPAN)
        return node, Type.SPANS

    def _events(self, node: ir.Events, env: Env) -> tuple[Node, Type]:
        self.bound_var(node.arg, env, "events()", Type.SPAN)
        return node, Type.EVENTS

    def _comprehension(self, node: ir.Comprehension, env: Env) -> tuple[Node, Type]:
        domain, elem = self.domain(node.domain, env)
        guard = self.formula(node.guard, {**env, node.var: elem}, "a `where` condition")
        return ir.Comprehension(
            node.var, domain, guard
        ), Type.SPANS if elem is Type.SPAN else Type.EVENTS

    def _aggregate(self, node: ir.Aggregate, env: Env) -> tuple[Node, Type]:
        domain, elem = self.domain(node.domain, env)
        if node.op == "count":
            return ir.Aggregate("count", domain), Type.INT
        if node.var is None or node.body is None:
            raise self.error(f"{node.op}() needs `x in S: value`", node)
        body, typ = self.check(node.body, {**env, node.var: elem})
        allowed = AGGREGATE_TYPES[node.op]
        if typ not in allowed:
            names = ", ".join(sorted(str(t) for t in allowed))
            raise self.error(f"{node.op}() aggregates {names} values, not {typ}", node.body)
        if node.op == "distinct":
            out = Type.INT
        elif node.op == "avg":
            out = Type.DURATION if typ is Type.DURATION else Type.FLOAT
        else:
            out = Type.FLOAT if typ is Type.VALUE else typ
        return ir.Aggregate(node.op, domain, node.var, body), out

    def _quantile(self, node: ir.Quantile, env: Env) -> tuple[Node, Type]:
        domain, elem = self.domain(node.domain, env)
        body, typ = self.check(node.body, {**env, node.var: elem})
        allowed = AGGREGATE_TYPES["min"]
        if typ not in allowed:
            names = ", ".join(sorted(str(t) for t in allowed))
            raise self.error(f"quantile() of {names} values, not {typ}", node.body)
        out = Type.FLOAT if typ is Type.VALUE else typ
        return ir.Quantile(node.q, domain, node.var, body), out

    # ------------------------------------------------------------------ atoms
    def _compare_pair(
        self, op: str, left: Node, lt: Type, right: Node, rt: Type, node: Node
    ) -> tuple[Node, Node]:
        ordering = op not in ("==", "!=")
        if Type.DURATION in (lt, rt) and lt is not rt:
            if _is_zero_literal(right) or _is_zero_literal(left):
                zero = Const(0, Type.DURATION)
                return (zero, right) if _is_zero_literal(left) else (left, zero)
            if (set((lt, rt)) - {Type.DURATION}) <= NUMERIC:
                number = right if rt is not Type.DURATION else left
                example = f"{number.value}ms" if isinstance(number, Const) else "5ms"
                other = rt if lt is Type.DURATION else lt
                raise self.error(
                    f"unit mismatch: comparing a duration with {an(other)}",
                    number,
                    f"write a unit, e.g. `{example}`",
                )
        if Type.VALUE in (lt, rt):
            other = rt if lt is Type.VALUE else lt
            if other in VALUE_PEERS and not (ordering and other is Type.BOOL):
                return left, right
        elif (
            (lt in NUMERIC and rt in NUMERIC)
            or (lt in TEXT and rt in TEXT)
            or (lt is rt and lt in SCALARS)
        ):
            if not (ordering and lt in (Type.KIND, Type.STATUS, Type.BOOL)):
                return left, right
            raise self.error(f"`{op}` does not order {lt} values; use == or !=", node, anchor=True)
        hint = None
        if {lt, rt} & {Type.KIND, Type.STATUS} and {lt, rt} & TEXT:
            hint = "kinds and statuses are names, not strings: write e.g. CLIENT or ERROR"
        elif {lt, rt} == {Type.TIME, Type.DURATION}:
            hint = "subtract timestamps to get a duration, e.g. `b.start - a.end`"
        elif lt is rt is Type.SPAN:
            hint = "compare span ids: `a.span_id == b.span_id`"
        raise self.error(f"cannot compare {lt} with {rt}", node, hint, anchor=True)

    def _compare(self, node: ir.Compare, env: Env) -> tuple[Node, Type]:
        left, lt = self.check(node.left, env)
        right, rt = self.check(node.right, env)
        left, right = self._compare_pair(node.op, left, lt, right, rt, node)
        return ir.Compare(node.op, left, right), Type.BOOL

    def _match(self, node: ir.Match, env: Env) -> tuple[Node, Type]:
        arg, typ = self.check(node.operand, env)
        if typ not in TEXT | {Type.VALUE}:
            raise self.error(f"`matches` applies to text, not {typ}", node.operand)
        return ir.Match(arg, node.pattern), Type.BOOL

    def _in_list(self, node: ir.InList, env: Env) -> tuple[Node, Type]:
        arg, typ = self.check(node.operand, env)
        items: list[Const] = []
        for item in node.items.items:
            _, checked = self._compare_pair("==", arg, typ, item, item.type, item)
            assert isinstance(checked, Const)
            items.append(checked)
        lst = ir.ListLit(tuple(items))
        self.positions.copy(node.items, lst)
        return ir.InList(arg, lst if lst != node.items else node.items), Type.BOOL

    def _member(self, node: ir.Member, env: Env) -> tuple[Node, Type]:
        domain, elem = self.domain(node.domain, env)
        self.bound_var(node.elem, env, "`in`", elem)
        return ir.Member(node.elem, domain), Type.BOOL

    def _has(self, node: ir.Has, env: Env) -> tuple[Node, Type]:
        arg, typ = self.check(node.operand, env)
        if typ not in SCALARS:
            raise self.error(
                f"has() takes a value such as an attribute, not {an(typ)}", node.operand
            )
        return ir.Has(arg), Type.BOOL

    def _hb(self, node: ir.HappensBefore, env: Env) -> tuple[Node, Type]:
        self.bound_var(node.left, env, "`hb`", Type.SPAN)
        self.bound_var(node.right, env, "`hb`", Type.SPAN)
        return node, Type.BOOL

    def _timeline(self, node: ir.StartOf | ir.EndOf | ir.EventOf, env: Env) -> tuple[Node, Type]:
        what = {ir.StartOf: "start()", ir.EndOf: "end()", ir.EventOf: "event()"}[type(node)]
        self.bound_var(node.arg, env, what, Type.SPAN)
        return node, Type.BOOL

    # ------------------------------------------------------------------ formulas
    def _not(self, node: ir.Not, env: Env) -> tuple[Node, Type]:
        return ir.Not(self.formula(node.arg, env, "the operand of `not`")), Type.BOOL

    def _and(self, node: ir.And, env: Env) -> tuple[Node, Type]:
        return ir.And(tuple(self.formula(a, env, "an `and` operand") for a in node.args)), Type.BOOL

    def _or(self, node: ir.Or, env: Env) -> tuple[Node, Type]:
        return ir.Or(tuple(self.formula(a, env, "an `or` operand") for a in node.args)), Type.BOOL

    def _implies(self, node: ir.Implies, env: Env) -> tuple[Node, Type]:
        left = self.formula(node.left, env, "the left of `->`")
        return ir.Implies(left, self.formula(node.right, env, "the right of `->`")), Type.BOOL

    def _quant(self, node: ir.Quant, env: Env) -> tuple[Node, Type]:
        domain, elem = self.domain(node.domain, env)
        inner = {**env, node.var: elem}
        guard = (
            None if node.guard is None else self.formula(node.guard, inner, "a `where` condition")
        )
        body = self.formula(node.body, inner, f"the body of `{node.kind}`")
        return ir.Quant(node.kind, node.var, domain, guard, body), Type.BOOL

    def _temporal(self, node: ir.Temporal, env: Env) -> tuple[Node, Type]:
        interval = self.interval(node.interval)
        args = tuple(self.formula(a, env, f"an operand of `{node.op}`") for a in node.args)
        return ir.Temporal(node.op, args, interval), Type.BOOL

    def interval(self, node: ir.Interval) -> ir.Interval:
        """Resolve named bounds of an interval and check that it is not empty."""
        lo, hi = node.lo, node.hi
        for part, name in (("lo", node.lo_name), ("hi", node.hi_name)):
            if name is None:
                continue
            const = self.params.get(name)
            pos = self.positions.part(node, part)
            if const is None or const.type is not Type.DURATION:
                what = "unknown name" if const is None else f"{an(const.type)}, not a duration"
                hint = suggest(name, [k for k, v in self.params.items() if v.type is Type.DURATION])
                raise self.source.error(
                    SpecTypeError, f"interval bound `{name}`: {what}", pos, hint
                )
            if int(const.value) < 0:
                raise self.source.error(SpecTypeError, f"interval bound `{name}` is negative", pos)
            if part == "lo":
                lo = int(const.value)
            else:
                hi = int(const.value)
        if hi is not None and lo > hi:
            raise self.error("empty interval: the lower bound exceeds the upper bound", node)
        new = ir.Interval(lo, hi, node.lo_name, node.hi_name)
        return node if new == node else new

    def _interval(self, node: ir.Interval, env: Env) -> tuple[Node, Type]:
        return self.interval(node), Type.LIST

    def template(self, node: ir.Template, env: Env, binders: frozenset[str]) -> ir.Template:
        """Check a message template; holes see ``env`` only (the leading ``forall`` variables)."""
        self.hole_binders = binders
        try:
            parts: list[str | Node] = []
            for part in node.parts:
                if isinstance(part, str):
                    parts.append(part)
                    continue
                new, typ = self.check(part, env)
                if typ not in SCALARS:
                    raise self.error(f"a message hole must be a value, not {an(typ)}", part)
                parts.append(new)
        finally:
            self.hole_binders = None
        return ir.Template(tuple(parts))


_HANDLERS: dict[type, Handler] = {
    Const: Checker._const,
    ir.ParamRef: Checker._param_ref,
    Var: Checker._var,
    ir.ListLit: Checker._list,
    ir.Field: Checker._field,
    ir.Attr: Checker._attr,
    ir.Neg: Checker._neg,
    ir.Arith: Checker._arith,
    ir.Call: Checker._call,
    ir.Spans: Checker._spans,
    ir.Roots: Checker._spans,
    ir.Rel: Checker._rel,
    ir.Events: Checker._events,
    ir.Comprehension: Checker._comprehension,
    ir.Aggregate: Checker._aggregate,
    ir.Quantile: Checker._quantile,
    ir.Compare: Checker._compare,
    ir.Match: Checker._match,
    ir.InList: Checker._in_list,
    ir.Member: Checker._member,
    ir.Has: Checker._has,
    ir.HappensBefore: Checker._hb,
    ir.Not: Checker._not,
    ir.And: Checker._and,
    ir.Or: Checker._or,
    ir.Implies: Checker._implies,
    ir.Quant: Checker._quant,
    ir.Interval: Checker._interval,
    ir.StartOf: Checker._timeline,
    ir.EndOf: Checker._timeline,
    ir.EventOf: Checker._timeline,
    ir.Temporal: Checker._temporal,
}


def binders(node: Node) -> frozenset[str]:
    """Every variable name bound anywhere in ``node``."""
    out: set[str] = set()
    stack = [node]
    while stack:
        cur = stack.pop()
        var = getattr(cur, "var", None)
        if isinstance(var, str):
            out.add(var)
        stack.extend(cur.children())
    return frozenset(out)


def leading_foralls(formula: Node, env: Env, checker: Checker) -> dict[str, Type]:
    """Variables bound by the leading chain of ``forall`` quantifiers of a typed formula."""
    scope = dict(env)
    while isinstance(formula, ir.Quant) and formula.kind == "forall":
        _, elem = checker.domain(formula.domain, scope)
        scope[formula.var] = elem
        formula = formula.body
    return scope


def check_formula(
    node: Node,
    variables: Mapping[str, Type] | None = None,
    params: Mapping[str, Const] | None = None,
    source: Source | None = None,
    positions: PosTable | None = None,
) -> tuple[Node, Type]:
    """Resolve and type a raw (or typed) expression.

    Parameters
    ----------
    node:
        The expression.
    variables:
        Free variables in scope and their types (``Type.SPAN`` or ``Type.EVENT``).
    params:
        Visible lets/params with their values.
    source, positions:
        For positioned error messages.

    Returns
    -------
    tuple[Node, Type]
        The typed expression and its type.
    """
    checker = Checker(params, source, positions)
    return checker.check(node, dict(variables or {}))


def type_of(
    node: Node,
    variables: Mapping[str, Type] | None = None,
    params: Mapping[str, Const] | None = None,
) -> Type:
    """The static type of a (typed) expression.

    Parameters
    ----------
    node:
        An expression or formula.
    variables:
        Its free variables' types (``Type.SPAN`` / ``Type.EVENT``).
    params:
        Visible lets/params (a :class:`~workbench.lang.ir.ParamRef` carries its own type).

    Returns
    -------
    Type
        The type; :class:`~workbench.errors.SpecTypeError` if the node is ill-typed.
    """
    return check_formula(node, variables, params)[1]


def check_property(raw: RawProperty, params: Mapping[str, Const], file: RawFile) -> Property:
    """Type a parsed property: a closed boolean ``check`` and a message over its ``forall``s."""
    checker = Checker(params, file.source, file.positions)
    formula = checker.formula(raw.formula, {}, "`check`")
    message = None
    if raw.message is not None:
        env = leading_foralls(formula, {}, checker)
        message = checker.template(raw.message, env, binders(formula))
    severity: Any = raw.severity
    return Property(raw.name, formula, severity, message, raw.tags, raw.doc)
