"""What every checking backend returns, the backend protocol, and the backend registry.

A backend (:class:`Backend`) takes bound properties (no :class:`~workbench.lang.ir.ParamRef`
left) and a :class:`~workbench.traces.model.SpanTable` and returns one :class:`PropertyResult`
per property: a verdict per trace and, for each violated trace, the witnesses.
:data:`REGISTRY` lists the backends, fastest first; :func:`backend_chain` is the fallback
chain that :func:`workbench.engine.check` and :func:`workbench.engine.explain_backend` walk.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeAlias, runtime_checkable

import numpy as np
import numpy.typing as npt

from workbench.errors import BackendError
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


@dataclass
class Timings:
    """Seconds spent per phase, summed over properties."""

    values: dict[str, float] = field(default_factory=dict)

    def add(self, key: str, seconds: float) -> None:
        self.values[key] = self.values.get(key, 0.0) + seconds


#: What a backend's :meth:`Backend.check` returns per property: its result, or the exception
#: that kept it from running there (the property then goes on down the chain).
Outcome: TypeAlias = "PropertyResult | Exception"


@runtime_checkable
class Backend(Protocol):
    """A checking backend: a capability table first, code second.

    Attributes
    ----------
    name:
        The name used by ``--backend`` and in :attr:`PropertyResult.backend`.
    note:
        What running a property here means, for :attr:`PropertyResult.reason`
        (``"compiled"``).
    capabilities:
        How every IR node class (and every temporal operator kind) is handled:
        ``"compiled"``, ``"lowered"``, ``"interpreted"`` or ``"unsupported"``; its keys are
        exactly :func:`workbench.engine.capabilities.capability_keys` (a test checks it).
    """

    name: str
    note: str
    capabilities: Mapping[Any, str]

    def available(self) -> tuple[bool, str]:
        """Whether the backend can run here, and a one-line reason (the device, or why not)."""
        ...

    def unsupported(self, prop: ir.Property, values: Mapping[str, Any]) -> str | None:
        """Why ``prop`` (with parameters ``values``) is outside this backend's fragment, or
        ``None`` when it runs here."""
        ...

    def check(self, props: Sequence[ir.Property], table: SpanTable, values: Mapping[str, Any],
              timings: Timings | None = None) -> list[Outcome]:
        """Check ``props`` on ``table``; per property its result or the exception that kept
        it from running here (:class:`~workbench.engine.codegen_terms.Unsupported`...)."""
        ...


class UnavailableBackend:
    """A registered backend whose module cannot be imported here (a missing dependency)."""

    note = "unavailable"

    def __init__(self, name: str, reason: str) -> None:
        self.name = name
        self.reason = reason
        self.capabilities: Mapping[Any, str] = {}

    def available(self) -> tuple[bool, str]:
        return False, self.reason

    def unsupported(self, prop: ir.Property, values: Mapping[str, Any]) -> str | None:
        return self.reason

    def check(self, props: Sequence[ir.Property], table: SpanTable, values: Mapping[str, Any],
              timings: Timings | None = None) -> list[Outcome]:
        return [BackendError(f"{self.name}: {self.reason}") for _ in props]


#: Backends known to this build, fastest first: name -> the module whose ``BACKEND`` object
#: implements :class:`Backend`. A property runs on the first backend, from the requested one
#: down, whose fragment contains it; the last one must run every property. Adding a backend is
#: one module plus one line here.
REGISTRY: dict[str, str] = {
    "cupy": "workbench.engine.cupy_gpu",
    "numba": "workbench.engine.numba_cpu",
    "stream": "workbench.stream.backend",
    "reference": "workbench.engine.reference",
}

#: Backends that run only when asked for by name: never part of ``auto`` or of another
#: backend's fallback chain (the stream monitor pays off on spans arriving over time).
BY_NAME_ONLY: frozenset[str] = frozenset({"stream"})

_LOADED: dict[str, Backend] = {}
_STATUS: dict[str, tuple[bool, str]] = {}


def get_backend(name: str) -> Backend:
    """The backend object registered as ``name`` (imported on first use).

    Raises
    ------
    BackendError
        When no backend of that name is registered.
    """
    found = _LOADED.get(name)
    if found is None:
        module = REGISTRY.get(name)
        if module is None:
            raise BackendError(
                f"unknown backend {name!r}; available: auto, {', '.join(REGISTRY)}")
        loaded: Backend
        try:
            loaded = importlib.import_module(module).BACKEND
        except Exception as err:  # pragma: no cover - environment dependent
            loaded = UnavailableBackend(name, f"{name} backend unusable ({err})")
        _LOADED[name] = found = loaded
    return found


def backend_status(name: str) -> tuple[bool, str]:
    """Whether backend ``name`` can run here, and a one-line explanation (cached)."""
    found = _STATUS.get(name)
    if found is None:
        try:
            found = get_backend(name).available()
        except BackendError:
            raise
        except Exception as err:  # pragma: no cover - environment dependent
            found = (False, f"{name} backend unusable ({err})")
        _STATUS[name] = found
    return found


def backend_chain(backend: str = "auto") -> tuple[list[Backend], list[str]]:
    """The backends a property may run on, in order, and notes on the ones skipped.

    Each backend falls back to the next one registered (``cupy`` -> ``numba`` ->
    ``reference``); ``auto`` starts at the fastest available one and does not mention the
    fastest one being unavailable (no GPU is the normal case).
    """
    names = list(REGISTRY)
    if backend != "auto" and backend not in REGISTRY:
        raise BackendError(f"unknown backend {backend!r}; available: auto, {', '.join(names)}")
    start = 0 if backend == "auto" else names.index(backend)
    out: list[Backend] = []
    notes: list[str] = []
    for name in names[start:]:
        if name in BY_NAME_ONLY and name != backend:
            continue
        ok, why = backend_status(name)
        if ok:
            out.append(get_backend(name))
        elif backend != "auto" or name != names[0]:
            notes.append(f"{name}: {why}")
    return out, notes
