"""Typed fast path for the common Jaeger UI-model documents (``{"data": [trace, ...]}``, one
``{"traceID", "spans", "processes"}`` trace, or a list of traces).

A well-formed UI-model document (hex ids, integer microsecond times, ``key``/``type``/``value``
tags, processes looked up by ``processID``) is decoded by msgspec straight into structs and
appended column-wise (:mod:`workbench.traces.typed_append`); its table equals what
:func:`workbench.traces.jaeger.load` builds. Anything else (the api_v2 model, an inline
``process``, a field the reference reader would warn about or drop) makes :func:`load` return
False before the builder is touched, and the caller reads the document with the reference
reader, so its diagnostics stay exactly as they were.
"""

from __future__ import annotations

from typing import Any

import msgspec

from workbench.traces.builder import LONG_ID, TableBuilder
from workbench.traces.jaeger import _tag_value, jaeger_hex, log_event, span_fields
from workbench.traces.typed_append import Items, Row, append_rows
from workbench.traces.zipkin import TIME_LIMIT

_UNSET = msgspec.UNSET
TagValue = str | int | float | bool | None


class Tag(msgspec.Struct, forbid_unknown_fields=True):
    """A UI-model tag (an api_v2 ``vType``/``vStr`` field: not accepted)."""

    key: str
    type: str | None = None
    value: TagValue = None


class Log(msgspec.Struct):
    """A span log (becomes an event)."""

    timestamp: int
    fields: list[Tag] | None = None


class Ref(msgspec.Struct):
    """A span reference."""

    spanID: str
    traceID: str | msgspec.UnsetType = _UNSET
    refType: str | None = None


class Span(msgspec.Struct):
    """A UI-model span: every field the reference reader reads in that dialect."""

    spanID: str
    startTime: int
    traceID: str | msgspec.UnsetType = _UNSET
    operationName: str = ""
    references: list[Ref] | None = None
    duration: int | None = None
    tags: list[Tag] | None = None
    logs: list[Log] | None = None
    processID: str | None = None
    process: msgspec.Raw | None = None
    parentSpanID: str | None = None


class Process(msgspec.Struct):
    """A process (becomes a resource)."""

    serviceName: str | msgspec.UnsetType | None = _UNSET
    service_name: str | None = None
    tags: list[Tag] | None = None


class Trace(msgspec.Struct):
    """One trace of the query API."""

    traceID: str
    spans: list[Span]
    processes: dict[str, msgspec.Raw] | None = None
    process: msgspec.Raw | msgspec.UnsetType = _UNSET


class TopTrace(Trace, forbid_unknown_fields=True):
    """A trace as the whole document (or an item of a top-level list): only trace fields,
    so that no other reader's key (``resourceSpans``, ``batch``, ...) hides in it."""

    warnings: Any = None


class Document(msgspec.Struct, forbid_unknown_fields=True):
    """The query API response (its paging fields and errors are ignored)."""

    data: list[Trace]
    total: Any = None
    limit: Any = None
    offset: Any = None
    errors: Any = None


_DECODERS: tuple[msgspec.json.Decoder[Any], ...] = (
    msgspec.json.Decoder(Document),
    msgspec.json.Decoder(TopTrace),
    msgspec.json.Decoder(list[TopTrace]),
)
_PROCESS = msgspec.json.Decoder(Process)


class _Refused(Exception):
    """The document is not in the accepted shape (the reference reader takes over)."""


def _tags(tags: list[Tag] | None) -> Items:
    """``(key, typed value)`` of each tag, as :meth:`jaeger._Reader.tags` reads them."""
    out: Items = []
    for tag in tags or ():
        kind, value = tag.type, tag.value
        vt = type(value)
        if (
            (vt is str and (kind == "string" or kind is None))
            or (vt is int and kind == "int64")
            or (vt is float and kind == "float64")
            or (vt is bool and kind == "bool")
        ):
            out.append((tag.key, value))
            continue
        try:
            out.append((tag.key, _tag_value({"type": kind, "value": value})))
        except ValueError:  # the reference reader warns and drops the tag
            raise _Refused from None
    return out


def _hex(raw: str, nbytes: int) -> str:
    """:func:`jaeger.jaeger_hex`, skipping the ids it returns unchanged: 16 characters or
    more for a span id, 16 or 32 and more for a trace id."""
    n = len(raw)
    if n == 16 or (n >= 32 if nbytes == 16 else n > 16):
        return raw
    return jaeger_hex(raw, nbytes)


def _micros(value: int) -> int:
    ns = value * 1000
    if not -TIME_LIMIT <= ns <= TIME_LIMIT:
        raise _Refused
    return ns


