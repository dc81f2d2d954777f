"""One trace of a span table, with the derived structure the semantics talks about.

:class:`TraceContext` gives the reference interpreter, the Z3 model checker and the notebook
API the same view of a trace: its rows, children, ancestors, descendants, siblings, links,
the sorted timeline (:class:`Point`) and happens-before reachability, as defined in
``docs/language.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from workbench.traces.model import KIND_NAMES, EventView, SpanTable

START, EVENT, END = 0, 1, 2
PHASE_NAMES = {START: "start", EVENT: "event", END: "end"}


@dataclass(frozen=True, slots=True)
class Point:
    """A timeline point: ``(time, phase, row, k)`` with ``k`` the event index (0 otherwise)."""

    time: int
    phase: int
    row: int
    k: int
    name: str = ""  # event name for EVENT points


class TraceContext:
    """One trace of a table, with the derived structure the semantics talks about."""

    def __init__(self, table: SpanTable, trace: int) -> None:
        self.table = table
        self.trace = trace
        self.rows = list(table.trace_rows(trace))

    # --------------------------------------------------------------------- structure
    @cached_property
    def children(self) -> dict[int, list[int]]:
        out: dict[int, list[int]] = {r: [] for r in self.rows}
        for r in self.rows:
            p = int(self.table.parent[r])
            if p >= 0:
                out[p].append(r)
        return out

    def parent(self, row: int) -> list[int]:
        p = int(self.table.parent[row])
        return [p] if p >= 0 else []

    def ancestors(self, row: int) -> list[int]:
        """Spans reached by following parent pointers one or more steps.

        ``row`` itself is among them when it lies on a parent cycle.
        """
        out: list[int] = []
        seen: set[int] = set()
        p = int(self.table.parent[row])
        while p >= 0 and p not in seen:
            seen.add(p)
            out.append(p)
            p = int(self.table.parent[p])
        return out

    def descendants(self, row: int) -> list[int]:
        out: list[int] = []
        seen: set[int] = set()
        stack = list(reversed(self.children[row]))
        while stack:
            r = stack.pop()
            if r in seen:
                continue
            seen.add(r)
            out.append(r)
            stack.extend(reversed(self.children[r]))
        return out

    def siblings(self, row: int) -> list[int]:
        p = int(self.table.parent[row])
        if p < 0:
            return []
        return [c for c in self.children[p] if c != row]

    def linked(self, row: int) -> list[int]:
        lo, hi = int(self.table.link_offsets[row]), int(self.table.link_offsets[row + 1])
        out: list[int] = []
        for j in range(lo, hi):
            target = int(self.table.link_row[j])
            if (
                target >= 0
                and int(self.table.trace_index[target]) == self.trace
                and target not in out
            ):
                out.append(target)
        return out

    def events(self, row: int) -> list[EventView]:
        return self.table.events_of(row)

    def is_root(self, row: int) -> bool:
        return int(self.table.parent_id_len[row]) == 0

    # --------------------------------------------------------------------- timeline
    @cached_property
    def timeline(self) -> list[Point]:
        t = self.table
        points: list[Point] = []
        for r in self.rows:
            points.append(Point(int(t.start[r]), START, r, 0))
            for ev in t.events_of(r):
                points.append(Point(ev.time, EVENT, r, ev.index, ev.name))
            if bool(t.has_end[r]):
                points.append(Point(int(t.end[r]), END, r, 0))
        points.sort(key=lambda p: (p.time, p.phase, p.row, p.k))
        return points

    # --------------------------------------------------------------------- happens-before
    @cached_property
    def _hb_edges(self) -> dict[tuple[int, int], list[tuple[int, int]]]:
        """Edges between points ``(row, START|END)`` as defined in the manual."""
        t = self.table
        edges: dict[tuple[int, int], list[tuple[int, int]]] = {}

        def add(a: tuple[int, int], b: tuple[int, int]) -> None:
            edges.setdefault(a, []).append(b)

        asynchronous = {KIND_NAMES.index("PRODUCER"), KIND_NAMES.index("CONSUMER")}
        ended = t.has_end
        for r in self.rows:
            # a span without an end has no end point: no edge enters or leaves it
            if ended[r]:
                add((r, START), (r, END))
            p = int(t.parent[r])
            if p >= 0:
                add((p, START), (r, START))
                sync = int(t.kind[r]) not in asynchronous and int(t.kind[p]) not in asynchronous
                if sync and ended[r] and ended[p]:
                    add((r, END), (p, END))
            for target in self.linked(r):
                add((target, START), (r, START))
        for kids in self.children.values():
            for a in kids:
                for b in kids:
                    if a != b and bool(t.has_end[a]) and int(t.end[a]) < int(t.start[b]):
                        add((a, END), (b, START))
        return edges

    def _reach(self, source: tuple[int, int]) -> frozenset[tuple[int, int]]:
        cache: dict[tuple[int, int], frozenset[tuple[int, int]]] = self.__dict__.setdefault(
            "_reach_cache", {}
        )
        found = cache.get(source)
        if found is None:
            seen: set[tuple[int, int]] = set()
            stack = list(self._hb_edges.get(source, ()))
            while stack:
                node = stack.pop()
                if node in seen:
                    continue
                seen.add(node)
                stack.extend(self._hb_edges.get(node, ()))
            found = cache[source] = frozenset(seen)
        return found

    def happens_before(self, a: int, b: int) -> bool:
        return (b, START) in self._reach((a, END))


__all__ = ["END", "EVENT", "PHASE_NAMES", "START", "Point", "TraceContext"]
