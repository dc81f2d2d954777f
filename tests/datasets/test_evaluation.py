"""Scoring against labels, and the gen / eval commands."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from workbench.cli import main
from workbench.datasets import labels as lb
from workbench.datasets.evaluation import Hit, _score, evaluate_dataset

RETRIES = str(Path(__file__).resolve().parents[2] / "experiments" / "specs" / "retries.otlspec")


def test_every_claimed_fault_is_found_and_every_false_alarm_explained(
        faulty_dataset: tuple[Path, object], spec_with_retries: object) -> None:
    path, _ = faulty_dataset
    ev, _ = evaluate_dataset(spec_with_retries, path, backend="reference")
    for m in ev.classes:
        assert m.injections > 0, m.name
        assert m.recall == 1.0, (m.name, [ev.injections[i] for i in m.missed])
    assert not ev.false_negatives
    unexplained = [h for h in ev.false_positives if not h.explanation.startswith("explained")]
    assert not unexplained, [(h.prop, h.explanation) for h in unexplained]
    text = ev.to_text()
    assert "fault class" in text and "false negatives: 0" in text
    assert json.loads(json.dumps(ev.to_json()))["classes"]


def _labels(*rows: tuple[str, str, str, str]) -> tuple[dict, dict]:
    at, within = {}, {}
    for kind, name, span, role in rows:
        label = lb.Label(kind, name, "v", "t1", span, role, injection=1, expect=("p",))
        at.setdefault(("t1", span), []).append(label)
        within.setdefault("t1", []).append(label)
    return at, within


def test_scoring_rules() -> None:
    at, within = _labels(("fault", "orphan", "a", "primary"), ("fault", "orphan", "b",
                                                               "affected"),
                         ("behaviour", "retried", "c", "primary"))
    detected: dict[str, set[int]] = {"parent_exists": set()}
    h = Hit("parent_exists", "t1", ("a",), "")
    _score(h, at, within, {"orphan"}, detected)
    assert h.verdict == "true" and h.injections == (1,) and detected["parent_exists"] == {1}
    side = Hit("single_root", "t1", ("b",), "")
    _score(side, at, within, set(), {})
    assert side.verdict == "side"
    explained = Hit("error_surfaces_to_ancestor", "t1", ("c",), "")
    _score(explained, at, within, set(), {})
    assert explained.verdict == "false" and explained.explanation.startswith("explained")
    stray = Hit("pii_email", "t1", ("z",), "msg")
    _score(stray, at, within, set(), {})
    assert stray.verdict == "false" and stray.explanation == "unexplained: msg"
    trace_level = Hit("has_root", "t1", (), "")
    found: dict[str, set[int]] = {"has_root": set()}
    _score(trace_level, at, within, {"orphan"}, found)
    assert trace_level.verdict == "true" and found["has_root"] == {1}


def test_gen_and_eval_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "ds"
    assert main(["gen", "--traces", "20", "--seed", "2", "--faults", "missing_end=2,pii_leak=2",
                 "--out", str(out), "--format", "otlp-proto"]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["counts"]["faults"] == {"missing_end": 2, "pii_leak": 2}
    assert list((out / "traces").glob("*.pb"))
    capsys.readouterr()
    report = tmp_path / "eval.json"
    assert main(["eval", "stdlib", str(out), "--backend", "reference", "--format", "json",
                 "-o", str(report), "--min-recall", "1.0"]) == 0
    data = json.loads(report.read_text())
    recall = {c["name"]: c["recall"] for c in data["classes"]}
    assert recall["missing_end"] == 1.0 and recall["pii_leak"] == 1.0
    assert main(["eval", "stdlib", str(out), "--backend", "reference", "--param",
                 "skew=10ms"]) == 0
    assert "fault class" in capsys.readouterr().out


def test_eval_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", "stdlib", str(tmp_path)]) == 2
    assert "labels.jsonl" in capsys.readouterr().err
    assert main(["eval", str(tmp_path)]) == 2
    assert main(["gen", "--traces", "0", "--out", str(tmp_path / "x")]) == 2
    assert main(["gen", "--faults", "nope", "--out", str(tmp_path / "y")]) == 2
