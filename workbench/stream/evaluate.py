"""Formulas compiled once into closures over a :class:`~workbench.stream.state.TraceState`.

Compile once, run many: :class:`Compiler` turns each IR node into a Python closure
``(state, env) -> value`` by one table dispatch per node class (``_FORMULAS`` here, ``TERMS``
and ``SETS`` of :mod:`workbench.stream.terms`), memoized per node, so equal sub-formulas
compile once. Values follow :mod:`workbench.engine.values` exactly as the reference
interpreter does (undefined values, equality across int/float, built-ins). The closure types
and the fragment's limits (:class:`Unsupported`) are in :mod:`workbench.stream.fragment`.

Formulas without timeline content evaluate to a ``bool``. A formula with timeline atoms or
temporal operators evaluates to its value *at every point of the timeline* (a ``list`` of
bools), computed in one sweep per operator by the online operators of
:mod:`workbench.stream.ops` instead of the reference's window scan per position; a property's
verdict is the value at point 0. On an empty timeline the operators take the reference's
values (``always``/``historically``/``wnext`` true, the others false).

Anything outside the fragment raises :class:`Unsupported` at compile time with the reason;
such a property is checked by the batch engine instead.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from typing import Any

from workbench.engine.values import UNDEF, equal, order, regex
from workbench.lang import ir
from workbench.stream.fragment import UNSUPPORTED, Env, Fn, Seq, Unsupported
from workbench.stream.ops import TEMPORAL
from workbench.stream.state import TraceState
from workbench.stream.terms import SETS, TERMS
from workbench.traces.context import END, EVENT, START


def _is_temporal(node: ir.Node, memo: dict[ir.Node, bool], slots: Mapping[ir.Node, int]
                 ) -> bool:
    found = memo.get(node)
    if found is None:
        found = node not in slots and (
            isinstance(node, ir.Temporal | ir.StartOf | ir.EndOf | ir.EventOf)
            or any(_is_temporal(c, memo, slots) for c in node.children()))
        memo[node] = found
    return found


def at0(value: bool | Seq) -> bool:
    """The value of a formula at the first timeline point."""
    return bool(value[0]) if isinstance(value, list) else bool(value)


def _spread(value: bool | Seq, n: int) -> Seq:
    return value if isinstance(value, list) else [bool(value)] * n


def _neg(value: bool | Seq) -> bool | Seq:
    return [not x for x in value] if isinstance(value, list) else not value


def _both(a: bool | Seq, b: bool | Seq) -> bool | Seq:
    if not isinstance(a, list):
        return b if a else False
    if not isinstance(b, list):
        return a if b else False
    return [x and y for x, y in zip(a, b, strict=True)]


def _either(a: bool | Seq, b: bool | Seq) -> bool | Seq:
    if not isinstance(a, list):
        return True if a else b
    if not isinstance(b, list):
        return True if b else a
    return [x or y for x, y in zip(a, b, strict=True)]


class Compiler:
    """Compiles the nodes of bound properties to closures (see the module docstring).

    Parameters
    ----------
    params:
        Values of any :class:`~workbench.lang.ir.ParamRef` left in the formulas.
    slots:
        Nodes whose value is kept online per binding (:mod:`workbench.stream.accumulate`):
        they compile to a read of slot ``k`` of the environment's accumulator states.
    once:
        Variables whose spans are each evaluated once (the binding of a span-local
        property): their costly sub-terms are not kept on the span's record.
    """

    def __init__(self, params: Mapping[str, Any] | None = None,
                 slots: Mapping[ir.Node, int] | None = None,
                 once: frozenset[str] = frozenset()) -> None:
        self.params = dict(params or {})
        self.slots = dict(slots or {})
        #: variables each span is bound to once (a span-local binding): nothing to memoize
        self.once = once
        self._timeline_memo: dict[ir.Node, bool] = {}
        self._dense_depth = 0
        from workbench.stream.pointwise import Pointwise

        self.pointwise = Pointwise(self)
        self._memo: dict[tuple[str, ir.Node], Fn] = {}

    def temporal(self, node: ir.Node) -> bool:
        """Whether ``node`` reads the timeline (its value then varies by point); a slot's
        value is kept online, one per binding, so it does not."""
        return _is_temporal(node, self._timeline_memo, self.slots)

    # ------------------------------------------------------------------ entry points
    def formula(self, node: ir.Node) -> Fn:
        """A closure returning the truth of ``node``: a bool, or one per timeline point.

        Outside any temporal operator (the top of a property or binding, read at point 0 only),
        a formula that reads the timeline is evaluated at point 0 alone by
        :class:`~workbench.stream.pointwise.Pointwise`; inside one, at every point.
        """
        if self._dense_depth == 0 and self.temporal(node):
            key = ("top", node)
            found = self._memo.get(key)
            if found is None:
                point = self.pointwise.point(node)
                dense = self.dense(node)

                def top(st: TraceState, env: Env) -> bool | Seq:
                    return point(st, env, 0) if st.points else dense(st, env)
                found = self._memo[key] = top
            return found
        key = ("f", node)
        found = self._memo.get(key)
        if found is None:
            make = _FORMULAS.get(type(node))
            if node in self.slots:
                found = _slot(self.slots[node], True)
            elif make is None:  # a term in formula position: true when its value is true
                term = self.term(node)
                found = lambda st, env: term(st, env) is True  # noqa: E731
            else:
                found = self._per_span(node, make(self, node))
            self._memo[key] = found
        return found

    def dense(self, node: ir.Node) -> Fn:
        """``node`` at every timeline point (the sweep), whatever the context."""
        self._dense_depth += 1
        try:
            return self.formula(node)
        finally:
            self._dense_depth -= 1

    def _per_span(self, node: ir.Node, fn: Fn) -> Fn:
        """``fn``, computed once per span (or event) when ``node`` is costly and reads nothing
        but one variable's own immutable data; the value is kept on that span's record."""
        if not isinstance(node, _COSTLY) or not _own_data(node):
            return fn
        names = _free(node)
        if len(names) != 1:
            return fn
        (var,) = names
        if var in self.once:
            return fn
        slot = next(_MEMO_SLOTS)

        def per_span(st: TraceState, env: Env) -> Any:
            memo = env[var].memo
            value = memo.get(slot, _MISSING)
            if value is _MISSING:
                value = memo[slot] = fn(st, env)
            return value
        return per_span

    def term(self, node: ir.Node) -> Fn:
        """A closure returning the value of a term (which must not read the timeline)."""
        key = ("t", node)
        found = self._memo.get(key)
        if found is None:
            make = TERMS.get(type(node))
            if node in self.slots:
                found = _slot(self.slots[node], False)
            elif make is None:
                if type(node) not in _FORMULAS:
                    raise Unsupported(f"stream: no value rule for {type(node).__name__}")
                if self.temporal(node):
                    raise Unsupported(UNSUPPORTED["temporal-term"])
                f = self.formula(node)
                found = lambda st, env: bool(f(st, env))  # noqa: E731
            else:
                found = self._per_span(node, make(self, node))
            self._memo[key] = found
        return found

    def members(self, node: ir.Node) -> Fn:
        """A closure returning the members of a set term, in row order."""
        key = ("s", node)
        found = self._memo.get(key)
        if found is None:
            make = SETS.get(type(node))
            if make is None:
                raise Unsupported(f"stream: {type(node).__name__} is not a set")
            found = self._memo[key] = make(self, node)
        return found

    # ------------------------------------------------------------------ formulas
    def _const_holds(self, node: ir.Const) -> Fn:
        v = node.value is True
        return lambda st, env: v

    def _compare(self, node: ir.Compare) -> Fn:
        left, right, op = self.term(node.left), self.term(node.right), node.op

        def compare(st: TraceState, env: Env) -> bool:
            a, b = left(st, env), right(st, env)
            if a is UNDEF or b is UNDEF:
                return False
            if op == "==":
                return equal(a, b)
            if op == "!=":
                return not equal(a, b)
            return order(op, a, b)
        return compare

    def _match(self, node: ir.Match) -> Fn:
        operand, pattern = self.term(node.operand), regex(node.pattern)
        # Names, services and many attribute values recur from span to span, and a search
        # outside RE2 runs on ``re`` under a time budget (a timer armed per search): short
        # texts' results are kept, a bounded number per node (a timeout is never kept).
        seen: dict[str, bool] = {}

        def match(st: TraceState, env: Env) -> bool:
            v = operand(st, env)
            if not isinstance(v, str):
                return False
            found = seen.get(v)
            if found is None:
                found = bool(pattern.search(v))
                if len(v) <= _MATCH_MEMO_CHARS:
                    if len(seen) >= _MATCH_MEMO:
                        seen.clear()
                    seen[v] = found
            return found
        return match

    def _in_list(self, node: ir.InList) -> Fn:
        operand, items = self.term(node.operand), [i.value for i in node.items.items]

        def in_list(st: TraceState, env: Env) -> bool:
            v = operand(st, env)
            return v is not UNDEF and any(equal(v, item) for item in items)
        return in_list

    def _member(self, node: ir.Member) -> Fn:
        elem, members = node.elem.name, self.members(node.domain)
        return lambda st, env: any(m is env[elem] for m in members(st, env))

    def _has(self, node: ir.Has) -> Fn:
        operand = self.term(node.operand)
        return lambda st, env: operand(st, env) is not UNDEF

    def _hb(self, node: ir.HappensBefore) -> Fn:
        raise Unsupported(UNSUPPORTED[ir.HappensBefore])

    # Without timeline content a formula's value is a bool: the connectives skip the
    # per-point merge (the fast path evaluates them once per span, every span).
    def _not(self, node: ir.Not) -> Fn:
        arg = self.formula(node.arg)
        if not self.temporal(node):
            return lambda st, env: not arg(st, env)
        return lambda st, env: _neg(arg(st, env))

    def _and(self, node: ir.And) -> Fn:
        args = [self.formula(a) for a in node.args]
        if not self.temporal(node):
            def conj_bool(st: TraceState, env: Env) -> bool:
                for a in args:
                    if not a(st, env):
                        return False
                return True
            return conj_bool

        def conj(st: TraceState, env: Env) -> bool | Seq:
            acc: bool | Seq = True
            for a in args:
                acc = _both(acc, a(st, env))
                if acc is False:
                    return False
            return acc
        return conj

    def _or(self, node: ir.Or) -> Fn:
        args = [self.formula(a) for a in node.args]
        if not self.temporal(node):
            def disj_bool(st: TraceState, env: Env) -> bool:
                for a in args:
                    if a(st, env):
                        return True
                return False
            return disj_bool

        def disj(st: TraceState, env: Env) -> bool | Seq:
            acc: bool | Seq = False
            for a in args:
                acc = _either(acc, a(st, env))
                if acc is True:
                    return True
            return acc
        return disj

    def _implies(self, node: ir.Implies) -> Fn:
        left, right = self.formula(node.left), self.formula(node.right)
        if not self.temporal(node):
            return lambda st, env: (not left(st, env)) or bool(right(st, env))

        def implies(st: TraceState, env: Env) -> bool | Seq:
            a = left(st, env)
            if a is False:
                return True
            return _either(_neg(a), right(st, env))
        return implies

    def _quant(self, node: ir.Quant) -> Fn:
        members, var = self.members(node.domain), node.var
        guard = None if node.guard is None else self.formula(node.guard)
        body, forall = self.formula(node.body), node.kind == "forall"
        if not forall and isinstance(node.body, ir.StartOf | ir.EndOf | ir.EventOf) \
                and node.body.arg.name == var and (node.guard is None
                                                   or not self.temporal(node.guard)):
            return self._point_exists(node, members, guard)

        def quant(st: TraceState, env: Env) -> bool | Seq:
            inner = dict(env)
            acc: bool | Seq = forall
            for m in members(st, env):
                inner[var] = m
                g = True if guard is None else guard(st, inner)
                if g is False:
                    continue
                b = body(st, inner)
                if forall:
                    acc = _both(acc, _either(_neg(g), b))
                    if acc is False:
                        return False
                else:
                    acc = _either(acc, _both(g, b))
                    if acc is True:
                        return True
            return acc
        return quant

    def _point_exists(self, node: ir.Quant, members: Fn, guard: Fn | None) -> Fn:
        """``exists x in S where G: start(x)`` (or ``end``/``event``): true at exactly the points
        of the members satisfying ``G``; one pass over the timeline instead of one per member."""
        atom = node.body
        phase = START if isinstance(atom, ir.StartOf) else END if isinstance(atom, ir.EndOf) \
            else EVENT
        name = atom.name if isinstance(atom, ir.EventOf) else None
        var = node.var

        def point_exists(st: TraceState, env: Env) -> bool | Seq:
            points = st.points
            if not points:
                return False
            inner = dict(env)
            allowed = {m.seq for m in members(st, env)} if not isinstance(
                node.domain, ir.Spans) else None
            ok: dict[int, bool] = {}
            out = [False] * len(points)
            for i, p in enumerate(points):
                if p[1] != phase or (name is not None and p[5] != name):
                    continue
                rec = p[4]
                if allowed is not None and rec.seq not in allowed:
                    continue
                found = ok.get(rec.seq)
                if found is None:
                    inner[var] = rec
                    found = ok[rec.seq] = guard is None or bool(guard(st, inner))
                out[i] = found
            return out
        return point_exists

    # ------------------------------------------------------------------ timeline
    def _atom(self, node: ir.StartOf | ir.EndOf | ir.EventOf) -> Fn:
        arg = node.arg.name
        phase = START if isinstance(node, ir.StartOf) else END if isinstance(node, ir.EndOf) \
            else EVENT
        name = node.name if isinstance(node, ir.EventOf) else None

        def atom(st: TraceState, env: Env) -> bool | Seq:
            points = st.points
            if not points:
                return False
            s = env[arg]
            return [p[4] is s and p[1] == phase and (name is None or p[5] == name)
                    for p in points]
        return atom

    def _temporal(self, node: ir.Temporal) -> Fn:
        args = [self.formula(a) for a in node.args]
        op, lo, hi = node.op, node.interval.lo, node.interval.hi
        rule = TEMPORAL[op]  # every operator has an entry
        empty, value_at = rule.empty, rule.sweep
        backwards = op in ir.FUTURE_OPS

        def temporal(st: TraceState, env: Env) -> bool | Seq:
            times = st.times
            n = len(times)
            if n == 0:
                return empty
            vals = [_spread(a(st, env), n) for a in args]
            return value_at(lo, hi, times, vals, backwards)
        return temporal


_MISSING: Any = object()
#: Per ``matches`` node: how many texts' results are kept, and the longest text kept.
_MATCH_MEMO = 1024
_MATCH_MEMO_CHARS = 200

#: Node classes whose per-span values are worth keeping (a call, a regex, a quantifier or
#: aggregate over a span's events); cheap ones are recomputed.
_COSTLY = (ir.Call, ir.Match, ir.Quant, ir.Aggregate, ir.Quantile, ir.InList)
_MEMO_SLOTS = itertools.count()
_NOT_OWN = (ir.Spans, ir.Roots, ir.Rel, ir.Temporal, ir.StartOf, ir.EndOf, ir.EventOf,
            ir.HappensBefore, ir.ParamRef)


def _own_data(node: ir.Node) -> bool:
    """Whether ``node`` reads only its variables' own (immutable) fields, attributes, events."""
    if isinstance(node, _NOT_OWN) or (isinstance(node, ir.Field)
                                       and node.name in ("depth", "is_root")):
        return isinstance(node, ir.Field) and node.name == "is_root"
    return all(_own_data(c) for c in node.children())


