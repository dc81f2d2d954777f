"""Held-out evaluation of the selector against fixed choices.

Cross-validation grouped by spec family (a family's base obligations and all its variants fall
in one fold, so no near-duplicate is in both training and test). In each fold:

``default``   Z3's default strategy
``SBS``       the single best strategy of the training folds (least total PAR-2)
``VBS``       the virtual best: the best strategy of each test obligation (an oracle)
``selector``  the strategy the cost model trained on the other folds picks with the shipped
              features (IR counts, kind, N and Z3's probes on the goal); charged the IR walk
              and the probes
``selector-ir``  the same model on the features known before encoding (IR counts, kind, N);
              charged the IR walk
``random``    the expected cost of a uniformly random strategy
``schedule``  the two best training strategies in turn, half the resource limit each
``portfolio`` the selector's ``k`` best-ranked strategies raced in parallel (``otlspec prove
              --strategy portfolio``): the fastest of them answers; charged its features
``race-sbs``  the ``k`` best training strategies raced, the same for every obligation: a race
              that needs no features
``cond``      a probe tree learned on the training folds (:mod:`.cond`), compiled to one Z3
              ``(if ...)`` tactic, so it is charged no Python feature time

Costs are PAR-2: resource units (Z3's deterministic ``rlimit`` count) when answered, twice the
limit when not; and the same in seconds of wall time, where the selector and the portfolio are
charged the time their features took. Their resource cost is charged the features too, in
resource units: the feature seconds times the corpus's median rate of resource units per
second (over solved runs of at least 50 ms, timed in the same worker as the features).
The portfolio's ``rlimit`` cost is the least count among the raced (the deterministic
stand-in for "the first to finish"); its CPU time is ``k`` times its wall time, reported
apart. ``gap closed`` is ``(SBS - method) / (SBS - VBS)`` on PAR-2,
in resource units and in seconds; the seconds VBS takes the least of noisy wall times, so it
flatters the oracle.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

from workbench.strategy.cond import Cond, learn
from workbench.strategy.features import FEATURES, SELECTOR_FEATURES
from workbench.strategy.label import Label
from workbench.strategy.model import CostModel, cost, train
from workbench.strategy.portfolio import DEFAULT_RLIMIT, DEFAULT_TIMEOUT, names, strategy

METHODS = ("default", "SBS", "VBS", "selector", "selector-ir", "random", "schedule",
           "portfolio", "race-sbs", "cond")


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


def _median(xs: Sequence[float]) -> float:
    ys = sorted(xs)
    return ys[len(ys) // 2] if ys else 0.0


def ir_seconds_per_node(repeat: int = 20) -> float:
    """Seconds :func:`~workbench.strategy.features.ir_features` takes per IR node (measured
    now, on the whole standard library, as ``--strategy auto`` computes them)."""
    import time

    from workbench.smt.cli import load_spec_arg
    from workbench.strategy.features import ir_features

    spec = load_spec_arg("stdlib")
    formulas = [p.formula for p in spec.properties]
    params = {p.name: p.default.value for p in spec.params}
    started = time.perf_counter()
    for _ in range(repeat):
        nodes = ir_features(formulas, params)["ir.nodes"]
    return (time.perf_counter() - started) / repeat / max(nodes, 1.0)


def feature_rate(labels: Sequence[Label]) -> float:
    """Resource units per second of the labels' solved runs of at least 50 ms (median).

    Converts feature seconds into resource units; both are timed in the labelling worker.
    """
    return _median([r.rlimit / r.seconds for lab in labels for r in lab.runs.values()
                    if r.solved and r.seconds >= 0.05])


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


def _ranked(model: CostModel, features: dict[str, float]) -> list[str]:
    pred = model.predict(features)
    return sorted(model.strategies, key=lambda s: (pred[s], model.strategies.index(s)))


def cond_candidates(strategies: Sequence[str]) -> list[str]:
    """The portfolio members of ``strategies`` that can be leaves of a probe tree (a tactic
    or Z3's default, no parameters, not a probe tree themselves)."""
    known = set(names())
    return [s for s in strategies if s in known and not strategy(s).params
            and not (strategy(s).tactic or "").startswith("(if ")]


def evaluate(labels: Sequence[Label], folds: int = 5, seed: int = 0,
             rlimit: int = DEFAULT_RLIMIT, timeout: float = DEFAULT_TIMEOUT,
             trees: int = 24, k: int = 3, cond_depth: int = 2) -> dict[str, Any]:
    """The evaluation report (see the module docstring) as a JSON-friendly dict.

    ``k`` is the number of strategies the portfolio races; ``cond_depth`` the depth of the
    learned probe tree (its row is left out when no strategy can be a tactic branch).
    """
    labels = list(labels)
    strategies = sorted({s for lab in labels for s in lab.runs})
    candidates = cond_candidates(strategies)
    groups = folds_by_family(labels, folds, seed)
    rows: dict[str, dict[str, list[Any]]] = {
        m: {"cost": [], "solved": [], "rlimit": [], "time": []}
        for m in METHODS if m != "cond" or candidates}
    picks: dict[str, int] = {}
    per_fold = []
    rate = feature_rate(labels)
    per_node = ir_seconds_per_node()
    portfolio_cpu = 0.0

    def record(m: str, c: float, ok: bool, t: float) -> None:
        rows[m]["cost"].append(c)
        rows[m]["solved"].append(ok)
        rows[m]["rlimit"].append(c if ok else float(rlimit))
        rows[m]["time"].append(t)

    for fold, test_idx in enumerate(groups):
        test_set = set(test_idx)
        train_labels = [lab for i, lab in enumerate(labels) if i not in test_set]
        test = [labels[i] for i in test_idx]
        if not train_labels or not test:
            continue
        totals = {s: sum(cost(lab, s, rlimit) for lab in train_labels) for s in strategies}
        ranked = sorted(strategies, key=lambda s: (totals[s], s))
        sbs, second = ranked[0], ranked[1] if len(ranked) > 1 else ranked[0]
        model = train(train_labels, strategies, seed=seed, trees=trees, rlimit=rlimit,
                      features=FEATURES)
        ir_model = train(train_labels, strategies, seed=seed, trees=trees, rlimit=rlimit,
                         features=SELECTOR_FEATURES)
        tree: Cond | str | None = learn(train_labels, candidates, cond_depth, rlimit=rlimit) \
            if candidates else None
        fold_fams = sorted({lab.family for lab in test})
        for lab in test:
            for m, s in (("default", "default"), ("SBS", sbs)):
                record(m, cost(lab, s, rlimit), _solved(lab, s, rlimit),
                       _time_cost(lab, s, timeout))
            best = min(strategies, key=lambda s: cost(lab, s, rlimit))
            record("VBS", cost(lab, best, rlimit), _solved(lab, best, rlimit),
                   min(_time_cost(lab, s, timeout) for s in strategies))
            ir_secs = lab.features.get("ir.nodes", 0.0) * per_node
            feat_secs = lab.feature_seconds + ir_secs
            pick = model.choose(lab.features)
            picks[pick] = picks.get(pick, 0) + 1
            record("selector", cost(lab, pick, rlimit) + feat_secs * rate,
                   _solved(lab, pick, rlimit), _time_cost(lab, pick, timeout) + feat_secs)
            ipick = ir_model.choose(lab.features)
            record("selector-ir", cost(lab, ipick, rlimit) + ir_secs * rate,
                   _solved(lab, ipick, rlimit), _time_cost(lab, ipick, timeout) + ir_secs)
            n = len(strategies)
            record("random", sum(cost(lab, s, rlimit) for s in strategies) / n,
                   sum(_solved(lab, s, rlimit) for s in strategies) / n >= 0.5,
                   sum(_time_cost(lab, s, timeout) for s in strategies) / n)
            c, ok = _schedule_cost(lab, sbs, second, rlimit)
            record("schedule", c, ok, _time_cost(lab, sbs, timeout) if _solved(
                lab, sbs, rlimit / 2) else timeout + _time_cost(lab, second, timeout))
            raced = _ranked(model, lab.features)[:k]
            wall = min(_time_cost(lab, s, timeout) for s in raced)
            record("portfolio", min(cost(lab, s, rlimit) for s in raced) + feat_secs * rate,
                   any(_solved(lab, s, rlimit) for s in raced), wall + feat_secs)
            portfolio_cpu += len(raced) * wall + feat_secs
            record("race-sbs", min(cost(lab, s, rlimit) for s in ranked[:k]),
                   any(_solved(lab, s, rlimit) for s in ranked[:k]),
                   min(_time_cost(lab, s, timeout) for s in ranked[:k]))
            if tree is not None:
                leaf = tree if isinstance(tree, str) else tree.leaf(lab.features)
                record("cond", cost(lab, leaf, rlimit), _solved(lab, leaf, rlimit),
                       _time_cost(lab, leaf, timeout))
        per_fold.append({"fold": fold, "families": fold_fams, "obligations": len(test),
                         "sbs": sbs, "schedule": [sbs, second], "race_sbs": ranked[:k],
                         "cond": None if tree is None else
                         tree if isinstance(tree, str) else tree.render()})
    methods = {m: _summary(r["cost"], r["solved"], r["rlimit"], r["time"])
               for m, r in rows.items()}
    sbs_c, vbs_c = methods["SBS"]["par2_rlimit_mean"], methods["VBS"]["par2_rlimit_mean"]
    sel_c, dflt_c = methods["selector"]["par2_rlimit_mean"], methods["default"][
        "par2_rlimit_mean"]
    gap = sbs_c - vbs_c
    sbs_s, vbs_s = methods["SBS"]["par2_seconds"], methods["VBS"]["par2_seconds"]

    def closed(m: str) -> dict[str, float | None]:
        c, t = methods[m]["par2_rlimit_mean"], methods[m]["par2_seconds"]
        return {"rlimit": (sbs_c - c) / gap if gap > 0 else None,
                "seconds": (sbs_s - t) / (sbs_s - vbs_s) if sbs_s > vbs_s else None}

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
        "gap_closed_by": {m: closed(m) for m in methods if m not in ("SBS", "VBS")},
        "sbs_vbs_gap": {"rlimit": gap, "seconds": sbs_s - vbs_s,
                        "rlimit_fraction_of_sbs": gap / sbs_c if sbs_c else None,
                        "seconds_fraction_of_sbs": (sbs_s - vbs_s) / sbs_s if sbs_s else None},
        "portfolio": {"k": k, "cpu_seconds": portfolio_cpu},
        "features": {"rlimit_per_second": rate, "ir_seconds_per_node": per_node,
                     "ir_seconds_median": _median([lab.features.get("ir.nodes", 0.0)
                                                   * per_node for lab in labels]),
                     "probe_seconds_median": _median([lab.feature_seconds for lab in labels]),
                     "probe_rlimit_charged_mean": rate * sum(lab.feature_seconds
                                                             for lab in labels)
                     / max(len(labels), 1)},
        "par2_vs_default": (sel_c - dflt_c) / dflt_c if dflt_c else None,
        "disagreements": [lab.id for lab in labels if lab.disagreement],
    }


