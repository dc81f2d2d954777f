"""The one OTLP writer: :class:`~workbench.traces.records.SpanRecord` lists as OTLP/JSON or
protobuf ``ExportTraceServiceRequest`` documents.

Used for generated datasets, witnesses, counterexamples and repaired traces, so every file
otlspec writes has the same shape: fields in the order of the protobuf message, int64 values as
decimal strings (proto3 JSON), ids as lowercase hex, ``status`` always present.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Mapping
from typing import Any

from workbench.traces.records import SpanRecord, grouped


def any_value(value: Any) -> dict[str, Any]:
    """An OTLP/JSON ``AnyValue`` (int64 as a decimal string, as proto3 JSON requires)."""
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


def key_values(items: Iterable[tuple[str, Any]] | Mapping[str, Any]) -> list[dict[str, Any]]:
    """An OTLP/JSON ``KeyValue`` list."""
    pairs = items.items() if type(items) is dict or isinstance(items, Mapping) else items
    return [{"key": k, "value": any_value(v)} for k, v in pairs]


def span_json(s: SpanRecord) -> dict[str, Any]:
    """One span as OTLP/JSON."""
    out: dict[str, Any] = {"traceId": s.trace_id, "spanId": s.span_id}
    if s.trace_state:
        out["traceState"] = s.trace_state
    if s.parent_id:
        out["parentSpanId"] = s.parent_id
    if s.flags:
        out["flags"] = s.flags
    out["name"] = s.name
    out["kind"] = s.kind
    out["startTimeUnixNano"] = str(s.start)
    if s.end is not None:
        out["endTimeUnixNano"] = str(s.end)
    if s.attributes:
        out["attributes"] = key_values(s.attributes)
    if s.events:
        out["events"] = [{"timeUnixNano": str(t), "name": n,
                          **({"attributes": key_values(a)} if a else {})}
                         for n, t, a in s.events]
    if s.links:
        out["links"] = [{"traceId": t, "spanId": i, **({"attributes": key_values(a)} if a else {})}
                        for t, i, a in s.links]
    status: dict[str, Any] = {}
    if s.status_message:
        status["message"] = s.status_message
    if s.status:
        status["code"] = s.status
    out["status"] = status
    return out


def _scope_json(name: str, version: str) -> dict[str, Any]:
    return {"name": name, "version": version} if version else {"name": name}


def otlp_json(records: Iterable[SpanRecord], *, regroup: bool = False) -> dict[str, Any]:
    """An OTLP/JSON ``TracesData`` / ``ExportTraceServiceRequest`` document.

    Parameters
    ----------
    records
        The spans.
    regroup
        See :func:`workbench.traces.records.grouped`: ``False`` keeps the spans' order,
        ``True`` groups them by resource object and scope.

    Returns
    -------
    dict
    """
    return {"resourceSpans": [
        {"resource": {"attributes": key_values(resource)},
         "scopeSpans": [{"scope": _scope_json(*scope), "spans": [span_json(s) for s in spans]}
                        for scope, spans in scopes]}
        for resource, scopes in grouped(records, regroup=regroup)]}


def dumps(records: Iterable[SpanRecord]) -> str:
    """:func:`otlp_json` as indented text (for files a person reads)."""
    return json.dumps(otlp_json(records), indent=2) + "\n"


# ---------------------------------------------------------------------------- protobuf


def _pb_value(target: Any, value: Any) -> None:
    if isinstance(value, bool):
        target.bool_value = value
    elif isinstance(value, int):
        target.int_value = value
    elif isinstance(value, float):
        target.double_value = value
    elif isinstance(value, bytes | bytearray):
        target.bytes_value = bytes(value)
    elif isinstance(value, list | tuple):
        for v in value:
            _pb_value(target.array_value.values.add(), v)
    elif isinstance(value, dict):
        _pb_attrs(target.kvlist_value.values, value.items())
    else:
        target.string_value = str(value)


def _pb_attrs(target: Any, items: Iterable[tuple[str, Any]]) -> None:
    for k, v in items:
        kv = target.add()
        kv.key = k
        _pb_value(kv.value, v)


def otlp_proto(records: Iterable[SpanRecord], *, regroup: bool = False) -> bytes:
    """An ``ExportTraceServiceRequest`` as protobuf, serialized deterministically.

    Parameters
    ----------
    records
        The spans. Ids are written as their bytes, so they must be even-length hex.
    regroup
        As for :func:`otlp_json`.

    Returns
    -------
    bytes

    Raises
    ------
    ValueError
        An id is not even-length hex (the message names the span).
    """
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    def raw(text: str, what: str, s: SpanRecord) -> bytes:
        try:
            return bytes.fromhex(text)
        except ValueError:
            raise ValueError(f"span {s.span_id!r} of trace {s.trace_id!r}: {what} {text!r} "
                             "is not even-length hex; protobuf holds ids as bytes") from None

    req = ExportTraceServiceRequest()
    for resource, scopes in grouped(records, regroup=regroup):
        rs = req.resource_spans.add()
        _pb_attrs(rs.resource.attributes, resource)
        for (scope, version), spans in scopes:
            ss = rs.scope_spans.add()
            ss.scope.name, ss.scope.version = scope, version
            for s in spans:
                p = ss.spans.add()
                p.trace_id = raw(s.trace_id, "trace id", s)
                p.span_id = raw(s.span_id, "span id", s)
                if s.parent_id:
                    p.parent_span_id = raw(s.parent_id, "parent id", s)
                if s.trace_state:
                    p.trace_state = s.trace_state
                p.flags = s.flags
                p.name = s.name
                p.kind = s.kind
                p.start_time_unix_nano = s.start
                if s.end is not None:
                    p.end_time_unix_nano = s.end
                _pb_attrs(p.attributes, s.attributes.items())
                for name, t, attrs in s.events:
                    e = p.events.add()
                    e.time_unix_nano, e.name = t, name
                    _pb_attrs(e.attributes, attrs.items())
                for tid, sid, attrs in s.links:
                    lk = p.links.add()
                    lk.trace_id = raw(tid, "link trace id", s)
                    lk.span_id = raw(sid, "link span id", s)
                    _pb_attrs(lk.attributes, attrs.items())
                if s.status_message:
                    p.status.message = s.status_message
                p.status.code = s.status
    return req.SerializeToString(deterministic=True)
