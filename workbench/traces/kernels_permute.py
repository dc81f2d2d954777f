"""Compiled segment copy for moving CSR columns with the row permutation of the span table.

:func:`segment_copy` writes the items of owner ``order[i]`` of a CSR column to the place of
owner ``i`` in a preallocated output: no int64 gather index over every item is built, so
permuting a column costs only the output column.
"""

from __future__ import annotations

from typing import Any

from numba import njit


@njit(cache=True, nogil=True)
def _segment_copy(src: Any, old_offsets: Any, order: Any, new_offsets: Any, out: Any) -> None:
    for i in range(order.shape[0]):
        j = order[i]
        a = old_offsets[j]
        o = new_offsets[i]
        for k in range(old_offsets[j + 1] - a):
            out[o + k] = src[a + k]


def segment_copy(src: Any, old_offsets: Any, order: Any, new_offsets: Any, out: Any) -> None:
    """Copy the items of owner ``order[i]`` (``src[old_offsets[order[i]]:...]``) to
    ``out[new_offsets[i]:new_offsets[i + 1]]`` for every new owner ``i``.

    Parameters
    ----------
    src, out
        One-dimensional item columns of the same dtype and length.
    old_offsets, new_offsets
        int64 CSR offsets (``n + 1`` each) before and after the permutation.
    order
        int64 owner permutation: new owner ``i`` is old owner ``order[i]``.
    """
    _segment_copy(src, old_offsets, order, new_offsets, out)
