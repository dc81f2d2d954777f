"""Protobuf wire-format primitives of the compiled readers (moved out of
:mod:`workbench.traces.kernels`, which re-exports them): varints, fixed-width
values, skipping a field, length-delimited slices and UTF-8-checked strings, over a ``uint8``
view of the input bytes. Positions are ``-1`` on a wire error.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

from workbench.traces import kernel_cache
from workbench.traces.kernels_utf8 import utf8_ok

kernel_cache.refresh()  # drop stale cached kernels before any is loaded

__all__ = ["skip_field", "varint"]


@njit(cache=True, nogil=True)
def varint(buf: Any, pos: int, end: int) -> tuple[np.uint64, int]:
    """A varint at ``pos``; position -1 when cut off or longer than 10 bytes."""
    value = np.uint64(0)
    shift = 0
    while pos < end and shift < 70:
        b = buf[pos]
        pos += 1
        value |= np.uint64(b & 0x7F) << np.uint64(shift)
        if b < 0x80:
            return value, pos
        shift += 7
    return value, -1


@njit(cache=True, nogil=True)
def _fixed(buf: Any, pos: int, size: int) -> np.uint64:
    value = np.uint64(0)
    for k in range(size):
        value |= np.uint64(buf[pos + k]) << np.uint64(8 * k)
    return value


@njit(cache=True, nogil=True)
def skip_field(buf: Any, pos: int, end: int, wt: int) -> int:
    """Position after a field body of wire type ``wt``; -1 on error (groups included)."""
    if wt == 0:
        _v, pos = varint(buf, pos, end)
        return pos
    if wt == 1:
        return pos + 8 if pos + 8 <= end else -1
    if wt == 5:
        return pos + 4 if pos + 4 <= end else -1
    if wt == 2:
        n, pos = varint(buf, pos, end)
        if pos < 0 or n > np.uint64(end - pos):
            return -1
        return pos + int(n)
    return -1


@njit(cache=True, nogil=True)
def _string_ok(buf: Any, pos: int, hi: int) -> int:
    """Position after a length-delimited string field whose bytes are valid UTF-8; -1 when
    cut off or not UTF-8 (the official reader replaces and reports it by its path)."""
    a, n, nxt = _slice(buf, pos, hi)
    if nxt < 0 or not utf8_ok(buf, a, a + n):
        return -1
    return nxt


@njit(cache=True, nogil=True)
def _slice(buf: Any, pos: int, hi: int) -> tuple[int, int, int]:
    """(offset, length, next position) of a length-delimited body; next -1 on error."""
    n, pos = varint(buf, pos, hi)
    if pos < 0 or n > np.uint64(hi - pos):
        return 0, 0, -1
    return pos, int(n), pos + int(n)
