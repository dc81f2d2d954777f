"""Large tables fast: generate a few hundred traces, then replicate them with numpy.

:func:`generate_table` is the entry point for benchmarks: the generator of
:mod:`workbench.datasets.generator` runs in Python (about 10^5 spans/s), so millions of spans
are made by :func:`replicate`-ing a generated table: every copy gets fresh trace ids, span ids
(XOR-ed with a per-copy random mask, so ids stay unique within each trace and parent pointers
stay consistent) and times shifted by a per-copy offset, while the columns are tiled with
numpy (strings and attributes are shared through the dictionary codes). A million spans take
about a second.
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np

from workbench.traces.model import AttrColumns, SpanTable


def _tile_csr(offsets: np.ndarray, copies: int) -> np.ndarray:
    counts = np.diff(offsets)
    out = np.zeros(counts.shape[0] * copies + 1, dtype=np.int64)
    np.cumsum(np.tile(counts, copies), out=out[1:])
    return out


def _tile_attrs(a: AttrColumns, copies: int) -> AttrColumns:
    return AttrColumns(offsets=_tile_csr(a.offsets, copies), key=np.tile(a.key, copies),
                       type=np.tile(a.type, copies), ival=np.tile(a.ival, copies),
                       fval=np.tile(a.fval, copies), sval=np.tile(a.sval, copies))


def replicate(table: SpanTable, copies: int, seed: int = 0) -> SpanTable:
    """``copies`` copies of ``table`` with fresh ids and shifted times (see the module doc).

    Parameters
    ----------
    table
        The base table (its string table is shared, and extended with the new ids).
    copies
        Number of copies (1 returns an equal table with new ids).
    seed
        Seed of the new ids and time offsets.

    Returns
    -------
    SpanTable
    """
    rng = random.Random(seed)
    n, m = table.n_spans, table.n_traces
    k = max(1, copies)
    span = np.arange(k, dtype=np.int64)
    masks = np.asarray([rng.getrandbits(63) | 1 for _ in range(k)], dtype=np.uint64)
    width = int(table.end.max() - table.start.min()) + 1 if n else 1
    shifts = span * np.int64(width)
    rep = np.repeat(span, n)
    mask = np.repeat(masks, n)
    shift = np.repeat(shifts, n)
    trace_ids = [f"{rng.getrandbits(128) or 1:032x}" for _ in range(k * m)]
    t_bytes = np.frombuffer(bytes.fromhex("".join(trace_ids)), dtype=np.uint8).reshape(-1, 16) \
        if trace_ids else np.zeros((0, 16), np.uint8)
    span_id = np.where(np.tile(table.span_id_len, k) > 0, np.tile(table.span_id, k) ^ mask,
                       np.tile(table.span_id, k))
    par_len = np.tile(table.parent_id_len, k)
    parent_span_id = np.where(par_len > 0, np.tile(table.parent_span_id, k) ^ mask,
                              np.tile(table.parent_span_id, k))
    parent = np.tile(table.parent, k)
    parent = np.where(parent >= 0, parent + rep * n, parent)
    n_events = int(table.event_offsets[-1]) if n else 0
    ev_shift = np.repeat(shifts, n_events)
    # links: rows move with their copy; link targets get the copy's ids
    n_links = int(table.link_offsets[-1]) if n else 0
    link_row = np.tile(table.link_row, k)
    link_copy = np.repeat(span, n_links)
    link_row = np.where(link_row >= 0, link_row + link_copy * n, link_row)
    strings = table.strings
    link_trace = np.tile(table.link_trace_id, k)
    link_span = np.tile(table.link_span_id, k)
    for j in np.nonzero(link_row >= 0)[0].tolist():
        target = int(link_row[j])
        link_trace[j] = strings.code(trace_ids[int(table.trace_index[target % n]) +
                                               (target // n) * m])
        link_span[j] = strings.code(f"{int(span_id[target]):016x}")
    id_text = {}
    for c in range(k):
        for (row, which), text in table.id_text.items():
            id_text[(row + c * n, which)] = text
    return SpanTable(
        strings=strings,
        trace_offsets=_tile_csr(table.trace_offsets, k),
        trace_id_hex=trace_ids, trace_id_bytes=t_bytes.copy(),
        trace_id_len=np.full(k * m, 16, dtype=np.int8),
        trace_index=(np.tile(table.trace_index, k) + np.repeat(span, n) * m).astype(np.int32),
        span_id=span_id, span_id_len=np.tile(table.span_id_len, k),
        parent_span_id=parent_span_id, parent_id_len=par_len, parent=parent,
        depth=np.tile(table.depth, k), in_cycle=np.tile(table.in_cycle, k),
        name=np.tile(table.name, k), service=np.tile(table.service, k),
        scope=np.tile(table.scope, k), kind=np.tile(table.kind, k),
        status=np.tile(table.status, k), status_message=np.tile(table.status_message, k),
        start=np.tile(table.start, k) + shift, end=np.tile(table.end, k) + shift,
        has_end=np.tile(table.has_end, k), flags=np.tile(table.flags, k),
        trace_state=np.tile(table.trace_state, k), resource=np.tile(table.resource, k),
        source=np.tile(table.source, k), attrs=_tile_attrs(table.attrs, k),
        resource_attrs=table.resource_attrs,
        event_offsets=_tile_csr(table.event_offsets, k),
        event_name=np.tile(table.event_name, k),
        event_time=np.tile(table.event_time, k) + ev_shift,
        event_attrs=_tile_attrs(table.event_attrs, k),
        link_offsets=_tile_csr(table.link_offsets, k), link_trace_id=link_trace,
        link_span_id=link_span, link_row=link_row, link_attrs=_tile_attrs(table.link_attrs, k),
        id_text=id_text, diagnostics=list(table.diagnostics),
        link_trace_state=np.tile(table.link_trace_state, k),
        link_flags=np.tile(table.link_flags, k),
    )


def generate_table(n_spans: int, seed: int = 0, templates: int = 300,
                   faults: dict[str, int] | None = None, **config: Any) -> SpanTable:
    """About ``n_spans`` spans (at least one copy of the templates) of generated traces.

    Parameters
    ----------
    n_spans
        Target size; the result has the whole copies that fit (at least one).
    seed
        Seed of the generator, the faults and the replication.
    templates
        Distinct generated traces that are replicated.
    faults
        Faults to inject into the templates (class -> count; see
        :func:`workbench.datasets.faults.inject`); replicated with them.
    config
        Further :class:`~workbench.datasets.generator.GenConfig` fields.

    Returns
    -------
    SpanTable
    """
    from workbench.datasets.faults import inject
    from workbench.datasets.generator import generate
    from workbench.datasets.writer import to_table

    ds = generate(traces=templates, seed=seed, **config)
    if faults:
        inject(ds, faults, seed=seed)
    base = to_table(ds, source=f"generated-seed{seed}")
    copies = max(1, n_spans // max(base.n_spans, 1))
    return base if copies == 1 else replicate(base, copies, seed)
