"""The compiled OTLP/JSON walkers of a span's lists: attributes (``KeyValue`` lists, shared by
resources, scopes, spans, events and links), events and links, filling the matrices of
:mod:`workbench.traces.kernels` (see :mod:`workbench.traces.kernels_json`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

from workbench.traces import kernel_cache
from workbench.traces.kernels import (
    C_EV,
    C_KV,
    C_LN,
    T_BOOL,
    T_FLOAT,
    T_INT,
    T_STR,
    put_event,
    put_kv,
    put_link,
)
from workbench.traces.kernels_json_scan import (
    INT64_MAX,
    K_ATTRS,
    K_FLAGS,
    K_KEY,
    K_NAME,
    K_SPAN_ID,
    K_TIME,
    K_TRACE_ID,
    K_TRACE_STATE,
    K_VALUE,
    any_value,
    next_key,
    next_object,
    obj_start,
    parse_number,
    parse_uint,
    scan_scalar,
    scan_string,
    skip_value,
    skip_ws,
)

kernel_cache.refresh()  # drop stale cached kernels before any is loaded


@njit(cache=True, nogil=True)
def walk_attributes(buf: Any, pos: int, end: int, store: int, fill: bool, kv: Any,
                cnt: Any) -> tuple[int, int, int]:
    """A list of KeyValue objects: (count, position after, error)."""
    pos = obj_start(buf, pos, end, 91)
    if pos < 0:
        return 0, -1, 120
    count = 0
    while True:
        pos, err = next_object(buf, pos, end, count == 0, 120)
        if pos <= 0:
            return count, -pos if pos else -1, err
        k = cnt[C_KV]
        cnt[C_KV] += 1
        count += 1
        typ, key_off, key_len, ival, v_off, v_len, nxt = _compact_kv(buf, pos, end)
        if typ >= 0:  # the common compact form, read in one step
            pos = nxt
            if fill:
                put_kv(kv, k, store, key_off, key_len, typ, ival, v_off, v_len)
            continue
        kfirst = True
        while True:
            key, pos = next_key(buf, pos, end, kfirst)
            kfirst = False
            if pos < 0:
                return count, -1, 123
            if key == -2:
                break
            if key == -3:
                return count, -1, 124
            if key == K_KEY:
                p = skip_ws(buf, pos, end)
                if p >= end or buf[p] != 34:
                    return count, -1, 125
                key_off, key_len, pos, _e = scan_string(buf, p, end)
            elif key == K_VALUE:
                if typ >= 0:
                    return count, -1, 126
                typ, ival, v_off, v_len, pos, err = any_value(buf, pos, end)
                if err:
                    return count, -1, err
            else:
                pos = skip_value(buf, pos, end)
            if pos < 0:
                return count, -1, 127
        if typ < 0:
            return count, -1, 128
        if fill:
            put_kv(kv, k, store, key_off, key_len, typ, ival, v_off, v_len)


_KEY_HEAD = np.frombuffer(b'"key":"', dtype=np.uint8).copy()
_VALUE_HEAD = np.frombuffer(b',"value":{"', dtype=np.uint8).copy()
_SV = np.frombuffer(b'stringValue":"', dtype=np.uint8).copy()
_IV = np.frombuffer(b'intValue":', dtype=np.uint8).copy()
_DV = np.frombuffer(b'doubleValue":', dtype=np.uint8).copy()
_BV_TRUE = np.frombuffer(b'boolValue":true}}', dtype=np.uint8).copy()
_BV_FALSE = np.frombuffer(b'boolValue":false}}', dtype=np.uint8).copy()


@njit(cache=True, nogil=True)
def _at(buf: Any, pos: int, end: int, lit: Any) -> bool:
    """Whether ``buf[pos:]`` starts with the bytes ``lit``."""
    n = lit.shape[0]
    if pos + n > end:
        return False
    for i in range(n):
        if buf[pos + i] != lit[i]:
            return False
    return True


@njit(cache=True, nogil=True)
def _compact_kv(buf: Any, pos: int, end: int) -> tuple[int, int, int, Any, int, int, int]:
    """A KeyValue written compactly (``"key":"k","value":{"stringValue":"v"}}`` after its
    ``{``, one scalar value, no whitespace): (type, key offset, key length, ival, value
    offset, value length, position after it); type -1 for any other form, which the general
    walk then reads (reading exactly what it reads here when the form is this one)."""
    if not _at(buf, pos, end, _KEY_HEAD):
        return -1, 0, 0, np.int64(0), 0, 0, 0
    key_off, key_len, q, _e = scan_string(buf, pos + 6, end)
    if q < 0 or not _at(buf, q, end, _VALUE_HEAD):
        return -1, 0, 0, np.int64(0), 0, 0, 0
    r = q + _VALUE_HEAD.shape[0]
    typ = -1
    ival = np.int64(0)
    v_off = v_len = t = 0
    if _at(buf, r, end, _SV):
        v_off, v_len, t, _e = scan_string(buf, r + _SV.shape[0] - 1, end)
        typ = T_STR
    elif _at(buf, r, end, _IV):
        a, n, t, _q = scan_scalar(buf, r + _IV.shape[0], end)
        if t >= 0:
            ok, neg, mag = parse_number(buf, a, n, False)
            if ok:
                ival = -np.int64(mag - np.uint64(1)) - np.int64(1) if neg and mag > np.uint64(0) \
                    else np.int64(mag)
                typ = T_INT
    elif _at(buf, r, end, _DV):
        a, n, t, _q = scan_scalar(buf, r + _DV.shape[0], end)
        if t >= 0 and n <= 31:
            ok, _neg, _m = parse_number(buf, a, n, True)
            if ok:
                v_off, v_len, typ = a, n, T_FLOAT
    elif _at(buf, r, end, _BV_TRUE):
        return T_BOOL, key_off, key_len, np.int64(1), 0, 0, r + _BV_TRUE.shape[0]
    elif _at(buf, r, end, _BV_FALSE):
        return T_BOOL, key_off, key_len, np.int64(0), 0, 0, r + _BV_FALSE.shape[0]
    if typ < 0 or t < 0 or t + 2 > end or buf[t] != 125 or buf[t + 1] != 125:
        return -1, 0, 0, np.int64(0), 0, 0, 0
    return typ, key_off, key_len, ival, v_off, v_len, t + 2


@njit(cache=True, nogil=True)
def string_field(buf: Any, pos: int, end: int) -> tuple[int, int, int]:
    p = skip_ws(buf, pos, end)
    if p >= end or buf[p] != 34:
        return 0, 0, -1
    a, n, nxt, _e = scan_string(buf, p, end)
    return a, n, nxt



@njit(cache=True, nogil=True)
def walk_events(buf: Any, pos: int, end: int, fill: bool, ev: Any, kv: Any,
            cnt: Any) -> tuple[int, int, int]:
    pos = obj_start(buf, pos, end, 91)
    if pos < 0:
        return 0, -1, 300
    count = 0
    while True:
        pos, err = next_object(buf, pos, end, count == 0, 300)
        if pos <= 0:
            return count, -pos if pos else -1, err
        e = cnt[C_EV]
        cnt[C_EV] += 1
        count += 1
        time = np.uint64(0)
        n_off = n_len = nattr = 0
        seen_attrs = False
        kfirst = True
        while True:
            key, pos = next_key(buf, pos, end, kfirst)
            kfirst = False
            if pos < 0 or key == -3:
                return count, -1, 303
            if key == -2:
                break
            if key == K_TIME:
                time, pos = parse_uint(buf, pos, end, INT64_MAX)
            elif key == K_NAME:
                n_off, n_len, pos = string_field(buf, pos, end)
            elif key == K_ATTRS:
                if seen_attrs:
                    return count, -1, 304
                seen_attrs = True
                nattr, pos, err = walk_attributes(buf, pos, end, 1, fill, kv, cnt)
                if err:
                    return count, -1, err
            else:
                pos = skip_value(buf, pos, end)
            if pos < 0:
                return count, -1, 305
        if fill:
            put_event(ev, e, np.int64(time), n_off, n_len, nattr)


@njit(cache=True, nogil=True)
def walk_links(buf: Any, pos: int, end: int, fill: bool, ln: Any, kv: Any,
           cnt: Any) -> tuple[int, int, int]:
    pos = obj_start(buf, pos, end, 91)
    if pos < 0:
        return 0, -1, 400
    count = 0
    while True:
        pos, err = next_object(buf, pos, end, count == 0, 400)
        if pos <= 0:
            return count, -pos if pos else -1, err
        j = cnt[C_LN]
        cnt[C_LN] += 1
        count += 1
        t_off = t_len = s_off = s_len = ts_off = ts_len = nattr = 0
        flags = np.uint64(0)
        seen_attrs = False
        kfirst = True
        while True:
            key, pos = next_key(buf, pos, end, kfirst)
            kfirst = False
            if pos < 0 or key == -3:
                return count, -1, 403
            if key == -2:
                break
            if key == K_TRACE_ID:
                t_off, t_len, pos = string_field(buf, pos, end)
            elif key == K_SPAN_ID:
                s_off, s_len, pos = string_field(buf, pos, end)
            elif key == K_TRACE_STATE:
                ts_off, ts_len, pos = string_field(buf, pos, end)
            elif key == K_FLAGS:
                flags, pos = parse_uint(buf, pos, end, np.uint64(2**32 - 1))
            elif key == K_ATTRS:
                if seen_attrs:
                    return count, -1, 404
                seen_attrs = True
                nattr, pos, err = walk_attributes(buf, pos, end, 2, fill, kv, cnt)
                if err:
                    return count, -1, err
            else:
                pos = skip_value(buf, pos, end)
            if pos < 0:
                return count, -1, 405
        if t_len == 0 or s_len == 0:
            return count, -1, 406
        if fill:
            put_link(ln, j, t_off, t_len, s_off, s_len, ts_off, ts_len, flags, nattr)

