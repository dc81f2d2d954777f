"""Reading OTLP/JSON: one document or JSON lines, the compiled walker first when it pays.

:func:`load_otlp_json` is what :mod:`workbench.traces.detect` calls once a source sniffs as
OTLP/JSON. Every document goes the fast path (the compiled walker of
:mod:`workbench.traces.otlp_json_fast`, then the batched lazy decoder of
:mod:`workbench.traces.otlp_json`) where it can, and the tolerant path (repair, salvage of the
records before a damage) where it cannot; a broken line of JSON lines costs one diagnostic.
"""

from __future__ import annotations

import dataclasses
import os
import re
import sys
from collections.abc import Iterator

import msgspec

from workbench.errors import Diagnostic
from workbench.traces import otlp_json, otlp_json_lazy
from workbench.traces.builder import TableBuilder
from workbench.traces.otlp_repair import Repairer, decode_error_diagnostic, repair_document
from workbench.traces.salvage import (
    Utf8Report,
    damage_offset,
    decode_json,
    salvage_json,
    sanitize_utf8,
)

_NON_SPACE = re.compile(rb"[^ \t\r\n]")


def _invalid(exc: Exception, data: bytes, file: str, line: int | None) -> Diagnostic:
    if isinstance(exc, RecursionError):
        return Diagnostic(file, "", "invalid JSON: nested too deeply", "error", line)
    return decode_error_diagnostic(exc, data, file, (line or 1) - 1)


_DECODE_ERRORS = (msgspec.DecodeError, UnicodeDecodeError, RecursionError)


def _fail(exc: Exception, data: bytes, b: TableBuilder, file: str, line: int | None) -> str:
    b.diagnostics.append(_invalid(exc, data, file, line))
    return "invalid"


def _salvage_one(
    data: bytes, exc: Exception, batcher: otlp_json_lazy.SpanBatcher, line: int | None
) -> str:
    """Report the damage, then read the records before it (:func:`salvage_json`)."""
    diagnostics = batcher.builder.diagnostics
    at = len(diagnostics)
    diagnostics.append(_invalid(exc, data, batcher.file, line))
    if isinstance(exc, RecursionError):
        return "invalid"
    fixed = salvage_json(data, damage_offset(exc, data))
    status = "invalid"
    if fixed is not None:
        batcher.flush()
        before = len(batcher.builder)
        status = _load_one(fixed, batcher, line, salvage=False)
        batcher.flush()
        diagnostics[at] = kept(diagnostics[at], len(batcher.builder) - before)
    return "invalid" if status == "not-otlp" else status


def kept(diagnostic: Diagnostic, n: int) -> Diagnostic:
    """``diagnostic`` (a decode error) saying that ``n`` spans before the damage were read."""
    if n <= 0:
        return diagnostic
    what = "the span" if n == 1 else f"all {n} spans"
    message = f"{diagnostic.message}; {what} before it read, the record at the damage dropped"
    return dataclasses.replace(diagnostic, message=message)


def _load_one(
    data: bytes, batcher: otlp_json_lazy.SpanBatcher, line: int | None, salvage: bool = True
) -> str:
    """Queue (fast path) or append (tolerant path) one document; returns its status."""
    b = batcher.builder
    try:
        doc = otlp_json_lazy.LAZY_DECODER.decode(data)
    except msgspec.ValidationError:
        doc = None
    except _DECODE_ERRORS as exc:
        return (
            _salvage_one(data, exc, batcher, line)
            if salvage
            else _fail(exc, data, b, batcher.file, line)
        )
    if doc is not None:
        found = otlp_json_lazy.lazy_resource_spans(doc)
        if found is None:
            return "not-otlp"
        try:
            batcher.add(found[0], found[1], line)
            return "ok"
        except otlp_json.Fallback:
            pass
    # the tolerant path, in input order
    batcher.flush()
    try:
        obj = decode_json(data)
    except _DECODE_ERRORS as exc:
        return (
            _salvage_one(data, exc, batcher, line)
            if salvage
            else _fail(exc, data, b, batcher.file, line)
        )
    repairer = Repairer(batcher.file, b.diagnostics, line)
    status, repaired = repair_document(obj, repairer)
    if repaired is not None:
        otlp_json.append_resource_spans(b, repaired, batcher.file, repairer.where)
    return status


