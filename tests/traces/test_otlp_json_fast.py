"""The compiled OTLP/JSON walker against the msgspec reader (the reference)."""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.traces.test_otlp_json import rich_doc
from tests.traces.test_otlp_proto import requests
from tests.traces.util import TRACE, assert_tables_equal, doc, dumps, span
from workbench.traces import detect, load_bytes, otlp_json_load
from workbench.traces.model import SpanTable
from workbench.traces.otlp_json_fast import walk_status


def both(data: bytes, monkeypatch: pytest.MonkeyPatch) -> tuple[SpanTable, SpanTable]:
    """(fast walker first, msgspec reader only) tables of the same bytes."""
    monkeypatch.setattr(otlp_json_load, "FAST_JSON_MIN_BYTES", 0)
    monkeypatch.setattr(otlp_json_load, "COLD_JSON_MIN_BYTES", 0)
    fast = load_bytes(data, "x.json").build()
    monkeypatch.setattr(otlp_json_load, "FAST_JSON_MIN_BYTES", 1 << 62)
    ref = load_bytes(data, "x.json").build()
    return fast, ref


def assert_same(data: bytes, monkeypatch: pytest.MonkeyPatch) -> SpanTable:
    fast, ref = both(data, monkeypatch)
    assert_tables_equal(fast, ref)
    assert fast.diagnostics == ref.diagnostics
    return fast


def test_rich_document_is_walked(monkeypatch: pytest.MonkeyPatch) -> None:
    obj = rich_doc(big=False)
    data = dumps(obj)
    assert walk_status(data) == 0
    assert assert_same(data, monkeypatch).n_spans == 2
    # the same with every byte of whitespace JSON allows, and in Tempo's shape
    pretty = json.dumps(obj, indent=3).encode()
    assert walk_status(pretty) == 0
    assert_same(pretty, monkeypatch)
    tempo = dumps({"batches": obj["resourceSpans"]})
    assert walk_status(tempo) == 0
    assert_same(tempo, monkeypatch)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(req=requests())
