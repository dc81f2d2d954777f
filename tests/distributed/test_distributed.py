"""Distributed checking on a real 2-worker Dask LocalCluster equals the single-process run."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path
from typing import Any

import pytest

from tests.distributed.conftest import REAL
from workbench.cli import EXIT_ERROR, main
from workbench.engine import check
from workbench.lang import load_specs
from workbench.report.model import build_report
from workbench.traces import load_traces

pytestmark = pytest.mark.timeout(240)


def _untimed(rep: dict[str, Any]) -> dict[str, Any]:
    """A report without its timings (the only part that differs between runs)."""
    rep.pop("timings", None)
    for p in rep["properties"]:
        p.pop("seconds", None)
    return rep


def _single(spec: Any, inputs: list[str], verdicts: str = "all") -> dict[str, Any]:
    table = load_traces(inputs)
    rep = build_report(check(spec, table, backend="numba"), trace_inputs=inputs,
                       diagnostics=table.diagnostics, verdicts=verdicts)
    return _untimed(rep)


def _distributed(client: Any, spec: Any, inputs: list[str], verdicts: str = "all",
                 **kw: Any) -> dict[str, Any]:
    """The report of a distributed run whose shards send up what ``verdicts`` needs (every
    trace, or only the failing ones and counts)."""
    from workbench.distributed import check_distributed

    result, diags = check_distributed(client, spec, inputs, backend="numba", verdicts=verdicts,
                                      **kw)
    rep = build_report(result, trace_inputs=inputs, diagnostics=diags, verdicts=verdicts)
    return _untimed(rep)


def _parquet_single(spec: Any, table: Any, path: Path, verdicts: str) -> dict[str, Any]:
    rep = build_report(check(spec, table, backend="numba"), trace_inputs=[str(path)],
                       diagnostics=table.diagnostics, verdicts=verdicts)
    return _untimed(rep)


def test_two_workers_equal_single_process_on_generated(client: Any, generated: Path) -> None:
    spec = load_specs(["stdlib"])
    inputs = [str(generated)]
    single = _single(spec, inputs)
    assert single["summary"]["violations"] > 0  # faults were injected: witnesses to compare
    assert _distributed(client, spec, inputs) == single
    # the default: only failing traces (and counts) travel, and the report is the same
    assert _distributed(client, spec, inputs, "failed") == _single(spec, inputs, "failed")


def test_two_workers_equal_single_process_on_parquet(client: Any, generated: Path,
                                                     tmp_path: Path) -> None:
    from workbench.datasets.parquet import write_parquet

    spec = load_specs(["stdlib"])
    table = load_traces([str(generated)])
    write_parquet(table, tmp_path / "pq", partitions=5)
    for verdicts in ("all", "failed"):
        single = _parquet_single(spec, table, tmp_path / "pq", verdicts)
        assert _distributed(client, spec, [str(tmp_path / "pq")], verdicts) == single


def test_cli_workers_two_equals_single_process_on_real(tmp_path: Path) -> None:
    """``otlspec check --workers 2`` writes the same JSON report as the plain run."""
    args = ["check", "stdlib", str(REAL), "--format", "json", "--no-progress",
            "--verdicts", "all", "--backend", "numba"]
    one, two = tmp_path / "one.json", tmp_path / "two.json"
    code_one = main([*args, "-o", str(one)])
    code_two = main([*args, "--workers", "2", "-o", str(two)])
    assert code_one == code_two
    a, b = json.loads(one.read_text()), json.loads(two.read_text())
    _untimed(a)
    _untimed(b)
    assert a["input"]["traces"] > 10
    assert a == b


def test_params_and_property_selection(client: Any, generated: Path) -> None:
    spec = load_specs(["stdlib.timing"])
    inputs = [str(generated)]
    table = load_traces(inputs)
    names = [p.name for p in spec.properties][:3]
    expected = build_report(check(spec, table, {"skew": "1ms"}, properties=names, backend="numba"),
                            trace_inputs=inputs, diagnostics=table.diagnostics, verdicts="all")
    _untimed(expected)
    got = _distributed(client, spec, inputs, params={"skew": "1ms"}, properties=names)
    assert got == expected
    assert [p["name"] for p in got["properties"]] == names


def test_malformed_partition_is_reported_and_the_rest_checked(client: Any, generated: Path,
                                                              tmp_path: Path) -> None:
    from workbench.datasets.parquet import load_parquet, write_parquet
    from workbench.distributed.shards import parquet_partitions

    spec = load_specs(["stdlib.structure"])
    write_parquet(load_traces([str(generated)]), tmp_path / "pq", partitions=4)
    parts = parquet_partitions(str(tmp_path / "pq"))
    bad = parts[1]
    for f in (tmp_path / "pq" / "spans" / f"part={bad}").glob("*.parquet"):
        f.write_bytes(b"this is not parquet")
    good = [p for p in parts if p != bad]
    rest = load_parquet(tmp_path / "pq", partitions=good)
    got = _distributed(client, spec, [str(tmp_path / "pq")])
    errors = [d for d in got["input"]["diagnostics"]
              if d["severity"] == "error" and d["file"] == str(tmp_path / "pq")]
    assert len(errors) == 1 and f"part={bad}" in errors[0]["path"]
    assert got["summary"]["input_errors"] >= 1
    assert got["input"]["traces"] == rest.n_traces
    want = build_report(check(spec, rest, backend="numba"), verdicts="all")
    verdicts = {(p["name"], t["trace_id"]): t["verdict"]
                for p in want["properties"] for t in p["traces"]}
    assert {(p["name"], t["trace_id"]): t["verdict"]
            for p in got["properties"] for t in p["traces"]} == verdicts


def test_malformed_file_is_reported(client: Any, generated: Path, tmp_path: Path) -> None:
    spec = load_specs(["stdlib.structure"])
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    inputs = [str(generated), str(bad)]
    single = _single(spec, inputs)
    got = _distributed(client, spec, inputs)
    assert got["summary"]["input_errors"] >= 1
    assert got["properties"] == single["properties"]


@pytest.mark.slow
def test_killed_worker_is_replaced_and_report_identical(generated: Path) -> None:
    """SIGKILL one worker after the first shard arrives: Dask recomputes its lost tasks on the
    restarted worker and the merged report is identical (nothing lost, nothing twice)."""
    from workbench.distributed import RunStats, check_distributed, connect

    spec = load_specs(["stdlib"])
    inputs = [str(generated)]
    single = _single(spec, inputs)
    with connect(workers=2) as c:
        pids = c.run(os.getpid)
        victim = next(iter(pids.values()))
        killed: list[int] = []

        def on_progress(done: int, total: int) -> None:
            if not killed:
                os.kill(victim, signal.SIGKILL)
                killed.append(victim)

        # small shards merged by a tree of combine tasks: the kill also hits pending combines
        stats = RunStats()
        result, diags = check_distributed(c, spec, inputs, backend="numba",
                                          progress=on_progress, max_shard_spans=200,
                                          merge_fan_in=2, stats=stats, verdicts="all")
        assert stats.reduce_tasks > 0
        assert killed
        assert victim not in c.run(os.getpid).values()  # the nanny started a fresh worker
    rep = build_report(result, trace_inputs=inputs, diagnostics=diags, verdicts="all")
    assert _untimed(rep) == single


@pytest.mark.slow
def test_many_shards_per_worker_equal_single_process(client: Any, generated: Path,
                                                     tmp_path: Path) -> None:
    """More shards than workers: file groups and partitions are split several ways, parsed
    tables are fetched across workers, and the merged report is still the single-process one."""
    from workbench.datasets.parquet import write_parquet

    spec = load_specs(["stdlib"])
    inputs = [str(generated)]
    assert _distributed(client, spec, inputs, shards_per_worker=3) == _single(spec, inputs)
    table = load_traces(inputs)
    write_parquet(table, tmp_path / "pq", partitions=7)
    single = build_report(check(spec, table, backend="numba"), trace_inputs=[str(tmp_path / "pq")],
                          diagnostics=table.diagnostics, verdicts="all")
    got = _distributed(client, spec, [str(tmp_path / "pq")], shards_per_worker=3)
    assert got == _untimed(single)


def test_bounded_shards_and_tree_merge_equal_single_process(client: Any, generated: Path,
                                                            tmp_path: Path) -> None:
    """A shard bound far below the input size makes one shard per partition (and many file
    shards), merged by a tree of combine tasks on the workers: still the single-process
    report."""
    from workbench.datasets.parquet import write_parquet
    from workbench.distributed import RunStats

    spec = load_specs(["stdlib"])
    inputs = [str(generated)]
    stats = RunStats()
    got = _distributed(client, spec, inputs, max_shard_spans=100, merge_fan_in=2, stats=stats)
    assert stats.shards > 2 and stats.reduce_tasks > 0
    assert got == _single(spec, inputs)
    got = _distributed(client, spec, inputs, "failed", max_shard_spans=100, merge_fan_in=2)
    assert got == _single(spec, inputs, "failed")
    table = load_traces(inputs)
    write_parquet(table, tmp_path / "pq", partitions=7)
    single = build_report(check(spec, table, backend="numba"), trace_inputs=[str(tmp_path / "pq")],
                          diagnostics=table.diagnostics, verdicts="all")
    stats = RunStats()
    got = _distributed(client, spec, [str(tmp_path / "pq")], max_shard_spans=1, merge_fan_in=2,
                       stats=stats)
    assert stats.shards == 7 and stats.reduce_tasks == 4 + 2  # 7 -> 4 -> 2 -> the driver
    assert got == _untimed(single)
    got = _distributed(client, spec, [str(tmp_path / "pq")], "failed", max_shard_spans=1,
                       merge_fan_in=2)
    assert got == _parquet_single(spec, table, tmp_path / "pq", "failed")


def test_cli_max_shard_spans_bounds_the_shards(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """``--max-shard-spans`` reaches the runner, and the bounded run's default (failing
    verdicts) report equals the single-process one."""
    import workbench.distributed as dist

    seen: list[Any] = []
    real = dist.check_distributed

    def spy(*args: Any, **kw: Any) -> Any:
        stats = dist.RunStats()
        out = real(*args, stats=stats, **kw)
        seen.append((kw.get("max_shard_spans"), kw.get("verdicts"), stats.shards))
        return out

    monkeypatch.setattr(dist, "check_distributed", spy)
    args = ["check", "stdlib", str(REAL), "--format", "json", "--no-progress",
            "--backend", "numba"]
    one, two = tmp_path / "one.json", tmp_path / "two.json"
    assert main([*args, "-o", str(one)]) == main(
        [*args, "--workers", "2", "--max-shard-spans", "50", "-o", str(two)])
    assert seen and seen[0][:2] == (50, "failed") and seen[0][2] > 2
    a, b = json.loads(one.read_text()), json.loads(two.read_text())
    assert _untimed(a) == _untimed(b)
    # the bound needs --workers/--cluster
    assert main([*args, "--max-shard-spans", "100", "-o", str(two)]) == EXIT_ERROR
