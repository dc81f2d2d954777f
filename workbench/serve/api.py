"""A small read-only HTTP API over the results store, with ``/metrics`` and health checks.

=============================  =======================================================
``GET /api/traces``             traces, newest first: ``?failed=1&since=UNIX&limit=&offset=``
``GET /api/traces/<trace_id>``  one trace with every verdict and its witnesses
``GET /api/verdicts``           verdicts: ``?property=&failed=1&since=&limit=``
``GET /api/stats``              totals by state, property and severity, plus live counters
``GET /api/counters``           per-window counters: ``?since=``
``GET /metrics``                Prometheus text format
``GET /healthz``, ``/readyz``   liveness; readiness (the engine is warm, receivers are up)
=============================  =======================================================

Every answer is JSON (``/metrics`` excepted); unknown paths are 404 with a JSON error.
``otlspec serve`` mounts these routes beside the explorer on one port
(:func:`workbench.ui.server.start_ui`); :func:`start_api` serves them alone.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from workbench.serve.metrics import Metrics
from workbench.serve.store import Store


class _ApiHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "otlspec"
    store: Store
    metrics: Metrics
    ready: Callable[[], bool]
    live: Callable[[], dict[str, Any]]

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(self, code: int, body: bytes, media: str = "application/json") -> None:
        self.send_response(code)
        self.send_header("Content-Type", media)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def _json(self, code: int, value: Any) -> None:
        self._send(code, json.dumps(value, default=str).encode())

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        q = {k: v[-1] for k, v in parse_qs(url.query).items()}
        path = url.path.rstrip("/") or "/"
        try:
            self._route(path, q)
        except ValueError as exc:
            self._json(400, {"error": str(exc)})

    def _route(self, path: str, q: dict[str, str]) -> None:
        store = self.store
        if path == "/metrics":
            self._send(200, self.metrics.text().encode(), "text/plain; version=0.0.4")
        elif path == "/healthz":
            self._json(200, {"status": "ok"})
        elif path == "/readyz":
            ok = self.ready()
            self._json(200 if ok else 503, {"ready": ok})
        elif path == "/api/traces":
            self._json(200, store.traces(failed=_flag(q, "failed"), since=_num(q, "since"),
                                         limit=int(q.get("limit", 100)),
                                         offset=int(q.get("offset", 0))))
        elif path.startswith("/api/traces/"):
            found = store.trace(path.rsplit("/", 1)[1].lower())
            if found is None:
                self._json(404, {"error": "no such trace"})
            else:
                self._json(200, found)
        elif path == "/api/verdicts":
            self._json(200, store.verdicts(property=q.get("property"), failed=_flag(q, "failed"),
                                           since=_num(q, "since"),
                                           limit=int(q.get("limit", 1000))))
        elif path == "/api/stats":
            self._json(200, {**store.stats(), "live": self.live()})
        elif path == "/api/counters":
            self._json(200, store.counters(_num(q, "since")))
        else:
            self._json(404, {"error": f"no such endpoint {path}",
                             "endpoints": ["/api/traces", "/api/traces/<id>", "/api/verdicts",
                                           "/api/stats", "/api/counters", "/metrics",
                                           "/healthz", "/readyz"]})


def _flag(q: dict[str, str], name: str) -> bool:
    return q.get(name, "").lower() in ("1", "true", "yes")


def _num(q: dict[str, str], name: str) -> float | None:
    return float(q[name]) if name in q else None


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def start_api(store: Store, metrics: Metrics, ready: Callable[[], bool],
              live: Callable[[], dict[str, Any]], host: str,
              port: int) -> tuple[ThreadingHTTPServer, int]:
    """Start the API in a thread; returns the server and the bound port."""
    handler = type("ApiHandler", (_ApiHandler,),
                   {"store": store, "metrics": metrics, "ready": staticmethod(ready),
                    "live": staticmethod(live)})
    server = _Server((host, port), handler)
    threading.Thread(target=server.serve_forever, name="otlspec-api", daemon=True).start()
    return server, int(server.server_address[1])
