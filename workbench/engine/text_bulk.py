"""Many texts at once: code points, Arrow string arrays and ``luhn``, without a Python call
per text.

The string predicates of the kernel plan (:mod:`workbench.engine.plan_sites`) run over every
distinct string of a domain, a million of them on a large table. Here a list of texts becomes
one buffer (``"".join`` and one encode) and the work is done by numpy or by Arrow's compute
kernels over it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def code_points(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """The code points of all ``texts`` (one ``uint32`` array) and each text's start in it
    (``n + 1`` offsets). Lone surrogates are kept as their code points."""
    lens = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    offsets = np.zeros(len(texts) + 1, dtype=np.int64)
    np.cumsum(lens, out=offsets[1:])
    raw = "".join(texts).encode("utf-32-le", "surrogatepass")
    return np.frombuffer(raw, dtype=np.uint32), offsets


class TextBatch(tuple[str, ...]):
    """An immutable batch of texts that keeps its :func:`utf8_block` once made, so that the
    predicates run over one domain's texts (regexes, ``luhn``) encode them once."""

    _utf8: tuple[np.ndarray, np.ndarray] | bool | None = False  # False: not made yet
    _chars: int = -1

    def n_chars(self) -> int:
        """The total length of the batch's texts (counted once)."""
        if self._chars < 0:
            self._chars = sum(map(len, self))
        return self._chars


def utf8_block(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray] | None:
    """The UTF-8 bytes of all ``texts`` and each text's byte offset (``n + 1``), or None
    when a text has no UTF-8 form (a lone surrogate). A :class:`TextBatch` keeps it."""
    if isinstance(texts, TextBatch) and texts._utf8 is not False:
        return texts._utf8  # type: ignore[return-value]
    joined = "".join(texts)
    block: tuple[np.ndarray, np.ndarray] | None
    try:
        data = joined.encode("utf-8")
    except UnicodeEncodeError:
        block = None
    else:
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
        block = (np.frombuffer(data, dtype=np.uint8), offsets)
    if isinstance(texts, TextBatch):
        texts._utf8 = block
    return block


def luhn_many(texts: Sequence[str]) -> np.ndarray:
    """:func:`workbench.engine.values.luhn` of every text, as a bool array: the ASCII digits
    of a text (13 to 19 of them) pass the Luhn checksum, the rightmost digit undoubled.

    The digits are counted per text over one buffer (the UTF-8 bytes, where an ASCII digit
    is a byte of its own; code points where a text has no UTF-8 form); only the texts with
    13 to 19 of them are checksummed.
    """
    n = len(texts)
    out = np.zeros(n, dtype=np.bool_)
    if n == 0:
        return out
    block = utf8_block(texts)
    chars: np.ndarray
    if block is not None:
        chars, offsets = block
    else:
        chars, offsets = code_points(texts)
    if chars.shape[0] == 0:
        return out
    pos = np.flatnonzero((chars - 48) <= 9)  # the digits (unsigned: below "0" wraps around)
    before = np.searchsorted(pos, offsets)  # digits before each text's start
    count = np.diff(before)
    cand = np.flatnonzero((count >= 13) & (count <= 19))
    if cand.size == 0:
        return out
    # the candidates' digits, right to left: every second one (1, 3, ...) doubled
    k = count[cand]
    run = np.repeat(before[cand], k)
    local = np.arange(int(k.sum()), dtype=np.int64) - np.repeat(np.cumsum(k) - k, k)
    digit = chars[pos[run + local]].astype(np.int64) - 48
    right = np.repeat(k, k) - 1 - local
    doubled = digit * 2
    doubled -= np.where(doubled > 9, 9, 0)
    value = np.where(right % 2 == 1, doubled, digit)
    owner = np.repeat(np.arange(cand.shape[0], dtype=np.int64), k)
    total = np.bincount(owner, weights=value, minlength=cand.shape[0]).astype(np.int64)
    out[cand] = total % 10 == 0
    return out


def arrow_strings(pa: Any, texts: Sequence[str]) -> Any:
    """A ``large_string`` Arrow array of ``texts`` over their :func:`utf8_block` (no Python
    object per text, and no ``pyarrow.array`` call, which imports pandas); None when a text
    has no UTF-8 form (a lone surrogate)."""
    block = utf8_block(texts)
    if block is None:
        return None
    data, offsets = block
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
