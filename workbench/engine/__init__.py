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

from workbench.engine.base import CheckResult, PropertyResult, SpanRef, TimelinePoint, Witness
from workbench.errors import BackendError
from workbench.lang import ir
from workbench.traces.model import SpanTable

#: Backends known to this build, fastest first. ``auto`` takes the first available one.
BACKENDS: tuple[str, ...] = ("cupy", "numba", "reference")

_STATUS: dict[str, tuple[bool, str]] = {}


def backend_status(name: str) -> tuple[bool, str]:
    """Whether backend ``name`` can run here, and a one-line explanation (cached)."""
    found = _STATUS.get(name)
    if found is None:
        if name == "reference":
            found = (True, "the reference interpreter")
        elif name == "numba":
            from workbench.engine import numba_cpu

            found = numba_cpu.available()
        elif name == "cupy":
            try:
                from workbench.engine import cupy_gpu

                found = cupy_gpu.available()
            except Exception as err:  # pragma: no cover - environment dependent
                found = (False, f"GPU backend unusable ({err})")
        else:
            raise BackendError(f"unknown backend {name!r}; available: auto, {', '.join(BACKENDS)}")
        _STATUS[name] = found
    return found


def available_backends() -> list[str]:
    """The backends that can run here, fastest first."""
    return [name for name in BACKENDS if backend_status(name)[0]]


def chain(backend: str = "auto") -> tuple[list[str], list[str]]:
    """The backends a property may run on, in order, and notes on the ones skipped.

    ``cupy`` falls back to ``numba``, which falls back to ``reference``; ``auto`` starts at the
    fastest available backend.
    """
    if backend not in ("auto", *BACKENDS):
        raise BackendError(f"unknown backend {backend!r}; available: auto, {', '.join(BACKENDS)}")
    start = 0 if backend == "auto" else BACKENDS.index(backend)
    names: list[str] = []
    notes: list[str] = []
    for name in BACKENDS[start:]:
        ok, why = backend_status(name)
        if ok:
            names.append(name)
        elif backend != "auto" or name != "cupy":
            notes.append(f"{name}: {why}")
    return names, notes


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
    from workbench.engine.compiled import unsupported_reason

    names, notes = chain(backend)
    values = {**_placeholders(prop), **(params or {})}
    reasons = list(notes)
    for name in names:
        if name == "reference":
            break
        why = unsupported_reason(prop, values)
        if why is None:
            return name, "; ".join([*reasons, f"{name}: compiled ({backend_status(name)[1]})"])
        reasons.append(f"{name}: {why}")
    tail = reasons[-1] + " -> reference" if reasons else "reference: requested"
    return "reference", "; ".join([*reasons[:-1], tail]) if reasons else tail


def _runner(name: str) -> Any:
    if name == "numba":
        from workbench.engine import numba_cpu

        return numba_cpu.runner()
    from workbench.engine import cupy_gpu

    return cupy_gpu.runner(simulate=False)


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
        reference interpreter), ``grouped`` (the quadratic shapes evaluated by hashing, see
        :mod:`workbench.engine.grouped`) and ``total``.
    """
    from workbench.engine import grouped, reference
    from workbench.engine.codegen_terms import Unsupported
    from workbench.engine.compiled import Timings, check_properties

    names, notes = chain(backend)
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
    by_reference: set[str] = set()
    # shapes whose literal evaluation is quadratic run by hashing on every backend
    first = names[0] if names else "reference"
    for prop in todo:
        shape = grouped.match(prop.formula)
        if shape is not None:
            t0 = time.perf_counter()
            res = shape[1](prop, table, values, reference.MAX_WITNESSES)
            timings.add("grouped", time.perf_counter() - t0)
            res.backend = first
            res.reason = "; ".join([*reasons[prop.name],
                                    f"{first}: {shape[0]}, linear in the trace's size"])
            done[prop.name] = res
    if backend == "auto" and "numba" in names:
        # small inputs never wait for a compiler: the cost model of engine/cost.py
        from workbench.engine.compiled import bind as bind_values
        from workbench.engine.compiled import generated
        from workbench.engine.cost import prefer_reference

        for prop in todo:
            if prop.name in done:
                continue
            try:
                gen = generated(bind_values(prop.formula, values))
            except Unsupported:
                continue
            use_ref, why = prefer_reference(gen, table.n_spans)
            if use_ref:
                reasons[prop.name].append(why)
                by_reference.add(prop.name)
    for name in names:
        left = [p for p in todo if p.name not in done and p.name not in by_reference]
        if name == "reference" or not left:
            break
        # all properties of a backend run together: one pass over the table (see
        # NumbaRunner.verdicts); the ones it cannot run go on down the chain
        outcomes = check_properties(_runner(name), left, table, values, timings)
        for prop, outcome in zip(left, outcomes, strict=True):
            if isinstance(outcome, PropertyResult):
                outcome.reason = "; ".join([*reasons[prop.name], f"{name}: compiled"])
                done[prop.name] = outcome
            elif isinstance(outcome, Unsupported):
                reasons[prop.name].append(f"{name}: {outcome}")
            else:
                reasons[prop.name].append(
                    f"{name}: failed ({type(outcome).__name__}: {outcome})")
    results: list[PropertyResult] = []
    for prop in todo:
        result = done.get(prop.name)
        if result is None:
            t0 = time.perf_counter()
            result = reference.check_property(prop, table, values)
            timings.add("reference", time.perf_counter() - t0)
            why = reasons[prop.name]
            if prop.name in by_reference:
                result.reason = "; ".join(why)
            elif why:
                why[-1] += " -> reference"
                result.reason = "; ".join(why)
            else:
                result.reason = "reference: the reference interpreter evaluates every IR node"
        results.append(result)
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
    "CheckResult",
    "PropertyResult",
    "SpanRef",
    "TimelinePoint",
    "Witness",
    "available_backends",
    "backend_status",
    "chain",
    "check",
    "explain_backend",
]
