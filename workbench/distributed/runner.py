"""Check specs on a Dask cluster, sharded by trace id, and merge into the single-process report.

Plan of a run
-------------
1. **Shards.** One shard per worker thread by default (``shards_per_worker``): every shard
   is one :func:`workbench.engine.check` call, whose fixed cost (passes, per-table indexes,
   dispatch of ~50 kernels) is paid once per shard, so many small shards cost more than they
   balance. A Parquet dataset from ``otlspec convert`` is already partitioned by trace-id
   hash: its partitions are dealt into shards by size (:func:`plan_shards`), each shard reads
   its own partitions, and nothing is shuffled. Plain trace files are parsed in parallel (one
   task per file; the parsed table stays on its worker) and only each file's trace ids come
   back to the driver; files that share a trace id are grouped (union-find) so every trace
   lands whole in one shard, and groups are dealt into shards placed on the worker that
   already holds most of their parsed spans. Only the parsed tables of files whose traces
   straddle workers move, worker to worker (the shuffle); they are joined, not re-parsed
   (:func:`workbench.distributed.tables.concat_tables`).
2. **Check.** Each task runs :func:`workbench.engine.check` (the compiled backend, with its
   per-property fallback) on its shard. Workers are processes with one task at a time; the
   kernel and Arrow threads share the cores out (:func:`worker_env`), and each process keeps
   its compiled kernels (numba's disk cache, loaded once per process) across tasks and runs.
3. **Merge.** Shards return numpy arrays per trace (sort key, span count, sources) and the
   witnesses of failing traces only. One lexsort puts the traces back in the order the
   single-process loader gives them and rows are renumbered, so verdicts, witnesses and their
   order equal a single-process run.

Dask recomputes the tasks of a worker that dies (their inputs are paths, the lineage is short);
each task's result is gathered once, so nothing is counted twice. A partition or file that
cannot be read becomes an error diagnostic and the rest of the run goes on.

The language has no cross-trace properties: ``linked(s)`` ranges over spans *of the same
trace* (links to other traces are ignored, docs/language.md), and quantifiers range over one
trace, so sharding whole traces is exact for every property.
"""

from __future__ import annotations

import contextlib
import os
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
def connect(cluster: str | None = None, workers: int | None = None,
            worker_threads: int | None = None) -> Iterator[Any]:
    """A Dask client: on the scheduler at ``cluster``, or on a new LocalCluster of ``workers``
    worker processes, each running one task at a time with ``worker_threads`` threads for the
    kernels and the Parquet reader (default: the cores shared out, see :func:`worker_env`)."""
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
                                     dashboard_address=":0", silence_logs=40,
                                     env=worker_env(workers, threads=worker_threads))
    # results come straight from the workers, not relayed by the scheduler
    with local, distributed.Client(local, direct_to_workers=True) as client:
        yield client


