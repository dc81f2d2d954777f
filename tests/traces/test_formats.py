"""Format variants: Tempo v1/v2, Jaeger api_v2 with original field names, compression, framing."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pytest
import zstandard

from tests.traces.util import (
    REAL,
    ROOT,
    TRACE,
    assert_tables_equal,
    doc,
    dumps,
    json_to_proto,
    span,
)
from workbench.errors import TraceInputError
from workbench.traces import MISSING_PARENT, load_bytes, load_traces
from workbench.traces.container import DEFAULT_MAX_BYTES, MAX_BYTES_ENV, size_limit

FORMATS = ROOT / "tests" / "data" / "formats"
GETTRACE = REAL / "jaeger-ui/api-v3-fixtures/getTrace-response.json"
GENAI = REAL / "jaeger-ui/TraceTimelineViewer/genaiTestTrace.json"
UI01 = REAL / "jaeger/uimodel-fixtures/ui_01.json"
SPLIT = [FORMATS / "jaeger-api-v2-split-a.json", FORMATS / "jaeger-api-v2-split-b.json"]


# ---------------------------------------------------------------------- Tempo


@pytest.mark.parametrize("name", ["tempo-v1-batches.json", "tempo-v2-trace.json"])
def test_tempo_responses_equal_the_otlp_they_encode(name: str) -> None:
    table = load_traces(FORMATS / name)
    assert table.diagnostics == []
    assert table.n_spans == 40 and table.n_traces == 1
    assert_tables_equal(table, load_traces(GETTRACE))


def test_tempo_batches_share_a_service() -> None:
    obj = json.loads((FORMATS / "tempo-v1-batches.json").read_text())
    services = [
        kv["value"]["stringValue"]
        for b in obj["batches"]
        for kv in b["resource"]["attributes"]
        if kv["key"] == "service.name"
    ]
    assert len(services) > len(set(services))  # the fixture has what it claims


def test_tempo_bad_record_is_located_under_batches() -> None:
    bad = {"batches": [{"scopeSpans": [{"spans": [span("1000000000000001", kind="BAD")]}]}]}
    b = load_bytes(dumps(bad), "t.json")
    (diag,) = b.diagnostics
    assert diag.path == "batches[0].scopeSpans[0].spans[0].kind"
    assert len(b) == 1


def test_tempo_v2_wrapper_of_json_lines() -> None:
    line = dumps({"trace": doc(span("1000000000000001"))})
    lines = line + b"\n" + dumps({"trace": doc(span("1000000000000002"))}) + b"\n"
    assert len(load_bytes(lines, "t.jsonl")) == 2


# ---------------------------------------------------------------------- Jaeger api_v2


def test_api_v2_batches_split_over_two_files_join_into_one_trace() -> None:
    both = load_traces(SPLIT)
    assert both.diagnostics == []
    assert both.n_traces == 1 and both.n_spans == 57
    assert_tables_equal(both, load_traces(GENAI))
    only_a, only_b = load_traces(SPLIT[0]), load_traces(SPLIT[1])
    assert only_a.n_spans + only_b.n_spans == 57 and only_b.n_spans > 0
    assert (only_b.parent == MISSING_PARENT).any()  # their parents live in the other file
    assert not (both.parent == MISSING_PARENT).any()


def test_api_v2_batches_with_logs_and_every_tag_type() -> None:
    table = load_traces(FORMATS / "jaeger-api-v2-batches.json")
    assert table.diagnostics == []
    # api_v2 trace ids are always 16 bytes; the UI model prints the 64-bit id with 16 digits
    ignore = ("source", "trace_id_hex", "trace_id_len", "link_trace_id", "trace_id_bytes")
    assert_tables_equal(table, load_traces(UI01), ignore=ignore)


def _model_span(**extra: object) -> dict[str, object]:
    return {
        "traceId": "AAAAAAAAAAAAAAAAAAAAAQ==",
        "spanId": "AAAAAAAAAAI=",
        "operationName": "op",
        "startTime": "2017-01-26T21:46:31.639875Z",
        **extra,
    }


def test_integer_vtype_bool_marks_the_error() -> None:
    tags = [{"key": "error", "vType": 1, "vBool": True}, {"key": "n", "vType": 2, "vInt64": "7"}]
    table = load_bytes(dumps({"spans": [_model_span(tags=tags)]}), "m.json").build()
    assert table.diagnostics == []
    assert int(table.status[0]) == 2
    assert table.attributes_of(0) == {"error": True, "n": 7}


def test_model_integer_duration_is_nanoseconds() -> None:
    table = load_bytes(dumps({"spans": [_model_span(duration=19_000_000)]}), "m.json").build()
    assert int(table.end[0] - table.start[0]) == 19_000_000
    text = load_bytes(dumps({"spans": [_model_span(duration="0.019s")]}), "m.json").build()
    assert int(text.end[0] - text.start[0]) == 19_000_000


def test_ui_integer_duration_stays_microseconds() -> None:
    table = load_traces(UI01)
    first = json.loads(UI01.read_text())["spans"][0]
    row = [table.span_id_hex(i) for i in range(table.n_spans)].index(first["spanID"])
    assert int(table.end[row] - table.start[row]) == first["duration"] * 1000


@pytest.mark.parametrize(
    ("tag", "message"),
    [
        ({"key": "k", "vType": 9, "vStr": "x"}, "unknown value type 9"),
        ({"key": "k", "v_type": "DECIMAL", "v_str": "x"}, "unknown value type 'DECIMAL'"),
        ({"key": "k", "vType": 1, "vBool": "maybe"}, "expected a boolean"),
    ],
)
def test_bad_model_tags_are_diagnosed(tag: dict[str, object], message: str) -> None:
    b = load_bytes(dumps({"spans": [_model_span(tags=[tag])]}), "m.json")
    (diag,) = b.diagnostics
    assert message in diag.message and diag.path == "spans[0].tags[0].value"
    assert len(b) == 1


def test_tag_without_type_is_read_by_its_value_field() -> None:
    tags = [{"key": "error", "vBool": True}]
    table = load_bytes(dumps({"spans": [_model_span(tags=tags)]}), "m.json").build()
    assert int(table.status[0]) == 2


def test_snake_case_reference_types_by_number() -> None:
    parent = {"trace_id": "AAAAAAAAAAAAAAAAAAAAAQ==", "span_id": "AAAAAAAAAAE="}
    spans = [
        {**parent, "operation_name": "root", "start_time": "2020-01-01T00:00:00Z"},
        {
            "trace_id": parent["trace_id"],
            "span_id": "AAAAAAAAAAI=",
            "operation_name": "child",
            "start_time": "2020-01-01T00:00:01Z",
            "references": [{**parent, "ref_type": 1}, {**parent, "ref_type": 0}],
        },
    ]
    table = load_bytes(dumps({"batch": {"spans": spans}}), "b.json").build()
    assert table.diagnostics == []
    child = [table.strings[int(c)] for c in table.name].index("child")
    assert int(table.parent[child]) >= 0
    assert int(table.link_offsets[child + 1] - table.link_offsets[child]) == 1


# ---------------------------------------------------------------------- compression, framing


def _zst(data: bytes) -> bytes:
    return zstandard.ZstdCompressor().compress(data)


@pytest.mark.parametrize("pack", [gzip.compress, _zst], ids=["gzip", "zstd"])
def test_compression_is_detected_by_magic_bytes(pack, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "no-extension.json"  # the name says nothing about the compression
    path.write_bytes(pack(GETTRACE.read_bytes()))
    assert_tables_equal(load_traces(path), load_traces(GETTRACE))


def test_compressed_files_inside_directories_are_read(tmp_path: Path) -> None:
    (tmp_path / "a.json.gz").write_bytes(gzip.compress(GETTRACE.read_bytes()))
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.json.zst").write_bytes(_zst(GENAI.read_bytes()))
    (tmp_path / "notes.txt.gz").write_bytes(gzip.compress(b"not traces"))
    table = load_traces(tmp_path)
    assert table.n_spans == 40 + 57 and table.diagnostics == []


def test_concatenated_zstd_frames_and_gzip_members() -> None:
    one, two = dumps(doc(span("1000000000000001"))), dumps(doc(span("1000000000000002")))
    assert len(load_bytes(_zst(one + b"\n") + _zst(two + b"\n"), "x")) == 2
    assert len(load_bytes(gzip.compress(one + b"\n") + gzip.compress(two + b"\n"), "x")) == 2


def _framed(records: list[bytes]) -> bytes:
    return b"".join(len(r).to_bytes(4, "big") + r for r in records)


def test_collector_file_exporter_zstd_records() -> None:
    """``compression: zstd``: each export is compressed and written with a length prefix."""
    records = [dumps(doc(span(f"{i:016x}"))) for i in range(1, 4)]
    framed = _framed([_zst(r) for r in records])
    b = load_bytes(framed, "export.json.zst")
    assert len(b) == 3 and b.diagnostics == []


def test_collector_file_exporter_proto_records() -> None:
    """``format: proto``: length-prefixed binary ExportTraceServiceRequests."""
    records = [json_to_proto(doc(span(f"{i:016x}", trace=TRACE))) for i in range(1, 3)]
    assert len(load_bytes(_framed(records), "export.pb")) == 2
    assert len(load_bytes(_framed([_zst(r) for r in records]), "export.pb.zst")) == 2


def test_corrupt_zstd_is_a_diagnostic(tmp_path: Path) -> None:
    path = tmp_path / "bad.json.zst"
    path.write_bytes(b"\x28\xb5\x2f\xfd" + b"\xff" * 40)
    with pytest.raises(TraceInputError) as info:
        load_traces(path)
    assert "invalid zstd data" in str(info.value)


def test_decompression_bomb_is_refused(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.json.zst"
    bomb.write_bytes(_zst(b" " * 5_000_000))
    gz = tmp_path / "bomb.json.gz"
    gz.write_bytes(gzip.compress(b" " * 5_000_000))
    for path in (bomb, gz):
        with pytest.raises(TraceInputError) as info:
            load_traces(path, max_bytes=1_000_000)
        assert "once decompressed, over max_bytes=1000000" in str(info.value)


def test_size_limit_default_and_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(MAX_BYTES_ENV, raising=False)
    assert size_limit() == DEFAULT_MAX_BYTES
    monkeypatch.setenv(MAX_BYTES_ENV, "1000")
    assert size_limit() == 1000 and size_limit(50) == 50 and size_limit(0) == 0
    small = REAL / "opentelemetry-proto/trace.json"
    with pytest.raises(TraceInputError) as info:
        load_traces(GETTRACE)
    assert "max_bytes=1000" in str(info.value) and MAX_BYTES_ENV in str(info.value)
    assert load_traces(small, max_bytes=0).n_spans == 1


def test_copied_real_file_still_reads(tmp_path: Path) -> None:
    shutil.copy(GENAI, tmp_path / "x.ndjson")  # a suffix that promises lines: content decides
    assert load_traces(tmp_path).n_spans == 57


# ---------------------------------------------------------------------- docs/formats.md


def _doc_examples() -> list[str]:
    text = (ROOT / "docs" / "formats.md").read_text()
    return [block.split("```", 1)[0] for block in text.split("```json\n")[1:]]


@pytest.mark.parametrize("example", _doc_examples())
def test_every_example_in_the_formats_doc_loads_cleanly(example: str) -> None:
    table = load_bytes(example.encode(), "example.json").build()
    assert table.n_spans >= 1 and table.diagnostics == []
