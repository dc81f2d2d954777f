"""Which IR nodes each compiled backend handles, and how.

``"compiled"``: the node becomes kernel code. ``"lowered"``: it is rewritten before kernel
generation (parameters become constants, string predicates become tables computed once per
table, messages are rendered on the host by the reference's renderer). ``"unsupported"``: a
property using it runs on the next backend down (see :func:`workbench.engine.explain_backend`);
:func:`workbench.engine.compiled.unsupported_reason` names the exact construct.

Some nodes are compiled only partially; the limits are listed in :data:`LIMITS` and in
``docs/backends.md``.
"""

from __future__ import annotations

from workbench.lang import ir

_COMPILED = (
    ir.Const, ir.Var, ir.Field, ir.Attr, ir.Neg, ir.Arith, ir.Call, ir.Spans, ir.Roots, ir.Rel,
    ir.Events, ir.Comprehension, ir.Aggregate, ir.Compare, ir.InList, ir.Member, ir.Has,
    ir.Not, ir.And, ir.Or, ir.Implies, ir.Quant, ir.StartOf, ir.EndOf, ir.EventOf, ir.Temporal,
)
_LOWERED = (
    ir.ParamRef, ir.ListLit, ir.Match, ir.Interval, ir.Template, ir.Property, ir.Param, ir.Spec,
)
_UNSUPPORTED = (ir.HappensBefore,)

#: Partial support, per node class: what is not compiled.
LIMITS: dict[type[ir.Node], str] = {
    ir.Call: "str() of a computed number (arithmetic, a count, a time field) is not compiled; "
    "str() of attributes, constants and strings is",
    ir.HappensBefore: "happens-before reachability is not compiled",
}


def all_node_classes() -> list[type[ir.Node]]:
    """Every concrete IR node class."""
    return [
        value
        for value in vars(ir).values()
        if isinstance(value, type) and issubclass(value, ir.Node) and value is not ir.Node
    ]


def compiled_capabilities(backend: str) -> dict[type[ir.Node], str]:
    """The capability table of a compiled backend (the CPU and GPU backends share the plan)."""
    table: dict[type[ir.Node], str] = {}
    for cls in _COMPILED:
        table[cls] = "compiled"
    for cls in _LOWERED:
        table[cls] = "lowered"
    for cls in _UNSUPPORTED:
        table[cls] = "unsupported"
    missing = [c.__name__ for c in all_node_classes() if c not in table]
    if missing:  # a new IR node: not compiled until codegen learns it
        for cls in all_node_classes():
            table.setdefault(cls, "unsupported")
    return table
