"""Running an experiment stage by stage: load -> compile -> check -> evaluate -> report.

:class:`Run` executes an :class:`~workbench.experiments.config.ExperimentConfig` and records
everything under ``RUNS/<id>/``:

* ``experiment.toml`` (the file as given) and ``config.json`` (resolved),
* ``environment.json`` (Python, platform, package versions, git commit and dirty flag),
* ``data/<dataset>-s<seed>/`` (generated datasets: traces, labels, manifest),
* ``results.json`` (datasets, per-property verdict counts, backend agreement, evaluations;
  timings apart under ``timings`` so that two runs can be compared),
* ``plots/*.png`` (precision/recall per fault class, violations per property),

and indexes the run and its metrics in ``RUNS/index.sqlite`` (:mod:`~.store`). Generation is
deterministic, so rerunning an experiment reproduces its metrics exactly.

:meth:`Run.stages` yields one :class:`Stage` at a time, with a text summary of what it did,
which is what ``otlspec experiment step`` shows between stages.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from workbench._version import __version__
from workbench.experiments import store
from workbench.experiments.config import DatasetConfig, ExperimentConfig

_PACKAGES = ("otlspec", "numpy", "numba", "lark", "msgspec", "z3-solver", "networkx",
             "opentelemetry-proto", "protobuf", "pyarrow", "pandas", "matplotlib", "sympy")
STAGES = ("load", "compile", "check", "evaluate", "report")


@dataclass
class Stage:
    """What one stage did: its name and a summary for people."""

    name: str
    summary: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class Instance:
    """One dataset as checked: a generated dataset at one seed, or a set of paths."""

    name: str
    seed: int | None
    path: str
    table: Any
    labels: list[Any] | None
    info: dict[str, Any]

    @property
    def key(self) -> str:
        return self.name if self.seed is None else f"{self.name}-s{self.seed}"


def environment(source: str | Path | None = None) -> dict[str, Any]:
    """Python, platform, package versions and the git state of ``source``'s checkout."""
    versions: dict[str, str | None] = {}
    for name in _PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    where = Path(source).resolve().parent if source else Path.cwd()
    commit, dirty = None, None
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=where, capture_output=True,
                                text=True, check=True, timeout=10).stdout.strip() or None
        status = subprocess.run(["git", "status", "--porcelain"], cwd=where,
                                capture_output=True, text=True, check=True, timeout=10).stdout
        dirty = bool(status.strip())
    except (OSError, subprocess.SubprocessError):
        pass
    return {"python": sys.version.split()[0], "implementation": platform.python_implementation(),
            "platform": platform.platform(), "machine": platform.machine(),
            "packages": versions, "git_commit": commit, "git_dirty": dirty}


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Run:
    """One execution of an experiment.

    Parameters
    ----------
    config
        The experiment.
    root
        The runs folder (``runs/``); the run goes to ``root/<id>/``.
    run_id
        Use this id instead of ``<name>-<UTC time>-<config hash>``.
    log
        Receives progress lines.
    """

    def __init__(self, config: ExperimentConfig, root: str | Path = "runs",
                 run_id: str | None = None, log: Callable[[str], None] | None = None) -> None:
        self.config = config
        self.root = Path(root)
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
        base = run_id or f"{config.name}-{stamp}-{config.sha256[:6]}"
        rid, k = base, 1
        while (self.root / rid).exists():
            k += 1
            rid = f"{base}-{k}"
        self.id = rid
        self.dir = self.root / rid
        self.log = log or (lambda _msg: None)
        self.instances: list[Instance] = []
        self.spec: Any = None
        self.values: dict[str, Any] | None = None
        self.checks: dict[tuple[str, str], Any] = {}
        self.evaluations: dict[tuple[str, str], Any] = {}
        self.timings: dict[str, float] = {}
        self.results: dict[str, Any] = {}

    # ------------------------------------------------------------------ driver
    def stages(self) -> Generator[Stage, None, None]:
        """Run the stages one by one, yielding after each."""
        started = time.perf_counter()
        self.dir.mkdir(parents=True)
        env = environment(self.config.source if self.config.source != "<experiment>" else None)
        (self.dir / "experiment.toml").write_text(self.config.text, encoding="utf-8")
        (self.dir / "config.json").write_text(json.dumps(self.config.to_json(), indent=2)
                                              + "\n", encoding="utf-8")
        (self.dir / "environment.json").write_text(json.dumps(env, indent=2) + "\n",
                                                   encoding="utf-8")
        con = store.connect(self.root)
        store.start_run(con, {"id": self.id, "experiment": self.config.name,
                              "config_sha256": self.config.sha256, "started": _now(),
                              "git_commit": env["git_commit"],
                              "git_dirty": None if env["git_dirty"] is None
                              else int(env["git_dirty"]),
                              "otlspec_version": __version__, "path": str(self.dir)})
        (self.dir / store.PID_FILE).write_text(str(os.getpid()), encoding="utf-8")
        status = "failed"
        try:
            for name in STAGES:
                t0 = time.perf_counter()
                stage = getattr(self, f"_{name}")()
                self.timings[name] = round(time.perf_counter() - t0, 3)
                try:
                    yield stage
                except GeneratorExit:  # the caller stopped here on purpose (`q` in step mode)
                    status = "stopped"
                    raise
            status = "ok"
        finally:
            (self.dir / store.PID_FILE).unlink(missing_ok=True)
            if status == "ok":
                store.add_metrics(con, self.id, self.metric_rows())
            store.finish_run(con, self.id, _now(), round(time.perf_counter() - started, 3),
                             status)
            con.close()

    def execute(self) -> Run:
        """Run every stage."""
        for _ in self.stages():
            pass
        return self

    # ------------------------------------------------------------------ stages
    def _load(self) -> Stage:
        from workbench.datasets.labels import read_labels
        from workbench.traces import load_traces

        rows = []
        for d in self.config.datasets:
            if not d.generated:
                table = load_traces(d.paths)
                inst = Instance(d.name, None, ", ".join(d.paths), table, None,
                                {"traces": table.n_traces, "spans": table.n_spans,
                                 "paths": d.paths, "diagnostics": len(table.diagnostics)})
                self.instances.append(inst)
                rows.append(inst)
                continue
            for seed in ([d.seed] if d.seed is not None else self.config.seeds):
                path, manifest = self._generate(d, seed)
                table = load_traces([str(path / "traces")])
                inst = Instance(d.name, seed, str(path), table, read_labels(path), {
                    "traces": table.n_traces, "spans": table.n_spans,
                    "faults": manifest["counts"]["faults"],
                    "behaviours": manifest["counts"]["behaviours"],
                    "files_sha256": [f["sha256"] for f in manifest["files"]],
                    "labels_sha256": manifest["labels"]["sha256"]})
                self.instances.append(inst)
                rows.append(inst)
        lines = [f"{'dataset':<20} {'seed':>5} {'traces':>7} {'spans':>8}  faults"]
        for i in rows:
            faults = sum(i.info.get("faults", {}).values()) if i.labels is not None else "-"
            lines.append(f"{i.key:<20} {i.seed if i.seed is not None else '-':>5} "
                         f"{i.info['traces']:>7} {i.info['spans']:>8}  {faults}")
        return Stage("load", "\n".join(lines), {"datasets": [self._inst_json(i) for i in rows]})

    def _generate(self, d: DatasetConfig, seed: int) -> tuple[Path, dict[str, Any]]:
        from workbench.datasets.faults import inject, parse_faults
        from workbench.datasets.generator import generate
        from workbench.datasets.writer import write_dataset

        self.log(f"generating {d.name} (seed {seed}, {d.traces} traces)")
        ds = generate(traces=d.traces, seed=seed, services=d.services, depth=d.depth,
                      messaging=d.messaging, error_scale=d.error_scale)
        faults = parse_faults(d.faults, d.traces, d.fault_rate)
        inject(ds, faults, seed=seed)
        path = self.dir / "data" / f"{d.name}-s{seed}"
        manifest = write_dataset(ds, path, format=d.format, traces_per_file=d.traces_per_file,
                                 faults=faults)
        return path, manifest

    def _compile(self) -> Stage:
        from workbench.engine import explain_backend
        from workbench.engine.regex import lint_patterns
        from workbench.lang import bind_params, lint_spec, load_specs, param_overrides

        spec = load_specs(self.config.specs)
        # lint the spec as written: once bound, every param looks unused
        warnings = [str(w) for w in [*lint_spec(spec), *lint_patterns(spec)]]
        if self.config.params:
            self.values = param_overrides(spec, self.config.params)
            spec = bind_params(spec, self.config.params)
        self.spec = spec
        plan: dict[str, dict[str, str]] = {}
        for b in self.config.backends:
            for p in spec.properties:
                plan.setdefault(p.name, {})[b] = explain_backend(p, b, self.values)[0]
        counts: dict[str, dict[str, int]] = {}
        for b in self.config.backends:
            per: dict[str, int] = {}
            for chosen in plan.values():
                per[chosen[b]] = per.get(chosen[b], 0) + 1
            counts[b] = per
        lines = [f"{len(spec.properties)} properties from {', '.join(self.config.specs)}",
                 f"params: {self.config.params or 'defaults'}"]
        for b, per in counts.items():
            lines.append(f"backend {b}: " + ", ".join(f"{n} on {k}" for k, n in per.items()))
        lines.append(f"lint: {len(warnings)} warning(s)")
        return Stage("compile", "\n".join(lines), {"plan": plan, "lint": warnings})

    def _check(self) -> Stage:
        from workbench.engine import check

        lines = []
        for inst in self.instances:
            for b in self.config.backends:
                self.log(f"checking {inst.key} with {b}")
                t0 = time.perf_counter()
                res = check(self.spec, inst.table, self.values, backend=b)
                self.timings[f"check:{inst.key}:{b}"] = round(time.perf_counter() - t0, 3)
                self.checks[(inst.key, b)] = res
                failing = sum(1 for r in res.results if r.n_failed)
                lines.append(f"{inst.key:<20} {b:<10} {failing:>3} of {len(res.results)} "
                             f"properties fail ({self.timings[f'check:{inst.key}:{b}']:.2f} s)")
        agreement = self._agreement()
        for a in agreement:
            lines.append(f"{a['dataset']}: backends {', '.join(a['backends'])} "
                         f"{'agree' if not a['disagreements'] else 'DISAGREE on '}"
                         f"{', '.join(a['disagreements'])}")
        return Stage("check", "\n".join(lines), {"agreement": agreement})

    def _agreement(self) -> list[dict[str, Any]]:
        import numpy as np

        out: list[dict[str, Any]] = []
        if len(self.config.backends) < 2:
            return out
        for inst in self.instances:
            results = [self.checks[(inst.key, b)] for b in self.config.backends]
            bad = [r.name for r in results[0].results
                   if any(not np.array_equal(r.holds, other[r.name].holds)
                          for other in results[1:])]
            out.append({"dataset": inst.key, "backends": list(self.config.backends),
                        "disagreements": bad})
        return out

    def _evaluate(self) -> Stage:
        from workbench.datasets.evaluation import evaluate

        lines = []
        for inst in self.instances:
            if inst.labels is None:
                continue
            for b in self.config.backends:
                ev = evaluate(self.checks[(inst.key, b)], inst.labels)
                self.evaluations[(inst.key, b)] = ev
                rec = [m.recall for m in ev.classes if m.recall is not None and m.claims]
                fps = ev.false_positives
                explained = sum(h.explanation.startswith("explained") for h in fps)
                lines.append(f"{inst.key:<20} {b:<10} {len(ev.injections)} injections, "
                             f"class recall min {min(rec) if rec else float('nan'):.2f}, "
                             f"{len(ev.false_negatives)} FN, {len(fps)} FP witnesses "
                             f"({explained} explained)")
        if not lines:
            lines.append("no labelled dataset: nothing to evaluate")
        return Stage("evaluate", "\n".join(lines))

    def _report(self) -> Stage:
        self.results = {
            "run": {"id": self.id, "experiment": self.config.name,
                    "description": self.config.description,
                    "config_sha256": self.config.sha256},
            "datasets": [self._inst_json(i) for i in self.instances],
            "checks": [{"dataset": k, "backend": b,
                        "failed_traces": {r.name: r.n_failed for r in res.results}}
                       for (k, b), res in self.checks.items()],
            "agreement": self._agreement(),
            "evaluations": [{"dataset": k, "backend": b, **ev.to_json()}
                            for (k, b), ev in self.evaluations.items()],
            "summary": summary_rows(self.evaluations),
        }
        plots = self._plots()
        self.results["plots"] = plots
        self.results["timings"] = self.timings
        (self.dir / "results.json").write_text(json.dumps(self.results, indent=2, default=str)
                                               + "\n", encoding="utf-8")
        text = render_summary(self.results)
        (self.dir / "summary.txt").write_text(text, encoding="utf-8")
        return Stage("report", f"{text}\nrun {self.id} recorded in {self.dir}")

    def _plots(self) -> list[str]:
        try:
            from matplotlib.figure import Figure
        except ImportError:  # pragma: no cover - optional dependency
            return []
        from workbench.explore import plots

        folder = self.dir / "plots"
        folder.mkdir(exist_ok=True)
        out = []
        for (key, b), ev in self.evaluations.items():
            fig = Figure(figsize=(9, 6))
            plots.precision_recall(ev, ax=fig.subplots())
            path = folder / f"precision-recall-{key}-{b}.png"
            fig.savefig(path, dpi=90, bbox_inches="tight")
            out.append(str(path.relative_to(self.dir)))
        for (key, b), res in self.checks.items():
            if not any(r.n_failed for r in res.results):
                continue
            fig = Figure(figsize=(8, 8))
            plots.violations_by_property(res, ax=fig.subplots())
            path = folder / f"violations-{key}-{b}.png"
            fig.savefig(path, dpi=90, bbox_inches="tight")
            out.append(str(path.relative_to(self.dir)))
        return out

    # ------------------------------------------------------------------ records
    @staticmethod
    def _inst_json(i: Instance) -> dict[str, Any]:
        return {"name": i.name, "seed": i.seed, "key": i.key, "path": i.path,
                "labelled": i.labels is not None, **i.info}

    def metric_rows(self) -> list[dict[str, Any]]:
        """Rows for the ``metrics`` table of the index."""
        rows: list[dict[str, Any]] = []
        seeds = {i.key: i.seed for i in self.instances}
        names = {i.key: i.name for i in self.instances}
        for (key, b), ev in self.evaluations.items():
            for scope, ms in (("class", ev.classes), ("property", ev.properties)):
                for m in ms:
                    rows.append({"dataset": names[key], "seed": seeds[key], "backend": b,
                                 "scope": scope, "name": m.name, "injections": m.injections,
                                 "detected": m.detected, "recall": m.recall,
                                 "alarms_true": m.alarms_true, "alarms_false": m.alarms_false,
                                 "false_explained": m.false_explained,
                                 "side_effects": m.alarms_side, "precision": m.precision})
        for (key, b), res in self.checks.items():
            for r in res.results:
                rows.append({"dataset": names[key], "seed": seeds[key], "backend": b,
                             "scope": "check", "name": r.name, "failed_traces": r.n_failed})
        return rows