def _free(node: ir.Node) -> frozenset[str]:
    from workbench.stream.accumulate import free_vars

    return free_vars(node)


#: The environment key of a binding's accumulator states (see :mod:`.accumulate`).
ACC = "\0acc"


def _slot(k: int, truth: bool) -> Fn:
    if truth:
        return lambda st, env: bool(env[ACC][k].value)
    return lambda st, env: env[ACC][k].value


_FORMULAS: dict[type, Callable[[Compiler, Any], Fn]] = {
    ir.Const: Compiler._const_holds,
    ir.Compare: Compiler._compare,
    ir.Match: Compiler._match,
    ir.InList: Compiler._in_list,
    ir.Member: Compiler._member,
    ir.Has: Compiler._has,
    ir.HappensBefore: Compiler._hb,
    ir.Not: Compiler._not,
    ir.And: Compiler._and,
    ir.Or: Compiler._or,
    ir.Implies: Compiler._implies,
    ir.Quant: Compiler._quant,
    ir.StartOf: Compiler._atom,
    ir.EndOf: Compiler._atom,
    ir.EventOf: Compiler._atom,
    ir.Temporal: Compiler._temporal,
}

#: The stream backend's coverage table: every IR node class and temporal operator kind.
CAPABILITIES: dict[Any, str] = {
    **{cls: "interpreted" for cls in (*TERMS, *SETS, *_FORMULAS)},
    ir.HappensBefore: "unsupported",
    ir.ListLit: "lowered",  # read as constants by `in`
    ir.Interval: "lowered",  # bounds of the online window operators
    ir.Template: "lowered",  # messages are rendered by the shared renderer on violation
    ir.Property: "interpreted",
    ir.Param: "lowered",
    ir.Spec: "interpreted",
    **{("temporal", op): "interpreted" for op in ir.TEMPORAL_OPS},
}

__all__ = ["CAPABILITIES", "UNSUPPORTED", "Compiler", "Env", "Fn", "Unsupported", "at0"]
