"""What one Dask task does: read a shard of whole traces, check it, return a small result.

A *shard* is a set of input units that together hold whole traces: one or more Parquet
partitions of an ``otlspec convert`` dataset (partitioned by trace-id hash, so each partition
already holds whole traces), or a group of plain trace files (OTLP, Jaeger, Zipkin) that share
trace ids. Tasks are pure functions of their arguments, so Dask can recompute one on another
worker when a worker dies; the driver merges each shard's result exactly once.

Rows are reported relative to their trace (``row - first row of the trace``) and traces carry a
sort key (the position the single-process loader gives them), so the driver can rebuild the
global trace numbering and row numbers of a single-process run.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from workbench.engine.base import Witness
from workbench.errors import Diagnostic, TraceInputError
from workbench.lang import ir
from workbench.traces.model import SpanTable

#: A trace's sort key: (input unit, first appearance in it). For Parquet the unit is 0 and the
#: position is the trace's first row in the converted table; for files it is (file index, rank).
SortKey = tuple[int, int]


@dataclass
class TaskStat:
    """What one check task measured on its worker (summed per worker by the driver)."""

    worker: str = ""
    seconds: float = 0.0  #: wall time of the task
    cpu_seconds: float = 0.0  #: CPU time of the task's process (all its threads)
    read_seconds: float = 0.0  #: of ``seconds``: reading or joining the shard's input
    spans: int = 0  #: spans checked
    peak_rss_mb: float = 0.0  #: the worker process's peak resident memory when it ended


@dataclass
class ShardResult:
    """A shard's listed traces and verdicts, in the shard's own trace order.

    Like the JSON report (schema v2), a result scales with what it says: by default it lists
    only the traces that fail some property (with their witnesses) and *counts* the others
    (``total_traces``, ``total_spans``); with ``verdicts="all"`` it lists every trace. Per-trace
    data travel as numpy arrays and one list of ids, so many traces pickle in one buffer per
    column rather than millions of small objects.

    Witness rows are rebuilt at the end from ``unit_offset`` (spans before the trace in its
    input unit: the first file a trace appears in, or for Parquet the trace's first row in the
    converted table) and ``unit_spans`` (spans per file unit; empty for Parquet), so the row
    numbers of the single-process table need no per-trace data of passing traces.
    """

    #: (n, 2) sort keys, see :data:`SortKey`
    keys: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), dtype=np.int64))
    trace_ids: list[str] = field(default_factory=list)
    n_spans: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    #: the files of trace t are ``src_names[c]`` for c in ``src_codes[src_offsets[t]:...[t+1]]``
    src_offsets: np.ndarray = field(default_factory=lambda: np.zeros(1, dtype=np.int64))
    src_codes: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int32))
    src_names: list[str] = field(default_factory=list)
    #: per listed trace: spans before it in its input unit (``keys[:, 0]``)
    unit_offset: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    #: (m, 2): (unit, spans of the traces whose sort key is in that unit); empty for Parquet,
    #: whose unit offsets are already rows of the whole converted table
    unit_spans: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), dtype=np.int64))
    total_traces: int = 0  #: traces checked, listed or not
    total_spans: int = 0  #: spans checked, listed or not
    #: property name -> (backend, reason, seconds, {local trace: witnesses (trace-relative rows)})
    failed: dict[str, tuple[str, str, float, dict[int, list[Witness]]]] = field(
        default_factory=dict)
    #: with the input unit (file index; 0 for Parquet) each came from, for a stable order
    diagnostics: list[tuple[int, Diagnostic]] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    #: one entry per check task merged into this result (one for a shard; a reduction's
    #: result lists the tasks of every shard below it, in shard order)
    tasks: list[TaskStat] = field(default_factory=list)


def _relative(witnesses: list[Witness], offset: int) -> list[Witness]:
    """Witnesses whose span rows are made relative to their trace's first row."""
    from workbench.distributed.merge import shift_rows

    return [shift_rows(w, -offset) for w in witnesses]


