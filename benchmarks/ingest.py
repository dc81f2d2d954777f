"""Trace ingestion benchmark: spans/s of every loader, table build included.

Generates a realistic workload (trees up to 10 levels deep with fan-out, ~10 attributes of mixed
types per span, some events and links), renders it as OTLP JSON, OTLP protobuf, Jaeger JSON and
Zipkin v2 JSON, and times ``load_bytes(...)`` + ``TableBuilder.build()`` for each (median of
``--runs`` runs). A "naive" row shows ``json.loads`` plus a dict walk into the same builder.
Decode-only baselines bound what a reader can reach: ``msgspec typed`` (the whole OTLP document
into msgspec Structs), ``msgspec Raw`` (the document with every span left as ``msgspec.Raw``),
``msgspec generic`` (plain dicts/lists) and ``orjson`` (when installed). Each row runs in a
forked child, so its peak RSS (``ru_maxrss``) is its own; ``extra MB`` is the peak above the
child's RSS at the start (the input bytes are already resident).

Usage::

    PYTHONPATH=. python benchmarks/ingest.py [--spans N] [--quick] [--runs R]

Prints a table and writes ``benchmarks/results/ingest.json``.
"""

from __future__ import annotations

import argparse
import base64
import gc
import json
import multiprocessing
import platform
import random
import resource
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec

from workbench.traces.builder import TableBuilder
from workbench.traces.detect import gc_paused, load_bytes

RESULTS = Path(__file__).resolve().parent / "results" / "ingest.json"
T0 = 1_700_000_000_000_000_000

SERVICES = ["frontend", "cart", "checkout", "payment", "shipping", "email", "ad", "currency"]
ROUTES = ["/api/cart", "/api/checkout", "/api/products/{id}", "/api/ads", "/health", "/login"]
KIND_NAMES = {1: "internal", 2: "server", 3: "client", 4: "producer", 5: "consumer"}


# ---------------------------------------------------------------------- workload


def generate(n_spans: int, seed: int = 7) -> list[list[dict[str, Any]]]:
    """Traces of neutral span dicts (ids as hex, times in ns, typed attribute values)."""
    rnd = random.Random(seed)
    traces: list[list[dict[str, Any]]] = []
    made = 0
    while made < n_spans:
        size = min(rnd.randint(20, 120), n_spans - made)
        trace_id = f"{rnd.getrandbits(128):032x}"
        spans: list[dict[str, Any]] = []
        frontier: list[tuple[int, int]] = []  # (index, level)
        for i in range(size):
            if i == 0:
                parent, level = -1, 0
            else:
                candidates = [f for f in frontier[-8:] if f[1] < 9] or frontier[:1]
                parent, level = rnd.choice(candidates)
                level += 1
            base = spans[parent]["start"] if parent >= 0 else T0 + made * 10_000
            start = base + rnd.randint(10_000, 500_000)
            spans.append(_span(rnd, trace_id, i, parent, spans, start, made + i))
            frontier.append((i, level))
        for span in spans:
            if rnd.random() < 0.03 and traces:
                other = rnd.choice(traces[-5:])
                target = rnd.choice(other)
                span["links"].append(
                    (target["trace_id"], target["span_id"], [("link.reason", "retry-of")])
                )
        traces.append(spans)
        made += size
    return traces


def _span(
    rnd: random.Random,
    trace_id: str,
    i: int,
    parent: int,
    spans: list[dict[str, Any]],
    start: int,
    serial: int,
) -> dict[str, Any]:
    kind = rnd.choice([1, 2, 2, 3, 3, 4, 5]) if i else 2
    route = rnd.choice(ROUTES)
    attrs: list[tuple[str, Any]] = [
        ("http.request.method", rnd.choice(["GET", "GET", "POST", "PUT"])),
        ("http.route", route),
        ("http.response.status_code", rnd.choice([200, 200, 200, 201, 404, 500])),
        ("server.address", f"{rnd.choice(SERVICES)}.svc.cluster.local"),
        ("server.port", rnd.choice([80, 443, 8080])),
        ("user.id", f"u-{rnd.randrange(50_000):06d}"),
        ("retry", rnd.random() < 0.05),
        ("payload.bytes", round(rnd.random() * 10_000, 3)),
        ("thread.name", f"worker-{rnd.randrange(16)}"),
        ("net.protocol.version", "1.1"),
    ]
    if rnd.random() < 0.1:
        attrs.append(("feature.flags", ["new-ui", "fast-checkout"]))
    events = []
    for k in range(rnd.choice([0, 0, 0, 1, 1, 2])):
        events.append(
            (
                rnd.choice(["cache.miss", "retry", "exception"]),
                start + 1000 * (k + 1),
                [("attempt", k + 1), ("message", "upstream slow")],
            )
        )
    error = rnd.random() < 0.04
    return {
        "trace_id": trace_id,
        "span_id": f"{rnd.getrandbits(64) | 1:016x}",
        "parent_id": spans[parent]["span_id"] if parent >= 0 else "",
        "name": f"{rnd.choice(['GET', 'POST'])} {route}",
        "service": rnd.choice(SERVICES),
        "kind": kind,
        "start": start,
        "end": start + rnd.randint(50_000, 5_000_000),
        "status": 2 if error else 0,
        "message": "upstream timeout" if error else "",
        "attrs": attrs,
        "events": events,
        "links": [],
    }


