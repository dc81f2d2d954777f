"""The explorer's HTTP server: static pages, a JSON API and server-sent events.

=================================  =========================================================
``GET /``                           the single page (dashboard, traces, specs, reports)
``GET /static/ui.js``, ``ui.css``   its script and style sheet (served, never inline)
``GET /api/ui/stats``               dashboard numbers
``GET /api/ui/traces``              search: ``?trace_id=&service=&property=&severity=&failed=1
                                    &since=&until=&limit=``
``GET /api/ui/traces/<id>``         one trace: verdicts, witnesses, spans, violating span ids
``GET /api/ui/specs``               the loaded properties, read-only
``GET /api/ui/reports``             run history (the batch run, or stream windows)
``GET /api/ui/events``              server-sent events: ``update`` with the stats on change
``GET /export/report.html``         a run as the self-contained HTML report (``.pdf``: PDF)
=================================  =========================================================

Over a results store inside ``otlspec serve`` the serve API (``/api/traces``, ``/metrics``,
``/healthz``...) answers on the same port.

Security: with no token the server binds loopback addresses only (:func:`check_bind` refuses
any other); with a token every request must carry it (``Authorization: Bearer``, the
``otlspec_token`` cookie, or once ``?token=``, which sets the cookie). Each answer carries a
content security policy allowing only this origin's script and style, so injected markup can
run nothing; the page builds its DOM with ``textContent``, never ``innerHTML``. Without a
token, requests whose ``Host`` is not a loopback name are refused (DNS rebinding).
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import logging
import os
import tempfile
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from workbench.errors import OtlspecError
from workbench.ui.sources import BatchSource, Source, StoreSource

log = logging.getLogger("otlspec.ui")

#: Environment variable holding the token when ``--token`` is not given.
TOKEN_ENV = "OTLSPEC_TOKEN"
COOKIE = "otlspec_token"
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
       "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
_STATIC = {"ui.js": "text/javascript; charset=utf-8", "ui.css": "text/css; charset=utf-8",
           "index.html": "text/html; charset=utf-8"}

__all__ = ["BatchSource", "StoreSource", "UiConfig", "UiSecurityError", "UiServer",
           "check_bind", "is_loopback", "start_ui"]


class UiSecurityError(OtlspecError):
    """A bind that would expose the UI without a token."""


@dataclass
class UiConfig:
    """How the explorer is served.

    Attributes
    ----------
    host, port
        Where to listen (port 0: an ephemeral port).
    token
        Required on every request when set; required to bind a non-loopback address.
    poll_s
        How often the event stream looks for new results, seconds.
    heartbeat_s
        Seconds between keep-alive comments on an idle event stream.
    """

    host: str = "127.0.0.1"
    port: int = 8080
    token: str | None = None
    poll_s: float = 1.0
    heartbeat_s: float = 15.0


def is_loopback(host: str) -> bool:
    """Whether ``host`` (an address or ``localhost``) is a loopback address."""
    name = host.strip("[]").lower()
    if name in ("localhost", "localhost.localdomain", "ip6-localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def check_bind(host: str, token: str | None, what: str = "the UI") -> None:
    """Refuse to bind ``host`` off loopback without a token.

    Raises
    ------
    UiSecurityError
        ``host`` is not a loopback address and ``token`` is empty.
    """
    if not is_loopback(host) and not token:
        raise UiSecurityError(
            f"refusing to serve {what} on {host}: binding an address other than loopback "
            f"needs a token (--token TOKEN or ${TOKEN_ENV}); every request must then carry it")


def _host_name(header: str) -> str:
    """The host of a ``Host`` header, without its port (``[::1]:80`` -> ``::1``)."""
    if header.startswith("["):
        return header[1:].split("]", 1)[0]
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


def _static(name: str) -> bytes:
    return (resources.files("workbench.ui") / "static" / name).read_bytes()


class _UiHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "otlspec"
    source: Source
    config: UiConfig
    stopping: threading.Event
    api: Any = None  # the serve API's handler class, when mounted inside otlspec serve

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)

    # ------------------------------------------------------------------ answers
    def _headers(self, code: int, media: str, length: int | None,
                 extra: dict[str, str] | None = None) -> None:
        self.send_response(code)
        self.send_header("Content-Type", media)
        if length is not None:
            self.send_header("Content-Length", str(length))
        self.send_header("Cache-Control", "no-store")
        self.send_header("Content-Security-Policy", CSP)
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("X-Frame-Options", "DENY")
        self.send_header("Referrer-Policy", "no-referrer")
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()

    def _send(self, code: int, body: bytes, media: str = "application/json",
              extra: dict[str, str] | None = None) -> None:
        self._headers(code, media, len(body), extra)
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, code: int, value: Any) -> None:
        self._send(code, json.dumps(value, default=str).encode())

    # ------------------------------------------------------------------ security
    def _authorized(self, q: dict[str, str]) -> tuple[bool, bool]:
        """(allowed, came by query): the token check, or the Host check without a token."""
        token = self.config.token
        if not token:
            host = _host_name(self.headers.get("Host") or "")
            return (not host or is_loopback(host)), False
        given = []
        auth = self.headers.get("Authorization") or ""
        if auth.lower().startswith("bearer "):
            given.append(auth[7:].strip())
        for part in (self.headers.get("Cookie") or "").split(";"):
            k, _, v = part.strip().partition("=")
            if k == COOKIE:
                given.append(v)
        by_query = "token" in q
        if by_query:
            given.append(q["token"])
        ok = any(hmac.compare_digest(g.encode(), token.encode()) for g in given)
        return ok, ok and by_query

    def do_HEAD(self) -> None:
        self.do_GET()

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        q = {k: v[-1] for k, v in parse_qs(url.query).items()}
        path = url.path.rstrip("/") or "/"
        ok, by_query = self._authorized(q)
        if not ok:
            self._json(401 if self.config.token else 403,
                       {"error": "a token is required (Authorization: Bearer TOKEN, or open "
                                 "the page once with ?token=TOKEN)"
                        if self.config.token else "Host is not a loopback name"})
            return
        if by_query:  # keep the token in an HttpOnly cookie, out of the address bar
            self._send(303, b"", "text/plain", {
                "Location": quote(url.path or "/"),
                "Set-Cookie": f"{COOKIE}={self.config.token}; HttpOnly; SameSite=Strict; "
                              "Path=/"})
            return
        try:
            self._route(path, q)
        except ValueError as exc:
            self._json(400, {"error": str(exc)})
        except (BrokenPipeError, ConnectionResetError):
            pass

    # ------------------------------------------------------------------ routes
    def _route(self, path: str, q: dict[str, str]) -> None:
        src = self.source
        if path in ("/", "/index.html"):
            self._send(200, _static("index.html"), _STATIC["index.html"])
        elif path == "/favicon.ico":
            self._send(204, b"", "image/x-icon")  # none: say so without an error
        elif path.startswith("/static/") and path[8:] in _STATIC:
            self._send(200, _static(path[8:]), _STATIC[path[8:]])
        elif path == "/api/ui/stats":
            self._json(200, src.stats())
        elif path == "/api/ui/traces":
            self._json(200, src.traces(q))
        elif path.startswith("/api/ui/traces/"):
            found = src.trace(path.rsplit("/", 1)[1].lower())
            self._json(404, {"error": "no such trace"}) if found is None else self._json(
                200, found)
        elif path == "/api/ui/specs":
            self._json(200, src.specs())
        elif path == "/api/ui/reports":
            self._json(200, src.reports())
        elif path == "/api/ui/events":
            self._events()
        elif path in ("/export/report.html", "/export/report.pdf"):
            self._export(q, pdf=path.endswith(".pdf"))
        elif self.api is not None and (path.startswith("/api/") or path in (
                "/metrics", "/healthz", "/readyz")):
            self.api._route(self, path, q)  # the serve API on the same port
        else:
            self._json(404, {"error": f"no such page {path}"})

    def _export(self, q: dict[str, str], pdf: bool) -> None:
        from workbench.ui.render import ReportError, html_to_pdf, render_report

        report, table = self.source.report(q)
        page = render_report(report, table).encode("utf-8")
        if not pdf:
            self._send(200, page, "text/html; charset=utf-8",
                       {"Content-Disposition": 'attachment; filename="otlspec-report.html"'})
            return
        with tempfile.TemporaryDirectory(prefix="otlspec-export-") as tmp:
            html_path = Path(tmp) / "report.html"
            html_path.write_bytes(page)
            try:
                html_to_pdf(html_path, Path(tmp) / "report.pdf")
            except ReportError as err:
                self._json(501, {"error": str(err)})
                return
            self._send(200, (Path(tmp) / "report.pdf").read_bytes(), "application/pdf",
                       {"Content-Disposition": 'attachment; filename="otlspec-report.pdf"'})

    def _events(self) -> None:
        """Server-sent events: ``update`` (the stats) whenever the source's version moves."""
        self.close_connection = True
        self._headers(200, "text/event-stream", None, {"Connection": "close"})
        last: Any = object()
        quiet_since = time.monotonic()
        while not self.stopping.is_set():
            version = self.source.version()
            if version != last:
                last = version
                data = json.dumps(self.source.stats(), default=str)
                self.wfile.write(f"event: update\ndata: {data}\n\n".encode())
                self.wfile.flush()
                quiet_since = time.monotonic()
            elif time.monotonic() - quiet_since > self.config.heartbeat_s:
                self.wfile.write(b": ping\n\n")
                self.wfile.flush()
                quiet_since = time.monotonic()
            if not self.source.live:
                self.stopping.wait(self.config.heartbeat_s)
            else:
                self.stopping.wait(self.config.poll_s)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class UiServer:
    """A running explorer: ``port`` is the bound port; :meth:`stop` ends it and its streams."""

    def __init__(self, httpd: ThreadingHTTPServer, stopping: threading.Event,
                 config: UiConfig) -> None:
        self.httpd = httpd
        self.stopping = stopping
        self.config = config
        self.port = int(httpd.server_address[1])
        self.thread = threading.Thread(target=httpd.serve_forever, name="otlspec-ui",
                                       daemon=True)

    @property
    def url(self) -> str:
        host = self.config.host
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{self.port}/"

    def stop(self) -> None:
        self.stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> UiServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_ui(config: UiConfig, source: Source,
             api: dict[str, Any] | None = None) -> UiServer:
    """Serve the explorer over ``source`` in a background thread.

    Parameters
    ----------
    config
        Host, port, token.
    source
        A :class:`StoreSource` or :class:`BatchSource`.
    api
        Inside ``otlspec serve``: ``store``, ``metrics``, ``ready`` and ``live`` of the serve
        API (:mod:`workbench.serve.api`), whose routes then answer on the same port.

    Raises
    ------
    UiSecurityError
        A non-loopback ``host`` without a token.
    """
    if config.token is None and os.environ.get(TOKEN_ENV):
        config.token = os.environ[TOKEN_ENV]
    check_bind(config.host, config.token)
    stopping = threading.Event()
    attrs: dict[str, Any] = {"source": source, "config": config, "stopping": stopping}
    bases: tuple[type, ...] = (_UiHandler,)
    if api is not None:
        from workbench.serve.api import _ApiHandler  # its routes, mounted beside the UI's

        bases = (_UiHandler, _ApiHandler)
        attrs |= {"api": _ApiHandler, "store": api["store"], "metrics": api["metrics"],
                  "ready": staticmethod(api["ready"]), "live": staticmethod(api["live"])}
    handler = type("UiHandler", bases, attrs)
    httpd = _Server((config.host, config.port), handler)
    server = UiServer(httpd, stopping, config)
    server.thread.start()
    return server
