"""The OTLP receivers answer as the OTLP specification says, and keep serving after bad input."""

from __future__ import annotations

import gzip
import json
import os

import grpc
import pytest
from google.rpc import error_details_pb2, status_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc

from tests.serve.conftest import LOOPBACK, make_config, post, span_request
from workbench.serve import create_server

Response = trace_service_pb2.ExportTraceServiceResponse


def _ok_spans(n: int = 2) -> list[dict[str, object]]:
    trace = os.urandom(16)
    root = os.urandom(8)
    spans: list[dict[str, object]] = [dict(trace_id=trace, span_id=root, name="root", kind=2,
                                           start_time_unix_nano=1_000, end_time_unix_nano=9_000)]
    for i in range(n - 1):
        spans.append(dict(trace_id=trace, span_id=os.urandom(8), parent_span_id=root,
                          name=f"child{i}", kind=1, start_time_unix_nano=2_000,
                          end_time_unix_nano=3_000))
    return spans


def _status(body: bytes) -> status_pb2.Status:
    return status_pb2.Status.FromString(body)


def test_http_protobuf_gzip_and_json(server) -> None:  # type: ignore[no-untyped-def]
    body = span_request(_ok_spans()).SerializeToString()
    code, headers, out = post(server.http_port, body)
    assert code == 200 and headers["Content-Type"] == "application/x-protobuf"
    assert not Response.FromString(out).HasField("partial_success")
    code, _, out = post(server.http_port, gzip.compress(body), encoding="gzip")
    assert code == 200 and not Response.FromString(out).HasField("partial_success")
    doc = {"resourceSpans": [{"resource": {"attributes": [
        {"key": "service.name", "value": {"stringValue": "j"}}]},
        "scopeSpans": [{"spans": [{"traceId": os.urandom(16).hex(), "spanId": "0102030405060708",
                                   "name": "GET /x", "kind": 2, "startTimeUnixNano": "10",
                                   "endTimeUnixNano": "20", "unknownField": 1}]}]}]}
    code, headers, out = post(server.http_port, json.dumps(doc).encode(), "application/json")
    assert code == 200 and headers["Content-Type"] == "application/json"
    assert json.loads(out) == {}


def test_http_partial_success_for_invalid_ids(server) -> None:  # type: ignore[no-untyped-def]
    spans = _ok_spans(3)
    spans.append(dict(trace_id=b"\0" * 16, span_id=os.urandom(8), name="zero trace id"))
    spans.append(dict(trace_id=os.urandom(16), span_id=b"\1\2", name="short span id"))
    code, _, out = post(server.http_port, span_request(spans).SerializeToString())
    assert code == 200
    partial = Response.FromString(out).partial_success
    assert partial.rejected_spans == 2
    assert "invalid trace_id" in partial.error_message
    assert "invalid span_id" in partial.error_message


@pytest.mark.parametrize(
    ("body", "ctype", "encoding", "code", "words"),
    [
        (b"\xff\xff\xff\xff garbage", "application/x-protobuf", "", 400, "invalid OTLP protobuf"),
        (b"{not json", "application/json", "", 400, "invalid JSON"),
        (b'{"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": "zz"}]}]}]}',
         "application/json", "", 400, "not a hex id"),
        (b'{"resourceSpans": "nope"}', "application/json", "", 400, "must be a list"),
        (b"hello", "text/plain", "", 415, "unsupported Content-Type"),
        (gzip.compress(b"x" * 1000)[:20], "application/x-protobuf", "gzip", 400, "truncated"),
        (b"not gzip at all", "application/x-protobuf", "gzip", 400, "invalid gzip"),
        (b"abc", "application/x-protobuf", "br", 415, "Content-Encoding"),
    ],
)
def test_http_bad_payloads(server, body, ctype, encoding, code, words) -> None:  # type: ignore[no-untyped-def]
    got, _, out = post(server.http_port, body, ctype, encoding)
    assert got == code
    message = json.loads(out)["message"] if ctype == "application/json" else _status(out).message
    assert words in message
    # the server keeps serving
    assert post(server.http_port, span_request(_ok_spans()).SerializeToString())[0] == 200


def test_http_wrong_path_and_method(server) -> None:  # type: ignore[no-untyped-def]
    assert post(server.http_port, b"", path="/v1/metrics")[0] == 404
    import urllib.error
    import urllib.request

    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(f"http://{LOOPBACK}:{server.http_port}/v1/traces", timeout=5)
    assert err.value.code == 405


def _stub(port: int, **options: object) -> trace_service_pb2_grpc.TraceServiceStub:
    channel = grpc.insecure_channel(f"{LOOPBACK}:{port}")
    return trace_service_pb2_grpc.TraceServiceStub(channel)


def test_grpc_success_partial_and_invalid(server) -> None:  # type: ignore[no-untyped-def]
    stub = _stub(server.grpc_port)
    out = stub.Export(span_request(_ok_spans()), timeout=10)
    assert not out.HasField("partial_success")
    spans = [*_ok_spans(), dict(trace_id=b"\1" * 15, span_id=os.urandom(8), name="bad")]
    out = stub.Export(span_request(spans), timeout=10)
    assert out.partial_success.rejected_spans == 1
    # undecodable bytes: sent raw through a channel that does not serialize
    channel = grpc.insecure_channel(f"{LOOPBACK}:{server.grpc_port}")
    raw = channel.unary_unary("/opentelemetry.proto.collector.trace.v1.TraceService/Export",
                              request_serializer=None, response_deserializer=None)
    with pytest.raises(grpc.RpcError) as err:
        raw(b"\xff\xff\xff garbage", timeout=10)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert not stub.Export(span_request(_ok_spans()), timeout=10).HasField("partial_success")


def test_limits_and_overload(stdlib_spec) -> None:  # type: ignore[no-untyped-def]
    """Oversized bodies: 413 / RESOURCE_EXHAUSTED; overload: 503 + Retry-After / UNAVAILABLE +
    RetryInfo; both retryable-or-not as OTLP says, and the server keeps serving."""
    small = create_server(make_config(max_body_bytes=2000, api_port=None), stdlib_spec)
    small.start(warm=False)
    try:
        big = span_request([dict(trace_id=os.urandom(16), span_id=os.urandom(8),
                                 name="x" * 5000)]).SerializeToString()
        assert post(small.http_port, big)[0] == 413
        # small on the wire, too large once decompressed
        assert post(small.http_port, gzip.compress(big), encoding="gzip")[0] == 413
        with pytest.raises(grpc.RpcError) as err:
            _stub(small.grpc_port).Export(trace_service_pb2.ExportTraceServiceRequest.FromString(
                big), timeout=10)
        assert err.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert post(small.http_port, span_request(_ok_spans()).SerializeToString())[0] == 200

        small.config.max_memory_bytes = 1  # everything is over the memory limit now
        code, headers, out = post(small.http_port, span_request(_ok_spans()).SerializeToString())
        assert code == 503 and headers["Retry-After"] == "1"
        assert "memory_limit" in _status(out).message
        with pytest.raises(grpc.RpcError) as err:
            _stub(small.grpc_port).Export(span_request(_ok_spans()), timeout=10)
        assert err.value.code() == grpc.StatusCode.UNAVAILABLE
        info = dict(err.value.trailing_metadata())["google.rpc.retryinfo-bin"]
        assert error_details_pb2.RetryInfo.FromString(info).retry_delay.seconds == 1
        assert small.metrics.refused["memory_limit"] == 2
        small.config.max_memory_bytes = 1 << 30
        assert post(small.http_port, span_request(_ok_spans()).SerializeToString())[0] == 200
    finally:
        small.stop()
