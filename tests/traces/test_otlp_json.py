"""OTLP/JSON decoding: accepted variants, the typed fast path, the tolerant path and its paths."""

from __future__ import annotations

import base64
import json
import math

import msgspec
import pytest

from tests.traces.util import MALFORMED, TRACE, assert_tables_equal, doc, dumps, span
from workbench.errors import TraceInputError
from workbench.traces import load_bytes, load_traces, otlp_json_lazy
from workbench.traces import otlp_json as oj
from workbench.traces.builder import TableBuilder
from workbench.traces.model import ATTR_ARRAY, ATTR_BYTES, ATTR_FLOAT, ATTR_INT, ATTR_KVLIST
from workbench.traces.otlp_repair import Repairer


def table_of(obj: object, name: str = "t.json"):
    return load_bytes(dumps(obj), name).build()


def rich_doc(big: bool = True) -> dict:
    """Every OTLP/JSON feature at once (valid, so the fast path takes it); ``big=False`` drops
    the integer beyond int64 that protobuf cannot carry."""
    value = {
        "arrayValue": {
            "values": [
                {"stringValue": "a"},
                {"intValue": "3"},
                {"kvlistValue": {"values": [{"key": "z", "value": {"boolValue": True}}]}},
            ]
        }
    }
    attrs = [
        {"key": "s", "value": {"stringValue": "text"}},
        {"key": "b", "value": {"boolValue": False}},
        {"key": "i", "value": {"intValue": "-42"}},
        {"key": "i2", "value": {"intValue": 9007199254740993}},
        *([{"key": "big", "value": {"intValue": "18446744073709551615"}}] if big else []),
        {"key": "d", "value": {"doubleValue": 2.5}},
        {"key": "d_int", "value": {"doubleValue": 5}},
        {"key": "nan", "value": {"doubleValue": "NaN"}},
        {"key": "inf", "value": {"doubleValue": "-Infinity"}},
        {"key": "bytes", "value": {"bytesValue": base64.b64encode(b"\x00\xffab").decode()}},
        {"key": "arr", "value": value},
        {"key": "kv", "value": {"kvlistValue": {"values": [{"key": "k", "value": value}]}}},
    ]
    root = span(
        "1000000000000001",
        kind="SPAN_KIND_SERVER",
        flags=257,
        traceState="a=1",
        attributes=attrs,
        status={"code": "STATUS_CODE_ERROR", "message": "boom"},
        events=[
            {"timeUnixNano": "1500", "name": "exception", "attributes": attrs[:3]},
            {"timeUnixNano": 1600, "name": "ack"},
        ],
    )
    child = span(
        "1000000000000002",
        "1000000000000001",
        start=1100,
        end=None,
        kind=3,
        status={"code": 1},
        links=[
            {
                "traceId": TRACE,
                "spanId": "1000000000000001",
                "traceState": "b=2",
                "flags": 1,
                "attributes": [{"key": "why", "value": {"stringValue": "retry"}}],
            },
            {"traceId": "ab" * 16, "spanId": "cd" * 8},
        ],
    )
    out = doc(root, child, service="shop", scope="io.lib")
    out["resourceSpans"][0]["resource"]["attributes"].append(
        {"key": "host.id", "value": {"intValue": 7}}
    )
    return out


