"""Properties as mathematics (sympy's LaTeX printer over the IR)."""

from __future__ import annotations

import pytest

sympy = pytest.importorskip("sympy")

from workbench.explore.latex import Math, duration_latex, to_latex, to_sympy  # noqa: E402
from workbench.lang import ir, load_spec, parse_formula  # noqa: E402


def _balanced(text: str) -> bool:
    depth = 0
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text) and text[i + 1] in "{}":
            i += 2
            continue
        depth += ch == "{"
        depth -= ch == "}"
        if depth < 0:
            return False
        i += 1
    return depth == 0


@pytest.mark.parametrize("prop", load_spec("stdlib").properties, ids=lambda p: p.name)
def test_every_stdlib_property_prints(prop: ir.Property) -> None:
    text = to_latex(prop.formula)
    assert _balanced(text)
    assert text.startswith((r"\forall", r"\exists"))
    rendered = Math(prop)._repr_latex_()
    assert rendered.startswith("$") and rendered.endswith("$")


def f(text: str) -> ir.Node:
    return parse_formula(text)


def test_terms_and_atoms() -> None:
    text = to_latex(f("forall p in spans, c in children(p): c.start >= p.start - 50ms"))
    assert text == (r"\forall\, p \in \mathit{spans}:\ \forall\, c \in \mathrm{children}(p):\ "
                    r"c.\mathrm{start} \geq p.\mathrm{start} - 50\,\mathrm{ms}")
    assert r"\prec_{hb}" in to_latex(f("forall a in spans, b in spans: a hb b"))
    assert r"\texttt{/\^{}GET\$/}" in to_latex(f('forall s in spans: s.name matches "^GET$"'))
    assert r"\left|\mathrm{children}(s)\right| = 0" in to_latex(
        f("forall s in spans: count(children(s)) == 0"))
    assert r"\sum_{c \in \mathrm{children}(s)} c.\mathrm{duration}" in to_latex(
        f("forall s in spans: sum(c in children(s): c.duration) <= s.duration"))
    text = to_latex(f("forall s in spans: p99(c in children(s): c.duration) < 1s"))
    assert r"Q_{0.99}\,\{c.\mathrm{duration} \mid c \in \mathrm{children}(s)\}" in text
    assert _balanced(text)


def test_temporal_operators_and_intervals() -> None:
    text = to_latex(f("forall s in spans: always (start(s) -> eventually[0s, 2s] end(s))"))
    assert r"\Box\, " in text and r"\Diamond_{[0,\, 2\,\mathrm{s}]}" in text
    text = to_latex(f("forall s in spans: once[1ms, inf] start(s) since end(s)"))
    assert r"\mathcal{S}" in text
    assert duration_latex(1_500_000) == r"1500\,\mathrm{\mu s}"
    assert duration_latex(0) == "0"
    assert duration_latex(3_600_000_000_000) == r"1\,\mathrm{h}"


def test_sympy_connectives_can_be_manipulated() -> None:
    # sympy's own And/Not: two-valued, so `not (x > 1s and x > 1s)` simplifies to `x <= 1s`
    # (the language keeps `not` apart because of undefined values; faithful=True does too)
    node = f("forall s in spans: not (s.duration > 1s and s.duration > 1s)")
    body = to_sympy(node.body, faithful=False)  # type: ignore[attr-defined]
    assert isinstance(body, sympy.Le)
    kept = to_sympy(node.body)  # type: ignore[attr-defined]
    assert "\\neg" in sympy.latex(kept)
    faithful = to_sympy(f("forall s in spans: s.is_root or s.depth > 0 or s.depth > 1"))
    assert r"\vee" in sympy.latex(faithful)


def test_every_formula_and_term_class_prints() -> None:
    """The printer's dispatch tables cover the IR's formula, term and set classes."""
    from workbench.explore.latex import _ATOM, _FORMULA, _SET, _TERM
    from workbench.smt.encode import ROLES, Pred

    roles = {c: r for c, r in ROLES.items() if c is not Pred}  # Pred: theorems only
    assert {c for c, r in roles.items() if r == "set"} == set(_SET)
    assert {c for c, r in roles.items() if r == "term"} <= set(_TERM)
    formulas = {c for c, r in roles.items() if r == "formula"}
    assert formulas <= set(_FORMULA)
    assert set(_ATOM) <= set(_FORMULA)
