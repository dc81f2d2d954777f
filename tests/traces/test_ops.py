"""SpanTable.take / tile / replace / from_records agree with rebuilding the table from records."""

from __future__ import annotations

import numpy as np
import pytest

from workbench.datasets.faults import inject, parse_faults
from workbench.datasets.generator import generate
from workbench.datasets.writer import to_table as dataset_table
from workbench.traces.model import SpanTable
from workbench.traces.records import records_from_table, table_records


@pytest.fixture(scope="module")
def table() -> SpanTable:
    ds = generate(traces=100, seed=1)  # batch consumers link to spans of other traces
    inject(ds, parse_faults("all", 100, 0.6), seed=1)  # odd ids, orphans, cycles
    return dataset_table(ds)


def _structure(t: SpanTable) -> tuple[list[int], ...]:
    return (t.trace_offsets.tolist(), t.parent.tolist(), t.depth.tolist(),
            t.in_cycle.tolist(), t.link_row.tolist(), t.trace_index.tolist())


def test_take_equals_rebuilding_the_chosen_traces(table: SpanTable) -> None:
    rng = np.random.default_rng(0)
    chosen = rng.permutation(table.n_traces)[: table.n_traces // 2].tolist()
    part = table.take(chosen)
    assert part.trace_id_hex == [table.trace_id_hex[t] for t in chosen]
    assert table_records(part) == table_records(table, chosen)
    rebuilt = SpanTable.from_records(table_records(table, chosen))
    assert _structure(part) == _structure(rebuilt)
    assert part.id_text == rebuilt.id_text
    kept = table.link_row[table.link_row >= 0]
    assert kept.shape[0] and (part.link_row >= 0).sum() < kept.shape[0]  # some targets dropped


def test_take_rejects_bad_indices(table: SpanTable) -> None:
    with pytest.raises(IndexError, match="out of range"):
        table.take([0, table.n_traces])
    with pytest.raises(IndexError, match="repeated"):
        table.take([1, 1])
    assert table.take([]).n_spans == 0


def test_tile_copies_every_trace_into_its_own_block(table: SpanTable) -> None:
    tiled = table.tile(3)
    assert tiled.n_spans == 3 * table.n_spans and tiled.n_traces == 3 * table.n_traces
    m = table.n_traces
    for t in (0, m // 2, m - 1):
        want = records_from_table(table, t)
        for c in range(3):
            assert records_from_table(tiled, c * m + t) == want
    # pointers stay inside their copy
    n = table.n_spans
    rows = np.arange(tiled.n_spans)
    has = tiled.parent >= 0
    assert np.array_equal(tiled.parent[has] // n, rows[has] // n)
    assert np.array_equal(tiled.depth, np.tile(table.depth, 3))
    assert len(tiled.id_text) == 3 * len(table.id_text)
    with pytest.raises(ValueError, match="at least 1"):
        table.tile(0)


def test_replace_checks_column_lengths(table: SpanTable) -> None:
    moved = table.replace(start=table.start + 5, end=table.end + 5)
    assert np.array_equal(moved.start - table.start, np.full(table.n_spans, 5))
    assert moved.name is table.name
    with pytest.raises(ValueError, match="column start has 3 entries"):
        table.replace(start=np.zeros(3, np.int64))
    with pytest.raises(ValueError, match="no such field"):
        table.replace(colour=1)
