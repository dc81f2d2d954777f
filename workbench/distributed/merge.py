"""Merge shard results into the single-process result: an ordered, associative combine.

:func:`combine` joins shard results into one :class:`~workbench.distributed.shards.ShardResult`
whose traces are in the single-process order (sorted by their sort keys), so it can run on the
workers as a tree reduction (fan-in ``k``: ``ceil(P / k)`` combine tasks, then ``ceil(P / k^2)``,
...) and the driver receives at most ``k`` already ordered results instead of one per shard.
It is associative as long as the parts are given in shard order, which the tree keeps (it
combines contiguous runs of shards): ``combine(a, b, c) == combine(combine(a, b), c)``, field by
field. :func:`finish` turns the final result into the :class:`~workbench.engine.base.CheckResult`
the report reads, renumbering witness rows from trace-relative to table rows.

What a combine keeps per property mirrors a sequential merge over shards in order: the
backend of the last shard that checked the property, the reason of the first, the seconds
summed, and the failing traces with their witnesses. Diagnostics are kept in (input unit,
shard) order by a stable sort on the unit.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from workbench.distributed.shards import ShardResult
from workbench.engine.base import CheckResult, PropertyResult, SpanRef, Witness
from workbench.errors import Diagnostic
from workbench.lang import ir


class MergedTable:
    """What the report reads of a table (``n_traces``, ``n_spans``, ``trace_id_hex`` and the
    source files of each trace), rebuilt from the shards without gathering their spans.

    ``source`` and ``trace_index`` hold one entry per (trace, source file) pair, in row order,
    rather than one per span: that is all :class:`workbench.report.model.TraceSources` reads.
    Only the *listed* traces (by default those failing some property; every trace with
    ``verdicts="all"``) have ids and sources; ``n_traces`` counts them all, so the report's
    ``passed`` counts are those of the whole table.

    Parameters
    ----------
    trace_ids
        The ids of the listed traces, in the single-process order.
    n_spans
        Spans in all.
    src_counts, src_names
        Source files per trace, and their names (one per (trace, file) entry, in order).
    n_traces
        Traces in all (default: the listed ones).
    """

    def __init__(self, trace_ids: list[str], n_spans: int, src_counts: np.ndarray,
                 src_names: list[str], n_traces: int | None = None) -> None:
        from workbench.traces.model import StringTable

        self.trace_id_hex = trace_ids
        self._n_spans = n_spans
        self._n_traces = len(trace_ids) if n_traces is None else n_traces
        self.strings = StringTable()
        counts = np.asarray(src_counts, dtype=np.int64)
        self._offsets = np.zeros(counts.shape[0] + 1, dtype=np.int64)
        np.cumsum(counts, out=self._offsets[1:])
        self.trace_index = np.repeat(np.arange(counts.shape[0], dtype=np.int32), counts)
        self.source = np.asarray(self.strings.codes(src_names), dtype=np.int32)
        self.diagnostics: list[Diagnostic] = []

    @property
    def n_traces(self) -> int:
        """Traces checked (listed in ``trace_id_hex`` or only counted)."""
        return self._n_traces

    @property
    def n_spans(self) -> int:
        return self._n_spans

    def trace_rows(self, trace: int) -> range:
        """The (trace, source) entries of ``trace`` (not span rows)."""
        return range(int(self._offsets[trace]), int(self._offsets[trace + 1]))


def gather_runs(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Indices of the runs ``starts[i]:starts[i] + counts[i]``, concatenated in order."""
    total = int(counts.sum())
    if not total:
        return np.zeros(0, dtype=np.int64)
    run_first = np.zeros(counts.shape[0], dtype=np.int64)
    np.cumsum(counts[:-1], out=run_first[1:])
    return np.repeat(starts - run_first, counts) + np.arange(total, dtype=np.int64)


