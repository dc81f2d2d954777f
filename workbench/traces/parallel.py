"""Loading on several cores: files, and chunks of one large file, read by a pool of threads.

:func:`~workbench.traces.detect.load_traces` reads its sources one piece after another
(``jobs=1``) or hands them to :func:`load_parallel`, which cuts the same input into the same
pieces the sequential loader reads one by one:

* every plain file (JSON, protobuf, compressed, length-prefixed records) is one piece;
* a large file of OTLP/JSON lines is cut into chunks of whole lines
  (:func:`~workbench.traces.otlp_json_load.line_chunks`), a large OTLP/JSON document into
  groups of whole ResourceSpans (:func:`~workbench.traces.json_stream.document_groups`),
  exactly where the sequential loader cuts them (it reads them in chunks for bounded memory).

Each piece is read into a fresh :class:`~workbench.traces.builder.TableBuilder` by a worker
thread (the compiled readers release the GIL in their kernels: ``nogil=True``); the main thread
finds the pieces (listing files, cutting the large ones, checking their UTF-8, all in file
order) and appends each finished builder to the result in input order with :func:`merge`,
which renumbers string codes, resources and row indices. A string table interns in order of
first appearance, so appending the strings of each piece in order gives the sequential table's
dictionary, code for code; every table column, the diagnostics and their order equal the
sequential load's, and traces split across files or chunks are joined by the build as always.

One difference is deliberate: with two or more pieces the compiled readers' kernel modules
are imported first (:func:`~workbench.traces.blocks.preload_fast_readers`, which
``otlspec check`` does anyway for its numba backends). A sequential load takes the compiled
readers for an input only once they are imported or after 48 MiB of input, a state the pieces
of a parallel load cannot share; with the modules imported, both loads choose alike.
At most ``2 * jobs`` pieces are in flight, so memory stays bounded as in the sequential load.
"""

from __future__ import annotations

import dataclasses
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from itertools import chain
from typing import Any

import numpy as np

from workbench.errors import Diagnostic
from workbench.traces.builder import AttrBuilder, TableBuilder
from workbench.traces.container import too_big
from workbench.traces.json_stream import document_groups, groups_status, load_group
from workbench.traces.model import ATTR_ARRAY, ATTR_BYTES, ATTR_KVLIST, ATTR_STR
from workbench.traces.otlp_json_load import (
    fast_readers,
    line_chunks,
    lines_status,
    load_lines_chunk,
)
from workbench.traces.salvage import Utf8Report, sanitize_utf8

#: attribute value types whose ``sval`` cell is a string code
_STRING_TYPES = np.asarray([ATTR_STR, ATTR_BYTES, ATTR_ARRAY, ATTR_KVLIST], dtype=np.int8)

#: every field of a :class:`TableBuilder` that :func:`merge` carries over (a test keeps it
#: in step with the builder)
MERGED_FIELDS = frozenset({
    "strings", "diagnostics", "trace_key", "span_id", "parent_id", "name", "kind", "status",
    "status_message", "start", "end", "has_end", "flags", "trace_state", "resource", "scope",
    "source", "attrs", "event_counts", "event_name", "event_time", "event_attrs",
    "link_counts", "link_trace_id", "link_span_id", "link_trace_state", "link_flags",
    "link_attrs", "resource_attrs", "resource_service", "_blocks", "_n_blocked",
    "fast_bytes_seen", "id_where",
})


# ---------------------------------------------------------------------- merging builders


def _merge_attrs(dst: AttrBuilder, src: AttrBuilder, remap: np.ndarray) -> None:
    cols = src.columns()
    if cols.offsets.shape[0] <= 1:
        return
    sval = cols.sval.copy()
    is_text = np.isin(cols.type, _STRING_TYPES)
    sval[is_text] = remap[sval[is_text]]
    dst.append_columns(np.diff(cols.offsets), remap[cols.key], cols.type, cols.ival, cols.fval,
                       sval)


def _remapped(codes: list[int], remap: np.ndarray) -> list[int]:
    return remap[np.asarray(codes, dtype=np.int64)].tolist() if codes else []