def _check_table(
    spec: ir.Spec,
    table: SpanTable,
    keys: np.ndarray,
    params: dict[str, Any],
    backend: str,
    properties: Sequence[str] | None,
    diagnostics: list[tuple[int, Diagnostic]],
    verdicts: str = "failed",
    file_units: bool = False,
) -> ShardResult:
    from workbench.engine import check
    from workbench.report.model import TraceSources

    result = check(spec, table, params, backend=backend, properties=properties)
    offsets = table.trace_offsets
    n_spans = np.diff(offsets).astype(np.int64)
    keys = np.asarray(keys, dtype=np.int64).reshape(-1, 2)
    if file_units:  # spans before each trace among the traces of its first file
        unit_offset, unit_spans = _unit_offsets(keys, n_spans)
    else:  # Parquet: the key is the trace's first row in the whole converted table
        unit_offset, unit_spans = keys[:, 1].copy(), np.zeros((0, 2), dtype=np.int64)
    failing = sorted({t for res in result.results for t in res.failed_traces})
    listed = np.arange(table.n_traces, dtype=np.int64) if verdicts == "all" else \
        np.asarray(failing, dtype=np.int64)
    local = {int(t): i for i, t in enumerate(listed.tolist())}
    sources = TraceSources(table)
    counts = np.diff(sources.offsets)[listed]
    src_offsets = np.zeros(listed.shape[0] + 1, dtype=np.int64)
    np.cumsum(counts, out=src_offsets[1:])
    from workbench.distributed.merge import gather_runs

    src = sources.codes[gather_runs(sources.offsets[:-1][listed], counts)]
    used, codes = np.unique(src, return_inverse=True)
    ids = table.trace_id_hex
    out = ShardResult(keys=keys[listed], trace_ids=[ids[t] for t in listed.tolist()],
                      n_spans=n_spans[listed], src_offsets=src_offsets,
                      src_codes=codes.astype(np.int32).reshape(-1),
                      src_names=[table.strings[int(c)] for c in used],
                      unit_offset=unit_offset[listed], unit_spans=unit_spans,
                      total_traces=table.n_traces, total_spans=table.n_spans,
                      diagnostics=diagnostics, timings=dict(result.timings))
    for res in result.results:
        wit = {local[t]: _relative(res.witnesses.get(t, []), int(offsets[t]))
               for t in res.failed_traces}
        out.failed[res.name] = (res.backend, res.reason, res.seconds, wit)
    return out


