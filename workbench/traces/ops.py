"""Whole-table operations on a :class:`~workbench.traces.model.SpanTable`: take, tile, replace.

These are the only places besides :class:`~workbench.traces.builder.TableBuilder` (and the
Parquet reader, which restores stored columns) that assemble a table column by column, so
adding a column means editing :func:`_gather` and :func:`tile` here and nothing in the callers.
They are exposed as :meth:`SpanTable.take`, :meth:`SpanTable.tile` and
:meth:`SpanTable.replace`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from workbench.traces.model import AttrColumns

if TYPE_CHECKING:
    from workbench.traces.model import SpanTable

#: per-span columns that are copied (gathered or tiled) as they are
_SPAN_COLUMNS = ("span_id", "span_id_len", "parent_span_id", "parent_id_len", "depth",
                 "in_cycle", "name", "service", "scope", "kind", "status", "status_message",
                 "start", "end", "has_end", "flags", "trace_state", "resource", "source")
_EVENT_COLUMNS = ("event_name", "event_time")
_LINK_COLUMNS = ("link_trace_id", "link_span_id")
_LINK_EXTRA = ("link_trace_state", "link_flags")  # zero-length in some tables


def _csr_take(offsets: np.ndarray, owners: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Offsets of ``owners`` as new owners 0..k-1 and the indices of their items."""
    counts = np.diff(offsets)[owners] if owners.shape[0] else np.zeros(0, np.int64)
    new = np.zeros(owners.shape[0] + 1, dtype=np.int64)
    np.cumsum(counts, out=new[1:])
    owner_of = np.repeat(np.arange(owners.shape[0]), counts)
    idx = offsets[owners][owner_of] + np.arange(int(new[-1])) - new[owner_of]
    return new, idx.astype(np.int64)


def _take_attrs(a: AttrColumns, owners: np.ndarray) -> AttrColumns:
    off, idx = _csr_take(a.offsets, owners)
    return AttrColumns(off, a.key[idx], a.type[idx], a.ival[idx], a.fval[idx], a.sval[idx])


def take(table: SpanTable, traces: Sequence[int] | np.ndarray) -> SpanTable:
    """The traces ``traces`` of ``table`` (in that order) as a new table.

    Rows, parent pointers and link targets are renumbered; a link whose target trace is not
    taken points nowhere (``link_row == -1``), as when its target was never loaded. Strings and
    resources are shared with ``table``; diagnostics are copied.

    Parameters
    ----------
    table
        The source table.
    traces
        Trace indices; each at most once.

    Returns
    -------
    SpanTable

    Raises
    ------
    IndexError
        A trace index is out of range or repeated.
    """
    picked = np.asarray(traces, dtype=np.int64).reshape(-1)
    if picked.shape[0] and (picked.min() < 0 or picked.max() >= table.n_traces):
        raise IndexError(f"trace index out of range 0..{table.n_traces - 1}: "
                         f"{picked[(picked < 0) | (picked >= table.n_traces)][:5].tolist()}")
    if np.unique(picked).shape[0] != picked.shape[0]:
        raise IndexError("take: a trace index is repeated; use tile() to copy traces")
    trace_offsets, rows = _csr_take(table.trace_offsets, picked)
    n = table.n_spans
    new_row = np.full(n + 1, -1, dtype=np.int64)  # slot n: for "no row" inputs
    new_row[rows] = np.arange(rows.shape[0], dtype=np.int64)
    parent = table.parent[rows]
    parent = np.where(parent >= 0, new_row[np.maximum(parent, 0)], parent)
    ev_offsets, ev = _csr_take(table.event_offsets, rows)
    ln_offsets, ln = _csr_take(table.link_offsets, rows)
    link_row = table.link_row[ln]
    link_row = np.where(link_row >= 0, new_row[np.where(link_row >= 0, link_row, n)], -1)
    has_extra = table.link_trace_state.shape[0] == table.link_row.shape[0]
    changes: dict[str, Any] = {name: getattr(table, name)[rows] for name in _SPAN_COLUMNS}
    changes.update({name: getattr(table, name)[ev] for name in _EVENT_COLUMNS})
    changes.update({name: getattr(table, name)[ln] for name in _LINK_COLUMNS})
    if has_extra:
        changes.update({name: getattr(table, name)[ln] for name in _LINK_EXTRA})
    trace_index = np.repeat(np.arange(picked.shape[0], dtype=np.int32), np.diff(trace_offsets))
    id_text = {(int(new_row[r]), which): text for (r, which), text in table.id_text.items()
               if new_row[r] >= 0}
    return dataclasses.replace(
        table,
        trace_offsets=trace_offsets,
        trace_id_hex=[table.trace_id_hex[int(t)] for t in picked],
        trace_id_bytes=table.trace_id_bytes[picked],
        trace_id_len=table.trace_id_len[picked],
        trace_index=trace_index,
        parent=parent.astype(np.int64),
        attrs=_take_attrs(table.attrs, rows),
        event_offsets=ev_offsets,
        event_attrs=_take_attrs(table.event_attrs, ev),
        link_offsets=ln_offsets,
        link_row=link_row.astype(np.int64),
        link_attrs=_take_attrs(table.link_attrs, ln),
        id_text=id_text,
        diagnostics=list(table.diagnostics),
        **changes,
    )


