"""A format-neutral view of a check run that every report writer reads.

:func:`build_report` turns a :class:`~workbench.engine.base.CheckResult` into plain data in the
versioned JSON shape documented in ``docs/output.md`` (schema version 2); the SARIF, JUnit and
text writers are projections of that one structure, so they can never disagree about what
failed.

The report scales with what it says, not with the (property x trace) matrix: each property
lists its *failing* traces with their witnesses, and the passing ones are only counted
(``passed``). ``verdicts="all"`` (``--all-verdicts``) lists every trace's verdict, as schema
version 1 did. :func:`iter_properties` yields the property entries one at a time, so that a
writer can stream them (:mod:`workbench.report.stream`) without holding the whole report.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from workbench._version import __version__
from workbench.engine.base import CheckResult, PropertyResult
from workbench.errors import Diagnostic
from workbench.traces.model import SpanTable

SCHEMA = "https://otlspec.dev/schemas/check-report/v2"
SCHEMA_VERSION = 2
SEVERITY_RANK = {"info": 0, "warning": 1, "error": 2}
VERDICTS = ("failed", "all")


class TraceSources:
    """For each trace, the files its spans came from (in row order, without repeats).

    Computed for the whole table at once with numpy (one ``np.unique`` over (trace, file)
    pairs), then read per trace: a report touches only the traces it lists.
    """

    def __init__(self, table: SpanTable) -> None:
        self.table = table
        n = table.n_spans
        if n == 0 or not len(table.source):  # no spans, or none listed (a merged result)
            self.offsets = np.zeros(table.n_traces + 1, dtype=np.int64)
            self.codes = np.zeros(0, dtype=np.int64)
            return
        src = np.asarray(table.source, dtype=np.int64)
        width = int(src.max()) + 1
        trace = np.asarray(table.trace_index, dtype=np.int64)
        keys, first = np.unique(trace * width + src, return_index=True)
        # keys ascend by trace, then file code; order each trace's files by first row
        order = np.lexsort((first, keys // width))
        keys = keys[order]
        self.codes = keys % width
        counts = np.bincount(keys // width, minlength=table.n_traces)
        self.offsets = np.zeros(table.n_traces + 1, dtype=np.int64)
        np.cumsum(counts, out=self.offsets[1:])
        self._names: dict[int, str] = {}

    def __getitem__(self, trace: int) -> list[str]:
        lo, hi = int(self.offsets[trace]), int(self.offsets[trace + 1])
        out = []
        for code in self.codes[lo:hi].tolist():
            name = self._names.get(code)
            if name is None:
                name = self._names[code] = self.table.strings[code]
            out.append(name)
        return out


def trace_sources(result: CheckResult) -> list[list[str]]:
    """For each trace, the files its spans came from (in row order, without repeats)."""
    sources = TraceSources(result.table)
    return [sources[t] for t in range(result.table.n_traces)]


def property_meta(result: CheckResult, res: PropertyResult) -> dict[str, Any]:
    """A property's report entry without its ``traces`` list."""
    prop = res.prop
    failed = res.n_failed
    return {
        "name": prop.name,
        "severity": prop.severity,
        "tags": list(prop.tags),
        "doc": prop.doc,
        "source": str(result.spec.positions.get(prop.name, "")),
        "backend": res.backend,
        "backend_reason": res.reason,
        "passed": result.table.n_traces - failed,
        "failed": failed,
        "seconds": round(res.seconds, 6),
    }


def iter_trace_entries(
    result: CheckResult, res: PropertyResult, sources: TraceSources, verdicts: str = "failed"
) -> Iterator[dict[str, Any]]:
    """A property's listed traces: the failing ones with witnesses (or every trace)."""
    table = result.table
    failing = res.failed_traces
    if verdicts == "all":
        bad = set(failing)
        listed: Sequence[int] = range(table.n_traces)
    else:
        bad = None
        listed = failing
    for t in listed:
        ok = bad is not None and t not in bad
        entry: dict[str, Any] = {
            "trace_id": table.trace_id_hex[t],
            "sources": sources[t],
            "verdict": "pass" if ok else "fail",
        }
        if not ok:
            entry["witnesses"] = [w.to_json() for w in res.witnesses.get(t, [])]
        yield entry


