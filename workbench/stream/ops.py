"""Online operators: small objects with ``update``/``reset`` (rtamt's style).

Temporal operators consume a trace timeline one point at a time, ``update(time, value...)``
returning the operator's value at that point. Past-time operators (``once``, ``historically``,
``since``, ``previously``) read the timeline forwards; their future-time mirrors
(``eventually``, ``always``, ``until``, ``next``) are the same objects fed the timeline
backwards, because ``eventually[lo, hi] f`` at a point is ``once[lo, hi] f`` in reversed time
(the window distance is ``|t_i - t_j|`` either way, and the reference's window includes the
point itself on both sides). :func:`sweep` runs one over a whole timeline.

Aggregate operators (``count``, ``sum``, ``min``, ``max``, ``avg``, ``distinct``) consume the
values of a set's members as they arrive; ``value`` is the aggregate so far, with the
reference's conventions (empty ``min``/``max``/``avg`` is undefined, undefined values are
skipped, ``sum``/``avg``/``min``/``max`` read numbers only).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from workbench.engine.values import UNDEF, equal, is_number


class Once:
    """``once[lo, hi] f``: ``f`` held at some point whose distance lies in ``[lo, hi]``."""

    __slots__ = ("_times", "hi", "lo")

    def __init__(self, lo: int = 0, hi: int | None = None) -> None:
        self.lo, self.hi = lo, hi
        self._times: deque[int] = deque()

    def reset(self) -> None:
        self._times.clear()

    def update(self, time: int, value: bool) -> bool:
        times = self._times
        if value:
            times.append(time)
        hi = self.hi
        if hi is not None:  # points too far away never come back: times are monotone
            while times and abs(time - times[0]) > hi:
                times.popleft()
        # the farthest surviving point has the largest distance: it is the one to test
        return bool(times) and abs(time - times[0]) >= self.lo


class Historically:
    """``historically[lo, hi] f``: ``f`` held at every point whose distance lies in
    ``[lo, hi]`` (``not once[lo, hi] not f``; true on an empty window)."""

    __slots__ = ("_once",)

    def __init__(self, lo: int = 0, hi: int | None = None) -> None:
        self._once = Once(lo, hi)

    def reset(self) -> None:
        self._once.reset()

    def update(self, time: int, value: bool) -> bool:
        return not self._once.update(time, not value)


class Since:
    """``phi since[lo, hi] psi``: ``psi`` at some point ``j`` in the window and ``phi`` at
    every point after ``j`` up to and including this one."""

    __slots__ = ("_times", "hi", "lo")

    def __init__(self, lo: int = 0, hi: int | None = None) -> None:
        self.lo, self.hi = lo, hi
        self._times: deque[int] = deque()

    def reset(self) -> None:
        self._times.clear()

    def update(self, time: int, phi: bool, psi: bool) -> bool:
        times = self._times
        if not phi:  # every earlier candidate needed phi here
            times.clear()
        if psi:  # j = this point: nothing lies strictly between
            times.append(time)
        hi = self.hi
        if hi is not None:
            while times and abs(time - times[0]) > hi:
                times.popleft()
        return bool(times) and abs(time - times[0]) >= self.lo


class Previously:
    """``previously f``: ``f`` held at the point before (false at the first point)."""

    __slots__ = ("_last",)

    def __init__(self) -> None:
        self._last = False

    def reset(self) -> None:
        self._last = False

    def update(self, value: bool) -> bool:
        out, self._last = self._last, value
        return out


def sweep(op: Once | Historically, times: Sequence[int], values: Sequence[bool],
          backwards: bool) -> list[bool]:
    """The values of a unary windowed operator at every point of a timeline."""
    n = len(times)
    out = [False] * n
    op.reset()
    order = range(n - 1, -1, -1) if backwards else range(n)
    for i in order:
        out[i] = op.update(times[i], values[i])
    return out


def sweep_since(op: Since, times: Sequence[int], phi: Sequence[bool], psi: Sequence[bool],
                backwards: bool) -> list[bool]:
    """The values of ``since`` (forwards) or ``until`` (backwards) at every point."""
    n = len(times)
    out = [False] * n
    op.reset()
    order = range(n - 1, -1, -1) if backwards else range(n)
    for i in order:
        out[i] = op.update(times[i], phi[i], psi[i])
    return out


_Seq = list[bool]
_Sweep = Callable[[int, int | None, Sequence[int], list[_Seq], bool], _Seq]
#: How a temporal operator is read at one point (:mod:`workbench.stream.pointwise`):
#: ``("window", 0, universal)`` (a bisected window of the timeline), ``("step", shift, value
#: with no neighbour)`` (the neighbouring point), ``("dense", 0, False)`` (the sweep, read at
#: the point).
PointForm = tuple[str, int, bool]


class TemporalRule(NamedTuple):
    """The stream monitor's reading of one temporal operator."""

    empty: bool  #: its value on an empty timeline
    sweep: _Sweep  #: its value at every point, from ``lo, hi, times, argument values, backwards``
    point: PointForm  #: how :mod:`workbench.stream.pointwise` reads it at one point
    #: how its value at a point folds the points of its window, for the incremental
    #: timeline reading (:mod:`workbench.stream.timeline`): ``"any"`` (true when the argument
    #: holds at some point of the window), ``"all"`` (at every point), ``""`` (neither: a
    #: neighbour or a two-argument operator, re-read from the whole timeline)
    window: str = ""


