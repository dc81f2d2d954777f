"""OTLP receivers: ``TraceService/Export`` over gRPC and ``POST /v1/traces`` over HTTP.

They only decode, validate and hand the spans to :meth:`Pipeline.offer
<workbench.serve.pipeline.Pipeline.offer>`, answering as the OTLP specification says:

=====================================  ==========================  ==========================
outcome                                 OTLP/HTTP                   OTLP/gRPC
=====================================  ==========================  ==========================
accepted                                200, empty response         OK, empty response
some spans invalid                      200, ``partial_success``    OK, ``partial_success``
undecodable payload                     400 + ``Status``            INVALID_ARGUMENT
body too large                          413 (not retryable)         RESOURCE_EXHAUSTED (grpc)
unsupported content type / encoding     415                         -
overloaded (queue, memory, shutdown)    503 + ``Retry-After``       UNAVAILABLE + ``RetryInfo``
=====================================  ==========================  ==========================

Responses to HTTP use the request's encoding (protobuf or JSON).
"""

from __future__ import annotations

import hmac
import logging
import threading
from concurrent import futures
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import grpc
from google.protobuf import duration_pb2, json_format
from google.protobuf.message import DecodeError
from google.rpc import code_pb2, error_details_pb2, status_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

from workbench.serve.decode import (
    JSON,
    PROTOBUF,
    Decoded,
    PayloadError,
    PayloadTooLarge,
    UnsupportedMediaType,
    decode_body,
    split_request,
)
from workbench.serve.pipeline import Overloaded, Pipeline
from workbench.serve.wire import split_wire

log = logging.getLogger("otlspec.serve")

_Response = trace_service_pb2.ExportTraceServiceResponse


def _response(rejected: int, message: str) -> Any:
    out = _Response()
    if rejected or message:
        out.partial_success.rejected_spans = rejected
        out.partial_success.error_message = message
    return out


# ---------------------------------------------------------------------------- gRPC


_EXPORT = "Export"
_SERVICE = "opentelemetry.proto.collector.trace.v1.TraceService"


class _TraceService:
    """``TraceService/Export``, deserializing the request itself: grpc's own deserializer
    answers INTERNAL for a corrupt message, OTLP asks for INVALID_ARGUMENT."""

    def __init__(self, pipeline: Pipeline, token: str | None = None) -> None:
        self.pipeline = pipeline
        self.token = token

    def export(self, data: bytes, context: grpc.ServicerContext) -> Any:
        m = self.pipeline.metrics
        if self.token is not None:
            given = dict(context.invocation_metadata() or ()).get("authorization", "")
            if not bearer_matches(str(given), self.token):
                m.inc(m.requests, ("grpc", "unauthenticated"))
                context.abort(grpc.StatusCode.UNAUTHENTICATED,
                              "this receiver needs 'authorization: Bearer TOKEN' metadata")
        try:
            request = trace_service_pb2.ExportTraceServiceRequest.FromString(data)
        except (DecodeError, ValueError) as exc:
            m.inc(m.requests, ("grpc", "invalid"))
            context.abort(grpc.StatusCode.INVALID_ARGUMENT,
                          f"invalid OTLP protobuf trace request: {exc}")
        try:
            decoded = split_message(data, request)
            self.pipeline.offer(decoded)
        except Overloaded as exc:
            m.inc(m.requests, ("grpc", "overloaded"))
            info = error_details_pb2.RetryInfo(
                retry_delay=duration_pb2.Duration(seconds=exc.retry_after))
            status = status_pb2.Status(code=code_pb2.UNAVAILABLE, message=str(exc))
            status.details.add().Pack(info)
            context.set_trailing_metadata((
                ("google.rpc.retryinfo-bin", info.SerializeToString()),
                ("grpc-status-details-bin", status.SerializeToString()),
            ))
            context.abort(grpc.StatusCode.UNAVAILABLE, str(exc))
        m.inc(m.requests, ("grpc", "partial" if decoded.rejected else "ok"))
        return _response(decoded.rejected, decoded.message)


def split_message(data: bytes, request: Any) -> Decoded:
    """The pieces of a parsed protobuf request: cut from its bytes by the compiled walker
    (:func:`~workbench.serve.wire.split_wire`), or from the message when it declines."""
    decoded = split_wire(data)
    return decoded if decoded is not None else split_request(request)


def bearer_matches(header: str, token: str) -> bool:
    """Whether an ``Authorization`` value is ``Bearer <token>`` (compared in constant time)."""
    scheme, _, given = header.strip().partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(),
                                                              token.encode())


def start_grpc(pipeline: Pipeline, host: str, port: int, max_bytes: int,
               workers: int = 4, token: str | None = None) -> tuple[grpc.Server, int]:
    """Start the OTLP/gRPC receiver; returns the server and the bound port.

    With ``token`` every call needs ``authorization: Bearer <token>`` metadata
    (UNAUTHENTICATED otherwise).

    Messages over ``max_bytes`` are refused by grpc itself with RESOURCE_EXHAUSTED;
    undecodable ones with INVALID_ARGUMENT (grpc's deserializer), both before the servicer.
    """
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="otlspec-grpc"),
        options=[
            ("grpc.max_receive_message_length", max_bytes),
            ("grpc.so_reuseport", 0),
        ],
    )
    handler = grpc.unary_unary_rpc_method_handler(
        _TraceService(pipeline, token).export,
        request_deserializer=None,  # raw bytes: see _TraceService
        response_serializer=_Response.SerializeToString,
    )
    server.add_generic_rpc_handlers(
        (grpc.method_handlers_generic_handler(_SERVICE, {_EXPORT: handler}),))
    bound = server.add_insecure_port(f"{host}:{port}")
    if bound == 0:
        raise OSError(f"cannot bind the OTLP/gRPC receiver to {host}:{port}")
    server.start()
    return server, bound


