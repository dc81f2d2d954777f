"""Receivers -> bounded queue -> assembler -> checker -> store and alerts.

The receivers call :meth:`Pipeline.offer`, which only admits or refuses a decoded request
(refusals are retryable: the exporter backs off and sends again, nothing is lost). Two threads
consume: the *assembler* joins pieces into traces and completes them (:mod:`.assembly`); the
*checker* checks completed traces in batches with the batch engine
(:func:`workbench.engine.check` on a span table decoded by :mod:`workbench.traces.otlp_proto`,
the same decoder ``otlspec check`` uses), then stores the verdicts and raises alerts. Every span
dropped after admission is counted by reason and logged.

With ``config.incremental`` (the default) the assembler also feeds each new span to the stream
monitor (:mod:`workbench.stream.feed`): verdicts are kept up to date as spans arrive, only the
bindings a span can affect are re-verified, and a completed trace's verdicts are a snapshot of
that state. The checker then decodes and checks a trace only for what the stream leaves to it:
witnesses of violations (rendered by the reference interpreter on that trace) and properties
outside the stream fragment (the batch engine); see :mod:`workbench.stream.serving`.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from workbench.lang import ir
from workbench.serve.assembly import Assembler, Completed, GroupKey
from workbench.serve.config import ServeConfig
from workbench.serve.decode import Decoded, Piece, pieces_request, split_request
from workbench.serve.metrics import Metrics
from workbench.serve.store import Store, TraceRecord, VerdictRecord

log = logging.getLogger("otlspec.serve")

#: Witnesses kept per (trace, property) in the store.
MAX_WITNESSES = 20
#: Spans checked together at most (several completed traces share one engine call).
BATCH_SPANS = 50_000
#: ``max_memory`` bytes per span of a check batch: a batch's table, indexes and records take
#: several KiB per span (beyond the spans' own bytes), so a small ``--max-memory`` also
#: caps the batch (at least :data:`MIN_BATCH_SPANS`), and with it the checker's working set
BATCH_BYTES_PER_SPAN = 1024
MIN_BATCH_SPANS = 1_000
#: Shares of ``max_memory`` at which retained completed traces are shed, and down to which.
SHED_AT, SHED_TO = 0.8, 0.6


def serving_backend(requested: str) -> str:
    """The backend the checker asks for: ``auto`` resolved to its first compiled backend.

    ``auto``'s cost model (:mod:`workbench.engine.cost`) charges every property a kernel load
    and sends small tables to the reference interpreter, which is right for one ``otlspec
    check`` but not for a server: :meth:`Server.warm_up <workbench.serve.server.Server.warm_up>`
    loads every kernel once at start, after which a batch of a few traces costs the kernels
    microseconds and the reference tens of milliseconds per property. Properties outside the
    compiled fragment still fall back to the reference (the chain is unchanged).
    """
    if requested != "auto":
        return requested
    from workbench.engine import backend_chain

    chain, _ = backend_chain("auto")
    first = chain[0] if chain else None
    return first.name if first is not None and first.note == "compiled" else requested


class Overloaded(Exception):
    """The request is refused for now; ``retry_after`` seconds is the back-off asked."""

    def __init__(self, reason: str, retry_after: int) -> None:
        super().__init__(f"server overloaded ({reason}); retry after {retry_after} s")
        self.reason = reason
        self.retry_after = retry_after


@dataclass(slots=True)
class _Flush:
    done: threading.Event


def batch_payload(batch: list[Completed]) -> bytes:
    """One serialized request holding the spans of every trace of ``batch``, one
    ``ResourceSpans`` per distinct (resource, scope) rather than one per trace and group."""
    merged: dict[GroupKey, list[bytes]] = {}
    for d in batch:
        if not d.groups:  # built without its groups: its payload as it is
            return b"".join(d.payload for d in batch)
        for key, spans in d.groups:
            target = merged.get(key)
            if target is None:
                merged[key] = list(spans)
            else:
                target.extend(spans)
    return pieces_request(merged.items())


def _trace_summaries(table: Any) -> tuple[dict[int, str], dict[int, str]]:
    """Per trace of ``table``: the name of its first root span (a span without a parent id),
    and its services (sorted, comma-separated), computed on the columns at once."""
    import numpy as np

    trace_of = np.asarray(table.trace_index, dtype=np.int64)
    roots = np.flatnonzero(np.asarray(table.parent_id_len) == 0)
    root_traces, first = np.unique(trace_of[roots], return_index=True)
    names = {int(t): table.name_of(int(r)) for t, r in zip(root_traces, roots[first], strict=True)}
    width = len(table.strings) + 1
    pairs = np.unique(trace_of * width + np.asarray(table.service, dtype=np.int64))
    found: dict[int, set[str]] = {}
    for pair in pairs.tolist():
        name = table.strings[pair % width]
        if name:
            found.setdefault(pair // width, set()).add(name)
    return names, {t: ",".join(sorted(v)) for t, v in found.items()}


def pieces_of(payload: bytes) -> list[Piece]:
    """The pieces of a stored payload (one trace's spans)."""
    from workbench.serve.wire import split_wire

    decoded = split_wire(payload)
    if decoded is None:
        decoded = split_request(ExportTraceServiceRequest.FromString(payload))
    return decoded.pieces


class Pipeline:
    """The consumers behind the receivers. ``start`` them, ``offer`` requests, ``stop``."""

    def __init__(
        self,
        config: ServeConfig,
        spec: ir.Spec,
        store: Store,
        metrics: Metrics | None = None,
        on_verdicts: Callable[[list[TraceRecord]], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self.spec = spec
        self.store = store
        self.metrics = metrics or Metrics()
        self.on_verdicts = on_verdicts
        self.clock = clock
        self.severity = {p.name: p.severity for p in spec.properties}
        #: the backend of the checker's engine calls (see :func:`serving_backend`)
        self.backend = serving_backend(config.backend)
        #: spans per check batch at most (see :data:`BATCH_BYTES_PER_SPAN`)
        self.batch_spans = max(MIN_BATCH_SPANS,
                               min(BATCH_SPANS, config.max_memory_bytes // BATCH_BYTES_PER_SPAN))
        self.inbox: queue.Queue[Any] = queue.Queue()
        self.outbox: queue.Queue[Any] = queue.Queue()
        self.queued_spans = 0
        self.queued_bytes = 0
        #: bytes of the completed traces waiting for the checker (their joined payloads)
        self.checking_bytes = 0
        self._lock = threading.Lock()
        self.assembler = Assembler(
            idle=config.idle,
            max_age=config.max_age,
            max_spans_per_trace=config.max_spans_per_trace,
            max_open_traces=config.max_open_traces,
            retain=config.retain,
            reload=self._reload,
            on_drop=self._dropped,
        )
        self._threads: list[threading.Thread] = []
        self.feed: Any = None
        self.snapshots: dict[tuple[str, int], Any] = {}
        if config.incremental:
            from workbench.stream.serving import make_feed

            self.feed = make_feed(self)
        self.ready = threading.Event()
        self.stopped = False
        m = self.metrics
        m.gauges["otlspec_open_traces"] = lambda: self.assembler.n_open
        m.gauges["otlspec_queue_depth_spans"] = lambda: self.queued_spans
        m.gauges["otlspec_check_queue_depth_traces"] = lambda: self.outbox.qsize()
        m.gauges["otlspec_held_bytes"] = self.held_bytes

    # ------------------------------------------------------------------ admission
    def offer(self, decoded: Decoded) -> None:
        """Admit the valid spans of a request, or raise :class:`Overloaded`."""
        n = decoded.n_spans - decoded.rejected
        nbytes = sum(p.nbytes for p in decoded.pieces)
        c = self.config
        with self._lock:
            if self.stopped:
                reason = "shutting_down"
            elif self.queued_spans and self.queued_spans + n > c.max_queue_spans:
                reason = "queue_full"
            elif self.held_bytes() + nbytes > c.max_memory_bytes:
                reason = "memory_limit"
            else:
                reason = ""
                self.queued_spans += n
                self.queued_bytes += nbytes
        if reason:
            self.metrics.inc(self.metrics.refused, reason)
            raise Overloaded(reason, c.retry_after_s)
        m = self.metrics
        with m.lock:
            m.spans_received += decoded.n_spans
            m.spans_rejected += decoded.rejected
            m.spans_accepted += n
        if decoded.pieces:
            self.inbox.put((decoded.pieces, n, nbytes, self.clock()))

    def held_bytes(self) -> int:
        """Bytes of spans held: queued for the assembler, open or retained there, completed
        and waiting for the checker, and the stream monitor's state (``max_memory`` bounds
        their sum)."""
        return (self.assembler.held_bytes + self.queued_bytes + self.checking_bytes
                + getattr(self.feed, "held_bytes", 0))

    def _dropped(self, reason: str, n: int) -> None:
        self.metrics.inc(self.metrics.dropped, reason, n)
        log.warning("dropped %d span(s): %s", n, reason)

    def _reload(self, trace_id: str) -> tuple[list[Piece], int] | None:
        found = self.store.payload(trace_id)
        if found is None:
            return None
        payload, revision = found
        return pieces_of(payload), revision

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        """Resume the traces left open at the last shutdown, warm the engine, start threads."""
        now = self.clock()
        resumed = 0
        for _trace_id, payload, revision in self.store.open_traces():
            for piece in pieces_of(payload):
                self.assembler.add(piece, now)
            resumed += 1
            trace = self.assembler.open.get(bytes.fromhex(_trace_id))
            if trace is not None:
                trace.revision = revision
        if resumed:
            log.info("resumed %d open trace(s) from the store", resumed)
        for target, name in ((self._assemble, "assembler"), (self._check_loop, "checker")):
            t = threading.Thread(target=target, name=f"otlspec-{name}", daemon=True)
            t.start()
            self._threads.append(t)

    def flush(self, timeout: float = 60.0) -> bool:
        """Complete every open trace now and wait until all verdicts are stored."""
        done = threading.Event()
        self.inbox.put(_Flush(done))
        return done.wait(timeout)

    def stop(self, timeout: float = 60.0) -> None:
        """Drain: admit nothing more, check the traces whose root has ended, persist the others
        open (a restart resumes them), and stop the threads."""
        with self._lock:
            self.stopped = True
        self.inbox.put(None)
        for t in self._threads:
            t.join(timeout)
        self._threads.clear()

    # ------------------------------------------------------------------ assembler thread
    def _assemble(self) -> None:
        a = self.assembler
        tick = max(0.005, min(0.1, self.config.idle / 4))
        next_scan = self.clock() + tick
        while True:
            try:
                item = self.inbox.get(timeout=max(0.0, next_scan - self.clock()))
            except queue.Empty:
                item = ()
            now = self.clock()
            if item is None:
                self._drain(now)
                return
            if isinstance(item, _Flush):
                for done in a.complete_all(now, "flush"):
                    self._emit(done)
                self.outbox.put(item)
            elif item:
                pieces, n, nbytes, received = item
                if self.feed is None:
                    for piece in pieces:
                        for done in a.add(piece, now):
                            self._emit(done)
                else:
                    from workbench.stream.serving import add_pieces

                    add_pieces(self, pieces, now)
                    self.metrics.observe_fast(self.clock() - received)
                with self._lock:
                    self.queued_spans -= n
                    self.queued_bytes -= nbytes
            if now >= next_scan:
                for done in a.due(now):
                    self._emit(done)
                next_scan = now + tick
            self._relieve()

    def _relieve(self) -> None:
        """Under memory pressure (over :data:`SHED_AT` of ``max_memory``), forget retained
        completed traces down to :data:`SHED_TO` of it: they are a cache of the store, and
        keeping them would refuse new spans for good once they fill the limit."""
        limit = self.config.max_memory_bytes
        if self.held_bytes() > SHED_AT * limit:
            others = self.held_bytes() - self.assembler.held_bytes
            self.assembler.shed(max(0, int(SHED_TO * limit) - others))

    def _drain(self, now: float) -> None:
        a = self.assembler
        keep_open = [t for t in a.open.values() if not t.root_ended]
        for trace in keep_open:
            a.open.pop(trace.trace_id)
            a.by_age.pop(trace.trace_id)
        for done in a.complete_all(now, "drain"):
            self._emit(done)
        if keep_open:
            self.store.save([
                TraceRecord(t.trace_id.hex(), t.revision, t.n_spans, time.time(), t.payload(),
                            state="open")
                for t in keep_open
            ])
            log.info("persisted %d open trace(s) for the next start", len(keep_open))
        self.outbox.put(None)

    def _emit(self, done: Completed) -> None:
        """Hand a completed trace to the checker (with the stream's verdicts on it)."""
        if self.feed is not None:
            from workbench.stream.serving import snapshot

            snapshot(self, done)
        with self._lock:
            self.checking_bytes += len(done.payload)
        self.outbox.put(done)

    # ------------------------------------------------------------------ checker thread
    def _check_loop(self) -> None:
        while True:
            item = self.outbox.get()
            if item is None:
                return
            if isinstance(item, _Flush):
                item.done.set()
                continue
            batch = {item.trace_id: item}
            n = item.n_spans
            taken = len(item.payload)
            pending: list[Any] = []
            while n < self.batch_spans:
                try:
                    more = self.outbox.get_nowait()
                except queue.Empty:
                    break
                if more is None or isinstance(more, _Flush):
                    pending.append(more)
                    break
                batch[more.trace_id] = more  # a later revision supersedes an earlier one
                n += more.n_spans
                taken += len(more.payload)
            try:
                self._check(list(batch.values()))
            except Exception:  # never lose the thread: count, log, keep serving
                log.exception("checking %d trace(s) failed", len(batch))
                self.metrics.inc(self.metrics.dropped, "check_error",
                                 sum(d.n_spans for d in batch.values()))
            finally:
                with self._lock:
                    self.checking_bytes -= taken
            for p in pending:
                if p is None:
                    return
                p.done.set()

    def _check(self, batch: list[Completed]) -> None:
        if self.feed is not None:
            from workbench.stream.serving import check_completed

            self._store(check_completed(self, batch), batch)
            return
        from workbench.engine import check
        from workbench.traces import otlp_proto
        from workbench.traces.builder import TableBuilder

        builder = TableBuilder()
        otlp_proto.load(batch_payload(batch), "otlp", builder, fast=True)
        table = builder.build()
        result = check(self.spec, table, self.config.params or None, backend=self.backend)
        by_id = {d.trace_id: d for d in batch}
        wall = time.time()
        now = self.clock()
        root_names, services = _trace_summaries(table)
        records: dict[int, TraceRecord] = {}
        for t, trace_id in enumerate(table.trace_id_hex):
            d = by_id.get(trace_id)
            if d is None:  # cannot happen: every span of the payload has a valid trace id
                continue
            records[t] = TraceRecord(
                d.trace_id, d.revision, d.n_spans,
                wall - (now - d.first_seen), d.payload,
                completed_at=wall - (now - d.completed_at), checked_at=wall,
                reason=d.reason, root_name=root_names.get(t, ""), services=services.get(t, ""),
            )
        for res in result.results:
            severity = self.severity.get(res.name, res.prop.severity)
            holds_all = res.holds.tolist()
            for t, rec in records.items():
                if holds_all[t]:
                    rec.verdicts.append(VerdictRecord(res.name, severity, True, "", []))
                    continue
                witnesses = res.witnesses.get(t, [])[:MAX_WITNESSES]
                rec.verdicts.append(VerdictRecord(
                    res.name, severity, False, witnesses[0].message if witnesses else "",
                    [w.to_json() for w in witnesses]))
        seen = {r.trace_id for r in records.values()}
        # a trace none of whose spans the decoder kept (its diagnostics say why) is stored
        # without verdicts rather than forgotten
        unmatched = [TraceRecord(d.trace_id, d.revision, d.n_spans, wall, d.payload,
                                 completed_at=wall, checked_at=wall, reason=d.reason)
                     for d in batch if d.trace_id not in seen]
        for diag in table.diagnostics:
            if diag.severity == "error":
                log.warning("decoding a completed trace: %s", diag)
        self._store([*records.values(), *unmatched], batch)

    def _store(self, stored: list[TraceRecord], batch: list[Completed]) -> None:
        """Save checked traces, count them, and hand them to the alerts."""
        self.store.save(stored)
        done_at = self.clock()
        m = self.metrics
        with m.lock:
            for d in batch:
                m.deep.observe(done_at - d.completed_at)
            m.traces_checked += len(stored)
            m.revisions += sum(r.revision > 1 for r in stored)
            for rec in stored:
                for v in rec.verdicts:
                    if not v.holds:
                        key = (v.property, v.severity)
                        m.violations[key] = m.violations.get(key, 0) + 1
        if self.on_verdicts is not None:
            self.on_verdicts(stored)
