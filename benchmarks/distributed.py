"""Distributed checking on Dask: 1 vs 2 LocalCluster workers against the single-process run.

Usage::

    nice -n 10 python benchmarks/distributed.py                    # 1M generated spans
    nice -n 10 python benchmarks/distributed.py --spans 10000000   # the 10M run of issue 14
    python benchmarks/distributed.py --spans 200000 --repeat 1     # quick

What runs
---------
The stdlib (46 properties, numba backend) on ``--spans`` generated spans stored as an
``otlspec convert`` Parquet dataset (``--partitions`` trace-id hash partitions, so no shuffle).
Every configuration reads *and* checks the data in each timed run:

``single``     load_parquet + engine.check in one fresh process, all cores (today's path)
``dask-1``     check_distributed on a LocalCluster of 1 worker process, 1 kernel thread
``dask-2``     the same on 2 worker processes, 1 kernel thread each

and the plain-file path (the shuffle) on ``--files`` x 2 OTLP JSON files whose traces all
straddle two files (every trace must be joined from two workers' parsed tables):
``single-files`` (load_traces + check in one process) and ``dask-2-files``. For the file run
the table shows the parse phase (``index s``), the shuffle (parsed tables fetched worker to
worker, Dask's transfer log, plus joining them, :mod:`workbench.distributed.tables`) and the
check phase.

Every cluster is warmed up once (numba JIT or its disk cache, per worker process) and each
configuration timed ``--repeat`` times; medians are reported, with the CPU seconds the
processes used (wall time on a shared machine includes waiting for the CPU; CPU time does not)
and the load average before and after. Results are printed as a table and written as JSON to
``--out`` (default ``benchmarks/results/distributed.json``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# this file is named like the dask package: keep its folder off the path, the repo on it
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(ROOT))

SINGLE = """
import json, resource, sys, time
from workbench.engine import check
from workbench.lang import load_specs
path, repeat, kind = sys.argv[1], int(sys.argv[2]), sys.argv[3]
if kind == "parquet":
    from workbench.datasets.parquet import load_parquet as load
else:
    from workbench.traces import load_traces
    load = lambda p: load_traces([p])
spec = load_specs(["stdlib"])
check(spec, load(path), backend="numba")  # warm-up: JIT/cache are per process
runs = []
for _ in range(repeat):
    w, c = time.perf_counter(), time.process_time()
    table = load(path)
    lw = time.perf_counter() - w
    check(spec, table, backend="numba")
    runs.append((time.perf_counter() - w, time.process_time() - c, lw))
    del table
