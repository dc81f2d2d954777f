"""The encoder: otlspec IR to Z3 over :class:`~workbench.smt.model.TraceTerms`.

Every IR node is encoded as a direct reading of :mod:`workbench.engine.reference`:
quantifiers are unrolled over the span (or event) slots, set terms become membership
conditions per slot, aggregates are sums and ``If`` folds over those slots, and temporal
operators quantify over the points of the symbolic :class:`~workbench.smt.timeline.Timeline`.
A node the encoding cannot express raises :class:`EncodingError` naming the node.

Schematic predicates (:class:`Pred`) are uninterpreted atoms used by theorems: ``P(s, t)``
is an arbitrary relation of its span arguments (and, when ``timed``, of the current timeline
point), so a theorem proved with them holds for every formula substituted for them.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import z3

from workbench.engine.values import UNDEF, is_number, quantile_rank, quantile_ratio
from workbench.lang import ir
from workbench.smt.model import TraceTerms
from workbench.smt.terms import (
    Bool,
    Num,
    add,
    band,
    beq,
    bimp,
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
from workbench.smt.timeline import END, EVENT, START, Timeline
from workbench.smt.values import (
    EncodingError,
    SVal,
    call,
    compare,
    equal,
    facets,
    matches,
    truthy,
)

Elem = int | tuple[int, int]  # a span slot, or (span slot, event index)
Env = Mapping[str, Elem]
_fresh = itertools.count()


@dataclass(frozen=True, slots=True)
class Pred(ir.Node):
    """A schematic atom for theorems: an uninterpreted relation of span variables.

    ``timed`` predicates also depend on the timeline point they are evaluated at, so they
    stand for arbitrary (temporal) formulas over their arguments.
    """

    name: str
    args: tuple[ir.Var, ...] = ()
    timed: bool = False


ir.register_node(Pred, ("args",))


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


class Encoder:
    """Encodes formulas over one :class:`TraceTerms`.

    Parameters
    ----------
    terms:
        The trace (symbolic or concrete).
    params:
        Values of the spec's ``let``/``param`` names (already typed: ns for durations).
    """

    def __init__(self, terms: TraceTerms, params: Mapping[str, Any] | None = None) -> None:
        self.terms = terms
        self.dom = terms.domain
        self.params = dict(params or {})
        self._timeline: Timeline | None = None
        self._memo: dict[tuple[int, tuple[tuple[str, Elem], ...], int | None], Bool] = {}
        self._temporal: dict[int, bool] = {}
        self._regex: dict[str, re.Pattern[str]] = {}
        self._preds: dict[tuple[str, int, int], z3.FuncDeclRef] = {}
        self._keep: list[ir.Node] = []
        self.tag = next(_fresh)

    # ----------------------------------------------------------------- entry point
    @property
    def timeline(self) -> Timeline:
        """The timeline (built on first use)."""
        if self._timeline is None:
            self._timeline = Timeline(self.terms)
        return self._timeline

    def formula(self, node: ir.Node) -> Bool:
        """The formula holds on the trace (evaluated at the first timeline point)."""
        self._keep.append(node)
        if not self._is_temporal(node):
            return self.holds(node, {}, None)
        tl = self.timeline
        return bor(*[band(tl.is_first(x), self.holds(node, {}, x))
                     for x in tl.first_candidates()])

    def _is_temporal(self, node: ir.Node) -> bool:
        key = id(node)
        found = self._temporal.get(key)
        if found is None:
            if isinstance(node, Pred):
                found = node.timed
            else:
                found = isinstance(node, ir.Temporal | ir.StartOf | ir.EndOf | ir.EventOf) or any(
                    self._is_temporal(c) for c in node.children())
            self._temporal[key] = found
        return found

    # ----------------------------------------------------------------- formulas
    def holds(self, node: ir.Node, env: Env, pt: int | None) -> Bool:
        """Whether ``node`` holds under ``env`` at timeline point ``pt``."""
        at = pt if self._is_temporal(node) else None
        key = (id(node), tuple(sorted(env.items())), at)
        found = self._memo.get(key)
        if found is None:
            self._keep.append(node)
            found = self._memo[key] = self._holds(node, env, at)
        return found

    def _holds(self, node: ir.Node, env: Env, pt: int | None) -> Bool:
        if isinstance(node, ir.Const):
            return node.value is True
        if isinstance(node, ir.Compare):
            return compare(node.op, self.value(node.left, env, pt),
                           self.value(node.right, env, pt), self.dom)
        if isinstance(node, ir.Match):
            return matches(self.value(node.operand, env, pt), self._re(node.pattern), self.dom)
        if isinstance(node, ir.InList):
            v = self.value(node.operand, env, pt)
            return band(v.defined, bor(*[equal(v, SVal.const(item.value), self.dom)
                                         for item in node.items.items]))
        if isinstance(node, ir.Member):
            elem = env[node.elem.name]
            return bor(*[c for m, c in self.members(node.domain, env, pt) if m == elem])
        if isinstance(node, ir.Has):
            return self.value(node.operand, env, pt).defined
        if isinstance(node, ir.HappensBefore):
            return self._hb(node.left, node.right, env)
        if isinstance(node, ir.Not):
            return bnot(self.holds(node.arg, env, pt))
        if isinstance(node, ir.And):
            out: list[Bool] = []
            for a in node.args:
                h = self.holds(a, env, pt)
                if h is False:
                    return False
                out.append(h)
            return band(*out)
        if isinstance(node, ir.Or):
            out = []
            for a in node.args:
                h = self.holds(a, env, pt)
                if h is True:
                    return True
                out.append(h)
            return bor(*out)
        if isinstance(node, ir.Implies):
            left = self.holds(node.left, env, pt)
            return True if left is False else bimp(left, self.holds(node.right, env, pt))
        if isinstance(node, ir.Quant):
            return self._quant(node, env, pt)
        if isinstance(node, ir.StartOf | ir.EndOf | ir.EventOf):
            return self._atom(node, env, pt)
        if isinstance(node, ir.Temporal):
            return self._temporal_op(node, env, pt)
        if isinstance(node, Pred):
            return self._pred(node, env, pt)
        if isinstance(node, ir.Call) and node.func == "hb" and len(node.args) == 2:
            a, b = node.args
            if isinstance(a, ir.Var) and isinstance(b, ir.Var):
                return self._hb(a, b, env)
        if isinstance(node, ir.Field | ir.Attr | ir.Call | ir.ParamRef | ir.Var | ir.Arith
                      | ir.Neg | ir.Aggregate | ir.Quantile):
            return truthy(self.value(node, env, pt), self.dom)
        raise EncodingError(f"the Z3 encoding has no rule for {node_label(node)}")

    def _re(self, pattern: str) -> re.Pattern[str]:
        found = self._regex.get(pattern)
        if found is None:
            found = self._regex[pattern] = re.compile(pattern)
        return found

    def _quant(self, node: ir.Quant, env: Env, pt: int | None) -> Bool:
        parts: list[Bool] = []
        for m, c in self.members(node.domain, env, pt):
            inner = {**env, node.var: m}
            guard = c if node.guard is None else band(c, self.holds(node.guard, inner, pt))
            if guard is False:
                continue
            body = self.holds(node.body, inner, pt)
            if node.kind == "forall":
                term = bimp(guard, body)
                if term is False:
                    return False
            else:
                term = band(guard, body)
                if term is True:
                    return True
            parts.append(term)
        return band(*parts) if node.kind == "forall" else bor(*parts)

    def _hb(self, left: ir.Var, right: ir.Var, env: Env) -> Bool:
        a, b = env[left.name], env[right.name]
        if not isinstance(a, int) or not isinstance(b, int):
            raise EncodingError("hb relates spans, not events")
        return self.timeline.hb(a, b)

    def _pred(self, node: Pred, env: Env, pt: int | None) -> Bool:
        args = [env[a.name] for a in node.args]
        if any(not isinstance(a, int) for a in args):
            raise EncodingError(f"schematic predicate {node.name} takes spans")
        arity = len(args) + (1 if node.timed else 0)
        key = (node.name, arity, self.tag)
        fn = self._preds.get(key)
        if fn is None:
            fn = self._preds[key] = z3.Function(f"{node.name}_{self.tag}",
                                                *([z3.IntSort()] * arity), z3.BoolSort())
        actual: list[Any] = [z3.IntVal(a) for a in args]
        if node.timed:
            if pt is None:
                raise EncodingError(f"timed predicate {node.name} outside a temporal context")
            actual.append(z3.IntVal(pt))
        if not actual:
            return fn()
        return fn(*actual)

    @property
    def predicates(self) -> dict[tuple[str, int, int], z3.FuncDeclRef]:
        """The schematic predicates created so far."""
        return self._preds

    # ----------------------------------------------------------------- timeline
    def _atom(self, node: ir.Node, env: Env, pt: int | None) -> Bool:
        if pt is None:
            raise EncodingError(f"{node_label(node)} is a timeline atom outside a temporal context")
        p = self.timeline.points[pt]
        row = env[node.arg.name]  # type: ignore[attr-defined]
        if p.span != row:
            return False
        if isinstance(node, ir.StartOf):
            return p.phase == START
        if isinstance(node, ir.EndOf):
            return p.phase == END
        assert isinstance(node, ir.EventOf)
        if p.phase != EVENT:
            return False
        if node.name is None:
            return True
        name = self.terms.spans[p.span].events[p.k].name
        return compare("==", name, SVal.const(node.name), self.dom)

    def _temporal_op(self, node: ir.Temporal, env: Env, x: int | None) -> Bool:
        if x is None:
            raise EncodingError(f"{node_label(node)} outside a temporal context")
        tl = self.timeline
        pts = range(len(tl.points))
        op, iv = node.op, node.interval
        if op == "next":
            return bor(*[band(tl.succ(x, y), self.holds(node.args[0], env, y)) for y in pts])
        if op == "previously":
            return bor(*[band(tl.succ(y, x), self.holds(node.args[0], env, y)) for y in pts])
        if op == "wnext":
            return bor(tl.is_last(x),
                       *[band(tl.succ(x, y), self.holds(node.args[0], env, y)) for y in pts])
        future = op in ("eventually", "always", "until")
        lo, hi = iv.lo, iv.hi
        if op in ("eventually", "once"):
            hits: list[Bool] = []
            for y in pts:
                body = self.holds(node.args[0], env, y)
                if body is not False:
                    hits.append(band(tl.window(x, y, lo, hi, future), body))
            return bor(*hits)
        if op in ("always", "historically"):
            musts: list[Bool] = []
            for y in pts:
                body = self.holds(node.args[0], env, y)
                if body is not True:
                    musts.append(bimp(tl.window(x, y, lo, hi, future), body))
            return band(*musts)
        if op in ("until", "since"):
            phi, psi = node.args
            parts: list[Bool] = []
            for y in pts:
                w = tl.window(x, y, lo, hi, future)
                if w is False:
                    continue
                hit = band(w, self.holds(psi, env, y))
                if hit is False:
                    continue
                between: list[Bool] = []
                for z in pts:
                    if future:
                        inside = band(tl.points[z].present, tl.le(x, z), tl.lt(z, y))
                    else:
                        inside = band(tl.points[z].present, tl.lt(y, z), tl.le(z, x))
                    if inside is False:
                        continue
                    between.append(bimp(inside, self.holds(phi, env, z)))
                parts.append(band(hit, *between))
            return bor(*parts)
        raise EncodingError(f"temporal operator {op!r} is not supported")

    # ----------------------------------------------------------------- sets
    def members(self, node: ir.Node, env: Env, pt: int | None) -> list[tuple[Elem, Bool]]:
        """Candidate members of a set term with their membership conditions."""
        t = self.terms
        n = t.n
        if isinstance(node, ir.Spans):
            return [(i, t.spans[i].act) for i in range(n)]
        if isinstance(node, ir.Roots):
            return _keep([(i, band(t.spans[i].act, t.is_root(i))) for i in range(n)])
        if isinstance(node, ir.Rel):
            i = env[node.arg.name]
            if not isinstance(i, int):
                raise EncodingError(f"{node.rel}() of an event in {node_label(node)}")
            return _keep(self._relation(node.rel, i))
        if isinstance(node, ir.Events):
            i = env[node.arg.name]
            if not isinstance(i, int):
                raise EncodingError(f"events() of an event in {node_label(node)}")
            return _keep([((i, k), ev.act) for k, ev in enumerate(t.spans[i].events)])
        if isinstance(node, ir.Comprehension):
            out = []
            for m, c in self.members(node.domain, env, pt):
                g = band(c, self.holds(node.guard, {**env, node.var: m}, pt))
                if g is not False:
                    out.append((m, g))
            return out
        raise EncodingError(f"{node_label(node)} is not a set the Z3 encoding knows")

    def _relation(self, rel: str, i: int) -> list[tuple[Elem, Bool]]:
        t = self.terms
        n = t.n
        if rel == "parent":
            return [(j, t.parent_is(i, j)) for j in range(n)]
        if rel == "children":
            return [(j, t.parent_is(j, i)) for j in range(n)]
        if rel == "ancestors":
            return [(j, t.ancestor(i, j)) for j in range(n)]
        if rel == "descendants":
            return [(j, band(t.spans[j].act, t.ancestor(j, i))) for j in range(n)]
        if rel == "siblings":
            par = t.spans[i].par
            return [(j, band(t.spans[j].act, num_cmp(">=", par, 0),
                             num_cmp("==", t.spans[j].par, par)))
                    for j in range(n) if j != i]
        if rel == "linked":
            sp = t.spans[i]
            return [(j, band(t.spans[j].act,
                             bor(*[band(a, num_cmp("==", tgt, j)) for a, tgt in sp.links])))
                    for j in range(n)]
        raise EncodingError(f"relation {rel}() is not supported by the Z3 encoding")

    # ----------------------------------------------------------------- values
    def value(self, node: ir.Node, env: Env, pt: int | None) -> SVal:
        """The (possibly symbolic) value of a term."""
        if isinstance(node, ir.Const):
            return SVal.const(node.value)
        if isinstance(node, ir.ParamRef):
            if node.name not in self.params:
                raise EncodingError(f"parameter {node.name!r} has no value")
            return SVal.const(self.params[node.name])
        if isinstance(node, ir.Var):
            elem = env[node.name]
            if isinstance(elem, int):
                return SVal.const(elem)
            raise EncodingError(f"the event variable {node.name} used as a value")
        if isinstance(node, ir.Field):
            return self._field(node, env)
        if isinstance(node, ir.Attr):
            return self._attr(node, env)
        if isinstance(node, ir.Neg):
            v = self.value(node.operand, env, pt)
            if v.kind == "py":
                return SVal.const(-v.py if is_number(v.py) else UNDEF)
            f = facets(v, self.dom)
            return SVal.num(-lift(f.num) if is_sym(f.num) else -f.num, band(v.defined, f.is_num))
        if isinstance(node, ir.Arith):
            return self._arith(node, env, pt)
        if isinstance(node, ir.Call):
            if node.func == "hb":
                return SVal.boolean(self._holds(node, env, pt))
            if len(node.args) != 1:
                raise EncodingError(f"{node_label(node)}: unexpected arguments")
            return call(node.func, self.value(node.args[0], env, pt), self.dom)
        if isinstance(node, ir.Aggregate):
            return self._aggregate(node, env, pt)
        if isinstance(node, ir.Quantile):
            return self._quantile(node, env, pt)
        if isinstance(node, ir.Compare | ir.Match | ir.InList | ir.Member | ir.Has
                      | ir.HappensBefore | ir.Not | ir.And | ir.Or | ir.Implies | ir.Quant
                      | ir.StartOf | ir.EndOf | ir.EventOf | ir.Temporal | Pred):
            return SVal.boolean(self.holds(node, env, pt))
        raise EncodingError(f"the Z3 encoding has no value rule for {node_label(node)}")

    def _field(self, node: ir.Field, env: Env) -> SVal:
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

    def _attr(self, node: ir.Attr, env: Env) -> SVal:
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

    def _quantile(self, node: ir.Quantile, env: Env, pt: int | None) -> SVal:
        """The reference's stable-sort rank, unrolled over the slots: slot ``j`` is the
        quantile when it holds a number and exactly ``rank - 1`` numbers precede it (smaller
        ones, and equal ones in earlier slots); ``rank`` is ``max(1, ceil(q * n))`` in
        integer arithmetic, ``q`` the exact decimal it is written as."""
        nums: list[tuple[Bool, Num]] = []
        for m, c in self.members(node.domain, env, pt):
            v = self.value(node.body, {**env, node.var: m}, pt)
            f = facets(v, self.dom)
            nan = not is_sym(f.num) and f.num != f.num  # concrete NaN: skipped
            nums.append((False if nan else band(c, v.defined, f.is_num), f.num))
        n = count([c for c, _ in nums])
        num, den = quantile_ratio(node.q)
        if is_sym(n):
            up = (lift(n) * num + (den - 1)) / den  # Int division: floor, n >= 0
            rank: Num = z3.If(up < 1, z3.IntVal(1), up)
        else:
            rank = quantile_rank(node.q, int(n)) if n else 0
        acc: Num = 0
        for j, (cj, xj) in enumerate(nums):
            before = count([
                band(ck, bor(num_cmp("<", xk, xj), num_cmp("==", xk, xj) if k < j else False))
                for k, (ck, xk) in enumerate(nums) if k != j
            ])
            acc = ite(band(cj, num_cmp("==", add(before, 1), rank)), xj, acc)
        some = bor(*[c for c, _ in nums])
        return SVal.num(acc, some) if is_sym(acc) or some is not True else SVal.const(acc)


def _keep(items: list[tuple[Elem, Bool]]) -> list[tuple[Elem, Bool]]:
    return [(m, c) for m, c in items if c is not False]


def equivalent(a: Bool, b: Bool) -> Bool:
    """``a`` and ``b`` are equivalent."""
    return beq(a, b)
