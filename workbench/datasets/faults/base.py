"""The trace editor that fault variants work with, and helpers they share."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from workbench.datasets.model import (
    CLIENT,
    CONSUMER,
    ERROR,
    PRODUCER,
    SERVER,
    Dataset,
    GenSpan,
    GenTrace,
)

MS = 1_000_000
#: Clock tolerance every timing check must allow (the stdlib's default ``skew``).
SKEW_TOLERANCE = 50 * MS

#: What a variant returns: (primary spans, affected spans, detail), or None when it does not
#: apply to the trace.
Result = tuple[list[GenSpan], list[GenSpan], str] | None


class Editor:
    """A trace being edited, with its parent/children indexes.

    A variant may set :attr:`expect` to the properties that must flag *this* injection when
    that depends on the trace (a clock skew reverses starts, ends, or both); otherwise the
    variant's entry in :data:`workbench.datasets.labels.VARIANTS` is used.
    """

    def __init__(self, rng: random.Random, ds: Dataset, trace: GenTrace) -> None:
        self.rng, self.ds, self.trace = rng, ds, trace
        self.spans = trace.spans
        self.by_id = trace.by_id()
        self.kids = trace.children()
        self.expect: tuple[str, ...] | None = None

    def parent(self, s: GenSpan) -> GenSpan | None:
        return self.by_id.get(s.parent_id) if s.parent_id else None

    def ancestors(self, s: GenSpan) -> list[GenSpan]:
        out: list[GenSpan] = []
        p = self.parent(s)
        while p is not None and not contains(out, p):
            out.append(p)
            p = self.parent(p)
        return out

    def pick(self, items: list[GenSpan]) -> GenSpan | None:
        return self.rng.choice(items) if items else None

    def leaves(self) -> list[GenSpan]:
        """Non-root spans without children or events that have an end."""
        return [s for s in self.spans if s.span_id not in self.kids and s.parent_id
                and not s.events and s.end is not None]

    def sync(self, s: GenSpan) -> bool:
        """Not asynchronous: no PRODUCER/CONSUMER on the span or above it."""
        return s.kind not in (PRODUCER, CONSUMER) and not any(
            a.kind in (PRODUCER, CONSUMER) for a in self.ancestors(s))

    def entries(self) -> list[GenSpan]:
        """Synchronous SERVER spans whose parent is a CLIENT of another service."""
        out = []
        for s in self.spans:
            p = self.parent(s)
            if (s.kind == SERVER and p is not None and p.kind == CLIENT
                    and p.service != s.service and self.sync(s)):
                out.append(s)
        return out

    def clean(self) -> bool:
        """No span of the trace is ERROR."""
        return not any(s.status == ERROR for s in self.spans)

    def reachable(self, s: GenSpan) -> bool:
        """A root, or below one."""
        chain = [s, *self.ancestors(s)]
        return not chain[-1].parent_id

    def plain(self, s: GenSpan) -> bool:
        """No retry or error semantics that an edit of the span would disturb."""
        return (s.status != ERROR and "http.request.resend_count" not in s.attributes
                and not any(k.name == s.name for k in self.kids.get(s.parent_id, [])
                            if k is not s))

    def resource_copy(self, s: GenSpan, change: Callable[[list[tuple[str, Any]]],
                                                         list[tuple[str, Any]]]
                      ) -> list[tuple[str, Any]]:
        """Append a changed copy of ``s``'s resource to the dataset and return it."""
        copy = change(list(s.resource))
        self.ds.resources.append(copy)
        return copy


def contains(spans: list[GenSpan], s: GenSpan) -> bool:
    """``s`` itself (not an equal copy, such as an injected duplicate) is in ``spans``."""
    return any(o is s for o in spans)


def index_of(spans: list[GenSpan], s: GenSpan) -> int:
    """The position of ``s`` itself in ``spans``."""
    return next(i for i, o in enumerate(spans) if o is s)


def remove(spans: list[GenSpan], s: GenSpan) -> None:
    """Remove ``s`` itself from ``spans``."""
    del spans[index_of(spans, s)]


def http_key(s: GenSpan, new: str, old: str) -> str | None:
    """Whichever of the stable (``new``) and older (``old``) attribute names ``s`` uses."""
    return new if new in s.attributes else old if old in s.attributes else None


def same_name_client_after(x: Editor, s: GenSpan, window: int) -> bool:
    """Some other CLIENT span named like ``s`` starts within ``window`` ns after it ends."""
    end = s.end if s.end is not None else s.start
    return any(o is not s and o.kind == CLIENT and o.name == s.name
               and end <= o.start <= end + window for o in x.spans)
