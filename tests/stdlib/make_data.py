"""Write the standard library's test traces (tests/data/stdlib/<property>/{pass,fail}.json).

Run ``python tests/stdlib/make_data.py`` after changing :mod:`tests.stdlib.cases`; the files
are committed, and ``test_stdlib.py`` checks that they are up to date.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.stdlib.cases import CASES, RESOURCES, T0_NS, Trace, build, span_id

DATA = Path(__file__).resolve().parents[1] / "data" / "stdlib"
KIND_CODES = {"INTERNAL": 1, "SERVER": 2, "CLIENT": 3, "PRODUCER": 4, "CONSUMER": 5}
STATUS_CODES = {"UNSET": 0, "OK": 1, "ERROR": 2}


def any_value(v: Any) -> dict[str, Any]:
    if isinstance(v, bool):
        return {"boolValue": v}
    if isinstance(v, int):
        return {"intValue": str(v)}  # int64 is a string in proto3 JSON
    if isinstance(v, float):
        return {"doubleValue": v}
    return {"stringValue": str(v)}


def attributes(d: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"key": k, "value": any_value(v)} for k, v in d.items()]


def ns(ms: float) -> str:
    return str(T0_NS + round(ms * 1_000_000))


def otlp(trace: Trace) -> dict[str, Any]:
    """OTLP/JSON (ExportTraceServiceRequest) of a case trace: one resource per service."""
    groups: dict[str | None, dict[str, list[dict[str, Any]]]] = {}
    for s in trace.spans:
        raw_parent = s.parent_raw
        if raw_parent is None:
            raw_parent = "" if s.parent is None else span_id(s.parent)
        out: dict[str, Any] = {
            "traceId": trace.trace_id,
            "spanId": s.span_id if s.span_id is not None else span_id(s.key),
        }
        if raw_parent:
            out["parentSpanId"] = raw_parent
        out["flags"] = s.flags
        out["name"] = s.name
        out["kind"] = KIND_CODES[s.kind]
        out["startTimeUnixNano"] = ns(s.start)
        if s.end is not None:
            out["endTimeUnixNano"] = ns(s.end)
        if s.attrs:
            out["attributes"] = attributes(s.attrs)
        if s.events:
            out["events"] = [
                {
                    "timeUnixNano": ns(t),
                    "name": name,
                    **({"attributes": attributes(a)} if a else {}),
                }
                for name, t, a in s.events
            ]
        if s.links:
            out["links"] = [{"traceId": t, "spanId": i} for t, i in s.links]
        status: dict[str, Any] = {}
        if s.status != "UNSET":
            status["code"] = STATUS_CODES[s.status]
        if s.status_message:
            status["message"] = s.status_message
        out["status"] = status
        groups.setdefault(s.service, {}).setdefault(s.scope, []).append(out)
    resource_spans = []
    for service, scopes in groups.items():
        res: dict[str, Any] = {}
        if service is not None:
            res["service.name"] = service
        res.update(
            RESOURCES.get(
                service or "",
                {
                    "telemetry.sdk.name": "opentelemetry",
                    "telemetry.sdk.language": "python",
                    "telemetry.sdk.version": "1.28.2",
                },
            )
        )
        resource_spans.append(
            {
                "resource": {"attributes": attributes(res)},
                "scopeSpans": [
                    {"scope": {"name": scope}, "spans": spans} for scope, spans in scopes.items()
                ],
            }
        )
    return {"resourceSpans": resource_spans}


def dumps(value: Any, indent: int = 0) -> str:
    """JSON with one line per attribute, event or link: readable and diff-friendly."""
    flat = json.dumps(value, ensure_ascii=False)
    if len(flat) + indent <= 100 or not isinstance(value, dict | list) or not value:
        return flat
    pad, inner = " " * indent, " " * (indent + 1)
    if isinstance(value, list):
        items = [inner + dumps(v, indent + 1) for v in value]
        return "[\n" + ",\n".join(items) + "\n" + pad + "]"
    items = [f"{inner}{json.dumps(k)}: {dumps(v, indent + 1)}" for k, v in value.items()]
    return "{\n" + ",\n".join(items) + "\n" + pad + "}"


def render(prop: str, variant: str) -> str:
    return dumps(otlp(build(prop, variant))) + "\n"


def main() -> None:
    for prop in sorted(CASES):
        folder = DATA / prop
        folder.mkdir(parents=True, exist_ok=True)
        for variant in ("pass", "fail"):
            (folder / f"{variant}.json").write_text(render(prop, variant))
    print(f"wrote {2 * len(CASES)} files under {DATA}")


if __name__ == "__main__":
    main()
