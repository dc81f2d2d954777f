"""Assemble a :class:`~workbench.traces.model.SpanTable` from decoded records.

Loaders append into a :class:`TableBuilder`, column by column; :meth:`TableBuilder.build` does all
whole-table work once, vectorized: join traces by id, sort rows by (trace, start), resolve parent
and link pointers, compute depths (pointer jumping, so a 100k-deep chain costs O(n log n), and
cycles are found without recursion).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from workbench.errors import Diagnostic
from workbench.traces.blocks import (
    BLOCK_ARRAYS,
    SpanBlock,
    dense_first_appearance,
    trace_index_numeric,
    trace_keys_numeric,
)
from workbench.traces.memory import release_memory
from workbench.traces.model import (
    ATTR_ARRAY,
    ATTR_BOOL,
    ATTR_BYTES,
    ATTR_FLOAT,
    ATTR_INT,
    ATTR_KVLIST,
    ATTR_STR,
    AttrColumns,
    SpanTable,
    StringTable,
)
from workbench.traces.resolve import (
    SpanIndex,
    csr_order,
    depths,
    id_texts,
    parse_id,
    parse_ids,
    permute_pieces,
    resolve_links,
    sort_order,
    trace_id_bytes,
)

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
#: ids longer than this many characters are reported (a trace id has 32 hex digits)
LONG_ID = 64
#: tables of at least this many spans give freed memory back during the build
TRIM_MIN_SPANS = 100_000


def _keep_memory() -> None:
    """What small builds call instead of :func:`~workbench.traces.memory.release_memory`:
    nothing (trimming walks the whole heap, too dear for a small batch in a server)."""


def _json_default(value: Any) -> Any:
    """``json.dumps`` hook for nested attribute values: bytes are written as hex text."""
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    return str(value)


_ARRAY_JSON = json.JSONEncoder(default=_json_default).encode
_KVLIST_JSON = json.JSONEncoder(default=_json_default, sort_keys=True).encode


def _merged_texts(blocks: list[SpanBlock], name: str) -> dict[int, str]:
    """One kept-text dict of the blocks (``trace_odd``, ``span_txt`` or ``par_txt``), keyed
    by input index over all of them."""
    merged: dict[int, str] = {}
    base = 0
    for blk in blocks:
        merged.update({base + i: t for i, t in getattr(blk, name).items()})
        base += blk.n
    return merged


class AttrBuilder:
    """Append-only CSR attribute columns; call :meth:`close_owner` after each owner.

    Values are appended either one at a time (:meth:`push`, or the column lists directly) or a
    whole block at a time (:meth:`append_columns`, used by the columnar decoders); both can be
    mixed and keep their order.
    """

    __slots__ = ("_chunks", "counts", "fval", "ival", "key", "strings", "sval", "type")

    def __init__(self, strings: StringTable) -> None:
        self.strings = strings
        self.counts: list[int] = []
        self.key: list[int] = []
        self.type: list[int] = []
        self.ival: list[int] = []
        self.fval: list[float] = []
        self.sval: list[int] = []
        self._chunks: list[tuple[np.ndarray, ...]] = []

    def pack(self, value: Any) -> tuple[int, int, float, int]:
        """The ``(type, ival, fval, sval)`` cells of one value (strings are interned)."""
        code = self.strings.code
        if isinstance(value, str):
            return ATTR_STR, 0, 0.0, code(value)
        if isinstance(value, bool):
            return ATTR_BOOL, int(value), 0.0, 0
        if isinstance(value, int):
            if _INT64_MIN <= value <= _INT64_MAX:
                return ATTR_INT, value, float(value), 0
            try:
                return ATTR_FLOAT, 0, float(value), 0
            except OverflowError:  # beyond float range (10**400): keep its sign
                return ATTR_FLOAT, 0, math.inf if value > 0 else -math.inf, 0
        if isinstance(value, float):
            return ATTR_FLOAT, 0, value, 0
        if isinstance(value, bytes | bytearray | memoryview):
            return ATTR_BYTES, 0, 0.0, code(bytes(value).hex())
        if isinstance(value, dict):
            return ATTR_KVLIST, 0, 0.0, code(_KVLIST_JSON(value))
        if isinstance(value, list | tuple):
            return ATTR_ARRAY, 0, 0.0, code(_ARRAY_JSON(list(value)))
        return ATTR_STR, 0, 0.0, code(str(value))

    def push(self, key: str, value: Any) -> None:
        """Append one attribute; ``value`` is a Python str/bool/int/float/bytes/list/dict."""
        self.key.append(self.strings.code(key))
        self._append(*self.pack(value))

    def _append(self, kind: int, ival: int, fval: float, sval: int) -> None:
        self.type.append(kind)
        self.ival.append(ival)
        self.fval.append(fval)
        self.sval.append(sval)

    def close_owner(self, count: int) -> None:
        self.counts.append(count)

    def push_all(self, items: Iterable[tuple[str, Any]]) -> None:
        """Append every (key, value) and close the owner."""
        n = 0
        for key, value in items:
            self.push(key, value)
            n += 1
        self.counts.append(n)

    def append_columns(
        self,
        counts: Sequence[int] | np.ndarray,
        key: Sequence[int] | np.ndarray,
        type: Sequence[int] | np.ndarray,
        ival: Sequence[int] | np.ndarray,
        fval: Sequence[float] | np.ndarray,
        sval: Sequence[int] | np.ndarray,
    ) -> None:
        """Append whole owners at once: ``counts`` per owner, the other columns per value."""
        self._flush()
        self._chunks.append(
            (
                np.asarray(counts, dtype=np.int64),
                np.asarray(key, dtype=np.int32),
                np.asarray(type, dtype=np.int8),
                np.asarray(ival, dtype=np.int64),
                np.asarray(fval, dtype=np.float64),
                np.asarray(sval, dtype=np.int32),
            )
        )

    def _flush(self) -> None:
        if not (self.counts or self.key):
            return
        self._chunks.append(
            (
                np.asarray(self.counts, dtype=np.int64),
                np.asarray(self.key, dtype=np.int32),
                np.asarray(self.type, dtype=np.int8),
                np.asarray(self.ival, dtype=np.int64),
                np.asarray(self.fval, dtype=np.float64),
                np.asarray(self.sval, dtype=np.int32),
            )
        )
        # clear in place: fast decoders may hold references to these lists
        for column in (self.counts, self.key, self.type, self.ival, self.fval, self.sval):
            column.clear()

    @property
    def n_owners(self) -> int:
        return len(self.counts) + sum(int(c[0].shape[0]) for c in self._chunks)

    def columns(self) -> AttrColumns:
        """The columns of every owner so far. Several chunks are joined into one, which
        replaces them: each column's pieces are freed as soon as it is joined, so joining
        costs one column of extra memory rather than a second copy of them all."""
        self._flush()
        dtypes = (np.int64, np.int32, np.int8, np.int64, np.float64, np.int32)
        if len(self._chunks) > 1:
            chunks: list[list[np.ndarray | None]] = [list(c) for c in self._chunks]
            self._chunks = []
            joined = []
            for i in range(6):
                joined.append(np.concatenate([c[i] for c in chunks]))
                for c in chunks:
                    c[i] = None
            self._chunks = [tuple(joined)]
        parts = list(self._chunks[0]) if self._chunks else [np.zeros(0, dtype=d) for d in dtypes]
        return self._as_columns(parts)

    def take_pieces(self) -> list[list[np.ndarray | None]]:
        """The columns so far as pieces ``[counts, key, type, ival, fval, sval]`` of
        consecutive owners, handed over: the builder lets go of them (and is left empty), so
        :func:`~workbench.traces.resolve.permute_pieces` frees each one as it is copied."""
        self._flush()
        pieces: list[list[np.ndarray | None]] = [list(c) for c in self._chunks]
        self._chunks = []
        return pieces

    @staticmethod
    def _as_columns(parts: list[np.ndarray]) -> AttrColumns:
        counts = parts[0]
        offsets = np.zeros(counts.shape[0] + 1, dtype=np.int64)
        np.cumsum(counts, out=offsets[1:])
        return AttrColumns(
            offsets=offsets,
            key=parts[1],
            type=parts[2],
            ival=parts[3],
            fval=parts[4],
            sval=parts[5],
        )


class TableBuilder:
    """Collects spans from any number of sources; :meth:`build` returns the table."""

    def __init__(self) -> None:
        self.strings = StringTable()
        s = self.strings
        self.diagnostics: list[Diagnostic] = []
        # per span, in input order
        self.trace_key: list[str] = []
        self.span_id: list[str] = []
        self.parent_id: list[str] = []
        self.name: list[int] = []
        self.kind: list[int] = []
        self.status: list[int] = []
        self.status_message: list[int] = []
        self.start: list[int] = []
        self.end: list[int] = []
        self.has_end: list[bool] = []
        self.flags: list[int] = []
        self.trace_state: list[int] = []
        self.resource: list[int] = []
        self.scope: list[int] = []
        self.source: list[int] = []
        self.attrs = AttrBuilder(s)
        # events: per span counts; per event name/time and attributes
        self.event_counts: list[int] = []
        self.event_name: list[int] = []
        self.event_time: list[int] = []
        self.event_attrs = AttrBuilder(s)
        # links: per span counts; per link target ids and attributes
        self.link_counts: list[int] = []
        self.link_trace_id: list[str] = []
        self.link_span_id: list[str] = []
        self.link_trace_state: list[int] = []
        self.link_flags: list[int] = []
        self.link_attrs = AttrBuilder(s)
        # resources
        self.resource_attrs = AttrBuilder(s)
        self.resource_service: list[int] = []
        # spans appended as whole numpy blocks (:meth:`append_block`), in input order with
        # the spans of the lists above (which are flushed into a block before each new one)
        self._blocks: list[SpanBlock] = []
        self._n_blocked = 0
        #: bytes of input offered to the readers so far (they pick a compiled walker by it)
        self.fast_bytes_seen = 0
        #: where the spans with an over-long id were read: input index -> (record path,
        #: line), as the readers note it (:meth:`locate_long_ids`) for the id warnings
        self.id_where: dict[int, tuple[str, int | None]] = {}

    # ------------------------------------------------------------------ appending
    def add_resource(self, attributes: Iterable[tuple[str, Any]]) -> int:
        """Register a resource (its attributes) and return its index."""
        items = list(attributes)
        self.resource_attrs.push_all(items)
        service = ""
        for key, value in items:
            if key == "service.name" and isinstance(value, str):
                service = value
        self.resource_service.append(self.strings.code(service))
        return len(self.resource_service) - 1

    def add_span(
        self,
        *,
        trace_id: str,
        span_id: str,
        parent_id: str = "",
        name: str = "",
        kind: int = 0,
        status: int = 0,
        status_message: str = "",
        start: int = 0,
        end: int | None = None,
        flags: int = 0,
        trace_state: str = "",
        resource: int,
        scope: str = "",
        source: str = "",
        attributes: Iterable[tuple[str, Any]] = (),
        events: Sequence[tuple[str, int, Iterable[tuple[str, Any]]]] = (),
        links: Sequence[tuple[Any, ...]] = (),
        path: str = "",
        line: int | None = None,
    ) -> int:
        """Append one span (ids as hex text); returns its input index.

        A convenience for loaders that are not on a hot path; fast decoders append to the
        columns directly. ``end=None`` records a span without an end time (``has_end`` false).
        ``links`` are ``(trace_id, span_id, attributes)`` or
        ``(trace_id, span_id, attributes, trace_state, flags)``. ``path`` and ``line`` say
        where the span was read (for the warning about an over-long id).
        """
        if len(span_id) > LONG_ID or len(parent_id) > LONG_ID:
            self.id_where[len(self)] = (path, line)
        code = self.strings.code
        self.trace_key.append(trace_id.lower())
        self.span_id.append(span_id)
        self.parent_id.append(parent_id)
        self.name.append(code(name))
        self.kind.append(kind)
        self.status.append(status)
        self.status_message.append(code(status_message))
        self.start.append(start)
        self.end.append(start if end is None else end)
        self.has_end.append(end is not None)
        self.flags.append(flags)
        self.trace_state.append(code(trace_state))
        self.resource.append(resource)
        self.scope.append(code(scope))
        self.source.append(code(source))
        self.attrs.push_all(attributes)
        self.event_counts.append(len(events))
        for ev_name, ev_time, ev_attrs in events:
            self.event_name.append(code(ev_name))
            self.event_time.append(ev_time)
            self.event_attrs.push_all(ev_attrs)
        self.link_counts.append(len(links))
        for link in links:
            self.link_trace_id.append(link[0].lower())
            self.link_span_id.append(link[1].lower())
            self.link_attrs.push_all(link[2])
            self.link_trace_state.append(code(link[3]) if len(link) > 3 else 0)
            self.link_flags.append(link[4] if len(link) > 4 else 0)
        return len(self.name) - 1

    def __len__(self) -> int:
        return self._n_blocked + len(self.name)

    def locate_long_ids(
        self,
        span_ids: Sequence[str],
        parent_ids: Sequence[str],
        where: Callable[[int], tuple[str, int | None]],
    ) -> None:
        """Note where spans about to be appended (the next ``len(span_ids)`` input indices)
        were read, for those with an over-long id (cheap when there is none).

        Parameters
        ----------
        span_ids, parent_ids
            The id texts of the spans, in the order they will be appended.
        where
            ``(record path, line or None)`` of the ``k``-th of them.
        """
        if not span_ids or (max(map(len, span_ids)) <= LONG_ID
                            and max(map(len, parent_ids), default=0) <= LONG_ID):
            return
        first = len(self)
        for k, (sid, pid) in enumerate(zip(span_ids, parent_ids, strict=True)):
            if len(sid) > LONG_ID or len(pid) > LONG_ID:
                self.id_where[first + k] = where(k)

    def append_block(self, block: SpanBlock) -> None:
        """Append spans decoded column-wise (see :class:`SpanBlock`).

        Their attributes, events and links go to the attribute builders and event/link lists as
        usual, in the same span order; only the per-span columns and ids come as arrays.
        """
        self._flush_lists()
        self._blocks.append(block)
        self._n_blocked += block.n

    def blocks(self) -> list[SpanBlock]:
        """The spans appended so far as :class:`SpanBlock` s, in input order."""
        self._flush_lists()
        return list(self._blocks)

    def _flush_lists(self) -> None:
        """Turn the spans appended to the per-span lists into a :class:`SpanBlock`."""
        n = len(self.name)
        if n == 0:
            return
        hi, lo, odd = trace_keys_numeric(self.trace_key)
        span_val, span_len, span_txt = parse_ids(self.span_id)
        par_val, par_len, par_txt = parse_ids(self.parent_id)
        block = SpanBlock(
            trace_hi=hi,
            trace_lo=lo,
            trace_odd=odd,
            span_val=span_val,
            span_len=span_len,
            span_txt=span_txt,
            par_val=par_val,
            par_len=par_len,
            par_txt=par_txt,
            name=np.asarray(self.name, dtype=np.int32),
            kind=np.asarray(self.kind, dtype=np.int8),
            status=np.asarray(self.status, dtype=np.int8),
            status_message=np.asarray(self.status_message, dtype=np.int32),
            start=np.asarray(self.start, dtype=np.int64),
            end=np.asarray(self.end, dtype=np.int64),
            has_end=np.asarray(self.has_end, dtype=np.bool_),
            flags=np.asarray(self.flags, dtype=np.uint32),
            trace_state=np.asarray(self.trace_state, dtype=np.int32),
            resource=np.asarray(self.resource, dtype=np.int32),
            scope=np.asarray(self.scope, dtype=np.int32),
            source=np.asarray(self.source, dtype=np.int32),
        )
        for column in (self.trace_key, self.span_id, self.parent_id, self.name, self.kind,
                       self.status, self.status_message, self.start, self.end, self.has_end,
                       self.flags, self.trace_state, self.resource, self.scope, self.source):
            column.clear()
        self._blocks.append(block)
        self._n_blocked += n

    def _report_long_ids(
        self, kept: dict[int, str], what: str, source: np.ndarray, shown: int = 5
    ) -> None:
        """Warn about ids far longer than any OTLP id (kept as text, judged by the id rules)."""
        long_rows = [i for i, text in kept.items() if len(text) > LONG_ID]
        for i in long_rows[:shown]:
            text = kept[i]
            path, line = self.id_where.get(i, ("", None))
            self.diagnostics.append(
                Diagnostic(
                    self.strings[int(source[i])],
                    path,
                    f"{what} of {len(text)} characters ({text[:16]}...) is not a valid id; "
                    "kept as text",
                    "warning",
                    line,
                )
            )
        if len(long_rows) > shown:
            self.diagnostics.append(
                Diagnostic("", "", f"{len(long_rows) - shown} more over-long {what}s", "warning")
            )

    # ------------------------------------------------------------------ building
    def _joined(self, release: bool = False) -> dict[str, Any]:
        """Every span column over all blocks (input order), and the kept id texts.

        With ``release`` the builder lets go of its blocks and each column's pieces are freed
        as soon as that column is joined (the peak is one column, not a second copy of all).
        """
        self._flush_lists()
        blocks = self._blocks
        n_blocks = len(blocks)
        out: dict[str, Any] = {}
        for name in ("trace_odd", "span_txt", "par_txt"):
            out[name] = _merged_texts(blocks, name)
        pieces = {name: [getattr(blk, name) for blk in blocks] for name in BLOCK_ARRAYS}
        if release:
            self._blocks = []
            del blocks
        for name in BLOCK_ARRAYS:
            parts = pieces.pop(name)
            out[name] = (
                parts[0] if len(parts) == 1
                else np.concatenate(parts) if parts
                else np.zeros(0, dtype=BLOCK_ARRAYS[name])
            )
            del parts
        if n_blocks > 1 and not release:  # the joined columns replace the pieces
            self._blocks = [SpanBlock(**out)]
        return out

    def build(self) -> SpanTable:
        """Join, sort, resolve and return the table (the builder is emptied: not reusable).

        Memory: the builder's columns are handed over and moved into trace order one column
        at a time, each source freed before the next is copied, so the peak stays near the
        size of the table; when the spans already arrive in trace order nothing is moved.
        """
        cols = self._joined(release=True)
        n = int(cols["name"].shape[0])
        # freed pages go back between steps, on large tables only (a trim walks the heap)
        release = release_memory if n >= TRIM_MIN_SPANS else _keep_memory
        release()  # the input-order pieces, freed
        strings = self.strings
        # --- traces in order of first appearance; ids compare case-insensitively
        trace_input, trace_keys = trace_index_numeric(
            cols.pop("trace_hi"), cols.pop("trace_lo"), cols.pop("trace_odd")
        )
        trace_of = {key: t for t, key in enumerate(trace_keys)}
        order = sort_order(trace_input, cols["start"])  # None: already in trace order
        trace_index = trace_input if order is None else trace_input[order]
        del trace_input
        counts = np.bincount(trace_index, minlength=len(trace_keys)) if n else np.zeros(0, np.int64)
        trace_offsets = np.zeros(len(trace_keys) + 1, dtype=np.int64)
        np.cumsum(counts, out=trace_offsets[1:])
        t_bytes, t_len = trace_id_bytes(trace_keys)

        def permuted(name: str) -> np.ndarray:
            """Column ``name`` in trace order; the input-order one is released."""
            values: np.ndarray = cols.pop(name)
            if order is not None:
                return values[order]
            # kept as it is, unless it is a view (of a decoder's buffer, which it would pin)
            return values if values.base is None else values.copy()

        # --- span and parent ids (parsed in input order, then permuted)
        span_txt, par_txt = cols.pop("span_txt"), cols.pop("par_txt")
        self._report_long_ids(span_txt, "span id", cols["source"])
        self._report_long_ids(par_txt, "parent span id", cols["source"])
        # an all-zero parent id means "no parent" in OTLP
        par_len = cols["par_len"].copy()
        par_len[(par_len == 8) & (cols["par_val"] == 0)] = 0
        cols["par_len"] = par_len
        del par_len
        span_val, span_len = permuted("span_val"), permuted("span_len")
        par_val, par_len = permuted("par_val"), permuted("par_len")
        id_text = id_texts(order, n, span_txt, par_txt, par_len)

        index = SpanIndex(trace_index, span_val, span_len)
        parent = index.lookup(trace_index, par_val, par_len != 0)
        depth, in_cycle = depths(parent)
        release()

        # --- links: resolved while the index is alive, then it goes
        ln_offsets, ln_perm = csr_order(np.asarray(self.link_counts, dtype=np.int64), order)
        perm = ln_perm.tolist()
        link_trace = [self.link_trace_id[j].lower() for j in perm]
        link_span = [self.link_span_id[j].lower() for j in perm]
        m = len(perm)
        link_state = np.zeros(m, dtype=np.int32)
        link_flags = np.zeros(m, dtype=np.uint32)
        if len(self.link_trace_state) == len(self.link_trace_id) and m:
            link_state = np.asarray(self.link_trace_state, dtype=np.int32)[ln_perm]
            link_flags = np.asarray(self.link_flags, dtype=np.uint32)[ln_perm]
        link_row = resolve_links(index, trace_of, link_trace, link_span)
        del index, perm

        # --- per-span columns, one at a time
        span_cols = {name: permuted(name) for name in (
            "name", "scope", "kind", "status", "status_message", "start", "end", "has_end",
            "flags", "trace_state", "resource", "source")}
        resource_service = np.asarray([*self.resource_service, 0], dtype=np.int32)
        service = resource_service[span_cols["resource"]] if n else np.zeros(0, np.int32)
        release()

        # --- attributes: handed over by their builders and moved column by column
        attrs = permute_pieces(self.attrs.take_pieces(), order, release)
        ev_offsets, ev_perm = csr_order(np.asarray(self.event_counts, dtype=np.int64), order)
        event_attrs = permute_pieces(self.event_attrs.take_pieces(),
                                     None if order is None else ev_perm)
        link_attrs = permute_pieces(self.link_attrs.take_pieces(),
                                    None if order is None else ln_perm)
        release()

        table = SpanTable(
            strings=strings,
            trace_offsets=trace_offsets,
            trace_id_hex=trace_keys,
            trace_id_bytes=t_bytes,
            trace_id_len=t_len,
            trace_index=trace_index.astype(np.int32, copy=False),
            span_id=span_val,
            span_id_len=span_len,
            parent_span_id=par_val,
            parent_id_len=par_len,
            parent=parent,
            depth=depth,
            in_cycle=in_cycle,
            service=service,
            **span_cols,
            attrs=attrs,
            resource_attrs=self.resource_attrs.columns(),
            event_offsets=ev_offsets,
            event_name=np.asarray(self.event_name, dtype=np.int32)[ev_perm],
            event_time=np.asarray(self.event_time, dtype=np.int64)[ev_perm],
            event_attrs=event_attrs,
            link_offsets=ln_offsets,
            link_trace_id=np.asarray(strings.codes(link_trace), dtype=np.int32),
            link_span_id=np.asarray(strings.codes(link_span), dtype=np.int32),
            link_row=link_row,
            link_attrs=link_attrs,
            id_text=id_text,
            diagnostics=list(self.diagnostics),
            link_trace_state=link_state,
            link_flags=link_flags,
        )
        return table


__all__ = ["AttrBuilder", "SpanBlock", "TableBuilder", "dense_first_appearance", "parse_id"]
