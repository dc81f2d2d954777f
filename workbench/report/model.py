"""A format-neutral view of a check run that every report writer reads.

:func:`build_report` turns a :class:`~workbench.engine.base.CheckResult` into plain data in the
versioned JSON shape documented in ``docs/output.md``; the SARIF, JUnit and text writers are
projections of that one structure, so they can never disagree about what failed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from workbench._version import __version__
from workbench.engine.base import CheckResult
from workbench.errors import Diagnostic

SCHEMA = "https://otlspec.dev/schemas/check-report/v1"
SCHEMA_VERSION = 1
SEVERITY_RANK = {"info": 0, "warning": 1, "error": 2}


def trace_sources(result: CheckResult) -> list[list[str]]:
    """For each trace, the files its spans came from (in row order, without repeats)."""
    table = result.table
    out: list[list[str]] = []
    for t in range(table.n_traces):
        files: list[str] = []
        for row in table.trace_rows(t):
            name = table.strings[int(table.source[row])]
            if name not in files:
                files.append(name)
        out.append(files)
    return out


def build_report(
    result: CheckResult,
    *,
    spec_files: Sequence[str] = (),
    trace_inputs: Sequence[str] = (),
    diagnostics: Sequence[Diagnostic] = (),
    fail_on: str = "error",
    verdicts: str = "all",
) -> dict[str, Any]:
    """The JSON report (schema v1). ``verdicts="failed"`` lists only failing traces per property."""
    table = result.table
    sources = trace_sources(result)
    properties = []
    n_violations = 0
    failing: list[str] = []
    threshold = SEVERITY_RANK[fail_on]
    for res in result.results:
        prop = res.prop
        traces = []
        for t in range(table.n_traces):
            ok = bool(res.holds[t])
            if ok and verdicts == "failed":
                continue
            entry: dict[str, Any] = {
                "trace_id": table.trace_id_hex[t],
                "sources": sources[t],
                "verdict": "pass" if ok else "fail",
            }
            if not ok:
                entry["witnesses"] = [w.to_json() for w in res.witnesses.get(t, [])]
            traces.append(entry)
        failed = res.n_failed
        n_violations += failed
        if failed and SEVERITY_RANK[prop.severity] >= threshold:
            failing.append(prop.name)
        properties.append(
            {
                "name": prop.name,
                "severity": prop.severity,
                "tags": list(prop.tags),
                "doc": prop.doc,
                "source": str(result.spec.positions.get(prop.name, "")),
                "backend": res.backend,
                "backend_reason": res.reason,
                "passed": table.n_traces - failed,
                "failed": failed,
                "traces": traces,
            }
        )
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
            "fail_on": fail_on,
            "failing_at_or_above_fail_on": failing,
            "input_errors": sum(1 for d in diagnostics if d.severity == "error"),
        },
        "properties": properties,
        "timings": {k: round(v, 6) for k, v in result.timings.items()}
        | {f"property.{r.name}": round(r.seconds, 6) for r in result.results},
    }
