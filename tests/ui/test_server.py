"""The explorer's server: JSON answers, security headers, tokens, binds, events, serve mount."""

from __future__ import annotations

import http.client
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.ui.conftest import BAD_SPAN, HOSTILE_NAME, TRACE_ID, hostile_request
from workbench.serve.store import TraceRecord, VerdictRecord
from workbench.ui.server import CSP, UiConfig, UiSecurityError, UiServer, check_bind, start_ui
from workbench.ui.sources import BatchSource, StoreSource


def get(port: int, path: str, headers: dict[str, str] | None = None,
        host: str = "127.0.0.1") -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection(host, port, timeout=10)
    conn.request("GET", path, headers=headers or {})
    r = conn.getresponse()
    body = r.read()
    conn.close()
    return r.status, {k.lower(): v for k, v in r.getheaders()}, body


@pytest.fixture()
def batch_ui(checked_run) -> Iterator[UiServer]:  # type: ignore[no-untyped-def]
    source = BatchSource(checked_run["report"], checked_run["table"])
    with start_ui(UiConfig(port=0), source) as server:
        yield server


def test_pages_carry_a_strict_policy(batch_ui) -> None:  # type: ignore[no-untyped-def]
    for path in ("/", "/static/ui.js", "/static/ui.css", "/api/ui/stats"):
        code, headers, _ = get(batch_ui.port, path)
        assert code == 200, path
        assert headers["content-security-policy"] == CSP
        assert headers["x-content-type-options"] == "nosniff"
    assert "script-src 'self'" in CSP and "unsafe-inline" not in CSP
    _, _, page = get(batch_ui.port, "/")
    assert b"<script src=\"/static/ui.js\" defer></script>" in page
    assert page.count(b"<script") == 1  # no inline script at all
    _, _, script = get(batch_ui.port, "/static/ui.js")
    assert b"innerHTML" not in script and b"insertAdjacentHTML" not in script


def test_search_and_trace_answers(batch_ui) -> None:  # type: ignore[no-untyped-def]
    code, _, body = get(batch_ui.port, "/api/ui/traces?failed=1&property=child_ends_within_parent")
    rows = json.loads(body)
    assert code == 200 and [r["trace_id"] for r in rows] == [TRACE_ID]
    assert rows[0]["services"] == ["shop"] and rows[0]["n_spans"] == 2
    assert json.loads(get(batch_ui.port, "/api/ui/traces?service=nobody")[2]) == []
    code, _, body = get(batch_ui.port, f"/api/ui/traces/{TRACE_ID}")
    trace = json.loads(body)
    assert code == 200
    names = [s["name"] for s in trace["spans"]["spans"]]
    assert names == [HOSTILE_NAME, "SELECT orders"]  # depth-first, the data as sent
    assert any("ends 890ms after its parent" in m for m in trace["violating"][BAD_SPAN])
    assert get(batch_ui.port, "/api/ui/traces/00")[0] == 404
    stats = json.loads(get(batch_ui.port, "/api/ui/stats")[2])
    assert stats["failing_traces"] == 1 and stats["mode"] == "batch"
    specs = json.loads(get(batch_ui.port, "/api/ui/specs")[2])
    assert any(p["name"] == "child_ends_within_parent" and p["doc"]
               for p in specs["properties"])
    skew = [p for p in specs["params"] if p["name"] == "skew"]
    assert len(skew) == 1 and skew[0]["default"].isdigit()


def test_export_is_the_static_report(batch_ui) -> None:  # type: ignore[no-untyped-def]
    code, headers, body = get(batch_ui.port, "/export/report.html")
    assert code == 200 and headers["content-type"].startswith("text/html")
    assert f'id="trace-{TRACE_ID}"'.encode() in body and b"<script" not in body


def test_off_loopback_needs_a_token(checked_run) -> None:  # type: ignore[no-untyped-def]
    check_bind("127.0.0.1", None)
    check_bind("::1", None)
    check_bind("localhost", None)
    for host in ("0.0.0.0", "192.0.2.7", "::"):
        with pytest.raises(UiSecurityError, match="needs a token"):
            check_bind(host, None)
    source = BatchSource(checked_run["report"], checked_run["table"])
    with pytest.raises(UiSecurityError):
        start_ui(UiConfig(host="0.0.0.0", port=0), source)
    with start_ui(UiConfig(host="0.0.0.0", port=0, token="s3cret"), source) as server:
        assert get(server.port, "/api/ui/stats")[0] == 401
        assert get(server.port, "/api/ui/stats", {"Authorization": "Bearer nope"})[0] == 401
        ok = get(server.port, "/api/ui/stats", {"Authorization": "Bearer s3cret"})
        assert ok[0] == 200
        code, headers, _ = get(server.port, "/?token=s3cret")
        assert code == 303 and headers["location"] == "/"
        assert headers["set-cookie"].startswith("otlspec_token=s3cret; HttpOnly; SameSite=Strict")
        assert get(server.port, "/api/ui/stats", {"Cookie": "otlspec_token=s3cret"})[0] == 200


