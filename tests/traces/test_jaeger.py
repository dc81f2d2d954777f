"""Jaeger JSON: query API / UI model and api_v2 model JSON."""

from __future__ import annotations

from tests.traces.util import dumps
from workbench.traces import load_bytes
from workbench.traces.jaeger import parse_duration, parse_timestamp

T = "f77950feed55c1ce91dd8e87896623a6"


def jspan(span_id: str, refs: list | None = None, **extra: object) -> dict:
    out = {
        "traceID": T,
        "spanID": span_id,
        "operationName": f"op-{span_id[-1]}",
        "references": refs or [],
        "startTime": 1_000_000,
        "duration": 500,
        "tags": [],
        "logs": [],
        "processID": "p1",
        "flags": 1,
        "warnings": ["ignored"],
    }
    out.update(extra)
    return out


def child_of(span_id: str, trace: str = T, kind: str = "CHILD_OF") -> dict:
    return {"refType": kind, "traceID": trace, "spanID": span_id}


PROCESSES = {
    "p1": {"serviceName": "api", "tags": [{"key": "host", "type": "string", "value": "h1"}]},
    "p2": {"serviceName": "db", "tags": []},
}


def load(obj: object):
    builder = load_bytes(dumps(obj), "j.json")
    return builder.build(), builder.diagnostics


def test_query_api_shape_and_mapping() -> None:
    spans = [
        jspan(
            "0000000000000001",
            tags=[
                {"key": "span.kind", "type": "string", "value": "server"},
                {"key": "otel.status_code", "type": "string", "value": "ERROR"},
                {"key": "otel.status_description", "type": "string", "value": "bad"},
                {"key": "otel.scope.name", "type": "string", "value": "lib"},
                {"key": "count", "type": "int64", "value": "12"},
                {"key": "ratio", "type": "float64", "value": 0.5},
                {"key": "ok", "type": "bool", "value": "false"},
                {"key": "raw", "type": "binary", "value": "AAE="},
            ],
            logs=[
                {
                    "timestamp": 1_000_100,
                    "fields": [
                        {"key": "event", "type": "string", "value": "retry"},
                        {"key": "attempt", "type": "int64", "value": 2},
                    ],
                },
                {
                    "timestamp": 1_000_200,
                    "fields": [
                        {"key": "level", "type": "int64", "value": 3},
                        {"key": "message", "type": "string", "value": "slow"},
                    ],
                },
            ],
        ),
        jspan(
            "0000000000000002",
            [child_of("0000000000000001")],
            processID="p2",
            tags=[
                {"key": "error", "type": "bool", "value": True},
                {"key": "span.kind", "type": "string", "value": "client"},
            ],
        ),
    ]
    table, diags = load(
        {
            "data": [{"traceID": T, "spans": spans, "processes": PROCESSES}],
            "total": 0,
            "errors": None,
        }
    )
    assert not diags
    root, child = 0, 1
    assert (int(table.start[root]), int(table.end[root])) == (1_000_000_000, 1_000_500_000)
    assert table.kind_of(root) == "SERVER" and table.kind_of(child) == "CLIENT"
    assert table.status_of(root) == "ERROR" and table.status_of(child) == "ERROR"
    assert table.strings[int(table.status_message[root])] == "bad"
    assert table.strings[int(table.scope[root])] == "lib"
    attrs = table.attributes_of(root)
    assert attrs["count"] == 12 and attrs["ratio"] == 0.5 and attrs["ok"] is False
    assert attrs["raw"] == "0001"
    assert table.resource_of(root) == {"service.name": "api", "host": "h1"}
    assert table.service_of(child) == "db" and int(table.parent[child]) == root
    events = table.events_of(root)
    assert [(e.name, e.time, e.attributes) for e in events] == [
        ("retry", 1_000_100_000, {"attempt": 2}),
        ("slow", 1_000_200_000, {"level": 3, "message": "slow"}),
    ]


