"""Large OTLP/JSON-lines files are read in line-aligned chunks, with the same table."""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path

import pytest

from tests.traces.util import assert_tables_equal, doc, span
from workbench.traces import detect, load_traces, otlp_json_load, salvage


def _write(path: Path, lines: int, pad: int = 0) -> Path:
    out = []
    for i in range(lines):
        attrs = [{"key": "pad", "value": {"stringValue": "x" * pad}}] if pad else []
        out.append(json.dumps(doc(span(f"{i + 1:016x}", f"{i:016x}" if i % 5 else "",
                                       start=i, name=f"op{i % 7}", attributes=attrs))))
    out[len(out) // 2] = out[len(out) // 2][:-7]  # a broken line in the middle
    data = ("\n".join(out) + "\n").encode()
    data = data.replace(b'"op3"', b'"op\xff3"', 1)  # invalid UTF-8 in a later line
    path.write_bytes(data)
    return path


def _load(path: Path, monkeypatch: pytest.MonkeyPatch, stream: bool, chunk: int = 4096):
    monkeypatch.setattr(detect, "STREAM_MIN_BYTES", 0 if stream else 1 << 62)
    monkeypatch.setattr(otlp_json_load, "FAST_JSON_MIN_BYTES", 0)
    monkeypatch.setattr(otlp_json_load, "COLD_JSON_MIN_BYTES", 0)
    monkeypatch.setattr(detect, "STREAM_CHUNK", chunk)
    return load_traces(path)


@pytest.mark.parametrize("chunk", [1, 700, 4096, 1 << 20])
def test_streamed_lines_give_the_same_table_and_line_numbers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    path = _write(tmp_path / "big.jsonl", 300)
    streamed = _load(path, monkeypatch, True, chunk)
    whole = _load(path, monkeypatch, False)
    assert streamed.n_spans == 299
    assert_tables_equal(streamed, whole)
    assert streamed.diagnostics == whole.diagnostics
    assert {d.line for d in whole.diagnostics} >= {151}


def test_only_large_plain_json_lines_are_streamed(tmp_path: Path) -> None:
    path = _write(tmp_path / "a.jsonl", 20)
    assert not detect._streamable(str(path), path.stat().st_size)  # under the threshold
    big = path.stat().st_size
    assert detect._streamable(str(path), max(big, detect.STREAM_MIN_BYTES))
    pretty = tmp_path / "b.json"
    pretty.write_text(json.dumps(doc(span("00000000000000aa")), indent=2))
    assert not detect._streamable(str(pretty), detect.STREAM_MIN_BYTES)


def test_streaming_keeps_the_input_out_of_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _write(tmp_path / "pad.jsonl", 400, pad=6000)  # ~2.5 MB, mostly one padding string
    size = path.stat().st_size
    peaks = {}
    for stream in (True, False):
        tracemalloc.start()
        table = _load(path, monkeypatch, stream, 1 << 16)
        peaks[stream] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert table.n_spans == 399
    assert peaks[True] < peaks[False] - size // 2, peaks


def test_streamed_lines_report_every_invalid_utf8_sequence(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each chunk's sequences are reported, up to one cap per file, then counted once."""
    lines = [json.dumps(doc(span(f"{i + 1:016x}", name="X"))) for i in range(40)]
    path = tmp_path / "bad.jsonl"
    path.write_bytes(("\n".join(lines) + "\n").encode().replace(b'"X"', b'"\xff\xff"'))
    monkeypatch.setattr(salvage, "MAX_REPORTED", 70)
    table = _load(path, monkeypatch, True, 700)  # a few lines per chunk
    located = [d for d in table.diagnostics if d.line is not None]
    assert table.n_spans == 40 and len(located) == 70
    assert sorted({d.line for d in located}) == list(range(1, 36))
    assert [d.message for d in table.diagnostics if d.line is None] == [
        "10 more invalid UTF-8 sequences replaced by U+FFFD (only the first 70 of the file "
        "are reported one by one)"
    ]
