"""Proof-strategy selection benchmark: the learned selector against fixed choices.

Reads the labels of the obligation corpus (``datasets/obligations/labels.jsonl.gz``, made by
``otlspec strategy label``), runs the grouped cross-validation of
:func:`workbench.strategy.evaluate.evaluate` (folds by spec family) and prints, side by side,
Z3's default, the single best strategy (SBS), the virtual best (VBS), the selector, a random
choice and a two-strategy schedule: solved counts, PAR-2 in Z3 resource units (deterministic)
and in seconds (the selector charged its feature time), ratios to the default, the fraction of
the SBS-VBS gap closed, the median feature time and the peak RSS.

Usage::

    PYTHONPATH=. python benchmarks/strategy.py [--labels FILE] [--folds K] [--seed S]

Prints a table and writes ``benchmarks/results/strategy.json``.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from workbench.strategy.evaluate import evaluate  # noqa: E402
from workbench.strategy.label import read_labels  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "strategy.json"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--labels", default=str(ROOT / "datasets" / "obligations" /
                                            "labels.jsonl.gz"))
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--output", default=str(RESULTS))
    args = ap.parse_args()

    labels = read_labels(args.labels)
    if not labels:
        print(f"{args.labels}: no labels; run `otlspec strategy label`", file=sys.stderr)
        return 2
    started = time.perf_counter()
    report = evaluate(labels, folds=args.folds, seed=args.seed)
    seconds = time.perf_counter() - started
    feat = [lab.feature_seconds for lab in labels]
    solve = [lab.runs["default"].seconds for lab in labels if "default" in lab.runs]
    m = report["methods"]
    base = m["default"]
    print(f"{report['obligations']} obligations, {report['families']} spec families, "
          f"{len(report['folds'])} folds grouped by family; rlimit {report['rlimit']:,}, "
          f"timeout {report['timeout_s']} s")
    print(f"{'method':10} {'solved':>7} {'PAR-2 rlimit':>14} {'x default':>10} "
          f"{'PAR-2 s':>9} {'x default':>10}")
    for name, r in m.items():
        print(f"{name:10} {r['solved']:>7} {r['par2_rlimit_mean']:>14,.0f} "
              f"{r['par2_rlimit_mean'] / base['par2_rlimit_mean']:>10.3f} "
              f"{r['par2_seconds']:>9.2f} {r['par2_seconds'] / base['par2_seconds']:>10.3f}")
    gap = report["gap_closed"]
    comp = report["complementarity"]
    print(f"SBS-VBS gap closed: {'n/a' if gap is None else f'{100 * gap:.1f}%'}; "
          f"selector PAR-2 (rlimit) vs default: {100 * report['par2_vs_default']:+.1f}%")
    print(f"complementarity: VBS {100 * comp['vbs_sbs_gap_fraction_of_sbs']:.1f}% below the "
          f"SBS ({comp['sbs_on_all']}) on all obligations")
    print(f"median feature time {1e3 * statistics.median(feat):.1f} ms; median default solve "
          f"{1e3 * statistics.median(solve):.1f} ms")
    print("selector picks: " + ", ".join(f"{k} {v}" for k, v in
                                         report["selector_picks"].items()))
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"evaluation {seconds:.1f} s, peak RSS {rss:.0f} MiB")
    report["benchmark"] = {"seconds": seconds, "peak_rss_mib": rss,
                           "median_feature_ms": 1e3 * statistics.median(feat),
                           "median_default_solve_ms": 1e3 * statistics.median(solve),
                           "python": platform.python_version(), "labels": args.labels}
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