def load_otlp_json(data: bytes, name: str, builder: TableBuilder) -> str:
    """Load OTLP/JSON text, JSON lines or one document, into ``builder``; its status
    (``"ok"``, ``"not-otlp"`` or ``"invalid"``)."""
    if looks_like_json_lines(data):
        return load_otlp_json_lines(data, name, builder)
    return load_otlp_document(data, name, builder)


def load_otlp_document(data: bytes, file: str, builder: TableBuilder) -> str:
    """Load one OTLP/JSON document into ``builder``.

    Parameters
    ----------
    data
        The JSON text (``ExportTraceServiceRequest``, ``TracesData`` or ``{"result": ...}``).
    file
        Name for diagnostics and the ``source`` column.
    builder
        Receives spans and diagnostics.

    Returns
    -------
    str
        ``"ok"``, ``"not-otlp"`` (valid JSON without ``resourceSpans``) or ``"invalid"``.
    """
    if want_fast(builder, len(data), FAST_JSON_MIN_BYTES, COLD_JSON_MIN_BYTES,
                 "workbench.traces.kernels_json") and _fast_json(data, file, builder):
        return "ok"
    batcher = otlp_json_lazy.SpanBatcher(builder, file)
    status = _load_one(data, batcher, None)
    batcher.flush()
    return status


#: OTLP/JSON inputs of at least this many bytes go through the compiled walker first
#: (:mod:`workbench.traces.otlp_json_fast`) once its kernels are loaded in this process, or
#: once one load has met :data:`COLD_JSON_MIN_BYTES` of OTLP/JSON: loading the cached kernels
#: costs about half a second, which the walker repays from about 100k spans on
FAST_JSON_MIN_BYTES = 1 << 20
COLD_JSON_MIN_BYTES = 48 << 20


def want_fast(builder: TableBuilder, nbytes: int, warm_min: int, cold_min: int,
              module: str) -> bool:
    """Whether an input of ``nbytes`` goes to a compiled walker (see
    :data:`FAST_JSON_MIN_BYTES`); counts the bytes this builder has been given."""
    builder.fast_bytes_seen += nbytes
    if nbytes < warm_min or not fast_readers():
        return False
    return module in sys.modules or builder.fast_bytes_seen >= cold_min


#: set to ``0`` to read every input with the reference readers (no compiled walkers)
FAST_READERS_ENV = "OTLSPEC_FAST_READERS"


def fast_readers() -> bool:
    """Whether the compiled walkers may be used (:data:`FAST_READERS_ENV` is not ``0``)."""
    return os.environ.get(FAST_READERS_ENV, "1").strip() != "0"


def _fast_json(data: bytes, file: str, builder: TableBuilder, lines: bool = False) -> bool:
    """Read one document (or, with ``lines``, JSON lines) with the compiled walker; False
    (nothing appended) when it declines."""
    if not fast_readers():
        return False
    from workbench.traces.otlp_json_fast import load_document

    return load_document(data, file, builder, lines)


def _first_lines(data: bytes, count: int) -> list[bytes]:
    """The first ``count`` non-empty lines, found without copying the rest of the data."""
    out: list[bytes] = []
    pos = 0
    while len(out) < count:
        m = _NON_SPACE.search(data, pos)
        if m is None:
            break
        end = data.find(b"\n", m.start())
        if end < 0:
            end = len(data)
        out.append(data[m.start() : end])
        pos = end + 1
    return out


def looks_like_json_lines(data: bytes) -> bool:
    """JSON lines: the first two non-empty lines start with ``{`` and one of them is a whole
    JSON value on its own (a pretty-printed document's lines never are)."""
    first = _first_lines(data, 2)
    if len(first) < 2 or not all(line[:1] == b"{" for line in first):
        return False
    for line in first:
        if not line.isascii():  # invalid UTF-8 in a line does not make it a document
            line = line.decode("utf-8", "replace").encode()
        try:
            msgspec.json.decode(line)
        except _DECODE_ERRORS:
            continue
        return True
    return False


