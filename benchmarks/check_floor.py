"""The engine's fixed cost per ``check()`` call on small tables (what a server pays per batch).

The stdlib on numba with warm kernels, on 1, 10 and 100 generated traces: CPU milliseconds per
call (median of ``--repeat``), on the same table object each call (its index cached: the cost
that depends only on the spec, params and backend) and on a fresh table each call (decoded from
OTLP protobuf, as ``otlspec serve`` builds its batches).

Usage::

    PYTHONPATH=. python benchmarks/check_floor.py [--repeat 20] [--compare OTHER_SOURCE_TREE]

``--compare`` runs the same measurement in a second source tree as well, alternating twice,
so a change and its baseline are measured side by side under the same machine load.
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


def measure(repeat: int) -> dict[str, dict[str, Any]]:
    """``{traces: {"spans", "same", "fresh"}}`` (CPU ms per call, medians)."""
    from workbench.datasets.generator import generate
    from workbench.datasets.writer import otlp_proto as write_otlp
    from workbench.engine import check
    from workbench.lang import load_spec
    from workbench.traces import otlp_proto
    from workbench.traces.builder import TableBuilder

    spec = load_spec("stdlib")
    out: dict[str, dict[str, Any]] = {}
    for n in (1, 10, 100):
        ds = generate(traces=n, seed=n)
        data = write_otlp(ds, ds.traces)

        def table(data: bytes = data) -> Any:
            b = TableBuilder()
            otlp_proto.load(data, "floor", b, fast=True)
            return b.build()

        t = table()
        for _ in range(3):
            check(spec, t, backend="numba")
        row: dict[str, Any] = {"spans": t.n_spans}
        for mode in ("same", "fresh"):
            tables = [t] * repeat if mode == "same" else [table() for _ in range(repeat)]
            cpu = []
            for x in tables:
                c0 = time.process_time()
                check(spec, x, backend="numba")
                cpu.append(time.process_time() - c0)
            row[mode] = round(sorted(cpu)[len(cpu) // 2] * 1e3, 2)
        out[str(n)] = row
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--compare", metavar="DIR")
    ap.add_argument("--only", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.only or not args.compare:
        sys.path.insert(0, os.getcwd())
        print(json.dumps(measure(args.repeat)))
        return
    for _ in range(2):
        for tree in (ROOT, Path(args.compare)):
            env = {**os.environ, "PYTHONPATH": str(tree)}
            got = subprocess.run([sys.executable, __file__, "--only", "--repeat", str(args.repeat)],
                                 cwd=tree, env=env, capture_output=True, text=True, check=True)
            print(f"{'this' if tree == ROOT else 'cmp':5s} {got.stdout.strip()}")


if __name__ == "__main__":
    main()
