"""The public trace loader: sources in, one :class:`~workbench.traces.model.SpanTable` out.

Formats are recognised by content, never by file name:

==================  ==========================================================================
``otlp-json``       ``{"resourceSpans": ...}``, the Jaeger v3 ``{"result": {...}}`` wrapper,
                    Grafana Tempo's ``{"batches": [...]}`` (v1) and ``{"trace": {...}}`` (v2),
                    and JSON lines of any of them (the Collector's file exporter)
``otlp-proto``      binary ``ExportTraceServiceRequest`` / ``TracesData``
``jaeger``          query API ``{"data": [trace, ...]}``, one ``{traceID, spans, processes}``
                    trace, or api_v2 model JSON (``spans[].traceId`` base64, ``process``),
                    also with proto field names in ``{"batch": ...}`` objects (or a list)
``zipkin``          Zipkin v2 or v1 JSON span lists (and lists of v1 batches)
==================  ==========================================================================

Compression (gzip, zstd) is recognised by magic bytes and length-prefixed record files are
split (:mod:`workbench.traces.container`); OTLP/JSON documents and JSON lines are read by
:mod:`workbench.traces.otlp_json_load`. Everything that goes wrong is a
:class:`~workbench.errors.Diagnostic` on the table; only when nothing at all could be read does
:func:`load_traces` raise :class:`~workbench.errors.TraceInputError`.
"""

from __future__ import annotations

import gc
import glob
import os
import re
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import msgspec

from workbench.errors import Diagnostic, TraceInputError
from workbench.traces import jaeger, jaeger_fast, json_stream, zipkin, zipkin_fast
from workbench.traces.builder import TableBuilder
from workbench.traces.container import (
    COMPRESSED_SUFFIXES,
    is_compressed,
    size_limit,
    too_big,
    unpack,
)
from workbench.traces.jobs import resolve_jobs
from workbench.traces.model import SpanTable
from workbench.traces.otlp_json_load import (  # re-exported: the loader's public names
    COLD_JSON_MIN_BYTES,
    FAST_JSON_MIN_BYTES,
    FAST_READERS_ENV,
    fast_readers,
    kept,
    load_otlp_document,
    load_otlp_json,
    load_otlp_json_lines,
    load_otlp_json_lines_file,
    looks_like_json_lines,
    want_fast,
)
from workbench.traces.otlp_repair import decode_error_diagnostic, locate_resource_spans
from workbench.traces.salvage import damage_offset, decode_json, salvage_json, sanitize_utf8

__all__ = [
    "COLD_JSON_MIN_BYTES",
    "FAST_JSON_MIN_BYTES",
    "FAST_READERS_ENV",
    "FORMATS",
    "STDIN",
    "STREAM_CHUNK",
    "STREAM_MIN_BYTES",
    "TRACE_SUFFIXES",
    "Source",
    "Streamed",
    "StreamedDocument",
    "classify",
    "detect_format",
    "fast_readers",
    "gc_paused",
    "is_trace_file_name",
    "load_bytes",
    "load_otlp_document",
    "load_otlp_json_lines",
    "load_otlp_json_lines_file",
    "load_traces",
    "looks_like_json_lines",
    "want_fast",
]

#: File name endings a directory source is searched for.
TRACE_SUFFIXES = (".json", ".jsonl", ".ndjson", ".pb", ".protobuf", ".protobuf-bin", ".bin")
FORMATS = ("auto", "otlp-json", "otlp-proto", "jaeger", "zipkin")
STDIN = "<stdin>"

_NON_SPACE = re.compile(rb"[^ \t\r\n]")
_BINARY = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_GLOB = re.compile(r"[*?\[]")

Source = str | os.PathLike[str]


class _LazyProto:
    """:mod:`workbench.traces.otlp_proto`, imported on first use (the protobuf runtime and the
    generated classes take a while to import and most inputs are JSON)."""

    def __getattr__(self, name: str) -> Any:
        from workbench.traces import otlp_proto as module

        return getattr(module, name)


otlp_proto = _LazyProto()


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cycle collector: decoding allocates millions of acyclic objects and the
    collector's generation scans would otherwise cost more than the decoding itself."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


# ---------------------------------------------------------------------- public API


