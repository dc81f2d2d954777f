-- otlspec serve results store, version 1 (SQLite)
CREATE TABLE traces (
    trace_id     TEXT PRIMARY KEY,
    state        TEXT NOT NULL,            -- 'open' (persisted at shutdown) or 'checked'
    revision     INTEGER NOT NULL,         -- checks so far; a late span adds one
    n_spans      INTEGER NOT NULL,
    n_failed     INTEGER NOT NULL DEFAULT 0,
    root_name    TEXT NOT NULL DEFAULT '',
    services     TEXT NOT NULL DEFAULT '',
    reason       TEXT NOT NULL DEFAULT '',  -- why it completed: idle, max_age, evicted, drain
    first_seen   REAL NOT NULL,
    completed_at REAL,
    checked_at   REAL,
    payload      BLOB NOT NULL              -- the spans, a serialized ExportTraceServiceRequest
);
CREATE INDEX traces_checked_at ON traces (checked_at);
CREATE TABLE verdicts (
    trace_id   TEXT NOT NULL,
    property   TEXT NOT NULL,
    severity   TEXT NOT NULL,
    holds      INTEGER NOT NULL,
    revision   INTEGER NOT NULL,
    checked_at REAL NOT NULL,
    message    TEXT NOT NULL DEFAULT '',
    witnesses  TEXT NOT NULL DEFAULT '[]',  -- JSON list of witnesses (bindings, message)
    PRIMARY KEY (trace_id, property)
);
CREATE INDEX verdicts_property ON verdicts (property, holds, checked_at);
CREATE TABLE counters (
    window_start INTEGER NOT NULL,          -- unix seconds, a multiple of the window
    property     TEXT NOT NULL,
    checked      INTEGER NOT NULL,
    violations   INTEGER NOT NULL,
    PRIMARY KEY (window_start, property)
);
