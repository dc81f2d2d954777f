"""The fast reader of OTLP/JSON documents: the compiled walker into builder blocks.

:func:`load_document` walks one document with :func:`workbench.traces.kernels_json.walk_document`
(count pass, fill pass), dictionary-encodes every string slice in one kernel call and decodes
each distinct string once (through msgspec only when it holds escapes), converts the doubles in
one numpy call, and appends the spans as a :class:`~workbench.traces.builder.SpanBlock`. The
table is the one the msgspec reader (:mod:`workbench.traces.otlp_json`, the reference) builds;
``tests/traces/test_otlp_json_fast.py`` compares the two. Whatever the walker or a conversion
declines is left to the reference reader, so diagnostics stay exactly its own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec
import numpy as np

from workbench.traces import kernels as k
from workbench.traces import kernels_json as kj
from workbench.traces.builder import SpanBlock, TableBuilder, parse_id
from workbench.traces.model import ATTR_FLOAT, ATTR_INT, ATTR_STR
from workbench.traces.otlp_json import (
    KIND_CODES,
    STATUS_CODES,
    AnyValue,
    Fallback,
    any_to_python,
    normalize_id,
)
from workbench.traces.otlp_wire import attr_value

_ANY_DECODER = msgspec.json.Decoder(AnyValue, strict=False)
_SPECIAL = {b"NaN", b"Infinity", b"-Infinity"}


class _Declined(Exception):
    """A value the fast path leaves to the reference reader."""


#: spans walked and converted per group of ResourceSpans (bounds the walker's matrices)
GROUP_SPANS = 1 << 16


def walk_status(data: bytes, lines: bool = False) -> int:
    """The walker's status on a whole document (0: it reads it; for tests and tuning)."""
    buf = np.frombuffer(data, dtype=np.uint8)
    z2, z1 = np.zeros((1, 1), np.int64), np.zeros(1, np.int64)
    return int(kj.walk_document(buf, 0, len(data), False, z2, z2, z2, z2, z2, z1,
                                np.zeros(6, np.int64), lines, 0, 0)[0])


def load_document(data: bytes, file: str, b: TableBuilder, lines: bool = False) -> bool:
    """Append the spans of one OTLP/JSON document (with ``lines``: of all the JSON lines of
    ``data``); False (nothing appended) when the walker or a conversion declines.

    A document is walked :data:`GROUP_SPANS` spans (whole ResourceSpans) at a time; every
    group is converted to compact columns first and all are appended at the end, so a
    decline in a late group leaves the builder as it was (apart from interned strings).
    """
    buf = np.frombuffer(data, dtype=np.uint8)
    z2, z1 = np.zeros((1, 1), dtype=np.int64), np.zeros(1, dtype=np.int64)
    commits = []
    resume = 0
    budget = 0 if lines else GROUP_SPANS
    while True:
        cnt = np.zeros(6, dtype=np.int64)
        status, pause = kj.walk_document(buf, 0, len(data), False, z2, z2, z2, z2, z2, z1, cnt,
                                         lines, resume, budget)
        if status:
            return False
        n_res, n_sc, n_sp, n_kv, n_ev, n_ln = cnt.tolist()
        sp = np.zeros((n_sp, kj.N_SJ), dtype=np.int64)
        kv = np.zeros((n_kv, k.N_K), dtype=np.int64)
        ev = np.zeros((n_ev, k.N_E), dtype=np.int64)
        ln = np.zeros((n_ln, k.N_L), dtype=np.int64)
        sc = np.zeros((n_sc, k.N_C), dtype=np.int64)
        rs = np.zeros(n_res, dtype=np.int64)
        cnt[:] = 0
        status, pause2 = kj.walk_document(buf, 0, len(data), True, sp, kv, ev, ln, sc, rs, cnt,
                                          lines, resume, budget)
        if status or pause2 != pause:
            return False
        try:
            commits.append(_convert(b, data, buf, file, sp, kv, ev, ln, sc, rs))
        except _Declined:
            return False
        del sp, kv, ev, ln, sc, rs
        if pause < 0:
            break
        resume = pause
    for commit in commits:
        commit()
    return True


