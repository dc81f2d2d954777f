"""The shared scanners of the compiled OTLP/JSON walkers: whitespace, strings, the key table,
numbers, hex ids, skipping values, object and list steps, and one ``AnyValue``.

Every scanner takes the document's bytes (``uint8`` array), a position and the end, and answers
positions (negative: declined), so the walkers of :mod:`workbench.traces.kernels_json_parts`
and :mod:`workbench.traces.kernels_json` compose them without a Python object per value.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

from workbench.traces import kernel_cache
from workbench.traces.kernels import (
    T_ARRAY,
    T_BOOL,
    T_BYTES,
    T_FLOAT,
    T_INT,
    T_KVLIST,
    T_STR,
)

kernel_cache.refresh()  # drop stale cached kernels before any is loaded

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

INT64_MAX = np.uint64(2**63 - 1)


@njit(cache=True, nogil=True)
def skip_ws(buf: Any, pos: int, end: int) -> int:
    while pos < end:
        c = buf[pos]
        if c != 32 and c != 10 and c != 13 and c != 9:
            return pos
        pos += 1
    return pos


@njit(cache=True, nogil=True)
def scan_string(buf: Any, pos: int, end: int) -> tuple[int, int, int, bool]:
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
def match_key(buf: Any, off: int, n: int) -> int:
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
def token_end(buf: Any, pos: int, end: int) -> int:
    """End of a bare token (number or literal) starting at ``pos``."""
    while pos < end:
        c = buf[pos]
        if c == 44 or c == 125 or c == 93 or c == 32 or c == 10 or c == 13 or c == 9 \
                or c == 58:
            return pos
        pos += 1
    return pos


@njit(cache=True, nogil=True)
def scan_literal(buf: Any, pos: int, end: int) -> int:
    """Position after a valid bare token (a JSON number, true, false, null); -1 otherwise."""
    stop = token_end(buf, pos, end)
    n = stop - pos
    if n == 4 and ((buf[pos] == 116 and buf[pos + 1] == 114 and buf[pos + 2] == 117
                    and buf[pos + 3] == 101) or (buf[pos] == 110 and buf[pos + 1] == 117
                                                  and buf[pos + 2] == 108
                                                  and buf[pos + 3] == 108)):
        return stop
    if n == 5 and buf[pos] == 102 and buf[pos + 1] == 97 and buf[pos + 2] == 108 \
            and buf[pos + 3] == 115 and buf[pos + 4] == 101:
        return stop
    ok, _neg, _v = parse_number(buf, pos, n, True)
    return stop if ok else -1


@njit(cache=True, nogil=True)
def skip_value(buf: Any, pos: int, end: int) -> int:
    """Position after the (valid) JSON value at ``pos``; -1 when it is not valid JSON or
    nests deeper than 256 levels. Used for the values of keys the walker does not read."""
    stack = np.zeros(256, dtype=np.uint8)
    depth = 0
    need_value = True
    while True:
        pos = skip_ws(buf, pos, end)
        if pos >= end:
            return -1
        if need_value:
            c = buf[pos]
            if c == 34:
                _a, _n, pos, _e = scan_string(buf, pos, end)
                if pos < 0:
                    return -1
            elif c == 123 or c == 91:
                if depth == 256:
                    return -1
                stack[depth] = c
                depth += 1
                pos = skip_ws(buf, pos + 1, end)
                if pos >= end:
                    return -1
                if buf[pos] == c + 2:  # {} or []
                    depth -= 1
                    pos += 1
                elif c == 123:
                    _a, _n, pos, _e = member_name(buf, pos, end)
                    if pos < 0:
                        return -1
                    continue
                else:
                    continue
            else:
                pos = scan_literal(buf, pos, end)
                if pos < 0:
                    return -1
            need_value = False
            continue
        if depth == 0:
            return pos
        c = buf[pos]
        top = stack[depth - 1]
        if c == 44:
            pos = skip_ws(buf, pos + 1, end)
            if top == 123:
                _a, _n, pos, _e = member_name(buf, pos, end)
                if pos < 0:
                    return -1
            need_value = True
        elif c == top + 2:
            depth -= 1
            pos += 1
        else:
            return -1


@njit(cache=True, nogil=True)
def parse_number(buf: Any, a: int, n: int, allow_frac: bool) -> tuple[Any, bool, Any]:
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
        return value <= INT64_MAX or (neg and value == INT64_MAX + np.uint64(1)), neg, value
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
def scan_scalar(buf: Any, pos: int, end: int) -> tuple[int, int, int, bool]:
    """(offset, length, position after, quoted) of a number or a string value."""
    pos = skip_ws(buf, pos, end)
    if pos >= end:
        return 0, 0, -1, False
    if buf[pos] == 34:
        a, n, nxt, esc = scan_string(buf, pos, end)
        if esc:
            return 0, 0, -1, True
        return a, n, nxt, True
    nxt = token_end(buf, pos, end)
    if nxt == pos:
        return 0, 0, -1, False
    return pos, nxt - pos, nxt, False


@njit(cache=True, nogil=True)
def parse_uint(buf: Any, pos: int, end: int, limit: np.uint64) -> tuple[np.uint64, int]:
    """An unsigned integer given as a JSON integer or a decimal string; position -1 when it
    is anything else or over ``limit``."""
    a, n, nxt, _q = scan_scalar(buf, pos, end)
    if nxt < 0:
        return np.uint64(0), -1
    ok, neg, value = parse_number(buf, a, n, False)
    if not ok or neg or value > limit:
        if ok and neg and value == np.uint64(0):
            return np.uint64(0), nxt
        return np.uint64(0), -1
    return value, nxt


@njit(cache=True, nogil=True)
def parse_hex(buf: Any, a: int, n: int) -> tuple[bool, np.uint64]:
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
def obj_start(buf: Any, pos: int, end: int, open_c: int) -> int:
    pos = skip_ws(buf, pos, end)
    if pos >= end or buf[pos] != open_c:
        return -1
    return pos + 1


@njit(cache=True, nogil=True)
def member_name(buf: Any, pos: int, end: int) -> tuple[int, int, int, bool]:
    """At an object member's opening quote: (name offset, name length, position after the
    colon, escaped); position -1 when it is not a string followed by a colon."""
    if pos >= end or buf[pos] != 34:
        return 0, 0, -1, False
    a, n, pos, esc = scan_string(buf, pos, end)
    if pos < 0:
        return 0, 0, -1, esc
    pos = skip_ws(buf, pos, end)
    if pos >= end or buf[pos] != 58:
        return 0, 0, -1, esc
    return a, n, pos + 1, esc


@njit(cache=True, nogil=True)
def next_key(buf: Any, pos: int, end: int, first: bool) -> tuple[int, int]:
    """Inside an object at ``pos``: (key id or -2 at the closing brace, position after the
    colon); -1 position on error, key id -3 for a key with an escape, -1 for unknown keys."""
    pos = skip_ws(buf, pos, end)
    if pos >= end:
        return 0, -1
    if buf[pos] == 125:
        return -2, pos + 1
    if not first:
        if buf[pos] != 44:
            return 0, -1
        pos = skip_ws(buf, pos + 1, end)
    a, n, pos, esc = member_name(buf, pos, end)
    if pos < 0:
        return 0, -1
    if esc:
        return -3, pos
    return match_key(buf, a, n), pos


@njit(cache=True, nogil=True)
def next_item(buf: Any, pos: int, end: int, first: bool) -> tuple[bool, int]:
    """Inside an array at ``pos``: (another item follows, its position); -1 on error."""
    pos = skip_ws(buf, pos, end)
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
def next_object(buf: Any, pos: int, end: int, first: bool, code: int) -> tuple[int, int]:
    """Inside a list of objects: (position after the next item's ``{``, 0); at the closing
    bracket (minus the position after it, 0); on an error (0, ``code + 1`` or ``code + 2``)."""
    more, pos = next_item(buf, pos, end, first)
    if pos < 0:
        return 0, code + 1
    if not more:
        return -pos, 0
    pos = obj_start(buf, pos, end, 123)
    if pos < 0:
        return 0, code + 2
    return pos, 0


@njit(cache=True, nogil=True)
def any_value(buf: Any, pos: int, end: int) -> tuple[int, np.int64, int, int, int, int]:
    """An AnyValue object: (type, ival, value offset, value length, position after, error)."""
    lo = skip_ws(buf, pos, end)
    pos = obj_start(buf, pos, end, 123)
    if pos < 0:
        return -1, np.int64(0), 0, 0, -1, 100
    typ = -1
    ival = np.int64(0)
    v_off = v_len = 0
    first = True
    while True:
        key, pos = next_key(buf, pos, end, first)
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
            p = skip_ws(buf, pos, end)
            if p >= end or buf[p] != 34:
                return -1, ival, 0, 0, -1, 104
            v_off, v_len, pos, _e = scan_string(buf, p, end)
            typ = T_STR
        elif key == K_BV:
            p = skip_ws(buf, pos, end)
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
            a, n, pos, _q = scan_scalar(buf, pos, end)
            if pos < 0:
                return -1, ival, 0, 0, -1, 106
            ok, neg, mag = parse_number(buf, a, n, False)
            if not ok:
                return -1, ival, 0, 0, -1, 107
            ival = -np.int64(mag - np.uint64(1)) - np.int64(1) if neg and mag > np.uint64(0) \
                else np.int64(mag)
            typ = T_INT
        elif key == K_DV:
            a, n, pos, quoted = scan_scalar(buf, pos, end)
            if pos < 0:
                return -1, ival, 0, 0, -1, 108
            ok, _neg, _m = parse_number(buf, a, n, True)
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
            pos = skip_value(buf, pos, end)
            typ = T_BYTES if key == K_BYV else (T_ARRAY if key == K_AV else T_KVLIST)
        else:
            pos = skip_value(buf, pos, end)
        if pos < 0:
            return -1, ival, 0, 0, -1, 111
    if typ < 0:
        return -1, ival, 0, 0, -1, 112  # no value: the tolerant path reports it
    if typ == T_BYTES or typ == T_ARRAY or typ == T_KVLIST:
        v_off, v_len = lo, pos - lo  # the whole object, decoded by the typed reader
    return typ, ival, v_off, v_len, pos, 0

