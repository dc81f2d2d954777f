"""The compiled OTLP/JSON walker: one pass over the bytes of a document into the matrices of
:mod:`workbench.traces.kernels` (the protobuf walker's layout, plus parsed ids and the slices
of enum names and doubles), never a Python object per span or attribute.

It accepts the common shape of ``{"resourceSpans": [...]}`` / ``{"batches": [...]}`` exactly as
the msgspec reader (:mod:`workbench.traces.otlp_json`) reads it, and returns a non-zero status
for anything else -- escapes in keys, ``null``, duplicated lists, several values in one
``AnyValue``, numbers outside the typed ranges or in forms the typed decoder treats its own way,
the ``result``/``trace`` wrappers, the pre-1.0 layout, invalid JSON -- which the caller reads
with the msgspec reader and its located diagnostics.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

from workbench.traces.kernels import (
    C_EV,
    C_KV,
    C_LN,
    C_NAME_LEN,
    C_NAME_OFF,
    C_RES,
    C_SCOPE,
    C_SPAN,
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
    N_S,
    S_CODE,
    S_END,
    S_FLAGS,
    S_KIND,
    S_MSG_LEN,
    S_MSG_OFF,
    S_NAME_OFF,
    S_NATTR,
    S_NEV,
    S_NLINK,
    S_PID_LEN,
    S_PID_OFF,
    S_RES,
    S_SCOPE,
    S_SID_LEN,
    S_SID_OFF,
    S_START,
    S_TID_LEN,
    S_TID_OFF,
    S_TS_OFF,
    T_ARRAY,
    T_BOOL,
    T_BYTES,
    T_FLOAT,
    T_INT,
    T_KVLIST,
    T_STR,
)

# extra span columns of the JSON walker: parsed ids, and the slices of enum names
(S_TRACE_HI, S_TRACE_LO, S_SPAN_VAL, S_PAR_VAL, S_ID_OK, S_KIND_OFF, S_KIND_LEN, S_CODE_OFF,
 S_CODE_LEN) = range(N_S, N_S + 9)
N_SJ = N_S + 9
#: ``S_ID_OK`` bits: the trace / span / parent id was plain hex of the OTLP length
ID_TRACE, ID_SPAN, ID_PARENT = 1, 2, 4

_KEYS = (
    "resourceSpans", "batches", "resource", "attributes", "scopeSpans", "scope", "name",
    "spans", "traceId", "spanId", "parentSpanId", "traceState", "flags", "kind",
    "startTimeUnixNano", "endTimeUnixNano", "events", "links", "status", "timeUnixNano",
    "code", "message", "key", "value", "stringValue", "boolValue", "intValue", "doubleValue",
    "bytesValue", "arrayValue", "kvlistValue", "result", "trace", "instrumentationLibrarySpans",
    "instrumentationLibrary",
)
(K_RS, K_BATCHES, K_RESOURCE, K_ATTRS, K_SCOPE_SPANS, K_SCOPE, K_NAME, K_SPANS, K_TRACE_ID,
 K_SPAN_ID, K_PARENT, K_TRACE_STATE, K_FLAGS, K_KIND, K_START, K_END, K_EVENTS, K_LINKS,
 K_STATUS, K_TIME, K_CODE, K_MESSAGE, K_KEY, K_VALUE, K_SV, K_BV, K_IV, K_DV, K_BYV, K_AV,
 K_KVV, K_RESULT, K_TRACE, K_ILS, K_IL) = range(len(_KEYS))
_KEY_BYTES = np.frombuffer("".join(_KEYS).encode(), dtype=np.uint8).copy()
_KEY_OFF = np.cumsum([0, *map(len, _KEYS)]).astype(np.int64)
#: candidates by (length, first byte): key ids sorted by those, and each cell's first / count
_MAX_KEY = max(map(len, _KEYS))
_BY_SHAPE = np.asarray(sorted(range(len(_KEYS)), key=lambda i: (len(_KEYS[i]), _KEYS[i][0])),
                       dtype=np.int64)
_CELL_START = np.zeros((_MAX_KEY + 1, 128), dtype=np.int64)
_CELL_COUNT = np.zeros((_MAX_KEY + 1, 128), dtype=np.int64)
for _pos, _i in enumerate(_BY_SHAPE.tolist()):
    _cell = (len(_KEYS[_i]), ord(_KEYS[_i][0]))
    if _CELL_COUNT[_cell] == 0:
        _CELL_START[_cell] = _pos
    _CELL_COUNT[_cell] += 1

_INT64_MAX = np.uint64(2**63 - 1)


@njit(cache=True, nogil=True)
def _ws(buf: Any, pos: int, end: int) -> int:
    while pos < end:
        c = buf[pos]
        if c != 32 and c != 10 and c != 13 and c != 9:
            return pos
        pos += 1
    return pos


@njit(cache=True, nogil=True)
def _string(buf: Any, pos: int, end: int) -> tuple[int, int, int, bool]:
    """At an opening quote: (content offset, content length, position after, escaped);
    position -1 when unterminated or holding a control character."""
    start = pos + 1
    pos = start
    escaped = False
    while pos < end:
        c = buf[pos]
        if c == 34:
            return start, pos - start, pos + 1, escaped
        if c == 92:
            escaped = True
            if pos + 1 >= end:
                return 0, 0, -1, escaped
            e = buf[pos + 1]
            if e == 117:  # \uXXXX
                if pos + 6 > end:
                    return 0, 0, -1, escaped
                for q in range(pos + 2, pos + 6):
                    h = buf[q]
                    if not (48 <= h <= 57 or 65 <= h <= 70 or 97 <= h <= 102):
                        return 0, 0, -1, escaped
                pos += 6
                continue
            if not (e == 34 or e == 92 or e == 47 or e == 98 or e == 102 or e == 110
                    or e == 114 or e == 116):
                return 0, 0, -1, escaped
            pos += 2
            continue
        if c < 32:
            return 0, 0, -1, escaped
        pos += 1
    return 0, 0, -1, escaped


@njit(cache=True, nogil=True)
def _key(buf: Any, off: int, n: int) -> int:
    if n == 0 or n > _MAX_KEY or buf[off] >= 128:
        return -1
    first = buf[off]
    start = _CELL_START[n, first]
    for c in range(start, start + _CELL_COUNT[n, first]):
        k = _BY_SHAPE[c]
        a = _KEY_OFF[k]
        same = True
        for i in range(n):
            if buf[off + i] != _KEY_BYTES[a + i]:
                same = False
                break
        if same:
            return k
    return -1


@njit(cache=True, nogil=True)
def _token_end(buf: Any, pos: int, end: int) -> int:
    """End of a bare token (number or literal) starting at ``pos``."""
    while pos < end:
        c = buf[pos]
        if c == 44 or c == 125 or c == 93 or c == 32 or c == 10 or c == 13 or c == 9 \
                or c == 58:
            return pos
        pos += 1
    return pos


@njit(cache=True, nogil=True)
def _literal(buf: Any, pos: int, end: int) -> int:
    """Position after a valid bare token (a JSON number, true, false, null); -1 otherwise."""
    stop = _token_end(buf, pos, end)
    n = stop - pos
    if n == 4 and ((buf[pos] == 116 and buf[pos + 1] == 114 and buf[pos + 2] == 117
                    and buf[pos + 3] == 101) or (buf[pos] == 110 and buf[pos + 1] == 117
                                                  and buf[pos + 2] == 108
                                                  and buf[pos + 3] == 108)):
        return stop
    if n == 5 and buf[pos] == 102 and buf[pos + 1] == 97 and buf[pos + 2] == 108 \
            and buf[pos + 3] == 115 and buf[pos + 4] == 101:
        return stop
    ok, _neg, _v = _number(buf, pos, n, True)
    return stop if ok else -1


@njit(cache=True, nogil=True)
def _skip(buf: Any, pos: int, end: int) -> int:
    """Position after the (valid) JSON value at ``pos``; -1 when it is not valid JSON or
    nests deeper than 256 levels. Used for the values of keys the walker does not read."""
    stack = np.zeros(256, dtype=np.uint8)
    depth = 0
    need_value = True
    while True:
        pos = _ws(buf, pos, end)
        if pos >= end:
            return -1
        if need_value:
            c = buf[pos]
            if c == 34:
                _a, _n, pos, _e = _string(buf, pos, end)
                if pos < 0:
                    return -1
            elif c == 123 or c == 91:
                if depth == 256:
                    return -1
                stack[depth] = c
                depth += 1
                pos = _ws(buf, pos + 1, end)
                if pos >= end:
                    return -1
                if buf[pos] == c + 2:  # {} or []
                    depth -= 1
                    pos += 1
                elif c == 123:
                    if buf[pos] != 34:
                        return -1
                    _a, _n, pos, _e = _string(buf, pos, end)
                    if pos < 0:
                        return -1
                    pos = _ws(buf, pos, end)
                    if pos >= end or buf[pos] != 58:
                        return -1
                    pos += 1
                    continue
                else:
                    continue
            else:
                pos = _literal(buf, pos, end)
                if pos < 0:
                    return -1
            need_value = False
            continue
        if depth == 0:
            return pos
        c = buf[pos]
        top = stack[depth - 1]
        if c == 44:
            pos = _ws(buf, pos + 1, end)
            if top == 123:
                if pos >= end or buf[pos] != 34:
                    return -1
                _a, _n, pos, _e = _string(buf, pos, end)
                if pos < 0:
                    return -1
                pos = _ws(buf, pos, end)
                if pos >= end or buf[pos] != 58:
                    return -1
                pos += 1
            need_value = True
        elif c == top + 2:
            depth -= 1
            pos += 1
        else:
            return -1


@njit(cache=True, nogil=True)
def _number(buf: Any, a: int, n: int, allow_frac: bool) -> tuple[Any, bool, Any]:
    """Check the JSON number grammar on ``buf[a:a+n]``: (valid, negative, integer magnitude
    when it has no fraction or exponent; ok false when it has and ``allow_frac`` is false or
    the magnitude passes 2**63)."""
    if n == 0:
        return False, False, np.uint64(0)
    i = a
    stop = a + n
    neg = buf[i] == 45
    if neg:
        i += 1
    if i >= stop:
        return False, neg, np.uint64(0)
    if buf[i] == 48:
        i += 1
        if i < stop and 48 <= buf[i] <= 57:
            return False, neg, np.uint64(0)  # leading zero
    value = np.uint64(0)
    digits = 0
    while i < stop and 48 <= buf[i] <= 57:
        if digits >= 19:
            return False, neg, np.uint64(0)
        value = value * np.uint64(10) + np.uint64(buf[i] - 48)
        digits += 1
        i += 1
    if buf[a + (1 if neg else 0)] != 48 and digits == 0:
        return False, neg, np.uint64(0)
    if i == stop:
        return value <= _INT64_MAX or (neg and value == _INT64_MAX + np.uint64(1)), neg, value
    if not allow_frac:
        return False, neg, np.uint64(0)
    if buf[i] == 46:
        i += 1
        if i >= stop or not 48 <= buf[i] <= 57:
            return False, neg, np.uint64(0)
        while i < stop and 48 <= buf[i] <= 57:
            i += 1
    if i < stop and (buf[i] == 101 or buf[i] == 69):
        i += 1
        if i < stop and (buf[i] == 43 or buf[i] == 45):
            i += 1
        if i >= stop or not 48 <= buf[i] <= 57:
            return False, neg, np.uint64(0)
        while i < stop and 48 <= buf[i] <= 57:
            i += 1
    return i == stop, neg, np.uint64(0)


@njit(cache=True, nogil=True)
def _scalar(buf: Any, pos: int, end: int) -> tuple[int, int, int, bool]:
    """(offset, length, position after, quoted) of a number or a string value."""
    pos = _ws(buf, pos, end)
    if pos >= end:
        return 0, 0, -1, False
    if buf[pos] == 34:
        a, n, nxt, esc = _string(buf, pos, end)
        if esc:
            return 0, 0, -1, True
        return a, n, nxt, True
    nxt = _token_end(buf, pos, end)
    if nxt == pos:
        return 0, 0, -1, False
    return pos, nxt - pos, nxt, False


@njit(cache=True, nogil=True)
def _uint(buf: Any, pos: int, end: int, limit: np.uint64) -> tuple[np.uint64, int]:
    """An unsigned integer given as a JSON integer or a decimal string; position -1 when it
    is anything else or over ``limit``."""
    a, n, nxt, _q = _scalar(buf, pos, end)
    if nxt < 0:
        return np.uint64(0), -1
    ok, neg, value = _number(buf, a, n, False)
    if not ok or neg or value > limit:
        if ok and neg and value == np.uint64(0):
            return np.uint64(0), nxt
        return np.uint64(0), -1
    return value, nxt


@njit(cache=True, nogil=True)
def _hex(buf: Any, a: int, n: int) -> tuple[bool, np.uint64]:
    value = np.uint64(0)
    for i in range(a, a + n):
        c = buf[i]
        if 48 <= c <= 57:
            d = c - 48
        elif 97 <= c <= 102:
            d = c - 87
        elif 65 <= c <= 70:
            d = c - 55
        else:
            return False, np.uint64(0)
        value = (value << np.uint64(4)) | np.uint64(d)
    return True, value


@njit(cache=True, nogil=True)
def _obj_start(buf: Any, pos: int, end: int, open_c: int) -> int:
    pos = _ws(buf, pos, end)
    if pos >= end or buf[pos] != open_c:
        return -1
    return pos + 1


@njit(cache=True, nogil=True)
def _next_key(buf: Any, pos: int, end: int, first: bool) -> tuple[int, int]:
    """Inside an object at ``pos``: (key id or -2 at the closing brace, position after the
    colon); -1 position on error, key id -3 for a key with an escape, -1 for unknown keys."""
    pos = _ws(buf, pos, end)
    if pos >= end:
        return 0, -1
    if buf[pos] == 125:
        return -2, pos + 1
    if not first:
        if buf[pos] != 44:
            return 0, -1
        pos = _ws(buf, pos + 1, end)
    if pos >= end or buf[pos] != 34:
        return 0, -1
    a, n, pos, esc = _string(buf, pos, end)
    if pos < 0:
        return 0, -1
    pos = _ws(buf, pos, end)
    if pos >= end or buf[pos] != 58:
        return 0, -1
    if esc:
        return -3, pos + 1
    return _key(buf, a, n), pos + 1


@njit(cache=True, nogil=True)
def _next_item(buf: Any, pos: int, end: int, first: bool) -> tuple[bool, int]:
    """Inside an array at ``pos``: (another item follows, its position); -1 on error."""
    pos = _ws(buf, pos, end)
    if pos >= end:
        return False, -1
    if buf[pos] == 93:
        return False, pos + 1
    if not first:
        if buf[pos] != 44:
            return False, -1
        pos += 1
    return True, pos


@njit(cache=True, nogil=True)
def _any_value(buf: Any, pos: int, end: int) -> tuple[int, np.int64, int, int, int, int]:
    """An AnyValue object: (type, ival, value offset, value length, position after, error)."""
    lo = _ws(buf, pos, end)
    pos = _obj_start(buf, pos, end, 123)
    if pos < 0:
        return -1, np.int64(0), 0, 0, -1, 100
    typ = -1
    ival = np.int64(0)
    v_off = v_len = 0
    first = True
    while True:
        key, pos = _next_key(buf, pos, end, first)
        first = False
        if pos < 0:
            return -1, ival, 0, 0, -1, 101
        if key == -2:
            break
        if key == -3:
            return -1, ival, 0, 0, -1, 102
        if typ >= 0 and key in (K_SV, K_BV, K_IV, K_DV, K_BYV, K_AV, K_KVV):
            return -1, ival, 0, 0, -1, 103  # two values: the typed reader picks by order
        if key == K_SV:
            p = _ws(buf, pos, end)
            if p >= end or buf[p] != 34:
                return -1, ival, 0, 0, -1, 104
            v_off, v_len, pos, _e = _string(buf, p, end)
            typ = T_STR
        elif key == K_BV:
            p = _ws(buf, pos, end)
            if p + 4 <= end and buf[p] == 116 and buf[p + 1] == 114 and buf[p + 2] == 117 \
                    and buf[p + 3] == 101:
                ival = np.int64(1)
                pos = p + 4
            elif p + 5 <= end and buf[p] == 102 and buf[p + 1] == 97 and buf[p + 2] == 108 \
                    and buf[p + 3] == 115 and buf[p + 4] == 101:
                ival = np.int64(0)
                pos = p + 5
            else:
                return -1, ival, 0, 0, -1, 105
            typ = T_BOOL
        elif key == K_IV:
            a, n, pos, _q = _scalar(buf, pos, end)
            if pos < 0:
                return -1, ival, 0, 0, -1, 106
            ok, neg, mag = _number(buf, a, n, False)
            if not ok:
                return -1, ival, 0, 0, -1, 107
            ival = -np.int64(mag - np.uint64(1)) - np.int64(1) if neg and mag > np.uint64(0) \
                else np.int64(mag)
            typ = T_INT
        elif key == K_DV:
            a, n, pos, quoted = _scalar(buf, pos, end)
            if pos < 0:
                return -1, ival, 0, 0, -1, 108
            ok, _neg, _m = _number(buf, a, n, True)
            if not ok:
                special = quoted and ((n == 3 and buf[a] == 78 and buf[a + 1] == 97
                                       and buf[a + 2] == 78)
                                      or (n == 8 and buf[a] == 73) or (n == 9 and buf[a] == 45
                                                                       and buf[a + 1] == 73))
                if not special:
                    return -1, ival, 0, 0, -1, 109
            if n > 31:
                return -1, ival, 0, 0, -1, 110
            v_off, v_len = a, n
            typ = T_FLOAT
        elif key == K_BYV or key == K_AV or key == K_KVV:
            pos = _skip(buf, pos, end)
            typ = T_BYTES if key == K_BYV else (T_ARRAY if key == K_AV else T_KVLIST)
        else:
            pos = _skip(buf, pos, end)
        if pos < 0:
            return -1, ival, 0, 0, -1, 111
    if typ < 0:
        return -1, ival, 0, 0, -1, 112  # no value: the tolerant path reports it
    if typ == T_BYTES or typ == T_ARRAY or typ == T_KVLIST:
        v_off, v_len = lo, pos - lo  # the whole object, decoded by the typed reader
    return typ, ival, v_off, v_len, pos, 0


@njit(cache=True, nogil=True)
def _attributes(buf: Any, pos: int, end: int, store: int, fill: bool, kv: Any,
                cnt: Any) -> tuple[int, int, int]:
    """A list of KeyValue objects: (count, position after, error)."""
    pos = _obj_start(buf, pos, end, 91)
    if pos < 0:
        return 0, -1, 120
    count = 0
    first = True
    while True:
        more, pos = _next_item(buf, pos, end, first)
        first = False
        if pos < 0:
            return count, -1, 121
        if not more:
            return count, pos, 0
        pos = _obj_start(buf, pos, end, 123)
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
            key, pos = _next_key(buf, pos, end, kfirst)
            kfirst = False
            if pos < 0:
                return count, -1, 123
            if key == -2:
                break
            if key == -3:
                return count, -1, 124
            if key == K_KEY:
                p = _ws(buf, pos, end)
                if p >= end or buf[p] != 34:
                    return count, -1, 125
                key_off, key_len, pos, _e = _string(buf, p, end)
            elif key == K_VALUE:
                if typ >= 0:
                    return count, -1, 126
                typ, ival, v_off, v_len, pos, err = _any_value(buf, pos, end)
                if err:
                    return count, -1, err
            else:
                pos = _skip(buf, pos, end)
            if pos < 0:
                return count, -1, 127
        if typ < 0:
            return count, -1, 128
        if fill:
            kv[k, K_STORE] = store
            kv[k, K_KEY_OFF] = key_off
            kv[k, K_KEY_LEN] = key_len
            kv[k, K_TYPE] = typ
            kv[k, K_IVAL] = ival
            kv[k, K_VAL_OFF] = v_off
            kv[k, K_VAL_LEN] = v_len


@njit(cache=True, nogil=True)
def _str_field(buf: Any, pos: int, end: int) -> tuple[int, int, int]:
    p = _ws(buf, pos, end)
    if p >= end or buf[p] != 34:
        return 0, 0, -1
    a, n, nxt, _e = _string(buf, p, end)
    return a, n, nxt


@njit(cache=True, nogil=True)
def _span(buf: Any, pos: int, end: int, res: int, scope: int, fill: bool, sp: Any, kv: Any,
          ev: Any, ln: Any, cnt: Any, scratch: Any) -> tuple[int, int]:
    pos = _obj_start(buf, pos, end, 123)
    if pos < 0:
        return -1, 200
    s = cnt[C_SPAN]
    cnt[C_SPAN] += 1
    vals = scratch
    vals[:] = 0
    seen = 0
    first = True
    while True:
        key, pos = _next_key(buf, pos, end, first)
        first = False
        if pos < 0:
            return -1, 201
        if key == -2:
            break
        if key == -3:
            return -1, 202
        if key >= 0:
            bit = 1 << key
            if seen & bit and key in (K_ATTRS, K_EVENTS, K_LINKS, K_STATUS):
                return -1, 203
            seen |= bit
        if key == K_TRACE_ID or key == K_SPAN_ID or key == K_PARENT or key == K_TRACE_STATE \
                or key == K_NAME:
            a, n, pos = _str_field(buf, pos, end)
            col = (S_TID_OFF if key == K_TRACE_ID else S_SID_OFF if key == K_SPAN_ID
                   else S_PID_OFF if key == K_PARENT else S_TS_OFF if key == K_TRACE_STATE
                   else S_NAME_OFF)
            vals[col] = a
            vals[col + 1] = n
        elif key == K_FLAGS:
            v, pos = _uint(buf, pos, end, np.uint64(2**32 - 1))
            vals[S_FLAGS] = np.int64(v)
        elif key == K_KIND:
            a, n, pos, quoted = _scalar(buf, pos, end)
            if pos < 0:
                return -1, 204
            if quoted:
                vals[S_KIND_OFF], vals[S_KIND_LEN], vals[S_KIND] = a, n, -1
            else:
                ok, neg, v = _number(buf, a, n, False)
                if not ok or neg or v > np.uint64(5):
                    return -1, 205
                vals[S_KIND], vals[S_KIND_LEN] = np.int64(v), 0
        elif key == K_START or key == K_END:
            v, pos = _uint(buf, pos, end, _INT64_MAX)
            vals[S_START if key == K_START else S_END] = np.int64(v)
        elif key == K_ATTRS:
            n, pos, err = _attributes(buf, pos, end, 0, fill, kv, cnt)
            if err:
                return -1, err
            vals[S_NATTR] = n
        elif key == K_EVENTS:
            n, pos, err = _events(buf, pos, end, fill, ev, kv, cnt)
            if err:
                return -1, err
            vals[S_NEV] = n
        elif key == K_LINKS:
            n, pos, err = _links(buf, pos, end, fill, ln, kv, cnt)
            if err:
                return -1, err
            vals[S_NLINK] = n
        elif key == K_STATUS:
            pos = _obj_start(buf, pos, end, 123)
            if pos < 0:
                return -1, 206
            sfirst = True
            while True:
                skey, pos = _next_key(buf, pos, end, sfirst)
                sfirst = False
                if pos < 0 or skey == -3:
                    return -1, 207
                if skey == -2:
                    break
                if skey == K_CODE:
                    a, n, pos, quoted = _scalar(buf, pos, end)
                    if pos < 0:
                        return -1, 208
                    if quoted:
                        vals[S_CODE_OFF], vals[S_CODE_LEN], vals[S_CODE] = a, n, -1
                    else:
                        ok, neg, v = _number(buf, a, n, False)
                        if not ok or neg or v > np.uint64(2):
                            return -1, 209
                        vals[S_CODE], vals[S_CODE_LEN] = np.int64(v), 0
                elif skey == K_MESSAGE:
                    vals[S_MSG_OFF], vals[S_MSG_LEN], pos = _str_field(buf, pos, end)
                else:
                    pos = _skip(buf, pos, end)
                if pos < 0:
                    return -1, 210
        else:
            pos = _skip(buf, pos, end)
        if pos < 0:
            return -1, 211
    if vals[S_TID_LEN] == 0 or vals[S_SID_LEN] == 0:
        return -1, 212  # required, non-empty: the tolerant path reports it
    ok_bits = 0
    if vals[S_TID_LEN] == 32:
        ok1, h = _hex(buf, vals[S_TID_OFF], 16)
        ok2, lo_ = _hex(buf, vals[S_TID_OFF] + 16, 16)
        if ok1 and ok2:
            vals[S_TRACE_HI], vals[S_TRACE_LO] = np.int64(h), np.int64(lo_)
            ok_bits |= ID_TRACE
    if vals[S_SID_LEN] == 16:
        ok1, h = _hex(buf, vals[S_SID_OFF], 16)
        if ok1:
            vals[S_SPAN_VAL] = np.int64(h)
            ok_bits |= ID_SPAN
    if vals[S_PID_LEN] == 16:
        ok1, h = _hex(buf, vals[S_PID_OFF], 16)
        if ok1:
            vals[S_PAR_VAL] = np.int64(h)
            ok_bits |= ID_PARENT
    elif vals[S_PID_LEN] == 0:
        ok_bits |= ID_PARENT
    vals[S_ID_OK] = ok_bits
    vals[S_RES] = res
    vals[S_SCOPE] = scope
    if fill:
        sp[s, :] = vals
    return pos, 0


@njit(cache=True, nogil=True)
def _events(buf: Any, pos: int, end: int, fill: bool, ev: Any, kv: Any,
            cnt: Any) -> tuple[int, int, int]:
    pos = _obj_start(buf, pos, end, 91)
    if pos < 0:
        return 0, -1, 300
    count = 0
    first = True
    while True:
        more, pos = _next_item(buf, pos, end, first)
        first = False
        if pos < 0:
            return count, -1, 301
        if not more:
            return count, pos, 0
        pos = _obj_start(buf, pos, end, 123)
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
            key, pos = _next_key(buf, pos, end, kfirst)
            kfirst = False
            if pos < 0 or key == -3:
                return count, -1, 303
            if key == -2:
                break
            if key == K_TIME:
                time, pos = _uint(buf, pos, end, _INT64_MAX)
            elif key == K_NAME:
                n_off, n_len, pos = _str_field(buf, pos, end)
            elif key == K_ATTRS:
                if seen_attrs:
                    return count, -1, 304
                seen_attrs = True
                nattr, pos, err = _attributes(buf, pos, end, 1, fill, kv, cnt)
                if err:
                    return count, -1, err
            else:
                pos = _skip(buf, pos, end)
            if pos < 0:
                return count, -1, 305
        if fill:
            ev[e, E_TIME] = np.int64(time)
            ev[e, E_NAME_OFF] = n_off
            ev[e, E_NAME_LEN] = n_len
            ev[e, E_NATTR] = nattr


@njit(cache=True, nogil=True)
def _links(buf: Any, pos: int, end: int, fill: bool, ln: Any, kv: Any,
           cnt: Any) -> tuple[int, int, int]:
    pos = _obj_start(buf, pos, end, 91)
    if pos < 0:
        return 0, -1, 400
    count = 0
    first = True
    while True:
        more, pos = _next_item(buf, pos, end, first)
        first = False
        if pos < 0:
            return count, -1, 401
        if not more:
            return count, pos, 0
        pos = _obj_start(buf, pos, end, 123)
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
            key, pos = _next_key(buf, pos, end, kfirst)
            kfirst = False
            if pos < 0 or key == -3:
                return count, -1, 403
            if key == -2:
                break
            if key == K_TRACE_ID:
                t_off, t_len, pos = _str_field(buf, pos, end)
            elif key == K_SPAN_ID:
                s_off, s_len, pos = _str_field(buf, pos, end)
            elif key == K_TRACE_STATE:
                ts_off, ts_len, pos = _str_field(buf, pos, end)
            elif key == K_FLAGS:
                flags, pos = _uint(buf, pos, end, np.uint64(2**32 - 1))
            elif key == K_ATTRS:
                if seen_attrs:
                    return count, -1, 404
                seen_attrs = True
                nattr, pos, err = _attributes(buf, pos, end, 2, fill, kv, cnt)
                if err:
                    return count, -1, err
            else:
                pos = _skip(buf, pos, end)
            if pos < 0:
                return count, -1, 405
        if t_len == 0 or s_len == 0:
            return count, -1, 406
        if fill:
            ln[j, L_TID_OFF] = t_off
            ln[j, L_TID_LEN] = t_len
            ln[j, L_SID_OFF] = s_off
            ln[j, L_SID_LEN] = s_len
            ln[j, L_TS_OFF] = ts_off
            ln[j, L_TS_LEN] = ts_len
            ln[j, L_FLAGS] = np.int64(flags)
            ln[j, L_NATTR] = nattr


@njit(cache=True, nogil=True)
def _scope_spans(buf: Any, pos: int, end: int, res: int, fill: bool, sp: Any, kv: Any,
                 ev: Any, ln: Any, sc: Any, cnt: Any, scratch: Any) -> tuple[int, int]:
    pos = _obj_start(buf, pos, end, 123)
    if pos < 0:
        return -1, 500
    c = cnt[C_SCOPE]
    cnt[C_SCOPE] += 1
    n_off = n_len = 0
    seen_scope = seen_spans = False
    first = True
    while True:
        key, pos = _next_key(buf, pos, end, first)
        first = False
        if pos < 0 or key == -3:
            return -1, 501
        if key == -2:
            break
        if key == K_SCOPE:
            if seen_scope:
                return -1, 502
            seen_scope = True
            pos = _obj_start(buf, pos, end, 123)
            if pos < 0:
                return -1, 503
            sfirst = True
            while True:
                skey, pos = _next_key(buf, pos, end, sfirst)
                sfirst = False
                if pos < 0 or skey == -3:
                    return -1, 504
                if skey == -2:
                    break
                if skey == K_NAME:
                    n_off, n_len, pos = _str_field(buf, pos, end)
                else:
                    pos = _skip(buf, pos, end)
                if pos < 0:
                    return -1, 505
        elif key == K_SPANS:
            if seen_spans:
                return -1, 506
            seen_spans = True
            pos = _obj_start(buf, pos, end, 91)
            if pos < 0:
                return -1, 507
            ifirst = True
            while True:
                more, pos = _next_item(buf, pos, end, ifirst)
                ifirst = False
                if pos < 0:
                    return -1, 508
                if not more:
                    break
                pos, err = _span(buf, pos, end, res, c, fill, sp, kv, ev, ln, cnt, scratch)
                if err:
                    return -1, err
        else:
            pos = _skip(buf, pos, end)
            if pos < 0:
                return -1, 509
    if fill:
        sc[c, C_NAME_OFF] = n_off
        sc[c, C_NAME_LEN] = n_len
    return pos, 0


@njit(cache=True, nogil=True)
def _resource_spans(buf: Any, pos: int, end: int, fill: bool, sp: Any, kv: Any, ev: Any,
                    ln: Any, sc: Any, rs: Any, cnt: Any, scratch: Any) -> tuple[int, int]:
    pos = _obj_start(buf, pos, end, 123)
    if pos < 0:
        return -1, 600
    r = cnt[C_RES]
    cnt[C_RES] += 1
    nattr = 0
    seen_res = seen_ss = False
    first = True
    while True:
        key, pos = _next_key(buf, pos, end, first)
        first = False
        if pos < 0 or key == -3:
            return -1, 601
        if key == -2:
            break
        if key == K_RESOURCE:
            if seen_res:
                return -1, 602
            seen_res = True
            pos = _obj_start(buf, pos, end, 123)
            if pos < 0:
                return -1, 603
            rfirst = True
            seen_attrs = False
            while True:
                rkey, pos = _next_key(buf, pos, end, rfirst)
                rfirst = False
                if pos < 0 or rkey == -3:
                    return -1, 604
                if rkey == -2:
                    break
                if rkey == K_ATTRS:
                    if seen_attrs:
                        return -1, 605
                    seen_attrs = True
                    nattr, pos, err = _attributes(buf, pos, end, 3, fill, kv, cnt)
                    if err:
                        return -1, err
                else:
                    pos = _skip(buf, pos, end)
                if pos < 0:
                    return -1, 606
        elif key == K_SCOPE_SPANS:
            if seen_ss:
                return -1, 607
            seen_ss = True
            pos = _obj_start(buf, pos, end, 91)
            if pos < 0:
                return -1, 608
            ifirst = True
            while True:
                more, pos = _next_item(buf, pos, end, ifirst)
                ifirst = False
                if pos < 0:
                    return -1, 609
                if not more:
                    break
                pos, err = _scope_spans(buf, pos, end, r, fill, sp, kv, ev, ln, sc, cnt, scratch)
                if err:
                    return -1, err
        elif key == K_ILS:
            return -1, 610  # the pre-1.0 layout: the msgspec reader
        else:
            pos = _skip(buf, pos, end)
            if pos < 0:
                return -1, 611
    if fill:
        rs[r] = nattr
    return pos, 0


@njit(cache=True, nogil=True)
def walk_document(buf: Any, lo: int, hi: int, fill: bool, sp: Any, kv: Any, ev: Any, ln: Any,
                  sc: Any, rs: Any, cnt: Any, lines: bool, resume: int,
                  budget: int) -> tuple[int, int]:
    """Walk OTLP/JSON in ``buf[lo:hi]`` (count, then fill: see
    :func:`workbench.traces.kernels.walk_request`): (0 or the code of what it declines, pause).

    With ``lines``, ``buf[lo:hi]`` is JSON lines: one document per line, blank lines allowed.
    Otherwise it is one document, walked from ``resume`` (``lo``: its start, else a pause
    position); once ``budget`` (> 0) spans are counted, the walk pauses after the current
    ResourceSpans and returns where to resume (pause -1: the document is complete).
    """
    scratch = np.zeros(N_SJ, dtype=np.int64)
    pos = lo
    while True:
        end, paused = _document(buf, pos if lines else resume, hi, fill, sp, kv, ev, ln, sc,
                                rs, cnt, scratch, lo, 0 if lines else budget)
        if end < 0:
            return -end, -1
        if paused:
            return 0, end
        pos = end
        while pos < hi and (buf[pos] == 32 or buf[pos] == 9 or buf[pos] == 13):
            pos += 1
        if pos >= hi:
            return 0, -1
        if not lines or buf[pos] != 10:
            return 9, -1  # trailing bytes
        pos = _ws(buf, pos, hi)
        if pos >= hi:
            return 0, -1


@njit(cache=True, nogil=True)
def _document(buf: Any, start: int, hi: int, fill: bool, sp: Any, kv: Any, ev: Any, ln: Any,
              sc: Any, rs: Any, cnt: Any, scratch: Any, lo: int,
              budget: int) -> tuple[int, bool]:
    """One document from ``start`` (or from a pause position inside its ResourceSpans list
    when ``start > lo``): (position after it or the pause, paused), or (minus the decline
    code, False)."""
    in_array = start > lo
    seen = in_array
    first = not in_array
    ifirst = False
    pos = start
    if not in_array:
        pos = _obj_start(buf, start, hi, 123)
        if pos < 0:
            return -1, False
    while True:
        if not in_array:
            key, pos = _next_key(buf, pos, hi, first)
            first = False
            if pos < 0 or key == -3:
                return -2, False
            if key == -2:
                break
            if key == K_RS or key == K_BATCHES:
                if seen:
                    return -3, False
                seen = True
                pos = _obj_start(buf, pos, hi, 91)
                if pos < 0:
                    return -4, False
                in_array = True
                ifirst = True
            elif key == K_RESULT or key == K_TRACE:
                return -6, False
            else:
                pos = _skip(buf, pos, hi)
                if pos < 0:
                    return -7, False
            continue
        more, pos = _next_item(buf, pos, hi, ifirst)
        ifirst = False
        if pos < 0:
            return -5, False
        if not more:
            in_array = False
            continue
        pos, err = _resource_spans(buf, pos, hi, fill, sp, kv, ev, ln, sc, rs, cnt, scratch)
        if err:
            return -err, False
        if budget > 0 and cnt[C_SPAN] >= budget:
            return pos, True
    if not seen:
        return -8, False
    return pos, False
