"""Quantile aggregates: the reference interpreter against the numba CPU backend.

Usage::

    python benchmarks/quantile.py                       # 200 traces of 50 spans
    python benchmarks/quantile.py --traces 1000 --spans 100

Builds a synthetic table (one root per trace, the other spans its children, durations
spread 1..N ms), then times each property once on the reference and, after one warm-up run
(kernel compilation), the best of ``--repeat`` numba runs. The compiled quantile is
quadratic in the size of the set it ranges over (it has no sort), the reference sorts.
Prints a table and writes ``benchmarks/results/quantile.json``; verdicts must agree.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from workbench.engine import numba_cpu, reference
from workbench.engine.compiled import Timings, check_property
from workbench.lang import parse_spec
from workbench.traces.model import SpanTable
from workbench.traces.records import SpanRecord, to_table

ROOT = Path(__file__).resolve().parents[1]
T0 = 1_700_000_000_000_000_000
MS = 1_000_000
SPEC = """
property p99_children { check forall r in roots: p99(c in children(r): c.duration) < 45ms }
property p50_trace { check p50(x in spans where not x.is_root: x.duration) < 30ms }
property max_trace { check max(x in spans where not x.is_root: x.duration) < 45ms }
"""


def table(traces: int, spans: int, seed: int = 0) -> SpanTable:
    rng = np.random.default_rng(seed)
    records = []
    for t in range(traces):
        tid = f"{t + 1:032x}"
        records.append(SpanRecord(tid, f"{t * spans + 1:016x}", "", "root", 2, 0, "", T0,
                                  T0 + 100 * MS))
        for k in range(1, spans):
            dur = int(rng.integers(1, spans)) * MS
            records.append(SpanRecord(tid, f"{t * spans + k + 1:016x}", f"{t * spans + 1:016x}",
                                      "child", 3, 0, "", T0 + k, T0 + k + dur))
    return to_table(records)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--traces", type=int, default=200)
    ap.add_argument("--spans", type=int, default=50)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "quantile.json"))
    args = ap.parse_args()
    tab = table(args.traces, args.spans)
    runner = numba_cpu.runner()
    rows = []
    for prop in parse_spec(SPEC).properties:
        start = time.perf_counter()
        ref = reference.check_property(prop, tab, {})
        ref_s = time.perf_counter() - start
        check_property(runner, prop, tab, {}, Timings())  # compile + indexes
        best = float("inf")
        for _ in range(args.repeat):
            start = time.perf_counter()
            got = check_property(runner, prop, tab, {}, Timings())
            best = min(best, time.perf_counter() - start)
        agree = bool(np.array_equal(got.holds, ref.holds))
        rows.append({"property": prop.name, "reference_s": ref_s, "numba_s": best,
                     "failed": int((~ref.holds).sum()), "agree": agree})
    print(f"{args.traces} traces x {args.spans} spans")
    print(f"{'property':16} {'reference s':>12} {'numba s':>10} {'failed':>7} agree")
    for r in rows:
        print(f"{r['property']:16} {r['reference_s']:12.4f} {r['numba_s']:10.4f} "
              f"{r['failed']:7d} {r['agree']}")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"traces": args.traces, "spans": args.spans, "rows": rows},
                              indent=2) + "\n")


if __name__ == "__main__":
    main()
