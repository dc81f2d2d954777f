"""Spans of one trace for the waterfall: order, depth, orphans, witnesses."""

from __future__ import annotations

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from workbench.ui.spans import table_from_payloads, trace_spans, violating_span_ids


def _request(spans: list[tuple[str, str, str, int]]) -> bytes:
    """``(span id, parent id, name, start)`` spans of one trace."""
    req = ExportTraceServiceRequest()
    ss = req.resource_spans.add().scope_spans.add()
    for sid, pid, name, start in spans:
        ss.spans.add(trace_id=b"\x01" * 16, span_id=bytes.fromhex(sid),
                     parent_span_id=bytes.fromhex(pid), name=name,
                     start_time_unix_nano=1_000 + start, end_time_unix_nano=2_000 + start)
    return req.SerializeToString()


def test_depth_first_children_by_start_and_orphans_kept() -> None:
    payload = _request([
        ("00000000000000b2", "00000000000000a1", "late child", 50),
        ("00000000000000a1", "", "root", 0),
        ("00000000000000b1", "00000000000000a1", "early child", 10),
        ("00000000000000c1", "00000000000000b1", "grandchild", 20),
        ("00000000000000d1", "00000000000000ff", "orphan", 5),  # its parent never arrived
    ])
    out = trace_spans(table_from_payloads([payload]), 0)
    assert [(s["name"], s["depth"]) for s in out["spans"]] == [
        ("root", 0), ("early child", 1), ("grandchild", 2), ("late child", 1), ("orphan", 0)]
    assert out["spans"][1]["offset"] == 10 and out["spans"][1]["duration"] == 1_000
    assert out["duration"] == 2_000 + 50 - 1_000 and out["truncated"] == 0
    cut = trace_spans(table_from_payloads([payload]), 0, limit=2, details=False)
    assert len(cut["spans"]) == 2 and cut["truncated"] == 3
    assert "attributes" not in cut["spans"][0]


def test_violating_spans_come_from_the_witness_bindings() -> None:
    witnesses = [
        {"bindings": {"p": {"span_id": "a1"}, "c": {"span_id": "b1"}}, "message": "late"},
        {"bindings": {"c": {"span_id": "b1"}}, "message": "late"},
        {"bindings": {"x": 3}, "message": "not a span"},
    ]
    assert violating_span_ids(witnesses) == {"a1": ["late"], "b1": ["late"]}
