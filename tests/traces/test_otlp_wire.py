"""The compiled protobuf wire walker against the reader on the official protobuf classes."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import KeyValue

from tests.traces.test_otlp_json import rich_doc
from tests.traces.test_otlp_proto import requests
from tests.traces.util import assert_tables_equal, json_to_proto
from workbench.traces import kernels, otlp_proto, otlp_wire
from workbench.traces.builder import TableBuilder, dense_first_appearance
from workbench.traces.model import SpanTable


def both(data: bytes, name: str = "x.pb") -> tuple[SpanTable, SpanTable]:
    """(fast walker, reference reader) tables of the same bytes."""
    fast, ref = TableBuilder(), TableBuilder()
    otlp_proto.load(data, name, fast, fast=True)
    otlp_proto.load(data, name, ref, fast=False)
    return fast.build(), ref.build()


def assert_same(data: bytes) -> SpanTable:
    fast, ref = both(data)
    assert_tables_equal(fast, ref)
    assert fast.diagnostics == ref.diagnostics
    return fast


def walker_status(data: bytes) -> int:
    buf = np.frombuffer(data, dtype=np.uint8)
    z2, z1 = np.zeros((1, 1), np.int64), np.zeros(1, np.int64)
    return int(
        kernels.walk_request(buf, 0, len(data), False, z2, z2, z2, z2, z2, z1,
                             np.zeros(6, np.int64))
    )


def test_rich_document_is_walked_not_handed_back() -> None:
    data = json_to_proto(rich_doc(big=False))
    assert walker_status(data) == 0
    table = assert_same(data)
    assert table.n_spans > 0


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(requests())
def test_generated_requests_give_the_reference_table(request: dict) -> None:
    data = json_to_proto(request)
    assert walker_status(data) == 0  # generated requests are all in the walker's shape
    assert_same(data)


def _odd_request() -> ExportTraceServiceRequest:
    req = ExportTraceServiceRequest()
    rs = req.resource_spans.add()
    rs.resource.attributes.add(key="service.name").value.string_value = "svc"
    ss = rs.scope_spans.add()
    ss.scope.name = "lib"
    a = ss.spans.add(trace_id=b"\x01" * 16, span_id=b"\x02" * 8, name="root", kind=2,
                     start_time_unix_nano=5, end_time_unix_nano=9)
    a.attributes.add(key="b").value.bytes_value = b"\x00\xff"
    a.attributes.add(key="arr").value.array_value.values.add().int_value = -3
    kv = a.attributes.add(key="kv").value.kvlist_value.values.add(key="x")
    kv.value.double_value = 1.5
    a.attributes.add(key="neg").value.int_value = -(2**63)
    a.attributes.add(key="f").value.bool_value = False
    ev = a.events.add(time_unix_nano=2**64 - 1, name="e")  # clamped to int64 by both
    ev.attributes.add(key="n").value.string_value = "é"
    ss.spans.add(trace_id=b"\x01" * 20, span_id=b"\x03\x04", parent_span_id=b"\x02" * 8,
                 name="odd ids", trace_state="k=v", flags=7)
    ss.spans.add(trace_id=b"\x01" * 16, span_id=b"\x05" * 12, parent_span_id=b"\x00" * 8)
    link = ss.spans[0].links.add(trace_id=b"\x01" * 16, span_id=b"\x03\x04", flags=1)
    link.attributes.add(key="l").value.string_value = "x"
    return req


def test_odd_ids_nested_values_and_clamped_times() -> None:
    data = _odd_request().SerializeToString()
    assert walker_status(data) == 0
    table = assert_same(data)
    assert table.n_spans == 3 and table.n_traces == 2


def test_declined_shapes_fall_back_with_the_reference_diagnostics() -> None:
    req = _odd_request()
    req.resource_spans[0].scope_spans[0].spans[0].attributes.append(KeyValue(key="unset"))
    bad_kind = req.resource_spans[0].scope_spans[0].spans.add(
        trace_id=b"\x09" * 16, span_id=b"\x09" * 8, kind=9)
    assert bad_kind.kind == 9
    req.resource_spans[0].scope_spans[0].spans.add(trace_id=b"", span_id=b"\x08" * 8)
    data = req.SerializeToString()
    assert walker_status(data) != 0
    table = assert_same(data)
    paths = {d.path for d in table.diagnostics}
    assert "resourceSpans[0].scopeSpans[0].spans[0].attributes[5].value" in paths


def test_groups_are_walked_separately_and_keep_order(monkeypatch) -> None:
    req = ExportTraceServiceRequest()
    for r in range(6):
        rs = req.resource_spans.add()
        rs.resource.attributes.add(key="service.name").value.string_value = f"s{r}"
        ss = rs.scope_spans.add()
        for i in range(4):
            ss.spans.add(trace_id=bytes([r % 2]) * 16, span_id=bytes([r, i + 1]) * 4,
                         start_time_unix_nano=100 - i, name=f"n{r}")
    # a group the walker declines (an attribute without a value) in the middle
    req.resource_spans[3].scope_spans[0].spans[1].attributes.append(KeyValue(key="unset"))
    data = req.SerializeToString()
    monkeypatch.setattr(otlp_wire, "GROUP_BYTES", 40)
    table = assert_same(data)
    assert table.n_spans == 24 and len(table.diagnostics) == 1


def test_mutated_bytes_never_differ() -> None:
    base = json_to_proto(rich_doc(big=False))
    rng = np.random.default_rng(3)
    for _ in range(60):
        data = bytearray(base)
        for pos in rng.integers(0, len(data), size=int(rng.integers(1, 4))).tolist():
            data[pos] = int(rng.integers(0, 256))
        assert_same(bytes(data))


def test_invalid_utf8_keeps_the_valid_records_and_names_the_bad_one() -> None:
    data = _odd_request().SerializeToString().replace(b"odd ids", b"odd \xffds")
    fast = assert_same(data)  # the walker declines; the reference reader goes record by record
    # the bad bytes are replaced by U+FFFD and the span kept, with a warning at its path
    assert sorted(fast.name_of(r) for r in range(fast.n_spans)) == ["", "odd \ufffdds", "root"]
    (diag,) = fast.diagnostics
    assert diag.path == "resourceSpans[0].scopeSpans[0].spans[1]" and diag.severity == "warning"
    assert diag.message == "invalid UTF-8 in a string field; replaced by U+FFFD"


def test_invalid_utf8_in_a_resource_keeps_its_spans() -> None:
    req = _odd_request()
    req.resource_spans[0].resource.attributes[0].value.string_value = "SVC"
    data = req.SerializeToString().replace(b"SVC", b"S\xc3C")
    table = assert_same(data)
    assert table.n_spans == 3 and table.service_of(0) == "S\ufffdC"
    assert [(d.path, d.severity) for d in table.diagnostics] == [
        ("resourceSpans[0].resource", "warning")]


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 2), st.integers(0, 3), st.integers(0, 3)), max_size=40))
def test_hashed_first_appearance_numbering_matches_the_sort(rows: list) -> None:
    arr = np.asarray(rows, dtype=np.int64).reshape(-1, 3)
    tag, hi, lo = arr[:, 0], arr[:, 1].astype(np.uint64), arr[:, 2].astype(np.uint64)
    dense, first = dense_first_appearance(tag, hi, lo)
    dense2, first2 = kernels.dense_ids(tag, hi, lo)
    assert dense.tolist() == dense2.tolist() and first.tolist() == first2.tolist()
    seen: dict[tuple[int, int, int], int] = {}
    assert dense.tolist() == [seen.setdefault(tuple(r), len(seen)) for r in arr.tolist()]


def test_interned_slices() -> None:
    buf = np.frombuffer(b"abcab\xffab", dtype=np.uint8)
    inv, first = kernels.intern_slices(buf, np.array([0, 3, 6, 0, 5, 2], np.int64),
                                       np.array([2, 2, 2, 3, 0, 0], np.int64))
    assert inv.tolist() == [0, 0, 0, 1, 2, 2] and first.tolist() == [0, 3, 4]


def test_denser_later_groups_are_walked_again_into_exact_matrices(monkeypatch) -> None:
    # the first group is sparse, so the matrix sizes guessed for the later ones from its
    # records per byte are short: they are walked again into exact ones, nothing lost
    req = ExportTraceServiceRequest()
    for r in range(5):
        rs = req.resource_spans.add()
        rs.resource.attributes.add(key="service.name").value.string_value = f"s{r}"
        ss = rs.scope_spans.add()
        for i in range(1 + 30 * r):
            span = ss.spans.add(trace_id=bytes([r + 1]) * 16, span_id=bytes([r, i + 1]) * 4,
                                start_time_unix_nano=100 + i, name="n")
            for a in range(4 * r):
                kv = span.attributes.add(key=f"k{a}")
                if a % 3:
                    kv.value.int_value = a
                else:
                    kv.value.array_value.values.add().string_value = "same"
            for e in range(r):
                span.events.add(name=f"e{e}", time_unix_nano=7).attributes.add(
                    key="x").value.bool_value = True
            if r > 2:
                span.links.add(trace_id=b"\x01" * 16, span_id=bytes([0, 1]) * 4)
    data = req.SerializeToString()
    guessed, made = [], []
    walk, matrices = otlp_wire._walk, otlp_wire._matrices

    def walk_spy(buf, lo, hi, per_byte):  # type: ignore[no-untyped-def]
        guessed.append(per_byte is not None)
        return walk(buf, lo, hi, per_byte)

    def matrices_spy(shape):  # type: ignore[no-untyped-def]
        made.append(shape)
        return matrices(shape)

    monkeypatch.setattr(otlp_wire, "GROUP_BYTES", 200)
    monkeypatch.setattr(otlp_wire, "_walk", walk_spy)
    monkeypatch.setattr(otlp_wire, "_matrices", matrices_spy)
    table = assert_same(data)
    assert table.n_spans == sum(1 + 30 * r for r in range(5)) and not table.diagnostics
    assert guessed[0] is False and all(guessed[1:]) and len(guessed) >= 3
    assert len(made) > len(guessed)  # some guess was short: that group was walked again
