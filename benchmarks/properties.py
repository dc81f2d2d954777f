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
the *kernel* CPU seconds (the verdict kernels, the hash-grouped evaluators and reference
fallbacks), the witness CPU seconds (witness kernels and rendering) and the CPU seconds of
the whole call (all as ``process_time``, which a loaded machine does not inflate; the
engine's wall-clock timings are kept in the JSON too); spans/s is spans over kernel CPU
seconds. The kernels run on ``--threads`` threads (default 1).

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


#: CPU seconds (``process_time``: every thread of the process) per part of the check phase,
#: filled by the wrappers :func:`count_cpu` installs.
CPU: dict[str, float] = {}


def _timed(part: str, fn: Any) -> Any:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        c0 = time.process_time()
        try:
            return fn(*args, **kwargs)
        finally:
            CPU[part] = CPU.get(part, 0.0) + time.process_time() - c0

    return wrapper


def count_cpu() -> None:
    """Wrap the check phase's parts so that their CPU seconds land in :data:`CPU`: the verdict
    kernels (``NumbaRunner.verdicts``), the hash-grouped evaluators, the reference fallback
    (``kernel``), the witness kernels and the witness rendering (``witness``). The engine's
    own timings are wall seconds, which a loaded machine inflates."""
    from workbench.engine import compiled, grouped, numba_cpu, reference

    runner = numba_cpu.NumbaRunner
    runner.verdicts = _timed("kernel", runner.verdicts)  # type: ignore[method-assign]
    runner.witness = _timed("witness", runner.witness)  # type: ignore[method-assign]
    compiled.render = _timed("witness", compiled.render)
    ref = reference.ReferenceBackend
    ref.check = _timed("kernel", ref.check)  # type: ignore[method-assign]
    match = grouped.match

    def timed_match(formula: Any) -> Any:
        found = match(formula)
        return None if found is None else (found[0], _timed("kernel", found[1]))

    grouped.match = timed_match


def _whole(spec: Any, table: Any, label: str) -> dict[str, Any]:
    """The whole stdlib in one ``check`` call, as the CLI runs it."""
    from workbench.engine import check

    CPU.clear()
    c0 = time.process_time()
    res = check(spec, table, backend="numba")
    cpu = time.process_time() - c0
    t = res.timings
    return {"property": label, "kernel_s": CPU.get("kernel", 0.0),
            "witness_s": CPU.get("witness", 0.0), "index_s": t.get("index", 0.0),
            "cpu_s": cpu, "timings": t,
            "failing": sum(int((~r.holds).sum()) for r in res.results)}


def child(layout: str, n: int, repeat: int, skip: set[str], whole: bool, cold: bool) -> None:
    """The whole stdlib on the fresh table (``cold``: its index is built too), then every
    property not in ``skip`` (one JSON line each), then the whole stdlib again (warm)."""
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 20_000))
    from workbench.datasets.scale import generate_table
    from workbench.engine import check
    from workbench.lang import parse_spec

    spec = parse_spec("spec all_of_stdlib\nimport stdlib\n")
    check(spec, generate_table(2000, seed=1), backend="numba")  # kernels from the disk cache
    count_cpu()
    table = build(layout, n)
    print(json.dumps({"spans": table.n_spans, "traces": table.n_traces}), flush=True)
    if cold:
        print(json.dumps(_whole(spec, table, "*cold")), flush=True)
    for prop in spec.properties:
        if prop.name in skip:
            continue
        best: dict[str, Any] | None = None
        for _ in range(max(1, repeat)):
            CPU.clear()
            c0 = time.process_time()
            res = check(spec, table, backend="numba", properties=[prop.name])
            cpu = time.process_time() - c0
            t = res.timings
            row = {"property": prop.name, "backend": res.results[0].backend,
                   "kernel_s": CPU.get("kernel", 0.0), "witness_s": CPU.get("witness", 0.0),
                   "kernel_wall_s": _sum(t, KERNEL), "witness_wall_s": _sum(t, WITNESS),
                   "index_s": t.get("index", 0.0), "cpu_s": cpu,
                   "failing": int((~res.results[0].holds).sum())}
            if best is None or row["cpu_s"] < best["cpu_s"]:
                best = row
        print(json.dumps(best), flush=True)
    if whole:
        print(json.dumps(_whole(spec, table, "*")), flush=True)


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
    cold: dict[str, Any] | None = None
    cold_timed_out = False
    first = True
    while True:
        skip = [*done, *timed_out]
        cmd = [sys.executable, __file__, "--child", layout, "--spans", str(n),
               "--repeat", str(repeat), *(["--no-whole"] if timed_out else []),
               *(["--cold"] if first else [])]
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
            elif row["property"] == "*cold":
                cold = row
            else:
                done[row["property"]] = row
            print(f"  {tree.name or tree} {layout}: {line.strip()[:110]}", file=sys.stderr,
                  flush=True)
        proc.wait()
        if not killed:
            break
        if first and cold is None:  # the cold whole-stdlib run itself ran out of time
            cold_timed_out, first = True, False
            continue
        first = False
        from workbench.lang import parse_spec

        names = [p.name for p in parse_spec("spec s\nimport stdlib\n").properties]
        left = [p for p in names if p not in done and p not in timed_out]
        if not left:
            break
        timed_out.append(left[0])
        print(f"  {layout}: {left[0]} timed out (> {limit:.0f} s)", file=sys.stderr, flush=True)
    return {"tree": str(tree), "layout": layout, **meta, "properties": done,
            "timed_out": timed_out, "whole": whole, "cold": cold,
            "cold_timed_out": cold_timed_out}


