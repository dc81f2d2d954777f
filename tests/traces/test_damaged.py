"""Damaged input (issue 10, "Bad input"): invalid UTF-8, over-long ids, huge numbers and
truncated documents give located diagnostics, and every record before the damage is kept."""

from __future__ import annotations

import json

import pytest

from tests.traces.util import REAL, doc, dumps, span
from workbench.traces import load_bytes, load_traces, salvage

GETTRACE = REAL / "jaeger-ui/api-v3-fixtures/getTrace-response.json"
ZIPKIN = REAL / "openzipkin-zipkin/messaging-kafka.json"
JAEGER = REAL / "jaeger-ui/TraceTimelineViewer/genaiTestTrace.json"


def _ids(builder) -> list[str]:  # type: ignore[no-untyped-def]
    return list(builder.span_id)


# ---------------------------------------------------------------------- invalid UTF-8


def test_invalid_utf8_in_an_otlp_string_is_located_and_the_span_kept() -> None:
    data = json.dumps(doc(span("1000000000000001", name="NAME")), indent=1).encode()
    data = data.replace(b"NAME", b"NA\xffME")
    b = load_bytes(data, "t.json")
    (diag,) = b.diagnostics
    line = data[: data.index(b"\xff")].count(b"\n") + 1
    assert diag.severity == "warning" and "invalid UTF-8 (bytes ff)" in diag.message
    assert (diag.line, diag.column) == (line, data.split(b"\n")[line - 1].index(b"\xff") + 1)
    table = b.build()
    assert table.n_spans == 1 and table.name_of(0) == "NA\ufffdME"


