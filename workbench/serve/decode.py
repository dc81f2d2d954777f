"""OTLP trace payloads -> validated span pieces, grouped by trace.

The receivers only decode and enqueue (cutting protobuf requests with the compiled
:func:`workbench.serve.wire.split_wire`, which gives the same pieces as :func:`split_request`
without a message object per span): :func:`decode_request` turns the body of an OTLP/HTTP
request (protobuf or JSON, optionally gzip-compressed) or the message of an OTLP/gRPC call into
an ``ExportTraceServiceRequest``; :func:`split_request` validates every span (ids as OTLP
requires) and cuts the request into :class:`Piece` objects, one per trace, each holding the
serialized spans with the serialized resource and scope they came with. Pieces are what the
assembler joins; :func:`pieces_request` writes the spans of one trace back as a serialized
``ExportTraceServiceRequest`` (protobuf wire format, concatenated by hand), which the project's
own decoder (:mod:`workbench.traces.otlp_proto`) then loads into a span table. So the stream
checks exactly the bytes a batch run of the same spans would read.
"""

from __future__ import annotations

import gzip
import json
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from workbench.traces.otlp_json import normalize_id

PROTOBUF = "application/x-protobuf"
JSON = "application/json"


class PayloadError(Exception):
    """A payload that cannot be decoded (HTTP 400 / gRPC INVALID_ARGUMENT; not retryable)."""


class PayloadTooLarge(PayloadError):
    """A body over the configured size, before or after decompression (HTTP 413)."""


class UnsupportedMediaType(PayloadError):
    """A content type other than protobuf or JSON (HTTP 415)."""


@dataclass(slots=True)
class Piece:
    """The spans of one trace from one request.

    ``groups`` maps ``(resource bytes, resource schema url, scope bytes, scope schema url)`` to
    the serialized spans sent with that resource and scope.
    """

    trace_id: bytes
    groups: dict[tuple[bytes, str, bytes, str], list[bytes]] = field(default_factory=dict)
    n_spans: int = 0
    #: how many spans without a parent id and with an end time (ended roots) it holds
    ended_roots: int = 0
    nbytes: int = 0


@dataclass(slots=True)
class Decoded:
    """A validated request: its pieces, and the spans it rejected with the reason."""

    pieces: list[Piece]
    n_spans: int
    rejected: int = 0
    message: str = ""


def gunzip(body: bytes, limit: int) -> bytes:
    """Decompress a gzip body, refusing more than ``limit`` bytes of output."""
    d = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = d.decompress(body, limit + 1)
    except zlib.error as exc:
        raise PayloadError(f"invalid gzip body: {exc}") from None
    if len(out) > limit or d.unconsumed_tail:
        raise PayloadTooLarge(f"decompressed body is over the limit of {limit} bytes")
    if not d.eof:
        raise PayloadError("invalid gzip body: truncated (no end of stream)")
    return out


def _hex_to_b64(value: object, nbytes: int, where: str) -> str:
    import base64

    if not isinstance(value, str):
        raise PayloadError(f"{where}: expected a hex string, got {type(value).__name__}")
    if not value:
        return ""
    text = normalize_id(value, nbytes)
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        raise PayloadError(f"{where}: {value!r} is not a hex id") from None
    return base64.b64encode(raw).decode("ascii")


def _objects(parent: dict[str, object], key: str, where: str) -> list[dict[str, object]]:
    """``parent[key]`` as a list of objects (missing: empty); PayloadError otherwise."""
    value = parent.get(key)
    if value is None:
        return []
    path = f"{where}.{key}" if where else key
    if not isinstance(value, list):
        raise PayloadError(f"invalid OTLP/JSON: {path} must be a list")
    for k, item in enumerate(value):
        if not isinstance(item, dict):
            raise PayloadError(f"invalid OTLP/JSON: {path}[{k}] must be an object")
    return value