def _label(run: dict[str, Any]) -> str:
    return f"{Path(run['tree']).name or run['tree']}:{run['layout']}"


def show(runs: list[dict[str, Any]], limit: float) -> None:
    """Per-property table (kernel spans/s per tree and layout), then the whole stdlib."""
    names: list[str] = []
    for run in runs:
        names += [p for p in [*run["properties"], *run["timed_out"]] if p not in names]
    width = max(12, *(len(_label(r)) for r in runs))

    def cell(run: dict[str, Any], name: str) -> str:
        if name in run["timed_out"]:
            return f"> {limit:.0f} s"
        row = run["properties"].get(name)
        if row is None:
            return "-"
        k = row["kernel_s"]
        return f"{run['spans'] / k / 1e6:,.1f}M" if k > 0 else "inf"

    print(f"\nkernel spans/s per property (CPU; one property at a time, "
          f"{runs[0].get('spans', 0):,} spans)")
    print(f"| {'property':<34} | " + " | ".join(f"{_label(r):>{width}}" for r in runs) + " |")
    for name in names:
        print(f"| {name:<34} | " + " | ".join(f"{cell(r, name):>{width}}" for r in runs) + " |")
    print(f"\nwhole stdlib in one call (CPU seconds; cold: the first call on the table, its "
          f"index built)\n| {'tree:layout':<{width + 7}} | {'spans':>9} | "
          f"{'traces':>7} | {'kernels':>8} | {'spans/s':>9} | {'witness':>8} | "
          f"{'other':>8} | {'check':>8} |")
    for run, which in [(r, k) for r in runs for k in ("cold", "whole")]:
        w = run[which]
        head = (f"| {_label(run) + (' (cold)' if which == 'cold' else ''):<{width + 7}} | "
                f"{run.get('spans', 0):>9,} | {run.get('traces', 0):>7,} |")
        if w is None:
            why = (f"> {limit:.0f} s" if which == "cold" and run["cold_timed_out"] else
                   f"{', '.join(run['timed_out'])} > {limit:.0f} s")
            print(f"{head} not run: {why}")
            continue
        rate = run["spans"] / w["kernel_s"] if w["kernel_s"] > 0 else float("inf")
        other = w["cpu_s"] - w["kernel_s"] - w["witness_s"]
        print(f"{head} {w['kernel_s']:>8.3f} | {rate / 1e6:>8.1f}M | {w['witness_s']:>8.3f} | "
              f"{other:>8.3f} | {w['cpu_s']:>8.3f} |")
    print("kernels: verdict kernels, hash-grouped evaluators, reference fallbacks; witness: "
          "witness kernels and rendering; other: index, per-property tables, the driver; "
          "check: the whole call")


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
    ap.add_argument("--cold", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        child(args.child, args.spans, args.repeat, set(args.skip), not args.no_whole, args.cold)
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
