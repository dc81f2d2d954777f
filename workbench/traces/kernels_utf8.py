"""A compiled UTF-8 validator for the protobuf wire walker (:mod:`workbench.traces.kernels`):
the strings it skips must be checked the way protobuf's own reader checks a string field."""

from __future__ import annotations

from typing import Any

from numba import njit

from workbench.traces import kernel_cache

kernel_cache.refresh()  # drop stale cached kernels before any is loaded


@njit(cache=True, nogil=True)
def utf8_ok(buf: Any, pos: int, end: int) -> bool:
    """Whether ``buf[pos:end]`` is valid UTF-8 (as protobuf checks a string field: no
    overlong forms, no surrogates, nothing above U+10FFFF)."""
    while pos < end:
        b = buf[pos]
        if b < 0x80:
            pos += 1
            continue
        if 0xC2 <= b <= 0xDF:
            n, lo, hi = 1, 0x80, 0xBF
        elif 0xE0 <= b <= 0xEF:
            n = 2
            lo = 0xA0 if b == 0xE0 else 0x80
            hi = 0x9F if b == 0xED else 0xBF
        elif 0xF0 <= b <= 0xF4:
            n = 3
            lo = 0x90 if b == 0xF0 else 0x80
            hi = 0x8F if b == 0xF4 else 0xBF
        else:
            return False
        if pos + n >= end:
            return False
        c = buf[pos + 1]
        if c < lo or c > hi:
            return False
        for j in range(2, n + 1):
            if buf[pos + j] < 0x80 or buf[pos + j] > 0xBF:
                return False
        pos += n + 1
    return True
