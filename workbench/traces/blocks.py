"""Column blocks of decoded spans, as the fast columnar readers produce them.

A :class:`SpanBlock` holds consecutive spans as numpy columns (trace ids as two ``uint64``
halves, span and parent ids as :func:`~workbench.traces.resolve.parse_id` results, strings as
codes of the builder's string table); :meth:`~workbench.traces.builder.TableBuilder.append_block`
takes them, and the helpers here number traces without a Python loop per span.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass
class SpanBlock:
    """Per-span columns of consecutive spans, as a columnar decoder produces them.

    Trace ids are two big-endian ``uint64`` halves (``trace_hi``, ``trace_lo``) when they are
    32 hex digits (16 bytes); every other trace key is given as lowercase text in
    ``trace_odd`` (local span index -> key), its halves ignored. Span and parent ids are
    :func:`parse_id` results: values, byte lengths and the kept texts by local index. String
    columns hold codes of the builder's :class:`StringTable`.
    """

    trace_hi: np.ndarray
    trace_lo: np.ndarray
    trace_odd: dict[int, str]
    span_val: np.ndarray
    span_len: np.ndarray
    span_txt: dict[int, str]
    par_val: np.ndarray
    par_len: np.ndarray
    par_txt: dict[int, str]
    name: np.ndarray
    kind: np.ndarray
    status: np.ndarray
    status_message: np.ndarray
    start: np.ndarray
    end: np.ndarray
    has_end: np.ndarray
    flags: np.ndarray
    trace_state: np.ndarray
    resource: np.ndarray
    scope: np.ndarray
    source: np.ndarray

    @property
    def n(self) -> int:
        return int(self.name.shape[0])


#: the array columns of a :class:`SpanBlock` and their dtypes
BLOCK_ARRAYS: dict[str, Any] = {
    "trace_hi": np.uint64, "trace_lo": np.uint64, "span_val": np.uint64, "span_len": np.int8,
    "par_val": np.uint64, "par_len": np.int8, "name": np.int32, "kind": np.int8,
    "status": np.int8, "status_message": np.int32, "start": np.int64, "end": np.int64,
    "has_end": np.bool_, "flags": np.uint32, "trace_state": np.int32, "resource": np.int32,
    "scope": np.int32, "source": np.int32,
}


# ---------------------------------------------------------------------- helpers


def preload_fast_readers() -> None:
    """Import the compiled readers' kernel modules, so that every input of at least
    :data:`~workbench.traces.detect.FAST_JSON_MIN_BYTES` takes the fast path at once.

    The readers only go to their kernels unasked once these modules are loaded (or after
    tens of MiB of input), because starting numba costs about half a second. A caller that
    checks with a numba backend pays that start anyway; after it, loading the cached reader
    kernels costs about 10 ms each, so it calls this before loading the traces.
    """
    import workbench.traces.kernels
    import workbench.traces.kernels_json  # noqa: F401


def trace_keys_numeric(keys: list[str]) -> tuple[np.ndarray, np.ndarray, dict[int, str]]:
    """Trace key texts as :class:`SpanBlock` columns: the halves of 32-hex-digit keys (any
    case), every other key lowercased in the ``odd`` dict."""
    n = len(keys)
    hi = np.zeros(n, dtype=np.uint64)
    lo = np.zeros(n, dtype=np.uint64)
    odd: dict[int, str] = {}
    if n == 0:
        return hi, lo, odd
    length = np.fromiter(map(len, keys), dtype=np.int64, count=n)
    full = np.flatnonzero(length == 32)
    rest = np.flatnonzero(length != 32).tolist()
    if full.shape[0]:
        group = keys if full.shape[0] == n else [keys[i] for i in full.tolist()]
        try:
            raw = bytes.fromhex("".join(group))
            if len(raw) != 16 * len(group):
                raise ValueError("whitespace in a trace id")
            halves = np.frombuffer(raw, dtype=">u8").reshape(-1, 2)
            hi[full] = halves[:, 0]
            lo[full] = halves[:, 1]
        except ValueError:
            for i in full.tolist():
                try:
                    raw = bytes.fromhex(keys[i])
                    ok = len(raw) == 16
                except ValueError:
                    ok = False
                if ok:
                    hi[i] = int.from_bytes(raw[:8], "big")
                    lo[i] = int.from_bytes(raw[8:], "big")
                else:
                    rest.append(i)
    for i in rest:
        odd[i] = keys[i].lower()
    return hi, lo, odd


def trace_index_numeric(
    hi: np.ndarray, lo: np.ndarray, odd: dict[int, str]
) -> tuple[np.ndarray, list[str]]:
    """Dense trace number per span in first-appearance order, and the lowercase trace keys.

    A 32-hex-digit key and the same key as text name the same trace (keys are compared as
    lowercase text, as always); odd keys are numbered through a dict, the rest by a sort.
    """
    n = int(hi.shape[0])
    if n == 0:
        return np.zeros(0, dtype=np.int32), []
    tag = np.zeros(n, dtype=np.int64)
    odd_keys: list[str] = []
    if odd:
        slots: dict[str, int] = {}
        at = np.fromiter(odd, dtype=np.int64, count=len(odd))
        tag[at] = np.fromiter(
            (slots.setdefault(k, len(slots)) + 1 for k in odd.values()),
            dtype=np.int64, count=len(odd),
        )
        odd_keys = list(slots)
        hi = hi.copy()
        lo = lo.copy()
        hi[at] = 0
        lo[at] = 0
        # an odd key that is really 32 hex digits cannot occur: _trace_keys_numeric took it
    dense, first = dense_first_appearance(tag, hi, lo)
    keys: list[str] = []
    f_tag, f_hi, f_lo = tag[first].tolist(), hi[first].tolist(), lo[first].tolist()
    for t_, h, low in zip(f_tag, f_hi, f_lo, strict=True):
        keys.append(odd_keys[t_ - 1] if t_ else f"{h:016x}{low:016x}")
    return dense, keys


def dense_first_appearance(
    tag: np.ndarray, hi: np.ndarray, lo: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Group number of each ``(tag, hi, lo)`` row, numbered by first appearance, and the row
    of each group's first appearance."""
    n = int(hi.shape[0])
    if n >= _NUMBA_MIN_ROWS:
        from workbench.traces.kernels import dense_ids

        dense, first = dense_ids(tag, hi, lo)
        return dense, first
    order = np.lexsort((lo, hi, tag))
    s_tag, s_hi, s_lo = tag[order], hi[order], lo[order]
    new = np.ones(n, dtype=np.bool_)
    new[1:] = (s_tag[1:] != s_tag[:-1]) | (s_hi[1:] != s_hi[:-1]) | (s_lo[1:] != s_lo[:-1])
    group_sorted = np.cumsum(new) - 1
    first_of_group = order[new]  # lexsort is stable: the first row of each group comes first
    rank = np.empty(first_of_group.shape[0], dtype=np.int64)
    by_first = np.argsort(first_of_group, kind="stable")
    rank[by_first] = np.arange(first_of_group.shape[0])
    dense = np.empty(n, dtype=np.int32)
    dense[order] = rank[group_sorted]
    return dense, first_of_group[by_first]


#: tables of at least this many spans number their traces with the compiled hash kernel
_NUMBA_MIN_ROWS = 200_000
