"""OTLP pieces -> stream records -> incremental verdicts, for ``otlspec serve``.

The serve pipeline's assembler thread calls :meth:`StreamFeed.add` with each piece it joined
(only the spans new to the trace: an exporter's retry is not counted twice) and
:meth:`StreamFeed.snapshot` when a trace completes. Each group of a piece (one resource and
scope) is decoded by the project's OTLP decoder (:mod:`workbench.traces.otlp_proto`), exactly
as a batch run of the same bytes would read it, into records whose row order reproduces the
order of the trace's stored payload: spans of equal start are ordered by their group's first
appearance, then by arrival, as in the table the batch checker builds from that payload. So the
stream verdicts are the batch verdicts, not an approximation of them.

When the feed cannot follow a trace (its state was evicted, the trace was reloaded from the
store, spans were dropped for the size limit, or decoding disagreed), it rebuilds that trace's
state from the full payload (:meth:`StreamFeed.resync`); when evaluation fails (a regex
timeout), the snapshot says so and the pipeline checks that property with the batch engine.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from workbench.lang import ir
from workbench.stream.monitor import StreamMonitor, TraceMonitor
from workbench.stream.state import SpanRec, records_from_table

GroupKey = tuple[bytes, str, bytes, str]


@dataclass
class Snapshot:
    """The stream's verdicts on a completed trace.

    ``verdicts`` maps each supported property to its verdict; ``batch`` maps the properties
    the batch engine must decide (outside the fragment, or evaluation failed) to the reason.
    """

    trace_id: str
    n_spans: int
    verdicts: dict[str, bool]
    batch: dict[str, str]
    root_name: str
    services: list[str]

    @property
    def failed(self) -> list[str]:
        return [name for name, ok in self.verdicts.items() if not ok]


@dataclass
class _Trace:
    mon: TraceMonitor
    ranks: dict[GroupKey, int] = field(default_factory=dict)


def _decode(payload: bytes) -> Any:
    """The span table of a serialized request (the batch decoder)."""
    from workbench.traces import otlp_proto
    from workbench.traces.builder import TableBuilder

    builder = TableBuilder()
    otlp_proto.load(payload, "otlp", builder)
    return builder.build()


def decode_group(key: GroupKey, spans: Sequence[bytes]) -> Any:
    """The span table of one group's serialized spans."""
    from workbench.serve.decode import pieces_request

    return _decode(pieces_request([(key, spans)]))


def _rows_by_resource(table: Any, n: int) -> list[list[int]]:
    """The rows of each ``ResourceSpans`` of the decoded request, in row order (the decoder
    registers one resource per ``ResourceSpans``, in order)."""
    out: list[list[int]] = [[] for _ in range(n)]
    for row, res in enumerate(table.resource.tolist()):
        if 0 <= res < n:
            out[res].append(row)
    return out