def property_entry(
    result: CheckResult,
    res: PropertyResult,
    sources: TraceSources,
    verdicts: str = "failed",
) -> dict[str, Any]:
    """The report entry of one property: its failing traces (or every trace's verdict)."""
    return property_meta(result, res) | {
        "traces": list(iter_trace_entries(result, res, sources, verdicts))
    }


def iter_properties(
    result: CheckResult, verdicts: str = "failed", sources: TraceSources | None = None
) -> Iterator[dict[str, Any]]:
    """The property entries of the report, one at a time (see :func:`property_entry`)."""
    if verdicts not in VERDICTS:
        raise ValueError(f"verdicts must be one of {VERDICTS}, not {verdicts!r}")
    sources = sources or TraceSources(result.table)
    for res in result.results:
        yield property_entry(result, res, sources, verdicts)


def report_head(
    result: CheckResult,
    *,
    spec_files: Sequence[str] = (),
    trace_inputs: Sequence[str] = (),
    diagnostics: Sequence[Diagnostic] = (),
    fail_on: str = "error",
    verdicts: str = "failed",
) -> dict[str, Any]:
    """Everything in the report before ``properties``: tool, spec, params, input, summary."""
    table = result.table
    threshold = SEVERITY_RANK[fail_on]
    n_violations = sum(r.n_failed for r in result.results)
    failing = [
        r.name for r in result.results if r.n_failed and SEVERITY_RANK[r.prop.severity] >= threshold
    ]
    pairs = len(result.results) * table.n_traces
    return {
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "otlspec", "version": __version__},
        "spec": {"name": result.spec.name, "files": list(spec_files)},
        "params": {k: v for k, v in sorted(result.params.items())},
        "input": {
            "sources": list(trace_inputs),
            "traces": table.n_traces,
            "spans": table.n_spans,
            "diagnostics": [
                {
                    "file": d.file,
                    "path": d.path,
                    "line": d.line,
                    "column": d.column,
                    "severity": d.severity,
                    "message": d.message,
                }
                for d in diagnostics
            ],
        },
        "summary": {
            "properties": len(result.results),
            "failed_properties": [r.name for r in result.results if r.n_failed],
            "violations": n_violations,
            "passing": pairs - n_violations,
            "verdicts": verdicts,
            "fail_on": fail_on,
            "failing_at_or_above_fail_on": failing,
            "input_errors": sum(1 for d in diagnostics if d.severity == "error"),
        },
    }


def report_timings(result: CheckResult) -> dict[str, float]:
    """The run's phase timings and each property's own time (``property.NAME``), seconds."""
    return {k: round(v, 6) for k, v in result.timings.items()} | {
        f"property.{r.name}": round(r.seconds, 6) for r in result.results
    }


def build_report(
    result: CheckResult,
    *,
    spec_files: Sequence[str] = (),
    trace_inputs: Sequence[str] = (),
    diagnostics: Sequence[Diagnostic] = (),
    fail_on: str = "error",
    verdicts: str = "failed",
) -> dict[str, Any]:
    """The JSON report (schema v2) as one dict.

    Parameters
    ----------
    result
        The check run.
    spec_files, trace_inputs
        What the user named on the command line (recorded as given).
    diagnostics
        Problems met while reading the traces.
    fail_on
        The severity at or above which a violated property fails the run.
    verdicts
        ``"failed"`` (default) lists each property's failing traces with their witnesses and
        counts the passing ones; ``"all"`` lists every trace's verdict.

    Returns
    -------
    dict
        The report; :func:`workbench.report.stream.write_json` writes the same data without
        building it whole.
    """
    head = report_head(
        result,
        spec_files=spec_files,
        trace_inputs=trace_inputs,
        diagnostics=diagnostics,
        fail_on=fail_on,
        verdicts=verdicts,
    )
    return head | {
        "properties": list(iter_properties(result, verdicts)),
        "timings": report_timings(result),
    }
