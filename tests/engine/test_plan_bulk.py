"""The bulk steps of the table index agree with the plain numpy (or Python) they replace."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from workbench.engine.plan import _by_trace_then_time
from workbench.engine.plan_sites import _hex16, unique_codes
from workbench.engine.text_bulk import TextBatch, arrow_strings, utf8_block


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 50), st.lists(st.tuples(st.integers(0, 49), st.integers(-2**62, 2**62)),
                                    max_size=300), st.booleans())
def test_timeline_order_is_lexsort(n_traces: int, points: list[tuple[int, int]],
                                   narrow: bool) -> None:
    trace = np.asarray([t % n_traces for t, _ in points], dtype=np.int64)
    time = np.asarray([v % 1000 if narrow else v for _, v in points], dtype=np.int64)
    got = _by_trace_then_time(trace, time)
    assert got.tolist() == np.lexsort((time, trace)).tolist()


@settings(max_examples=40, deadline=None)
@given(hnp.arrays(np.int64, st.integers(0, 9000), elements=st.integers(0, 20000)))
def test_unique_codes_is_unique(codes: np.ndarray) -> None:
    got = unique_codes(codes)
    assert got.dtype == np.int64 and got.tolist() == np.unique(codes).tolist()


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 2**64 - 1), max_size=50))
def test_hex16_is_format(values: list[int]) -> None:
    got = _hex16(np.asarray(values, dtype=np.uint64))
    assert [bytes(x).decode() for x in got] == [f"{v:016x}" for v in values]
    texts = _hex16(np.asarray(sorted(values), dtype=np.uint64)).tolist()
    assert texts == sorted(texts)  # numeric order is text order (blocks are kept sorted)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(max_size=8), max_size=40))
def test_utf8_block_and_arrow_strings(texts: list[str]) -> None:
    batch = TextBatch(texts)
    block = utf8_block(batch)
    try:
        encoded = [t.encode("utf-8") for t in texts]
    except UnicodeEncodeError:
        assert block is None
        return
    assert block is not None and utf8_block(batch) is block  # kept by the batch
    data, offsets = block
    assert [data[a:b].tobytes() for a, b in itertools.pairwise(offsets.tolist())] == encoded
    pa = pytest.importorskip("pyarrow")
    assert arrow_strings(pa, texts).to_pylist() == texts
