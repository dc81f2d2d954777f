"""Stream monitor vs batch re-check: per-export latency, throughput, late spans, memory.

Three in-process measurements (no network, so only the checking is timed), each side by side:

* **per export**: generated traces (``workbench.datasets.generate`` with faults, about 20 spans
  each) cut into export requests of ``--batch`` spans in shuffled order, as spans from several
  services arrive. *stream*: each request is validated and split (``split_request``) and its
  pieces fed to the stream monitor (:class:`workbench.stream.feed.StreamFeed`: decode the new
  spans, re-verify what they can affect). *batch*: after each request, the traces it touched are
  re-checked whole with the batch engine (``workbench.engine.check``, decode included), which
  is what answering at every export without an incremental monitor costs. Per-export latency
  median/p99, throughput (spans/s: the stream's includes settling the deferred whole-trace
  verdicts of every trace once, as completion does) and the ratio.
* **late span**: one 1,000-span trace (generated traces grafted under one root), fully seen;
  then ``--late`` of its spans arrive late, one per export. *stream*: the update of that one
  span plus every verdict of the trace settled (the whole-trace properties, deferred to the
  verdict, included). *batch*: decode and re-check the whole trace (``auto`` = numba, and
  ``reference``); the verdicts are compared. The trace's verdicts are settled once before the
  first late span (it completed), the garbage collector runs before each timed step (so
  neither side pays for the other's garbage), and CPU time is reported next to wall time
  (it survives a loaded machine).
* **pipeline**: the serve pipeline end to end (assembler, checker, SQLite in memory) with
  ``incremental`` on and off: spans/s until every verdict is stored, fast-path (request ->
  verdicts updated) and deep-path (trace complete -> verdict stored) latencies.

Peak memory: ``tracemalloc`` peak of a separate run of each per-export side, and the process's
peak RSS. Usage::

    PYTHONPATH=. python benchmarks/stream.py [--quick] [--traces 300] [--batch 64] [--late 20]

Prints a table and writes ``benchmarks/results/stream.json``.
"""

from __future__ import annotations

import argparse
import gc
import json
import platform
import random
import resource
import statistics
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (  # noqa: E402
    ExportTraceServiceRequest,
)

from workbench.serve.decode import invalid_reason, pieces_request, split_request  # noqa: E402
from workbench.serve.replay import assemble, explode  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "stream.json"


