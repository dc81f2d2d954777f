"""Report writers: text (rich), JSON (versioned schema), SARIF 2.1.0 and JUnit XML."""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from typing import Any

from workbench.engine.base import CheckResult
from workbench.errors import Diagnostic
from workbench.report.junit import to_junit
from workbench.report.model import SCHEMA, SCHEMA_VERSION, build_report
from workbench.report.sarif import to_sarif


def render(
    result: CheckResult,
    fmt: str,
    *,
    spec_files: Sequence[str] = (),
    trace_inputs: Sequence[str] = (),
    diagnostics: Sequence[Diagnostic] = (),
    fail_on: str = "error",
    verdicts: str = "all",
    top: int = 20,
    color: bool = False,
) -> tuple[dict[str, Any], str]:
    """Build the report and render it as ``fmt``; returns (report data, text)."""
    report = build_report(
        result,
        spec_files=spec_files,
        trace_inputs=trace_inputs,
        diagnostics=diagnostics,
        fail_on=fail_on,
        verdicts="failed" if fmt == "text" else verdicts,
    )
    if fmt == "json":
        return report, json.dumps(report, indent=2)
    if fmt == "sarif":
        return report, json.dumps(to_sarif(report), indent=2)
    if fmt == "junit":
        return report, to_junit(report)
    from rich.console import Console

    from workbench.report.text import render_text

    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=color, width=120, highlight=False)
    render_text(report, console, top=top)
    return report, buffer.getvalue()


__all__ = ["SCHEMA", "SCHEMA_VERSION", "build_report", "render", "to_junit", "to_sarif"]
