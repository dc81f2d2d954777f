"""Distributed checking on Dask: 1 vs 2 LocalCluster workers against the single-process run.

Usage::

    nice -n 10 python benchmarks/distributed.py                    # 1M generated spans
    nice -n 10 python benchmarks/distributed.py --spans 10000000 --single-partitions 4 \
        --parts parquet,overhead,merge --repeat 1                  # the 10M run of issue 14
    python benchmarks/distributed.py --spans 200000 --repeat 1     # quick

What runs (``--parts``)
-----------------------
``parquet``: the stdlib (46 properties, numba backend) on ``--spans`` generated spans stored as
an ``otlspec convert`` Parquet dataset (``--partitions`` trace-id hash partitions, so no
shuffle). Every configuration reads *and* checks the data in each timed run:

``single``     load_parquet + engine.check in one fresh process, all cores (today's path); with
               ``--single-partitions K`` only the first K partitions (whole traces), for inputs
               larger than one process's memory: its spans/s is the baseline rate
``dask-1``     check_distributed on a LocalCluster of 1 worker process, 1 kernel thread
``dask-2``     the same on 2 worker processes, 1 kernel thread each

Shards hold at most ``--max-shard-spans`` spans (each task loads, checks and reduces one shard,
so this bounds a worker's memory); the peak RSS of every worker process is reported.

``files``: the plain-file path (the shuffle) on ``--files`` x 2 OTLP JSON files whose traces all
straddle two files (every trace must be joined from two workers' parsed tables):
``single-files`` (load_traces + check in one process) and ``dask-2-files``. The table shows the
parse phase (``index s``), the shuffle (parsed tables fetched worker to worker, Dask's transfer
log, plus joining them, :mod:`workbench.distributed.tables`) and the check phase.

``overhead``: ``--overhead-tasks`` no-op tasks on 2 workers, merged by the tree: the scheduler and
driver cost per task, with the spec as a shared dependency (as the runner sends it) and pickled
into every task. ``merge``: the driver's merge cost per trace on synthetic shard results.
``results``: in one process, the Parquet input dealt into ``--result-shards`` shards (as for
that many workers), each checked; per way of sending results up (``all``: every trace's
verdict; ``failed``: failing traces and counts, the default) the pickled result bytes per span,
the driver's merge (combine + finish) and the report build.

Every cluster is warmed up once (numba JIT or its disk cache, per worker process; the file run
also on its input, for the readers' kernels) and each configuration timed ``--repeat`` times;
medians are reported, with the CPU seconds the worker processes used over the whole run (wall
time on a shared machine includes waiting for the CPU; CPU time does not) and the load average
before and after. Results are printed and written as JSON to ``--out``.
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
path, repeat, kind, subset = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
if kind == "parquet":
    from workbench.datasets.parquet import load_parquet
    from workbench.distributed.shards import parquet_partitions
    parts = parquet_partitions(path)[:subset] if subset > 0 else None
    load = lambda p: load_parquet(p, partitions=parts)
else:
    from workbench.traces import load_traces
    load = lambda p: load_traces([p])
spec = load_specs(["stdlib"])
check(spec, load(path), backend="numba")  # warm-up: JIT/cache are per process
runs, spans = [], 0
for _ in range(repeat):
    w, c = time.perf_counter(), time.process_time()
    table = load(path)
    lw = time.perf_counter() - w
    check(spec, table, backend="numba")
    runs.append((time.perf_counter() - w, time.process_time() - c, lw))
    spans = table.n_spans
    del table
runs.sort()
total, cpu, load_s = runs[len(runs) // 2]
print(json.dumps({"total_s": total, "cpu_s": cpu, "spans": spans, "load_s": load_s,
                  "check_s": total - load_s,
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


def _process_cpu() -> float:
    return time.process_time()


def _load() -> float:
    return os.getloadavg()[0]


def _single(path: Path, kind: str, repeat: int, subset: int = 0) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, "-c", SINGLE, str(path), str(repeat), kind,
                           str(subset)],
                          capture_output=True, text=True, check=True, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _run_cluster(workers: int, spec: Any, inputs: list[str], repeat: int, warm: list[str],
                 warm_input: bool = False, **kw: Any) -> dict[str, Any]:
    from workbench.distributed import RunStats, check_distributed, connect

    with connect(workers=workers, worker_threads=1) as client:
        check_distributed(client, spec, warm, backend="numba")  # warm-up on every worker
        if warm_input:  # and the readers of the input's format (their kernels: per process)
            check_distributed(client, spec, inputs, backend="numba", **kw)
        runs: list[tuple[RunStats, float, int]] = []
        for _ in range(repeat):
            client.run(_clear_transfers)
            stats = RunStats()
            cpu0 = client.run(_process_cpu)
            result, _ = check_distributed(client, spec, inputs, backend="numba", stats=stats,
                                          **kw)
            cpu1 = client.run(_process_cpu)
            moved = client.run(_transfers).values()
            # every task of the run (parse, index, shuffle, check, combine) and the worker's
            # own bookkeeping: the CPU each worker process used while the run lasted
            stats.per_worker_cpu_s = {w: cpu1[w] - cpu0.get(w, 0.0) for w in cpu1}
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
        "submit_s": mid.submit_s, "reduce_tasks": mid.reduce_tasks,
        "read_s": mid.read_s, "transfer_s": transfer_s, "transfer_bytes": transfer_bytes,
        "moved_files": mid.moved_files, "shards": mid.shards, "spans": spans,
        "worker_busy_s": busy, "worker_cpu_s": mid.per_worker_cpu_s,
        "spans_per_s_per_worker": {w: mid.per_worker_spans[w] / s
                                   for w, s in busy.items() if s > 0},
        "rss_mb_per_worker": rss, "task_rss_mb_per_worker": mid.per_worker_rss_mb,
        "violations": sum(r.n_failed for r in result.results),
    }


def _noop(spec: Any, i: int) -> Any:
    from workbench.distributed.shards import ShardResult

    return ShardResult()


def _overhead(tasks: int, spec: Any) -> dict[str, float]:
    """Scheduler and driver cost per task on 2 local workers: ``tasks`` no-op tasks that take
    the spec (a dependency: sent once) and return an empty shard result, merged by the tree;
    and the same with the spec pickled into every task (the old way)."""
    import distributed

    from workbench.distributed.merge import combine, tree
    from workbench.distributed.runner import _value

    out: dict[str, float] = {"tasks": tasks}
    with connect_local(2) as client:
        client.gather(client.map(_noop, [None] * 8, range(8), pure=False))  # warm
        for name, arg in (("dependency", None), ("pickled", spec)):
            t0 = time.perf_counter()
            spec_f = client.submit(_value, spec, pure=False) if arg is None else arg
            leaves = [client.submit(_noop, spec_f, i, pure=False) for i in range(tasks)]
            top = tree(client, leaves, 8)
            distributed.wait(leaves)
            combine(*client.gather(top))
            out[f"{name}_s_per_task"] = (time.perf_counter() - t0) / tasks
            del leaves, top
    return out


def connect_local(workers: int) -> Any:
    from workbench.distributed import connect

    return connect(workers=workers, worker_threads=1)


def _merge_model(traces_per_part: int, parts: int, verdicts: str = "all") -> dict[str, Any]:
    """Driver-side cost of the merge per trace: ``parts`` synthetic shard results of
    ``traces_per_part`` traces each (1% failing one property), combined flat on the driver
    (what a tree's root or a small run does) and then finished into the report's result.
    ``verdicts="failed"``: the shards list only their failing traces and count the rest, as
    :func:`workbench.distributed.check_distributed` sends them by default."""
    import numpy as np

    from workbench.distributed.merge import combine, finish
    from workbench.distributed.shards import ShardResult
    from workbench.engine import bind
    from workbench.engine.base import Witness
    from workbench.lang import load_specs

    spec = bind(load_specs(["stdlib"]), {})
    name = spec.properties[0].name
    rng = np.random.default_rng(0)
    results = []
    for p in range(parts):
        n = traces_per_part
        keys = np.stack([np.zeros(n, np.int64), rng.permutation(n).astype(np.int64) * parts + p],
                        axis=1)
        bad = np.arange(0, n, 100)
        listed = np.arange(n) if verdicts == "all" else bad
        local = {int(t): i for i, t in enumerate(listed.tolist())}
        fails = {local[int(t)]: [Witness(bindings=(), message="x")] for t in bad}
        m = listed.shape[0]
        results.append(ShardResult(
            keys=keys[listed], trace_ids=[f"{p:08x}{t:024x}" for t in listed.tolist()],
            n_spans=np.full(m, 30, np.int64), src_offsets=np.arange(m + 1, dtype=np.int64),
            src_codes=np.zeros(m, np.int32), src_names=["f"],
            unit_offset=keys[listed, 1] * 30, total_traces=n, total_spans=30 * n,
            failed={name: ("numba", "", 0.0, fails)}))
    t0 = time.perf_counter()
    merged = combine(*results)
    t1 = time.perf_counter()
    finish(spec, merged, None)
    t2 = time.perf_counter()
    total = traces_per_part * parts
    return {"verdicts": verdicts, "traces": total, "parts": parts, "combine_s": t1 - t0,
            "finish_s": t2 - t1, "us_per_trace": (t2 - t0) / total * 1e6}


def _result_sizes(path: Path, n_shards: int) -> list[dict[str, Any]]:
    """What the merge moves and costs, in one process, for each way of sending results up:
    the dataset is dealt into ``n_shards`` shards as a run on that many workers would, each
    shard is checked (numba), its result pickled (what Dask sends; bytes per span) and the
    driver's merge (``combine`` + ``finish``, fastest of 15) and the default report's build
    are timed. Modes: ``all``
    (every trace's verdict travels, as before) and ``failed`` (failing traces and counts)."""
    import inspect
    import pickle

    from workbench.distributed.merge import combine, finish
    from workbench.distributed.runner import plan_shards
    from workbench.distributed.shards import check_parquet, parquet_partitions, partition_bytes
    from workbench.engine import bind
    from workbench.lang import load_specs
    from workbench.report.model import build_report

    spec = bind(load_specs(["stdlib"]), {})
    parts = parquet_partitions(str(path))
    sizes = [partition_bytes(str(path), p) for p in parts]
    plan = [[parts[u] for u in units] for units in plan_shards(sizes, n_shards)]
    modes = ["all", "failed"] if "verdicts" in inspect.signature(check_parquet).parameters \
        else ["before"]
    check_parquet(str(path), plan[0][:1], spec, {}, "numba", None)  # warm the kernels
    out = []
    for mode in modes:
        extra = {} if mode == "before" else {"verdicts": mode}
        leaves = [check_parquet(str(path), shard, spec, {}, "numba", None, **extra)
                  for shard in plan]
        sent = sum(len(pickle.dumps(r, protocol=5)) for r in leaves)
        merge_runs = []
        for _ in range(15):  # milliseconds on a shared machine: the fastest of 15
            t0 = time.perf_counter()
            merged = combine(*leaves)
            result = finish(spec, merged, None)
            merge_runs.append(time.perf_counter() - t0)
        merge_s = min(merge_runs)
        t1 = time.perf_counter()
        report = build_report(result)  # the default report (failing verdicts)
        t2 = time.perf_counter()
        spans, traces = result.table.n_spans, result.table.n_traces
        out.append({"mode": mode, "shards": len(plan), "spans": spans, "traces": traces,
                    "listed_traces": len(merged.trace_ids),
                    "violations": report["summary"]["violations"],
                    "result_bytes": sent, "bytes_per_span": sent / max(spans, 1),
                    "merge_s": merge_s, "merge_us_per_trace": merge_s / max(traces, 1) * 1e6,
                    "report_s": t2 - t1})
        print(json.dumps(out[-1]), file=sys.stderr)
    return out


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
            f"{'check s':>8} {'shards':>6} {'spans':>10} {'spans/s':>9} {'/worker':>9} "
            f"{'peak RSS MB':>12}")
    print("\n" + head + "\n" + "-" * len(head))
    for r in rows:
        if r["config"].startswith("single"):
            print(f"{r['config']:13} {r['total_s']:8.2f} {r['cpu_s']:7.2f} {r['load_s']:8.2f} "
                  f"{'-':>9} {r['check_s']:8.2f} {'-':>6} {r['spans']:10,d} "
                  f"{r['spans'] / r['total_s']:9,.0f} {'-':>9} {r['rss_mb']:12.0f}")
            continue
        per = statistics.median(r["spans_per_s_per_worker"].values() or [0])
        rss = "/".join(f"{v:.0f}" for v in r["rss_mb_per_worker"].values())
        print(f"{r['config']:13} {r['total_s']:8.2f} {r['cpu_s']:7.2f} {r['index_s']:8.2f} "
              f"{_shuffle_s(r):9.2f} {r['check_s']:8.2f} {r['shards']:6d} {r['spans']:10,d} "
              f"{r['spans'] / r['total_s']:9,.0f} {per:9,.0f} {rss:>12}")


def _shuffle_s(r: dict[str, Any]) -> float:
    """The shuffle of a file run: parsed tables moved worker to worker, plus joining them
    (per worker: the join runs on every worker at once)."""
    return r["transfer_s"] + r["read_s"] / r["workers"] if "files" in r["config"] else 0.0


def _summary(rows: dict[str, dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    single, one, two = rows.get("single"), rows.get("dask-1"), rows.get("dask-2")
    if one and two:
        out["speedup_2_over_1_workers"] = one["total_s"] / two["total_s"]
        out["cpu_2_over_1_workers"] = two["cpu_s"] / one["cpu_s"]
        out["scheduler_overhead_s_per_shard"] = max(
            0.0, (one["total_s"] - sum(one["worker_busy_s"].values())) / max(one["shards"], 1))
    if single and two:
        rate = single["spans"] / single["total_s"]
        out["single_spans_per_s"] = rate
        out["speedup_2_workers_over_single_rate"] = two["spans"] / two["total_s"] / rate
        out["per_worker_rate_over_single"] = (
            statistics.median(two["spans_per_s_per_worker"].values()) / rate)
    if single and one:
        out["per_worker_rate_over_single_1_worker"] = (
            statistics.median(one["spans_per_s_per_worker"].values())
            / (single["spans"] / single["total_s"]))
    sfiles, tfiles = rows.get("single-files"), rows.get("dask-2-files")
    if sfiles and tfiles:
        out["files_speedup_2_workers_over_single"] = sfiles["total_s"] / tfiles["total_s"]
        out["shuffle_fraction_files"] = _shuffle_s(tfiles) / tfiles["total_s"]
        out["shuffle_bytes_per_span"] = tfiles["transfer_bytes"] / max(tfiles["spans"], 1)
    return out


def main() -> None:
    from workbench.distributed.runner import MAX_SHARD_SPANS

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--spans", type=int, default=1_000_000)
    ap.add_argument("--partitions", type=int, default=32)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--files", type=int, default=16,
                    help="OTLP files for the shuffle run (each split in two)")
    ap.add_argument("--traces-per-file", type=int, default=200)
    ap.add_argument("--single-partitions", type=int, default=0,
                    help="the single-process baseline reads only the first K partitions "
                    "(0: all), for inputs larger than one process's memory")
    ap.add_argument("--max-shard-spans", type=int, default=MAX_SHARD_SPANS,
                    help="bound on the spans of one shard (bounds each worker's memory)")
    ap.add_argument("--parts", default="parquet,files,overhead,merge",
                    help="what to run, comma-separated: parquet, files, overhead, merge, "
                    "results")
    ap.add_argument("--overhead-tasks", type=int, default=1000)
    ap.add_argument("--result-shards", type=int, default=2,
                    help="results part: shards (as for that many workers)")
    ap.add_argument("--data", default=None,
                    help="keep the generated inputs in this folder and reuse them when present")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "distributed.json"))
    args = ap.parse_args()
    parts = set(args.parts.split(","))

    from workbench.datasets.parquet import write_parquet
    from workbench.datasets.scale import generate_table
    from workbench.lang import load_specs

    spec = load_specs(["stdlib"])
    rows: dict[str, dict[str, Any]] = {}
    extra: dict[str, Any] = {}
    load_before = _load()
    started = time.perf_counter()
    kw = {"max_shard_spans": args.max_shard_spans}
    with tempfile.TemporaryDirectory(prefix="otlspec-dist-") as scratch:
        tmp = Path(args.data or scratch)
        files, pq, warm = tmp / "files", tmp / "pq", tmp / "warm"
        t0 = time.perf_counter()
        if "parquet" in parts and not (pq / "meta.json").exists():
            write_parquet(generate_table(args.spans, seed=1), pq, partitions=args.partitions)
        if not (warm / "meta.json").exists():
            write_parquet(generate_table(1000, seed=2), warm, partitions=2)
        if "files" in parts and not files.exists():
            _straddling_files(files, traces=args.files * args.traces_per_file,
                              per_file=args.traces_per_file)
        print(f"inputs ready ({time.perf_counter() - t0:.1f}s to build)", file=sys.stderr)
        if "parquet" in parts:
            meta = json.loads((pq / "meta.json").read_text())
            extra.update(spans=int(meta["spans"]), partitions=int(meta["partitions"]))
            rows["single"] = {"config": "single",
                              **_single(pq, "parquet", args.repeat, args.single_partitions)}
            for w in (1, 2):
                rows[f"dask-{w}"] = {"config": f"dask-{w}", **_run_cluster(
                    w, spec, [str(pq)], args.repeat, [str(warm)], **kw)}
        if "files" in parts:
            two_files = _run_cluster(2, spec, [str(files)], args.repeat, [str(warm)],
                                     warm_input=True, **kw)
            rows["single-files"] = {"config": "single-files",
                                    **_single(files, "files", args.repeat)}
            rows["dask-2-files"] = {"config": "dask-2-files", **two_files}
        if "overhead" in parts:
            extra["overhead"] = _overhead(args.overhead_tasks, spec)
        if "results" in parts:
            if not (pq / "meta.json").exists():
                write_parquet(generate_table(args.spans, seed=1), pq,
                              partitions=args.partitions)
            extra["result_sizes"] = _result_sizes(pq, args.result_shards)
        if "merge" in parts:
            extra["merge_model"] = [_merge_model(t, p, v) for t, p in ((30_000, 8), (30_000, 64))
                                    for v in ("all", "failed")]
    summary = {**_summary(rows), "load_average_before": load_before,
               "load_average_after": _load(), "wall_s": time.perf_counter() - started}
    _table(list(rows.values()))
    print(json.dumps(summary, indent=1))
    for key in ("overhead", "merge_model", "result_sizes"):
        if key in extra:
            print(key, json.dumps(extra[key]))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"argv": sys.argv[1:], "cpus": os.cpu_count(), **extra,
                               "rows": list(rows.values()), "summary": summary},
                              indent=2, default=str) + "\n", encoding="utf-8")
    print(f"wrote {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