def summary_rows(evaluations: dict[tuple[str, str], Any]) -> list[dict[str, Any]]:
    """Per (dataset, backend, fault class): counts summed over seeds, and the resulting
    recall and precision (micro-averages)."""
    acc: dict[tuple[str, str, str], dict[str, Any]] = {}
    for (key, b), ev in evaluations.items():
        dataset = key.rsplit("-s", 1)[0]
        for m in ev.classes:
            row = acc.setdefault((dataset, b, m.name), {
                "dataset": dataset, "backend": b, "class": m.name, "seeds": 0,
                "injections": 0, "detected": 0, "alarms_true": 0, "alarms_false": 0,
                "false_explained": 0, "side_effects": 0, "claimed_by": list(m.claims)})
            row["seeds"] += 1
            for k, attr in (("injections", "injections"), ("detected", "detected"),
                            ("alarms_true", "alarms_true"), ("alarms_false", "alarms_false"),
                            ("false_explained", "false_explained"),
                            ("side_effects", "alarms_side")):
                row[k] += getattr(m, attr)
    out = []
    for row in acc.values():
        n = row["alarms_true"] + row["alarms_false"]
        row["recall"] = row["detected"] / row["injections"] if row["injections"] else None
        row["precision"] = row["alarms_true"] / n if n else None
        out.append(row)
    return out


