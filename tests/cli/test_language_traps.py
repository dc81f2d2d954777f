"""The command line on the language's traps: ``lint`` names specs whose meaning changed with
the precedence of ``not`` over ``until``, ``fmt`` writes the grouping, and ``check
--explain-types`` names numbers stored as text."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.conftest import Run

SPEC = """\
property no_5xx {
  check forall s in spans: not (s.attributes["http.status_code"] >= 500)
}

property no_5xx_converted {
  check forall s in spans: not (int(s.attributes["http.status_code"]) >= 500)
}

property ends_quietly {
  check forall s in spans: always (start(s) -> not end(s) until end(s))
}
"""


def _trace(path: Path) -> Path:
    def span(sid: str, code: dict, parent: str = "") -> dict:
        return {"traceId": "0af7651916cd43dd8448eb211c80319c", "spanId": sid,
                "parentSpanId": parent, "name": "GET", "kind": 2,
                "startTimeUnixNano": "1700000000000000000",
                "endTimeUnixNano": "1700000000100000000",
                "attributes": [{"key": "http.status_code", "value": code}]}

    doc = {"resourceSpans": [{"resource": {"attributes": []}, "scopeSpans": [{"spans": [
        span("0000000000000001", {"stringValue": "504"}),
        span("0000000000000002", {"intValue": "200"}, parent="0000000000000001"),
    ]}]}]}
    path.write_text(json.dumps(doc))
    return path


def test_lint_and_fmt_on_a_changed_meaning(run: Run, tmp_path: Path) -> None:
    spec = tmp_path / "traps.otlspec"
    spec.write_text(SPEC)
    code, out, err = run("lint", spec)
    assert code == 0 and "1 warning(s)" in out
    assert f"{spec}:10:" in err and "now reads `(not P) until Q`" in err
    assert "[ends_quietly]" in err
    code, out, _ = run("fmt", spec)
    assert code == 0 and "always (start(s) -> (not end(s)) until end(s))" in out


def test_check_explain_types(run: Run, tmp_path: Path) -> None:
    spec = tmp_path / "traps.otlspec"
    spec.write_text(SPEC)
    trace = _trace(tmp_path / "trace.json")
    code, out, err = run("check", spec, trace, "--explain-types", "--no-progress")
    assert code == 1 and "no_5xx_converted" in out  # the converted property sees the 504
    assert ('`s.attributes["http.status_code"]` is compared with a number, but 1 of 2 loaded '
            'values are text ("504")') in err
    assert 'write `int(s.attributes["http.status_code"])`' in err and "[no_5xx]" in err
    assert err.count("compared with a number") == 1  # int(...) compares a number: no note
    _, _, quiet = run("check", spec, trace, "--no-progress")
    assert "compared with a number" not in quiet
