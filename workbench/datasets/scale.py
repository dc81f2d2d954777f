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

from workbench.traces.model import SpanTable


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
    tiled = table.tile(k)
    copy = np.arange(k, dtype=np.int64)
    masks = np.asarray([rng.getrandbits(63) | 1 for _ in range(k)], dtype=np.uint64)
    width = int(table.end.max() - table.start.min()) + 1 if n else 1
    shifts = copy * np.int64(width)
    mask = np.repeat(masks, n)
    shift = np.repeat(shifts, n)
    trace_ids = [f"{rng.getrandbits(128) or 1:032x}" for _ in range(k * m)]
    t_bytes = np.frombuffer(bytes.fromhex("".join(trace_ids)), dtype=np.uint8).reshape(-1, 16) \
        if trace_ids else np.zeros((0, 16), np.uint8)
    # XOR with one mask per copy keeps ids unique within a trace and parents consistent
    span_id = np.where(tiled.span_id_len > 0, tiled.span_id ^ mask, tiled.span_id)
    parent_span_id = np.where(tiled.parent_id_len > 0, tiled.parent_span_id ^ mask,
                              tiled.parent_span_id)
    n_events = int(table.event_offsets[-1]) if n else 0
    # links that resolved inside the table name the copy's ids
    strings = table.strings
    link_row = tiled.link_row
    link_trace = tiled.link_trace_id.copy()
    link_span = tiled.link_span_id.copy()
    for j in np.nonzero(link_row >= 0)[0].tolist():
        target = int(link_row[j])
        link_trace[j] = strings.code(trace_ids[int(tiled.trace_index[target])])
        link_span[j] = strings.code(f"{int(span_id[target]):016x}")
    return tiled.replace(
        trace_id_hex=trace_ids, trace_id_bytes=t_bytes.copy(),
        trace_id_len=np.full(k * m, 16, dtype=np.int8),
        span_id=span_id, parent_span_id=parent_span_id,
        start=tiled.start + shift, end=tiled.end + shift,
        event_time=tiled.event_time + np.repeat(shifts, n_events),
        link_trace_id=link_trace, link_span_id=link_span,
    )


def generate_table(n_spans: int, seed: int = 0, templates: int = 300,
                   faults: dict[str, int] | None = None, **config: Any) -> SpanTable:
    """About ``n_spans`` spans (at least one copy of the templates) of generated traces.

    Parameters
    ----------
    n_spans
        Target size; the result has the whole copies of the templates that fit, or, when
        one copy is larger, its first traces that fit (at least one trace).
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
    if base.n_spans > n_spans:  # fewer spans than one copy: the leading traces that fit
        sizes = np.diff(base.trace_offsets)
        fit = max(1, int(np.searchsorted(np.cumsum(sizes), n_spans, side="right")))
        return base.take(np.arange(min(fit, base.n_traces)))
    copies = max(1, n_spans // max(base.n_spans, 1))
    return base if copies == 1 else replicate(base, copies, seed)
