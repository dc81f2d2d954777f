"""Trace assembly: join the pieces of each trace as they arrive, decide when a trace is complete.

Spans arrive out of order, in pieces, from several services. A trace is *complete* when a span
without a parent (its root) has ended and no span arrived for ``idle`` seconds, or when it has
been open for ``max_age`` seconds, whichever comes first. A span that arrives after completion
reopens the trace: it is joined with the spans already seen (kept for the last ``retain``
completed traces, else read back from the store) and the trace is checked again, so its stored
verdict is revised.

:class:`Assembler` is plain single-threaded state with the clock passed in, so its rules are
tested without sleeping; :mod:`workbench.serve.pipeline` drives it from one thread.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from workbench.serve.decode import Piece, pieces_request

GroupKey = tuple[bytes, str, bytes, str]


@dataclass(slots=True)
class OpenTrace:
    """The spans seen so far of one trace."""

    trace_id: bytes
    first_seen: float
    last_update: float
    groups: dict[GroupKey, list[bytes]] = field(default_factory=dict)
    seen: set[bytes] = field(default_factory=set)
    n_spans: int = 0
    nbytes: int = 0
    root_ended: bool = False
    #: completed checks so far; the next check stores revision ``revision + 1``
    revision: int = 0

    def payload(self) -> bytes:
        """The spans as one serialized ``ExportTraceServiceRequest``."""
        return pieces_request(self.groups.items())


@dataclass(slots=True, frozen=True)
class Completed:
    """A trace handed to the checker."""

    trace_id: str  # lowercase hex
    revision: int
    payload: bytes
    n_spans: int
    first_seen: float
    completed_at: float
    reason: str  # "idle", "max_age", "evicted" (too many open traces) or "drain"
    #: the serialized spans by (resource, scope), as they were at completion (a later reopening
    #: appends to the open trace, not to these): the checker merges the groups of many traces
    #: into one request, so a resource shared by a batch's traces is decoded once
    groups: tuple[tuple[GroupKey, tuple[bytes, ...]], ...] = ()


class Assembler:
    """Open traces and the rules that complete them.

    Parameters
    ----------
    idle
        Seconds without a new span after the root has ended.
    max_age
        Seconds after the first span of an opening at which the trace completes regardless.
    max_spans_per_trace
        Spans beyond this in one trace are dropped and counted (``max_spans_per_trace``).
    max_open_traces
        When exceeded, the least recently updated trace completes early (``evicted``); a
        later span reopens it.
    retain
        How many completed traces keep their spans in memory for late arrivals.
    reload
        ``trace_id hex -> (payload, revision)`` of a completed trace no longer retained (the
        store), or None when unknown.
    on_drop
        Called with ``(reason, count)`` for every dropped span.
    """

    def __init__(
        self,
        *,
        idle: float = 2.0,
        max_age: float = 60.0,
        max_spans_per_trace: int = 100_000,
        max_open_traces: int = 100_000,
        retain: int = 10_000,
        reload: Callable[[str], tuple[list[Piece], int] | None] | None = None,
        on_drop: Callable[[str, int], None] | None = None,
    ) -> None:
        self.idle = idle
        self.max_age = max_age
        self.max_spans_per_trace = max_spans_per_trace
        self.max_open_traces = max_open_traces
        self.retain = retain
        self.reload = reload
        self.on_drop = on_drop or (lambda reason, n: None)
        #: open traces, least recently updated first
        self.open: OrderedDict[bytes, OpenTrace] = OrderedDict()
        #: the same traces, oldest opening first (for ``max_age``)
        self.by_age: OrderedDict[bytes, None] = OrderedDict()
        #: completed traces still in memory, least recently completed first
        self.closed: OrderedDict[bytes, OpenTrace] = OrderedDict()
        self.held_bytes = 0
        self.reopened = 0
        self.duplicates = 0

    # ------------------------------------------------------------------ adding spans
    def _trace(self, trace_id: bytes, now: float) -> OpenTrace:
        trace = self.open.get(trace_id)
        if trace is not None:
            return trace
        trace = self.closed.pop(trace_id, None)
        if trace is None and self.reload is not None:
            found = self.reload(trace_id.hex())
            if found is not None:
                pieces, revision = found
                trace = OpenTrace(trace_id, now, now, revision=revision)
                for old in pieces:
                    self._merge(trace, old)
                self.held_bytes += trace.nbytes
        if trace is None:
            trace = OpenTrace(trace_id, now, now)
        else:
            self.reopened += 1
            trace.first_seen = now  # max_age counts from the reopening
        self.open[trace_id] = trace
        self.by_age[trace_id] = None
        return trace

    def _merge(self, trace: OpenTrace, piece: Piece) -> int:
        """Add the spans of ``piece``; returns how many were dropped for the size limit."""
        dropped = 0
        for key, spans in piece.groups.items():
            target = trace.groups.get(key)
            for data in spans:
                if data in trace.seen:  # an exporter's retry of a span already held
                    self.duplicates += 1
                    continue
                if trace.n_spans >= self.max_spans_per_trace:
                    dropped += 1
                    continue
                if target is None:
                    target = trace.groups[key] = []
                target.append(data)
                trace.seen.add(data)
                trace.n_spans += 1
                trace.nbytes += len(data)
        if piece.ended_roots:
            trace.root_ended = True
        return dropped

    def add(self, piece: Piece, now: float) -> list[Completed]:
        """Join ``piece``; returns traces completed early because too many are open."""
        trace = self._trace(piece.trace_id, now)
        before = trace.nbytes
        dropped = self._merge(trace, piece)
        self.held_bytes += trace.nbytes - before
        if dropped:
            self.on_drop("max_spans_per_trace", dropped)
        trace.last_update = now
        self.open.move_to_end(piece.trace_id)
        out = []
        while len(self.open) > self.max_open_traces:
            oldest = next(iter(self.open))
            out.append(self._complete(oldest, now, "evicted"))
        return out

    # ------------------------------------------------------------------ completing
    def _complete(self, trace_id: bytes, now: float, reason: str) -> Completed:
        trace = self.open.pop(trace_id)
        del self.by_age[trace_id]
        trace.revision += 1
        done = Completed(
            trace_id.hex(), trace.revision, trace.payload(), trace.n_spans, trace.first_seen,
            now, reason, tuple((key, tuple(spans)) for key, spans in trace.groups.items()),
        )
        self.closed[trace_id] = trace
        while len(self.closed) > self.retain:
            _, old = self.closed.popitem(last=False)
            self.held_bytes -= old.nbytes
        return done

    def shed(self, target: int) -> int:
        """Forget retained completed traces, least recently completed first, until at most
        ``target`` bytes are held (a late span of one reloads it from the store); returns
        how many were forgotten. Open traces are never shed."""
        n = 0
        while self.held_bytes > target and self.closed:
            _, old = self.closed.popitem(last=False)
            self.held_bytes -= old.nbytes
            n += 1
        return n

    def due(self, now: float) -> list[Completed]:
        """Complete every trace whose time has come."""
        idle_before = now - self.idle
        ready = []
        for trace_id, trace in self.open.items():  # least recently updated first
            if trace.last_update > idle_before:
                break
            if trace.root_ended:
                ready.append((trace_id, "idle"))
        age_before = now - self.max_age
        for trace_id in self.by_age:  # oldest opening first
            if self.open[trace_id].first_seen > age_before:
                break
            ready.append((trace_id, "max_age"))
        return [self._complete(t, now, why) for t, why in ready if t in self.open]

    def complete_all(self, now: float, reason: str = "drain") -> list[Completed]:
        """Complete every open trace now (flush and shutdown)."""
        return [self._complete(t, now, reason) for t in list(self.open)]

    @property
    def n_open(self) -> int:
        return len(self.open)
