"""Footprints: which bindings a new span can change, from the relations a formula reads.

See :mod:`workbench.stream.monitor` for the table of footprints and how the monitor uses them.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence

from workbench.lang import ir
from workbench.stream.timeline import point_exists, top_closed


class Footprint(enum.Flag):
    """What a binding's value reads besides its own span (see the module docstring)."""

    LOCAL = 0
    PARENT = enum.auto()
    CHILDREN = enum.auto()
    SIBLINGS = enum.auto()
    ANCESTORS = enum.auto()
    DESCENDANTS = enum.auto()
    GLOBAL = enum.auto()


REL = {
    "parent": Footprint.PARENT,
    "children": Footprint.CHILDREN,
    "siblings": Footprint.SIBLINGS,
    "ancestors": Footprint.ANCESTORS,
    "descendants": Footprint.DESCENDANTS,
}


def footprints(node: ir.Node | None, variables: Sequence[str], skip: Iterable[ir.Node] = ()
               ) -> dict[str, Footprint] | None:
    """The footprint of ``node`` as a function of the spans bound to each of ``variables``
    (``None``: GLOBAL; the subtrees in ``skip``, accumulators, are maintained online and left
    out). A temporal subformula that depends on its bound spans alone
    (:func:`workbench.stream.timeline.top_closed`) reads nothing more of the timeline."""
    skipped = set(skip)
    out = {v: Footprint.LOCAL for v in variables}

    def walk(n: ir.Node, scope: frozenset[str], closed: bool) -> bool:  # False: GLOBAL
        if n in skipped:
            return True
        if isinstance(n, ir.Temporal | ir.StartOf | ir.EndOf | ir.EventOf) and not closed:
            if not top_closed(n, scope):
                return False
            closed = True  # below: only the relations it reads count
        if isinstance(n, ir.Spans | ir.Roots):
            return False
        if isinstance(n, ir.HappensBefore):
            return False
        if closed and point_exists(n):  # at a bound span's point: reads that span only
            assert isinstance(n, ir.Quant)
            kids = [c for c in (n.guard, n.body) if c is not None]
            if not isinstance(n.domain, ir.Spans | ir.Roots):
                kids.append(n.domain)
            return all(walk(c, scope | {n.var}, closed) for c in kids)
        if isinstance(n, ir.Rel):
            if n.arg.name not in out or n.rel not in REL:
                return False
            out[n.arg.name] |= REL[n.rel]
        elif isinstance(n, ir.Field) and n.name == "depth":
            if n.base.name not in out:
                return False
            out[n.base.name] |= Footprint.ANCESTORS
        if isinstance(n, ir.Quant):
            inner = scope | {n.var}
            return walk(n.domain, scope, closed) and all(
                walk(c, inner, closed) for c in (n.guard, n.body) if c is not None)
        return all(walk(c, scope, closed) for c in n.children())

    if node is not None and not walk(node, frozenset(variables), False):
        return None
    return out


def footprint(node: ir.Node | None, var: str, skip: Iterable[ir.Node] = ()) -> Footprint:
    """The footprint of ``node`` as a function of the span bound to ``var`` (see
    :func:`footprints`)."""
    found = footprints(node, (var,), skip)
    return Footprint.GLOBAL if found is None else found[var]


#: The footprints as plain ints (Flag arithmetic is slow on the per-span path).
BITS_GLOBAL = Footprint.GLOBAL.value
BITS_CHILDREN, BITS_SIBLINGS = Footprint.CHILDREN.value, Footprint.SIBLINGS.value
BITS_ANCESTORS, BITS_DESCENDANTS = Footprint.ANCESTORS.value, Footprint.DESCENDANTS.value
BITS_PARENT_OR_SIBLINGS = Footprint.PARENT.value | BITS_SIBLINGS
BITS_CHILDREN_OR_SIBLINGS = BITS_CHILDREN | BITS_SIBLINGS


__all__ = ["BITS_ANCESTORS", "BITS_CHILDREN", "BITS_CHILDREN_OR_SIBLINGS", "BITS_DESCENDANTS",
           "BITS_GLOBAL", "BITS_PARENT_OR_SIBLINGS", "BITS_SIBLINGS", "REL", "Footprint",
           "footprint", "footprints"]
