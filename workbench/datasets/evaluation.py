"""Precision and recall of properties against the ground-truth labels of a dataset.

How a check result is scored (``otlspec eval``, :func:`evaluate`):

* A **hit** is one witness of a failing property: the spans its leading ``forall`` variables
  bind (a property without such variables, like ``has_root``, gives a trace-level hit).
* A hit is **true** when it names a span labelled with a fault whose class the property claims
  (:data:`~workbench.datasets.labels.DETECTORS`, plus the ``experiments/specs`` properties),
  a **side effect** when it names a span of a fault that lists the property as collateral
  (:data:`~workbench.datasets.labels.COLLATERAL`), and **false** otherwise. A false hit is
  *explained* when it names a span with a behaviour label that the property is known to flag
  (:data:`~workbench.datasets.labels.EXPLANATIONS`).
* Precision counts **alarms**, not witnesses: a property failing on a trace raises at most one
  true and one false alarm there, however many witnesses it lists (a malformed trace id makes
  ``trace_id_valid`` name every span). ``precision = true / (true + false)``; side effects are
  reported apart.
* Recall counts **injections**: an injection is detected by a property when one of its hits
  names a ``primary`` span of the injection (any span of the trace for a trace-level hit).
  Per property, recall is over the injections that ``expect`` it; per fault class, an
  injection counts as detected when any claiming property of the spec detects it.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from workbench.datasets import labels as lb
from workbench.engine.base import CheckResult


@dataclass
class Hit:
    """One witness of a failing property, and how it was scored."""

    prop: str
    trace_id: str
    spans: tuple[str, ...]
    message: str
    verdict: str = "false"  # "true" | "side" | "false"
    faults: tuple[str, ...] = ()  # classes of the matched fault labels
    injections: tuple[int, ...] = ()
    explanation: str = ""


@dataclass
class Metrics:
    """Scores of one property or one fault class."""

    name: str
    claims: tuple[str, ...] = ()  # classes (for a property) or properties (for a class)
    alarms_true: int = 0
    alarms_false: int = 0
    alarms_side: int = 0
    false_explained: int = 0
    injections: int = 0
    detected: int = 0
    missed: list[int] = field(default_factory=list)

    @property
    def precision(self) -> float | None:
        n = self.alarms_true + self.alarms_false
        return None if n == 0 else self.alarms_true / n

    @property
    def recall(self) -> float | None:
        return None if self.injections == 0 else self.detected / self.injections

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "precision": self.precision, "recall": self.recall}


@dataclass
class Evaluation:
    """The scores of a check against labels. See the module docstring for the definitions."""

    properties: list[Metrics]
    classes: list[Metrics]
    hits: list[Hit]
    injections: dict[int, dict[str, Any]]

    @property
    def false_positives(self) -> list[Hit]:
        return [h for h in self.hits if h.verdict == "false"]

    @property
    def false_negatives(self) -> list[dict[str, Any]]:
        """Per (property, injection) expected but not detected."""
        out = []
        for m in self.properties:
            for inj in m.missed:
                out.append({"property": m.name, **self.injections[inj]})
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "properties": [m.to_json() for m in self.properties],
            "classes": [m.to_json() for m in self.classes],
            "false_positives": [asdict(h) for h in self.false_positives],
            "false_negatives": self.false_negatives,
            "injections": [self.injections[k] for k in sorted(self.injections)],
        }

    def table(self, level: str = "class") -> list[dict[str, Any]]:
        """Rows for a table: one per fault class (``level="class"``) or property."""
        rows = []
        for m in self.classes if level == "class" else self.properties:
            rows.append({
                "name": m.name, "injections": m.injections, "detected": m.detected,
                "recall": m.recall, "alarms_true": m.alarms_true,
                "alarms_false": m.alarms_false, "false_explained": m.false_explained,
                "side_effects": m.alarms_side, "precision": m.precision,
                "claims": ", ".join(m.claims),
            })
        return rows

    def to_text(self, fp_limit: int = 30) -> str:
        """A plain-text report: the two tables, the false negatives and false positives."""
        def fmt(v: float | None) -> str:
            return "   -" if v is None else f"{v:4.2f}"

        lines = ["fault class            inj  det  recall  alarms(true/false/expl/side)  "
                 "precision  claimed by"]
        for r in self.table("class"):
            lines.append(f"{r['name']:<22} {r['injections']:>4} {r['detected']:>4}  "
                         f"{fmt(r['recall'])}    {r['alarms_true']:>5} {r['alarms_false']:>5} "
                         f"{r['false_explained']:>4} {r['side_effects']:>5}        "
                         f"{fmt(r['precision'])}  {r['claims']}")
        lines += ["", "property                          inj  det  recall  alarms(true/false/"
                  "expl/side)  precision"]
        for r in self.table("property"):
            if not (r["injections"] or r["alarms_true"] or r["alarms_false"]
                    or r["side_effects"]):
                continue
            lines.append(f"{r['name']:<32} {r['injections']:>4} {r['detected']:>4}  "
                         f"{fmt(r['recall'])}    {r['alarms_true']:>5} {r['alarms_false']:>5} "
                         f"{r['false_explained']:>4} {r['side_effects']:>5}        "
                         f"{fmt(r['precision'])}")
        fns = self.false_negatives
        lines += ["", f"false negatives: {len(fns)}"]
        for fn in fns:
            lines.append(f"  {fn['property']}: injection {fn['injection']} {fn['class']}/"
                         f"{fn['variant']} in trace {fn['trace_id']}: {fn['detail']}")
        fps = self.false_positives
        lines += ["", f"false positives: {len(fps)} witnesses "
                  f"({sum(1 for h in fps if h.explanation.startswith('explained'))} explained)"]
        for h in fps[:fp_limit]:
            lines.append(f"  {h.prop} trace {h.trace_id} spans {','.join(h.spans) or '-'}: "
                         f"{h.explanation}")
        if len(fps) > fp_limit:
            lines.append(f"  ... and {len(fps) - fp_limit} more (--format json lists all)")
        return "\n".join(lines) + "\n"


def hits_of(result: CheckResult) -> list[Hit]:
    """Every witness of every failing property, unscored."""
    out: list[Hit] = []
    table = result.table
    for res in result.results:
        for t in res.failed_traces:
            trace_id = table.trace_id_hex[t]
            witnesses = res.witnesses.get(t, [])
            if not witnesses:
                out.append(Hit(res.name, trace_id, (), ""))
            for w in witnesses:
                spans = tuple(dict.fromkeys(ref.span_id for _, ref in w.bindings))
                out.append(Hit(res.name, trace_id, spans, w.message))
    return out


def evaluate(result: CheckResult, labels: Sequence[lb.Label],
             claims: Mapping[str, Sequence[str]] | None = None) -> Evaluation:
    """Score a check result against labels.

    Parameters
    ----------
    result
        The check of a spec on the labelled dataset.
    labels
        The dataset's labels (:func:`workbench.datasets.labels.read_labels`).
    claims
        Fault class -> claiming properties; defaults to
        :func:`workbench.datasets.labels.detectors` (stdlib and experiments specs).

    Returns
    -------
    Evaluation
    """
    claims = dict(claims if claims is not None else lb.detectors())
    checked = [r.name for r in result.results]
    claimed_by: dict[str, set[str]] = defaultdict(set)  # property -> classes
    for cls, claimants in claims.items():
        for p in claimants:
            claimed_by[p].add(cls)
    at_span: dict[tuple[str, str], list[lb.Label]] = defaultdict(list)
    in_trace: dict[str, list[lb.Label]] = defaultdict(list)
    injections: dict[int, dict[str, Any]] = {}
    for label in labels:
        at_span[(label.trace_id, label.span_id)].append(label)
        in_trace[label.trace_id].append(label)
        if label.type == "fault" and label.injection not in injections:
            injections[label.injection] = {
                "injection": label.injection, "class": label.name, "variant": label.variant,
                "trace_id": label.trace_id, "expect": list(label.expect),
                "detail": label.detail}
    hits = hits_of(result)
    detected: dict[str, set[int]] = defaultdict(set)  # property -> injections detected
    alarms: dict[tuple[str, str], set[str]] = defaultdict(set)
    alarm_faults: dict[tuple[str, str], set[str]] = defaultdict(set)
    explained: dict[tuple[str, str], bool] = {}
    for h in hits:
        _score(h, at_span, in_trace, claimed_by.get(h.prop, set()), detected)
        key = (h.prop, h.trace_id)
        alarms[key].add(h.verdict)
        alarm_faults[key].update(h.faults)
        if h.verdict == "false":
            explained[key] = explained.get(key, True) and h.explanation.startswith("explained")
    props: list[Metrics] = []
    for name in checked:
        m = Metrics(name, tuple(sorted(claimed_by.get(name, ()))))
        for (p, _), verdicts in alarms.items():
            if p != name:
                continue
            m.alarms_true += "true" in verdicts
            m.alarms_false += "false" in verdicts
            m.alarms_side += "side" in verdicts
        m.false_explained = sum(1 for (p, _), ok in explained.items() if p == name and ok)
        for inj, info in sorted(injections.items()):
            if name in info["expect"]:
                m.injections += 1
                if inj in detected[name]:
                    m.detected += 1
                else:
                    m.missed.append(inj)
        props.append(m)
    classes = []
    for cls, props_claiming in claims.items():
        present = tuple(p for p in props_claiming if p in checked)
        m = Metrics(cls, present)
        for inj, info in sorted(injections.items()):
            if info["class"] != cls:
                continue
            m.injections += 1
            if any(inj in detected[p] for p in present):
                m.detected += 1
            else:
                m.missed.append(inj)
        for (p, _), verdicts in alarms.items():
            if p not in present:
                continue
            if "true" in verdicts and cls in alarm_faults[(p, _)]:
                m.alarms_true += 1
            m.alarms_false += "false" in verdicts
            m.alarms_side += "side" in verdicts
        m.false_explained = sum(1 for (p, _), ok in explained.items() if p in present and ok)
        classes.append(m)
    return Evaluation(props, classes, hits, injections)


def _score(h: Hit, at_span: Mapping[tuple[str, str], list[lb.Label]],
           in_trace: Mapping[str, list[lb.Label]], claimed: set[str],
           detected: dict[str, set[int]]) -> None:
    if h.spans:
        near = [lab for sid in h.spans for lab in at_span.get((h.trace_id, sid), [])]
    else:
        near = list(in_trace.get(h.trace_id, []))
    faults = [lab for lab in near if lab.type == "fault"]
    true = [lab for lab in faults if lab.name in claimed]
    if true:
        h.verdict = "true"
        h.faults = tuple(sorted({lab.name for lab in true}))
        h.injections = tuple(sorted({lab.injection for lab in true}))
        for lab in true:
            if lab.role == "primary" or not h.spans:
                detected[h.prop].add(lab.injection)
        return
    side = [lab for lab in faults if h.prop in lb.COLLATERAL.get(lab.name, ())]
    if side:
        h.verdict = "side"
        h.faults = tuple(sorted({lab.name for lab in side}))
        h.injections = tuple(sorted({lab.injection for lab in side}))
        return
    h.verdict = "false"
    for lab in near:
        if lab.type == "behaviour" and (h.prop, lab.name) in lb.EXPLANATIONS:
            h.explanation = f"explained ({lab.name}): {lb.EXPLANATIONS[(h.prop, lab.name)]}"
            return
    if faults:
        lab = faults[0]
        h.faults = (lab.name,)
        h.explanation = (f"names spans of injection {lab.injection} ({lab.name}/{lab.variant}),"
                         " which this property does not claim")
        return
    h.explanation = "unexplained" + (f": {h.message}" if h.message else "")


def evaluate_dataset(spec: Any, dataset: str | Path, *, backend: str = "auto",
                     params: Mapping[str, Any] | None = None,
                     claims: Mapping[str, Sequence[str]] | None = None,
                     ) -> tuple[Evaluation, CheckResult]:
    """Load a dataset directory (traces and labels), check ``spec`` on it and score it.

    Parameters
    ----------
    spec
        An :class:`~workbench.lang.ir.Spec`, or spec arguments for
        :func:`workbench.lang.load_specs` (``"stdlib"``, paths).
    dataset
        A directory written by ``otlspec gen`` (``traces/`` and ``labels.jsonl``).
    backend, params
        Passed to :func:`workbench.engine.check`.
    claims
        See :func:`evaluate`.

    Returns
    -------
    tuple[Evaluation, CheckResult]
    """
    from workbench.engine import check
    from workbench.lang import ir, load_specs
    from workbench.traces import load_traces

    if not isinstance(spec, ir.Spec):
        spec = load_specs([spec] if isinstance(spec, str | Path) else list(spec))
    root = Path(dataset)
    traces = root / "traces" if (root / "traces").is_dir() else root
    table = load_traces([str(traces)])
    result = check(spec, table, params, backend=backend)
    return evaluate(result, lb.read_labels(root), claims), result


def dump(evaluation: Evaluation) -> str:
    """The evaluation as indented JSON."""
    return json.dumps(evaluation.to_json(), indent=2, sort_keys=True) + "\n"
