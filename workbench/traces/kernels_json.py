"""The compiled OTLP/JSON walker: passes over the bytes of a document into the matrices of
:mod:`workbench.traces.kernels` (the protobuf walker's layout, plus parsed ids and the slices
of enum names and doubles), never a Python object per span or attribute.

It accepts the common shape of ``{"resourceSpans": [...]}`` / ``{"batches": [...]}`` exactly as
the msgspec reader (:mod:`workbench.traces.otlp_json`) reads it, and returns a non-zero status
for anything else -- escapes in keys, ``null``, duplicated lists, several values in one
``AnyValue``, numbers outside the typed ranges or in forms the typed decoder treats its own way,
the ``result``/``trace`` wrappers, the pre-1.0 layout, invalid JSON -- which the caller reads
with the msgspec reader and its located diagnostics.

The scanners (strings, numbers, ids, skipping) live in :mod:`workbench.traces.kernels_json_scan`,
the attribute, event and link walkers in :mod:`workbench.traces.kernels_json_parts`; this
module walks documents, resource spans, scope spans and spans.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

from workbench.traces import kernel_cache
from workbench.traces.kernels import (
    C_NAME_LEN,
    C_NAME_OFF,
    C_RES,
    C_SCOPE,
    C_SPAN,
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
)
from workbench.traces.kernels_json_parts import (
    string_field,
    walk_attributes,
    walk_events,
    walk_links,
)
from workbench.traces.kernels_json_scan import (
    INT64_MAX,
    K_ATTRS,
    K_BATCHES,
    K_CODE,
    K_END,
    K_EVENTS,
    K_FLAGS,
    K_ILS,
    K_KIND,
    K_LINKS,
    K_MESSAGE,
    K_NAME,
    K_PARENT,
    K_RESOURCE,
    K_RESULT,
    K_RS,
    K_SCOPE,
    K_SCOPE_SPANS,
    K_SPAN_ID,
    K_SPANS,
    K_START,
    K_STATUS,
    K_TRACE,
    K_TRACE_ID,
    K_TRACE_STATE,
    next_item,
    next_key,
    obj_start,
    parse_hex,
    parse_number,
    parse_uint,
    scan_scalar,
    skip_value,
    skip_ws,
)

kernel_cache.refresh()  # drop stale cached kernels before any is loaded

# extra span columns of the JSON walker: parsed ids, and the slices of enum names
(S_TRACE_HI, S_TRACE_LO, S_SPAN_VAL, S_PAR_VAL, S_ID_OK, S_KIND_OFF, S_KIND_LEN, S_CODE_OFF,
 S_CODE_LEN) = range(N_S, N_S + 9)
N_SJ = N_S + 9
#: ``S_ID_OK`` bits: the trace / span / parent id was plain hex of the OTLP length
ID_TRACE, ID_SPAN, ID_PARENT = 1, 2, 4


@njit(cache=True, nogil=True)
def _span(buf: Any, pos: int, end: int, res: int, scope: int, fill: bool, sp: Any, kv: Any,
          ev: Any, ln: Any, cnt: Any, scratch: Any) -> tuple[int, int]:
    pos = obj_start(buf, pos, end, 123)
    if pos < 0:
        return -1, 200
    s = cnt[C_SPAN]
    cnt[C_SPAN] += 1
    vals = scratch
    vals[:] = 0
    seen = 0
    first = True
    while True:
        key, pos = next_key(buf, pos, end, first)
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
            a, n, pos = string_field(buf, pos, end)
            col = (S_TID_OFF if key == K_TRACE_ID else S_SID_OFF if key == K_SPAN_ID
                   else S_PID_OFF if key == K_PARENT else S_TS_OFF if key == K_TRACE_STATE
                   else S_NAME_OFF)
            vals[col] = a
            vals[col + 1] = n
        elif key == K_FLAGS:
            v, pos = parse_uint(buf, pos, end, np.uint64(2**32 - 1))
            vals[S_FLAGS] = np.int64(v)
        elif key == K_KIND:
            a, n, pos, quoted = scan_scalar(buf, pos, end)
            if pos < 0:
                return -1, 204
            if quoted:
                vals[S_KIND_OFF], vals[S_KIND_LEN], vals[S_KIND] = a, n, -1
            else:
                ok, neg, v = parse_number(buf, a, n, False)
                if not ok or neg or v > np.uint64(5):
                    return -1, 205
                vals[S_KIND], vals[S_KIND_LEN] = np.int64(v), 0
        elif key == K_START or key == K_END:
            v, pos = parse_uint(buf, pos, end, INT64_MAX)
            vals[S_START if key == K_START else S_END] = np.int64(v)
        elif key == K_ATTRS:
            n, pos, err = walk_attributes(buf, pos, end, 0, fill, kv, cnt)
            if err:
                return -1, err
            vals[S_NATTR] = n
        elif key == K_EVENTS:
            n, pos, err = walk_events(buf, pos, end, fill, ev, kv, cnt)
            if err:
                return -1, err
            vals[S_NEV] = n
        elif key == K_LINKS:
            n, pos, err = walk_links(buf, pos, end, fill, ln, kv, cnt)
            if err:
                return -1, err
            vals[S_NLINK] = n
        elif key == K_STATUS:
            pos = obj_start(buf, pos, end, 123)
            if pos < 0:
                return -1, 206
            sfirst = True
            while True:
                skey, pos = next_key(buf, pos, end, sfirst)
                sfirst = False
                if pos < 0 or skey == -3:
                    return -1, 207
                if skey == -2:
                    break
                if skey == K_CODE:
                    a, n, pos, quoted = scan_scalar(buf, pos, end)
                    if pos < 0:
                        return -1, 208
                    if quoted:
                        vals[S_CODE_OFF], vals[S_CODE_LEN], vals[S_CODE] = a, n, -1
                    else:
                        ok, neg, v = parse_number(buf, a, n, False)
                        if not ok or neg or v > np.uint64(2):
                            return -1, 209
                        vals[S_CODE], vals[S_CODE_LEN] = np.int64(v), 0
                elif skey == K_MESSAGE:
                    vals[S_MSG_OFF], vals[S_MSG_LEN], pos = string_field(buf, pos, end)
                else:
                    pos = skip_value(buf, pos, end)
                if pos < 0:
                    return -1, 210
        else:
            pos = skip_value(buf, pos, end)
        if pos < 0:
            return -1, 211
    if vals[S_TID_LEN] == 0 or vals[S_SID_LEN] == 0:
        return -1, 212  # required, non-empty: the tolerant path reports it
    ok_bits = 0
    if vals[S_TID_LEN] == 32:
        ok1, h = parse_hex(buf, vals[S_TID_OFF], 16)
        ok2, lo_ = parse_hex(buf, vals[S_TID_OFF] + 16, 16)
        if ok1 and ok2:
            vals[S_TRACE_HI], vals[S_TRACE_LO] = np.int64(h), np.int64(lo_)
            ok_bits |= ID_TRACE
    if vals[S_SID_LEN] == 16:
        ok1, h = parse_hex(buf, vals[S_SID_OFF], 16)
        if ok1:
            vals[S_SPAN_VAL] = np.int64(h)
            ok_bits |= ID_SPAN
    if vals[S_PID_LEN] == 16:
        ok1, h = parse_hex(buf, vals[S_PID_OFF], 16)
        if ok1:
            vals[S_PAR_VAL] = np.int64(h)
            ok_bits |= ID_PARENT
    elif vals[S_PID_LEN] == 0:
        ok_bits |= ID_PARENT
    vals[S_ID_OK] = ok_bits
    vals[S_RES] = res
    vals[S_SCOPE] = scope
    if fill and s < sp.shape[0]:
        sp[s, :] = vals
    return pos, 0



@njit(cache=True, nogil=True)
def _scope_spans(buf: Any, pos: int, end: int, res: int, fill: bool, sp: Any, kv: Any,
                 ev: Any, ln: Any, sc: Any, cnt: Any, scratch: Any) -> tuple[int, int]:
    pos = obj_start(buf, pos, end, 123)
    if pos < 0:
        return -1, 500
    c = cnt[C_SCOPE]
    cnt[C_SCOPE] += 1
    n_off = n_len = 0
    seen_scope = seen_spans = False
    first = True
    while True:
        key, pos = next_key(buf, pos, end, first)
        first = False
        if pos < 0 or key == -3:
            return -1, 501
        if key == -2:
            break
        if key == K_SCOPE:
            if seen_scope:
                return -1, 502
            seen_scope = True
            pos = obj_start(buf, pos, end, 123)
            if pos < 0:
                return -1, 503
            sfirst = True
            while True:
                skey, pos = next_key(buf, pos, end, sfirst)
                sfirst = False
                if pos < 0 or skey == -3:
                    return -1, 504
                if skey == -2:
                    break
                if skey == K_NAME:
                    n_off, n_len, pos = string_field(buf, pos, end)
                else:
                    pos = skip_value(buf, pos, end)
                if pos < 0:
                    return -1, 505
        elif key == K_SPANS:
            if seen_spans:
                return -1, 506
            seen_spans = True
            pos = obj_start(buf, pos, end, 91)
            if pos < 0:
                return -1, 507
            ifirst = True
            while True:
                more, pos = next_item(buf, pos, end, ifirst)
                ifirst = False
                if pos < 0:
                    return -1, 508
                if not more:
                    break
                pos, err = _span(buf, pos, end, res, c, fill, sp, kv, ev, ln, cnt, scratch)
                if err:
                    return -1, err
        else:
            pos = skip_value(buf, pos, end)
            if pos < 0:
                return -1, 509
    if fill and c < sc.shape[0]:
        sc[c, C_NAME_OFF] = n_off
        sc[c, C_NAME_LEN] = n_len
    return pos, 0


@njit(cache=True, nogil=True)
def _resource_spans(buf: Any, pos: int, end: int, fill: bool, sp: Any, kv: Any, ev: Any,
                    ln: Any, sc: Any, rs: Any, cnt: Any, scratch: Any) -> tuple[int, int]:
    pos = obj_start(buf, pos, end, 123)
    if pos < 0:
        return -1, 600
    r = cnt[C_RES]
    cnt[C_RES] += 1
    nattr = 0
    seen_res = seen_ss = False
    first = True
    while True:
        key, pos = next_key(buf, pos, end, first)
        first = False
        if pos < 0 or key == -3:
            return -1, 601
        if key == -2:
            break
        if key == K_RESOURCE:
            if seen_res:
                return -1, 602
            seen_res = True
            pos = obj_start(buf, pos, end, 123)
            if pos < 0:
                return -1, 603
            rfirst = True
            seen_attrs = False
            while True:
                rkey, pos = next_key(buf, pos, end, rfirst)
                rfirst = False
                if pos < 0 or rkey == -3:
                    return -1, 604
                if rkey == -2:
                    break
                if rkey == K_ATTRS:
                    if seen_attrs:
                        return -1, 605
                    seen_attrs = True
                    nattr, pos, err = walk_attributes(buf, pos, end, 3, fill, kv, cnt)
                    if err:
                        return -1, err
                else:
                    pos = skip_value(buf, pos, end)
                if pos < 0:
                    return -1, 606
        elif key == K_SCOPE_SPANS:
            if seen_ss:
                return -1, 607
            seen_ss = True
            pos = obj_start(buf, pos, end, 91)
            if pos < 0:
                return -1, 608
            ifirst = True
            while True:
                more, pos = next_item(buf, pos, end, ifirst)
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
            pos = skip_value(buf, pos, end)
            if pos < 0:
                return -1, 611
    if fill and r < rs.shape[0]:
        rs[r] = nattr
    return pos, 0


@njit(cache=True, nogil=True)
def walk_document(buf: Any, lo: int, hi: int, fill: bool, sp: Any, kv: Any, ev: Any, ln: Any,
                  sc: Any, rs: Any, cnt: Any, lines: bool, resume: int,
                  budget: int) -> tuple[int, int]:
    """Walk OTLP/JSON in ``buf[lo:hi]`` (count, then fill: see
    :func:`workbench.traces.kernels.walk_request`): (0 or the code of what it declines, pause).

    A fill pass writes only the rows that fit its matrices and counts them all, so a caller
    can fill matrices of guessed sizes in one pass and walk again only when ``cnt`` says a
    guess was short.

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
        pos = skip_ws(buf, pos, hi)
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
        pos = obj_start(buf, start, hi, 123)
        if pos < 0:
            return -1, False
    while True:
        if not in_array:
            key, pos = next_key(buf, pos, hi, first)
            first = False
            if pos < 0 or key == -3:
                return -2, False
            if key == -2:
                break
            if key == K_RS or key == K_BATCHES:
                if seen:
                    return -3, False
                seen = True
                pos = obj_start(buf, pos, hi, 91)
                if pos < 0:
                    return -4, False
                in_array = True
                ifirst = True
            elif key == K_RESULT or key == K_TRACE:
                return -6, False
            else:
                pos = skip_value(buf, pos, hi)
                if pos < 0:
                    return -7, False
            continue
        more, pos = next_item(buf, pos, hi, ifirst)
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

