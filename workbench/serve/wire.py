"""Cut a serialized ``ExportTraceServiceRequest`` into pieces without protobuf objects.

:func:`split_wire` is :func:`workbench.serve.decode.split_request` on the request's bytes: a
compiled walker (:func:`walk_spans`) finds every span's slice of the input, the slices of its
resource and scope, its ids and whether it has ended; Python then validates the ids and groups
the slices by trace, all on those offsets. No span is decoded into a message object or
serialized again: the assembler, the store and the checker's wire reader
(:mod:`workbench.traces.otlp_wire`) all read the bytes the exporter sent.

The walker reads the envelope only (request, ``ResourceSpans``, ``ScopeSpans``, the id and
end-time fields of ``Span``); the receivers parse each request with the protobuf classes first,
so a payload those reject is still answered 400 / INVALID_ARGUMENT with their message. A shape
the walker does not take (a repeated ``resource`` or ``scope`` message, which protobuf merges,
or a known field with another wire type) returns ``None`` and the caller uses
:func:`~workbench.serve.decode.split_request`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

from workbench.serve.decode import Decoded, Piece
from workbench.traces import kernel_cache
from workbench.traces.kernels_wire import _slice
from workbench.traces.kernels_wire import skip_field as _skip
from workbench.traces.kernels_wire import varint as _varint

kernel_cache.refresh()  # drop stale cached kernels before any is loaded

# span rows: offsets and lengths into the request
(W_OFF, W_LEN, W_TID_OFF, W_TID_LEN, W_SID_OFF, W_SID_LEN, W_PID_OFF, W_PID_LEN, W_ENDED,
 W_GROUP) = range(10)
N_W = 10
# group rows (one per ScopeSpans): resource, its schema url, scope, its schema url
(G_RES_OFF, G_RES_LEN, G_RURL_OFF, G_RURL_LEN, G_SC_OFF, G_SC_LEN, G_SURL_OFF,
 G_SURL_LEN) = range(8)
N_G = 8


@njit(cache=True, nogil=True)
def _span(buf: Any, lo: int, hi: int, row: Any) -> int:
    """The ids and end time of the span in ``buf[lo:hi]`` into ``row``; 0 or an error code."""
    end_time = np.uint64(0)
    pos = lo
    while pos < hi:
        tag, pos = _varint(buf, pos, hi)
        if pos < 0:
            return 30
        field = int(tag >> np.uint64(3))
        wt = int(tag & np.uint64(7))
        if field == 1 or field == 2 or field == 4:
            if wt != 2:
                return 31
            a, n, pos = _slice(buf, pos, hi)
            if pos < 0:
                return 32
            at = W_TID_OFF if field == 1 else (W_SID_OFF if field == 2 else W_PID_OFF)
            row[at] = a  # a repeated scalar field: the last one wins, as in protobuf
            row[at + 1] = n
        elif field == 8:
            if wt != 1 or pos + 8 > hi:
                return 33
            end_time = np.uint64(0)
            for k in range(8):
                end_time |= np.uint64(buf[pos + k]) << np.uint64(8 * k)
            pos += 8
        else:
            pos = _skip(buf, pos, hi, wt)
            if pos < 0:
                return 34
    row[W_ENDED] = 1 if end_time != np.uint64(0) else 0
    return 0


@njit(cache=True, nogil=True)
def _scope_spans(buf: Any, lo: int, hi: int, g: int, fill: bool, sp: Any, gr: Any,
                 cnt: Any) -> int:
    pos = lo
    seen_scope = False
    while pos < hi:
        tag, pos = _varint(buf, pos, hi)
        if pos < 0:
            return 20
        field = int(tag >> np.uint64(3))
        wt = int(tag & np.uint64(7))
        if field <= 3 and field >= 1 and wt != 2:
            return 21
        if field == 1 or field == 3:
            a, n, pos = _slice(buf, pos, hi)
            if pos < 0:
                return 22
            if field == 1:
                if seen_scope:
                    return 23  # protobuf merges the two messages
                seen_scope = True
            if fill:
                gr[g, G_SC_OFF if field == 1 else G_SURL_OFF] = a
                gr[g, G_SC_LEN if field == 1 else G_SURL_LEN] = n
        elif field == 2:
            a, n, pos = _slice(buf, pos, hi)
            if pos < 0:
                return 24
            s = cnt[1]
            cnt[1] += 1
            if fill:
                row = sp[s]
                row[W_OFF] = a
                row[W_LEN] = n
                row[W_GROUP] = g
                err = _span(buf, a, a + n, row)
                if err:
                    return err
        else:
            pos = _skip(buf, pos, hi, wt)
            if pos < 0:
                return 25
    return 0


@njit(cache=True, nogil=True)
def walk_spans(buf: Any, fill: bool, sp: Any, gr: Any, cnt: Any) -> int:
    """Walk a request: count (``fill`` false) or fill the span and group rows.

    ``cnt`` is ``[groups, spans]``. Returns 0, or a non-zero code naming the first shape left
    to the protobuf classes.
    """
    hi = buf.shape[0]
    pos = 0
    while pos < hi:
        tag, pos = _varint(buf, pos, hi)
        if pos < 0:
            return 1
        field = int(tag >> np.uint64(3))
        wt = int(tag & np.uint64(7))
        if field != 1:
            pos = _skip(buf, pos, hi, wt)
            if pos < 0:
                return 2
            continue
        if wt != 2:
            return 3
        a, n, pos = _slice(buf, pos, hi)
        if pos < 0:
            return 4
        # first pass over the ResourceSpans: its resource and schema url
        res_off = res_len = url_off = url_len = 0
        seen_res = False
        q = a
        while q < a + n:
            rtag, q = _varint(buf, q, a + n)
            if q < 0:
                return 5
            rf = int(rtag >> np.uint64(3))
            rw = int(rtag & np.uint64(7))
            if rf >= 1 and rf <= 3 and rw != 2:
                return 6
            if rf == 1 or rf == 3:
                b, m, q = _slice(buf, q, a + n)
                if q < 0:
                    return 7
                if rf == 1:
                    if seen_res:
                        return 8  # protobuf merges the two messages
                    seen_res = True
                    res_off, res_len = b, m
                else:
                    url_off, url_len = b, m
            else:
                q = _skip(buf, q, a + n, rw)
                if q < 0:
                    return 9
        # second pass: its ScopeSpans, one group each
        q = a
        while q < a + n:
            rtag, q = _varint(buf, q, a + n)
            rf = int(rtag >> np.uint64(3))
            rw = int(rtag & np.uint64(7))
            if rf == 2:
                b, m, q = _slice(buf, q, a + n)
                g = cnt[0]
                cnt[0] += 1
                if fill:
                    gr[g, G_RES_OFF] = res_off
                    gr[g, G_RES_LEN] = res_len
                    gr[g, G_RURL_OFF] = url_off
                    gr[g, G_RURL_LEN] = url_len
                err = _scope_spans(buf, b, b + m, g, fill, sp, gr, cnt)
                if err:
                    return err
            else:
                q = _skip(buf, q, a + n, rw)
    return 0


_ZERO16, _ZERO8 = bytes(16), bytes(8)
_REASONS = ("invalid trace_id (expected 16 bytes, not all zero)",
            "invalid span_id (expected 8 bytes, not all zero)",
            "invalid parent_span_id (expected empty or 8 bytes)")


def split_wire(data: bytes) -> Decoded | None:
    """:func:`~workbench.serve.decode.split_request` on a serialized request (same pieces,
    rejections and message); None when the walker leaves the request to the protobuf classes.

    The request must parse with the protobuf classes (the receivers check that first).
    """
    buf = np.frombuffer(data, dtype=np.uint8)
    cnt = np.zeros(2, dtype=np.int64)
    z = np.zeros((1, 1), dtype=np.int64)
    if walk_spans(buf, False, z, z, cnt):
        return None
    n_groups, n_spans = int(cnt[0]), int(cnt[1])
    sp = np.zeros((n_spans, N_W), dtype=np.int64)
    gr = np.zeros((n_groups, N_G), dtype=np.int64)
    cnt[:] = 0
    if walk_spans(buf, True, sp, gr, cnt):
        return None
    if n_spans == 0:
        return Decoded([], 0)
    return _pieces(data, buf, sp, gr)


def _pieces(data: bytes, buf: np.ndarray, sp: np.ndarray, gr: np.ndarray) -> Decoded:
    n = sp.shape[0]
    tlen, slen, plen = sp[:, W_TID_LEN], sp[:, W_SID_LEN], sp[:, W_PID_LEN]
    bad_t = tlen != 16
    bad_s = slen != 8
    # all-zero ids: the sum of their bytes is 0 (only rows of the right length are gathered)
    for bad, off, width in ((bad_t, sp[:, W_TID_OFF], 16), (bad_s, sp[:, W_SID_OFF], 8)):
        ok = np.flatnonzero(~bad)
        if ok.shape[0]:
            rows = buf[off[ok, None] + np.arange(width)[None, :]]
            bad[ok[~rows.any(axis=1)]] = True
    bad_p = (plen != 0) & (plen != 8)
    why = np.where(bad_t, 0, np.where(bad_s, 1, np.where(bad_p, 2, -1)))
    rejected = int((why >= 0).sum())
    reasons = {}
    if rejected:
        codes, counts = np.unique(why[why >= 0], return_counts=True)
        # in the order split_request meets them: by first rejected span of each reason
        first = {int(c): int(np.flatnonzero(why == c)[0]) for c in codes}
        for c in sorted(first, key=first.__getitem__):
            reasons[_REASONS[c]] = int(counts[list(codes).index(c)])
    keys = []
    for row in gr.tolist():
        ro, rl, uo, ul, so, sl, vo, vl = row
        keys.append((data[ro:ro + rl], data[uo:uo + ul].decode(), data[so:so + sl],
                     data[vo:vo + vl].decode()))
    pieces: dict[bytes, Piece] = {}
    root = (plen == 0) & (sp[:, W_ENDED] != 0)
    keep = np.flatnonzero(why < 0)
    cols = sp[keep]
    for (off, length, toff, group), is_root in zip(
            cols[:, [W_OFF, W_LEN, W_TID_OFF, W_GROUP]].tolist(), root[keep].tolist(),
            strict=True):
        trace_id = data[toff:toff + 16]
        piece = pieces.get(trace_id)
        if piece is None:
            piece = pieces[trace_id] = Piece(trace_id)
        key = keys[group]
        spans = piece.groups.get(key)
        if spans is None:
            spans = piece.groups[key] = []
        spans.append(data[off:off + length])
        piece.n_spans += 1
        piece.nbytes += length
        piece.ended_roots += is_root
    message = "; ".join(f"{k} span(s) rejected: {why_}" for why_, k in reasons.items())
    return Decoded(list(pieces.values()), n, rejected, message)
