"""Column-wise values of pure one-span terms: equality classes as ``int64`` codes per row.

The grouped evaluators (:mod:`workbench.engine.grouped`) only need to know *which rows share a
key*, not the keys themselves. This module gives each row of a table the code of its value's
equality class (``==`` of :mod:`workbench.engine.values`), computed without a Python call per
row wherever the term allows it:

* a bare span field (``s.span_id``, ``s.service``, ``s.duration``, ...) reads its column: string
  fields are already dictionary codes, numbers are numbers, ids are ``uint64``; the rare rows
  whose value the column does not determine (a malformed id kept as text) are evaluated one by
  one and merged into the same code space;
* any other pure term (``canon(s.service)``, ``lower(s.name)``, ``s.duration > $slow``) is a
  function of the columns it reads, so it is evaluated by the reference interpreter **once per
  distinct tuple of those columns** (a representative row each) and the results are
  dictionary-encoded; a term reading something the columns do not cover (an attribute, an
  unknown field) falls back to one evaluation per row, which is exact and as fast as before.

Every value comes from the reference interpreter's own functions, so the classes are those the
nested loops would see.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt

from workbench.engine import reference
from workbench.engine.values import UNDEF
from workbench.lang import ir
from workbench.lang.walk import postorder
from workbench.traces.context import TraceContext
from workbench.traces.model import SpanTable

I64 = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]


@dataclass
class Classes:
    """Equality classes of a term's value on every row.

    ``codes[r]`` is the class of row ``r`` (meaningless where ``undefined[r]``); ``values`` maps
    a class to one of its values when the classes were built from values (``None`` when they
    came straight from a column, for the bare-field fast path).
    """

    codes: I64
    undefined: Bools
    values: list[Any] | None


# ----------------------------------------------------------------------------- inputs


def _event_count(t: SpanTable) -> tuple[I64]:
    return (np.diff(t.event_offsets),)


def _link_count(t: SpanTable) -> tuple[I64]:
    return (np.diff(t.link_offsets),)


def _attr_count(t: SpanTable) -> tuple[I64]:
    return (np.diff(t.attrs.offsets),)


#: The columns that determine each span field's value (besides per-row id text, see below).
_FIELD_INPUTS: dict[str, Callable[[SpanTable], tuple[npt.NDArray[Any], ...]]] = {
    "trace_id": lambda t: (t.trace_index,),
    "span_id": lambda t: (t.span_id, t.span_id_len),
    "parent_id": lambda t: (t.parent_span_id, t.parent_id_len),
    "name": lambda t: (t.name,),
    "kind": lambda t: (t.kind,),
    "status": lambda t: (t.status,),
    "status_message": lambda t: (t.status_message,),
    "start": lambda t: (t.start,),
    "end": lambda t: (t.end, t.has_end),
    "duration": lambda t: (t.end - t.start, t.has_end),
    "service": lambda t: (t.service,),
    "scope": lambda t: (t.scope,),
    "depth": lambda t: (t.depth,),
    "is_root": lambda t: (t.parent_id_len == 0,),
    "has_end": lambda t: (t.has_end,),
    "flags": lambda t: (t.flags,),
    "sampled": lambda t: (t.flags & 1,),
    "trace_state": lambda t: (t.trace_state,),
    "event_count": _event_count,
    "link_count": _link_count,
    "attribute_count": _attr_count,
}

#: Fields whose column tuple is *injective* on values (distinct tuples, distinct values), so
#: the tuple code is the class itself; ``undefined`` rows are those without an end.
_DIRECT = {"name", "kind", "status", "status_message", "start", "service", "scope", "depth",
           "is_root", "has_end", "flags", "sampled", "trace_state", "event_count",
           "link_count", "attribute_count", "trace_id"}
_NEEDS_END = {"end", "duration"}
_IDS = {"span_id": ("span_id", "span_id_len"), "parent_id": ("parent_span_id", "parent_id_len")}


def _factorize(cols: list[npt.NDArray[Any]], n: int) -> tuple[I64, I64]:
    """Codes of the row tuples of ``cols`` (``0..k-1``, in the tuples' lexicographic order) and
    a representative row per code (its first row).

    One sort per column and one per further column to combine the codes; the last sort also
    gives the first row of each code.
    """
    if n == 0 or not cols:
        return np.zeros(n, dtype=np.int64), np.zeros(1 if n and not cols else 0, dtype=np.int64)
    codes: I64 | None = None
    first: I64 = np.zeros(0, dtype=np.int64)
    for col in cols:
        _, idx, inv = np.unique(np.asarray(col).reshape(-1), return_index=True,
                                return_inverse=True)
        inv = inv.reshape(-1).astype(np.int64)
        if codes is None:
            codes, first = inv, idx
            continue
        width = int(inv.max()) + 1
        _, idx, combined = np.unique(codes * width + inv, return_index=True,
                                     return_inverse=True)
        codes, first = combined.reshape(-1).astype(np.int64), idx
    assert codes is not None
    return codes, first.astype(np.int64)


def _inputs(term: ir.Node, var: str, table: SpanTable) -> list[npt.NDArray[Any]] | None:
    """The columns ``term`` reads of span ``var``, or ``None`` when they cannot be listed."""
    cols: list[npt.NDArray[Any]] = []
    for node in postorder(term):
        if isinstance(node, ir.Field):
            if node.base != ir.Var(var) or node.name not in _FIELD_INPUTS:
                return None
            cols.extend(_FIELD_INPUTS[node.name](table))
            if node.name in _IDS and _id_text_rows(table, node.name).size:
                return None  # malformed ids are kept as text per row
        elif isinstance(node, ir.Var):
            continue  # the base of a field, checked above; a bare span var is not pure here
        elif isinstance(node, (ir.Attr, ir.Aggregate, ir.Quant, ir.Comprehension, ir.Rel)):
            return None
    return cols


def _id_text_rows(table: SpanTable, field: str) -> I64:
    which = field
    rows = [r for (r, w) in table.id_text if w == which]
    return np.asarray(sorted(rows), dtype=np.int64)


class _LazyContext(TraceContext):
    """A :class:`TraceContext` whose row list is built on first use: a pure term evaluated
    on a few representative rows never reads it (a 1M-span trace's list costs ~20 ms)."""

    def __init__(self, table: SpanTable, trace: int) -> None:
        self.table = table
        self.trace = trace

    @cached_property
    def rows(self) -> list[int]:  # type: ignore[override]
        return list(self.table.trace_rows(self.trace))


def _evaluator(table: SpanTable, params: Mapping[str, Any]
               ) -> Callable[[ir.Node, str, int], Any]:
    """``(term, var, row) -> value`` by the reference interpreter, one context per trace."""
    interps: dict[int, reference.Interpreter] = {}
    trace_index = table.trace_index

    def value(term: ir.Node, var: str, row: int) -> Any:
        t = int(trace_index[row])
        interp = interps.get(t)
        if interp is None:
            interp = interps[t] = reference.Interpreter(_LazyContext(table, t), params)
        return interp.value(term, {var: row}, 0)

    return value


def _encode(values: list[Any]) -> tuple[I64, list[Any], Bools]:
    """Dictionary-encode values by equality: codes, one value per code, undefined mask."""
    from workbench.engine.grouped import _hashable

    index: dict[Any, int] = {}
    reps: list[Any] = []
    codes = np.empty(len(values), dtype=np.int64)
    undefined = np.zeros(len(values), dtype=np.bool_)
    for i, v in enumerate(values):
        if v is UNDEF:
            undefined[i] = True
            codes[i] = -1
            continue
        h = _hashable(v)
        c = index.get(h)
        if c is None:
            c = index[h] = len(reps)
            reps.append(v)
        codes[i] = c
    return codes, reps, undefined


# ----------------------------------------------------------------------------- classes


def classes(term: ir.Node, var: str, table: SpanTable, params: Mapping[str, Any]) -> Classes:
    """Equality classes of the pure term ``term`` (of span ``var``) on every row of ``table``."""
    n = table.n_spans
    if isinstance(term, ir.Field) and term.base == ir.Var(var):
        fast = _field_classes(term.name, table, params, var, term)
        if fast is not None:
            return fast
    value = _evaluator(table, params)
    cols = _inputs(term, var, table)
    if cols is None:  # one evaluation per row
        codes, reps, undefined = _encode([value(term, var, r) for r in range(n)])
        return Classes(codes, undefined, reps)
    inputs, rep_rows = _factorize(cols, n)
    codes, reps, undefined = _encode([value(term, var, int(r)) for r in rep_rows])
    return Classes(codes[inputs] if n else codes, undefined[inputs] if n else undefined, reps)


def _field_classes(name: str, table: SpanTable, params: Mapping[str, Any], var: str,
                   term: ir.Node) -> Classes | None:
    n = table.n_spans
    if name in _DIRECT:
        (col,) = _FIELD_INPUTS[name](table)
        return Classes(np.asarray(col).astype(np.int64), np.zeros(n, dtype=np.bool_), None)
    if name in _NEEDS_END:
        col, has_end = _FIELD_INPUTS[name](table)
        return Classes(np.asarray(col).astype(np.int64), ~np.asarray(has_end, dtype=np.bool_),
                       None)
    if name in _IDS:
        return _id_classes(name, table, params, var, term)
    return None


def _id_classes(name: str, table: SpanTable, params: Mapping[str, Any], var: str,
                term: ir.Node) -> Classes:
    """Span or parent ids: 8-byte ids by their ``uint64``, every other row by its text.

    A text that is 16 lowercase hex digits is the text of an 8-byte id, so it joins that id's
    class; any other text gets a class of its own above every 8-byte class (codes are offset
    by the id range, kept disjoint by a separate tag column).
    """
    ids_name, lens_name = _IDS[name]
    ids = np.asarray(getattr(table, ids_name))
    lens = np.asarray(getattr(table, lens_name))
    odd = lens != 8
    odd[_id_text_rows(table, name)] = True
    tag = np.zeros(table.n_spans, dtype=np.int64)  # 0: an 8-byte id; 1: a text class
    key = ids.view(np.int64).copy()
    if odd.any():
        value = _evaluator(table, params)
        texts: dict[str, int] = {}
        for r in np.nonzero(odd)[0].tolist():
            text = value(term, var, r)
            if isinstance(text, str) and len(text) == 16 and text == text.lower() and all(
                    c in "0123456789abcdef" for c in text):
                key[r] = np.uint64(int(text, 16)).view(np.int64)
                continue
            tag[r] = 1
            key[r] = texts.setdefault(text, len(texts))
    codes, _ = _factorize([tag, key], table.n_spans)
    return Classes(codes, np.zeros(table.n_spans, dtype=np.bool_), None)


def holds(formula: ir.Node, var: str, table: SpanTable, params: Mapping[str, Any]) -> Bools:
    """Whether the pure formula ``formula`` (of span ``var``) holds on each row."""
    n = table.n_spans
    interps: dict[int, reference.Interpreter] = {}

    def check(row: int) -> bool:
        t = int(table.trace_index[row])
        interp = interps.get(t)
        if interp is None:
            interp = interps[t] = reference.Interpreter(_LazyContext(table, t), params)
        return bool(interp.holds(formula, {var: row}, 0))

    cols = _inputs(formula, var, table)
    if cols is None:
        return np.fromiter((check(r) for r in range(n)), dtype=np.bool_, count=n)
    inputs, rep_rows = _factorize(cols, n)
    per = np.fromiter((check(int(r)) for r in rep_rows), dtype=np.bool_, count=rep_rows.size)
    return per[inputs] if n else per
