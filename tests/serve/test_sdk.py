"""Real OpenTelemetry SDK exporters (gRPC and HTTP, gzip on and off) against the server."""

from __future__ import annotations

import pytest
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcExporter
from opentelemetry.exporter.otlp.proto.http import Compression as HttpCompression
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, Status, StatusCode

from tests.serve.conftest import LOOPBACK
from workbench.engine import check
from workbench.traces import otlp_proto
from workbench.traces.builder import TableBuilder


def _exporter(kind: str, gzip: bool, port: int):  # type: ignore[no-untyped-def]
    if kind == "grpc":
        from grpc import Compression

        return GrpcExporter(endpoint=f"{LOOPBACK}:{port}", insecure=True, timeout=10,
                            compression=Compression.Gzip if gzip else Compression.NoCompression)
    return HttpExporter(endpoint=f"http://{LOOPBACK}:{port}/v1/traces", timeout=10,
                        compression=HttpCompression.Gzip if gzip else HttpCompression.NoCompression)


def _emit(provider: TracerProvider, n_traces: int) -> None:
    """Traces of two services with injected faults: a child ending after its parent, an empty
    span name, an error that never surfaces, a CLIENT span without a SERVER child."""
    api = provider.get_tracer("tests.serve", "1.0")
    base = 1_700_000_000_000_000_000
    for t in range(n_traces):
        t0 = base + t * 10_000_000_000
        root = api.start_span("GET /checkout", kind=SpanKind.SERVER, start_time=t0,
                              attributes={"http.request.method": "GET", "url.path": "/checkout",
                                          "http.response.status_code": 200})
        from opentelemetry import trace as trace_api

        ctx = trace_api.set_span_in_context(root)
        child = api.start_span("SELECT orders" if t % 2 else "", kind=SpanKind.CLIENT,
                               context=ctx, start_time=t0 + 1_000_000,
                               attributes={"db.system": "postgresql"})
        if t % 3 == 0:
            child.set_status(Status(StatusCode.ERROR, "timeout"))
        grand = api.start_span("compute", context=trace_api.set_span_in_context(child),
                               start_time=t0 + 2_000_000)
        grand.end(end_time=t0 + (900_000_000 if t % 2 == 0 else 3_000_000))  # overruns
        child.end(end_time=t0 + 5_000_000)
        root.end(end_time=t0 + 10_000_000)


@pytest.mark.parametrize(("kind", "gzip"), [("grpc", False), ("grpc", True), ("http", False),
                                            ("http", True)])
def test_sdk_exporters_give_batch_verdicts(server, stdlib_spec, kind, gzip) -> None:  # type: ignore[no-untyped-def]
    port = server.grpc_port if kind == "grpc" else server.http_port
    exporter = _exporter(kind, gzip, port)
    memory = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": f"shop-{kind}"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    provider.add_span_processor(SimpleSpanProcessor(memory))
    results: list[SpanExportResult] = []
    original = exporter.export

    def export(spans):  # type: ignore[no-untyped-def]
        results.append(original(spans))
        return results[-1]

    exporter.export = export  # type: ignore[method-assign]
    _emit(provider, 6)
    provider.shutdown()
    assert results and all(r == SpanExportResult.SUCCESS for r in results)
    assert server.flush(60)

    spans = memory.get_finished_spans()
    builder = TableBuilder()
    otlp_proto.load(encode_spans(spans).SerializeToString(), "batch", builder)
    table = builder.build()
    batch = check(stdlib_spec, table)
    assert table.n_traces == 6
    violated = 0
    for t, trace_id in enumerate(table.trace_id_hex):
        stored = {v["property"]: v for v in server.store.verdicts(trace_id=trace_id,
                                                                   limit=1000)}
        assert set(stored) == {p.name for p in stdlib_spec.properties}
        for res in batch.results:
            assert stored[res.name]["holds"] == bool(res.holds[t]), (trace_id, res.name)
            violated += not res.holds[t]
            if not res.holds[t]:
                want = res.witnesses.get(t, [])
                assert stored[res.name]["message"] == (want[0].message if want else "")
    assert violated >= 6  # the injected faults are found
    names = {v["property"] for v in server.store.verdicts(failed=True, limit=10_000)}
    assert {"span_name_nonempty", "child_ends_within_parent"} <= names
