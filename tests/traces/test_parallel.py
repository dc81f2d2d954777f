"""Parallel loading (:mod:`workbench.traces.parallel`) gives the sequential load's table, bit for
bit: span order, string dictionary, every column, the diagnostics and their order."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import fields
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.traces.util import doc, dumps, json_to_proto, span
from workbench.errors import TraceInputError
from workbench.traces import detect, json_stream, load_traces, otlp_json_load, otlp_proto
from workbench.traces import jobs as jobs_mod
from workbench.traces import parallel as par
from workbench.traces.builder import TableBuilder
from workbench.traces.model import AttrColumns, SpanTable

T1 = "5b8efff798038103d269b633813fc60c"
T2 = "a" * 32


def assert_identical(a: SpanTable, b: SpanTable) -> None:
    """Every field of the two tables equal, string codes and dtypes included."""
    assert a.strings.strings == b.strings.strings, "string dictionary"
    for f in fields(SpanTable):
        va, vb = getattr(a, f.name), getattr(b, f.name)
        if f.name == "strings":
            continue
        if isinstance(va, AttrColumns):
            for g in fields(AttrColumns):
                x, y = getattr(va, g.name), getattr(vb, g.name)
                assert x.dtype == y.dtype, f"{f.name}.{g.name} dtype"
                assert np.array_equal(x, y, equal_nan=x.dtype.kind == "f"), f"{f.name}.{g.name}"
        elif isinstance(va, np.ndarray):
            assert va.dtype == vb.dtype, f"{f.name} dtype"
            assert np.array_equal(va, vb, equal_nan=va.dtype.kind == "f"), f.name
        else:
            assert va == vb, f.name


def both(sources: list[Any], jobs: int = 3, **kw: Any) -> SpanTable:
    """Load sequentially and in parallel, assert the tables identical, return it."""
    one = load_traces(sources, jobs=1, **kw)
    many = load_traces(sources, jobs=jobs, **kw)
    assert_identical(one, many)
    return many


@contextmanager
def streamed(chunk: int, group: int | None = None) -> Iterator[None]:
    """Every plain OTLP/JSON file read in chunks of ``chunk`` bytes (groups of ``group``)."""
    with mock.patch.object(detect, "STREAM_MIN_BYTES", 1), \
            mock.patch.object(detect, "STREAM_CHUNK", chunk), \
            mock.patch.object(json_stream, "GROUP_BYTES", group or chunk):
        yield


@pytest.fixture(params=["reference", "compiled"])
def readers(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Both reader families: the reference readers, and the compiled walkers for any size."""
    if request.param == "reference":
        monkeypatch.setenv(otlp_json_load.FAST_READERS_ENV, "0")
    else:
        from workbench.traces.blocks import preload_fast_readers

        preload_fast_readers()
        monkeypatch.setattr(otlp_json_load, "FAST_JSON_MIN_BYTES", 0)
        monkeypatch.setattr(otlp_proto, "FAST_MIN_BYTES", 0)
    return str(request.param)


def _rich_span(i: int, trace: str, parent: str = "") -> dict[str, Any]:
    return span(
        f"{i + 1:016x}", parent, trace=trace, name=f"op-{i % 5}", start=1000 + i, end=2000 + i,
        attributes=[{"key": "http.route", "value": {"stringValue": f"/r/{i % 7}"}},
                    {"key": "n", "value": {"intValue": str(i)}},
                    {"key": "x", "value": {"doubleValue": i / 3}},
                    {"key": "tags", "value": {"arrayValue": {"values": [{"boolValue": True}]}}}],
        events=[{"name": f"ev-{i % 3}", "timeUnixNano": str(1500 + i)}],
        links=[{"traceId": T2, "spanId": f"{i + 100:016x}", "traceState": f"k={i % 2}"}],
        status={"code": 2 if i % 4 == 0 else 0, "message": "boom" if i % 4 == 0 else ""},
    )


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The project's generator: 60 traces in 6 files, OTLP JSON and protobuf."""
    from workbench.datasets.generator import generate
    from workbench.datasets.writer import write_dataset

    ds = generate(traces=60, seed=3)
    out = {}
    for fmt in ("otlp-json", "otlp-proto"):
        root = tmp_path_factory.mktemp(fmt)
        write_dataset(ds, root, format=fmt, traces_per_file=10)
        out[fmt] = root / "traces"
    return out


