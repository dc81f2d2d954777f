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
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from workbench.lang import ir
from workbench.stream.evaluate import ACC, Compiler, Env, Fn, at0
from workbench.stream.ops import Aggregator
from workbench.stream.state import SpanRec, TraceState

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
    """The outermost accumulable nodes of ``node`` (distinct, in walk order)."""
    out: list[ir.Node] = []
    if node is None:
        return out

    def walk(n: ir.Node) -> None:
        if accumulable(n, var):
            if n not in out:
                out.append(n)
            return
        for c in n.children():
            walk(c)

    walk(node)
    return out


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

    def new(self) -> AccState:
        return AccState(self)


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


__all__ = ["ACC", "AccSpec", "AccState", "accumulable", "find", "free_vars"]