def _json_request(body: bytes) -> ExportTraceServiceRequest:
    """OTLP/JSON -> message: ids are hex in OTLP/JSON (base64 in protobuf's generic mapping)."""
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise PayloadError(f"invalid JSON body: {exc}") from None
    if not isinstance(doc, dict):
        raise PayloadError("invalid OTLP/JSON body: expected an object with resourceSpans")
    for i, rs in enumerate(_objects(doc, "resourceSpans", "")):
        for j, ss in enumerate(_objects(rs, "scopeSpans", f"resourceSpans[{i}]")):
            where_ss = f"resourceSpans[{i}].scopeSpans[{j}]"
            for k, sp in enumerate(_objects(ss, "spans", where_ss)):
                where = f"{where_ss}.spans[{k}]"
                for key, n in (("traceId", 16), ("spanId", 8), ("parentSpanId", 8)):
                    if key in sp:
                        sp[key] = _hex_to_b64(sp[key], n, f"{where}.{key}")
                for m, link in enumerate(_objects(sp, "links", where)):
                    for key, n in (("traceId", 16), ("spanId", 8)):
                        if key in link:
                            link[key] = _hex_to_b64(link[key], n, f"{where}.links[{m}].{key}")
    try:
        return json_format.ParseDict(doc, ExportTraceServiceRequest(), ignore_unknown_fields=True)
    except (json_format.ParseError, ValueError, TypeError) as exc:
        raise PayloadError(f"invalid OTLP/JSON trace request: {exc}") from None


def decode_request(
    body: bytes, content_type: str, content_encoding: str = "", *, max_bytes: int
) -> ExportTraceServiceRequest:
    """Decode an OTLP/HTTP body into a request (see :func:`decode_body`)."""
    return decode_body(body, content_type, content_encoding, max_bytes=max_bytes)[0]


def decode_body(
    body: bytes, content_type: str, content_encoding: str = "", *, max_bytes: int
) -> tuple[ExportTraceServiceRequest, bytes | None]:
    """Decode an OTLP/HTTP body: the request, and its protobuf bytes (decompressed; None for
    a JSON body), from which :func:`workbench.serve.wire.split_wire` cuts the spans.

    Parameters
    ----------
    body
        The raw request body.
    content_type
        ``application/x-protobuf`` or ``application/json`` (parameters such as ``charset``
        are ignored).
    content_encoding
        ``""``/``identity`` or ``gzip``.
    max_bytes
        The largest body accepted, after decompression.

    Raises
    ------
    PayloadError
        Undecodable body (400); :class:`PayloadTooLarge` (413); :class:`UnsupportedMediaType`
        (415).
    """
    if len(body) > max_bytes:
        raise PayloadTooLarge(f"body of {len(body)} bytes is over the limit of {max_bytes}")
    encoding = content_encoding.strip().lower()
    if encoding == "gzip":
        body = gunzip(body, max_bytes)
    elif encoding not in ("", "identity"):
        raise UnsupportedMediaType(f"unsupported Content-Encoding {content_encoding!r}; use gzip")
    media = content_type.split(";", 1)[0].strip().lower()
    if media == PROTOBUF:
        try:
            return ExportTraceServiceRequest.FromString(body), body
        except (DecodeError, ValueError) as exc:
            raise PayloadError(f"invalid OTLP protobuf trace request: {exc}") from None
    if media == JSON:
        return _json_request(body), None
    raise UnsupportedMediaType(
        f"unsupported Content-Type {content_type!r}; use {PROTOBUF} or {JSON}"
    )


_ZERO16, _ZERO8 = bytes(16), bytes(8)


def _bad_id(raw: bytes, n: int) -> bool:
    return len(raw) != n or not any(raw)


