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
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import z3

from workbench.engine.values import UNDEF, is_number
from workbench.lang import ir
from workbench.smt.encode_terms import Elem, Env, TermRules, node_label
from workbench.smt.model import TraceTerms
from workbench.smt.terms import (
    Bool,
    band,
    beq,
    bimp,
    bnot,
    bor,
    is_sym,
    lift,
    num_cmp,
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


class Encoder(TermRules):
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
        rule = _HOLDS.get(type(node))
        if rule is None:
            raise EncodingError(f"the Z3 encoding has no rule for {node_label(node)}")
        return rule(self, node, env, pt)

    def _h_const(self, node: ir.Const, env: Env, pt: int | None) -> Bool:
        return node.value is True

    def _h_compare(self, node: ir.Compare, env: Env, pt: int | None) -> Bool:
        return compare(node.op, self.value(node.left, env, pt),
                       self.value(node.right, env, pt), self.dom)

    def _h_match(self, node: ir.Match, env: Env, pt: int | None) -> Bool:
        return matches(self.value(node.operand, env, pt), self._re(node.pattern), self.dom)

    def _h_in_list(self, node: ir.InList, env: Env, pt: int | None) -> Bool:
        v = self.value(node.operand, env, pt)
        return band(v.defined, bor(*[equal(v, SVal.const(item.value), self.dom)
                                     for item in node.items.items]))

    def _h_member(self, node: ir.Member, env: Env, pt: int | None) -> Bool:
        elem = env[node.elem.name]
        return bor(*[c for m, c in self.members(node.domain, env, pt) if m == elem])

    def _h_has(self, node: ir.Has, env: Env, pt: int | None) -> Bool:
        return self.value(node.operand, env, pt).defined

    def _h_happens_before(self, node: ir.HappensBefore, env: Env, pt: int | None) -> Bool:
        return self._hb(node.left, node.right, env)

    def _h_not(self, node: ir.Not, env: Env, pt: int | None) -> Bool:
        return bnot(self.holds(node.arg, env, pt))

    def _h_and(self, node: ir.And, env: Env, pt: int | None) -> Bool:
        out: list[Bool] = []
        for a in node.args:
            h = self.holds(a, env, pt)
            if h is False:
                return False
            out.append(h)
        return band(*out)

    def _h_or(self, node: ir.Or, env: Env, pt: int | None) -> Bool:
        out: list[Bool] = []
        for a in node.args:
            h = self.holds(a, env, pt)
            if h is True:
                return True
            out.append(h)
        return bor(*out)

    def _h_implies(self, node: ir.Implies, env: Env, pt: int | None) -> Bool:
        left = self.holds(node.left, env, pt)
        return True if left is False else bimp(left, self.holds(node.right, env, pt))

    def _h_call(self, node: ir.Call, env: Env, pt: int | None) -> Bool:
        if node.func == "hb" and len(node.args) == 2:
            a, b = node.args
            if isinstance(a, ir.Var) and isinstance(b, ir.Var):
                return self._hb(a, b, env)
        return self._h_truthy(node, env, pt)

    def _h_truthy(self, node: ir.Node, env: Env, pt: int | None) -> Bool:
        """A term used as a formula: true when its value is ``true``."""
        return truthy(self.value(node, env, pt), self.dom)

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
        rule = _MEMBERS.get(type(node))
        if rule is None:
            raise EncodingError(f"{node_label(node)} is not a set the Z3 encoding knows")
        return rule(self, node, env, pt)

    def _m_spans(self, node: ir.Spans, env: Env, pt: int | None) -> list[tuple[Elem, Bool]]:
        t = self.terms
        return [(i, t.spans[i].act) for i in range(t.n)]

    def _m_roots(self, node: ir.Roots, env: Env, pt: int | None) -> list[tuple[Elem, Bool]]:
        t = self.terms
        return _keep([(i, band(t.spans[i].act, t.is_root(i))) for i in range(t.n)])

    def _m_rel(self, node: ir.Rel, env: Env, pt: int | None) -> list[tuple[Elem, Bool]]:
        i = env[node.arg.name]
        if not isinstance(i, int):
            raise EncodingError(f"{node.rel}() of an event in {node_label(node)}")
        return _keep(self._relation(node.rel, i))

    def _m_events(self, node: ir.Events, env: Env, pt: int | None) -> list[tuple[Elem, Bool]]:
        i = env[node.arg.name]
        if not isinstance(i, int):
            raise EncodingError(f"events() of an event in {node_label(node)}")
        return _keep([((i, k), ev.act) for k, ev in enumerate(self.terms.spans[i].events)])

    def _m_comprehension(self, node: ir.Comprehension, env: Env,
                         pt: int | None) -> list[tuple[Elem, Bool]]:
        out = []
        for m, c in self.members(node.domain, env, pt):
            g = band(c, self.holds(node.guard, {**env, node.var: m}, pt))
            if g is not False:
                out.append((m, g))
        return out

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
        rule = _VALUE.get(type(node))
        if rule is None:
            raise EncodingError(f"the Z3 encoding has no value rule for {node_label(node)}")
        return rule(self, node, env, pt)

    def _v_const(self, node: ir.Const, env: Env, pt: int | None) -> SVal:
        return SVal.const(node.value)

    def _v_param(self, node: ir.ParamRef, env: Env, pt: int | None) -> SVal:
        if node.name not in self.params:
            raise EncodingError(f"parameter {node.name!r} has no value")
        return SVal.const(self.params[node.name])

    def _v_var(self, node: ir.Var, env: Env, pt: int | None) -> SVal:
        elem = env[node.name]
        if isinstance(elem, int):
            return SVal.const(elem)
        raise EncodingError(f"the event variable {node.name} used as a value")

    def _v_neg(self, node: ir.Neg, env: Env, pt: int | None) -> SVal:
        v = self.value(node.operand, env, pt)
        if v.kind == "py":
            return SVal.const(-v.py if is_number(v.py) else UNDEF)
        f = facets(v, self.dom)
        return SVal.num(-lift(f.num) if is_sym(f.num) else -f.num, band(v.defined, f.is_num))

    def _v_call(self, node: ir.Call, env: Env, pt: int | None) -> SVal:
        if node.func == "hb":
            return SVal.boolean(self._holds(node, env, pt))
        if len(node.args) != 1:
            raise EncodingError(f"{node_label(node)}: unexpected arguments")
        return call(node.func, self.value(node.args[0], env, pt), self.dom)

    def _v_formula(self, node: ir.Node, env: Env, pt: int | None) -> SVal:
        """A formula used as a term: its truth value."""
        return SVal.boolean(self.holds(node, env, pt))


Rule = Callable[[Encoder, Any, Env, "int | None"], Any]

#: What each IR node class is to the encoder: a ``"formula"`` (a :meth:`Encoder.holds` rule),
#: a ``"term"`` (a :meth:`Encoder.value` rule; also a formula, by its truth value), a
#: ``"set"`` (an :meth:`Encoder.members` rule), or a ``"part"`` of another node that is never
#: encoded on its own. Its keys are every registered node class (a test checks it), so a new
#: node class fails that test until it has a row here and its rule below.
ROLES: dict[type[ir.Node], str] = {
    ir.Const: "term", ir.ParamRef: "term", ir.Var: "term", ir.Field: "term", ir.Attr: "term",
    ir.Neg: "term", ir.Arith: "term", ir.Call: "term", ir.Aggregate: "term",
    ir.Compare: "formula", ir.Match: "formula", ir.InList: "formula", ir.Member: "formula",
    ir.Has: "formula", ir.HappensBefore: "formula", ir.Not: "formula", ir.And: "formula",
    ir.Or: "formula", ir.Implies: "formula", ir.Quant: "formula", ir.StartOf: "formula",
    ir.EndOf: "formula", ir.EventOf: "formula", ir.Temporal: "formula", Pred: "formula",
    ir.Spans: "set", ir.Roots: "set", ir.Rel: "set", ir.Events: "set",
    ir.Comprehension: "set",
    ir.ListLit: "part", ir.Interval: "part", ir.Template: "part", ir.Property: "part",
    ir.Param: "part", ir.Spec: "part",
}

_HOLDS: dict[type[ir.Node], Rule] = {
    ir.Const: Encoder._h_const,
    ir.Compare: Encoder._h_compare,
    ir.Match: Encoder._h_match,
    ir.InList: Encoder._h_in_list,
    ir.Member: Encoder._h_member,
    ir.Has: Encoder._h_has,
    ir.HappensBefore: Encoder._h_happens_before,
    ir.Not: Encoder._h_not,
    ir.And: Encoder._h_and,
    ir.Or: Encoder._h_or,
    ir.Implies: Encoder._h_implies,
    ir.Quant: Encoder._quant,
    ir.StartOf: Encoder._atom,
    ir.EndOf: Encoder._atom,
    ir.EventOf: Encoder._atom,
    ir.Temporal: Encoder._temporal_op,
    Pred: Encoder._pred,
    ir.Call: Encoder._h_call,
}
_VALUE: dict[type[ir.Node], Rule] = {
    ir.Const: Encoder._v_const,
    ir.ParamRef: Encoder._v_param,
    ir.Var: Encoder._v_var,
    ir.Field: Encoder._field,
    ir.Attr: Encoder._attr,
    ir.Neg: Encoder._v_neg,
    ir.Arith: Encoder._arith,
    ir.Call: Encoder._v_call,
    ir.Aggregate: Encoder._aggregate,
}
_MEMBERS: dict[type[ir.Node], Rule] = {
    ir.Spans: Encoder._m_spans,
    ir.Roots: Encoder._m_roots,
    ir.Rel: Encoder._m_rel,
    ir.Events: Encoder._m_events,
    ir.Comprehension: Encoder._m_comprehension,
}
# a term is also a formula (by its truth value) and a formula also a term (its truth value),
# unless it has a rule of its own above (Const, Call)
_HOLDS = {**{c: Encoder._h_truthy for c, r in ROLES.items() if r == "term"}, **_HOLDS}
_VALUE = {**{c: Encoder._v_formula for c, r in ROLES.items() if r == "formula"}, **_VALUE}
RULES = {"formula": _HOLDS, "term": _VALUE, "set": _MEMBERS}


def _keep(items: list[tuple[Elem, Bool]]) -> list[tuple[Elem, Bool]]:
    return [(m, c) for m, c in items if c is not False]


def equivalent(a: Bool, b: Bool) -> Bool:
    """``a`` and ``b`` are equivalent."""
    return beq(a, b)