def _unit_offsets(keys: np.ndarray, n_spans: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per trace, the spans of the traces before it in its unit (same ``keys[:, 0]``, smaller
    ``keys[:, 1]``), and the spans per unit as (unit, spans) rows. Every trace whose first
    file is a unit lands in the shard of that file, so both are complete for the unit."""
    n = keys.shape[0]
    if not n:
        return np.zeros(0, dtype=np.int64), np.zeros((0, 2), dtype=np.int64)
    order = np.lexsort((keys[:, 1], keys[:, 0]))
    units, start, per = np.unique(keys[order, 0], return_index=True, return_counts=True)
    spans = n_spans[order]
    before = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(spans, out=before[1:])
    group_start = np.repeat(before[start], per)
    unit_offset = np.empty(n, dtype=np.int64)
    unit_offset[order] = before[:-1] - group_start
    totals = np.add.reduceat(spans, start) if n else np.zeros(0, np.int64)
    return unit_offset, np.stack([units, totals], axis=1).astype(np.int64)


class _Clock:
    """Times a task (wall and process CPU) and stamps its result with the worker's name."""

    def __init__(self) -> None:
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        self.read = 0.0

    def read_done(self) -> None:
        self.read = time.perf_counter() - self.wall

    def stamp(self, out: ShardResult) -> ShardResult:
        import resource

        out.tasks = [TaskStat(
            worker=_worker_name(), seconds=time.perf_counter() - self.wall,
            cpu_seconds=time.process_time() - self.cpu, read_seconds=self.read,
            spans=int(out.total_spans),
            peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)]
        return out


def _worker_name() -> str:
    try:
        from distributed import get_worker

        return str(get_worker().address)
    except (ImportError, ValueError):
        return f"pid:{os.getpid()}"


# ----------------------------------------------------------------------------- Parquet


def is_parquet_dataset(path: str) -> bool:
    """Whether ``path`` is a directory written by ``otlspec convert``."""
    meta = Path(path) / "meta.json"
    return meta.is_file() and (Path(path) / "spans").is_dir()


def parquet_partitions(path: str) -> list[int]:
    """The partition numbers present in a converted dataset (``spans/part=NN``)."""
    parts = []
    for entry in sorted((Path(path) / "spans").iterdir()):
        name, _, value = entry.name.partition("=")
        if entry.is_dir() and name == "part" and value.isdigit():
            parts.append(int(value))
    return sorted(parts)


def partition_bytes(path: str, partition: int) -> int:
    """The size on disk of one partition (what the shard planner balances)."""
    folder = Path(path) / "spans" / f"part={partition}"
    return sum(f.stat().st_size for f in folder.glob("*.parquet"))


def check_parquet(
    path: str,
    partitions: Sequence[int],
    spec: ir.Spec,
    params: dict[str, Any],
    backend: str,
    properties: Sequence[str] | None,
    verdicts: str = "failed",
) -> ShardResult:
    """Check partitions of a converted dataset, read and checked together (one engine call:
    its fixed cost is paid once per shard, not once per partition); a partition that cannot
    be read becomes a diagnostic and the others are still checked."""
    import pyarrow.dataset as pads

    from workbench.datasets.parquet import load_parquet

    clock = _Clock()
    problems: list[tuple[int, Diagnostic]] = []
    good = list(partitions)
    table = old_rows = None
    while good and table is None:
        try:
            table = load_parquet(path, partitions=good)
            data = pads.dataset(Path(path) / "spans", format="parquet", partitioning="hive")
            rows = data.to_table(columns=["row"], filter=pads.field("part").isin(good))
            old_rows = np.sort(rows["row"].to_numpy())
        except Exception:  # find the partitions at fault, one by one, and keep the rest
            table = None
            why = {p: _unreadable(path, p) for p in good}
            bad = [p for p in good if why[p]] or good
            for p in bad:
                reason = why[p] or "the partitions could not be read together"
                problems.append((0, Diagnostic(
                    path, f"spans/part={p}", f"partition could not be read ({reason}); its "
                    "traces were not checked (re-run `otlspec convert`)", "error")))
            good = [p for p in good if p not in bad]
    if table is None or old_rows is None:
        return clock.stamp(ShardResult(diagnostics=problems))
    clock.read_done()
    table.diagnostics = []  # the dataset's diagnostics are reported once, by the driver
    keys = np.zeros((table.n_traces, 2), dtype=np.int64)
    keys[:, 1] = old_rows[table.trace_offsets[:-1]] if table.n_traces else 0
    return clock.stamp(_check_table(spec, table, keys, params, backend, properties, problems,
                                    verdicts))


def _unreadable(path: str, partition: int) -> str:
    """Why one partition cannot be read, or "" when it can."""
    from workbench.datasets.parquet import load_parquet

    try:
        load_parquet(path, partitions=[partition])
    except Exception as err:
        return f"{type(err).__name__}: {err}"
    return ""


# ----------------------------------------------------------------------------- plain files


def expand_sources(sources: Iterable[str]) -> tuple[list[str], list[Diagnostic]]:
    """The trace files the sources name, in the order :func:`workbench.traces.load_traces`
    reads them."""
    import glob as globlib

    from workbench.traces import TRACE_SUFFIXES

    files: list[str] = []
    problems: list[Diagnostic] = []
    for text in sources:
        path = Path(text)
        if text == "-":
            problems.append(Diagnostic("<stdin>", "", "stdin cannot be read by a cluster; "
                                       "write it to a file first", "error"))
        elif path.is_dir():
            found = sorted(p for p in path.rglob("*")
                           if p.is_file() and p.name.lower().endswith(TRACE_SUFFIXES))
            if not found:
                problems.append(Diagnostic(text, "", "directory holds no trace files", "error"))
            files.extend(str(p) for p in found)
        elif path.exists():
            files.append(text)
        else:
            matches = sorted(globlib.glob(text, recursive=True))
            if not matches:
                problems.append(Diagnostic(text, "", "no such file or pattern", "error"))
            files.extend(m for m in matches if Path(m).is_file())
    return files, problems


def _register_sizeof() -> None:
    """Tell Dask what a parsed table weighs (columns plus ~50 B per string), so its memory
    accounting, its transfer log and its placement of tasks near their data see real sizes
    instead of the few bytes of a generic object."""
    try:
        from dask.sizeof import sizeof
    except ImportError:  # pragma: no cover - only workers call this, and they have Dask
        return

    @sizeof.register(SpanTable)
    def _table_bytes(table: SpanTable) -> int:
        return int(table.nbytes) + 50 * (len(table.strings.strings) + table.n_traces)


def load_file(path: str, max_bytes: int | None) -> SpanTable | list[Diagnostic]:
    """One parsed file, or its diagnostics when nothing in it could be read."""
    from workbench.traces import load_traces

    _register_sizeof()
    try:
        return load_traces([path], max_bytes=max_bytes)
    except TraceInputError as err:
        return list(err.diagnostics)


def file_index(table: SpanTable | list[Diagnostic]) -> tuple[list[str], int]:
    """The trace ids of a parsed file, in first-appearance order (what the shuffle keys on),
    and its span count (what the shard planner balances)."""
    return ([], 0) if isinstance(table, list) else (list(table.trace_id_hex), table.n_spans)


def check_files(
    indices: Sequence[int],
    ids: Sequence[Sequence[str]],
    parsed: Sequence[SpanTable | list[Diagnostic]],
    spec: ir.Spec,
    params: dict[str, Any],
    backend: str,
    properties: Sequence[str] | None,
    verdicts: str = "failed",
) -> ShardResult:
    """Join and check parsed files that together hold whole traces.

    ``indices`` are the files' positions in the input (ascending), ``ids`` each file's trace
    ids in first-appearance order (from :func:`file_index`) and ``parsed`` the tables of
    :func:`load_file`; Dask brings those parsed on other workers here (the shuffle). The
    tables are joined (:func:`workbench.distributed.tables.concat_tables`) and checked in one
    engine call.
    """
    from workbench.distributed.tables import concat_tables

    clock = _Clock()
    problems: list[tuple[int, Diagnostic]] = []
    tables: list[SpanTable] = []
    for i, item in zip(indices, parsed, strict=True):
        if isinstance(item, list):
            problems.extend((i, d) for d in item)
        else:
            problems.extend((i, d) for d in item.diagnostics)
            tables.append(item)
    if not tables:
        return clock.stamp(ShardResult(diagnostics=problems))
    table = concat_tables(tables)
    clock.read_done()
    # the sort key of a trace: the first file (in input order) it appears in, and its rank
    # among that file's traces, which is the order the single-process builder gives it
    first: dict[str, SortKey] = {}
    for i, file_ids in zip(indices, ids, strict=True):
        for rank, tid in enumerate(file_ids):
            first.setdefault(tid, (i, rank))
    keys = np.asarray([first[tid] for tid in table.trace_id_hex], dtype=np.int64).reshape(-1, 2)
    return clock.stamp(_check_table(spec, table, keys, params, backend, properties, problems,
                                    verdicts, file_units=True))
