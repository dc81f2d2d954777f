"""``otlspec serve`` and ``otlspec results``: the command-line face of :mod:`workbench.serve`.

:func:`register` adds both commands to an ``argparse`` sub-parser set and returns their
handlers. ``serve`` runs until SIGTERM or Ctrl-C, then drains (every accepted span is checked
or persisted open for the next start). ``results`` reads the store.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from workbench.errors import OtlspecError

EXIT_OK, EXIT_VIOLATIONS, EXIT_ERROR = 0, 1, 2


def register(sub: Any) -> dict[str, Callable[[argparse.Namespace], int]]:
    """Add ``serve`` and ``results`` to ``sub``; returns ``{command: handler}``."""
    from workbench.serve.config import ServeConfig

    d = ServeConfig()
    s = sub.add_parser(
        "serve",
        help="run an OTLP endpoint that checks traces as they arrive",
        description="Receive OTLP traces (gRPC and HTTP), check each completed trace against "
        "SPEC and store the verdicts.",
    )
    s.add_argument("--spec", nargs="+", default=["stdlib"], metavar="SPEC",
                   help="spec files or 'stdlib' (default: stdlib)")
    s.add_argument("--param", "-p", action="append", default=[], metavar="NAME=VALUE")
    s.add_argument("--host", default=d.host, help="address to bind (default 127.0.0.1)")
    s.add_argument("--grpc-port", type=int, default=d.grpc_port, help="OTLP/gRPC (4317)")
    s.add_argument("--http-port", type=int, default=d.http_port, help="OTLP/HTTP (4318)")
    s.add_argument("--ui-port", type=int, default=d.api_port,
                   help="the UI, JSON API, /metrics, /healthz (8080); -1 turns it off")
    s.add_argument("--store", default=d.store, metavar="PATH_OR_URL",
                   help="SQLite file (default otlspec-results.db) or postgresql://...")
    s.add_argument("--idle", type=float, default=d.idle,
                   help="seconds without spans after the root ended (default 2)")
    s.add_argument("--max-age", type=float, default=d.max_age,
                   help="seconds after which an open trace completes anyway (default 60)")
    s.add_argument("--max-body", type=int, default=d.max_body_bytes, metavar="BYTES")
    s.add_argument("--max-queue-spans", type=int, default=d.max_queue_spans)
    s.add_argument("--max-open-traces", type=int, default=d.max_open_traces)
    s.add_argument("--max-spans-per-trace", type=int, default=d.max_spans_per_trace)
    s.add_argument("--max-memory", type=int, default=d.max_memory_bytes, metavar="BYTES")
    s.add_argument("--backend", default=d.backend, help="auto | numba | reference")
    s.add_argument("--incremental", action=argparse.BooleanOptionalAction,
                   default=d.incremental,
                   help="keep verdicts up to date as spans arrive with the stream monitor "
                   "(lower latency per export, lower throughput at saturation; see "
                   "docs/deploy.md); default: check each completed trace with the batch engine")
    s.add_argument("--alert", action="append", default=[], metavar="SINK",
                   help="'log' or a webhook URL (repeatable)")
    s.add_argument("--alert-severity", choices=("info", "warning", "error"),
                   default=d.alert_severity)
    s.add_argument("--token", default=None,
                   help="token the UI, API and receivers require (default $OTLSPEC_TOKEN); "
                   "needed to bind an address other than loopback")
    s.add_argument("--alert-rate", type=float, default=d.alert_rate_per_s,
                   help="alerts per second at most (default 10)")

    r = sub.add_parser("results", help="show verdicts stored by otlspec serve")
    r.add_argument("--store", default=d.store, metavar="PATH_OR_URL")
    r.add_argument("--property", default=None)
    r.add_argument("--since", type=float, default=None, metavar="SECONDS",
                   help="only verdicts checked in the last SECONDS")
    r.add_argument("--all", action="store_true", help="passing verdicts too")
    r.add_argument("--limit", type=int, default=50)
    r.add_argument("--format", choices=("text", "json"), default="text")
    return {"serve": cmd_serve, "results": cmd_results}


def _params(items: list[str]) -> dict[str, str]:
    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise OtlspecError(f"--param {item!r}: expected NAME=VALUE, e.g. --param skew=10ms")
        out[name.strip()] = value.strip()
    return out


def cmd_serve(args: argparse.Namespace) -> int:
    from workbench.lang import load_specs, param_overrides
    from workbench.serve.config import ServeConfig
    from workbench.serve.server import create_server
    from workbench.serve.store import StoreError

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s",
                        stream=sys.stderr)
    spec = load_specs(list(args.spec))
    params = _params(args.param)
    param_overrides(spec, params)
    config = ServeConfig(
        specs=list(args.spec), params=params, host=args.host,
        grpc_port=None if args.grpc_port < 0 else args.grpc_port,
        http_port=None if args.http_port < 0 else args.http_port,
        api_port=None if args.ui_port < 0 else args.ui_port,
        store=args.store, idle=args.idle, max_age=args.max_age, max_body_bytes=args.max_body,
        max_queue_spans=args.max_queue_spans, max_open_traces=args.max_open_traces,
        max_spans_per_trace=args.max_spans_per_trace, max_memory_bytes=args.max_memory,
        backend=args.backend, alerts=list(args.alert), alert_severity=args.alert_severity,
        alert_rate_per_s=args.alert_rate, incremental=args.incremental,
        token=args.token or os.environ.get("OTLSPEC_TOKEN") or None,
    )
    from workbench.ui.server import UiSecurityError, check_bind

    try:
        check_bind(config.host, config.token, "otlspec serve")
        server = create_server(config, spec)
    except (StoreError, UiSecurityError) as err:
        print(f"otlspec serve: {err}", file=sys.stderr)
        return EXIT_ERROR
    stop = threading.Event()

    def on_signal(signum: int, frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    server.start()
    where = ", ".join(
        f"{name} {config.host}:{port}" for name, port in (
            ("OTLP/gRPC", server.grpc_port), ("OTLP/HTTP", server.http_port),
            ("UI and API", server.api_port)) if port is not None)
    print(f"otlspec serve: {len(spec.properties)} properties; {where}; store {config.store}",
          file=sys.stderr, flush=True)
    while not stop.wait(0.5):
        pass
    print("otlspec serve: draining", file=sys.stderr, flush=True)
    server.stop()
    m = server.metrics
    print(f"otlspec serve: stopped; {m.spans_received} spans received, "
          f"{m.traces_checked} trace checks", file=sys.stderr, flush=True)
    return EXIT_OK


def cmd_results(args: argparse.Namespace) -> int:
    from workbench.serve.store import StoreError, open_store

    try:
        store = open_store(args.store)
    except StoreError as err:
        print(f"otlspec results: {err}", file=sys.stderr)
        return EXIT_ERROR
    since = None if args.since is None else time.time() - args.since
    rows = store.verdicts(property=args.property, failed=not args.all, since=since,
                          limit=args.limit)
    stats = store.stats()
    store.close()
    if args.format == "json":
        print(json.dumps({"verdicts": rows, "stats": stats}, indent=2, default=str))
    else:
        for v in rows:
            mark = "ok  " if v["holds"] else "FAIL"
            print(f"{mark} {v['severity']:<7} {v['property']:<36} {v['trace_id']} "
                  f"r{v['revision']}  {v['message']}")
        counts = stats["traces"]
        print(f"{sum(counts.values())} traces ({counts.get('checked', 0)} checked, "
              f"{counts.get('open', 0)} open), {stats['failing_traces']} failing",
              file=sys.stderr)
    return EXIT_VIOLATIONS if any(not v["holds"] for v in rows) else EXIT_OK
