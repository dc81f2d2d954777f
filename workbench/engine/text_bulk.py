"""Many texts at once: code points, Arrow string arrays and ``luhn``, without a Python call
per text.

The string predicates of the kernel plan (:mod:`workbench.engine.plan_sites`) run over every
distinct string of a domain, a million of them on a large table. Here a list of texts becomes
one buffer (``"".join`` and one encode) and the work is done by numpy or by Arrow's compute
kernels over it.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def code_points(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """The code points of all ``texts`` (one ``uint32`` array) and each text's start in it
    (``n + 1`` offsets). Lone surrogates are kept as their code points."""
    lens = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    offsets = np.zeros(len(texts) + 1, dtype=np.int64)
    np.cumsum(lens, out=offsets[1:])
    raw = "".join(texts).encode("utf-32-le", "surrogatepass")
    return np.frombuffer(raw, dtype=np.uint32), offsets


def luhn_many(texts: list[str]) -> np.ndarray:
    """:func:`workbench.engine.values.luhn` of every text, as a bool array: the ASCII digits
    of a text (13 to 19 of them) pass the Luhn checksum, the rightmost digit undoubled."""
    n = len(texts)
    if n == 0:
        return np.zeros(0, dtype=np.bool_)
    cps, offsets = code_points(texts)
    is_digit = (cps >= 48) & (cps <= 57)
    owner = np.repeat(np.arange(n, dtype=np.int64), np.diff(offsets))[is_digit]
    digit = cps[is_digit].astype(np.int64) - 48
    count = np.bincount(owner, minlength=n)
    first = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(count, out=first[1:])
    # position from the right among the text's digits: every second one (1, 3, ...) doubled
    right = count[owner] - 1 - (np.arange(owner.shape[0], dtype=np.int64) - first[owner])
    doubled = digit * 2
    doubled -= np.where(doubled > 9, 9, 0)
    value = np.where(right % 2 == 1, doubled, digit)
    total = np.bincount(owner, weights=value, minlength=n).astype(np.int64)
    return (count >= 13) & (count <= 19) & (total % 10 == 0)


def arrow_strings(pa: Any, texts: list[str]) -> Any:
    """A ``large_string`` Arrow array of ``texts`` built from one UTF-8 buffer (no Python
    object per text, and no ``pyarrow.array`` call, which imports pandas); None when a text
    has no UTF-8 form (a lone surrogate)."""
    joined = "".join(texts)
    try:
        data = joined.encode("utf-8")
    except UnicodeEncodeError:
        return None
    if len(data) == len(joined):  # ASCII: byte offsets are character offsets
        offsets = np.zeros(len(texts) + 1, dtype=np.int64)
        np.cumsum(np.fromiter(map(len, texts), dtype=np.int64, count=len(texts)),
                  out=offsets[1:])
    else:
        cps, char_offsets = code_points(texts)
        width = 1 + (cps >= 0x80).astype(np.int64) + (cps >= 0x800) + (cps >= 0x10000)
        ends = np.zeros(cps.shape[0] + 1, dtype=np.int64)
        np.cumsum(width, out=ends[1:])
        offsets = ends[char_offsets]
    return pa.Array.from_buffers(pa.large_string(), len(texts),
                                 [None, pa.py_buffer(offsets), pa.py_buffer(data)])


def arrow_bools(array: Any) -> np.ndarray:
    """A boolean Arrow array without nulls as a numpy bool array, unpacked from its bitmap
    (``to_numpy`` of a boolean array imports pandas)."""
    n = len(array)
    if array.null_count:
        raise ValueError("a boolean array with nulls")
    bits = array.buffers()[1]
    if n == 0 or bits is None:
        return np.zeros(n, dtype=np.bool_)
    raw = np.frombuffer(bits, dtype=np.uint8)
    return np.unpackbits(raw, bitorder="little")[array.offset:array.offset + n].astype(np.bool_)