def worker_env(workers: int, cpus: int | None = None,
               threads: int | None = None) -> dict[str, str]:
    """Environment of local worker processes: the machine's cores shared out between them.

    The numba runner and Arrow's reader each start one thread per core by default; ``N``
    workers on one machine would then run ``N`` times as many threads as there are cores and
    lose time to switching. Each worker gets ``threads``, else ``cores // N`` (at least one).
    """
    n = threads or max(1, (cpus or os.cpu_count() or 1) // max(workers, 1))
    return {"NUMBA_NUM_THREADS": str(n), "OMP_NUM_THREADS": str(n)}


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

    Parameters
    ----------
    trace_ids
        The trace ids, in the single-process order.
    n_spans
        Spans in all.
    src_counts, src_names
        Source files per trace, and their names (one per (trace, file) entry, in order).
    """

    def __init__(self, trace_ids: list[str], n_spans: int, src_counts: np.ndarray,
                 src_names: list[str]) -> None:
        from workbench.traces.model import StringTable

        self.trace_id_hex = trace_ids
        self._n_spans = n_spans
        self.strings = StringTable()
        counts = np.asarray(src_counts, dtype=np.int64)
        self._offsets = np.zeros(counts.shape[0] + 1, dtype=np.int64)
        np.cumsum(counts, out=self._offsets[1:])
        self.trace_index = np.repeat(np.arange(counts.shape[0], dtype=np.int32), counts)
        self.source = np.asarray(self.strings.codes(src_names), dtype=np.int32)
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
    read_s: float = 0.0  #: summed over shards: reading / joining their input on the workers
    per_worker_s: dict[str, float] = field(default_factory=dict)
    per_worker_cpu_s: dict[str, float] = field(default_factory=dict)
    per_worker_spans: dict[str, int] = field(default_factory=dict)
    moved_files: int = 0  #: parsed files a check task had to fetch from another worker
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


def plan_shards(weights: Sequence[int], n_shards: int,
                home: Sequence[int] | None = None, slack: float = 0.1) -> list[list[int]]:
    """Units (partitions, file groups) into at most ``n_shards`` shards of about equal weight.

    Largest units first, each to the lightest shard (LPT). With ``home`` (the preferred shard
    of each unit: where its data already are), a unit goes home unless that makes the home
    shard heavier than ``(1 + slack)`` times the even share. Each shard lists its units in
    ascending order; empty shards are dropped.
    """
    n_shards = max(1, min(n_shards, len(weights)))
    total = float(sum(weights)) or 1.0
    cap = (1.0 + slack) * total / n_shards
    load = [0.0] * n_shards
    out: list[list[int]] = [[] for _ in range(n_shards)]
    for u in sorted(range(len(weights)), key=lambda u: (-weights[u], u)):
        dest = min(range(n_shards), key=lambda b: (load[b], b))
        if home is not None and 0 <= home[u] < n_shards and \
                (load[home[u]] + weights[u] <= cap or not out[home[u]]):
            dest = home[u]
        out[dest].append(u)
        load[dest] += weights[u]
    return [sorted(units) for units in out if units]


def _slots(client: Any) -> list[str]:
    """One entry per worker thread (worker addresses, sorted): where shards can run."""
    threads = client.nthreads()
    return [w for w in sorted(threads) for _ in range(max(1, int(threads[w])))]


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
    shards_per_worker: int = 1,
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
    shards_per_worker
        Shards per worker thread. Each shard is one engine call, whose fixed cost (passes,
        per-table indexes, kernel dispatch: ~0.3 s CPU for the stdlib) is paid once per shard,
        so the default is one; more shards balance better when workers differ in speed.

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
    slots = _slots(client)
    n_shards = max(1, len(slots) * max(1, shards_per_worker))
    if parquet:
        import json
        from pathlib import Path

        meta = json.loads((Path(parquet[0]) / "meta.json").read_text(encoding="utf-8"))
        diagnostics.extend(Diagnostic(**d) for d in meta.get("diagnostics", []))
        parts = shards.parquet_partitions(parquet[0])
        sizes = [shards.partition_bytes(parquet[0], p) for p in parts]
        futures = [client.submit(shards.check_parquet, parquet[0], [parts[u] for u in units],
                                 spec, params, backend, wanted, pure=False)
                   for units in plan_shards(sizes, n_shards)]
    else:
        files, problems = shards.expand_sources(inputs)
        diagnostics.extend(problems)
        stats.files = len(files)
        parsed = client.map(shards.load_file, files, max_bytes=max_bytes, pure=False)
        indexes = client.map(shards.file_index, parsed, pure=False)
        index: list[tuple[list[str], int]] = client.gather(indexes)
        ids = [file_ids for file_ids, _ in index]
        stats.index_s = time.perf_counter() - started
        futures = _submit_file_shards(client, parsed, ids, [n for _, n in index], slots,
                                      n_shards, (spec, params, backend, wanted), stats)
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


def _submit_file_shards(client: Any, parsed: list[Any], ids: list[list[str]],
                        spans: list[int], slots: list[str], n_shards: int,
                        check_args: tuple[Any, ...], stats: RunStats) -> list[Any]:
    """One task per shard of file groups, placed where most of its parsed spans already are.

    A group of files sharing traces is joined on one worker; its files parsed elsewhere are
    fetched worker to worker (the shuffle; counted in ``stats.moved_files``).
    """
    groups = _groups(ids)
    where = client.who_has(parsed)
    holder = [sorted(where.get(f.key, ()))[:1] for f in parsed]
    per = max(1, n_shards // max(len(slots), 1))
    workers = sorted(set(slots))
    # the shard slots of a worker: its threads times shards_per_worker, numbered in order
    shard_worker = [w for w in slots for _ in range(per)][:n_shards]
    home: list[int] = []
    for g in groups:
        count: dict[str, int] = {}
        for i in g:
            for w in holder[i]:
                count[w] = count.get(w, 0) + spans[i]
        best = max(sorted(count), key=lambda w: count[w]) if count else None
        home.append(shard_worker.index(best) if best in shard_worker else -1)
    weights = [max(1, sum(spans[i] for i in g)) for g in groups]
    stats.grouped_files = sum(len(g) for g in groups if len(g) > 1)
    futures = []
    for units in plan_shards(weights, n_shards, home):
        files = sorted(i for u in units for i in groups[u])
        counts: dict[str, int] = {}
        for i in files:
            for w in holder[i]:
                counts[w] = counts.get(w, 0) + spans[i]
        target = max(sorted(counts), key=lambda w: counts[w]) if counts else None
        stats.moved_files += sum(1 for i in files if holder[i] and holder[i][0] != target)
        futures.append(client.submit(
            shards.check_files, files, [ids[i] for i in files], [parsed[i] for i in files],
            *check_args, workers=[target] if target in workers else None,
            allow_other_workers=True, pure=False))
    return futures


def _merge(
    spec: ir.Spec,
    parts: list[shards.ShardResult],
    wanted: list[str] | None,
    diagnostics: list[Diagnostic],
    stats: RunStats,
) -> CheckResult:
    """The single-process result, from the shards' results (each merged exactly once).

    Vectorized over traces: one lexsort of the shards' sort keys gives the global order, and
    only failing traces are touched one by one.
    """
    from workbench.traces.model import StringTable

    sizes = np.asarray([len(p.trace_ids) for p in parts], dtype=np.int64)
    first = np.zeros(len(parts) + 1, dtype=np.int64)
    np.cumsum(sizes, out=first[1:])
    keys = np.concatenate([p.keys.reshape(-1, 2) for p in parts]) if parts else \
        np.zeros((0, 2), dtype=np.int64)
    order = np.lexsort((keys[:, 1], keys[:, 0]))
    glob = np.empty_like(order)
    glob[order] = np.arange(order.shape[0])
    all_ids = [tid for p in parts for tid in p.trace_ids]
    trace_ids = [all_ids[i] for i in order.tolist()]
    spans = np.concatenate([p.n_spans for p in parts]) if parts else np.zeros(0, np.int64)
    offsets = np.zeros(order.shape[0] + 1, dtype=np.int64)
    np.cumsum(spans[order], out=offsets[1:])
    # (trace, source) entries: shard-local codes -> one name table, then gathered in order
    names = StringTable()
    codes = np.concatenate([np.asarray(names.codes(p.src_names), dtype=np.int64)[p.src_codes]
                            if p.src_codes.shape[0] else np.zeros(0, np.int64)
                            for p in parts]) if parts else np.zeros(0, np.int64)
    counts = np.concatenate([np.diff(p.src_offsets) for p in parts]) if parts else \
        np.zeros(0, np.int64)
    starts = np.zeros(counts.shape[0] + 1, dtype=np.int64)
    np.cumsum(counts, out=starts[1:])
    new_counts = counts[order]
    total = int(new_counts.sum())
    gather = (np.repeat(starts[:-1][order] - np.concatenate([[0], np.cumsum(new_counts)[:-1]]),
                        new_counts) + np.arange(total)) if total else np.zeros(0, np.int64)
    table = MergedTable(trace_ids, int(offsets[-1]), new_counts,
                        [names.strings[int(c)] for c in codes[gather]])
    timings: dict[str, float] = {}
    found: list[tuple[int, int, Diagnostic]] = []
    for s, part in enumerate(parts):
        found.extend((unit, s, d) for unit, d in part.diagnostics)
        for k, v in part.timings.items():
            if k != "total":
                timings[k] = timings.get(k, 0.0) + v
        w = part.worker
        stats.per_worker_s[w] = stats.per_worker_s.get(w, 0.0) + part.seconds
        stats.per_worker_cpu_s[w] = stats.per_worker_cpu_s.get(w, 0.0) + part.cpu_seconds
        stats.per_worker_spans[w] = stats.per_worker_spans.get(w, 0) + int(part.n_spans.sum())
        stats.read_s += part.read_seconds
    diagnostics.extend(d for _, _, d in sorted(found, key=lambda f: (f[0], f[1])))
    results: list[PropertyResult] = []
    for prop in spec.properties:
        if wanted is not None and prop.name not in wanted:
            continue
        holds = np.ones(order.shape[0], dtype=np.bool_)
        witnesses: dict[int, list[Witness]] = {}
        res = PropertyResult(prop=prop, holds=holds, witnesses=witnesses)
        reasons = []
        for s, part in enumerate(parts):
            hit = part.failed.get(prop.name)
            if hit is None:
                continue
            res.backend, reason, seconds, failed = hit
            reasons.append(reason)
            res.seconds += seconds
            for t, wits in failed.items():
                g = int(glob[first[s] + t])
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
