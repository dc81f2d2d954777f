"""Every real trace file loads, with the counts recorded in datasets/real/SOURCES.md."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.traces.util import REAL, assert_tables_equal
from workbench.errors import TraceInputError
from workbench.traces import load_traces
from workbench.traces.zipkin import SHARED_ATTRIBUTE, server_span_id


def _sources_rows() -> list[list[str]]:
    rows = []
    for line in (REAL / "SOURCES.md").read_text().splitlines():
        if line.startswith("| `"):
            rows.append([c.strip() for c in line.strip().strip("|").split("|")])
    return rows


ROWS = _sources_rows()
TRACE_ROWS = [r for r in ROWS if r[6]]  # rows with counts = trace files
NOT_TRACES = [r[0].strip("`") for r in ROWS if not r[6] and "protobuf" not in r[5]]
# SOURCES.md counts Zipkin *records*; records that are fragments of one span (same id, side and
# service: a tracer reporting a span in pieces) are merged by the loader, as Zipkin merges them,
# and count once here. Records merged away per file:
MERGED = {
    "opentelemetry-collector/sample1.json": 8,  # the same span repeated 9 times
    "openzipkin-zipkin/netflix.json": 2,
    "openzipkin-zipkin/smartthings-mobile-web-install.json": 88,  # 1041 records, 953 spans
    "openzipkin-zipkin/smartthings-oauth-authorization.json": 4,  # 175 records, 171 spans
}


def test_sources_lists_exactly_the_copied_files() -> None:
    listed = {r[0].strip("`") for r in ROWS}
    present = {
        str(p.relative_to(REAL)) for p in REAL.rglob("*") if p.is_file() and p.name != "SOURCES.md"
    }
    assert listed == present
    assert all(r[4] == "Apache-2.0" for r in ROWS)


@pytest.mark.parametrize("row", TRACE_ROWS, ids=[r[0].strip("`") for r in TRACE_ROWS])
def test_counts_match_sources(row: list[str]) -> None:
    table = load_traces(REAL / row[0].strip("`"))
    services = {table.service_of(r) for r in range(table.n_spans)} - {""}
    # Zipkin shared client/server halves are 2 records in SOURCES.md and 2 spans here;
    # fragments of one span are several records there and 1 span here
    spans = int(row[7]) - MERGED.get(row[0].strip("`"), 0)
    assert (table.n_traces, table.n_spans, len(services)) == (int(row[6]), spans, int(row[8]))
    assert not [d for d in table.diagnostics if d.severity == "error"]
    if "zipkin" not in row[5] and "cycle" not in row[10] and "ui_01" not in row[0]:
        assert int(table.depth.max()) + 1 == int(row[9])


def test_whole_directory_is_one_table() -> None:
    table = load_traces(REAL)
    # + 1: trace.protobuf-bin repeats the span of trace.json (same trace, same id)
    assert table.n_spans == sum(int(r[7]) for r in TRACE_ROWS) - sum(MERGED.values()) + 1
    # files that hold the same trace (HotROD captures, zipkin v1 batches...) join by trace id
    ids: set[str] = set()
    for row in TRACE_ROWS:
        ids.update(load_traces(REAL / row[0].strip("`")).trace_id_hex)
    assert sorted(table.trace_id_hex) == sorted(ids) and len(ids) < len(TRACE_ROWS)
    skipped = {
        Path(d.file).relative_to(REAL).as_posix()
        for d in table.diagnostics
        if d.message.startswith("not a trace file")
    }
    assert skipped == set(NOT_TRACES)


@pytest.mark.parametrize("name", ["metrics.json", "logs.json"])
def test_otlp_metrics_and_logs_are_not_traces(name: str) -> None:
    with pytest.raises(TraceInputError) as err:
        load_traces(REAL / "opentelemetry-proto" / name)
    (diag,) = err.value.diagnostics
    kind = "metrics" if name == "metrics.json" else "logs"
    assert diag.message == f"not a trace file (looks like OTLP {kind})"
    assert diag.severity == "warning"


def test_manifest_skipped_next_to_its_trace() -> None:
    table = load_traces(sorted((REAL / "jaeger" / "skills").glob("sibling_errors*.json")))
    assert table.n_spans == 6
    (diag,) = table.diagnostics
    assert diag.file.endswith("sibling_errors.manifest.json")
    assert diag.message.startswith("not a trace file")


def test_otlp_json_and_protobuf_twins_are_equal() -> None:
    a = load_traces(REAL / "opentelemetry-proto" / "trace.json")
    b = load_traces(REAL / "opentelemetry-proto" / "trace.protobuf-bin")
    assert_tables_equal(a, b)
    assert a.span_id_hex(0) == "eee19b7ec3c1b174"  # uppercase hex normalised
    assert int(a.parent[0]) == -2  # dangling parent kept


def test_zipkin_v1_badid_and_missing_timestamps() -> None:
    table = load_traces(REAL / "opentelemetry-collector" / "zipkin_v1_error_batch.json")
    assert table.n_spans == 2
    rows = {table.name_of(r): r for r in range(table.n_spans)}
    stock = rows["checkStock"]
    assert table.parent_id_hex(stock) == "badid"  # kept as text, judged later
    assert int(table.parent_id_len[stock]) == -1 and int(table.parent[stock]) == -2
    avail = rows["checkAvailability"]  # no timestamp/duration: from its sr/ss annotations
    assert table.kind_of(avail) == "SERVER"
    assert int(table.start[avail]) == 1544805927448081000
    assert int(table.end[avail]) == 1544805927460102000
    assert [e.name for e in table.events_of(avail)] == ["custom time event"]


def test_jaeger_missing_start_times_warn() -> None:
    table = load_traces(REAL / "jaeger-ui" / "trace-contract" / "missing-root-start.legacy.json")
    (diag,) = table.diagnostics
    assert (diag.path, diag.severity) == ("spans[0].startTime", "warning")
    root = next(r for r in range(2) if table.name_of(r) == "rootOperation")
    assert int(table.start[root]) == 0 and int(table.end[root]) == 500_000


def test_jaeger_non_hex_ids_kept() -> None:
    table = load_traces(REAL / "jaeger-ui" / "TraceGraph" / "testTrace.json")
    assert table.trace_id_hex == ["trace-123"] and int(table.trace_id_len[0]) == -1
    ids = {table.span_id_hex(r) for r in range(table.n_spans)}
    assert "span-1" in ids and "span-2_1" in ids
    # non-hex parents still resolve by text; span-7's only reference is FOLLOWS_FROM: a root
    assert int((table.parent == -1).sum()) == 2
    assert int((table.parent == -2).sum()) == 0


def test_parent_cycle_kept() -> None:
    table = load_traces(REAL / "jaeger-ui" / "trace-contract" / "parent-cycle.legacy.json")
    assert table.in_cycle.tolist() == [True, True]


def test_zipkin_shared_spans_split() -> None:
    table = load_traces(REAL / "openzipkin-zipkin" / "ascend.json")
    by_id = {table.span_id_hex(r): r for r in range(table.n_spans)}
    shared = "ecc00062ceef4bf0"
    client, server = by_id[shared], by_id[server_span_id(shared)]
    assert table.kind_of(client) == "CLIENT" and table.kind_of(server) == "SERVER"
    assert int(table.parent[server]) == client
    assert table.attributes_of(server)[SHARED_ATTRIBUTE] == shared
    assert table.service_of(server) == "content-service"
    # children of the shared id hang under the server half
    for child in ("c21c6c51ac71b3ba", "e6422f7ff7d78099"):
        assert int(table.parent[by_id[child]]) == server
    assert len(by_id) == table.n_spans  # no duplicates left


def test_zipkin_repeated_span_merged() -> None:
    # the same record 9 times: fragments of one span, merged (annotations deduplicated)
    table = load_traces(REAL / "opentelemetry-collector" / "sample1.json")
    assert table.n_spans == 1 and not table.diagnostics
    assert [e.name for e in table.events_of(0)] == ["foo", "bar"]


def test_zipkin_fragments_merged_in_real_traces() -> None:
    for name in ("netflix.json", "smartthings-mobile-web-install.json"):
        table = load_traces(REAL / "openzipkin-zipkin" / name)
        assert table.n_traces == 1
        ids = {table.span_id_hex(r) for r in range(table.n_spans)}
        assert len(ids) == table.n_spans  # no duplicate ids left
        assert not table.diagnostics


def test_jaeger_references_parent_and_links() -> None:
    table = load_traces(REAL / "jaeger" / "uimodel-fixtures" / "ui_01.json")
    row = next(r for r in range(table.n_spans) if table.name_of(r) == "reference-test")
    assert table.parent_id_hex(row) == "0000000000000002"
    links = table.links_of(row)
    assert [(lk.span_id, lk.attributes["opentracing.ref_type"]) for lk in links] == [
        ("00000000000000ff", "child_of"),
        ("0000000000000002", "follows_from"),
    ]
    assert links[0].row == -1 and links[1].row >= 0  # cross-trace target not loaded
    general = next(
        r
        for r in range(table.n_spans)
        if table.name_of(r) == "some-operation" and table.attributes_of(r)
    )
    attrs = table.attributes_of(general)
    assert attrs["peer.ipv4"] == 23456 and attrs["temperature"] == 72.5
    assert attrs["javascript_limit"] == 9223372036854775222
    assert attrs["blob"] == "00003039"  # binary: base64 -> bytes (shown as hex)
    assert table.status_of(general) == "ERROR"
    assert table.resource_of(general) == {"service.name": "service-x"}


def test_jsonl_and_v3_wrapper() -> None:
    lines = load_traces(REAL / "jaeger-ui" / "utils-fixtures" / "otlp2jaeger-multi-in.json")
    assert (lines.n_traces, lines.n_spans, int(lines.depth.max())) == (1, 4, 2)
    wrapped = load_traces(REAL / "jaeger-ui" / "api-v3-fixtures" / "getTrace-response.json")
    assert wrapped.n_spans == 40 and int((wrapped.status == 2).sum()) == 3
    assert int(wrapped.event_offsets[-1]) == 52