def test_rich_document() -> None:
    table = table_of(rich_doc())
    assert not table.diagnostics
    root, child = 0, 1
    assert table.kind_of(root) == "SERVER" and table.kind_of(child) == "CLIENT"
    assert table.status_of(root) == "ERROR" and table.status_of(child) == "OK"
    assert table.strings[int(table.status_message[root])] == "boom"
    assert int(table.flags[root]) == 257 and table.strings[int(table.trace_state[root])] == "a=1"
    assert table.strings[int(table.scope[root])] == "io.lib"
    assert table.resource_of(root) == {"service.name": "shop", "host.id": 7}
    assert table.service_of(child) == "shop"
    attrs = table.attributes_of(root)
    assert attrs["s"] == "text" and attrs["b"] is False and attrs["i"] == -42
    assert attrs["i2"] == 9007199254740993 and attrs["big"] == float(2**64 - 1)
    assert attrs["d"] == 2.5 and attrs["d_int"] == 5.0 and math.isnan(attrs["nan"])
    assert attrs["inf"] == -math.inf and attrs["bytes"] == "00ff6162"
    assert attrs["arr"] == ["a", 3, {"z": True}]
    assert attrs["kv"] == {"k": ["a", 3, {"z": True}]}
    types = dict(zip(attrs, table.attrs.type[: len(attrs)].tolist(), strict=True))
    assert types["i"] == ATTR_INT and types["big"] == ATTR_FLOAT and types["bytes"] == ATTR_BYTES
    assert types["arr"] == ATTR_ARRAY and types["kv"] == ATTR_KVLIST
    events = table.events_of(root)
    assert [(e.name, e.time) for e in events] == [("exception", 1500), ("ack", 1600)]
    assert events[0].attributes == {"s": "text", "b": False, "i": -42}
    assert not table.has_end[child] and int(table.end[child]) == 1100
    links = table.links_of(child)
    assert links[0].row == root and links[0].attributes == {"why": "retry"}
    assert (links[0].trace_state, links[0].flags) == ("b=2", 1)
    assert links[1].row == -1 and links[1].span_id == "cd" * 8
    assert int(table.parent[child]) == root and int(table.depth[child]) == 1


def test_fast_and_tolerant_paths_agree() -> None:
    data = dumps(rich_doc())
    fast = TableBuilder()
    oj.append_resource_spans(fast, oj.DOCUMENT_DECODER.decode(data).resourceSpans, "t.json")
    slow = TableBuilder()
    diags: list = []
    repaired = Repairer("t.json", diags).resource_spans(json.loads(data), "")
    oj.append_resource_spans(slow, repaired, "t.json")
    assert not diags
    whole = fast.build()
    assert_tables_equal(whole, slow.build(), ignore=())
    assert_tables_equal(whole, load_bytes(data, "t.json").build(), ignore=())  # batched


def test_small_batches_give_the_same_table_and_paths(monkeypatch: pytest.MonkeyPatch) -> None:
    spans = [span(f"{i + 1:016x}", f"{i:016x}" if i else "", start=1000 + i) for i in range(7)]
    spans[3]["startTimeUnixNano"] = [1]
    spans[5]["attributes"] = [{"key": "x", "value": {}}]
    data = dumps(
        {
            "resourceSpans": [
                doc(*spans[:4])["resourceSpans"][0],
                doc(*spans[4:])["resourceSpans"][0],
            ]
        }
    )
    whole = load_bytes(data, "t.json")
    monkeypatch.setattr(otlp_json_lazy, "BATCH", 2)
    batched = load_bytes(data, "t.json")
    assert_tables_equal(whole.build(), batched.build(), ignore=())
    assert whole.diagnostics == batched.diagnostics
    assert [d.path for d in batched.diagnostics] == [
        "resourceSpans[0].scopeSpans[0].spans[3].startTimeUnixNano",
        "resourceSpans[1].scopeSpans[0].spans[1].attributes[0].value",
    ]


def test_base64_ids_are_hex() -> None:
    def b64(hex_id: str) -> str:
        return base64.b64encode(bytes.fromhex(hex_id)).decode()

    hexed = doc(span("1000000000000001"), span("1000000000000002", "1000000000000001"))
    b64ed = doc(
        span("1000000000000001", trace=b64(TRACE)) | {"spanId": b64("1000000000000001")},
        span("x", trace=b64(TRACE))
        | {"spanId": b64("1000000000000002"), "parentSpanId": b64("1000000000000001")},
    )
    assert len(b64(TRACE)) == 24 and len(b64("1000000000000001")) == 12
    a, b = table_of(hexed), table_of(b64ed)
    assert_tables_equal(a, b)
    assert b.trace_id_hex == [TRACE] and int(b.parent[1]) == 0