def _texts(data: bytes, off: list[int], length: list[int]) -> list[str]:
    out = []
    for o, n in zip(off, length, strict=True):
        raw = data[o : o + n]
        if b"\\" in raw:
            try:
                out.append(msgspec.json.decode(b'"' + raw + b'"'))
            except msgspec.DecodeError:
                raise _Declined from None
        else:
            try:
                out.append(raw.decode())
            except UnicodeDecodeError:
                raise _Declined from None
    return out


def _convert(b: TableBuilder, data: bytes, buf: np.ndarray, file: str, sp: np.ndarray,
             kv: np.ndarray, ev: np.ndarray, ln: np.ndarray, sc: np.ndarray,
             rs: np.ndarray) -> Callable[[], None]:
    """Convert the walker's matrices into compact columns; returns the function that appends
    them. Raises :class:`_Declined` when a value needs the reference reader."""
    n_sp, n_kv, n_ln, n_res = sp.shape[0], kv.shape[0], ln.shape[0], len(rs)
    store = kv[:, k.K_STORE]
    types = kv[:, k.K_TYPE].astype(np.int8)
    is_str = types == ATTR_STR
    kind_rows = np.flatnonzero(sp[:, k.S_KIND] < 0)
    code_rows = np.flatnonzero(sp[:, k.S_CODE] < 0)
    parts = [
        (sp[:, k.S_NAME_OFF], sp[:, k.S_NAME_LEN]),
        (sp[:, k.S_TS_OFF], sp[:, k.S_TS_LEN]),
        (sp[:, k.S_MSG_OFF], sp[:, k.S_MSG_LEN]),
        (sc[:, k.C_NAME_OFF], sc[:, k.C_NAME_LEN]),
        (kv[:, k.K_KEY_OFF], kv[:, k.K_KEY_LEN]),
        (kv[is_str, k.K_VAL_OFF], kv[is_str, k.K_VAL_LEN]),
        (ev[:, k.E_NAME_OFF], ev[:, k.E_NAME_LEN]),
        (ln[:, k.L_TS_OFF], ln[:, k.L_TS_LEN]),
        (sp[kind_rows, kj.S_KIND_OFF], sp[kind_rows, kj.S_KIND_LEN]),
        (sp[code_rows, kj.S_CODE_OFF], sp[code_rows, kj.S_CODE_LEN]),
    ]
    off = np.concatenate([p[0] for p in parts])
    length = np.concatenate([p[1] for p in parts])
    inv, first = k.intern_slices(buf, off, length)
    texts = _texts(data, off[first].tolist(), length[first].tolist())

    # enum names (Tempo, protobuf's JSON mapping) and their numbers
    bounds = np.cumsum([0, *(p[0].shape[0] for p in parts)])
    kinds = sp[:, k.S_KIND].copy()
    codes_ = sp[:, k.S_CODE].copy()
    for rows, col, table, at in ((kind_rows, kinds, KIND_CODES, 8),
                                 (code_rows, codes_, STATUS_CODES, 9)):
        if rows.shape[0]:
            got = [table.get(texts[u]) for u in inv[bounds[at] : bounds[at + 1]].tolist()]
            if None in got:
                raise _Declined
            col[rows] = got

    # doubles: one numpy conversion; the specials as the typed decoder reads them
    ival = kv[:, k.K_IVAL].copy()
    fval = np.zeros(n_kv, dtype=np.float64)
    is_float = types == ATTR_FLOAT
    if is_float.any():
        f_off, f_len = kv[is_float, k.K_VAL_OFF], kv[is_float, k.K_VAL_LEN]
        raw = np.zeros((f_off.shape[0], 32), dtype=np.uint8)
        idx = f_off[:, None] + np.arange(32, dtype=np.int64)[None, :]
        np.minimum(idx, len(data) - 1, out=idx)
        raw[:] = buf[idx]
        raw[np.arange(32)[None, :] >= f_len[:, None]] = 0
        as_bytes = raw.view("S32").reshape(-1)
        try:
            vals = as_bytes.astype(np.float64)
        except ValueError:
            raise _Declined from None
        bad = ~np.isfinite(vals)
        if bad.any() and not all(t in _SPECIAL for t in as_bytes[bad].tolist()):
            raise _Declined  # out of range (1e400): the typed decoder reports it
        fval[is_float] = vals
        ival[is_float] = 0
    is_int = types == ATTR_INT
    fval[is_int] = ival[is_int].astype(np.float64)

    strings = b.strings
    codes = np.asarray(strings.codes(texts), dtype=np.int32)[inv]
    (c_name, c_state, c_msg, c_scope, c_key, c_sval, c_ev_name, c_ln_state) = (
        codes[bounds[i] : bounds[i + 1]] for i in range(8)
    )
    sval = np.zeros(n_kv, dtype=np.int32)
    sval[is_str] = c_sval
    nested: dict[int, Any] = {}
    pack = b.attrs.pack
    for i in np.flatnonzero(types > ATTR_FLOAT).tolist():
        o, n = int(kv[i, k.K_VAL_OFF]), int(kv[i, k.K_VAL_LEN])
        try:
            value = any_to_python(_ANY_DECODER.decode(data[o : o + n]))
        except (msgspec.DecodeError, ValueError, RecursionError, Fallback):
            raise _Declined from None
        if value is None:
            raise _Declined
        nested[i] = value
    hi, lo, odd = _trace_ids(sp, data)
    span_val, span_len, span_txt = _span_ids(sp, data, k.S_SID_OFF, kj.ID_SPAN, kj.S_SPAN_VAL)
    par_val, par_len, par_txt = _span_ids(sp, data, k.S_PID_OFF, kj.ID_PARENT, kj.S_PAR_VAL)
    link_t, link_s = [], []
    for j in range(n_ln):
        t_o, t_n = int(ln[j, k.L_TID_OFF]), int(ln[j, k.L_TID_LEN])
        s_o, s_n = int(ln[j, k.L_SID_OFF]), int(ln[j, k.L_SID_LEN])
        link_t.append(normalize_id(_texts(data, [t_o], [t_n])[0], 16))
        link_s.append(normalize_id(_texts(data, [s_o], [s_n])[0], 8))

    for i in nested:
        types[i], ival[i], fval[i], sval[i] = pack(nested[i])
    r_rows = np.flatnonzero(store == 3)
    r_off = np.zeros(n_res + 1, dtype=np.int64)
    np.cumsum(rs, out=r_off[1:])
    resources = []
    for r in range(n_res):
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
        kind=kinds.astype(np.int8),
        status=codes_.astype(np.int8),
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