def _tile_csr(offsets: np.ndarray, copies: int) -> np.ndarray:
    counts = np.diff(offsets)
    out = np.zeros(counts.shape[0] * copies + 1, dtype=np.int64)
    np.cumsum(np.tile(counts, copies), out=out[1:])
    return out


def _tile_attrs(a: AttrColumns, copies: int) -> AttrColumns:
    return AttrColumns(_tile_csr(a.offsets, copies), np.tile(a.key, copies),
                       np.tile(a.type, copies), np.tile(a.ival, copies),
                       np.tile(a.fval, copies), np.tile(a.sval, copies))


def tile(table: SpanTable, copies: int) -> SpanTable:
    """``copies`` back-to-back copies of ``table``, ids and times unchanged.

    Copy ``c`` holds traces ``c * n_traces ...``; its parent pointers and link targets point
    into the same copy. Trace and span ids repeat, so callers give the copies fresh ids and
    times with :func:`replace` (see :func:`workbench.datasets.scale.replicate`).

    Parameters
    ----------
    table
        The source table (strings and resources are shared).
    copies
        At least 1.

    Returns
    -------
    SpanTable
    """
    if copies < 1:
        raise ValueError(f"tile: copies must be at least 1, got {copies}")
    k, n, m = copies, table.n_spans, table.n_traces
    copy = np.repeat(np.arange(k, dtype=np.int64), n)
    parent = np.tile(table.parent, k)
    parent = np.where(parent >= 0, parent + copy * n, parent)
    n_links = table.link_row.shape[0]
    link_row = np.tile(table.link_row, k)
    link_row = np.where(link_row >= 0,
                        link_row + np.repeat(np.arange(k, dtype=np.int64), n_links) * n,
                        link_row)
    changes: dict[str, Any] = {name: np.tile(getattr(table, name), k)
                               for name in (*_SPAN_COLUMNS, *_EVENT_COLUMNS, *_LINK_COLUMNS,
                                            *_LINK_EXTRA)}
    return dataclasses.replace(
        table,
        trace_offsets=_tile_csr(table.trace_offsets, k),
        trace_id_hex=table.trace_id_hex * k,
        trace_id_bytes=np.tile(table.trace_id_bytes, (k, 1)),
        trace_id_len=np.tile(table.trace_id_len, k),
        trace_index=(np.tile(table.trace_index, k) + copy * m).astype(np.int32),
        parent=parent,
        attrs=_tile_attrs(table.attrs, k),
        event_offsets=_tile_csr(table.event_offsets, k),
        event_attrs=_tile_attrs(table.event_attrs, k),
        link_offsets=_tile_csr(table.link_offsets, k),
        link_row=link_row,
        link_attrs=_tile_attrs(table.link_attrs, k),
        id_text={(r + c * n, which): text for c in range(k)
                 for (r, which), text in table.id_text.items()},
        diagnostics=list(table.diagnostics),
        **changes,
    )


#: columns whose length is the number of spans / traces / events / links
_LENGTHS = {
    "n_spans": ("trace_index", "parent", *_SPAN_COLUMNS),
    "n_traces": ("trace_id_len", "trace_id_bytes"),
    "n_events": _EVENT_COLUMNS,
    "n_links": ("link_row", *_LINK_COLUMNS),
}


def replace(table: SpanTable, **changes: Any) -> SpanTable:
    """``table`` with some columns replaced (a :func:`dataclasses.replace` that checks sizes).

    Parameters
    ----------
    table
        The source table.
    changes
        Field name -> new value. A per-span, per-trace, per-event or per-link column must keep
        its length; offsets and counts are not recomputed (use :func:`take` or :func:`tile`
        to change the number of rows).

    Returns
    -------
    SpanTable

    Raises
    ------
    ValueError
        A field does not exist or a column has the wrong length.
    """
    fields = {f.name for f in dataclasses.fields(table)}
    unknown = sorted(set(changes) - fields)
    if unknown:
        raise ValueError(f"SpanTable.replace: no such field(s) {', '.join(unknown)}")
    sizes = {"n_spans": table.n_spans, "n_traces": table.n_traces,
             "n_events": int(table.event_name.shape[0]), "n_links": int(table.link_row.shape[0])}
    for what, names in _LENGTHS.items():
        for name in names:
            if name in changes:
                got = len(changes[name])
                if got != sizes[what]:
                    raise ValueError(f"SpanTable.replace: column {name} has {got} entries, "
                                     f"the table has {sizes[what]} ({what[2:]})")
    return dataclasses.replace(table, **changes)
