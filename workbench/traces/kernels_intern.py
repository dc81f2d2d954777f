"""Compiled (numba) interning kernels of the readers: dictionary encoding of byte slices and
first-appearance numbering of 128-bit keys.

Both are open-addressing hash tables over preallocated numpy arrays (linear time, no Python
object per row). The protobuf walker (:mod:`workbench.traces.kernels`) and the JSON walker
(:mod:`workbench.traces.kernels_json`) record where each string lies in the input;
:func:`intern_slices` numbers the distinct slices so Python decodes each one once.
:func:`dense_ids` numbers trace and span ids. :mod:`workbench.traces.kernels` re-exports
both, and the readers reach them through it: importing it is what marks the compiled readers
as loaded in this process.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

from workbench.traces import kernel_cache

kernel_cache.refresh()  # drop stale cached kernels before any is loaded


@njit(cache=True, nogil=True)
def _hash(buf: Any, off: int, n: int) -> np.uint64:
    """A 64-bit hash of ``buf[off:off+n]``, mixed a word (8 bytes) at a time."""
    h = np.uint64(14695981039346656037) ^ np.uint64(n)
    k = off
    stop = off + n
    while k < stop:
        w = np.uint64(0)
        top = min(k + 8, stop)
        for q in range(k, top):
            w = (w << np.uint64(8)) | np.uint64(buf[q])
        h = (h ^ w) * np.uint64(0x9E3779B97F4A7C15)
        h ^= h >> np.uint64(29)
        k = top
    return h


@njit(cache=True, nogil=True)
def intern_slices(buf: Any, off: Any, length: Any) -> tuple[Any, Any]:
    """Dictionary-encode byte slices: the distinct-slice number of each slice (first
    appearance order) and the index of each distinct slice's first occurrence.

    The distinct slices are copied into one compact arena as they appear, so checking a
    slice against its candidate reads the arena (small, cache-resident) rather than the far
    place in the input where that string first occurred.
    """
    n = off.shape[0]
    cap = 1024
    table = np.full(cap, -1, dtype=np.int64)
    u_hash = np.zeros(256, dtype=np.uint64)
    u_first = np.zeros(256, dtype=np.int64)
    u_at = np.zeros(257, dtype=np.int64)  # arena offset of each distinct slice (and the end)
    arena = np.zeros(4096, dtype=np.uint8)
    inv = np.empty(n, dtype=np.int64)
    m = 0
    for i in range(n):
        a, size = off[i], length[i]
        h = _hash(buf, a, size)
        slot = np.int64(h & np.uint64(cap - 1))
        while True:
            u = table[slot]
            if u < 0:
                if m + 1 >= u_first.shape[0]:
                    g1 = np.zeros(2 * m + 2, dtype=np.int64)
                    g1[:m] = u_first[:m]
                    u_first = g1
                    g2 = np.zeros(2 * m + 2, dtype=np.uint64)
                    g2[:m] = u_hash[:m]
                    u_hash = g2
                    g3 = np.zeros(2 * m + 3, dtype=np.int64)
                    g3[: m + 1] = u_at[: m + 1]
                    u_at = g3
                z = u_at[m]
                if z + size > arena.shape[0]:
                    grown = np.zeros(2 * (z + size), dtype=np.uint8)
                    grown[:z] = arena[:z]
                    arena = grown
                for q in range(size):
                    arena[z + q] = buf[a + q]
                u_at[m + 1] = z + size
                table[slot] = m
                u_hash[m] = h
                u_first[m] = i
                inv[i] = m
                m += 1
                if 2 * m > cap:  # keep the load factor under 1/2
                    cap *= 4
                    table = np.full(cap, -1, dtype=np.int64)
                    for v in range(m):
                        s2 = np.int64(u_hash[v] & np.uint64(cap - 1))
                        while table[s2] >= 0:
                            s2 = (s2 + 1) & (cap - 1)
                        table[s2] = v
                break
            if u_hash[u] == h and u_at[u + 1] - u_at[u] == size:
                z = u_at[u]
                same = True
                for q in range(size):
                    if arena[z + q] != buf[a + q]:
                        same = False
                        break
                if same:
                    inv[i] = u
                    break
            slot = (slot + 1) & (cap - 1)
    return inv, u_first[:m].copy()


@njit(cache=True, nogil=True)
def dense_ids(tag: Any, hi: Any, lo: Any) -> tuple[Any, Any]:
    """Group number of each ``(tag, hi, lo)`` row in first-appearance order, and the first row
    of each group (an open-addressing hash table: linear time)."""
    n = hi.shape[0]
    cap = 1024
    while cap < 2 * n:
        cap *= 2
    table = np.full(cap, -1, dtype=np.int64)
    first = np.empty(n, dtype=np.int64)
    dense = np.empty(n, dtype=np.int32)
    m = 0
    for i in range(n):
        h = (hi[i] * np.uint64(0x9E3779B97F4A7C15)) ^ lo[i] ^ (np.uint64(tag[i]) << np.uint64(1))
        h ^= h >> np.uint64(29)
        h *= np.uint64(0xBF58476D1CE4E5B9)
        h ^= h >> np.uint64(32)
        slot = np.int64(h & np.uint64(cap - 1))
        while True:
            g = table[slot]
            if g < 0:
                table[slot] = m
                first[m] = i
                dense[i] = m
                m += 1
                break
            f = first[g]
            if hi[f] == hi[i] and lo[f] == lo[i] and tag[f] == tag[i]:
                dense[i] = g
                break
            slot = (slot + 1) & (cap - 1)
    return dense, first[:m].copy()


@njit(cache=True, nogil=True)
def slice_rows(buf: Any, off: Any, length: Any, width: int) -> Any:
    """The slices ``buf[off[i]:off[i]+length[i]]`` as zero-padded rows of ``width`` bytes
    (a slice longer than ``width`` is cut), ready for a numpy ``S<width>`` view."""
    n = off.shape[0]
    out = np.zeros((n, width), dtype=np.uint8)
    for i in range(n):
        a = off[i]
        for q in range(min(length[i], width)):
            out[i, q] = buf[a + q]
    return out