def test_generated_documents_give_the_reference_table(
    req: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = dumps(req)
    assert walk_status(data) == 0
    assert_same(data, monkeypatch)


ODD = [
    # escapes in values and ids, base64 ids, short and long ids, upper-case hex
    span("00000000000000a1", name="caf\\u00e9 \\\"q\\\"", traceState="\\/x"),
    span(base64.b64encode(bytes.fromhex("00000000000000a2")).decode(),
         trace=base64.b64encode(bytes.fromhex(TRACE)).decode()),
    span("a3", parentSpanId="00000000000000A1", trace=TRACE.upper()),
    span("00000000000000a4" * 3, kind="SPAN_KIND_CLIENT", status={"code": "STATUS_CODE_OK"}),
    span("00000000000000a5", start="0", end=0, flags="7",
         attributes=[{"key": "x", "value": {"intValue": -9223372036854775808}},
                     {"key": "y", "value": {"doubleValue": "1.5"}},
                     {"key": "z", "value": {"doubleValue": -0.0}},
                     {"key": "w", "value": {"doubleValue": 1e-310}}]),
]


def test_odd_but_valid_values(monkeypatch: pytest.MonkeyPatch) -> None:
    raw = dumps(doc(*ODD)).replace(b"\\\\u00e9", b"\\u00e9").replace(b'\\\\\\"', b'\\"')
    raw = raw.replace(b"\\\\/", b"\\/")
    assert walk_status(raw) == 0
    table = assert_same(raw, monkeypatch)
    assert table.n_spans == 5 and table.n_traces == 1
    assert 'café "q"' in {table.name_of(r) for r in range(5)}


DECLINED = [
    dumps(doc(span("00000000000000b1", name=None))),  # null
    dumps(doc(span("00000000000000b1", kind="SPAN_KIND_NOPE"))),
    dumps(doc(span("00000000000000b1", kind=9))),
    dumps(doc(span("00000000000000b1", attributes=[{"key": "k", "value": {}}]))),
    dumps(doc(span("00000000000000b1", attributes=[
        {"key": "k", "value": {"intValue": "1", "stringValue": "a"}}]))),
    dumps(doc(span("00000000000000b1", attributes=[
        {"key": "k", "value": {"intValue": "18446744073709551615"}}]))),
    dumps(doc(span("00000000000000b1", start="01"))),
    dumps(doc(span("00000000000000b1", start=1.0))),
    dumps(doc(span("00000000000000b1", traceId=""))),
    dumps(doc(span("00000000000000b1", attributes=[
        {"key": "k", "value": {"bytesValue": "not base64!"}}]))),
    dumps({"result": doc(span("00000000000000b1"))}),
    dumps(doc(span("00000000000000b1"))).replace(b'"name"', b'"na\\u006de"'),
    dumps(doc(span("00000000000000b1"))).replace(b'"op"', b'"op", "name": "again"'),
    dumps(doc(span("00000000000000b1"))) + b" trailing",
    dumps(doc(span("00000000000000b1")))[:-9],
]


@pytest.mark.parametrize("data", DECLINED, ids=range(len(DECLINED)))
def test_declined_documents_read_as_the_reference_reads_them(
    data: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    fast, ref = both(data, monkeypatch)
    assert_tables_equal(fast, ref)
    assert fast.diagnostics == ref.diagnostics


def tight(data: bytes) -> bytes:
    """``data`` without the blanks after separators (the form msgspec and the Collector
    write), whose KeyValues the walker reads in one step."""
    return data.replace(b", ", b",").replace(b": ", b":")


def _kv(value: str, key: str = '"k"', tail: str = "") -> bytes:
    """A tight document of one span whose one attribute is written as given."""
    return tight(dumps(doc(span("00000000000000e1", attributes=[{"key": "@"}])))).replace(
        b'{"key":"@"}', f'{{"key":{key},"value":{{{value}}}{tail}}}'.encode())


#: KeyValues in (and just outside) the compact form, valid and not
COMPACT = [
    '"stringValue":"v"', '"stringValue":"a\\"b\\u00e9"', '"stringValue":""',
    '"intValue":"-9223372036854775808"', '"intValue":42', '"intValue":"01"',
    '"intValue":"18446744073709551615"', '"intValue":"1.5"', '"intValue":"4\\u0032"',
    '"doubleValue":1.5', '"doubleValue":"NaN"', '"doubleValue":"-Infinity"',
    '"doubleValue":1e400', '"doubleValue":-0.0', '"doubleValue":"x"',
    '"doubleValue":1.00000000000000000000000000000000001', '"boolValue":true',
    '"boolValue":false', '"boolValue":"true"', '"boolValue":tru', '"stringValue":"a","intValue":1',
    '"stringValue":"a" ', '"stringValue":"a","other":1', '"arrayValue":{"values":[]}',
    '"bytesValue":"AAE="', '"kvlistValue":{"values":[]}', '"stringValue":1', '',
]


@pytest.mark.parametrize("value", COMPACT)
@pytest.mark.parametrize("key,tail", [('"k"', ""), ('"a\\"b"', ""), ('"k"', ',"key":"j"'),
                                      ('"k"', ',"value":{"intValue":1}'), ('"k"', " ")])
def test_compact_key_values_read_as_the_reference_reads_them(
    value: str, key: str, tail: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = _kv(value, key, tail)
    assert f'"attributes":[{{"key":{key},"value":{{{value}}}'.encode() in data
    fast, ref = both(data, monkeypatch)
    assert_tables_equal(fast, ref)
    assert fast.diagnostics == ref.diagnostics


def test_tight_documents_read_as_the_reference_reads_them(
    monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tight(dumps(rich_doc(big=False)))
    assert b'"value":{"stringValue":' in data and walk_status(data) == 0
    assert assert_same(data, monkeypatch).n_spans == 2
    for raw in DECLINED:
        fast, ref = both(tight(raw), monkeypatch)
        assert_tables_equal(fast, ref)
        assert fast.diagnostics == ref.diagnostics


def test_out_of_range_double_is_declined(monkeypatch: pytest.MonkeyPatch) -> None:
    data = dumps(doc(span("00000000000000c1", attributes=[
        {"key": "k", "value": {"doubleValue": 1.0}}]))).replace(b"1.0", b"1e400")
    assert walk_status(data) == 0  # the grammar is fine; the conversion declines
    fast, ref = both(data, monkeypatch)
    assert_tables_equal(fast, ref)
    assert fast.diagnostics == ref.diagnostics


def test_json_lines_mix_fast_and_tolerant_lines_in_order(
    monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = [dumps(doc(span(f"00000000000000d{i}", start=10 - i, name=f"n{i}"))) for i in range(4)]
    lines[2] = dumps(doc(span("00000000000000d2", kind="SPAN_KIND_NOPE", start=8)))
    data = b"\n".join(lines) + b"\n"
    table = assert_same(data, monkeypatch)
    assert table.n_spans == 4


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_mutated_documents_never_differ(data: st.DataObject,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    base = bytearray(dumps(rich_doc(big=False)))
    if data.draw(st.booleans()):
        base = bytearray(tight(bytes(base)))
    for _ in range(data.draw(st.integers(1, 3))):
        pos = data.draw(st.integers(0, len(base) - 1))
        base[pos] = data.draw(st.sampled_from(b'{}[]",:0aZ\\ -.e'))
    fast, ref = both(bytes(base), monkeypatch)
    assert_tables_equal(fast, ref)
    assert fast.diagnostics == ref.diagnostics


def test_documents_are_walked_in_groups(monkeypatch: pytest.MonkeyPatch) -> None:
    from workbench.traces import otlp_json_fast

    monkeypatch.setattr(otlp_json_fast, "GROUP_SPANS", 1)
    rich = rich_doc(big=False)["resourceSpans"]
    parts = [doc(span(f"00000000000000e{i}", start=9 - i), service=f"s{i}")["resourceSpans"][0]
             for i in range(4)]
    data = dumps({"resourceSpans": [parts[0], *rich, parts[1], parts[2], parts[3]],
                  "extra": {"after": [1, 2]}})
    assert walk_status(data) == 0
    assert assert_same(data, monkeypatch).n_spans == 6
    # a group that declines late: the whole document goes to the reference reader, once
    parts[3]["scopeSpans"][0]["spans"][0]["kind"] = "SPAN_KIND_NOPE"
    data = dumps({"resourceSpans": [parts[0], *rich, parts[1], parts[2], parts[3]]})
    assert assert_same(data, monkeypatch).n_spans == 6


def test_small_loads_do_not_load_the_kernels_cold(monkeypatch: pytest.MonkeyPatch) -> None:
    from workbench.traces.builder import TableBuilder

    b = TableBuilder()
    cold = "workbench.traces.nonexistent_kernels"
    assert not detect.want_fast(b, 2 << 20, 1 << 20, 8 << 20, cold)  # 2 MiB seen: not yet
    assert not detect.want_fast(b, 1000, 1 << 20, 8 << 20, cold)  # too small even if warm
    assert detect.want_fast(b, 7 << 20, 1 << 20, 8 << 20, cold)  # 9 MiB seen in this load
    assert detect.want_fast(TableBuilder(), 2 << 20, 1 << 20, 8 << 20, "workbench.traces")
    monkeypatch.setenv(detect.FAST_READERS_ENV, "0")
    assert not detect.want_fast(b, 7 << 20, 1 << 20, 8 << 20, cold)
