"""``otlspec serve`` load benchmark: loopback OTLP senders against a real server process.

For each configuration (transport x backend x checker: the incremental stream monitor or, with
``--no-incremental``, the batch engine per completed trace) a fresh ``otlspec serve`` process is
started with
a SQLite store in a temporary directory. Generated traces (``workbench.datasets.generate``, about
20 spans each, optionally with faults) are cut into export requests of ``--batch`` spans in trace
order, as an SDK's batch processor sends them, and sent by ``--senders`` threads:

* **saturation**: as fast as the server admits them (refusals are retried after the
  ``Retry-After`` the server asks, and counted);
* **paced**: at half the saturation rate, to read the deep-path latency (trace complete ->
  verdict stored) of a server that keeps up.

* **overload-2x** (``--overload``; gRPC, batch checker): paced at twice the saturation rate
  against a server started with ``--max-memory`` (default 8 MiB): it must answer only
  retryable codes (UNAVAILABLE with ``RetryInfo``; anything else fails the run), count every
  refusal and drop by reason and lose nothing; the row reports the server's peak
  ``otlspec_held_bytes`` against the limit and its RSS over time (``rss_series_mib`` in the
  JSON). A server that refuses one request for 60 s on end is reported as STUCK.

Reported per run: ingest spans/s (all requests answered), end-to-end spans/s (every trace
checked and stored), refused requests, lost spans (sent - received - rejected, plus dropped),
deep-path latency p50/p99/max, the server's peak RSS, and its CPU seconds per span (user +
system, all threads, from ready to the last verdict stored: the number that survives a loaded
machine).

Usage::

    PYTHONPATH=. python benchmarks/serve.py [--quick] [--traces N] [--batch 512]
        [--checker batch|stream] [--transport grpc] [--compare OTHER_SOURCE_TREE]
        [--no-reference] [--overload [--max-memory BYTES]] [--idle SECONDS]

``--compare`` runs every row against a second source tree as well (rows ``cmp``), so a change
is measured side by side with its baseline under the same machine load.

Prints a table and writes ``benchmarks/results/serve.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (  # noqa: E402
    ExportTraceServiceRequest,
)

from workbench.serve.replay import GrpcSender, assemble, explode, send_http  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "serve.json"
#: seconds after which a trace whose root never ends is checked anyway (faults remove roots)
MAX_AGE = 3.0


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def workload(n_traces: int, batch: int, seed: int = 5,
             faults: float = 0.0) -> tuple[list[ExportTraceServiceRequest], int, int]:
    """Export requests of ``batch`` spans (traces contiguous), the numbers of spans and
    traces."""
    from workbench.datasets.faults import inject, parse_faults
    from workbench.datasets.generator import generate
    from workbench.datasets.writer import otlp_proto
    from workbench.serve.decode import invalid_reason

    ds = generate(traces=n_traces, seed=seed, services=8)
    if faults:
        inject(ds, parse_faults("all", n_traces, rate=faults), seed=seed)
    request = ExportTraceServiceRequest.FromString(otlp_proto(ds, ds.traces))
    triples = [t for t in explode(request) if not invalid_reason(t[2])]
    # the writer groups spans by resource (service): put each trace's spans together (its
    # services' groups in order), so that a trace arrives within one or two requests, as
    # when every service exports its spans as they end, rather than spread over the run
    first: dict[bytes, int] = {}
    for t in triples:
        first.setdefault(t[2].trace_id, len(first))
    triples.sort(key=lambda t: first[t[2].trace_id])
    n_traces = len({t[2].trace_id for t in triples})  # faults merge and split some traces
    requests = [assemble(triples[i:i + batch]) for i in range(0, len(triples), batch)]
    return requests, len(triples), n_traces


class Served:
    """An ``otlspec serve`` process, its ports and its memory samples."""

    def __init__(self, backend: str, idle: float, folder: str, incremental: bool = True,
                 root: Path = ROOT, extra: tuple[str, ...] = ()) -> None:
        self.grpc, self.http, self.api = _port(), _port(), _port()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "workbench.cli", "serve", "--spec", "stdlib",
             "--grpc-port", str(self.grpc), "--http-port", str(self.http),
             "--ui-port", str(self.api), "--store", os.path.join(folder, "results.db"),
             "--idle", str(idle), "--max-age", str(MAX_AGE), "--backend", backend,
             "--incremental" if incremental else "--no-incremental", *extra],
            cwd=root, stderr=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        self.peak_rss = 0
        #: (seconds since ready, RSS bytes) every 50 ms
        self.rss: list[tuple[float, int]] = []
        self._stop = threading.Event()
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            try:
                if self.get("/readyz").get("ready"):
                    break
            except OSError:
                time.sleep(0.2)
        else:
            raise RuntimeError("otlspec serve did not become ready")
        self.ready_rss = psutil.Process(self.proc.pid).memory_info().rss
        self.ready_cpu = self.cpu_seconds()
        self.ready_at = time.perf_counter()
        threading.Thread(target=self._sample, daemon=True).start()

    def _sample(self) -> None:
        p = psutil.Process(self.proc.pid)
        while not self._stop.wait(0.05):
            try:
                rss = p.memory_info().rss
            except psutil.Error:
                return
            self.peak_rss = max(self.peak_rss, rss)
            self.rss.append((time.perf_counter() - self.ready_at, rss))

    def get(self, path: str) -> Any:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.api}{path}", timeout=10) as r:
            return json.loads(r.read())

    def cpu_seconds(self) -> float:
        """User and system CPU seconds of the server process so far (all its threads)."""
        t = psutil.Process(self.proc.pid).cpu_times()
        return float(t.user + t.system)

    def metrics(self) -> str:
        url = f"http://127.0.0.1:{self.api}/metrics"
        with urllib.request.urlopen(url, timeout=10) as r:
            return str(r.read().decode())

    def stop(self) -> None:
        self._stop.set()
        self.proc.terminate()
        self.proc.wait(120)


class GaveUp(RuntimeError):
    """The server refused a request for longer than the senders' patience."""