runs.sort()
total, cpu, load_s = runs[len(runs) // 2]
print(json.dumps({"total_s": total, "cpu_s": cpu, "load_s": load_s, "check_s": total - load_s,
                  "runs_s": [r[0] for r in runs],
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def _peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _clear_transfers(dask_worker: Any) -> None:
    dask_worker.transfer_incoming_log.clear()


def _transfers(dask_worker: Any) -> tuple[float, int]:
    log = list(dask_worker.transfer_incoming_log)
    return sum(t["duration"] for t in log), sum(int(t["total"]) for t in log)


def _load() -> float:
    return os.getloadavg()[0]


def _single(path: Path, kind: str, repeat: int) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, "-c", SINGLE, str(path), str(repeat), kind],
                          capture_output=True, text=True, check=True, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _run_cluster(workers: int, spec: Any, inputs: list[str], repeat: int,
                 warm: list[str]) -> dict[str, Any]:
    from workbench.distributed import RunStats, check_distributed, connect

    with connect(workers=workers, worker_threads=1) as client:
        check_distributed(client, spec, warm, backend="numba")  # warm-up on every worker
        check_distributed(client, spec, inputs, backend="numba")  # and on the input
        runs: list[tuple[RunStats, float, int]] = []
        for _ in range(repeat):
            client.run(_clear_transfers)
            stats = RunStats()
            result, _ = check_distributed(client, spec, inputs, backend="numba", stats=stats)
            moved = client.run(_transfers).values()
            runs.append((stats, sum(m[0] for m in moved), sum(m[1] for m in moved)))
        rss = client.run(_peak_rss_mb)
    runs.sort(key=lambda r: r[0].total_s)
    mid, transfer_s, transfer_bytes = runs[len(runs) // 2]
    spans = result.table.n_spans
    busy = mid.per_worker_s
    return {
        "workers": workers, "total_s": mid.total_s, "runs_s": [r[0].total_s for r in runs],
        "cpu_s": sum(mid.per_worker_cpu_s.values()),
        "index_s": mid.index_s, "check_s": mid.check_s, "merge_s": mid.merge_s,
        "read_s": mid.read_s, "transfer_s": transfer_s, "transfer_bytes": transfer_bytes,
        "moved_files": mid.moved_files, "shards": mid.shards, "spans": spans,
        "worker_busy_s": busy, "worker_cpu_s": mid.per_worker_cpu_s,
        "spans_per_s_per_worker": {w: mid.per_worker_spans[w] / s
                                   for w, s in busy.items() if s > 0},
        "rss_mb_per_worker": rss,
        "violations": sum(r.n_failed for r in result.results),
    }


def _straddling_files(out: Path, traces: int, per_file: int) -> None:
    """OTLP JSON files where every trace is split across two files."""
    from tests.distributed.conftest import split_file
    from workbench.datasets.generator import generate
    from workbench.datasets.writer import write_dataset

    write_dataset(generate(traces=traces, seed=2), out, traces_per_file=per_file)
    for f in sorted(out.rglob("*")):
        if f.is_file() and (f.suffix != ".json" or f.name == "manifest.json"
                            or "labels" in f.name):
            f.unlink()
    for f in sorted(out.rglob("*.json")):
        split_file(f, f.with_name(f.stem + "-a.json"), f.with_name(f.stem + "-b.json"))
        f.unlink()


def _table(rows: list[dict[str, Any]]) -> None:
    head = (f"{'config':13} {'total s':>8} {'cpu s':>7} {'index s':>8} {'shuffle s':>9} "
            f"{'check s':>8} {'shards':>6} {'spans/s':>10} {'/worker':>10} {'peak RSS MB':>12}")
    print("\n" + head + "\n" + "-" * len(head))
    for r in rows:
        if r["config"].startswith("single"):
            print(f"{r['config']:13} {r['total_s']:8.2f} {r['cpu_s']:7.2f} {r['load_s']:8.2f} "
                  f"{'-':>9} {r['check_s']:8.2f} {'-':>6} {r['spans'] / r['total_s']:10,.0f} "
                  f"{'-':>10} {r['rss_mb']:12.0f}")
            continue
        per = statistics.median(r["spans_per_s_per_worker"].values() or [0])
        rss = "/".join(f"{v:.0f}" for v in r["rss_mb_per_worker"].values())
        shuffle = r["transfer_s"] + r["read_s"] / r["workers"] if "files" in r["config"] else 0
        print(f"{r['config']:13} {r['total_s']:8.2f} {r['cpu_s']:7.2f} {r['index_s']:8.2f} "
              f"{shuffle:9.2f} {r['check_s']:8.2f} {r['shards']:6d} "
              f"{r['spans'] / r['total_s']:10,.0f} {per:10,.0f} {rss:>12}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--spans", type=int, default=1_000_000)
    ap.add_argument("--partitions", type=int, default=16)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--files", type=int, default=16,
                    help="OTLP files for the shuffle run (each split in two)")
    ap.add_argument("--traces-per-file", type=int, default=200)
    ap.add_argument("--data", default=None,
                    help="keep the generated inputs in this folder and reuse them when present")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "distributed.json"))
    args = ap.parse_args()

    from workbench.datasets.parquet import write_parquet
    from workbench.datasets.scale import generate_table
    from workbench.lang import load_specs

    spec = load_specs(["stdlib"])
    rows: list[dict[str, Any]] = []
    load_before = _load()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="otlspec-dist-") as scratch:
        tmp = args.data or scratch
        files = Path(tmp) / "files"
        t0 = time.perf_counter()
        if not (Path(tmp) / "pq" / "meta.json").exists():
            table = generate_table(args.spans, seed=1)
            write_parquet(table, Path(tmp) / "pq", partitions=args.partitions)
            write_parquet(generate_table(1000, seed=2), Path(tmp) / "warm", partitions=2)
            del table
            _straddling_files(files, traces=args.files * args.traces_per_file,
                              per_file=args.traces_per_file)
        n_spans = int(json.loads((Path(tmp) / "pq" / "meta.json").read_text())["spans"])
        print(f"dataset: {n_spans} spans, {args.partitions} partitions; "
              f"{len(list(files.rglob('*.json')))} straddling files "
              f"({time.perf_counter() - t0:.1f}s to build)", file=sys.stderr)
        warm = [str(Path(tmp) / "warm")]
        pq = Path(tmp) / "pq"
        rows.append({"config": "single", "spans": n_spans,
                     **_single(pq, "parquet", args.repeat)})
        for w in (1, 2):
            rows.append({"config": f"dask-{w}",
                         **_run_cluster(w, spec, [str(pq)], args.repeat, warm)})
        single_files = _single(files, "files", args.repeat)
        two_files = _run_cluster(2, spec, [str(files)], args.repeat, warm)
        rows.append({"config": "single-files", "spans": two_files["spans"], **single_files})
        rows.append({"config": "dask-2-files", **two_files})
    load_after = _load()

    single, one, two, sfiles, tfiles = rows
    shuffle_s = tfiles["transfer_s"] + tfiles["read_s"] / 2
    summary = {
        "speedup_2_over_1_workers": one["total_s"] / two["total_s"],
        "speedup_2_workers_over_single": single["total_s"] / two["total_s"],
        "speedup_1_worker_over_single": single["total_s"] / one["total_s"],
        "cpu_2_over_1_workers": two["cpu_s"] / one["cpu_s"],
        "per_worker_rate_over_single": (
            statistics.median(two["spans_per_s_per_worker"].values())
            / (single["spans"] / single["total_s"])),
        "files_speedup_2_workers_over_single": sfiles["total_s"] / tfiles["total_s"],
        "shuffle_fraction_files": shuffle_s / tfiles["total_s"],
        "shuffle_bytes_per_span": tfiles["transfer_bytes"] / max(tfiles["spans"], 1),
        "scheduler_overhead_s_per_shard": max(
            0.0, (one["total_s"] - sum(one["worker_busy_s"].values())) / max(one["shards"], 1)),
        "load_average_before": load_before, "load_average_after": load_after,
        "wall_s": time.perf_counter() - started,
    }
    _table(rows)
    print(f"\nspeed-up 2 vs 1 workers: {summary['speedup_2_over_1_workers']:.2f}x "
          f"(CPU used 2/1: {summary['cpu_2_over_1_workers']:.2f}); 2 workers vs single process: "
          f"{summary['speedup_2_workers_over_single']:.2f}x; per-worker throughput / single "
          f"process: {summary['per_worker_rate_over_single']:.2f}\n"
          f"files: 2 workers vs single {summary['files_speedup_2_workers_over_single']:.2f}x, "
          f"shuffle {summary['shuffle_fraction_files']:.0%} of the run "
          f"({summary['shuffle_bytes_per_span']:.0f} B/span moved); scheduler overhead per "
          f"shard: {summary['scheduler_overhead_s_per_shard'] * 1000:.0f} ms; load average "
          f"{load_before:.1f} -> {load_after:.1f} on {os.cpu_count()} cores")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"spans": n_spans, "partitions": args.partitions,
                               "files": args.files * 2, "repeat": args.repeat,
                               "cpus": os.cpu_count(), "rows": rows, "summary": summary},
                              indent=2, default=str) + "\n", encoding="utf-8")
    print(f"wrote {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