def _hist(lo: int, hi: int | None, t: Sequence[int], v: list[_Seq], b: bool) -> _Seq:
    return sweep(Historically(lo, hi), t, v[0], b)


def _once(lo: int, hi: int | None, t: Sequence[int], v: list[_Seq], b: bool) -> _Seq:
    return sweep(Once(lo, hi), t, v[0], b)


def _since(lo: int, hi: int | None, t: Sequence[int], v: list[_Seq], b: bool) -> _Seq:
    return sweep_since(Since(lo, hi), t, v[0], v[1], b)


#: Every temporal operator's rule, keyed by op (``tests/test_temporal_ops.py`` checks the
#: keys): a new operator needs an entry here and nowhere else in ``workbench/stream``
#: (:mod:`workbench.stream.evaluate` sweeps, :mod:`workbench.stream.pointwise` reads a point).
TEMPORAL: dict[str, TemporalRule] = {
    "always": TemporalRule(True, _hist, ("window", 0, True), "all"),
    "eventually": TemporalRule(False, _once, ("window", 0, False), "any"),
    "next": TemporalRule(False, lambda lo, hi, t, v, b: [*v[0][1:], False], ("step", 1, False)),
    "wnext": TemporalRule(True, lambda lo, hi, t, v, b: [*v[0][1:], True], ("step", 1, True)),
    "until": TemporalRule(False, _since, ("dense", 0, False)),
    "historically": TemporalRule(True, _hist, ("window", 0, True), "all"),
    "once": TemporalRule(False, _once, ("window", 0, False), "any"),
    "previously": TemporalRule(False, lambda lo, hi, t, v, b: [False, *v[0][:-1]],
                               ("step", -1, False)),
    "since": TemporalRule(False, _since, ("dense", 0, False)),
}


# ------------------------------------------------------------------------- aggregates


class Aggregator:
    """An online aggregate over the values of a set's members, in arrival order."""

    __slots__ = ("best", "n", "numbers", "op", "seen", "total")

    def __init__(self, op: str) -> None:
        if op not in ("count", "sum", "min", "max", "avg", "distinct"):
            raise ValueError(f"unknown aggregate {op!r}")
        self.op = op
        self.reset()

    def reset(self) -> None:
        self.n = 0  # members (count)
        self.total: Any = 0  # sum of the numbers
        self.numbers = 0
        self.best: Any = UNDEF
        self.seen: list[Any] = []  # distinct values (compared with the language's equality)

    def update(self, value: Any = None) -> None:
        """Add one member (its body value; ignored for ``count``)."""
        self.n += 1
        op = self.op
        if op == "count" or value is UNDEF:
            return
        if op == "distinct":
            if not any(equal(value, d) for d in self.seen):
                self.seen.append(value)
            return
        if not is_number(value):
            return
        self.numbers += 1
        self.total = self.total + value
        if op == "min" and (self.best is UNDEF or value < self.best):
            self.best = value
        elif op == "max" and (self.best is UNDEF or value > self.best):
            self.best = value

    @property
    def value(self) -> Any:
        op = self.op
        if op == "count":
            return self.n
        if op == "distinct":
            return len(self.seen)
        if op == "sum":
            return self.total
        if not self.numbers:
            return UNDEF
        if op == "avg":
            return self.total / self.numbers
        return self.best


def aggregate(op: str, values: Sequence[Any]) -> Any:
    """The aggregate of ``values`` (one per member; ignored for ``count``)."""
    agg = Aggregator(op)
    for v in values:
        agg.update(v)
    return agg.value


__all__ = [
    "TEMPORAL",
    "Aggregator",
    "Historically",
    "Once",
    "Previously",
    "Since",
    "TemporalRule",
    "aggregate",
    "sweep",
    "sweep_since",
]
