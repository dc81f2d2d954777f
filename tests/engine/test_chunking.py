"""Chunked verdict kernels: a wide ``and``/``or`` compiles to a small top function over
outlined sub-kernels of bounded size, with the same verdicts and witnesses as the reference."""

from __future__ import annotations

import re

import pytest

from tests.engine.differential import compare, stdlib, stdlib_data
from workbench.engine import numba_cpu
from workbench.engine.codegen import CHUNK_ARGS, widest
from workbench.engine.compiled import generated
from workbench.lang import parse_spec

NAMES = ["orders process", "POST", "notification.push", "recommendations.prefetch"]


def _terms(width: int) -> list[str]:
    out = []
    for i in range(width):
        match i % 5:
            case 0:
                out.append(f"s.duration >= {i}ns")
            case 1:
                out.append(f's.name != "{NAMES[(i // 5) % len(NAMES)]}"')
            case 2:
                out.append(f's.attributes["k{i}"] != {i}')
            case 3:
                out.append(f"s.depth + {i} > {i // 3}")
            case _:
                out.append(f'(s.kind == SERVER or s.name != "x{i}")')
    return out


def wide_and(width: int) -> str:
    body = "\n    and ".join(_terms(width))
    return f"spec w\nproperty wide_and {{\n  check forall s in spans:\n    {body}\n}}\n"


def wide_or(width: int) -> str:
    names = [f's.name == "{NAMES[i % len(NAMES)]}-{i}"' for i in range(width - 1)]
    body = "\n    or ".join([*names, 's.name == "notification.push"'])
    return f"spec w\nproperty wide_or {{\n  check exists s in spans:\n    {body}\n}}\n"


def _functions(source: str) -> dict[str, int]:
    """Lines per generated function."""
    parts = re.split(r"^def (\w+)", source, flags=re.M)
    return {parts[k]: parts[k + 1].count("\n") for k in range(1, len(parts), 2)}


def _prop(text: str):  # type: ignore[no-untyped-def]
    return parse_spec(text).properties[0]


def test_stdlib_properties_are_not_chunked() -> None:
    assert max(widest(p.formula) for p in stdlib().properties) <= CHUNK_ARGS


def test_chunked_functions_stay_bounded_as_the_formula_widens() -> None:
    small = _functions(generated(_prop(wide_and(CHUNK_ARGS + 10)).formula).source)
    large = _functions(generated(_prop(wide_and(4 * (CHUNK_ARGS + 10))).formula).source)
    # the sub-kernels are of bounded size: four times the terms, not a larger function
    sub = max(n for f, n in large.items() if f.startswith("fn_"))
    assert sub <= max(n for f, n in small.items() if f.startswith("fn_")) + 10
    # the verdict top function only grows by its attribute hoisting (a line or two per key)
    assert large["verdict"] < 2 * small["verdict"] + 60
    assert "fn_" in re.split(r"^def verdict", generated(_prop(wide_or(40)).formula).source,
                             flags=re.M)[1].split("def witness")[0]


@pytest.mark.parametrize("text", [wide_and(45), wide_and(90), wide_or(40)])
def test_chunked_kernels_agree_with_the_reference_as_python(text: str) -> None:
    prop = _prop(text)
    assert widest(prop.formula) > CHUNK_ARGS
    table = stdlib_data()
    assert compare(numba_cpu.PythonRunner(), prop, table) is None


@pytest.mark.slow
def test_chunked_kernels_agree_with_the_reference_on_numba() -> None:
    table = stdlib_data()
    for text in (wide_and(45), wide_or(40)):
        assert compare(numba_cpu.runner(), _prop(text), table) is None
