"""The self-contained HTML report of a batch run (``otlspec report``), and its PDF.

The page is rendered on the server side, in one file with no script at all: its one style
sheet is inline and allowed by its hash in a strict content security policy (``default-src
'none'``), so the file works offline, from disk or mail, and a hostile span name cannot run
anything even if escaping failed. Every text that comes from a report or a trace goes through
:func:`esc`. Waterfall bars are SVG rectangles (attributes, not inline styles, which the policy
forbids); indentation and colours are classes of the sheet. Each failing trace also gets a
service graph, static inline SVG as well (:func:`service_graph`).
"""

from __future__ import annotations

import base64
import hashlib
import html
import math
import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from workbench.errors import OtlspecError
from workbench.traces.model import SpanTable
from workbench.ui.spans import trace_index, trace_spans, violating_span_ids

#: Failing traces listed per property, and waterfalls drawn, at most (the rest are counted).
MAX_TRACES_PER_PROPERTY = 50
MAX_WATERFALLS = 50
#: Spans drawn in one static waterfall at most.
MAX_WATERFALL_SPANS = 2_000
_DEPTH_CLASSES = 16


class ReportError(OtlspecError):
    """The report cannot be rendered (bad results file, no browser for ``--pdf``)."""


def esc(value: Any) -> str:
    """``value`` as HTML text: ``&``, ``<``, ``>``, ``"`` and ``'`` escaped."""
    return html.escape("" if value is None else str(value), quote=True)


def stylesheet() -> str:
    """The report's style sheet (shared with the explorer)."""
    return (resources.files("workbench.ui") / "static" / "ui.css").read_text(encoding="utf-8")


def csp_hash(text: str) -> str:
    """The CSP source expression allowing the inline element whose content is ``text``."""
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


def report_csp(css: str) -> str:
    """The policy of a static report: nothing but its own inline style sheet."""
    return (f"default-src 'none'; style-src {csp_hash(css)}; img-src 'none'; "
            "base-uri 'none'; form-action 'none'")


def _duration(ns: int | None) -> str:
    if ns is None:
        return "not ended"
    if ns < 1_000:
        return f"{ns} ns"
    if ns < 1_000_000:
        return f"{ns / 1e3:.1f} µs"
    if ns < 1_000_000_000:
        return f"{ns / 1e6:.2f} ms"
    return f"{ns / 1e9:.3f} s"


def _kv_table(values: dict[str, Any], cls: str = "kv") -> str:
    if not values:
        return '<p class="muted">none</p>'
    rows = "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>"
                   for k, v in sorted(values.items()))
    return f'<table class="{cls}">{rows}</table>'


def _bindings(bindings: dict[str, Any]) -> str:
    parts = []
    for var, b in bindings.items():
        if isinstance(b, dict):
            text = ", ".join(f"{k}={v}" for k, v in b.items() if k != "row")
        else:
            text = str(b)
        parts.append(f"<li><code>{esc(var)}</code> = {esc(text)}</li>")
    return f'<ul class="bindings">{"".join(parts)}</ul>' if parts else ""


def waterfall(spans: dict[str, Any], bad: dict[str, list[str]],
              limit: int = MAX_WATERFALL_SPANS) -> str:
    """A trace's waterfall as an HTML table with SVG bars; violating spans highlighted."""
    total = max(int(spans["duration"]), 1)
    rows = []
    for s in spans["spans"][:limit]:
        messages = bad.get(s["span_id"], [])
        x = 1000 * s["offset"] / total
        w = max(1000 * (s["duration"] or 0) / total, 2.0)
        cls = "bad" if messages else ("err" if s["status"] == "error" else "ok")
        depth = min(int(s["depth"]), _DEPTH_CLASSES - 1)
        msg = "".join(f'<div class="msg">{esc(m)}</div>' for m in messages)
        details = (f"<details><summary>attributes</summary>{_kv_table(s.get('attributes', {}))}"
                   f"<p>resource</p>{_kv_table(s.get('resource', {}))}</details>")
        rows.append(
            f'<tr class="span {cls}" data-span-id="{esc(s["span_id"])}">'
            f'<td class="name d{depth}"><span class="sname">{esc(s["name"])}</span> '
            f'<span class="svc">{esc(s["service"])}</span>{msg}{details}</td>'
            f'<td class="dur">{esc(_duration(s["duration"]))}</td>'
            f'<td class="bar"><svg viewBox="0 0 1000 10" preserveAspectRatio="none" '
            f'role="img" aria-label="{esc(s["name"])}"><rect class="{cls}" x="{x:.1f}" y="0" '
            f'width="{w:.1f}" height="10"/></svg></td></tr>')
    more = len(spans["spans"]) - limit + spans.get("truncated", 0)
    tail = f'<p class="muted">{more} more spans not drawn</p>' if more > 0 else ""
    return (f'<table class="waterfall"><thead><tr><th>span</th><th>duration</th>'
            f'<th>timeline ({esc(_duration(total))})</th></tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table>{tail}')


