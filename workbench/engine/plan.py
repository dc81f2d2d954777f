"""The backend-neutral kernel plan: per-table indexes and per-property tables.

:class:`TableIndex` is computed once per :class:`~workbench.traces.model.SpanTable` (and cached
while the table lives); every compiled property reads from it:

* children CSR, roots per trace, linked spans (same trace, deduplicated, ascending);
* an Euler tour (``tin``/``tout``/``euler``) of the parent forest for O(1) ancestor tests and
  contiguous descendant ranges. Rows whose parent chain never reaches a root (parent cycles,
  and the spans below them) are marked ``cyc`` and handled by chain walks;
* per-trace timelines: every start, event and end, sorted by ``(time, phase, row, event
  index)`` exactly as the reference interpreter sorts them, plus the position of each span's
  start/end and of each event;
* string codes of the span, parent and trace ids (hex text), in an extended string dictionary
  (:class:`ExtStrings`) that also holds derived strings (``lower(x)``, ``str(42)``...).

:func:`materialize` resolves a generated kernel's :class:`~workbench.engine.codegen_terms.Sites`
against a table: string predicates (regexes, ``luhn``, ``len``, ``lower``, ranks) evaluated
once per distinct string of the operand's domain, packed into the tables the kernel reads.
"""

from __future__ import annotations

import threading
import weakref
from typing import Any

import numpy as np

from workbench.engine.plan_sites import (
    _EMPTY_I,
    DomValues,
    ExtStrings,
    SiteIndex,
    _hex16,
    materialize,
)
from workbench.engine.text_bulk import TextBatch
from workbench.traces.model import (
    KIND_NAMES,
    STATUS_NAMES,
    SpanTable,
)


