"""The index phase of ``otlspec check`` alone, sub-step by sub-step.

Usage::

    python benchmarks/index.py TRACES... [--spec stdlib] [--profile 25]
    python benchmarks/index.py /tmp/otlspec-e2e/otlp-json-1000000/traces --tree /tmp/main \\
        --tree .          # the same table, each tree in its own process, side by side

Loads the traces once, then does what the compiled backends do before their verdict pass
(:func:`workbench.engine.compiled.prepare` without loading kernels): per property, build
the table index groups it needs and its per-property tables
(:func:`~workbench.engine.plan.materialize`).
Prints CPU seconds (``process_time``, which survives a loaded machine) per index group and
per property, and spans/s of the whole phase. ``--tree`` runs the measurement with another
source tree on ``PYTHONPATH`` (e.g. a ``git archive`` of main) in a child process; ``--check``
adds the index phase as a real ``check`` meets it (first use of numba, pyarrow and the regexes
included), in a process of its own.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def _load(inputs: list[str], cache: str | None) -> Any:
    """The table of ``inputs``, through a pickle under ``cache`` when one is given (loading is
    not what this benchmark measures, and 1M spans take a minute to load on a busy machine)."""
    from workbench.traces import load_traces

    if not cache:
        return load_traces(inputs)
    import hashlib
    import pickle

    key = hashlib.sha256("\0".join(str(Path(p).resolve()) for p in inputs).encode())
    path = Path(cache) / f"table-{key.hexdigest()[:16]}.pkl"
    if path.exists():
        with open(path, "rb") as fh:
            return pickle.load(fh)
    table = load_traces(inputs)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        pickle.dump(table, fh, protocol=pickle.HIGHEST_PROTOCOL)
    return table


def measure(inputs: list[str], spec_args: list[str], profile: int,
            cache: str | None = None, repeat: int = 1) -> dict[str, Any]:
    """Index-phase CPU seconds of ``repeat`` fresh table indexes, per group and property.

    The first build pays what the process loads on first use (pyarrow, the cached Euler-tour
    kernel), as a real check does; the best of the others is the steady state.
    """
    sys.path.insert(0, os.getcwd())
    from workbench.engine import plan
    from workbench.engine.codegen_terms import Unsupported
    from workbench.engine.compiled import bind, generated
    from workbench.engine.reference import param_values
    from workbench.lang import load_specs

    spec = load_specs(spec_args)
    table = _load(inputs, cache)
    # a real check has loaded its kernels (and numba's machinery) before the index
    import numpy as np
    from numba import njit

    njit(lambda a: a.sum())(np.zeros(2))
    values = param_values(spec)
    gens = []
    for prop in spec.properties:
        try:
            gens.append((prop.name, generated(bind(prop.formula, values))))
        except Unsupported:
            continue
    groups: dict[str, float] = {}
    need = plan.TableIndex.need

    def timed_need(self: Any, what: str) -> None:
        fresh = what not in self.built
        t0 = time.process_time()
        need(self, what)
        if fresh:
            groups[what] = groups.get(what, 0.0) + time.process_time() - t0

    plan.TableIndex.need = timed_need  # type: ignore[method-assign]
    runs = []
    for k in range(max(1, repeat)):
        groups.clear()
        prof = None
        if profile and k == repeat - 1:
            import cProfile

            prof = cProfile.Profile()
            prof.enable()
        per_prop: dict[str, float] = {}
        t_all = time.process_time()
        wall = time.perf_counter()
        index = plan.TableIndex(table)  # fresh, not the cached one
        for name, gen in gens:
            t0 = time.process_time()
            plan.table_args(index, gen.sites.needs)
            plan.materialize(gen.sites, index)
            per_prop[name] = time.process_time() - t0
        total = time.process_time() - t_all
        wall = time.perf_counter() - wall
        if prof is not None:
            import pstats

            prof.disable()
            order = os.environ.get("INDEX_SORT", "cumulative")
            pstats.Stats(prof, stream=sys.stderr).sort_stats(order).print_stats(profile)
        runs.append({"cpu_s": total, "wall_s": wall, "groups": dict(groups),
                     "properties": per_prop})
        del index
    best = min(runs[1:] or runs, key=lambda r: r["cpu_s"])
    return {"spans": table.n_spans, "compiled": len(gens), "first": runs[0], "best": best}


def measure_check(inputs: list[str], spec_args: list[str], cache: str | None) -> dict[str, Any]:
    """The index phase inside one real ``check(spec, table, backend="auto")`` (kernels from
    the disk cache): CPU seconds of the calling thread in the backend's ``table_index`` and
    ``_args`` (kernels load on other threads meanwhile, so process CPU would count them), and
    the engine's own ``index`` timing (wall)."""
    sys.path.insert(0, os.getcwd())
    from workbench.engine import check, compiled
    from workbench.lang import load_specs

    spec = load_specs(spec_args)
    table = _load(inputs, cache)
    spent = [0.0]

    def timed(fn: Any) -> Any:
        def run(*args: Any, **kwargs: Any) -> Any:
            t0 = time.thread_time()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[0] += time.thread_time() - t0
        return run

    compiled.table_index = timed(compiled.table_index)
    compiled._args = timed(compiled._args)
    t0 = time.process_time()
    result = check(spec, table, backend="auto")
    return {"spans": table.n_spans, "cpu_s": spent[0], "engine_index_s": result.timings["index"],
            "check_cpu_s": time.process_time() - t0}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("inputs", nargs="+")
    ap.add_argument("--spec", action="append", default=None)
    ap.add_argument("--tree", action="append", default=None,
                    help="source tree to measure (repeatable; default: this one)")
    ap.add_argument("--profile", type=int, default=0, help="print the top N cProfile rows")
    ap.add_argument("--top", type=int, default=8, help="slowest properties shown")
    ap.add_argument("--repeat", type=int, default=3, help="fresh indexes built per tree")
    ap.add_argument("--cache", default=None,
                    help="keep the loaded table as a pickle in this folder (same model code)")
    ap.add_argument("--json", default=str(ROOT / "benchmarks" / "results" / "index.json"),
                    help="where the runs are written")
    ap.add_argument("--check", action="store_true",
                    help="also time the index phase inside a real check (own process)")
    ap.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--one-check", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    spec_args = args.spec or ["stdlib"]
    if args.one_check:
        print(json.dumps(measure_check(args.inputs, spec_args, args.cache)))
        return 0
    if args.one:
        print(json.dumps(measure(args.inputs, spec_args, args.profile, args.cache, args.repeat)))
        return 0
    runs = []
    for tree in args.tree or [str(ROOT)]:
        cmd = [sys.executable, str(Path(__file__).resolve()), *args.inputs, "--one",
               "--profile", str(args.profile), "--repeat", str(args.repeat)]
        if args.cache:
            cmd += ["--cache", args.cache]
        for s in spec_args:
            cmd += ["--spec", s]
        tree_path = str(Path(tree).resolve())
        env = {**os.environ, "PYTHONPATH": tree_path}
        proc = subprocess.run(cmd, cwd=tree_path, env=env, capture_output=True, text=True)
        if proc.returncode:
            sys.stderr.write(proc.stderr)
            return proc.returncode
        if args.profile:
            sys.stderr.write(proc.stderr)
        run = json.loads(proc.stdout.strip().splitlines()[-1])
        run["tree"] = tree
        if args.check:
            one = [c for c in cmd if c not in ("--one",)] + ["--one-check"]
            proc = subprocess.run(one, cwd=tree_path, env=env, capture_output=True, text=True)
            if proc.returncode:
                sys.stderr.write(proc.stderr)
                return proc.returncode
            run["check"] = json.loads(proc.stdout.strip().splitlines()[-1])
        runs.append(run)
    for run in runs:
        n = run["spans"]
        print(f"\n{run['tree']}: {n:,} spans, {run['compiled']} compiled properties")
        for label in ("first", "best"):
            r = run[label]
            print(f"  {label:>5}: index phase {r['cpu_s']:.3f} CPU-s ({r['wall_s']:.3f} s wall), "
                  f"{n / max(r['cpu_s'], 1e-9):,.0f} spans/CPU-s")
        if "check" in run:
            c = run["check"]
            print(f"  check: index phase {c['cpu_s']:.3f} CPU-s (its thread), "
                  f"{n / max(c['cpu_s'], 1e-9):,.0f} spans/CPU-s; engine timing "
                  f"{c['engine_index_s']:.3f} s wall; whole check {c['check_cpu_s']:.3f} CPU-s")
        r = run["best"]
        groups = ", ".join(f"{g} {s:.3f}" for g, s in sorted(r["groups"].items(),
                                                             key=lambda kv: -kv[1]))
        print(f"  best, groups (CPU-s): {groups}")
        slow = sorted(r["properties"].items(), key=lambda kv: -kv[1])[:args.top]
        print("  best, slowest properties (CPU-s, incl. the groups they built first): "
              + ", ".join(f"{p} {s:.3f}" for p, s in slow))
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps({"runs": runs}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
