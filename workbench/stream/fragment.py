"""What the stream backend's compiled closures are, and what lies outside its fragment.

:mod:`workbench.stream.evaluate` (formulas) and :mod:`workbench.stream.terms` (terms and sets)
compile IR nodes to closures of these types and raise :class:`Unsupported`, with a reason
from :data:`UNSUPPORTED` where one applies, for what they cannot keep online.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from workbench.engine.codegen_terms import Unsupported as _CompiledUnsupported
from workbench.lang import ir
from workbench.stream.state import TraceState

#: A binding environment: variable names to span or event records (and accumulator states).
Env = dict[str, Any]
#: A compiled node: ``(state, env) -> value``.
Fn = Callable[[TraceState, Env], Any]
#: A formula's value at every timeline point.
Seq = list[bool]


class Unsupported(_CompiledUnsupported):
    """A construct outside the stream fragment (the message says which and why). A subclass of
    the compiled backends' ``Unsupported``, so the engine's backend chain moves the property
    on to the next backend with this reason."""


#: Why each construct is outside the stream fragment.
UNSUPPORTED: dict[Any, str] = {
    ir.HappensBefore: "`hb` (happens-before reachability) needs the whole trace's causality "
                      "graph, not maintained online",
    ("rel", "linked"): "`linked` resolves links across the trace by id, not maintained online",
    "temporal-term": "a temporal formula used as a value (inside an aggregate or comparison)",
    "temporal-guard": "a temporal guard of a set comprehension",
}


__all__ = ["UNSUPPORTED", "Env", "Fn", "Seq", "Unsupported"]
