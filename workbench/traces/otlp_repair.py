"""The tolerant path of the OTLP/JSON decoder, and the wording of input diagnostics.

When the typed decode of :mod:`workbench.traces.otlp_json` rejects a document, it is decoded
into plain JSON values and :class:`Repairer` converts each record on its own with the same
Struct types, so that a broken field costs exactly one diagnostic with its record path
(``resourceSpans[0].scopeSpans[1].spans[3].startTimeUnixNano``) and everything else loads:

* a broken *required* field (``traceId``, ``spanId``, ``parentSpanId``, ``startTimeUnixNano``)
  drops the span with an error;
* any other broken field is removed (warning): an attribute, an event or a link that cannot be
  read is dropped, an odd ``kind``/``status``/``flags``/``endTimeUnixNano`` is ignored.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec

from workbench.errors import Diagnostic
from workbench.traces.builder import LONG_ID
from workbench.traces.otlp_json import (
    _NO_RESOURCE,
    _NO_SCOPE,
    Event,
    KeyValue,
    Link,
    Resource,
    ResourceSpans,
    Scope,
    ScopeSpans,
    Span,
    any_to_python,
)

_EXPECTED = {
    "startTimeUnixNano": "a decimal string or integer",
    "endTimeUnixNano": "a decimal string or integer",
    "timeUnixNano": "a decimal string or integer",
    "intValue": "a decimal string or integer",
    "traceId": "a hex string",
    "spanId": "a hex string",
    "parentSpanId": "a hex string",
    "kind": "a span kind (0-5 or a SPAN_KIND_* name)",
    "code": "a status code (0-2 or a STATUS_CODE_* name)",
    "flags": "an unsigned 32-bit integer",
    "doubleValue": "a number",
    "boolValue": "a boolean",
    "attributes": "a list",
    "events": "a list",
    "links": "a list",
    "values": "a list",
    "spans": "a list",
    "scopeSpans": "a list",
    "resourceSpans": "a list",
    "status": "an object",
    "value": "an object",
    "scope": "an object",
    "resource": "an object",
    "arrayValue": "an object",
    "kvlistValue": "an object",
}
_LOC = re.compile(r"\.([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]")


def type_name(value: Any) -> str:
    """A short description of a JSON value for messages: ``list``, ``str "abc"``, ``int 5``."""
    if value is None:
        return "null"
    if isinstance(value, list | dict):
        return type(value).__name__
    if isinstance(value, str):
        if not value:
            return "empty string"
        text = value if len(value) <= 40 else value[:37] + "..."
        return f'str "{text}"'
    return f"{type(value).__name__} {value!r}"


def _value_at(obj: Any, loc: list[str | int]) -> Any:
    for part in loc:
        if isinstance(part, int) and isinstance(obj, list) and part < len(obj):
            obj = obj[part]
        elif isinstance(part, str) and isinstance(obj, dict):
            obj = obj.get(part)
        else:
            return None
    return obj


def _format_loc(loc: list[str | int]) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc)


class Repairer:
    """Converts generic JSON records one by one, collecting diagnostics with record paths."""

    def __init__(self, file: str, diagnostics: list[Diagnostic], line: int | None = None):
        self.file = file
        self.diagnostics = diagnostics
        self.line = line
        #: record path of each converted span with an over-long id, by ``id()`` of the span
        self._long_id_paths: dict[int, str] = {}

    def where(self, span: Span) -> tuple[str, int | None]:
        """Record path and line of a span :meth:`span` returned with an over-long id (for
        :func:`~workbench.traces.otlp_json.append_resource_spans`)."""
        return self._long_id_paths.get(id(span), ""), self.line

    def report(self, path: str, message: str, severity: str) -> None:
        self.diagnostics.append(Diagnostic(self.file, path, message, severity, self.line))

    def convert(
        self,
        obj: Any,
        typ: type[msgspec.Struct],
        path: str,
        required: frozenset[str],
        what: str,
        severity: str = "error",
    ) -> Any:
        """``msgspec.convert`` with repairs: a broken optional field is removed (warning), a
        broken required field drops the whole record (``severity``); returns None then."""
        if not isinstance(obj, dict):
            self.report(path, f"expected an object, got {type_name(obj)}; {what} dropped", severity)
            return None
        obj = dict(obj)
        for _ in range(len(obj) + 2):
            try:
                return msgspec.convert(obj, typ, strict=False)
            except msgspec.ValidationError as exc:
                text = str(exc)
                missing = re.search(r"missing required field `([^`]+)`", text)
                head, _sep, where = text.partition(" - at `$")
                loc: list[str | int] = [
                    m.group(1) if m.group(1) is not None else int(m.group(2))
                    for m in _LOC.finditer(where.rstrip("`"))
                ]
                if missing and not loc:
                    field = missing.group(1)
                    self.report(path, f"missing required field {field}; {what} dropped", severity)
                    return None
                if missing:
                    loc.append(missing.group(1))
                    detail = f"missing required field {missing.group(1)}"
                else:
                    detail = self._describe(loc, _value_at(obj, loc), head)
                full = path + _format_loc(loc)
                top = loc[0]
                if top in required or not isinstance(top, str) or top not in obj:
                    self.report(full, f"{detail}; {what} dropped", severity)
                    return None
                self.report(full, f"{detail}; field ignored", "warning")
                del obj[top]
        self.report(path, f"could not be read; {what} dropped", severity)
        return None

    @staticmethod
    def _describe(loc: list[str | int], value: Any, msgspec_text: str) -> str:
        field = next((p for p in reversed(loc) if isinstance(p, str)), "")
        expected = _EXPECTED.get(field, "a string")
        if ">=" in msgspec_text or "<=" in msgspec_text or "length" in msgspec_text:
            if isinstance(value, str) and not value:
                return f"expected {expected}, got an empty string"
            bound = re.search(r"(>=|<=) (-?\d+)", msgspec_text)
            rng = f" ({bound.group(1)} {bound.group(2)})" if bound else ""
            return f"expected {expected}{rng}, got {type_name(value)}"
        return f"expected {expected}, got {type_name(value)}"

    # -------------------------------------------------------------- record kinds
    def attributes(self, obj: Any, path: str) -> list[KeyValue]:
        if obj is None:
            return []
        if not isinstance(obj, list):
            self.report(path, f"expected a list, got {type_name(obj)}; field ignored", "warning")
            return []
        out = []
        for i, item in enumerate(obj):
            where = f"{path}[{i}]"
            kv = self.convert(
                item, KeyValue, where, frozenset({"key", "value"}), "attribute", "warning"
            )
            if kv is None:
                continue
            try:
                value = any_to_python(kv.value)
            except ValueError:
                self.report(
                    f"{where}.value.bytesValue",
                    "expected base64 text; attribute dropped",
                    "warning",
                )
                continue
            except RecursionError:
                self.report(
                    f"{where}.value", "value nested too deeply; attribute dropped", "warning"
                )
                continue
            if value is None:
                self.report(
                    f"{where}.value", "attribute has no value; attribute dropped", "warning"
                )
                continue
            out.append(kv)
        return out

    def _records(
        self, obj: Any, path: str, typ: type[msgspec.Struct], required: frozenset[str], what: str
    ) -> list[Any]:
        if obj is None:
            return []
        if not isinstance(obj, list):
            self.report(path, f"expected a list, got {type_name(obj)}; field ignored", "warning")
            return []
        out = []
        for i, item in enumerate(obj):
            where = f"{path}[{i}]"
            rec = self.convert(_without(item, "attributes"), typ, where, required, what, "warning")
            if rec is not None:
                attrs = self.attributes(_get(item, "attributes"), f"{where}.attributes")
                out.append(msgspec.structs.replace(rec, attributes=attrs))
        return out

    def span(self, obj: Any, path: str) -> Span | None:
        head = _without(obj, "attributes", "events", "links")
        span = self.convert(
            head,
            Span,
            path,
            frozenset({"traceId", "spanId", "parentSpanId", "startTimeUnixNano"}),
            "span",
        )
        if span is None:
            return None
        span = msgspec.structs.replace(
            span,
            attributes=self.attributes(obj.get("attributes"), f"{path}.attributes"),
            events=self._records(
                obj.get("events"), f"{path}.events", Event, frozenset({"timeUnixNano"}), "event"
            ),
            links=self._records(
                obj.get("links"), f"{path}.links", Link, frozenset({"traceId", "spanId"}), "link"
            ),
        )
        if len(span.spanId) > LONG_ID or len(span.parentSpanId) > LONG_ID:
            self._long_id_paths[id(span)] = path
        return span

    def resource_spans(
        self, obj: Any, prefix: str, key: str = "resourceSpans"
    ) -> list[ResourceSpans]:
        """Every readable ResourceSpans of a decoded document (``obj[key]`` holds them)."""
        items = obj.get(key)
        if not isinstance(items, list):
            self.report(
                f"{prefix}{key}",
                f"expected a list, got {type_name(items)}; nothing read",
                "error",
            )
            return []
        out = []
        for i, rs in enumerate(items):
            path = f"{prefix}{key}[{i}]"
            if not isinstance(rs, dict):
                self.report(path, f"expected an object, got {type_name(rs)}; skipped", "error")
                continue
            res_obj = rs.get("resource")
            resource = _NO_RESOURCE
            if isinstance(res_obj, dict):
                resource = Resource(
                    self.attributes(res_obj.get("attributes"), f"{path}.resource.attributes")
                )
            elif res_obj is not None:
                self.report(
                    f"{path}.resource",
                    f"expected an object, got {type_name(res_obj)}; field ignored",
                    "warning",
                )
            groups = []
            for field, scope_key in (
                ("scopeSpans", "scope"),
                ("instrumentationLibrarySpans", "instrumentationLibrary"),
            ):
                lst = rs.get(field)
                if lst is None:
                    continue
                if not isinstance(lst, list):
                    self.report(
                        f"{path}.{field}",
                        f"expected a list, got {type_name(lst)}; skipped",
                        "error",
                    )
                    continue
                for j, ss in enumerate(lst):
                    groups.append(self._scope_spans(ss, f"{path}.{field}[{j}]", scope_key))
            out.append(
                ResourceSpans(resource=resource, scopeSpans=[g for g in groups if g is not None])
            )
        return out

    def _scope_spans(self, ss: Any, path: str, scope_key: str) -> ScopeSpans | None:
        if not isinstance(ss, dict):
            self.report(path, f"expected an object, got {type_name(ss)}; skipped", "error")
            return None
        scope = _NO_SCOPE
        if ss.get(scope_key) is not None:
            scope_obj = _without(ss.get(scope_key), "attributes")
            scope = (
                self.convert(
                    scope_obj, Scope, f"{path}.{scope_key}", frozenset(), "scope", "warning"
                )
                or _NO_SCOPE
            )
        raw = ss.get("spans")
        if raw is None:
            return ScopeSpans(scope=scope)
        if not isinstance(raw, list):
            self.report(f"{path}.spans", f"expected a list, got {type_name(raw)}; skipped", "error")
            return None
        spans = [s for k, d in enumerate(raw) if (s := self.span(d, f"{path}.spans[{k}]"))]
        return ScopeSpans(scope=scope, spans=spans)


def _without(obj: Any, *keys: str) -> Any:
    if isinstance(obj, dict) and any(k in obj for k in keys):
        return {k: v for k, v in obj.items() if k not in keys}
    return obj


def _get(obj: Any, key: str) -> Any:
    return obj.get(key) if isinstance(obj, dict) else None


_BYTE_OFFSET = re.compile(r"\s*\(byte (\d+)\)")


def decode_error_diagnostic(
    exc: Exception, data: bytes, file: str, line_base: int = 0, prefix: str = "invalid JSON"
) -> Diagnostic:
    """A diagnostic at the line:column of a msgspec decode error (byte offsets converted)."""
    if isinstance(exc, UnicodeDecodeError):  # raised for bad UTF-8 inside a string: no offset
        line = line_base + 1 if line_base else None
        return Diagnostic(file, "", f"{prefix}: text is not valid UTF-8", "error", line)
    text = str(exc)
    m = _BYTE_OFFSET.search(text)
    if m:
        offset = min(int(m.group(1)), len(data))
        text = text[: m.start()] + text[m.end() :]
    else:
        offset = len(data)
    text = text.replace("JSON is malformed: ", "").replace(
        "Input data was truncated", "unexpected end of input"
    )
    line_start = data.rfind(b"\n", 0, offset) + 1
    line = data.count(b"\n", 0, offset) + 1 + line_base
    column = len(data[line_start:offset].decode("utf-8", "replace")) + 1
    return Diagnostic(file, "", f"{prefix}: {text}", "error", line, column)


#: wrappers around an OTLP document: Jaeger v3 ``{"result": ...}``, Tempo v2 ``{"trace": ...}``
WRAPPERS = ("result", "trace")
#: keys of the ResourceSpans list: OTLP's own, and Tempo v1's ``{"batches": [...]}``
RESOURCE_SPANS_KEYS = ("resourceSpans", "batches")


def locate_resource_spans(obj: Any) -> tuple[dict[str, Any], str, str] | None:
    """``(container, path prefix, key)`` of the ResourceSpans list of a decoded OTLP document
    (possibly inside one wrapper of :data:`WRAPPERS`), or None when it has none."""
    candidates = [(obj, "")]
    if isinstance(obj, dict):
        candidates += [(obj.get(w), f"{w}.") for w in WRAPPERS]
    for container, prefix in candidates:
        if not isinstance(container, dict):
            continue
        if "resourceSpans" in container:
            return container, prefix, "resourceSpans"
        batches = container.get("batches")
        # Tempo's list of ResourceSpans: any object among its first elements (a damaged
        # element is then reported at its path, not the whole file refused)
        if isinstance(batches, list) and (
            not batches or any(isinstance(b, dict) for b in batches[:3])
        ):
            return container, prefix, "batches"
    return None


def repair_document(obj: Any, repairer: Repairer) -> tuple[str, list[ResourceSpans] | None]:
    """Convert a decoded OTLP/JSON document record by record: ``("ok", resource spans)``,
    ``("not-otlp", None)`` without resource spans, ``("invalid", None)`` when they are not a
    list (diagnostic added)."""
    found = locate_resource_spans(obj)
    if found is None:
        return "not-otlp", None
    container, prefix, key = found
    items = container[key]
    if not isinstance(items, list):
        repairer.report(
            f"{prefix}{key}",
            f"expected a list, got {type_name(items)}; nothing read",
            "error",
        )
        return "invalid", None
    return "ok", repairer.resource_spans(container, prefix, key)
