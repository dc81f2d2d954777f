"""Check specs on a Dask cluster, sharded by trace id, and merge into the single-process report.

Plan of a run
-------------
1. **Shards.** One shard per worker thread by default (``shards_per_worker``): every shard is
   one :func:`workbench.engine.check` call, whose fixed cost (passes, per-table indexes,
   dispatch of ~50 kernels) is paid once per shard, so many small shards cost more than they
   balance; but no shard holds more than ``max_shard_spans`` spans, so a worker's memory is
   bounded by one shard whatever the input size (a task loads, checks and reduces its shard to
   a compact result before the next starts). A Parquet dataset from ``otlspec convert`` is
   already partitioned by trace-id hash: its partitions are dealt into shards by size
   (:func:`plan_shards`), each shard reads its own partitions, and nothing is shuffled. Plain
   trace files are parsed in parallel (one task per file; the parsed table stays on its worker)
   and only each file's trace ids come back to the driver; files that share a trace id are
   grouped (union-find) so every trace lands whole in one shard, and groups are dealt into
   shards placed on the worker that already holds most of their parsed spans. Only the parsed
   tables of files whose traces straddle workers move, worker to worker (the shuffle); they are
   joined, not re-parsed (:func:`workbench.distributed.tables.concat_tables`).
2. **Check.** Each task runs :func:`workbench.engine.check` (the compiled backend, with its
   per-property fallback) on its shard. Workers are processes with one task at a time; the
   kernel and Arrow threads share the cores out (:func:`worker_env`), and each process keeps
   its compiled kernels (numba's disk cache, loaded once per process) across tasks and runs.
3. **Merge.** Shards return the traces that fail some property (sort key, id, sources,
   witnesses) and counts of the passing ones (every trace with ``verdicts="all"``).
   :func:`workbench.distributed.merge.combine` sorts traces
   back into the order the single-process loader gives them; it is associative over
   contiguous shards, so past ``merge_fan_in`` shards it runs on the workers as a tree and the
   driver merges at most ``merge_fan_in`` results; rows are renumbered at the end, so
   verdicts, witnesses and their order equal a single-process run.

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

from workbench.distributed import shards
from workbench.distributed.merge import combine, finish, tree
from workbench.engine.base import CheckResult
from workbench.errors import Diagnostic, OtlspecError
from workbench.lang import ir


class DistributedError(OtlspecError):
    """The cluster could not be used (no Dask, unreachable scheduler, bad options)."""


#: Default bound on the spans of one shard (see :func:`check_distributed`): ~2.5 GB per worker
#: (measured on the stdlib: 2.4-2.5 GB peak with 1.25M-span shards).
MAX_SHARD_SPANS = 1_000_000


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

    The numba runner, Arrow's reader (its pool follows ``OMP_NUM_THREADS``), the trace
    loaders (``OTLSPEC_JOBS``) and a BLAS each start one thread per core by default; ``N``
    workers on one machine would then run ``N`` times as many threads as there are cores and
    lose time to switching. Each worker gets ``threads``, else ``cores // N`` (at least one).
    """
    from workbench.traces.jobs import JOBS_ENV

    n = str(threads or max(1, (cpus or os.cpu_count() or 1) // max(workers, 1)))
    return {"NUMBA_NUM_THREADS": n, "OMP_NUM_THREADS": n, JOBS_ENV: n,
            "OPENBLAS_NUM_THREADS": n, "MKL_NUM_THREADS": n}


def dashboard_link(client: Any) -> str | None:
    """The Dask dashboard address, when the scheduler serves one (needs bokeh)."""
    try:
        link = client.dashboard_link
    except Exception:  # no dashboard module installed on the scheduler
        return None
    return str(link) if link else None


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
    per_worker_rss_mb: dict[str, float] = field(default_factory=dict)  #: peak, after a task
    moved_files: int = 0  #: parsed files a check task had to fetch from another worker
    submit_s: float = 0.0  #: the driver's time to plan and submit the tasks
    reduce_tasks: int = 0  #: combine tasks of the tree reduction (0: merged on the driver)
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
    max_shard_spans: int | None = MAX_SHARD_SPANS,
    merge_fan_in: int = 8,
    verdicts: str = "failed",
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
    max_shard_spans
        Bound on the spans of one shard (a task loads, checks and reduces one shard, so this
        bounds a worker's memory: about 2 KB per span while checking, plus ~0.5 GB of
        libraries); more shards are made when the input is larger than ``workers x
        shards_per_worker x max_shard_spans``. A Parquet partition or a group of files
        sharing traces is never split, so a shard can exceed the bound by one unit.
        ``None``: no bound.
    merge_fan_in
        With more shards than this, their results are combined on the workers in a tree of
        this fan-in (:func:`workbench.distributed.merge.tree`) and the driver merges at most
        ``merge_fan_in`` ordered results.
    verdicts
        ``"failed"`` (default): shards send up only the traces that fail some property (with
        their witnesses) and counts of the rest, so the merge scales with the failures, as
        the report does; the result lists only those traces (its table's ``n_traces`` counts
        all), which is all a report of failing verdicts reads. ``"all"``: every trace is
        listed, for ``--verdicts all``.

    Returns
    -------
    tuple[CheckResult, list[Diagnostic]]
        The merged result (its ``table`` is a :class:`MergedTable`) and the input diagnostics.
    """
    from workbench.engine import bind
    from workbench.report.model import VERDICTS

    if verdicts not in VERDICTS:
        raise DistributedError(f"verdicts must be one of {VERDICTS}, not {verdicts!r}")
    if max_shard_spans is not None and max_shard_spans < 1:
        raise DistributedError("--max-shard-spans must be a positive number of spans")
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
    # the spec travels once, as the result of one task, and is fetched by the workers that
    # need it (not pickled into every task); recomputable like any task if its worker dies
    task_spec = client.submit(_value, spec, pure=False)
    check_args = (task_spec, params, backend, wanted, verdicts)
    if parquet:
        import json
        from pathlib import Path

        meta = json.loads((Path(parquet[0]) / "meta.json").read_text(encoding="utf-8"))
        diagnostics.extend(Diagnostic(**d) for d in meta.get("diagnostics", []))
        parts = shards.parquet_partitions(parquet[0])
        sizes = [shards.partition_bytes(parquet[0], p) for p in parts]
        n_shards = max(n_shards, _bounded(int(meta.get("spans", 0)), max_shard_spans))
        futures = [client.submit(shards.check_parquet, parquet[0], [parts[u] for u in units],
                                 *check_args, pure=False)
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
        spans = [n for _, n in index]
        n_shards = max(n_shards, _bounded(sum(spans), max_shard_spans))
        futures = _submit_file_shards(client, parsed, ids, spans, slots, n_shards, check_args,
                                      stats)
    stats.shards = len(futures)
    top = tree(client, futures, merge_fan_in)
    stats.reduce_tasks = 0 if top is futures else _tree_size(len(futures), merge_fan_in)
    stats.submit_s = time.perf_counter() - started - stats.index_s
    t0 = time.perf_counter()
    results: dict[int, shards.ShardResult] = {}
    position = {f.key: i for i, f in enumerate(top)}
    done = 0
    # the leaves' results are gathered only when the driver merges them; with a tree the
    # driver just counts finished shards (progress) and then fetches the top of the tree
    for fut in distributed.as_completed(futures):
        done += 1
        if top is futures:
            results[position[fut.key]] = fut.result()
        if progress is not None:
            progress(done, len(futures))
    if top is not futures:
        results = dict(enumerate(client.gather(top)))
    stats.check_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    combined = combine(*(results[i] for i in range(len(top))))
    del results, futures, top
    diagnostics.extend(d for _, d in combined.diagnostics)
    _task_stats(combined, stats)
    merged = finish(bound, combined, wanted)
    stats.merge_s = time.perf_counter() - t0
    stats.total_s = time.perf_counter() - started
    merged.timings["total"] = stats.total_s
    return merged, diagnostics


def _value(x: Any) -> Any:
    """The task that holds a value every check task reads (the spec)."""
    return x


def _bounded(spans: int, max_shard_spans: int | None) -> int:
    """Shards needed so that none holds more than ``max_shard_spans`` spans (on average)."""
    if not max_shard_spans or spans <= 0:
        return 1
    return -(-spans // max_shard_spans)


def _tree_size(leaves: int, fan_in: int) -> int:
    """Combine tasks :func:`workbench.distributed.merge.tree` submits over ``leaves``."""
    fan_in, count = max(2, fan_in), 0
    while leaves > fan_in:
        leaves = -(-leaves // fan_in)
        count += leaves
    return count


def _task_stats(combined: shards.ShardResult, stats: RunStats) -> None:
    """Per-worker busy time, CPU, spans and peak memory, from every check task's record."""
    for task in combined.tasks:
        w = task.worker
        stats.per_worker_s[w] = stats.per_worker_s.get(w, 0.0) + task.seconds
        stats.per_worker_cpu_s[w] = stats.per_worker_cpu_s.get(w, 0.0) + task.cpu_seconds
        stats.per_worker_spans[w] = stats.per_worker_spans.get(w, 0) + task.spans
        stats.per_worker_rss_mb[w] = max(stats.per_worker_rss_mb.get(w, 0.0), task.peak_rss_mb)
        stats.read_s += task.read_seconds


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
    per = max(1, -(-n_shards // max(len(slots), 1)))
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
