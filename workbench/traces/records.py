"""One span as a plain Python object: the record type shared by generators, witnesses and repairs.

A :class:`SpanRecord` says everything OTLP can say about one span, with ids as lowercase hex
text. The dataset generator and its fault injectors edit records in place; the SMT layer turns
a model into records (witnesses, counterexamples) and a table back into records (repairs).
Records become a :class:`~workbench.traces.model.SpanTable` with :func:`to_table` and files with
:mod:`workbench.traces.otlp_write`; :func:`records_from_table` reads one trace of a table back.

Attributes (of the span, its events and links) are dictionaries; lists of ``(key, value)``
pairs are accepted by the constructor and converted. The resource is a list of ``(key, value)``
pairs that spans of one process share *by reference*: writers and :func:`to_table` group spans
by resource object, so a generator that gives every process its own list gets one OTLP
``ResourceSpans`` per process, in order of first appearance.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from workbench.traces.builder import TableBuilder
from workbench.traces.model import ATTR_BYTES, AttrColumns, AttrValue, SpanTable

#: A resource: ``(key, value)`` pairs, shared by the spans of one process.
Attrs = list[tuple[str, Any]]
#: Attributes of a span, an event or a link.
AttrDict = dict[str, Any]
Event = tuple[str, int, AttrDict]
Link = tuple[str, str, AttrDict]

#: OTLP span kinds and status codes.
INTERNAL, SERVER, CLIENT, PRODUCER, CONSUMER = 1, 2, 3, 4, 5
UNSET, OK, ERROR = 0, 1, 2


def _as_dict(attrs: Mapping[str, Any] | Iterable[tuple[str, Any]]) -> AttrDict:
    return attrs if type(attrs) is dict else dict(attrs)


@dataclass(slots=True)
class SpanRecord:
    """One span with everything OTLP/JSON can say about it (ids as lowercase hex).

    Records compare by value; code that tracks *which* span (labels, fault injectors) compares
    with ``is``. ``service`` is bookkeeping for generators (the ``service.name`` the span was
    made for) and is not written.
    """

    trace_id: str
    span_id: str
    parent_id: str = ""
    name: str = ""
    kind: int = 0
    status: int = 0
    status_message: str = ""
    start: int = 0
    end: int | None = None
    flags: int = 0
    trace_state: str = ""
    scope: str = ""
    resource: Attrs = field(default_factory=list)
    attributes: AttrDict = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    scope_version: str = ""
    service: str = ""

    def __post_init__(self) -> None:
        if type(self.attributes) is not dict:
            self.attributes = dict(self.attributes)
        if self.events:
            self.events = [(n, t, _as_dict(a)) for n, t, a in self.events]
        if self.links:
            self.links = [(t, s, _as_dict(a)) for t, s, a in self.links]

    @property
    def duration(self) -> int:
        """End minus start (0 without an end)."""
        return 0 if self.end is None else self.end - self.start

    def shift(self, offset: int) -> None:
        """Move the span and its events by ``offset`` ns, in place (a host's clock offset)."""
        self.start += offset
        if self.end is not None:
            self.end += offset
        self.events = [(n, t + offset, a) for n, t, a in self.events]

    def shifted(self, offset: int) -> SpanRecord:
        """A copy with every timestamp moved by ``offset`` ns."""
        return replace(
            self,
            start=self.start + offset,
            end=None if self.end is None else self.end + offset,
            events=[(n, t + offset, a) for n, t, a in self.events],
        )


# ------------------------------------------------------------------------ grouping


def resource_key(resource: Attrs) -> str:
    """A text key of a resource's content (for grouping equal resources)."""
    return json.dumps(resource, sort_keys=True, default=str)


def grouped(records: Iterable[SpanRecord], *, regroup: bool = False
            ) -> Iterator[tuple[Attrs, list[tuple[tuple[str, str], list[SpanRecord]]]]]:
    """Records as ``(resource, [((scope, version), spans), ...])`` groups.

    Parameters
    ----------
    records
        The spans.
    regroup
        ``False``: spans keep their order and a group ends where the next span has another
        resource (by content) or scope. ``True``: every span joins the group of its resource
        *object* and scope, groups in order of first appearance (the layout of an exporter
        that batches per process).

    Yields
    ------
    tuple
        The resource and its scope groups.
    """
    if regroup:
        by_res: dict[int, tuple[Attrs, dict[tuple[str, str], list[SpanRecord]]]] = {}
        for r in records:
            entry = by_res.get(id(r.resource))
            if entry is None:
                entry = by_res[id(r.resource)] = (r.resource, {})
            entry[1].setdefault((r.scope, r.scope_version), []).append(r)
        for resource, scopes in by_res.values():
            yield resource, list(scopes.items())
        return
    out: list[tuple[Attrs, list[tuple[tuple[str, str], list[SpanRecord]]]]] = []
    last_res: str | None = None
    last_scope: tuple[str, str] | None = None
    for r in records:
        res = resource_key(r.resource)
        if res != last_res:
            out.append((r.resource, []))
            last_res, last_scope = res, None
        scope = (r.scope, r.scope_version)
        if scope != last_scope:
            out[-1][1].append((scope, []))
            last_scope = scope
        out[-1][1][-1][1].append(r)
    yield from out


# ------------------------------------------------------------------------ to and from a table


def to_table(records: Iterable[SpanRecord], source: str = "", *,
             regroup: bool = False) -> SpanTable:
    """A :class:`SpanTable` of ``records``.

    Parameters
    ----------
    records
        The spans.
    source
        The ``source`` column's value (the file the spans would have come from).
    regroup
        Add spans in the order :func:`grouped` with ``regroup=True`` gives, so that the table
        equals the one loaded from :func:`workbench.traces.otlp_write.otlp_json` written with
        the same flag (row order is (trace, start, input order) either way).

    Returns
    -------
    SpanTable
    """
    b = TableBuilder()
    for resource, scopes in grouped(records, regroup=regroup):
        res = b.add_resource(resource)
        for (scope, _version), spans in scopes:
            for r in spans:
                b.add_span(trace_id=r.trace_id, span_id=r.span_id, parent_id=r.parent_id,
                           name=r.name, kind=r.kind, status=r.status,
                           status_message=r.status_message, start=r.start, end=r.end,
                           flags=r.flags, trace_state=r.trace_state, resource=res,
                           scope=scope, source=source, attributes=r.attributes.items(),
                           events=[(n, t, a.items()) for n, t, a in r.events],
                           links=[(t, s, a.items()) for t, s, a in r.links])
    return b.build()


def _attr_items(cols: AttrColumns, owner: int, table: SpanTable) -> Attrs:
    out: Attrs = []
    for j in range(int(cols.offsets[owner]), int(cols.offsets[owner + 1])):
        key = table.strings[int(cols.key[j])]
        value: AttrValue | bytes = cols.value(j, table.strings)
        if int(cols.type[j]) == ATTR_BYTES and isinstance(value, str):
            try:
                value = bytes.fromhex(value)
            except ValueError:
                pass
        out.append((key, value))
    return out


def records_from_table(table: SpanTable, trace: int) -> list[SpanRecord]:
    """The spans of trace ``trace`` of ``table``, in row order.

    Spans that share a resource row share one resource list.
    """
    out: list[SpanRecord] = []
    trace_id = table.trace_id_hex[trace]
    resources: dict[int, Attrs] = {}
    strings = table.strings
    for r in table.trace_rows(trace):
        events: list[Event] = []
        for j in range(int(table.event_offsets[r]), int(table.event_offsets[r + 1])):
            events.append((strings[int(table.event_name[j])], int(table.event_time[j]),
                           dict(_attr_items(table.event_attrs, j, table))))
        links: list[Link] = []
        for j in range(int(table.link_offsets[r]), int(table.link_offsets[r + 1])):
            links.append((strings[int(table.link_trace_id[j])],
                          strings[int(table.link_span_id[j])],
                          dict(_attr_items(table.link_attrs, j, table))))
        res = int(table.resource[r])
        if res not in resources:
            resources[res] = _attr_items(table.resource_attrs, res, table)
        out.append(SpanRecord(
            trace_id=trace_id,
            span_id=table.span_id_hex(r),
            parent_id=table.parent_id_hex(r),
            name=table.name_of(r),
            kind=int(table.kind[r]),
            status=int(table.status[r]),
            status_message=strings[int(table.status_message[r])],
            start=int(table.start[r]),
            end=int(table.end[r]) if bool(table.has_end[r]) else None,
            flags=int(table.flags[r]),
            trace_state=strings[int(table.trace_state[r])],
            scope=strings[int(table.scope[r])],
            resource=resources[res],
            attributes=dict(_attr_items(table.attrs, r, table)),
            events=events,
            links=links,
            service=table.service_of(r),
        ))
    return out


def table_records(table: SpanTable, traces: Sequence[int] | None = None) -> list[SpanRecord]:
    """:func:`records_from_table` over several traces (all when ``traces`` is ``None``)."""
    out: list[SpanRecord] = []
    for t in range(table.n_traces) if traces is None else traces:
        out += records_from_table(table, t)
    return out
