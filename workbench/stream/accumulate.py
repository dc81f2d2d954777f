"""Online aggregates over the spans of a trace, per binding: a new span is one ``update``.

A binding's body often quantifies or aggregates over all spans again:
``count(x in spans where x.span_id == s.span_id) == 1``, ``forall b in spans where ...``,
``exists r in roots: r.status == ERROR``. Re-evaluated whole, each update costs O(spans) per
binding, O(spans^2) per update. When such a node's inner formulas read only the two spans they
pair (the binding's ``x`` and the member ``y``: their own fields, attributes and events), the
node is an *accumulator*: per binding it keeps a counter (``forall``: falsifying members,
``exists``: satisfying ones) or an :class:`~workbench.stream.ops.Aggregator` (``count``,
``min``, ``max``, ``distinct``), and a new span is fed to it once, O(1) per binding. ``sum`` and
``avg`` are left out: a float sum in arrival order could round differently from the batch's
sum in row order.

The body's closure reads the accumulator's current value from the binding's environment
(slot ``k`` of ``env[ACC]``); see :class:`workbench.stream.evaluate.Compiler` ``slots``.

*Equality joins.* When a member can only contribute while a conjunct ``y.f == x.g`` holds (a
conjunct of the comprehension's guard, of the ``forall``'s guard, of the ``exists``' guard or
body: ``count(y in spans where y.span_id == s.span_id)``, ``exists p in spans where
p.span_id == s.parent_id: ...``), the accumulator is *indexed*: :meth:`AccSpec.member_bucket`
and :meth:`AccSpec.binding_bucket` map the two sides to hash keys such that ``equal(a, b)``
implies equal keys, and the monitor feeds a member only to the bindings of its bucket (and a
new binding only the members of its bucket), O(1) amortised per span instead of O(bindings).
Undefined and NaN keys match nothing (:data:`NOMATCH`); an unhashable value (:data:`WILD`)
turns the index off for that trace.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from workbench.engine.values import UNDEF, is_number
from workbench.lang import ir
from workbench.stream.evaluate import ACC, Compiler, Env, Fn, at0
from workbench.stream.ops import Aggregator
from workbench.stream.ranges import order_key, sort_key
from workbench.stream.state import SpanRec, TraceState
from workbench.stream.timeline import TimelineSpec, TimelineState, anchored

_NONLOCAL = (ir.Spans, ir.Roots, ir.Rel, ir.Temporal, ir.StartOf, ir.EndOf, ir.EventOf,
             ir.HappensBefore)


def free_vars(node: ir.Node | None) -> frozenset[str]:
    """The variables ``node`` reads that it does not bind."""
    if node is None:
        return frozenset()
    if isinstance(node, ir.Var):
        return frozenset({node.name})
    if isinstance(node, ir.Quant):
        inner = free_vars(node.guard) | free_vars(node.body)
        return free_vars(node.domain) | (inner - {node.var})
    if isinstance(node, ir.Aggregate):
        body = free_vars(node.body) - ({node.var} if node.var else set())
        return free_vars(node.domain) | body
    if isinstance(node, ir.Comprehension):
        return free_vars(node.domain) | (free_vars(node.guard) - {node.var})
    out: frozenset[str] = frozenset()
    for child in node.children():
        out |= free_vars(child)
    return out


def _pairwise_local(node: ir.Node | None) -> bool:
    """No relation, set of the trace, timeline or depth inside ``node``."""
    if node is None:
        return True
    if isinstance(node, _NONLOCAL) or (isinstance(node, ir.Field) and node.name == "depth"):
        return False
    return all(_pairwise_local(c) for c in node.children())


def _split_domain(domain: ir.Node) -> tuple[bool, str | None, ir.Node | None] | None:
    """``(roots only, comprehension variable, comprehension guard)`` of an accumulable domain."""
    if isinstance(domain, ir.Spans | ir.Roots):
        return isinstance(domain, ir.Roots), None, None
    if isinstance(domain, ir.Comprehension) and isinstance(domain.domain, ir.Spans | ir.Roots) \
            and _pairwise_local(domain.guard):
        return isinstance(domain.domain, ir.Roots), domain.var, domain.guard
    return None


def accumulable(node: ir.Node, var: str) -> bool:
    """Whether ``node`` can be an accumulator of bindings of ``var``."""
    if isinstance(node, ir.Quant):
        inner: list[ir.Node | None] = [node.guard, node.body]
    elif isinstance(node, ir.Aggregate) and node.op in ("count", "min", "max", "distinct"):
        inner = [node.body]
    else:
        return False
    if _split_domain(node.domain) is None or not all(_pairwise_local(n) for n in inner):
        return False
    return free_vars(node) <= {var}


def find(node: ir.Node | None, var: str) -> list[ir.Node]:
    """The outermost accumulable nodes of ``node`` (distinct, in walk order): aggregates and
    quantifiers over the trace's spans, and anchored temporal formulas
    (:mod:`workbench.stream.timeline`)."""
    out: list[ir.Node] = []
    if node is None:
        return out

    def walk(n: ir.Node) -> None:
        if accumulable(n, var) or anchored(n, var):
            if n not in out:
                out.append(n)
            return
        for c in n.children():
            walk(c)

    walk(node)
    return out


class _Marker:
    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


#: The bucket of a key equal to nothing (undefined, NaN): the member or binding joins nothing.
NOMATCH: Any = _Marker("NOMATCH")
#: The bucket of an unhashable key: the index cannot be used.
WILD: Any = _Marker("WILD")


def bucket(value: Any, undef: Any = NOMATCH) -> Any:
    """A hash key of ``value`` such that ``equal(a, b)`` implies ``bucket(a) == bucket(b)``
    (numbers across int/float, booleans apart from numbers, otherwise same type only);
    ``undef`` for the undefined value."""
    if value is UNDEF:
        return undef
    if isinstance(value, bool):
        return (bool, value)
    if is_number(value):
        if value != value:  # NaN equals nothing
            return NOMATCH
        return value
    try:
        hash(value)
    except TypeError:
        return WILD
    return (type(value), value)


def _key_var(node: ir.Node) -> str | None:
    """The one variable a key term reads, ``None`` when it reads none or several."""
    fv = free_vars(node)
    return next(iter(fv)) if len(fv) == 1 else None


def _conjuncts(node: ir.Node | None) -> list[ir.Node]:
    if node is None:
        return []
    return list(node.args) if isinstance(node, ir.And) else [node]


def _disjuncts(node: ir.Node) -> list[ir.Node]:
    return list(node.args) if isinstance(node, ir.Or) else [node]


def join_key(node: ir.Node, var: str, members: set[str]
             ) -> tuple[ir.Node, ir.Node, bool] | None:
    """``(member side, binding side, ne)`` of an equality every contributing member of the
    accumulator ``node`` satisfies with the binding, or ``None`` (see the module docstring).
    ``ne``: the equality is the failure of a ``!=`` in a ``forall``'s body, which an undefined
    side also fails, so an undefined key matches everything."""
    cands: list[tuple[ir.Node, bool]] = []
    domain = node.domain  # type: ignore[attr-defined]
    if isinstance(domain, ir.Comprehension):
        cands += [(c, False) for c in _conjuncts(domain.guard)]
    if isinstance(node, ir.Quant):
        cands += [(c, False) for c in _conjuncts(node.guard)]
        if node.kind == "exists":
            cands += [(c, False) for c in _conjuncts(node.body)]
        else:  # a member falsifies the body: every disjunct fails
            for d in _disjuncts(node.body):
                if isinstance(d, ir.Compare) and d.op == "!=":
                    cands.append((ir.Compare("==", d.left, d.right), True))
                elif isinstance(d, ir.Not):
                    cands += [(c, False) for c in _conjuncts(d.arg)]
    for c, ne in cands:
        if isinstance(c, ir.Compare) and c.op == "==":
            lv, rv = _key_var(c.left), _key_var(c.right)
            if lv in members and rv == var:
                return c.left, c.right, ne
            if rv in members and lv == var:
                return c.right, c.left, ne
    return None


def _held(node: ir.Node) -> list[ir.Node]:
    """The conjuncts every contributing member of accumulator ``node`` satisfies (those of a
    comprehension's or quantifier's guard, and of an ``exists``' body)."""
    out: list[ir.Node] = []
    domain = node.domain  # type: ignore[attr-defined]
    if isinstance(domain, ir.Comprehension):
        out += _conjuncts(domain.guard)
    if isinstance(node, ir.Quant):
        out += _conjuncts(node.guard)
        if node.kind == "exists":
            out += _conjuncts(node.body)
    return out


def _reads(node: ir.Node, var: str) -> list[ir.Node] | None:
    """The ``var.field`` and ``var.attr`` terms of ``node`` (distinct), or ``None`` when ``node``
    reads ``var`` any other way (the span itself, its events)."""
    out: list[ir.Node] = []

    def walk(n: ir.Node) -> bool:
        if isinstance(n, ir.Field | ir.Attr) and n.base.name == var:
            if n not in out:
                out.append(n)
            return True
        if isinstance(n, ir.Var):
            return n.name != var
        return all(walk(c) for c in n.children())

    return out if walk(node) else None


class AccSpec:
    """One accumulator compiled: which members count and what each contributes."""

    def __init__(self, node: ir.Node, var: str, compiler: Compiler) -> None:
        split = _split_domain(node.domain)  # type: ignore[attr-defined]
        assert split is not None
        self.roots_only, self.comp_var, comp_guard = split
        self.comp_guard = None if comp_guard is None else compiler.formula(comp_guard)
        self.var = var
        self.node = node
        self.kind: str
        self.body: Fn | None
        if isinstance(node, ir.Quant):
            self.kind = node.kind
            self.inner_var: str | None = node.var
            self.guard = None if node.guard is None else compiler.formula(node.guard)
            self.body = compiler.formula(node.body)
        else:
            assert isinstance(node, ir.Aggregate)
            self.kind = node.op
            self.inner_var = node.var
            self.guard = None
            self.body = None if node.body is None else compiler.term(node.body)
        members = {v for v in (self.comp_var, self.inner_var) if v is not None}
        join = join_key(node, var, members - {var})
        #: whether members reach only the bindings of their key's bucket
        self.indexed = join is not None
        order = None if join is not None else order_key(_held(node), var, members - {var})
        #: an order join (:mod:`workbench.stream.ranges`): ``member op binding``
        self.ranged = order is not None
        self.order_op = "" if order is None else order[2]
        self._mord: Fn | None = None if order is None else compiler.term(order[0])
        self._bord: Fn | None = None if order is None else compiler.term(order[1])
        self._mkey: Fn | None = None if join is None else compiler.term(join[0])
        self._bkey: Fn | None = None if join is None else compiler.term(join[1])
        self._undef = WILD if join is not None and join[2] else NOMATCH
        reads = _reads(node, var)
        #: the binding's values the state depends on (``None``: the binding itself)
        self._sig: list[Fn] | None = None if reads is None else [compiler.term(t) for t in reads]

    def signature(self, st: TraceState, rec: SpanRec) -> Any:
        """A key shared by the bindings whose states are equal: the exact values (type
        included) of every binding field the accumulator reads; ``rec.seq`` when it reads the
        binding another way or a value is unhashable."""
        if self._sig is None:
            return rec.seq
        env: Env = {self.var: rec}
        sig = tuple((type(v), v) for v in (f(st, env) for f in self._sig))
        try:
            hash(sig)
        except TypeError:
            return rec.seq
        return sig

    def member_bucket(self, st: TraceState, m: SpanRec) -> Any:
        """The bucket of member ``m`` (an indexed accumulator's join key, member side)."""
        assert self._mkey is not None
        env: Env = {v: m for v in (self.comp_var, self.inner_var) if v is not None}
        return bucket(self._mkey(st, env), self._undef)

    def member_range(self, st: TraceState, m: SpanRec) -> tuple[int, Any] | None:
        """The sort key of member ``m`` (an order join, member side; ``None``: joins none)."""
        assert self._mord is not None
        env: Env = {v: m for v in (self.comp_var, self.inner_var) if v is not None}
        return sort_key(self._mord(st, env))

    def binding_range(self, st: TraceState, rec: SpanRec) -> tuple[int, Any] | None:
        """The sort key of binding ``rec`` (an order join, binding side)."""
        assert self._bord is not None
        return sort_key(self._bord(st, {self.var: rec}))

    def binding_bucket(self, st: TraceState, rec: SpanRec) -> Any:
        """The bucket of binding ``rec`` (the join key, binding side)."""
        assert self._bkey is not None
        return bucket(self._bkey(st, {self.var: rec}), self._undef)

    def new(self) -> AccState:
        return AccState(self)


def spec_of(node: ir.Node, var: str, compiler: Compiler) -> AccSpec | TimelineSpec:
    """The accumulator of one node :func:`find` returned."""
    if isinstance(node, ir.Temporal):
        return TimelineSpec(node, var, compiler)
    return AccSpec(node, var, compiler)


#: An accumulator's compiled form.
AnySpec = AccSpec | TimelineSpec


class AccState:
    """An accumulator's state for one binding."""

    __slots__ = ("agg", "bad", "spec")

    def __init__(self, spec: AccSpec) -> None:
        self.spec = spec
        self.bad = 0
        self.agg = None if spec.kind in ("forall", "exists") else Aggregator(spec.kind)

    def feed(self, st: TraceState, rec: SpanRec, members: Iterable[SpanRec]) -> None:
        """Add ``members`` (spans new to the trace) for the binding ``rec``."""
        s = self.spec
        env: Env = {s.var: rec}
        for m in members:
            if s.roots_only and m.parent_key is not None:
                continue
            if s.comp_guard is not None:
                env[s.comp_var] = m  # type: ignore[index]
                if not at0(s.comp_guard(st, env)):
                    continue
            if s.inner_var is not None:
                env[s.inner_var] = m
            if self.agg is not None:
                self.agg.update(None if s.body is None else s.body(st, env))
                continue
            g = True if s.guard is None else at0(s.guard(st, env))
            if s.kind == "forall":
                if g and not at0(s.body(st, env)):  # type: ignore[misc]
                    self.bad += 1
            elif g and at0(s.body(st, env)):  # type: ignore[misc]
                self.bad += 1

    @property
    def value(self) -> Any:
        if self.agg is not None:
            return self.agg.value
        return self.bad == 0 if self.spec.kind == "forall" else self.bad > 0


#: An accumulator's per-binding state.
AnyState = AccState | TimelineState

__all__ = ["ACC", "NOMATCH", "WILD", "AccSpec", "AccState", "AnySpec", "AnyState",
           "accumulable", "bucket", "find", "free_vars", "join_key", "spec_of"]
