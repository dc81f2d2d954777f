"""Trace assembly rules, with the clock passed in (no sleeping)."""

from __future__ import annotations

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from tests.serve.conftest import span_request
from workbench.serve.assembly import Assembler
from workbench.serve.decode import Piece, split_request

T = bytes.fromhex("0af7651916cd43dd8448eb211c80319c")


def _piece(span_id: int, parent: int | None = None, end: int = 10, trace: bytes = T) -> Piece:
    fields = dict(trace_id=trace, span_id=span_id.to_bytes(8, "big"), name=f"s{span_id}",
                  start_time_unix_nano=1, end_time_unix_nano=end)
    if parent is not None:
        fields["parent_span_id"] = parent.to_bytes(8, "big")
    (piece,) = split_request(span_request([fields])).pieces
    return piece


def _span_ids(payload: bytes) -> list[int]:
    req = ExportTraceServiceRequest.FromString(payload)
    return sorted(int.from_bytes(s.span_id, "big") for rs in req.resource_spans
                  for ss in rs.scope_spans for s in ss.spans)


def test_children_first_then_root_then_idle() -> None:
    a = Assembler(idle=2.0, max_age=60.0)
    a.add(_piece(2, parent=1), now=0.0)
    a.add(_piece(3, parent=2), now=0.5)
    assert a.due(now=10.0) == []  # no root yet: waits for max_age
    a.add(_piece(1), now=11.0)
    assert a.due(now=12.9) == []  # root ended, but not idle long enough
    (done,) = a.due(now=13.0)
    assert done.reason == "idle" and done.revision == 1 and done.n_spans == 3
    assert _span_ids(done.payload) == [1, 2, 3]
    assert a.n_open == 0


def test_root_not_ended_waits_for_max_age() -> None:
    a = Assembler(idle=1.0, max_age=30.0)
    a.add(_piece(1, end=0), now=0.0)  # root without an end time
    assert a.due(now=29.0) == []
    (done,) = a.due(now=30.0)
    assert done.reason == "max_age"


def test_late_span_reopens_and_revises() -> None:
    a = Assembler(idle=1.0, max_age=30.0)
    a.add(_piece(1), now=0.0)
    (first,) = a.due(now=1.0)
    a.add(_piece(2, parent=1), now=5.0)
    assert a.reopened == 1 and a.n_open == 1
    (second,) = a.due(now=6.0)
    assert second.revision == first.revision + 1
    assert _span_ids(second.payload) == [1, 2]


def test_late_span_after_eviction_reloads_from_store() -> None:
    stored: dict[str, tuple[bytes, int]] = {}

    def reload(trace_id: str):  # type: ignore[no-untyped-def]
        found = stored.get(trace_id)
        if found is None:
            return None
        return split_request(ExportTraceServiceRequest.FromString(found[0])).pieces, found[1]

    a = Assembler(idle=1.0, retain=0, reload=reload)
    a.add(_piece(1), now=0.0)
    (done,) = a.due(now=1.0)
    assert not a.closed  # retain=0: nothing kept in memory
    stored[done.trace_id] = (done.payload, done.revision)
    a.add(_piece(2, parent=1), now=2.0)
    (again,) = a.due(now=3.0)
    assert again.revision == 2 and _span_ids(again.payload) == [1, 2]


def test_duplicates_limits_and_eviction() -> None:
    drops: list[tuple[str, int]] = []
    a = Assembler(idle=1.0, max_spans_per_trace=2, max_open_traces=2,
                  on_drop=lambda r, n: drops.append((r, n)))
    a.add(_piece(1), now=0.0)
    a.add(_piece(1), now=0.1)  # an exporter's retry: the same span again
    assert a.duplicates == 1 and a.open[T].n_spans == 1
    a.add(_piece(2, parent=1), now=0.2)
    a.add(_piece(3, parent=1), now=0.3)
    assert drops == [("max_spans_per_trace", 1)] and a.open[T].n_spans == 2
    other = [bytes([k]) * 16 for k in (7, 8)]
    a.add(_piece(9, trace=other[0]), now=0.4)
    (evicted,) = a.add(_piece(9, trace=other[1]), now=0.5)
    assert evicted.reason == "evicted" and evicted.trace_id == T.hex()
    assert a.n_open == 2
    done = a.complete_all(now=1.0)
    assert sorted(d.trace_id for d in done) == sorted(t.hex() for t in other)