# ---------------------------------------------------------------------- several files


@pytest.mark.parametrize("fmt", ["otlp-json", "otlp-proto"])
def test_generated_files_identical(generated: dict[str, Path], readers: str, fmt: str) -> None:
    table = both([generated[fmt]])
    assert table.n_spans > 600
    assert len(set(table.source.tolist())) == 6


def test_trace_split_across_files_is_joined(tmp_path: Path, readers: str) -> None:
    first = tmp_path / "a.json"
    second = tmp_path / "b.json"
    first.write_bytes(dumps(doc(_rich_span(0, T1), _rich_span(1, T1, "0000000000000001"))))
    second.write_bytes(dumps(doc(_rich_span(2, T1, "0000000000000002"), _rich_span(3, T2),
                                 service="other")))
    table = both([first, second])
    assert table.n_traces == 2 and table.n_spans == 4
    t = table.trace_id_hex.index(T1)
    rows = range(int(table.trace_offsets[t]), int(table.trace_offsets[t + 1]))
    assert len(rows) == 3
    assert sorted(int(table.depth[r]) for r in rows) == [0, 1, 2]  # the parent in a.json found
    assert {table.strings[int(table.source[r])] for r in rows} == {str(first), str(second)}


def test_mixed_sources_and_their_diagnostics_in_order(tmp_path: Path, readers: str) -> None:
    (tmp_path / "empty").mkdir()
    good = tmp_path / "good.json"
    good.write_bytes(dumps(doc(*[_rich_span(i, T1) for i in range(5)])))
    proto = tmp_path / "p.pb"
    proto.write_bytes(json_to_proto(dumps(doc(_rich_span(7, T2)))))
    packed = tmp_path / "z.json.gz"
    packed.write_bytes(gzip.compress(dumps(doc(_rich_span(8, T2, "0000000000000008")))))
    broken = tmp_path / "broken.json"
    broken.write_bytes(dumps(doc(_rich_span(9, T1)))[:-40])
    (tmp_path / "metrics.json").write_text(json.dumps({"resourceMetrics": []}))
    (tmp_path / "nothing.json").write_bytes(b"")
    sources = [tmp_path / "empty", good, tmp_path / "missing.json", proto, packed, broken,
               str(tmp_path / "*.json"), tmp_path / "nope-*.pb"]
    table = both(sources)
    messages = [d.message for d in table.diagnostics]
    assert messages[0] == "directory holds no trace files"
    assert "no such file or directory" in messages
    assert "no file matches this pattern" in messages
    assert any("invalid JSON" in m for m in messages)
    assert any(d.file == str(tmp_path / "nothing.json") for d in table.diagnostics)


