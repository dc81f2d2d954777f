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
from workbench.traces.blocks import (
    N_STRING_PARTS,
    Cells,
    Declined,
    Walked,
    assemble,
    has_long_id,
    intern_strings,
)
from workbench.traces.builder import TableBuilder, parse_id
from workbench.traces.kernels_intern import slice_rows
from workbench.traces.model import ATTR_FLOAT, ATTR_INT
from workbench.traces.otlp_json import (
    KIND_CODES,
    STATUS_CODES,
    AnyValue,
    Fallback,
    any_to_python,
    normalize_id,
)

_ANY_DECODER = msgspec.json.Decoder(AnyValue, strict=False)
_SPECIAL = {b"NaN", b"Infinity", b"-Infinity"}


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

    A document is walked :data:`GROUP_SPANS` spans (whole ResourceSpans) at a time, in one
    pass into matrices of guessed sizes (:func:`_capacity`; pages never written cost no
    memory), again into exact ones only when a guess was short; JSON lines are counted
    first. Every group is converted to compact columns first and all are appended at the
    end, so a decline in a late group leaves the builder as it was (apart from interned
    strings).
    """
    buf = np.frombuffer(data, dtype=np.uint8)
    commits = []
    resume = 0
    budget = 0 if lines else GROUP_SPANS
    shape = None if lines else _capacity(len(data), None)
    while True:
        if shape is None:
            cnt = np.zeros(6, dtype=np.int64)
            z2, z1 = np.zeros((1, 1), dtype=np.int64), np.zeros(1, dtype=np.int64)
            status, pause = kj.walk_document(buf, 0, len(data), False, z2, z2, z2, z2, z2, z1,
                                             cnt, lines, resume, budget)
            if status:
                return False
            shape = cnt.tolist()
        w = _matrices(shape)
        cnt = np.zeros(6, dtype=np.int64)
        status, pause = kj.walk_document(buf, 0, len(data), True, w.sp, w.kv, w.ev, w.ln, w.sc,
                                         w.rs, cnt, lines, resume, budget)
        if status:
            return False
        got = cnt.tolist()
        if any(n > cap for n, cap in zip(got, shape, strict=True)):
            w = _matrices(got)  # a guess was short: the exact sizes are known now
            cnt[:] = 0
            status, pause2 = kj.walk_document(buf, 0, len(data), True, w.sp, w.kv, w.ev, w.ln,
                                              w.sc, w.rs, cnt, lines, resume, budget)
            if status or pause2 != pause:
                return False
        w = Walked(w.sp[: got[2]], w.kv[: got[3]], w.ev[: got[4]], w.ln[: got[5]],
                   w.sc[: got[1]], w.rs[: got[0]])
        try:
            commits.append(_convert(b, data, buf, file, w))
        except Declined:
            return False
        del w
        if pause < 0:
            break
        shape = _capacity(len(data) - pause, got)
        resume = pause
    for commit in commits:
        commit()
    return True


def _matrices(shape: list[int]) -> Walked:
    """Zeroed walker matrices for ``(resources, scopes, spans, key-values, events, links)``."""
    n_res, n_sc, n_sp, n_kv, n_ev, n_ln = shape
    return Walked(np.zeros((n_sp, kj.N_SJ), dtype=np.int64), np.zeros((n_kv, k.N_K), np.int64),
                  np.zeros((n_ev, k.N_E), dtype=np.int64), np.zeros((n_ln, k.N_L), np.int64),
                  np.zeros((n_sc, k.N_C), dtype=np.int64), np.zeros(n_res, dtype=np.int64))


#: the fewest bytes of OTLP/JSON a resource, scope, span, key-value, event or link takes
_MIN_BYTES = (20, 16, 40, 20, 12, 30)


def _capacity(nbytes: int, last: list[int] | None) -> list[int]:
    """Guessed matrix sizes for a group of :data:`GROUP_SPANS` spans from ``nbytes`` of
    input: the last group's counts per span with a margin (the first group: generous
    ratios), never more than the bytes can hold."""
    spans = GROUP_SPANS + GROUP_SPANS // 4
    per_span = (0.5, 1.0, 1.0, 16.0, 4.0, 2.0) if last is None or last[2] == 0 else tuple(
        1.25 * n / last[2] for n in last)
    return [min(nbytes // least + 1, int(spans * ratio) + 64)
            for least, ratio in zip(_MIN_BYTES, per_span, strict=True)]


def _texts(data: bytes, off: list[int], length: list[int]) -> list[str]:
    out = []
    for o, n in zip(off, length, strict=True):
        raw = data[o : o + n]
        if b"\\" in raw:
            try:
                out.append(msgspec.json.decode(b'"' + raw + b'"'))
            except msgspec.DecodeError:
                raise Declined from None
        else:
            try:
                out.append(raw.decode())
            except UnicodeDecodeError:
                raise Declined from None
    return out


def _convert(b: TableBuilder, data: bytes, buf: np.ndarray, file: str, w: Walked,
             ) -> Callable[[], None]:
    """Convert the walker's matrices into compact columns; returns the function that appends
    them. Raises :class:`Declined` when a value needs the reference reader."""
    sp, kv, ln = w.sp, w.kv, w.ln
    n_kv = kv.shape[0]
    types = kv[:, k.K_TYPE].astype(np.int8)
    kind_rows = np.flatnonzero(sp[:, k.S_KIND] < 0)
    code_rows = np.flatnonzero(sp[:, k.S_CODE] < 0)
    extra = [(sp[kind_rows, kj.S_KIND_OFF], sp[kind_rows, kj.S_KIND_LEN]),
             (sp[code_rows, kj.S_CODE_OFF], sp[code_rows, kj.S_CODE_LEN])]
    codes, unique, texts = intern_strings(
        b, buf, w, extra, lambda offs, lens: _texts(data, offs, lens))

    # enum names (Tempo, protobuf's JSON mapping) and their numbers
    kinds = sp[:, k.S_KIND].copy()
    codes_ = sp[:, k.S_CODE].copy()
    for rows, col, table, at in ((kind_rows, kinds, KIND_CODES, N_STRING_PARTS),
                                 (code_rows, codes_, STATUS_CODES, N_STRING_PARTS + 1)):
        if rows.shape[0]:
            got = [table.get(texts[u]) for u in unique[at].tolist()]
            if None in got:
                raise Declined
            col[rows] = got

    # doubles: one numpy conversion; the specials as the typed decoder reads them
    ival = kv[:, k.K_IVAL].copy()
    fval = np.zeros(n_kv, dtype=np.float64)
    is_float = types == ATTR_FLOAT
    if is_float.any():
        f_off, f_len = kv[is_float, k.K_VAL_OFF], kv[is_float, k.K_VAL_LEN]
        as_bytes = slice_rows(buf, f_off, f_len, 32).view("S32").reshape(-1)
        try:
            vals = as_bytes.astype(np.float64)
        except ValueError:
            raise Declined from None
        bad = ~np.isfinite(vals)
        if bad.any() and not all(t in _SPECIAL for t in as_bytes[bad].tolist()):
            raise Declined  # out of range (1e400): the typed decoder reports it
        fval[is_float] = vals
        ival[is_float] = 0
    is_int = types == ATTR_INT
    fval[is_int] = ival[is_int].astype(np.float64)

    # arrays, maps and bytes: each distinct text decoded once (equal texts share the value)
    rows = np.flatnonzero(types > ATTR_FLOAT)
    nested: dict[int, Any] = {}
    if rows.shape[0]:
        inv, first = k.intern_slices(buf, kv[rows, k.K_VAL_OFF], kv[rows, k.K_VAL_LEN])
        values = []
        at = rows[first]
        for o, n in zip(kv[at, k.K_VAL_OFF].tolist(), kv[at, k.K_VAL_LEN].tolist(),
                        strict=True):
            try:
                value = any_to_python(_ANY_DECODER.decode(data[o : o + n]))
            except (msgspec.DecodeError, ValueError, RecursionError, Fallback):
                raise Declined from None
            if value is None:
                raise Declined
            values.append(value)
        nested = dict(zip(rows.tolist(), [values[u] for u in inv.tolist()], strict=True))
    ids = (_trace_ids(sp, data),
           _span_ids(sp, data, k.S_SID_OFF, kj.ID_SPAN, kj.S_SPAN_VAL),
           _span_ids(sp, data, k.S_PID_OFF, kj.ID_PARENT, kj.S_PAR_VAL))
    if has_long_id(ids[1][2], ids[2][2]):
        raise Declined  # the reference reader says where the span is
    link_t, link_s = [], []
    for j in range(ln.shape[0]):
        t_o, t_n = int(ln[j, k.L_TID_OFF]), int(ln[j, k.L_TID_LEN])
        s_o, s_n = int(ln[j, k.L_SID_OFF]), int(ln[j, k.L_SID_LEN])
        link_t.append(normalize_id(_texts(data, [t_o], [t_n])[0], 16))
        link_s.append(normalize_id(_texts(data, [s_o], [s_n])[0], 8))
    cells = Cells(types, ival, fval, np.zeros(n_kv, dtype=np.int32), nested)
    return assemble(b, file, w, codes, cells, ids, kinds, codes_, (link_t, link_s))


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