# ---------------------------------------------------------------------- renderings


def _otlp_value(value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int):
        return {"intValue": str(value)}
    if isinstance(value, float):
        return {"doubleValue": value}
    if isinstance(value, list):
        return {"arrayValue": {"values": [_otlp_value(v) for v in value]}}
    return {"stringValue": value}


def _otlp_attrs(items: list[tuple[str, Any]]) -> list[dict[str, Any]]:
    return [{"key": k, "value": _otlp_value(v)} for k, v in items]


def to_otlp_json(traces: list[list[dict[str, Any]]]) -> bytes:
    """One request, a ResourceSpans per (trace, service) batch of up to 1000 spans."""
    by_service: dict[str, list[dict[str, Any]]] = {}
    for trace in traces:
        for s in trace:
            by_service.setdefault(s["service"], []).append(s)
    resource_spans = []
    for service, spans in by_service.items():
        for k in range(0, len(spans), 1000):
            resource_spans.append(
                {
                    "resource": {"attributes": _otlp_attrs([("service.name", service)])},
                    "scopeSpans": [
                        {
                            "scope": {"name": "bench", "version": "1.0"},
                            "spans": [_otlp_span(s) for s in spans[k : k + 1000]],
                        }
                    ],
                }
            )
    return msgspec.json.encode({"resourceSpans": resource_spans})


def _otlp_span(s: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "traceId": s["trace_id"],
        "spanId": s["span_id"],
        "name": s["name"],
        "kind": s["kind"],
        "startTimeUnixNano": str(s["start"]),
        "endTimeUnixNano": str(s["end"]),
        "attributes": _otlp_attrs(s["attrs"]),
        "status": {"code": s["status"], "message": s["message"]} if s["status"] else {},
    }
    if s["parent_id"]:
        out["parentSpanId"] = s["parent_id"]
    if s["events"]:
        out["events"] = [
            {"timeUnixNano": str(t), "name": n, "attributes": _otlp_attrs(a)}
            for n, t, a in s["events"]
        ]
    if s["links"]:
        out["links"] = [
            {"traceId": t, "spanId": i, "attributes": _otlp_attrs(a)} for t, i, a in s["links"]
        ]
    return out


def to_otlp_proto(otlp_json: bytes) -> bytes:
    """The same request through the official protobuf classes (their JSON parser). Their
    generic JSON mapping reads bytes fields as base64, so the hex ids of OTLP/JSON are
    re-encoded first: without it every id would be 12 or 24 bytes, not 8 or 16."""
    from google.protobuf import json_format
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    def ids_to_base64(obj: Any) -> Any:
        if isinstance(obj, list):
            return [ids_to_base64(v) for v in obj]
        if isinstance(obj, dict):
            return {k: base64.b64encode(bytes.fromhex(v)).decode()
                    if k in ("traceId", "spanId", "parentSpanId") and isinstance(v, str)
                    else ids_to_base64(v) for k, v in obj.items()}
        return obj

    doc = ids_to_base64(msgspec.json.decode(otlp_json))
    message = json_format.ParseDict(doc, ExportTraceServiceRequest())
    return message.SerializeToString()


def _jaeger_tag(key: str, value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"key": key, "type": "bool", "value": value}
    if isinstance(value, int):
        return {"key": key, "type": "int64", "value": value}
    if isinstance(value, float):
        return {"key": key, "type": "float64", "value": value}
    if isinstance(value, list):
        return {"key": key, "type": "string", "value": json.dumps(value)}
    return {"key": key, "type": "string", "value": value}


