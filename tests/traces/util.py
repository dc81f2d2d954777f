"""Helpers for the trace ingestion tests: OTLP payload builders and table comparison."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import numpy as np
from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from workbench.traces.model import AttrColumns, SpanTable

ROOT = Path(__file__).resolve().parents[2]
REAL = ROOT / "datasets" / "real"
MALFORMED = ROOT / "tests" / "data" / "malformed"

TRACE = "5b8efff798038103d269b633813fc60c"

#: SpanTable columns that hold string codes (compared as text: code order differs per load)
CODE_COLUMNS = {
    "name",
    "service",
    "scope",
    "status_message",
    "trace_state",
    "source",
    "event_name",
    "link_trace_id",
    "link_span_id",
    "link_trace_state",
}


def span(
    span_id: str,
    parent: str = "",
    *,
    trace: str = TRACE,
    name: str = "op",
    start: int | str = 1000,
    end: int | str | None = 2000,
    **extra: Any,
) -> dict[str, Any]:
    """An OTLP/JSON span dict (times as decimal strings unless given otherwise)."""
    out: dict[str, Any] = {
        "traceId": trace,
        "spanId": span_id,
        "name": name,
        "startTimeUnixNano": str(start) if isinstance(start, int) else start,
    }
    if parent:
        out["parentSpanId"] = parent
    if end is not None:
        out["endTimeUnixNano"] = str(end) if isinstance(end, int) else end
    out.update(extra)
    return out


def doc(*spans: dict[str, Any], service: str = "svc", scope: str = "lib") -> dict[str, Any]:
    """An ExportTraceServiceRequest dict with one resource and one scope."""
    return {
        "resourceSpans": [
            {
                "resource": {
                    "attributes": [{"key": "service.name", "value": {"stringValue": service}}]
                },
                "scopeSpans": [{"scope": {"name": scope}, "spans": list(spans)}],
            }
        ]
    }


def dumps(obj: Any) -> bytes:
    return json.dumps(obj).encode()


def json_to_proto(data: bytes | str | dict[str, Any]) -> bytes:
    """OTLP/JSON (hex ids, per the OTLP spec) -> binary protobuf with the official classes."""
    obj = json.loads(data) if isinstance(data, bytes | str) else data
    obj = _hex_ids_to_base64(obj)
    return json_format.ParseDict(obj, ExportTraceServiceRequest()).SerializeToString()


def _hex_ids_to_base64(obj: Any) -> Any:
    """protobuf's generic JSON mapping wants bytes fields in base64; OTLP JSON uses hex."""
    import base64

    if isinstance(obj, list):
        return [_hex_ids_to_base64(v) for v in obj]
    if isinstance(obj, dict):
        out = {}
        for key, value in obj.items():
            if key in ("traceId", "spanId", "parentSpanId") and isinstance(value, str):
                value = base64.b64encode(bytes.fromhex(value)).decode()
            out[key] = _hex_ids_to_base64(value)
        return out
    return obj


def _attr_rows(cols: AttrColumns, table: SpanTable) -> list[Any]:
    s = table.strings
    return [
        [
            (
                s[int(cols.key[j])],
                int(cols.type[j]),
                int(cols.ival[j]),
                _f(cols.fval[j]),
                s[int(cols.sval[j])],
            )
            for j in range(int(cols.offsets[o]), int(cols.offsets[o + 1]))
        ]
        for o in range(cols.offsets.shape[0] - 1)
    ]


def _f(x: float) -> Any:
    return "nan" if x != x else float(x)


def _nan_safe(value: Any) -> Any:
    """``value`` with every float NaN replaced by ``"nan"`` (NaN != NaN would fail equal tables)."""
    if isinstance(value, float):
        return _f(value)
    if isinstance(value, dict):
        return {k: _nan_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_nan_safe(v) for v in value)
    return value


def table_view(table: SpanTable, ignore: tuple[str, ...] = ("source",)) -> dict[str, Any]:
    """Every column of ``table`` in a form that compares across loads (codes -> text)."""
    out: dict[str, Any] = {}
    strings = table.strings
    for f in dataclasses.fields(table):
        name = f.name
        if name in ignore or name in ("strings", "diagnostics"):
            continue
        value = getattr(table, name)
        if name == "resource":
            out[name] = [_nan_safe(table.resource_of(r)) for r in range(table.n_spans)]
        elif name == "resource_attrs":
            continue  # compared through "resource" (resource numbering may differ)
        elif isinstance(value, AttrColumns):
            out[name] = _attr_rows(value, table)
        elif name in CODE_COLUMNS:
            out[name] = [strings[int(c)] for c in value]
        elif isinstance(value, np.ndarray):
            out[name] = value.tolist()
        else:
            out[name] = value
    return out


def assert_tables_equal(a: SpanTable, b: SpanTable, ignore: tuple[str, ...] = ("source",)) -> None:
    va, vb = table_view(a, ignore), table_view(b, ignore)
    for key in va:
        assert va[key] == vb[key], f"column {key} differs"