def head_to_head(labels: Sequence[Label], a: str, b: str, rlimit: int = DEFAULT_RLIMIT,
                 timeout: float = DEFAULT_TIMEOUT) -> dict[str, dict[str, Any]]:
    """``a`` against ``b`` per obligation kind (and ``all``): solved, PAR-2 and wins.

    Measured on the labels, which solve each obligation as one non-incremental check (where a
    configured tactic applies); ``wins``/``losses`` count obligations where ``b`` costs less /
    more resource units than ``a``.
    """
    kinds = sorted({lab.kind for lab in labels})
    out: dict[str, dict[str, Any]] = {}
    for kind in [*kinds, "all"]:
        group = [lab for lab in labels if kind in ("all", lab.kind)]
        n = max(len(group), 1)
        row: dict[str, Any] = {"obligations": len(group)}
        for s in (a, b):
            row[s] = {"solved": sum(_solved(lab, s, rlimit) for lab in group),
                      "par2_rlimit_mean": sum(cost(lab, s, rlimit) for lab in group) / n,
                      "par2_seconds": sum(_time_cost(lab, s, timeout) for lab in group)}
        row["wins"] = sum(cost(lab, b, rlimit) < cost(lab, a, rlimit) for lab in group)
        row["losses"] = sum(cost(lab, b, rlimit) > cost(lab, a, rlimit) for lab in group)
        out[kind] = row
    return out


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.1f}%"


