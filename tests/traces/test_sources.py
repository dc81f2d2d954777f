"""Sources: files, directories, globs and stdin; many sources make one joined table."""

from __future__ import annotations

import gzip
import io
import sys
from pathlib import Path

import pytest

from tests.traces.util import REAL, TRACE, doc, dumps, json_to_proto, span
from workbench.errors import TraceInputError
from workbench.traces import detect_format, load_bytes, load_traces
from workbench.traces.builder import TableBuilder


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """root.json + nested/child.pb + nested/deeper/grandchild.jsonl, one trace across all."""
    (tmp_path / "nested" / "deeper").mkdir(parents=True)
    (tmp_path / "root.json").write_bytes(dumps(doc(span("1000000000000001", start=1))))
    child = doc(span("1000000000000002", "1000000000000001", start=2), service="b")
    (tmp_path / "nested" / "child.pb").write_bytes(json_to_proto(child))
    grandchild = doc(span("1000000000000003", "1000000000000002", start=3), service="c")
    (tmp_path / "nested" / "deeper" / "grandchild.jsonl").write_bytes(dumps(grandchild) + b"\n")
    (tmp_path / "nested" / "notes.txt").write_text("not a trace source")
    return tmp_path


def check_joined(table) -> None:
    assert table.n_traces == 1 and table.n_spans == 3
    assert table.parent.tolist() == [-1, 0, 1] and table.depth.tolist() == [0, 1, 2]
    assert [table.service_of(r) for r in range(3)] == ["svc", "b", "c"]


def test_directory_is_recursive_and_filters_extensions(tree: Path) -> None:
    table = load_traces(tree)
    check_joined(table)
    assert not table.diagnostics
    sources = {table.strings[int(c)] for c in table.source}
    assert sources == {
        str(tree / "root.json"),
        str(tree / "nested" / "child.pb"),
        str(tree / "nested" / "deeper" / "grandchild.jsonl"),
    }


def test_split_trace_across_files_joins(tree: Path) -> None:
    check_joined(
        load_traces(
            [
                tree / "root.json",
                tree / "nested" / "child.pb",
                tree / "nested" / "deeper" / "grandchild.jsonl",
            ]
        )
    )


def test_glob_patterns(tree: Path) -> None:
    check_joined(load_traces([str(tree / "**" / "*.json*"), str(tree / "nested" / "*.pb")]))
    table = load_traces(str(tree / "*.json"))
    assert table.n_spans == 1 and int(table.parent[0]) == -1


def test_glob_without_match_and_missing_file(tree: Path) -> None:
    table = load_traces([str(tree / "*.nothing"), tree / "gone.json", tree / "root.json"])
    assert table.n_spans == 1
    assert [d.message for d in table.diagnostics] == [
        "no file matches this pattern",
        "no such file or directory",
    ]


def test_empty_directory(tmp_path: Path) -> None:
    with pytest.raises(TraceInputError) as err:
        load_traces(tmp_path)
    assert err.value.diagnostics[0].message == "directory holds no trace files"


def test_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    data = dumps(doc(span("1000000000000001")))
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    table = load_traces("-")
    assert table.n_spans == 1 and table.strings[int(table.source[0])] == "<stdin>"


def test_stdin_over_max_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    data = dumps(doc(span("1000000000000001")))
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    with pytest.raises(TraceInputError) as err:
        load_traces(["-"], max_bytes=10)
    assert err.value.diagnostics[0].file == "<stdin>"


def test_gzip_is_unpacked(tmp_path: Path) -> None:
    path = tmp_path / "trace.json"
    path.write_bytes(gzip.compress(dumps(doc(span("1000000000000001")))))
    assert load_traces(path).n_spans == 1


def test_load_bytes_appends_into_one_builder() -> None:
    builder = TableBuilder()
    load_bytes(dumps(doc(span("1000000000000001"))), "a.json", builder=builder)
    load_bytes(
        (REAL / "opentelemetry-collector" / "zipkin_v2_single.json").read_bytes(),
        "z.json",
        builder=builder,
    )
    table = builder.build()
    assert table.n_traces == 2 and table.n_spans == 2


def test_unknown_format_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="unknown trace format"):
        load_traces("x", format="csv")


def test_explicit_format_mismatch() -> None:
    builder = load_bytes(dumps(doc(span("1000000000000001"))), "x.json", format="zipkin")
    assert builder.diagnostics[0].message == "not zipkin input (looks like otlp-json)"


def test_detect_format() -> None:
    assert detect_format(b'  {"resourceSpans": []}') == "otlp-json"
    assert detect_format(b'[{"traceId": "a"}]') == "json"
    assert detect_format(json_to_proto(doc(span("1000000000000001")))) == "otlp-proto"
    assert detect_format(b" \n ") == "empty"


def test_trace_id_case_and_files_join(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_bytes(dumps(doc(span("1000000000000001", trace=TRACE.upper()))))
    (tmp_path / "b.json").write_bytes(dumps(doc(span("1000000000000002", "1000000000000001"))))
    table = load_traces(tmp_path)
    assert table.n_traces == 1 and int(table.parent[1]) == 0
