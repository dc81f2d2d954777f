"""Operator precedence: prefix operators bind tighter than ``until``/``since``.

``not p until q`` reads ``(not p) until q`` (it used to read ``not (p until q)``): the parser,
the canonical printer (``fmt`` shows the grouping), and the lint migration warning.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.lang.conftest import PARAMS
from workbench.lang import (
    format_source,
    ir,
    lint_spec,
    load_spec,
    parse_formula,
    parse_spec,
    print_formula,
)
from workbench.lang.ir import Type
from workbench.lang.parser import MAX_DEPTH, parse_file
from workbench.lang.printer import layout

P, Q, R = (ir.ParamRef(n, Type.BOOL) for n in "pqr")
SPEC = """\
let p = true
let q = false
property old_reading {
  check not p until q
}
property explicit {
  check (not p) until q and not (p since q)
}
"""


@st.composite
def connective_formulas(draw: st.DrawFn, depth: int = 5) -> ir.Node:
    """Formulas of p, q, r under not, and, or, ->, the temporal operators (intervals too)."""
    if depth == 0 or draw(st.integers(0, 3)) == 0:
        return draw(st.sampled_from([P, Q, R]))
    kind = draw(st.sampled_from(["not", "and", "or", "implies", "unary", "binary"]))
    sub = connective_formulas(depth - 1)
    if kind == "not":
        return ir.Not(draw(sub))
    if kind in ("and", "or"):
        cls = ir.And if kind == "and" else ir.Or
        args: list[ir.Node] = []
        for a in draw(st.lists(sub, min_size=2, max_size=3)):
            args += a.args if isinstance(a, cls) else [a]  # the parser flattens
        return cls(tuple(args))
    if kind == "implies":
        return ir.Implies(draw(sub), draw(sub))
    iv = draw(st.sampled_from([ir.Interval(), ir.Interval(0, 5_000_000), ir.Interval(1000, None)]))
    if kind == "unary":
        op = draw(st.sampled_from(["always", "eventually", "once", "historically", "next"]))
        return ir.Temporal(op, (draw(sub),), ir.Interval() if op == "next" else iv)
    return ir.Temporal(draw(st.sampled_from(["until", "since"])), (draw(sub), draw(sub)), iv)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(connective_formulas())
def test_print_parse_round_trip(formula: ir.Node) -> None:
    text = print_formula(formula)
    assert parse_formula(text, {}, PARAMS) == formula, text
    broken = layout(formula, "  ", width=20)  # the multi-line form reads back the same
    assert parse_formula(broken, {}, PARAMS) == formula, broken


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(connective_formulas())
def test_printed_text_has_no_precedence_change(formula: ir.Node) -> None:
    """Canonical text never relies on the new precedence: it reads the same under the old."""
    raw = parse_file(f"let p = true\nlet q = false\nlet r = true\n"
                     f"property x {{ check {print_formula(formula)} }}")
    assert raw.precedence_changes == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("not p until q", ir.Temporal("until", (ir.Not(P), Q))),
        ("not p since[0s, 1ms] q", ir.Temporal("since", (ir.Not(P), Q), ir.Interval(0, 10**6))),
        ("once not p since q", ir.Temporal("since", (ir.Temporal("once", (ir.Not(P),)), Q))),
        ("not p and q until r", ir.And((ir.Not(P), ir.Temporal("until", (Q, R))))),
        ("p -> not q until r", ir.Implies(P, ir.Temporal("until", (ir.Not(Q), R)))),
        ("not (p until q) or r", ir.Or((ir.Not(ir.Temporal("until", (P, Q))), R))),
    ],
)
def test_prefix_binds_tighter_than_until(text: str, expected: ir.Node) -> None:
    assert parse_formula(text, {}, PARAMS) == expected


def test_until_does_not_chain() -> None:
    with pytest.raises(Exception, match="unexpected `until`"):
        parse_formula("p until q until r", {}, PARAMS)


def test_deep_prefix_chains_build_without_recursion() -> None:
    depth = MAX_DEPTH - 5
    text = "not always " * (depth // 2) + "p"
    node = parse_formula(text, {}, PARAMS)
    for _ in range(depth // 2):
        assert isinstance(node, ir.Not)
        node = node.arg
        assert isinstance(node, ir.Temporal)
        node = node.args[0]
    assert node == P
    assert parse_formula(print_formula(node), {}, PARAMS) == node
    with pytest.raises(Exception, match="nested more than"):
        parse_formula("not " * (MAX_DEPTH + 1) + "p", {}, PARAMS)


def test_lint_warns_where_the_meaning_changed() -> None:
    spec = parse_spec(SPEC)
    warnings = [w for w in lint_spec(spec, {"<string>": SPEC}) if "now reads" in w.message]
    assert [(w.property, w.pos.line, w.pos.column) for w in warnings if w.pos] == [
        ("old_reading", 4, 9)
    ]
    assert "`(not P) until Q`" in warnings[0].message
    assert "`not (P until Q)`" in warnings[0].message
    assert not [w for w in lint_spec(spec) if "now reads" in w.message]  # text not given


def test_fmt_shows_the_grouping_and_silences_lint(tmp_path: Path) -> None:
    path = tmp_path / "old.otlspec"
    path.write_text(SPEC)
    before = load_spec(path)
    assert any("now reads" in w.message for w in lint_spec(before))
    formatted = format_source(SPEC, str(path))
    assert "check (not p) until q\n" in formatted
    assert "check ((not p) until q) and not (p since q)\n" in formatted
    path.write_text(formatted)
    after = load_spec(path)
    assert after.properties == before.properties  # same IR
    assert not [w for w in lint_spec(after) if "now reads" in w.message]
    assert format_source(formatted, str(path)) == formatted
