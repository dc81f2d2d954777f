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
from numba import njit

from workbench.traces import kernels as k
from workbench.traces.blocks import (
    Cells,
    Declined,
    Walked,
    assemble,
    attr_value,
    has_long_id,
    intern_strings,
)
from workbench.traces.builder import TableBuilder, parse_id
from workbench.traces.model import ATTR_FLOAT, ATTR_INT

__all__ = ["GROUP_BYTES", "attr_value", "load_fast", "top_fields"]

#: input bytes walked per group of ResourceSpans records
GROUP_BYTES = 8 << 20


def load_fast(data: bytes, file: str, builder: TableBuilder) -> bool | None:
    """Append the spans of a binary OTLP request; None when the fast path declines the whole
    input (then nothing was appended and the caller uses the reference reader).

    Groups of ResourceSpans the walker declines are read by the reference reader, in order.
    """
    buf = np.frombuffer(data, dtype=np.uint8)
    fields, ok = top_fields(buf)
    if not ok or fields.shape[0] == 0:
        return None
    from workbench.traces import otlp_proto

    is_rs = buf[fields[:, 0]] == 0x0A  # field 1 (resource_spans), length-delimited
    per_byte: list[float] | None = None  # records per input byte of the last group walked
    for lo, hi in _groups(fields):
        ok, per_byte = _load_group(buf, data, lo, hi, file, builder, per_byte)
        if not ok:
            # the reference reader on exactly these records (a valid message on its own)
            first = int(is_rs[fields[:, 0] < lo].sum())
            otlp_proto.load(data[lo:hi], file, builder, fast=False, first=first)
    return True


@njit(cache=True, nogil=True)
def top_fields(buf: Any) -> Any:
    """(start, end) of every top-level field of a message, and an ok flag (wire errors)."""
    n = buf.shape[0]
    out = np.zeros((16, 2), dtype=np.int64)
    m = 0
    pos = 0
    while pos < n:
        start = pos
        tag, pos = k.varint(buf, pos, n)
        if pos < 0:
            return out[:m], False
        pos = k.skip_field(buf, pos, n, int(tag & np.uint64(7)))
        if pos < 0:
            return out[:m], False
        if m == out.shape[0]:
            grown = np.zeros((2 * m, 2), dtype=np.int64)
            grown[:m] = out
            out = grown
        out[m, 0] = start
        out[m, 1] = pos
        m += 1
    return out[:m], True


def _groups(fields: np.ndarray) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    lo = int(fields[0, 0])
    for start, end in fields.tolist():
        if end - lo > GROUP_BYTES and start > lo:
            out.append((lo, start))
            lo = start
    out.append((lo, int(fields[-1, 1])))
    return out


def _matrices(shape: list[int]) -> Walked:
    """Zeroed walker matrices for ``(resources, scopes, spans, key-values, events, links)``
    (pages a fill pass never writes cost no memory)."""
    n_res, n_sc, n_sp, n_kv, n_ev, n_ln = shape
    return Walked(np.zeros((n_sp, k.N_S), dtype=np.int64), np.zeros((n_kv, k.N_K), np.int64),
                  np.zeros((n_ev, k.N_E), dtype=np.int64), np.zeros((n_ln, k.N_L), np.int64),
                  np.zeros((n_sc, k.N_C), dtype=np.int64), np.zeros(n_res, dtype=np.int64))


def _walk(buf: np.ndarray, lo: int, hi: int, per_byte: list[float] | None) -> Walked | None:
    """The matrices of ``buf[lo:hi]``, or None when the walker declines. With the record
    counts per byte of the last group, one fill pass into matrices of guessed sizes (again
    into exact ones only when a guess was short); else a count pass, then a fill pass."""
    cnt = np.zeros(6, dtype=np.int64)
    if per_byte is None:
        z2, z1 = np.zeros((1, 1), dtype=np.int64), np.zeros(1, dtype=np.int64)
        if k.walk_request(buf, lo, hi, False, z2, z2, z2, z2, z2, z1, cnt):
            return None
        shape = cnt.tolist()
    else:
        shape = [int(1.25 * r * (hi - lo)) + 64 for r in per_byte]
    w = _matrices(shape)
    cnt[:] = 0
    if k.walk_request(buf, lo, hi, True, w.sp, w.kv, w.ev, w.ln, w.sc, w.rs, cnt):
        return None
    got = cnt.tolist()
    if any(n > cap for n, cap in zip(got, shape, strict=True)):
        w = _matrices(got)
        cnt[:] = 0
        if k.walk_request(buf, lo, hi, True, w.sp, w.kv, w.ev, w.ln, w.sc, w.rs, cnt):
            return None
    return Walked(w.sp[: got[2]], w.kv[: got[3]], w.ev[: got[4]], w.ln[: got[5]],
                  w.sc[: got[1]], w.rs[: got[0]])


