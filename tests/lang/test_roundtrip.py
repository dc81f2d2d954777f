"""``parse(print(x)) == x`` for formulas and specs; canonical printing."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.lang.conftest import PARAMS, VARIABLES
from tests.strategies import formulas, param_tables, specs, terms
from workbench.lang import ir, parse_formula, parse_spec, print_formula, print_spec
from workbench.lang.ir import Const, Type
from workbench.lang.printer import duration_text, float_text, layout, quote

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def formulas_with_params(draw: st.DrawFn) -> tuple[ir.Node, dict[str, Const]]:
    table = draw(param_tables())
    params = {n: p.default for n, p in table.items()}
    return draw(formulas(params=params)), params


@SETTINGS
@given(formulas_with_params())
def test_formula_round_trip(case: tuple[ir.Node, dict[str, Const]]) -> None:
    formula, params = case
    text = print_formula(formula)
    assert parse_formula(text, {}, params) == formula, text


@SETTINGS
@given(
    st.sampled_from([Type.DURATION, Type.FLOAT, Type.STR, Type.TIME]).flatmap(
        lambda t: terms(t, VARIABLES, PARAMS, max_depth=3)
    )
)
def test_term_round_trip(term: ir.Node) -> None:
    text = print_formula(term)
    assert parse_formula(text, VARIABLES, PARAMS) == term, text


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(specs())
def test_spec_round_trip(spec: ir.Spec) -> None:
    text = print_spec(spec)
    assert parse_spec(text) == spec, text


PRINTED = [
    # (text, canonical text)
    ("p and (q or r)", "p and (q or r)"),
    ("(p and q) or r", "(p and q) or r"),
    ("p and q or r", "(p and q) or r"),
    ("p or q and r", "p or (q and r)"),
    ("p -> (q -> r)", "p -> q -> r"),
    ("(p -> q) -> r", "(p -> q) -> r"),
    ("(forall x in spans: p) and q", "(forall x in spans: p) and q"),
    ("p and (forall x in spans: q)", "p and forall x in spans: q"),
    ("(p and forall x in spans: q) or r", "(p and forall x in spans: q) or r"),
    ("not (exists x in spans: p)", "not exists x in spans: p"),
    ("(not exists x in spans: p) and q", "not (exists x in spans: p) and q"),
    (
        "forall a in spans: forall b in children(a): a hb b",
        "forall a in spans, b in children(a): a hb b",
    ),
    (
        "forall a in spans where p: forall b in spans: q",
        "forall a in spans where p: forall b in spans: q",
    ),
    # prefix operators bind tighter than until/since; fmt shows the grouping
    ("(always p) until q", "(always p) until q"),
    ("always p until q", "(always p) until q"),
    ("always (p until q)", "always (p until q)"),
    ("not (p until q)", "not (p until q)"),
    ("(not p) until q", "(not p) until q"),
    ("not p until q", "(not p) until q"),
    ("not always p since q", "(not always p) since q"),
    ("p until not q", "p until (not q)"),
    ("always not p", "always not p"),
    ("not not p", "not not p"),
    ("p and q until r", "p and (q until r)"),
    ("p until q or r", "(p until q) or r"),
    ("p until not exists x in spans: q", "p until (not exists x in spans: q)"),
    ("not p == q", "not p == q"),
    ("(eventually p) == (always q)", "(eventually p) == (always q)"),
    ("eventually[0s, 2000ms] p", "eventually[0s, 2s] p"),
    ("p until[1500us, inf] q", "p until[1500us, inf] q"),
    ("eventually[0, skew] p", "eventually[0s, skew] p"),
    ("1 - (2 - 3)", "1 - (2 - 3)"),
    ("(1 - 2) - 3", "1 - 2 - 3"),
    ("-(5)", "-(5)"),
    ("- -5", "--5"),
    ("-(1 + 2)", "-(1 + 2)"),
    ("2 * -3", "2 * -3"),
    ('"a\\"b\\\\c\\nd"', '"a\\"b\\\\c\\nd"'),
    ("count(x in spans where x.is_root)", "count(x in spans where x.is_root)"),
    ("count({x in spans where x.is_root})", "count(x in spans where x.is_root)"),
    (
        "sum(x in {y in spans where y.is_root}: x.depth)",
        "sum(x in {y in spans where y.is_root}: x.depth)",
    ),
    ("s.duration > 0", "s.duration > 0s"),
    ("hb(s, t)", "s hb t"),
]


@pytest.mark.parametrize(("text", "canonical"), PRINTED)
def test_canonical_printing(text: str, canonical: str) -> None:
    formula = parse_formula(text, VARIABLES, PARAMS)
    assert print_formula(formula) == canonical
    assert parse_formula(canonical, VARIABLES, PARAMS) == formula


def test_literal_printing() -> None:
    assert [duration_text(n) for n in (0, 50_000_000, 1_500_000, 7200 * 10**9, -3)] == [
        "0s",
        "50ms",
        "1500us",
        "2h",
        "-3ns",
    ]
    assert float_text(1e16) == "1e+16" and float_text(float("-inf")) == "-1e999"
    assert parse_formula("1e999") == Const(float("inf"), Type.FLOAT)
    assert quote('a"\\\n\x00{') == '"a\\"\\\\\\n\\u0000{"'
    with pytest.raises(ValueError):
        float_text(float("nan"))


def test_print_spec_layout() -> None:
    text = (
        'spec demo "A demo"\n\nlet limit = 3\n/// Skew.\nparam skew = 5ms\n\n'
        "/// Doc.\nproperty p {\n  severity warning\n"
        '  message "{s.name} is {{odd}}"\n  tags a, "b c"\n'
        "  check forall s in spans: s.depth < limit\n}\n"
    )
    assert print_spec(parse_spec(text)) == text


@SETTINGS
@given(formulas_with_params())
def test_layout_round_trip(case: tuple[ir.Node, dict[str, Const]]) -> None:
    formula, params = case
    text = layout(formula, "  ", width=30)  # narrow: break wherever the layout can
    assert parse_formula(text, {}, params) == formula, text
