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
        Called with each property's name once its verdicts are final (after its backend's
        batch, or after the property itself on the reference interpreter).

    Returns
    -------
    CheckResult
        ``timings`` has ``check`` (kernel time), ``compile`` (JIT compilation or cache
        loading), ``index`` (per-table indexes and string tables), ``witness`` and ``render``
        (witness kernels and message rendering), ``reference`` (properties that ran on the
        reference interpreter), ``grouped`` (the quadratic shapes evaluated by hashing, see
        :mod:`workbench.engine.grouped`) and ``total``.
    """
    from workbench.engine import prefetch
    from workbench.engine.arguments import check_arguments
    from workbench.engine.codegen_terms import Unsupported
    from workbench.engine.stages import STAGES, Finished

    properties = check_arguments(spec, table, params, backend, properties)
    backends, notes = backend_chain(backend)
    wanted = None if properties is None else set(properties)
    if wanted is not None:
        unknown = wanted - {p.name for p in spec.properties}
        if unknown:
            raise BackendError(f"no such property: {', '.join(sorted(unknown))}")
    from workbench.engine import check_plan

    timings = Timings()
    started = time.perf_counter()
    timings.add("compile", prefetch.wait())  # kernels loading beside the traces (prefetch.py)
    # bound once per (spec, params): later calls reuse it and the kernels (check_plan.py)
    t0 = time.perf_counter()
    plan = check_plan.bound(spec, params)
    spec, values = plan.spec, plan.values
    for name, seconds in plan.passes:
        timings.add(f"pass:{name}", min(seconds, time.perf_counter() - t0))
    todo = [p for p in spec.properties if wanted is None or p.name in wanted]
    done: dict[str, PropertyResult] = {}
    reasons: dict[str, list[str]] = {p.name: list(notes) for p in todo}
    # the stages (engine/stages.py) may finish a property or pin it to one backend
    pinned: dict[str, str] = {}
    for stage in STAGES:
        left = [p for p in todo if p.name not in done and p.name not in pinned]
        for name, decision in stage.plan(left, table, values, backends, backend, timings).items():
            if isinstance(decision, Finished):
                decision.result.reason = "; ".join([*reasons[name], decision.note])
                done[name] = decision.result
                if progress is not None:
                    progress(name)
            else:
                reasons[name].append(decision.note)
                pinned[name] = decision.backend
    for i, b in enumerate(backends):
        last = i == len(backends) - 1
        left = [p for p in todo if p.name not in done and pinned.get(p.name, b.name) == b.name]
        if not left:
            if not pinned:
                break
            continue
        # the catch-all runs one property at a time, so that progress is reported as it goes
        batches = [[p] for p in left] if last and progress is not None else [left]
        outcomes = []
        for batch in batches:
            got = b.check(batch, table, values, timings)
            outcomes.extend(got)
            if progress is not None:
                for prop, outcome in zip(batch, got, strict=True):
                    if isinstance(outcome, PropertyResult):
                        progress(prop.name)
        for prop, outcome in zip(left, outcomes, strict=True):
            why = reasons[prop.name]
            if isinstance(outcome, PropertyResult):
                if prop.name in pinned:
                    outcome.reason = "; ".join(why)
                elif last and why:  # the catch-all at the end of the chain
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
    return CheckResult(spec=spec, table=table, results=results, params=dict(values),
                       timings=dict(timings.values))


def bind(spec: ir.Spec, params: Mapping[str, Any] | None) -> ir.Spec:
    """Bind ``params`` (text or typed values) and every let/param of ``spec`` to constants
    (the ``bind_params`` pass; typed values are bound as they are, not re-parsed)."""
    from workbench.lang import bind_params

    return bind_params(spec, params)


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