def _load_group(buf: np.ndarray, data: bytes, lo: int, hi: int, file: str,
                b: TableBuilder, per_byte: list[float] | None,
                ) -> tuple[bool, list[float] | None]:
    """Walk ``buf[lo:hi]`` (whole top-level fields) into ``b``: whether it was appended
    (not when the walker or a string declines) and the records per byte it held."""
    w = _walk(buf, lo, hi, per_byte)
    if w is None:
        return False, None
    n_kv = w.kv.shape[0]
    if w.rs.shape[0] == 0:
        return False, None
    per_byte = [x.shape[0] / max(1, hi - lo) for x in (w.rs, w.sc, w.sp, w.kv, w.ev, w.ln)]
    return _append_group(buf, data, file, b, w, n_kv), per_byte


def _append_group(buf: np.ndarray, data: bytes, file: str, b: TableBuilder, w: Walked,
                  n_kv: int) -> bool:
    """Convert and append a walked group; False (nothing appended) when a value declines."""
    sp, kv, ln, sc = w.sp, w.kv, w.ln, w.sc

    if not _scope_attributes_ok(data, sc):
        return False

    def decode(offs: list[int], lens: list[int]) -> list[str]:
        try:
            return [data[o : o + n].decode() for o, n in zip(offs, lens, strict=True)]
        except UnicodeDecodeError:
            raise Declined from None  # the reference reader reports the bad record by its path

    try:
        codes, _, _ = intern_strings(b, buf, w, (), decode)
    except Declined:
        return False

    # ---- attributes: type columns per store, the rare nested values through protobuf
    types = kv[:, k.K_TYPE].astype(np.int8)
    ival = kv[:, k.K_IVAL].copy()
    fval = np.zeros(n_kv, dtype=np.float64)
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

        # each distinct encoding decoded once (equal bytes share the value)
        inv, first = k.intern_slices(buf, kv[other, k.K_VAL_OFF], kv[other, k.K_VAL_LEN])
        values = []
        at = other[first]
        for o, n in zip(kv[at, k.K_VAL_OFF].tolist(), kv[at, k.K_VAL_LEN].tolist(), strict=True):
            try:
                values.append(_to_python(AnyValue.FromString(data[o : o + n])))
            except Exception:  # any protobuf complaint: leave the group to the reference reader
                return False
        nested = dict(zip(other.tolist(), [values[u] for u in inv.tolist()], strict=True))
    cells = Cells(types, ival, fval, np.zeros(n_kv, dtype=np.int32), nested)
    link_t = [data[o : o + n].hex() for o, n in zip(ln[:, k.L_TID_OFF].tolist(),
                                                     ln[:, k.L_TID_LEN].tolist(), strict=True)]
    link_s = [data[o : o + n].hex() for o, n in zip(ln[:, k.L_SID_OFF].tolist(),
                                                     ln[:, k.L_SID_LEN].tolist(), strict=True)]
    ids = (_trace_ids(buf, data, sp),
           _span_ids(buf, data, sp[:, k.S_SID_OFF], sp[:, k.S_SID_LEN]),
           _span_ids(buf, data, sp[:, k.S_PID_OFF], sp[:, k.S_PID_LEN]))
    if has_long_id(ids[1][2], ids[2][2]):
        return False  # the reference reader says where the span is
    assemble(b, file, w, codes, cells, ids, sp[:, k.S_KIND], sp[:, k.S_CODE],
             (link_t, link_s))()
    return True


def _scope_attributes_ok(data: bytes, sc: np.ndarray) -> bool:
    """Whether the scopes with attributes (which the walker skips) parse, their strings
    valid UTF-8; else the reference reader reports them by their path."""
    rows = np.flatnonzero(sc[:, k.C_MSG_LEN] > 0)
    if not rows.shape[0]:
        return True
    from google.protobuf.message import DecodeError
    from opentelemetry.proto.common.v1.common_pb2 import InstrumentationScope

    for o, n in set(zip(sc[rows, k.C_MSG_OFF].tolist(), sc[rows, k.C_MSG_LEN].tolist(),
                        strict=True)):
        try:
            InstrumentationScope.FromString(data[o : o + n])
        except (DecodeError, RecursionError):
            return False
    return True


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
