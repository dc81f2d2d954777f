"""Builder and model pieces the decoders rely on (bulk interning, block appends, id parsing)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.traces.builder import AttrBuilder, TableBuilder
from workbench.traces.model import StringTable
from workbench.traces.resolve import parse_id, parse_ids


def test_codes_matches_code() -> None:
    bulk, single = StringTable(), StringTable()
    texts = ["a", None, "b", "a", "", "c", None, "b"]
    assert bulk.codes(texts) == [0 if t is None else single.code(t) for t in texts]
    assert bulk.strings == single.strings
    assert bulk.codes(["c", "d"]) == [3, 4] and bulk.lookup("d") == 4
    assert None not in bulk._index


def test_append_columns_keeps_order_with_push() -> None:
    strings = StringTable()
    ab = AttrBuilder(strings)
    ab.push_all([("x", 1)])
    ab.append_columns(
        [2, 0], strings.codes(["y", "z"]), [0, 2], [0, 5], [0.0, 5.0], strings.codes(["v", None])
    )
    ab.push_all([("w", True)])
    cols = ab.columns()
    assert cols.offsets.tolist() == [0, 1, 3, 3, 4]
    assert [cols.owner_dict(i, strings) for i in range(4)] == [
        {"x": 1},
        {"y": "v", "z": 5},
        {},
        {"w": True},
    ]
    assert ab.n_owners == 4


ids = st.one_of(
    st.binary(min_size=8, max_size=8).map(bytes.hex),
    st.binary(min_size=8, max_size=8).map(lambda b: b.hex().upper()),
    st.text(alphabet="0123456789abcdefxyz -", max_size=18),
    st.just(""),
    st.just("0" * 16),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(ids, max_size=12))
def test_vectorized_id_parsing_matches_parse_id(texts: list[str]) -> None:
    vals, lens, kept = parse_ids(texts)
    for i, text in enumerate(texts):
        value, length, keep = parse_id(text, 8)
        assert (int(vals[i]), int(lens[i]), kept.get(i)) == (value, length, keep)


def test_build_merges_trace_id_case_and_links() -> None:
    b = TableBuilder()
    r = b.add_resource([("service.name", "s")])
    b.add_span(
        trace_id="AB" * 16,
        span_id="00000000000000a1",
        resource=r,
        start=2,
        links=[("ab" * 16, "00000000000000A2", [("k", "v")], "ts", 3)],
    )
    b.add_span(trace_id="ab" * 16, span_id="00000000000000a2", resource=r, start=1)
    table = b.build()
    assert table.trace_id_hex == ["ab" * 16] and table.n_traces == 1
    (link,) = table.links_of(1)
    assert (link.row, link.trace_state, link.flags, link.attributes) == (0, "ts", 3, {"k": "v"})
    assert np.array_equal(table.trace_offsets, [0, 2])


def test_span_index_hash_join_matches_sorted_lookup(monkeypatch: pytest.MonkeyPatch) -> None:
    """The compiled hash join of large tables answers as the sorted lookup: first duplicate,
    spans without an id never found, masked queries ROOT."""
    from workbench.traces import resolve

    rng = np.random.default_rng(7)
    n = 5_000
    trace = rng.integers(0, 60, n).astype(np.int32)
    val = rng.integers(0, 2**63, n).astype(np.uint64)
    val[1::50], trace[1::50] = val[0::50], trace[0::50]  # duplicated (trace, id) pairs
    length = np.full(n, 8, dtype=np.int8)
    length[::13] = 0
    pick = rng.integers(0, n, 2 * n)
    q_trace, q_val = trace[pick].astype(np.int64), val[pick].copy()
    q_val[::5] ^= np.uint64(99)  # unknown ids
    q_mask = rng.random(2 * n) < 0.9
    monkeypatch.setattr(resolve, "HASH_MIN_ROWS", 10**12)
    expected = resolve.SpanIndex(trace, val, length).lookup(q_trace, q_val, q_mask)
    monkeypatch.setattr(resolve, "HASH_MIN_ROWS", 0)
    hashed = resolve.SpanIndex(trace, val, length)
    assert hashed.hashed
    got = hashed.lookup(q_trace, q_val, q_mask)
    assert got.tolist() == expected.tolist()
    assert (got == resolve.MISSING_PARENT).any() and (got == resolve.ROOT).any()
