"""The ordered combine of shard results (no cluster): associative, and equal to one process."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from workbench.distributed.merge import combine, finish
from workbench.distributed.runner import _bounded, _tree_size
from workbench.distributed.shards import ShardResult, check_parquet, parquet_partitions
from workbench.engine import bind, check
from workbench.lang import load_specs
from workbench.report.model import build_report
from workbench.traces import load_traces


def _report(result: Any, verdicts: str = "all") -> dict[str, Any]:
    rep = build_report(result, verdicts=verdicts)
    rep.pop("timings", None)
    for p in rep["properties"]:
        p.pop("seconds", None)
    return rep


@pytest.fixture(scope="module")
def leaves(generated: Path, tmp_path_factory: pytest.TempPathFactory
           ) -> tuple[Any, list[ShardResult], dict[str, Any]]:
    """One shard result per partition of a 5-partition dataset, and the single-process
    report on the same table."""
    from workbench.datasets.parquet import write_parquet

    spec = bind(load_specs(["stdlib"]), {})
    table = load_traces([str(generated)])
    out = tmp_path_factory.mktemp("pq")
    write_parquet(table, out, partitions=5)
    parts = [check_parquet(str(out), [p], spec, {}, "numba", None, "all")
             for p in parquet_partitions(str(out))]
    return spec, parts, _report(check(spec, table, backend="numba"))


def test_failing_only_results_merge_to_the_single_process_report(
        generated: Path, tmp_path: Path) -> None:
    """Shards that send only their failing traces and counts: fewer traces travel, and the
    report of failing verdicts (counts, ids, sources, witness rows) is the single-process one,
    for Parquet partitions and for straddling files."""
    from workbench.datasets.parquet import write_parquet
    from workbench.distributed.runner import _groups
    from workbench.distributed.shards import check_files, file_index, load_file

    spec = bind(load_specs(["stdlib"]), {})
    table = load_traces([str(generated)])
    single = _report(check(spec, table, backend="numba"), "failed")
    write_parquet(table, tmp_path / "pq", partitions=5)
    parts = [check_parquet(str(tmp_path / "pq"), [p], spec, {}, "numba", None)
             for p in parquet_partitions(str(tmp_path / "pq"))]
    merged = combine(combine(parts[0], parts[1]), combine(*parts[2:]))
    assert 0 < len(merged.trace_ids) < table.n_traces == merged.total_traces
    assert _report(finish(spec, merged, None), "failed") == single
    files = sorted(str(f) for f in generated.rglob("*.json")
                   if f.name != "manifest.json" and "labels" not in f.name)
    parsed = [load_file(f, None) for f in files]
    ids = [file_index(t)[0] for t in parsed]
    shards = [check_files(g, [ids[i] for i in g], [parsed[i] for i in g], spec, {}, "numba",
                          None) for g in _groups(ids)]
    assert any(len(g) > 1 for g in _groups(ids))  # the split file's two halves go together
    files_single = _report(check(spec, load_traces(files), backend="numba"), "failed")
    assert _report(finish(spec, combine(*shards), None), "failed") == files_single


def test_combine_of_all_shards_equals_single_process(leaves: Any) -> None:
    spec, parts, single = leaves
    assert single["summary"]["violations"] > 0
    assert _report(finish(spec, combine(*parts), None)) == single


def test_combine_is_associative_over_contiguous_runs(leaves: Any) -> None:
    spec, parts, single = leaves
    flat = combine(*parts)
    nested = combine(combine(parts[0], parts[1]), combine(parts[2], combine(parts[3], parts[4])))
    assert nested.trace_ids == flat.trace_ids
    assert (nested.keys == flat.keys).all() and (nested.n_spans == flat.n_spans).all()
    assert nested.failed.keys() == flat.failed.keys()
    assert len(nested.tasks) == len(parts)
    assert _report(finish(spec, nested, None)) == single


def test_combine_of_nothing_is_empty() -> None:
    empty = combine()
    assert empty.trace_ids == [] and empty.failed == {}


def test_shard_bound_and_tree_size() -> None:
    assert _bounded(10_000_000, 1_000_000) == 10
    assert _bounded(10_000_001, 1_000_000) == 11
    assert _bounded(5, None) == 1
    assert _tree_size(8, 8) == 0  # the driver merges 8 results itself
    assert _tree_size(9, 8) == 2  # 9 -> 2 combines
    assert _tree_size(100, 8) == 13 + 2  # 100 -> 13 -> 2


def test_a_checked_shard_table_is_freed(generated: Path) -> None:
    """A worker checks shard after shard: the table of a checked shard (and the engine's
    index of it) must not outlive its task, or a worker's memory grows with every shard."""
    import gc
    import weakref

    import numpy as np

    from workbench.distributed.shards import _check_table

    spec = load_specs(["stdlib.structure"])
    table = load_traces([str(generated)])
    keys = np.zeros((table.n_traces, 2), dtype=np.int64)
    out = _check_table(spec, table, keys, {}, "numba", None, [])
    assert out.failed
    alive = weakref.ref(table)
    del table
    gc.collect()
    assert alive() is None
