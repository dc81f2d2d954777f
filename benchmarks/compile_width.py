"""numba compile time and memory of one property against its width (conjuncts of one flat
``and``), on a fresh kernel cache, beside the reference on the same property.

Usage::

    python benchmarks/compile_width.py                     # widths 5 10 25 50
    python benchmarks/compile_width.py --widths 5 25 100
    python benchmarks/compile_width.py --baseline OLD.json # ratios against an earlier run

Each width runs in its own subprocess with an empty ``OTLSPEC_CACHE_DIR`` (so numba compiles
from scratch and peak RSS is that compile's own); ``compile`` is the backend's own compile
timing, ``total`` the whole ``check`` (wall) and ``cpu`` its CPU time (the fair figure on a
shared machine). Results print as a table and go to
``benchmarks/results/compile_width.json`` (or ``--out``).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.append(str(ROOT))


def conjunction(width: int) -> str:
    """A flat conjunction of ``width`` distinct per-span terms (fields, attributes, arithmetic)."""
    terms = []
    for i in range(width):
        match i % 4:
            case 0:
                terms.append(f"s.duration >= {i}ns")
            case 1:
                terms.append(f's.name != "op-{i}"')
            case 2:
                terms.append(f's.attributes["k{i}"] != {i}')
            case _:
                terms.append(f"s.depth + {i} > 0")
    body = "\n    and ".join(terms)
    return f"spec wide\nproperty wide_{width} {{\n  check forall s in spans:\n    {body}\n}}\n"


def one(width: int, backend: str) -> dict[str, Any]:
    from tests.engine.differential import stdlib_data
    from workbench.engine import check
    from workbench.lang import parse_spec

    table = stdlib_data()
    spec = parse_spec(conjunction(width))
    t0, c0 = time.perf_counter(), time.process_time()
    result = check(spec, table, backend=backend)
    total, cpu = time.perf_counter() - t0, time.process_time() - c0
    return {"width": width, "backend": backend, "total_s": total, "cpu_s": cpu,
            "compile_s": result.timings.get("compile", 0.0),
            "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "failing": int(sum((~r.holds).sum() for r in result.results))}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--widths", type=int, nargs="+", default=[5, 10, 25, 50])
    ap.add_argument("--baseline", type=Path)
    ap.add_argument("--timeout", type=float, default=600)
    ap.add_argument("--out", type=Path,
                    default=ROOT / "benchmarks" / "results" / "compile_width.json")
    ap.add_argument("--one", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(one(int(args.one[0]), args.one[1])))
        return
    base = {}
    if args.baseline:
        base = {(r["width"], r["backend"]): r["compile_s"] or r["total_s"]
                for r in json.loads(args.baseline.read_text())["rows"]}
    rows = []
    for width in args.widths:
        for backend in ("numba", "reference"):
            with tempfile.TemporaryDirectory() as cache:
                env = {**os.environ, "OTLSPEC_CACHE_DIR": cache}
                try:
                    out = subprocess.run(
                        [sys.executable, __file__, "--one", str(width), backend], env=env,
                        capture_output=True, text=True, timeout=args.timeout, check=True)
                    rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
                except subprocess.TimeoutExpired:
                    rows.append({"width": width, "backend": backend, "total_s": None,
                                 "cpu_s": None,
                                 "compile_s": None, "peak_rss_mib": None, "failing": None,
                                 "note": f"killed after {args.timeout:.0f} s"})
    print(f"{'width':>6} {'backend':<10} {'compile s':>10} {'total s':>9} {'cpu s':>7} "
          f"{'peak MiB':>9} {'ratio':>7}")
    for r in rows:
        old = base.get((r["width"], r["backend"]))
        new = r["compile_s"] or r["total_s"]
        r["speedup_vs_baseline"] = old / new if old and new else None
        cs = f"{r['compile_s']:.2f}" if r["compile_s"] is not None else "-"
        ts = f"{r['total_s']:.2f}" if r["total_s"] is not None else r.get("note", "-")
        pk = f"{r['peak_rss_mib']:.0f}" if r["peak_rss_mib"] else "-"
        ratio = f"{r['speedup_vs_baseline']:.1f}x" if r["speedup_vs_baseline"] else "-"
        cpu = f"{r['cpu_s']:.2f}" if r.get("cpu_s") is not None else "-"
        print(f"{r['width']:>6} {r['backend']:<10} {cs:>10} {ts:>9} {cpu:>7} {pk:>9} {ratio:>7}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"benchmark": "compile_width", "rows": rows}, indent=1))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