def invalid_reason(span: Any) -> str:
    """Why OTLP forbids this span's ids ("" when they are valid)."""
    if _bad_id(span.trace_id, 16):
        return "invalid trace_id (expected 16 bytes, not all zero)"
    if _bad_id(span.span_id, 8):
        return "invalid span_id (expected 8 bytes, not all zero)"
    if span.parent_span_id and len(span.parent_span_id) != 8:
        return "invalid parent_span_id (expected empty or 8 bytes)"
    return ""


def split_request(request: ExportTraceServiceRequest) -> Decoded:
    """Validate every span and group them by trace.

    A span is rejected (counted in ``rejected``, as OTLP's partial success reports it) when its
    trace id is not 16 bytes, its span id not 8 bytes (or either is all zeros), or its parent
    span id is neither empty nor 8 bytes.
    """
    pieces: dict[bytes, Piece] = {}
    total = rejected = 0
    reasons: dict[str, int] = {}
    for rs in request.resource_spans:
        res = rs.resource.SerializeToString(deterministic=True)
        for ss in rs.scope_spans:
            key = (res, rs.schema_url, ss.scope.SerializeToString(deterministic=True),
                   ss.schema_url)
            for sp in ss.spans:
                total += 1
                trace_id, span_id, parent = sp.trace_id, sp.span_id, sp.parent_span_id
                if not (len(trace_id) == 16 and len(span_id) == 8 and trace_id != _ZERO16
                        and span_id != _ZERO8 and (not parent or len(parent) == 8)):
                    why = invalid_reason(sp)
                    rejected += 1
                    reasons[why] = reasons.get(why, 0) + 1
                    continue
                piece = pieces.get(trace_id)
                if piece is None:
                    piece = pieces[trace_id] = Piece(trace_id)
                data = sp.SerializeToString(deterministic=True)
                spans = piece.groups.get(key)
                if spans is None:
                    piece.groups[key] = [data]
                else:
                    spans.append(data)
                piece.n_spans += 1
                piece.nbytes += len(data)
                if not parent and sp.end_time_unix_nano:
                    piece.ended_roots += 1
    message = "; ".join(f"{n} span(s) rejected: {why}" for why, n in reasons.items())
    return Decoded(list(pieces.values()), total, rejected, message)


# ------------------------------------------------------------------ protobuf wire writing


#: the varints below 2**14 (field tags, most lengths), precomputed
_SMALL_VARINTS = tuple(
    bytes([n]) if n < 0x80 else bytes([n & 0x7F | 0x80, n >> 7]) for n in range(1 << 14)
)


def _varint(n: int) -> bytes:
    if n < 1 << 14:
        return _SMALL_VARINTS[n]
    out = bytearray()
    while True:
        low = n & 0x7F
        n >>= 7
        if n:
            out.append(low | 0x80)
        else:
            out.append(low)
            return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
    """A length-delimited field (wire type 2)."""
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


_SPAN_TAG = _varint(2 << 3 | 2)  # ScopeSpans.spans


def pieces_request(
    groups: Iterable[tuple[tuple[bytes, str, bytes, str], Sequence[bytes]]],
) -> bytes:
    """A serialized ``ExportTraceServiceRequest`` holding ``groups`` of serialized spans.

    One ``ResourceSpans`` (field 1) per group, with its ``Resource`` (1), one ``ScopeSpans`` (2:
    scope 1, spans 2, schema_url 3) and schema_url (3). Serialized requests concatenate into
    their union, as protobuf merges repeated fields.
    """
    out = []
    for (res, res_url, scope, scope_url), spans in groups:
        ss = _field(1, scope) + b"".join([
            b for s in spans for b in (_SPAN_TAG, _varint(len(s)), s)])
        if scope_url:
            ss += _field(3, scope_url.encode())
        rs = _field(1, res) + _field(2, ss)
        if res_url:
            rs += _field(3, res_url.encode())
        out.append(_field(1, rs))
    return b"".join(out)


def encode_gzip(data: bytes) -> bytes:
    """gzip, as exporters send it (used by tests and the benchmark)."""
    return gzip.compress(data, compresslevel=1)