def _trace_ids(sp: np.ndarray, data: bytes) -> tuple[np.ndarray, np.ndarray, dict[int, str]]:
    ok = (sp[:, kj.S_ID_OK] & kj.ID_TRACE) != 0
    hi = sp[:, kj.S_TRACE_HI].view(np.uint64).copy()
    lo = sp[:, kj.S_TRACE_LO].view(np.uint64).copy()
    odd: dict[int, str] = {}
    for i in np.flatnonzero(~ok).tolist():
        o, n = int(sp[i, k.S_TID_OFF]), int(sp[i, k.S_TID_LEN])
        text = normalize_id(_texts(data, [o], [n])[0], 16)
        try:
            raw = bytes.fromhex(text) if len(text) == 32 else b""
        except ValueError:
            raw = b""
        if len(raw) == 16:
            hi[i] = int.from_bytes(raw[:8], "big")
            lo[i] = int.from_bytes(raw[8:], "big")
        else:
            odd[i] = text.lower()
    return hi, lo, odd


def _span_ids(sp: np.ndarray, data: bytes, col: int, bit: int,
              val_col: int) -> tuple[np.ndarray, np.ndarray, dict[int, str]]:
    ok = (sp[:, kj.S_ID_OK] & bit) != 0
    length = sp[:, col + 1]
    val = np.where(ok, sp[:, val_col], 0).view(np.uint64).copy()
    lens = np.where(ok & (length != 0), 8, 0).astype(np.int8)
    kept: dict[int, str] = {}
    for i in np.flatnonzero(~ok).tolist():
        o, n = int(sp[i, col]), int(length[i])
        text = normalize_id(_texts(data, [o], [n])[0], 8)
        value, nbytes, keep = parse_id(text, 8)
        val[i], lens[i] = value, nbytes
        if keep is not None:
            kept[i] = keep
    return val, lens, kept
