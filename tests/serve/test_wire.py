"""The compiled splitter (:func:`workbench.serve.wire.split_wire`) cuts a request exactly as
:func:`workbench.serve.decode.split_request` does on the parsed message: same pieces, same
span bytes, same rejections and message, and declines the shapes it leaves to protobuf."""

from __future__ import annotations

import random

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from workbench.datasets.faults import inject, parse_faults
from workbench.datasets.generator import generate
from workbench.datasets.writer import otlp_proto
from workbench.serve.decode import Decoded, split_request
from workbench.serve.replay import assemble, explode
from workbench.serve.wire import split_wire


def _same(got: Decoded | None, want: Decoded) -> None:
    assert got is not None
    assert (got.n_spans, got.rejected, got.message) == (want.n_spans, want.rejected,
                                                        want.message)
    assert [(p.trace_id, p.groups, p.n_spans, p.ended_roots, p.nbytes) for p in got.pieces] == \
        [(p.trace_id, p.groups, p.n_spans, p.ended_roots, p.nbytes) for p in want.pieces]


@pytest.mark.parametrize("seed", [3, 4])
def test_split_wire_equals_split_request_on_generated_requests(seed: int) -> None:
    ds = generate(traces=40, seed=seed, services=5)
    inject(ds, parse_faults("all", 40, rate=0.4), seed=seed)
    triples = explode(ExportTraceServiceRequest.FromString(otlp_proto(ds, ds.traces)))
    random.Random(seed).shuffle(triples)
    for k in range(0, len(triples), 113):
        request = assemble(triples[k:k + 113])
        data = request.SerializeToString(deterministic=True)
        _same(split_wire(data), split_request(ExportTraceServiceRequest.FromString(data)))


def test_split_wire_rejects_invalid_ids_like_split_request() -> None:
    request = ExportTraceServiceRequest()
    ss = request.resource_spans.add().scope_spans.add()
    ss.scope.name = "lib"
    good = b"\x01" * 16
    cases = [(good, b"\x02" * 8, b""), (bytes(16), b"\x02" * 8, b""),
             (b"\x01" * 3, b"\x02" * 8, b""),
             (good, bytes(8), b""), (good, b"\x02" * 7, b""), (good, b"\x03" * 8, b"\x01" * 5),
             (good, b"\x04" * 8, b"\x02" * 8), (good, b"", b"")]
    for trace_id, span_id, parent in cases:
        sp = ss.spans.add(trace_id=trace_id, span_id=span_id, parent_span_id=parent, name="x")
        sp.end_time_unix_nano = 5
    data = request.SerializeToString()
    want = split_request(request)
    assert want.rejected == 6
    _same(split_wire(data), want)


def test_split_wire_of_empty_and_declined_requests() -> None:
    assert split_wire(b"") == Decoded([], 0)
    request = ExportTraceServiceRequest()
    rs = request.resource_spans.add()
    rs.scope_spans.add().spans.add(trace_id=b"\x01" * 16, span_id=b"\x01" * 8)
    data = request.SerializeToString()
    resource = b"\x0a\x00\x0a\x00"  # two resource messages: protobuf merges them
    rs_body = data[2:] + resource
    twice = b"\x0a" + bytes([len(rs_body)]) + rs_body
    ExportTraceServiceRequest.FromString(twice)  # valid protobuf
    assert split_wire(twice) is None
