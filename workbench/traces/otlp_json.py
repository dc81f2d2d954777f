"""OTLP/JSON traces (``ExportTraceServiceRequest`` / ``TracesData``), also as JSON lines.

Two paths share one set of msgspec Struct definitions and one columnar walker:

* **fast**: documents are decoded lazily (:mod:`workbench.traces.otlp_json_lazy` keeps each
  span as raw JSON), then its ``SpanBatcher`` decodes spans in cache-sized batches straight
  into frozen, GC-untracked Structs (lax mode: decimal strings become ints in C) and
  :func:`append_spans` turns them into builder columns with list comprehensions and numpy,
  never a Python loop per attribute;
* **tolerant**: when the typed decode rejects something, that batch (or document) is decoded
  into plain JSON values and every record is converted on its own
  (:mod:`workbench.traces.otlp_repair`), so one broken field costs one diagnostic with its exact
  path (``resourceSpans[0].scopeSpans[1].spans[3].kind``) and every valid span still loads.

:mod:`workbench.traces.detect` drives both for whole documents and for JSON lines.

Accepted beyond the letter of the OTLP JSON spec: base64 ids (protobuf's generic JSON mapping,
Tempo), enum names for ``kind`` and ``status.code``, integers for 64-bit fields, the Jaeger v3
``{"result": {...}}`` wrapper and the pre-1.0 ``instrumentationLibrarySpans`` layout.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from itertools import chain
from typing import Annotated, Any, Literal

import msgspec
import numpy as np
from msgspec import UNSET, UnsetType

from workbench.traces.builder import AttrBuilder, TableBuilder
from workbench.traces.model import ATTR_BOOL, ATTR_FLOAT, ATTR_INT

# ---------------------------------------------------------------------- message types

_KIND_ENUM = (
    "SPAN_KIND_UNSPECIFIED",
    "SPAN_KIND_INTERNAL",
    "SPAN_KIND_SERVER",
    "SPAN_KIND_CLIENT",
    "SPAN_KIND_PRODUCER",
    "SPAN_KIND_CONSUMER",
)
_STATUS_ENUM = ("STATUS_CODE_UNSET", "STATUS_CODE_OK", "STATUS_CODE_ERROR")
#: kind / status code (ints or enum names) -> number
KIND_CODES: dict[int | str, int] = {
    **{i: i for i in range(6)},
    **{n: i for i, n in enumerate(_KIND_ENUM)},
}
STATUS_CODES: dict[int | str, int] = {
    **{i: i for i in range(3)},
    **{n: i for i, n in enumerate(_STATUS_ENUM)},
}

Time = Annotated[int, msgspec.Meta(ge=0, le=2**63 - 1)]
U32 = Annotated[int, msgspec.Meta(ge=0, le=2**32 - 1)]
Id = Annotated[str, msgspec.Meta(min_length=1)]
Kind = Annotated[int, msgspec.Meta(ge=0, le=5)] | Literal[_KIND_ENUM]  # type: ignore[valid-type]
Code = Annotated[int, msgspec.Meta(ge=0, le=2)] | Literal[_STATUS_ENUM]  # type: ignore[valid-type]


class _Msg(msgspec.Struct, frozen=True, gc=False):
    """Base of the OTLP JSON records: immutable and invisible to the cycle collector."""


class ArrayValue(_Msg, frozen=True, gc=False):
    values: list[AnyValue] = []


class KeyValueList(_Msg, frozen=True, gc=False):
    values: list[KeyValue] = []


class AnyValue(_Msg, frozen=True, gc=False):
    stringValue: str | None = None
    boolValue: bool | None = None
    intValue: int | None = None
    doubleValue: float | None = None
    bytesValue: str | None = None
    arrayValue: ArrayValue | None = None
    kvlistValue: KeyValueList | None = None


_EMPTY_VALUE = AnyValue()


class KeyValue(_Msg, frozen=True, gc=False):
    key: str = ""  # proto3 JSON omits an empty key
    value: AnyValue = _EMPTY_VALUE


class Event(_Msg, frozen=True, gc=False):
    timeUnixNano: Time = 0
    name: str = ""
    attributes: list[KeyValue] = []


class Link(_Msg, frozen=True, gc=False):
    traceId: Id
    spanId: Id
    traceState: str = ""
    flags: U32 = 0
    attributes: list[KeyValue] = []


class Status(_Msg, frozen=True, gc=False):
    code: Code = 0
    message: str = ""


_NO_STATUS = Status()


class Span(_Msg, frozen=True, gc=False):
    traceId: Id
    spanId: Id
    parentSpanId: str = ""
    traceState: str = ""
    flags: U32 = 0
    name: str = ""
    kind: Kind = 0
    startTimeUnixNano: Time = 0
    endTimeUnixNano: Time = 0
    attributes: list[KeyValue] = []
    events: list[Event] = []
    links: list[Link] = []
    status: Status = _NO_STATUS


class Scope(_Msg, frozen=True, gc=False):
    name: str = ""
    version: str = ""


_NO_SCOPE = Scope()


class ScopeSpans(_Msg, frozen=True, gc=False):
    scope: Scope = _NO_SCOPE
    spans: list[Span] = []


class LibrarySpans(_Msg, frozen=True, gc=False):
    """Pre-1.0 OTLP name of :class:`ScopeSpans`."""

    instrumentationLibrary: Scope = _NO_SCOPE
    spans: list[Span] = []


class Resource(_Msg, frozen=True, gc=False):
    attributes: list[KeyValue] = []


_NO_RESOURCE = Resource()


class ResourceSpans(_Msg, frozen=True, gc=False):
    resource: Resource = _NO_RESOURCE
    scopeSpans: list[ScopeSpans] = []
    instrumentationLibrarySpans: list[LibrarySpans] = []


class TracesDocument(_Msg, frozen=True, gc=False):
    """``ExportTraceServiceRequest`` / ``TracesData`` (or Tempo's ``batches``), optionally
    inside ``{"result": ...}`` (Jaeger v3) or ``{"trace": ...}`` (Tempo v2)."""

    resourceSpans: list[ResourceSpans] | UnsetType = UNSET
    batches: list[ResourceSpans] | UnsetType = UNSET
    result: TracesDocument | None = None
    trace: TracesDocument | None = None


#: the typed decoder of a whole document (the loaders decode spans in batches instead)
DOCUMENT_DECODER = msgspec.json.Decoder(TracesDocument, strict=False)


class Fallback(Exception):
    """Raised by the fast walker when a record needs the tolerant path (it appends nothing)."""


# ---------------------------------------------------------------------- values and ids

_HEXCHARS = frozenset("0123456789abcdefABCDEF")
_B64CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_=")


def decode_base64(text: str) -> bytes:
    """Decode standard or URL-safe base64, padded or not; raise ValueError when invalid."""
    if not _B64CHARS.issuperset(text):
        raise ValueError("not base64")
    padded = text + "=" * (-len(text) % 4)
    try:
        if "-" in text or "_" in text:
            return base64.urlsafe_b64decode(padded)
        return base64.b64decode(padded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError(str(exc)) from None


def normalize_id(text: str, nbytes: int) -> str:
    """Hex text of an id given as hex or as base64 of ``nbytes`` bytes (16 or 8).

    Base64 is recognised by length and alphabet: 24 characters ending in ``==`` for 16 bytes,
    12 ending in ``=`` for 8 bytes, or the unpadded 22/11 characters when they are not all hex.
    Anything else is returned unchanged (the builder keeps and judges malformed ids).
    """
    n = len(text)
    if n == 2 * nbytes:
        return text
    padded_len = 24 if nbytes == 16 else 12
    bare_len = 22 if nbytes == 16 else 11
    if (n == padded_len and text.endswith("=")) or (
        n == bare_len and not _HEXCHARS.issuperset(text)
    ):
        try:
            raw = decode_base64(text)
        except ValueError:
            return text
        if len(raw) == nbytes:
            return raw.hex()
    return text


def _normalize_ids(ids: list[str], nbytes: int) -> list[str]:
    lengths = set(map(len, ids))
    if lengths <= {2 * nbytes, 0}:
        return ids
    return [normalize_id(t, nbytes) if t else t for t in ids]


def any_to_python(value: AnyValue) -> Any:
    """The Python value of an AnyValue: str/bool/int/float/bytes/list/dict, or None if empty.

    Raises ValueError for a ``bytesValue`` that is not base64. Nested bytes that do not decode
    stay as their text.
    """
    if value.stringValue is not None:
        return value.stringValue
    if value.boolValue is not None:
        return value.boolValue
    if value.intValue is not None:
        return value.intValue
    if value.doubleValue is not None:
        return value.doubleValue
    if value.bytesValue is not None:
        return decode_base64(value.bytesValue)
    if value.arrayValue is not None:
        return [_nested(v) for v in value.arrayValue.values]
    if value.kvlistValue is not None:
        return {kv.key: _nested(kv.value) for kv in value.kvlistValue.values}
    return None


def _nested(value: AnyValue) -> Any:
    try:
        return any_to_python(value)
    except ValueError:
        return value.bytesValue


def attribute_items(kvs: list[KeyValue]) -> list[tuple[str, Any]]:
    """``(key, python value)`` pairs of an attribute list.

    Raises :class:`Fallback` on an empty value or bad base64 (the tolerant path reports it).
    """
    out = []
    for kv in kvs:
        try:
            value = any_to_python(kv.value)
        except (ValueError, RecursionError):
            raise Fallback from None
        if value is None:
            raise Fallback
        out.append((kv.key, value))
    return out


# ---------------------------------------------------------------------- the columnar walker

_Columns = tuple[list[int], list[int], np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def pack_attributes(ab: AttrBuilder, lists: list[list[KeyValue]]) -> _Columns:
    """Attribute columns of many owners at once (vectorized by value type).

    Raises :class:`Fallback` on an empty value or bad base64, which the tolerant path reports.
    """
    counts = list(map(len, lists))
    kvs = list(chain.from_iterable(lists))
    m = len(kvs)
    strings = ab.strings
    keys = strings.codes([kv.key for kv in kvs])
    texts = [kv.value.stringValue for kv in kvs]
    sval = np.asarray(strings.codes(texts), dtype=np.int32)
    types = np.zeros(m, dtype=np.int8)
    ival = np.zeros(m, dtype=np.int64)
    fval = np.zeros(m, dtype=np.float64)
    if m and None in texts:
        where = [i for i, t in enumerate(texts) if t is None]
        rest = [kvs[i].value for i in where]
        _pack_non_strings(ab, rest, np.asarray(where, dtype=np.int64), types, ival, fval, sval)
    return counts, keys, types, ival, fval, sval


def _pack_non_strings(
    ab: AttrBuilder,
    rest: list[AnyValue],
    where: np.ndarray,
    types: np.ndarray,
    ival: np.ndarray,
    fval: np.ndarray,
    sval: np.ndarray,
) -> None:
    """Fill the cells of the non-string values, type by type, in :func:`any_to_python` order."""
    bools = np.array([v.boolValue for v in rest], dtype=object)
    ints = np.array([v.intValue for v in rest], dtype=object)
    doubles = np.array([v.doubleValue for v in rest], dtype=object)
    is_bool = np.not_equal(bools, None)  # type: ignore[call-overload]
    is_int = np.not_equal(ints, None) & ~is_bool  # type: ignore[call-overload]
    is_double = np.not_equal(doubles, None) & ~is_bool & ~is_int  # type: ignore[call-overload]
    other = ~(is_bool | is_int | is_double)
    if is_bool.any():
        at = where[is_bool]
        types[at] = ATTR_BOOL
        ival[at] = bools[is_bool].astype(np.int64)
    if is_int.any():
        try:
            as_int = ints[is_int].astype(np.int64)
        except OverflowError:  # beyond int64: AttrBuilder.pack stores a float
            other |= is_int
        else:
            at = where[is_int]
            types[at] = ATTR_INT
            ival[at] = as_int
            fval[at] = as_int.astype(np.float64)
    if is_double.any():
        at = where[is_double]
        types[at] = ATTR_FLOAT
        fval[at] = doubles[is_double].astype(np.float64)
    for j in np.flatnonzero(other).tolist():
        try:
            value = any_to_python(rest[j])
        except (ValueError, RecursionError):
            raise Fallback from None
        if value is None:
            raise Fallback
        i = int(where[j])
        types[i], ival[i], fval[i], sval[i] = ab.pack(value)


def append_resource_spans(
    builder: TableBuilder,
    resource_spans: list[ResourceSpans],
    source: str,
    where: Callable[[Span], tuple[str, int | None]] | None = None,
) -> int:
    """Append every span of fully decoded ``resource_spans``; returns the number of spans.

    Raises :class:`Fallback` (having appended no span) when a value needs the tolerant path.
    ``where`` gives the record path and line of a span (asked only for those with an
    over-long id, see :meth:`TableBuilder.locate_long_ids`).
    """
    strings = builder.strings
    items = [attribute_items(rs.resource.attributes) for rs in resource_spans]
    spans: list[Span] = []
    res_col: list[int] = []
    scope_col: list[int] = []
    for rs, attrs in zip(resource_spans, items, strict=True):
        r = builder.add_resource(attrs)
        groups: list[tuple[Scope, list[Span]]] = [(ss.scope, ss.spans) for ss in rs.scopeSpans]
        groups += [(ls.instrumentationLibrary, ls.spans) for ls in rs.instrumentationLibrarySpans]
        for scope, group in groups:
            k = len(group)
            spans.extend(group)
            res_col.extend([r] * k)
            scope_col.extend([strings.code(scope.name)] * k)
    locate = None if where is None else (lambda k: where(spans[k]))
    return append_spans(builder, spans, res_col, scope_col, source, locate)


def append_spans(
    builder: TableBuilder,
    spans: list[Span],
    res_col: list[int],
    scope_col: list[int],
    source: str,
    where: Callable[[int], tuple[str, int | None]] | None = None,
) -> int:
    """Append decoded spans (with their builder resource index and scope-name code) column by
    column; returns their number.

    All columns are computed first and committed at the end, so a :class:`Fallback` leaves
    the builder untouched (apart from interned strings). ``where`` gives the record path and
    line of the ``k``-th span (asked only for those with an over-long id).
    """
    strings = builder.strings
    n = len(spans)

    trace_ids = _normalize_ids([s.traceId for s in spans], 16)
    span_ids = _normalize_ids([s.spanId for s in spans], 8)
    parent_ids = _normalize_ids([s.parentSpanId for s in spans], 8)
    names = strings.codes([s.name for s in spans])
    kinds = list(map(KIND_CODES.__getitem__, [s.kind for s in spans]))
    statuses = [s.status for s in spans]
    status_codes = list(map(STATUS_CODES.__getitem__, [st.code for st in statuses]))
    status_msgs = strings.codes([st.message for st in statuses])
    starts = [s.startTimeUnixNano for s in spans]
    ends_raw = [s.endTimeUnixNano for s in spans]
    has_end = list(map(bool, ends_raw))
    ends = [e or s for s, e in zip(starts, ends_raw, strict=True)]
    flags = [s.flags for s in spans]
    states = strings.codes([s.traceState for s in spans])
    attrs = pack_attributes(builder.attrs, [s.attributes for s in spans])

    event_lists = [s.events for s in spans]
    event_counts = list(map(len, event_lists))
    events: list[Event] = list(chain.from_iterable(event_lists))
    event_names = strings.codes([e.name for e in events])
    event_times = [e.timeUnixNano for e in events]
    event_attrs = pack_attributes(builder.event_attrs, [e.attributes for e in events])

    link_lists = [s.links for s in spans]
    link_counts = list(map(len, link_lists))
    links: list[Link] = list(chain.from_iterable(link_lists))
    link_traces = _normalize_ids([lk.traceId for lk in links], 16)
    link_spans = _normalize_ids([lk.spanId for lk in links], 8)
    link_states = strings.codes([lk.traceState for lk in links])
    link_flags = [lk.flags for lk in links]
    link_attrs = pack_attributes(builder.link_attrs, [lk.attributes for lk in links])

    # ---- commit
    b = builder
    if where is not None:
        b.locate_long_ids(span_ids, parent_ids, where)
    b.trace_key.extend(trace_ids)
    b.span_id.extend(span_ids)
    b.parent_id.extend(parent_ids)
    b.name.extend(names)
    b.kind.extend(kinds)
    b.status.extend(status_codes)
    b.status_message.extend(status_msgs)
    b.start.extend(starts)
    b.end.extend(ends)
    b.has_end.extend(has_end)
    b.flags.extend(flags)
    b.trace_state.extend(states)
    b.resource.extend(res_col)
    b.scope.extend(scope_col)
    b.source.extend([strings.code(source)] * n)
    b.attrs.append_columns(*attrs)
    b.event_counts.extend(event_counts)
    b.event_name.extend(event_names)
    b.event_time.extend(event_times)
    b.event_attrs.append_columns(*event_attrs)
    b.link_counts.extend(link_counts)
    b.link_trace_id.extend(link_traces)
    b.link_span_id.extend(link_spans)
    b.link_trace_state.extend(link_states)
    b.link_flags.extend(link_flags)
    b.link_attrs.append_columns(*link_attrs)
    return n
