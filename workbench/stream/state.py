"""The spans of one trace seen so far, and the structure the semantics talks about.

A :class:`SpanRec` is one span's values, read once from the (small) span table its export
request decoded to, with the same accessors the reference interpreter uses
(:func:`workbench.engine.reference.span_field`), so a field means the same thing here and in a
batch run. :class:`TraceState` joins the records of a trace as they arrive and answers the
relations of ``docs/language.md`` (parent, children, ancestors, descendants, siblings, roots,
the timeline) the way :class:`workbench.traces.context.TraceContext` does on a built table:

* rows are ordered by ``(start, arrival)``, which is the row order of a table built from the
  spans in arrival order;
* a parent id resolves to the first span in that order with that id (the table builder's
  stable lookup), so duplicated ids resolve alike;
* the timeline is sorted by ``(time, phase, row, event index)``.

The structure is kept up to date by each :meth:`TraceState.add`, span by span (a duplicated
id that moves how a parent id resolves rebuilds the children once, lazily).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from workbench.engine.reference import span_field
from workbench.traces.context import END, EVENT, START, TraceContext
from workbench.traces.model import SpanTable

#: The fields read once per span (``depth`` and ``is_root`` depend on the trace and are
#: answered by :class:`TraceState`).
STATIC_FIELDS = tuple(
    name for name in ("trace_id", "span_id", "parent_id", "name", "kind", "status",
                      "status_message", "start", "end", "duration", "service", "scope",
                      "has_end", "flags", "sampled", "trace_state", "event_count",
                      "link_count", "attribute_count")
)

IdKey = tuple[int, int]


@dataclass(eq=False, slots=True)
class EventRec:
    """A span event (identity is the event: two reads of one event are the same object)."""

    span: SpanRec
    index: int
    name: str
    time: int
    attributes: dict[str, Any]
    #: values of single-variable sub-terms on this event (see ``Compiler``), computed once
    memo: dict[int, Any] = field(default_factory=dict)


@dataclass(eq=False, slots=True)
class SpanRec:
    """One span's values. ``seq`` is its arrival number in the trace; ``key`` its span id as
    ``(value, byte length)`` (None when empty), ``parent_key`` likewise (None for a root)."""

    seq: int
    key: IdKey | None
    parent_key: IdKey | None
    start: int
    fields: dict[str, Any]
    attrs: dict[str, Any]
    resource: dict[str, Any]
    events: list[EventRec] = field(default_factory=list)
    n_links: int = 0
    #: values of single-variable sub-terms on this span (see ``Compiler``), computed once
    memo: dict[int, Any] = field(default_factory=dict)
    #: the row order: ``(start, *tie, seq)``, as the table builder sorts (start, input index)
    order: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if not self.order:
            self.order = (self.start, self.seq)

    @property
    def is_root(self) -> bool:
        return self.parent_key is None

    @property
    def label(self) -> str:
        return f"{self.fields['name']}#{self.fields['span_id']}"


def records_from_table(table: SpanTable, rows: Iterable[int], first_seq: int | None = None,
                       ties: Sequence[tuple[int, ...]] | None = None) -> list[SpanRec]:
    """Read ``rows`` of ``table`` (one trace) into records.

    They are numbered from ``first_seq`` in the order given (arrival order), or, when it is
    ``None``, by their row numbers: a state fed such records in any order reproduces the
    table's row order exactly (what the differential tests compare against). ``ties`` (one per
    row) order spans of equal start before their number: the position of the span in the
    input a batch run would read (see :mod:`workbench.stream.feed`).
    """
    out: list[SpanRec] = []
    rows = list(rows)
    if not rows:
        return out
    ctx = TraceContext(table, int(table.trace_index[rows[0]]))
    for k, row in enumerate(rows):
        fields = {name: span_field(ctx, row, name) for name in STATIC_FIELDS}
        klen = int(table.span_id_len[row])
        plen = int(table.parent_id_len[row])
        rec = SpanRec(
            seq=row if first_seq is None else first_seq + k,
            key=(int(table.span_id[row]), klen) if klen != 0 else None,
            parent_key=(int(table.parent_span_id[row]), plen) if plen != 0 else None,
            start=int(table.start[row]),
            fields=fields,
            attrs=table.attributes_of(row),
            resource=table.resource_of(row),
            n_links=int(table.link_offsets[row + 1] - table.link_offsets[row]),
        )
        if ties is not None:
            rec.order = (rec.start, *ties[k], rec.seq)
        rec.events = [EventRec(rec, ev.index, ev.name, ev.time, ev.attributes)
                      for ev in table.events_of(row)]
        out.append(rec)
    return out


#: A timeline point: (time, phase, row order, event index, span, event name).
PointT = tuple[int, int, tuple[int, ...], int, SpanRec, str]


def _order(rec: SpanRec) -> tuple[int, ...]:
    return rec.order


def _point_key(p: PointT) -> tuple[Any, ...]:
    return p[:4]


def points_of(rec: SpanRec) -> list[PointT]:
    """The timeline points of one span: its start, its events, its end (when it has one)."""
    ordr = rec.order
    out: list[PointT] = [(rec.start, START, ordr, 0, rec, "")]
    out.extend((ev.time, EVENT, ordr, ev.index, rec, ev.name) for ev in rec.events)
    if rec.fields["has_end"]:
        out.append((int(rec.fields["end"]), END, ordr, 0, rec, ""))
    return out


class TraceState:
    """The spans of one trace seen so far (see the module docstring)."""

    def __init__(self) -> None:
        self.spans: list[SpanRec] = []  # row order
        self.by_key: dict[IdKey, list[SpanRec]] = {}  # span id -> spans, row order
        self.by_parent_key: dict[IdKey, list[SpanRec]] = {}  # parent id -> spans, row order
        self.by_seq: dict[int, SpanRec] = {}
        self.n_added = 0
        self._points: list[PointT] = []
        self._times: list[int] = []  # the points' times
        self._roots: list[SpanRec] = []  # row order
        #: seq -> children, kept up to date by :meth:`add` (None: rebuilt on next use, after
        #: a duplicated id moved how a parent id resolves)
        self._children: dict[int, list[SpanRec]] | None = {}

    # ------------------------------------------------------------------ adding
    def add(self, recs: Iterable[SpanRec]) -> list[SpanRec]:
        """Join ``recs``; returns them. The structure (children, roots, timeline) is kept up
        to date span by span: O(log n) each, plus the list insertions."""
        added = list(recs)
        for rec in added:
            if rec.seq in self.by_seq:
                raise ValueError(f"span number {rec.seq} added twice to one trace")
            self.by_seq[rec.seq] = rec
            bisect.insort(self.spans, rec, key=_order)
            first = True
            if rec.key is not None:
                same = self.by_key.setdefault(rec.key, [])
                bisect.insort(same, rec, key=_order)
                first = same[0] is rec
                if first and len(same) > 1:  # the id now resolves to rec: rebuild children
                    self._children = None
            kids = self._children
            if kids is not None:
                # spans already waiting for this id are its children (row order)
                waiting = self.by_parent_key.get(rec.key, []) if first and rec.key else []
                kids[rec.seq] = list(waiting)
                p = self.parent_of(rec)
                if p is not None:
                    bisect.insort(kids[p.seq], rec, key=_order)
            if rec.parent_key is not None:
                bisect.insort(self.by_parent_key.setdefault(rec.parent_key, []), rec,
                              key=_order)
            else:
                bisect.insort(self._roots, rec, key=_order)
            for pt in points_of(rec):
                i = bisect.bisect_left(self._points, pt[:4], key=_point_key)
                self._points.insert(i, pt)
                self._times.insert(i, pt[0])
        self.n_added += len(added)
        return added

    def reset(self) -> None:
        """Forget every span."""
        self.__init__()  # type: ignore[misc]

    # ------------------------------------------------------------------ structure
    def parent_of(self, rec: SpanRec) -> SpanRec | None:
        """The span ``rec``'s parent id resolves to (the first with that id), if any."""
        if rec.parent_key is None:
            return None
        found = self.by_key.get(rec.parent_key)
        return found[0] if found else None

    @property
    def children(self) -> dict[int, list[SpanRec]]:
        """``seq`` -> the spans whose parent resolves to it, row order."""
        found = self._children
        if found is None:
            found = {r.seq: [] for r in self.spans}
            for r in self.spans:
                p = self.parent_of(r)
                if p is not None:
                    found[p.seq].append(r)
            self._children = found
        return found

    def roots(self) -> list[SpanRec]:
        return self._roots

    def ancestors(self, rec: SpanRec) -> list[SpanRec]:
        out: list[SpanRec] = []
        seen: set[int] = set()
        p = self.parent_of(rec)
        while p is not None and p.seq not in seen:
            seen.add(p.seq)
            out.append(p)
            p = self.parent_of(p)
        return out

    def descendants(self, rec: SpanRec) -> list[SpanRec]:
        children = self.children
        out: list[SpanRec] = []
        seen: set[int] = set()
        stack = list(reversed(children[rec.seq]))
        while stack:
            r = stack.pop()
            if r.seq in seen:
                continue
            seen.add(r.seq)
            out.append(r)
            stack.extend(reversed(children[r.seq]))
        return out

    def siblings(self, rec: SpanRec) -> list[SpanRec]:
        p = self.parent_of(rec)
        if p is None:
            return []
        return [c for c in self.children[p.seq] if c is not rec]

    def depth(self, rec: SpanRec) -> int:
        return len(self.ancestors(rec))

    # ------------------------------------------------------------------ timeline
    @property
    def points(self) -> list[PointT]:
        """The timeline, sorted by (time, phase, row, event index)."""
        return self._points

    def index_of(self, point: PointT) -> int:
        """The position of ``point`` (one of this trace's) on the timeline."""
        return bisect.bisect_left(self._points, point[:4], key=_point_key)

    @property
    def times(self) -> list[int]:
        return self._times

    def positions(self, rec: SpanRec, phase: int, name: str | None) -> list[int]:
        """The sorted indices of ``rec``'s timeline points of ``phase`` (named ``name``)."""
        return [self.index_of(p) for p in points_of(rec)
                if p[1] == phase and (name is None or p[5] == name)]


__all__ = ["EventRec", "PointT", "SpanRec", "TraceState", "points_of", "records_from_table"]
