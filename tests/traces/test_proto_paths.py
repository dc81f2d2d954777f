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
    # field 5 (name) given the invalid wire type 7: the span's body cannot be parsed
    data = request.SerializeToString().replace(b"\x2a\x07BADNAME", b"\x2f\x07BADNAME")
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


def test_invalid_utf8_in_a_protobuf_string_costs_a_warning_not_the_record() -> None:
    request = ExportTraceServiceRequest()
    rs = request.resource_spans.add()
    rs.resource.attributes.add(key="service.name").value.string_value = "SVCNAME"
    group = rs.scope_spans.add()
    group.scope.name = "SCOPENAME"
    span = group.spans.add(trace_id=b"\x01" * 16, span_id=b"\x02" * 8, name="BADNAME")
    span.attributes.add(key="k").value.array_value.values.add().string_value = "DEEPVALUE"
    span.events.add(name="EVENTNAME")
    group.spans.add(trace_id=b"\x01" * 16, span_id=b"\x03" * 8, name="fine", kind=7)
    data = request.SerializeToString()
    for word in (b"SVCNAME", b"SCOPENAME", b"BADNAME", b"DEEPVALUE", b"EVENTNAME"):
        data = data.replace(word, word[:2] + b"\xff" + word[3:])
    table = load_bytes(data, "x.pb").build()
    assert [table.name_of(i) for i in range(table.n_spans)] == ["BA\ufffdNAME", "fine"]
    assert table.attributes_of(0) == {"k": ["DE\ufffdPVALUE"]}
    base = "resourceSpans[0]"
    assert [(d.path, d.severity) for d in table.diagnostics] == [
        (f"{base}.resource", "warning"),
        (f"{base}.scopeSpans[0].scope", "warning"),
        (f"{base}.scopeSpans[0].spans[0]", "warning"),
        (f"{base}.scopeSpans[0].spans[1].kind", "warning"),
    ]
    assert all("replaced by U+FFFD" in d.message for d in table.diagnostics[:3])
