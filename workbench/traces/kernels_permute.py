"""Compiled segment scatter for moving CSR columns with the row permutation of the span table.

:func:`segment_scatter` writes the items of each owner of a CSR column (or of one piece of it)
to that owner's new place in a preallocated output: no int64 gather index over every item is
built, so permuting a column costs only the output column.
"""

from __future__ import annotations

from typing import Any

from numba import njit


@njit(cache=True, nogil=True)
def _segment_scatter(src: Any, offsets: Any, dest: Any, out: Any) -> None:
    for j in range(dest.shape[0]):
        a = offsets[j]
        o = dest[j]
        for k in range(offsets[j + 1] - a):
            out[o + k] = src[a + k]


def segment_scatter(src: Any, offsets: Any, dest: Any, out: Any) -> None:
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
    """
    _segment_scatter(src, offsets, dest, out)
