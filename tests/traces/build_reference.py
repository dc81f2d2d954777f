"""The span table build as it was before the in-place, column-at-a-time build (the oracle
of ``test_build_memory.py``): join, lexsort, gather every column with the row order and every
attribute column with a full int64 gather index."""

from __future__ import annotations

import numpy as np

from workbench.traces.blocks import trace_index_numeric
from workbench.traces.builder import TableBuilder
from workbench.traces.model import AttrColumns, SpanTable
from workbench.traces.resolve import HEX_DIGITS, SpanIndex, depths, resolve_links


def csr_order(counts: np.ndarray, order: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """New offsets and the gather index of the items when owners are permuted by ``order``."""
    offsets_old = np.zeros(counts.shape[0] + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets_old[1:])
    new_counts = counts[order] if counts.shape[0] else counts
    offsets = np.zeros(counts.shape[0] + 1, dtype=np.int64)
    np.cumsum(new_counts, out=offsets[1:])
    total = int(offsets[-1])
    if total == 0:
        return offsets, np.zeros(0, dtype=np.int64)
    shift = np.repeat(offsets_old[:-1][order] - offsets[:-1], new_counts)
    shift += np.arange(total, dtype=np.int64)
    return offsets, shift


def permute_csr(cols: AttrColumns, order: np.ndarray) -> AttrColumns:
    counts = np.diff(cols.offsets)
    offsets, gather = csr_order(counts, order)
    return AttrColumns(
        offsets=offsets,
        key=cols.key[gather],
        type=cols.type[gather],
        ival=cols.ival[gather],
        fval=cols.fval[gather],
        sval=cols.sval[gather],
    )


def reference_build(b: TableBuilder) -> SpanTable:
    cols = b._joined()
    n = int(cols["name"].shape[0])
    strings = b.strings
    # --- traces in order of first appearance; ids compare case-insensitively
    trace_input, trace_keys = trace_index_numeric(
        cols["trace_hi"], cols["trace_lo"], cols["trace_odd"]
    )
    trace_of = {key: t for t, key in enumerate(trace_keys)}
    start = cols["start"]
    order = np.lexsort((np.arange(n), start, trace_input)) if n else np.zeros(0, np.int64)
    order = order.astype(np.int64)
    trace_index = trace_input[order]
    counts = np.bincount(trace_index, minlength=len(trace_keys)) if n else np.zeros(0, np.int64)
    trace_offsets = np.zeros(len(trace_keys) + 1, dtype=np.int64)
    np.cumsum(counts, out=trace_offsets[1:])

    # --- trace ids
    t_bytes = np.zeros((len(trace_keys), 16), dtype=np.uint8)
    t_len = np.zeros(len(trace_keys), dtype=np.int8)
    plain = [
        t for t, key in enumerate(trace_keys) if len(key) == 32 and HEX_DIGITS.issuperset(key)
    ]
    if plain:
        raw = bytes.fromhex("".join([trace_keys[t] for t in plain]))
        t_bytes[plain] = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 16)
        t_len[plain] = 16
    if len(plain) != len(trace_keys):
        for t, key in enumerate(trace_keys):
            if len(key) == 32 and HEX_DIGITS.issuperset(key):
                continue
            if len(key) <= 32 and HEX_DIGITS.issuperset(key) and key:
                raw = bytes.fromhex(key.rjust(32, "0"))
                t_bytes[t] = np.frombuffer(raw, dtype=np.uint8)
                t_len[t] = (len(key) + 1) // 2
            else:
                t_len[t] = -1 if key else 0

    # --- span and parent ids (parsed in input order, then permuted)
    span_val, span_len, span_txt = cols["span_val"], cols["span_len"], cols["span_txt"]
    par_val, par_len, par_txt = cols["par_val"], cols["par_len"].copy(), cols["par_txt"]
    b._report_long_ids(span_txt, "span id", cols["source"])
    b._report_long_ids(par_txt, "parent span id", cols["source"])
    # an all-zero parent id means "no parent" in OTLP
    zero_parent = (par_len == 8) & (par_val == 0)
    par_len[zero_parent] = 0
    span_val, span_len = span_val[order], span_len[order]
    par_val, par_len = par_val[order], par_len[order]
    id_text: dict[tuple[int, str], str] = {}
    if span_txt or par_txt:
        new_row_of = np.empty(n, dtype=np.int64)
        new_row_of[order] = np.arange(n, dtype=np.int64)
        for old, text in span_txt.items():
            id_text[(int(new_row_of[old]), "span")] = text
        for old, text in par_txt.items():
            if par_len[new_row_of[old]] != 0:
                id_text[(int(new_row_of[old]), "parent")] = text

    index = SpanIndex(trace_index, span_val, span_len)
    parent = index.lookup(trace_index, par_val, par_len != 0)
    depth, in_cycle = depths(parent)

    def col(name: str) -> np.ndarray:
        values: np.ndarray = cols[name]
        return values[order] if n else values

    resource = col("resource")
    resource_service = np.asarray([*b.resource_service, 0], dtype=np.int32)

    attrs = permute_csr(b.attrs.columns(), order)
    ev_offsets, ev_perm = csr_order(np.asarray(b.event_counts, dtype=np.int64), order)
    event_attrs = permute_csr(b.event_attrs.columns(), ev_perm)
    ln_offsets, ln_perm = csr_order(np.asarray(b.link_counts, dtype=np.int64), order)
    link_attrs = permute_csr(b.link_attrs.columns(), ln_perm)
    perm = ln_perm.tolist()
    link_trace = [b.link_trace_id[j].lower() for j in perm]
    link_span = [b.link_span_id[j].lower() for j in perm]
    m = len(perm)
    link_state = np.zeros(m, dtype=np.int32)
    link_flags = np.zeros(m, dtype=np.uint32)
    if len(b.link_trace_state) == len(b.link_trace_id) and m:
        link_state = np.asarray(b.link_trace_state, dtype=np.int32)[ln_perm]
        link_flags = np.asarray(b.link_flags, dtype=np.uint32)[ln_perm]
    link_row = resolve_links(index, trace_of, link_trace, link_span)

    table = SpanTable(
        strings=strings,
        trace_offsets=trace_offsets,
        trace_id_hex=trace_keys,
        trace_id_bytes=t_bytes,
        trace_id_len=t_len,
        trace_index=trace_index.astype(np.int32),
        span_id=span_val,
        span_id_len=span_len,
        parent_span_id=par_val,
        parent_id_len=par_len,
        parent=parent,
        depth=depth,
        in_cycle=in_cycle,
        name=col("name"),
        service=resource_service[resource] if n else np.zeros(0, np.int32),
        scope=col("scope"),
        kind=col("kind"),
        status=col("status"),
        status_message=col("status_message"),
        start=start[order],
        end=col("end"),
        has_end=col("has_end"),
        flags=col("flags"),
        trace_state=col("trace_state"),
        resource=resource,
        source=col("source"),
        attrs=attrs,
        resource_attrs=b.resource_attrs.columns(),
        event_offsets=ev_offsets,
        event_name=np.asarray(b.event_name, dtype=np.int32)[ev_perm],
        event_time=np.asarray(b.event_time, dtype=np.int64)[ev_perm],
        event_attrs=event_attrs,
        link_offsets=ln_offsets,
        link_trace_id=np.asarray(strings.codes(link_trace), dtype=np.int32),
        link_span_id=np.asarray(strings.codes(link_span), dtype=np.int32),
        link_row=link_row,
        link_attrs=link_attrs,
        id_text=id_text,
        diagnostics=list(b.diagnostics),
        link_trace_state=link_state,
        link_flags=link_flags,
    )
    return table
