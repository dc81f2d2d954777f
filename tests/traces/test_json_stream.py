"""Large OTLP/JSON documents are read group by group: same table and diagnostics as the
whole-file reader, bounded memory, and the file's own paths and line:column positions."""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.traces.test_fuzz_readers import _mutate_bytes
from tests.traces.util import assert_tables_equal, doc, span
from workbench.errors import TraceInputError
from workbench.traces import detect, json_stream, load_traces


def _resource_spans(n: int, pad: int = 0) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for i in range(n):
        attrs = [{"key": "pad", "value": {"stringValue": "x" * pad}}] if pad else []
        spans = [span(f"{i * 10 + k + 1:016x}", f"{i * 10 + 1:016x}" if k else "",
                      name=f"op{k}", start=k, attributes=attrs) for k in range(4)]
        out += doc(*spans)["resourceSpans"]
    out[7]["scopeSpans"][0]["spans"][2].pop("traceId")  # a record with a repairable fault
    return out


def _texts() -> dict[str, bytes]:
    rs = _resource_spans(40)
    pretty = json.dumps({"resourceSpans": rs}, indent=1).encode()
    pretty = pretty.replace(b'"op3"', b'"op\xff3"', 3)  # invalid UTF-8 in three records
    return {
        "pretty": pretty,
        "minified": json.dumps({"resourceSpans": rs}).encode(),
        "tempo-v1": json.dumps({"batches": rs}, indent=2).encode(),
        "tempo-v2": json.dumps({"trace": {"resourceSpans": rs}}, indent=2).encode(),
        "bom": b"\xef\xbb\xbf" + json.dumps({"resourceSpans": rs}).encode(),
        "empty": b'{"resourceSpans": [ ]}',
    }


def _both(path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int = 700,
          group: int = 2500) -> tuple[Any, Any]:
    monkeypatch.setattr(json_stream, "GROUP_BYTES", group)
    monkeypatch.setattr(detect, "STREAM_CHUNK", chunk)
    monkeypatch.setattr(detect, "STREAM_MIN_BYTES", 1 << 62)
    whole = load_traces(path)
    monkeypatch.setattr(detect, "STREAM_MIN_BYTES", 0)
    assert detect._stream_kind(str(path), 1 << 40) is detect.StreamedDocument
    return whole, load_traces(path)


@pytest.mark.parametrize("name", list(_texts()))
@pytest.mark.parametrize(("chunk", "group"), [(1 << 12, 2500), (97, 1), (1 << 20, 1 << 20)])
def test_streamed_document_equals_the_whole_file_reader(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, chunk: int, group: int
) -> None:
    path = tmp_path / f"{name}.json"
    path.write_bytes(_texts()[name])
    whole, streamed = _both(path, monkeypatch, chunk, group)
    assert streamed.n_spans == whole.n_spans == (0 if name == "empty" else 159)
    assert_tables_equal(streamed, whole)
    assert streamed.diagnostics == whole.diagnostics
    if name == "pretty":
        data = _texts()[name]
        bad = [i for i in range(len(data)) if data[i] == 0xFF]
        assert [d.line for d in streamed.diagnostics if d.line] == [
            data.count(b"\n", 0, i) + 1 for i in bad
        ]
        assert any(d.path.startswith("resourceSpans[7].") for d in whole.diagnostics)


@pytest.mark.parametrize("cut", [0.37, 0.5, 0.81])
def test_a_cut_document_keeps_the_spans_and_locates_the_cut(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cut: float
) -> None:
    data = _texts()["pretty"]
    path = tmp_path / "cut.json"
    path.write_bytes(data[: int(len(data) * cut)])
    whole, streamed = _both(path, monkeypatch)
    assert streamed.n_spans == whole.n_spans > 0
    assert_tables_equal(streamed, whole)

    def where(table: Any) -> set[tuple[int | None, int | None]]:
        return {(d.line, d.column) for d in table.diagnostics if "end of input" in d.message}

    assert where(streamed) == where(whole) and len(where(whole)) == 1


