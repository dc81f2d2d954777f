"""Jaeger JSON traces: the query API / UI model and the api_v2 protobuf-JSON model.

Accepted shapes: ``{"data": [trace, ...]}`` (query API), a single trace
``{"traceID", "spans", "processes"}``, a list of traces, and the api_v2 model
``{"spans": [...]}`` / ``{"result": {"spans": [...]}}`` whose spans carry base64 ``traceId`` /
``spanId``, RFC 3339 ``startTime``, ``"0.0012s"`` durations, ``vType``-typed tags and an inline
``process``. The api_v2 model is also read with its original (proto) field names, as collectors,
agents and APM servers exchange it: ``{"batch": {"spans": [...], "process": {...}}}`` or a list
of such objects, with ``trace_id``, ``span_id``, ``operation_name``, ``start_time``,
``duration`` (``"0.019s"`` or integer nanoseconds), ``v_type``/``v_str``/``v_bool``/...

Mapping: UI-model times are microseconds and become nanoseconds; api_v2 times are RFC 3339
and its durations protobuf durations or (Go's ``time.Duration``) integer nanoseconds. Tag types
and reference types follow their enum, given by name or by number. The first ``CHILD_OF``
reference into the span's own trace is the parent and every other reference becomes a link
(attribute ``opentracing.ref_type``); a process is a resource (``serviceName`` ->
``service.name``, process tags -> resource attributes); tags keep their types; ``span.kind``
sets the kind, ``error=true`` or ``otel.status_code=ERROR`` the status; logs become events.
``flags`` and ``warnings`` are ignored.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any, NamedTuple

import msgspec

from workbench.errors import Diagnostic
from workbench.traces.builder import TableBuilder
from workbench.traces.otlp_json import decode_base64, normalize_id
from workbench.traces.otlp_repair import type_name
from workbench.traces.zipkin import TIME_LIMIT

_KINDS = {"internal": 1, "server": 2, "client": 3, "producer": 4, "consumer": 5}
_ERROR_CODES = {"OK": 1, "ERROR": 2}
#: the tag keys that set a span's kind, status or scope
SPECIAL_TAGS = frozenset({"span.kind", "error", "otel.status_code", "otel.status_description",
                          "otel.scope.name", "otel.library.name"})  # fmt: skip


def span_fields(attributes: list[tuple[str, Any]]) -> tuple[int, int, str, str]:
    """(kind, status code, status message, scope name) a span's Jaeger tags set."""
    kind = status = 0
    message = scope = ""
    for key, value in attributes:
        if key not in SPECIAL_TAGS:
            continue
        if key == "span.kind" and isinstance(value, str):
            kind = _KINDS.get(value.lower(), 0)
        elif key == "error" and (
            value is True or (isinstance(value, str) and value.lower() == "true")
        ):
            status = 2
        elif key == "otel.status_code" and isinstance(value, str):
            status = max(status, _ERROR_CODES.get(value.upper(), 0))
        elif key == "otel.status_description" and isinstance(value, str):
            message = value
        elif key in ("otel.scope.name", "otel.library.name") and isinstance(value, str):
            scope = value
    return kind, status, message, scope


def log_event(fields: list[tuple[str, Any]]) -> tuple[str, list[tuple[str, Any]]]:
    """A Jaeger log's event name and attributes: its ``event`` field (taken out of the
    attributes), else its first string field."""
    name = next((v for k, v in fields if k == "event" and isinstance(v, str)), None)
    if name is None:
        return next((v for _k, v in fields if isinstance(v, str)), ""), fields
    return name, [(k, v) for k, v in fields if k != "event"]
_DURATION = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*(ns|us|µs|ms|s)\s*$")
_UNITS = {"ns": 1, "us": 1_000, "µs": 1_000, "ms": 1_000_000, "s": 1_000_000_000}
_RFC3339 = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$")


def _is_batch_wrapper(obj: Any) -> bool:
    return isinstance(obj, dict) and isinstance(obj.get("batch"), dict)


def recognizes(obj: Any) -> bool:
    """Whether a decoded JSON value has one of the Jaeger shapes."""
    if _is_batch_wrapper(obj):
        return True
    if isinstance(obj, list) and obj and all(_is_batch_wrapper(b) for b in obj[:3]):
        return True
    if isinstance(obj, dict):
        data = obj.get("data")
        if isinstance(data, list) and (not data or _is_trace(data[0])):
            return True
        if _is_trace(obj):
            return True
        inner = obj.get("result")
        return isinstance(inner, dict) and _is_model_batch(inner)
    if isinstance(obj, list):
        return bool(obj) and all(_is_trace(t) for t in obj[:3])
    return False


