"""Large and deeply nested specs parse, or fail with a located error (never RecursionError)."""

from __future__ import annotations

import pytest

from workbench.errors import SpecSyntaxError
from workbench.lang import ir, parse_spec
from workbench.lang.parser import MAX_DEPTH

ATOM = "s.duration >= 0ns"


def _prop(formula: str) -> str:
    return f"property p {{\n  check forall s in spans: {formula}\n}}\n"


@pytest.mark.parametrize("n", [1000, 5000])
def test_flat_and_chain_parses_flat(n: int) -> None:
    spec = parse_spec(_prop(" and ".join([ATOM] * n)))
    body = spec.properties[0].formula
    assert isinstance(body, ir.Quant)
    assert isinstance(body.body, ir.And)
    assert len(body.body.args) == n


def test_flat_or_chain_parses_flat() -> None:
    spec = parse_spec(_prop(" or ".join([ATOM] * 2000)))
    body = spec.properties[0].formula
    assert isinstance(body, ir.Quant) and isinstance(body.body, ir.Or)
    assert len(body.body.args) == 2000


def test_300_nested_parentheses_parse() -> None:
    spec = parse_spec(_prop("(" * 300 + ATOM + ")" * 300))
    assert spec == parse_spec(_prop(ATOM))


def test_nested_parenthesised_conjunctions_flatten() -> None:
    text = "".join(f"({ATOM} and " for _ in range(300)) + ATOM + ")" * 300
    spec = parse_spec(_prop(text))
    body = spec.properties[0].formula
    assert isinstance(body, ir.Quant) and isinstance(body.body, ir.And)
    assert len(body.body.args) == 301


def test_nesting_at_the_limit_parses() -> None:
    # forall (1) + nots + the comparison and its operands stay within MAX_DEPTH
    n = MAX_DEPTH - 4
    spec = parse_spec(_prop("not (" * n + ATOM + ")" * n))
    assert spec.properties[0].name == "p"


@pytest.mark.parametrize(
    "formula",
    [
        "not (" * 300 + ATOM + ")" * 300,
        " -> ".join([ATOM] * 300),
        "s.duration > " + " + ".join(["1ns"] * 1000),
    ],
    ids=["not-parens", "implications", "sum"],
)
def test_too_deep_is_a_located_error(formula: str) -> None:
    with pytest.raises(SpecSyntaxError) as info:
        parse_spec(_prop(formula), "deep.otlspec")
    err = info.value
    assert err.pos is not None and err.pos.file == "deep.otlspec" and err.pos.line == 2
    assert f"more than {MAX_DEPTH} levels" in err.message
    assert err.hint and "flat" in err.hint
