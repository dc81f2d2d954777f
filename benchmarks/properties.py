"""The check phase per stdlib property: kernel spans/s of each of the 46 properties, and of the
whole stdlib, on many traces, on one huge trace and on one deep parent chain.

Usage::

    python benchmarks/properties.py                          # 1M spans, the three layouts
    python benchmarks/properties.py --spans 100000 --layout chain
    python benchmarks/properties.py --tree /tmp/main --tree .  # before / after, one run

Layouts (built in memory, not timed):

``traces``  :func:`~workbench.datasets.scale.generate_table` (generated traces, replicated:
            1M spans are ~45k traces)
``one``     one trace of ``--spans`` spans (a root and its children, three kinds, names op0..6)
``chain``   one trace that is a parent chain ``--spans`` deep

Each ``(tree, layout)`` runs in child processes with that tree first on ``PYTHONPATH``: the
kernels are loaded on a small table first (numba's disk cache), then every property is checked
alone (best of ``--repeat``; the table's index is built by the first run and shared), and
last the whole stdlib in one call, as ``otlspec check`` runs it. Per property the table gives
the *kernel* seconds (the verdict kernels, the hash-grouped evaluators and reference
fallbacks: ``check`` + ``grouped`` + ``reference`` of the engine's timings), the witness
seconds (``witness`` + ``render``) and the CPU seconds of the whole call (``process_time``,
index included on the first run); spans/s is spans over kernel seconds. The kernels run on
``--threads`` threads (default 1, so that seconds are CPU seconds on a shared machine).

A property still running after ``--limit`` seconds is recorded as timed out (the child is
killed and restarted without it); the whole-stdlib figure then is not measured. Results are
printed as a table and written as JSON (``benchmarks/results/properties.json``).
"""

from __future__ import annotations

import argparse
import json
import os
import selectors
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
LAYOUTS = ("traces", "one", "chain")
KERNEL = ("check", "grouped", "reference")
WITNESS = ("witness", "render")


# ---------------------------------------------------------------------------- child


def build(layout: str, n: int) -> Any:
    """The table of one layout (see the module docstring)."""
    if layout == "traces":
        from workbench.datasets.scale import generate_table

        return generate_table(n, seed=7)
    from workbench.traces.builder import TableBuilder

    b = TableBuilder()
    res = b.add_resource([("service.name", "cart")])
    chain = layout == "chain"
    for i in range(n):
        parent = (f"{i:016x}" if chain else f"{1:016x}") if i else ""
        b.add_span(trace_id=f"{1:032x}", span_id=f"{i + 1:016x}", parent_id=parent,
                   name=f"op{i % 7}", resource=res, kind=(2, 3, 1)[i % 3], start=1_000 + i,
                   end=10_000_000_000 - i, status=2 if i % 11 == 0 else 0)
    return b.build()


def _sum(timings: dict[str, float], keys: tuple[str, ...]) -> float:
    return sum(timings.get(k, 0.0) for k in keys)


def child(layout: str, n: int, repeat: int, skip: set[str], whole: bool) -> None:
    """Measure every property not in ``skip`` (one JSON line each), then the whole stdlib."""
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 20_000))
    from workbench.datasets.scale import generate_table
    from workbench.engine import check
    from workbench.lang import parse_spec

    spec = parse_spec("spec all_of_stdlib\nimport stdlib\n")
    check(spec, generate_table(2000, seed=1), backend="numba")  # kernels from the disk cache
    table = build(layout, n)
    print(json.dumps({"spans": table.n_spans, "traces": table.n_traces}), flush=True)
    for prop in spec.properties:
        if prop.name in skip:
            continue
        best: dict[str, Any] | None = None
        for _ in range(max(1, repeat)):
            c0 = time.process_time()
            res = check(spec, table, backend="numba", properties=[prop.name])
            cpu = time.process_time() - c0
            t = res.timings
            row = {"property": prop.name, "backend": res.results[0].backend,
                   "kernel_s": _sum(t, KERNEL), "witness_s": _sum(t, WITNESS),
                   "index_s": t.get("index", 0.0), "cpu_s": cpu,
                   "failing": int((~res.results[0].holds).sum())}
            if best is None or row["kernel_s"] < best["kernel_s"]:
                best = row
        print(json.dumps(best), flush=True)
    if whole:
        c0 = time.process_time()
        res = check(spec, table, backend="numba")
        cpu = time.process_time() - c0
        t = res.timings
        print(json.dumps({"property": "*", "kernel_s": _sum(t, KERNEL),
                          "witness_s": _sum(t, WITNESS), "index_s": t.get("index", 0.0),
                          "cpu_s": cpu, "timings": t,
                          "failing": sum(int((~r.holds).sum()) for r in res.results)}),
              flush=True)


# ---------------------------------------------------------------------------- parent


