"""Typed fast path for the common Zipkin v2 JSON document.

A well-formed v2 span list (every span with a trace id, an id and a timestamp, string tags,
annotations without endpoints, no repeated span id) is decoded by msgspec straight into
:class:`Span` structs and appended column-wise (:mod:`workbench.traces.typed_append`); its table
equals what :func:`workbench.traces.zipkin.load` builds. Anything else (v1 records, batches,
fragments to merge, shared spans, a field the reference reader would warn about) makes
:func:`load` return False before the builder is touched, and the caller reads the document
with the reference reader, so its diagnostics stay exactly as they were.
"""

from __future__ import annotations

import msgspec

from workbench.traces.builder import LONG_ID, TableBuilder
from workbench.traces.typed_append import Row, append_rows
from workbench.traces.zipkin import _KINDS, TIME_LIMIT

_UNSET = msgspec.UNSET


class Endpoint(msgspec.Struct):
    """A Zipkin endpoint (only the service name is read)."""

    serviceName: str | None = None


class Annotation(msgspec.Struct, forbid_unknown_fields=True):
    """A v2 annotation (an ``endpoint`` would make the record v1: not accepted)."""

    timestamp: int
    value: str


class Span(msgspec.Struct, forbid_unknown_fields=True):
    """A v2 span with every field of the Zipkin model (unknown fields: not accepted)."""

    traceId: str
    id: str
    parentId: str | None = None
    name: str | None = None
    kind: str | msgspec.UnsetType | None = _UNSET
    timestamp: int | None = None
    duration: int | None = None
    debug: bool | None = None
    shared: bool | None = None
    localEndpoint: Endpoint | msgspec.UnsetType | None = _UNSET
    remoteEndpoint: Endpoint | None = None
    annotations: list[Annotation] | None = None
    tags: dict[str, str | None] | msgspec.UnsetType | None = _UNSET


_DECODER = msgspec.json.Decoder(list[Span])


class _Refused(Exception):
    """The document is not in the accepted shape (the reference reader takes over)."""


def _v2_marked(spans: list[Span]) -> bool:
    """Whether :func:`workbench.traces.zipkin.is_v1` says v2 for these (annotations carry no
    endpoint and, being typed, no ``binaryAnnotations``): the first span with a v2 field or a
    core annotation decides."""
    core = {"cs", "cr", "sr", "ss", "ms", "mr"}
    for span in spans:
        if span.localEndpoint is not _UNSET or span.kind is not _UNSET or span.tags is not _UNSET:
            return True
        if span.annotations and any(a.value in core for a in span.annotations):
            return False
    return True


def _rows(spans: list[Span]) -> tuple[list[Row], list[str]]:
    rows: list[Row] = []
    services: dict[str, int] = {}
    seen: set[tuple[str, str]] = set()
    for span in spans:
        trace, sid = span.traceId.lower(), span.id.lower()
        parent = (span.parentId or "").lower()
        if not trace or not sid or len(sid) > LONG_ID or len(parent) > LONG_ID:
            raise _Refused
        key = (trace, sid)
        if key in seen:  # fragments or shared spans: merged by the reference reader
            raise _Refused
        seen.add(key)
        kind = 0
        if span.kind is not _UNSET and span.kind is not None:
            kind = _KINDS.get(span.kind.upper(), 0)
            if kind == 0:
                raise _Refused
        if span.timestamp is None:
            raise _Refused
        start = span.timestamp * 1000
        if not -TIME_LIMIT <= start <= TIME_LIMIT:
            raise _Refused
        end = None
        if span.duration is not None:
            duration = span.duration * 1000
            if not -TIME_LIMIT <= duration <= TIME_LIMIT:
                raise _Refused
            end = start + duration
        events: list[tuple[str, int, list[tuple[str, object]]]] = []
        for ann in span.annotations or ():
            time = ann.timestamp * 1000
            if not -TIME_LIMIT <= time <= TIME_LIMIT:
                raise _Refused
            events.append((ann.value, time, []))
        local = span.localEndpoint
        service = local.serviceName or "" if isinstance(local, Endpoint) else ""
        remote = span.remoteEndpoint.serviceName or "" if span.remoteEndpoint else ""
        tags = span.tags
        attrs: list[tuple[str, object]] = []
        if tags:
            attrs = (list(tags.items()) if None not in tags.values()
                     else [(k, v) for k, v in tags.items() if v is not None])  # fmt: skip
        status, message = 0, ""
        error = tags.get("error") if tags else None
        if error is not None:
            status, message = 2, error
        if remote:
            attrs.append(("peer.service", remote))
        resource = services.setdefault(service, len(services))
        rows.append(Row(trace, sid, parent, span.name or "", kind, status, message, start, end,
                        resource, "", attrs, events, []))  # fmt: skip
    return rows, list(services)


def load(data: bytes, file: str, builder: TableBuilder) -> bool:
    """Read a Zipkin v2 document of the accepted shape into ``builder``.

    Parameters
    ----------
    data
        The JSON text (UTF-8, no byte order mark).
    file
        Name for the ``source`` column.
    builder
        Receives the spans.

    Returns
    -------
    bool
        True when the document was read; False (``builder`` untouched) when it is not of the
        accepted shape and the reference reader must read it.
    """
    try:
        spans = _DECODER.decode(data)
    except (msgspec.DecodeError, RecursionError):
        return False
    if not spans or not _v2_marked(spans):
        return False
    try:
        rows, services = _rows(spans)
    except _Refused:
        return False
    base = len(builder.resource_service)
    for service in services:
        builder.add_resource([("service.name", service)] if service else [])
    if base:
        rows = [r._replace(resource=r.resource + base) for r in rows]
    append_rows(builder, rows, file)
    return True
