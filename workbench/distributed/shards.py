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
from dataclasses import dataclass, field, replace
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
class ShardResult:
    """A shard's traces and verdicts, in the shard's own trace order."""

    keys: list[SortKey] = field(default_factory=list)
    trace_ids: list[str] = field(default_factory=list)
    n_spans: list[int] = field(default_factory=list)
    sources: list[list[str]] = field(default_factory=list)
    #: property name -> (backend, reason, seconds, {local trace: witnesses (trace-relative rows)})
    failed: dict[str, tuple[str, str, float, dict[int, list[Witness]]]] = field(
        default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    worker: str = ""
    seconds: float = 0.0


def _relative(witnesses: list[Witness], offset: int) -> list[Witness]:
    """Witnesses whose span rows are made relative to their trace's first row."""
    out = []
    for w in witnesses:
        binds = tuple((name, replace(ref, row=ref.row - offset)) for name, ref in w.bindings)
        out.append(replace(w, bindings=binds))
    return out


def _check_table(
    spec: ir.Spec,
    table: SpanTable,
    keys: list[SortKey],
    params: dict[str, Any],
    backend: str,
    properties: Sequence[str] | None,
) -> ShardResult:
    from workbench.engine import check
    from workbench.report.model import trace_sources

    started = time.perf_counter()
    result = check(spec, table, params, backend=backend, properties=properties)
    out = ShardResult(keys=keys, trace_ids=list(table.trace_id_hex),
                      n_spans=np.diff(table.trace_offsets).astype(int).tolist(),
                      sources=trace_sources(result), diagnostics=list(table.diagnostics),
                      timings=dict(result.timings))
    offsets = table.trace_offsets
    for res in result.results:
        wit = {t: _relative(res.witnesses.get(t, []), int(offsets[t]))
               for t in res.failed_traces}
        out.failed[res.name] = (res.backend, res.reason, res.seconds, wit)
    out.seconds = time.perf_counter() - started
    out.worker = _worker_name()
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


def check_parquet(
    path: str,
    partitions: Sequence[int],
    spec: ir.Spec,
    params: dict[str, Any],
    backend: str,
    properties: Sequence[str] | None,
) -> ShardResult:
    """Check partitions of a converted dataset; a malformed partition becomes a diagnostic."""
    import pyarrow.dataset as pads

    from workbench.datasets.parquet import load_parquet

    where = f"spans/part={','.join(str(p) for p in partitions)}"
    try:
        table = load_parquet(path, partitions=list(partitions))
        data = pads.dataset(Path(path) / "spans", format="parquet", partitioning="hive")
        rows = data.to_table(columns=["row"], filter=pads.field("part").isin(list(partitions)))
        old_rows = np.sort(rows["row"].to_numpy())
    except Exception as err:  # a corrupt file must not sink the run: report it
        return ShardResult(diagnostics=[Diagnostic(
            path, where, f"partition could not be read ({type(err).__name__}: {err}); "
            "its traces were not checked (re-run `otlspec convert`)", "error")])
    table.diagnostics = []  # the dataset's diagnostics are reported once, by the driver
    keys = [(0, int(old_rows[int(o)])) for o in table.trace_offsets[:-1]]
    return _check_table(spec, table, keys, params, backend, properties)


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


def load_file(path: str, max_bytes: int | None) -> SpanTable | list[Diagnostic]:
    """One parsed file, or its diagnostics when nothing in it could be read."""
    from workbench.traces import load_traces

    try:
        return load_traces([path], max_bytes=max_bytes)
    except TraceInputError as err:
        return list(err.diagnostics)


def file_index(table: SpanTable | list[Diagnostic]) -> list[str]:
    """The trace ids of a parsed file, in first-appearance order (what the shuffle keys on)."""
    return [] if isinstance(table, list) else list(table.trace_id_hex)


def check_files(
    indices: Sequence[int],
    paths: Sequence[str],
    ids: Sequence[Sequence[str]],
    spec: ir.Spec,
    params: dict[str, Any],
    backend: str,
    properties: Sequence[str] | None,
    max_bytes: int | None,
    parsed: SpanTable | list[Diagnostic] | None = None,
) -> ShardResult:
    """Check a group of files that share traces.

    ``ids`` are each file's trace ids in first-appearance order (from :func:`file_index`);
    ``parsed`` is the one file of a single-file group, already read on this worker.
    """
    from workbench.traces import load_traces

    if parsed is None:
        try:
            parsed = load_traces(list(paths), max_bytes=max_bytes)
        except TraceInputError as err:
            parsed = list(err.diagnostics)
    if isinstance(parsed, list):
        return ShardResult(diagnostics=parsed)
    # the sort key of a trace: the first file (in input order) it appears in, and its rank
    # among that file's traces, which is the order the single-process builder gives it
    first: dict[str, SortKey] = {}
    for i, file_ids in zip(indices, ids, strict=True):
        for rank, tid in enumerate(file_ids):
            first.setdefault(tid, (i, rank))
    keys = [first[tid] for tid in parsed.trace_id_hex]
    return _check_table(spec, parsed, keys, params, backend, properties)
