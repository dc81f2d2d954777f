"""Append prepared span rows to a :class:`~workbench.traces.builder.TableBuilder` quickly.

The typed Jaeger and Zipkin readers (:mod:`workbench.traces.jaeger_fast`,
:mod:`workbench.traces.zipkin_fast`) first read a whole document into :class:`Row` tuples
without touching the builder (so that a document they do not accept leaves it untouched for
the reference reader), then hand the rows here. The result is the same as one
:meth:`TableBuilder.add_span` call per row; only the per-call overhead is gone (strings are
interned in bulk, column lists are extended in one go).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from workbench.traces.builder import AttrBuilder, TableBuilder
from workbench.traces.model import ATTR_BOOL, ATTR_FLOAT, ATTR_INT, ATTR_STR

Items = list[tuple[str, Any]]
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


class Row(NamedTuple):
    """One span as :meth:`TableBuilder.add_span` takes it (ids already normalised)."""

    trace_id: str
    span_id: str
    parent_id: str
    name: str
    kind: int
    status: int
    status_message: str
    start: int
    end: int | None
    resource: int
    scope: str
    attributes: Items
    events: list[tuple[str, int, Items]]
    links: list[tuple[str, str, Items]]


_CODE = {str: ATTR_STR, bool: ATTR_BOOL, int: ATTR_INT, float: ATTR_FLOAT}


def _push_owners(ab: AttrBuilder, owners: list[Items]) -> None:
    """Append the attributes of each owner (one :meth:`AttrBuilder.push_all` per owner).

    Plain str/bool/int/float values are packed column-wise with numpy; a block holding any
    other value (or an integer beyond int64) is packed value by value by
    :meth:`AttrBuilder.pack`.
    """
    counts = [len(items) for items in owners]
    strings = ab.strings
    keys = [k for items in owners for k, _v in items]
    if not keys:
        ab.counts.extend(counts)
        return
    values = [v for items in owners for _k, v in items]
    key = np.asarray(strings.codes(keys), dtype=np.int32)
    types = np.asarray([_CODE.get(type(v), -1) for v in values], dtype=np.int8)
    if (types < 0).any():
        ab.counts.extend(counts)
        ab.key.extend(key.tolist())
        for value in values:
            cells = ab.pack(value)
            ab.type.append(cells[0])
            ab.ival.append(cells[1])
            ab.fval.append(cells[2])
            ab.sval.append(cells[3])
        return
    m = len(values)
    ival = np.zeros(m, dtype=np.int64)
    fval = np.zeros(m, dtype=np.float64)
    sval = np.zeros(m, dtype=np.int32)
    where = np.flatnonzero(types == ATTR_STR)
    if where.size:
        sval[where] = strings.codes([values[i] for i in where.tolist()])
    for code in (ATTR_INT, ATTR_BOOL):
        where = np.flatnonzero(types == code)
        if where.size:
            ints = [values[i] for i in where.tolist()]
            if code == ATTR_INT and not _INT64_MIN <= min(ints) <= max(ints) <= _INT64_MAX:
                for i in where.tolist():  # beyond int64: a float, as pack() makes it
                    kind, iv, fv, _s = ab.pack(values[i])
                    types[i], ival[i], fval[i] = kind, iv, fv
                continue
            ival[where] = ints
            if code == ATTR_INT:
                fval[where] = ival[where].astype(np.float64)
    where = np.flatnonzero(types == ATTR_FLOAT)
    if where.size:
        fval[where] = [values[i] for i in where.tolist()]
    ab.append_columns(counts, key, types, ival, fval, sval)


def append_rows(builder: TableBuilder, rows: list[Row], source: str) -> None:
    """Append ``rows`` to ``builder`` as :meth:`TableBuilder.add_span` would, one by one.

    Parameters
    ----------
    builder
        The table builder (its resources must already hold the rows' resource indices).
    rows
        The spans, in input order; their ids must not exceed
        :data:`workbench.traces.builder.LONG_ID` characters (no location is recorded).
    source
        The ``source`` column value (the file name).
    """
    if not rows:
        return
    b = builder
    codes = b.strings.codes
    n = len(rows)
    b.trace_key.extend([r.trace_id.lower() for r in rows])
    b.span_id.extend([r.span_id for r in rows])
    b.parent_id.extend([r.parent_id for r in rows])
    b.name.extend(codes([r.name for r in rows]))
    b.kind.extend([r.kind for r in rows])
    b.status.extend([r.status for r in rows])
    b.status_message.extend(codes([r.status_message for r in rows]))
    b.start.extend([r.start for r in rows])
    b.end.extend([r.start if r.end is None else r.end for r in rows])
    b.has_end.extend([r.end is not None for r in rows])
    b.flags.extend([0] * n)
    b.trace_state.extend(codes([""]) * n)
    b.resource.extend([r.resource for r in rows])
    b.scope.extend(codes([r.scope for r in rows]))
    b.source.extend(codes([source]) * n)
    _push_owners(b.attrs, [r.attributes for r in rows])
    b.event_counts.extend([len(r.events) for r in rows])
    events = [e for r in rows for e in r.events]
    if events:
        b.event_time.extend([e[1] for e in events])
        b.event_name.extend(codes([e[0] for e in events]))
        _push_owners(b.event_attrs, [e[2] for e in events])
    b.link_counts.extend([len(r.links) for r in rows])
    links = [lk for r in rows for lk in r.links]
    if links:
        b.link_trace_id.extend([lk[0].lower() for lk in links])
        b.link_span_id.extend([lk[1].lower() for lk in links])
        _push_owners(b.link_attrs, [lk[2] for lk in links])
        b.link_trace_state.extend([0] * len(links))
        b.link_flags.extend([0] * len(links))
