"""The grouped evaluators (``unique_span_ids``, ``service_name_consistent``, ``no_parent_cycle``
and other count/pair shapes) per property and size: median seconds, spans/s, peak memory.

Usage::

    python benchmarks/grouped.py                           # 10k, 100k, 1M spans
    python benchmarks/grouped.py --sizes 10000 --repeat 3
    python benchmarks/grouped.py --baseline OLD.json       # ratios against an earlier run

The data is one wide table per size (traces of 500 spans, three services that differ only in
case, one duplicated span id per 97 spans) plus one trace of the same size, built by
:class:`~workbench.traces.builder.TableBuilder` (not timed). Each property's evaluator runs
``--repeat`` times; the table prints medians, spans/s and tracemalloc's peak, and the ratio
against ``--baseline`` (a JSON written by an earlier run, e.g. of the code before a change).
Results go to ``benchmarks/results/grouped.json`` (or ``--out``).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.append(str(ROOT))

EXTRA = """spec extra
property dup_names_guarded {
  check forall s in spans where s.kind == SERVER: count(x in spans where x.name == s.name) <= 400
}
property name_case {
  check forall a in spans, b in spans where a.name < b.name: lower(a.name) != lower(b.name)
}
"""


def build(n: int, per_trace: int) -> Any:
    from workbench.traces.builder import TableBuilder

    b = TableBuilder()
    services = ("cart", "Cart", "frontend")
    res = {s: b.add_resource([("service.name", s)]) for s in services}
    for i in range(n):
        t, k = divmod(i, per_trace)
        sid = 1 if i % 97 == 0 else i + 1
        b.add_span(trace_id=f"{t + 1:032x}", span_id=f"{sid:016x}",
                   parent_id=f"{(i // per_trace) * per_trace + 2:016x}" if k else "",
                   name=f"op{i % 7}", resource=res[services[i % 3]], kind=2 if i % 5 else 3,
                   start=1_000 + k, end=10_000_000 - k)
    return b.build()


def measure(n: int, repeat: int) -> list[dict[str, Any]]:
    from workbench.engine import grouped, reference
    from workbench.lang import parse_spec

    stdlib = parse_spec("spec all_of_stdlib\nimport stdlib\n")
    props = [stdlib.property(p) for p in
             ("unique_span_ids", "service_name_consistent", "no_parent_cycle")]
    props += list(parse_spec(EXTRA).properties)
    rows = []
    for layout, per_trace in (("traces of 500", 500), ("one trace", n)):
        table = build(n, per_trace)
        for prop in props:
            shape = grouped.match(prop.formula)
            assert shape is not None, prop.name
            times = []
            for _ in range(repeat):
                t0 = time.perf_counter()
                res = shape[1](prop, table, {}, reference.MAX_WITNESSES)
                times.append(time.perf_counter() - t0)
            tracemalloc.start()
            shape[1](prop, table, {}, reference.MAX_WITNESSES)
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            med = statistics.median(times)
            rows.append({"spans": n, "layout": layout, "property": prop.name,
                         "median_s": med, "spans_per_s": n / med if med else None,
                         "peak_mib": peak / 2**20,
                         "failing_traces": int((~res.holds).sum())})
            print(f"  {n} {layout} {prop.name}: {med:.4f} s", file=sys.stderr, flush=True)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--baseline", type=Path)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "grouped.json")
    args = ap.parse_args()
    base: dict[tuple[int, str, str], float] = {}
    if args.baseline:
        for r in json.loads(args.baseline.read_text())["rows"]:
            base[(r["spans"], r["layout"], r["property"])] = r["median_s"]
    rows = []
    for n in args.sizes:
        rows += measure(n, args.repeat)
    print(f"{'spans':>9} {'layout':<14} {'property':<26} {'median s':>9} {'spans/s':>11} "
          f"{'peak MiB':>9} {'fail':>5} {'speedup':>8}")
    for r in rows:
        old = base.get((r["spans"], r["layout"], r["property"]))
        r["speedup_vs_baseline"] = old / r["median_s"] if old and r["median_s"] else None
        sp = f"{r['speedup_vs_baseline']:.1f}x" if r["speedup_vs_baseline"] else "-"
        print(f"{r['spans']:>9} {r['layout']:<14} {r['property']:<26} {r['median_s']:>9.4f} "
              f"{r['spans_per_s'] or 0:>11,.0f} {r['peak_mib']:>9.1f} {r['failing_traces']:>5} "
              f"{sp:>8}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    import workbench

    args.out.write_text(json.dumps({"benchmark": "grouped", "repeat": args.repeat,
                                    "code": str(Path(workbench.__file__).parent),
                                    "rows": rows}, indent=1))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