def load_otlp_json_lines(data: bytes, file: str, builder: TableBuilder) -> str:
    """Load OTLP/JSON lines (one request per line, as the Collector's file exporter writes).

    A broken line costs a diagnostic with its line number; every other line is loaded, and
    spans of consecutive lines share decoding batches.

    Returns
    -------
    str
        ``"ok"`` when at least one line held traces, else ``"not-otlp"`` or ``"invalid"``.
    """
    batcher = otlp_json_lazy.SpanBatcher(builder, file)
    fast = want_fast(builder, len(data), FAST_JSON_MIN_BYTES, COLD_JSON_MIN_BYTES,
                     "workbench.traces.kernels_json")
    statuses = _load_lines(batcher, data, 0, fast)
    batcher.flush()
    return lines_status(statuses)


def _load_lines(batcher: otlp_json_lazy.SpanBatcher, data: bytes, base: int,
                fast: bool) -> set[str]:
    """Load the JSON lines of ``data`` (line numbers after ``base``); their statuses."""
    builder, file = batcher.builder, batcher.file
    if fast:
        batcher.flush()
        if _fast_json(data, file, builder, lines=True):  # all the lines in one walk
            return {"ok"}
    statuses = set()
    for number, raw in enumerate(data.split(b"\n"), start=base + 1):
        if not raw.strip():
            continue
        if fast:
            batcher.flush()  # keep the input order with the lines read the slow way
            if _fast_json(raw, file, builder):
                statuses.add("ok")
                continue
        status = _load_one(raw, batcher, number)
        statuses.add(status)
        if status == "not-otlp":
            builder.diagnostics.append(
                Diagnostic(file, "", "line holds no resourceSpans; skipped", "warning", number)
            )
    return statuses


def lines_status(statuses: set[str]) -> str:
    """The status of JSON lines from those of their lines."""
    if "ok" in statuses:
        return "ok"
    return "invalid" if "invalid" in statuses else "not-otlp"


def line_chunks(path: str, size: int) -> Iterator[tuple[bytes, int]]:
    """Line-aligned chunks of a file, each with the number of lines before it.

    A line longer than ``size`` is gathered block by block (each block searched once for a
    line end, and joined once), so a file of long lines costs no more than one of short ones.
    """
    lines_before = 0
    rest: list[bytes] = []  # blocks of the line under way (no line end in them)
    with open(path, "rb") as fh:
        first = True
        while True:
            block = fh.read(size)
            if first and block[:3] == b"\xef\xbb\xbf":
                block = block[3:]
            first = False
            if not block:
                if rest:
                    yield b"".join(rest), lines_before
                return
            cut = block.rfind(b"\n")
            if cut < 0:
                rest.append(block)
                continue
            chunk = b"".join([*rest, block[: cut + 1]]) if rest else block[: cut + 1]
            rest = [block[cut + 1 :]] if cut + 1 < len(block) else []
            yield chunk, lines_before
            lines_before += chunk.count(b"\n")


def load_lines_chunk(data: bytes, file: str, builder: TableBuilder, base: int) -> set[str]:
    """Load one chunk of whole JSON lines (sanitized; ``base`` lines before it in the file)
    into ``builder``; the statuses of its lines."""
    batcher = otlp_json_lazy.SpanBatcher(builder, file)
    statuses = _load_lines(batcher, data, base, True)
    batcher.flush()
    return statuses


def load_otlp_json_lines_file(path: str, builder: TableBuilder, chunk_size: int) -> str:
    """:func:`load_otlp_json_lines` over a file read in chunks of whole lines of about
    ``chunk_size`` bytes (bounded memory for the input; diagnostics keep the file's line
    numbers)."""
    statuses: set[str] = set()
    report = Utf8Report(path)
    for chunk, base in line_chunks(path, chunk_size):
        chunk = sanitize_utf8(chunk, path, builder.diagnostics, base, report)
        statuses |= load_lines_chunk(chunk, path, builder, base)
    report.finish(builder.diagnostics)
    return lines_status(statuses)
