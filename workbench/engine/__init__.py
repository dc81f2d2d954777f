"""Checking backends. :func:`check` picks one and runs a spec on a span table.

Backends, fastest first:

``cupy``
    The compiled plan on a CUDA GPU (:mod:`workbench.engine.cupy_gpu`).
``numba``
    The compiled plan on all CPU cores (:mod:`workbench.engine.numba_cpu`).
``reference``
    The reference interpreter, the definition of the semantics
    (:mod:`workbench.engine.reference`).

``auto`` takes the fastest available one. Each property runs on the first backend of the chain
whose fragment contains it; :attr:`PropertyResult.reason <workbench.engine.base.PropertyResult>`
says which backend ran it and why (for example ``"numba: `hb` (happens-before reachability) is
not compiled -> reference"``). :func:`explain_backend` answers the same question without
checking anything.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from workbench.engine.base import (
    REGISTRY,
    Backend,
    CheckResult,
    PropertyResult,
    SpanRef,
    TimelinePoint,
    Timings,
    Witness,
    backend_chain,
    backend_status,
    get_backend,
)
from workbench.errors import BackendError
from workbench.lang import ir
from workbench.traces.model import SpanTable

#: Backends known to this build, fastest first (the keys of
#: :data:`~workbench.engine.base.REGISTRY`).
BACKENDS: tuple[str, ...] = tuple(REGISTRY)


def available_backends() -> list[str]:
    """The backends that can run here, fastest first."""
    return [name for name in BACKENDS if backend_status(name)[0]]


def chain(backend: str = "auto") -> tuple[list[str], list[str]]:
    """The names of the backends a property may run on, in order, and notes on the ones
    skipped (see :func:`~workbench.engine.base.backend_chain`)."""
    backends, notes = backend_chain(backend)
    return [b.name for b in backends], notes


def _placeholders(prop: ir.Property) -> dict[str, Any]:
    """Stand-in values for the parameters of ``prop`` (the kernel's shape does not depend on
    parameter values, only on their types)."""
    from workbench.lang.walk import postorder

    out: dict[str, Any] = {}
    for node in postorder(prop.formula):
        if isinstance(node, ir.ParamRef):
            out[node.name] = {
                ir.Type.BOOL: False,
                ir.Type.FLOAT: 0.0,
                ir.Type.STR: "",
                ir.Type.KIND: "UNSPECIFIED",
                ir.Type.STATUS: "UNSET",
                ir.Type.ID: "",
            }.get(node.type, 0)
    return out


def explain_backend(
    prop: ir.Property,
    backend: str = "auto",
    params: Mapping[str, Any] | None = None,
) -> tuple[str, str]:
    """Which backend would run ``prop``, and why.

    Parameters
    ----------
    prop:
        The property.
    backend:
        The requested backend (``"auto"`` or one of :data:`BACKENDS`).
    params:
        Parameter values (only their types matter; defaults to stand-ins).

    Returns
    -------
    tuple[str, str]
        The backend name and the reason, e.g. ``("reference", "numba: `hb` (happens-before
        reachability) is not compiled -> reference")``.
    """
    backends, notes = backend_chain(backend)
    values = {**_placeholders(prop), **(params or {})}
    reasons = list(notes)
    for i, b in enumerate(backends):
        why = b.unsupported(prop, values)
        if why is not None:
            reasons.append(f"{b.name}: {why}")
            continue
        if i < len(backends) - 1:
            return b.name, "; ".join([*reasons, f"{b.name}: {b.note} ({b.available()[1]})"])
        if not reasons:
            return b.name, f"{b.name}: requested"
        return b.name, "; ".join([*reasons[:-1], reasons[-1] + f" -> {b.name}"])
    raise BackendError(f"no backend runs {prop.name}: {'; '.join(reasons)}")


def check(
    spec: ir.Spec,
    table: SpanTable,
    params: Mapping[str, Any] | None = None,
    *,
    backend: str = "auto",
    properties: Iterable[str] | None = None,
    progress: Callable[[str], None] | None = None,
) -> CheckResult:
    """Check ``spec`` on ``table`` with the chosen backend.

    Parameters
    ----------
    spec:
        A loaded spec; ``ParamRef`` nodes are bound from ``params`` and the spec's defaults.
    table:
        The traces.
    params:
        Overrides of the spec's params, as ``--param`` text (``{"skew": "10ms"}``) or typed
        values (``{"skew": 10_000_000}``, durations in ns). They are bound with
        :func:`workbench.lang.bind_params`, so interval bounds written with a param follow too.
    backend:
        ``"auto"`` (the fastest available), ``"cupy"``, ``"numba"`` or ``"reference"``. A
        property outside a backend's fragment runs on the next one down; its
        :attr:`~workbench.engine.base.PropertyResult.reason` says which ran it and why.
    properties:
        Names of the properties to check (all when ``None``).
    progress:
        Called with each property's name before it is checked.

    Returns
    -------
    CheckResult
        ``timings`` has ``check`` (kernel time), ``compile`` (JIT compilation or cache
        loading), ``index`` (per-table indexes and string tables), ``witness`` and ``render``
        (witness kernels and message rendering), ``reference`` (properties that ran on the
        reference interpreter) and ``total``.
    """
    from workbench.engine import reference
    from workbench.engine.codegen_terms import Unsupported

    backends, notes = backend_chain(backend)
    wanted = None if properties is None else set(properties)
    if wanted is not None:
        unknown = wanted - {p.name for p in spec.properties}
        if unknown:
            raise BackendError(f"no such property: {', '.join(sorted(unknown))}")
    spec = bind(spec, params)
    values = reference.param_values(spec)
    timings = Timings()
    started = time.perf_counter()
    todo = [p for p in spec.properties if wanted is None or p.name in wanted]
    if progress is not None:
        for prop in todo:
            progress(prop.name)
    done: dict[str, PropertyResult] = {}
    reasons: dict[str, list[str]] = {p.name: list(notes) for p in todo}
    for i, b in enumerate(backends):
        left = [p for p in todo if p.name not in done]
        if not left:
            break
        last = i == len(backends) - 1
        for prop, outcome in zip(left, b.check(left, table, values, timings), strict=True):
            why = reasons[prop.name]
            if isinstance(outcome, PropertyResult):
                if last and why:  # the catch-all at the end of the chain
                    why[-1] += f" -> {b.name}"
                    outcome.reason = "; ".join(why)
                else:
                    outcome.reason = "; ".join([*why, f"{b.name}: {b.note}"])
                done[prop.name] = outcome
            elif isinstance(outcome, Unsupported):
                why.append(f"{b.name}: {outcome}")
            else:
                why.append(f"{b.name}: failed ({type(outcome).__name__}: {outcome})")
    missing = [p.name for p in todo if p.name not in done]
    if missing:
        raise BackendError(f"no backend ran {', '.join(missing)}: "
                           + "; ".join(reasons[missing[0]]))
    results = [done[p.name] for p in todo]
    timings.add("total", time.perf_counter() - started)
    return CheckResult(spec=spec, table=table, results=results, params=values,
                       timings=dict(timings.values))


def bind(spec: ir.Spec, params: Mapping[str, Any] | None) -> ir.Spec:
    """Bind ``params`` (text or typed values) and every let/param of ``spec`` to constants."""
    from workbench.lang import bind_params, print_formula

    types = {p.name: p.default.type for p in spec.params}
    overrides: dict[str, str] = {}
    for name, value in (params or {}).items():
        if isinstance(value, str) or name not in types:
            overrides[name] = str(value)  # unknown names are reported by bind_params
        else:
            overrides[name] = print_formula(ir.Const(value, types[name]))
    return bind_params(spec, overrides)


__all__ = [
    "BACKENDS",
    "REGISTRY",
    "Backend",
    "CheckResult",
    "PropertyResult",
    "SpanRef",
    "TimelinePoint",
    "Witness",
    "available_backends",
    "backend_chain",
    "backend_status",
    "chain",
    "check",
    "explain_backend",
    "get_backend",
]
