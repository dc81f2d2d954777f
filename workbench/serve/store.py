"""The results store: one interface, SQLite (embedded, WAL) and PostgreSQL implementations.

Stored per trace: its spans (the serialized request, so a late span can reopen it and a restart
can resume it), its state and revision; per (trace, property): the verdict, its message and the
witnesses; per time window and property: how many checks ran and how many failed. The schema is
created from the SQL files under ``migrations/<engine>/`` (applied in order, recorded in
``schema_version``), not from code paths.

:func:`open_store` picks the implementation from a path or URL: ``postgresql://...`` (or
``postgres://``) for PostgreSQL through psycopg, anything else is a SQLite file (``:memory:``
for a private in-memory database).
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

#: Width of the per-property counter windows, in seconds.
WINDOW_S = 60


class StoreError(Exception):
    """The store cannot be opened or used (message says which and what to do)."""


@dataclass(slots=True)
class VerdictRecord:
    """The verdict of one property on one trace."""

    property: str
    severity: str
    holds: bool
    message: str = ""
    witnesses: list[dict[str, Any]] = field(default_factory=list)


@dataclass(slots=True)
class TraceRecord:
    """One trace as the store keeps it."""

    trace_id: str
    revision: int
    n_spans: int
    first_seen: float
    payload: bytes
    state: str = "checked"
    completed_at: float | None = None
    checked_at: float | None = None
    reason: str = ""
    root_name: str = ""
    services: str = ""
    verdicts: list[VerdictRecord] = field(default_factory=list)

    @property
    def n_failed(self) -> int:
        return sum(not v.holds for v in self.verdicts)


_TRACE_COLUMNS = (
    "trace_id, state, revision, n_spans, n_failed, root_name, services, reason, first_seen, "
    "completed_at, checked_at"
)


class Store:
    """SQL store shared by both engines; subclasses open the connection.

    Every method is safe to call from several threads (one connection behind a lock).
    """

    engine = ""
    placeholder = "?"

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self.lock = threading.RLock()
        self._migrate()

    # ------------------------------------------------------------------ plumbing
    def _sql(self, text: str) -> str:
        return text if self.placeholder == "?" else text.replace("?", self.placeholder)

    @contextmanager
    def _tx(self) -> Iterator[Any]:
        with self.lock:
            cur = self.conn.cursor()
            try:
                yield cur
                self.conn.commit()
            except BaseException:
                self.conn.rollback()
                raise
            finally:
                cur.close()

    def _query(self, text: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._tx() as cur:
            cur.execute(self._sql(text), tuple(args))
            return list(cur.fetchall())

    def _migrate(self) -> None:
        folder = resources.files("workbench.serve") / "migrations" / self.engine
        with self._tx() as cur:
            cur.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            cur.execute("SELECT MAX(version) FROM schema_version")
            current = cur.fetchone()[0] or 0
        for item in sorted(folder.iterdir(), key=lambda p: p.name):
            if not item.name.endswith(".sql"):
                continue
            version = int(item.name.split("_", 1)[0])
            if version <= current:
                continue
            script = item.read_text(encoding="utf-8")
            with self._tx() as cur:
                for statement in _statements(script):
                    cur.execute(statement)
                cur.execute(self._sql("INSERT INTO schema_version (version) VALUES (?)"),
                            (version,))

    def close(self) -> None:
        with self.lock:
            self.conn.close()

    # ------------------------------------------------------------------ writing
    def save(self, records: Sequence[TraceRecord]) -> None:
        """Insert or revise traces and their verdicts (an older revision never wins)."""
        if not records:
            return
        trace_rows = []
        verdict_rows = []
        counters: dict[tuple[int, str], list[int]] = {}
        for r in records:
            trace_rows.append((
                r.trace_id, r.state, r.revision, r.n_spans, r.n_failed, r.root_name,
                r.services, r.reason, r.first_seen, r.completed_at, r.checked_at, r.payload,
            ))
            window = int((r.checked_at or 0) // WINDOW_S * WINDOW_S)
            for v in r.verdicts:
                verdict_rows.append((
                    r.trace_id, v.property, v.severity, int(v.holds), r.revision,
                    r.checked_at or 0.0, v.message,
                    json.dumps(v.witnesses) if v.witnesses else "[]",
                ))
                c = counters.setdefault((window, v.property), [0, 0])
                c[0] += 1
                c[1] += not v.holds
        with self._tx() as cur:
            cur.executemany(self._sql(
                f"INSERT INTO traces ({_TRACE_COLUMNS}, payload) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (trace_id) DO UPDATE SET state = excluded.state, "
                "revision = excluded.revision, n_spans = excluded.n_spans, "
                "n_failed = excluded.n_failed, root_name = excluded.root_name, "
                "services = excluded.services, reason = excluded.reason, "
                "first_seen = excluded.first_seen, completed_at = excluded.completed_at, "
                "checked_at = excluded.checked_at, payload = excluded.payload "
                "WHERE excluded.revision >= traces.revision"), trace_rows)
            if verdict_rows:
                cur.executemany(self._sql(
                    "INSERT INTO verdicts (trace_id, property, severity, holds, revision, "
                    "checked_at, message, witnesses) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT (trace_id, property) DO UPDATE SET "
                    "severity = excluded.severity, holds = excluded.holds, "
                    "revision = excluded.revision, checked_at = excluded.checked_at, "
                    "message = excluded.message, witnesses = excluded.witnesses "
                    "WHERE excluded.revision >= verdicts.revision"), verdict_rows)
            cur.executemany(self._sql(
                "INSERT INTO counters (window_start, property, checked, violations) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (window_start, property) DO UPDATE SET "
                "checked = counters.checked + excluded.checked, "
                "violations = counters.violations + excluded.violations"),
                [(w, p, c[0], c[1]) for (w, p), c in counters.items()])

    # ------------------------------------------------------------------ reading
    def payload(self, trace_id: str) -> tuple[bytes, int] | None:
        """The stored spans and revision of a trace (None when unknown)."""
        rows = self._query("SELECT payload, revision FROM traces WHERE trace_id = ?", (trace_id,))
        return (bytes(rows[0][0]), int(rows[0][1])) if rows else None

    def open_traces(self) -> list[tuple[str, bytes, int]]:
        """Traces persisted open at the last shutdown: ``(trace_id, payload, revision)``."""
        rows = self._query(
            "SELECT trace_id, payload, revision FROM traces WHERE state = 'open'")
        return [(str(t), bytes(p), int(r)) for t, p, r in rows]

    def traces(
        self,
        *,
        failed: bool = False,
        since: float | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[dict[str, Any]]:
        """Traces, most recently checked first."""
        where = ["1 = 1"]
        args: list[Any] = []
        if failed:
            where.append("n_failed > 0")
        if since is not None:
            where.append("checked_at >= ?")
            args.append(since)
        rows = self._query(
            f"SELECT {_TRACE_COLUMNS} FROM traces WHERE {' AND '.join(where)} "
            "ORDER BY checked_at DESC, trace_id LIMIT ? OFFSET ?", (*args, limit, offset))
        names = [c.strip() for c in _TRACE_COLUMNS.split(",")]
        return [dict(zip(names, row, strict=True)) for row in rows]

    def trace(self, trace_id: str) -> dict[str, Any] | None:
        """One trace with all its verdicts."""
        rows = self._query(f"SELECT {_TRACE_COLUMNS} FROM traces WHERE trace_id = ?",
                           (trace_id,))
        if not rows:
            return None
        names = [c.strip() for c in _TRACE_COLUMNS.split(",")]
        out = dict(zip(names, rows[0], strict=True))
        out["verdicts"] = self.verdicts(trace_id=trace_id, limit=100_000)
        return out

    def verdicts(
        self,
        *,
        trace_id: str | None = None,
        property: str | None = None,
        failed: bool = False,
        since: float | None = None,
        limit: int = 1000,
    ) -> list[dict[str, Any]]:
        """Verdicts, most recent first."""
        where = ["1 = 1"]
        args: list[Any] = []
        for column, value in (("trace_id", trace_id), ("property", property)):
            if value is not None:
                where.append(f"{column} = ?")
                args.append(value)
        if failed:
            where.append("holds = 0")
        if since is not None:
            where.append("checked_at >= ?")
            args.append(since)
        rows = self._query(
            "SELECT trace_id, property, severity, holds, revision, checked_at, message, "
            f"witnesses FROM verdicts WHERE {' AND '.join(where)} "
            "ORDER BY checked_at DESC, trace_id, property LIMIT ?", (*args, limit))
        return [
            {"trace_id": t, "property": p, "severity": s, "holds": bool(h), "revision": r,
             "checked_at": c, "message": m, "witnesses": json.loads(w)}
            for t, p, s, h, r, c, m, w in rows
        ]

    def stats(self) -> dict[str, Any]:
        """Totals: traces by state, failing traces, violations by property and severity."""
        by_state = dict(self._query("SELECT state, COUNT(*) FROM traces GROUP BY state"))
        failing = self._query("SELECT COUNT(*) FROM traces WHERE n_failed > 0")[0][0]
        rows = self._query(
            "SELECT property, severity, COUNT(*), SUM(1 - holds) FROM verdicts "
            "GROUP BY property, severity ORDER BY property")
        return {
            "traces": {str(k): int(v) for k, v in by_state.items()},
            "failing_traces": int(failing),
            "properties": [
                {"property": p, "severity": s, "checked": int(n), "violations": int(f or 0)}
                for p, s, n, f in rows
            ],
        }

    def counters(self, since: float | None = None) -> list[dict[str, Any]]:
        """Per-window counters, oldest first."""
        rows = self._query(
            "SELECT window_start, property, checked, violations FROM counters "
            "WHERE window_start >= ? ORDER BY window_start, property", (int(since or 0),))
        return [{"window_start": w, "property": p, "checked": c, "violations": v}
                for w, p, c, v in rows]


    # ------------------------------------------------------------------ search (explorer)
    def search_traces(
        self,
        *,
        trace_id: str = "",
        service: str = "",
        property: str = "",
        severity: str = "",
        failed: bool = False,
        since: float | None = None,
        until: float | None = None,
        limit: int = 200,
    ) -> list[dict[str, Any]]:
        """Trace summaries matching the filters, over every stored trace, newest first.

        Each row is a trace (as :meth:`traces` gives it) with ``services`` as a list and the
        ``failed_properties`` and ``severities`` of its failed verdicts. ``trace_id`` is a
        prefix; ``service`` one of the trace's services; ``property`` and ``severity`` match
        a failed verdict of the trace; ``since``/``until`` bound ``checked_at``.
        """
        where = ["1 = 1"]
        args: list[Any] = []
        if trace_id.strip():
            where.append("trace_id LIKE ? ESCAPE '\\'")
            args.append(_like(trace_id.strip().lower()) + "%")
        if service.strip():
            where.append("(',' || services || ',') LIKE ? ESCAPE '\\'")
            args.append("%," + _like(service.strip()) + ",%")
        for column, value in (("property", property), ("severity", severity)):
            if value.strip():
                where.append("EXISTS (SELECT 1 FROM verdicts v WHERE v.holds = 0 AND "
                             f"v.trace_id = traces.trace_id AND v.{column} = ?)")
                args.append(value.strip())
        if failed:
            where.append("n_failed > 0")
        if since is not None:
            where.append("checked_at >= ?")
            args.append(since)
        if until is not None:
            where.append("checked_at <= ?")
            args.append(until)
        rows = self._query(
            f"SELECT {_TRACE_COLUMNS} FROM traces WHERE {' AND '.join(where)} "
            "ORDER BY checked_at DESC NULLS LAST, trace_id LIMIT ?", (*args, int(limit)))
        names = [c.strip() for c in _TRACE_COLUMNS.split(",")]
        out = [dict(zip(names, row, strict=True)) for row in rows]
        bad: dict[str, list[tuple[str, str]]] = {}
        ids = [r["trace_id"] for r in out]
        for lo in range(0, len(ids), 500):  # under every engine's limit of bound values
            chunk = ids[lo:lo + 500]
            marks = ", ".join("?" * len(chunk))
            for t, p, sev in self._query(
                    "SELECT trace_id, property, severity FROM verdicts WHERE holds = 0 AND "
                    f"trace_id IN ({marks})", chunk):
                bad.setdefault(str(t), []).append((str(p), str(sev)))
        for r in out:
            vs = bad.get(r["trace_id"], [])
            r["services"] = [s for s in (r.get("services") or "").split(",") if s]
            r["failed_properties"] = sorted({p for p, _ in vs})
            r["severities"] = sorted({sev for _, sev in vs})
        return out

    def service_counts(self) -> list[dict[str, Any]]:
        """Per service, over every stored trace: ``traces`` and ``failing`` traces, by name.

        Grouped by the services column in SQL (one row per distinct set of services, few),
        then split: a trace counts once for each of its services; one without a service
        counts under ``(no service)``.
        """
        rows = self._query(
            "SELECT services, COUNT(*), SUM(CASE WHEN n_failed > 0 THEN 1 ELSE 0 END) "
            "FROM traces GROUP BY services")
        out: dict[str, list[int]] = {}
        for services, n, failing in rows:
            for svc in [s for s in str(services or "").split(",") if s] or ["(no service)"]:
                e = out.setdefault(svc, [0, 0])
                e[0] += int(n)
                e[1] += int(failing or 0)
        return [{"service": k, "traces": v[0], "failing": v[1]} for k, v in sorted(out.items())]

    # ------------------------------------------------------------------ batch runs
    def save_run(
        self,
        report: dict[str, Any],
        *,
        started_at: float,
        finished_at: float,
        backend: str = "",
        run_id: str | None = None,
    ) -> str:
        """Record a batch run (``otlspec check --store``) from its JSON report (schema v2).

        Parameters
        ----------
        report
            The run's report as :func:`workbench.report.build_report` makes it: its head,
            and each property with its failing traces and their witnesses.
        started_at, finished_at
            When the run began and ended, unix seconds.
        backend
            The backend asked for (the report records each property's own).
        run_id
            The run's id (default: a new random one).

        Returns
        -------
        str
            The run's id.
        """
        import uuid

        run_id = run_id or uuid.uuid4().hex
        props = report.get("properties", [])
        head = {k: v for k, v in report.items() if k not in ("properties", "timings")}
        inp = report.get("input", {})
        summary = report.get("summary", {})
        used = sorted({str(p.get("backend")) for p in props if p.get("backend")})
        prop_rows = []
        verdict_rows = []
        for p in props:
            entry = {k: v for k, v in p.items() if k != "traces"}
            prop_rows.append((run_id, str(p["name"]), str(p.get("severity", "")),
                              json.dumps(entry), int(p.get("passed", 0)),
                              int(p.get("failed", 0))))
            for t in p.get("traces", []):
                ws = t.get("witnesses", [])
                verdict_rows.append((
                    run_id, str(t["trace_id"]), str(p["name"]), str(p.get("severity", "")),
                    int(t.get("verdict") != "fail"), str(ws[0].get("message", "")) if ws else "",
                    json.dumps(t.get("sources", [])), json.dumps(ws)))
        with self._tx() as cur:
            cur.execute(self._sql(
                "INSERT INTO runs (run_id, kind, started_at, finished_at, specs, inputs, "
                "backend, n_traces, n_spans, n_properties, violations, passing, head) "
                "VALUES (?, 'batch', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
                (run_id, started_at, finished_at,
                 json.dumps(report.get("spec", {}).get("files", [])),
                 json.dumps(inp.get("sources", [])),
                 f"{backend} ({', '.join(used)})" if backend and used else backend,
                 int(inp.get("traces", 0)), int(inp.get("spans", 0)), len(props),
                 int(summary.get("violations", 0)), int(summary.get("passing", 0)),
                 json.dumps(head, default=str)))
            if prop_rows:
                cur.executemany(self._sql(
                    "INSERT INTO run_properties (run_id, property, severity, entry, passed, "
                    "failed) VALUES (?, ?, ?, ?, ?, ?)"), prop_rows)
            if verdict_rows:
                cur.executemany(self._sql(
                    "INSERT INTO run_verdicts (run_id, trace_id, property, severity, holds, "
                    "message, sources, witnesses) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"),
                    verdict_rows)
        return run_id

    def runs(self, limit: int = 200) -> list[dict[str, Any]]:
        """The recorded batch runs, newest first (without their verdicts)."""
        rows = self._query(
            "SELECT run_id, kind, started_at, finished_at, specs, inputs, backend, n_traces, "
            "n_spans, n_properties, violations, passing FROM runs "
            "ORDER BY finished_at DESC, run_id LIMIT ?", (int(limit),))
        return [
            {"run_id": r, "kind": k, "started_at": s, "finished_at": f,
             "specs": json.loads(sp), "inputs": json.loads(i), "backend": b, "traces": int(nt),
             "spans": int(ns), "properties": int(npr), "violations": int(v), "passing": int(pa)}
            for r, k, s, f, sp, i, b, nt, ns, npr, v, pa in rows
        ]

    def run_report(self, run_id: str) -> dict[str, Any] | None:
        """A recorded batch run as its JSON report (schema v2); None when unknown."""
        head = self._query("SELECT head FROM runs WHERE run_id = ?", (run_id,))
        if not head:
            return None
        report: dict[str, Any] = json.loads(head[0][0])
        traces: dict[str, list[dict[str, Any]]] = {}
        for t, p, h, src, ws in self._query(
                "SELECT trace_id, property, holds, sources, witnesses FROM run_verdicts "
                "WHERE run_id = ? ORDER BY property, trace_id", (run_id,)):
            entry: dict[str, Any] = {"trace_id": t, "sources": json.loads(src),
                                     "verdict": "pass" if h else "fail"}
            if not h:
                entry["witnesses"] = json.loads(ws)
            traces.setdefault(str(p), []).append(entry)
        report["properties"] = [
            json.loads(entry) | {"traces": traces.get(str(name), [])}
            for name, entry in self._query(
                "SELECT property, entry FROM run_properties WHERE run_id = ? ORDER BY property",
                (run_id,))]
        return report


def _like(text: str) -> str:
    """``text`` as a literal inside a LIKE pattern (escape character ``\\``)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _statements(script: str) -> list[str]:
    lines = [line.split("--", 1)[0] for line in script.splitlines()]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]


class SQLiteStore(Store):
    """An embedded SQLite database in WAL mode (``:memory:`` for a private one)."""

    engine = "sqlite"

    def __init__(self, path: str) -> None:
        try:
            conn = sqlite3.connect(path, check_same_thread=False, timeout=30)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open SQLite store {path!r}: {exc}") from None
        if path != ":memory:":
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
        self.path = path
        super().__init__(conn)


class PostgresStore(Store):
    """A PostgreSQL database reached by URL through psycopg 3."""

    engine = "postgresql"
    placeholder = "%s"

    def __init__(self, url: str) -> None:
        try:
            import psycopg
        except ImportError:
            raise StoreError(
                "a postgresql:// store needs psycopg: pip install 'otlspec[serve]'"
            ) from None
        try:
            conn = psycopg.connect(url)
        except psycopg.Error as exc:
            raise StoreError(f"cannot connect to the PostgreSQL store: {exc}") from None
        self.url = url
        super().__init__(conn)


def open_store(where: str) -> Store:
    """A store from a SQLite path (or ``:memory:``) or a ``postgresql://`` URL."""
    if where.startswith(("postgresql://", "postgres://")):
        return PostgresStore(where)
    return SQLiteStore(where)
