"""Fixtures of the UI tests: a small checked run whose traces carry hostile names and values."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from tests.serve.conftest import postgres_url  # noqa: F401  (a fixture results_store uses)
from workbench.lang import load_specs
from workbench.serve.store import Store, open_store

#: A span name and an attribute value that would run script if rendered as markup.
HOSTILE_NAME = "<script>window.__pwned = 1</script>GET /cart"
HOSTILE_ATTR = '"><img src=x onerror="window.__pwned = 2">'
TRACE_ID = "5b8efff798038103d269b633813fc60c"
BAD_SPAN = "eee19b7ec3c1b174"  # the child that ends after its parent


def hostile_request(trace_id: str = TRACE_ID, service: str = "shop") -> ExportTraceServiceRequest:
    """One trace: a SERVER root with the hostile name, a child overrunning it, an empty name."""
    req = ExportTraceServiceRequest()
    rs = req.resource_spans.add()
    kv = rs.resource.attributes.add()
    kv.key, kv.value.string_value = "service.name", service
    ss = rs.scope_spans.add()
    ss.scope.name = "tests.ui"
    tid = bytes.fromhex(trace_id)
    t0 = 1_700_000_000_000_000_000
    root = ss.spans.add(trace_id=tid, span_id=bytes.fromhex("eee19b7ec3c1b173"), name=HOSTILE_NAME,
                        kind=2, start_time_unix_nano=t0, end_time_unix_nano=t0 + 10_000_000)
    a = root.attributes.add()
    a.key, a.value.string_value = "http.request.method", "GET"
    a = root.attributes.add()
    a.key, a.value.string_value = "user.note", HOSTILE_ATTR
    ss.spans.add(trace_id=tid, span_id=bytes.fromhex(BAD_SPAN),
                 parent_span_id=bytes.fromhex("eee19b7ec3c1b173"), name="SELECT orders", kind=3,
                 start_time_unix_nano=t0 + 1_000_000, end_time_unix_nano=t0 + 900_000_000)
    return req


_databases = itertools.count()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def results_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """An empty results store: a SQLite file, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        store = open_store(str(tmp_path / "results.db"))
    else:
        import psycopg

        url = request.getfixturevalue("postgres_url")
        name = f"ui{next(_databases)}"
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(f"CREATE DATABASE {name}")
        store = open_store(url.rsplit("/", 1)[0] + "/" + name)
    yield store
    store.close()


@pytest.fixture(scope="session")
def stdlib_spec():  # type: ignore[no-untyped-def]
    return load_specs(["stdlib"])


@pytest.fixture(scope="session")
def checked_run(tmp_path_factory, stdlib_spec) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """A real check of the hostile trace: ``trace_file``, ``results`` (JSON path), ``report``,
    ``table``."""
    from workbench.engine import check
    from workbench.report import build_report
    from workbench.traces import load_traces

    root = tmp_path_factory.mktemp("ui-run")
    trace_file = root / "hostile.pb"
    trace_file.write_bytes(hostile_request().SerializeToString())
    table = load_traces([str(trace_file)])
    result = check(stdlib_spec, table, backend="reference")
    report = build_report(result, spec_files=["stdlib"], trace_inputs=[str(trace_file)])
    results = root / "results.json"
    results.write_text(json.dumps(report), encoding="utf-8")
    return {"trace_file": trace_file, "results": results, "report": report, "table": table}


def artifacts_dir() -> Path:
    """Where browser tests save screenshots: ``$OTLSPEC_ARTIFACTS`` or ``build/ui-screenshots``."""
    import os

    where = Path(os.environ.get("OTLSPEC_ARTIFACTS") or
                 Path(__file__).resolve().parents[2] / "build" / "ui-screenshots")
    where.mkdir(parents=True, exist_ok=True)
    return where


def wide_trace(n_spans: int, trace_id: str = "ab" * 16) -> ExportTraceServiceRequest:
    """One trace of ``n_spans`` spans: a root with 100 children, each the root of a chain."""
    req = ExportTraceServiceRequest()
    rs = req.resource_spans.add()
    kv = rs.resource.attributes.add()
    kv.key, kv.value.string_value = "service.name", "wide"
    ss = rs.scope_spans.add()
    tid = bytes.fromhex(trace_id)
    t0 = 1_700_000_000_000_000_000
    for i in range(n_spans):
        parent = b"" if i == 0 else (i - 100 if i > 100 else 0).to_bytes(8, "big")
        ss.spans.add(trace_id=tid, span_id=i.to_bytes(8, "big") if i else b"\xff" * 8,
                     parent_span_id=parent if i == 0 or i > 100 else b"\xff" * 8,
                     name=f"op-{i}", start_time_unix_nano=t0 + i * 1000,
                     end_time_unix_nano=t0 + n_spans * 1000 + 1)
    return req


def wide_report(trace_id: str, bad_span: str) -> dict[str, Any]:
    """A JSON report (schema v2 shape) naming one violating span of :func:`wide_trace`."""
    return {"summary": {"violations": 1}, "input": {"traces": 1, "spans": 0, "sources": []},
            "properties": [{"name": "late_op", "severity": "error", "failed": 1, "passed": 0,
                            "traces": [{"trace_id": trace_id, "verdict": "fail", "witnesses": [
                                {"bindings": {"s": {"span_id": bad_span}},
                                 "message": f"span {bad_span} is late"}]}]}]}
