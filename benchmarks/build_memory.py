"""CPU time and peak RSS of :meth:`TableBuilder.build` (the span table's build step).

Usage::

    python benchmarks/build_memory.py /tmp/otlspec-e2e/otlp-json-1000000/traces
    python benchmarks/build_memory.py DIR --tree /tmp/main --tree . --repeat 3   # side by side

Loads every file of the directory (OTLP JSON, one core) into one builder, then builds the
table. The peak RSS of the build alone is the process's high-water mark after it was reset
(``/proc/self/clear_refs``, Linux) just before ``build()``; it is given in MiB and in bytes
per span above the RSS after loading (the load's own peak is printed too). ``--repeat`` runs
the whole measurement in that many fresh processes per tree (``--tree``: the source trees to
import ``workbench`` from, run in turn, so a before/after shares the machine's load) and
prints each line; the first run may compile kernels. The lines are also written to
``benchmarks/results/build_memory.json``.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import time
from pathlib import Path


def _status(key: str) -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(key):
                return int(line.split()[1]) * 1024
    raise KeyError(key)


def measure(directory: str) -> str:
    """One measurement in this process; returns its line."""
    from workbench.traces.builder import TableBuilder
    from workbench.traces.detect import load_bytes

    files = sorted(str(p) for p in Path(directory).iterdir() if p.is_file())
    nbytes = sum(os.path.getsize(f) for f in files)
    rss0 = _status("VmRSS")
    b = TableBuilder()
    t0 = time.process_time()
    for f in files:
        load_bytes(Path(f).read_bytes(), f, "otlp-json", b)
    gc.collect()
    load_cpu = time.process_time() - t0
    n = max(len(b), 1)
    loaded = _status("VmRSS")
    load_peak = _status("VmHWM")
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")  # reset the high-water mark
    c0, w0 = time.process_time(), time.perf_counter()
    table = b.build()
    c1, w1 = time.process_time(), time.perf_counter()
    hwm = _status("VmHWM")
    del table
    return (f"spans={n} input={nbytes / 2**20:.0f}MiB load_cpu={load_cpu:.1f}s "
            f"retained_after_load={(loaded - rss0) / n:.0f}B/span build_cpu={c1 - c0:.2f}s "
            f"build_wall={w1 - w0:.2f}s build_peak_rss={hwm / 2**20:.0f}MiB "
            f"build_peak_above_loaded={(hwm - loaded) / n:.0f}B/span "
            f"load_peak_rss={load_peak / 2**20:.0f}MiB "
            f"peak_above_input={(hwm - nbytes) / n:.0f}B/span")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("directory")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--tree", action="append", default=[],
                    help="source tree to import workbench from (repeatable; default: this one)")
    ap.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.inner:
        print(measure(args.directory), flush=True)
        return
    root = Path(__file__).resolve().parents[1]
    trees = [str(Path(t).resolve()) for t in args.tree] or [str(root)]
    lines: list[dict[str, str]] = []
    for _ in range(args.repeat):
        for tree in trees:
            env = {**os.environ, "PYTHONPATH": tree}
            out = subprocess.run([sys.executable, __file__, args.directory, "--inner"],
                                 env=env, check=True, capture_output=True, text=True).stdout
            line = out.strip().splitlines()[-1]
            print(f"{tree}: {line}", flush=True)
            lines.append({"tree": tree, "result": line})
    results = root / "benchmarks" / "results"
    results.mkdir(parents=True, exist_ok=True)
    (results / "build_memory.json").write_text(json.dumps(lines, indent=1) + "\n")


if __name__ == "__main__":
    main()