class StreamFeed:
    """Incremental verdicts of a bound spec over the traces the assembler joins.

    Parameters
    ----------
    props:
        Bound properties.
    params:
        Parameter values.
    capacity:
        Traces whose stream state is kept (open plus retained completed ones); the least
        recently updated beyond it are forgotten and rebuilt from the payload if a late span
        reopens them.
    max_bytes:
        Also forget the least recently updated traces while the estimated bytes of the
        stream state (:attr:`held_bytes`) exceed this (``None``: no byte limit).
    """

    def __init__(self, props: Sequence[ir.Property], params: Mapping[str, Any] | None = None,
                 capacity: int = 110_000, max_bytes: int | None = None) -> None:
        self.monitor = StreamMonitor(props, params)
        self.capacity = capacity
        self.max_bytes = max_bytes
        self._traces: OrderedDict[str, _Trace] = OrderedDict()
        self.resyncs = 0
        self.seconds = 0.0

    @property
    def unsupported(self) -> dict[str, str]:
        return self.monitor.unsupported

    @property
    def held_bytes(self) -> int:
        """Estimated bytes of the stream state of every trace kept (see
        :func:`workbench.stream.monitor.span_bytes`): what ``serve --max-memory`` counts."""
        return self.monitor.held_bytes

    def n_spans(self, trace_id: str) -> int:
        found = self._traces.get(trace_id)
        return -1 if found is None else found.mon.n_spans

    def _trace(self, trace_id: str) -> _Trace:
        found = self._traces.get(trace_id)
        if found is None:
            found = self._traces[trace_id] = _Trace(self.monitor.trace(trace_id))
            limit = self.max_bytes
            while len(self._traces) > self.capacity or (
                    limit is not None and self.monitor.held_bytes > limit
                    and len(self._traces) > 1):
                old, _ = self._traces.popitem(last=False)
                self.monitor.reset(old)
        else:
            self._traces.move_to_end(trace_id)
        return found

    def add(self, trace_id: str, groups: Iterable[tuple[GroupKey, Sequence[bytes]]],
            expected: int, full: Iterable[tuple[GroupKey, Sequence[bytes]]]) -> None:
        """Feed the new spans of one trace (see :meth:`add_many`)."""
        self.add_many([(trace_id, groups, expected, full)])

    def add_many(self, items: Sequence[tuple[str, Iterable[tuple[GroupKey, Sequence[bytes]]],
                                             int, Iterable[tuple[GroupKey, Sequence[bytes]]]]]
                 ) -> None:
        """Feed the new spans of several traces (one export request), decoded together.

        Each item is ``(trace_id, groups, expected, full)``: the trace (lowercase hex), the
        spans new to it per group in the order the assembler merged them, how many spans the
        assembler now holds for it, and every group of the trace (for a rebuild when the feed
        cannot follow).
        """
        t0 = time.perf_counter()
        todo: list[tuple[str, _Trace, list[tuple[GroupKey, list[bytes]]], Any]] = []
        for trace_id, groups, expected, full in items:
            tr = self._trace(trace_id)
            new = [(k, list(sp)) for k, sp in groups if sp]
            if tr.mon.n_spans + sum(len(sp) for _, sp in new) != expected:
                self.resync(trace_id, full)
            elif new:
                todo.append((trace_id, tr, new, full))
        if todo:
            from workbench.serve.decode import pieces_request

            pairs = [(k, sp) for _, _, new, _ in todo for k, sp in new]
            table = _decode(pieces_request(pairs))
            rows = _rows_by_resource(table, len(pairs))
            p = 0
            for trace_id, tr, new, full in todo:
                recs: list[SpanRec] = []
                ok = True
                for key, spans in new:
                    mine = rows[p]
                    p += 1
                    if len(mine) != len(spans):
                        ok = False
                        continue
                    rank = tr.ranks.setdefault(key, len(tr.ranks))
                    recs.extend(records_from_table(
                        table, mine, first_seq=tr.mon.state.n_added + len(recs),
                        ties=[(rank,)] * len(mine)))
                if ok:
                    self.monitor.update(trace_id, recs)
                else:
                    self.resync(trace_id, full)
        self.seconds += time.perf_counter() - t0

    def resync(self, trace_id: str, full: Iterable[tuple[GroupKey, Sequence[bytes]]]) -> None:
        """Rebuild the state of ``trace_id`` from all of its spans."""
        self.resyncs += 1
        self.monitor.reset(trace_id)
        self._traces.pop(trace_id, None)
        tr = self._trace(trace_id)
        recs: list[SpanRec] = []
        for key, spans in full:
            if spans:
                recs.extend(self._records_rebuild(tr, key, spans, len(recs)))
        self.monitor.update(trace_id, recs)

    def _records_rebuild(self, tr: _Trace, key: GroupKey, spans: Sequence[bytes], first: int
                         ) -> list[SpanRec]:
        rank = tr.ranks.setdefault(key, len(tr.ranks))
        table = decode_group(key, spans)
        if not table.n_traces:
            return []
        return records_from_table(table, table.trace_rows(0), first_seq=first,
                                  ties=[(rank,)] * table.n_spans)

    def snapshot(self, trace_id: str) -> Snapshot:
        """The verdicts on the spans seen so far of ``trace_id``."""
        tr = self._trace(trace_id)
        mon = tr.mon
        verdicts: dict[str, bool] = {}
        batch = dict(self.monitor.unsupported)
        for k, plan in enumerate(mon.plans):
            if mon.error(k):
                batch[plan.name] = mon.error(k)
            else:
                verdicts[plan.name] = mon.verdict(k)
        st = mon.state
        roots = st.roots()
        services = sorted({r.fields["service"] for r in st.spans} - {""})
        return Snapshot(trace_id, mon.n_spans, verdicts, batch,
                        str(roots[0].fields["name"]) if roots else "", services)

    def forget(self, trace_id: str) -> None:
        self._traces.pop(trace_id, None)
        self.monitor.reset(trace_id)


__all__ = ["Snapshot", "StreamFeed", "decode_group"]
