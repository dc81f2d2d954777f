"""The column-at-a-time :meth:`TableBuilder.build` gives exactly the table of the previous build
(``build_reference.py``): every column with its dtype, the string table, the kept id texts and
the diagnostics, on generated and fault-injected data in shuffled span orders and pieces."""

from __future__ import annotations

import dataclasses
import json
import random
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.traces.build_reference import reference_build
from workbench.datasets.faults import inject, parse_faults
from workbench.datasets.generator import generate
from workbench.datasets.writer import otlp_json
from workbench.traces import load_bytes
from workbench.traces.builder import TableBuilder
from workbench.traces.model import MISSING_PARENT, AttrColumns, SpanTable
from workbench.traces.records import table_records
from workbench.traces.records import to_table as records_table
from workbench.traces.resolve import permute_csr, sort_order


def _same_array(name: str, a: np.ndarray, b: np.ndarray) -> None:
    assert a.dtype == b.dtype, f"{name}: dtype {a.dtype} != {b.dtype}"
    assert a.shape == b.shape, f"{name}: shape {a.shape} != {b.shape}"
    # bytewise: NaN payloads and -0.0 must be kept too
    assert np.ascontiguousarray(a).tobytes() == np.ascontiguousarray(b).tobytes(), name


def assert_identical(new: SpanTable, old: SpanTable) -> None:
    """Every field of the two tables is identical (arrays bytewise, with their dtypes)."""
    assert list(new.strings) == list(old.strings)
    for f in dataclasses.fields(SpanTable):
        a, b = getattr(new, f.name), getattr(old, f.name)
        if f.name == "strings":
            continue
        if isinstance(a, np.ndarray):
            _same_array(f.name, a, b)
        elif isinstance(a, AttrColumns):
            for g in dataclasses.fields(AttrColumns):
                _same_array(f"{f.name}.{g.name}", getattr(a, g.name), getattr(b, g.name))
        else:
            assert a == b, f.name


def _both(fill: Callable[[TableBuilder], Any]) -> tuple[SpanTable, SpanTable]:
    """The table of the new and of the reference build, each from a fresh builder."""
    new_b, old_b = TableBuilder(), TableBuilder()
    fill(new_b)
    fill(old_b)
    return new_b.build(), reference_build(old_b)


def _faulty_docs(seed: int, traces: int = 40) -> list[dict[str, Any]]:
    ds = generate(traces=traces, seed=seed)
    inject(ds, parse_faults("all", traces, 0.6), seed=seed)  # odd ids, orphans, cycles
    return [otlp_json(ds, ds.traces[i : i + 7]) for i in range(0, len(ds.traces), 7)]


def _shuffled(doc: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """``doc`` with its resources, scopes and spans in a shuffled order."""
    doc = json.loads(json.dumps(doc))
    rng.shuffle(doc["resourceSpans"])
    for rs in doc["resourceSpans"]:
        rng.shuffle(rs["scopeSpans"])
        for ss in rs["scopeSpans"]:
            rng.shuffle(ss["spans"])
    return doc


def _loader(docs: list[dict[str, Any]]) -> Callable[[TableBuilder], None]:
    data = [json.dumps(d).encode() for d in docs]

    def fill(b: TableBuilder) -> None:
        for k, raw in enumerate(data):
            load_bytes(raw, f"piece-{k}.json", "otlp-json", b)

    return fill


@pytest.mark.parametrize("seed", [1, 2, 7])
def test_generated_faulty_pieces_build_identically(seed: int) -> None:
    load = _loader(_faulty_docs(seed, traces=100))

    def fill(b: TableBuilder) -> None:
        load(b)
        res = b.add_resource([("service.name", "odd")])
        for k in range(7):  # over-long and non-hex ids: kept texts and warnings
            b.add_span(trace_id="Ab" * 16, span_id="f" * (70 + k), parent_id="not-hex",
                       start=-k, resource=res, path=f"spans[{k}]", line=k,
                       links=[("AB" * 16, "f" * 70, [("weight", k)]), ("12" * 16, "34" * 8, [])])
        load(b)  # the same spans again: duplicate ids

    new, old = _both(fill)
    assert new.n_spans > 100 and len(new.diagnostics) >= 6 and new.id_text
    assert new.event_attrs.key.shape[0] and new.link_attrs.key.shape[0]
    assert (new.link_row >= 0).any()
    assert (new.parent == MISSING_PARENT).any() and new.in_cycle.any()  # faults came through
    assert_identical(new, old)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), pieces=st.integers(1, 6))
def test_shuffled_span_orders_build_identically(seed: int, pieces: int) -> None:
    rng = random.Random(seed)
    docs = [_shuffled(d, rng) for d in _faulty_docs(seed % 5 + 1, traces=20)]
    merged: list[dict[str, Any]] = [{"resourceSpans": []} for _ in range(pieces)]
    for d in docs:
        for rs in d["resourceSpans"]:
            merged[rng.randrange(pieces)]["resourceSpans"].append(rs)
    new, old = _both(_loader(merged))
    assert_identical(new, old)