def service_graph(spans: dict[str, Any], bad: dict[str, list[str]], key: str = "") -> str:
    """A trace's service graph as static inline SVG: one node per service, one edge per
    pair of services with a call between them (a span whose parent is in another service),
    labelled with the number of calls; services with a violating span are highlighted.

    Drawn from the spans given (those of the waterfall). No script and no style attribute:
    classes of the sheet only, and every label escaped, so it passes the report's policy.
    ``key`` (the trace id) keeps the arrowhead's element id unique in a page of graphs.
    """
    no_service = "(no service)"
    rows = spans["spans"]
    service_of = {s["span_id"]: s["service"] or no_service for s in rows}
    services = list(dict.fromkeys(s["service"] or no_service for s in rows))
    hot = {service_of[sid] for sid in bad if sid in service_of}
    calls: dict[tuple[str, str], int] = {}
    for s in rows:
        parent = service_of.get(s.get("parent_id") or "")
        child = s["service"] or no_service
        if parent is not None and parent != child:
            calls[(parent, child)] = calls.get((parent, child), 0) + 1
    n = len(services)
    if n == 0:
        return ""
    width, height = 600, max(160, 60 * min(n, 6))
    pos = {name: (width / 2, height / 2) if n == 1 else (
        width / 2 + (width / 2 - 80) * math.cos(2 * math.pi * i / n),
        height / 2 + (height / 2 - 25) * math.sin(2 * math.pi * i / n))
        for i, name in enumerate(services)}
    arrow = "arrow-" + "".join(c for c in key if c.isalnum())
    parts = [f'<defs><marker id="{arrow}" viewBox="0 0 10 10" refX="22" refY="5" '
             'markerWidth="8" markerHeight="8" orient="auto-start-reverse">'
             '<path class="arrow" d="M 0 0 L 10 5 L 0 10 z"/></marker></defs>']
    for (a, b), count in sorted(calls.items()):
        (x1, y1), (x2, y2) = pos[a], pos[b]
        parts.append(
            f'<g class="edge"><title>{esc(a)} calls {esc(b)}: {count}</title>'
            f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" '
            f'marker-end="url(#{arrow})"/><text class="count" x="{(x1 + x2) / 2:.1f}" '
            f'y="{(y1 + y2) / 2 - 3:.1f}">{count}</text></g>')
    for name in services:
        x, y = pos[name]
        cls = "bad" if name in hot else "ok"
        parts.append(f'<g class="node {cls}"><title>{esc(name)}</title>'
                     f'<circle class="{cls}" cx="{x:.1f}" cy="{y:.1f}" r="8"/>'
                     f'<text x="{x + 11:.1f}" y="{y + 4:.1f}">{esc(name)}</text></g>')
    return (f'<svg class="graph" viewBox="0 0 {width} {height}" role="img" '
            f'aria-label="service graph">{"".join(parts)}</svg>')


def _summary(report: dict[str, Any]) -> str:
    s = report.get("summary", {})
    inp = report.get("input", {})
    cards = [("traces", inp.get("traces", 0)), ("spans", inp.get("spans", 0)),
             ("properties", s.get("properties", 0)),
             ("failed properties", len(s.get("failed_properties", []))),
             ("violations", s.get("violations", 0)), ("passing", s.get("passing", 0))]
    return '<div class="cards">' + "".join(
        f'<div class="card"><div class="num">{esc(v)}</div><div>{esc(k)}</div></div>'
        for k, v in cards) + "</div>"