def to_jaeger(traces: list[list[dict[str, Any]]]) -> bytes:
    data = []
    for trace in traces:
        processes = {f"p{i}": {"serviceName": s, "tags": []} for i, s in enumerate(SERVICES)}
        pid = {s: f"p{i}" for i, s in enumerate(SERVICES)}
        spans = []
        for s in trace:
            tags = [_jaeger_tag(k, v) for k, v in s["attrs"]]
            tags.append({"key": "span.kind", "type": "string", "value": KIND_NAMES[s["kind"]]})
            if s["status"] == 2:
                tags.append({"key": "error", "type": "bool", "value": True})
            refs = [{"refType": "CHILD_OF", "traceID": s["trace_id"], "spanID": s["parent_id"]}]
            refs = refs if s["parent_id"] else []
            refs += [
                {"refType": "FOLLOWS_FROM", "traceID": t, "spanID": i} for t, i, _a in s["links"]
            ]
            spans.append(
                {
                    "traceID": s["trace_id"],
                    "spanID": s["span_id"],
                    "operationName": s["name"],
                    "references": refs,
                    "startTime": s["start"] // 1000,
                    "duration": (s["end"] - s["start"]) // 1000,
                    "tags": tags,
                    "logs": [
                        {
                            "timestamp": t // 1000,
                            "fields": [{"key": "event", "type": "string", "value": n}]
                            + [_jaeger_tag(k, v) for k, v in a],
                        }
                        for n, t, a in s["events"]
                    ],
                    "processID": pid[s["service"]],
                    "warnings": None,
                }
            )
        data.append({"traceID": trace[0]["trace_id"], "spans": spans, "processes": processes})
    return msgspec.json.encode({"data": data})


