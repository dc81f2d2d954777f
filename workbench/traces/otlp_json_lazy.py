"""Lazily decoded OTLP/JSON documents and the span batcher of the msgspec reader.

:data:`LAZY_DECODER` decodes a document with every span left as raw JSON (zero-copy slices);
:class:`SpanBatcher` then decodes the spans in cache-sized batches into the Structs of
:mod:`workbench.traces.otlp_json` and appends them with its :func:`append_spans`, repairing
record by record a batch the typed decoder rejects.
"""

from __future__ import annotations

import msgspec
from msgspec import UNSET, UnsetType

from workbench.traces.builder import TableBuilder
from workbench.traces.otlp_json import (
    _NO_RESOURCE,
    _NO_SCOPE,
    Fallback,
    Resource,
    Scope,
    Span,
    _Msg,
    append_spans,
    attribute_items,
)


class _LazyScopeSpans(_Msg, frozen=True, gc=False):
    scope: Scope = _NO_SCOPE
    spans: list[msgspec.Raw] = msgspec.field(default_factory=list)


class _LazyLibrarySpans(_Msg, frozen=True, gc=False):
    instrumentationLibrary: Scope = _NO_SCOPE
    spans: list[msgspec.Raw] = msgspec.field(default_factory=list)


class _LazyResourceSpans(_Msg, frozen=True, gc=False):
    resource: Resource = _NO_RESOURCE
    scopeSpans: list[_LazyScopeSpans] = msgspec.field(default_factory=list)
    instrumentationLibrarySpans: list[_LazyLibrarySpans] = msgspec.field(default_factory=list)


class _LazyDocument(_Msg, frozen=True, gc=False):
    """A document whose spans stay raw JSON (zero-copy slices) until their batch is decoded."""

    resourceSpans: list[_LazyResourceSpans] | UnsetType = UNSET
    batches: list[_LazyResourceSpans] | UnsetType = UNSET
    result: _LazyDocument | None = None
    trace: _LazyDocument | None = None


def lazy_resource_spans(doc: _LazyDocument) -> tuple[list[_LazyResourceSpans], str] | None:
    """The ResourceSpans of a lazily decoded document and the path of their list
    (``resourceSpans``, ``batches``, ``result.resourceSpans``, ``trace.resourceSpans``...)."""
    for inner, prefix in ((doc, ""), (doc.result, "result."), (doc.trace, "trace.")):
        if inner is None:
            continue
        if not isinstance(inner.resourceSpans, UnsetType):
            return inner.resourceSpans, f"{prefix}resourceSpans"
        if not isinstance(inner.batches, UnsetType):
            return inner.batches, f"{prefix}batches"
    return None


LAZY_DECODER = msgspec.json.Decoder(_LazyDocument, strict=False)
_SPANS_DECODER = msgspec.json.Decoder(list[Span], strict=False)
#: spans decoded and appended at a time: their objects stay in the CPU caches for every pass
BATCH = 1024


class SpanBatcher:
    """Decodes raw span records batch by batch and appends them to a builder.

    Decoding a whole document at once leaves millions of objects spread over memory that every
    columnar pass then reads back from RAM; a batch of ~1000 spans stays cache-resident and is
    freed before the next one. A batch the typed decoder rejects is repaired record by record
    (:class:`~workbench.traces.otlp_repair.Repairer`), with each span's path and line.
    """

    def __init__(self, builder: TableBuilder, file: str, batch: int | None = None) -> None:
        self.builder = builder
        self.file = file
        self.batch = batch or BATCH
        self.raws: list[msgspec.Raw] = []
        self.res: list[int] = []
        self.scopes: list[int] = []
        self.where: list[tuple[str, int, int | None]] = []  # (spans path, index, line)

    def add(
        self, resource_spans: list[_LazyResourceSpans], list_path: str, line: int | None
    ) -> None:
        """Queue the spans of a lazily decoded document (resources are added right away).

        Raises :class:`Fallback`, having queued nothing, when a resource attribute needs the
        tolerant path.
        """
        b = self.builder
        items = [attribute_items(rs.resource.attributes) for rs in resource_spans]
        for i, (rs, attrs) in enumerate(zip(resource_spans, items, strict=True)):
            r = b.add_resource(attrs)
            groups: list[tuple[str, Scope, list[msgspec.Raw]]] = [
                ("scopeSpans", g.scope, g.spans) for g in rs.scopeSpans
            ]
            groups += [
                ("instrumentationLibrarySpans", g.instrumentationLibrary, g.spans)
                for g in rs.instrumentationLibrarySpans
            ]
            counters: dict[str, int] = {}
            for field, scope, raws in groups:
                j = counters[field] = counters.get(field, -1) + 1
                n = len(raws)
                path = f"{list_path}[{i}].{field}[{j}].spans"
                self.raws.extend(raws)
                self.res.extend([r] * n)
                self.scopes.extend([b.strings.code(scope.name)] * n)
                self.where.extend(zip([path] * n, range(n), [line] * n, strict=True))
                if len(self.raws) >= self.batch:
                    self.flush()

    def flush(self) -> None:
        """Decode and append everything queued."""
        for lo in range(0, len(self.raws), self.batch):
            hi = lo + self.batch
            self._batch(self.raws[lo:hi], self.res[lo:hi], self.scopes[lo:hi], self.where[lo:hi])
        for queue in (self.raws, self.res, self.scopes, self.where):
            queue.clear()

    def _batch(
        self,
        raws: list[msgspec.Raw],
        res: list[int],
        scopes: list[int],
        where: list[tuple[str, int, int | None]],
    ) -> None:
        joined = b"[" + b",".join(raws) + b"]"
        try:
            spans = _SPANS_DECODER.decode(joined)
            append_spans(self.builder, spans, res, scopes, self.file,
                         lambda k: (f"{where[k][0]}[{where[k][1]}]", where[k][2]))
            return
        except (msgspec.DecodeError, Fallback):
            pass
        from workbench.traces.otlp_repair import Repairer
        from workbench.traces.salvage import decode_json

        repairers: dict[int | None, Repairer] = {}
        kept: tuple[list[Span], list[int], list[int]] = ([], [], [])
        located: list[tuple[str, int | None]] = []
        for obj, r, c, (path, k, line) in zip(decode_json(joined), res, scopes, where, strict=True):
            rep = repairers.get(line)
            if rep is None:
                rep = repairers[line] = Repairer(self.file, self.builder.diagnostics, line)
            span = rep.span(obj, f"{path}[{k}]")
            if span is not None:
                kept[0].append(span)
                kept[1].append(r)
                kept[2].append(c)
                located.append((f"{path}[{k}]", line))
        append_spans(self.builder, *kept, self.file, located.__getitem__)