def _is_trace(obj: Any) -> bool:
    if not isinstance(obj, dict) or not isinstance(obj.get("spans"), list):
        return False
    if "traceID" in obj or "processes" in obj:
        return True
    return _is_model_batch(obj) or (
        bool(obj["spans"]) and isinstance(obj["spans"][0], dict) and "spanID" in obj["spans"][0]
    )


def _is_model_batch(obj: dict[str, Any]) -> bool:
    spans = obj.get("spans")
    return (
        isinstance(spans, list)
        and bool(spans)
        and isinstance(spans[0], dict)
        and any(k in spans[0] for k in ("spanId", "operationName", "span_id", "operation_name"))
    )


def load(obj: Any, file: str, builder: TableBuilder) -> bool:
    """Append every span of a decoded Jaeger JSON value to ``builder``.

    Parameters
    ----------
    obj
        The decoded JSON (see the module docstring for the shapes).
    file
        Name for diagnostics and the ``source`` column.
    builder
        Receives spans and diagnostics.

    Returns
    -------
    bool
        True (the input was recognised; unreadable records are diagnostics).
    """
    reader = _Reader(file, builder)
    if _is_batch_wrapper(obj):
        reader.trace(obj["batch"], "batch")
    elif isinstance(obj, list):
        for i, trace in enumerate(obj):
            if _is_batch_wrapper(trace):
                reader.trace(trace["batch"], f"[{i}].batch")
            else:
                reader.trace(trace, f"[{i}]")
    elif isinstance(obj.get("data"), list):
        for i, trace in enumerate(obj["data"]):
            reader.trace(trace, f"data[{i}]")
    elif isinstance(obj.get("result"), dict) and "spans" not in obj:
        reader.trace(obj["result"], "result")
    else:
        reader.trace(obj, "")
    return True


