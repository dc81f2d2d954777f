"""The results store: one suite run against SQLite (a WAL file) and a real PostgreSQL server."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest

from workbench.serve.store import (
    PostgresStore,
    SQLiteStore,
    Store,
    StoreError,
    TraceRecord,
    VerdictRecord,
    open_store,
)

_names = itertools.count()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path) -> Iterator[Store]:  # type: ignore[no-untyped-def]
    if request.param == "sqlite":
        s: Store = open_store(str(tmp_path / "results.db"))
        assert isinstance(s, SQLiteStore)
    else:
        import psycopg

        url = request.getfixturevalue("postgres_url")
        name = f"t{next(_names)}"
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(f"CREATE DATABASE {name}")
        s = open_store(url.rsplit("/", 1)[0] + "/" + name)
        assert isinstance(s, PostgresStore)
    yield s
    s.close()


def _record(trace_id: str, revision: int, holds: bool, at: float) -> TraceRecord:
    return TraceRecord(
        trace_id, revision, n_spans=3 + revision, first_seen=at - 5, payload=b"\x0a\x00" * revision,
        completed_at=at - 1, checked_at=at, reason="idle", root_name="GET /", services="a,b",
        verdicts=[
            VerdictRecord("span_ended", "error", holds, "" if holds else "span s never ended",
                          [] if holds else [{"bindings": {"s": {"span_id": "01"}},
                                             "message": "span s never ended"}]),
            VerdictRecord("has_root", "warning", True),
        ],
    )


def test_save_query_and_revise(store: Store) -> None:
    store.save([_record("aa" * 16, 1, True, 1000.0), _record("bb" * 16, 1, False, 1010.0)])
    assert store.stats()["traces"] == {"checked": 2}
    assert store.stats()["failing_traces"] == 1
    failed = store.verdicts(failed=True)
    assert [(v["trace_id"], v["property"]) for v in failed] == [("bb" * 16, "span_ended")]
    assert failed[0]["witnesses"][0]["message"] == "span s never ended"
    assert [t["trace_id"] for t in store.traces()] == ["bb" * 16, "aa" * 16]
    assert [t["trace_id"] for t in store.traces(failed=True)] == ["bb" * 16]
    assert [t["trace_id"] for t in store.traces(since=1005.0)] == ["bb" * 16]

    # a late span revised the first trace: its verdict changes, the old revision never wins
    store.save([_record("aa" * 16, 2, False, 1020.0)])
    store.save([_record("aa" * 16, 1, True, 1030.0)])
    trace = store.trace("aa" * 16)
    assert trace is not None and trace["revision"] == 2 and trace["n_failed"] == 1
    assert {v["property"]: v["holds"] for v in trace["verdicts"]} == {
        "span_ended": False, "has_root": True}
    assert store.payload("aa" * 16) == (b"\x0a\x00" * 2, 2)
    assert store.payload("cc" * 16) is None
    assert store.trace("cc" * 16) is None
    props = {p["property"]: p for p in store.stats()["properties"]}
    assert props["span_ended"]["violations"] == 2 and props["has_root"]["violations"] == 0
    windows = store.counters()
    assert sum(w["checked"] for w in windows if w["property"] == "span_ended") == 4


def test_open_traces_persist_for_the_next_start(store: Store) -> None:
    store.save([TraceRecord("dd" * 16, 0, 2, 1.0, b"payload", state="open")])
    assert store.open_traces() == [("dd" * 16, b"payload", 0)]
    store.save([_record("dd" * 16, 1, True, 50.0)])
    assert store.open_traces() == []


def test_reopen_keeps_data_and_schema_version(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = str(tmp_path / "r.db")
    s = open_store(path)
    s.save([_record("ee" * 16, 1, False, 5.0)])
    s.close()
    s = open_store(path)  # migrations already applied: nothing re-created
    # one row per migration applied, once each: reopening applies none again
    assert s._query("SELECT COUNT(*), MAX(version) FROM schema_version") == [(2, 2)]
    assert s.stats()["failing_traces"] == 1
    s.close()


def test_bad_store_locations() -> None:
    with pytest.raises(StoreError, match="cannot open SQLite store"):
        open_store("/nonexistent-dir/x/y.db")
    with pytest.raises(StoreError, match="PostgreSQL"):
        open_store("postgresql://nobody@127.0.0.1:1/none?connect_timeout=2")
