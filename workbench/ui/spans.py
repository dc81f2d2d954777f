"""Spans of one trace as plain JSON-able data, for the waterfall and the span details.

Both faces of the UI read traces through here: the static report (:mod:`workbench.ui.render`)
and the explorer (:mod:`workbench.ui.server`). A trace comes either from a span table loaded
from files (a batch run) or from the serialized OTLP request that the results store keeps
(``otlspec serve``). Spans are ordered depth-first from the roots, children by start time, so
the waterfall reads like a call tree; ``depth`` is the indentation.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from workbench.traces.model import SpanTable

#: Spans of one trace sent to the explorer at most; beyond it the answer says it was cut.
MAX_SPANS = 20_000


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return value


def trace_index(table: SpanTable) -> dict[str, int]:
    """``{trace id (lowercase hex): trace index}`` of a table."""
    return {tid: t for t, tid in enumerate(table.trace_id_hex)}


def _order(table: SpanTable, rows: range) -> list[tuple[int, int]]:
    """``(row, depth)`` depth-first from the roots, siblings by start time."""
    start = table.start
    in_trace = set(rows)
    kids: dict[int, list[int]] = {}
    roots: list[int] = []
    for r in rows:
        p = int(table.parent[r])
        if p >= 0 and p in in_trace and not bool(table.in_cycle[r]):
            kids.setdefault(p, []).append(r)
        else:
            roots.append(r)  # roots, orphans (missing parent) and spans in a parent cycle
    out: list[tuple[int, int]] = []
    seen: set[int] = set()
    stack = [(r, 0) for r in sorted(roots, key=lambda r: int(start[r]), reverse=True)]
    while stack:
        r, d = stack.pop()
        if r in seen:
            continue
        seen.add(r)
        out.append((r, d))
        for c in sorted(kids.get(r, ()), key=lambda c: int(start[c]), reverse=True):
            stack.append((c, d + 1))
    out.extend((r, 0) for r in rows if r not in seen)  # unreachable: still listed
    return out


def trace_spans(table: SpanTable, trace: int, *, details: bool = True,
                limit: int = MAX_SPANS) -> dict[str, Any]:
    """The spans of trace ``trace`` of ``table``.

    Parameters
    ----------
    table
        The span table.
    trace
        The trace's index in ``table``.
    details
        Include attributes, resource, events and links of each span.
    limit
        Most spans listed; ``truncated`` says how many were left out.

    Returns
    -------
    dict
        ``trace_id``, ``start`` (ns, the earliest span start), ``duration`` (ns), ``spans`` (each
        with ``span_id``, ``parent_id``, ``name``, ``service``, ``kind``, ``status``,
        ``status_message``, ``offset`` and ``duration`` in ns from the trace start, ``depth``,
        ``ended`` and, with ``details``, ``attributes``, ``resource``, ``events``, ``links``)
        and ``truncated``.
    """
    rows = table.trace_rows(trace)
    ordered = _order(table, rows)
    starts = [int(table.start[r]) for r in rows]
    ends = [int(table.end[r]) for r in rows if bool(table.has_end[r])]
    t0 = min(starts) if starts else 0
    t1 = max([*starts, *ends]) if starts else 0
    spans = []
    for r, depth in ordered[:limit]:
        ended = bool(table.has_end[r])
        s, e = int(table.start[r]), int(table.end[r])
        span: dict[str, Any] = {
            "span_id": table.span_id_hex(r),
            "parent_id": table.parent_id_hex(r),
            "name": table.name_of(r),
            "service": table.service_of(r),
            "kind": table.kind_of(r),
            "status": table.status_of(r),
            "status_message": table.strings[int(table.status_message[r])],
            "offset": s - t0,
            "duration": max(e - s, 0) if ended else None,
            "depth": depth,
            "ended": ended,
        }
        if details:
            span["attributes"] = _jsonable(table.attributes_of(r))
            span["resource"] = _jsonable(table.resource_of(r))
            span["events"] = [{"name": ev.name, "offset": ev.time - t0,
                               "attributes": _jsonable(ev.attributes)}
                              for ev in table.events_of(r)]
            span["links"] = [{"trace_id": ln.trace_id, "span_id": ln.span_id,
                              "attributes": _jsonable(ln.attributes)}
                             for ln in table.links_of(r)]
        spans.append(span)
    return {"trace_id": table.trace_id_hex[trace], "start": t0, "duration": t1 - t0,
            "spans": spans, "truncated": max(len(ordered) - limit, 0)}


def table_from_payloads(payloads: Iterable[bytes]) -> SpanTable:
    """A span table from serialized OTLP ``ExportTraceServiceRequest`` payloads (the store's)."""
    from workbench.traces import otlp_proto
    from workbench.traces.builder import TableBuilder

    builder = TableBuilder()
    otlp_proto.load(b"".join(payloads), "store", builder)
    return builder.build()


def spans_from_payload(payload: bytes, trace_id: str) -> dict[str, Any] | None:
    """The spans of ``trace_id`` from one stored payload (None when it holds none)."""
    table = table_from_payloads([payload])
    index = trace_index(table)
    if trace_id not in index:
        return None
    return trace_spans(table, index[trace_id])


def violating_span_ids(witnesses: Sequence[dict[str, Any]]) -> dict[str, list[str]]:
    """``{span id: [messages]}`` of the spans bound in ``witnesses`` (witness JSON)."""
    out: dict[str, list[str]] = {}
    for w in witnesses:
        message = str(w.get("message") or "")
        for binding in (w.get("bindings") or {}).values():
            if isinstance(binding, dict) and binding.get("span_id"):
                msgs = out.setdefault(str(binding["span_id"]), [])
                if message and message not in msgs:
                    msgs.append(message)
    return out