class TableIndex(SiteIndex):
    """Derived structure of one table, computed lazily and kept while the table lives.

    The index refers to its table weakly: :func:`table_index` caches it until the table is
    collected, which a strong reference from the index would prevent for the life of the
    process (a server or a Dask worker checks one table after another).
    """

    def __init__(self, table: SpanTable) -> None:
        self._table = weakref.ref(table)
        self.strings = ExtStrings(table.strings)
        self.arrays: dict[str, np.ndarray] = {}
        self.built: set[str] = set()
        self.doms: dict[Any, DomValues] = {}
        self.site_cache: dict[Any, tuple[np.ndarray, np.ndarray]] = {}
        self.preds: dict[tuple[str, Any], np.ndarray] = {}
        self.batches: dict[bytes, TextBatch] = {}  # recent predicate inputs (SiteIndex._batch)
        #: :func:`table_args` by the groups needed (the properties of a check share a few)
        self.table_args: dict[frozenset[str], dict[str, np.ndarray]] = {}
        self.lock = threading.RLock()
        self.seconds = 0.0

    @property
    def table(self) -> SpanTable:
        """The indexed table (alive while any caller holds it)."""
        table = self._table()
        if table is None:
            raise ReferenceError("the table of this index was collected")
        return table

    # ------------------------------------------------------------------ structure
    def need(self, what: str) -> None:
        """Build the arrays of one group: children, roots, euler, linked, timeline, ids, base."""
        with self.lock:
            if what in self.built:
                return
            getattr(self, f"_build_{what}")()
            self.built.add(what)
            release_memory()

    def _build_base(self) -> None:
        self.arrays["kindc"] = np.asarray([self.strings.code(k) for k in KIND_NAMES], np.int32)
        self.arrays["statc"] = np.asarray([self.strings.code(k) for k in STATUS_NAMES], np.int32)

    def _build_children(self) -> None:
        off, rows = self.table.children_rows()
        self.arrays["ch_off"] = off.astype(np.int32 if off[-1] < 2**31 else np.int64)
        self.arrays["ch_rows"] = rows.astype(np.int32)

    def _build_roots(self) -> None:
        t = self.table
        rows = np.nonzero(t.parent_id_len == 0)[0]
        self.arrays["rt_rows"] = rows.astype(np.int32)
        self.arrays["rt_off"] = np.searchsorted(rows, t.trace_offsets).astype(np.int64)

    def _build_euler(self) -> None:
        self.need("children")
        t = self.table
        n = t.n_spans
        tin = np.full(n, -1, dtype=np.int32)
        tout = np.full(n, -1, dtype=np.int32)
        euler = np.full(max(n, 1), -1, dtype=np.int32)
        stack = np.zeros(max(n, 1), dtype=np.int64)
        cursor = np.zeros(max(n, 1), dtype=np.int64)
        _euler_tour()(t.trace_offsets, t.parent, self.arrays["ch_off"], self.arrays["ch_rows"],
                      tin, tout, euler, stack, cursor)
        self.arrays["tin"], self.arrays["tout"], self.arrays["euler"] = tin, tout, euler
        self.arrays["cyc"] = tin < 0

    def _build_linked(self) -> None:
        t = self.table
        n = t.n_spans
        counts = np.diff(t.link_offsets)
        owner = np.repeat(np.arange(n, dtype=np.int64), counts)
        target = t.link_row.astype(np.int64)
        ok = target >= 0
        ok[ok] = t.trace_index[target[ok]] == t.trace_index[owner[ok]]
        pairs = np.unique(np.stack([owner[ok], target[ok]], axis=1), axis=0) if ok.any() else \
            np.zeros((0, 2), dtype=np.int64)
        off = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(pairs[:, 0], minlength=n) if n else _EMPTY_I, out=off[1:])
        self.arrays["lk_off"] = off
        self.arrays["lk_rows"] = pairs[:, 1].astype(np.int32)

    def _build_timeline(self) -> None:
        t = self.table
        n = t.n_spans
        ne = int(t.event_offsets[-1]) if n else 0
        ev_row = np.repeat(np.arange(n, dtype=np.int64), np.diff(t.event_offsets))
        ev_k = np.arange(ne, dtype=np.int64) - t.event_offsets[ev_row]
        ended = np.nonzero(t.has_end)[0]
        rows = np.concatenate([np.arange(n, dtype=np.int64), ev_row, ended])
        time = np.concatenate([t.start, t.event_time, t.end[ended]]).astype(np.int64)
        phase = np.concatenate([np.zeros(n, np.int8), np.ones(ne, np.int8),
                                np.full(ended.shape[0], 2, np.int8)])
        k = np.concatenate([np.zeros(n, np.int64), ev_k, np.zeros(ended.shape[0], np.int64)])
        ev = np.concatenate([np.full(n, -1, np.int64), np.arange(ne, dtype=np.int64),
                             np.full(ended.shape[0], -1, np.int64)])
        trace = t.trace_index[rows] if rows.size else _EMPTY_I
        # the points are laid out phase by phase, rows (and event indices) ascending: a
        # stable sort on (trace, time) leaves ties in (phase, row, k) order
        del k
        order = _by_trace_then_time(trace, time)
        m = order.shape[0]
        inv = np.empty(m, dtype=np.int64)
        inv[order] = np.arange(m, dtype=np.int64)
        off = np.zeros(t.n_traces + 1, dtype=np.int64)
        np.cumsum(np.bincount(trace, minlength=t.n_traces) if m else np.zeros(t.n_traces, np.int64),
                  out=off[1:])
        a = self.arrays
        a["tl_off"] = off
        a["tl_time"] = time[order]
        a["tl_phase"] = phase[order]
        a["tl_row"] = rows[order].astype(np.int32)
        a["tl_ev"] = ev[order].astype(np.int32)
        a["pos_start"] = inv[:n].astype(np.int32)
        a["ev_pos"] = inv[n:n + ne].astype(np.int32)
        pos_end = np.full(n, -1, dtype=np.int32)
        pos_end[ended] = inv[n + ne:]
        a["pos_end"] = pos_end

    def _build_km(self) -> None:
        """Dense key ids of the attribute entries of each store (for the kernels' key maps)."""
        t = self.table
        n = len(self.table.strings)
        for prefix, cols in (("a", t.attrs), ("r", t.resource_attrs), ("ea", t.event_attrs)):
            mark = np.zeros(n + 1, dtype=np.int32)
            mark[cols.key] = 1
            kid_of = np.cumsum(mark) - 1
            nkeys = int(mark.sum())
            dtype = np.int16 if nkeys < 32000 else np.int32
            self.arrays[f"{prefix}_kid"] = kid_of[cols.key].astype(dtype)
            self.arrays[f"{prefix}_kcodes"] = np.nonzero(mark)[0]

    def _build_ids(self) -> None:
        t = self.table
        sid, sid_plain = self._id_plain(t.span_id_len, "span")
        pid, pid_plain = self._id_plain(t.parent_id_len, "parent")
        # a parent id that resolved to a span with a well-formed id has that span's text
        is_plain = np.zeros(t.n_spans, dtype=np.bool_)
        is_plain[sid_plain] = True
        up = t.parent[pid_plain]
        via = np.zeros(pid_plain.shape[0], dtype=np.bool_)
        via[up >= 0] = is_plain[up[up >= 0]]
        via[via] = t.span_id[up[via]] == t.parent_span_id[pid_plain[via]]  # same value: text
        pid_rest = pid_plain[~via]
        # the other well-formed ids of both columns in one sorted block: numeric order of
        # the values is the order of their fixed-width lowercase hex texts
        values = np.concatenate([t.span_id[sid_plain], t.parent_span_id[pid_rest]])
        if values.size:
            uniq, inv = np.unique(values.astype(np.uint64, copy=False), return_inverse=True)
            ucodes = self.strings.add_block(_hex16(uniq)).astype(np.int32)
            got = ucodes[inv.reshape(-1)]
            sid[sid_plain] = got[:sid_plain.shape[0]]
            pid[pid_rest] = got[sid_plain.shape[0]:]
        pid[pid_plain[via]] = sid[up[via]]
        self._id_others(sid, t.span_id_len, sid_plain, t.span_id_hex)
        self._id_others(pid, t.parent_id_len, pid_plain, t.parent_id_hex)
        self.arrays["sid"], self.arrays["pid"] = sid, pid
        self.arrays["tid"] = self.strings.codes(t.trace_id_hex).astype(np.int32)

    def _id_plain(self, lens: np.ndarray, which: str) -> tuple[np.ndarray, np.ndarray]:
        """Codes to fill (the empty text's for now) and the rows of well-formed 8-byte ids."""
        plain = lens == 8
        odd = [row for (row, kind) in self.table.id_text if kind == which]
        plain[odd] = False
        return np.full(lens.shape[0], self.strings.code(""), dtype=np.int32), \
            np.flatnonzero(plain)

    def _id_others(self, codes: np.ndarray, lens: np.ndarray, plain: np.ndarray,
                   text: Any) -> None:
        """Codes of the ids kept as text (short, long, malformed), one by one (rare)."""
        other = lens != 0
        other[plain] = False
        for row in np.flatnonzero(other).tolist():
            codes[row] = self.strings.code(text(row))

