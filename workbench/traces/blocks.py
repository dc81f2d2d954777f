"""Column blocks of decoded spans, as the fast columnar readers produce them.

A :class:`SpanBlock` holds consecutive spans as numpy columns (trace ids as two ``uint64``
halves, span and parent ids as :func:`~workbench.traces.resolve.parse_id` results, strings as
codes of the builder's string table); :meth:`~workbench.traces.builder.TableBuilder.append_block`
takes them, and the helpers here number traces without a Python loop per span.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import TYPE_CHECKING, Any

import numpy as np

from workbench.traces.model import ATTR_BOOL, ATTR_INT, ATTR_STR

if TYPE_CHECKING:
    from workbench.traces.builder import TableBuilder


@dataclass
class SpanBlock:
    """Per-span columns of consecutive spans, as a columnar decoder produces them.

    Trace ids are two big-endian ``uint64`` halves (``trace_hi``, ``trace_lo``) when they are
    32 hex digits (16 bytes); every other trace key is given as lowercase text in
    ``trace_odd`` (local span index -> key), its halves ignored. Span and parent ids are
    :func:`parse_id` results: values, byte lengths and the kept texts by local index. String
    columns hold codes of the builder's :class:`StringTable`.
    """

    trace_hi: np.ndarray
    trace_lo: np.ndarray
    trace_odd: dict[int, str]
    span_val: np.ndarray
    span_len: np.ndarray
    span_txt: dict[int, str]
    par_val: np.ndarray
    par_len: np.ndarray
    par_txt: dict[int, str]
    name: np.ndarray
    kind: np.ndarray
    status: np.ndarray
    status_message: np.ndarray
    start: np.ndarray
    end: np.ndarray
    has_end: np.ndarray
    flags: np.ndarray
    trace_state: np.ndarray
    resource: np.ndarray
    scope: np.ndarray
    source: np.ndarray

    @property
    def n(self) -> int:
        return int(self.name.shape[0])


#: the array columns of a :class:`SpanBlock` and their dtypes
BLOCK_ARRAYS: dict[str, Any] = {
    "trace_hi": np.uint64, "trace_lo": np.uint64, "span_val": np.uint64, "span_len": np.int8,
    "par_val": np.uint64, "par_len": np.int8, "name": np.int32, "kind": np.int8,
    "status": np.int8, "status_message": np.int32, "start": np.int64, "end": np.int64,
    "has_end": np.bool_, "flags": np.uint32, "trace_state": np.int32, "resource": np.int32,
    "scope": np.int32, "source": np.int32,
}


# ---------------------------------------------------- the compiled walkers' shared assembly


class Declined(Exception):
    """A value a compiled reader leaves to its reference reader (nothing is appended)."""


def has_long_id(*kept: dict[int, str]) -> bool:
    """Whether any kept id text is over-long (the builder warns about it with the span's
    record path, which only the reference readers know: the compiled ones decline)."""
    from workbench.traces.builder import LONG_ID

    return any(len(text) > LONG_ID for texts in kept for text in texts.values())


@dataclass
class Walked:
    """The matrices one compiled walker pass filled, in the layout of
    :mod:`workbench.traces.kernels`: spans, key-values, events, links, scopes, and the number
    of resource attributes per resource."""

    sp: np.ndarray
    kv: np.ndarray
    ev: np.ndarray
    ln: np.ndarray
    sc: np.ndarray
    rs: np.ndarray


#: the string columns every walker reports, in the order :func:`intern_strings` returns them:
#: span name, trace state, status message, scope name, attribute key, string attribute value,
#: event name, link trace state
N_STRING_PARTS = 8


def intern_strings(
    b: TableBuilder,
    buf: np.ndarray,
    w: Walked,
    extra: Sequence[tuple[np.ndarray, np.ndarray]],
    decode: Callable[[list[int], list[int]], list[str]],
) -> tuple[list[np.ndarray], list[np.ndarray], list[str]]:
    """Dictionary-encode every string slice of a walked group in one kernel call.

    Parameters
    ----------
    b
        The builder whose string table receives the distinct strings.
    buf
        The input bytes the slices point into.
    w
        The walker's matrices; their :data:`N_STRING_PARTS` string columns come first.
    extra
        More ``(offsets, lengths)`` slices of the caller's own (enum names, ...).
    decode
        Texts of the distinct slices ``(offsets, lengths)``; raises :class:`Declined`.

    Returns
    -------
    codes, unique, texts
        Per part, the string-table codes and the index into ``texts`` of each slice; the
        decoded distinct texts.
    """
    from workbench.traces import kernels as k

    sp, kv, ev, ln, sc = w.sp, w.kv, w.ev, w.ln, w.sc
    is_str = kv[:, k.K_TYPE] == k.T_STR
    parts = [
        (sp[:, k.S_NAME_OFF], sp[:, k.S_NAME_LEN]),
        (sp[:, k.S_TS_OFF], sp[:, k.S_TS_LEN]),
        (sp[:, k.S_MSG_OFF], sp[:, k.S_MSG_LEN]),
        (sc[:, k.C_NAME_OFF], sc[:, k.C_NAME_LEN]),
        (kv[:, k.K_KEY_OFF], kv[:, k.K_KEY_LEN]),
        (kv[is_str, k.K_VAL_OFF], kv[is_str, k.K_VAL_LEN]),
        (ev[:, k.E_NAME_OFF], ev[:, k.E_NAME_LEN]),
        (ln[:, k.L_TS_OFF], ln[:, k.L_TS_LEN]),
        *extra,
    ]
    off = np.concatenate([p[0] for p in parts])
    length = np.concatenate([p[1] for p in parts])
    inv, first = k.intern_slices(buf, off, length)
    texts = decode(off[first].tolist(), length[first].tolist())
    codes = np.asarray(b.strings.codes(texts), dtype=np.int32)[inv]
    bounds = np.cumsum([0, *(p[0].shape[0] for p in parts)]).tolist()
    cuts = list(pairwise(bounds))
    return [codes[a:z] for a, z in cuts], [inv[a:z] for a, z in cuts], texts


@dataclass
class Cells:
    """The attribute cells of a walked group, one row per key-value of ``Walked.kv``; the
    values of ``nested`` (rows of arrays, maps and bytes, as Python values) are packed in
    when the group is assembled."""

    types: np.ndarray
    ival: np.ndarray
    fval: np.ndarray
    sval: np.ndarray
    nested: dict[int, Any]


def assemble(
    b: TableBuilder,
    file: str,
    w: Walked,
    codes: list[np.ndarray],
    cells: Cells,
    ids: tuple[tuple[np.ndarray, np.ndarray, dict[int, str]], ...],
    kind: np.ndarray,
    status: np.ndarray,
    link_ids: tuple[list[str], list[str]],
) -> Callable[[], None]:
    """The per-span :class:`SpanBlock` and the attribute, event and link columns of a walked
    group, ready to append: returns the function that appends them to ``b``.

    Parameters
    ----------
    b
        The builder (its string table interns the nested values at once; nothing else is
        appended before the returned function runs).
    file
        The ``source`` of the spans.
    w
        The walker's matrices.
    codes
        The string codes of :func:`intern_strings` (its first :data:`N_STRING_PARTS` parts).
    cells
        The attribute cells.
    ids
        Trace ids ``(hi, lo, odd)``, span ids and parent ids ``(values, lengths, kept)``.
    kind, status
        The span kind and status code per span.
    link_ids
        The normalized trace and span id text of every link.

    Returns
    -------
    Callable[[], None]
        Appends the group to ``b``.
    """
    from workbench.traces import kernels as k

    sp, kv, ev, ln, sc, rs = w.sp, w.kv, w.ev, w.ln, w.sc, w.rs
    c_name, c_state, c_msg, c_scope, c_key, c_sval, c_ev_name, c_ln_state = codes[:N_STRING_PARTS]
    # copies: views would keep the codes of every slice of the group alive with the block
    c_name, c_state, c_msg = c_name.copy(), c_state.copy(), c_msg.copy()
    types, ival, fval, sval, nested = cells.types, cells.ival, cells.fval, cells.sval, cells.nested
    sval[kv[:, k.K_TYPE] == k.T_STR] = c_sval
    strings = b.strings
    pack = b.attrs.pack
    packed: dict[int, tuple[int, int, float, int]] = {}  # by id: equal texts share a value
    for i, value in nested.items():
        cell = packed.get(id(value))
        if cell is None:
            cell = packed[id(value)] = pack(value)
        types[i], ival[i], fval[i], sval[i] = cell
    store = kv[:, k.K_STORE]
    r_rows = np.flatnonzero(store == 3)
    r_off = np.zeros(len(rs) + 1, dtype=np.int64)
    np.cumsum(rs, out=r_off[1:])
    resources = []
    for r in range(len(rs)):
        items = []
        for i in r_rows[r_off[r] : r_off[r + 1]].tolist():
            value = nested[i] if i in nested else attr_value(types[i], ival[i], fval[i], sval[i],
                                                         strings)
            items.append((strings[int(c_key[i])], value))
        resources.append(items)

    def columns(mask: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, ...]:
        return (counts.copy(), c_key[mask], types[mask], ival[mask], fval[mask], sval[mask])

    attr_cols = [columns(store == 0, sp[:, k.S_NATTR]), columns(store == 1, ev[:, k.E_NATTR]),
                 columns(store == 2, ln[:, k.L_NATTR])]
    ev_counts, ev_names, ev_times = (sp[:, k.S_NEV].tolist(), c_ev_name.tolist(),
                                     ev[:, k.E_TIME].tolist())
    ln_counts, ln_states, ln_flags = (sp[:, k.S_NLINK].tolist(), c_ln_state.tolist(),
                                      ln[:, k.L_FLAGS].tolist())
    (hi, lo, odd), (span_val, span_len, span_txt), (par_val, par_len, par_txt) = ids
    n_sp = sp.shape[0]
    start = sp[:, k.S_START].copy()
    end_raw = sp[:, k.S_END]
    block = SpanBlock(
        trace_hi=hi,
        trace_lo=lo,
        trace_odd=odd,
        span_val=span_val,
        span_len=span_len,
        span_txt=span_txt,
        par_val=par_val,
        par_len=par_len,
        par_txt=par_txt,
        name=c_name,
        kind=kind.astype(np.int8),
        status=status.astype(np.int8),
        status_message=c_msg,
        start=start,
        end=np.where(end_raw != 0, end_raw, start),
        has_end=end_raw != 0,
        flags=sp[:, k.S_FLAGS].astype(np.uint32),
        trace_state=c_state,
        resource=sp[:, k.S_RES].astype(np.int32),  # local: shifted when appended
        scope=c_scope[sp[:, k.S_SCOPE]] if sc.shape[0] else np.zeros(n_sp, np.int32),
        source=np.full(n_sp, strings.code(file), dtype=np.int32),
    )
    link_t, link_s = link_ids

    def commit() -> None:
        block.resource += np.int32(len(b.resource_service))
        for items in resources:
            b.add_resource(items)
        for builder, cols in zip((b.attrs, b.event_attrs, b.link_attrs), attr_cols,
                                 strict=True):
            builder.append_columns(*cols)
        b.event_counts.extend(ev_counts)
        b.event_name.extend(ev_names)
        b.event_time.extend(ev_times)
        b.link_counts.extend(ln_counts)
        b.link_trace_id.extend(link_t)
        b.link_span_id.extend(link_s)
        b.link_trace_state.extend(ln_states)
        b.link_flags.extend(ln_flags)
        b.append_block(block)

    return commit


def attr_value(t: int, i: int, f: float, s: int, strings: Any) -> Any:
    """The Python value of a scalar attribute cell (string, bool, int or float)."""
    if t == ATTR_STR:
        return strings[int(s)]
    if t == ATTR_BOOL:
        return bool(i)
    if t == ATTR_INT:
        return int(i)
    return float(f)


# ---------------------------------------------------------------------- helpers


def preload_fast_readers() -> None:
    """Import the compiled readers' kernel modules, so that every input of at least
    :data:`~workbench.traces.otlp_json_load.FAST_JSON_MIN_BYTES` takes the fast path at once.

    The readers only go to their kernels unasked once these modules are loaded (or after
    tens of MiB of input), because starting numba costs about half a second. A caller that
    checks with a numba backend pays that start anyway; after it, loading the cached reader
    kernels costs about 10 ms each, so it calls this before loading the traces.
    """
    import workbench.traces.kernels
    import workbench.traces.kernels_json  # noqa: F401


def trace_keys_numeric(keys: list[str]) -> tuple[np.ndarray, np.ndarray, dict[int, str]]:
    """Trace key texts as :class:`SpanBlock` columns: the halves of 32-hex-digit keys (any
    case), every other key lowercased in the ``odd`` dict."""
    n = len(keys)
    hi = np.zeros(n, dtype=np.uint64)
    lo = np.zeros(n, dtype=np.uint64)
    odd: dict[int, str] = {}
    if n == 0:
        return hi, lo, odd
    length = np.fromiter(map(len, keys), dtype=np.int64, count=n)
    full = np.flatnonzero(length == 32)
    rest = np.flatnonzero(length != 32).tolist()
    if full.shape[0]:
        group = keys if full.shape[0] == n else [keys[i] for i in full.tolist()]
        try:
            raw = bytes.fromhex("".join(group))
            if len(raw) != 16 * len(group):
                raise ValueError("whitespace in a trace id")
            halves = np.frombuffer(raw, dtype=">u8").reshape(-1, 2)
            hi[full] = halves[:, 0]
            lo[full] = halves[:, 1]
        except ValueError:
            for i in full.tolist():
                try:
                    raw = bytes.fromhex(keys[i])
                    ok = len(raw) == 16
                except ValueError:
                    ok = False
                if ok:
                    hi[i] = int.from_bytes(raw[:8], "big")
                    lo[i] = int.from_bytes(raw[8:], "big")
                else:
                    rest.append(i)
    for i in rest:
        odd[i] = keys[i].lower()
    return hi, lo, odd


def trace_index_numeric(
    hi: np.ndarray, lo: np.ndarray, odd: dict[int, str]
) -> tuple[np.ndarray, list[str]]:
    """Dense trace number per span in first-appearance order, and the lowercase trace keys.

    A 32-hex-digit key and the same key as text name the same trace (keys are compared as
    lowercase text, as always); odd keys are numbered through a dict, the rest by a sort.
    """
    n = int(hi.shape[0])
    if n == 0:
        return np.zeros(0, dtype=np.int32), []
    tag = np.zeros(n, dtype=np.int64)
    odd_keys: list[str] = []
    if odd:
        slots: dict[str, int] = {}
        at = np.fromiter(odd, dtype=np.int64, count=len(odd))
        tag[at] = np.fromiter(
            (slots.setdefault(k, len(slots)) + 1 for k in odd.values()),
            dtype=np.int64, count=len(odd),
        )
        odd_keys = list(slots)
        hi = hi.copy()
        lo = lo.copy()
        hi[at] = 0
        lo[at] = 0
        # an odd key that is really 32 hex digits cannot occur: _trace_keys_numeric took it
    dense, first = dense_first_appearance(tag, hi, lo)
    keys: list[str] = []
    f_tag, f_hi, f_lo = tag[first].tolist(), hi[first].tolist(), lo[first].tolist()
    for t_, h, low in zip(f_tag, f_hi, f_lo, strict=True):
        keys.append(odd_keys[t_ - 1] if t_ else f"{h:016x}{low:016x}")
    return dense, keys


def dense_first_appearance(
    tag: np.ndarray, hi: np.ndarray, lo: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Group number of each ``(tag, hi, lo)`` row, numbered by first appearance, and the row
    of each group's first appearance."""
    n = int(hi.shape[0])
    if n >= _NUMBA_MIN_ROWS:
        from workbench.traces.kernels import dense_ids

        dense, first = dense_ids(tag, hi, lo)
        return dense, first
    order = np.lexsort((lo, hi, tag))
    s_tag, s_hi, s_lo = tag[order], hi[order], lo[order]
    new = np.ones(n, dtype=np.bool_)
    new[1:] = (s_tag[1:] != s_tag[:-1]) | (s_hi[1:] != s_hi[:-1]) | (s_lo[1:] != s_lo[:-1])
    group_sorted = np.cumsum(new) - 1
    first_of_group = order[new]  # lexsort is stable: the first row of each group comes first
    rank = np.empty(first_of_group.shape[0], dtype=np.int64)
    by_first = np.argsort(first_of_group, kind="stable")
    rank[by_first] = np.arange(first_of_group.shape[0])
    dense = np.empty(n, dtype=np.int32)
    dense[order] = rank[group_sorted]
    return dense, first_of_group[by_first]


#: tables of at least this many spans number their traces with the compiled hash kernel
_NUMBA_MIN_ROWS = 200_000
