"""Report history and store queries: ``otlspec check --store`` records a batch run that the
reports page lists beside the stream windows and exports; the explorer's search and
by-service figures are store queries over every trace (SQLite and PostgreSQL alike)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from tests.ui.conftest import BAD_SPAN, TRACE_ID, hostile_request
from tests.ui.test_server import get
from workbench.cli import main
from workbench.serve.store import PostgresStore, Store, TraceRecord, VerdictRecord
from workbench.ui.server import UiConfig, start_ui
from workbench.ui.sources import StoreSource, _match


def _where(store: Store) -> str:
    """The path or URL a command would be given for ``store``."""
    return store.url if isinstance(store, PostgresStore) else str(getattr(store, "path", ""))


def _check_into(store: Store, tmp_path: Path) -> tuple[dict[str, Any], Path]:
    """Run ``otlspec check --store`` over the hostile trace; returns its JSON report."""
    trace_file = tmp_path / "hostile.pb"
    trace_file.write_bytes(hostile_request().SerializeToString())
    out = tmp_path / "results.json"
    code = main(["check", "stdlib", str(trace_file), "--store", _where(store), "--backend",
                 "reference", "--format", "json", "-o", str(out), "--no-progress"])
    assert code in (0, 1)
    return json.loads(out.read_text(encoding="utf-8")), trace_file


def test_check_store_records_the_batch_run(results_store, tmp_path) -> None:  # type: ignore[no-untyped-def]
    before = time.time()
    written, trace_file = _check_into(results_store, tmp_path)
    runs = results_store.runs()
    assert len(runs) == 1
    run = runs[0]
    assert before <= run["started_at"] <= run["finished_at"] <= time.time()
    assert run["specs"] == ["stdlib"] and run["inputs"] == [str(trace_file.resolve())]
    assert run["backend"].startswith("reference")
    assert run["traces"] == 1 and run["violations"] == written["summary"]["violations"] > 0
    stored = results_store.run_report(run["run_id"])
    assert stored["summary"] == written["summary"]
    # the verdicts, witnesses and messages, property by property, as the JSON report has them
    assert stored["properties"] == sorted(written["properties"], key=lambda p: p["name"])
    failing = [t for p in stored["properties"] for t in p["traces"]]
    assert failing and all(t["trace_id"] == TRACE_ID and t["witnesses"] for t in failing)
    assert results_store.run_report("no-such-run") is None


def test_check_store_fails_fast_on_a_bad_store(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    code = main(["check", "stdlib", str(tmp_path / "none.json"), "--store",
                 "postgresql://nobody@127.0.0.1:1/none?connect_timeout=2"])
    assert code == 2
    assert "--store" in capsys.readouterr().err


def test_reports_page_lists_runs_and_windows_newest_first_and_exports_them(  # type: ignore[no-untyped-def]
        results_store, tmp_path) -> None:
    old = time.time() - 7200  # a stream window two hours before the batch run
    results_store.save([TraceRecord(
        trace_id="ab" * 16, revision=1, n_spans=1, first_seen=old, payload=b"",
        checked_at=old, services="shop",
        verdicts=[VerdictRecord("late", "error", False, "late span",
                                [{"message": "late span", "bindings": {}}])])])
    written, _ = _check_into(results_store, tmp_path)
    source = StoreSource(results_store)
    with start_ui(UiConfig(port=0), source) as ui:
        status, _, body = get(ui.port, "/api/ui/reports")
        rows = json.loads(body)
        assert status == 200 and [r["kind"] for r in rows] == ["batch run", "stream window"]
        run, window = rows
        assert run["checked"] == 1 and run["violations"] > 0 and "stdlib" in run["name"]
        assert window["violations"] == 1
        status, headers, page = get(ui.port, "/export/report.html" + run["export"])
        assert status == 200 and headers["content-type"].startswith("text/html")
        text = page.decode()
        # the recorded run, with its trace reread from the input file: a waterfall and graph
        assert all(f'id="prop-{name}"' in text for name in written["summary"]["failed_properties"])
        assert f'data-span-id="{BAD_SPAN}"' in text and '<svg class="graph"' in text
        assert "<script" not in text.replace("&lt;script", "")
        status, _, page = get(ui.port, "/export/report.html" + window["export"])
        assert status == 200 and b"late span" in page
        status, _, _ = get(ui.port, "/export/report.html?run=nope")
        assert status == 400


_N = 6_000  # more than the 5,000 traces the search once looked through


def _bulk(store: Store) -> list[TraceRecord]:
    """``_N`` traces in one write: the oldest has the one rare service and failing property."""
    records = []
    for i in range(_N):
        services = "rare,shop" if i == 0 else ("a_c" if i % 3 == 0 else f"shop,svc{i % 7}")
        fails = i == 0 or i % 11 == 0
        prop = "p_old" if i == 0 else "p_common"
        records.append(TraceRecord(
            trace_id=f"{i:032x}", revision=1, n_spans=2, first_seen=float(i), payload=b"",
            checked_at=1000.0 + i, services=services,
            verdicts=[VerdictRecord(prop, "warning" if i == 0 else "error", not fails,
                                    f"m{i}")]))
    store.save(records)
    return records


def _reference(records: list[TraceRecord], q: dict[str, str]) -> list[str]:
    """What the search must find: the Python filter over every trace, newest first."""
    rows = [{"trace_id": r.trace_id, "services": [s for s in r.services.split(",") if s],
             "n_failed": r.n_failed, "checked_at": r.checked_at,
             "failed_properties": sorted({v.property for v in r.verdicts if not v.holds}),
             "severities": sorted({v.severity for v in r.verdicts if not v.holds})}
            for r in records]
    rows.sort(key=lambda r: (-float(r["checked_at"]), r["trace_id"]))
    return [str(r["trace_id"]) for r in rows if _match(r, q)]


@pytest.mark.parametrize("query", [
    {"service": "rare"}, {"property": "p_old"}, {"severity": "warning"}, {"service": "a_c"},
    {"service": "abc"}, {"service": "a%"}, {"trace_id": f"{0:031x}"}, {"failed": "1"},
    {"since": "1000", "until": "1010"}, {"service": "shop", "property": "p_common"},
])
def test_search_covers_every_trace_and_matches_the_python_filter(  # type: ignore[no-untyped-def]
        results_store, query) -> None:
    records = _bulk(results_store)
    source = StoreSource(results_store)
    want = _reference(records, query)[:5_000]
    got = source.traces({**query, "limit": "5000"})
    assert [r["trace_id"] for r in got] == want
    if query.get("service") == "rare":
        assert want == [f"{0:032x}"]  # the oldest trace, beyond the 5,000 most recent
        assert got[0]["failed_properties"] == ["p_old"] and got[0]["severities"] == ["warning"]


def test_by_service_counts_every_trace(results_store) -> None:  # type: ignore[no-untyped-def]
    records = _bulk(results_store)
    counts: dict[str, list[int]] = {}
    for r in records:
        for svc in [s for s in r.services.split(",") if s] or ["(no service)"]:
            e = counts.setdefault(svc, [0, 0])
            e[0] += 1
            e[1] += bool(r.n_failed)
    got = StoreSource(results_store).stats()["by_service"]
    assert got == [{"service": k, "traces": v[0], "failing": v[1]}
                   for k, v in sorted(counts.items())]
    assert {"service": "rare", "traces": 1, "failing": 1} in got


def test_a_version_1_store_is_migrated_in_place(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A store written before batch runs existed gains them, and keeps its traces."""
    import sqlite3
    from importlib import resources

    from workbench.serve.store import _statements, open_store

    path = str(tmp_path / "v1.db")
    v1 = (resources.files("workbench.serve") / "migrations" / "sqlite" / "001_init.sql")
    conn = sqlite3.connect(path)
    for statement in _statements(v1.read_text(encoding="utf-8")):
        conn.execute(statement)
    conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
    conn.execute("INSERT INTO schema_version VALUES (1)")
    conn.execute("INSERT INTO traces (trace_id, state, revision, n_spans, n_failed, services, "
                 "first_seen, checked_at, payload) VALUES ('ab', 'checked', 1, 1, 1, 'shop', "
                 "1.0, 2.0, x'')")
    conn.commit()
    conn.close()
    store = open_store(path)
    try:
        assert store._query("SELECT MAX(version) FROM schema_version") == [(2,)]
        assert store.runs() == []
        assert [r["trace_id"] for r in store.search_traces(service="shop", failed=True)] == ["ab"]
    finally:
        store.close()