def combine(*parts: ShardResult) -> ShardResult:
    """One result of ``parts`` (given in shard order), its traces sorted by sort key.

    Parameters
    ----------
    *parts
        Shard results, or results of earlier combines, of contiguous runs of shards in order.

    Returns
    -------
    ShardResult
        Traces in the single-process order; failing traces renumbered to that order; tasks,
        timings and diagnostics of every part.
    """
    from workbench.traces.model import StringTable

    if not parts:
        return ShardResult()
    if len(parts) == 1:
        return parts[0]
    sizes = np.asarray([len(p.trace_ids) for p in parts], dtype=np.int64)
    first = np.zeros(len(parts) + 1, dtype=np.int64)
    np.cumsum(sizes, out=first[1:])
    keys = np.concatenate([p.keys.reshape(-1, 2) for p in parts])
    order = np.lexsort((keys[:, 1], keys[:, 0])) if keys.shape[0] else \
        np.zeros(0, dtype=np.int64)
    rank = np.empty_like(order)
    rank[order] = np.arange(order.shape[0])
    ids = np.asarray([tid for p in parts for tid in p.trace_ids], dtype=object)
    # (trace, source) entries: part-local codes -> one name table, then gathered in order
    names = StringTable()
    codes = [np.asarray(names.codes(p.src_names), dtype=np.int64)[p.src_codes]
             if p.src_codes.shape[0] else np.zeros(0, np.int64) for p in parts]
    flat = np.concatenate(codes)
    counts = np.concatenate([np.diff(p.src_offsets) for p in parts])
    starts = np.zeros(counts.shape[0] + 1, dtype=np.int64)
    np.cumsum(counts, out=starts[1:])
    new_counts = counts[order]
    src_offsets = np.zeros(order.shape[0] + 1, dtype=np.int64)
    np.cumsum(new_counts, out=src_offsets[1:])
    out = ShardResult(
        keys=keys[order], trace_ids=ids[order].tolist(),
        n_spans=np.concatenate([p.n_spans for p in parts])[order],
        src_offsets=src_offsets,
        src_codes=flat[gather_runs(starts[:-1][order], new_counts)].astype(np.int32),
        src_names=list(names.strings),
        unit_offset=np.concatenate([p.unit_offset for p in parts])[order],
        unit_spans=np.concatenate([p.unit_spans.reshape(-1, 2) for p in parts]),
        total_traces=sum(p.total_traces for p in parts),
        total_spans=sum(p.total_spans for p in parts))
    found: list[tuple[int, Diagnostic]] = []
    for s, part in enumerate(parts):
        found.extend(part.diagnostics)
        out.tasks.extend(part.tasks)
        for k, v in part.timings.items():
            if k != "total":
                out.timings[k] = out.timings.get(k, 0.0) + v
        for name, (backend, reason, seconds, failed) in part.failed.items():
            moved = {int(rank[first[s] + t]): wits for t, wits in failed.items()}
            if name in out.failed:
                _, first_reason, secs, acc = out.failed[name]
                acc.update(moved)
                out.failed[name] = (backend, first_reason, secs + seconds, acc)
            else:
                out.failed[name] = (backend, reason, seconds, moved)
    out.diagnostics = sorted(found, key=lambda f: f[0])
    return out


def shift_rows(w: Witness, delta: int) -> Witness:
    """``w`` with the rows of its spans moved by ``delta``. Built with the constructors, not
    :func:`dataclasses.replace` (3x slower; renumbering witnesses was 97% of the merge)."""
    binds = tuple((name, SpanRef(ref.row + delta, ref.trace_id, ref.span_id, ref.name,
                                 ref.service) if isinstance(ref, SpanRef) else ref)
                  for name, ref in w.bindings)
    return Witness(binds, w.message, w.position)


def finish(spec: ir.Spec, merged: ShardResult, wanted: Sequence[str] | None) -> CheckResult:
    """The single-process result from a combined (ordered) result.

    Parameters
    ----------
    spec
        The bound spec (its parameter values are the result's ``params``).
    merged
        The result of :func:`combine` over every shard.
    wanted
        The properties checked (``None``: all).

    Returns
    -------
    CheckResult
        Its ``table`` is a :class:`MergedTable`; witness rows are table rows.
    """
    from workbench.engine.reference import param_values

    n = len(merged.trace_ids)
    offsets = _first_rows(merged)
    table = MergedTable(merged.trace_ids, merged.total_spans, np.diff(merged.src_offsets),
                        [merged.src_names[int(c)] for c in merged.src_codes.tolist()],
                        n_traces=merged.total_traces)
    results: list[PropertyResult] = []
    for prop in spec.properties:
        if wanted is not None and prop.name not in wanted:
            continue
        holds = np.ones(n, dtype=np.bool_)
        res = PropertyResult(prop=prop, holds=holds, witnesses={})
        hit = merged.failed.get(prop.name)
        if hit is not None:
            res.backend, res.reason, res.seconds, failed = hit
            if failed:
                holds[np.fromiter(failed, dtype=np.int64, count=len(failed))] = False
            res.witnesses = {t: [shift_rows(w, int(offsets[t])) for w in failed[t]]
                             for t in sorted(failed)}
        results.append(res)
    out = CheckResult(spec=spec, table=table, results=results,  # type: ignore[arg-type]
                      timings=dict(merged.timings))
    out.params = param_values(spec)
    return out


def _first_rows(merged: ShardResult) -> np.ndarray:
    """Each listed trace's first row in the single-process table: the spans of the units
    before its unit plus its offset in the unit (for Parquet there are no unit spans and the
    offset is already the row in the whole converted table)."""
    units = merged.unit_spans.reshape(-1, 2)
    names, inverse = np.unique(units[:, 0], return_inverse=True)
    per_unit = np.bincount(inverse.reshape(-1), weights=units[:, 1],
                           minlength=names.shape[0]).astype(np.int64)
    before = np.zeros(names.shape[0] + 1, dtype=np.int64)
    np.cumsum(per_unit, out=before[1:])
    base = before[np.searchsorted(names, merged.keys.reshape(-1, 2)[:, 0])]
    return base + merged.unit_offset


def tree(client: Any, leaves: list[Any], fan_in: int) -> list[Any]:
    """Submit combine tasks over ``leaves`` (futures, in shard order) until at most
    ``fan_in`` remain; returns the top level's futures, in order.

    Each combine task takes ``fan_in`` contiguous results and runs where Dask places it
    (near its inputs), so the driver receives at most ``fan_in`` ordered results however
    many shards there are.
    """
    level = list(leaves)
    fan_in = max(2, fan_in)
    while len(level) > fan_in:
        level = [client.submit(combine, *level[i:i + fan_in], pure=False)
                 for i in range(0, len(level), fan_in)]
    return level