def merge(dst: TableBuilder, src: TableBuilder) -> None:
    """Append everything ``src`` holds to ``dst``, as if it had been read into ``dst``.

    String codes, resource indices and the row indices of the over-long-id notes are
    renumbered; ``src`` is spent afterwards. ``dst`` gets no spans of its own meanwhile.
    """
    remap = np.asarray(dst.strings.codes(src.strings.strings), dtype=np.int32)
    rows = len(dst)
    resources = np.int32(len(dst.resource_service))
    dst.diagnostics.extend(src.diagnostics)
    dst.fast_bytes_seen += src.fast_bytes_seen
    dst.id_where.update({rows + i: where for i, where in src.id_where.items()})
    _merge_attrs(dst.resource_attrs, src.resource_attrs, remap)
    dst.resource_service.extend(_remapped(src.resource_service, remap))
    for block in src.blocks():
        dst.append_block(dataclasses.replace(
            block,
            name=remap[block.name],
            status_message=remap[block.status_message],
            trace_state=remap[block.trace_state],
            scope=remap[block.scope],
            source=remap[block.source],
            resource=block.resource + resources,
        ))
    _merge_attrs(dst.attrs, src.attrs, remap)
    dst.event_counts.extend(src.event_counts)
    dst.event_name.extend(_remapped(src.event_name, remap))
    dst.event_time.extend(src.event_time)
    _merge_attrs(dst.event_attrs, src.event_attrs, remap)
    dst.link_counts.extend(src.link_counts)
    dst.link_trace_id.extend(src.link_trace_id)
    dst.link_span_id.extend(src.link_span_id)
    dst.link_trace_state.extend(_remapped(src.link_trace_state, remap))
    dst.link_flags.extend(src.link_flags)
    _merge_attrs(dst.link_attrs, src.link_attrs, remap)


# ---------------------------------------------------------------------- the pieces


@dataclasses.dataclass
class Piece:
    """One step of a load, in input order: diagnostics found while finding it (``before``),
    then ``work`` (run by a worker on a fresh builder; None: nothing to read), then ``then``
    (run in order on the result once it is merged: whether the source was trace input)."""

    before: list[Diagnostic]
    work: Callable[[TableBuilder], Any] | None = None
    then: Callable[[Any, TableBuilder], bool] | None = None


class _Deferred(bytes):
    """Stands for a plain file read whole by the worker that loads it (its bytes: the path)."""


def _plan_read(name: str, limit: int, diagnostics: list[Diagnostic]
               ) -> Iterator[tuple[str, bytes]]:
    """:func:`~workbench.traces.detect._read` without the reading: what kind of piece a file
    is (the worker reads a plain file; the main thread cuts the large ones)."""
    from workbench.traces.detect import _stream_kind

    try:
        size = os.path.getsize(name)
        if limit and size > limit:
            diagnostics.append(too_big(name, size, limit))
            return
        kind = _stream_kind(name, size) or _Deferred
    except OSError as exc:
        diagnostics.append(Diagnostic(name, "", f"cannot read: {exc.strerror or exc}", "error"))
        return
    yield name, kind(name.encode())


