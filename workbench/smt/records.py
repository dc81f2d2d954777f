"""Plain span records: the common form of witnesses, counterexamples and repaired traces.

A :class:`SpanRecord` list is written as OTLP/JSON (:func:`to_otlp_json`), turned into a
:class:`~workbench.traces.model.SpanTable` by loading that very JSON (so what the reference
checker re-checks is exactly the file the user gets), and read back from a table
(:func:`records_from_table`) for repairs.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from workbench.traces.builder import TableBuilder
from workbench.traces.model import ATTR_BYTES, AttrColumns, AttrValue, SpanTable

Attrs = list[tuple[str, Any]]


@dataclass
class SpanRecord:
    """One span with everything OTLP/JSON can say about it (ids as lowercase hex)."""

    trace_id: str
    span_id: str
    parent_id: str = ""
    name: str = ""
    kind: int = 0
    status: int = 0
    status_message: str = ""
    start: int = 0
    end: int | None = None
    flags: int = 0
    trace_state: str = ""
    scope: str = ""
    resource: Attrs = field(default_factory=list)
    attributes: Attrs = field(default_factory=list)
    events: list[tuple[str, int, Attrs]] = field(default_factory=list)
    links: list[tuple[str, str, Attrs]] = field(default_factory=list)

    def shifted(self, offset: int) -> SpanRecord:
        """The same span with every timestamp moved by ``offset`` ns."""
        return replace(
            self,
            start=self.start + offset,
            end=None if self.end is None else self.end + offset,
            events=[(n, t + offset, a) for n, t, a in self.events],
        )


# ------------------------------------------------------------------------ OTLP/JSON


def any_value(value: Any) -> dict[str, Any]:
    """An OTLP/JSON ``AnyValue``."""
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int):
        return {"intValue": str(value)}
    if isinstance(value, float):
        return {"doubleValue": value}
    if isinstance(value, bytes | bytearray):
        return {"bytesValue": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, list | tuple):
        return {"arrayValue": {"values": [any_value(v) for v in value]}}
    if isinstance(value, dict):
        return {"kvlistValue": {"values": key_values(value.items())}}
    return {"stringValue": str(value)}


def key_values(items: Iterable[tuple[str, Any]]) -> list[dict[str, Any]]:
    """OTLP/JSON ``KeyValue`` list."""
    return [{"key": k, "value": any_value(v)} for k, v in items]


def _span_json(r: SpanRecord) -> dict[str, Any]:
    out: dict[str, Any] = {
        "traceId": r.trace_id,
        "spanId": r.span_id,
        "name": r.name,
        "kind": r.kind,
        "startTimeUnixNano": str(r.start),
    }
    if r.parent_id:
        out["parentSpanId"] = r.parent_id
    if r.end is not None:
        out["endTimeUnixNano"] = str(r.end)
    if r.trace_state:
        out["traceState"] = r.trace_state
    if r.flags:
        out["flags"] = r.flags
    if r.attributes:
        out["attributes"] = key_values(r.attributes)
    if r.events:
        out["events"] = [
            {"timeUnixNano": str(t), "name": n, **({"attributes": key_values(a)} if a else {})}
            for n, t, a in r.events
        ]
    if r.links:
        out["links"] = [
            {"traceId": t, "spanId": s, **({"attributes": key_values(a)} if a else {})}
            for t, s, a in r.links
        ]
    if r.status or r.status_message:
        out["status"] = {"code": r.status, **({"message": r.status_message}
                                               if r.status_message else {})}
    return out


def to_otlp_json(records: list[SpanRecord]) -> dict[str, Any]:
    """An OTLP/JSON ``TracesData`` document; spans keep their order, grouped by resource
    and scope only where neighbours share them."""
    resource_spans: list[dict[str, Any]] = []
    last_res: str | None = None
    last_scope: str | None = None
    for r in records:
        res_key = json.dumps(r.resource, sort_keys=True, default=str)
        if res_key != last_res:
            resource_spans.append({"resource": {"attributes": key_values(r.resource)},
                                   "scopeSpans": []})
            last_res, last_scope = res_key, None
        groups = resource_spans[-1]["scopeSpans"]
        if r.scope != last_scope:
            groups.append({"scope": {"name": r.scope}, "spans": []})
            last_scope = r.scope
        groups[-1]["spans"].append(_span_json(r))
    return {"resourceSpans": resource_spans}


def dumps(records: list[SpanRecord]) -> str:
    """:func:`to_otlp_json` as indented text."""
    return json.dumps(to_otlp_json(records), indent=2) + "\n"


def to_table(records: list[SpanRecord], source: str = "witness.json") -> SpanTable:
    """A table of ``records``, built directly with a :class:`TableBuilder`.

    ``source`` is accepted for API compatibility and not used. (The table used to be meant to
    come from the OTLP/JSON loader, but that import, ``otlp_json.load_document``, no longer
    exists, so this has always taken the direct path; kept as is.)
    """
    return _direct_table(records)


def _direct_table(records: list[SpanRecord]) -> SpanTable:
    b = TableBuilder()
    for r in records:
        res = b.add_resource(r.resource)
        b.add_span(trace_id=r.trace_id, span_id=r.span_id, parent_id=r.parent_id, name=r.name,
                   kind=r.kind, status=r.status, status_message=r.status_message,
                   start=r.start, end=r.end, flags=r.flags, trace_state=r.trace_state,
                   resource=res, scope=r.scope, attributes=r.attributes, events=r.events,
                   links=r.links)
    return b.build()


# ------------------------------------------------------------------------ from a table


def _attr_items(cols: AttrColumns, owner: int, table: SpanTable) -> Attrs:
    out: Attrs = []
    for j in range(int(cols.offsets[owner]), int(cols.offsets[owner + 1])):
        key = table.strings[int(cols.key[j])]
        value: AttrValue | bytes = cols.value(j, table.strings)
        if int(cols.type[j]) == ATTR_BYTES and isinstance(value, str):
            try:
                value = bytes.fromhex(value)
            except ValueError:
                pass
        out.append((key, value))
    return out


def records_from_table(table: SpanTable, trace: int) -> list[SpanRecord]:
    """The spans of one trace of ``table``, in row order."""
    out: list[SpanRecord] = []
    trace_id = table.trace_id_hex[trace]
    for r in table.trace_rows(trace):
        events = []
        for k, j in enumerate(range(int(table.event_offsets[r]), int(table.event_offsets[r + 1]))):
            del k
            events.append((table.strings[int(table.event_name[j])], int(table.event_time[j]),
                           _attr_items(table.event_attrs, j, table)))
        links = []
        for j in range(int(table.link_offsets[r]), int(table.link_offsets[r + 1])):
            links.append((table.strings[int(table.link_trace_id[j])],
                          table.strings[int(table.link_span_id[j])],
                          _attr_items(table.link_attrs, j, table)))
        out.append(SpanRecord(
            trace_id=trace_id,
            span_id=table.span_id_hex(r),
            parent_id=table.parent_id_hex(r),
            name=table.name_of(r),
            kind=int(table.kind[r]),
            status=int(table.status[r]),
            status_message=table.strings[int(table.status_message[r])],
            start=int(table.start[r]),
            end=int(table.end[r]) if bool(table.has_end[r]) else None,
            flags=int(table.flags[r]),
            trace_state=table.strings[int(table.trace_state[r])],
            scope=table.strings[int(table.scope[r])],
            resource=_attr_items(table.resource_attrs, int(table.resource[r]), table),
            attributes=_attr_items(table.attrs, r, table),
            events=events,
            links=links,
        ))
    return out
