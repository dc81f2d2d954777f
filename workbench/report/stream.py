"""Writing reports to a file as they are encoded (msgspec), without building them whole.

The JSON report is written head first (tool, spec, params, input, summary), then one property
at a time, each property's listed traces in blocks of :data:`TRACE_BLOCK`, then the timings;
SARIF streams its results the same way. Peak memory is one block, not the report.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from typing import IO, Any

import msgspec

from workbench.engine.base import CheckResult
from workbench.errors import Diagnostic
from workbench.report.model import (
    TraceSources,
    build_report,
    iter_trace_entries,
    property_meta,
    report_head,
    report_timings,
)
from workbench.report.sarif import sarif_log, sarif_results, sarif_rules

#: Trace entries encoded per write.
TRACE_BLOCK = 4096

_ENCODER = msgspec.json.Encoder()


def _open_tail(encoded: bytes, tail: bytes) -> bytes:
    """``encoded`` without its closing ``tail`` (the empty list that is streamed instead)."""
    assert encoded.endswith(tail), encoded[-20:]
    return encoded[: -len(tail)]


def _write_list(out: IO[bytes], items: Iterable[Any], first: bool = True) -> bool:
    """Write ``items`` as comma-separated JSON values, in blocks; returns whether none was."""
    block: list[Any] = []

    def flush() -> None:
        nonlocal first
        if not block:
            return
        data = _ENCODER.encode(block)[1:-1]  # the values without the list's brackets
        out.write(data if first else b"," + data)
        first = False
        block.clear()

    for item in items:
        block.append(item)
        if len(block) >= TRACE_BLOCK:
            flush()
    flush()
    return first


def write_json(
    result: CheckResult,
    out: IO[bytes],
    *,
    spec_files: Sequence[str] = (),
    trace_inputs: Sequence[str] = (),
    diagnostics: Sequence[Diagnostic] = (),
    fail_on: str = "error",
    verdicts: str = "failed",
) -> dict[str, Any]:
    """Stream the JSON report (schema v2) to ``out``; returns its head (summary included)."""
    head = report_head(result, spec_files=spec_files, trace_inputs=trace_inputs,
                       diagnostics=diagnostics, fail_on=fail_on, verdicts=verdicts)
    out.write(_open_tail(_ENCODER.encode(head), b"}"))
    out.write(b',"properties":[\n')
    sources = TraceSources(result.table)
    for k, res in enumerate(result.results):
        meta = property_meta(result, res) | {"traces": []}
        if k:
            out.write(b",\n")
        out.write(_open_tail(_ENCODER.encode(meta), b"]}"))
        _write_list(out, iter_trace_entries(result, res, sources, verdicts))
        out.write(b"]}")
    out.write(b'\n],"timings":')
    out.write(_ENCODER.encode(report_timings(result)))
    out.write(b"}\n")
    return head


def write_sarif(report: dict[str, Any], out: IO[bytes]) -> None:
    """Stream the SARIF log of ``report`` (a :func:`build_report` dict) to ``out``."""
    log = sarif_log(report, sarif_rules(report["properties"]), [])
    out.write(_open_tail(_ENCODER.encode(log), b"]}]}"))
    first = True
    for i, prop in enumerate(report["properties"]):
        first = _write_list(out, sarif_results(prop, i), first)
    out.write(b"]}]}\n")


def write_report(
    result: CheckResult,
    fmt: str,
    out: IO[bytes],
    *,
    spec_files: Sequence[str] = (),
    trace_inputs: Sequence[str] = (),
    diagnostics: Sequence[Diagnostic] = (),
    fail_on: str = "error",
    verdicts: str = "failed",
    top: int = 20,
    color: bool = False,
) -> dict[str, Any]:
    """Write the report of ``result`` as ``fmt`` (text, json, sarif, junit) to a binary file.

    Parameters
    ----------
    result
        The check run.
    fmt
        ``"text"``, ``"json"``, ``"sarif"`` or ``"junit"``.
    out
        A binary file (``sys.stdout.buffer``, ``open(path, "wb")``).
    verdicts
        ``"failed"`` lists failing traces only (passing ones are counted); ``"all"`` lists
        every (property, trace) verdict (``--all-verdicts``). Text output always shows
        failures only.

    Returns
    -------
    dict
        The report's head: ``summary`` says what failed (for the exit code).
    """
    common: dict[str, Any] = dict(spec_files=spec_files, trace_inputs=trace_inputs,
                                  diagnostics=diagnostics, fail_on=fail_on)
    if fmt == "json":
        return write_json(result, out, verdicts=verdicts, **common)
    report = build_report(result, verdicts="failed" if fmt == "text" else verdicts, **common)
    if fmt == "sarif":
        write_sarif(report, out)
    elif fmt == "junit":
        from workbench.report.junit import to_junit

        out.write(to_junit(report).encode("utf-8"))
    else:
        from rich.console import Console

        from workbench.report.text import render_text

        text = io.TextIOWrapper(out, encoding="utf-8", write_through=True)
        # on a terminal 120 columns; redirected to a file or a pipe, never wrap (paths, messages)
        console = Console(file=text, force_terminal=color, width=120 if color else 1_000_000,
                          soft_wrap=not color, highlight=False)
        render_text(report, console, top=top)
        text.flush()
        text.detach()
    return report
