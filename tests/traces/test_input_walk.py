"""Regressions from walking issue 10 as a user would, input by input."""

from __future__ import annotations

import json

import pytest

from workbench.traces import load_bytes


def _span(name: str = "ok") -> dict:
    return {"traceId": "01" * 16, "spanId": "02" * 8, "name": name, "startTimeUnixNano": "1"}


def test_tempo_batches_with_damaged_elements_are_read_element_by_element() -> None:
    """Was refused whole as "not a trace file (a JSON object with keys batches)" when one of
    the first three batches was not an object."""
    data = {"batches": [None, 1, {"scopeSpans": "x"}, {"scopeSpans": [{"spans": [_span()]}]}]}
    table = load_bytes(json.dumps(data).encode(), "tempo.json").build()
    assert table.n_spans == 1
    assert [(d.path, d.severity) for d in table.diagnostics] == [
        ("batches[0]", "error"), ("batches[1]", "error"), ("batches[2].scopeSpans", "error")]


def test_tempo_empty_batches_and_non_trace_batches() -> None:
    empty = load_bytes(b'{"batches": []}', "e.json").build()
    assert empty.n_spans == 0 and empty.diagnostics == []
    other = load_bytes(b'{"batches": [1, 2]}', "o.json").build()
    assert [d.message for d in other.diagnostics] == [
        "not a trace file (a JSON object with keys batches)"]


def test_an_overlong_id_warning_says_where() -> None:
    span = dict(_span(), spanId="b" * 256)
    data = {"resourceSpans": [{"scopeSpans": [{"spans": [span]}]}]}
    table = load_bytes(json.dumps(data).encode(), "t.json").build()
    assert table.n_spans == 1
    assert all(d.path or d.line for d in table.diagnostics), table.diagnostics
    assert [d.path for d in table.diagnostics] == ["resourceSpans[0].scopeSpans[0].spans[0]"]


def _otlp_json(spans: list[dict]) -> bytes:
    return json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": spans}]}]}).encode()


def _otlp_proto(spans: list[dict]) -> bytes:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    req = ExportTraceServiceRequest()
    ss = req.resource_spans.add().scope_spans.add()
    for s in spans:
        ss.spans.add(trace_id=bytes.fromhex(s["traceId"]), span_id=bytes.fromhex(s["spanId"]),
                     parent_span_id=bytes.fromhex(s.get("parentSpanId", "")), name=s["name"],
                     start_time_unix_nano=1)
    return req.SerializeToString()


#: (file name, bytes of three spans, the third with the given span or parent id, its path)
_LONG_ID_INPUTS = {
    "otlp-json": ("t.json", lambda sid, pid: _otlp_json(
        [_span("a"), _span("b"), dict(_span("c"), spanId=sid, parentSpanId=pid)]),
        "resourceSpans[0].scopeSpans[0].spans[2]"),
    "otlp-json repaired": ("t.json", lambda sid, pid: _otlp_json(
        [_span("a"), dict(_span("b"), kind="bad"), dict(_span("c"), spanId=sid,
                                                         parentSpanId=pid)]),
        "resourceSpans[0].scopeSpans[0].spans[2]"),
    "otlp-json lines": ("t.jsonl", lambda sid, pid: _otlp_json([_span("a")]) + b"\n"
                        + _otlp_json([_span("b"), dict(_span("c"), spanId=sid,
                                                       parentSpanId=pid)]),
                        "resourceSpans[0].scopeSpans[0].spans[1]"),
    "otlp-proto": ("t.pb", lambda sid, pid: _otlp_proto(
        [_span("a"), _span("b"), dict(_span("c"), spanId=sid, parentSpanId=pid)]),
        "resourceSpans[0].scopeSpans[0].spans[2]"),
    "jaeger": ("j.json", lambda sid, pid: json.dumps({"data": [{"traceID": "1", "spans": [
        {"traceID": "1", "spanID": s, "operationName": "o", "startTime": 1, "duration": 1,
         "references": [{"refType": "CHILD_OF", "traceID": "1", "spanID": p}] if p else []}
        for s, p in (("2", ""), ("3", ""), (sid, pid))]}]}).encode(),
        "data[0].spans[2]"),
    "zipkin": ("z.json", lambda sid, pid: json.dumps([
        {"traceId": "1", "id": s, "name": "o", "timestamp": 1, "duration": 1,
         **({"parentId": p} if p else {})}
        for s, p in (("2", ""), ("3", ""), (sid, pid))]).encode(), "[2]"),
}


@pytest.mark.parametrize("fast", [False, True])
@pytest.mark.parametrize("which", ["span", "parent"])
@pytest.mark.parametrize("fmt", sorted(_LONG_ID_INPUTS))
def test_every_reader_says_where_an_overlong_id_is(
    fmt: str, which: str, fast: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    from workbench.traces import detect, otlp_json_load, otlp_proto

    monkeypatch.setenv(detect.FAST_READERS_ENV, "1" if fast else "0")
    for module, names in ((otlp_json_load, ("FAST_JSON_MIN_BYTES", "COLD_JSON_MIN_BYTES")),
                          (otlp_proto, ("FAST_MIN_BYTES", "COLD_MIN_BYTES"))):
        for attr in names:
            monkeypatch.setattr(module, attr, 0)
    name, make, path = _LONG_ID_INPUTS[fmt]
    long_id = "ab" * 40
    raw = make(long_id, "02" * 8) if which == "span" else make("03" * 8, long_id)
    table = load_bytes(raw, name).build()
    assert table.n_spans == 3
    (diag,) = [d for d in table.diagnostics if "kept as text" in d.message]
    assert diag.message.startswith(f"{which} span id of 80 characters" if which == "parent"
                                   else "span id of 80 characters")
    assert (diag.file, diag.path) == (name, path)


def test_jaeger_float_tag_beyond_float_range_is_a_diagnostic() -> None:
    """Found by the long reader fuzzer: ``{"type": "float64", "value": 10**400}`` raised
    ``OverflowError: int too large to convert to float``."""
    tags = [{"key": "big", "type": "float64", "value": 10**400},
            {"key": "ok", "type": "float64", "value": 1}]
    data = {"data": [{"traceID": "1", "processes": {}, "spans": [
        {"traceID": "1", "spanID": "2", "operationName": "o", "startTime": 1, "duration": 1,
         "tags": tags}]}]}
    table = load_bytes(json.dumps(data).encode(), "j.json").build()
    assert table.n_spans == 1 and table.attributes_of(0) == {"ok": 1.0}
    (diag,) = table.diagnostics
    assert diag.path == "data[0].spans[0].tags[0].value"
    assert diag.message == (
        "expected a number within float range, got an integer of 401 digits; tag dropped")
