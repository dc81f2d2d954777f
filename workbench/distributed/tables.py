"""Join span tables parsed on different workers into the table one ``load_traces`` call gives.

This is the shuffle of the plain-file path: every file is parsed once, where its task ran, and
the tables of files that share traces are joined on the worker that checks them (Dask moves
the parsed tables worker to worker, never through the scheduler or the driver). Nothing is
parsed twice.

:func:`concat_tables` replays the columns of each table, in input order, into one
:class:`~workbench.traces.builder.TableBuilder` and builds it, so the join, the span order
within a trace (start time, then input order), parent and link resolution, depths and cycles
are computed by the same code as a single-process load, and
``concat_tables([load_traces([a]), load_traces([b])])`` equals ``load_traces([a, b])``
column by column (string columns compare by text). Diagnostics are the tables' own, in order.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from workbench.traces.builder import AttrBuilder, TableBuilder
from workbench.traces.model import ATTR_STR, AttrColumns, SpanTable


def _ids_text(values: np.ndarray, lengths: np.ndarray, kept: dict[int, str]) -> list[str]:
    """The id texts the builder parses back into ``values``/``lengths`` (and ``kept``)."""
    out = [f"{v:016x}" if n == 8 else "" for v, n in zip(values.tolist(), lengths.tolist(),
                                                          strict=True)]
    for row, text in kept.items():
        out[row] = text
    return out


def _append_attrs(target: AttrBuilder, cols: AttrColumns, lut: np.ndarray) -> None:
    target.append_columns(np.diff(cols.offsets), lut[cols.key], cols.type, cols.ival, cols.fval,
                          lut[cols.sval])


def _resource_services(table: SpanTable, lut: np.ndarray) -> list[int]:
    """Per resource, the code of its last string ``service.name`` (as ``add_resource``)."""
    cols = table.resource_attrs
    n_res = cols.offsets.shape[0] - 1
    key = table.strings.lookup("service.name")
    owner = np.repeat(np.arange(n_res), np.diff(cols.offsets))
    hit = np.flatnonzero((cols.key == key) & (cols.type == ATTR_STR)) if key >= 0 else \
        np.zeros(0, dtype=np.int64)
    last = np.full(n_res, -1, dtype=np.int64)
    np.maximum.at(last, owner[hit], hit)
    if not hit.shape[0]:
        return [0] * n_res
    service = np.where(last >= 0, cols.sval[np.maximum(last, 0)], 0)
    return lut[service].tolist()


def _replay(b: TableBuilder, t: SpanTable) -> None:
    """Append every span of ``t`` (in row order) to ``b``, strings re-interned."""
    lut = np.asarray(b.strings.codes(t.strings.strings), dtype=np.int32)
    base = len(b.resource_service)
    _append_attrs(b.resource_attrs, t.resource_attrs, lut)
    b.resource_service.extend(_resource_services(t, lut))
    span_text = {r: s for (r, which), s in t.id_text.items() if which == "span"}
    parent_text = {r: s for (r, which), s in t.id_text.items() if which == "parent"}
    b.trace_key.extend(np.asarray(t.trace_id_hex, dtype=object)[t.trace_index].tolist()
                       if t.n_spans else [])
    b.span_id.extend(_ids_text(t.span_id, t.span_id_len, span_text))
    b.parent_id.extend(_ids_text(t.parent_span_id, t.parent_id_len, parent_text))
    for column, values in ((b.name, lut[t.name]), (b.kind, t.kind), (b.status, t.status),
                           (b.status_message, lut[t.status_message]), (b.start, t.start),
                           (b.end, t.end), (b.has_end, t.has_end), (b.flags, t.flags),
                           (b.trace_state, lut[t.trace_state]), (b.resource, t.resource + base),
                           (b.scope, lut[t.scope]), (b.source, lut[t.source])):
        column.extend(values.tolist())
    _append_attrs(b.attrs, t.attrs, lut)
    b.event_counts.extend(np.diff(t.event_offsets).tolist())
    b.event_name.extend(lut[t.event_name].tolist())
    b.event_time.extend(t.event_time.tolist())
    _append_attrs(b.event_attrs, t.event_attrs, lut)
    b.link_counts.extend(np.diff(t.link_offsets).tolist())
    text = t.strings.strings
    b.link_trace_id.extend(text[c] for c in t.link_trace_id.tolist())
    b.link_span_id.extend(text[c] for c in t.link_span_id.tolist())
    b.link_trace_state.extend(lut[t.link_trace_state].tolist())
    b.link_flags.extend(t.link_flags.tolist())
    _append_attrs(b.link_attrs, t.link_attrs, lut)


def concat_tables(tables: Sequence[SpanTable]) -> SpanTable:
    """One table of the spans of ``tables``, in input order, traces joined by id.

    Parameters
    ----------
    tables
        Tables from :func:`workbench.traces.load_traces`, one per input unit, in the order a
        single ``load_traces`` call would read the units.

    Returns
    -------
    SpanTable
        Equal to loading the units together; ``diagnostics`` are the tables' in order.
    """
    if len(tables) == 1:
        return tables[0]
    builder = TableBuilder()
    for t in tables:
        _replay(builder, t)
    table = builder.build()
    table.diagnostics = [d for t in tables for d in t.diagnostics]
    return table