def test_references_first_same_trace_child_of_is_the_parent() -> None:
    refs = [
        child_of("00000000000000ff", trace="00000000000000000000000000000abc"),
        child_of("0000000000000001", kind="FOLLOWS_FROM"),
        child_of("0000000000000002"),
        child_of("0000000000000001"),
    ]
    spans = [jspan("0000000000000001"), jspan("0000000000000002"), jspan("0000000000000003", refs)]
    table, _ = load({"traceID": T, "spans": spans, "processes": PROCESSES})
    row = 2
    assert table.parent_id_hex(row) == "0000000000000002"
    links = table.links_of(row)
    assert [(lk.span_id, lk.attributes["opentracing.ref_type"], lk.row) for lk in links] == [
        ("00000000000000ff", "child_of", -1),
        ("0000000000000001", "follows_from", 0),
        ("0000000000000001", "child_of", 0),
    ]


def test_missing_start_and_bad_values() -> None:
    spans = [
        {k: v for k, v in jspan("0000000000000001").items() if k != "startTime"},
        jspan(
            "0000000000000002", tags=[{"key": "n", "type": "int64", "value": "x"}], processID="nope"
        ),
        {"traceID": T, "operationName": "no id"},
    ]
    table, diags = load({"traceID": T, "spans": spans, "processes": PROCESSES})
    assert table.n_spans == 2
    found = {(d.path, d.severity): d.message for d in diags}
    assert found[("spans[0].startTime", "warning")] == "missing start time; using 0"
    assert found[("spans[1].tags[0].value", "warning")].startswith("expected an integer")
    assert ("spans[1].processID", "warning") in found
    assert found[("spans[2]", "error")] == "missing required field spanID; span dropped"
    assert int(table.start[0]) == 0 and table.has_end[0]


def test_api_v2_model_json() -> None:
    span = {
        "traceId": "AAAAAAAAAAAAAAAAAAAAEg==",
        "spanId": "AAAAAAAAAAQ=",
        "operationName": "query",
        "references": [{"traceId": "AAAAAAAAAAAAAAAAAAAAEg==", "spanId": "AAAAAAAAAP8="}],
        "startTime": "2017-01-26T16:46:31.639875123Z",
        "duration": "0.000340012s",
        "tags": [
            {"key": "s", "vStr": "v"},
            {"key": "i", "vType": "INT64", "vInt64": "88"},
            {"key": "b", "vType": "BOOL", "vBool": True},
            {"key": "f", "vType": "FLOAT64", "vFloat64": 1.5},
            {"key": "blob", "vType": "BINARY", "vBinary": "AAAwOQ=="},
        ],
        "logs": [
            {"timestamp": "2017-01-26T16:46:31.639876Z", "fields": [{"key": "event", "vStr": "x"}]}
        ],
        "process": {"serviceName": "svc", "tags": [{"key": "ip", "vStr": "1.2.3.4"}]},
    }
    table, diags = load({"result": {"spans": [span]}})
    assert not diags
    assert table.trace_id_hex == ["00000000000000000000000000000012"]
    assert table.span_id_hex(0) == "0000000000000004"
    assert table.parent_id_hex(0) == "00000000000000ff"
    start = 1485449191 * 10**9 + 639875123
    assert int(table.start[0]) == start and int(table.end[0]) == start + 340012
    assert table.attributes_of(0) == {"s": "v", "i": 88, "b": True, "f": 1.5, "blob": "00003039"}
    assert table.resource_of(0) == {"service.name": "svc", "ip": "1.2.3.4"}
    assert [e.time for e in table.events_of(0)] == [1485449191639876000]


def test_list_of_traces() -> None:
    table, _ = load([{"traceID": T, "spans": [jspan("0000000000000001")], "processes": PROCESSES}])
    assert table.n_spans == 1


def test_time_parsers() -> None:
    assert parse_timestamp("1970-01-01T00:00:01.5+01:00") == -3600 * 10**9 + 1_500_000_000
    assert parse_timestamp("nope") is None
    assert parse_duration("1.5s") == 1_500_000_000 and parse_duration("2000ns") == 2000
    assert parse_duration("12") is None