def render_summary(results: dict[str, Any]) -> str:
    """The precision/recall table of a run (``results.json`` content) as text."""
    def f(v: float | None) -> str:
        return "   -" if v is None else f"{v:4.2f}"

    run = results["run"]
    lines = [f"experiment {run['experiment']} (run {run['id']})"]
    by_ds: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in results["summary"]:
        by_ds.setdefault((row["dataset"], row["backend"]), []).append(row)
    for (dataset, backend), rows in by_ds.items():
        lines += ["", f"dataset {dataset}, backend {backend}, {rows[0]['seeds']} seed(s):",
                  f"  {'fault class':<20} {'inj':>4} {'det':>4} {'recall':>6}  "
                  f"{'true':>5} {'false':>5} {'expl':>5} {'side':>5} {'precision':>9}"]
        for r in rows:
            lines.append(f"  {r['class']:<20} {r['injections']:>4} {r['detected']:>4} "
                         f"{f(r['recall']):>6}  {r['alarms_true']:>5} {r['alarms_false']:>5} "
                         f"{r['false_explained']:>5} {r['side_effects']:>5} "
                         f"{f(r['precision']):>9}")
    for c in results["checks"]:
        if any(d["key"] == c["dataset"] and not d["labelled"] for d in results["datasets"]):
            failing = {k: v for k, v in c["failed_traces"].items() if v}
            lines += ["", f"dataset {c['dataset']} (unlabelled), backend {c['backend']}: "
                      f"{len(failing)} properties fail: "
                      + ", ".join(f"{k} ({v})" for k, v in sorted(failing.items()))]
    for a in results.get("agreement", []):
        if a["disagreements"]:
            lines.append(f"backends disagree on {a['dataset']}: {', '.join(a['disagreements'])}")
    return "\n".join(lines) + "\n"
