"""Zipkin v2 and v1 JSON, including shared client/server spans."""

from __future__ import annotations

from tests.traces.util import dumps
from workbench.traces import load_bytes
from workbench.traces.zipkin import SHARED_ATTRIBUTE, server_span_id

T = "463ac35c9f6413ad48485a3953bb6124"
A, B, C, D = "a" * 16, "b" * 16, "c" * 16, "d" * 16


def load(obj: object):
    builder = load_bytes(dumps(obj), "z.json")
    return builder.build(), builder.diagnostics


def rows_by_id(table) -> dict[str, int]:
    return {table.span_id_hex(r): r for r in range(table.n_spans)}


def v2(span_id: str, parent: str | None = None, **extra: object) -> dict:
    out = {
        "traceId": T,
        "id": span_id,
        "name": "op",
        "timestamp": 1_000,
        "duration": 10,
        "localEndpoint": {"serviceName": "svc"},
    }
    if parent:
        out["parentId"] = parent
    out.update(extra)
    return out


def test_v2_mapping() -> None:
    spans = [
        v2(
            A,
            kind="SERVER",
            tags={"http.path": "/x", "error": "timeout"},
            annotations=[{"timestamp": 1_002, "value": "wr"}],
            remoteEndpoint={"serviceName": "peer"},
        ),
        {k: v for k, v in v2(B, A, kind="CLIENT").items() if k != "duration"},
        v2(C, A, kind="PRODUCER", localEndpoint={"ipv4": "10.0.0.1"}),
    ]
    table, diags = load(spans)
    assert not diags
    ids = rows_by_id(table)
    a, b, c = ids[A], ids[B], ids[C]
    assert (int(table.start[a]), int(table.end[a])) == (1_000_000, 1_010_000)
    assert table.kind_of(a) == "SERVER" and table.kind_of(b) == "CLIENT"
    assert table.kind_of(c) == "PRODUCER"
    assert (
        table.status_of(a) == "ERROR" and table.strings[int(table.status_message[a])] == "timeout"
    )
    assert table.attributes_of(a) == {"http.path": "/x", "error": "timeout", "peer.service": "peer"}
    assert [(e.name, e.time) for e in table.events_of(a)] == [("wr", 1_002_000)]
    assert not table.has_end[b]
    assert table.service_of(a) == "svc" and table.service_of(c) == ""
    assert table.resource_of(a) == {"service.name": "svc"}


def test_shared_span_split_and_children_repointed() -> None:
    spans = [
        v2(A, kind="SERVER", localEndpoint={"serviceName": "gateway"}),
        v2(B, A, kind="CLIENT", localEndpoint={"serviceName": "gateway"}),
        v2(
            B,
            A,
            kind="SERVER",
            shared=True,
            timestamp=1_002,
            duration=5,
            localEndpoint={"serviceName": "backend"},
        ),
        v2(C, B, kind="CLIENT", localEndpoint={"serviceName": "backend"}),
        v2(D, B, localEndpoint={"serviceName": "backend"}),
    ]
    table, diags = load(spans)
    assert not diags
    ids = rows_by_id(table)
    server_id = server_span_id(B)
    assert server_id not in (A, B, C, D) and len(server_id) == 16
    client, server = ids[B], ids[server_id]
    assert table.service_of(client) == "gateway" and table.service_of(server) == "backend"
    assert int(table.parent[client]) == ids[A] and int(table.parent[server]) == client
    assert table.attributes_of(server) == {SHARED_ATTRIBUTE: B}
    assert SHARED_ATTRIBUTE not in table.attributes_of(client)
    assert int(table.parent[ids[C]]) == server and int(table.parent[ids[D]]) == server
    assert table.depth.tolist()[ids[C]] == 3


def test_server_id_is_deterministic() -> None:
    assert server_span_id(B) == server_span_id(B.upper())
    assert server_span_id(B) != server_span_id(C)


def test_duplicates_other_than_shared_are_kept() -> None:
    # same id and side but two local services: two spans, not fragments of one
    other = v2(A, kind="CLIENT", localEndpoint={"serviceName": "other"})
    table, diags = load([v2(A, kind="CLIENT"), other, v2(B, A)])
    assert table.n_spans == 3
    (diag,) = diags
    assert diag.severity == "warning" and diag.path == "[1]"
    assert "appears 2 times" in diag.message


