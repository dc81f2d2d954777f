"""Which IR nodes each compiled backend handles, and how: a table first, code second.

``"compiled"``: the node becomes kernel code. ``"lowered"``: it is rewritten before kernel
generation (parameters become constants, string predicates become tables computed once per
table, messages are rendered on the host by the shared renderer). ``"unsupported"``: a
property using it runs on the next backend down (see :func:`workbench.engine.explain_backend`),
with the reason in :data:`UNSUPPORTED`.

The keys of every backend's table are exactly :func:`capability_keys`: every IR node class
and every temporal operator kind (``("temporal", "until")``...). The compiled table is
written out below, not filled in: a new node class without an entry makes
``tests/engine/test_capabilities.py`` fail, and :func:`gate` (run by
:func:`workbench.engine.codegen.generate` before generating anything) raises
:class:`MissingCapability` for it instead of letting it fall through a ladder.

Some nodes are compiled only partially; the limits are listed in :data:`LIMITS` and in
``docs/backends.md``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from workbench.engine.codegen_terms import Unsupported
from workbench.lang import ir
from workbench.lang.walk import postorder

#: How the compiled plan (numba CPU and CUDA GPU alike) handles each IR node class.
COMPILED_NODES: dict[type[ir.Node], str] = {
    ir.Const: "compiled",
    ir.ParamRef: "lowered",
    ir.ListLit: "lowered",
    ir.Var: "compiled",
    ir.Field: "compiled",
    ir.Attr: "compiled",
    ir.Neg: "compiled",
    ir.Arith: "compiled",
    ir.Call: "compiled",
    ir.Spans: "compiled",
    ir.Roots: "compiled",
    ir.Rel: "compiled",
    ir.Events: "compiled",
    ir.Comprehension: "compiled",
    ir.Aggregate: "compiled",
    ir.Quantile: "compiled",
    ir.Compare: "compiled",
    ir.Match: "lowered",
    ir.InList: "compiled",
    ir.Member: "compiled",
    ir.Has: "compiled",
    ir.HappensBefore: "unsupported",
    ir.Not: "compiled",
    ir.And: "compiled",
    ir.Or: "compiled",
    ir.Implies: "compiled",
    ir.Quant: "compiled",
    ir.Interval: "lowered",
    ir.StartOf: "compiled",
    ir.EndOf: "compiled",
    ir.EventOf: "compiled",
    ir.Temporal: "compiled",
    ir.Template: "lowered",
    ir.Property: "lowered",
    ir.Param: "lowered",
    ir.Spec: "lowered",
}

#: Why a property using an ``"unsupported"`` node (or temporal operator, keyed
#: ``temporal_key(op)``) runs elsewhere.
UNSUPPORTED: dict[Any, str] = {
    ir.HappensBefore: "`hb` (happens-before reachability) is not compiled",
}

#: Partial support, per node class: what is not compiled.
LIMITS: dict[type[ir.Node], str] = {
    ir.Call: "str() of a computed number (arithmetic, a count, a time field) is not compiled; "
    "str() of attributes, constants and strings is; int() is compiled, float() of a text or "
    "of an attribute (which may hold text) is not",
    ir.HappensBefore: "happens-before reachability is not compiled",
    ir.Quantile: "a quantile written with more than 9 decimals is not compiled",
}


class MissingCapability(TypeError):
    """A node class or operator kind that a backend's capability table does not mention."""


def all_node_classes() -> list[type[ir.Node]]:
    """Every concrete IR node class."""
    return [
        value
        for value in vars(ir).values()
        if isinstance(value, type) and issubclass(value, ir.Node) and value is not ir.Node
    ]


def temporal_key(op: str) -> tuple[str, str]:
    """The capability key of temporal operator ``op``."""
    return ("temporal", op)


def capability_keys() -> set[Any]:
    """What every capability table must have a key for: node classes and temporal ops."""
    return {*all_node_classes(), *(temporal_key(op) for op in ir.TEMPORAL_OPS)}


def compiled_capabilities(backend: str = "numba") -> dict[Any, str]:
    """The capability table of a compiled backend (the CPU and GPU backends share the plan):
    :data:`COMPILED_NODES` plus one entry per operator that the temporal code generator
    implements (:data:`workbench.engine.codegen_temporal.TEMPORAL_SHAPES`)."""
    from workbench.engine.codegen_temporal import TEMPORAL_SHAPES

    return {
        **COMPILED_NODES,
        **{temporal_key(op): "compiled" for op in TEMPORAL_SHAPES},
        # an operator the kernels do not implement (yet): declared, with its reason
        **{key: "unsupported" for key in UNSUPPORTED if isinstance(key, tuple)},
    }


def lookup(table: Mapping[Any, str], node: ir.Node) -> str:
    """How ``table`` handles ``node`` (its class, and its operator for a temporal node).

    Raises
    ------
    MissingCapability
        When the table has no entry for it (a new node class or operator kind).
    """
    how = table.get(type(node))
    if how is None:
        raise MissingCapability(f"no capability entry for {type(node).__name__}")
    if isinstance(node, ir.Temporal):
        op_how = table.get(temporal_key(node.op))
        if op_how is None:
            raise MissingCapability(f"no capability entry for temporal operator `{node.op}`")
        if op_how == "unsupported":
            return op_how
    return how


def gate(table: Mapping[Any, str], formula: ir.Node) -> None:
    """Raise :class:`Unsupported` when ``formula`` uses a node the table declares
    unsupported (or :class:`MissingCapability` for one it does not mention)."""
    for node in postorder(formula):
        if lookup(table, node) == "unsupported":
            key: Any = type(node)
            if isinstance(node, ir.Temporal) and key not in UNSUPPORTED:
                key = temporal_key(node.op)
            raise Unsupported(UNSUPPORTED.get(key, f"{type(node).__name__} is not compiled"))