@pytest.mark.parametrize("path", [GETTRACE, ZIPKIN, JAEGER], ids=["otlp", "zipkin", "jaeger"])
def test_invalid_utf8_in_any_json_reader_keeps_every_record(path) -> None:  # type: ignore[no-untyped-def]
    clean = load_traces(path)
    raw = path.read_bytes()
    at = raw.index(b': "', len(raw) // 2) + 3  # inside some string value in the middle
    b = load_bytes(raw[:at] + b"\xc3\x28" + raw[at:], str(path))
    assert [d.message for d in b.diagnostics] == ["invalid UTF-8 (bytes c3); replaced by U+FFFD"]
    assert len(b) == clean.n_spans


def test_invalid_utf8_in_json_lines_names_the_line() -> None:
    lines = [dumps(doc(span(f"{i:016x}", name="n"))) for i in range(1, 4)]
    lines[1] = lines[1].replace(b'"n"', b'"\xe2\x82"')
    b = load_bytes(b"\n".join(lines) + b"\n", "t.jsonl")
    assert len(b) == 3 and [d.line for d in b.diagnostics] == [2]


def test_invalid_utf8_many_sequences_are_summarized() -> None:
    spans = [span(f"{i:016x}", name="X") for i in range(1, 108)]
    data = dumps(doc(*spans)).replace(b'"X"', b'"\xff"')
    b = load_bytes(data, "t.json")
    assert len(b) == 107
    located = [d for d in b.diagnostics if d.line is not None]
    assert len(located) == salvage.MAX_REPORTED == 100
    assert len({(d.line, d.column) for d in located}) == 100
    assert [d.message for d in b.diagnostics][-1] == (
        "7 more invalid UTF-8 sequences replaced by U+FFFD (only the first 100 of the file "
        "are reported one by one)"
    )


# ---------------------------------------------------------------------- ids and numbers


@pytest.mark.parametrize("digits", [256, 300, 4096])
def test_over_long_ids_are_diagnosed_not_overflowing(digits: int) -> None:
    long_id = "a" * digits
    b = load_bytes(dumps(doc(span(long_id), span("1000000000000001", "b" * digits))), "t.json")
    table = b.build()
    assert table.n_spans == 2
    messages = [d.message for d in table.diagnostics]
    assert any(m.startswith(f"span id of {digits} characters") for m in messages)
    assert any(m.startswith(f"parent span id of {digits} characters") for m in messages)
    assert int(table.span_id_len.max()) == 127


def test_over_long_zipkin_ids() -> None:
    records = [{"traceId": "1" * 16, "id": "a" * 300, "name": "x", "timestamp": 1, "duration": 1}]
    table = load_bytes(dumps(records), "z.json").build()
    assert table.n_spans == 1 and "span id of 300 characters" in table.diagnostics[0].message


@pytest.mark.parametrize("value", ["1e306", "1.7976931348623157e308", "-1e306", '"\u00b2"'])
def test_zipkin_huge_timestamps_are_diagnosed(value: str) -> None:
    text = f'[{{"traceId":"{"1" * 16}","id":"{"2" * 16}","name":"x","timestamp":{value}}}]'
    b = load_bytes(text.encode(), "z.json")
    assert len(b) == 1
    assert b.diagnostics[0].path == "[0].timestamp"


# ---------------------------------------------------------------------- truncation


def _span_starts(data: bytes, ids: list[str]) -> list[int]:
    """Offset of the ``{`` that opens each span record, found through its id."""
    return [data.rindex(b"{", 0, data.index(f'"spanId": "{i}"'.encode())) for i in ids]


def test_truncated_otlp_document_keeps_every_span_before_the_damage() -> None:
    obj = json.loads(GETTRACE.read_bytes())
    spans = [
        s for rs in obj["result"]["resourceSpans"] for ss in rs["scopeSpans"] for s in ss["spans"]
    ]
    data = json.dumps(obj, indent=2).encode()
    starts = _span_starts(data, [s["spanId"] for s in spans])
    for k in (1, 5, 13, 27, 39):
        for cut in (starts[k] - 3, starts[k] + 40):  # before span k, and inside it
            b = load_bytes(data[:cut], "t.json")
            assert _ids(b) == [s["spanId"] for s in spans[:k]], (k, cut)
            (diag,) = [d for d in b.diagnostics if d.severity == "error"]
            assert "unexpected end of input" in diag.message and "before it read" in diag.message


def test_damage_in_the_middle_keeps_what_precedes_it() -> None:
    data = json.dumps(doc(*[span(f"{i:016x}") for i in range(1, 6)]), indent=1).encode()
    at = data.index(b'"0000000000000004"')
    b = load_bytes(data[:at] + b"@@" + data[at:], "t.json")
    assert _ids(b) == [f"{i:016x}" for i in range(1, 4)]
    assert b.diagnostics[0].line == data[:at].count(b"\n") + 1


def test_trailing_garbage_after_a_document() -> None:
    b = load_bytes(dumps(doc(span("1000000000000001"))) + b"}}garbage", "t.json")
    assert len(b) == 1 and len(b.diagnostics) == 1


def test_truncated_json_lines_keep_the_spans_of_the_cut_line() -> None:
    lines = [dumps(doc(span(f"{i:016x}"), span(f"{i + 100:016x}"))) for i in range(1, 4)]
    data = b"\n".join(lines)
    cut = data.index(b'"0000000000000067"')  # inside line 3's second span
    b = load_bytes(data[:cut], "t.jsonl")
    assert len(b) == 5 and b.diagnostics[0].line == 3


@pytest.mark.parametrize("path", [ZIPKIN, JAEGER], ids=["zipkin", "jaeger"])
def test_truncated_zipkin_and_jaeger_keep_complete_records(path) -> None:  # type: ignore[no-untyped-def]
    raw = path.read_bytes()
    total = load_traces(path).n_spans
    kept = [
        len(load_bytes(raw[:cut], "t.json"))
        for cut in range(len(raw) // 10, len(raw), len(raw) // 10)
    ]
    assert kept == sorted(kept) and 0 < kept[0] and kept[-1] <= total


def test_truncated_gzip_keeps_what_was_decompressed() -> None:
    import gzip

    data = gzip.compress(json.dumps(doc(*[span(f"{i:016x}") for i in range(1, 200)])).encode())
    b = load_bytes(data[: len(data) * 3 // 4], "t.json.gz")
    assert any("gzip" in d.message for d in b.diagnostics)


# ---------------------------------------------------------------------- fuzzer findings


def test_fuzz_integer_beyond_float_range_in_a_tag() -> None:
    """Found by the Jaeger fuzzer: a process tag of 10**400 raised OverflowError."""
    trace = json.loads(JAEGER.read_bytes())
    first = next(iter(trace["processes"].values()))
    first["tags"] = [{"key": "big", "type": "int64", "value": 10**400}]
    table = load_bytes(json.dumps(trace).encode(), "j.json").build()
    assert table.n_spans == 57
    assert float("inf") in table.resource_attrs.fval.tolist()


def test_fuzz_out_of_range_json_number_is_read() -> None:
    """Found by the Jaeger fuzzer: ``1e999`` (valid JSON) made msgspec raise ValidationError,
    also from inside the salvage path."""
    raw = JAEGER.read_bytes().replace(b'"duration": 44000000', b'"duration": 1e999', 1)
    b = load_bytes(raw, "j.json")
    assert len(b) == 57
    assert any(d.path.endswith("duration") for d in b.diagnostics)
    assert len(load_bytes(raw[: len(raw) // 2], "j.json")) > 0


def test_truncated_otlp_protobuf_keeps_the_complete_spans() -> None:
    from tests.traces.util import json_to_proto

    two = doc(*[span(f"{i:016x}") for i in range(1, 6)])["resourceSpans"]
    two += doc(*[span(f"{i:016x}") for i in range(6, 11)], service="b")["resourceSpans"]
    raw = json_to_proto({"resourceSpans": two})
    kept = [len(load_bytes(raw[:cut], "t.pb")) for cut in range(60, len(raw), 7)]
    assert kept == sorted(kept) and kept[-1] == 9
    b = load_bytes(raw[:-5], "t.pb")
    assert _ids(b) == [f"{i:016x}" for i in range(1, 10)]
    assert "the 9 complete spans before the damage read" in b.diagnostics[0].message


def test_json_lines_with_invalid_utf8_in_their_first_lines_are_still_json_lines() -> None:
    """Regression: the sniffer decoded the raw first lines, so bad bytes there made the
    whole file read as one (broken) document and only the first line's span was kept."""
    lines = [dumps(doc(span(f"{i:016x}", name="X"))) for i in range(1, 6)]
    data = b"\n".join(lines).replace(b'"X"', b'"\xff"') + b"\n"
    b = load_bytes(data, "t.jsonl")
    assert len(b) == 5
    assert [d.line for d in b.diagnostics] == [1, 2, 3, 4, 5]