def load_traces(
    sources: Source | Iterable[Source],
    *,
    format: str = "auto",
    max_bytes: int | None = None,
    jobs: int | None = None,
) -> SpanTable:
    """Load trace files into one span table.

    Parameters
    ----------
    sources
        A path or an iterable of them: files, directories (searched recursively for
        :data:`TRACE_SUFFIXES`), glob patterns (``**`` allowed), or ``"-"`` for stdin.
    format
        One of :data:`FORMATS`; ``"auto"`` recognises each source by its content.
    max_bytes
        Per-source size limit in bytes, also after decompression; a larger source is skipped
        with an error diagnostic. None: ``$OTLSPEC_MAX_BYTES`` or 4 GiB; 0: no limit.
    jobs
        Threads that read sources (several files, chunks of a large file) at once; the table
        is the same for every value (:mod:`workbench.traces.parallel`). None:
        ``$OTLSPEC_JOBS`` or the available cores; 1: read one piece after another.

    Returns
    -------
    SpanTable
        All spans of all sources; a trace split across files or batches is joined by its id.
        ``table.diagnostics`` lists every problem met (with file, record path, line/column).

    Raises
    ------
    TraceInputError
        When nothing could be read: no source was trace input, or not a single span could be
        read and something went wrong (an empty but valid trace file gives an empty table).
    ValueError
        For an unknown ``format``.
    """
    _check_format(format)
    if isinstance(sources, str | os.PathLike):
        sources = [sources]
    builder = TableBuilder()
    read_any = False
    limit = size_limit(max_bytes)
    threads = resolve_jobs(jobs)
    with gc_paused():
        if threads > 1:
            from workbench.traces.parallel import load_parallel

            read_any = load_parallel(sources, format, limit, builder, threads)
        else:
            for source in sources:
                for name, data in _expand(source, limit, builder.diagnostics):
                    if _load_into(data, name, format, builder, limit):
                        read_any = True
        errors = any(d.severity == "error" for d in builder.diagnostics)
        if not read_any or (len(builder) == 0 and errors):
            raise TraceInputError(
                builder.diagnostics or [Diagnostic("", "", "no trace input given")]
            )
        return builder.build()


def load_bytes(
    data: bytes,
    name: str,
    format: str = "auto",
    builder: TableBuilder | None = None,
    *,
    max_bytes: int | None = None,
) -> TableBuilder:
    """Decode one in-memory source and append its spans to ``builder``.

    Parameters
    ----------
    data
        The raw bytes (JSON text, JSON lines, or binary protobuf; gzip and zstd are
        unpacked, length-prefixed records split).
    name
        The name diagnostics and the ``source`` column use (usually the file path).
    format
        One of :data:`FORMATS`.
    builder
        The builder to append to; a new one when None.
    max_bytes
        Size limit after decompression (see :func:`load_traces`).

    Returns
    -------
    TableBuilder
        ``builder`` (or the new one); problems are in ``builder.diagnostics``.
    """
    _check_format(format)
    builder = TableBuilder() if builder is None else builder
    with gc_paused():
        _load_into(data, name, format, builder, size_limit(max_bytes))
    return builder


def detect_format(data: bytes) -> str:
    """Best guess of the format of ``data`` from its first bytes (a cheap sniff).

    Returns ``"otlp-json"``, ``"otlp-proto"``, ``"json"`` (some other JSON: Jaeger, Zipkin or
    not traces, told apart after decoding) or ``"empty"``.
    """
    m = _NON_SPACE.search(data)
    if m is None:
        return "empty"
    if data[m.start() : m.start() + 1] in (b"{", b"[") and not _BINARY.search(data, 0, 512):
        if data.find(b'"resourceSpans"') >= 0 or data.find(b'"batches"') >= 0:
            return "otlp-json"
        return "json"
    return "otlp-proto"


# ---------------------------------------------------------------------- sources


def _check_format(format: str) -> None:
    if format not in FORMATS:
        raise ValueError(f"unknown trace format {format!r}; expected one of {', '.join(FORMATS)}")


def is_trace_file_name(name: str) -> bool:
    """Whether a directory search picks this file: a :data:`TRACE_SUFFIXES` ending, possibly
    followed by a compression ending (``spans.json.gz``, ``export.pb.zst``)."""
    low = name.lower()
    for suffix in COMPRESSED_SUFFIXES:
        if low.endswith(suffix):
            low = low[: -len(suffix)]
            break
    return low.endswith(TRACE_SUFFIXES)


Reader = Callable[[str, int, list[Diagnostic]], Iterator[tuple[str, bytes]]]


def _expand(
    source: Source, limit: int, diagnostics: list[Diagnostic], read: Reader | None = None
) -> Iterator[tuple[str, bytes]]:
    """``(name, bytes)`` of every file a source names, each as ``read`` (None: :func:`_read`)
    gives it; problems become diagnostics."""
    read = _read if read is None else read
    text = os.fspath(source)
    if text == "-":
        data = sys.stdin.buffer.read(limit + 1) if limit else sys.stdin.buffer.read()
        if limit and len(data) > limit:
            diagnostics.append(too_big(STDIN, None, limit))
            return
        yield STDIN, data
        return
    path = Path(text)
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and is_trace_file_name(p.name))
        if not files:
            diagnostics.append(Diagnostic(text, "", "directory holds no trace files", "error"))
        for file in files:
            yield from read(str(file), limit, diagnostics)
        return
    if path.exists():
        yield from read(text, limit, diagnostics)
        return
    if _GLOB.search(text):
        matches = sorted(glob.glob(text, recursive=True))
        if not matches:
            diagnostics.append(Diagnostic(text, "", "no file matches this pattern", "error"))
        for match in matches:
            yield from _expand(match, limit, diagnostics, read)
        return
    diagnostics.append(Diagnostic(text, "", "no such file or directory", "error"))