def _micros(value: Any) -> int | None:
    """Microseconds as int from an int, float or decimal string; None when unreadable."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            try:
                value = float(value)
            except ValueError:
                return None
    if isinstance(value, float) and math.isfinite(value):
        return round(value)
    return None


def parse_timestamp(text: str) -> int | None:
    """Nanoseconds since the epoch of an RFC 3339 timestamp (nanosecond precision kept)."""
    m = _RFC3339.match(text.strip())
    if m is None:
        return None
    try:
        base = dt.datetime.fromisoformat(m.group(1) + (m.group(3).replace("Z", "+00:00")))
    except ValueError:  # e.g. month 13
        return None
    fraction = int((m.group(2) or "0").ljust(9, "0"))
    return int(base.timestamp()) * 1_000_000_000 + fraction


def parse_duration(text: str) -> int | None:
    """Nanoseconds of a protobuf-JSON duration (``"0.000340012s"``) or a ``123us``-style one."""
    m = _DURATION.match(text)
    if m is None:
        return None
    number, unit = m.group(1), m.group(2)
    if "." in number:
        whole, frac = number.split(".")
        digits = len(frac)
        value = int(whole + frac) * _UNITS[unit]
        return value // 10**digits
    return int(number) * _UNITS[unit]


_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")


def jaeger_hex(raw: str, nbytes: int) -> str:
    """Left-pad a Jaeger id: Jaeger prints ids as unpadded hex numbers (``%x``).

    A span id of up to 16 digits becomes 16 digits; a trace id of up to 16 digits is a 64-bit
    trace id (16 digits) and a longer one a 128-bit id (32 digits). Non-hex text is returned
    as is, for the stdlib id properties to judge.
    """
    if not raw or not _HEX_DIGITS.issuperset(raw):
        return raw
    width = 16 if len(raw) <= 16 else 2 * nbytes
    return raw.rjust(width, "0") if len(raw) <= width else raw


class _Names(NamedTuple):
    """The field names of one Jaeger JSON dialect."""

    trace_id: str
    span_id: str
    operation: str
    start: str
    process_id: str
    service: str
    ref_type: str
    #: base64 ids and integer durations in nanoseconds (api_v2) rather than hex and microseconds
    model: bool


_UI = _Names("traceID", "spanID", "operationName", "startTime", "processID", "serviceName",
             "refType", False)  # fmt: skip
_CAMEL = _Names("traceId", "spanId", "operationName", "startTime", "processId", "serviceName",
                "refType", True)  # fmt: skip
_SNAKE = _Names("trace_id", "span_id", "operation_name", "start_time", "process_id",
                "service_name", "ref_type", True)  # fmt: skip


def _dialect(span: dict[str, Any]) -> _Names:
    if "spanID" in span:
        return _UI
    if "spanId" in span:
        return _CAMEL
    if "span_id" in span or "operation_name" in span or "trace_id" in span:
        return _SNAKE
    return _UI


#: api_v2 ``SpanRefType`` by number
_REF_TYPES = {0: "CHILD_OF", 1: "FOLLOWS_FROM"}


class _Reader:
    def __init__(self, file: str, builder: TableBuilder) -> None:
        self.file = file
        self.builder = builder
        self.diagnostics = builder.diagnostics
        self.resources: dict[bytes, int] = {}

    def report(self, path: str, message: str, severity: str = "warning") -> None:
        self.diagnostics.append(Diagnostic(self.file, path, message, severity))

    def trace(self, trace: Any, path: str) -> None:
        dot = f"{path}." if path else ""
        if not isinstance(trace, dict):
            self.report(path, f"expected a trace object, got {type_name(trace)}; skipped", "error")
            return
        spans = trace.get("spans")
        if not isinstance(spans, list):
            self.report(
                f"{dot}spans", f"expected a list, got {type_name(spans)}; trace skipped", "error"
            )
            return
        processes = trace.get("processes")
        if processes is not None and not isinstance(processes, dict):
            self.report(
                f"{dot}processes", f"expected an object, got {type_name(processes)}; field ignored"
            )
            processes = None
        batch_process = trace.get("process")  # api_v2 Batch: one process for all its spans
        default = trace.get("traceID")
        for k, span in enumerate(spans):
            if isinstance(span, dict) and "traceID" not in span and isinstance(default, str):
                span = {**span, "traceID": default}  # the trace object names it once
            self.span(
                span, f"{dot}spans[{k}]", processes or {}, f"{dot}processes",
                batch_process, f"{dot}process",
            )  # fmt: skip

    # ------------------------------------------------------------------ values
    def resource(self, process: Any, path: str) -> int:
        key = msgspec.json.encode(process) if isinstance(process, dict) else b""
        found = self.resources.get(key)
        if found is not None:
            return found
        items: list[tuple[str, Any]] = []
        if isinstance(process, dict):
            field = "serviceName" if "serviceName" in process else "service_name"
            service = process.get(field)
            if isinstance(service, str):
                items.append(("service.name", service))
            elif service is not None:
                self.report(
                    f"{path}.{field}",
                    f"expected a string, got {type_name(service)}; field ignored",
                )
            items.extend(self.tags(process.get("tags"), f"{path}.tags"))
        elif process is not None:
            self.report(path, f"expected an object, got {type_name(process)}; field ignored")
        found = self.resources[key] = self.builder.add_resource(items)
        return found

    def tags(self, tags: Any, path: str) -> list[tuple[str, Any]]:
        if tags is None:
            return []
        if not isinstance(tags, list):
            self.report(path, f"expected a list, got {type_name(tags)}; field ignored")
            return []
        out = []
        for i, tag in enumerate(tags):
            where = f"{path}[{i}]"
            if not isinstance(tag, dict) or not isinstance(tag.get("key"), str):
                got = tag.get("key") if isinstance(tag, dict) else tag
                self.report(
                    where if not isinstance(tag, dict) else f"{where}.key",
                    f"expected a string key, got {type_name(got)}; tag dropped",
                )
                continue
            try:
                out.append((tag["key"], _tag_value(tag)))
            except ValueError as exc:
                self.report(f"{where}.value", f"{exc}; tag dropped")
        return out

    def time(self, span: dict[str, Any], key: str, path: str, nanos: bool = False) -> int | None:
        """Nanoseconds of a time field: RFC 3339 or protobuf-duration text, or an integer in
        microseconds (in nanoseconds when ``nanos``: api_v2 durations are Go durations)."""
        raw = span.get(key)
        if raw is None:
            return None
        ns: int | None = None
        duration = key == "duration"
        if isinstance(raw, str):
            ns = parse_duration(raw) if duration else parse_timestamp(raw)
        if ns is None:
            number = _micros(raw)
            if number is not None:
                ns = number if nanos else number * 1000
        if ns is None or not -TIME_LIMIT <= ns <= TIME_LIMIT:
            unit = "nanoseconds" if nanos else "microseconds"
            expected = (
                f'a duration ("0.019s" or {unit} as an integer)'
                if duration
                else f"an RFC 3339 time or {unit} as an integer"
            )
            got = type_name(raw) if ns is None else f"{raw} (out of range)"
            self.report(f"{path}.{key}", f"expected {expected}, got {got}; field ignored")
            return None
        return ns

    # ------------------------------------------------------------------ spans
    def span(
        self,
        span: Any,
        path: str,
        processes: dict[str, Any],
        proc_path: str,
        batch_process: Any = None,
        batch_path: str = "",
    ) -> None:
        if not isinstance(span, dict):
            self.report(path, f"expected an object, got {type_name(span)}; span dropped", "error")
            return
        n = _dialect(span)
        trace_id = self.ident(span, n.trace_id, path, 16, n.model)
        span_id = self.ident(span, n.span_id, path, 8, n.model)
        if trace_id is None or span_id is None:
            return
        name = span.get(n.operation, "")
        if not isinstance(name, str):
            self.report(
                f"{path}.{n.operation}", f"expected a string, got {type_name(name)}; field ignored"
            )
            name = ""
        start = self.time(span, n.start, path)
        if start is None:
            self.report(f"{path}.{n.start}", "missing start time; using 0")
            start = 0
        duration = self.time(span, "duration", path, nanos=n.model)

        parent, links = self.references(span, path, trace_id, n)
        pid = span.get(n.process_id, span.get("processID"))
        if span.get("process") is not None:
            resource = self.resource(span["process"], f"{path}.process")
        elif isinstance(pid, str) and pid in processes:
            resource = self.resource(processes[pid], f"{proc_path}.{pid}")
        elif batch_process is not None:
            resource = self.resource(batch_process, batch_path)
        else:
            if pid is not None or processes:
                self.report(
                    f"{path}.{n.process_id}", f"no process {pid!r} in the trace; service unknown"
                )
            resource = self.resource(None, path)

        attributes = self.tags(span.get("tags"), f"{path}.tags")
        kind, status, message, scope = span_fields(attributes)
        self.builder.add_span(
            trace_id=trace_id,
            span_id=span_id,
            parent_id=parent,
            name=name,
            kind=kind,
            status=status,
            status_message=message,
            start=start,
            end=None if duration is None else start + duration,
            resource=resource,
            scope=scope,
            source=self.file,
            attributes=attributes,
            events=self.logs(span.get("logs"), f"{path}.logs"),
            links=links,
            path=path,
        )

    def ident(
        self, span: dict[str, Any], key: str, path: str, nbytes: int, model: bool
    ) -> str | None:
        raw = span.get(key)
        if raw is None or raw == "":
            self.report(path, f"missing required field {key}; span dropped", "error")
            return None
        if not isinstance(raw, str):
            self.report(
                f"{path}.{key}",
                f"expected an id string, got {type_name(raw)}; span dropped",
                "error",
            )
            return None
        return _model_id(raw, nbytes) if model else jaeger_hex(raw, nbytes)

    def references(
        self, span: dict[str, Any], path: str, trace_id: str, n: _Names
    ) -> tuple[str, list[tuple[str, str, list[tuple[str, Any]]]]]:
        refs = span.get("references")
        parent = ""
        links: list[tuple[str, str, list[tuple[str, Any]]]] = []
        if refs is None:
            refs = []
        if not isinstance(refs, list):
            self.report(
                f"{path}.references", f"expected a list, got {type_name(refs)}; field ignored"
            )
            refs = []
        for i, ref in enumerate(refs):
            where = f"{path}.references[{i}]"
            if not isinstance(ref, dict):
                self.report(where, f"expected an object, got {type_name(ref)}; reference dropped")
                continue
            ref_trace = ref.get(n.trace_id, trace_id)
            ref_span = ref.get(n.span_id)
            if not isinstance(ref_span, str) or not ref_span or not isinstance(ref_trace, str):
                self.report(where, "reference without a span id; reference dropped")
                continue
            if n.model:
                ref_trace, ref_span = _model_id(ref_trace, 16), _model_id(ref_span, 8)
            else:
                ref_trace, ref_span = jaeger_hex(ref_trace, 16), jaeger_hex(ref_span, 8)
            raw_type = ref.get(n.ref_type)
            if isinstance(raw_type, int) and not isinstance(raw_type, bool):
                ref_type = _REF_TYPES.get(raw_type, str(raw_type))
            else:
                ref_type = str(raw_type or "CHILD_OF").upper()
            if not parent and ref_type == "CHILD_OF" and ref_trace.lower() == trace_id.lower():
                parent = ref_span
            else:
                links.append((ref_trace, ref_span, [("opentracing.ref_type", ref_type.lower())]))
        legacy = span.get("parentSpanID")
        if not parent and not refs and isinstance(legacy, str) and legacy.strip("0"):
            parent = legacy
        return parent, links

    def logs(self, logs: Any, path: str) -> list[tuple[str, int, list[tuple[str, Any]]]]:
        if logs is None:
            return []
        if not isinstance(logs, list):
            self.report(path, f"expected a list, got {type_name(logs)}; field ignored")
            return []
        out = []
        for i, log in enumerate(logs):
            where = f"{path}[{i}]"
            if not isinstance(log, dict):
                self.report(where, f"expected an object, got {type_name(log)}; log dropped")
                continue
            time = self.time(log, "timestamp", where)
            if time is None:
                self.report(f"{where}.timestamp", "missing timestamp; log dropped")
                continue
            name, fields = log_event(self.tags(log.get("fields"), f"{where}.fields"))
            out.append((name, time, fields))
        return out


def _model_id(text: str, nbytes: int) -> str:
    """Hex of an api_v2 (base64) id; hex ids pass through."""
    if len(text) == 2 * nbytes and all(c in "0123456789abcdefABCDEF" for c in text):
        return text
    try:
        raw = decode_base64(text)
    except ValueError:
        return normalize_id(text, nbytes)
    return raw.hex() if raw else text


#: api_v2 ``ValueType`` by number, and the value field of each type (camelCase, snake_case)
_VALUE_TYPES = {0: "string", 1: "bool", 2: "int64", 3: "float64", 4: "binary"}
_VALUE_FIELDS = {
    "string": ("vStr", "v_str"),
    "bool": ("vBool", "v_bool"),
    "int64": ("vInt64", "v_int64"),
    "float64": ("vFloat64", "v_float64"),
    "binary": ("vBinary", "v_binary"),
}
_DEFAULTS: dict[str, Any] = {"string": "", "bool": False, "int64": 0, "float64": 0.0, "binary": ""}


def _model_tag(tag: dict[str, Any]) -> tuple[str, Any]:
    """Type name and raw value of an api_v2 tag (``vType``/``v_type`` and its value field).

    proto3 JSON omits default values: no type means STRING, and a missing value field the
    type's zero value. A tag without a type but with exactly one other value field (a writer
    that dropped the type) is read by that field rather than as an empty string.
    """
    raw_type = tag.get("vType", tag.get("v_type"))
    if raw_type is None:
        present = [t for t, names in _VALUE_FIELDS.items() if any(f in tag for f in names)]
        kind = present[0] if len(present) == 1 else "string"
    elif isinstance(raw_type, int) and not isinstance(raw_type, bool):
        if raw_type not in _VALUE_TYPES:
            raise ValueError(f"unknown value type {raw_type} (expected 0-4)")
        kind = _VALUE_TYPES[raw_type]
    elif isinstance(raw_type, str):
        kind = raw_type.lower()
        if kind not in _VALUE_FIELDS:
            raise ValueError(f"unknown value type {raw_type!r}")
    else:
        raise ValueError(f"expected a value type name or number, got {type_name(raw_type)}")
    camel, snake = _VALUE_FIELDS[kind]
    value = tag.get(camel, tag.get(snake, _DEFAULTS[kind]))
    return kind, value


def _is_model_tag(tag: dict[str, Any]) -> bool:
    return (
        "vType" in tag
        or "v_type" in tag
        or any(k.startswith("v") and (k[1:2].isupper() or k[1:2] == "_") for k in tag)
    )


def _tag_value(tag: dict[str, Any]) -> Any:
    """Typed value of a Jaeger tag (UI ``type``/``value`` or api_v2 ``vType``/``v*``)."""
    if _is_model_tag(tag):
        kind, value = _model_tag(tag)
    else:
        kind = str(tag.get("type") or "string").lower()
        value = tag.get("value")
    if kind == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise ValueError(f"expected a boolean, got {type_name(value)}")
    if kind == "int64":
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str):
            try:
                return int(value)
            except ValueError:
                pass
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise ValueError(f"expected an integer, got {type_name(value)}")
    if kind == "float64":
        if isinstance(value, int | float) and not isinstance(value, bool):
            try:
                return float(value)
            except OverflowError:  # an integer beyond float range, e.g. 10**400
                raise ValueError("expected a number within float range, got an integer of "
                                 f"{len(str(abs(value)))} digits") from None
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                pass
        raise ValueError(f"expected a number, got {type_name(value)}")
    if kind == "binary":
        if isinstance(value, str):
            try:
                return decode_base64(value)
            except ValueError:
                try:
                    return bytes.fromhex(value)
                except ValueError:
                    return value
        raise ValueError(f"expected base64 text, got {type_name(value)}")
    if value is None:
        raise ValueError("tag has no value")
    return value