def test_spans_in_trace_order_are_not_moved() -> None:
    """Spans added in (trace, start) order take the no-permutation path, same table."""
    base = records_table(table_records(_table_of(_faulty_docs(3))))
    recs = table_records(base)

    def fill(b: TableBuilder) -> None:
        res = b.add_resource([("service.name", "svc")])
        for i, r in enumerate(recs):
            if i % 500 == 250:  # split the attribute store into several pieces
                for store in (b.attrs, b.event_attrs, b.link_attrs):
                    store.append_columns([], [], [], [], [], [])
            b.add_span(trace_id=r.trace_id, span_id=r.span_id, parent_id=r.parent_id,
                       name=r.name, start=r.start, end=r.end, resource=res,
                       attributes=r.attributes.items(),
                       events=[(n, t, a.items()) for n, t, a in r.events],
                       links=[(t, s, a.items()) for t, s, a in r.links])

    probe = TableBuilder()
    fill(probe)
    cols = probe._joined()
    from workbench.traces.blocks import trace_index_numeric

    trace_input, _ = trace_index_numeric(cols["trace_hi"], cols["trace_lo"], cols["trace_odd"])
    assert sort_order(trace_input, cols["start"]) is None
    assert probe.attrs.n_owners == len(recs) and len(probe.attrs.take_pieces()) > 2
    new, old = _both(fill)
    assert new.n_spans == len(recs) and int(new.attrs.key.shape[0]) > new.n_spans
    assert_identical(new, old)


def test_large_build_path_gives_memory_back_and_builds_identically(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The large-table path (trimming between steps, the hashed parent and link join) gives
    the table the reference build gives through the sorted join."""
    import workbench.traces.builder as builder_module
    from workbench.traces import resolve

    calls: list[int] = []
    monkeypatch.setattr(builder_module, "TRIM_MIN_SPANS", 0)
    monkeypatch.setattr(builder_module, "release_memory", lambda: calls.append(1))
    fill = _loader(_faulty_docs(1, traces=100))
    new_b, old_b = TableBuilder(), TableBuilder()
    fill(new_b)
    fill(old_b)
    monkeypatch.setattr(resolve, "HASH_MIN_ROWS", 0)
    new = new_b.build()
    monkeypatch.setattr(resolve, "HASH_MIN_ROWS", 10**12)
    old = reference_build(old_b)
    assert (new.link_row >= 0).any() and (new.parent == MISSING_PARENT).any()
    assert len(calls) >= 5 + 3  # one per attribute column, and between the steps
    assert_identical(new, old)


def _table_of(docs: list[dict[str, Any]]) -> SpanTable:
    b = TableBuilder()
    _loader(docs)(b)
    return b.build()


def test_empty_and_single_span_build_identically() -> None:
    new, old = _both(lambda b: None)
    assert new.n_spans == 0
    assert_identical(new, old)

    def one(b: TableBuilder) -> None:
        b.add_span(trace_id="ab" * 16, span_id="cd" * 8, resource=b.add_resource([]),
                   attributes=[("k", 1.5)])

    new, old = _both(one)
    assert new.n_spans == 1
    assert_identical(new, old)


def test_sort_order_compares_extreme_start_times_without_overflow() -> None:
    lo, hi = np.iinfo(np.int64).min, np.iinfo(np.int64).max
    # a difference hi -> lo would wrap around to +1 and look sorted
    order = sort_order(np.zeros(2, np.int32), np.array([hi, lo], dtype=np.int64))
    assert order is not None and order.tolist() == [1, 0]
    assert sort_order(np.array([0, 0, 1], np.int32), np.array([lo, hi, lo])) is None
    assert sort_order(np.array([0, 1, 0], np.int32), np.zeros(3, np.int64)) is not None


def test_permute_csr_moves_segments_and_releases_the_sources() -> None:
    counts = np.array([2, 0, 3, 1], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    m = int(offsets[-1])
    cols = AttrColumns(offsets=offsets, key=np.arange(m, dtype=np.int32),
                       type=np.arange(m, dtype=np.int8), ival=np.arange(m, dtype=np.int64) * 10,
                       fval=np.arange(m, dtype=np.float64) / 2, sval=-np.arange(m, dtype=np.int32))
    key_before = cols.key
    order = np.array([2, 3, 1, 0], dtype=np.int64)
    out = permute_csr(cols, order)
    assert out.offsets.tolist() == [0, 3, 4, 4, 6]
    assert out.key.tolist() == [2, 3, 4, 5, 0, 1] and out.key.dtype == np.int32
    assert out.ival.tolist() == [20, 30, 40, 50, 0, 10]
    assert out.fval.tolist() == [1.0, 1.5, 2.0, 2.5, 0.0, 0.5]
    assert out.key is not key_before and key_before.tolist() == list(range(6))  # source intact
    assert permute_csr(out, None) is out


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_segment_scatter_numpy_and_compiled_agree(seed: int) -> None:
    from workbench.traces.kernels_permute import segment_scatter

    rng = np.random.default_rng(seed)
    counts = rng.integers(0, 4, size=50)
    offsets = np.zeros(51, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    base = int(rng.integers(0, 5))
    local = offsets + base  # a piece: offsets local to src, not starting at 0
    src = rng.integers(-1000, 1000, size=int(offsets[-1]) + base + 3)
    order = rng.permutation(50)
    new_offsets = np.zeros(51, dtype=np.int64)
    np.cumsum(counts[order], out=new_offsets[1:])
    inverse = np.empty(50, dtype=np.int64)
    inverse[order] = np.arange(50)
    dest = new_offsets[:-1][inverse]
    got = {}
    for compiled in (False, True):
        out = np.full(int(offsets[-1]), -9999, dtype=src.dtype)
        segment_scatter(src, local, dest, out, compiled=compiled)
        got[compiled] = out
    expected = np.concatenate([src[local[j]:local[j + 1]] for j in order]) if counts.sum() \
        else np.zeros(0, dtype=src.dtype)
    assert np.array_equal(got[False], expected) and np.array_equal(got[True], expected)
