"""The configuration of one server: every port, limit and path in one object, no globals."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ServeConfig:
    """What ``otlspec serve`` runs with.

    Ports set to 0 take an ephemeral port (tests); ``None`` turns that listener off.

    Attributes
    ----------
    specs
        Spec arguments, as for ``otlspec check`` (``stdlib``, ``*.otlspec`` files).
    params
        ``--param`` overrides (``{"skew": "10ms"}``).
    host
        Address every listener binds (127.0.0.1 unless asked otherwise).
    grpc_port, http_port, api_port
        OTLP/gRPC (4317), OTLP/HTTP (4318), the JSON API, ``/metrics`` and health (8080).
    store
        A SQLite path (``:memory:`` for none kept) or a ``postgresql://`` URL.
    idle, max_age
        Seconds: a trace whose root has ended completes after ``idle`` without new spans, any
        trace at ``max_age``.
    max_body_bytes
        Largest request body, after decompression (HTTP 413 / gRPC RESOURCE_EXHAUSTED above).
    max_queue_spans
        Spans waiting for the assembler; above it requests are refused as retryable.
    max_open_traces
        Open traces; above it the least recently updated completes early.
    max_spans_per_trace
        Spans of one trace beyond it are dropped (counted as ``max_spans_per_trace``).
    max_memory_bytes
        Bytes of spans held (queued, open, retained for late spans, completed and waiting for
        the checker, the stream monitor's state); above it requests are refused as
        retryable. Retained traces are shed first (above 80% of it), so they never keep
        new spans out. The engine's working memory for a check batch is not counted.
    retain
        Completed traces whose spans stay in memory for late spans (older ones are reloaded
        from the store).
    retry_after_s
        The back-off asked of refused exporters.
    backend
        The checking backend (``auto``, ``numba``, ``reference``...) of what the stream
        monitor leaves to the batch engine (everything, without ``incremental``).
    incremental
        Keep verdicts up to date as spans arrive with the stream monitor
        (:mod:`workbench.stream`), re-verifying only what a new span can affect; off (the
        default: its Python per-span work gives a lower throughput at saturation than the
        batch engine, see ``docs/deploy.md``): check each completed trace with the batch
        engine.
    token
        Required on the UI, API and OTLP receiver requests when set (``Authorization: Bearer``);
        needed to bind a non-loopback ``host``. None: ``$OTLSPEC_TOKEN``, if set.
    """

    specs: list[str] = field(default_factory=lambda: ["stdlib"])
    params: dict[str, str] = field(default_factory=dict)
    host: str = "127.0.0.1"
    grpc_port: int | None = 4317
    http_port: int | None = 4318
    api_port: int | None = 8080
    store: str = "otlspec-results.db"
    idle: float = 2.0
    max_age: float = 60.0
    max_body_bytes: int = 16 * 1024 * 1024
    max_queue_spans: int = 200_000
    max_open_traces: int = 100_000
    max_spans_per_trace: int = 100_000
    max_memory_bytes: int = 1024 * 1024 * 1024
    retain: int = 10_000
    retry_after_s: int = 1
    backend: str = "auto"
    incremental: bool = False
    grpc_workers: int = 4
    #: alert sinks: ``log`` and/or a webhook URL (``http://...``); empty: no alerts
    alerts: list[str] = field(default_factory=list)
    alert_severity: str = "error"
    alert_rate_per_s: float = 10.0
    token: str | None = None