def test_fragment_without_timestamp_borrows_it() -> None:
    # a server-side fragment of a shared span (not merged with the client half)
    fragment = {"traceId": T, "id": A, "name": "op", "kind": "SERVER", "shared": True}
    fragment["localEndpoint"] = {"serviceName": "server"}
    table, diags = load([v2(A, kind="CLIENT", timestamp=5_000), fragment])
    assert table.start.tolist() == [5_000_000, 5_000_000]
    assert any(d.path == "[1].timestamp" and "[0]" in d.message for d in diags)


def test_bad_records() -> None:
    table, diags = load([v2(A), {"traceId": T, "name": "no id"}, v2(B, timestamp="soon"), 5])
    assert table.n_spans == 2
    found = {(d.path, d.severity) for d in diags}
    assert ("[1]", "error") in found and ("[3]", "error") in found
    assert ("[2].timestamp", "warning") in found


def v1_endpoint(service: str) -> dict:
    return {"serviceName": service, "ipv4": "10.0.0.1", "port": 80}


def test_v1_record_with_both_sides_is_split() -> None:
    span = {
        "traceId": T[:16],
        "id": B,
        "parentId": A,
        "name": "get",
        "timestamp": 1_000,
        "duration": 100,
        "annotations": [
            {"timestamp": 1_000, "value": "cs", "endpoint": v1_endpoint("front")},
            {"timestamp": 1_010, "value": "sr", "endpoint": v1_endpoint("back")},
            {"timestamp": 1_050, "value": "cache.miss", "endpoint": v1_endpoint("back")},
            {"timestamp": 1_090, "value": "ss", "endpoint": v1_endpoint("back")},
            {"timestamp": 1_100, "value": "cr", "endpoint": v1_endpoint("front")},
        ],
        "binaryAnnotations": [
            {"key": "http.url", "value": "/x", "endpoint": v1_endpoint("front")},
            {"key": "db.rows", "value": 3, "endpoint": v1_endpoint("back")},
            {"key": "error", "value": "oops", "endpoint": v1_endpoint("back")},
        ],
    }
    root = {
        "traceId": T[:16],
        "id": A,
        "name": "root",
        "timestamp": 900,
        "duration": 300,
        "binaryAnnotations": [{"key": "lc", "value": "batch", "endpoint": v1_endpoint("front")}],
    }
    child = {
        "traceId": T[:16],
        "id": C,
        "parentId": B,
        "name": "q",
        "timestamp": 1_020,
        "duration": 5,
        "annotations": [{"timestamp": 1_020, "value": "cs", "endpoint": v1_endpoint("back")}],
    }
    table, diags = load([root, span, child])
    assert not diags
    ids = rows_by_id(table)
    client, server = ids[B], ids[server_span_id(B)]
    assert table.kind_of(client) == "CLIENT" and table.kind_of(server) == "SERVER"
    assert (int(table.start[client]), int(table.end[client])) == (1_000_000, 1_100_000)
    assert (int(table.start[server]), int(table.end[server])) == (1_010_000, 1_090_000)
    assert table.service_of(client) == "front" and table.service_of(server) == "back"
    assert table.attributes_of(client) == {"http.url": "/x"}
    assert table.attributes_of(server) == {"db.rows": 3, "error": "oops", SHARED_ATTRIBUTE: B}
    assert table.status_of(server) == "ERROR" and table.status_of(client) == "UNSET"
    assert [e.name for e in table.events_of(server)] == ["cache.miss"]
    assert int(table.parent[server]) == client and int(table.parent[ids[C]]) == server
    assert table.service_of(ids[A]) == "front"  # from the lc binary annotation
    assert table.kind_of(ids[A]) == "UNSPECIFIED"


def test_v1_batches_and_derived_times() -> None:
    record = {
        "traceId": T,
        "id": A,
        "name": "x",
        "annotations": [
            {"timestamp": 10, "value": "sr", "endpoint": v1_endpoint("s")},
            {"timestamp": 30, "value": "ss", "endpoint": v1_endpoint("s")},
        ],
    }
    local = {
        "traceId": T,
        "id": B,
        "parentId": A,
        "name": "y",
        "annotations": [
            {"timestamp": 12, "value": "start", "endpoint": v1_endpoint("s")},
            {"timestamp": 20, "value": "stop", "endpoint": v1_endpoint("s")},
        ],
        "binaryAnnotations": [],
    }
    table, diags = load([[record], [local]])
    assert not diags
    ids = rows_by_id(table)
    assert (int(table.start[ids[A]]), int(table.end[ids[A]])) == (10_000, 30_000)
    assert (int(table.start[ids[B]]), int(table.end[ids[B]])) == (12_000, 20_000)
    assert table.kind_of(ids[A]) == "SERVER"


