"""Where the time of ``otlspec check`` goes: one run, phase by phase.

Usage::

    python benchmarks/phases.py TRACES... [--spec stdlib] [--format json] [--backend auto]
    python benchmarks/phases.py /tmp/gen/traces --format text --format json --repeat 2

Each run goes through the same steps as the CLI (``workbench.cli.run_check``): load the
traces, check (kernel loading / compilation, per-table indexes, verdict kernels, witnesses,
reference fallbacks), then build and write the report. Every phase is timed; the table gives
seconds and spans/s per phase and the peak RSS of the process. The first repeat of a run warms
the kernel cache (compilation) and is not reported; the best warm one is. Each run is a fresh
process, as the CLI is, so peak RSS is that run's own. Results are
written to ``benchmarks/results/phases.json``.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

#: The engine's timing keys, in the order shown.
ENGINE_PHASES = ("index", "compile", "check", "witness", "render", "reference")


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MiB (Linux ``ru_maxrss`` is KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_once(
    inputs: list[str], spec_args: list[str], fmt: str, backend: str, out: Path
) -> dict[str, Any]:
    """One ``otlspec check`` run in this process, timed phase by phase."""
    from workbench import report as report_mod
    from workbench.engine import check
    from workbench.lang import load_specs
    from workbench.traces import load_traces

    phases: dict[str, float] = {}
    t0 = time.perf_counter()
    spec = load_specs(spec_args)
    phases["spec"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    job = None
    if backend != "reference":  # as the CLI does
        try:
            from workbench.engine import prefetch
        except ImportError:  # a tree from before the prefetch: the readers only
            from workbench.traces.blocks import preload_fast_readers

            preload_fast_readers()
        else:
            job = prefetch.warm_up(spec, None, backend=backend, inputs=inputs)
    table = load_traces(inputs)
    phases["load"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    result = check(spec, table, backend=backend)
    phases["check_total"] = time.perf_counter() - t0
    # the prefetch thread's own wall time, overlapped with "load" (not part of end_to_end)
    phases["prefetch"] = job.seconds if job is not None else 0.0
    for key in (*ENGINE_PHASES, "grouped"):
        phases[key] = result.timings.get(key, 0.0)
    t0 = time.perf_counter()
    write = getattr(report_mod, "write_report", None)
    if write is not None:
        with open(out, "wb") as fh:
            write(result, fmt, fh, spec_files=spec_args, trace_inputs=inputs,
                  diagnostics=list(table.diagnostics))
    else:  # the v1 reports: render the whole text, then write it
        _, text = report_mod.render(result, fmt, spec_files=spec_args, trace_inputs=inputs,
                                    diagnostics=list(table.diagnostics))
        out.write_text(text, encoding="utf-8")
    phases["report"] = time.perf_counter() - t0
    slowest = sorted(result.results, key=lambda r: r.seconds, reverse=True)[:5]
    return {
        "format": fmt,
        "backend": backend,
        "spans": table.n_spans,
        "traces": table.n_traces,
        "phases": phases,
        "end_to_end": phases["spec"] + phases["load"] + phases["check_total"] + phases["report"],
        "report_bytes": out.stat().st_size,
        "slowest_properties": [(r.name, r.backend, round(r.seconds, 4)) for r in slowest],
    }


def table_rows(run: dict[str, Any]) -> list[tuple[str, float, str]]:
    n = run["spans"]
    rows = []
    for key in ("load", "prefetch", "index", "compile", "check", "witness", "render",
                "reference", "grouped", "report"):
        sec = run["phases"].get(key, 0.0)
        rate = sec > 1e-3 and key not in ("compile", "prefetch")
        rows.append((key, sec, f"{n / sec:,.0f}" if rate else "-"))
    rows.append((f"end to end ({run['format']})", run["end_to_end"],
                 f"{n / run['end_to_end']:,.0f}"))
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("inputs", nargs="+")
    ap.add_argument("--spec", action="append", default=None)
    ap.add_argument("--format", action="append", default=None,
                    choices=("text", "json", "sarif", "junit"))
    ap.add_argument("--backend", default="auto")
    ap.add_argument("--repeat", type=int, default=2, help="runs per format (first warms)")
    ap.add_argument("--one", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--json", default=str(ROOT / "benchmarks" / "results" / "phases.json"))
    args = ap.parse_args(argv)
    spec_args = args.spec or ["stdlib"]
    out = Path("/tmp") / "otlspec-phases-report.out"
    if args.one:
        run = run_once(args.inputs, spec_args, args.one, args.backend, out)
        run["peak_rss_mb"] = peak_rss_mb()
        usage = resource.getrusage(resource.RUSAGE_SELF)
        run["cpu_s"] = usage.ru_utime + usage.ru_stime  # the whole process, imports included
        print(json.dumps(run))
        return 0
    runs = []
    for fmt in args.format or ["text", "json"]:
        for k in range(max(1, args.repeat)):
            # a fresh process per run, as the CLI: kernels come from the disk cache
            cmd = [sys.executable, __file__, *args.inputs, "--one", fmt,
                   "--backend", args.backend]
            for s in spec_args:
                cmd += ["--spec", s]
            proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
            run = json.loads(proc.stdout.strip().splitlines()[-1])
            run["repeat"] = k
            runs.append(run)
    best: dict[str, dict[str, Any]] = {}
    for run in runs:
        if run["repeat"] == 0 and args.repeat > 1:
            continue
        b = best.get(run["format"])
        if b is None or run["end_to_end"] < b["end_to_end"]:
            best[run["format"]] = run
    for fmt, run in best.items():
        print(f"\n{run['spans']:,} spans, {run['traces']:,} traces, --format {fmt}, "
              f"backend {run['backend']} (best warm run; report {run['report_bytes']:,} B)")
        print(f"| {'phase':<22} | {'seconds':>8} | {'spans/s':>12} |")
        print(f"|{'-' * 24}|{'-' * 10}|{'-' * 14}|")
        for name, sec, rate in table_rows(run):
            print(f"| {name:<22} | {sec:8.3f} | {rate:>12} |")
        print(f"peak RSS {run['peak_rss_mb']:,.0f} MiB")
        print("slowest properties:", ", ".join(f"{n} {s}s ({b})"
                                               for n, b, s in run["slowest_properties"]))
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps({"runs": runs}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