#: plain (uncompressed) OTLP/JSON-lines files of at least this many bytes are read in chunks
#: of :data:`STREAM_CHUNK` bytes, so the whole file is never resident (only the table grows)
STREAM_MIN_BYTES = 64 << 20
STREAM_CHUNK = 8 << 20


class Streamed(bytes):
    """Stands for a file of JSON lines read chunk by chunk (its bytes are its path, for
    diagnostics only)."""


class StreamedDocument(bytes):
    """Stands for an OTLP/JSON document read group by group (:mod:`json_stream`)."""


def _streamable(name: str, size: int) -> bool:
    """Whether ``name`` is large plain OTLP/JSON lines (read by :class:`Streamed` chunks)."""
    return _stream_kind(name, size) is Streamed


def _stream_kind(name: str, size: int) -> type[bytes] | None:
    """:class:`Streamed` (JSON lines), :class:`StreamedDocument` (one OTLP/JSON document
    whose ResourceSpans list can be cut) or None (read whole) for a file of ``size`` bytes."""
    if size < STREAM_MIN_BYTES:
        return None
    with open(name, "rb") as fh:
        head = fh.read(1 << 20)
        if is_compressed(head) or head[:1] == b"\x00":
            return None
        head = head[3:] if head[:3] == b"\xef\xbb\xbf" else head
        if detect_format(head) != "otlp-json":
            return None
        if looks_like_json_lines(head) or _long_first_line(fh, head):
            return Streamed
    return StreamedDocument if json_stream.streamable_head(head) else None


def _long_first_line(fh: Any, head: bytes) -> bool:
    """Whether a file whose first line is not over within ``head`` (or whose second line is
    not in it) holds JSON lines: its first line is one whole JSON value and the next line
    opens another (else it is one document)."""
    cut = head.find(b"\n")
    if cut >= 0:
        if head[cut + 1 :].strip():
            return False  # two lines in the head: looks_like_json_lines has judged them
        parts, rest = [head[:cut]], b""
    else:
        parts = [head]
        while True:
            block = fh.read(1 << 20)
            if not block:
                return False
            cut = block.find(b"\n")
            if cut >= 0:
                parts.append(block[:cut])
                rest = block[cut + 1 :]
                break
            parts.append(block)
    nxt = rest.lstrip() or fh.read(1 << 10).lstrip()
    if nxt[:1] != b"{":
        return False
    try:
        msgspec.json.decode(b"".join(parts), type=msgspec.Raw)
    except msgspec.DecodeError:
        return False
    return True


