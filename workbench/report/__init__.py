"""Report writers: text (rich), JSON (versioned schema, v2), SARIF 2.1.0 and JUnit XML.

:func:`write_report` streams a report to a binary file (what the CLI does); :func:`render`
returns it as text. Both list failing (property, trace) pairs with their witnesses and count
the passing ones; ``verdicts="all"`` lists every verdict (``--all-verdicts``).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from workbench.engine.base import CheckResult
from workbench.errors import Diagnostic
from workbench.report.junit import to_junit
from workbench.report.model import SCHEMA, SCHEMA_VERSION, build_report
from workbench.report.sarif import to_sarif
from workbench.report.stream import write_json, write_report


def render(
    result: CheckResult,
    fmt: str,
    *,
    spec_files: Sequence[str] = (),
    trace_inputs: Sequence[str] = (),
    diagnostics: Sequence[Diagnostic] = (),
    fail_on: str = "error",
    verdicts: str = "failed",
    top: int = 20,
    color: bool = False,
) -> tuple[dict[str, Any], str]:
    """Build the report and render it as ``fmt``; returns (report head or data, text)."""
    buffer = io.BytesIO()
    report = write_report(
        result,
        fmt,
        buffer,
        spec_files=spec_files,
        trace_inputs=trace_inputs,
        diagnostics=diagnostics,
        fail_on=fail_on,
        verdicts=verdicts,
        top=top,
        color=color,
    )
    return report, buffer.getvalue().decode("utf-8")


__all__ = [
    "SCHEMA",
    "SCHEMA_VERSION",
    "build_report",
    "render",
    "to_junit",
    "to_sarif",
    "write_json",
    "write_report",
]
