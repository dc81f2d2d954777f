"""Segment scatter for moving CSR columns with the row permutation of the span table.

:func:`segment_scatter` writes the items of each owner of a CSR column (or of one piece of it)
to that owner's new place in a preallocated output: no int64 gather index over every item is
built, so permuting a column costs only the output column. Small columns are moved by a numpy
gather while numba is not loaded (starting numba costs about half a second, more than the
copy); everything else by a compiled loop (numba, cached on disk).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import numpy as np

#: Columns with fewer items than this are moved by numpy while numba is not loaded.
NUMPY_MAX_ITEMS = 1 << 18

_KERNEL: Callable[..., None] | None = None


def _segment_scatter(src: Any, offsets: Any, dest: Any, out: Any) -> None:
    for j in range(dest.shape[0]):
        a = offsets[j]
        o = dest[j]
        for k in range(offsets[j + 1] - a):
            out[o + k] = src[a + k]


def _kernel() -> Callable[..., None]:
    global _KERNEL
    if _KERNEL is None:
        from numba import njit

        _KERNEL = njit(cache=True, nogil=True)(_segment_scatter)
    return _KERNEL


def segment_scatter(src: Any, offsets: Any, dest: Any, out: Any,
                    compiled: bool | None = None) -> None:
    """Copy the items of owner ``j`` (``src[offsets[j]:offsets[j + 1]]``) to
    ``out[dest[j]:dest[j] + count]`` for every owner ``j``.

    Parameters
    ----------
    src, out
        One-dimensional item columns of the same dtype (``src`` may be one piece of ``out``'s
        source: ``offsets`` are then local to it).
    offsets
        int64 CSR offsets into ``src``, one more than there are owners.
    dest
        int64 start of each owner's items in ``out``.
    compiled
        Force the compiled loop (True) or the numpy gather (False); by default the numpy
        gather below :data:`NUMPY_MAX_ITEMS` items while numba is not loaded.
    """
    if compiled is None:
        compiled = src.shape[0] >= NUMPY_MAX_ITEMS or "numba" in sys.modules
    if compiled:
        _kernel()(src, offsets, dest, out)
        return
    lo, hi = int(offsets[0]), int(offsets[-1])
    if hi <= lo:
        return
    shift = np.repeat(np.asarray(dest, dtype=np.int64) - offsets[:-1], np.diff(offsets))
    out[shift + np.arange(lo, hi, dtype=np.int64)] = src[lo:hi]
