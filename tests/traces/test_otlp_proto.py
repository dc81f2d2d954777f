"""Binary OTLP: the same trace in protobuf and in JSON gives the same table."""

from __future__ import annotations

import base64
import json
import math

from google.protobuf import json_format
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1 import trace_pb2

from tests.traces.test_otlp_json import rich_doc
from tests.traces.util import MALFORMED, REAL, assert_tables_equal, doc, dumps, json_to_proto, span
from workbench.traces import load_bytes, load_traces


def load(data: bytes, name: str = "x"):
    return load_bytes(data, name).build()


def test_rich_document_json_vs_proto() -> None:
    obj = rich_doc(big=False)
    table_json = load(dumps(obj), "x.json")
    table_pb = load(json_to_proto(obj), "x.pb")
    assert not table_pb.diagnostics
    assert_tables_equal(table_json, table_pb)


def test_official_json_rendering_of_a_request() -> None:
    """protobuf's own JSON printer writes base64 ids and enum names: still the same table."""
    data = json_to_proto(rich_doc(big=False))
    message = ExportTraceServiceRequest.FromString(data)
    printed = json_format.MessageToJson(message).encode()
    assert b"SPAN_KIND_SERVER" in printed
    assert_tables_equal(load(printed, "x.json"), load(data, "x.pb"))


def test_traces_data_message_is_accepted() -> None:
    data = json_to_proto(
        doc(span("1000000000000001"), span("1000000000000002", "1000000000000001"))
    )
    traces = trace_pb2.TracesData.FromString(data)
    table = load(traces.SerializeToString())
    assert table.n_spans == 2 and int(table.parent[1]) == 0


def test_invalid_protobuf_names_the_file() -> None:
    builder = load_bytes((MALFORMED / "garbage.pb").read_bytes(), "garbage.pb")
    (diag,) = builder.diagnostics
    assert diag.file == "garbage.pb" and diag.severity == "error"
    assert diag.message.startswith("invalid OTLP protobuf trace message")


def test_explicit_format_on_text_fails_cleanly() -> None:
    builder = load_bytes(b'{"resourceSpans": []}', "x.json", format="otlp-proto")
    assert builder.diagnostics and builder.diagnostics[0].severity == "error"


def test_protobuf_oddities_are_reported() -> None:
    request = ExportTraceServiceRequest()
    group = request.resource_spans.add().scope_spans.add()
    ok = group.spans.add(trace_id=b"\x01" * 16, span_id=b"\x02" * 8, name="ok", kind=7)
    ok.attributes.append(KeyValue(key="empty", value=AnyValue()))
    ok.attributes.append(KeyValue(key="n", value=AnyValue(int_value=3)))
    ok.status.code = 9
    group.spans.add(span_id=b"\x03" * 8, name="no trace id")
    table = load(request.SerializeToString(), "x.pb")
    assert table.n_spans == 1 and table.kind_of(0) == "UNSPECIFIED"
    assert table.status_of(0) == "UNSET" and table.attributes_of(0) == {"n": 3}
    paths = {d.path: d.severity for d in table.diagnostics}
    base = "resourceSpans[0].scopeSpans[0].spans"
    assert paths == {
        f"{base}[0].kind": "warning",
        f"{base}[0].status.code": "warning",
        f"{base}[0].attributes[0].value": "warning",
        f"{base}[1]": "error",
    }


def test_real_protobuf_file() -> None:
    table = load_traces(REAL / "opentelemetry-proto" / "trace.protobuf-bin")
    assert table.n_spans == 1 and table.kind_of(0) == "SERVER"
    assert table.attributes_of(0) == {"my.span.attr": "some value"}


# ---------------------------------------------------------------------- generated payloads

scalar_values = st.one_of(
    st.text(max_size=6).map(lambda s: {"stringValue": s}),
    st.booleans().map(lambda b: {"boolValue": b}),
    st.integers(-(2**63), 2**63 - 1).map(lambda i: {"intValue": str(i)}),
    st.floats(allow_nan=True, allow_infinity=True).map(
        lambda f: {
            "doubleValue": f
            if math.isfinite(f)
            else ("NaN" if f != f else ("Infinity" if f > 0 else "-Infinity"))
        }
    ),
    st.binary(max_size=6).map(lambda b: {"bytesValue": base64.b64encode(b).decode()}),
)
any_values = st.recursive(
    scalar_values,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3).map(lambda vs: {"arrayValue": {"values": vs}}),
        st.lists(st.tuples(st.text(max_size=3), inner), max_size=3).map(
            lambda kvs: {"kvlistValue": {"values": [{"key": k, "value": v} for k, v in kvs]}}
        ),
    ),
    max_leaves=4,
)
attributes = st.lists(
    st.tuples(st.sampled_from(["a", "b.c", "http.method", "k"]), any_values), max_size=4
).map(lambda kvs: [{"key": k, "value": v} for k, v in kvs])
hex8 = st.binary(min_size=8, max_size=8).map(bytes.hex)
hex16 = st.binary(min_size=16, max_size=16).map(bytes.hex)
times = st.integers(0, 2**62)


@st.composite
def requests(draw: st.DrawFn) -> dict:
    resource_spans = []
    for _ in range(draw(st.integers(1, 2))):
        spans = []
        for _t in range(draw(st.integers(1, 2))):
            trace = draw(hex16)
            ids: list[str] = []
            for _s in range(draw(st.integers(1, 5))):
                sid = draw(hex8)
                parent = draw(st.sampled_from(["", *ids])) if ids else ""
                start = draw(times)
                out = span(
                    sid,
                    parent,
                    trace=trace,
                    start=start,
                    end=draw(st.one_of(st.none(), times)),
                    name=draw(st.text(max_size=5)),
                    kind=draw(st.integers(0, 5)),
                    flags=draw(st.integers(0, 2**32 - 1)),
                    attributes=draw(attributes),
                )
                if draw(st.booleans()):
                    out["status"] = {
                        "code": draw(st.integers(0, 2)),
                        "message": draw(st.text(max_size=4)),
                    }
                out["events"] = [
                    {
                        "timeUnixNano": str(draw(times)),
                        "name": draw(st.text(max_size=4)),
                        "attributes": draw(attributes),
                    }
                    for _e in range(draw(st.integers(0, 2)))
                ]
                if ids and draw(st.booleans()):
                    out["links"] = [
                        {
                            "traceId": trace,
                            "spanId": draw(st.sampled_from(ids)),
                            "traceState": draw(st.text(max_size=3)),
                            "flags": draw(st.integers(0, 3)),
                            "attributes": draw(attributes),
                        }
                    ]
                ids.append(sid)
                spans.append(out)
        resource_spans.append(
            {
                "resource": {"attributes": draw(attributes)},
                "scopeSpans": [{"scope": {"name": draw(st.text(max_size=4))}, "spans": spans}],
            }
        )
    return {"resourceSpans": resource_spans}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(requests())
def test_generated_json_and_protobuf_give_identical_tables(request: dict) -> None:
    data = json.dumps(request).encode()
    pb = json_to_proto(request)
    from_json, from_pb = load(data, "x.json"), load(pb, "x.pb")
    assert not from_json.diagnostics and not from_pb.diagnostics
    assert_tables_equal(from_json, from_pb)
    printed = json_format.MessageToJson(ExportTraceServiceRequest.FromString(pb)).encode()
    assert_tables_equal(load(printed, "y.json"), from_pb)
