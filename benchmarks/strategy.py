"""Proof-strategy selection benchmark: SBS, VBS, the recommender, races and probe trees.

Reads the labels of the obligation corpus (``datasets/obligations/labels.jsonl.gz``, made by
``otlspec strategy label``), runs the grouped cross-validation of
:func:`workbench.strategy.evaluate.evaluate` (folds by spec family) and prints, side by side,
Z3's default, the single best strategy (SBS), the virtual best (VBS), the learned selector
(charged its feature time), a random choice, a two-strategy schedule, the selector's top-k
raced (``--strategy portfolio``), the k best training strategies raced, and a learned probe
tree compiled to a Z3 ``cond`` tactic: solved counts, PAR-2 in Z3 resource units
(deterministic) and in seconds, and the fraction of the SBS-VBS gap each closes, in both units.

Then ``(then simplify smt)`` against Z3's default per obligation kind (should it be the
default?), the probe tree learned on every label with its tactic, and, when the corpus'
SMT-LIB files are present (``otlspec strategy corpus``), real races on a seeded sample:
wall time of the race (process start included) against the SBS run in-process, and whether
every race gave the single-strategy verdict; and the compiled ``cond`` tactic run for real,
its resource count against the label of the leaf it chose.

Usage::

    PYTHONPATH=. python benchmarks/strategy.py [--labels FILE] [--folds K] [--k K]
        [--sample M] [--seed S] [--output FILE]

Prints tables and writes ``benchmarks/results/strategy.json``.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import platform
import random
import resource
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from workbench.strategy.cond import Cond, learn  # noqa: E402
from workbench.strategy.evaluate import cond_candidates, evaluate, head_to_head  # noqa: E402
from workbench.strategy.label import Label, read_labels  # noqa: E402
from workbench.strategy.model import MODEL_PATH, CostModel, cost  # noqa: E402
from workbench.strategy.portfolio import run_strategy, strategy  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "strategy.json"
CORPUS = ROOT / "datasets" / "obligations"


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:+.1f}%"


def _table(report: dict[str, Any]) -> None:
    m = report["methods"]
    base = m["default"]
    closed = report["gap_closed_by"]
    print(f"{report['obligations']} obligations, {report['families']} spec families, "
          f"{len(report['folds'])} folds grouped by family; rlimit {report['rlimit']:,}, "
          f"timeout {report['timeout_s']} s; portfolio k={report['portfolio']['k']}")
    print(f"{'method':16} {'solved':>7} {'PAR-2 rlimit':>13} {'x dflt':>7} {'PAR-2 s':>9} "
          f"{'x dflt':>7} {'gap closed rlimit':>18} {'gap closed s':>13}")
    for name, r in m.items():
        c = closed.get(name, {})
        print(f"{name:16} {r['solved']:>7} {r['par2_rlimit_mean']:>13,.0f} "
              f"{r['par2_rlimit_mean'] / base['par2_rlimit_mean']:>7.3f} "
              f"{r['par2_seconds']:>9.2f} {r['par2_seconds'] / base['par2_seconds']:>7.3f} "
              f"{'' if not c else _pct(c['rlimit']):>18} "
              f"{'' if not c else _pct(c['seconds']):>13}")
    gap = report["sbs_vbs_gap"]
    print(f"SBS-VBS gap: {gap['rlimit']:,.0f} rlimit = {100 * gap['rlimit_fraction_of_sbs']:.1f}%"
          f" of SBS; {gap['seconds']:.2f} s = {100 * gap['seconds_fraction_of_sbs']:.1f}% of "
          "SBS (the seconds VBS is a least of noisy times)")
    print(f"portfolio CPU: {report['portfolio']['cpu_seconds']:.2f} s for "
          f"{m['portfolio']['par2_seconds']:.2f} s of wall time")
    print("SBS per fold: " + ", ".join(f["sbs"] for f in report["folds"]))
    print("selector picks: " + ", ".join(f"{k} {v}" for k, v in
                                         report["selector_picks"].items()))


def _head_to_head(labels: list[Label]) -> dict[str, Any]:
    h2h = head_to_head(labels, "default", "simplify-smt")
    print("\n(then simplify smt) against Z3's default, per kind (labels: one non-incremental "
          "check each)")
    print(f"{'kind':12} {'n':>5} {'default rlimit':>15} {'simplify rlimit':>16} "
          f"{'default s':>10} {'simplify s':>11} {'wins':>5} {'losses':>7}")
    for kind, r in h2h.items():
        a, b = r["default"], r["simplify-smt"]
        print(f"{kind:12} {r['obligations']:>5} {a['par2_rlimit_mean']:>15,.0f} "
              f"{b['par2_rlimit_mean']:>16,.0f} {a['par2_seconds']:>10.2f} "
              f"{b['par2_seconds']:>11.2f} {r['wins']:>5} {r['losses']:>7}")
    return h2h


def _sample(labels: list[Label], size: int, seed: int) -> list[Label]:
    by_kind: dict[str, list[Label]] = {}
    for lab in labels:
        by_kind.setdefault(lab.kind, []).append(lab)
    rng = random.Random(seed)
    per = max(1, size // max(len(by_kind), 1))
    out = []
    for kind in sorted(by_kind):
        group = sorted(by_kind[kind], key=lambda lab: lab.id)
        out += rng.sample(group, min(per, len(group)))
    return out


def _texts(ids: set[str]) -> dict[str, str]:
    """SMT-LIB of the obligations ``ids`` whose files are present and match the manifest."""
    manifest = json.loads((CORPUS / "manifest.json").read_text(encoding="utf-8"))
    out = {}
    for m in manifest["obligations"]:
        path = CORPUS / "smt2" / f"{m['id']}.smt2.gz"
        if m["id"] in ids and path.exists():
            text = gzip.decompress(path.read_bytes()).decode()
            if hashlib.sha256(text.encode()).hexdigest() == m["sha256"]:
                out[m["id"]] = text
    return out


def _measured(labels: list[Label], tree: Cond | str, k: int, size: int, seed: int
              ) -> dict[str, Any] | None:
    """Real races and real cond runs on a sample, when the SMT-LIB files are present."""
    from workbench.strategy.race import race

    if not (CORPUS / "smt2").is_dir():
        print(f"\nmeasured races: skipped ({CORPUS / 'smt2'} absent; "
              "`otlspec strategy corpus` makes it)")
        return None
    sample = {lab.id: lab for lab in _sample(labels, size, seed)}
    texts = _texts(set(sample))
    model = CostModel.load(MODEL_PATH)
    names = sorted({s for lab in labels for s in lab.runs})
    sbs = min(names, key=lambda s: (sum(cost(lab, s) for lab in labels), s))  # on all labels
    rows = []
    for oid, lab in sample.items():
        if oid not in texts:
            continue
        text = texts[oid]
        started = time.perf_counter()  # context, parse and check: what a race pays too
        single = run_strategy(text, strategy(sbs))
        single_wall = time.perf_counter() - started
        started = time.perf_counter()
        pred = model.predict(lab.features)
        raced = sorted(model.strategies, key=lambda s: pred[s])[:k]
        out = race(text, [strategy(s) for s in raced])
        wall = time.perf_counter() - started
        row: dict[str, Any] = {"id": oid, "kind": lab.kind, "single_s": single_wall,
                               "single_check_s": single.seconds,
                               "single_status": single.status, "race_s": wall,
                               "race_status": None if out.winner is None
                               else out.winner.value.status,
                               "winner": None if out.winner is None else out.winner.name}
        if isinstance(tree, Cond):
            leaf = tree.leaf(lab.features)
            run = run_strategy(text, tree.as_strategy("cond"))
            row.update(cond_leaf=leaf, cond_status=run.status, cond_rlimit=run.rlimit,
                       cond_s=run.seconds, leaf_label_rlimit=lab.runs[leaf].rlimit)
        rows.append(row)
    if not rows:
        print("\nmeasured races: no sampled obligation found in the corpus files")
        return None
    agree = sum(r["race_status"] == r["single_status"] for r in rows)
    print(f"\nmeasured on {len(rows)} sampled obligations (seed {seed}), race of the top {k}:")
    print(f"  verdict equal to the single {sbs} run: {agree}/{len(rows)}")
    print(f"  wall (Z3 context, parse and check): single {sbs} in-process total "
          f"{sum(r['single_s'] for r in rows):.2f} s "
          f"(median {1e3 * statistics.median(r['single_s'] for r in rows):.1f} ms); race total "
          f"{sum(r['race_s'] for r in rows):.2f} s (median "
          f"{1e3 * statistics.median(r['race_s'] for r in rows):.1f} ms, forks included)")
    res: dict[str, Any] = {"rows": rows, "verdicts_equal": agree, "k": k}
    if isinstance(tree, Cond):
        same = sum(r["cond_status"] == r["single_status"] for r in rows)
        ratio = [r["cond_rlimit"] / max(r["leaf_label_rlimit"], 1) for r in rows]
        print(f"  cond tactic: verdict equal {same}/{len(rows)}; its rlimit over the chosen "
              f"leaf's label: median {statistics.median(ratio):.3f}, "
              f"max {max(ratio):.3f}")
        res["cond_verdicts_equal"] = same
        res["cond_rlimit_over_leaf_median"] = statistics.median(ratio)
    return res


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--labels", default=str(CORPUS / "labels.jsonl.gz"))
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--k", type=int, default=3, help="strategies a portfolio races")
    ap.add_argument("--sample", type=int, default=60, help="obligations raced for real")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--output", default=str(RESULTS))
    args = ap.parse_args()

    labels = read_labels(args.labels)
    if not labels:
        print(f"{args.labels}: no labels; run `otlspec strategy label`", file=sys.stderr)
        return 2
    started = time.perf_counter()
    report = evaluate(labels, folds=args.folds, seed=args.seed, k=args.k)
    seconds = time.perf_counter() - started
    _table(report)
    report["head_to_head"] = _head_to_head(labels)
    strategies = sorted({s for lab in labels for s in lab.runs})
    tree = learn(labels, cond_candidates(strategies))
    shown = tree if isinstance(tree, str) else f"{tree.render()}\n  tactic: {tree.tactic()}"
    print(f"\nprobe tree learned on all labels: {shown}")
    report["cond_all"] = tree if isinstance(tree, str) else {"tree": tree.render(),
                                                             "tactic": tree.tactic()}
    report["measured"] = _measured(labels, tree, args.k, args.sample, args.seed)
    feat = [lab.feature_seconds for lab in labels]
    solve = [lab.runs["default"].seconds for lab in labels if "default" in lab.runs]
    print(f"\nmedian feature time {1e3 * statistics.median(feat):.1f} ms; median default "
          f"solve {1e3 * statistics.median(solve):.1f} ms")
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
