"""Parquet round trips, column by column."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("pyarrow")

from tests.datasets.compare import assert_tables_equal
from workbench.cli import main
from workbench.datasets.parquet import load_parquet, partition_of, write_parquet
from workbench.traces import load_traces
from workbench.traces.records import records_from_table

ROOT = Path(__file__).resolve().parents[2]


def test_real_traces_round_trip(tmp_path: Path) -> None:
    table = load_traces([str(ROOT / "datasets" / "real")])
    write_parquet(table, tmp_path, partitions=5)
    back = load_parquet(tmp_path)
    checked = assert_tables_equal(table, back)
    assert len(checked) == 40
    assert table.id_text and back.id_text == table.id_text  # malformed ids kept


def test_generated_faulty_traces_round_trip(tmp_path: Path,
                                            faulty_dataset: tuple[Path, object]) -> None:
    path, _ = faulty_dataset
    table = load_traces([str(path / "traces")])
    write_parquet(table, tmp_path / "pq", partitions=4)
    assert_tables_equal(table, load_parquet(tmp_path / "pq"))


def test_partitions_hold_whole_traces(tmp_path: Path,
                                      faulty_dataset: tuple[Path, object]) -> None:
    path, _ = faulty_dataset
    table = load_traces([str(path / "traces")])
    write_parquet(table, tmp_path, partitions=4)
    part = load_parquet(tmp_path, partitions=[1, 3])
    expect = [t for t in range(table.n_traces)
              if partition_of(table.trace_id_hex[t], 4) in (1, 3)]
    assert part.trace_id_hex == [table.trace_id_hex[t] for t in expect]
    for k, t in enumerate(expect):
        a = records_from_table(table, t)
        b = records_from_table(part, k)
        assert a == b


def test_convert_command(tmp_path: Path) -> None:
    src = ROOT / "datasets" / "real" / "opentelemetry-proto" / "trace.json"
    assert main(["convert", str(src), "--out", str(tmp_path), "--partitions", "2"]) == 0
    assert_tables_equal(load_traces([str(src)]), load_parquet(tmp_path))
