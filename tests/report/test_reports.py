"""Reports v2: failing pairs listed with witnesses, passing ones counted; the full matrix on
request; streamed JSON/SARIF equal to the whole-report builders; real per-property timings."""

from __future__ import annotations

import io
import json
from functools import cache
from pathlib import Path

import jsonschema
import pytest
from junitparser import JUnitXml

from tests.engine.differential import stdlib, stdlib_data
from workbench.cli import main
from workbench.engine import check
from workbench.engine.base import CheckResult
from workbench.report import build_report, render, to_sarif, write_report
from workbench.report.model import TraceSources
from workbench.report.stream import write_json

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "docs" / "schemas" / "check-report-v2.json").read_text())
SCHEMA_V1 = json.loads((ROOT / "docs" / "schemas" / "check-report-v1.json").read_text())


@cache
def result() -> CheckResult:
    return check(stdlib(), stdlib_data(), backend="reference")


def test_json_lists_failing_pairs_and_counts_passing_ones() -> None:
    res = result()
    report = build_report(res)
    jsonschema.validate(report, SCHEMA)
    assert report["summary"]["verdicts"] == "failed"
    n = res.table.n_traces
    total_failed = 0
    for prop, pres in zip(report["properties"], res.results, strict=True):
        assert [t["verdict"] for t in prop["traces"]] == ["fail"] * pres.n_failed
        assert [t["trace_id"] for t in prop["traces"]] == [
            res.table.trace_id_hex[t] for t in pres.failed_traces
        ]
        for t, entry in zip(pres.failed_traces, prop["traces"], strict=True):
            assert entry["witnesses"] == [w.to_json() for w in pres.witnesses[t]]
        assert prop["passed"] + prop["failed"] == n
        total_failed += prop["failed"]
    assert total_failed > 0
    assert report["summary"]["violations"] == total_failed
    assert report["summary"]["passing"] == len(res.results) * n - total_failed


def test_all_verdicts_restores_the_matrix() -> None:
    res = result()
    full = build_report(res, verdicts="all")
    jsonschema.validate(full, SCHEMA)
    failed_only = build_report(res)
    n = res.table.n_traces
    for prop, small in zip(full["properties"], failed_only["properties"], strict=True):
        assert len(prop["traces"]) == n
        assert [t for t in prop["traces"] if t["verdict"] == "fail"] == small["traces"]
    # the v1 shape of each property is still there (v2 only adds fields)
    v1 = {k: v for k, v in full.items()}
    v1["schema"], v1["schema_version"] = "https://otlspec.dev/schemas/check-report/v1", 1
    v1["summary"] = {k: v for k, v in full["summary"].items() if k not in ("passing", "verdicts")}
    v1["properties"] = [{k: v for k, v in p.items() if k != "seconds"} for p in full["properties"]]
    jsonschema.validate(v1, SCHEMA_V1)


@pytest.mark.parametrize("verdicts", ["failed", "all"])
def test_streamed_json_equals_the_built_report(verdicts: str, monkeypatch: pytest.MonkeyPatch
                                               ) -> None:
    from workbench.report import stream

    monkeypatch.setattr(stream, "TRACE_BLOCK", 3)  # several blocks per property
    res = result()
    buf = io.BytesIO()
    head = write_json(res, buf, verdicts=verdicts, fail_on="warning")
    streamed = json.loads(buf.getvalue())
    assert streamed == build_report(res, verdicts=verdicts, fail_on="warning")
    assert head["summary"] == streamed["summary"]


def test_streamed_sarif_equals_to_sarif() -> None:
    res = result()
    buf = io.BytesIO()
    write_report(res, "sarif", buf)
    log = json.loads(buf.getvalue())
    assert log == to_sarif(build_report(res))
    n_results = sum(len(t["witnesses"] or [1]) for p in build_report(res)["properties"]
                    for t in p["traces"])
    assert len(log["runs"][0]["results"]) == n_results > 0


def test_junit_is_bounded_by_failures(tmp_path: Path) -> None:
    res = result()
    for verdicts, per_suite in (("failed", None), ("all", res.table.n_traces)):
        path = tmp_path / f"{verdicts}.xml"
        path.write_text(render(res, "junit", verdicts=verdicts)[1])
        suites = {s.name: s for s in JUnitXml.fromfile(str(path))}
        for pres in res.results:
            suite = suites[pres.name]
            assert suite.tests == res.table.n_traces and suite.failures == pres.n_failed
            cases = list(suite)
            failing = [c for c in cases if not c.is_passed]
            assert len(failing) == pres.n_failed
            expected = per_suite or pres.n_failed + (pres.n_failed < res.table.n_traces)
            assert len(cases) == expected


def test_trace_sources_keep_row_order_without_repeats() -> None:
    table = stdlib_data()
    sources = TraceSources(table)
    for t in range(table.n_traces):
        naive: list[str] = []
        for row in table.trace_rows(t):
            name = table.strings[int(table.source[row])]
            if name not in naive:
                naive.append(name)
        assert sources[t] == naive


def test_per_property_timings_are_each_propertys_own() -> None:
    res = check(stdlib(), stdlib_data(), backend="numba")
    seconds = [r.seconds for r in res.results]
    assert all(s > 0 for s in seconds)
    # each is a part of the run, not the run: together they fit in the total
    assert sum(seconds) <= res.timings["total"] * 1.05
    report = build_report(res)
    assert report["timings"]["property.parent_exists"] == report["properties"][
        [p["name"] for p in report["properties"]].index("parent_exists")]["seconds"]


def test_cli_all_verdicts_flag(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    data = ROOT / "tests" / "data" / "stdlib" / "child_starts_after_parent"
    out = tmp_path / "r.json"
    args = ["check", "stdlib", str(data / "fail.json"), str(data / "pass.json"), "--format",
            "json", "--no-progress", "-o", str(out)]
    main(args)
    small = json.loads(out.read_text())
    main([*args, "--all-verdicts"])
    full = json.loads(out.read_text())
    capsys.readouterr()
    jsonschema.validate(small, SCHEMA)
    jsonschema.validate(full, SCHEMA)
    assert small["summary"]["verdicts"] == "failed" and full["summary"]["verdicts"] == "all"
    assert all(len(p["traces"]) == 2 for p in full["properties"])
    assert all(len(p["traces"]) == p["failed"] for p in small["properties"])
