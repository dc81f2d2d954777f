"""Bad input policy: what can be read is kept as is (properties judge it later); only what
cannot be read at all becomes an error diagnostic. Nothing crashes or recurses on depth."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.traces.util import TRACE, doc, dumps, span
from workbench.errors import TraceInputError
from workbench.traces import MISSING_PARENT, ROOT, load_bytes, load_traces


def table_of(*spans: dict):
    builder = load_bytes(dumps(doc(*spans)), "t.json")
    assert not builder.diagnostics, builder.diagnostics
    return builder.build()


def row_of(table, span_id: str) -> int:
    return next(r for r in range(table.n_spans) if table.span_id_hex(r) == span_id)


def test_non_hex_ids_are_kept_and_still_resolve() -> None:
    table = table_of(span("span-1"), span("span-2", "span-1"), span("c", "BADID"))
    one, two, c = (row_of(table, i) for i in ("span-1", "span-2", "c"))
    assert int(table.span_id_len[one]) == -1 and table.id_text[(one, "span")] == "span-1"
    assert int(table.parent[two]) == one
    assert table.parent_id_hex(c) == "badid" and int(table.parent[c]) == MISSING_PARENT


def test_wrong_length_ids_are_kept() -> None:
    table = table_of(
        span("abcdef0123", trace="ab" * 10),
        span("0123456789abcdef00", "abcdef0123", trace="ab" * 10),
    )
    short, long = row_of(table, "abcdef0123"), row_of(table, "0123456789abcdef00")
    assert int(table.span_id_len[short]) == 5
    assert int(table.span_id_len[long]) == 9
    assert int(table.parent[long]) == short
    assert table.trace_id_hex == ["ab" * 10] and int(table.trace_id_len[0]) == 10


def test_all_zero_ids() -> None:
    zero_trace = "0" * 32
    table = table_of(
        span("0" * 16, trace=zero_trace),
        span("1000000000000001", "0" * 16, trace=zero_trace),
    )
    assert table.trace_id_hex == [zero_trace]
    assert int(table.span_id_len[0]) == 8 and int(table.span_id[0]) == 0
    assert int(table.parent[1]) == ROOT  # an all-zero parent id means "no parent" in OTLP


def test_duplicate_span_ids_are_kept() -> None:
    table = table_of(
        span("1000000000000001", name="first", start=1),
        span("1000000000000001", name="second", start=2),
        span("1000000000000002", "1000000000000001", start=3),
    )
    assert table.n_spans == 3
    assert int(table.parent[2]) == 0  # the first duplicate wins


def test_dangling_parents_and_cycles() -> None:
    table = table_of(
        span("1000000000000001", "1000000000000002"),
        span("1000000000000002", "1000000000000001"),
        span("1000000000000003", "1000000000000002"),
        span("1000000000000004", "10000000000000ff"),
    )
    assert table.in_cycle.tolist() == [True, True, False, False]
    assert int(table.parent[3]) == MISSING_PARENT
    assert int(table.parent[2]) == row_of(table, "1000000000000002")


def test_end_before_start_and_missing_end() -> None:
    table = table_of(
        span("1000000000000001", start=500, end=100), span("1000000000000002", end=None)
    )
    early = row_of(table, "1000000000000001")
    assert (int(table.start[early]), int(table.end[early])) == (500, 100)
    assert bool(table.has_end[early])
    open_span = row_of(table, "1000000000000002")
    assert not table.has_end[open_span] and int(table.end[open_span]) == int(table.start[open_span])


@pytest.mark.parametrize("reverse", [False, True], ids=["parents-first", "children-first"])
def test_deep_chain_loads_fast(reverse: bool) -> None:
    n = 100_000
    ids = [f"{i + 1:016x}" for i in range(n)]
    spans = [
        {
            "traceId": TRACE,
            "spanId": ids[i],
            "parentSpanId": ids[i - 1] if i else "",
            "name": "s",
            "startTimeUnixNano": str(1000 + i),
            "endTimeUnixNano": str(10**9 - i),
        }
        for i in range(n)
    ]
    if reverse:
        spans.reverse()
    data = json.dumps(doc(*spans)).encode()
    start = time.perf_counter()
    table = load_bytes(data, "deep.json").build()
    elapsed = time.perf_counter() - start
    assert table.n_spans == n and not table.diagnostics
    assert int(table.depth.max()) == n - 1 and not table.in_cycle.any()
    assert int(table.depth[row_of(table, ids[-1])]) == n - 1
    assert elapsed < 8.0, f"100k-deep chain took {elapsed:.1f}s"


def test_max_bytes_skips_only_the_big_file(tmp_path: Path) -> None:
    small, big = tmp_path / "small.json", tmp_path / "big.json"
    small.write_bytes(dumps(doc(span("1000000000000001"))))
    big.write_bytes(dumps(doc(*[span(f"{i + 2:016x}") for i in range(50)])))
    table = load_traces([small, big], max_bytes=1000)
    assert table.n_spans == 1
    (diag,) = table.diagnostics
    assert diag.file == str(big) and diag.severity == "error"
    assert f"{big.stat().st_size} bytes" in diag.message and "max_bytes=1000" in diag.message


def test_nothing_readable_raises(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(TraceInputError) as err:
        load_traces([tmp_path / "missing.json", bad])
    messages = [d.message for d in err.value.diagnostics]
    assert messages[0] == "no such file or directory"
    assert messages[1].startswith("invalid JSON") and err.value.diagnostics[1].line == 1


def test_all_spans_broken_raises(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_bytes(dumps(doc(span("1000000000000001", start=[1]))))
    with pytest.raises(TraceInputError) as err:
        load_traces(path)
    assert err.value.diagnostics[0].message.endswith("span dropped")


@pytest.mark.parametrize("depth", [150, 5000])
def test_deeply_nested_attribute_value_does_not_crash(depth: int) -> None:
    value = '{"arrayValue":{"values":[' * depth + '{"stringValue":"leaf"}' + "]}}" * depth
    deep = dumps(span("1000000000000001", attributes=[{"key": "deep", "value": "@"}]))
    deep = deep.replace(b'"@"', value.encode())
    data = dumps(doc(span("1000000000000002"))).replace(b'"spans": [', b'"spans": [' + deep + b", ")
    builder = load_bytes(data, "nested.json")
    table = builder.build()
    assert table.n_spans in (0, 2)  # the decoder's depth limit or a value, never a crash
    if table.n_spans == 0:
        assert builder.diagnostics[0].message == "invalid JSON: nested too deeply"


def test_garbage_bytes_are_an_error() -> None:
    builder = load_bytes(b"\x00\x01\x02 not a trace", "junk.bin")
    assert builder.diagnostics[0].severity == "error" and len(builder) == 0


def test_empty_file_is_an_error() -> None:
    from tests.traces.util import MALFORMED

    with pytest.raises(TraceInputError) as err:
        load_traces(MALFORMED / "empty.json")
    (diag,) = err.value.diagnostics
    assert (diag.message, diag.severity) == ("empty input", "error")
