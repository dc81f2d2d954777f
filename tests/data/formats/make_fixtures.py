"""Re-encode bundled real traces into the shapes of other producers (see README.md here).

Run from the repository root: ``python tests/data/formats/make_fixtures.py``. The outputs are
committed; the tests compare each one with the table of the real file it came from.
"""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]
REAL = ROOT / "datasets" / "real"
OUT = Path(__file__).resolve().parent

_KINDS = ["UNSPECIFIED", "INTERNAL", "SERVER", "CLIENT", "PRODUCER", "CONSUMER"]
_CODES = ["UNSET", "OK", "ERROR"]
_VTYPES = {"string": 0, "bool": 1, "int64": 2, "float64": 3, "binary": 4}
_VFIELD = {"string": "v_str", "bool": "v_bool", "int64": "v_int64", "float64": "v_float64",
           "binary": "v_binary"}  # fmt: skip


def b64(hex_id: str, nbytes: int) -> str:
    return base64.b64encode(bytes.fromhex(hex_id.rjust(2 * nbytes, "0"))).decode()


def rfc3339(micros: int) -> str:
    seconds, frac = divmod(micros, 1_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{frac:06d}Z"


# ---------------------------------------------------------------------- Tempo


def _tempo_ids(obj: Any) -> Any:
    """OTLP JSON (hex ids, integer enums) -> protobuf JSON mapping (base64, enum names)."""
    if isinstance(obj, list):
        return [_tempo_ids(v) for v in obj]
    if not isinstance(obj, dict):
        return obj
    out = {}
    for key, value in obj.items():
        if key == "traceId" and value:
            value = b64(value, 16)
        elif key in ("spanId", "parentSpanId") and value:
            value = b64(value, 8)
        elif key == "kind" and isinstance(value, int):
            value = f"SPAN_KIND_{_KINDS[value]}"
        elif key == "code" and isinstance(value, int):
            value = f"STATUS_CODE_{_CODES[value]}"
        else:
            value = _tempo_ids(value)
        out[key] = value
    return out


def tempo() -> None:
    source = json.loads((REAL / "jaeger-ui/api-v3-fixtures/getTrace-response.json").read_bytes())
    resource_spans = _tempo_ids(source["result"]["resourceSpans"])
    # Tempo answers one batch per resource and block: the same service in several batches
    batches = []
    for rs in resource_spans:
        for ss in rs["scopeSpans"]:
            half = (len(ss["spans"]) + 1) // 2
            for part in (ss["spans"][:half], ss["spans"][half:]):
                if part:
                    scope = {k: v for k, v in ss.items() if k != "spans"}
                    batches.append(
                        {"resource": rs["resource"], "scopeSpans": [{**scope, "spans": part}]}
                    )
    _write("tempo-v1-batches.json", {"batches": batches})
    _write("tempo-v2-trace.json", {"trace": {"resourceSpans": resource_spans}})


# ---------------------------------------------------------------------- Jaeger api_v2


def _tag(tag: dict[str, Any], numeric: bool) -> dict[str, Any]:
    kind = tag.get("type", "string")
    value = tag["value"]
    if kind == "int64":
        value = str(value)  # protobuf JSON writes int64 as a string
    out: dict[str, Any] = {"key": tag["key"]}
    if kind != "string" or numeric:
        out["v_type"] = _VTYPES[kind] if numeric else kind.upper()
    out[_VFIELD[kind]] = value
    return out


def _span(span: dict[str, Any], numeric: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "trace_id": b64(span["traceID"], 16),
        "span_id": b64(span["spanID"], 8),
        "operation_name": span["operationName"],
        "references": [
            {
                "trace_id": b64(r["traceID"], 16),
                "span_id": b64(r["spanID"], 8),
                "ref_type": (0 if r["refType"] == "CHILD_OF" else 1) if numeric else r["refType"],
            }
            for r in span.get("references") or []
        ],
        "start_time": rfc3339(span["startTime"]),
        # Go's time.Duration (encoding/json): integer ns; protobuf JSON: "0.019s"
        "duration": span["duration"] * 1000 if numeric else f"{span['duration'] / 1e6:.6f}s",
        "tags": [_tag(t, numeric) for t in span.get("tags") or []],
    }
    if span.get("logs"):
        out["logs"] = [
            {
                "timestamp": rfc3339(log["timestamp"]),
                "fields": [_tag(f, numeric) for f in log["fields"]],
            }
            for log in span["logs"]
        ]
    return out


def _batches(trace: dict[str, Any], numeric: bool) -> list[dict[str, Any]]:
    """One api_v2 Batch per process, spans in input order."""
    out = []
    for pid, process in trace["processes"].items():
        spans = [_span(s, numeric) for s in trace["spans"] if s["processID"] == pid]
        if spans:
            proc = {
                "service_name": process["serviceName"],
                "tags": [_tag(t, numeric) for t in process.get("tags") or []],
            }
            out.append({"batch": {"spans": spans, "process": proc}})
    return out


def jaeger() -> None:
    genai = json.loads((REAL / "jaeger-ui/TraceTimelineViewer/genaiTestTrace.json").read_bytes())
    batches = _batches(genai, numeric=True)
    half = len(batches) // 2
    # one trace split over two files: integer enums and ns durations in a, names and "s" in b
    a = batches[:half]
    b = _batches(genai, numeric=False)[half:]
    _write("jaeger-api-v2-split-a.json", a[0] if len(a) == 1 else a)
    _write("jaeger-api-v2-split-b.json", b)
    ui = json.loads((REAL / "jaeger/uimodel-fixtures/ui_01.json").read_bytes())
    _write("jaeger-api-v2-batches.json", _batches(ui, numeric=True))


def _write(name: str, obj: Any) -> None:
    (OUT / name).write_text(json.dumps(obj, indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    tempo()
    jaeger()
