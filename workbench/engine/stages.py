"""Stages of the backend chain that run before the backends themselves.

:func:`workbench.engine.check` walks one list: the :data:`STAGES` below, then the backends of
:func:`~workbench.engine.base.backend_chain`. A stage looks at the properties still to run and
may *finish* some (a specialised evaluator computes their results) or *pin* some to one backend
of the chain (a cost decision: that backend runs them, the ones before it are skipped). Adding
a stage is one class here and one entry in :data:`STAGES`; :func:`check` has no special cases.

``grouped``
    The quadratic stdlib shapes (``count(x in spans where K(x) == K(s))``, ...) evaluated by
    hashing (:mod:`workbench.engine.grouped`), linear in the trace's size. Compiled kernels'
    nested loops win on small traces, so with a compiled backend first it applies only when
    some trace has at least :data:`~workbench.engine.grouped.MIN_SPANS_COMPILED` spans, or
    when ``auto``'s cost model would send the property to the reference anyway (a small
    input, kernel not cached: the reference's nested loops are the slow ones).
``cost``
    ``--backend auto`` only: a property whose estimated reference time on this table is below
    the compiled kernel's (compile or load, index, run; :mod:`workbench.engine.cost`) is pinned
    to the reference, so small inputs never wait for a compiler.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, Protocol

import numpy as np

from workbench.engine.base import REGISTRY, Backend, PropertyResult, Timings
from workbench.lang import ir
from workbench.traces.model import SpanTable


@dataclass
class Finished:
    """A property a stage has checked itself; ``note`` ends its reason."""

    result: PropertyResult
    note: str


@dataclass
class Pinned:
    """A property a stage sends to one backend of the chain, and why."""

    backend: str
    note: str


Decision = Finished | Pinned


class Stage(Protocol):
    """A step before the backends (see the module docstring)."""

    name: str

    def plan(self, props: Sequence[ir.Property], table: SpanTable, values: Mapping[str, Any],
             chain: Sequence[Backend], requested: str, timings: Timings
             ) -> dict[str, Decision]:
        """Decisions for some of ``props`` (by name); the others go down the chain."""
        ...


#: The last backend of the registry, which runs every property (the reference interpreter).
_FALLBACK = list(REGISTRY)[-1]


class GroupedStage:
    """Finish the quadratic shapes by hashing (see the module docstring)."""

    name = "grouped"

    def plan(self, props: Sequence[ir.Property], table: SpanTable, values: Mapping[str, Any],
             chain: Sequence[Backend], requested: str, timings: Timings
             ) -> dict[str, Decision]:
        from workbench.engine import check_plan, grouped, reference

        first = chain[0].name if chain else _FALLBACK
        largest = int(np.diff(table.trace_offsets).max()) if table.n_traces else 0
        small = first != _FALLBACK and largest < grouped.MIN_SPANS_COMPILED
        out: dict[str, Decision] = {}
        for prop in props:
            shape = check_plan.memo("grouped", prop.formula, partial(grouped.match, prop.formula))
            if shape is None:
                continue
            runs_on, why = first, ""
            if small:
                # the compiled nested loop wins, unless auto would run the reference instead
                why = reference_by_cost(prop, table, values, chain, requested) or ""
                if not why:
                    continue
                runs_on, why = _FALLBACK, f"{why}; "
            t0 = time.perf_counter()
            res = shape[1](prop, table, values, reference.MAX_WITNESSES)
            timings.add("grouped", time.perf_counter() - t0)
            res.backend = runs_on  # the hashing is how that backend evaluates the shape
            out[prop.name] = Finished(
                res, f"{why}{runs_on}: {shape[0]}, linear in the trace's size")
        return out


def reference_by_cost(prop: ir.Property, table: SpanTable, values: Mapping[str, Any],
                      chain: Sequence[Backend], requested: str) -> str | None:
    """``auto``'s cost decision for one property: the reason when the reference is estimated
    faster than its numba kernel on ``table`` (:mod:`workbench.engine.cost`), else ``None``
    (not ``auto``, no numba-then-reference chain, not compiled, or the kernel wins)."""
    if (requested != "auto" or not any(b.note == "compiled" for b in chain)
            or chain[-1].name != _FALLBACK):
        return None
    from workbench.engine.codegen_terms import Unsupported
    from workbench.engine.compiled import bind as bind_values
    from workbench.engine.compiled import generated
    from workbench.engine.cost import prefer_reference

    try:
        gen = generated(bind_values(prop.formula, values))
    except Unsupported:
        return None
    use_ref, why = prefer_reference(gen, table.n_spans)
    return why if use_ref else None


class CostStage:
    """Pin properties to the reference when it is estimated faster (``auto`` only)."""

    name = "cost"

    def plan(self, props: Sequence[ir.Property], table: SpanTable, values: Mapping[str, Any],
             chain: Sequence[Backend], requested: str, timings: Timings
             ) -> dict[str, Decision]:
        out: dict[str, Decision] = {}
        for prop in props:
            why = reference_by_cost(prop, table, values, chain, requested)
            if why is not None:
                out[prop.name] = Pinned(_FALLBACK, why)
        return out


#: The stages, in order; each sees the properties the ones before it left.
STAGES: tuple[Stage, ...] = (GroupedStage(), CostStage())
