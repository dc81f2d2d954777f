"""Unbounded entailment for a first-order fragment, over an uninterpreted sort of spans.

Spans are the elements of an uninterpreted sort ``Span`` (any number of them); fields are
functions of a span, parenthood is a partial function, and quantifiers are Z3 quantifiers.
Only axioms that every trace satisfies are assumed (``has_end -> end >= start``, a root
names no parent, kinds and statuses in range), so ``unsat`` of
``axioms and premises and not conclusion`` proves the entailment for traces of every size.
Nothing is concluded from ``sat`` or ``unknown``: the bounded check is the one that finds
counterexamples.

The fragment: quantifiers over ``spans``, ``roots``, ``children(x)``, ``parent(x)`` and
comprehensions over them; comparisons of ``start``, ``end``, ``duration``, numbers and
durations; ``kind`` and ``status`` against their enum names; ``has_end`` and ``is_root``; the
boolean connectives. Anything else makes :func:`prove_unbounded` decline, naming the node.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, NoReturn

import z3

from workbench.lang import ir
from workbench.smt.values import EncodingError

_ENUMS = {**{k: i for i, k in enumerate(ir.KINDS)}, **{s: i for i, s in enumerate(ir.STATUSES)}}


class _Fragment:
    def __init__(self, params: Mapping[str, Any]) -> None:
        self.params = params
        self.Span = z3.DeclareSort("Span")
        S = self.Span
        self.start = z3.Function("start", S, z3.IntSort())
        self.end = z3.Function("end", S, z3.IntSort())
        self.has_end = z3.Function("has_end", S, z3.BoolSort())
        self.kind = z3.Function("kind", S, z3.IntSort())
        self.status = z3.Function("status", S, z3.IntSort())
        self.is_root = z3.Function("is_root", S, z3.BoolSort())
        self.parent = z3.Function("parent", S, S)
        self.has_parent = z3.Function("has_parent", S, z3.BoolSort())
        x = z3.Const("x", S)
        self.axioms = [
            z3.ForAll([x], z3.Implies(self.has_end(x), self.end(x) >= self.start(x))),
            z3.ForAll([x], z3.Implies(self.is_root(x), z3.Not(self.has_parent(x)))),
            z3.ForAll([x], z3.And(self.kind(x) >= 0, self.kind(x) < len(ir.KINDS))),
            z3.ForAll([x], z3.And(self.status(x) >= 0, self.status(x) < len(ir.STATUSES))),
        ]
        self.n = 0

    def member(self, dom: ir.Node, x: z3.ExprRef, env: Env) -> z3.BoolRef:
        rule = _MEMBER.get(type(dom))
        return _outside(dom) if rule is None else rule(self, dom, x, env)

    def formula(self, node: ir.Node, env: Env) -> z3.BoolRef:
        rule = _FORMULA.get(type(node))
        return _outside(node) if rule is None else rule(self, node, env)

    def term(self, node: ir.Node, env: Env) -> tuple[Any, z3.BoolRef]:
        rule = _TERM.get(type(node))
        return _outside(node) if rule is None else rule(self, node, env)

    # ----------------------------------------------------------------- sets
    def _m_spans(self, dom: ir.Spans, x: z3.ExprRef, env: Env) -> z3.BoolRef:
        return z3.BoolVal(True)

    def _m_roots(self, dom: ir.Roots, x: z3.ExprRef, env: Env) -> z3.BoolRef:
        return self.is_root(x)

    def _m_rel(self, dom: ir.Rel, x: z3.ExprRef, env: Env) -> z3.BoolRef:
        if dom.rel not in ("children", "parent"):
            return _outside(dom)
        p = env[dom.arg.name]
        if dom.rel == "children":
            return z3.And(self.has_parent(x), self.parent(x) == p)
        return z3.And(self.has_parent(p), self.parent(p) == x)

    def _m_comprehension(self, dom: ir.Comprehension, x: z3.ExprRef, env: Env) -> z3.BoolRef:
        return z3.And(self.member(dom.domain, x, env),
                      self.formula(dom.guard, {**env, dom.var: x}))

    # ----------------------------------------------------------------- formulas
    def _f_const(self, node: ir.Const, env: Env) -> z3.BoolRef:
        if not isinstance(node.value, bool):
            return _outside(node)
        return z3.BoolVal(node.value)

    def _f_not(self, node: ir.Not, env: Env) -> z3.BoolRef:
        return z3.Not(self.formula(node.arg, env))

    def _f_and(self, node: ir.And, env: Env) -> z3.BoolRef:
        return z3.And(*[self.formula(a, env) for a in node.args])

    def _f_or(self, node: ir.Or, env: Env) -> z3.BoolRef:
        return z3.Or(*[self.formula(a, env) for a in node.args])

    def _f_implies(self, node: ir.Implies, env: Env) -> z3.BoolRef:
        return z3.Implies(self.formula(node.left, env), self.formula(node.right, env))

    def _f_quant(self, node: ir.Quant, env: Env) -> z3.BoolRef:
        self.n += 1
        x = z3.Const(f"{node.var}_{self.n}", self.Span)
        inner = {**env, node.var: x}
        cond = self.member(node.domain, x, env)
        if node.guard is not None:
            cond = z3.And(cond, self.formula(node.guard, inner))
        body = self.formula(node.body, inner)
        if node.kind == "forall":
            return z3.ForAll([x], z3.Implies(cond, body))
        return z3.Exists([x], z3.And(cond, body))

    def _f_field(self, node: ir.Field, env: Env) -> z3.BoolRef:
        if node.name not in ("has_end", "is_root"):
            return _outside(node)
        s = env[node.base.name]
        return (self.has_end if node.name == "has_end" else self.is_root)(s)

    def _f_compare(self, node: ir.Compare, env: Env) -> z3.BoolRef:
        (a, da), (b, db) = self.term(node.left, env), self.term(node.right, env)
        rel = {"==": a == b, "!=": a != b, "<": a < b, "<=": a <= b, ">": a > b,
               ">=": a >= b}[node.op]
        return z3.And(da, db, rel)

    # ----------------------------------------------------------------- terms
    def _t_const(self, node: ir.Const, env: Env) -> tuple[Any, z3.BoolRef]:
        true = z3.BoolVal(True)
        if isinstance(node.value, str) and node.value in _ENUMS and node.type in (
                ir.Type.KIND, ir.Type.STATUS):
            return z3.IntVal(_ENUMS[node.value]), true
        if isinstance(node.value, int) and not isinstance(node.value, bool):
            return z3.IntVal(node.value), true
        return _outside(node)

    def _t_param(self, node: ir.ParamRef, env: Env) -> tuple[Any, z3.BoolRef]:
        if not isinstance(self.params.get(node.name), int):
            return _outside(node)
        return z3.IntVal(self.params[node.name]), z3.BoolVal(True)

    def _t_field(self, node: ir.Field, env: Env) -> tuple[Any, z3.BoolRef]:
        true = z3.BoolVal(True)
        s = env[node.base.name]
        if node.name == "start":
            return self.start(s), true
        if node.name == "end":
            return self.end(s), self.has_end(s)
        if node.name == "duration":
            return self.end(s) - self.start(s), self.has_end(s)
        if node.name in ("kind", "status"):
            return (self.kind if node.name == "kind" else self.status)(s), true
        return _outside(node)

    def _t_arith(self, node: ir.Arith, env: Env) -> tuple[Any, z3.BoolRef]:
        if node.op not in ("+", "-"):
            return _outside(node)
        (a, da), (b, db) = self.term(node.left, env), self.term(node.right, env)
        return (a + b if node.op == "+" else a - b), z3.And(da, db)

    def _t_neg(self, node: ir.Neg, env: Env) -> tuple[Any, z3.BoolRef]:
        a, da = self.term(node.operand, env)
        return -a, da


Env = dict[str, z3.ExprRef]


def _outside(node: ir.Node) -> NoReturn:
    raise EncodingError(f"{type(node).__name__} is outside the unbounded fragment")


#: The unbounded fragment, by node class: anything else raises :func:`_outside`.
_MEMBER: dict[type[ir.Node], Callable[..., z3.BoolRef]] = {
    ir.Spans: _Fragment._m_spans, ir.Roots: _Fragment._m_roots, ir.Rel: _Fragment._m_rel,
    ir.Comprehension: _Fragment._m_comprehension,
}
_FORMULA: dict[type[ir.Node], Callable[..., z3.BoolRef]] = {
    ir.Const: _Fragment._f_const, ir.Not: _Fragment._f_not, ir.And: _Fragment._f_and,
    ir.Or: _Fragment._f_or, ir.Implies: _Fragment._f_implies, ir.Quant: _Fragment._f_quant,
    ir.Field: _Fragment._f_field, ir.Compare: _Fragment._f_compare,
}
_TERM: dict[type[ir.Node], Callable[..., tuple[Any, z3.BoolRef]]] = {
    ir.Const: _Fragment._t_const, ir.ParamRef: _Fragment._t_param, ir.Field: _Fragment._t_field,
    ir.Arith: _Fragment._t_arith, ir.Neg: _Fragment._t_neg,
}


def prove_unbounded(premises: Sequence[ir.Property], conclusion: ir.Property,
                    params: Mapping[str, Any], timeout: float = 10.0) -> tuple[bool, str]:
    """Try to prove ``premises |= conclusion`` for traces of any size.

    Returns
    -------
    (bool, str)
        ``(True, "")`` when proved; otherwise ``False`` and why not (outside the fragment,
        or Z3 did not find a proof: ``sat``/``unknown`` prove nothing here).
    """
    frag = _Fragment(params)
    try:
        pre = [frag.formula(p.formula, {}) for p in premises]
        goal = frag.formula(conclusion.formula, {})
    except EncodingError as err:
        return False, f"not attempted ({err})"
    s = z3.Solver()
    s.set("timeout", max(1, int(min(timeout, 10.0) * 1000)))
    s.add(*frag.axioms, *pre, z3.Not(goal))
    r = s.check()
    if r == z3.unsat:
        return True, ""
    if r == z3.sat:
        return False, "no proof for all sizes (the abstraction has a model)"
    return False, f"no proof for all sizes ({s.reason_unknown()})"