def test_nothing_readable_raises_the_same(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text("{}")
    (tmp_path / "b.json").write_text("[1, 2]")
    errors = []
    for jobs in (1, 2):
        with pytest.raises(TraceInputError) as info:
            load_traces([tmp_path / "a.json", tmp_path / "b.json", tmp_path / "c"], jobs=jobs)
        errors.append(info.value.diagnostics)
    assert errors[0] == errors[1]


# ---------------------------------------------------------------------- one file in chunks


def _lines(n: int, bad: dict[int, bytes]) -> bytes:
    """``n`` JSON lines of one-span requests (one trace across all of them), with line ``k``
    (0-based) replaced by ``bad[k]``."""
    out = []
    for i in range(n):
        parent = f"{i:016x}" if i else ""
        line = bad.get(i, dumps(doc(_rich_span(i, T1 if i % 3 else T2, parent))))
        out.append(line)
    return b"\n".join(out) + b"\n"


def test_bad_record_in_one_chunk(tmp_path: Path, readers: str) -> None:
    path = tmp_path / "spans.jsonl"
    path.write_bytes(_lines(40, {17: b'{"resourceSpans": [{"scopeSpans": [{"spans": [{"tra'}))
    with streamed(2048):
        table = both([path])
    assert table.n_spans == 39  # every other record kept
    located = [d for d in table.diagnostics if d.severity == "error"]
    assert [d.line for d in located] == [18]
    assert located[0].file == str(path)


def test_large_document_in_groups(tmp_path: Path, readers: str) -> None:
    path = tmp_path / "big.json"
    resource_spans = [doc(_rich_span(i, T1, f"{i:016x}" if i else ""), service=f"s{i % 3}")
                      ["resourceSpans"][0] for i in range(30)]
    text = json.dumps({"resourceSpans": resource_spans}, indent=1).encode()
    cut = text.index(b'"op-2"', len(text) // 2)  # damage inside one element in the middle
    path.write_bytes(text[:cut] + b"\xff\xfe" + text[cut + 3 :])
    with streamed(4096, 1500):
        table = both([path])
    assert 0 < table.n_spans < 30
    assert any("invalid UTF-8" in d.message and d.line for d in table.diagnostics)
    damage = [d for d in table.diagnostics if d.severity == "error"]
    assert damage and all(d.line and d.line > 1 for d in damage)  # the file's own lines


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    chunk=st.integers(min_value=64, max_value=6000),
    jobs=st.integers(min_value=2, max_value=4),
    n=st.integers(min_value=1, max_value=30),
    bad=st.dictionaries(
        st.integers(min_value=0, max_value=29),
        st.sampled_from([b"{", b'{"resourceSpans": 3}', b"\xff{}", b"[]", b'{"a": 1}', b" "]),
        max_size=4,
    ),
)
def test_chunk_boundaries_do_not_matter(tmp_path: Path, chunk: int, jobs: int, n: int,
                                        bad: dict[int, bytes]) -> None:
    path = tmp_path / "h.jsonl"
    path.write_bytes(_lines(n, bad))
    document = tmp_path / "h.json"
    spans = [_rich_span(i, T1, f"{i:016x}" if i else "") for i in range(n)]
    document.write_bytes(json.dumps({"resourceSpans": [doc(s)["resourceSpans"][0]
                                                       for s in spans]}).encode())
    with streamed(chunk):
        try:
            both([path], jobs)
        except TraceInputError:  # nothing readable: the sequential load raises too
            with pytest.raises(TraceInputError):
                load_traces([path], jobs=jobs)
        both([document, path], jobs)


# ---------------------------------------------------------------------- the pieces


def test_merge_covers_every_builder_field() -> None:
    assert set(vars(TableBuilder())) == par.MERGED_FIELDS


def test_resolve_jobs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(jobs_mod.JOBS_ENV, raising=False)
    assert jobs_mod.resolve_jobs(None) == jobs_mod.available_cores() >= 1
    assert jobs_mod.resolve_jobs(3) == 3
    assert jobs_mod.resolve_jobs(0) == jobs_mod.available_cores()
    monkeypatch.setenv(jobs_mod.JOBS_ENV, "5")
    assert jobs_mod.resolve_jobs(None) == 5
    assert jobs_mod.resolve_jobs(2) == 2
    monkeypatch.setenv(jobs_mod.JOBS_ENV, "many")
    with pytest.raises(ValueError, match="OTLSPEC_JOBS"):
        jobs_mod.resolve_jobs(None)
    with pytest.raises(ValueError, match="positive"):
        jobs_mod.resolve_jobs(-1)


def test_one_piece_is_read_in_the_calling_thread(tmp_path: Path) -> None:
    path = tmp_path / "one.json"
    path.write_bytes(dumps(doc(_rich_span(0, T1))))
    with mock.patch.object(par, "ThreadPoolExecutor") as pool:
        table = both([path])
    pool.assert_not_called()
    assert table.n_spans == 1


def test_over_long_ids_located_in_a_later_piece(tmp_path: Path, readers: str) -> None:
    first = tmp_path / "a.json"
    first.write_bytes(dumps(doc(*[_rich_span(i, T1) for i in range(3)])))
    second = tmp_path / "b.jsonl"
    long_id = "ab" * 40
    second.write_bytes(dumps(doc(_rich_span(5, T2))) + b"\n"
                       + dumps(doc(span(long_id, trace=T2))) + b"\n")
    table = both([first, second])
    warned = [d for d in table.diagnostics if "not a valid id" in d.message]
    assert len(warned) == 1
    assert warned[0].file == str(second) and warned[0].line == 2 and warned[0].path


def test_cli_jobs_option(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                         capsys: pytest.CaptureFixture[str]) -> None:
    from workbench.cli import main

    files = []
    for k in range(3):
        path = tmp_path / f"t{k}.json"
        path.write_bytes(dumps(doc(_rich_span(k, T1, f"{k:016x}" if k else ""))))
        files.append(str(path))
    outputs = []
    for jobs in ("1", "2"):
        code = main(["check", "stdlib", *files, "--jobs", jobs, "--backend", "reference",
                     "--format", "json", "--no-progress"])
        out = json.loads(capsys.readouterr().out)
        verdicts = [(p["name"], p["passed"], p["failed"], p.get("traces")) for p in
                    out["properties"]]
        outputs.append((code, out["summary"], verdicts))
    assert outputs[0] == outputs[1]
    pytest.importorskip("pyarrow")
    from workbench.datasets import load_parquet

    for jobs in ("1", "2"):
        assert main(["convert", *files, "--out", str(tmp_path / f"pq{jobs}"), "--jobs", jobs]) == 0
    assert load_parquet(tmp_path / "pq1").n_spans == load_parquet(tmp_path / "pq2").n_spans == 3
    with pytest.raises(SystemExit):
        main(["check", "stdlib", *files, "--jobs", "lots"])
    monkeypatch.setenv(jobs_mod.JOBS_ENV, "lots")
    assert main(["check", "stdlib", *files, "--backend", "reference", "--no-progress"]) == 2
    assert "OTLSPEC_JOBS" in capsys.readouterr().err


def test_json_lines_longer_than_the_sniffed_head(tmp_path: Path) -> None:
    """A large file of JSON lines whose first line exceeds the 1 MiB head is still read as
    JSON lines, every line of it (it was once taken for one document: all but line 1 lost)."""
    path = tmp_path / "long.jsonl"
    line = dumps(doc(*[_rich_span(i, T1) for i in range(1800)]))
    assert len(line) > 1 << 20
    path.write_bytes(line + b"\n" + dumps(doc(_rich_span(5000, T2))) + b"\n" + line + b"\n")
    with streamed(1 << 20):
        table = both([path], 2)
    assert table.n_spans == 2 * 1800 + 1
    assert not table.diagnostics


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.lists(st.sampled_from([b"\n", b"{}", b"x" * 50, b"\xef\xbb\xbf", b" "]),
                     max_size=40).map(b"".join),
       size=st.integers(min_value=4, max_value=120))