def _by_trace_then_time(trace: np.ndarray, time: np.ndarray) -> np.ndarray:
    """``np.lexsort((time, trace))``: one stable sort of ``trace * span + (time - min)`` when
    that fits an int64 (it does unless times span centuries), else the two-key sort."""
    if time.shape[0] == 0:
        return np.zeros(0, dtype=np.int64)
    lo, hi = int(time.min()), int(time.max())
    span = hi - lo + 1
    if span * (int(trace.max()) + 1) >= 2**63:
        return np.lexsort((time, trace))
    key = trace.astype(np.int64) * np.int64(span)
    key += time - np.int64(lo)
    return np.argsort(key, kind="stable")


_INDEXES: dict[int, tuple[weakref.ref[SpanTable], TableIndex]] = {}
_INDEX_LOCK = threading.Lock()


def table_index(table: SpanTable) -> TableIndex:
    """The (cached) :class:`TableIndex` of ``table``."""
    with _INDEX_LOCK:
        found = _INDEXES.get(id(table))
        if found is not None and found[0]() is table:
            return found[1]
        index = TableIndex(table)
        key = id(table)

        def on_collected(_r: weakref.ref[SpanTable], k: int = key) -> None:
            _forget(k)

        _INDEXES[key] = (weakref.ref(table, on_collected), index)
        return index


_TRIM: Any = None


def release_memory() -> None:
    """Return freed heap memory to the operating system (glibc's ``malloc_trim``).

    Building indexes frees large temporaries (sort permutations, millions of short-lived
    Python strings); glibc keeps such memory mapped unless asked, which would count against
    the checker's footprint for the rest of the process. A no-op elsewhere.
    """
    global _TRIM
    if _TRIM is None:
        try:
            import ctypes

            _TRIM = ctypes.CDLL("libc.so.6").malloc_trim
        except (OSError, AttributeError):
            _TRIM = False
    if _TRIM:
        _TRIM(0)


