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
The per-span columns go in as one :class:`~workbench.traces.blocks.SpanBlock` per table, built
from the ids the readers already decoded (not re-formatted as text and parsed again), which
made the join 5-6x cheaper than replaying them span by span.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from workbench.traces.blocks import SpanBlock
from workbench.traces.builder import AttrBuilder, TableBuilder
from workbench.traces.model import ATTR_STR, AttrColumns, SpanTable


def _trace_halves(t: SpanTable) -> tuple[np.ndarray, np.ndarray, dict[int, str]]:
    """Per span, the trace id as :class:`~workbench.traces.blocks.SpanBlock` columns: the
    big-endian halves of 16-byte ids, every other key as text by row (as the readers give
    them), taken from the table's decoded ids instead of parsing the texts again."""
    ids = np.ascontiguousarray(t.trace_id_bytes, dtype=np.uint8).reshape(-1, 16)
    halves = ids.view(">u8").reshape(-1, 2).astype(np.uint64)
    plain = t.trace_id_len == 16
    hi = np.where(plain, halves[:, 0], 0).astype(np.uint64)[t.trace_index]
    lo = np.where(plain, halves[:, 1], 0).astype(np.uint64)[t.trace_index]
    odd_rows = np.flatnonzero(~plain[t.trace_index]) if t.n_spans else np.zeros(0, np.int64)
    keys = t.trace_id_hex
    odd = {r: keys[i] for r, i in zip(odd_rows.tolist(),
                                       t.trace_index[odd_rows].tolist(), strict=True)}
    return hi, lo, odd


def _block(t: SpanTable, lut: np.ndarray, base: int) -> SpanBlock:
    """The per-span columns of ``t`` (row order) as one block: the values the readers
    decoded (ids included), string codes re-interned through ``lut``, resources shifted by
    ``base``."""
    hi, lo, odd = _trace_halves(t)
    span_text = {r: s for (r, which), s in t.id_text.items() if which == "span"}
    parent_text = {r: s for (r, which), s in t.id_text.items() if which == "parent"}
    return SpanBlock(
        trace_hi=hi, trace_lo=lo, trace_odd=odd,
        span_val=t.span_id.astype(np.uint64), span_len=t.span_id_len.astype(np.int8),
        span_txt=span_text,
        par_val=t.parent_span_id.astype(np.uint64), par_len=t.parent_id_len.astype(np.int8),
        par_txt=parent_text,
        name=lut[t.name], kind=t.kind.astype(np.int8), status=t.status.astype(np.int8),
        status_message=lut[t.status_message], start=t.start.astype(np.int64),
        end=t.end.astype(np.int64), has_end=t.has_end.astype(np.bool_),
        flags=t.flags.astype(np.uint32), trace_state=lut[t.trace_state],
        resource=(t.resource + base).astype(np.int32), scope=lut[t.scope],
        source=lut[t.source])


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
    if t.n_spans:
        b.append_block(_block(t, lut, base))
    _append_attrs(b.attrs, t.attrs, lut)
    b.event_counts.extend(np.diff(t.event_offsets).tolist())
    b.event_name.extend(lut[t.event_name].tolist())
    b.event_time.extend(t.event_time.tolist())
    _append_attrs(b.event_attrs, t.event_attrs, lut)
    b.link_counts.extend(np.diff(t.link_offsets).tolist())
    text = t.strings.strings
    b.link_trace_id.extend(map(text.__getitem__, t.link_trace_id.tolist()))
    b.link_span_id.extend(map(text.__getitem__, t.link_span_id.tolist()))
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