def _inputs(report: dict[str, Any]) -> str:
    sources = report.get("input", {}).get("sources", [])
    items = "".join(f"<li>{esc(src)}</li>" for src in sources)
    return f"<details><summary>{len(sources)} inputs</summary><ul>{items}</ul></details>"


def _property_table(props: Sequence[dict[str, Any]]) -> str:
    rows = []
    for p in sorted(props, key=lambda p: (-int(p.get("failed", 0)), str(p.get("name")))):
        failed = int(p.get("failed", 0))
        name = esc(p.get("name"))
        link = f'<a href="#prop-{name}">{name}</a>' if failed else name
        sev = esc(p.get("severity"))
        rows.append(f'<tr class="{"fail" if failed else "pass"}"><td>{link}</td>'
                    f'<td><span class="sev {sev}">{sev}</span></td>'
                    f'<td class="num">{failed}</td><td class="num">{esc(p.get("passed"))}</td>'
                    f'<td>{esc(p.get("backend"))}</td></tr>')
    return ('<table class="props"><thead><tr><th>property</th><th>severity</th>'
            '<th>failed</th><th>passed</th><th>backend</th></tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table>')


def _property_section(p: dict[str, Any], traced: set[str]) -> str:
    entries = [t for t in p.get("traces", []) if t.get("verdict") == "fail"]
    items = []
    for t in entries[:MAX_TRACES_PER_PROPERTY]:
        tid = esc(t.get("trace_id"))
        link = f'<a href="#trace-{tid}">{tid}</a>' if t.get("trace_id") in traced else tid
        ws = "".join(f'<li><span class="msg">{esc(w.get("message"))}</span>'
                     f'{_bindings(w.get("bindings") or {})}</li>'
                     for w in t.get("witnesses", []))
        src = ", ".join(t.get("sources", []))
        items.append(f'<li class="trace">trace {link} <span class="muted">{esc(src)}</span>'
                     f'<ol class="witnesses">{ws}</ol></li>')
    more = len(entries) - MAX_TRACES_PER_PROPERTY
    tail = f'<p class="muted">{more} more failing traces</p>' if more > 0 else ""
    name = esc(p.get("name"))
    return (f'<section class="property" id="prop-{name}"><h3>{name} '
            f'<span class="sev {esc(p.get("severity"))}">{esc(p.get("severity"))}</span></h3>'
            f'<pre class="doc">{esc(p.get("doc"))}</pre>'
            f'<p class="muted">{esc(p.get("source"))}</p><ul>{"".join(items)}</ul>{tail}'
            "</section>")