def _forget(key: int) -> None:
    if _INDEXES is not None:  # None at interpreter shutdown
        _INDEXES.pop(key, None)


_GROUP_ARRAYS = {
    "children": ("ch_off", "ch_rows"),
    "roots": ("rt_off", "rt_rows"),
    "euler": ("cyc", "tin", "tout", "euler"),
    "linked": ("lk_off", "lk_rows"),
    "timeline": ("tl_off", "tl_time", "tl_phase", "tl_row", "tl_ev", "pos_start", "pos_end",
                 "ev_pos"),
    "ids": ("sid", "pid", "tid"),
    "km": ("a_kid", "r_kid", "ea_kid"),
}
_DUMMY_DTYPES = {
    "ch_off": np.int32, "ch_rows": np.int32, "rt_off": np.int64, "rt_rows": np.int32,
    "cyc": np.bool_, "tin": np.int32, "tout": np.int32, "euler": np.int32, "lk_off": np.int64,
    "lk_rows": np.int32, "tl_off": np.int64, "tl_time": np.int64, "tl_phase": np.int8,
    "tl_row": np.int32, "tl_ev": np.int32, "pos_start": np.int32, "pos_end": np.int32,
    "ev_pos": np.int32, "sid": np.int32, "pid": np.int32, "tid": np.int32,
    "a_kid": np.int16, "r_kid": np.int16, "ea_kid": np.int16,
}


def table_args(index: TableIndex, needs: set[str]) -> dict[str, np.ndarray]:
    """The table and index arrays of :data:`ARG_NAMES` (dummies for groups not needed)."""
    t = index.table
    index.need("base")
    out: dict[str, np.ndarray] = {
        "toff": t.trace_offsets, "tidx": t.trace_index, "parent": t.parent, "depth": t.depth,
        "plen": t.parent_id_len, "kind": t.kind, "status": t.status, "name": t.name,
        "service": t.service, "scope": t.scope, "smsg": t.status_message,
        "tstate": t.trace_state, "start": t.start, "end": t.end, "has_end": t.has_end,
        "flags": t.flags, "resource": t.resource, "e_off": t.event_offsets,
        "e_name": t.event_name, "e_time": t.event_time, "l_off": t.link_offsets,
        "kindc": index.arrays["kindc"], "statc": index.arrays["statc"],
    }
    for prefix, cols in (("a", t.attrs), ("r", t.resource_attrs), ("ea", t.event_attrs)):
        out[f"{prefix}_off"] = cols.offsets
        for name in ("key", "type", "ival", "fval", "sval"):
            out[f"{prefix}_{name}"] = getattr(cols, name)
    for group, names in _GROUP_ARRAYS.items():
        if group in needs:
            index.need(group)
            for name in names:
                out[name] = index.arrays[name]
        else:
            for name in names:
                out[name] = np.zeros(1, dtype=_DUMMY_DTYPES[name])
    return {k: np.ascontiguousarray(v) for k, v in out.items()}


_EULER: Any = None


def _euler_tour() -> Any:
    """The compiled Euler-tour kernel (pre-order ``tin``, exclusive ``tout``)."""
    global _EULER
    if _EULER is None:
        from numba import njit

        _EULER = njit(cache=True, nogil=True)(_euler_py)
    return _EULER


def _euler_py(toff: Any, parent: Any, ch_off: Any, ch_rows: Any, tin: Any, tout: Any,
              euler: Any, stack: Any, cursor: Any) -> None:
    for t in range(toff.shape[0] - 1):
        lo = toff[t]
        hi = toff[t + 1]
        pos = lo
        for r in range(lo, hi):
            if parent[r] >= 0:
                continue
            sp = lo
            stack[sp] = r
            sp += 1
            cursor[r] = ch_off[r]
            tin[r] = pos
            euler[pos] = r
            pos += 1
            while sp > lo:
                u = stack[sp - 1]
                if cursor[u] < ch_off[u + 1]:
                    c = ch_rows[cursor[u]]
                    cursor[u] += 1
                    tin[c] = pos
                    euler[pos] = c
                    pos += 1
                    cursor[c] = ch_off[c]
                    stack[sp] = c
                    sp += 1
                else:
                    tout[u] = pos
                    sp -= 1


__all__ = ["DomValues", "ExtStrings", "TableIndex", "materialize", "table_args", "table_index"]
