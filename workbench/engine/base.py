"""What every checking backend returns, and the backend protocol.

A backend takes a bound spec (no :class:`~workbench.lang.ir.ParamRef` left) and a
:class:`~workbench.traces.model.SpanTable` and returns one :class:`PropertyResult` per
property: a verdict per trace and, for each violated trace, the witnesses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from workbench.lang import ir
from workbench.traces.model import SpanTable


@dataclass(frozen=True, slots=True)
class SpanRef:
    """A span named in a witness."""

    row: int
    trace_id: str
    span_id: str
    name: str
    service: str

    def to_json(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "trace_id": self.trace_id,
            "span_id": self.span_id,
            "name": self.name,
            "service": self.service,
        }


@dataclass(frozen=True, slots=True)
class TimelinePoint:
    """A position on a trace's timeline: index, time (ns) and what happens there."""

    index: int
    time: int
    what: str  # e.g. "start(s#3)", "end(s#3)", "event(s#3, 'retry')"

    def to_json(self) -> dict[str, Any]:
        return {"index": self.index, "time_unix_nano": self.time, "what": self.what}


@dataclass(frozen=True, slots=True)
class Witness:
    """Why a property fails on a trace.

    ``bindings`` maps the variables of the property's leading ``forall`` chain to the spans
    (or ``"s#event[k]"`` descriptions of events) that falsify its body; it is empty when the
    property is not of that shape (e.g. a top-level ``exists`` has no witness bindings: the
    absence itself is the violation). ``position`` is set for temporal properties: the first
    timeline point where the obligation fails.
    """

    bindings: tuple[tuple[str, SpanRef], ...]
    message: str
    position: TimelinePoint | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "bindings": {name: ref.to_json() for name, ref in self.bindings},
            "message": self.message,
            "position": None if self.position is None else self.position.to_json(),
        }


@dataclass
class PropertyResult:
    """Verdicts of one property on every trace of a table."""

    prop: ir.Property
    holds: npt.NDArray[np.bool_]  # one verdict per trace
    witnesses: dict[int, list[Witness]] = field(default_factory=dict)  # trace -> witnesses
    backend: str = "reference"
    reason: str = ""  # why this backend ran it (fallbacks)
    seconds: float = 0.0

    @property
    def name(self) -> str:
        return self.prop.name

    @property
    def failed_traces(self) -> list[int]:
        return [int(t) for t in np.nonzero(~self.holds)[0]]

    @property
    def n_failed(self) -> int:
        return int((~self.holds).sum())


@dataclass
class CheckResult:
    """The outcome of checking a spec on a table."""

    spec: ir.Spec
    table: SpanTable
    results: list[PropertyResult]
    params: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)

    def __getitem__(self, name: str) -> PropertyResult:
        for res in self.results:
            if res.name == name:
                return res
        raise KeyError(name)

    def holds(self, name: str, trace: int = 0) -> bool:
        return bool(self[name].holds[trace])

    @property
    def ok(self) -> bool:
        return all(bool(r.holds.all()) for r in self.results)


class Backend(Protocol):
    """A checking backend."""

    name: str

    def check(self, spec: ir.Spec, table: SpanTable) -> CheckResult: ...