def to_zipkin(traces: list[list[dict[str, Any]]]) -> bytes:
    spans = []
    for trace in traces:
        for s in trace:
            out: dict[str, Any] = {
                "traceId": s["trace_id"],
                "id": s["span_id"],
                "name": s["name"],
                "timestamp": s["start"] // 1000,
                "duration": (s["end"] - s["start"]) // 1000,
                "localEndpoint": {"serviceName": s["service"]},
                "tags": {
                    k: (json.dumps(v) if isinstance(v, list) else str(v)) for k, v in s["attrs"]
                },
                "annotations": [{"timestamp": t // 1000, "value": n} for n, t, _a in s["events"]],
            }
            if s["parent_id"]:
                out["parentId"] = s["parent_id"]
            if s["kind"] in (2, 3, 4, 5):
                out["kind"] = KIND_NAMES[s["kind"]].upper()
            if s["status"] == 2:
                out["tags"]["error"] = s["message"]
            spans.append(out)
    return msgspec.json.encode(spans)


# ---------------------------------------------------------------------- naive baseline

_KINDS = {
    f"SPAN_KIND_{n}": i
    for i, n in enumerate(["UNSPECIFIED", "INTERNAL", "SERVER", "CLIENT", "PRODUCER", "CONSUMER"])
}


def _naive_value(v: dict[str, Any]) -> Any:
    if "stringValue" in v:
        return v["stringValue"]
    if "boolValue" in v:
        return v["boolValue"]
    if "intValue" in v:
        return int(v["intValue"])
    if "doubleValue" in v:
        return float(v["doubleValue"])
    if "bytesValue" in v:
        return base64.b64decode(v["bytesValue"])
    if "arrayValue" in v:
        return [_naive_value(x) for x in v["arrayValue"].get("values", [])]
    if "kvlistValue" in v:
        return {kv["key"]: _naive_value(kv["value"]) for kv in v["kvlistValue"].get("values", [])}
    return None


def naive_load(data: bytes, name: str) -> TableBuilder:
    """``json.loads`` and a straightforward dict walk into :meth:`TableBuilder.add_span`."""
    builder = TableBuilder()
    doc = json.loads(data)
    for rs in doc.get("resourceSpans", []):
        attrs = [
            (a["key"], _naive_value(a["value"]))
            for a in rs.get("resource", {}).get("attributes", [])
        ]
        resource = builder.add_resource(attrs)
        for ss in rs.get("scopeSpans", []):
            scope = ss.get("scope", {}).get("name", "")
            for sp in ss.get("spans", []):
                kind = sp.get("kind", 0)
                status = sp.get("status", {})
                end = int(sp.get("endTimeUnixNano", 0))
                builder.add_span(
                    trace_id=sp["traceId"],
                    span_id=sp["spanId"],
                    parent_id=sp.get("parentSpanId", ""),
                    name=sp.get("name", ""),
                    kind=_KINDS.get(kind, kind) if isinstance(kind, str) else kind,
                    status=status.get("code", 0),
                    status_message=status.get("message", ""),
                    start=int(sp.get("startTimeUnixNano", 0)),
                    end=end or None,
                    resource=resource,
                    scope=scope,
                    source=name,
                    attributes=[
                        (a["key"], _naive_value(a["value"])) for a in sp.get("attributes", [])
                    ],
                    events=[
                        (
                            e.get("name", ""),
                            int(e.get("timeUnixNano", 0)),
                            [(a["key"], _naive_value(a["value"])) for a in e.get("attributes", [])],
                        )
                        for e in sp.get("events", [])
                    ],
                    links=[
                        (
                            lk["traceId"],
                            lk["spanId"],
                            [
                                (a["key"], _naive_value(a["value"]))
                                for a in lk.get("attributes", [])
                            ],
                        )
                        for lk in sp.get("links", [])
                    ],
                )
    return builder


# ---------------------------------------------------------------------- timing


def _time(load: Callable[[], Any], runs: int) -> tuple[float, int, float]:
    """Median wall seconds, spans, and median CPU seconds of this process (the machine may
    be shared: CPU time is the steadier figure)."""
    times, cpu = [], []
    spans = 0
    for _ in range(runs):
        gc.collect()
        start, c0 = time.perf_counter(), time.process_time()
        with gc_paused():
            out = load()
            if isinstance(out, TableBuilder):
                out = out.build().n_spans
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - c0)
        spans = int(out)
        del out
    return statistics.median(times), spans, statistics.median(cpu)


def _rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * resource.getpagesize() / 1e6


_JOBS: dict[str, tuple[bytes, Callable[[bytes], Any]]] = {}


def _child(name: str, runs: int) -> tuple[float, int, float, float, float]:
    data, loader = _JOBS[name]
    _warm()
    before = _rss_mb()
    seconds, spans, cpu = _time(lambda: loader(data), runs)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3  # KiB on Linux
    return seconds, spans, peak, max(0.0, peak - before), cpu


def _measure(name: str, runs: int) -> tuple[float, int, float, float, float]:
    """Time one job in a forked child (its own peak RSS); in-process where fork is missing."""
    try:
        ctx = multiprocessing.get_context("fork")
    except ValueError:
        return _child(name, runs)
    with ctx.Pool(1, maxtasksperchild=1) as pool:
        return pool.apply(_child, (name, runs))


def _reference(load: Callable[[bytes], Any]) -> Callable[[bytes], Any]:
    """``load`` with the compiled walkers switched off (the previous loaders)."""
    import os

    from workbench.traces.detect import FAST_READERS_ENV

    def run(data: bytes) -> Any:
        os.environ[FAST_READERS_ENV] = "0"
        try:
            return load(data)
        finally:
            os.environ.pop(FAST_READERS_ENV, None)

    return run


def _warm() -> None:
    """Load the compiled walkers once (from the disk cache, or compiling them) so that no
    timed run pays for it; the first-use cost is timed separately."""
    from workbench.traces import kernels, kernels_json  # noqa: F401


def _count_otlp_typed(data: bytes) -> int:
    from workbench.traces.otlp_json import DOCUMENT_DECODER

    doc = DOCUMENT_DECODER.decode(data)
    return sum(len(ss.spans) for rs in doc.resourceSpans for ss in rs.scopeSpans)  # type: ignore[union-attr]


def _count_otlp_raw(data: bytes) -> int:
    from workbench.traces.otlp_json_lazy import LAZY_DECODER

    doc = LAZY_DECODER.decode(data)
    return sum(len(ss.spans) for rs in doc.resourceSpans for ss in rs.scopeSpans)  # type: ignore[union-attr]


def _count_generic(decode: Callable[[bytes], Any]) -> Callable[[bytes], int]:
    def count(data: bytes) -> int:
        obj = decode(data)
        return sum(len(ss["spans"]) for rs in obj["resourceSpans"] for ss in rs["scopeSpans"])

    return count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--spans", type=int, default=200_000, help="spans to generate")
    parser.add_argument("--quick", action="store_true", help="20k spans, 3 runs")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per loader (median)")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    n, runs = (20_000, 3) if args.quick else (args.spans, args.runs)

    print(f"generating {n} spans ...", file=sys.stderr)
    traces = generate(n)
    otlp = to_otlp_json(traces)
    proto = to_otlp_proto(otlp)
    payloads: dict[str, tuple[bytes, Callable[[bytes], Any]]] = {
        "otlp-json": (otlp, lambda d: load_bytes(d, "bench.json", "otlp-json")),
        "otlp-proto": (proto, lambda d: load_bytes(d, "bench.pb", "otlp-proto")),
        # the readers before the compiled walkers (what OTLSPEC_FAST_READERS=0 selects)
        "otlp-json (msgspec reader)": (otlp, _reference(lambda d: load_bytes(d, "bench.json",
                                                                             "otlp-json"))),
        "otlp-proto (protobuf classes)": (proto, _reference(lambda d: load_bytes(
            d, "bench.pb", "otlp-proto"))),
        "jaeger": (to_jaeger(traces), lambda d: load_bytes(d, "bench.jaeger.json", "jaeger")),
        "zipkin-v2": (to_zipkin(traces), lambda d: load_bytes(d, "bench.zipkin.json", "zipkin")),
        # the dict-walking readers before the typed fast readers
        "jaeger (reference reader)": (to_jaeger(traces), _reference(lambda d: load_bytes(
            d, "bench.jaeger.json", "jaeger"))),
        "zipkin-v2 (reference reader)": (to_zipkin(traces), _reference(lambda d: load_bytes(
            d, "bench.zipkin.json", "zipkin"))),
        "naive (json.loads)": (otlp, lambda d: naive_load(d, "bench.json")),
        "decode: msgspec typed": (otlp, _count_otlp_typed),
        "decode: msgspec Raw": (otlp, _count_otlp_raw),
        "decode: msgspec generic": (otlp, _count_generic(msgspec.json.decode)),
    }
    try:
        import orjson

        payloads["decode: orjson"] = (otlp, _count_generic(orjson.loads))
    except ImportError:
        print("orjson not installed: no orjson baseline", file=sys.stderr)
    _JOBS.update(payloads)
    rows = []
    for fmt, (data, _loader) in payloads.items():
        print(f"timing {fmt} ...", file=sys.stderr)
        seconds, spans, peak, extra, cpu = _measure(fmt, runs)
        rows.append(
            {
                "format": fmt,
                "spans": spans,
                "mb": len(data) / 1e6,
                "median_s": seconds,
                "median_cpu_s": cpu,
                "spans_per_s": spans / seconds,
                "spans_per_cpu_s": spans / cpu if cpu else 0.0,
                "mb_per_s": len(data) / 1e6 / seconds,
                "peak_rss_mb": peak,
                "extra_rss_mb": extra,
            }
        )
    base = rows[0]["median_s"]
    by_name = {r["format"]: r for r in rows}
    for row in rows:
        row["ratio_vs_otlp_json"] = row["median_s"] / base
    for fast, ref in (("otlp-json", "otlp-json (msgspec reader)"),
                      ("otlp-proto", "otlp-proto (protobuf classes)"),
                      ("jaeger", "jaeger (reference reader)"),
                      ("zipkin-v2", "zipkin-v2 (reference reader)")):
        by_name[fast]["speedup_vs_previous"] = by_name[ref]["median_s"] / by_name[fast]["median_s"]
        by_name[fast]["cpu_speedup_vs_previous"] = (
            by_name[ref]["median_cpu_s"] / max(1e-9, by_name[fast]["median_cpu_s"]))
    header = (f"| {'format':<30} | {'spans':>8} | {'MB':>6} | {'median s':>8} | {'CPU s':>7} | "
              f"{'spans/s':>10} | {'spans/CPU s':>11} | {'MB/s':>6} | {'x OTLP JSON':>11} | "
              f"{'peak MB':>7} | {'extra MB':>8} |")
    print(header)
    print("|" + "|".join("-" * len(c) for c in header.split("|")[1:-1]) + "|")
    for r in rows:
        print(
            f"| {r['format']:<30} | {r['spans']:>8} | {r['mb']:>6.1f} | {r['median_s']:>8.3f} | "
            f"{r['median_cpu_s']:>7.3f} | {r['spans_per_s']:>10,.0f} | "
            f"{r['spans_per_cpu_s']:>11,.0f} | {r['mb_per_s']:>6.1f} | "
            f"{r['ratio_vs_otlp_json']:>11.2f} | {r['peak_rss_mb']:>7.0f} | "
            f"{r['extra_rss_mb']:>8.0f} |"
        )
    naive = next(r["median_s"] for r in rows if r["format"].startswith("naive"))
    print(f"otlp-json reader is {naive / base:.1f}x faster than json.loads + dict walk")
    for fmt in ("otlp-json", "otlp-proto", "jaeger", "zipkin-v2"):
        r = by_name[fmt]
        print(f"{fmt}: fast reader {r['speedup_vs_previous']:.2f}x the previous reader "
              f"(wall), {r['cpu_speedup_vs_previous']:.2f}x (CPU)")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(
        json.dumps(
            {
                "spans_generated": n,
                "runs": runs,
                "python": sys.version.split()[0],
                "machine": platform.machine(),
                "processor": platform.processor(),
                "rows": rows,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"wrote {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
