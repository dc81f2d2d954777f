"""The fast reader of binary OTLP traces: the compiled wire walker into builder blocks.

:func:`load_fast` walks the protobuf wire format with the kernels of
:mod:`workbench.traces.kernels`, a group of ``ResourceSpans`` records at a time (bounded
temporary memory: about :data:`GROUP_BYTES` of input per group), dictionary-encodes every
string slice in one kernel call and decodes each distinct string once, and appends the spans as
a :class:`~workbench.traces.builder.SpanBlock`. It produces exactly the table of the reader
built on the official protobuf classes (:mod:`workbench.traces.otlp_proto`, the reference;
``tests/traces/test_otlp_wire.py`` compares the two), and hands a group back to that reader
whenever it meets anything but the common well-formed shape, so diagnostics stay those of the
reference reader.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from workbench.traces import kernels as k
from workbench.traces.builder import SpanBlock, TableBuilder, parse_id
from workbench.traces.model import ATTR_BOOL, ATTR_FLOAT, ATTR_INT, ATTR_STR

#: input bytes walked per group of ResourceSpans records
GROUP_BYTES = 8 << 20


def load_fast(data: bytes, file: str, builder: TableBuilder) -> bool | None:
    """Append the spans of a binary OTLP request; None when the fast path declines the whole
    input (then nothing was appended and the caller uses the reference reader).

    Groups of ResourceSpans the walker declines are read by the reference reader, in order.
    """
    buf = np.frombuffer(data, dtype=np.uint8)
    fields, ok = k.top_fields(buf)
    if not ok or fields.shape[0] == 0:
        return None
    from workbench.traces import otlp_proto

    is_rs = buf[fields[:, 0]] == 0x0A  # field 1 (resource_spans), length-delimited
    for lo, hi in _groups(fields):
        if not _load_group(buf, data, lo, hi, file, builder):
            # the reference reader on exactly these records (a valid message on its own)
            first = int(is_rs[fields[:, 0] < lo].sum())
            otlp_proto.load(data[lo:hi], file, builder, fast=False, first=first)
    return True


def _groups(fields: np.ndarray) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    lo = int(fields[0, 0])
    for start, end in fields.tolist():
        if end - lo > GROUP_BYTES and start > lo:
            out.append((lo, start))
            lo = start
    out.append((lo, int(fields[-1, 1])))
    return out


def _load_group(buf: np.ndarray, data: bytes, lo: int, hi: int, file: str,
                b: TableBuilder) -> bool:
    """Walk ``buf[lo:hi]`` (whole top-level fields) into ``b``; False (nothing appended) when
    the walker or a string declines."""
    cnt = np.zeros(6, dtype=np.int64)
    z2 = np.zeros((1, 1), dtype=np.int64)
    z1 = np.zeros(1, dtype=np.int64)
    if k.walk_request(buf, lo, hi, False, z2, z2, z2, z2, z2, z1, cnt):
        return False
    n_res, n_sc, n_sp, n_kv, n_ev, n_ln = cnt.tolist()
    if n_res == 0:
        return False
    sp = np.zeros((n_sp, k.N_S), dtype=np.int64)
    kv = np.zeros((n_kv, k.N_K), dtype=np.int64)
    ev = np.zeros((n_ev, k.N_E), dtype=np.int64)
    ln = np.zeros((n_ln, k.N_L), dtype=np.int64)
    sc = np.zeros((n_sc, k.N_C), dtype=np.int64)
    rs = np.zeros(n_res, dtype=np.int64)
    cnt[:] = 0
    if k.walk_request(buf, lo, hi, True, sp, kv, ev, ln, sc, rs, cnt):
        return False

    # ---- every string slice, interned at once
    store = kv[:, k.K_STORE]
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
    ]
    off = np.concatenate([p[0] for p in parts])
    length = np.concatenate([p[1] for p in parts])
    inv, first = k.intern_slices(buf, off, length)
    try:
        texts = [data[o : o + n].decode() for o, n in zip(off[first].tolist(),
                                                          length[first].tolist(), strict=True)]
    except UnicodeDecodeError:
        return False  # the reference reader reports the bad record by its path
    strings = b.strings
    codes = np.asarray(strings.codes(texts), dtype=np.int32)[inv]
    bounds = np.cumsum([0, *(p[0].shape[0] for p in parts)])
    (c_name, c_state, c_msg, c_scope, c_key, c_sval, c_ev_name, c_ln_state) = (
        codes[bounds[i] : bounds[i + 1]] for i in range(len(parts))
    )

    # ---- attributes: type columns per store, the rare nested values through protobuf
    types = kv[:, k.K_TYPE].astype(np.int8)
    ival = kv[:, k.K_IVAL].copy()
    fval = np.zeros(n_kv, dtype=np.float64)
    sval = np.zeros(n_kv, dtype=np.int32)
    sval[is_str] = c_sval
    is_float = types == ATTR_FLOAT
    fval[is_float] = ival[is_float].view(np.float64)
    ival[is_float] = 0
    is_int = types == ATTR_INT
    fval[is_int] = ival[is_int].astype(np.float64)
    other = np.flatnonzero(types > ATTR_FLOAT)
    nested: dict[int, Any] = {}
    if other.shape[0]:
        from opentelemetry.proto.common.v1.common_pb2 import AnyValue

        from workbench.traces.otlp_proto import _to_python

        pack = b.attrs.pack
        for i in other.tolist():
            o, n = int(kv[i, k.K_VAL_OFF]), int(kv[i, k.K_VAL_LEN])
            try:
                value = _to_python(AnyValue.FromString(data[o : o + n]))
            except Exception:  # any protobuf complaint: leave the group to the reference reader
                return False
            types[i], ival[i], fval[i], sval[i] = pack(value)
            nested[i] = value

    # ---- resources (few: one Python call each), then the per-span block
    res_base = len(b.resource_service)
    r_rows = np.flatnonzero(store == 3)
    r_off = np.zeros(n_res + 1, dtype=np.int64)
    np.cumsum(rs, out=r_off[1:])
    for r in range(n_res):
        items = []
        for i in r_rows[r_off[r] : r_off[r + 1]].tolist():
            value = nested[i] if i in nested else attr_value(types[i], ival[i], fval[i], sval[i],
                                                         strings)
            items.append((strings[int(c_key[i])], value))
        b.add_resource(items)

    def columns(mask: np.ndarray, counts: np.ndarray) -> tuple[Any, ...]:
        return (counts, c_key[mask], types[mask], ival[mask], fval[mask], sval[mask])

    b.attrs.append_columns(*columns(store == 0, sp[:, k.S_NATTR]))
    b.event_attrs.append_columns(*columns(store == 1, ev[:, k.E_NATTR]))
    b.link_attrs.append_columns(*columns(store == 2, ln[:, k.L_NATTR]))

    b.event_counts.extend(sp[:, k.S_NEV].tolist())
    b.event_name.extend(c_ev_name.tolist())
    b.event_time.extend(ev[:, k.E_TIME].tolist())
    b.link_counts.extend(sp[:, k.S_NLINK].tolist())
    for j in range(n_ln):
        t_o, t_n = int(ln[j, k.L_TID_OFF]), int(ln[j, k.L_TID_LEN])
        s_o, s_n = int(ln[j, k.L_SID_OFF]), int(ln[j, k.L_SID_LEN])
        b.link_trace_id.append(data[t_o : t_o + t_n].hex())
        b.link_span_id.append(data[s_o : s_o + s_n].hex())
    b.link_trace_state.extend(c_ln_state.tolist())
    b.link_flags.extend(ln[:, k.L_FLAGS].tolist())

    hi_, lo_, odd = _trace_ids(buf, data, sp)
    span_val, span_len, span_txt = _span_ids(buf, data, sp[:, k.S_SID_OFF], sp[:, k.S_SID_LEN])
    par_val, par_len, par_txt = _span_ids(buf, data, sp[:, k.S_PID_OFF], sp[:, k.S_PID_LEN])
    start = sp[:, k.S_START]
    end_raw = sp[:, k.S_END]
    b.append_block(
        SpanBlock(
            trace_hi=hi_,
            trace_lo=lo_,
            trace_odd=odd,
            span_val=span_val,
            span_len=span_len,
            span_txt=span_txt,
            par_val=par_val,
            par_len=par_len,
            par_txt=par_txt,
            name=c_name,
            kind=sp[:, k.S_KIND].astype(np.int8),
            status=sp[:, k.S_CODE].astype(np.int8),
            status_message=c_msg,
            start=start.copy(),
            end=np.where(end_raw != 0, end_raw, start),
            has_end=end_raw != 0,
            flags=sp[:, k.S_FLAGS].astype(np.uint32),
            trace_state=c_state,
            resource=(sp[:, k.S_RES] + res_base).astype(np.int32),
            scope=c_scope[sp[:, k.S_SCOPE]] if n_sc else np.zeros(n_sp, np.int32),
            source=np.full(n_sp, strings.code(file), dtype=np.int32),
        )
    )
    return True


def attr_value(t: int, i: int, f: float, s: int, strings: Any) -> Any:
    """The Python value of a scalar attribute cell (string, bool, int or float)."""
    if t == ATTR_STR:
        return strings[int(s)]
    if t == ATTR_BOOL:
        return bool(i)
    if t == ATTR_INT:
        return int(i)
    return float(f)


def _gather(buf: np.ndarray, off: np.ndarray, width: int) -> np.ndarray:
    """Rows of ``width`` bytes starting at ``off``, as big-endian ``uint64`` words."""
    idx = off[:, None] + np.arange(width, dtype=np.int64)[None, :]
    return np.ascontiguousarray(buf[idx]).view(">u8").astype(np.uint64)


def _trace_ids(
    buf: np.ndarray, data: bytes, sp: np.ndarray
) -> tuple[np.ndarray, np.ndarray, dict[int, str]]:
    n = sp.shape[0]
    off, length = sp[:, k.S_TID_OFF], sp[:, k.S_TID_LEN]
    hi = np.zeros(n, dtype=np.uint64)
    lo = np.zeros(n, dtype=np.uint64)
    full = length == 16
    if full.any():
        words = _gather(buf, off[full], 16)
        hi[full], lo[full] = words[:, 0], words[:, 1]
    odd = {}
    for i in np.flatnonzero(~full).tolist():
        o, m = int(off[i]), int(length[i])
        odd[i] = data[o : o + m].hex()
    return hi, lo, odd


def _span_ids(
    buf: np.ndarray, data: bytes, off: np.ndarray, length: np.ndarray
) -> tuple[np.ndarray, np.ndarray, dict[int, str]]:
    n = off.shape[0]
    val = np.zeros(n, dtype=np.uint64)
    lens = np.zeros(n, dtype=np.int8)
    kept: dict[int, str] = {}
    eight = length == 8
    if eight.any():
        val[eight] = _gather(buf, off[eight], 8)[:, 0]
        lens[eight] = 8
    for i in np.flatnonzero(~eight & (length != 0)).tolist():
        o, m = int(off[i]), int(length[i])
        value, nbytes, text = parse_id(data[o : o + m].hex(), 8)
        val[i], lens[i] = value, nbytes
        if text is not None:
            kept[i] = text
    return val, lens, kept
