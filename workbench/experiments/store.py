"""The run index: a SQLite database (``runs/index.sqlite``) of runs and their metrics.

Tables
------
``runs``
    One row per run: id, experiment name, hash of the experiment file, start and end time,
    duration, git commit (and whether the tree was dirty), otlspec version, status, folder.
``metrics``
    One row per (run, dataset, seed, backend, scope, name): ``scope`` is ``class`` (a fault
    class), ``property`` (a property's scores against the labels) or ``check`` (a
    property's failing traces on an unlabelled dataset). Columns hold the counts and the
    precision/recall of :class:`~workbench.datasets.evaluation.Metrics`.

Queries for notebooks: :func:`runs`, :func:`metrics` (plain rows; ``pandas.read_sql`` works
on :func:`connect` as well).
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,
    experiment TEXT NOT NULL,
    config_sha256 TEXT NOT NULL,
    started TEXT NOT NULL,
    finished TEXT,
    seconds REAL,
    git_commit TEXT,
    git_dirty INTEGER,
    otlspec_version TEXT,
    status TEXT NOT NULL,
    path TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS metrics (
    run_id TEXT NOT NULL REFERENCES runs(id),
    dataset TEXT NOT NULL,
    seed INTEGER,
    backend TEXT NOT NULL,
    scope TEXT NOT NULL,
    name TEXT NOT NULL,
    injections INTEGER,
    detected INTEGER,
    recall REAL,
    alarms_true INTEGER,
    alarms_false INTEGER,
    false_explained INTEGER,
    side_effects INTEGER,
    precision REAL,
    failed_traces INTEGER,
    PRIMARY KEY (run_id, dataset, seed, backend, scope, name)
);
CREATE INDEX IF NOT EXISTS metrics_by_name ON metrics(scope, name);
"""

METRIC_COLUMNS = ("dataset", "seed", "backend", "scope", "name", "injections", "detected",
                  "recall", "alarms_true", "alarms_false", "false_explained", "side_effects",
                  "precision", "failed_traces")


def connect(root: str | Path) -> sqlite3.Connection:
    """Open (creating if needed) ``root/index.sqlite``."""
    path = Path(root)
    path.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(path / "index.sqlite")
    con.row_factory = sqlite3.Row
    con.executescript(SCHEMA)
    return con


def start_run(con: sqlite3.Connection, row: dict[str, Any]) -> None:
    """Insert a run with status ``running``.

    Parameters
    ----------
    con
        The index (:func:`connect`).
    row
        ``id``, ``experiment``, ``config_sha256``, ``started``, ``git_commit``,
        ``git_dirty``, ``otlspec_version``, ``path``.
    """
    con.execute("INSERT INTO runs (id, experiment, config_sha256, started, git_commit, "
                "git_dirty, otlspec_version, status, path) VALUES (:id, :experiment, "
                ":config_sha256, :started, :git_commit, :git_dirty, :otlspec_version, "
                "'running', :path)", row)
    con.commit()


def finish_run(con: sqlite3.Connection, run_id: str, finished: str, seconds: float,
               status: str = "ok") -> None:
    """Close a run.

    Parameters
    ----------
    con
        The index.
    run_id, finished, seconds, status
        The run, its end time (ISO 8601), duration and final status (``ok``/``failed``).
    """
    con.execute("UPDATE runs SET finished = ?, seconds = ?, status = ? WHERE id = ?",
                (finished, seconds, status, run_id))
    con.commit()


def add_metrics(con: sqlite3.Connection, run_id: str, rows: Iterable[dict[str, Any]]) -> None:
    """Insert metric rows.

    Parameters
    ----------
    con
        The index.
    run_id
        The run.
    rows
        Mappings with the keys of :data:`METRIC_COLUMNS` (missing ones are NULL).
    """
    cols = ", ".join(METRIC_COLUMNS)
    marks = ", ".join(f":{c}" for c in METRIC_COLUMNS)
    con.executemany(f"INSERT OR REPLACE INTO metrics (run_id, {cols}) VALUES (:run_id, {marks})",
                    [{c: r.get(c) for c in METRIC_COLUMNS} | {"run_id": run_id} for r in rows])
    con.commit()


#: Written in a run's folder while it runs (the process id); a ``running`` run whose process
#: is gone (killed, machine restarted) is marked ``killed`` when the index is next read.
PID_FILE = "run.pid"


def _alive(path: str) -> bool:
    try:
        pid = int((Path(path) / PID_FILE).read_text(encoding="utf-8").strip())
    except (OSError, ValueError):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def reap(con: sqlite3.Connection) -> None:
    """Mark ``running`` runs whose process no longer exists as ``killed``."""
    dead = [r["id"] for r in con.execute("SELECT id, path FROM runs WHERE status = 'running'")
            if not _alive(str(r["path"]))]
    if dead:
        con.executemany("UPDATE runs SET status = 'killed' WHERE id = ?", [(d,) for d in dead])
        con.commit()


def runs(root: str | Path, experiment: str | None = None) -> list[dict[str, Any]]:
    """The recorded runs, newest first.

    Parameters
    ----------
    root
        The runs folder.
    experiment
        Only the runs of this experiment.

    Returns
    -------
    list[dict]
        Rows of the ``runs`` table.
    """
    con = connect(root)
    try:
        reap(con)
        q = "SELECT * FROM runs"
        args: tuple[Any, ...] = ()
        if experiment:
            q += " WHERE experiment = ?"
            args = (experiment,)
        return [dict(r) for r in con.execute(q + " ORDER BY started DESC, id DESC", args)]
    finally:
        con.close()


def metrics(root: str | Path, run_id: str, scope: str | None = None) -> list[dict[str, Any]]:
    """The metric rows of a run, in a stable order.

    Parameters
    ----------
    root
        The runs folder.
    run_id
        The run.
    scope
        Only ``class``, ``property`` or ``check`` rows.

    Returns
    -------
    list[dict]
    """
    con = connect(root)
    try:
        q = "SELECT * FROM metrics WHERE run_id = ?"
        args: tuple[Any, ...] = (run_id,)
        if scope:
            q += " AND scope = ?"
            args += (scope,)
        q += " ORDER BY dataset, seed, backend, scope, name"
        return [dict(r) for r in con.execute(q, args)]
    finally:
        con.close()


def resolve(root: str | Path, ref: str) -> str:
    """A run id from a reference.

    Parameters
    ----------
    root
        The runs folder.
    ref
        An id, a unique id prefix, ``latest`` or ``latest:NAME``.

    Returns
    -------
    str

    Raises
    ------
    LookupError
        No run, or several, match.
    """
    if ref == "latest" or ref.startswith("latest:"):
        # the newest finished run (ok, failed, stopped), not one still running or killed
        every = runs(root, ref.partition(":")[2] or None)
        found = [r for r in every if r["status"] not in ("running", "killed")]
        if not found:
            raise LookupError(f"no finished runs in {root}" + (
                f" ({len(every)} running or killed)" if every else ""))
        return str(found[0]["id"])
    ids = [r["id"] for r in runs(root) if str(r["id"]).startswith(ref)]
    if len(ids) != 1:
        raise LookupError(f"{ref!r} matches {len(ids)} runs in {root}")
    return str(ids[0])