def test_uppercase_ids_join_lowercase() -> None:
    table = table_of(doc(span("1000000000000001", trace=TRACE.upper()), span("1000000000000002")))
    assert table.n_traces == 1 and table.trace_id_hex == [TRACE]


def test_kind_and_status_names_and_numbers() -> None:
    spans = [
        span(f"100000000000000{k}", kind=kind, status={"code": code})
        for k, (kind, code) in enumerate(
            [
                ("SPAN_KIND_CONSUMER", "STATUS_CODE_OK"),
                (4, 2),
                ("1", "0"),
                ("SPAN_KIND_UNSPECIFIED", 1),
            ]
        )
    ]
    table = table_of(doc(*spans))
    assert not table.diagnostics
    assert [table.kind_of(r) for r in range(4)] == [
        "CONSUMER",
        "PRODUCER",
        "INTERNAL",
        "UNSPECIFIED",
    ]
    assert [table.status_of(r) for r in range(4)] == ["OK", "ERROR", "UNSET", "OK"]


def test_times_as_strings_or_ints() -> None:
    table = table_of(
        doc(span("1000000000000001", start=1_700_000_000_000_000_001, end="1700000000000000002"))
    )
    assert int(table.start[0]) == 1_700_000_000_000_000_001
    assert int(table.end[0]) == 1_700_000_000_000_000_002


def test_legacy_instrumentation_library_spans() -> None:
    obj = {
        "resourceSpans": [
            {
                "instrumentationLibrarySpans": [
                    {"instrumentationLibrary": {"name": "old"}, "spans": [span("1000000000000001")]}
                ]
            }
        ]
    }
    table = table_of(obj)
    assert table.n_spans == 1 and table.strings[int(table.scope[0])] == "old"


def test_bad_fields_keep_valid_spans_with_exact_paths() -> None:
    table = load_traces(MALFORMED / "bad_fields.json")
    assert sorted(table.name_of(r) for r in range(table.n_spans)) == [
        "bad attribute",
        "end is odd",
        "kind is odd",
        "root",
    ]
    found = {(d.path, d.severity): d.message for d in table.diagnostics}
    base = "resourceSpans[0].scopeSpans[1].spans"
    assert found[(f"{base}[2].startTimeUnixNano", "error")] == (
        "expected a decimal string or integer, got list; span dropped"
    )
    assert found[(f"{base}[3]", "error")] == "missing required field traceId; span dropped"
    assert found[(f"{base}[0].kind", "warning")].endswith(
        'got str "SPAN_KIND_BOGUS"; field ignored'
    )
    assert found[(f"{base}[1].attributes[1].value.intValue", "warning")] == (
        "expected a decimal string or integer, got list; attribute dropped"
    )
    assert (f"{base}[1].attributes[2].value", "warning") in found
    assert found[(f"{base}[4].endTimeUnixNano", "warning")].endswith("field ignored")
    assert (f"{base}[4].events[1].timeUnixNano", "warning") in found
    assert len(table.diagnostics) == 7
    rows = {table.name_of(r): r for r in range(table.n_spans)}
    assert table.attributes_of(rows["bad attribute"]) == {"good": 7}
    assert table.kind_of(rows["kind is odd"]) == "UNSPECIFIED"
    assert not table.has_end[rows["end is odd"]]
    assert [e.name for e in table.events_of(rows["end is odd"])] == ["ok"]


