"""The compiled OTLP/JSON walkers of a span's lists: attributes (``KeyValue`` lists, shared by
resources, scopes, spans, events and links), events and links, filling the matrices of
:mod:`workbench.traces.kernels` (see :mod:`workbench.traces.kernels_json`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

from workbench.traces.kernels import (
    C_EV,
    C_KV,
    C_LN,
    E_NAME_LEN,
    E_NAME_OFF,
    E_NATTR,
    E_TIME,
    K_IVAL,
    K_KEY_LEN,
    K_KEY_OFF,
    K_STORE,
    K_TYPE,
    K_VAL_LEN,
    K_VAL_OFF,
    L_FLAGS,
    L_NATTR,
    L_SID_LEN,
    L_SID_OFF,
    L_TID_LEN,
    L_TID_OFF,
    L_TS_LEN,
    L_TS_OFF,
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
    next_item,
    next_key,
    obj_start,
    parse_uint,
    scan_string,
    skip_value,
    skip_ws,
)


@njit(cache=True, nogil=True)
def walk_attributes(buf: Any, pos: int, end: int, store: int, fill: bool, kv: Any,
                cnt: Any) -> tuple[int, int, int]:
    """A list of KeyValue objects: (count, position after, error)."""
    pos = obj_start(buf, pos, end, 91)
    if pos < 0:
        return 0, -1, 120
    count = 0
    first = True
    while True:
        more, pos = next_item(buf, pos, end, first)
        first = False
        if pos < 0:
            return count, -1, 121
        if not more:
            return count, pos, 0
        pos = obj_start(buf, pos, end, 123)
        if pos < 0:
            return count, -1, 122
        k = cnt[C_KV]
        cnt[C_KV] += 1
        count += 1
        key_off = key_len = 0
        typ = -1
        ival = np.int64(0)
        v_off = v_len = 0
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
        if fill and k < kv.shape[0]:
            kv[k, K_STORE] = store
            kv[k, K_KEY_OFF] = key_off
            kv[k, K_KEY_LEN] = key_len
            kv[k, K_TYPE] = typ
            kv[k, K_IVAL] = ival
            kv[k, K_VAL_OFF] = v_off
            kv[k, K_VAL_LEN] = v_len


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
    first = True
    while True:
        more, pos = next_item(buf, pos, end, first)
        first = False
        if pos < 0:
            return count, -1, 301
        if not more:
            return count, pos, 0
        pos = obj_start(buf, pos, end, 123)
        if pos < 0:
            return count, -1, 302
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
        if fill and e < ev.shape[0]:
            ev[e, E_TIME] = np.int64(time)
            ev[e, E_NAME_OFF] = n_off
            ev[e, E_NAME_LEN] = n_len
            ev[e, E_NATTR] = nattr


@njit(cache=True, nogil=True)
def walk_links(buf: Any, pos: int, end: int, fill: bool, ln: Any, kv: Any,
           cnt: Any) -> tuple[int, int, int]:
    pos = obj_start(buf, pos, end, 91)
    if pos < 0:
        return 0, -1, 400
    count = 0
    first = True
    while True:
        more, pos = next_item(buf, pos, end, first)
        first = False
        if pos < 0:
            return count, -1, 401
        if not more:
            return count, pos, 0
        pos = obj_start(buf, pos, end, 123)
        if pos < 0:
            return count, -1, 402
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
        if fill and j < ln.shape[0]:
            ln[j, L_TID_OFF] = t_off
            ln[j, L_TID_LEN] = t_len
            ln[j, L_SID_OFF] = s_off
            ln[j, L_SID_LEN] = s_len
            ln[j, L_TS_OFF] = ts_off
            ln[j, L_TS_LEN] = ts_len
            ln[j, L_FLAGS] = np.int64(flags)
            ln[j, L_NATTR] = nattr