def test_the_token_comes_from_the_environment(checked_run, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("OTLSPEC_TOKEN", "from-env")
    source = BatchSource(checked_run["report"], checked_run["table"])
    with start_ui(UiConfig(host="0.0.0.0", port=0), source) as server:
        assert get(server.port, "/")[0] == 401
        assert get(server.port, "/", {"Authorization": "Bearer from-env"})[0] == 200


def test_loopback_without_token_refuses_foreign_host_names(batch_ui) -> None:  # type: ignore[no-untyped-def]
    assert get(batch_ui.port, "/", {"Host": "attacker.example:8080"})[0] == 403
    assert get(batch_ui.port, "/", {"Host": f"localhost:{batch_ui.port}"})[0] == 200


def _record(trace_id: str, holds: bool, when: float) -> TraceRecord:
    payload = hostile_request(trace_id).SerializeToString()
    return TraceRecord(trace_id, 1, 2, when, payload, checked_at=when, root_name=HOSTILE_NAME,
                       services="shop", verdicts=[VerdictRecord(
                           "child_ends_within_parent", "warning", holds,
                           "" if holds else "child ends late",
                           [] if holds else [{"bindings": {"c": {"span_id": BAD_SPAN}},
                                              "message": "child ends late"}])])


def _events(conn: http.client.HTTPConnection) -> Iterator[dict[str, Any]]:
    r = conn.getresponse()
    assert r.status == 200 and r.getheader("Content-Type") == "text/event-stream"
    event = None
    while True:
        line = r.fp.readline().decode().rstrip("\n")
        if line.startswith("event: "):
            event = line[7:]
        elif line.startswith("data: ") and event == "update":
            yield json.loads(line[6:])


def test_events_push_new_results_from_the_store(results_store) -> None:  # type: ignore[no-untyped-def]
    """Over both stores (SQLite, and PostgreSQL where its binaries are)."""
    store = results_store
    store.save([_record(TRACE_ID, False, time.time())])
    with start_ui(UiConfig(port=0, poll_s=0.05), StoreSource(store)) as server:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        conn.request("GET", "/api/ui/events")
        events = _events(conn)
        first = next(events)
        assert first["traces_checked"] == 1 and first["failing_traces"] == 1
        store.save([_record("ab" * 16, True, time.time() + 1)])
        second = next(events)
        assert second["traces_checked"] == 2 and second["failing_traces"] == 1
        conn.close()
        trace = json.loads(get(server.port, f"/api/ui/traces/{TRACE_ID}")[2])
        assert trace["spans"]["spans"][0]["name"] == HOSTILE_NAME
        assert trace["violating"] == {BAD_SPAN: ["child ends late"]}
        html = get(server.port, "/export/report.html?since=0")[2]
        assert b"child ends late" in html and b"&lt;script&gt;" in html


def test_serve_mounts_the_ui_beside_its_api(stdlib_spec) -> None:  # type: ignore[no-untyped-def]
    from tests.serve.conftest import make_config
    from workbench.serve import create_server

    server = create_server(make_config(grpc_port=None, http_port=None), stdlib_spec)
    server.start(warm=False)
    try:
        assert get(server.api_port, "/")[0] == 200
        assert get(server.api_port, "/healthz")[0] == 200
        code, headers, body = get(server.api_port, "/api/traces")
        assert code == 200 and json.loads(body) == []
        assert headers["content-security-policy"] == CSP
        assert get(server.api_port, "/api/ui/stats")[0] == 200
        spec = json.loads(get(server.api_port, "/api/ui/specs")[2])
        assert len(spec["properties"]) == len(stdlib_spec.properties)
        assert all(p["formula"] and p["source"] for p in spec["properties"])
        assert {"name", "type", "default", "overridable"} <= set(spec["params"][0])
        receiver = json.loads(get(server.api_port, "/api/ui/stats")[2])["receiver"]
        assert receiver["queue_depth_spans"] == 0 and receiver["spans_received_per_s"] == 0
    finally:
        server.stop()
    refused = create_server(make_config(host="0.0.0.0", grpc_port=None, http_port=None),
                            stdlib_spec)
    with pytest.raises(UiSecurityError, match="otlspec serve"):
        refused.start(warm=False)
    assert refused.api_port is None
    refused.stop()


def test_a_token_guards_the_receivers_too(stdlib_spec) -> None:  # type: ignore[no-untyped-def]
    """The real SDK exporters, with and without the token, over HTTP and gRPC."""
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
        OTLPSpanExporter as GrpcExporter,
    )
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
        OTLPSpanExporter as HttpExporter,
    )
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from tests.serve.conftest import make_config
    from workbench.serve import create_server

    memory = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    provider.get_tracer("tests.ui").start_span("op").end()
    spans = memory.get_finished_spans()
    server = create_server(make_config(token="s3cret", backend="reference"), stdlib_spec)
    server.start(warm=False)
    try:
        http_url = f"http://127.0.0.1:{server.http_port}/v1/traces"
        grpc_url = f"127.0.0.1:{server.grpc_port}"
        assert HttpExporter(endpoint=http_url, timeout=5).export(spans) == \
            SpanExportResult.FAILURE
        assert GrpcExporter(endpoint=grpc_url, insecure=True, timeout=5).export(spans) == \
            SpanExportResult.FAILURE
        auth = {"authorization": "Bearer s3cret"}
        assert HttpExporter(endpoint=http_url, timeout=5, headers=auth).export(spans) == \
            SpanExportResult.SUCCESS
        assert GrpcExporter(endpoint=grpc_url, insecure=True, timeout=5,
                            headers=auth).export(spans) == SpanExportResult.SUCCESS
        requests = server.metrics.requests
        assert requests[("http", "unauthenticated")] == 1
        assert requests[("grpc", "unauthenticated")] == 1
        assert get(server.api_port, "/api/traces")[0] == 401
        assert get(server.api_port, "/api/traces", {"Authorization": "Bearer s3cret"})[0] == 200
    finally:
        server.stop()
