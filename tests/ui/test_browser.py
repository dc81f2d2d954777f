"""End to end in headless Chromium (Debian's chromium and chromium-driver, driven by Selenium).

The server is started, spans with violations and hostile names are sent with the real SDK
exporter, and the page is read as a person would: the dashboard count (pushed by server-sent
events), the explorer's highlighted span with its message, the HTML report. Hostile span names
and attribute values must show as text and run nothing. Screenshots are saved under
``$OTLSPEC_ARTIFACTS`` (default ``build/ui-screenshots``).

Without Chromium these tests skip with the reason, except under CI (``$CI`` set), where
``.ci/chromium`` installed it and a missing browser is a failure.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.ui.conftest import BAD_SPAN, HOSTILE_ATTR, HOSTILE_NAME, TRACE_ID, artifacts_dir
from workbench.ui.render import find_chromium, html_to_pdf, render_report

pytestmark = pytest.mark.browser

WAIT_S = 20


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI runs .ci/chromium first; it should have installed it)")
    pytest.skip(reason)


def _chromedriver() -> str | None:
    for candidate in (shutil.which("chromedriver"), "/usr/lib/chromium/chromedriver",
                      "/usr/bin/chromedriver"):
        if candidate and Path(candidate).exists():
            return candidate
    return None


@pytest.fixture(scope="module")
def driver() -> Iterator[Any]:
    try:
        from selenium import webdriver
    except ImportError:
        _unavailable("selenium is not installed (pip install -e '.[dev]')")
    browser, chromedriver = find_chromium(), _chromedriver()
    if browser is None or chromedriver is None:
        _unavailable("headless Chromium tests need Debian's chromium and chromium-driver "
                     "(run .ci/chromium, or apt-get install chromium chromium-driver)")
    profile = tempfile.mkdtemp(prefix="otlspec-selenium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(browser)
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1400,1000", f"--user-data-dir={profile}",
                "--no-first-run", "--disable-extensions"):
        options.add_argument(arg)
    d = webdriver.Chrome(options=options,
                         service=webdriver.ChromeService(executable_path=str(chromedriver)))
    d.set_page_load_timeout(WAIT_S)
    try:
        yield d
    finally:
        d.quit()
        shutil.rmtree(profile, ignore_errors=True)


def _wait(driver: Any, predicate: Any, what: str) -> Any:
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    # a live update may redraw what was just found: look again rather than fail
    return WebDriverWait(driver, WAIT_S, poll_frequency=0.1,
                         ignored_exceptions=[StaleElementReferenceException]).until(
        lambda d: predicate(d), message=f"timed out waiting for {what}")


def _css(driver: Any, selector: str) -> list[Any]:
    from selenium.webdriver.common.by import By

    return list(driver.find_elements(By.CSS_SELECTOR, selector))


def _nothing_ran(driver: Any) -> None:
    assert driver.execute_script("return typeof window.__pwned") == "undefined"
    assert _css(driver, "img") == []


def _emit_with_sdk(port: int) -> str:
    """One trace through the real OTLP/HTTP exporter: a hostile root, a child that overruns
    it. Returns the child's span id."""
    from opentelemetry import trace as trace_api
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.trace import SpanKind

    provider = TracerProvider(resource=Resource.create({"service.name": "shop"}))
    provider.add_span_processor(SimpleSpanProcessor(
        OTLPSpanExporter(endpoint=f"http://127.0.0.1:{port}/v1/traces", timeout=10)))
    tracer = provider.get_tracer("tests.ui", "1.0")
    t0 = 1_700_000_000_000_000_000
    root = tracer.start_span(HOSTILE_NAME, kind=SpanKind.SERVER, start_time=t0,
                             attributes={"http.request.method": "GET", "url.path": "/cart",
                                         "user.note": HOSTILE_ATTR})
    child = tracer.start_span("SELECT orders", kind=SpanKind.CLIENT, start_time=t0 + 1_000_000,
                              context=trace_api.set_span_in_context(root))
    child.end(end_time=t0 + 900_000_000)  # 890 ms after its parent
    root.end(end_time=t0 + 10_000_000)
    provider.shutdown()
    return format(child.get_span_context().span_id, "016x")


