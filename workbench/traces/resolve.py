"""Id parsing and the vectorized whole-table steps of :meth:`TableBuilder.build`.

:func:`parse_ids` turns id texts into numbers and lengths; :func:`trace_index_of` numbers
traces by first appearance; :class:`SpanIndex` and :func:`resolve_links` resolve parent and
link pointers by binary search over sorted (trace, span id) keys; :func:`depths` computes
depths by pointer jumping and marks cycles; :func:`sort_order` gives the row permutation
(None when the rows already are in trace order); :func:`csr_order`, :func:`permute_csr` and
:func:`permute_pieces` move variable-length per-span data with it (the last one column by
column from the builder's pieces, freeing each as it goes); :func:`trace_id_bytes` and
:func:`id_texts` finish the id columns.
"""

from __future__ import annotations

import hashlib
import itertools
import math
from collections.abc import Callable

import numpy as np

from workbench.traces.model import MISSING_PARENT, ROOT, AttrColumns

HEX_DIGITS = frozenset("0123456789abcdef")
#: the byte length recorded for an over-long hex id (the length column is int8)
MAX_ID_BYTES = 127


def parse_id(text: str, nbytes: int) -> tuple[int, int, str | None]:
    """Decode an id text into (numeric value, byte length, preserved text or None).

    Well-formed ids (``2 * nbytes`` hex digits) give their value and ``nbytes``; a shorter
    hex id is zero-extended (its text is kept); a non-hex or over-long id is kept as text,
    with length -1 (not hex) or its byte length (at most :data:`MAX_ID_BYTES`), and a stable
    64-bit hash as value so that parent pointers written with the same text still resolve.
    """
    if not text:
        return 0, 0, None
    low = text.lower()
    digits = len(low)
    if digits <= 16 and HEX_DIGITS.issuperset(low):
        value = int(low, 16)
        if digits == 2 * nbytes:
            return value, nbytes, None
        return value, (digits + 1) // 2, low
    hashed = int.from_bytes(hashlib.blake2b(low.encode(), digest_size=8).digest(), "big")
    length = min((digits + 1) // 2, MAX_ID_BYTES) if HEX_DIGITS.issuperset(low) else -1
    return hashed, length, low




def trace_index_of(keys: list[str]) -> tuple[np.ndarray, list[str]]:
    """Dense trace number per span (first appearance order) and the lowercase trace keys.

    Keys are first deduplicated as given (one C-level dict pass), then lowercased once per
    distinct key, so ``ABC..`` and ``abc..`` name the same trace.
    """
    n = len(keys)
    if n == 0:
        return np.zeros(0, dtype=np.int32), []
    first: dict[str, int] = {}
    # setdefault keeps the counter value of the first occurrence: increasing in appearance order
    seen = np.fromiter(map(first.setdefault, keys, itertools.count()), dtype=np.int64, count=n)
    raw_keys = list(first)
    firsts = np.fromiter(first.values(), dtype=np.int64, count=len(first))
    slot = np.zeros(n, dtype=np.int64)
    slot[firsts] = np.arange(len(firsts))
    dense = slot[seen]
    lowered = [k.lower() for k in raw_keys]
    merged: dict[str, int] = {}
    remap = np.fromiter(
        (merged.setdefault(k, len(merged)) for k in lowered), dtype=np.int64, count=len(lowered)
    )
    if len(merged) != len(lowered):
        dense = remap[dense]
    return dense.astype(np.int32), list(merged)


def parse_ids(texts: list[str]) -> tuple[np.ndarray, np.ndarray, dict[int, str]]:
    """Vectorized :func:`parse_id` over span ids: values, byte lengths and kept texts by index.

    Well-formed 16-digit ids (nearly all of them) are decoded in one ``bytes.fromhex`` call;
    empty ids cost nothing; everything else goes through :func:`parse_id` one by one.
    """
    n = len(texts)
    vals = np.zeros(n, dtype=np.uint64)
    lens = np.zeros(n, dtype=np.int8)
    kept: dict[int, str] = {}
    if n == 0:
        return vals, lens, kept
    length = np.fromiter(map(len, texts), dtype=np.int64, count=n)
    sixteen = np.flatnonzero(length == 16)
    slow = np.flatnonzero((length != 16) & (length != 0)).tolist()
    if sixteen.shape[0]:
        group = texts if sixteen.shape[0] == n else [texts[i] for i in sixteen.tolist()]
        try:
            raw = bytes.fromhex("".join(group))  # skips whitespace: the length check catches it
            if len(raw) != 8 * len(group):
                raise ValueError("whitespace in an id")
            vals[sixteen] = np.frombuffer(raw, dtype=">u8")
            lens[sixteen] = 8
        except ValueError:
            slow.extend(sixteen.tolist())
    for i in slow:
        value, length_bytes, text = parse_id(texts[i], 8)
        vals[i] = value
        lens[i] = length_bytes
        if text is not None:
            kept[i] = text
    return vals, lens, kept


def csr_order(counts: np.ndarray, order: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """New offsets and the gather index of the items when owners are permuted by ``order``
    (None: the order is kept, the gather index is the identity)."""
    offsets_old = np.zeros(counts.shape[0] + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets_old[1:])
    if order is None:
        return offsets_old, np.arange(int(offsets_old[-1]), dtype=np.int64)
    new_counts = counts[order] if counts.shape[0] else counts
    offsets = np.zeros(counts.shape[0] + 1, dtype=np.int64)
    np.cumsum(new_counts, out=offsets[1:])
    total = int(offsets[-1])
    if total == 0:
        return offsets, np.zeros(0, dtype=np.int64)
    # item k of new owner i comes from offsets_old[order[i]] + k = (shift of owner i) + position
    shift = np.repeat(offsets_old[:-1][order] - offsets[:-1], new_counts)
    shift += np.arange(total, dtype=np.int64)
    return offsets, shift


#: the item columns of a CSR attribute store and their dtypes, in :class:`AttrColumns` order
CSR_ITEMS: tuple[tuple[str, type], ...] = (
    ("key", np.int32), ("type", np.int8), ("ival", np.int64), ("fval", np.float64),
    ("sval", np.int32),
)


def permute_csr(cols: AttrColumns, order: np.ndarray | None) -> AttrColumns:
    """``cols`` with its owners in the order ``order`` (new owner ``i`` is old owner
    ``order[i]``; None keeps the order); see :func:`permute_pieces`."""
    counts = np.diff(cols.offsets)
    piece: list[np.ndarray | None] = [counts, *(getattr(cols, name) for name, _ in CSR_ITEMS)]
    if order is None:
        return cols
    return permute_pieces([piece], order)


def permute_pieces(
    pieces: list[list[np.ndarray | None]],
    order: np.ndarray | None,
    release: Callable[[], None] | None = None,
) -> AttrColumns:
    """Join CSR pieces (consecutive owners each: ``[counts, key, type, ival, fval, sval]``)
    into one store with its owners in the order ``order`` (None keeps the order).

    Column by column, every piece's items are scattered segment by segment
    (:func:`~workbench.traces.kernels_permute.segment_scatter`) straight to their new places
    in a preallocated output, and the piece's column is dropped (set to None) as soon as it
    is copied, so the peak is the pieces plus one output column: no joined copy in input
    order, and no int64 gather index over the items. ``release`` (if given) is called after
    each column, when its sources have been freed.
    """
    counts = (np.concatenate([p[0] for p in pieces if p[0] is not None]) if pieces
              else np.zeros(0, np.int64)).astype(np.int64, copy=False)
    n = counts.shape[0]
    old_offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=old_offsets[1:])
    if order is None:
        offsets, dest = old_offsets, old_offsets[:-1]
    else:
        offsets = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(counts[order], out=offsets[1:])
        inverse = np.empty(n, dtype=np.int64)
        inverse[order] = np.arange(n, dtype=np.int64)
        dest = offsets[:-1][inverse]  # the new first item of each old owner
        del inverse
    total = int(offsets[-1])
    if order is None and len(pieces) == 1:  # nothing to join or move
        return AttrColumns(offsets=offsets, **{
            name: np.asarray(pieces[0][c], dtype=dtype)
            for c, (name, dtype) in enumerate(CSR_ITEMS, start=1)})
    from workbench.traces.kernels_permute import segment_scatter

    columns: dict[str, np.ndarray] = {}
    for c, (name, dtype) in enumerate(CSR_ITEMS, start=1):
        out: np.ndarray = np.empty(total, dtype=dtype)
        first = 0
        for piece in pieces:
            src = piece[c]
            assert src is not None and piece[0] is not None
            k = piece[0].shape[0]
            if src.shape[0]:
                local = old_offsets[first : first + k + 1] - old_offsets[first]
                segment_scatter(src.astype(dtype, copy=False), local, dest[first : first + k],
                                out)
            first += k
            piece[c] = src = None  # this piece's column is freed
        columns[name] = out
        if release is not None:
            release()
    return AttrColumns(offsets=offsets, **columns)


def sort_order(trace_input: np.ndarray, start: np.ndarray) -> np.ndarray | None:
    """Row order by (trace, start, input position), or None when the rows already are in it.

    Spans often arrive grouped by trace and in start order; checking that costs a few linear
    passes, and the caller then skips every permutation.
    """
    n = trace_input.shape[0]
    if n < 2:
        return None
    # comparisons, not ``diff``: a difference of two int64 start times can overflow
    if bool((trace_input[1:] >= trace_input[:-1]).all()):
        same = trace_input[1:] == trace_input[:-1]
        if bool((start[1:] >= start[:-1])[same].all()):
            return None
    return np.lexsort((np.arange(n), start, trace_input)).astype(np.int64, copy=False)


class SpanIndex:
    """Exact lookup of (trace, span id) -> first row, built once for parents and links.

    Ids are replaced by their rank among the distinct span ids, so ``trace * (U + 1) + rank`` is
    a collision-free int64 key; a stable argsort keeps the first duplicate first.
    """

    def __init__(self, span_trace: np.ndarray, span_val: np.ndarray, span_len: np.ndarray):
        valid = span_len != 0
        self.n = span_val.shape[0]
        # large tables: a compiled hash join per lookup (linear) instead of sorting the keys
        self.hashed = self.n >= HASH_MIN_ROWS
        if self.hashed:  # references only: the join's inputs are assembled per lookup
            self.h_invalid = ~valid  # spans without an id never match a query
            self.h_trace = span_trace
            self.h_val = span_val
            return
        self.universe = np.unique(span_val[valid])
        self.base = np.int64(self.universe.shape[0] + 1)
        rank = np.searchsorted(self.universe, span_val).astype(np.int64)
        keys = np.where(valid, span_trace.astype(np.int64) * self.base + rank, -1)
        self.sort = np.argsort(keys, kind="stable")
        self.sorted_keys = keys[self.sort]

    def lookup(self, q_trace: np.ndarray, q_val: np.ndarray, q_mask: np.ndarray) -> np.ndarray:
        """Row per query: ROOT where masked out, MISSING_PARENT where no such span exists."""
        out = np.full(q_val.shape[0], ROOT, dtype=np.int64)
        q = np.nonzero(q_mask)[0]
        if q.shape[0] == 0:
            return out
        if self.hashed:
            return self._lookup_hashed(out, q, q_trace, q_val)
        universe, n = self.universe, self.n
        if n == 0 or universe.shape[0] == 0:
            out[q] = MISSING_PARENT
            return out
        vals = q_val[q]
        rank = np.searchsorted(universe, vals).astype(np.int64)
        known = universe[np.minimum(rank, universe.shape[0] - 1)] == vals
        qkeys = q_trace[q].astype(np.int64) * self.base + rank
        pos = np.searchsorted(self.sorted_keys, qkeys)
        pos_c = np.minimum(pos, n - 1)
        hit = known & (pos < n) & (self.sorted_keys[pos_c] == qkeys)
        out[q] = np.where(hit, self.sort[pos_c], MISSING_PARENT)
        return out


    def _lookup_hashed(self, out: np.ndarray, q: np.ndarray, q_trace: np.ndarray,
                       q_val: np.ndarray) -> np.ndarray:
        """:meth:`lookup` through :func:`~workbench.traces.kernels.dense_ids` over the spans
        followed by the queries: a query's group first appears at a span row exactly when
        that (trace, id) exists, and then at its first row."""
        from workbench.traces.kernels import dense_ids

        n = self.n
        m = n + q.shape[0]
        # filled in place (no per-part copies): the spans, then the queries
        tag = np.zeros(m, dtype=np.int64)
        tag[:n] = self.h_invalid
        hi = np.empty(m, dtype=np.uint64)
        hi[:n] = self.h_trace
        hi[n:] = q_trace[q]
        lo = np.empty(m, dtype=np.uint64)
        lo[:n] = self.h_val
        lo[n:] = q_val[q]
        dense, first = dense_ids(tag, hi, lo)
        del tag, hi, lo
        row = first[dense[n:]]
        out[q] = np.where(row < n, row, MISSING_PARENT)
        return out


#: tables of at least this many spans resolve parents and links by a compiled hash join
HASH_MIN_ROWS = 200_000


def resolve_links(
    index: SpanIndex,
    trace_of: dict[str, int],
    link_trace: list[str],
    link_span: list[str],
) -> np.ndarray:
    m = len(link_trace)
    if m == 0:
        return np.zeros(0, dtype=np.int64)
    q_trace = np.asarray([trace_of.get(t, -1) for t in link_trace], dtype=np.int64)
    q_val = np.asarray([parse_id(s, 8)[0] for s in link_span], dtype=np.uint64)
    mask = (q_trace >= 0) & np.asarray([bool(s) for s in link_span])
    rows = index.lookup(np.maximum(q_trace, 0), q_val, mask)
    return np.where(rows >= 0, rows, -1).astype(np.int64)


def depths(parent: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Number of distinct resolved ancestors per row (``|ancestors(s)|``, which includes ``s``
    itself when ``s`` lies on a parent cycle), and which rows lie on a parent cycle.

    Pointer jumping: after k rounds ``nxt`` points 2**k steps up (or to a terminal), so chains
    of any depth take O(log depth) vectorized rounds. Rows still pointing at a span afterwards
    lead into a cycle; those are finished in O(rows) Python (rare, malformed input only).
    """
    n = parent.shape[0]
    depth = (parent >= 0).astype(np.int64)
    nxt = parent.copy()
    rounds = max(1, math.ceil(math.log2(max(n, 2)))) + 1
    for _ in range(rounds):
        active = nxt >= 0
        if not active.any():
            break
        idx = np.nonzero(active)[0]
        p = nxt[idx]
        depth_new = depth.copy()
        depth_new[idx] += depth[p]
        nxt_new = nxt.copy()
        nxt_new[idx] = nxt[p]
        depth, nxt = depth_new, nxt_new
    in_cycle = np.zeros(n, dtype=np.bool_)
    stuck = np.nonzero(nxt >= 0)[0]
    if stuck.size:
        _cycle_depths(parent, stuck, depth, in_cycle)
    return depth.astype(np.int32), in_cycle


def _cycle_depths(
    parent: np.ndarray, stuck: np.ndarray, depth: np.ndarray, in_cycle: np.ndarray
) -> None:
    par = parent.tolist()
    state: dict[int, int] = {}  # 1 = on the current walk, 2 = done
    result: dict[int, int] = {}
    for s in stuck.tolist():
        if s in state:
            continue
        walk: list[int] = []
        node = s
        while node >= 0 and node not in state:
            state[node] = 1
            walk.append(node)
            node = par[node]
        if node >= 0 and state.get(node) == 1:  # closed a new cycle at ``node``
            k = walk.index(node)
            cycle = walk[k:]
            for c in cycle:  # a cycle member is its own ancestor: |ancestors| = len(cycle)
                in_cycle[c] = True
                result[c] = len(cycle)
            walk = walk[:k]
        for w in reversed(walk):
            p = par[w]
            above = result[p] if p in result else int(depth[p])
            result[w] = above + (0 if in_cycle[p] else 1)
        for w in walk:
            state[w] = 2
        for c in result:
            state[c] = 2
    for row, d in result.items():
        depth[row] = d


def trace_id_bytes(trace_keys: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """The 16 id bytes and byte length per trace key (-1: not hex, 0: empty)."""
    t_bytes = np.zeros((len(trace_keys), 16), dtype=np.uint8)
    t_len = np.zeros(len(trace_keys), dtype=np.int8)
    plain = [
        t for t, key in enumerate(trace_keys) if len(key) == 32 and HEX_DIGITS.issuperset(key)
    ]
    if plain:
        raw = bytes.fromhex("".join([trace_keys[t] for t in plain]))
        t_bytes[plain] = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 16)
        t_len[plain] = 16
    if len(plain) != len(trace_keys):
        for t, key in enumerate(trace_keys):
            if len(key) == 32 and HEX_DIGITS.issuperset(key):
                continue
            if len(key) <= 32 and HEX_DIGITS.issuperset(key) and key:
                raw = bytes.fromhex(key.rjust(32, "0"))
                t_bytes[t] = np.frombuffer(raw, dtype=np.uint8)
                t_len[t] = (len(key) + 1) // 2
            else:
                t_len[t] = -1 if key else 0
    return t_bytes, t_len


def id_texts(
    order: np.ndarray | None,
    n: int,
    span_txt: dict[int, str],
    par_txt: dict[int, str],
    par_len: np.ndarray,
) -> dict[tuple[int, str], str]:
    """The kept id texts keyed by (row in trace order, "span" or "parent")."""
    id_text: dict[tuple[int, str], str] = {}
    if not (span_txt or par_txt):
        return id_text
    if order is None:
        new_row_of = np.arange(n, dtype=np.int64)
    else:
        new_row_of = np.empty(n, dtype=np.int64)
        new_row_of[order] = np.arange(n, dtype=np.int64)
    for old, text in span_txt.items():
        id_text[(int(new_row_of[old]), "span")] = text
    for old, text in par_txt.items():
        if par_len[new_row_of[old]] != 0:
            id_text[(int(new_row_of[old]), "parent")] = text
    return id_text
