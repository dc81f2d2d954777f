"""Distributed checking on Dask: 1 vs 2 LocalCluster workers against the single-process run.

Usage::

    nice -n 10 python benchmarks/distributed.py                  # 1M generated spans
    nice -n 10 python benchmarks/distributed.py --spans 10000000 # the 10M run of issue 14
    python benchmarks/distributed.py --spans 200000 --repeat 1   # quick

What runs
---------
The stdlib (46 properties, numba backend) on ``--spans`` generated spans stored as an
``otlspec convert`` Parquet dataset (``--partitions`` trace-id hash partitions, so no shuffle):

``single``   load_parquet + engine.check in one fresh process (peak RSS of that process)
``dask-1``   check_distributed on a LocalCluster of 1 single-threaded worker process
``dask-2``   the same on 2 workers

and, for the shuffle cost, the plain-file path on ``--files`` OTLP JSON files whose traces
straddle pairs of files (every trace must be regrouped): the index phase (parse, gather trace
ids, group) and the check phase, on 2 workers.

Every cluster is warmed up once (numba JIT or its disk cache, per worker process) and each
configuration timed ``--repeat`` times; medians are reported. Results are printed as a table and
written to ``benchmarks/results/distributed.json``.
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
from workbench.datasets.parquet import load_parquet
from workbench.engine import check
from workbench.lang import load_specs
spec = load_specs(["stdlib"])
t0 = time.perf_counter(); table = load_parquet(sys.argv[1]); load = time.perf_counter() - t0
check(spec, table)  # warm-up: JIT/cache and indexes are per process
runs = []
for _ in range(int(sys.argv[2])):
    t0 = time.perf_counter(); check(spec, table); runs.append(time.perf_counter() - t0)
print(json.dumps({"load_s": load, "check_s": sorted(runs)[len(runs) // 2],
                  "spans": table.n_spans,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def _peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _run_cluster(workers: int, spec: Any, inputs: list[str], repeat: int,
                 warm: list[str]) -> dict[str, Any]:
    from workbench.distributed import RunStats, check_distributed, connect

    with connect(workers=workers) as client:
        check_distributed(client, spec, warm)  # warm-up on every worker
        client.run(lambda: None)
        runs: list[RunStats] = []
        for _ in range(repeat):
            stats = RunStats()
            result, _ = check_distributed(client, spec, inputs, stats=stats)
            runs.append(stats)
        rss = client.run(_peak_rss_mb)
    mid = sorted(runs, key=lambda s: s.total_s)[len(runs) // 2]
    spans = result.table.n_spans
    return {
        "workers": workers, "total_s": statistics.median(s.total_s for s in runs),
        "index_s": mid.index_s, "check_s": mid.check_s, "merge_s": mid.merge_s,
        "shards": mid.shards, "spans": spans,
        "worker_busy_s": mid.per_worker_s,
        "spans_per_s_per_worker": {w: mid.per_worker_spans[w] / s
                                   for w, s in mid.per_worker_s.items() if s > 0},
        "rss_mb_per_worker": rss,
        "violations": sum(r.n_failed for r in result.results),
    }


def _straddling_files(out: Path, traces: int, per_file: int) -> None:
    """OTLP JSON files where every trace is split across two files."""
    from tests.distributed.conftest import split_file
    from workbench.datasets.generator import generate
    from workbench.datasets.writer import write_dataset

    write_dataset(generate(traces=traces, seed=2), out, traces_per_file=per_file)
    for f in sorted(out.rglob("*.json")):
        if f.name == "manifest.json" or "labels" in f.name:
            continue
        split_file(f, f.with_name(f.stem + "-a.json"), f.with_name(f.stem + "-b.json"))
        f.unlink()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--spans", type=int, default=1_000_000)
    ap.add_argument("--partitions", type=int, default=16)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--files", type=int, default=16, help="files for the shuffle measurement")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "distributed.json"))
    args = ap.parse_args()

    from workbench.datasets.parquet import write_parquet
    from workbench.datasets.scale import generate_table
    from workbench.lang import load_specs

    spec = load_specs(["stdlib"])
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="otlspec-dist-") as tmp:
        t0 = time.perf_counter()
        table = generate_table(args.spans, seed=1)
        write_parquet(table, Path(tmp) / "pq", partitions=args.partitions)
        write_parquet(generate_table(1000, seed=2), Path(tmp) / "warm", partitions=2)
        n_spans = table.n_spans
        del table
        print(f"dataset: {n_spans} spans, {args.partitions} partitions "
              f"({time.perf_counter() - t0:.1f}s to build)", file=sys.stderr)
        proc = subprocess.run([sys.executable, "-c", SINGLE, str(Path(tmp) / "pq"),
                               str(args.repeat)], capture_output=True, text=True, check=True,
                              cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
        single = json.loads(proc.stdout.strip().splitlines()[-1])
        rows.append({"config": "single", **single})
        warm = [str(Path(tmp) / "warm")]
        for w in (1, 2):
            rows.append({"config": f"dask-{w}",
                         **_run_cluster(w, spec, [str(Path(tmp) / "pq")], args.repeat, warm)})
        files = Path(tmp) / "files"
        _straddling_files(files, traces=args.files * 25, per_file=25)
        rows.append({"config": "dask-2-files",
                     **_run_cluster(2, spec, [str(files)], args.repeat, warm)})

    one, two = rows[1], rows[2]
    speedup = one["total_s"] / two["total_s"]
    single_rate = single["spans"] / single["check_s"]
    per_worker = [v for v in two["spans_per_s_per_worker"].values()]
    shuffle = rows[3]["index_s"] / rows[3]["total_s"]
    print(f"\n{'config':14} {'total s':>8} {'check s':>8} {'index s':>8} {'shards':>6} "
          f"{'spans/s/worker':>15} {'RSS MB/worker':>14}")
    for r in rows:
        if r["config"] == "single":
            print(f"{'single':14} {r['load_s'] + r['check_s']:8.2f} {r['check_s']:8.2f} "
                  f"{r['load_s']:8.2f} {'-':>6} {r['spans'] / r['check_s']:15,.0f} "
                  f"{r['rss_mb']:14.0f}")
            continue
        rate = statistics.median(r["spans_per_s_per_worker"].values() or [0])
        rss = max(r["rss_mb_per_worker"].values())
        print(f"{r['config']:14} {r['total_s']:8.2f} {r['check_s']:8.2f} {r['index_s']:8.2f} "
              f"{r['shards']:6d} {rate:15,.0f} {rss:14.0f}")
    summary = {
        "speedup_2_over_1": speedup,
        "per_worker_rate_over_single": statistics.median(per_worker) / single_rate,
        "shuffle_fraction_files": shuffle,
        "scheduler_overhead_s_per_shard": max(
            0.0, (one["total_s"] - sum(one["worker_busy_s"].values())) / max(one["shards"], 1)),
    }
    print(f"\nspeed-up 2 vs 1 workers: {speedup:.2f}x; per-worker throughput / single process: "
          f"{summary['per_worker_rate_over_single']:.2f}; shuffle (index phase) share of the "
          f"file run: {shuffle:.0%}; scheduler overhead per shard: "
          f"{summary['scheduler_overhead_s_per_shard'] * 1000:.1f} ms")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"spans": n_spans, "partitions": args.partitions,
                               "cpus": os.cpu_count(), "rows": rows, "summary": summary},
                              indent=2, default=str) + "\n", encoding="utf-8")
    print(f"wrote {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
