"""Compiled (numba) kernels of the readers: the OTLP protobuf wire walker and the layout of the
matrices it fills (shared with the JSON walker); byte-slice interning and first-appearance
numbering of 128-bit keys live in :mod:`workbench.traces.kernels_intern`, the wire primitives
(varints, fixed-width values, skipping, length-delimited slices) in
:mod:`workbench.traces.kernels_wire`; their public names are re-exported here.

Everything here works on a ``uint8`` view of the input bytes and on preallocated numpy arrays,
and never creates a Python object per record: the walker records *where* each field lies
(offset and length into the buffer) and the interning kernel dictionary-encodes those slices, so
Python only decodes each distinct string once. The walker accepts the common, well-formed
shape of an ``ExportTraceServiceRequest`` and reports anything else (a wire error, a
duplicated singular message, an out-of-range enum, a missing id, an unset attribute value) as a
non-zero status, for which the reader takes the official protobuf classes and their per-record
diagnostics (:mod:`workbench.traces.otlp_proto`).

The module imports numba on import; the readers import it only for inputs large enough that
loading the compiled kernels (cached on disk) pays off.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

from workbench.traces import kernel_cache
from workbench.traces.kernels_intern import dense_ids, intern_slices
from workbench.traces.kernels_wire import _fixed, _slice, _string_ok, skip_field, varint

kernel_cache.refresh()  # drop stale cached kernels before any is loaded

__all__ = ["dense_ids", "intern_slices", "put_event", "put_kv", "put_link", "skip_field", "varint",
           "walk_request"]

# span matrix columns
(S_TID_OFF, S_TID_LEN, S_SID_OFF, S_SID_LEN, S_PID_OFF, S_PID_LEN, S_TS_OFF, S_TS_LEN,
 S_NAME_OFF, S_NAME_LEN, S_KIND, S_START, S_END, S_FLAGS, S_CODE, S_MSG_OFF, S_MSG_LEN,
 S_RES, S_SCOPE, S_NATTR, S_NEV, S_NLINK) = range(22)
N_S = 22
# key/value matrix columns (store: 0 span, 1 event, 2 link, 3 resource attributes)
K_STORE, K_KEY_OFF, K_KEY_LEN, K_TYPE, K_IVAL, K_VAL_OFF, K_VAL_LEN = range(7)
N_K = 7
# event and link matrix columns
E_TIME, E_NAME_OFF, E_NAME_LEN, E_NATTR = range(4)
N_E = 4
(L_TID_OFF, L_TID_LEN, L_SID_OFF, L_SID_LEN, L_TS_OFF, L_TS_LEN, L_FLAGS, L_NATTR) = range(8)
N_L = 8
# scope matrix columns (the whole scope message only when it has attributes, whose strings
# the reader checks with the protobuf classes); resources have one column (attribute count)
C_NAME_OFF, C_NAME_LEN, C_MSG_OFF, C_MSG_LEN = range(4)
N_C = 4
# counters
(C_RES, C_SCOPE, C_SPAN, C_KV, C_EV, C_LN) = range(6)

#: walker value types (the model's ATTR_* codes; 4-6 are converted by the protobuf classes)
T_STR, T_BOOL, T_INT, T_FLOAT, T_BYTES, T_ARRAY, T_KVLIST = range(7)



_INT64_MAX = np.uint64(2**63 - 1)


@njit(cache=True, nogil=True)
def _key_value(buf: Any, lo: int, hi: int, store: int, fill: bool, kv: Any, cnt: Any) -> int:
    """One KeyValue; returns 0 or an error code."""
    k = cnt[C_KV]
    cnt[C_KV] += 1
    key_off = 0
    key_len = 0
    typ = -1
    ival = np.int64(0)
    val_off = 0
    val_len = 0
    seen_value = False
    pos = lo
    while pos < hi:
        tag, pos = varint(buf, pos, hi)
        if pos < 0:
            return 10
        field = int(tag >> np.uint64(3))
        wt = int(tag & np.uint64(7))
        if field == 1 and wt == 2:
            n, pos = varint(buf, pos, hi)
            if pos < 0 or n > np.uint64(hi - pos):
                return 11
            key_off, key_len = pos, int(n)
            pos += int(n)
        elif field == 2 and wt == 2:
            if seen_value:
                return 12  # a second value message would be merged into the first
            seen_value = True
            n, pos = varint(buf, pos, hi)
            if pos < 0 or n > np.uint64(hi - pos):
                return 13
            vlo = pos
            vhi = pos + int(n)
            pos = vhi
            q = vlo
            while q < vhi:
                vtag, q = varint(buf, q, vhi)
                if q < 0:
                    return 14
                vf = int(vtag >> np.uint64(3))
                vw = int(vtag & np.uint64(7))
                if vf == 1 and vw == 2:
                    m, q = varint(buf, q, vhi)
                    if q < 0 or m > np.uint64(vhi - q):
                        return 15
                    typ, val_off, val_len = T_STR, q, int(m)
                    q += int(m)
                elif vf == 2 and vw == 0:
                    v, q = varint(buf, q, vhi)
                    if q < 0:
                        return 16
                    typ = T_BOOL
                    ival = np.int64(1) if v != np.uint64(0) else np.int64(0)
                elif vf == 3 and vw == 0:
                    v, q = varint(buf, q, vhi)
                    if q < 0:
                        return 17
                    typ = T_INT
                    ival = np.int64(v)
                elif vf == 4 and vw == 1:
                    if q + 8 > vhi:
                        return 18
                    typ = T_FLOAT
                    ival = np.int64(_fixed(buf, q, 8))
                    q += 8
                elif (vf == 5 or vf == 6 or vf == 7) and vw == 2:
                    q = skip_field(buf, q, vhi, 2)
                    if q < 0:
                        return 19
                    typ = T_ARRAY if vf == 5 else (T_KVLIST if vf == 6 else T_BYTES)
                    val_off, val_len = vlo, vhi - vlo  # the whole AnyValue message
                elif vf <= 8:
                    return 20  # a known field with another wire type, or a string index
                else:
                    q = skip_field(buf, q, vhi, vw)
                    if q < 0:
                        return 21
        elif field == 3:
            return 22  # key_strindex (profiles only)
        else:
            pos = skip_field(buf, pos, hi, wt)
            if pos < 0:
                return 23
    if typ < 0:
        return 24  # no value: the official reader reports and drops it
    if fill:
        put_kv(kv, k, store, key_off, key_len, typ, ival, val_off, val_len)
    return 0


@njit(cache=True, nogil=True)
def _event(buf: Any, lo: int, hi: int, fill: bool, ev: Any, kv: Any, cnt: Any) -> int:
    e = cnt[C_EV]
    cnt[C_EV] += 1
    time = np.uint64(0)
    name_off = 0
    name_len = 0
    nattr = 0
    pos = lo
    while pos < hi:
        tag, pos = varint(buf, pos, hi)
        if pos < 0:
            return 30
        field = int(tag >> np.uint64(3))
        wt = int(tag & np.uint64(7))
        if field == 1 and wt == 1:
            if pos + 8 > hi:
                return 31
            time = _fixed(buf, pos, 8)
            pos += 8
        elif field == 2 and wt == 2:
            name_off, name_len, pos = _slice(buf, pos, hi)
            if pos < 0:
                return 32
        elif field == 3 and wt == 2:
            a, n, pos = _slice(buf, pos, hi)
            if pos < 0:
                return 33
            err = _key_value(buf, a, a + n, 1, fill, kv, cnt)
            if err:
                return err
            nattr += 1
        elif field <= 3:
            return 34
        else:
            pos = skip_field(buf, pos, hi, wt)
            if pos < 0:
                return 35
    if fill:
        put_event(ev, e, np.int64(time if time <= _INT64_MAX else _INT64_MAX), name_off,
                  name_len, nattr)
    return 0


@njit(cache=True, nogil=True)
def _link(buf: Any, lo: int, hi: int, fill: bool, ln: Any, kv: Any, cnt: Any) -> int:
    j = cnt[C_LN]
    cnt[C_LN] += 1
    t_off = t_len = s_off = s_len = ts_off = ts_len = 0
    flags = np.uint64(0)
    nattr = 0
    pos = lo
    while pos < hi:
        tag, pos = varint(buf, pos, hi)
        if pos < 0:
            return 40
        field = int(tag >> np.uint64(3))
        wt = int(tag & np.uint64(7))
        if field == 1 and wt == 2:
            t_off, t_len, pos = _slice(buf, pos, hi)
        elif field == 2 and wt == 2:
            s_off, s_len, pos = _slice(buf, pos, hi)
        elif field == 3 and wt == 2:
            ts_off, ts_len, pos = _slice(buf, pos, hi)
        elif field == 4 and wt == 2:
            a, n, pos = _slice(buf, pos, hi)
            if pos < 0:
                return 41
            err = _key_value(buf, a, a + n, 2, fill, kv, cnt)
            if err:
                return err
            nattr += 1
        elif field == 6 and wt == 5:
            if pos + 4 > hi:
                return 42
            flags = _fixed(buf, pos, 4)
            pos += 4
        elif field <= 6 and field != 5:
            return 43
        else:
            pos = skip_field(buf, pos, hi, wt)
        if pos < 0:
            return 44
    if t_len == 0 or s_len == 0:
        return 45  # reported and dropped by the official reader
    if fill:
        put_link(ln, j, t_off, t_len, s_off, s_len, ts_off, ts_len, flags, nattr)
    return 0


@njit(cache=True, nogil=True)
def _span(buf: Any, lo: int, hi: int, res: int, scope: int, fill: bool, sp: Any, kv: Any,
          ev: Any, ln: Any, cnt: Any) -> int:
    s = cnt[C_SPAN]
    cnt[C_SPAN] += 1
    t_off = t_len = s_off = s_len = p_off = p_len = ts_off = ts_len = n_off = n_len = 0
    m_off = m_len = 0
    kind = np.uint64(0)
    code = np.uint64(0)
    start = np.uint64(0)
    end = np.uint64(0)
    flags = np.uint64(0)
    nattr = nev = nlink = 0
    seen_status = False
    pos = lo
    while pos < hi:
        tag, pos = varint(buf, pos, hi)
        if pos < 0:
            return 50
        field = int(tag >> np.uint64(3))
        wt = int(tag & np.uint64(7))
        if wt == 2 and field in (1, 2, 3, 4, 5, 9, 11, 13, 15):
            a, n, pos = _slice(buf, pos, hi)
            if pos < 0:
                return 51
            if field == 1:
                t_off, t_len = a, n
            elif field == 2:
                s_off, s_len = a, n
            elif field == 3:
                ts_off, ts_len = a, n
            elif field == 4:
                p_off, p_len = a, n
            elif field == 5:
                n_off, n_len = a, n
            elif field == 9:
                err = _key_value(buf, a, a + n, 0, fill, kv, cnt)
                if err:
                    return err
                nattr += 1
            elif field == 11:
                err = _event(buf, a, a + n, fill, ev, kv, cnt)
                if err:
                    return err
                nev += 1
            elif field == 13:
                err = _link(buf, a, a + n, fill, ln, kv, cnt)
                if err:
                    return err
                nlink += 1
            else:  # status
                if seen_status:
                    return 52
                seen_status = True
                q = a
                while q < a + n:
                    stag, q = varint(buf, q, a + n)
                    if q < 0:
                        return 53
                    sf = int(stag >> np.uint64(3))
                    sw = int(stag & np.uint64(7))
                    if sf == 2 and sw == 2:
                        m_off, m_len, q = _slice(buf, q, a + n)
                    elif sf == 3 and sw == 0:
                        code, q = varint(buf, q, a + n)
                    elif sf == 2 or sf == 3:
                        return 54
                    else:
                        q = skip_field(buf, q, a + n, sw)
                    if q < 0:
                        return 55
        elif field == 6 and wt == 0:
            kind, pos = varint(buf, pos, hi)
        elif (field == 7 or field == 8) and wt == 1:
            if pos + 8 > hi:
                return 56
            if field == 7:
                start = _fixed(buf, pos, 8)
            else:
                end = _fixed(buf, pos, 8)
            pos += 8
        elif field == 16 and wt == 5:
            if pos + 4 > hi:
                return 57
            flags = _fixed(buf, pos, 4)
            pos += 4
        elif field <= 16 and field not in (10, 12, 14):
            return 58  # a known field with another wire type
        else:
            pos = skip_field(buf, pos, hi, wt)
        if pos < 0:
            return 59
    if t_len == 0 or s_len == 0:
        return 60
    if kind > np.uint64(5) or code > np.uint64(2) or start > _INT64_MAX or end > _INT64_MAX:
        return 61
    if fill and s < sp.shape[0]:
        sp[s, S_TID_OFF] = t_off
        sp[s, S_TID_LEN] = t_len
        sp[s, S_SID_OFF] = s_off
        sp[s, S_SID_LEN] = s_len
        sp[s, S_PID_OFF] = p_off
        sp[s, S_PID_LEN] = p_len
        sp[s, S_TS_OFF] = ts_off
        sp[s, S_TS_LEN] = ts_len
        sp[s, S_NAME_OFF] = n_off
        sp[s, S_NAME_LEN] = n_len
        sp[s, S_KIND] = np.int64(kind)
        sp[s, S_START] = np.int64(start)
        sp[s, S_END] = np.int64(end)
        sp[s, S_FLAGS] = np.int64(flags)
        sp[s, S_CODE] = np.int64(code)
        sp[s, S_MSG_OFF] = m_off
        sp[s, S_MSG_LEN] = m_len
        sp[s, S_RES] = res
        sp[s, S_SCOPE] = scope
        sp[s, S_NATTR] = nattr
        sp[s, S_NEV] = nev
        sp[s, S_NLINK] = nlink
    return 0


@njit(cache=True, nogil=True)
def walk_request(buf: Any, lo: int, hi: int, fill: bool, sp: Any, kv: Any, ev: Any, ln: Any,
                 sc: Any, rs: Any, cnt: Any) -> int:
    """Walk the ResourceSpans fields of a request in ``buf[lo:hi]``.

    With ``fill`` false only ``cnt`` (resources, scopes, spans, key/values, events, links) is
    counted; with ``fill`` true the matrices (allocated from those counts) are filled.
    Returns 0, or a non-zero code naming the first construct the walker leaves to the
    official reader.
    """
    pos = lo
    while pos < hi:
        tag, pos = varint(buf, pos, hi)
        if pos < 0:
            return 1
        field = int(tag >> np.uint64(3))
        wt = int(tag & np.uint64(7))
        if field != 1 or wt != 2:
            if field == 1:
                return 2
            pos = skip_field(buf, pos, hi, wt)
            if pos < 0:
                return 3
            continue
        a, n, pos = _slice(buf, pos, hi)
        if pos < 0:
            return 4
        r = cnt[C_RES]
        cnt[C_RES] += 1
        nattr = 0
        seen_resource = False
        q = a
        while q < a + n:
            rtag, q = varint(buf, q, a + n)
            if q < 0:
                return 5
            rf = int(rtag >> np.uint64(3))
            rw = int(rtag & np.uint64(7))
            if rf == 1 and rw == 2:  # resource
                if seen_resource:
                    return 6
                seen_resource = True
                b, m, q = _slice(buf, q, a + n)
                if q < 0:
                    return 7
                u = b
                while u < b + m:
                    utag, u = varint(buf, u, b + m)
                    if u < 0:
                        return 8
                    uf = int(utag >> np.uint64(3))
                    uw = int(utag & np.uint64(7))
                    if uf == 1 and uw == 2:
                        c, k, u = _slice(buf, u, b + m)
                        if u < 0:
                            return 9
                        err = _key_value(buf, c, c + k, 3, fill, kv, cnt)
                        if err:
                            return err
                        nattr += 1
                    elif uf == 1:
                        return 70
                    elif uf == 3:
                        return 75  # entity_refs: strings the walker does not check
                    else:
                        u = skip_field(buf, u, b + m, uw)
                        if u < 0:
                            return 71
            elif rf == 2 and rw == 2:  # scope spans
                b, m, q = _slice(buf, q, a + n)
                if q < 0:
                    return 72
                err = _scope_spans(buf, b, b + m, r, fill, sp, kv, ev, ln, sc, cnt)
                if err:
                    return err
            elif rf <= 2:
                return 73
            elif rf == 3 and rw == 2:  # schema_url
                q = _string_ok(buf, q, a + n)
                if q < 0:
                    return 76
            else:
                q = skip_field(buf, q, a + n, rw)
                if q < 0:
                    return 74
        if fill and r < rs.shape[0]:
            rs[r] = nattr
    return 0


@njit(cache=True, nogil=True)
def _scope_spans(buf: Any, lo: int, hi: int, res: int, fill: bool, sp: Any, kv: Any, ev: Any,
                 ln: Any, sc: Any, cnt: Any) -> int:
    c = cnt[C_SCOPE]
    cnt[C_SCOPE] += 1
    name_off = name_len = msg_off = msg_len = 0
    seen_scope = False
    pos = lo
    while pos < hi:
        tag, pos = varint(buf, pos, hi)
        if pos < 0:
            return 80
        field = int(tag >> np.uint64(3))
        wt = int(tag & np.uint64(7))
        if field == 1 and wt == 2:
            if seen_scope:
                return 81
            seen_scope = True
            a, n, pos = _slice(buf, pos, hi)
            if pos < 0:
                return 82
            q = a
            while q < a + n:
                stag, q = varint(buf, q, a + n)
                if q < 0:
                    return 83
                if int(stag) == (1 << 3) | 2:
                    name_off, name_len, q = _slice(buf, q, a + n)
                elif int(stag) == (2 << 3) | 2:  # version
                    q = _string_ok(buf, q, a + n)
                elif int(stag) == (3 << 3) | 2:  # attributes: checked by the reader
                    msg_off, msg_len = a, n
                    q = skip_field(buf, q, a + n, 2)
                else:
                    q = skip_field(buf, q, a + n, int(stag & np.uint64(7)))
                if q < 0:
                    return 84
        elif field == 2 and wt == 2:
            a, n, pos = _slice(buf, pos, hi)
            if pos < 0:
                return 85
            err = _span(buf, a, a + n, res, c, fill, sp, kv, ev, ln, cnt)
            if err:
                return err
        elif field <= 2:
            return 86
        elif field == 3 and wt == 2:  # schema_url
            pos = _string_ok(buf, pos, hi)
            if pos < 0:
                return 88
        else:
            pos = skip_field(buf, pos, hi, wt)
            if pos < 0:
                return 87
    if fill and c < sc.shape[0]:
        sc[c, C_NAME_OFF] = name_off
        sc[c, C_NAME_LEN] = name_len
        sc[c, C_MSG_OFF] = msg_off
        sc[c, C_MSG_LEN] = msg_len
    return 0


@njit(cache=True, nogil=True)
def put_kv(kv: Any, k: int, store: int, key_off: int, key_len: int, typ: int, ival: Any,
           val_off: int, val_len: int) -> None:
    """Write key-value row ``k`` when it fits."""
    if k < kv.shape[0]:
        kv[k, K_STORE] = store
        kv[k, K_KEY_OFF] = key_off
        kv[k, K_KEY_LEN] = key_len
        kv[k, K_TYPE] = typ
        kv[k, K_IVAL] = ival
        kv[k, K_VAL_OFF] = val_off
        kv[k, K_VAL_LEN] = val_len


@njit(cache=True, nogil=True)
def put_event(ev: Any, e: int, time: Any, name_off: int, name_len: int, nattr: int) -> None:
    """Write event row ``e`` when it fits."""
    if e < ev.shape[0]:
        ev[e, E_TIME] = time
        ev[e, E_NAME_OFF] = name_off
        ev[e, E_NAME_LEN] = name_len
        ev[e, E_NATTR] = nattr


@njit(cache=True, nogil=True)
def put_link(ln: Any, j: int, t_off: int, t_len: int, s_off: int, s_len: int, ts_off: int,
             ts_len: int, flags: Any, nattr: int) -> None:
    """Write link row ``j`` when it fits."""
    if j < ln.shape[0]:
        ln[j, L_TID_OFF] = t_off
        ln[j, L_TID_LEN] = t_len
        ln[j, L_SID_OFF] = s_off
        ln[j, L_SID_LEN] = s_len
        ln[j, L_TS_OFF] = ts_off
        ln[j, L_TS_LEN] = ts_len
        ln[j, L_FLAGS] = np.int64(flags)
        ln[j, L_NATTR] = nattr
