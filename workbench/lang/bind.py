"""Parameter binding: ``--param NAME=VALUE`` overrides (text or already-typed values) and
the substitution of every let/param, the ``bind_params`` pass of the pipeline.

Parameters are bound once, here: the CLI's texts and the engine's typed values both go
through :func:`override_values`, and :func:`bind_params` leaves no
:class:`~workbench.lang.ir.ParamRef` nor named interval bound behind.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from workbench.errors import ParamError, SpecError
from workbench.lang import ir
from workbench.lang.ir import Const, Node, Spec, Type
from workbench.lang.parser import parse_literal
from workbench.lang.printer import print_formula
from workbench.lang.walk import transform

_EXPECTED = {
    Type.DURATION: "a duration such as 10ms",
    Type.INT: "an integer such as 3",
    Type.FLOAT: "a number such as 0.5",
    Type.STR: 'a string such as "checkout"',
    Type.BOOL: "true or false",
    Type.KIND: "a span kind: " + ", ".join(ir.KINDS),
    Type.STATUS: "a status code: " + ", ".join(ir.STATUSES),
}


def parse_param_value(param: ir.Param, text: str) -> Const:
    """Read an override for ``param`` as a literal of the param's type.

    A string param also accepts unquoted text (``--param service=checkout``); a float param
    accepts an integer; a duration param accepts ``0``.
    """
    typ = param.default.type
    expected = _EXPECTED.get(typ, str(typ))
    if typ is Type.STR and not text.lstrip().startswith('"'):
        return Const(text, Type.STR)
    try:
        const = parse_literal(text.strip())
    except SpecError:
        raise ParamError(f"--param {param.name}={text}: expected {expected}") from None
    if const.type is typ:
        if typ is Type.DURATION and const.value < 0 <= param.default.value:
            raise ParamError(
                f"--param {param.name}={text}: a negative duration (default "
                f"{print_formula(param.default)}): tolerances and interval bounds would be "
                "empty or negative; give 0 or more"
            )
        return const
    if typ is Type.FLOAT and const.type is Type.INT:
        return Const(float(const.value), Type.FLOAT)
    if typ is Type.DURATION and const == Const(0, Type.INT):
        return Const(0, Type.DURATION)
    raise ParamError(f"--param {param.name}={text}: expected {expected}, got a {const.type}")


_PY_TYPES: dict[Type, tuple[type, ...]] = {
    Type.DURATION: (int,),
    Type.INT: (int,),
    Type.FLOAT: (int, float),
    Type.BOOL: (bool,),
    Type.STR: (str,),
    Type.KIND: (str,),
    Type.STATUS: (str,),
}


def typed_param_value(param: ir.Param, value: Any) -> Const:
    """An already-typed override for ``param`` (``10_000_000`` ns for a duration, ``True``...)
    as a constant of the param's type; text goes through :func:`parse_param_value`."""
    if isinstance(value, str):
        return parse_param_value(param, value)
    raw: Any = value.value if isinstance(value, Const) else value
    typ = param.default.type
    ok = _PY_TYPES.get(typ, ())
    if (isinstance(raw, bool) and typ is not Type.BOOL) or not isinstance(raw, ok):
        expected = _EXPECTED.get(typ, str(typ))
        raise ParamError(f"--param {param.name}={raw!r}: expected {expected}")
    checked: bool | int | float | str = raw
    return Const(float(checked) if typ is Type.FLOAT else checked, typ)


def override_values(spec: Spec, overrides: Mapping[str, Any] | None) -> dict[str, Const]:
    """Read ``--param`` overrides for ``spec`` (text, or already-typed values) into constants,
    checking names and types."""
    by_name = {p.name: p for p in spec.params}
    values: dict[str, Const] = {}
    for name, text in (overrides or {}).items():
        param = by_name.get(name)
        if param is None:
            known = ", ".join(sorted(p.name for p in spec.params if p.overridable)) or "none"
            raise ParamError(f"--param {name}: no such param (params: {known})")
        if not param.overridable:
            raise ParamError(
                f"--param {name}: `{name}` is a `let` constant and cannot be overridden "
                "(declare it with `param` to allow this)"
            )
        values[name] = typed_param_value(param, text)
    return values


def param_overrides(spec: Spec, overrides: Mapping[str, str]) -> dict[str, Any]:
    """Parse ``--param`` texts into typed Python values, as the engine takes them.

    Parameters
    ----------
    spec:
        The spec whose params are overridden.
    overrides:
        ``NAME -> VALUE`` text, e.g. ``{"skew": "10ms"}``.

    Returns
    -------
    dict[str, Any]
        ``NAME -> value`` (durations in nanoseconds, kinds/statuses as names).

    Raises
    ------
    ParamError
        An unknown name, a ``let``, or a value of the wrong type. Note that these values
        do not reach interval bounds written with a param name; :func:`bind_params` does.
    """
    return {name: c.value for name, c in override_values(spec, overrides).items()}


def bind_params(spec: Spec, overrides: Mapping[str, Any] | None = None) -> Spec:
    """Apply ``--param`` overrides and substitute every let/param by its value.

    Parameters
    ----------
    spec:
        A typed spec.
    overrides:
        ``NAME -> VALUE`` text, e.g. ``{"skew": "10ms"}``, or already-typed values
        (``{"skew": 10_000_000}``, durations in ns), bound without a round trip through text.

    Returns
    -------
    Spec
        ``params`` carry the effective values; formulas and messages contain no
        :class:`~workbench.lang.ir.ParamRef`, and intervals no bound names.

    Raises
    ------
    ParamError
        An unknown name, a ``let`` (not overridable), a value of the wrong type, or an
        interval made empty or negative by an override.
    """
    values = override_values(spec, overrides)
    params = tuple(replace(p, default=values.get(p.name, p.default)) for p in spec.params)
    table = {p.name: p.default for p in params}

    def value(name: str) -> Const:
        if name not in table:
            raise ParamError(f"`{name}` is used but not declared")
        return table[name]

    def interval(iv: ir.Interval) -> Node | None:
        if iv.lo_name is None and iv.hi_name is None:
            return None
        lo = int(value(iv.lo_name).value) if iv.lo_name else iv.lo
        hi = int(value(iv.hi_name).value) if iv.hi_name else iv.hi
        if lo < 0 or (hi is not None and (hi < 0 or lo > hi)):
            names = ", ".join(n for n in (iv.lo_name, iv.hi_name) if n)
            raise ParamError(f"--param {names}: the interval [{lo}ns, {hi}ns] is empty or negative")
        return ir.Interval(lo, hi)

    rewrite: dict[type, Callable[[Any], Node | None]] = {
        ir.ParamRef: lambda n: value(n.name),
        ir.Interval: interval,
    }
    properties = tuple(transform(p, rewrite) for p in spec.properties)
    return replace(spec, params=params, properties=properties)  # type: ignore[arg-type]


__all__ = [
    "bind_params",
    "override_values",
    "param_overrides",
    "parse_param_value",
    "typed_param_value",
]
