"""Checking throughput and memory: otlspec's compiled backends against the reference
interpreter, DuckDB SQL, networkx, reelay and rtamt.

Usage::

    python benchmarks/check.py                 # 10k, 100k, 1M synthetic spans + real traces
    python benchmarks/check.py --full          # ... and 10M
    python benchmarks/check.py --sizes 10000   # one size

Each (engine, dataset) pair runs in its own subprocess, so peak RSS is the engine's own. The
dataset is built first (ingest, not timed); then every engine is warmed up once (JIT
compilation, which numba caches on disk, and per-table indexes) and timed over ``--repeat``
runs (best run reported). Results are printed as a table and written to
``benchmarks/results/check.json``.

Engines
-------
``numba``      the whole stdlib (46 properties) on the CPU backend: kernel time, plus the
               first run's index time (string predicates, timelines) reported separately
``numba-10``   the ten properties that the SQL and networkx baselines implement
``cupy``       the whole stdlib on the GPU (only when a CUDA device is present)
``reference``  the whole stdlib on the reference interpreter (on a sample when large)
``duckdb``     the ten properties as SQL (:mod:`benchmarks.baselines`), data already loaded
``networkx``   the ten properties over per-trace DiGraphs (graph building timed separately)
``reelay``     ``historically(p -> once[0,5s] q)`` over per-trace event streams (dense time)
``rtamt``      ``always(q -> eventually[0,10] p)`` over the same streams (discrete time)
``otl-past``   otlspec (numba) on the propositional property reelay monitors
``otl-future`` otlspec (numba) on the propositional property rtamt monitors

Every baseline's failing traces are compared with otlspec's; disagreements are reported.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

ENGINES = ("numba", "numba-10", "cupy", "reference", "duckdb", "networkx", "reelay", "rtamt",
           "otl-past", "otl-future")
#: Largest number of spans an engine runs on in full; larger datasets are sampled.
SAMPLE = {"reference": 4_000, "networkx": 100_000, "reelay": 20_000, "rtamt": 20_000}

PAST_FORMULA = """always ((exists r in spans where r.kind == CLIENT
                             and r.attributes["http.request.resend_count"] > 0: start(r))
                 -> once[0s, 5s] (exists f in spans where f.kind == CLIENT
                                                    and f.status == ERROR: end(f)))"""
FUTURE_FORMULA = """always ((exists f in spans where f.kind == CLIENT and f.status == ERROR:
                               end(f))
                 -> eventually[0s, 1s] (exists r in spans where r.kind == CLIENT
                     and r.attributes["http.request.resend_count"] > 0: start(r)))"""


# ---------------------------------------------------------------------------- datasets


def make_table(dataset: str, size: int) -> Any:
    """``synth`` (``size`` generated spans) or ``real`` (the bundled real traces, replicated)."""
    from workbench.datasets.scale import generate_table, replicate

    if dataset == "synth":
        return generate_table(size, seed=7)
    from workbench.traces import load_traces

    base = ROOT / "datasets" / "real"
    files = []
    for path in sorted(base.rglob("*.json")):
        try:
            if load_traces([path]).n_spans:
                files.append(path)
        except Exception:
            continue
    table = load_traces(files)
    copies = max(1, size // max(1, table.n_spans))
    return replicate(table, copies) if copies > 1 else table


class PeakRSS:
    """Samples this process's RSS in a thread; ``peak`` is the largest value seen."""

    def __init__(self) -> None:
        import psutil

        self.proc = psutil.Process()
        self.peak = self.proc.memory_info().rss
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        while not self.stop.wait(0.005):
            self.peak = max(self.peak, self.proc.memory_info().rss)

    def __enter__(self) -> PeakRSS:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop.set()
        self.thread.join()
        self.peak = max(self.peak, self.proc.memory_info().rss)


# ---------------------------------------------------------------------------- one engine


