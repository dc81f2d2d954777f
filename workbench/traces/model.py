"""The columnar span table: many traces, one set of numpy arrays.

Every loader fills a :class:`TableBuilder` (plain Python lists, appended column by column, so a
decoder can push values without building per-span objects) and calls :meth:`TableBuilder.build`,
which joins spans by trace id across files and batches, sorts rows by (trace, start), resolves
parent pointers and computes depths. The result, :class:`SpanTable`, is a bundle of contiguous
numpy arrays that compiled kernels read without copies; the ``*_of`` accessors give the
reference interpreter and notebooks a readable Python view of one row.

Layout
------
* Rows of trace ``t`` are ``trace_offsets[t]:trace_offsets[t + 1]`` (CSR over traces).
* Strings (names, services, attribute keys and string values, ...) are dictionary-encoded into
  one :class:`StringTable`; columns hold ``int32`` codes, so string predicates can be evaluated
  once on the dictionary and kernels compare integers.
* Variable-length per-span data (attributes, events, links) is CSR:
  ``x_offsets[row]:x_offsets[row + 1]``.
* Ids: span ids are ``uint64`` plus a byte length (``8`` when well formed, ``0`` when absent,
  ``-1`` when the text is not hex); the original text of a malformed id is kept in
  :attr:`SpanTable.id_text` so a property can still read and judge it.
* Log records and metric points will join the same timeline as further tables keyed by
  ``trace_index``/``row``; nothing here assumes spans are the only timed records.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from itertools import compress, count, repeat
from typing import Any

import numpy as np
import numpy.typing as npt

from workbench.errors import Diagnostic

#: ``parent`` value of a span that names no parent.
ROOT = -1
#: ``parent`` value of a span whose parent id is not in its trace.
MISSING_PARENT = -2

#: Attribute value type codes (column ``*_type``).
ATTR_STR, ATTR_BOOL, ATTR_INT, ATTR_FLOAT, ATTR_BYTES, ATTR_ARRAY, ATTR_KVLIST = range(7)

#: Span kinds (OTLP enum order) and status codes.
KIND_NAMES = ("UNSPECIFIED", "INTERNAL", "SERVER", "CLIENT", "PRODUCER", "CONSUMER")
STATUS_NAMES = ("UNSET", "OK", "ERROR")

AttrValue = str | bool | int | float | list[Any] | dict[str, Any]

I64 = npt.NDArray[np.int64]
I32 = npt.NDArray[np.int32]
I8 = npt.NDArray[np.int8]
U64 = npt.NDArray[np.uint64]


class StringTable:
    """An append-only string dictionary: ``code(s)`` interns, ``strings[code]`` reads back."""

    __slots__ = ("_index", "strings")

    def __init__(self) -> None:
        self.strings: list[str] = [""]
        self._index: dict[str, int] = {"": 0}

    def code(self, text: str) -> int:
        index = self._index
        found = index.get(text)
        if found is None:
            found = index[text] = len(self.strings)
            self.strings.append(text)
        return found

    def codes(self, texts: Sequence[str | None]) -> list[int]:
        """Intern many strings at once (``None`` gives code 0, the empty string).

        Much faster than calling :meth:`code` in a loop when most strings are already known:
        the lookups run in C and only the new strings take the Python path.
        """
        index: dict[Any, int] = self._index
        index[None] = 0  # for the duration of the lookups only: None -> 0 in C
        try:
            out = list(map(index.get, texts))
            if None in out:  # new strings: intern them in one go, then look up again
                fresh = dict.fromkeys(compress(texts, map(operator.is_, out, repeat(None))))
                base = len(self.strings)
                index.update(zip(fresh, count(base)))
                self.strings.extend(fresh)  # type: ignore[arg-type]
                out = list(map(index.get, texts))
        finally:
            del index[None]
        return out  # type: ignore[return-value]

    def lookup(self, text: str) -> int:
        """The code of ``text``, or -1 when it never occurs (a predicate on it is then false)."""
        return self._index.get(text, -1)

    def __len__(self) -> int:
        return len(self.strings)

    def __getitem__(self, code: int) -> str:
        return self.strings[code]


@dataclass
class AttrColumns:
    """A CSR attribute store: the attributes of owner ``i`` are ``offsets[i]:offsets[i + 1]``.

    ``type`` holds an ``ATTR_*`` code; ints and bools live in ``ival``, floats in ``fval``,
    strings (and the JSON text of bytes/arrays/kvlists) as codes in ``sval``.
    """

    offsets: I64
    key: I32
    type: I8
    ival: I64
    fval: npt.NDArray[np.float64]
    sval: I32

    def owner_dict(self, owner: int, strings: StringTable) -> dict[str, AttrValue]:
        out: dict[str, AttrValue] = {}
        for j in range(int(self.offsets[owner]), int(self.offsets[owner + 1])):
            out[strings[int(self.key[j])]] = self.value(j, strings)
        return out

    def value(self, j: int, strings: StringTable) -> AttrValue:
        kind = int(self.type[j])
        if kind == ATTR_STR:
            return strings[int(self.sval[j])]
        if kind == ATTR_BOOL:
            return bool(self.ival[j])
        if kind == ATTR_INT:
            return int(self.ival[j])
        if kind == ATTR_FLOAT:
            return float(self.fval[j])
        if kind == ATTR_BYTES:
            return strings[int(self.sval[j])]
        decoded: list[Any] | dict[str, Any] = json.loads(strings[int(self.sval[j])])
        return decoded

    @property
    def nbytes(self) -> int:
        columns = (self.offsets, self.key, self.type, self.ival, self.fval, self.sval)
        return sum(a.nbytes for a in columns)


@dataclass
class EventView:
    """A span event, as the reference interpreter sees it."""

    row: int
    index: int
    name: str
    time: int
    attributes: dict[str, AttrValue]


@dataclass
class LinkView:
    """A span link: the target ids, its row in the table (-1 when not loaded) and attributes."""

    trace_id: str
    span_id: str
    row: int
    attributes: dict[str, AttrValue]
    trace_state: str = ""
    flags: int = 0


@dataclass
class SpanTable:
    """Columnar spans of many traces. See the module docstring for the layout."""

    strings: StringTable
    # per trace -------------------------------------------------------------------------
    trace_offsets: I64
    trace_id_hex: list[str]  # lowercase hex, or the lowercase raw text when malformed
    trace_id_bytes: npt.NDArray[np.uint8]  # (n_traces, 16), zero-padded on the left
    trace_id_len: I8  # decoded byte length, -1 when not hex
    # per span --------------------------------------------------------------------------
    trace_index: I32
    span_id: U64
    span_id_len: I8
    parent_span_id: U64
    parent_id_len: I8  # 0: no parent id (a root)
    parent: I64  # resolved row, ROOT or MISSING_PARENT
    depth: I32
    in_cycle: npt.NDArray[np.bool_]
    name: I32
    service: I32
    scope: I32
    kind: I8
    status: I8
    status_message: I32
    start: I64
    end: I64
    has_end: npt.NDArray[np.bool_]
    flags: npt.NDArray[np.uint32]
    trace_state: I32
    resource: I32  # row of the resource (a resource attribute set) of each span
    source: I32  # string code of the file each span came from
    attrs: AttrColumns  # span attributes, owner = span row
    resource_attrs: AttrColumns  # owner = resource index
    event_offsets: I64
    event_name: I32
    event_time: I64
    event_attrs: AttrColumns  # owner = global event index
    link_offsets: I64
    link_trace_id: I32  # string code of the lowercase hex trace id
    link_span_id: I32  # string code of the lowercase hex span id
    link_row: I64  # resolved row in this table, -1 when the target is not loaded
    link_attrs: AttrColumns  # owner = global link index
    #: original text of malformed or oddly sized ids: (row, "span"|"parent") -> text
    id_text: dict[tuple[int, str], str] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    #: per link: string code of its W3C trace state, and its flags (zero-length when a table
    #: was assembled without them; the builder always fills them)
    link_trace_state: I32 = field(default_factory=lambda: np.zeros(0, dtype=np.int32))
    link_flags: npt.NDArray[np.uint32] = field(default_factory=lambda: np.zeros(0, dtype=np.uint32))

    # ------------------------------------------------------------------ sizes and slicing
    @property
    def n_spans(self) -> int:
        return int(self.trace_index.shape[0])

    @property
    def n_traces(self) -> int:
        return int(self.trace_offsets.shape[0] - 1)

    def __len__(self) -> int:
        return self.n_spans

    def trace_rows(self, trace: int) -> range:
        """Rows of trace ``trace``."""
        return range(int(self.trace_offsets[trace]), int(self.trace_offsets[trace + 1]))

    def traces(self) -> Iterator[int]:
        return iter(range(self.n_traces))

    @property
    def nbytes(self) -> int:
        """Bytes held by the numpy columns (strings and Python side tables excluded)."""
        total = 0
        for value in self.__dict__.values():
            if isinstance(value, np.ndarray):
                total += value.nbytes
            elif isinstance(value, AttrColumns):
                total += value.nbytes
        return total

    # ------------------------------------------------------------------ whole-table helpers
    def take(self, traces: Sequence[int] | npt.NDArray[np.int64]) -> SpanTable:
        """The given traces as a new table; see :func:`workbench.traces.ops.take`."""
        from workbench.traces.ops import take

        return take(self, traces)

    def tile(self, copies: int) -> SpanTable:
        """Back-to-back copies (same ids); see :func:`workbench.traces.ops.tile`."""
        from workbench.traces.ops import tile

        return tile(self, copies)

    def replace(self, **changes: Any) -> SpanTable:
        """Some columns replaced, lengths checked; see :func:`workbench.traces.ops.replace`."""
        from workbench.traces.ops import replace

        return replace(self, **changes)

    @classmethod
    def from_records(cls, records: Any, source: str = "") -> SpanTable:
        """A table of :class:`~workbench.traces.records.SpanRecord` objects (see
        :func:`workbench.traces.records.to_table`)."""
        from workbench.traces.records import to_table

        return to_table(records, source)

    # ------------------------------------------------------------------ row accessors
    def span_id_hex(self, row: int) -> str:
        return self._id_hex(row, "span", self.span_id, self.span_id_len)

    def parent_id_hex(self, row: int) -> str:
        return self._id_hex(row, "parent", self.parent_span_id, self.parent_id_len)

    def _id_hex(self, row: int, which: str, ids: U64, lens: I8) -> str:
        text = self.id_text.get((row, which))
        if text is not None:
            return text
        n = int(lens[row])
        if n <= 0:
            return ""
        return format(int(ids[row]), f"0{2 * n}x")

    def name_of(self, row: int) -> str:
        return self.strings[int(self.name[row])]

    def service_of(self, row: int) -> str:
        return self.strings[int(self.service[row])]

    def kind_of(self, row: int) -> str:
        return KIND_NAMES[int(self.kind[row])]

    def status_of(self, row: int) -> str:
        return STATUS_NAMES[int(self.status[row])]

    def attributes_of(self, row: int) -> dict[str, AttrValue]:
        return self.attrs.owner_dict(row, self.strings)

    def resource_of(self, row: int) -> dict[str, AttrValue]:
        return self.resource_attrs.owner_dict(int(self.resource[row]), self.strings)

    def events_of(self, row: int) -> list[EventView]:
        out = []
        lo, hi = int(self.event_offsets[row]), int(self.event_offsets[row + 1])
        for k, j in enumerate(range(lo, hi)):
            out.append(
                EventView(
                    row=row,
                    index=k,
                    name=self.strings[int(self.event_name[j])],
                    time=int(self.event_time[j]),
                    attributes=self.event_attrs.owner_dict(j, self.strings),
                )
            )
        return out

    def links_of(self, row: int) -> list[LinkView]:
        out = []
        has_extra = self.link_trace_state.shape[0] == self.link_row.shape[0]
        for j in range(int(self.link_offsets[row]), int(self.link_offsets[row + 1])):
            out.append(
                LinkView(
                    trace_id=self.strings[int(self.link_trace_id[j])],
                    span_id=self.strings[int(self.link_span_id[j])],
                    row=int(self.link_row[j]),
                    attributes=self.link_attrs.owner_dict(j, self.strings),
                    trace_state=self.strings[int(self.link_trace_state[j])] if has_extra else "",
                    flags=int(self.link_flags[j]) if has_extra else 0,
                )
            )
        return out

    def children_rows(self) -> tuple[I64, I64]:
        """CSR of resolved children: children of row r are ``rows[offsets[r]:offsets[r+1]]``."""
        n = self.n_spans
        has = self.parent >= 0
        child = np.nonzero(has)[0].astype(np.int64)
        par = self.parent[has]
        order = np.argsort(par, kind="stable")
        rows = child[order]
        counts = np.bincount(par, minlength=n) if n else np.zeros(0, np.int64)
        offsets = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(counts, out=offsets[1:])
        return offsets, rows

    def row_summary(self, row: int) -> dict[str, Any]:
        """A JSON-friendly description of one span (used in witnesses and reports)."""
        return {
            "trace_id": self.trace_id_hex[int(self.trace_index[row])],
            "span_id": self.span_id_hex(row),
            "name": self.name_of(row),
            "service": self.service_of(row),
        }
