"""Checking backends. :func:`check` picks one and runs a spec on a span table."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from workbench.engine.base import CheckResult, PropertyResult, SpanRef, TimelinePoint, Witness
from workbench.errors import BackendError
from workbench.lang import ir
from workbench.traces.model import SpanTable

#: Backends known to this build, fastest first. ``auto`` takes the first available one.
BACKENDS: tuple[str, ...] = ("reference",)


def available_backends() -> list[str]:
    return list(BACKENDS)


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
        values (``{"skew": 10_000_000}``, durations in ns); bound with
        :func:`workbench.lang.bind_params`, interval bounds included.
    backend:
        ``"auto"`` (the fastest available) or one of :data:`BACKENDS`.
    properties:
        Names of the properties to check (all when ``None``).
    progress:
        Called with each property's name before it is checked.
    """
    from workbench.engine import reference

    if backend not in ("auto", *BACKENDS):
        raise BackendError(
            f"unknown backend {backend!r}; available: auto, {', '.join(BACKENDS)}"
        )
    wanted = None if properties is None else set(properties)
    if wanted is not None:
        unknown = wanted - {p.name for p in spec.properties}
        if unknown:
            raise BackendError(f"no such property: {', '.join(sorted(unknown))}")
    spec = bind(spec, params)
    values = {p.name: p.default.value for p in spec.params}
    results: list[PropertyResult] = []
    import time

    started = time.perf_counter()
    for prop in spec.properties:
        if wanted is not None and prop.name not in wanted:
            continue
        if progress is not None:
            progress(prop.name)
        res = reference.check_property(prop, table, values)
        res.reason = "the reference interpreter evaluates every IR node"
        results.append(res)
    return CheckResult(
        spec=spec,
        table=table,
        results=results,
        params=values,
        timings={"check": time.perf_counter() - started},
    )


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
    "check",
]
