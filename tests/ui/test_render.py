"""The static HTML report: escaping, a strict CSP, waterfalls, the CLI and --pdf."""

from __future__ import annotations

import base64
import hashlib
import html
import re

import pytest

from tests.ui.conftest import BAD_SPAN, HOSTILE_ATTR, HOSTILE_NAME, TRACE_ID
from workbench.cli import main
from workbench.ui.render import ReportError, html_to_pdf, load_report, render_report


def test_hostile_names_are_escaped_and_nothing_can_run(checked_run) -> None:  # type: ignore[no-untyped-def]
    page = render_report(checked_run["report"], checked_run["table"])
    assert "<script" not in page.lower()  # not the span's, and the report has none of its own
    assert "<img" not in page.lower()
    assert "&lt;script&gt;window.__pwned = 1&lt;/script&gt;GET /cart" in page
    assert "&quot;&gt;&lt;img src=x onerror=&quot;window.__pwned = 2&quot;&gt;" in page
    assert HOSTILE_NAME not in page and HOSTILE_ATTR not in page


def test_csp_allows_only_the_inline_stylesheet(checked_run) -> None:  # type: ignore[no-untyped-def]
    page = render_report(checked_run["report"], checked_run["table"])
    policy = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page)
    assert policy is not None
    text = policy.group(1).replace("&#x27;", "'")
    assert text.startswith("default-src 'none';") and "script-src" not in text
    css = re.search(r"<style>(.*?)</style>", page, re.S)
    assert css is not None
    digest = base64.b64encode(hashlib.sha256(css.group(1).encode()).digest()).decode()
    assert f"style-src 'sha256-{digest}'" in text
    assert "http://" not in page and "https://" not in page  # nothing fetched from a network


def test_failing_trace_gets_a_waterfall_with_the_violating_span_highlighted(checked_run) -> None:  # type: ignore[no-untyped-def]
    page = render_report(checked_run["report"], checked_run["table"])
    assert f'id="trace-{TRACE_ID}"' in page
    row = re.search(rf'<tr class="span (\w+)" data-span-id="{BAD_SPAN}">(.*?)</tr>', page, re.S)
    assert row is not None and row.group(1) == "bad"
    assert "ends 890ms after its parent" in row.group(2)
    assert 'href="#prop-child_ends_within_parent"' in page


def test_without_traces_the_report_says_how_to_get_waterfalls(checked_run) -> None:  # type: ignore[no-untyped-def]
    page = render_report(checked_run["report"])
    assert "waterfall" not in page.split("<body", 1)[1].split("Pass the trace files")[0].lower()
    assert "Pass the trace files after RESULTS.json" in page


def test_report_command_writes_the_page(checked_run, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "r.html"
    code = main(["report", str(checked_run["results"]), str(checked_run["trace_file"]),
                 "-o", str(out)])
    assert code == 0
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and f'id="trace-{TRACE_ID}"' in page
    assert "wrote HTML report" in capsys.readouterr().err


def test_bad_results_file_is_named_with_its_position(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.json"
    bad.write_text('{"properties": [\n  1,,\n]}', encoding="utf-8")
    assert main(["report", str(bad), "-o", str(tmp_path / "x.html")]) == 2
    assert f"{bad}:2:5: not JSON" in capsys.readouterr().err
    other = tmp_path / "other.json"
    other.write_text('{"a": 1}', encoding="utf-8")
    with pytest.raises(ReportError, match="not an otlspec JSON report"):
        load_report(other)


def test_pdf_without_a_browser_is_a_clear_error(checked_run, tmp_path, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("OTLSPEC_CHROMIUM", str(tmp_path / "no-such-chromium"))
    with pytest.raises(ReportError, match="--pdf needs headless Chromium"):
        html_to_pdf(tmp_path / "a.html", tmp_path / "a.pdf")
    code = main(["report", str(checked_run["results"]), "-o", str(tmp_path / "r.html"), "--pdf"])
    assert code == 2
    assert "apt-get install chromium" in capsys.readouterr().err
    assert (tmp_path / "r.html").exists()  # the HTML is written all the same


def test_failing_trace_gets_a_static_service_graph(checked_run) -> None:  # type: ignore[no-untyped-def]
    page = render_report(checked_run["report"], checked_run["table"])
    section = page.split(f'id="trace-{TRACE_ID}"', 1)[1]
    graph = re.search(r'<svg class="graph".*?</svg>', section, re.S)
    assert graph is not None and section.index("<svg class=\"graph\"") < section.index(
        'class="waterfall"')
    # one service, holding the violating span: one highlighted node, no edge
    assert graph.group(0).count('<g class="node bad">') == 1 and "<line" not in graph.group(0)
    assert "style=" not in page and "<script" not in page.lower()


def test_service_graph_counts_calls_and_escapes_labels() -> None:
    from workbench.ui.render import service_graph

    hostile = '<script>alert(1)</script>"><img src=x>'
    spans = {"duration": 10, "spans": [
        {"span_id": "a", "parent_id": "", "service": hostile},
        {"span_id": "b", "parent_id": "a", "service": "db"},
        {"span_id": "c", "parent_id": "a", "service": "db"},
        {"span_id": "d", "parent_id": "c", "service": ""},
    ]}
    svg = service_graph(spans, {"c": ["too slow"]})
    assert hostile not in svg and "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&gt;&lt;img" in svg
    nodes = re.findall(r'<g class="node (\w+)"><title>([^<]*)</title>', svg)
    assert nodes == [("ok", html.escape(hostile)), ("bad", "db"), ("ok", "(no service)")]
    edges = re.findall(r'<g class="edge"><title>([^<]*)</title>.*?>(\d+)</text></g>', svg)
    assert edges == [(f"{html.escape(hostile)} calls db: 2", "2"),
                     ("db calls (no service): 1", "1")]
    assert service_graph({"duration": 1, "spans": []}, {}) == ""