def _read(name: str, limit: int, diagnostics: list[Diagnostic]) -> Iterator[tuple[str, bytes]]:
    try:
        size = os.path.getsize(name)
        if limit and size > limit:
            diagnostics.append(too_big(name, size, limit))
            return
        kind = _stream_kind(name, size)
        if kind is not None:
            yield name, kind(name.encode())
            return
        with open(name, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        diagnostics.append(Diagnostic(name, "", f"cannot read: {exc.strerror or exc}", "error"))
        return
    yield name, data


# ---------------------------------------------------------------------- dispatch


def _load_into(
    data: bytes,
    name: str,
    format: str,
    builder: TableBuilder,
    limit: int,
    unpacked: bool = False,
) -> bool:
    """Decode one source into ``builder``; True when it was read as trace input."""
    diagnostics = builder.diagnostics
    if isinstance(data, Streamed):
        return load_otlp_json_lines_file(name, builder, STREAM_CHUNK) == "ok"
    if isinstance(data, StreamedDocument):
        if format in ("auto", "otlp-json"):
            return json_stream.load_document_file(name, builder, STREAM_CHUNK) == "ok"
        with open(name, "rb") as fh:  # another format asked for: read whole, as told
            data = fh.read()
    if not unpacked and (is_compressed(data) or data[:1] == b"\x00"):
        docs = unpack(data, name, limit, diagnostics)
        if docs is None:
            return False
        if len(docs) != 1:  # length-prefixed records (the Collector's file exporter)
            loaded = [_load_into(d, name, format, builder, limit, True) for d in docs]
            return any(loaded)
        data = docs[0]
    elif limit and len(data) > limit:
        diagnostics.append(too_big(name, len(data), limit))
        return False
    if data[:3] == b"\xef\xbb\xbf":
        data = data[3:]
    if format == "otlp-proto":
        return otlp_proto.load(data, name, builder)
    sniff = detect_format(data)
    if sniff == "empty":
        diagnostics.append(Diagnostic(name, "", "empty input", "error"))
        return False
    if sniff == "otlp-proto" and format == "auto":
        return otlp_proto.load(data, name, builder)
    if sniff != "otlp-proto":
        data = sanitize_utf8(data, name, diagnostics)
    if sniff == "otlp-json" and format in ("auto", "otlp-json"):
        status = load_otlp_json(data, name, builder)
        if status != "not-otlp":
            return status == "ok"
    if fast_readers() and _load_typed(data, name, format, builder):
        return True
    try:
        obj = decode_json(data)
    except RecursionError:
        diagnostics.append(Diagnostic(name, "", "invalid JSON: nested too deeply", "error"))
        return False
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:
        if format == "auto" and data[:1] == b"\n" and otlp_proto.parses(data):
            return otlp_proto.load(data, name, builder)
        at = len(diagnostics)
        diagnostics.append(decode_error_diagnostic(exc, data, name))
        fixed = salvage_json(data, damage_offset(exc, data))
        if fixed is None:
            return False
        obj = decode_json(fixed)
        if classify(obj) == "unknown":
            return False
        before = len(builder)
        read = _load_object(obj, name, format, builder)
        diagnostics[at] = kept(diagnostics[at], len(builder) - before)
        return read
    return _load_object(obj, name, format, builder)


def _load_typed(data: bytes, name: str, format: str, builder: TableBuilder) -> bool:
    """Read a well-formed Jaeger query-API or Zipkin v2 document by the typed fast readers;
    False (``builder`` untouched) when they do not accept it."""
    m = _NON_SPACE.search(data)
    head = data[m.start() : m.start() + 1] if m else b""
    if head == b"{" and format in ("auto", "jaeger"):
        return jaeger_fast.load(data, name, builder)
    if head == b"[":
        if format in ("auto", "zipkin") and zipkin_fast.load(data, name, builder):
            return True
        return format in ("auto", "jaeger") and jaeger_fast.load(data, name, builder)
    return False


def classify(obj: Any) -> str:
    """The format of a decoded JSON value: ``otlp-json``, ``jaeger``, ``zipkin``,
    ``otlp-metrics``, ``otlp-logs``, ``otlp-profiles`` or ``unknown``."""
    if isinstance(obj, dict):
        if locate_resource_spans(obj) is not None:
            return "otlp-json"
        result = obj.get("result")
        inner: dict[str, Any] = result if isinstance(result, dict) else obj
        for key, kind in (
            ("resourceSpans", "otlp-json"),
            ("resourceMetrics", "otlp-metrics"),
            ("resourceLogs", "otlp-logs"),
            ("resourceProfiles", "otlp-profiles"),
        ):
            if key in inner:
                return kind
        if jaeger.recognizes(obj):
            return "jaeger"
        return "unknown"
    if isinstance(obj, list):
        if jaeger.recognizes(obj):
            return "jaeger"
        if zipkin.recognizes(obj):
            return "zipkin"
    return "unknown"


def _describe_unknown(obj: Any) -> str:
    if isinstance(obj, dict):
        keys = ", ".join(list(obj)[:5])
        return f"a JSON object with keys {keys}" if keys else "an empty JSON object"
    if isinstance(obj, list):
        return "a JSON list of something else than spans"
    return f"a JSON {type(obj).__name__}"


def _load_object(obj: Any, name: str, format: str, builder: TableBuilder) -> bool:
    kind = classify(obj)
    if format != "auto" and kind != format and not (format == "zipkin" and obj == []):
        if kind.startswith("otlp-") and kind != "otlp-json":
            pass  # reported below as "not a trace file"
        else:
            builder.diagnostics.append(
                Diagnostic(name, "", f"not {format} input (looks like {kind})", "error")
            )
            return False
    if kind == "otlp-json":
        return load_otlp_document(msgspec.json.encode(obj), name, builder) == "ok"
    if kind == "jaeger":
        return jaeger.load(obj, name, builder)
    if kind == "zipkin" or (format == "zipkin" and obj == []):
        return zipkin.load(obj, name, builder)
    if kind in ("otlp-metrics", "otlp-logs", "otlp-profiles"):
        what = kind.replace("otlp-", "OTLP ")
        message = f"not a trace file (looks like {what})"
    else:
        message = f"not a trace file ({_describe_unknown(obj)})"
    builder.diagnostics.append(Diagnostic(name, "", message, "warning"))
    return False