def send_all(served: Served, requests: list[ExportTraceServiceRequest], transport: str,
             senders: int, rate: float | None, patience: float = 120.0) -> tuple[float, int]:
    """Send every request; returns the wall time and how many were refused (and retried).

    Raises :class:`GaveUp` when one request is refused for ``patience`` seconds on end."""
    refused = [0] * senders
    gave_up: list[str] = []
    t0 = time.perf_counter()

    def run(k: int) -> None:
        import grpc

        mine = requests[k::senders]
        grpc_sender = GrpcSender(served.grpc) if transport == "grpc" else None
        n_spans = sum(len(ss.spans) for r in mine for rs in r.resource_spans
                      for ss in rs.scope_spans)
        per_span = senders / rate if rate else 0.0
        sent = 0
        for req in mine:
            first_try = time.perf_counter()
            if gave_up:
                break
            if per_span:
                wait = t0 + sent * per_span - time.perf_counter()
                if wait > 0:
                    time.sleep(wait)
            while True:
                if grpc_sender is not None:
                    try:
                        grpc_sender.send(req, timeout=60)
                        break
                    except grpc.RpcError as err:
                        if err.code() != grpc.StatusCode.UNAVAILABLE:
                            raise
                        meta = dict(err.trailing_metadata() or ())  # type: ignore[attr-defined]
                        if "google.rpc.retryinfo-bin" not in meta:
                            raise RuntimeError("UNAVAILABLE without RetryInfo") from err
                else:
                    code, _ = send_http(served.http, req, json_body=transport == "http-json",
                                        timeout=60)
                    if code == 200:
                        break
                    if code not in (429, 503):
                        raise RuntimeError(f"HTTP {code}: not a retryable answer")
                refused[k] += 1
                if time.perf_counter() - first_try > patience:
                    gave_up.append(f"a request refused for {patience:.0f} s on end")
                    break
                time.sleep(0.05)
            sent += sum(len(ss.spans) for rs in req.resource_spans for ss in rs.scope_spans)
        assert gave_up or sent == n_spans
        if grpc_sender is not None:
            grpc_sender.close()

    threads = [threading.Thread(target=run, args=(k,)) for k in range(senders)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if gave_up:
        raise GaveUp(f"{gave_up[0]} ({sum(refused)} refusals)")
    return time.perf_counter() - t0, sum(refused)


def _counter(text: str, name: str) -> float:
    """The value of an unlabelled metric in Prometheus text (0 when absent)."""
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def wait_checked(served: Served, n_traces: int, t0: float, limit: float = 300.0) -> float:
    """Seconds from ``t0`` until the store holds ``n_traces`` checked traces.

    Polls the cheap ``/metrics`` counter (``/api/stats`` counts the store's rows, tens of ms
    of the server's time on a large store, which a 50 ms poll would take from the checker)
    and confirms with the store once the counter says every trace was checked."""
    while True:
        now = time.perf_counter()
        if _counter(served.metrics(), "otlspec_traces_checked_total") >= n_traces:
            stats = served.get("/api/stats")
            if stats["traces"].get("checked", 0) >= n_traces:
                return now - t0
        if now - t0 > limit:
            raise RuntimeError(f"not every one of {n_traces} traces checked after {limit} s")
        time.sleep(0.1)


def one_run(transport: str, backend: str, requests: list[ExportTraceServiceRequest],
            n_spans: int, n_traces: int, senders: int, rate: float | None,
            idle: float, incremental: bool = True, root: Path = ROOT) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        served = Served(backend, idle, folder, incremental, root)
        try:
            t0 = time.perf_counter()
            send_wall, refused = send_all(served, requests, transport, senders, rate)
            e2e_wall = wait_checked(served, n_traces, t0) - idle  # idle: policy, not work
            cpu = served.cpu_seconds() - served.ready_cpu
            live = served.get("/api/stats")["live"]
            metrics = served.metrics()
        finally:
            served.stop()
    lost = n_spans - live["spans_received"] + sum(live["dropped"].values())
    deep_max = _histogram_max(metrics)
    return {
        "code": "this" if root == ROOT else str(root), "transport": transport, "backend": backend,
        "checker": "stream" if incremental else "batch",
        "mode": "paced" if rate else "saturation",
        "offered_spans_per_s": rate, "spans": n_spans, "traces": n_traces,
        "ingest_spans_per_s": n_spans / send_wall,
        "e2e_spans_per_s": n_spans / max(e2e_wall, 1e-9),
        "refused_requests": refused, "lost_spans": lost,
        "cpu_us_per_span": cpu / n_spans * 1e6,
        "deep_p50_ms": live["deep_path_p50_s"] * 1e3, "deep_p99_ms": live["deep_path_p99_s"] * 1e3,
        "deep_max_bucket_ms": deep_max,
        "fast_p50_ms": live.get("fast_path_p50_s", 0.0) * 1e3,
        "fast_p99_ms": live.get("fast_path_p99_s", 0.0) * 1e3,
        "peak_rss_mib": served.peak_rss / 2**20,
    }


def overload_run(requests: list[ExportTraceServiceRequest], n_spans: int, n_traces: int,
                 senders: int, rate: float, idle: float, max_memory: int,
                 root: Path = ROOT) -> dict[str, Any]:
    """Offer ``rate`` spans/s (twice the saturation rate) to a server limited to
    ``max_memory`` bytes of spans held: it must refuse with retryable codes (the senders
    retry; any other answer fails the run), count every refusal and drop by reason, lose
    nothing, and keep its memory bounded. RSS is sampled every 50 ms; ``held`` is the
    server's own ``otlspec_held_bytes`` gauge, polled every 100 ms."""
    with tempfile.TemporaryDirectory() as folder:
        served = Served("auto", idle, folder, False, root,
                        ("--max-memory", str(max_memory)))
        held: list[float] = []
        stop = threading.Event()

        def poll() -> None:
            while not stop.wait(0.1):
                try:
                    held.append(_counter(served.metrics(), "otlspec_held_bytes"))
                except OSError:
                    pass

        poller = threading.Thread(target=poll, daemon=True)
        poller.start()
        stuck = ""
        try:
            t0 = time.perf_counter()
            try:
                send_wall, refused = send_all(served, requests, "grpc", senders, rate,
                                              patience=60.0)
                e2e_wall = wait_checked(served, n_traces, t0) - idle
            except GaveUp as exc:  # the server refuses for good: the row says so
                stuck, refused = str(exc), -1
                send_wall = e2e_wall = float("inf")
            stop.set()
            poller.join()
            cpu = served.cpu_seconds() - served.ready_cpu
            live = served.get("/api/stats")["live"]
        finally:
            stop.set()
            served.stop()
    lost = n_spans - live["spans_received"] + sum(live["dropped"].values())
    return {
        "code": "this" if root == ROOT else str(root), "transport": "grpc", "backend": "auto",
        "checker": "batch", "mode": "overload-2x", "offered_spans_per_s": rate,
        "spans": n_spans, "traces": n_traces, "ingest_spans_per_s": n_spans / send_wall,
        "e2e_spans_per_s": n_spans / max(e2e_wall, 1e-9), "refused_requests": refused,
        "refused_by_reason": live["refused"], "dropped_by_reason": live["dropped"],
        "lost_spans": lost, "max_memory_bytes": max_memory, "stuck": stuck,
        "cpu_us_per_span": cpu / n_spans * 1e6,
        "peak_held_mib": max(held, default=0.0) / 2**20,
        "ready_rss_mib": served.ready_rss / 2**20, "peak_rss_mib": served.peak_rss / 2**20,
        "rss_growth_mib": (served.peak_rss - served.ready_rss) / 2**20,
        "rss_series_mib": [(round(t, 2), round(r / 2**20, 1)) for t, r in served.rss[::5]],
        "deep_p50_ms": live["deep_path_p50_s"] * 1e3, "deep_p99_ms": live["deep_path_p99_s"] * 1e3,
        "deep_max_bucket_ms": None, "fast_p99_ms": 0.0,
    }


def _histogram_max(text: str) -> float | None:
    """The upper bound (ms) of the highest non-empty latency bucket."""
    prev, top = 0, None
    for line in text.splitlines():
        if line.startswith("otlspec_deep_path_latency_seconds_bucket"):
            le = line.split('le="', 1)[1].split('"', 1)[0]
            count = int(float(line.rsplit(" ", 1)[1]))
            if count > prev:
                top = float("inf") if le == "+Inf" else float(le) * 1e3
            prev = count
    return top


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--traces", type=int, default=3000)
    ap.add_argument("--batch", type=int, default=512, help="spans per export request")
    ap.add_argument("--senders", type=int, default=2)
    ap.add_argument("--idle", type=float, default=0.5)
    ap.add_argument("--quick", action="store_true", help="fewer traces and configurations")
    ap.add_argument("--faults", type=float, default=0.0,
                    help="share of traces with injected faults (some lose their root, and "
                    "wait for --max-age)")
    ap.add_argument("--checker", choices=("both", "batch", "stream"), default="both",
                    help="run only the batch-engine or only the stream-monitor rows")
    ap.add_argument("--transport", choices=("grpc", "http-protobuf", "http-json"),
                    help="run only this transport's rows")
    ap.add_argument("--compare", metavar="DIR",
                    help="another source tree of otlspec (e.g. `git archive main` unpacked): "
                    "every row is run against it too, side by side in this run")
    ap.add_argument("--paced-rate", type=float, default=None, metavar="SPANS_PER_S",
                    help="the paced rows' offered rate (default: half the saturation rate)")
    ap.add_argument("--no-reference", action="store_true",
                    help="leave out the reference-interpreter row (minutes at this size)")
    ap.add_argument("--overload", action="store_true",
                    help="add the 2x-overload row (grpc, batch checker): twice the saturation "
                    "rate against --max-memory")
    ap.add_argument("--max-memory", type=int, default=8 << 20, metavar="BYTES",
                    help="the server's --max-memory in the overload row (default 8 MiB)")
    ap.add_argument("--json", default=str(RESULTS))
    args = ap.parse_args()
    n_traces = 600 if args.quick else args.traces
    requests, n_spans, n_traces = workload(n_traces, args.batch, faults=args.faults)
    # the checker: the incremental stream monitor (the default) or the batch engine per trace
    configs = [("grpc", "auto", True), ("grpc", "auto", False), ("http-protobuf", "auto", True)]
    if not args.quick:
        configs += [("http-protobuf", "auto", False), ("http-json", "auto", True)]
        if not args.no_reference:
            configs.append(("grpc", "reference", False))
    configs = [c for c in configs
               if args.checker in ("both", "stream" if c[2] else "batch")
               and args.transport in (None, c[0])]
    roots = [ROOT, *([Path(args.compare).resolve()] if args.compare else [])]
    rows = []
    for transport, backend, incremental in configs:
        for root in roots:
            sat = one_run(transport, backend, requests, n_spans, n_traces, args.senders, None,
                          args.idle, incremental, root)
            rows.append(sat)
            print(json.dumps(sat), flush=True)
            paced = one_run(transport, backend, requests, n_spans, n_traces, args.senders,
                            args.paced_rate or sat["e2e_spans_per_s"] / 2, args.idle,
                            incremental, root)
            rows.append(paced)
            print(json.dumps(paced), flush=True)
            if args.overload and (transport, backend, incremental) == ("grpc", "auto", False):
                rows.append(overload_run(requests, n_spans, n_traces, args.senders,
                                         2 * sat["e2e_spans_per_s"], args.idle,
                                         args.max_memory, root))
                print(json.dumps({k: v for k, v in rows[-1].items() if k != "rss_series_mib"}),
                      flush=True)
    head = (f"{'code':<6}{'transport':<14}{'backend':<10}{'checker':<8}{'mode':<11}{'ingest/s':>10}"
            f"{'e2e/s':>9}{'refused':>8}{'lost':>6}{'fast p99':>10}{'deep p50':>10}{'p99':>9}"
            f"{'max<=':>8}{'RSS MiB':>9}{'CPU us/span':>12}")
    print(f"otlspec serve: {n_traces} traces, {n_spans} spans, {len(requests)} requests of "
          f"<= {args.batch} spans, {args.senders} senders, {os.cpu_count()} CPUs")
    print(head)
    for r in rows:
        code = "this" if r["code"] == "this" else "cmp"
        print(f"{code:<6}{r['transport']:<14}{r['backend']:<10}{r['checker']:<8}{r['mode']:<11}"
              f"{r['ingest_spans_per_s']:>10.0f}{r['e2e_spans_per_s']:>9.0f}"
              f"{r['refused_requests']:>8}{r['lost_spans']:>6}{r['fast_p99_ms']:>8.1f}ms"
              f"{r['deep_p50_ms']:>8.1f}ms"
              f"{r['deep_p99_ms']:>7.1f}ms{r['deep_max_bucket_ms'] or 0:>8.0f}"
              f"{r['peak_rss_mib']:>9.0f}{r.get('cpu_us_per_span', 0):>12.1f}")
    for r in rows:
        if r["mode"] == "overload-2x":
            code = "this" if r["code"] == "this" else "cmp"
            print(f"{code}: 2x overload ({r['offered_spans_per_s']:.0f} spans/s offered, "
                  f"--max-memory {r['max_memory_bytes'] / 2**20:.0f} MiB): held peak "
                  f"{r['peak_held_mib']:.1f} MiB; RSS {r['ready_rss_mib']:.0f} MiB at ready, "
                  f"peak {r['peak_rss_mib']:.0f} MiB (+{r['rss_growth_mib']:.0f}); refused "
                  f"{r['refused_by_reason']}, dropped {r['dropped_by_reason']}, "
                  f"lost {r['lost_spans']}" + (f"; STUCK: {r['stuck']}" if r["stuck"] else ""))
    out = {"python": platform.python_version(), "cpus": os.cpu_count(),
           "traces": n_traces, "spans": n_spans, "batch": args.batch, "rows": rows}
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(out, indent=2), encoding="utf-8")
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
