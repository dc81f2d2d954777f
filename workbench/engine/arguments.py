"""Validation of :func:`workbench.engine.check`'s arguments, with messages that name the
argument and the type it takes (instead of an ``AttributeError`` deep inside a backend)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from workbench.errors import ArgumentError
from workbench.lang import ir

#: Python types accepted as typed values of a param, per param type (text is always accepted).
_TYPED: dict[ir.Type, tuple[tuple[type, ...], str]] = {
    ir.Type.DURATION: ((int,), "an int of nanoseconds"),
    ir.Type.INT: ((int,), "an int"),
    ir.Type.FLOAT: ((int, float), "a number"),
    ir.Type.BOOL: ((bool,), "a bool"),
}


def _got(value: Any) -> str:
    if value is None:
        return "None"
    shown = repr(value)
    shown = shown if len(shown) <= 40 else shown[:37] + "..."
    return f"{type(value).__name__} {shown}"


def check_arguments(
    spec: Any, table: Any, params: Any, backend: Any, properties: Any
) -> list[str] | None:
    """Raise :class:`ArgumentError` for a misused ``check(...)``; returns ``properties`` as a
    list of names (or ``None``)."""
    from workbench.traces.model import SpanTable

    if not isinstance(spec, ir.Spec):
        hint = "load one with workbench.lang.load_spec(...) or parse_spec(...)"
        if isinstance(spec, str):
            hint = f"load it first: workbench.lang.load_spec({spec!r})"
        elif isinstance(spec, SpanTable) and isinstance(table, ir.Spec):
            hint = "the arguments are swapped: check(spec, table)"
        raise ArgumentError(f"check(spec=...): expected a Spec, got {_got(spec)}; {hint}")
    if not isinstance(table, SpanTable):
        hint = "read traces with workbench.traces.load_traces([...paths])"
        raise ArgumentError(f"check(table=...): expected a SpanTable, got {_got(table)}; {hint}")
    if params is not None:
        if not isinstance(params, Mapping):
            raise ArgumentError(
                f"check(params=...): expected a mapping of param name to value, e.g. "
                f"{{'skew': '10ms'}}, got {_got(params)}"
            )
        types = {p.name: p.default.type for p in spec.params}
        for name, value in params.items():
            if not isinstance(name, str):
                raise ArgumentError(f"check(params=...): param names are str, got {_got(name)}")
            typ = types.get(name)
            if isinstance(value, str) or typ is None:
                continue  # text is parsed (and unknown names reported) by bind_params
            accepted, words = _TYPED.get(typ, ((), "text"))
            if not isinstance(value, accepted) or (bool in accepted) != isinstance(value, bool):
                raise ArgumentError(
                    f"check(params={{{name!r}: ...}}): `{name}` is a {typ.value} param: give "
                    f"{words} or text such as {_example(typ)!r}, not {_got(value)}"
                )
    if not isinstance(backend, str):
        from workbench.engine.base import REGISTRY

        choices = ", ".join(repr(n) for n in ("auto", *REGISTRY))
        raise ArgumentError(f"check(backend=...): expected a str ({choices}), got {_got(backend)}")
    if properties is None:
        return None
    if isinstance(properties, str) or not isinstance(properties, Iterable):
        raise ArgumentError(
            f"check(properties=...): expected a list of property names, got {_got(properties)}"
            + (f"; write properties=[{properties!r}]" if isinstance(properties, str) else "")
        )
    names = list(properties)
    bad = [n for n in names if not isinstance(n, str)]
    if bad:
        raise ArgumentError(f"check(properties=...): names are str, got {_got(bad[0])}")
    return names


def _example(typ: ir.Type) -> str:
    return {
        ir.Type.DURATION: "10ms",
        ir.Type.INT: "3",
        ir.Type.FLOAT: "0.5",
        ir.Type.BOOL: "true",
        ir.Type.KIND: "SERVER",
        ir.Type.STATUS: "ERROR",
    }.get(typ, '"text"')