def test_live_dashboard_explorer_and_report(driver, stdlib_spec, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tests.serve.conftest import make_config
    from workbench.serve import create_server

    shots = artifacts_dir()
    server = create_server(make_config(grpc_port=None, backend="reference"), stdlib_spec)
    server.start(warm=False)
    try:
        url = f"http://127.0.0.1:{server.api_port}/"
        driver.get(url + "#/dashboard")
        card = '[data-stat="traces-checked"] .num'
        _wait(driver, lambda d: _css(d, card) and _css(d, card)[0].text == "0", "an empty store")
        child_id = _emit_with_sdk(server.http_port)
        assert server.flush(60)
        # no reload: the count arrives by server-sent events
        _wait(driver, lambda d: _css(d, card)[0].text == "1", "the live count")
        assert _css(driver, "#live")[0].text == "live"
        _wait(driver, lambda d: _css(d, '[data-stat="failing-traces"] .num')[0].text == "1",
              "the failing count")
        _wait(driver, lambda d: any(
            [td.text for td in r.find_elements("css selector", "td")][::3]
            == ["child_ends_within_parent", "1"] for r in _css(d, "#by-property tbody tr")),
            "child_ends_within_parent with 1 violation")
        driver.save_screenshot(str(shots / "dashboard.png"))

        driver.get(url + "#/traces")
        link = _wait(driver, lambda d: _css(d, "#trace-list a"), "the trace list")[0]
        trace_id = link.text
        link.click()
        bad = _wait(driver, lambda d: _css(d, f'.wf-row[data-span-id="{child_id}"]'),
                    "the waterfall")[0]
        assert "bad" in bad.get_attribute("class").split()
        bad.click()
        message = _wait(driver, lambda d: _css(d, "#span-detail .violation-message"),
                        "the violation message")[0]
        assert "ends 890ms after its parent" in message.text
        assert _css(driver, "#span-detail .span-name")[0].text == "SELECT orders"
        driver.save_screenshot(str(shots / "explorer-violation.png"))

        # the hostile root: its name and attribute are text, and nothing ran
        root = next(r for r in _css(driver, ".wf-row") if r.get_attribute("data-span-id")
                    != child_id)
        assert root.find_element("css selector", ".sname").text == HOSTILE_NAME
        root.click()
        _wait(driver, lambda d: _css(d, "#span-detail .span-name")[0].text == HOSTILE_NAME,
              "the hostile span's details")
        cells = [td.text for td in _css(driver, "#span-detail table.kv td")]
        assert HOSTILE_ATTR in cells
        _nothing_ran(driver)
        assert "error" not in _css(driver, "#error")[0].text.lower()
        driver.save_screenshot(str(shots / "explorer-hostile-span.png"))

        # the search narrows by property and by time range (a future start finds nothing)
        driver.get(url + "#/traces")
        form = _wait(driver, lambda d: _css(d, "#filters"), "the search form")[0]
        form.find_element("name", "property").send_keys("child_ends_within_parent")
        form.find_element("css selector", "button").click()
        _wait(driver, lambda d: [a.text for a in _css(d, "#trace-list a")] == [trace_id],
              "the trace found by property")
        driver.execute_script("document.querySelector('[name=since]').value = "
                              "'2999-01-01T00:00'")
        form.find_element("css selector", "button").click()
        _wait(driver, lambda d: "no trace matches" in _css(d, "#trace-list tbody")[0].text,
              "nothing found after the year 2999")

        driver.get(url + "#/specs")
        _wait(driver, lambda d: any(h.text == f"{len(stdlib_spec.properties)} properties"
                                    for h in _css(d, "#spec-list h2")), "the specs page")
        assert any(c.text == "skew" for c in _css(driver, "#spec-list table.params code"))

        # no script error and nothing the policy had to block, on any of these pages
        assert [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"] == []

        # the exported report of the stream renders as a page
        with urllib.request.urlopen(url + "export/report.html?since=0", timeout=30) as r:
            page = r.read()
        exported = tmp_path / "exported.html"
        exported.write_bytes(page)
        driver.get(exported.as_uri())
        assert driver.find_element("css selector", "h1").text == "otlspec report"
        row = _css(driver, f'tr.span[data-span-id="{child_id}"]')[0]
        assert "bad" in row.get_attribute("class").split()
        assert trace_id in driver.find_element("css selector", f"#trace-{trace_id} h3").text
        _nothing_ran(driver)
        driver.execute_script("arguments[0].scrollIntoView()",
                              driver.find_element("css selector", f"#trace-{trace_id}"))
        driver.save_screenshot(str(shots / "exported-report.png"))
    finally:
        server.stop()


def test_static_report_renders_hostile_text_as_text(driver, checked_run, tmp_path) -> None:  # type: ignore[no-untyped-def]
    page = tmp_path / "report.html"
    page.write_text(render_report(checked_run["report"], checked_run["table"]), encoding="utf-8")
    driver.get(page.as_uri())
    names = [e.text for e in _css(driver, f"#trace-{TRACE_ID} .sname")]
    assert names == [HOSTILE_NAME, "SELECT orders"]
    bad = _css(driver, f'tr.span[data-span-id="{BAD_SPAN}"]')[0]
    assert "bad" in bad.get_attribute("class").split()
    assert "ends 890ms after its parent" in bad.text
    # the inline style sheet applied under the CSP: the violating name is drawn in red
    colour = driver.execute_script(
        "return getComputedStyle(arguments[0].querySelector('.sname')).color", bad)
    assert colour == "rgb(198, 40, 40)"
    # the service graph is drawn (inline SVG, styled by the hashed sheet), its node highlighted
    node = _css(driver, f"#trace-{TRACE_ID} svg.graph circle.bad")[0]
    assert node.size["width"] > 0
    assert driver.execute_script("return getComputedStyle(arguments[0]).fill", node) == (
        "rgb(239, 154, 154)")
    assert [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"] == []
    _nothing_ran(driver)
    driver.execute_script("arguments[0].scrollIntoView()",
                          driver.find_element("css selector", f"#trace-{TRACE_ID}"))
    driver.save_screenshot(str(shots_path := artifacts_dir() / "static-report.png"))
    assert shots_path.stat().st_size > 0


def test_pdf_is_printed_by_headless_chromium(checked_run, tmp_path) -> None:  # type: ignore[no-untyped-def]
    if find_chromium() is None:
        _unavailable("--pdf needs Chromium (run .ci/chromium)")
    page = tmp_path / "report.html"
    page.write_text(render_report(checked_run["report"], checked_run["table"]), encoding="utf-8")
    html_to_pdf(page, tmp_path / "report.pdf")
    data = (tmp_path / "report.pdf").read_bytes()
    assert data.startswith(b"%PDF-") and len(data) > 1000
    shutil.copy(tmp_path / "report.pdf", artifacts_dir() / "report.pdf")
    # the explorer's export button gives the same PDF
    from workbench.ui.server import UiConfig, start_ui
    from workbench.ui.sources import BatchSource

    with start_ui(UiConfig(port=0), BatchSource(checked_run["report"], checked_run["table"])) as s:
        with urllib.request.urlopen(s.url + "export/report.pdf", timeout=120) as r:
            assert r.headers["Content-Type"] == "application/pdf"
            assert r.read().startswith(b"%PDF-")


def test_a_10k_span_trace_stays_responsive(driver) -> None:  # type: ignore[no-untyped-def]
    import time

    from tests.ui.conftest import wide_report, wide_trace
    from workbench.ui.server import UiConfig, start_ui
    from workbench.ui.sources import BatchSource
    from workbench.ui.spans import table_from_payloads, trace_spans

    trace_id, n = "ab" * 16, 10_000
    table = table_from_payloads([wide_trace(n, trace_id).SerializeToString()])
    last = trace_spans(table, 0)["spans"][-1]["span_id"]  # the row drawn last
    source = BatchSource(wide_report(trace_id, last), table)
    with start_ui(UiConfig(port=0), source) as server:
        started = time.perf_counter()
        driver.get(f"{server.url}#/trace/{trace_id}")
        _wait(driver, lambda d: _css(d, ".wf-row"), "the waterfall")
        shown = time.perf_counter() - started
        # only the rows in view are in the DOM, however long the trace
        assert len(_css(driver, ".wf-row")) < 200
        # the reader scrolls to the end: the rows there are drawn, the old ones dropped
        driver.execute_script("const b = document.getElementById('waterfall');"
                              "b.scrollTop = b.scrollHeight;")
        row = _wait(driver, lambda d: _css(d, f'.wf-row[data-span-id="{last}"]'),
                    "the last span after scrolling")[0]
        assert "bad" in row.get_attribute("class").split()
        assert len(_css(driver, ".wf-row")) < 200
        assert _css(driver, "#span-detail .violation-message")[0].text == f"span {last} is late"
        driver.save_screenshot(str(artifacts_dir() / "explorer-10k-spans.png"))
    print(f"10k-span trace: waterfall shown {shown:.2f} s after navigation")


def test_a_stored_batch_run_is_in_the_reports_page(driver, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """otlspec check --store, then otlspec ui --store's page lists the run and exports it."""
    from tests.ui.conftest import hostile_request
    from workbench.cli import main
    from workbench.serve.store import open_store
    from workbench.ui.server import UiConfig, start_ui
    from workbench.ui.sources import StoreSource

    trace_file = tmp_path / "hostile.pb"
    trace_file.write_bytes(hostile_request().SerializeToString())
    db = str(tmp_path / "results.db")

    def check() -> None:
        assert main(["check", "stdlib", str(trace_file), "--store", db, "--backend",
                     "reference", "--no-progress", "-o", str(tmp_path / "out.txt")]) in (0, 1)

    check()
    store = open_store(db)
    try:
        with start_ui(UiConfig(port=0), StoreSource(store)) as ui:
            driver.get(ui.url + "#/reports")

            def batch_row(d: Any) -> tuple[list[str], str] | None:
                # read the row's cells and link in one poll: a live update may redraw the list
                # between finding the row and reading it (then _wait looks again)
                rows = _css(d, '#report-list tbody tr[data-run^="run-"]')
                if not rows:
                    return None
                cells = [td.text for td in rows[0].find_elements("css selector", "td")]
                return cells, rows[0].find_element("css selector", "a").get_attribute("href")

            cells, link = _wait(driver, batch_row, "the batch run in the reports page")
            assert "stdlib" in cells[0] and cells[1] == "batch run" and cells[2] == "1"
            assert "export/report.html?run=" in link
            check()  # a second run shows up by server-sent events, without a reload
            _wait(driver, lambda d: len(_css(d, '#report-list tbody tr[data-run^="run-"]')) == 2,
                  "the second batch run")
            driver.save_screenshot(str(artifacts_dir() / "reports-batch-run.png"))
            with urllib.request.urlopen(link, timeout=30) as r:
                page = r.read()
        exported = tmp_path / "run.html"
        exported.write_bytes(page)
        driver.get(exported.as_uri())
        assert _css(driver, f'tr.span[data-span-id="{BAD_SPAN}"]')
        assert _css(driver, f"#trace-{TRACE_ID} svg.graph")
        _nothing_ran(driver)
    finally:
        store.close()
