"""Replay traces into a server: cut requests into shuffled chunks and send them over OTLP.

Used by the differential tests (the stream verdicts must equal the batch verdicts whatever the
order and chunking) and by ``benchmarks/serve.py`` (load generation on loopback).
"""

from __future__ import annotations

import base64
import gzip as gzip_module
import json
import random
import urllib.error
import urllib.request
from collections.abc import Sequence
from typing import Any

from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

_Triple = tuple[Any, Any, Any]  # (ResourceSpans shell, ScopeSpans shell, Span)


def explode(request: ExportTraceServiceRequest) -> list[_Triple]:
    """Every span with the resource and scope it was sent with."""
    out = []
    for rs in request.resource_spans:
        rs_shell = type(rs)()
        rs_shell.resource.CopyFrom(rs.resource)
        rs_shell.schema_url = rs.schema_url
        for ss in rs.scope_spans:
            ss_shell = type(ss)()
            ss_shell.scope.CopyFrom(ss.scope)
            ss_shell.schema_url = ss.schema_url
            for sp in ss.spans:
                out.append((rs_shell, ss_shell, sp))
    return out


def assemble(triples: Sequence[_Triple]) -> ExportTraceServiceRequest:
    """One request holding ``triples`` (consecutive spans of one resource/scope share a group)."""
    req = ExportTraceServiceRequest()
    last: tuple[int, int] | None = None
    ss_out: Any = None
    for rs, ss, sp in triples:
        if (id(rs), id(ss)) != last:
            rs_out = req.resource_spans.add()
            rs_out.resource.CopyFrom(rs.resource)
            rs_out.schema_url = rs.schema_url
            ss_out = rs_out.scope_spans.add()
            ss_out.scope.CopyFrom(ss.scope)
            ss_out.schema_url = ss.schema_url
            last = (id(rs), id(ss))
        ss_out.spans.add().CopyFrom(sp)
    return req


def chunks(request: ExportTraceServiceRequest, rng: random.Random,
           max_chunk: int = 5) -> list[ExportTraceServiceRequest]:
    """The spans of ``request`` shuffled and cut into requests of 1..``max_chunk`` spans."""
    triples = explode(request)
    rng.shuffle(triples)
    out = []
    i = 0
    while i < len(triples):
        n = rng.randint(1, max_chunk)
        out.append(assemble(triples[i:i + n]))
        i += n
    return out


def to_otlp_json(request: ExportTraceServiceRequest) -> bytes:
    """OTLP/JSON: protobuf's JSON mapping with ids as hex, as the OTLP specification asks."""
    doc = json_format.MessageToDict(request)
    for rs in doc.get("resourceSpans", []):
        for ss in rs.get("scopeSpans", []):
            for sp in ss.get("spans", []):
                _hex_ids(sp)
                for link in sp.get("links", []):
                    _hex_ids(link)
    return json.dumps(doc).encode()


def _hex_ids(obj: dict[str, Any]) -> None:
    for key in ("traceId", "spanId", "parentSpanId"):
        if key in obj:
            obj[key] = base64.b64decode(obj[key]).hex()


def send_http(port: int, request: ExportTraceServiceRequest, *, json_body: bool = False,
              gzip: bool = False, host: str = "127.0.0.1",
              timeout: float = 10) -> tuple[int, bytes]:
    """POST one request to ``/v1/traces``; returns the status and the body."""
    body = to_otlp_json(request) if json_body else request.SerializeToString()
    headers = {"Content-Type": "application/json" if json_body else "application/x-protobuf"}
    if gzip:
        body = gzip_module.compress(body, compresslevel=1)
        headers["Content-Encoding"] = "gzip"
    req = urllib.request.Request(f"http://{host}:{port}/v1/traces", data=body, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


class GrpcSender:
    """A channel to ``TraceService/Export``; ``send`` returns the response message."""

    def __init__(self, port: int, host: str = "127.0.0.1", gzip: bool = False) -> None:
        import grpc

        self.channel = grpc.insecure_channel(
            f"{host}:{port}",
            compression=grpc.Compression.Gzip if gzip else grpc.Compression.NoCompression)
        self.call = self.channel.unary_unary(
            "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
            request_serializer=ExportTraceServiceRequest.SerializeToString,
            response_deserializer=ExportTraceServiceResponse.FromString)

    def send(self, request: ExportTraceServiceRequest,
             timeout: float = 10) -> ExportTraceServiceResponse:
        return self.call(request, timeout=timeout)

    def close(self) -> None:
        self.channel.close()
