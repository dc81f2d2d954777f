"""``otlspec prove`` end to end under several strategies: Z3 work, wall time, verdicts.

Each (command, strategy) runs in a fresh interpreter, as the CLI does (``workbench.smt``
orders some terms by Z3 ids, so a shared process would not be reproducible), with
``PYTHONHASHSEED=0``. Even so the count of some commands moves by a few percent between
runs (``theorem proofs/hb_partial_order.py``: 4.2M to 4.4M; sets ordered by object address
shape some encodings), so ``--repeat N`` runs each pair N times and reports the median and the
spread. The cost is Z3's
cumulative resource count of the main context after the command (``rlimit count``: the same on
any machine for one Z3 version), plus the wall time (noisy on a shared machine). Verdicts are
compared with the first strategy's: they must be identical.

This is the measurement behind the default strategy: ``(then simplify smt)`` (``simplify-smt``)
against Z3's default, and the learned selector (``auto``, charged its feature time). Under
``portfolio`` the racers are child processes, so its resource count is the parent's alone
(features): compare its wall time only.

Usage::

    PYTHONPATH=. python benchmarks/strategy_e2e.py [--strategies default,simplify-smt,auto]
        [--output FILE]

Prints a table and writes ``benchmarks/results/strategy_e2e.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "strategy_e2e.json"

CASES = [
    ["vacuous", "stdlib"], ["vacuous", "specs/examples/vacuous.otlspec"],
    ["theorem", "proofs/hb_partial_order.py"], ["theorem", "proofs/false_lemmas.py"],
    ["theorem", "proofs/skew_containment.py"], ["theorem", "proofs/temporal_dualities.py"],
    ["theorem", "proofs/normalizer_rules.py"], ["consistent", "stdlib"],
    ["redundant", "stdlib.timing"], ["implies", "stdlib.timing", "stdlib.timing"],
]

CHILD = r"""
import contextlib, io, json, sys, time
sys.path.insert(0, sys.argv[1])
import z3
from workbench.cli import main
out, err = io.StringIO(), io.StringIO()
started = time.perf_counter()
with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
    code = main(["prove", *sys.argv[3:], "--strategy", sys.argv[2], "--format", "json"])
wall = time.perf_counter() - started
s = z3.Solver()
s.check()
print(json.dumps({"code": code, "rlimit": int(s.statistics().get_key_value("rlimit count")),
                  "wall": wall, "out": json.loads(out.getvalue() or "[]"),
                  "stderr": err.getvalue()[-400:]}))
"""


def _run(strategy: str, case: list[str]) -> dict[str, Any]:
    p = subprocess.run([sys.executable, "-c", CHILD, str(ROOT), strategy, *case],
                       capture_output=True, text=True, cwd=ROOT, check=False,
                       env={**os.environ, "PYTHONHASHSEED": "0"})
    lines = p.stdout.strip().splitlines()
    if p.returncode != 0 or not lines:
        raise RuntimeError(f"{strategy} {' '.join(case)}: {p.stderr[-800:]}")
    d = json.loads(lines[-1])
    d["verdicts"] = [[o.get("subject") or o.get("name"), o.get("status")] for o in d.pop("out")]
    return d


def _median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run of median resource count, with every count and wall time kept."""
    ordered = sorted(runs, key=lambda r: r["rlimit"])
    mid = dict(ordered[len(ordered) // 2])
    mid["rlimit_all"] = [r["rlimit"] for r in runs]
    mid["wall_all"] = [r["wall"] for r in runs]
    if any((r["code"], r["verdicts"]) != (mid["code"], mid["verdicts"]) for r in runs):
        mid["code"] = -1  # verdicts moved between repeats: reported as differing
    return mid


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--strategies", default="default,simplify-smt,auto")
    ap.add_argument("--repeat", type=int, default=1, help="runs per (command, strategy)")
    ap.add_argument("--only", default="", metavar="TEXT",
                    help="run only the commands containing TEXT (e.g. vacuous)")
    ap.add_argument("--output", default=str(RESULTS))
    args = ap.parse_args()
    strategies = [s.strip() for s in args.strategies.split(",") if s.strip()]

    rows = []
    head = f"{'command':40}" + "".join(f" {s + ' rlimit':>20} {'s':>6}" for s in strategies)
    print(head + "  verdicts")
    for case in [c for c in CASES if args.only in " ".join(c)]:
        runs = {s: _median_run([_run(s, case) for _ in range(max(1, args.repeat))])
                for s in strategies}
        first = runs[strategies[0]]
        same = all((r["code"], r["verdicts"]) == (first["code"], first["verdicts"])
                   for r in runs.values())
        print(f"{' '.join(case):40}" + "".join(
            f" {runs[s]['rlimit']:>20,} {runs[s]['wall']:>6.2f}" for s in strategies)
            + f"  {'identical' if same else 'DIFFER'}", flush=True)
        rows.append({"command": case, "identical_verdicts": same,
                     "runs": {s: {k: v for k, v in r.items() if k != "stderr"}
                              for s, r in runs.items()}})
    totals = {s: sum(r["runs"][s]["rlimit"] for r in rows) for s in strategies}
    walls = {s: sum(r["runs"][s]["wall"] for r in rows) for s in strategies}
    base = strategies[0]
    print(f"{'total':40}" + "".join(f" {totals[s]:>20,} {walls[s]:>6.1f}" for s in strategies))
    print(f"{'ratio to ' + base:40}" + "".join(
        f" {totals[s] / totals[base]:>20.3f} {walls[s] / walls[base]:>6.2f}"
        for s in strategies))
    worse = {s: [" ".join(r["command"]) for r in rows
                 if r["runs"][s]["rlimit"] > r["runs"][base]["rlimit"]] for s in strategies}
    for s in strategies[1:]:
        print(f"{s}: more Z3 work than {base} on {len(worse[s])} of {len(rows)}: "
              + (", ".join(worse[s]) or "none"))
    ok = all(r["identical_verdicts"] for r in rows)
    print("verdicts identical across strategies: " + ("yes" if ok else "NO"))
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"strategies": strategies, "rows": rows, "rlimit_total": totals,
                               "wall_total": walls, "python": sys.version.split()[0]},
                              indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
