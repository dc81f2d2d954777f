"""The stream monitor as a :class:`~workbench.engine.base.Backend` (``--backend stream``).

On a span table it replays each trace's spans through a :class:`StreamMonitor` (in row order,
one update per trace) and reads the verdicts off the incremental state. Witnesses of violated
traces are found and rendered by the reference interpreter on that trace only
(:func:`trace_witnesses`), so they are the batch checker's witnesses, word for word. A property
outside the stream fragment comes back as :class:`~workbench.stream.evaluate.Unsupported` and
runs on the next backend of the chain (the reference interpreter) with the reason.

The backend runs only when asked for by name (it is not part of ``auto``): on a whole table
the compiled backends are faster; the stream pays off when spans arrive over time
(``otlspec serve``).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from workbench.engine.base import Outcome, PropertyResult, TimelinePoint, Timings, Witness
from workbench.engine.reference import MAX_WITNESSES, Interpreter
from workbench.engine.regex import RegexTimeout
from workbench.engine.witness import describe_point, explain, render_message, span_ref
from workbench.lang import ir
from workbench.stream.evaluate import CAPABILITIES, Compiler, Unsupported
from workbench.stream.monitor import StreamMonitor, compile_property
from workbench.stream.state import records_from_table
from workbench.traces.context import TraceContext
from workbench.traces.model import SpanTable


def trace_witnesses(prop: ir.Property, table: SpanTable, trace: int,
                    params: Mapping[str, Any], limit: int = MAX_WITNESSES
                    ) -> tuple[bool, list[Witness]]:
    """The reference verdict and witnesses of ``prop`` on one trace of ``table`` (what
    :func:`workbench.engine.reference.check_property` computes for that trace)."""
    ctx = TraceContext(table, trace)
    interp = Interpreter(ctx, params)
    try:
        if interp.holds(prop.formula, {}, 0):
            return True, []
        failures = list(explain(interp, prop.formula, {}, [], 0, False, limit))
    except RegexTimeout as err:
        raise err.within(prop=prop.name) from None
    temporal = ir.is_temporal(prop.formula)
    found = []
    for failure in failures:
        position = failure.position
        if position is None and temporal:
            position = 0
        point = None
        if position is not None and ctx.timeline:
            p = ctx.timeline[position]
            point = TimelinePoint(position, p.time, describe_point(table, p))
        bindings = tuple((name, span_ref(table, failure.env[name])) for name in failure.order)
        found.append(Witness(bindings, render_message(interp, prop, failure.env), point))
    return False, found


class StreamBackend:
    """Incremental online monitors (see the module docstring)."""

    name = "stream"
    note = "incremental online monitors"
    capabilities = CAPABILITIES

    def available(self) -> tuple[bool, str]:
        return True, "online monitors in this process"

    def unsupported(self, prop: ir.Property, values: Mapping[str, Any]) -> str | None:
        try:
            compile_property(prop, Compiler(values))
        except Unsupported as err:
            return str(err)
        return None

    def check(self, props: Sequence[ir.Property], table: SpanTable, values: Mapping[str, Any],
              timings: Timings | None = None) -> list[Outcome]:
        t0 = time.perf_counter()
        monitor = StreamMonitor(props, values)
        holds = {p.name: np.ones(table.n_traces, dtype=np.bool_) for p in monitor.plans}
        errors: dict[str, str] = {}
        for trace in range(table.n_traces):
            key = str(trace)
            mon = monitor.update(key, records_from_table(table, table.trace_rows(trace)))
            for k, plan in enumerate(monitor.plans):
                if mon.error(k):
                    errors.setdefault(plan.name, mon.error(k))
                elif not mon.verdict(k):
                    holds[plan.name][trace] = False
            monitor.reset(key)
        out: list[Outcome] = []
        by_name = {p.name: p for p in monitor.plans}
        for prop in props:
            if prop.name in monitor.unsupported:
                out.append(Unsupported(monitor.unsupported[prop.name]))
                continue
            if prop.name in errors:
                out.append(Unsupported(errors[prop.name]))
                continue
            verdicts = holds[prop.name]
            witnesses = {}
            for trace in np.nonzero(~verdicts)[0].tolist():
                _, found = trace_witnesses(by_name[prop.name].prop, table, trace, values)
                witnesses[trace] = found
            out.append(PropertyResult(prop, verdicts, witnesses, backend=self.name,
                                      seconds=time.perf_counter() - t0))
        if timings is not None:
            timings.add("stream", time.perf_counter() - t0)
        return out

    def __repr__(self) -> str:
        return "<stream backend>"


#: This module's entry in :data:`workbench.engine.base.REGISTRY`.
BACKEND = StreamBackend()

__all__ = ["BACKEND", "StreamBackend", "trace_witnesses"]
