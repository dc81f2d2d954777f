"""Parallel loading: ``load_traces(jobs=N)`` for several N, interleaved, each in a fresh process.

Usage::

    python benchmarks/e2e.py --sizes 100k,1m   # makes the data under /tmp/otlspec-e2e (once)
    python benchmarks/load_parallel.py --sizes 100k,1m --jobs 1,2 --repeat 5

Per size, four inputs of the same generated traces: the generator's OTLP JSON files (one
request per ~1,000 traces), the same spans as one OTLP/JSON document and as one file of JSON
lines (both large enough to be read in chunks from 64 MiB on), and the protobuf files. Each
measurement is a child process that imports the readers and loads their kernels first, then
times ``load_traces([input], jobs=N)`` (reading, decoding and ``build``): wall seconds, the
user+sys CPU seconds the load took (all threads) and those of the main thread alone (what
the workers cannot share: finding the pieces, merging them, ``build``), and the process's
peak RSS. The jobs values
alternate within each repeat (1, 2 then 2, 1) so that load from other processes hits both
alike; the table shows medians, the speed-up of each N against the first (ratio of medians
and median of the per-repeat ratios), and is written to ``benchmarks/results/load_parallel.json``.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SIZES = {"10k": 10_000, "100k": 100_000, "1m": 1_000_000}


def one(path: str, jobs: int) -> dict[str, Any]:
    """Time one load in this process (the child's side)."""
    from workbench.traces import load_traces
    from workbench.traces.blocks import preload_fast_readers
    from workbench.traces.detect import gc_paused

    preload_fast_readers()
    import workbench.traces.otlp_wire  # noqa: F401  (its kernels load with the module)

    before = resource.getrusage(resource.RUSAGE_SELF)
    rss_before = before.ru_maxrss
    t0 = time.perf_counter()
    main0 = time.thread_time()
    with gc_paused():
        table = load_traces([path], jobs=jobs)
    wall = time.perf_counter() - t0
    main_cpu = time.thread_time() - main0
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall": wall, "cpu": cpu, "main_cpu": main_cpu, "rss_mb": after.ru_maxrss / 1024,
            "rss_before_mb": rss_before / 1024, "spans": table.n_spans,
            "diagnostics": len(table.diagnostics)}


def _json_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.json"))


def one_document(files: list[Path], out: Path) -> Path:
    """The ResourceSpans of every file as one OTLP/JSON document (made once)."""
    if out.exists():
        return out
    head, tail = b'{"resourceSpans":[', b"]}"
    tmp = out.with_suffix(".part")
    with open(tmp, "wb") as fh:
        fh.write(head)
        for k, f in enumerate(files):
            data = f.read_bytes().strip()
            assert data.startswith(head) and data.endswith(tail), f
            if k:
                fh.write(b",")
            fh.write(data[len(head) : -len(tail)])
        fh.write(tail)
    tmp.rename(out)
    return out


def json_lines(files: list[Path], out: Path) -> Path:
    """Every file's request as one line of one JSON-lines file (made once)."""
    if out.exists():
        return out
    tmp = out.with_suffix(".part")
    with open(tmp, "wb") as fh:
        for f in files:
            fh.write(f.read_bytes().strip().replace(b"\n", b" ") + b"\n")
    tmp.rename(out)
    return out


def inputs(data: Path, size: str, proto: Path | None) -> dict[str, Path]:
    n = SIZES[size]
    folder = data / f"otlp-json-{n}" / "traces"
    files = _json_files(folder)
    if not files:
        raise SystemExit(f"no OTLP JSON files in {folder}: run python benchmarks/e2e.py "
                         f"--sizes {size} first")
    big = data / "parallel"
    big.mkdir(exist_ok=True)
    out = {
        "otlp-json files": folder,
        "otlp-json one document": one_document(files, big / f"otlp-json-{n}.json"),
        "otlp-json lines": json_lines(files, big / f"otlp-json-{n}.jsonl"),
    }
    for candidate in (proto / f"otlp-proto-{n}" / "traces" if proto else None,
                      data / f"otlp-proto-{n}" / "traces"):
        if candidate is not None and any(candidate.glob("*.pb")):
            out["otlp-proto files"] = candidate
            break
    return out


def measure(path: Path, jobs: int) -> dict[str, Any]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--one", str(path), str(jobs)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=ROOT)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="100k")
    ap.add_argument("--jobs", default="1,2", help="comma-separated thread counts; the first "
                    "is the baseline")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--data", default="/tmp/otlspec-e2e")
    ap.add_argument("--proto-data", default=None,
                    help="another folder holding otlp-proto-N/traces (default: --data)")
    ap.add_argument("--only", default=None, help="comma-separated input kinds to run")
    ap.add_argument("--json", default=str(ROOT / "benchmarks" / "results" / "load_parallel.json"))
    ap.add_argument("--one", nargs=2, metavar=("PATH", "JOBS"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.one:
        print(json.dumps(one(args.one[0], int(args.one[1]))))
        return 0
    jobs = [int(j) for j in args.jobs.split(",")]
    proto = Path(args.proto_data) if args.proto_data else None
    rows = []
    for size in args.sizes.split(","):
        for kind, path in inputs(Path(args.data), size, proto).items():
            if args.only and kind not in args.only.split(","):
                continue
            runs: dict[int, list[dict[str, Any]]] = {j: [] for j in jobs}
            for rep in range(args.repeat):
                for j in jobs if rep % 2 == 0 else jobs[::-1]:
                    runs[j].append(measure(path, j))
            base = runs[jobs[0]]
            for j in jobs:
                mine = runs[j]
                paired = [b["wall"] / m["wall"] for b, m in zip(base, mine, strict=True)]
                row = {
                    "size": size, "input": kind, "path": str(path), "jobs": j,
                    "spans": mine[0]["spans"],
                    "wall_s": statistics.median(r["wall"] for r in mine),
                    "cpu_s": statistics.median(r["cpu"] for r in mine),
                    "main_thread_cpu_s": statistics.median(r["main_cpu"] for r in mine),
                    "rss_mb": statistics.median(r["rss_mb"] for r in mine),
                    "rss_before_mb": statistics.median(r["rss_before_mb"] for r in mine),
                    "walls": [round(r["wall"], 3) for r in mine],
                    "speedup_of_medians": statistics.median(r["wall"] for r in base)
                    / statistics.median(r["wall"] for r in mine),
                    "speedup_paired_median": statistics.median(paired),
                }
                rows.append(row)
                print(f"{size:>5} {kind:<24} jobs={j:<2} {row['spans']:>8} spans  "
                      f"wall {row['wall_s']:6.2f}s  cpu {row['cpu_s']:6.2f}s "
                      f"(main thread {row['main_thread_cpu_s']:5.2f}s)  "
                      f"peak RSS {row['rss_mb']:6.0f} MB (before load {row['rss_before_mb']:.0f})"
                      f"  speed-up {row['speedup_of_medians']:.2f}x "
                      f"(paired {row['speedup_paired_median']:.2f}x)  walls {row['walls']}",
                      flush=True)
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps({"argv": sys.argv, "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
