"""Differential: real and generated traces replayed in random order and chunking, over gRPC and
HTTP (protobuf and JSON, gzip on and off), with late spans, give exactly the batch verdicts."""

from __future__ import annotations

import json
import random
import time
from pathlib import Path

import pytest
from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from tests.serve.conftest import make_config
from workbench.engine import check
from workbench.serve import create_server
from workbench.serve.decode import decode_request, invalid_reason
from workbench.serve.replay import GrpcSender, assemble, chunks, explode, send_http
from workbench.traces import load_traces
from workbench.traces.detect import looks_like_json_lines
from workbench.traces.model import SpanTable

ROOT = Path(__file__).resolve().parents[2]
REAL = sorted(
    str(p.relative_to(ROOT)) for p in (ROOT / "datasets" / "real").rglob("*")
    if p.is_file() and p.suffix in (".json", ".protobuf-bin") and "manifest" not in p.name
    and (p.suffix != ".json" or b'"resourceSpans"' in p.read_bytes()[:100_000])
)


def _request(path: Path) -> ExportTraceServiceRequest:
    data = path.read_bytes()
    if path.suffix != ".json":
        return ExportTraceServiceRequest.FromString(data)
    out = ExportTraceServiceRequest()
    for line in data.splitlines() if looks_like_json_lines(data) else [data]:
        if line.strip():
            doc = json.loads(line)
            doc = doc.get("result", doc)  # the Jaeger v3 API wraps the OTLP document
            out.MergeFrom(decode_request(json.dumps(doc).encode(), "application/json",
                                         max_bytes=1 << 30))
    return out


def _batch(spec, table: SpanTable) -> dict[str, dict[str, bool]]:  # type: ignore[no-untyped-def]
    result = check(spec, table)
    return {tid: {r.name: bool(r.holds[t]) for r in result.results}
            for t, tid in enumerate(table.trace_id_hex)}


def _valid_only(request: ExportTraceServiceRequest) -> tuple[ExportTraceServiceRequest, int]:
    """The request without the spans OTLP's id rules reject, and how many those were."""
    kept = [t for t in explode(request) if not invalid_reason(t[2])]
    return assemble(kept), len(explode(request)) - len(kept)


def _replay(spec, request: ExportTraceServiceRequest, seed: int,  # type: ignore[no-untyped-def]
            rejected: int = 0, revised: list[int] | None = None) -> dict[str, dict[str, bool]]:
    """Send ``request`` in shuffled chunks; some chunks arrive after their trace completed.
    Exactly ``rejected`` spans must come back as partial success."""
    rng = random.Random(seed)
    n_rejected = 0
    revised = [] if revised is None else revised
    server = create_server(make_config(idle=0.02, api_port=None), spec).start(warm=False)
    grpc_sender = GrpcSender(server.grpc_port, gzip=rng.random() < 0.5)
    try:
        for k, chunk in enumerate(chunks(request, rng, max_chunk=rng.choice((1, 3, 8)))):
            how = rng.choice(("grpc", "http-pb", "http-json"))
            if how == "grpc":
                out = grpc_sender.send(chunk)
            else:
                code, body = send_http(server.http_port, chunk, json_body=how == "http-json",
                                       gzip=rng.random() < 0.5)
                assert code == 200
                out = (json_format.Parse(body, ExportTraceServiceResponse())
                       if how == "http-json" else ExportTraceServiceResponse.FromString(body))
            n_rejected += out.partial_success.rejected_spans
            if k % 7 == 3:  # let the traces seen so far complete: later spans revise them
                time.sleep(0.06)
        assert server.flush(120)
        assert n_rejected == rejected
        revised.append(server.metrics.revisions)
        got: dict[str, dict[str, bool]] = {}
        for v in server.store.verdicts(limit=1_000_000):
            got.setdefault(v["trace_id"], {})[v["property"]] = v["holds"]
        return got
    finally:
        grpc_sender.close()
        server.stop()


@pytest.mark.parametrize("path", REAL)
def test_real_traces_replayed_give_batch_verdicts(stdlib_spec, path: str) -> None:  # type: ignore[no-untyped-def]
    want = _batch(stdlib_spec, load_traces([str(ROOT / path)]))
    got = _replay(stdlib_spec, _request(ROOT / path), seed=len(path))
    assert got == want


def test_generated_traces_replayed_give_batch_verdicts(stdlib_spec) -> None:  # type: ignore[no-untyped-def]
    from workbench.datasets.faults import inject, parse_faults
    from workbench.datasets.generator import generate
    from workbench.datasets.writer import otlp_proto
    from workbench.traces import otlp_proto as proto_loader
    from workbench.traces.builder import TableBuilder

    ds = generate(traces=25, seed=3, services=6)
    inject(ds, parse_faults("all", 25, rate=0.6), seed=3)
    data = otlp_proto(ds, ds.traces)
    # the server rejects (partial success) spans whose ids OTLP forbids; the batch checker
    # keeps and judges them, so the reference is the batch verdict on the accepted spans
    valid, rejected = _valid_only(ExportTraceServiceRequest.FromString(data))
    assert rejected > 0
    builder = TableBuilder()
    proto_loader.load(valid.SerializeToString(), "generated", builder)
    want = _batch(stdlib_spec, builder.build())
    assert sum(not ok for verdicts in want.values() for ok in verdicts.values()) >= 10
    revised: list[int] = []
    got = _replay(stdlib_spec, ExportTraceServiceRequest.FromString(data), seed=11,
                  rejected=rejected, revised=revised)
    assert got == want
    assert revised[0] > 0  # some traces were completed, then reopened by late spans
