"""The whole server: API, /metrics, restart with a persistent store, PostgreSQL, alerts."""

from __future__ import annotations

import json
import os
import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from tests.serve.conftest import LOOPBACK, get_json, make_config, span_request
from workbench.serve import create_server
from workbench.serve.replay import GrpcSender, send_http


def _trace(n_children: int = 2, name: str = "GET /a") -> tuple[bytes, list[dict[str, object]]]:
    trace, root = os.urandom(16), os.urandom(8)
    spans: list[dict[str, object]] = [dict(trace_id=trace, span_id=root, name=name, kind=2,
                                           start_time_unix_nano=100, end_time_unix_nano=900)]
    for i in range(n_children):
        spans.append(dict(trace_id=trace, span_id=os.urandom(8), parent_span_id=root,
                          name="" if i == 0 else f"c{i}", kind=1,  # an empty name: a violation
                          start_time_unix_nano=200, end_time_unix_nano=300))
    return trace, spans


def test_api_and_metrics(server) -> None:  # type: ignore[no-untyped-def]
    trace, spans = _trace()
    assert send_http(server.http_port, span_request(spans))[0] == 200
    assert server.flush(60)
    tid = trace.hex()
    one = get_json(server.api_port, f"/api/traces/{tid}")
    assert isinstance(one, dict) and one["n_spans"] == 3 and one["root_name"] == "GET /a"
    by_prop = {v["property"]: v for v in one["verdicts"]}
    assert by_prop["span_name_nonempty"]["holds"] is False
    assert by_prop["span_name_nonempty"]["witnesses"]
    failed = get_json(server.api_port, "/api/verdicts?property=span_name_nonempty&failed=1")
    assert tid in {v["trace_id"] for v in failed}  # type: ignore[union-attr]
    assert tid in {t["trace_id"] for t in get_json(server.api_port, "/api/traces?failed=1")}  # type: ignore[union-attr]
    stats = get_json(server.api_port, "/api/stats")
    assert stats["failing_traces"] >= 1 and stats["live"]["spans_received"] >= 3  # type: ignore[index]
    assert get_json(server.api_port, "/api/counters")
    assert get_json(server.api_port, "/healthz") == {"status": "ok"}
    assert get_json(server.api_port, "/readyz") == {"ready": True}
    with urllib.request.urlopen(f"http://{LOOPBACK}:{server.api_port}/metrics") as resp:
        text = resp.read().decode()
    assert "otlspec_spans_received_total" in text
    assert 'otlspec_violations_total{property="span_name_nonempty",severity="error"}' in text
    assert "otlspec_deep_path_latency_seconds_count" in text and "otlspec_open_traces" in text
    for bad in ("/api/nothing", f"/api/traces/{'00' * 16}"):
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(f"http://{LOOPBACK}:{server.api_port}{bad}")
        assert err.value.code == 404


def test_restart_resumes_open_traces(stdlib_spec, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Spans of a trace whose root has not arrived survive a shutdown; nothing is lost."""
    db = str(tmp_path / "results.db")
    trace, spans = _trace(3)
    first = create_server(make_config(store=db, api_port=None, idle=0.02), stdlib_spec)
    first.start(warm=False)
    GrpcSender(first.grpc_port).send(span_request(spans[1:]))  # children only
    _, finished = _trace(1)
    GrpcSender(first.grpc_port).send(span_request(finished))  # complete: checked at the drain
    first.stop()
    second = create_server(make_config(store=db, api_port=None, idle=0.02), stdlib_spec)
    assert [t[0] for t in second.store.open_traces()] == [trace.hex()]
    assert second.store.trace(finished[0]["trace_id"].hex())["state"] == "checked"  # type: ignore[union-attr,index]
    second.start(warm=False)
    assert second.pipeline.assembler.n_open == 1
    assert send_http(second.http_port, span_request(spans[:1]))[0] == 200  # the root
    assert second.flush(60)
    stored = second.store.trace(trace.hex())
    assert stored is not None and stored["state"] == "checked" and stored["n_spans"] == 4
    assert {v["property"]: v["holds"] for v in stored["verdicts"]}["parent_exists"] is True
    second.stop()


@pytest.mark.postgres
def test_postgresql_store_end_to_end(stdlib_spec, postgres_url) -> None:  # type: ignore[no-untyped-def]
    import psycopg

    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute("CREATE DATABASE serve_e2e")
    url = postgres_url.rsplit("/", 1)[0] + "/serve_e2e"
    srv = create_server(make_config(store=url, api_port=0), stdlib_spec).start(warm=False)
    try:
        traces = [_trace(2) for _ in range(3)]
        for _, spans in traces:
            GrpcSender(srv.grpc_port).send(span_request(spans))
        assert srv.flush(60)
        for trace, _ in traces:
            one = get_json(srv.api_port, f"/api/traces/{trace.hex()}")
            assert one["n_failed"] >= 1  # type: ignore[index]
        assert srv.store.stats()["traces"] == {"checked": 3}
    finally:
        srv.stop()


class _Hook(BaseHTTPRequestHandler):
    received: ClassVar[list[dict[str, object]]] = []

    def do_POST(self) -> None:
        self.received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_alerts_webhook_and_log_deduplicated(stdlib_spec, caplog) -> None:  # type: ignore[no-untyped-def]
    hook = ThreadingHTTPServer((LOOPBACK, 0), _Hook)
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    url = f"http://{LOOPBACK}:{hook.server_address[1]}/alerts"
    cfg = make_config(api_port=None, alerts=["log", url], alert_severity="error")
    srv = create_server(cfg, stdlib_spec).start(warm=False)
    try:
        trace, spans = _trace(2)
        with caplog.at_level("WARNING", logger="otlspec.alerts"):
            send_http(srv.http_port, span_request(spans))
            assert srv.flush(60)
            send_http(srv.http_port, span_request([dict(
                trace_id=trace, span_id=os.urandom(8), parent_span_id=spans[0]["span_id"],
                name="late", start_time_unix_nano=300, end_time_unix_nano=400)]))
            assert srv.flush(60)  # revision 2 still fails: no second alert
        srv.alerter.close()  # type: ignore[union-attr]
        props = [a["property"] for a in _Hook.received if a["trace_id"] == trace.hex()]
        assert props.count("span_name_nonempty") == 1
        assert all(a["severity"] == "error" for a in _Hook.received)
        logged = [json.loads(r.getMessage()) for r in caplog.records
                  if r.name == "otlspec.alerts" and r.getMessage().startswith("{")]
        assert [a["property"] for a in logged if a["trace_id"] == trace.hex()] == props
        assert srv.metrics.alerts["deduplicated"] >= 1
    finally:
        srv.stop()
        hook.shutdown()


def test_trace_the_decoder_cannot_read_is_stored_without_verdicts(server) -> None:  # type: ignore[no-untyped-def]
    """A span with a start time past int64 is dropped by the batch decoder too (with a
    diagnostic); the trace is still recorded, so nothing accepted disappears silently."""
    trace = os.urandom(16)
    spans = [dict(trace_id=trace, span_id=os.urandom(8), name="far future",
                  start_time_unix_nano=2**63 + 5, end_time_unix_nano=2**63 + 10)]
    assert send_http(server.http_port, span_request(spans))[0] == 200
    assert server.flush(60)
    stored = server.store.trace(trace.hex())
    assert stored is not None and stored["n_spans"] == 1 and stored["verdicts"] == []