def _best(fn: Any, repeat: int) -> tuple[float, Any]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def _failing(result: Any, names: tuple[str, ...]) -> dict[str, list[int]]:
    return {n: sorted(result[n].failed_traces) for n in names}


def worker(engine: str, dataset: str, size: int, repeat: int) -> dict[str, Any]:
    """Run one engine on one dataset; returns the measurements (run in a subprocess)."""
    import psutil

    from benchmarks import baselines
    from workbench.engine import check
    from workbench.lang import parse_formula, parse_spec

    table = make_table(dataset, size)
    n_full = table.n_spans
    spec = parse_spec("import stdlib\n")
    sampled = engine in SAMPLE and n_full > SAMPLE[engine]
    if sampled:
        table = make_table(dataset, SAMPLE[engine])
    n = table.n_spans
    if engine in ("numba", "numba-10", "cupy", "otl-past", "otl-future"):
        # load the JIT-compiled kernels first (numba's on-disk cache), so that the memory
        # measured below is what checking this table costs, not the code of the kernels
        from workbench.datasets.scale import generate_table

        check(spec, generate_table(2000, seed=1),
              backend="cupy" if engine == "cupy" else "numba")
    rss0 = psutil.Process().memory_info().rss
    out: dict[str, Any] = {"engine": engine, "dataset": dataset, "size": n_full, "spans": n,
                           "requested": size,
                           "sampled": sampled, "table_bytes": int(table.nbytes)}
    with PeakRSS() as mem:
        if engine in ("numba", "numba-10", "cupy"):
            import gc

            from workbench.engine.plan import release_memory

            backend = "cupy" if engine == "cupy" else "numba"
            props = None if engine != "numba-10" else list(baselines.PROPERTIES)
            t0 = time.perf_counter()
            first = check(spec, table, backend=backend, properties=props)
            out["first_run_s"] = time.perf_counter() - t0
            out["first_timings"] = first.timings
            out["backends"] = sorted({r.backend for r in first.results})
            out["witnesses"] = sum(len(w) for r in first.results for w in r.witnesses.values())
            out["failing"] = _failing(first, baselines.PROPERTIES)
            out["first_peak_beyond_table"] = max(0, mem.peak - rss0)
            del first
            gc.collect()
            release_memory()
            rss1 = psutil.Process().memory_info().rss
            out["index_retained"] = max(0, rss1 - rss0)
            mem.peak = rss1  # from here on: the warm runs (indexes built, kernels loaded)
            best: dict[str, float] = {}
            for _ in range(repeat):
                timings = check(spec, table, backend=backend, properties=props).timings
                if not best or timings.get("check", 0.0) < best.get("check", 0.0):
                    best = timings
            out["seconds"] = best.get("check", 0.0)
            out["timings"] = best
        elif engine == "reference":
            out["seconds"], res = _best(lambda: check(spec, table, backend="reference"), 1)
        elif engine == "duckdb":
            t0 = time.perf_counter()
            con = baselines.duckdb_load(table)
            out["load_s"] = time.perf_counter() - t0
            baselines.duckdb_run(con)
            out["seconds"], res = _best(lambda: baselines.duckdb_run(con), repeat)
            out["failing"] = {k: sorted(v) for k, v in res.items()}
        elif engine == "networkx":
            t0 = time.perf_counter()
            graphs = baselines.nx_graphs(table)
            out["build_s"] = time.perf_counter() - t0
            out["seconds"], res = _best(lambda: baselines.nx_run(graphs), 1)
            out["failing"] = {k: sorted(v) for k, v in res.items()}
        elif engine in ("reelay", "rtamt", "otl-past", "otl-future"):
            streams = baselines.event_streams(table)
            out["events"] = sum(len(s) for s in streams)
            if engine == "reelay":
                monitors = baselines.reelay_monitors(len(streams))
                out["seconds"], res = _best(lambda: baselines.reelay_run(streams, monitors), 1)
            elif engine == "rtamt":
                out["seconds"], res = _best(lambda: baselines.rtamt_run(streams), 1)
            else:
                from workbench.lang.ir import Property

                text = PAST_FORMULA if engine == "otl-past" else FUTURE_FORMULA
                prop = Property("p", parse_formula(text))
                one = spec.__class__("bench", "", (), (prop,))
                check(one, table, backend="numba")
                runs = [check(one, table, backend="numba") for _ in range(repeat)]
                best = min(runs, key=lambda r: r.timings.get("check", 0.0))
                out["seconds"] = best.timings.get("check", 0.0)
                res = set(best["p"].failed_traces)
            out["failing_traces"] = sorted(res)
        else:
            raise SystemExit(f"unknown engine {engine}")
    out["peak_rss"] = mem.peak
    out["beyond_table"] = max(0, mem.peak - rss0)  # warm runs for otlspec (see first_*)
    out["bytes_per_span_beyond"] = out["beyond_table"] / max(1, n)
    out["spans_per_s"] = n / out["seconds"] if out.get("seconds") else None
    if "events" in out and out.get("seconds"):
        out["events_per_s"] = out["events"] / out["seconds"]
    return out