# ---------------------------------------------------------------------------- HTTP


class _OtlpHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "otlspec"
    pipeline: Pipeline
    max_bytes: int
    token: str | None = None

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("http %s", format % args)

    def _send(self, code: int, body: bytes, media: str,
              headers: tuple[tuple[str, str], ...] = ()) -> None:
        self.send_response(code)
        self.send_header("Content-Type", media)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def _status(self, code: int, http: int, message: str, media: str,
                headers: tuple[tuple[str, str], ...] = ()) -> None:
        status = status_pb2.Status(code=code, message=message)
        if media == JSON:
            body = json_format.MessageToJson(status, indent=None).encode()
        else:
            body, media = status.SerializeToString(), PROTOBUF
        self._send(http, body, media, headers)

    def do_POST(self) -> None:
        m = self.pipeline.metrics
        path = self.path.split("?", 1)[0]
        media = self.headers.get("Content-Type", "").split(";", 1)[0].strip().lower()
        reply = JSON if media == JSON else PROTOBUF
        if path != "/v1/traces":
            self.close_connection = self._discard()
            m.inc(m.requests, ("http", "not_found"))
            self._status(code_pb2.NOT_FOUND, 404, f"no such endpoint {path}; use /v1/traces",
                         reply)
            return
        if self.token is not None and not bearer_matches(
                self.headers.get("Authorization") or "", self.token):
            self.close_connection = self._discard()
            m.inc(m.requests, ("http", "unauthenticated"))
            self._status(code_pb2.UNAUTHENTICATED, 401,
                         "this receiver needs an 'Authorization: Bearer TOKEN' header", reply,
                         (("WWW-Authenticate", "Bearer"),))
            return
        length = self.headers.get("Content-Length")
        if length is None or not length.isdigit():
            m.inc(m.requests, ("http", "invalid"))
            self.close_connection = True
            self._status(code_pb2.INVALID_ARGUMENT, 411, "Content-Length is required", reply)
            return
        size = int(length)
        if size > self.max_bytes:
            m.inc(m.requests, ("http", "too_large"))
            self.close_connection = True  # the body is not read
            self._status(code_pb2.RESOURCE_EXHAUSTED, 413,
                         f"body of {size} bytes is over the limit of {self.max_bytes}", reply)
            return
        body = self.rfile.read(size)
        try:
            request, raw = decode_body(body, self.headers.get("Content-Type", ""),
                                       self.headers.get("Content-Encoding", ""),
                                       max_bytes=self.max_bytes)
            decoded = split_request(request) if raw is None else split_message(raw, request)
            self.pipeline.offer(decoded)
        except PayloadTooLarge as exc:
            m.inc(m.requests, ("http", "too_large"))
            self._status(code_pb2.RESOURCE_EXHAUSTED, 413, str(exc), reply)
            return
        except UnsupportedMediaType as exc:
            m.inc(m.requests, ("http", "unsupported"))
            self._status(code_pb2.INVALID_ARGUMENT, 415, str(exc), reply)
            return
        except PayloadError as exc:
            m.inc(m.requests, ("http", "invalid"))
            self._status(code_pb2.INVALID_ARGUMENT, 400, str(exc), reply)
            return
        except Overloaded as exc:
            m.inc(m.requests, ("http", "overloaded"))
            self._status(code_pb2.UNAVAILABLE, 503, str(exc), reply,
                         (("Retry-After", str(exc.retry_after)),))
            return
        m.inc(m.requests, ("http", "partial" if decoded.rejected else "ok"))
        response = _response(decoded.rejected, decoded.message)
        if reply == JSON:
            self._send(200, json_format.MessageToJson(response, indent=None).encode(), JSON)
        else:
            self._send(200, response.SerializeToString(), PROTOBUF)

    def _discard(self) -> bool:
        """Read and drop a small body so the connection can be reused; True to close it."""
        length = self.headers.get("Content-Length", "")
        if length.isdigit() and int(length) <= self.max_bytes:
            self.rfile.read(int(length))
            return False
        return True

    def do_GET(self) -> None:
        self._status(code_pb2.NOT_FOUND, 405, "OTLP/HTTP accepts POST /v1/traces", PROTOBUF,
                     (("Allow", "POST"),))

    do_PUT = do_DELETE = do_PATCH = do_GET


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def start_http(pipeline: Pipeline, host: str, port: int, max_bytes: int,
               token: str | None = None) -> tuple[ThreadingHTTPServer, int]:
    """Start the OTLP/HTTP receiver in a thread; returns the server and the bound port.

    With ``token`` every request needs ``Authorization: Bearer <token>`` (401 otherwise)."""
    handler = type("OtlpHandler", (_OtlpHandler,), {"pipeline": pipeline, "max_bytes": max_bytes,
                                                    "token": token})
    server = _Server((host, port), handler)
    thread = threading.Thread(target=server.serve_forever, name="otlspec-http", daemon=True)
    thread.start()
    return server, int(server.server_address[1])