def render(report: dict[str, Any]) -> str:
    """The report as a text table."""
    lines = [f"{report['obligations']} obligations, {report['families']} families, "
             f"{len(report['folds'])} folds grouped by family; PAR-2 with rlimit "
             f"{report['rlimit']:,} and timeout {report['timeout_s']}s",
             f"{'method':16} {'solved':>7} {'PAR-2 rlimit (mean)':>20} {'PAR-2 s (total)':>16} "
             f"{'gap closed (rlimit)':>20} {'gap closed (s)':>15}"]
    closed = report.get("gap_closed_by", {})
    for m, r in report["methods"].items():
        c = closed.get(m, {})
        cr = "" if m in ("SBS", "VBS") else _pct(c.get("rlimit"))
        cs = "" if m in ("SBS", "VBS") else _pct(c.get("seconds"))
        lines.append(f"{m:16} {r['solved']:>7} {r['par2_rlimit_mean']:>20,.0f} "
                     f"{r['par2_seconds']:>16.2f} {cr:>20} {cs:>15}")
    gap, vs = report["gap_closed"], report["par2_vs_default"]
    comp = report["complementarity"]
    sv = report.get("sbs_vbs_gap", {})
    lines.append(f"SBS-VBS gap: {sv.get('rlimit', 0):,.0f} rlimit "
                 f"({_pct(sv.get('rlimit_fraction_of_sbs'))} of SBS), "
                 f"{sv.get('seconds', 0):.2f} s ({_pct(sv.get('seconds_fraction_of_sbs'))} of "
                 f"SBS); closed by the selector: {_pct(gap)}; selector PAR-2 vs default: "
                 f"{'n/a' if vs is None else f'{100 * vs:+.1f}%'}")
    lines.append(f"complementarity: VBS is {100 * comp['vbs_sbs_gap_fraction_of_sbs']:.1f}% "
                 f"below the SBS ({comp['sbs_on_all']}) in PAR-2 on all obligations")
    if "portfolio" in report:
        pf = report["portfolio"]
        lines.append(f"portfolio races k={pf['k']}: {pf['cpu_seconds']:.2f} CPU s in all")
    if "features" in report:
        ft = report["features"]
        lines.append(f"features charged at {ft['rlimit_per_second']:,.0f} rlimit/s: IR walk "
                     f"{1e3 * ft['ir_seconds_median']:.3f} ms, probes "
                     f"{1e3 * ft['probe_seconds_median']:.3f} ms (medians)")
    lines.append("selector picks: " + ", ".join(f"{k} {v}" for k, v in
                                                report["selector_picks"].items()))
    if report["disagreements"]:
        lines.append(f"DISAGREEMENTS: {', '.join(report['disagreements'][:10])}")
    return "\n".join(lines)


__all__ = ["METHODS", "cond_candidates", "evaluate", "folds_by_family", "head_to_head", "render"]
