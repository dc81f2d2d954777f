"""The Z3 encoder's rules for terms that need more than a line: span and event fields,
attributes, arithmetic and aggregates (a mixin of :class:`workbench.smt.encode.Encoder`,
whose ``_VALUE`` table dispatches to them)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import z3

from workbench.engine.values import UNDEF, is_number
from workbench.lang import ir
from workbench.smt.model import TraceTerms
from workbench.smt.terms import (
    Bool,
    Num,
    add,
    band,
    bnot,
    bor,
    count,
    is_sym,
    ite,
    lift,
    num_cmp,
    sub,
    total,
)
from workbench.smt.values import EncodingError, SVal, equal, facets

Elem = int | tuple[int, int]  # a span slot, or (span slot, event index)
Env = Mapping[str, Elem]


def _to_real(t: Any) -> Any:
    """``t`` as a Real term (a sum of float values already is one; ``ToReal`` wants an Int)."""
    return z3.ToReal(t) if t.is_int() else t


def node_label(node: ir.Node) -> str:
    """A short human label of an IR node for error messages."""
    try:
        from workbench.lang import print_formula

        return f"{type(node).__name__} `{print_formula(node)}`"
    except Exception:  # the printer may not know every node (or may be absent)
        return type(node).__name__


class TermRules:
    """Mixin of :class:`~workbench.smt.encode.Encoder`: the larger value rules."""

    terms: TraceTerms
    dom: Any

    if TYPE_CHECKING:  # provided by Encoder
        def value(self, node: ir.Node, env: Env, pt: int | None) -> SVal: ...
        def members(self, node: ir.Node, env: Env,
                    pt: int | None) -> list[tuple[Elem, Bool]]: ...

    def _field(self, node: ir.Field, env: Env, pt: int | None = None) -> SVal:
        elem = env[node.base.name]
        t = self.terms
        if isinstance(elem, tuple):
            ev = t.spans[elem[0]].events[elem[1]]
            if node.name == "name":
                return ev.name
            if node.name == "time":
                return SVal.num(ev.time)
            raise EncodingError(f"event field {node.name!r} is not known")
        sp = t.spans[elem]
        if node.name == "start":
            return SVal.num(sp.start)
        if node.name == "end":
            return SVal.num(sp.end, sp.has_end)
        if node.name == "duration":
            return SVal.num(sub(sp.end, sp.start), sp.has_end)
        if node.name == "has_end":
            return SVal.boolean(sp.has_end)
        found = sp.fields.get(node.name)
        if found is None:
            raise EncodingError(f"span field {node.name!r} is not encoded")
        return found

    def _attr(self, node: ir.Attr, env: Env, pt: int | None = None) -> SVal:
        elem = env[node.base.name]
        t = self.terms
        if isinstance(elem, tuple):
            attrs = t.spans[elem[0]].events[elem[1]].attrs
        elif node.scope == "resource":
            attrs = t.spans[elem].resource
        else:
            attrs = t.spans[elem].attrs
        found = attrs.get(node.key)
        if found is None:
            raise EncodingError(f"attribute {node.key!r} ({node.scope}) is not modelled")
        return found

    def _arith(self, node: ir.Arith, env: Env, pt: int | None) -> SVal:
        a, b = self.value(node.left, env, pt), self.value(node.right, env, pt)
        op = node.op
        if a.kind == "py" and b.kind == "py":
            x, y = a.py, b.py
            if not (is_number(x) and is_number(y)):
                return SVal.const(UNDEF)
            if op == "+":
                return SVal.const(x + y)
            if op == "-":
                return SVal.const(x - y)
            if op == "*":
                return SVal.const(x * y)
            if y == 0:
                return SVal.const(UNDEF)
            return SVal.const(x / y if op == "/" else x % y)
        fa, fb = facets(a, self.dom), facets(b, self.dom)
        defined = band(a.defined, b.defined, fa.is_num, fb.is_num)
        x, y = fa.num, fb.num
        if op == "+":
            return SVal.num(add(x, y), defined)
        if op == "-":
            return SVal.num(sub(x, y), defined)
        if op == "*":
            return SVal.num(lift(x) * lift(y), defined)
        defined = band(defined, num_cmp("!=", y, 0))
        if op == "/":
            return SVal.num(z3.ToReal(lift(x)) / z3.ToReal(lift(y)), defined)
        tx, ty = lift(x), lift(y)
        if not (tx.is_int() and ty.is_int()):
            raise EncodingError(f"{node_label(node)}: % of non-integers is not supported")
        r = tx % ty  # Z3: Euclidean, 0 <= r < |y|; Python: the sign of the divisor
        return SVal.num(z3.If(z3.And(ty < 0, r != 0), r + ty, r), defined)

    def _aggregate(self, node: ir.Aggregate, env: Env, pt: int | None) -> SVal:
        members = self.members(node.domain, env, pt)
        if node.op == "count":
            return SVal.num(count([c for _, c in members]))
        if node.var is None or node.body is None:
            raise EncodingError(f"{node_label(node)} has no body")
        vals = [(c, self.value(node.body, {**env, node.var: m}, pt)) for m, c in members]
        dom = self.dom
        if node.op == "distinct":
            firsts: list[Bool] = []
            for j, (cj, vj) in enumerate(vals):
                here = band(cj, vj.defined)
                seen = [band(ck, vk.defined, equal(vk, vj, dom)) for ck, vk in vals[:j]]
                firsts.append(band(here, bnot(bor(*seen))))
            return SVal.num(count(firsts))
        nums = []
        for c, v in vals:
            f = facets(v, dom)
            nums.append((band(c, v.defined, f.is_num), f.num))
        if node.op == "sum":
            return SVal.num(total([ite(c, x, 0) for c, x in nums]))
        some = bor(*[c for c, _ in nums])
        if node.op == "avg":
            s = total([ite(c, x, 0) for c, x in nums])
            k = count([c for c, _ in nums])
            if not is_sym(s) and not is_sym(k):
                return SVal.const(s / k if k else UNDEF)
            return SVal.num(_to_real(lift(s)) / _to_real(lift(k)), some)
        better = "<" if node.op == "min" else ">"
        acc: Num = 0
        have: Bool = False
        for c, x in nums:
            take = band(c, bor(bnot(have), num_cmp(better, x, acc)))
            acc = ite(take, x, acc)
            have = bor(have, c)
        return SVal.num(acc, some) if is_sym(acc) or some is not True else SVal.const(acc)
