"""The stream monitor inside ``otlspec serve`` (:class:`workbench.serve.pipeline.Pipeline`).

Three hooks, all called by the pipeline:

* :func:`add_pieces` (assembler thread): join a request's pieces and feed the spans new to
  each trace;
* :func:`snapshot` (assembler thread): the verdicts of a trace at the moment it completes, so
  they describe exactly the payload handed to the checker, whatever arrives later;
* :func:`check_completed` (checker thread): turn snapshots into stored records. A trace that
  passes every stream property is stored without being decoded again; a violated one is
  decoded once, and the reference interpreter finds and renders its witnesses on that trace
  (and confirms the verdict: a disagreement is logged, counted as
  ``otlspec_stream_disagreements_total`` and the reference verdict stored); properties outside
  the stream fragment, and traces the stream could not follow, go to the batch engine.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from workbench.stream.feed import Snapshot, StreamFeed

if TYPE_CHECKING:
    from workbench.serve.assembly import Completed
    from workbench.serve.decode import Piece
    from workbench.serve.pipeline import Pipeline
    from workbench.serve.store import TraceRecord

log = logging.getLogger("otlspec.serve")


class ServingFeed(StreamFeed):
    """A :class:`StreamFeed` with the bound spec it checks and the pipeline's counters."""

    def __init__(self, props: Any, values: dict[str, Any], capacity: int,
                 max_bytes: int | None = None) -> None:
        super().__init__(props, values, capacity, max_bytes)
        self.props = list(props)
        self.values = values
        self.disagreements = 0
        self.fed_pieces = 0


def make_feed(pipe: Pipeline) -> ServingFeed:
    """The stream feed of ``pipe``'s spec (parameters bound once, here, not per check)."""
    from workbench.engine.pipeline import check_passes
    from workbench.engine.reference import param_values
    from workbench.lang.passes import run_passes

    c = pipe.config
    bound, _ = run_passes(pipe.spec, check_passes(c.params or None))
    feed = ServingFeed(bound.properties, param_values(bound),
                       capacity=c.max_open_traces + c.retain, max_bytes=c.max_memory_bytes)
    for name, why in feed.unsupported.items():
        log.info("property %s is checked by the batch engine on completion: %s", name, why)
    m = pipe.metrics
    m.gauges["otlspec_stream_traces"] = lambda: len(feed.monitor.traces)
    m.gauges["otlspec_stream_binding_evaluations"] = lambda: feed.monitor.stats.bindings
    m.gauges["otlspec_stream_resyncs"] = lambda: feed.resyncs
    m.gauges["otlspec_stream_disagreements"] = lambda: feed.disagreements
    m.gauges["otlspec_stream_held_bytes"] = lambda: feed.held_bytes
    return feed



def add_pieces(pipe: Pipeline, pieces: list[Piece], now: float) -> None:
    """Join the pieces of one request in the assembler and feed their new spans to the
    stream, decoded together."""
    a, feed = pipe.assembler, pipe.feed
    items = []
    for piece in pieces:
        tid = piece.trace_id
        existing = a.open.get(tid) or a.closed.get(tid)
        seen: set[bytes] = existing.seen if existing is not None else set()
        mine: set[bytes] = set()
        fresh = []
        for key, spans in piece.groups.items():
            new = [d for d in spans if d not in seen and d not in mine]
            mine.update(new)
            fresh.append((key, new))
        for done in a.add(piece, now):
            pipe._emit(done)
        items.append((tid, fresh))
    todo = []
    for tid, fresh in items:
        trace = a.open.get(tid)
        if trace is None:  # completed at once (evicted): the checker decodes it
            feed.forget(tid.hex())
            continue
        todo.append((tid.hex(), fresh, trace.n_spans, list(trace.groups.items())))
    try:
        feed.add_many(todo)
        feed.fed_pieces += len(todo)
    except Exception:  # never lose the assembler: the batch engine checks these traces
        log.exception("stream monitor failed on %d trace(s); checking them in batch", len(todo))
        for tid_hex, *_ in todo:
            feed.forget(tid_hex)


