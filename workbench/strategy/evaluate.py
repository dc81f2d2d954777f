"""Held-out evaluation of the selector against fixed choices.

Cross-validation grouped by spec family (a family's base obligations and all its variants fall
in one fold, so no near-duplicate is in both training and test). In each fold:

``default``   Z3's default strategy
``SBS``       the single best strategy of the training folds (least total PAR-2)
``VBS``       the virtual best: the best strategy of each test obligation (an oracle)
``selector``  the strategy the cost model trained on the other folds picks
``random``    the expected cost of a uniformly random strategy
``schedule``  the two best training strategies in turn, half the resource limit each

Costs are PAR-2: resource units (Z3's deterministic ``rlimit`` count) when answered, twice the
limit when not; and the same in seconds of wall time, where the selector is charged the time
its features took. ``gap closed`` is ``(SBS - selector) / (SBS - VBS)`` on PAR-2.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

from workbench.strategy.label import Label
from workbench.strategy.model import cost, train
from workbench.strategy.portfolio import DEFAULT_RLIMIT, DEFAULT_TIMEOUT


def _time_cost(label: Label, strategy: str, timeout: float) -> float:
    run = label.runs.get(strategy)
    if run is None or not run.solved:
        return 2.0 * timeout
    return run.seconds


def _solved(label: Label, strategy: str, limit: float) -> bool:
    run = label.runs.get(strategy)
    return run is not None and run.solved and run.rlimit <= limit


def _schedule_cost(label: Label, first: str, second: str, rlimit: int) -> tuple[float, bool]:
    half = rlimit / 2
    if _solved(label, first, half):
        return float(max(label.runs[first].rlimit, 1)), True
    if _solved(label, second, half):
        return half + max(label.runs[second].rlimit, 1), True
    return 2.0 * rlimit, False


def folds_by_family(labels: Sequence[Label], folds: int, seed: int = 0) -> list[list[int]]:
    """Indices of ``labels`` in ``folds`` groups; each family lies in exactly one group.

    Families are dealt largest first to the currently smallest fold (ties by a seeded order),
    so folds are of similar size.
    """
    by_family: dict[str, list[int]] = {}
    for i, lab in enumerate(labels):
        by_family.setdefault(lab.family, []).append(i)
    fams = sorted(by_family)
    random.Random(seed).shuffle(fams)
    fams.sort(key=lambda f: -len(by_family[f]))
    k = max(1, min(folds, len(fams)))
    out: list[list[int]] = [[] for _ in range(k)]
    for f in fams:
        min(out, key=len).extend(by_family[f])
    return out


def _summary(costs: list[float], solved: list[bool], rlimits: list[float],
             times: list[float]) -> dict[str, Any]:
    n = max(len(costs), 1)
    return {"solved": int(sum(solved)), "par2_rlimit_mean": sum(costs) / n,
            "total_rlimit": sum(rlimits), "par2_seconds": sum(times),
            "mean_seconds": sum(times) / n}


def evaluate(labels: Sequence[Label], folds: int = 5, seed: int = 0,
             rlimit: int = DEFAULT_RLIMIT, timeout: float = DEFAULT_TIMEOUT,
             trees: int = 24) -> dict[str, Any]:
    """The evaluation report (see the module docstring) as a JSON-friendly dict."""
    labels = list(labels)
    strategies = sorted({s for lab in labels for s in lab.runs})
    groups = folds_by_family(labels, folds, seed)
    rows: dict[str, dict[str, list[Any]]] = {
        m: {"cost": [], "solved": [], "rlimit": [], "time": []}
        for m in ("default", "SBS", "VBS", "selector", "random", "schedule")}
    picks: dict[str, int] = {}
    per_fold = []

    def record(m: str, c: float, ok: bool, t: float) -> None:
        rows[m]["cost"].append(c)
        rows[m]["solved"].append(ok)
        rows[m]["rlimit"].append(c if ok else float(rlimit))
        rows[m]["time"].append(t)

    for k, test_idx in enumerate(groups):
        test_set = set(test_idx)
        train_labels = [lab for i, lab in enumerate(labels) if i not in test_set]
        test = [labels[i] for i in test_idx]
        if not train_labels or not test:
            continue
        totals = {s: sum(cost(lab, s, rlimit) for lab in train_labels) for s in strategies}
        ranked = sorted(strategies, key=lambda s: (totals[s], s))
        sbs, second = ranked[0], ranked[1] if len(ranked) > 1 else ranked[0]
        model = train(train_labels, strategies, seed=seed, trees=trees, rlimit=rlimit)
        fold_fams = sorted({lab.family for lab in test})
        for lab in test:
            for m, s in (("default", "default"), ("SBS", sbs)):
                record(m, cost(lab, s, rlimit), _solved(lab, s, rlimit),
                       _time_cost(lab, s, timeout))
            best = min(strategies, key=lambda s: cost(lab, s, rlimit))
            record("VBS", cost(lab, best, rlimit), _solved(lab, best, rlimit),
                   min(_time_cost(lab, s, timeout) for s in strategies))
            pick = model.choose(lab.features)
            picks[pick] = picks.get(pick, 0) + 1
            record("selector", cost(lab, pick, rlimit), _solved(lab, pick, rlimit),
                   _time_cost(lab, pick, timeout) + lab.feature_seconds)
            n = len(strategies)
            record("random", sum(cost(lab, s, rlimit) for s in strategies) / n,
                   sum(_solved(lab, s, rlimit) for s in strategies) / n >= 0.5,
                   sum(_time_cost(lab, s, timeout) for s in strategies) / n)
            c, ok = _schedule_cost(lab, sbs, second, rlimit)
            record("schedule", c, ok, _time_cost(lab, sbs, timeout) if _solved(
                lab, sbs, rlimit / 2) else timeout + _time_cost(lab, second, timeout))
        per_fold.append({"fold": k, "families": fold_fams, "obligations": len(test),
                         "sbs": sbs, "schedule": [sbs, second]})
    methods = {m: _summary(r["cost"], r["solved"], r["rlimit"], r["time"])
               for m, r in rows.items()}
    sbs_c, vbs_c = methods["SBS"]["par2_rlimit_mean"], methods["VBS"]["par2_rlimit_mean"]
    sel_c, dflt_c = methods["selector"]["par2_rlimit_mean"], methods["default"][
        "par2_rlimit_mean"]
    gap = sbs_c - vbs_c
    per_strategy = {s: {"solved": sum(_solved(lab, s, rlimit) for lab in labels),
                        "par2_rlimit_mean": sum(cost(lab, s, rlimit) for lab in labels)
                        / max(len(labels), 1)} for s in strategies}
    full_sbs = min(strategies, key=lambda s: per_strategy[s]["par2_rlimit_mean"])
    return {
        "obligations": len(labels),
        "families": len({lab.family for lab in labels}),
        "folds": per_fold,
        "rlimit": rlimit,
        "timeout_s": timeout,
        "methods": methods,
        "selector_picks": dict(sorted(picks.items(), key=lambda kv: -kv[1])),
        "per_strategy": per_strategy,
        "complementarity": {
            "sbs_on_all": full_sbs,
            "vbs_sbs_gap_fraction_of_sbs": (
                (per_strategy[full_sbs]["par2_rlimit_mean"]
                 - sum(min(cost(lab, s, rlimit) for s in strategies) for lab in labels)
                 / max(len(labels), 1)) / per_strategy[full_sbs]["par2_rlimit_mean"]),
        },
        "gap_closed": (sbs_c - sel_c) / gap if gap > 0 else None,
        "par2_vs_default": (sel_c - dflt_c) / dflt_c if dflt_c else None,
        "disagreements": [lab.id for lab in labels if lab.disagreement],
    }


def render(report: dict[str, Any]) -> str:
    """The report as a text table."""
    lines = [f"{report['obligations']} obligations, {report['families']} families, "
             f"{len(report['folds'])} folds grouped by family; PAR-2 with rlimit "
             f"{report['rlimit']:,} and timeout {report['timeout_s']}s",
             f"{'method':10} {'solved':>7} {'PAR-2 rlimit (mean)':>20} {'total rlimit':>15} "
             f"{'PAR-2 s (total)':>16}"]
    for m, r in report["methods"].items():
        lines.append(f"{m:10} {r['solved']:>7} {r['par2_rlimit_mean']:>20,.0f} "
                     f"{r['total_rlimit']:>15,.0f} {r['par2_seconds']:>16.2f}")
    gap, vs = report["gap_closed"], report["par2_vs_default"]
    comp = report["complementarity"]
    lines.append(f"SBS-VBS gap closed by the selector: "
                 f"{'n/a' if gap is None else f'{100 * gap:.1f}%'}; selector PAR-2 vs default: "
                 f"{'n/a' if vs is None else f'{100 * vs:+.1f}%'}")
    lines.append(f"complementarity: VBS is {100 * comp['vbs_sbs_gap_fraction_of_sbs']:.1f}% "
                 f"below the SBS ({comp['sbs_on_all']}) in PAR-2 on all obligations")
    lines.append("selector picks: " + ", ".join(f"{k} {v}" for k, v in
                                                report["selector_picks"].items()))
    if report["disagreements"]:
        lines.append(f"DISAGREEMENTS: {', '.join(report['disagreements'][:10])}")
    return "\n".join(lines)


__all__ = ["evaluate", "folds_by_family", "render"]
