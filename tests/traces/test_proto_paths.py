"""Record paths after protobuf records were dropped name the spans' original indexes."""

from __future__ import annotations

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from workbench.traces import load_bytes


def test_paths_after_a_dropped_span_keep_the_original_index() -> None:
    request = ExportTraceServiceRequest()
    group = request.resource_spans.add().scope_spans.add()
    group.spans.add(trace_id=b"\x01" * 16, span_id=b"\x02" * 8, name="BADNAME")
    group.spans.add(trace_id=b"\x01" * 16, span_id=b"\x03" * 8, name="odd kind", kind=7)
    group.spans.add(span_id=b"\x04" * 8, name="no trace id")
    group.spans.add(trace_id=b"\x01" * 16, span_id=b"\x05" * 8, name="fine")
    data = request.SerializeToString().replace(b"BADNAME", b"BAD\xff\xfeME")
    table = load_bytes(data, "x.pb").build()
    assert sorted(table.name_of(i) for i in range(table.n_spans)) == ["fine", "odd kind"]
    base = "resourceSpans[0].scopeSpans[0].spans"
    paths = {d.path: d.message.split(";")[0] for d in table.diagnostics}
    assert paths == {
        f"{base}[0]": "the span cannot be decoded (invalid UTF-8 in a string field, or "
        "malformed protobuf) and is dropped",
        f"{base}[1].kind": "expected a span kind (0-5 or a SPAN_KIND_* name) (<= 5), got int 7",
        f"{base}[2]": "missing required field traceId",
    }
