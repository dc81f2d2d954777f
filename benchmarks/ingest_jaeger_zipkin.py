"""Jaeger and Zipkin JSON ingest: the typed fast readers against the reference readers.

The workload of :mod:`benchmarks.ingest` (generated traces rendered as Jaeger query-API JSON and
Zipkin v2 JSON), each loaded with ``load_bytes(...).build()`` with ``OTLSPEC_FAST_READERS`` on
and off, the four runs interleaved in every round; medians of CPU seconds over the rounds (the
machine may be shared: CPU time is the steadier figure).

Usage::

    PYTHONPATH=. python benchmarks/ingest_jaeger_zipkin.py [--spans N] [--runs R]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import ingest

from workbench.traces.detect import FAST_READERS_ENV, gc_paused, load_bytes


def _cpu(data: bytes, fmt: str, fast: bool) -> tuple[float, int]:
    os.environ[FAST_READERS_ENV] = "1" if fast else "0"
    try:
        start = time.process_time()
        with gc_paused():
            n = load_bytes(data, "bench.json", fmt).build().n_spans
        return time.process_time() - start, n
    finally:
        os.environ.pop(FAST_READERS_ENV, None)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--spans", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    traces = ingest.generate(args.spans)
    docs = {"jaeger": ingest.to_jaeger(traces), "zipkin": ingest.to_zipkin(traces)}
    times: dict[tuple[str, bool], list[float]] = {}
    for _ in range(args.runs):
        for fmt, data in docs.items():
            for fast in (False, True):
                seconds, n = _cpu(data, fmt, fast)
                assert n == args.spans
                times.setdefault((fmt, fast), []).append(seconds)
    print(f"| format | B/span | reader | median CPU s | spans/CPU s |  ({args.runs} runs)")
    for fmt, data in docs.items():
        for fast in (False, True):
            t = statistics.median(times[(fmt, fast)])
            reader = "typed fast" if fast else "reference"
            print(f"| {fmt} | {len(data) / args.spans:.0f} | {reader} | {t:.3f} | "
                  f"{args.spans / t:,.0f} |")
        ratio = statistics.median(times[(fmt, False)]) / statistics.median(times[(fmt, True)])
        print(f"{fmt}: typed fast reader {ratio:.2f}x the reference reader (CPU)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