def test_damage_in_one_element_keeps_every_later_element(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = _texts()["pretty"].replace(b'"op2"', b'"op2" tru', 1)  # garbage in the first record
    path = tmp_path / "bad.json"
    path.write_bytes(data)
    whole, streamed = _both(path, monkeypatch)
    damage = [d for d in streamed.diagnostics if "invalid JSON" in d.message]
    assert [(d.line, d.column) for d in damage] == [
        (d.line, d.column) for d in whole.diagnostics if "invalid JSON" in d.message
    ]
    assert whole.n_spans == 2  # the whole-file reader stops at the damage
    assert streamed.n_spans > 140  # the streamed one loses only the damaged group's rest


def test_only_large_plain_documents_are_streamed(tmp_path: Path) -> None:
    path = tmp_path / "d.json"
    path.write_bytes(_texts()["pretty"])
    assert detect._stream_kind(str(path), path.stat().st_size) is None  # under the threshold
    assert detect._stream_kind(str(path), detect.STREAM_MIN_BYTES) is detect.StreamedDocument
    other = tmp_path / "zipkin.json"
    other.write_text(json.dumps([{"traceId": "a" * 16, "id": "b" * 16, "name": "x"}]))
    assert detect._stream_kind(str(other), detect.STREAM_MIN_BYTES) is None


def test_a_streamed_document_stays_out_of_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "pad.json"
    path.write_text(json.dumps({"resourceSpans": _resource_spans(150, pad=4000)}, indent=1))
    size = path.stat().st_size  # ~2.4 MB, mostly padding strings
    monkeypatch.setattr(json_stream, "GROUP_BYTES", 1 << 16)
    monkeypatch.setattr(detect, "STREAM_CHUNK", 1 << 16)
    peaks = {}
    tables = {}
    for stream in (True, False):
        monkeypatch.setattr(detect, "STREAM_MIN_BYTES", 0 if stream else 1 << 62)
        tracemalloc.start()
        tables[stream] = load_traces(path)
        peaks[stream] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert_tables_equal(tables[True], tables[False])
    assert peaks[True] < peaks[False] - size // 2, (peaks, size)


_TEXT = _texts()["pretty"]


_FUZZ_CHECKS = [HealthCheck.too_slow, HealthCheck.function_scoped_fixture]


@settings(max_examples=60, derandomize=True, deadline=None, suppress_health_check=_FUZZ_CHECKS)
@given(data=st.data())
def test_fuzz_streamed_documents(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                 data: st.DataObject) -> None:
    fuzz_streamed_document(tmp_path, monkeypatch, data)


@pytest.mark.slow
@settings(max_examples=1500, deadline=None, suppress_health_check=_FUZZ_CHECKS)
@given(data=st.data())
def test_fuzz_streamed_documents_long(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                      data: st.DataObject) -> None:
    fuzz_streamed_document(tmp_path, monkeypatch, data)


def fuzz_streamed_document(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                           data: st.DataObject) -> None:
    """Damaged documents: the splitter never raises, keeps at least the whole-file reader's
    spans, and every diagnostic says where."""
    raw = _TEXT
    for _ in range(data.draw(st.integers(1, 3), label="mutations")):
        raw = _mutate_bytes(data, raw)
    path = tmp_path / "f.json"
    path.write_bytes(raw)
    if detect._stream_kind(str(path), 1 << 40) is not detect.StreamedDocument:
        return  # the head itself was damaged: such a file is read whole
    monkeypatch.setattr(json_stream, "GROUP_BYTES", data.draw(st.sampled_from([1, 2500])))
    monkeypatch.setattr(detect, "STREAM_CHUNK", data.draw(st.sampled_from([64, 700, 1 << 16])))
    counts, diagnostics = [], []
    for threshold in (1 << 62, 0):  # whole, then streamed
        monkeypatch.setattr(detect, "STREAM_MIN_BYTES", threshold)
        try:
            table = load_traces(path)
        except TraceInputError as exc:  # nothing readable
            counts.append(0)
            diagnostics = exc.diagnostics
        else:
            counts.append(table.n_spans)
            diagnostics = table.diagnostics
    assert counts[1] >= counts[0]
    assert all(d.path or d.line is not None or "more invalid UTF-8" in d.message
               for d in diagnostics), diagnostics