def _read_and_load(name: str, format: str, limit: int, b: TableBuilder) -> bool:
    from workbench.traces.detect import _load_into

    try:
        with open(name, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        b.diagnostics.append(Diagnostic(name, "", f"cannot read: {exc.strerror or exc}", "error"))
        return False
    return _load_into(data, name, format, b, limit)


def _lines_pieces(name: str) -> Iterator[Piece]:
    """The chunks of a large file of JSON lines (as ``load_otlp_json_lines_file`` reads it)."""
    from workbench.traces.detect import STREAM_CHUNK

    report = Utf8Report(name)
    statuses: set[str] = set()

    def gather(found: set[str], _: TableBuilder) -> bool:
        statuses.update(found)
        return False

    def finish(_: Any, b: TableBuilder) -> bool:
        report.finish(b.diagnostics)
        return lines_status(statuses) == "ok"

    for chunk, base in line_chunks(name, STREAM_CHUNK):
        found: list[Diagnostic] = []
        chunk = sanitize_utf8(chunk, name, found, base, report)

        def work(b: TableBuilder, chunk: bytes = chunk, base: int = base) -> set[str]:
            return load_lines_chunk(chunk, name, b, base)

        yield Piece(found, work, gather)
    yield Piece([], None, finish)


def _document_pieces(name: str) -> Iterator[Piece]:
    """The groups of a large OTLP/JSON document (as ``load_document_file`` reads it)."""
    from workbench.traces.detect import STREAM_CHUNK

    report = Utf8Report(name)
    statuses: set[str] = set()

    def gather(status: str, _: TableBuilder) -> bool:
        statuses.add(status)
        return False

    def finish(_: Any, b: TableBuilder) -> bool:
        report.finish(b.diagnostics)
        return groups_status(statuses) == "ok"

    for group, doc, found, head in document_groups(name, STREAM_CHUNK, report):

        def work(b: TableBuilder, doc: bytes = doc, group: Any = group, head: int = head) -> str:
            return load_group(doc, group, head, name, b)

        yield Piece(found, work, gather)
    yield Piece([], None, finish)


def _returned(result: bool, _: TableBuilder) -> bool:
    return result


def plan(sources: Iterable[Any], format: str, limit: int) -> Iterator[Piece]:
    """The pieces of a load of ``sources``, in input order (files are listed, and large ones
    cut, only as the pieces are taken)."""
    from workbench.traces.detect import Streamed, StreamedDocument, _expand, _load_into

    for source in sources:
        found: list[Diagnostic] = []
        for name, data in _expand(source, limit, found, _plan_read):
            if found:
                yield Piece(list(found))
                found.clear()
            if isinstance(data, Streamed):
                yield from _lines_pieces(name)
            elif isinstance(data, StreamedDocument) and format in ("auto", "otlp-json"):
                yield from _document_pieces(name)
            elif isinstance(data, _Deferred):

                def read(b: TableBuilder, name: str = name) -> bool:
                    return _read_and_load(name, format, limit, b)

                yield Piece([], read, _returned)
            else:  # stdin, or a large document read whole as another format

                def load(b: TableBuilder, name: str = name, data: bytes = data) -> bool:
                    return _load_into(data, name, format, b, limit)

                yield Piece([], load, _returned)
        if found:
            yield Piece(list(found))


# ---------------------------------------------------------------------- running


def _run(work: Callable[[TableBuilder], Any]) -> tuple[TableBuilder, Any]:
    b = TableBuilder()
    return b, work(b)


def _finish(piece: Piece, future: Future[tuple[TableBuilder, Any]] | None,
            builder: TableBuilder) -> bool:
    builder.diagnostics.extend(piece.before)
    result = None
    if future is not None:
        part, result = future.result()
        merge(builder, part)
    return bool(piece.then(result, builder)) if piece.then is not None else False


def load_parallel(sources: Iterable[Any], format: str, limit: int, builder: TableBuilder,
                  jobs: int) -> bool:
    """Read ``sources`` into ``builder`` with ``jobs`` worker threads.

    Parameters
    ----------
    sources
        Paths, directories, globs or ``"-"`` (as :func:`~workbench.traces.load_traces`).
    format
        One of :data:`~workbench.traces.detect.FORMATS`.
    limit
        The per-source size limit in bytes (0: none).
    builder
        Receives the spans and diagnostics, in the order a sequential load gives them.
    jobs
        Worker threads (at least 1).

    Returns
    -------
    bool
        Whether any source was read as trace input.
    """
    pieces = plan(sources, format, limit)
    ahead: list[Piece] = []
    working = 0
    for piece in pieces:  # look ahead: one piece to read goes the sequential way
        ahead.append(piece)
        working += piece.work is not None
        if working > 1:
            break
    read_any = False
    if working <= 1:
        for piece in chain(ahead, pieces):
            builder.diagnostics.extend(piece.before)
            result = piece.work(builder) if piece.work is not None else None
            if piece.then is not None and piece.then(result, builder):
                read_any = True
        return read_any
    if fast_readers():
        from workbench.traces.blocks import preload_fast_readers

        preload_fast_readers()
    pending: deque[tuple[Piece, Future[tuple[TableBuilder, Any]] | None]] = deque()
    with ThreadPoolExecutor(jobs, thread_name_prefix="otlspec-load") as pool:
        try:
            for piece in chain(ahead, pieces):
                future = pool.submit(_run, piece.work) if piece.work is not None else None
                pending.append((piece, future))
                while len(pending) > 2 * jobs:
                    read_any |= _finish(*pending.popleft(), builder)
            while pending:
                read_any |= _finish(*pending.popleft(), builder)
        finally:
            for _, future in pending:
                if future is not None:
                    future.cancel()
    return read_any


__all__ = ["MERGED_FIELDS", "Piece", "load_parallel", "merge", "plan"]
