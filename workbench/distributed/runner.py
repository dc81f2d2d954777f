"""Check specs on a Dask cluster, sharded by trace id, and merge into the single-process report.

Plan of a run
-------------
1. **Shards.** A Parquet dataset from ``otlspec convert`` is already partitioned by trace-id
   hash: one task per partition, no shuffle. Plain trace files are parsed in parallel (one task
   per file, the parsed table stays on its worker), each file's trace ids come back to the
   driver, and files that share a trace id are grouped (union-find), so every trace lands
   whole in one shard. A single-file group is checked where it was parsed; a multi-file group
   is re-read together on one worker (that is the shuffle, and its cost is measured).
2. **Check.** Each task runs :func:`workbench.engine.check` (the compiled backend, with its
   per-property fallback) on its shard.
3. **Merge.** Traces are put back in the order the single-process loader gives them and rows
   renumbered, so verdicts, witnesses and their order equal a single-process run.

Dask recomputes the tasks of a worker that dies (their inputs are paths, the lineage is short);
each task's result is gathered once, so nothing is counted twice. A partition or file that
cannot be read becomes an error diagnostic and the rest of the run goes on.

The language has no cross-trace properties: ``linked(s)`` ranges over spans *of the same
trace* (links to other traces are ignored, docs/language.md), and quantifiers range over one
trace, so sharding whole traces is exact for every property.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from workbench.distributed import shards
from workbench.engine.base import CheckResult, PropertyResult, Witness
from workbench.errors import Diagnostic, OtlspecError
from workbench.lang import ir


class DistributedError(OtlspecError):
    """The cluster could not be used (no Dask, unreachable scheduler, bad options)."""


def _dask() -> Any:
    try:
        import distributed
    except ImportError as err:
        raise DistributedError(
            "--cluster/--workers need Dask: pip install 'otlspec[dist]'") from err
    return distributed


@contextlib.contextmanager
def connect(cluster: str | None = None, workers: int | None = None) -> Iterator[Any]:
    """A Dask client: on the scheduler at ``cluster``, or on a new LocalCluster of ``workers``
    single-threaded worker processes."""
    distributed = _dask()
    if cluster:
        try:
            client = distributed.Client(cluster, timeout="10s")
        except OSError as err:
            raise DistributedError(f"--cluster {cluster}: cannot reach the scheduler ({err})"
                                   ) from err
        with client:
            yield client
        return
    if workers is None or workers < 1:
        raise DistributedError("--workers must be a positive number of worker processes")
    local = distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                     dashboard_address=":0", silence_logs=40)
    with local, distributed.Client(local) as client:
        yield client


def dashboard_link(client: Any) -> str | None:
    """The Dask dashboard address, when the scheduler serves one (needs bokeh)."""
    try:
        link = client.dashboard_link
    except Exception:  # no dashboard module installed on the scheduler
        return None
    return str(link) if link else None


class MergedTable:
    """What the report reads of a table (``n_traces``, ``n_spans``, ``trace_id_hex`` and the
    source files of each trace), rebuilt from the shards without gathering their spans.

    ``source`` and ``trace_index`` hold one entry per (trace, source file) pair, in row order,
    rather than one per span: that is all :class:`workbench.report.model.TraceSources` reads.
    """

    def __init__(self, trace_ids: list[str], n_spans: int, sources: list[list[str]]) -> None:
        from workbench.traces.model import StringTable

        self.trace_id_hex = trace_ids
        self._n_spans = n_spans
        self.strings = StringTable()
        counts = np.asarray([len(s) for s in sources], dtype=np.int64)
        self._offsets = np.zeros(len(sources) + 1, dtype=np.int64)
        np.cumsum(counts, out=self._offsets[1:])
        self.trace_index = np.repeat(np.arange(len(sources), dtype=np.int32), counts)
        self.source = np.asarray(
            self.strings.codes([name for names in sources for name in names]), dtype=np.int32)
        self.diagnostics: list[Diagnostic] = []

    @property
    def n_traces(self) -> int:
        return len(self.trace_id_hex)

    @property
    def n_spans(self) -> int:
        return self._n_spans if self.source.shape[0] else 0

    def trace_rows(self, trace: int) -> range:
        """The (trace, source) entries of ``trace`` (not span rows)."""
        return range(int(self._offsets[trace]), int(self._offsets[trace + 1]))


@dataclass
class RunStats:
    """What a distributed run measured (seconds, counts); for the benchmark and the CLI."""

    shards: int = 0
    files: int = 0
    grouped_files: int = 0
    index_s: float = 0.0
    check_s: float = 0.0
    merge_s: float = 0.0
    total_s: float = 0.0
    per_worker_s: dict[str, float] = field(default_factory=dict)
    per_worker_spans: dict[str, int] = field(default_factory=dict)
    dashboard: str | None = None


def _groups(ids: list[list[str]]) -> list[list[int]]:
    """Files that share a trace id, transitively (union-find), each group in input order."""
    parent = list(range(len(ids)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    owner: dict[str, int] = {}
    for i, file_ids in enumerate(ids):
        for tid in file_ids:
            j = owner.setdefault(tid, i)
            if j != i:
                a, b = find(i), find(j)
                parent[max(a, b)] = min(a, b)
    groups: dict[int, list[int]] = {}
    for i in range(len(ids)):
        groups.setdefault(find(i), []).append(i)
    return sorted(groups.values())


def check_distributed(
    client: Any,
    spec: ir.Spec,
    inputs: Sequence[str],
    params: dict[str, Any] | None = None,
    *,
    backend: str = "auto",
    properties: Sequence[str] | None = None,
    max_bytes: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    stats: RunStats | None = None,
) -> tuple[CheckResult, list[Diagnostic]]:
    """Check ``spec`` on ``inputs`` with the workers of ``client``.

    Parameters
    ----------
    client
        A ``distributed.Client`` (see :func:`connect`).
    spec
        The loaded spec (bound on the workers with ``params``).
    inputs
        Parquet datasets written by ``otlspec convert``, or trace files, directories and globs
        (not both kinds in one run).
    params
        ``--param`` overrides (text or typed), as :func:`workbench.engine.check` takes them.
    backend, properties, max_bytes
        As for :func:`workbench.engine.check` and :func:`workbench.traces.load_traces`.
    progress
        Called with ``(done, total)`` shards as results arrive.
    stats
        Filled with timings and per-worker work when given.

    Returns
    -------
    tuple[CheckResult, list[Diagnostic]]
        The merged result (its ``table`` is a :class:`MergedTable`) and the input diagnostics.
    """
    from workbench.engine import bind
    from workbench.engine.reference import param_values

    distributed = _dask()
    stats = stats if stats is not None else RunStats()
    stats.dashboard = dashboard_link(client)
    started = time.perf_counter()
    params = dict(params or {})
    bound = bind(spec, params)  # raises on a bad --param before any work is sent
    wanted = list(properties) if properties is not None else None
    parquet = [s for s in inputs if shards.is_parquet_dataset(s)]
    diagnostics: list[Diagnostic] = []
    futures: list[Any] = []
    if parquet and len(parquet) != len(inputs):
        raise DistributedError("give either otlspec Parquet datasets or trace files, not both")
    if len(parquet) > 1:
        raise DistributedError("one Parquet dataset per run (convert the inputs together)")
    if parquet:
        import json
        from pathlib import Path

        meta = json.loads((Path(parquet[0]) / "meta.json").read_text(encoding="utf-8"))
        diagnostics.extend(Diagnostic(**d) for d in meta.get("diagnostics", []))
        parts = shards.parquet_partitions(parquet[0])
        futures = [client.submit(shards.check_parquet, parquet[0], [p], spec, params, backend,
                                 wanted, key=f"otlspec-check-part-{p}-{_token(spec, params)}")
                   for p in parts]
    else:
        files, problems = shards.expand_sources(inputs)
        diagnostics.extend(problems)
        stats.files = len(files)
        parsed = client.map(shards.load_file, files, max_bytes=max_bytes, pure=False)
        indexes = client.map(shards.file_index, parsed, pure=False)
        ids: list[list[str]] = client.gather(indexes)
        stats.index_s = time.perf_counter() - started
        for group in _groups(ids):
            paths = [files[i] for i in group]
            gids = [ids[i] for i in group]
            one = parsed[group[0]] if len(group) == 1 else None
            stats.grouped_files += len(group) if len(group) > 1 else 0
            futures.append(client.submit(shards.check_files, group, paths, gids, spec, params,
                                         backend, wanted, max_bytes, one, pure=False))
    stats.shards = len(futures)
    results: dict[int, shards.ShardResult] = {}
    position = {f.key: i for i, f in enumerate(futures)}
    t0 = time.perf_counter()
    for fut in distributed.as_completed(futures):
        results[position[fut.key]] = fut.result()
        if progress is not None:
            progress(len(results), len(futures))
    stats.check_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    merged = _merge(bound, [results[i] for i in range(len(futures))], wanted, diagnostics,
                    stats)
    merged.params = param_values(bound)
    stats.merge_s = time.perf_counter() - t0
    stats.total_s = time.perf_counter() - started
    merged.timings["total"] = stats.total_s
    return merged, diagnostics


def _token(spec: ir.Spec, params: dict[str, Any]) -> str:
    from dask.base import tokenize

    return str(tokenize(repr(spec), sorted(params.items())))


def _merge(
    spec: ir.Spec,
    parts: list[shards.ShardResult],
    wanted: list[str] | None,
    diagnostics: list[Diagnostic],
    stats: RunStats,
) -> CheckResult:
    """The single-process result, from the shards' results (each merged exactly once)."""
    order = sorted((key, s, t) for s, part in enumerate(parts)
                   for t, key in enumerate(part.keys))
    glob_of: dict[tuple[int, int], int] = {(s, t): g for g, (_, s, t) in enumerate(order)}
    trace_ids = [parts[s].trace_ids[t] for _, s, t in order]
    spans = [parts[s].n_spans[t] for _, s, t in order]
    offsets = np.zeros(len(order) + 1, dtype=np.int64)
    np.cumsum(np.asarray(spans, dtype=np.int64), out=offsets[1:])
    table = MergedTable(trace_ids, int(offsets[-1]), [parts[s].sources[t] for _, s, t in order])
    timings: dict[str, float] = {}
    for part in parts:
        diagnostics.extend(part.diagnostics)
        for k, v in part.timings.items():
            if k != "total":
                timings[k] = timings.get(k, 0.0) + v
        stats.per_worker_s[part.worker] = stats.per_worker_s.get(part.worker, 0.0) + part.seconds
        stats.per_worker_spans[part.worker] = (stats.per_worker_spans.get(part.worker, 0)
                                               + sum(part.n_spans))
    results: list[PropertyResult] = []
    for prop in spec.properties:
        if wanted is not None and prop.name not in wanted:
            continue
        holds = np.ones(len(order), dtype=np.bool_)
        witnesses: dict[int, list[Witness]] = {}
        res = PropertyResult(prop=prop, holds=holds, witnesses=witnesses)
        reasons = []
        for s, part in enumerate(parts):
            found = part.failed.get(prop.name)
            if found is None:
                continue
            res.backend, reason, seconds, failed = found
            reasons.append(reason)
            res.seconds += seconds
            for t, wits in failed.items():
                g = glob_of[(s, t)]
                holds[g] = False
                base = int(offsets[g])
                witnesses[g] = [_absolute(w, base) for w in wits]
        res.reason = reasons[0] if reasons else ""
        res.witnesses = dict(sorted(witnesses.items()))
        results.append(res)
    return CheckResult(spec=spec, table=table, results=results,  # type: ignore[arg-type]
                       timings=timings)


def _absolute(w: Witness, base: int) -> Witness:
    from dataclasses import replace

    binds = tuple((name, replace(ref, row=ref.row + base)) for name, ref in w.bindings)
    return replace(w, bindings=binds)