def snapshot(pipe: Pipeline, done: Completed) -> None:
    """Record the stream's verdicts on ``done`` for the checker (None: not followed)."""
    feed = pipe.feed
    snap: Snapshot | None = None
    if feed.n_spans(done.trace_id) == done.n_spans:
        try:
            snap = feed.snapshot(done.trace_id)
        except Exception:
            log.exception("stream snapshot of trace %s failed", done.trace_id)
    pipe.snapshots[(done.trace_id, done.revision)] = snap
    a = pipe.assembler
    if len(feed.monitor.traces) > len(a.open) + len(a.closed) + 1024:
        live = {t.hex() for t in a.open} | {t.hex() for t in a.closed}
        for key in [k for k in feed.monitor.traces if k not in live]:
            feed.forget(key)


def check_completed(pipe: Pipeline, batch: list[Completed]) -> list[TraceRecord]:
    """The stored records of completed traces (see the module docstring)."""
    from workbench.engine import check
    from workbench.serve.pipeline import MAX_WITNESSES
    from workbench.serve.store import TraceRecord, VerdictRecord
    from workbench.stream.backend import trace_witnesses
    from workbench.traces import otlp_proto
    from workbench.traces.builder import TableBuilder

    feed: ServingFeed = pipe.feed
    snaps = {d.trace_id: pipe.snapshots.pop((d.trace_id, d.revision), None) for d in batch}
    need = [d for d in batch
            if (s := snaps[d.trace_id]) is None or s.failed or s.batch]
    table = None
    index: dict[str, int] = {}
    if need:
        builder = TableBuilder()
        otlp_proto.load(b"".join(d.payload for d in need), "otlp", builder)
        table = builder.build()
        index = {table.trace_id_hex[t]: t for t in range(table.n_traces)}
        for diag in table.diagnostics:
            if diag.severity == "error":
                log.warning("decoding a completed trace: %s", diag)
    wanted: set[str] = set()
    for d in need:
        s = snaps[d.trace_id]
        wanted |= {p.name for p in feed.props} if s is None else set(s.batch)
    by_batch: dict[str, Any] = {}
    if wanted and table is not None and table.n_traces:
        result = check(pipe.spec, table, pipe.config.params or None,
                       backend=pipe.backend, properties=sorted(wanted))
        by_batch = {r.name: r for r in result.results}
    wall = time.time()
    out: list[TraceRecord] = []
    for d in batch:
        s = snaps[d.trace_id]
        t = index.get(d.trace_id)
        first_seen = wall - (pipe.clock() - d.first_seen)
        if s is None and t is None:  # no span decoded: stored without verdicts
            out.append(TraceRecord(d.trace_id, d.revision, d.n_spans, wall, d.payload,
                                   completed_at=wall, checked_at=wall, reason=d.reason))
            continue
        if s is not None:
            root_name, services = s.root_name, s.services
        else:
            assert table is not None and t is not None
            rows = table.trace_rows(t)
            roots = [r for r in rows if int(table.parent_id_len[r]) == 0]
            root_name = table.name_of(roots[0]) if roots else ""
            services = sorted({table.service_of(r) for r in rows} - {""})
        rec = TraceRecord(
            d.trace_id, d.revision, d.n_spans, first_seen, d.payload,
            completed_at=wall - (pipe.clock() - d.completed_at), checked_at=wall,
            reason=d.reason, root_name=root_name, services=",".join(services))
        for prop in feed.props:
            name = prop.name
            witnesses: list[Any] = []
            if s is not None and name in s.verdicts:
                holds = s.verdicts[name]
                if not holds:
                    assert table is not None and t is not None
                    ref_holds, witnesses = trace_witnesses(prop, table, t, feed.values)
                    if ref_holds:
                        feed.disagreements += 1
                        log.warning("stream and reference disagree on %s for trace %s; "
                                    "storing the reference verdict", name, d.trace_id)
                        holds, witnesses = True, []
            else:
                res = by_batch.get(name)
                if res is None or t is None:
                    continue
                holds = bool(res.holds[t])
                witnesses = [] if holds else res.witnesses.get(t, [])
            witnesses = witnesses[:MAX_WITNESSES]
            rec.verdicts.append(VerdictRecord(
                name, pipe.severity.get(name, prop.severity), holds,
                witnesses[0].message if witnesses else "", [w.to_json() for w in witnesses]))
        out.append(rec)
    return out


__all__ = ["ServingFeed", "add_pieces", "check_completed", "make_feed", "snapshot"]
