"""The generator's in-memory dataset: spans, traces, resources, scopes and annotations.

Generated spans stay plain mutable Python objects until they are written, so that fault
injectors can edit them (drop a span, rewrite an id, shift a service's clock). Labels refer to
span *objects*, not ids: an injector that later rewrites an id does not invalidate a label, and
:meth:`Dataset.label_records` reads the final ids when the dataset is written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from workbench.traces.records import (
    CLIENT,
    CONSUMER,
    ERROR,
    INTERNAL,
    OK,
    PRODUCER,
    SERVER,
    UNSET,
    SpanRecord,
)

#: A generated span is a plain :class:`~workbench.traces.records.SpanRecord`; its resource is
#: one of :attr:`Dataset.resources` (shared by reference) and ``service`` names the service it
#: was generated for. Injectors track spans by identity (``is``), records compare by value.
GenSpan = SpanRecord

__all__ = ["CLIENT", "CONSUMER", "ERROR", "INTERNAL", "OK", "PRODUCER", "SERVER", "UNSET",
           "Annotation", "Dataset", "GenSpan", "GenTrace", "SpanRecord"]


@dataclass(eq=False)
class GenTrace:
    """The spans of one trace, in generation (pre-)order."""

    trace_id: str
    spans: list[GenSpan] = field(default_factory=list)

    def children(self) -> dict[str, list[GenSpan]]:
        """Spans by parent span id."""
        out: dict[str, list[GenSpan]] = {}
        for s in self.spans:
            if s.parent_id:
                out.setdefault(s.parent_id, []).append(s)
        return out

    def by_id(self) -> dict[str, GenSpan]:
        """Spans by span id (the first one when ids repeat)."""
        out: dict[str, GenSpan] = {}
        for s in self.spans:
            out.setdefault(s.span_id, s)
        return out

    def subtree(self, root: GenSpan) -> list[GenSpan]:
        """``root`` and its descendants (by parent ids; cycles are cut)."""
        kids = self.children()
        out: list[GenSpan] = []
        seen: set[int] = set()
        stack = [root]
        while stack:
            s = stack.pop()
            if id(s) in seen:
                continue
            seen.add(id(s))
            out.append(s)
            stack.extend(reversed(kids.get(s.span_id, [])))
        return out


@dataclass(eq=False)
class Annotation:
    """A labelled fact about some spans: an injected fault or a benign behaviour.

    ``kind`` is ``"fault"`` (injected by :mod:`workbench.datasets.faults`; ``primary`` spans
    are the ones a detector must name, ``affected`` ones are touched by it as well) or
    ``"behaviour"`` (something legitimate the generator did that some properties flag, e.g.
    a timeout; used to explain false positives).
    """

    kind: str
    name: str  # fault class or behaviour name
    variant: str
    trace: GenTrace
    primary: list[GenSpan]
    affected: list[GenSpan] = field(default_factory=list)
    detail: str = ""
    injection: int = -1
    expect: tuple[str, ...] = ()


@dataclass
class Dataset:
    """Generated traces with their resources, scopes and annotations.

    ``resources`` holds every resource a span may refer to (spans hold the list objects
    themselves); ``scopes`` the instrumentation scopes as ``(name, version)``.
    """

    traces: list[GenTrace]
    resources: list[list[tuple[str, Any]]]
    scopes: list[tuple[str, str]]
    annotations: list[Annotation] = field(default_factory=list)
    config: dict[str, Any] = field(default_factory=dict)
    topology: list[dict[str, Any]] = field(default_factory=list)

    @property
    def n_spans(self) -> int:
        return sum(len(t.spans) for t in self.traces)

    def faults(self) -> list[Annotation]:
        return [a for a in self.annotations if a.kind == "fault"]

    def label_records(self) -> list[dict[str, Any]]:
        """One JSON record per (annotation, span), with the spans' final ids.

        Sorted by (kind, injection, trace, role, span) so the file is deterministic.
        """
        out: list[dict[str, Any]] = []
        for a in self.annotations:
            for role, spans in (("primary", a.primary), ("affected", a.affected)):
                for s in spans:
                    rec: dict[str, Any] = {
                        "type": a.kind,
                        "trace_id": s.trace_id,
                        "span_id": s.span_id,
                        "class" if a.kind == "fault" else "behaviour": a.name,
                        "variant": a.variant,
                        "role": role,
                    }
                    if a.kind == "fault":
                        rec["injection"] = a.injection
                        rec["expect"] = list(a.expect)
                    if a.detail:
                        rec["detail"] = a.detail
                    out.append(rec)
        out.sort(key=lambda r: (r["type"] != "fault", r.get("injection", -1),
                                r.get("behaviour", ""), r["trace_id"], r["role"], r["span_id"]))
        return out