def load_report(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a JSON report written by ``otlspec check --format json``."""
    import json

    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ReportError(f"{path}: cannot read the results file: {exc.strerror}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ReportError(f"{path}:{exc.lineno}:{exc.colno}: not JSON: {exc.msg}") from None
    if not isinstance(data, dict) or "properties" not in data or "summary" not in data:
        raise ReportError(f"{path}: not an otlspec JSON report (no 'properties' and 'summary'); "
                          "write one with: otlspec check --format json -o RESULTS.json ...")
    return data


def failing_witnesses(report: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """``{trace id: witnesses of every property it fails}`` (each tagged with ``property``)."""
    out: dict[str, list[dict[str, Any]]] = {}
    for p in report.get("properties", []):
        for t in p.get("traces", []):
            if t.get("verdict") == "fail":
                out.setdefault(str(t.get("trace_id")), []).extend(
                    {**w, "property": p.get("name")} for w in t.get("witnesses", []))
    return out


def render_report(report: dict[str, Any], table: SpanTable | None = None,
                  title: str = "otlspec report") -> str:
    """The report as one self-contained HTML page.

    Parameters
    ----------
    report
        A JSON report (schema v2) as a dict.
    table
        The checked traces, when available: failing traces get a waterfall with their
        violating spans highlighted.
    title
        The page title.
    """
    css = stylesheet()
    props = report.get("properties", [])
    failing = failing_witnesses(report)
    index = trace_index(table) if table is not None else {}
    traced = {tid for tid in failing if tid in index}
    falls = []
    for tid in sorted(traced)[:MAX_WATERFALLS]:
        assert table is not None
        spans = trace_spans(table, index[tid], limit=MAX_WATERFALL_SPANS)
        bad = violating_span_ids(failing[tid])
        names = sorted({str(w.get("property")) for w in failing[tid]})
        falls.append(f'<section class="trace" id="trace-{esc(tid)}"><h3>trace {esc(tid)}</h3>'
                     f'<p>fails: {esc(", ".join(names))}</p>'
                     f'<h4>service graph</h4>{service_graph(spans, bad, tid)}'
                     f'<h4>waterfall</h4>{waterfall(spans, bad)}</section>')
    if len(traced) > MAX_WATERFALLS:
        falls.append(f'<p class="muted">{len(traced) - MAX_WATERFALLS} more failing traces '
                     "without a waterfall</p>")
    diags = report.get("input", {}).get("diagnostics", [])
    diag_html = "".join(
        f'<li class="sev {esc(d.get("severity"))}">{esc(d.get("file"))}:{esc(d.get("line"))}:'
        f'{esc(d.get("column"))} {esc(d.get("path"))} {esc(d.get("message"))}</li>'
        for d in diags)
    tool = report.get("tool", {})
    spec = report.get("spec", {})
    params = report.get("params", {})
    sections = [
        f"<header><h1>{esc(title)}</h1><p class=\"muted\">{esc(tool.get('name'))} "
        f"{esc(tool.get('version'))}; spec {esc(spec.get('name'))} "
        f"({esc(', '.join(spec.get('files', [])))})</p>{_inputs(report)}</header>",
        _summary(report),
        "<h2>Properties</h2>", _property_table(props),
    ]
    if params:
        sections += ["<h2>Parameters</h2>", _kv_table(params)]
    sections.append("<h2>Violations</h2>")
    sections += [_property_section(p, traced) for p in props if int(p.get("failed", 0))]
    if not any(int(p.get("failed", 0)) for p in props):
        sections.append('<p class="ok">No property failed.</p>')
    if falls:
        sections += ["<h2>Failing traces</h2>", *falls]
    elif failing and table is None:
        sections.append('<p class="muted">Pass the trace files after RESULTS.json to draw '
                        "waterfalls of the failing traces.</p>")
    if diags:
        sections += ["<h2>Input diagnostics</h2>", f'<ul class="diags">{diag_html}</ul>']
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f'<meta http-equiv="Content-Security-Policy" content="{esc(report_csp(css))}">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{esc(title)}</title><style>{css}</style></head>"
            f'<body class="report">{"".join(sections)}</body></html>\n')


def find_chromium() -> str | None:
    """A headless-capable Chromium: ``$OTLSPEC_CHROMIUM`` or the first one on ``PATH``."""
    explicit = os.environ.get("OTLSPEC_CHROMIUM")
    if explicit:
        return explicit if Path(explicit).exists() else None
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


def html_to_pdf(html_path: str | os.PathLike[str], pdf_path: str | os.PathLike[str],
                timeout: float = 120.0) -> None:
    """Print an HTML file to PDF with headless Chromium.

    Raises
    ------
    ReportError
        No Chromium was found, or it failed or wrote no PDF.
    """
    browser = find_chromium()
    if browser is None:
        raise ReportError(
            "--pdf needs headless Chromium and none was found (looked for chromium, "
            "chromium-browser, google-chrome on PATH and $OTLSPEC_CHROMIUM); install it "
            "(Debian: apt-get install chromium) or open the HTML report and print it")
    pdf = Path(pdf_path).resolve()
    with tempfile.TemporaryDirectory(prefix="otlspec-chromium-") as profile:
        cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu",
               "--disable-dev-shm-usage", f"--user-data-dir={profile}",
               "--no-pdf-header-footer", f"--print-to-pdf={pdf}",
               Path(html_path).resolve().as_uri()]
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                                  check=False)
        except subprocess.TimeoutExpired:
            raise ReportError(f"Chromium did not print {pdf} within {timeout:.0f} s") from None
    if done.returncode != 0 or not pdf.exists() or pdf.stat().st_size == 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise ReportError(f"Chromium ({browser}) could not print {pdf} "
                          f"(exit {done.returncode}): {' | '.join(tail)}")
