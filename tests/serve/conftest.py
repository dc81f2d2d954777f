"""Fixtures of the serve tests: servers on ephemeral loopback ports, OTLP request builders."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from workbench.lang import load_specs
from workbench.serve import ServeConfig, create_server
from workbench.serve.server import Server

LOOPBACK = "127.0.0.1"


@pytest.fixture(scope="session")
def stdlib_spec():  # type: ignore[no-untyped-def]
    return load_specs(["stdlib"])


def make_config(**overrides: object) -> ServeConfig:
    base: dict[str, object] = dict(grpc_port=0, http_port=0, api_port=0, store=":memory:",
                                   idle=0.05, max_age=30.0)
    base.update(overrides)
    return ServeConfig(**base)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def server(stdlib_spec) -> Iterator[Server]:  # type: ignore[no-untyped-def]
    """One server for a whole test module (starting one loads the compiled kernels)."""
    srv = create_server(make_config(), stdlib_spec).start()
    yield srv
    srv.stop()


def span_request(spans: list[dict[str, object]], service: str = "svc") -> ExportTraceServiceRequest:
    """A request with ``spans`` (dicts of Span fields; ids as bytes) under one resource."""
    req = ExportTraceServiceRequest()
    rs = req.resource_spans.add()
    kv = rs.resource.attributes.add()
    kv.key = "service.name"
    kv.value.string_value = service
    ss = rs.scope_spans.add()
    ss.scope.name = "tests"
    for fields in spans:
        ss.spans.add(**fields)  # type: ignore[arg-type]
    return req


def post(port: int, body: bytes, content_type: str = "application/x-protobuf",
         encoding: str = "", path: str = "/v1/traces") -> tuple[int, dict[str, str], bytes]:
    """POST to the OTLP/HTTP receiver; returns status, headers and body (errors included)."""
    headers = {"Content-Type": content_type}
    if encoding:
        headers["Content-Encoding"] = encoding
    req = urllib.request.Request(f"http://{LOOPBACK}:{port}{path}", data=body, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


def get_json(port: int, path: str) -> object:
    import json

    with urllib.request.urlopen(f"http://{LOOPBACK}:{port}{path}", timeout=10) as resp:
        return json.loads(resp.read())