def test_line_chunks_cut_at_line_ends(tmp_path: Path, data: bytes, size: int) -> None:
    path = tmp_path / "c.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + data)
    chunks = list(otlp_json_load.line_chunks(str(path), size))
    assert b"".join(c for c, _ in chunks) == data
    for k, (chunk, base) in enumerate(chunks):
        assert chunk
        assert base == b"".join(c for c, _ in chunks[:k]).count(b"\n")
        assert chunk.endswith(b"\n") or k == len(chunks) - 1


@pytest.mark.parametrize("head_end", ["inside", "at"])
def test_first_line_ending_at_or_after_the_sniffed_head(tmp_path: Path, head_end: str) -> None:
    small = dumps(doc(_rich_span(1, T2)))
    long_line = dumps(doc(*[_rich_span(i, T1) for i in range(1800)]))
    if head_end == "at":  # the first line ends exactly where the 1 MiB head does
        pad = (1 << 20) - 1 - len(small)
        first = small[:-1] + b" " * pad + small[-1:]
    else:
        first = long_line
    path = tmp_path / "x.jsonl"
    path.write_bytes(first + b"\n" + small + b"\n")
    with streamed(1 << 20):
        table = both([path], 2)
    assert table.n_spans == (2 if head_end == "at" else 1801)
