"""Column-by-column comparison of two span tables (string columns by text)."""

from __future__ import annotations

from dataclasses import fields

import numpy as np

from workbench.traces.model import AttrColumns, SpanTable

#: Columns holding string codes (compared by the text they decode to).
STRING_COLUMNS = {"name", "service", "scope", "status_message", "trace_state", "source",
                  "event_name", "link_trace_id", "link_span_id", "link_trace_state"}


def _attrs(a: AttrColumns, sa: SpanTable, b: AttrColumns, sb: SpanTable, where: str) -> None:
    assert np.array_equal(a.offsets, b.offsets), f"{where}.offsets"
    for col in ("type", "ival"):
        assert np.array_equal(getattr(a, col), getattr(b, col)), f"{where}.{col}"
    assert np.array_equal(a.fval, b.fval, equal_nan=True), f"{where}.fval"
    for col in ("key", "sval"):
        ta = [sa.strings[int(c)] for c in getattr(a, col)]
        tb = [sb.strings[int(c)] for c in getattr(b, col)]
        assert ta == tb, f"{where}.{col}"


def assert_tables_equal(a: SpanTable, b: SpanTable) -> list[str]:
    """Assert every column of ``a`` equals ``b``'s; returns the names of the columns checked."""
    checked = []
    for f in fields(SpanTable):
        name = f.name
        if name == "strings":
            continue
        va, vb = getattr(a, name), getattr(b, name)
        if name in STRING_COLUMNS:
            assert [a.strings[int(c)] for c in va] == [b.strings[int(c)] for c in vb], name
        elif isinstance(va, AttrColumns):
            _attrs(va, a, vb, b, name)
        elif isinstance(va, np.ndarray):
            assert va.dtype == vb.dtype, f"{name}: dtype {va.dtype} != {vb.dtype}"
            assert np.array_equal(va, vb), name
        else:
            assert va == vb, name
        checked.append(name)
    return checked