def _q(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def triples_of(n_traces: int, seed: int, faults: float = 0.3) -> list[Any]:
    from workbench.datasets.faults import inject, parse_faults
    from workbench.datasets.generator import generate
    from workbench.datasets.writer import otlp_proto

    ds = generate(traces=n_traces, seed=seed, services=8)
    if faults:
        inject(ds, parse_faults("all", n_traces, rate=faults), seed=seed)
    request = ExportTraceServiceRequest.FromString(otlp_proto(ds, ds.traces))
    return [t for t in explode(request) if not invalid_reason(t[2])]


def requests_of(triples: list[Any], batch: int, seed: int) -> list[ExportTraceServiceRequest]:
    rng = random.Random(seed)
    shuffled = list(triples)
    rng.shuffle(shuffled)
    return [assemble(shuffled[i:i + batch]) for i in range(0, len(shuffled), batch)]


class Groups:
    """Each trace's spans so far, grouped as the assembler holds them."""

    def __init__(self) -> None:
        self.traces: dict[bytes, dict[Any, list[bytes]]] = {}
        self.counts: dict[bytes, int] = {}

    def add(self, piece: Any) -> list[tuple[Any, list[bytes]]]:
        groups = self.traces.setdefault(piece.trace_id, {})
        for key, spans in piece.groups.items():
            groups.setdefault(key, []).extend(spans)
        self.counts[piece.trace_id] = self.counts.get(piece.trace_id, 0) + piece.n_spans
        return list(piece.groups.items())

    def payload(self, trace_id: bytes) -> bytes:
        return pieces_request(self.traces[trace_id].items())


def run_stream(spec: Any, requests: list[ExportTraceServiceRequest]) -> list[float]:
    from workbench.engine.pipeline import check_passes
    from workbench.engine.reference import param_values
    from workbench.lang.passes import run_passes
    from workbench.stream.serving import ServingFeed

    bound, _ = run_passes(spec, check_passes(None))
    feed = ServingFeed(bound.properties, param_values(bound), capacity=1_000_000)
    held = Groups()
    out = []
    for req in requests:
        t0 = time.perf_counter()
        items = []
        for piece in split_request(req).pieces:
            groups = held.add(piece)
            tid = piece.trace_id
            items.append((tid.hex(), groups, held.counts[tid], held.traces[tid].items()))
        feed.add_many(items)
        out.append(time.perf_counter() - t0)
    # the deep path: every trace's whole-trace verdicts settled once, as on completion
    t0 = time.perf_counter()
    for tid in held.traces:
        feed.snapshot(tid.hex())
    out.append(time.perf_counter() - t0)
    assert feed.resyncs == 0, feed.resyncs
    return out


def run_batch(spec: Any, requests: list[ExportTraceServiceRequest], backend: str) -> list[float]:
    from workbench.engine import check
    from workbench.traces import otlp_proto
    from workbench.traces.builder import TableBuilder

    held = Groups()
    out = []
    for req in requests:
        t0 = time.perf_counter()
        touched = []
        for piece in split_request(req).pieces:
            held.add(piece)
            touched.append(piece.trace_id)
        builder = TableBuilder()
        otlp_proto.load(b"".join(held.payload(t) for t in touched), "otlp", builder)
        check(spec, builder.build(), backend=backend)
        out.append(time.perf_counter() - t0)
    return out


def peak_bytes(fn: Any, *args: Any) -> int:
    tracemalloc.start()
    try:
        fn(*args)
        return int(tracemalloc.get_traced_memory()[1])
    finally:
        tracemalloc.stop()


def big_trace(n_spans: int, seed: int) -> list[Any]:
    """Generated traces grafted under the first one's root: one trace of about ``n_spans``."""
    out: list[Any] = []
    k = 0
    while len(out) < n_spans:
        k += 1
        out.extend(triples_of(max(10, n_spans // 15), seed + k, faults=0.0))
    out = out[:n_spans]
    trace_id = out[0][2].trace_id
    root = next(t[2] for t in out if not t[2].parent_span_id)
    for _, _, sp in out:
        if sp is not root and not sp.parent_span_id:
            sp.parent_span_id = root.span_id
        sp.trace_id = trace_id
    return out


def late_span(spec: Any, n_spans: int, n_late: int, seed: int) -> dict[str, Any]:
    from workbench.engine import check
    from workbench.engine.pipeline import check_passes
    from workbench.engine.reference import param_values
    from workbench.lang.passes import run_passes
    from workbench.stream.serving import ServingFeed
    from workbench.traces import otlp_proto
    from workbench.traces.builder import TableBuilder

    triples = big_trace(n_spans, seed)
    rng = random.Random(seed)
    late = set(rng.sample(range(len(triples)), n_late))
    early = [t for i, t in enumerate(triples) if i not in late]
    bound, _ = run_passes(spec, check_passes(None))
    feed = ServingFeed(bound.properties, param_values(bound), capacity=10)
    held = Groups()
    for i in range(0, len(early), 256):
        for piece in split_request(assemble(early[i:i + 256])).pieces:
            groups = held.add(piece)
            feed.add(piece.trace_id.hex(), groups, held.counts[piece.trace_id],
                     held.traces[piece.trace_id].items())
    stream, evals, stream_cpu, auto_cpu = [], [], [], []
    batch: dict[str, list[float]] = {"auto": [], "reference": []}
    # the trace completed (its verdicts settled, the deep path) before the late spans arrive
    feed.snapshot(triples[0][2].trace_id.hex())
    for j in sorted(late):
        piece = split_request(assemble([triples[j]])).pieces[0]
        groups = held.add(piece)
        tid = piece.trace_id
        before = feed.monitor.stats.bindings
        gc.collect()  # each side pays for its own garbage, not the other's
        t0, c0 = time.perf_counter(), time.process_time()
        feed.add(tid.hex(), groups, held.counts[tid], held.traces[tid].items())
        snap = feed.snapshot(tid.hex())  # every verdict settled: the deep path included
        stream.append(time.perf_counter() - t0)
        stream_cpu.append(time.process_time() - c0)
        evals.append(feed.monitor.stats.bindings - before)
        for backend in ("auto", "reference") if len(batch["reference"]) < 3 else ("auto",):
            gc.collect()
            t0, c0 = time.perf_counter(), time.process_time()
            builder = TableBuilder()
            otlp_proto.load(held.payload(tid), "otlp", builder)
            result = check(spec, builder.build(), backend=backend)
            batch[backend].append(time.perf_counter() - t0)
            if backend == "auto":
                auto_cpu.append(time.process_time() - c0)
        want = {r.name: bool(r.holds[0]) for r in result.results}
        assert snap.verdicts == {k: v for k, v in want.items() if k in snap.verdicts}, \
            "stream and batch verdicts differ"
    return {
        "trace_spans": len(triples),
        "late_spans": n_late,
        "stream_median_s": statistics.median(stream),
        "stream_p99_s": _q(stream, 0.99),
        "stream_binding_evals_median": statistics.median(evals),
        "batch_auto_median_s": statistics.median(batch["auto"]),
        "batch_reference_median_s": statistics.median(batch["reference"]),
        "speedup_vs_auto": statistics.median(batch["auto"]) / statistics.median(stream),
        "speedup_vs_reference": statistics.median(batch["reference"])
        / statistics.median(stream),
        "stream_cpu_median_s": statistics.median(stream_cpu),
        "batch_auto_cpu_median_s": statistics.median(auto_cpu),
        "cpu_speedup_vs_auto": statistics.median(auto_cpu) / statistics.median(stream_cpu),
    }


def pipeline(spec: Any, requests: list[ExportTraceServiceRequest], incremental: bool
             ) -> dict[str, Any]:
    from workbench.serve.config import ServeConfig
    from workbench.serve.server import create_server

    config = ServeConfig(grpc_port=None, http_port=None, api_port=None, store=":memory:",
                         idle=0.05, max_age=5.0, incremental=incremental)
    server = create_server(config, spec)
    server.warm_up()
    server.pipeline.start()
    n = sum(len(ss.spans) for r in requests for rs in r.resource_spans for ss in rs.scope_spans)
    t0 = time.perf_counter()
    try:
        for req in requests:
            server.pipeline.offer(split_request(req))
        assert server.pipeline.flush(600)
        wall = time.perf_counter() - t0
    finally:
        server.pipeline.stop()
    m = server.metrics
    return {
        "incremental": incremental, "spans": n, "wall_s": wall, "spans_per_s": n / wall,
        "traces_checked": m.traces_checked,
        "fast_p50_s": m.fast.quantile(0.5), "fast_p99_s": m.fast.quantile(0.99),
        "deep_p50_s": m.deep.quantile(0.5), "deep_p99_s": m.deep.quantile(0.99),
        "deep_max_s": max(m.deep.samples) if m.deep.samples else 0.0,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="100 traces, 10 late spans")
    ap.add_argument("--traces", type=int, default=300)
    ap.add_argument("--batch", type=int, default=64, help="spans per export request")
    ap.add_argument("--late", type=int, default=20)
    ap.add_argument("--big", type=int, default=1000, help="spans of the late-span trace")
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args()
    if args.quick:
        args.traces, args.late = 100, 10
    from workbench.engine import check
    from workbench.lang import load_specs

    spec = load_specs(["stdlib"])
    triples = triples_of(args.traces, args.seed)
    requests = requests_of(triples, args.batch, args.seed)
    n_spans = len(triples)
    # warm: compile the numba kernels (cached on disk) before anything is timed
    from workbench.traces import otlp_proto
    from workbench.traces.builder import TableBuilder

    builder = TableBuilder()
    otlp_proto.load(requests[0].SerializeToString(), "otlp", builder)
    check(spec, builder.build())

    rows: list[dict[str, Any]] = []
    settle = 0.0
    for name, fn, extra in (("stream", run_stream, ()), ("batch auto", run_batch, ("auto",))):
        lat = fn(spec, requests, *extra)
        if name == "stream":  # its last entry: settling the deferred verdicts of every trace
            settle = lat.pop()
            total = sum(lat) + settle
        else:
            total = sum(lat)
        peak = peak_bytes(fn, spec, requests[: max(1, len(requests) // 4)], *extra)
        rows.append({"mode": name, "exports": len(requests), "spans": n_spans,
                     "median_s": statistics.median(lat), "p99_s": _q(lat, 0.99),
                     "max_s": max(lat), "total_s": total, "spans_per_s": n_spans / total,
                     "deferred_settle_s": settle if name == "stream" else 0.0,
                     "tracemalloc_peak_bytes_quarter": peak})
    rows.append({**rows[1], "mode": "ratio batch/stream",
                 **{k: rows[1][k] / rows[0][k] for k in ("median_s", "p99_s", "max_s",
                                                        "total_s")},
                 "spans_per_s": rows[0]["spans_per_s"] / rows[1]["spans_per_s"],
                 "tracemalloc_peak_bytes_quarter": rows[1]["tracemalloc_peak_bytes_quarter"]
                 / max(1, rows[0]["tracemalloc_peak_bytes_quarter"])})
    late = late_span(spec, args.big, args.late, args.seed)
    pipes = [pipeline(spec, requests, inc) for inc in (True, False)]
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

    print(f"\nper export ({len(requests)} requests of <= {args.batch} spans, {n_spans} spans, "
          f"{args.traces} generated traces, shuffled)")
    print(f"{'mode':20} {'median ms':>10} {'p99 ms':>9} {'max ms':>9} {'spans/s':>10} "
          f"{'peak MiB*':>10}")
    for r in rows:
        ratio = r["mode"].startswith("ratio")
        unit = 1 if ratio else 1e3
        fmt = "{:>10.2f} {:>9.2f} {:>9.2f} {:>10.2f} {:>10.2f}" if ratio else \
            "{:>10.3f} {:>9.3f} {:>9.3f} {:>10.0f} {:>10.1f}"
        print(f"{r['mode']:20} " + fmt.format(
            r["median_s"] * unit, r["p99_s"] * unit, r["max_s"] * unit, r["spans_per_s"],
            r["tracemalloc_peak_bytes_quarter"] / (1 if ratio else 2**20)))
    print("  * tracemalloc peak over the first quarter of the exports (ratio: batch/stream)")
    print(f"  stream spans/s includes settling every trace's deferred (whole-trace) verdicts "
          f"once at the end: {settle * 1e3:.0f} ms in all")
    print(f"\nlate span on a {late['trace_spans']}-span trace ({late['late_spans']} late spans, "
          "one per export)")
    print(f"  stream update+verdicts median {late['stream_median_s'] * 1e3:8.3f} ms  "
          f"p99 {late['stream_p99_s'] * 1e3:8.3f} ms  "
          f"({late['stream_binding_evals_median']:.0f} binding evaluations)")
    print(f"  batch auto     median {late['batch_auto_median_s'] * 1e3:8.3f} ms  "
          f"-> stream is {late['speedup_vs_auto']:.1f}x faster")
    print(f"  batch reference median {late['batch_reference_median_s'] * 1e3:7.3f} ms  "
          f"-> stream is {late['speedup_vs_reference']:.1f}x faster")
    print(f"  CPU time: stream median {late['stream_cpu_median_s'] * 1e3:.3f} ms, batch auto "
          f"{late['batch_auto_cpu_median_s'] * 1e3:.3f} ms -> {late['cpu_speedup_vs_auto']:.1f}x")
    print("\nserve pipeline end to end (in process, SQLite in memory)")
    print(f"{'incremental':12} {'spans/s':>9} {'fast p50 ms':>12} {'fast p99 ms':>12} "
          f"{'deep p50 ms':>12} {'deep p99 ms':>12}")
    for p in pipes:
        print(f"{p['incremental']!s:12} {p['spans_per_s']:>9.0f} {p['fast_p50_s'] * 1e3:>12.2f} "
              f"{p['fast_p99_s'] * 1e3:>12.2f} {p['deep_p50_s'] * 1e3:>12.1f} "
              f"{p['deep_p99_s'] * 1e3:>12.1f}")
    print(f"\nprocess peak RSS {peak_rss / 2**20:.0f} MiB")
    doc = {"machine": {"python": platform.python_version(), "cpus": __import__("os").cpu_count(),
                       "platform": platform.platform()},
           "args": {k: str(v) for k, v in vars(args).items()},
           "per_export": rows, "late_span": late, "pipeline": pipes, "peak_rss_bytes": peak_rss}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(doc, indent=2) + "\n")
    print(f"wrote {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}")


if __name__ == "__main__":
    main()
