"""The semantics, computed: hand-made traces, timelines, formulas evaluated point by point,
the happens-before relation.

These helpers let the theory notebook show what a formula means on a concrete trace with
values computed by the reference interpreter (:mod:`workbench.engine.reference`, the
definition of the semantics) rather than typed by hand.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from workbench.explore.results import Traces, _pd
from workbench.lang import ir
from workbench.traces.builder import TableBuilder

_KINDS = {"INTERNAL": 1, "SERVER": 2, "CLIENT": 3, "PRODUCER": 4, "CONSUMER": 5}
_STATUS = {"UNSET": 0, "OK": 1, "ERROR": 2}
T0 = 1_700_000_000_000_000_000  # an arbitrary epoch for toy traces (ns)


def toy_trace(spans: Sequence[Mapping[str, Any]], trace_id: str = "a" * 32) -> Traces:
    """A trace from short span descriptions, times in milliseconds.

    Parameters
    ----------
    spans
        One mapping per span, with ``name`` (unique: it also names the parent), and optionally
    ``parent`` (a name), ``service``, ``kind`` (``"SERVER"``...), ``status``, ``start`` and
    ``end`` (ms; ``end=None``: never ended), ``attributes``, ``events`` (``[(name, ms)]``)
    and ``links`` (names).
    trace_id
        The trace id.

    Returns
    -------
    Traces
        One trace; span ids are ``0000000000000001``... in the order given.
    """
    ids = {s["name"]: f"{i + 1:016x}" for i, s in enumerate(spans)}
    b = TableBuilder()
    resources: dict[str, int] = {}
    for s in spans:
        service = s.get("service", "svc")
        if service not in resources:
            resources[service] = b.add_resource([("service.name", service)])

        def ns(ms: float) -> int:
            return T0 + round(ms * 1_000_000)

        end = s.get("end", s.get("start", 0) + 1)
        b.add_span(trace_id=trace_id, span_id=ids[s["name"]],
                   parent_id=ids[s["parent"]] if s.get("parent") else "", name=s["name"],
                   kind=_KINDS[s.get("kind", "INTERNAL")],
                   status=_STATUS[s.get("status", "UNSET")], start=ns(s.get("start", 0)),
                   end=None if end is None else ns(end), resource=resources[service],
                   attributes=list(s.get("attributes", {}).items()),
                   events=[(n, ns(t), []) for n, t in s.get("events", [])],
                   links=[(trace_id, ids[n], []) for n in s.get("links", [])])
    return Traces(b.build(), ["toy"])


def _ctx(traces: Any, trace: int) -> Any:
    from workbench.traces.context import TraceContext

    table = traces.table if hasattr(traces, "table") else traces
    return TraceContext(table, trace)


def _describe(table: Any, p: Any) -> str:
    name = table.name_of(p.row)
    if p.phase == 0:
        return f"start({name})"
    if p.phase == 2:
        return f"end({name})"
    return f"event({name}, {p.name!r})"


def timeline(traces: Any, trace: int = 0) -> Any:
    """The timeline of a trace, in the order the temporal operators walk it.

    Parameters
    ----------
    traces
        Traces or a span table.
    trace
        The trace index.

    Returns
    -------
    pandas.DataFrame
        One row per point: position, time in ms from the first point, what happens there.
    """
    ctx = _ctx(traces, trace)
    line = ctx.timeline
    t0 = line[0].time if line else 0
    return _pd().DataFrame([{"position": i, "ms": (p.time - t0) / 1e6,
                             "point": _describe(ctx.table, p)} for i, p in enumerate(line)])


def _row(table: Any, trace: int, name: str) -> int:
    for r in table.trace_rows(trace):
        if table.name_of(r) == name:
            return r
    raise KeyError(f"no span named {name!r} in trace {trace}")


def truth_table(formulas: Mapping[str, str] | Sequence[str], traces: Any, trace: int = 0,
                spans: Mapping[str, str] | None = None,
                params: Mapping[str, Any] | None = None) -> Any:
    """Evaluate formulas at every timeline point of a trace.

    Parameters
    ----------
    formulas
        otlspec formulas (a list, or ``{column label: formula}``); their free variables are
        span variables bound by ``spans``.
    traces, trace
        The trace.
    spans
        ``{variable: span name}`` bindings.
    params
        Values for parameter names used by the formulas.

    Returns
    -------
    pandas.DataFrame
        The timeline (see :func:`timeline`) with one boolean column per formula.
    """
    from workbench.engine.reference import Interpreter
    from workbench.lang import parse_formula

    items = dict(formulas) if isinstance(formulas, Mapping) else {f: f for f in formulas}
    ctx = _ctx(traces, trace)
    env = {v: _row(ctx.table, trace, n) for v, n in (spans or {}).items()}
    types = {v: ir.Type.SPAN for v in env}
    consts = {k: ir.Const(v, ir.Type.DURATION if isinstance(v, int) else ir.Type.STR)
              for k, v in (params or {}).items()}
    interp = Interpreter(ctx, dict(params or {}))
    frame = timeline(traces, trace)
    for label, text in items.items():
        node = parse_formula(text, types, consts or None)
        frame[label] = [bool(interp.holds(node, env, i)) for i in range(len(frame))]
    return frame


def evaluate(formula: str, traces: Any, trace: int = 0,
             spans: Mapping[str, str] | None = None,
             params: Mapping[str, Any] | None = None, position: int = 0) -> bool:
    """The truth value of one formula at one timeline point.

    Parameters
    ----------
    formula, traces, trace, spans, params
        As for :func:`truth_table`.
    position
        The timeline position (0: the first point, where a property's verdict is read).

    Returns
    -------
    bool
    """
    frame = truth_table({"value": formula}, traces, trace, spans, params)
    return bool(frame["value"].iloc[position]) if len(frame) else True


def hb_matrix(traces: Any, trace: int = 0) -> Any:
    """The happens-before relation of a trace, computed by the reference interpreter.

    Parameters
    ----------
    traces
        Traces or a span table.
    trace
        The trace index.

    Returns
    -------
    pandas.DataFrame
        Indexed by span name both ways: ``M.loc[a, b]`` is ``a hb b``.
    """
    from workbench.engine.reference import Interpreter

    ctx = _ctx(traces, trace)
    interp = Interpreter(ctx, {})
    node = ir.HappensBefore(ir.Var("a"), ir.Var("b"))
    names = [ctx.table.name_of(r) for r in ctx.rows]
    data = [[bool(interp.holds(node, {"a": a, "b": b}, 0)) for b in ctx.rows]
            for a in ctx.rows]
    return _pd().DataFrame(data, index=names, columns=names)
