"""Binary OTLP traces: ``ExportTraceServiceRequest`` (wire-compatible with ``TracesData``).

Parsed with the official ``opentelemetry-proto`` classes (the upb backend), then turned into
builder columns group by group with list comprehensions, following exactly the conventions of
:mod:`workbench.traces.otlp_json`, so the same trace gives the same table in both encodings.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from itertools import chain
from typing import Any

import numpy as np
from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from workbench.errors import Diagnostic
from workbench.traces.builder import AttrBuilder, TableBuilder
from workbench.traces.model import ATTR_BOOL, ATTR_FLOAT, ATTR_INT, ATTR_STR

_INT64_MAX = 2**63 - 1
_OTHER = -1  # bytes, arrays, kvlists and unset values: converted one by one
_WHICH = {
    "string_value": ATTR_STR,
    "bool_value": ATTR_BOOL,
    "int_value": ATTR_INT,
    "double_value": ATTR_FLOAT,
}
_Columns = tuple[list[int], list[int], np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def parses(data: bytes) -> bool:
    """Whether ``data`` parses as a non-empty OTLP trace request."""
    try:
        return len(ExportTraceServiceRequest.FromString(data).resource_spans) > 0
    except (DecodeError, ValueError):
        return False


#: inputs of at least this many bytes are read by the compiled wire walker
#: (:mod:`workbench.traces.otlp_wire`) once its kernels are loaded in this process or one load
#: has met :data:`COLD_MIN_BYTES` of protobuf (cf. ``otlp_json_load.FAST_JSON_MIN_BYTES``)
FAST_MIN_BYTES = 1 << 20
COLD_MIN_BYTES = 16 << 20


def load(
    data: bytes, file: str, builder: TableBuilder, *, fast: bool | None = None, first: int = 0
) -> bool:
    """Append the spans of a binary OTLP trace request; True when it could be parsed.

    Parameters
    ----------
    data
        The serialized ``ExportTraceServiceRequest`` or ``TracesData``.
    file
        Name for diagnostics and the ``source`` column.
    builder
        Receives the spans and the diagnostics.
    fast
        Use the compiled wire walker (same table, faster on large inputs); None: decided by
        size (:data:`FAST_MIN_BYTES`, :data:`COLD_MIN_BYTES`).
    first
        Index of the first ResourceSpans of ``data`` in the whole request (record paths).

    Returns
    -------
    bool
        False (with an error diagnostic) when the bytes are not an OTLP trace message.
    """
    if fast is None:
        from workbench.traces.otlp_json_load import want_fast

        fast = want_fast(builder, len(data), FAST_MIN_BYTES, COLD_MIN_BYTES,
                         "workbench.traces.kernels")
    if fast:
        from workbench.traces.otlp_wire import load_fast

        done = load_fast(data, file, builder)
        if done is not None:
            return done
    origin: dict[tuple[int, int], list[int]] | None = None
    try:
        request = ExportTraceServiceRequest.FromString(data)
    except (DecodeError, ValueError) as exc:
        message = f"invalid OTLP protobuf trace message: {exc}"
        request = _salvaged(data)
        if request is not None:
            n = sum(len(ss.spans) for rs in request.resource_spans for ss in rs.scope_spans)
            message += f"; the {n} complete spans before the damage read"
            builder.diagnostics.append(Diagnostic(file, "", message, "error"))
        else:
            # damage inside complete records (invalid UTF-8 in a string field, say): read
            # record by record, keep every record that parses, name each one that does not
            request, bad, origin = _by_record(salvage_prefix(data))
            n = sum(len(ss.spans) for rs in request.resource_spans for ss in rs.scope_spans)
            if n == 0:
                builder.diagnostics.append(Diagnostic(file, "", message, "error"))
                return False
            for path, what in bad:
                if what.startswith("invalid UTF-8"):
                    builder.diagnostics.append(Diagnostic(file, path, what, "warning"))
                    continue
                builder.diagnostics.append(Diagnostic(
                    file, path, f"{what} cannot be decoded (invalid UTF-8 in a string field, or "
                    "malformed protobuf) and is dropped; the other records are read", "error"))
    if data and not request.resource_spans:
        builder.diagnostics.append(
            Diagnostic(file, "", "not an OTLP protobuf trace message (no resource spans)", "error")
        )
        return False
    _Walker(file, builder, first, origin).request(request)
    return True


#: the nested messages a truncated request is salvaged into: request.resource_spans (1),
#: ResourceSpans.scope_spans (2); a truncated span (ScopeSpans.spans) is dropped whole
_NESTED: dict[str, dict[int, str]] = {
    "request": {1: "resource_spans"},
    "resource_spans": {2: "scope_spans"},
    "scope_spans": {},
}


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    """A base-128 varint at ``pos`` and the position after it; IndexError when cut off."""
    value = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80 or shift > 63:
            return value, pos
        shift += 7


def _encode_varint(value: int) -> bytes:
    out = bytearray()
    while value >= 0x80:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _wire_fields(data: bytes) -> Iterator[tuple[int, int, int, int, int, int]]:
    """``(start, head, field, wire, body, end)`` of each top-level field of a message: where
    it starts, where its tag ends, its number and wire type, and where its body starts and
    ends. A field cut off by the end of ``data`` comes last with ``end > len(data)``; a field
    of an unknown wire type, or whose tag or varint is cut, ends the walk as ``wire == -1``."""
    pos, n = 0, len(data)
    while pos < n:
        start = pos
        try:
            key, pos = _varint(data, pos)
            wire, field, head = key & 7, key >> 3, pos
            body = pos
            if wire == 0:
                _, pos = _varint(data, pos)
            elif wire == 1:
                pos += 8
            elif wire == 5:
                pos += 4
            elif wire == 2:
                length, body = _varint(data, pos)
                pos = body + length
            else:
                yield start, head, field, -1, body, n + 1
                return
        except IndexError:
            yield start, start, -1, -1, start, n + 1
            return
        yield start, head, field, wire, body, pos
        if pos > n:
            return


def salvage_prefix(data: bytes, level: str = "request") -> bytes:
    """The complete fields of a message cut off (or damaged) part-way: whole fields are kept,
    a cut ``resource_spans`` / ``scope_spans`` is salvaged recursively, anything else cut is
    dropped (a cut span among them)."""
    out = bytearray()
    n = len(data)
    for start, _head, field, wire, body, end in _wire_fields(data):
        if end <= n:
            out += data[start:end]
            continue
        child = _NESTED[level].get(field) if wire == 2 else None
        if child is not None:
            inner = salvage_prefix(data[body:], child)
            if inner:
                out += data[start : body - len(_encode_varint(end - body))]
                out += _encode_varint(len(inner)) + inner
        break
    return bytes(out)


def _salvaged(data: bytes) -> Any:
    """The request made of the complete records before the damage, or None."""
    try:
        request = ExportTraceServiceRequest.FromString(salvage_prefix(data))
    except (DecodeError, ValueError):
        return None
    if not any(ss.spans for rs in request.resource_spans for ss in rs.scope_spans):
        return None
    return request


def _fields(data: bytes) -> list[tuple[int, int, bytes]]:
    """(field number, wire type, raw body) of the complete top-level fields of a message."""
    n = len(data)
    return [(field, wire, data[body:end]) for _s, _h, field, wire, body, end in _wire_fields(data)
            if end <= n]


def _utf8_fixed(data: bytes, descriptor: Any, depth: int = 0) -> bytes | None:
    """``data`` (a serialized message of ``descriptor``) with invalid UTF-8 in every string
    field, nested ones too, replaced by U+FFFD; None when it is not well-formed protobuf."""
    from google.protobuf.descriptor import FieldDescriptor

    if depth > 64:
        return None
    out = bytearray()
    n = len(data)
    for start, head, number, wire, body, end in _wire_fields(data):
        if end > n:
            return None  # cut, or an unknown wire type
        if wire != 2:
            out += data[start:end]
            continue
        field = descriptor.fields_by_number.get(number)
        value = data[body:end]
        if field is not None and field.type == FieldDescriptor.TYPE_STRING:
            value = value.decode("utf-8", "replace").encode()
        elif field is not None and field.type == FieldDescriptor.TYPE_MESSAGE:
            inner = _utf8_fixed(value, field.message_type, depth + 1)
            if inner is None:
                return None
            value = inner
        out += data[start:head] + _encode_varint(len(value)) + value
    return bytes(out)


def _by_record(
    data: bytes,
) -> tuple[Any, list[tuple[str, str]], dict[tuple[int, int], list[int]]]:
    """The request rebuilt from the records of ``data`` that parse on their own (resource
    spans, else their resource and scope spans, else each span), the record path and kind
    of every one that does not, and, for each scope spans ``(i, j)`` that lost spans, the
    original index of each span kept (so later record paths name the original spans)."""
    from opentelemetry.proto.common.v1.common_pb2 import InstrumentationScope
    from opentelemetry.proto.resource.v1.resource_pb2 import Resource
    from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span

    request = ExportTraceServiceRequest()
    bad: list[tuple[str, str]] = []
    origin: dict[tuple[int, int], list[int]] = {}

    def parse(cls: Any, body: bytes, path: str = "") -> Any:
        try:
            return cls.FromString(body)
        except (DecodeError, ValueError):
            if not path:
                return None
        # a leaf record: invalid UTF-8 in its strings costs a warning, not the record
        fixed = _utf8_fixed(body, cls.DESCRIPTOR)
        if fixed is None or fixed == body:
            return None
        try:
            record = cls.FromString(fixed)
        except (DecodeError, ValueError):
            return None
        bad.append((path, "invalid UTF-8 in a string field; replaced by U+FFFD"))
        return record

    i = -1
    for field, wire, body in _fields(data):
        if field != 1 or wire != 2:
            continue
        i += 1
        rs_path = f"resourceSpans[{i}]"
        whole = parse(ResourceSpans, body)
        if whole is not None:
            request.resource_spans.append(whole)
            continue
        rs = request.resource_spans.add()
        j = -1
        for f, w, part in _fields(body):
            if f == 1 and w == 2:
                res = parse(Resource, part, f"{rs_path}.resource")
                if res is None:
                    bad.append((f"{rs_path}.resource", "the resource"))
                else:
                    rs.resource.MergeFrom(res)
            elif f == 2 and w == 2:
                j += 1
                ss_path = f"{rs_path}.scopeSpans[{j}]"
                group = parse(ScopeSpans, part)
                if group is not None:
                    rs.scope_spans.append(group)
                    continue
                ss = rs.scope_spans.add()
                kept: list[int] = []
                origin[(i, j)] = kept
                k = -1
                for g, gw, item in _fields(part):
                    if g == 1 and gw == 2:
                        scope = parse(InstrumentationScope, item, f"{ss_path}.scope")
                        if scope is None:
                            bad.append((f"{ss_path}.scope", "the scope"))
                        else:
                            ss.scope.MergeFrom(scope)
                    elif g == 2 and gw == 2:
                        k += 1
                        one = parse(Span, item, f"{ss_path}.spans[{k}]")
                        if one is None:
                            bad.append((f"{ss_path}.spans[{k}]", "the span"))
                        else:
                            ss.spans.append(one)
                            kept.append(k)
    return request, bad, origin


def _to_python(value: Any) -> Any:
    """Python value of a protobuf AnyValue (None when unset), as the JSON path builds it."""
    which = value.WhichOneof("value")
    if which is None:
        return None
    if which == "array_value":
        return [_to_python(v) for v in value.array_value.values]
    if which == "kvlist_value":
        return {kv.key: _to_python(kv.value) for kv in value.kvlist_value.values}
    return getattr(value, which)


class _Walker:
    def __init__(
        self,
        file: str,
        builder: TableBuilder,
        first: int = 0,
        origin: dict[tuple[int, int], list[int]] | None = None,
    ) -> None:
        self.first = first
        self.origin = origin or {}
        self.file = file
        self.builder = builder
        self.diagnostics = builder.diagnostics

    def warn(self, path: str, message: str, severity: str = "warning") -> None:
        self.diagnostics.append(Diagnostic(self.file, path, message, severity))

    def request(self, request: Any) -> None:
        b = self.builder
        strings = b.strings
        source = strings.code(self.file)
        for i, rs in enumerate(request.resource_spans):
            path = f"resourceSpans[{i + self.first}]"
            items = self.items(rs.resource.attributes, f"{path}.resource.attributes")
            resource = b.add_resource(items)
            for j, ss in enumerate(rs.scope_spans):
                self.group(ss, f"{path}.scopeSpans[{j}]", resource, source,
                           self.origin.get((i, j)))

    def items(self, kvs: Any, path: str) -> list[tuple[str, Any]]:
        out = []
        for k, kv in enumerate(kvs):
            value = _to_python(kv.value)
            if value is None:
                self.warn(f"{path}[{k}].value", "attribute has no value; attribute dropped")
                continue
            out.append((kv.key, value))
        return out

    def group(
        self, ss: Any, path: str, resource: int, source: int, origin: list[int] | None = None
    ) -> None:
        """Append the spans of one ScopeSpans; ``origin`` maps each span's index in ``ss`` to
        its index in the original input (when damaged spans were dropped before it)."""
        b = self.builder
        strings = b.strings
        spans = list(ss.spans)
        number = origin if origin is not None else range(len(spans))
        trace_ids = [sp.trace_id for sp in spans]
        span_ids = [sp.span_id for sp in spans]
        starts = [sp.start_time_unix_nano for sp in spans]
        keep = list(range(len(spans)))
        if b"" in trace_ids or b"" in span_ids or (starts and max(starts) > _INT64_MAX):
            keep = []
            for k, sp in enumerate(spans):
                where = f"{path}.spans[{number[k]}]"
                if not sp.trace_id:
                    self.warn(where, "missing required field traceId; span dropped", "error")
                elif not sp.span_id:
                    self.warn(where, "missing required field spanId; span dropped", "error")
                elif sp.start_time_unix_nano > _INT64_MAX:
                    self.warn(
                        f"{where}.startTimeUnixNano",
                        "expected a decimal string or integer "
                        f"(<= {_INT64_MAX}), got int {sp.start_time_unix_nano}; span dropped",
                        "error",
                    )
                else:
                    keep.append(k)
            spans = [spans[k] for k in keep]
            trace_ids = [trace_ids[k] for k in keep]
            span_ids = [span_ids[k] for k in keep]
            starts = [starts[k] for k in keep]
        n = len(spans)
        if n == 0:
            return

        def span_path(row: int) -> str:
            return f"{path}.spans[{number[keep[row]]}]"

        kinds = [sp.kind for sp in spans]
        if max(kinds) > 5 or min(kinds) < 0:
            for row, kind in enumerate(kinds):
                if not 0 <= kind <= 5:
                    self.warn(
                        f"{span_path(row)}.kind",
                        "expected a span kind (0-5 or a SPAN_KIND_* "
                        f"name) (<= 5), got int {kind}; field ignored",
                    )
                    kinds[row] = 0
        statuses = [sp.status for sp in spans]
        codes = [st.code for st in statuses]
        messages = [st.message for st in statuses]
        if max(codes) > 2 or min(codes) < 0:
            for row, code in enumerate(codes):
                if not 0 <= code <= 2:
                    self.warn(
                        f"{span_path(row)}.status.code",
                        "expected a status code (0-2 or a "
                        f"STATUS_CODE_* name) (<= 2), got int {code}; field ignored",
                    )
                    codes[row] = 0
                    messages[row] = ""
        ends_raw = [sp.end_time_unix_nano for sp in spans]
        if max(ends_raw) > _INT64_MAX:
            for row, end in enumerate(ends_raw):
                if end > _INT64_MAX:
                    self.warn(
                        f"{span_path(row)}.endTimeUnixNano",
                        "expected a decimal string or "
                        f"integer (<= {_INT64_MAX}), got int {end}; field ignored",
                    )
                    ends_raw[row] = 0
        attrs = self.pack(
            b.attrs, [sp.attributes for sp in spans], lambda o: f"{span_path(o)}.attributes"
        )

        event_lists = [list(sp.events) for sp in spans]
        event_owner = [(row, e) for row, lst in enumerate(event_lists) for e in range(len(lst))]
        events = list(chain.from_iterable(event_lists))
        event_attrs = self.pack(
            b.event_attrs,
            [e.attributes for e in events],
            lambda o: f"{span_path(event_owner[o][0])}.events[{event_owner[o][1]}].attributes",
        )

        link_lists = []
        for row, sp in enumerate(spans):
            kept = []
            for m, link in enumerate(sp.links):
                if not link.trace_id or not link.span_id:
                    field = "traceId" if not link.trace_id else "spanId"
                    self.warn(
                        f"{span_path(row)}.links[{m}]",
                        f"missing required field {field}; link dropped",
                    )
                else:
                    kept.append((m, link))
            link_lists.append(kept)
        link_owner = [(row, m) for row, lst in enumerate(link_lists) for m, _l in lst]
        links = [link for lst in link_lists for _m, link in lst]
        link_attrs = self.pack(
            b.link_attrs,
            [lk.attributes for lk in links],
            lambda o: f"{span_path(link_owner[o][0])}.links[{link_owner[o][1]}].attributes",
        )

        span_hex = [t.hex() for t in span_ids]
        parent_hex = [sp.parent_span_id.hex() for sp in spans]
        b.locate_long_ids(span_hex, parent_hex, lambda row: (span_path(row), None))
        b.trace_key.extend([t.hex() for t in trace_ids])
        b.span_id.extend(span_hex)
        b.parent_id.extend(parent_hex)
        b.name.extend(strings.codes([sp.name for sp in spans]))
        b.kind.extend(kinds)
        b.status.extend(codes)
        b.status_message.extend(strings.codes(messages))
        b.start.extend(starts)
        b.end.extend([e or s for s, e in zip(starts, ends_raw, strict=True)])
        b.has_end.extend(map(bool, ends_raw))
        b.flags.extend([sp.flags for sp in spans])
        b.trace_state.extend(strings.codes([sp.trace_state for sp in spans]))
        b.resource.extend([resource] * n)
        b.scope.extend([strings.code(ss.scope.name)] * n)
        b.source.extend([source] * n)
        b.attrs.append_columns(*attrs)
        b.event_counts.extend(map(len, event_lists))
        b.event_name.extend(strings.codes([e.name for e in events]))
        b.event_time.extend([min(e.time_unix_nano, _INT64_MAX) for e in events])
        b.event_attrs.append_columns(*event_attrs)
        b.link_counts.extend(map(len, link_lists))
        b.link_trace_id.extend([lk.trace_id.hex() for lk in links])
        b.link_span_id.extend([lk.span_id.hex() for lk in links])
        b.link_trace_state.extend(strings.codes([lk.trace_state for lk in links]))
        b.link_flags.extend([lk.flags for lk in links])
        b.link_attrs.append_columns(*link_attrs)

    def pack(self, ab: AttrBuilder, lists: list[Any], owner_path: Callable[[int], str]) -> _Columns:
        """Attribute columns of many owners, grouped by value type (cf. otlp_json)."""
        counts = list(map(len, lists))
        kvs = list(chain.from_iterable(lists))
        m = len(kvs)
        strings = ab.strings
        values = [kv.value for kv in kvs]
        which = np.asarray(
            [_WHICH.get(v.WhichOneof("value"), _OTHER) for v in values], dtype=np.int8
        )
        keep = np.ones(m, dtype=np.bool_)
        types = np.full(m, ATTR_STR, dtype=np.int8)
        ival = np.zeros(m, dtype=np.int64)
        fval = np.zeros(m, dtype=np.float64)
        sval = np.zeros(m, dtype=np.int32)
        is_str = which == ATTR_STR
        if is_str.any():
            at = np.flatnonzero(is_str)
            sval[at] = strings.codes([values[i].string_value for i in at.tolist()])
        if not is_str.all():
            for name, kind in (
                ("bool_value", ATTR_BOOL),
                ("int_value", ATTR_INT),
                ("double_value", ATTR_FLOAT),
            ):
                at = np.flatnonzero(which == kind)
                if not at.shape[0]:
                    continue
                got = [getattr(values[i], name) for i in at.tolist()]
                types[at] = kind
                if kind == ATTR_FLOAT:
                    fval[at] = got
                else:
                    ival[at] = got
                    if kind == ATTR_INT:
                        fval[at] = ival[at].astype(np.float64)
            for i in np.flatnonzero(which == _OTHER).tolist():
                value = _to_python(values[i])
                if value is None:
                    keep[i] = False
                    continue
                types[i], ival[i], fval[i], sval[i] = ab.pack(value)
        keys = strings.codes([kv.key for kv in kvs])
        if not keep.all():
            offsets = np.zeros(len(counts) + 1, dtype=np.int64)
            np.cumsum(counts, out=offsets[1:])
            for i in np.flatnonzero(~keep).tolist():
                owner = int(np.searchsorted(offsets, i, side="right")) - 1
                self.warn(
                    f"{owner_path(owner)}[{i - int(offsets[owner])}].value",
                    "attribute has no value; attribute dropped",
                )
                counts[owner] -= 1
            keys = [k for k, ok in zip(keys, keep.tolist(), strict=True) if ok]
            types, ival, fval, sval = types[keep], ival[keep], fval[keep], sval[keep]
        return counts, keys, types, ival, fval, sval