def run_layout(tree: Path, layout: str, n: int, repeat: int, limit: float, threads: int
               ) -> dict[str, Any]:
    """All properties of one layout on one tree, restarting the child past a timeout."""
    env = {**os.environ, "PYTHONPATH": f"{tree}{os.pathsep}{ROOT}",
           "NUMBA_NUM_THREADS": str(threads)}
    done: dict[str, dict[str, Any]] = {}
    meta: dict[str, Any] = {}
    timed_out: list[str] = []
    whole: dict[str, Any] | None = None
    while True:
        skip = [*done, *timed_out]
        cmd = [sys.executable, __file__, "--child", layout, "--spans", str(n),
               "--repeat", str(repeat), *(["--no-whole"] if timed_out else [])]
        for name in skip:
            cmd += ["--skip", name]
        proc = subprocess.Popen(cmd, env=env, cwd=tree, stdout=subprocess.PIPE, text=True)
        assert proc.stdout is not None
        sel = selectors.DefaultSelector()
        sel.register(proc.stdout, selectors.EVENT_READ)
        last = time.monotonic()
        started = False  # the first line comes after the table is built
        killed = False
        while True:
            if not sel.select(timeout=5.0):
                if started and time.monotonic() - last > limit:
                    proc.kill()
                    killed = True
                    break
                if proc.poll() is not None:
                    break
                continue
            line = proc.stdout.readline()
            if not line:
                break
            last = time.monotonic()
            row = json.loads(line)
            if "spans" in row and "property" not in row:
                meta, started = row, True
            elif row["property"] == "*":
                whole = row
            else:
                done[row["property"]] = row
            print(f"  {tree.name or tree} {layout}: {line.strip()[:110]}", file=sys.stderr,
                  flush=True)
        proc.wait()
        if not killed:
            break
        from workbench.lang import parse_spec

        names = [p.name for p in parse_spec("spec s\nimport stdlib\n").properties]
        left = [p for p in names if p not in done and p not in timed_out]
        if not left:
            break
        timed_out.append(left[0])
        print(f"  {layout}: {left[0]} timed out (> {limit:.0f} s)", file=sys.stderr, flush=True)
    return {"tree": str(tree), "layout": layout, **meta, "properties": done,
            "timed_out": timed_out, "whole": whole}


def show(runs: list[dict[str, Any]], limit: float) -> None:
    """Per-property table (kernel spans/s per tree and layout), then the whole stdlib."""
    names: list[str] = []
    for run in runs:
        names += [p for p in [*run["properties"], *run["timed_out"]] if p not in names]
    cols = [(r["tree"], r["layout"]) for r in runs]

    def cell(run: dict[str, Any], name: str) -> str:
        if name in run["timed_out"]:
            return f"> {limit:.0f} s"
        row = run["properties"].get(name)
        if row is None:
            return "-"
        k = row["kernel_s"]
        return f"{run['spans'] / k / 1e6:8.1f}M" if k > 0 else "    inf"

    head = " | ".join(f"{Path(t).name or t}:{lay:<6}" for t, lay in cols)
    print(f"\nkernel spans/s per property (one property at a time, {runs[0].get('spans', 0):,} "
          f"spans)\n| {'property':<34} | {head} |")
    for name in names:
        print(f"| {name:<34} | " + " | ".join(f"{cell(r, name):>{len(Path(r['tree']).name or r['tree']) + 7}}"
                                            for r in runs) + " |")
    print(f"\nwhole stdlib in one call\n| {'tree':<20} | {'layout':<6} | {'spans':>9} | "
          f"{'traces':>7} | {'kernel s':>8} | {'spans/s':>9} | {'witness s':>9} | "
          f"{'index s':>8} | {'CPU s':>7} |")
    for run in runs:
        w = run["whole"]
        name = Path(run["tree"]).name or run["tree"]
        if w is None:
            print(f"| {name:<20} | {run['layout']:<6} | {run.get('spans', 0):>9,} | "
                  f"{run.get('traces', 0):>7,} | not run: {', '.join(run['timed_out'])} "
                  f"> {limit:.0f} s")
            continue
        rate = run["spans"] / w["kernel_s"] if w["kernel_s"] > 0 else float("inf")
        print(f"| {name:<20} | {run['layout']:<6} | {run['spans']:>9,} | {run['traces']:>7,} | "
              f"{w['kernel_s']:>8.3f} | {rate / 1e6:>8.1f}M | {w['witness_s']:>9.3f} | "
              f"{w['index_s']:>8.3f} | {w['cpu_s']:>7.2f} |")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--spans", type=int, default=1_000_000)
    ap.add_argument("--layout", action="append", choices=LAYOUTS, default=None)
    ap.add_argument("--tree", action="append", type=Path, default=None,
                    help="source tree to measure (repeatable; default: this one)")
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--limit", type=float, default=60.0, help="seconds per property")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "properties.json")
    ap.add_argument("--child", choices=LAYOUTS, help=argparse.SUPPRESS)
    ap.add_argument("--skip", action="append", default=[], help=argparse.SUPPRESS)
    ap.add_argument("--no-whole", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        child(args.child, args.spans, args.repeat, set(args.skip), not args.no_whole)
        return 0
    runs = []
    for layout in args.layout or LAYOUTS:
        for tree in args.tree or [ROOT]:
            runs.append(run_layout(tree.resolve(), layout, args.spans, args.repeat, args.limit,
                                   args.threads))
    show(runs, args.limit)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"benchmark": "properties", "spans": args.spans,
                                    "threads": args.threads, "limit_s": args.limit,
                                    "runs": runs}, indent=1))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
