"""Terms and sets of the stream fragment compiled to closures (see :mod:`.evaluate`).

Each rule takes the :class:`~workbench.stream.evaluate.Compiler` (for the sub-terms, sets and
guards it compiles through its memo) and one node, and returns ``(state, env) -> value``.
Values follow :mod:`workbench.engine.values` as the reference interpreter does: undefined
operands give :data:`~workbench.engine.values.UNDEF`, division by zero too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from workbench.engine.values import BUILTINS, UNDEF, is_number, quantile
from workbench.lang import ir
from workbench.stream.fragment import UNSUPPORTED, Env, Fn, Unsupported
from workbench.stream.ops import aggregate
from workbench.stream.state import EventRec, SpanRec, TraceState

if TYPE_CHECKING:
    from workbench.stream.evaluate import Compiler


def _order(rec: SpanRec) -> tuple[int, ...]:
    return rec.order


# ---------------------------------------------------------------------- terms


def _const(c: Compiler, node: ir.Const) -> Fn:
    v = node.value
    return lambda st, env: v


def _param(c: Compiler, node: ir.ParamRef) -> Fn:
    if node.name not in c.params:
        raise Unsupported(f"stream: parameter {node.name!r} has no value")
    v = c.params[node.name]
    return lambda st, env: v


def _var(c: Compiler, node: ir.Var) -> Fn:
    name = node.name
    return lambda st, env: env[name]


def _field(c: Compiler, node: ir.Field) -> Fn:
    base, name = node.base.name, node.name
    if name == "depth":
        def depth(st: TraceState, env: Env) -> Any:
            s = env[base]
            return s.time if isinstance(s, EventRec) else st.depth(s)
        return depth
    if name == "is_root":
        def is_root(st: TraceState, env: Env) -> Any:
            s = env[base]
            return s.time if isinstance(s, EventRec) else s.parent_key is None
        return is_root

    def field(st: TraceState, env: Env) -> Any:
        s = env[base]
        if isinstance(s, EventRec):
            return s.name if name == "name" else s.time
        return s.fields[name]
    return field


def _attr(c: Compiler, node: ir.Attr) -> Fn:
    base, key, resource = node.base.name, node.key, node.scope == "resource"

    def attr(st: TraceState, env: Env) -> Any:
        s = env[base]
        if isinstance(s, EventRec):
            return s.attributes.get(key, UNDEF)
        return (s.resource if resource else s.attrs).get(key, UNDEF)
    return attr


def _negate(c: Compiler, node: ir.Neg) -> Fn:
    x = c.term(node.operand)

    def neg(st: TraceState, env: Env) -> Any:
        v = x(st, env)
        return -v if is_number(v) else UNDEF
    return neg


def _arith(c: Compiler, node: ir.Arith) -> Fn:
    left, right, op = c.term(node.left), c.term(node.right), node.op

    def arith(st: TraceState, env: Env) -> Any:
        a, b = left(st, env), right(st, env)
        if not (is_number(a) and is_number(b)):
            return UNDEF
        if op == "+":
            return a + b
        if op == "-":
            return a - b
        if op == "*":
            return a * b
        if b == 0:
            return UNDEF
        if op == "/":
            return a / b
        return a % b
    return arith


def _call(c: Compiler, node: ir.Call) -> Fn:
    func = BUILTINS[node.func]
    args = [c.term(a) for a in node.args]
    if len(args) == 1:
        (one,) = args
        return lambda st, env: func(one(st, env))
    return lambda st, env: func(*(a(st, env) for a in args))


def _aggregate(c: Compiler, node: ir.Aggregate) -> Fn:
    members, op = c.members(node.domain), node.op
    if op == "count":
        return lambda st, env: len(members(st, env))
    assert node.var is not None and node.body is not None
    var, body = node.var, c.term(node.body)

    def agg(st: TraceState, env: Env) -> Any:
        inner = dict(env)
        values = []
        for m in members(st, env):
            inner[var] = m
            values.append(body(st, inner))
        return aggregate(op, values)
    return agg


def _quantile(c: Compiler, node: ir.Quantile) -> Fn:
    members, q = c.members(node.domain), node.q
    var, body = node.var, c.term(node.body)

    def quant(st: TraceState, env: Env) -> Any:
        inner = dict(env)
        values = []
        for m in members(st, env):
            inner[var] = m
            values.append(body(st, inner))
        return quantile(q, [v for v in values if v is not UNDEF])
    return quant

# ---------------------------------------------------------------------- sets


def _spans(c: Compiler, node: ir.Spans) -> Fn:
    return lambda st, env: st.spans


def _roots(c: Compiler, node: ir.Roots) -> Fn:
    return lambda st, env: st.roots()


def _rel(c: Compiler, node: ir.Rel) -> Fn:
    arg, rel = node.arg.name, node.rel
    if rel == "linked":
        raise Unsupported(UNSUPPORTED[("rel", "linked")])
    if rel == "parent":
        def parent(st: TraceState, env: Env) -> list[SpanRec]:
            p = st.parent_of(env[arg])
            return [] if p is None else [p]
        return parent
    if rel == "children":
        return lambda st, env: st.children[env[arg].seq]
    if rel == "siblings":
        return lambda st, env: st.siblings(env[arg])
    walk = TraceState.ancestors if rel == "ancestors" else TraceState.descendants
    return lambda st, env: sorted(walk(st, env[arg]), key=_order)


def _events(c: Compiler, node: ir.Events) -> Fn:
    arg = node.arg.name
    return lambda st, env: env[arg].events


def _comprehension(c: Compiler, node: ir.Comprehension) -> Fn:
    if c.temporal(node.guard):
        raise Unsupported(UNSUPPORTED["temporal-guard"])
    members, var, guard = c.members(node.domain), node.var, c.formula(node.guard)

    def comp(st: TraceState, env: Env) -> list[Any]:
        inner = dict(env)
        out = []
        for m in members(st, env):
            inner[var] = m
            if guard(st, inner):
                out.append(m)
        return out
    return comp


#: Term rules by node class: each compiles a node to a closure returning its value.
TERMS: dict[type, Callable[[Compiler, Any], Fn]] = {
    ir.Const: _const,
    ir.ParamRef: _param,
    ir.Var: _var,
    ir.Field: _field,
    ir.Attr: _attr,
    ir.Neg: _negate,
    ir.Arith: _arith,
    ir.Call: _call,
    ir.Aggregate: _aggregate,
    ir.Quantile: _quantile,
}

#: Set rules by node class: each compiles a set term to a closure returning its members.
SETS: dict[type, Callable[[Compiler, Any], Fn]] = {
    ir.Spans: _spans,
    ir.Roots: _roots,
    ir.Rel: _rel,
    ir.Events: _events,
    ir.Comprehension: _comprehension,
}


__all__ = ["SETS", "TERMS"]