def test_v2_fragments_of_one_span_are_merged() -> None:
    timed = v2(A, kind="SERVER", tags={"http.path": "/a", "k": "first"})
    late = {
        "traceId": T,
        "id": A,
        "localEndpoint": {"serviceName": "svc"},
        "annotations": [{"timestamp": 1_005, "value": "flushed"}],
        "tags": {"k": "second", "extra": "x"},
    }
    table, diags = load([timed, late, v2(B, A, localEndpoint={"serviceName": "svc"})])
    assert not diags  # merging fragments is the format's normal behaviour
    assert table.n_spans == 2
    row = rows_by_id(table)[A]
    assert (int(table.start[row]), int(table.end[row])) == (1_000_000, 1_010_000)
    assert table.kind_of(row) == "SERVER" and table.name_of(row) == "op"
    assert table.attributes_of(row) == {"http.path": "/a", "k": "first", "extra": "x"}
    assert [(e.name, e.time) for e in table.events_of(row)] == [("flushed", 1_005_000)]
    assert int(table.parent[rows_by_id(table)[B]]) == row


def test_v2_fragments_take_earliest_start_latest_end_and_dedupe_annotations() -> None:
    note = [{"timestamp": 1_002, "value": "n"}]
    first = v2(A, timestamp=1_000, duration=5, annotations=note)
    second = v2(A, timestamp=998, duration=20, name="", annotations=note)
    table, diags = load([first, second])
    assert not diags and table.n_spans == 1
    assert (int(table.start[0]), int(table.end[0])) == (998_000, 1_018_000)
    assert table.name_of(0) == "op" and len(table.events_of(0)) == 1


def test_v1_fragments_of_one_span_are_merged() -> None:
    started = {
        "traceId": T,
        "id": A,
        "name": "get",
        "annotations": [{"timestamp": 10, "value": "sr", "endpoint": v1_endpoint("s")}],
        "binaryAnnotations": [{"key": "http.path", "value": "/a", "endpoint": v1_endpoint("s")}],
    }
    finished = {
        "traceId": T,
        "id": A,
        "annotations": [
            {"timestamp": 25, "value": "flushed", "endpoint": v1_endpoint("s")},
            {"timestamp": 30, "value": "ss", "endpoint": v1_endpoint("s")},
        ],
        "binaryAnnotations": [{"key": "error", "value": "boom", "endpoint": v1_endpoint("s")}],
    }
    table, diags = load([started, finished])
    assert not diags and table.n_spans == 1
    assert table.kind_of(0) == "SERVER" and table.name_of(0) == "get"
    assert (int(table.start[0]), int(table.end[0])) == (10_000, 30_000)
    assert table.attributes_of(0) == {"http.path": "/a", "error": "boom"}
    assert [e.name for e in table.events_of(0)] == ["flushed"]


def test_shared_halves_are_not_merged_but_their_fragments_are() -> None:
    client = v2(A, kind="CLIENT", localEndpoint={"serviceName": "front"})
    server = v2(A, kind="SERVER", shared=True, localEndpoint={"serviceName": "back"})
    server_note = {  # kind-less fragment logged by the server's service
        "traceId": T,
        "id": A,
        "localEndpoint": {"serviceName": "back"},
        "annotations": [{"timestamp": 1_004, "value": "wrote"}],
    }
    client_tags = {"traceId": T, "id": A, "kind": "CLIENT", "tags": {"c": "1"}}
    table, diags = load([client, server_note, server, client_tags])
    assert not diags and table.n_spans == 2
    ids = rows_by_id(table)
    c, s = ids[A], ids[server_span_id(A)]
    assert table.kind_of(c) == "CLIENT" and table.kind_of(s) == "SERVER"
    assert int(table.parent[s]) == c
    assert table.attributes_of(c)["c"] == "1"
    assert [e.name for e in table.events_of(s)] == ["wrote"] and not table.events_of(c)
    assert table.service_of(s) == "back"