class _Resources:
    """Resources by their canonical JSON, as :meth:`jaeger._Reader.resource` keys them."""

    def __init__(self) -> None:
        self.index: dict[bytes, int] = {}
        self.items: list[Items] = []
        self.by_raw: dict[bytes, int] = {}

    def of(self, raw: msgspec.Raw | None) -> int:
        if raw is None:
            return self._add(b"", [])
        text = bytes(raw)
        found = self.by_raw.get(text)
        if found is not None:
            return found
        try:
            key = msgspec.json.encode(msgspec.json.decode(text))
            process = _PROCESS.decode(text)
        except msgspec.DecodeError:
            raise _Refused from None
        service = process.serviceName
        if service is _UNSET:
            service = process.service_name
        items: Items = [("service.name", service)] if isinstance(service, str) else []
        items.extend(_tags(process.tags))
        found = self.by_raw[text] = self._add(key, items)
        return found

    def _add(self, key: bytes, items: Items) -> int:
        found = self.index.get(key)
        if found is None:
            found = self.index[key] = len(self.items)
            self.items.append(items)
        return found


def _span(span: Span, default: str, processes: dict[str, msgspec.Raw],
          resources: _Resources) -> Row:  # fmt: skip
    raw_trace = default if span.traceID is _UNSET else span.traceID
    if not raw_trace or not span.spanID:
        raise _Refused
    trace_id, span_id = _hex(raw_trace, 16), _hex(span.spanID, 8)
    start = _micros(span.startTime)
    end = None if span.duration is None else start + _micros(span.duration)
    parent = ""
    links: list[tuple[str, str, Items]] = []
    refs = span.references or []
    for ref in refs:
        ref_trace = trace_id if ref.traceID is _UNSET else ref.traceID
        if not ref.spanID or not ref_trace:
            raise _Refused
        ref_trace, ref_span = _hex(ref_trace, 16), _hex(ref.spanID, 8)
        ref_type = (ref.refType or "CHILD_OF").upper()
        if not parent and ref_type == "CHILD_OF" and ref_trace.lower() == trace_id.lower():
            parent = ref_span
        else:
            links.append((ref_trace, ref_span, [("opentracing.ref_type", ref_type.lower())]))
    legacy = span.parentSpanID
    if not parent and not refs and legacy is not None and legacy.strip("0"):
        parent = legacy
    if len(span_id) > LONG_ID or len(parent) > LONG_ID:
        raise _Refused
    if span.process is not None:
        raise _Refused
    pid = span.processID
    if pid is not None and pid in processes:
        resource = resources.of(processes[pid])
    elif pid is not None or processes:
        raise _Refused  # the reference reader warns: no such process
    else:
        resource = resources.of(None)
    attributes = _tags(span.tags)
    kind, status, message, scope = span_fields(attributes)
    events: list[tuple[str, int, Items]] = []
    for log in span.logs or ():
        time = _micros(log.timestamp)
        name, fields = log_event(_tags(log.fields))
        events.append((name, time, fields))
    return Row(trace_id, span_id, parent, span.operationName, kind, status, message, start,
               end, resource, scope, attributes, events, links)  # fmt: skip


def _decode(data: bytes) -> list[Trace] | None:
    """The traces of a query-API document, a single trace or a list of traces; None when the
    document has none of these shapes."""
    for decoder in _DECODERS:
        try:
            doc = decoder.decode(data)
        except (msgspec.DecodeError, RecursionError):
            continue
        if isinstance(doc, Document):
            return doc.data
        return [doc] if isinstance(doc, Trace) else doc
    return None


def load(data: bytes, file: str, builder: TableBuilder) -> bool:
    """Read a Jaeger query-API document of the accepted shape into ``builder``.

    Parameters
    ----------
    data
        The JSON text (UTF-8, no byte order mark).
    file
        Name for the ``source`` column.
    builder
        Receives the spans and resources.

    Returns
    -------
    bool
        True when the document was read; False (``builder`` untouched) when it is not of the
        accepted shape and the reference reader must read it.
    """
    traces = _decode(data)
    if not traces:
        return False
    resources = _Resources()
    rows: list[Row] = []
    try:
        for trace in traces:
            if trace.process is not _UNSET:
                raise _Refused
            processes = trace.processes or {}
            for span in trace.spans:
                rows.append(_span(span, trace.traceID, processes, resources))
    except _Refused:
        return False
    base = len(builder.resource_service)
    for items in resources.items:
        builder.add_resource(items)
    if base:
        rows = [r._replace(resource=r.resource + base) for r in rows]
    append_rows(builder, rows, file)
    return True