def run_engine(engine: str, dataset: str, size: int, repeat: int) -> dict[str, Any]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", engine, dataset,
           str(size), str(repeat)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=3600)
    for line in reversed(done.stdout.splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    return {"engine": engine, "dataset": dataset, "size": size,
            "error": (done.stderr or done.stdout)[-2000:]}


# ---------------------------------------------------------------------------- report


def agreement(results: list[dict[str, Any]]) -> None:
    """Mark baselines whose failing traces differ from otlspec's on the same data."""
    ref = next((r for r in results if r["engine"] == "numba-10" and "failing" in r), None)
    for r in results:
        if r["engine"] in ("duckdb", "networkx") and ref is not None and "failing" in r:
            same = not r["sampled"] and r["failing"] == ref["failing"]
            r["agrees"] = same if not r["sampled"] else None
            if not same and not r["sampled"]:
                r["disagreements"] = {k: [sorted(set(v) ^ set(ref["failing"][k]))[:10]]
                                      for k, v in r["failing"].items()
                                      if v != ref["failing"][k]}
    # rtamt's discrete time is the sample index, otlspec's intervals are nanoseconds: their
    # future-time properties differ, so only reelay's verdicts are compared
    for a, b in (("reelay", "otl-past"),):
        x = next((r for r in results if r["engine"] == a and "failing_traces" in r), None)
        y = next((r for r in results if r["engine"] == b and "failing_traces" in r), None)
        if x and y and x["spans"] == y["spans"]:
            fx, fy = set(x["failing_traces"]), set(y["failing_traces"])
            x["agrees"] = fx == fy
            x["verdict_differences"] = len(fx ^ fy)


def ratios(results: list[dict[str, Any]]) -> None:
    """Speed of otlspec numba relative to each engine (>1: otlspec is faster)."""
    base = {r["engine"]: r for r in results if r.get("spans_per_s")}
    for r in results:
        if not r.get("spans_per_s"):
            continue
        if r["engine"] in ("duckdb", "networkx") and "numba-10" in base:
            r["numba_speedup"] = base["numba-10"]["spans_per_s"] / r["spans_per_s"]
        elif r["engine"] == "reelay" and "otl-past" in base:
            r["numba_speedup"] = base["otl-past"].get("events_per_s", 0) / r["events_per_s"]
        elif r["engine"] == "rtamt" and "otl-future" in base:
            r["numba_speedup"] = base["otl-future"].get("events_per_s", 0) / r["events_per_s"]
        elif "numba" in base and r["engine"] not in ("numba-10", "otl-past", "otl-future"):
            r["numba_speedup"] = base["numba"]["spans_per_s"] / r["spans_per_s"]


def fmt(results: list[dict[str, Any]]) -> str:
    lines = [f"{'dataset':14s} {'engine':11s} {'spans':>9s} {'seconds':>9s} {'spans/s':>11s} "
             f"{'events/s':>10s} {'peak MB':>8s} {'B/span+':>8s} {'numba x':>8s}  notes"]
    for r in results:
        if "error" in r:
            lines.append(f"{r['dataset']}-{r['size']:<8} {r['engine']:11s} ERROR "
                         f"{r['error'].splitlines()[-1][:80]}")
            continue
        notes = []
        if r.get("sampled"):
            notes.append(f"sampled {r['spans']} of {r['size']}")
        if "agrees" in r:
            notes.append("agrees" if r["agrees"] else f"DIFFERS {r.get('disagreements', '')}"
                         if r["agrees"] is False else "not compared")
        if "verdict_differences" in r:
            notes.append(f"{r['verdict_differences']} traces judged differently")
        if r["engine"] in ("numba", "numba-10"):
            ft = r.get("first_timings", {})
            spans = max(1, r["spans"])
            notes.append(f"first run: index {ft.get('index', 0):.2f}s, "
                         f"{r.get('first_peak_beyond_table', 0) / spans:.0f} B/span peak, "
                         f"{r.get('index_retained', 0) / spans:.0f} B/span kept; "
                         f"{r.get('witnesses', 0)} witnesses, "
                         f"render {r['timings'].get('render', 0):.2f}s")
        lines.append(
            f"{r['dataset'] + '-' + _size(r['requested']):14s} {r['engine']:11s} {r['spans']:9d} "
            f"{r['seconds']:9.4f} {r['spans_per_s'] or 0:11.3g} {r.get('events_per_s') or 0:10.3g} "
            f"{r['peak_rss'] / 2**20:8.0f} {r['bytes_per_span_beyond']:8.1f} "
            f"{_x(r.get('numba_speedup'))}  {'; '.join(notes)}")
    return "\n".join(lines)


def _x(v: float | None) -> str:
    return f"{v:8.2f}" if v else f"{'-':>8s}"


def _size(n: int) -> str:
    return f"{n // 1_000_000}M" if n >= 1_000_000 else f"{n // 1000}k"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--full", action="store_true", help="also 10M spans")
    parser.add_argument("--real-size", type=int, default=100_000,
                        help="spans of the replicated real traces (0: skip)")
    parser.add_argument("--engines", default=",".join(ENGINES))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "check.json"))
    parser.add_argument("--worker", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        engine, dataset, size, repeat = args.worker
        print(json.dumps(worker(engine, dataset, int(size), int(repeat)), default=str))
        return
    from workbench.engine import backend_status

    sizes = [int(s) for s in args.sizes.split(",") if s]
    if args.full:
        sizes.append(10_000_000)
    engines = [e for e in args.engines.split(",") if e]
    if "cupy" in engines and not backend_status("cupy")[0]:
        print(f"cupy: {backend_status('cupy')[1]}; skipped")
        engines.remove("cupy")
    plan = [("synth", s) for s in sizes] + ([("real", args.real_size)] if args.real_size else [])
    everything: list[dict[str, Any]] = []
    for dataset, size in plan:
        results = []
        for engine in engines:
            print(f"... {dataset} {size} {engine}", file=sys.stderr, flush=True)
            results.append(run_engine(engine, dataset, size, args.repeat))
        agreement(results)
        ratios(results)
        print(fmt(results), flush=True)
        everything += results
    scaling = [(r["size"], r["seconds"], r["peak_rss"]) for r in everything
               if r["engine"] == "numba" and r["dataset"] == "synth" and "seconds" in r]
    summary = {"command": " ".join(sys.argv), "cpus": os.cpu_count(), "results": everything,
               "numba_scaling": scaling}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(summary, indent=1, default=str))
    print("numba scaling (spans, check s, peak RSS MB):")
    for n, s, m in scaling:
        print(f"  {n:>9d} {s:8.4f} {m / 2**20:8.0f}  ({n / s / 1e6:.2f} M spans/s)")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
