-- otlspec results store, version 2 (sqlite): batch runs of otlspec check --store, and the
-- indexes of the explorer's search.
-- A run's verdicts get their own table: verdicts is keyed by (trace_id, property), so a second
-- run over the same traces would overwrite the first, and the history would be lost.
CREATE TABLE runs (
    run_id       TEXT PRIMARY KEY,
    kind         TEXT NOT NULL DEFAULT 'batch',
    started_at   REAL NOT NULL,
    finished_at  REAL NOT NULL,
    specs        TEXT NOT NULL DEFAULT '[]',  -- JSON list: the spec arguments as given
    inputs       TEXT NOT NULL DEFAULT '[]',  -- JSON list: the trace inputs as given
    backend      TEXT NOT NULL DEFAULT '',    -- the backend asked for, and those used
    n_traces     INTEGER NOT NULL DEFAULT 0,
    n_spans      INTEGER NOT NULL DEFAULT 0,
    n_properties INTEGER NOT NULL DEFAULT 0,
    violations   INTEGER NOT NULL DEFAULT 0,
    passing      INTEGER NOT NULL DEFAULT 0,
    head         TEXT NOT NULL DEFAULT '{}'   -- JSON: the report's tool, spec, params, input, summary
);
CREATE INDEX runs_finished_at ON runs (finished_at);
CREATE TABLE run_properties (
    run_id   TEXT NOT NULL,
    property TEXT NOT NULL,
    severity TEXT NOT NULL,
    entry    TEXT NOT NULL DEFAULT '{}',      -- JSON: the report's property entry without traces
    passed   INTEGER NOT NULL,
    failed   INTEGER NOT NULL,
    PRIMARY KEY (run_id, property)
);
CREATE TABLE run_verdicts (
    run_id    TEXT NOT NULL,
    trace_id  TEXT NOT NULL,
    property  TEXT NOT NULL,
    severity  TEXT NOT NULL,
    holds     INTEGER NOT NULL,
    message   TEXT NOT NULL DEFAULT '',
    sources   TEXT NOT NULL DEFAULT '[]',     -- JSON list of the files the trace came from
    witnesses TEXT NOT NULL DEFAULT '[]',     -- JSON list of witnesses (bindings, message)
    PRIMARY KEY (run_id, property, trace_id)
);
-- the explorer's search: failing traces newest first (a partial index, read in order), the
-- failed verdicts of the traces found, and the by-service counts (a covering index scan)
CREATE INDEX traces_failing_checked_at ON traces (checked_at) WHERE n_failed > 0;
CREATE INDEX traces_services ON traces (services, n_failed);
CREATE INDEX verdicts_failed_trace ON verdicts (holds, trace_id, property, severity);