@pytest.mark.parametrize(
    ("field", "value", "severity", "kept"),
    [
        ("spanId", 12, "error", False),
        ("parentSpanId", ["x"], "error", False),
        ("traceId", "", "error", False),
        ("startTimeUnixNano", "-5", "error", False),
        ("startTimeUnixNano", "12.5", "error", False),
        ("endTimeUnixNano", "soon", "warning", True),
        ("name", 7, "warning", True),
        ("flags", -1, "warning", True),
        ("traceState", {}, "warning", True),
        ("status", "ERROR", "warning", True),
        ("kind", 9, "warning", True),
        ("attributes", {"k": "v"}, "warning", True),
        ("events", [{"name": "e", "timeUnixNano": "x"}], "warning", True),
        ("links", [{"traceId": TRACE}], "warning", True),
    ],
)
def test_each_broken_field(field: str, value: object, severity: str, kept: bool) -> None:
    broken = span("1000000000000002", "1000000000000001")
    broken[field] = value
    table = table_of(doc(span("1000000000000001"), broken, span("1000000000000003")))
    assert table.n_spans == (3 if kept else 2)
    (diag,) = table.diagnostics
    assert diag.severity == severity
    assert diag.path.startswith("resourceSpans[0].scopeSpans[0].spans[1]")
    assert diag.file == "t.json"


def test_truncated_json_has_line_and_column() -> None:
    with pytest.raises(TraceInputError) as err:
        load_traces(MALFORMED / "truncated.json")
    (diag,) = err.value.diagnostics
    assert (diag.line, diag.column) == (31, 23)
    assert diag.message == "invalid JSON: unexpected end of input"


def test_syntax_error_position() -> None:
    builder = load_bytes(b'{"resourceSpans": [\n  {"scopeSpans": [}]}', "x.json")
    (diag,) = builder.diagnostics
    assert (diag.line, diag.column) == (2, 19) and diag.message.startswith("invalid JSON")


def test_json_lines_with_a_broken_line() -> None:
    table = load_traces(MALFORMED / "broken_line.jsonl")
    assert [table.name_of(r) for r in range(table.n_spans)] == ["a", "c"]
    (diag,) = table.diagnostics
    assert diag.line == 2 and diag.severity == "error" and diag.column is not None
    assert int(table.parent[1]) == 0  # lines of one trace are joined


def test_json_lines_bad_record_path_has_line() -> None:
    good = json.dumps(doc(span("1000000000000001")))
    bad = json.dumps(doc(span("1000000000000002", start=[1])))
    other = json.dumps({"resourceMetrics": []})
    table = load_bytes(f"{good}\n{bad}\n{other}\n{good}\n".encode(), "x.jsonl").build()
    assert table.n_spans == 2
    by_line = {d.line: d for d in table.diagnostics}
    assert by_line[2].path == "resourceSpans[0].scopeSpans[0].spans[0].startTimeUnixNano"
    assert by_line[3].severity == "warning"


def test_resource_spans_not_a_list(tmp_path) -> None:
    path = tmp_path / "x.json"
    path.write_bytes(b'{"resourceSpans": 5}')
    with pytest.raises(TraceInputError) as err:
        load_traces(path)
    (diag,) = err.value.diagnostics
    assert (diag.path, diag.severity) == ("resourceSpans", "error")


def test_empty_valid_document_is_an_empty_table() -> None:
    table = load_bytes(b'{"resourceSpans": []}', "x.json").build()
    assert table.n_spans == 0 and not table.diagnostics


def test_jaeger_v3_wrapper_paths() -> None:
    obj = {"result": doc(span("1000000000000001", kind="nope"))}
    table = table_of(obj)
    assert table.diagnostics[0].path == "result.resourceSpans[0].scopeSpans[0].spans[0].kind"


def test_normalize_id() -> None:
    assert oj.normalize_id("W47/95gDgQPSabYzgT/GDA==", 16) == TRACE
    assert oj.normalize_id("7uGbfsPBsXQ=", 8) == "eee19b7ec3c1b174"
    assert oj.normalize_id("7uGbfsPBsXQ", 8) == "eee19b7ec3c1b174"  # unpadded
    assert oj.normalize_id("abcdef012345", 8) == "abcdef012345"  # hex of the wrong length
    assert oj.normalize_id("span-1", 8) == "span-1"


def test_decoder_rejects_what_the_repairer_reports() -> None:
    with pytest.raises(msgspec.ValidationError):
        oj.DOCUMENT_DECODER.decode(dumps(doc(span("1000000000000001", kind="X"))))
