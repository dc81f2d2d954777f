"""Every grammar construct parses to the expected typed IR; the grammar itself is sound."""

from __future__ import annotations

import io
import logging

import lark
import pytest

from tests.lang.conftest import PARAMS, VARIABLES
from workbench.lang import ir, parse_formula, parse_spec
from workbench.lang.ir import Const, Type
from workbench.lang.parser import GRAMMAR_FILE, _Builder, keywords, lark_parser

S, T, E = ir.Var("s"), ir.Var("t"), ir.Var("e")
P, Q, R = (ir.ParamRef(n, Type.BOOL) for n in "pqr")
MS = 1_000_000
SEC = 1_000_000_000


def c(value: object, typ: Type | None = None) -> Const:
    """A constant; the type is inferred for bool/int/float/str."""
    if typ is None:
        typ = {bool: Type.BOOL, int: Type.INT, float: Type.FLOAT, str: Type.STR}[type(value)]
    return Const(value, typ)  # type: ignore[arg-type]


def f(var: ir.Var, name: str) -> ir.Field:
    return ir.Field(var, name)


def dur(ns: int) -> Const:
    return Const(ns, Type.DURATION)


def always(x: ir.Node, iv: ir.Interval | None = None) -> ir.Temporal:
    return ir.Temporal("always", (x,), iv or ir.Interval())


CASES: list[tuple[str, ir.Node]] = [
    # literals
    ("true", c(True)),
    ("false", c(False)),
    ("42", c(42)),
    ("1.5", c(1.5)),
    ("1e3", c(1000.0)),
    ("-5", c(-5)),
    ("-2.5", c(-2.5)),
    ('"a\\"b\\n\\t\\\\"', c('a"b\n\t\\')),
    ('"\\d+\\u00e9"', c("\\d+é")),
    ("50ms", dur(50 * MS)),
    ("1.5s", dur(1500 * MS)),
    ("2h", dur(7200 * SEC)),
    ("3m", dur(180 * SEC)),
    ("7us", dur(7000)),
    ("9ns", dur(9)),
    ("-5ms", dur(-5 * MS)),
    ("CLIENT", Const("CLIENT", Type.KIND)),
    ("ERROR", Const("ERROR", Type.STATUS)),
    ("skew", ir.ParamRef("skew", Type.DURATION)),
    ("limit", ir.ParamRef("limit", Type.INT)),
    # postfix
    ("s.name", f(S, "name")),
    ("e.time", f(E, "time")),
    ('s.attributes["http.method"]', ir.Attr(S, "http.method", "span")),
    ('s.resource["service.name"]', ir.Attr(S, "service.name", "resource")),
    ('e.attributes["k"]', ir.Attr(E, "k", "event")),
    # arithmetic
    ("-s.duration", ir.Neg(f(S, "duration"))),
    ("-(5)", ir.Neg(c(5))),
    ("- -5", ir.Neg(c(-5))),
    ("-5 * limit", ir.Arith("*", c(-5), ir.ParamRef("limit", Type.INT))),
    ("1 + 2 * 3", ir.Arith("+", c(1), ir.Arith("*", c(2), c(3)))),
    ("(1 + 2) * 3", ir.Arith("*", ir.Arith("+", c(1), c(2)), c(3))),
    ("1 - 2 - 3", ir.Arith("-", ir.Arith("-", c(1), c(2)), c(3))),
    ("s.depth * 2 % 3", ir.Arith("%", ir.Arith("*", f(S, "depth"), c(2)), c(3))),
    ("s.end - s.start", ir.Arith("-", f(S, "end"), f(S, "start"))),
    ("s.start + skew", ir.Arith("+", f(S, "start"), ir.ParamRef("skew", Type.DURATION))),
    ("s.duration / 2", ir.Arith("/", f(S, "duration"), c(2))),
    # functions
    ("len(s.name)", ir.Call("len", (f(S, "name"),))),
    ("lower(s.name)", ir.Call("lower", (f(S, "name"),))),
    ("upper(s.service)", ir.Call("upper", (f(S, "service"),))),
    ("canon(s.service)", ir.Call("canon", (f(S, "service"),))),
    ("abs(-s.duration)", ir.Call("abs", (ir.Neg(f(S, "duration")),))),
    ('luhn(s.attributes["card"])', ir.Call("luhn", (ir.Attr(S, "card"),))),
    ("str(s.kind)", ir.Call("str", (f(S, "kind"),))),
    # sets
    ("spans", ir.Spans()),
    ("roots", ir.Roots()),
    *((f"{rel}(s)", ir.Rel(rel, S)) for rel in ir.RELATIONS),
    ("events(s)", ir.Events(S)),
    ("{x in spans where x.is_root}", ir.Comprehension("x", ir.Spans(), f(ir.Var("x"), "is_root"))),
    ("{x in children(s)}", ir.Rel("children", S)),
    # aggregates
    ("count(spans)", ir.Aggregate("count", ir.Spans())),
    ("count(children(s))", ir.Aggregate("count", ir.Rel("children", S))),
    ("count(x in spans)", ir.Aggregate("count", ir.Spans())),
    (
        "count(x in spans where x.is_root)",
        ir.Aggregate("count", ir.Comprehension("x", ir.Spans(), f(ir.Var("x"), "is_root"))),
    ),
    (
        "sum(x in spans: x.duration)",
        ir.Aggregate("sum", ir.Spans(), "x", f(ir.Var("x"), "duration")),
    ),
    (
        "sum(x in spans where x.is_root: x.duration)",
        ir.Aggregate(
            "sum",
            ir.Comprehension("x", ir.Spans(), f(ir.Var("x"), "is_root")),
            "x",
            f(ir.Var("x"), "duration"),
        ),
    ),
    ("min(x in spans: x.start)", ir.Aggregate("min", ir.Spans(), "x", f(ir.Var("x"), "start"))),
    ("max(x in roots: x.depth)", ir.Aggregate("max", ir.Roots(), "x", f(ir.Var("x"), "depth"))),
    (
        "avg(x in spans: x.duration)",
        ir.Aggregate("avg", ir.Spans(), "x", f(ir.Var("x"), "duration")),
    ),
    (
        "distinct(x in events(s): x.name)",
        ir.Aggregate("distinct", ir.Events(S), "x", f(ir.Var("x"), "name")),
    ),
    # atoms
    ('has(s.attributes["k"])', ir.Has(ir.Attr(S, "k"))),
    ("start(s)", ir.StartOf(S)),
    ("end(s)", ir.EndOf(S)),
    ("event(s)", ir.EventOf(S)),
    ('event(s, "retry")', ir.EventOf(S, "retry")),
    ("s hb t", ir.HappensBefore(S, T)),
    ("hb(s, t)", ir.HappensBefore(S, T)),
    ("s.duration > 0", ir.Compare(">", f(S, "duration"), dur(0))),
    ("0 <= s.duration", ir.Compare("<=", dur(0), f(S, "duration"))),
    ("s.duration >= 5ms", ir.Compare(">=", f(S, "duration"), dur(5 * MS))),
    ("s.depth != 1.5", ir.Compare("!=", f(S, "depth"), c(1.5))),
    ('s.span_id == "ab"', ir.Compare("==", f(S, "span_id"), c("ab"))),
    ('s.attributes["n"] < 3', ir.Compare("<", ir.Attr(S, "n"), c(3))),
    ('s.name matches "^GET \\d+"', ir.Match(f(S, "name"), "^GET \\d+")),
    (
        "s.kind in [CLIENT, SERVER]",
        ir.InList(
            f(S, "kind"), ir.ListLit((Const("CLIENT", Type.KIND), Const("SERVER", Type.KIND)))
        ),
    ),
    ("s.depth in [-1, 2.5]", ir.InList(f(S, "depth"), ir.ListLit((c(-1), c(2.5))))),
    ("s.duration in [0, 1ms]", ir.InList(f(S, "duration"), ir.ListLit((dur(0), dur(MS))))),
    ("s.name in []", ir.InList(f(S, "name"), ir.ListLit(()))),
    ("t in children(s)", ir.Member(T, ir.Rel("children", S))),
    ("(always p) == true", ir.Compare("==", always(P), c(True))),
    # connectives
    ("not p", ir.Not(P)),
    ("not not p", ir.Not(ir.Not(P))),
    ("p and q and r", ir.And((P, Q, R))),
    ("p and (q and r)", ir.And((P, Q, R))),
    ("p or q or r", ir.Or((P, Q, R))),
    ("p and q or r", ir.Or((ir.And((P, Q)), R))),
    ("p or q and r", ir.Or((P, ir.And((Q, R))))),
    ("not p and q", ir.And((ir.Not(P), Q))),
    ("p -> q -> r", ir.Implies(P, ir.Implies(Q, R))),
    ("(p -> q) -> r", ir.Implies(ir.Implies(P, Q), R)),
    ("p or q -> r", ir.Implies(ir.Or((P, Q)), R)),
    # quantifiers
    (
        "forall x in spans: x.is_root",
        ir.Quant("forall", "x", ir.Spans(), None, f(ir.Var("x"), "is_root")),
    ),
    (
        "exists x in spans where x.is_root: p",
        ir.Quant("exists", "x", ir.Spans(), f(ir.Var("x"), "is_root"), P),
    ),
    (
        "forall a in spans, b in children(a) where a.is_root: a hb b",
        ir.Quant(
            "forall",
            "a",
            ir.Spans(),
            None,
            ir.Quant(
                "forall",
                "b",
                ir.Rel("children", ir.Var("a")),
                f(ir.Var("a"), "is_root"),
                ir.HappensBefore(ir.Var("a"), ir.Var("b")),
            ),
        ),
    ),
    (
        "p and forall x in spans: x.is_root -> q",
        ir.And(
            (P, ir.Quant("forall", "x", ir.Spans(), None, ir.Implies(f(ir.Var("x"), "is_root"), Q)))
        ),
    ),
    ("not exists x in spans: p", ir.Not(ir.Quant("exists", "x", ir.Spans(), None, P))),
    ("p -> exists x in roots: p", ir.Implies(P, ir.Quant("exists", "x", ir.Roots(), None, P))),
    ("(forall x in spans: p) and q", ir.And((ir.Quant("forall", "x", ir.Spans(), None, P), Q))),
    (
        'forall x in events(s): x.name == "a"',
        ir.Quant(
            "forall", "x", ir.Events(S), None, ir.Compare("==", f(ir.Var("x"), "name"), c("a"))
        ),
    ),
    (
        's.name == "x" and forall s in spans: s.is_root',
        ir.And(
            (
                ir.Compare("==", f(S, "name"), c("x")),
                ir.Quant("forall", "s", ir.Spans(), None, f(S, "is_root")),
            )
        ),
    ),
    # temporal
    ("always p", always(P)),
    ("eventually[0ms, 2s] p", ir.Temporal("eventually", (P,), ir.Interval(0, 2 * SEC))),
    ("always[1s, inf] p", always(P, ir.Interval(SEC, None))),
    (
        "eventually[0, skew] p",
        ir.Temporal("eventually", (P,), ir.Interval(0, 50 * MS, None, "skew")),
    ),
    (
        "once[skew, skew] p",
        ir.Temporal("once", (P,), ir.Interval(50 * MS, 50 * MS, "skew", "skew")),
    ),
    ("p until q", ir.Temporal("until", (P, Q))),
    ("p until[0s, 5ms] q", ir.Temporal("until", (P, Q), ir.Interval(0, 5 * MS))),
    ("p since q", ir.Temporal("since", (P, Q))),
    ("next p", ir.Temporal("next", (P,))),
    ("wnext p", ir.Temporal("wnext", (P,))),
    ("historically p", ir.Temporal("historically", (P,))),
    ("previously p", ir.Temporal("previously", (P,))),
    ("always p until q", ir.Temporal("until", (always(P), Q))),
    ("not p until q", ir.Temporal("until", (ir.Not(P), Q))),
    ("not (p until q)", ir.Not(ir.Temporal("until", (P, Q)))),
    ("p until not q", ir.Temporal("until", (P, ir.Not(Q)))),
    ("not always p since q", ir.Temporal("since", (ir.Not(always(P)), Q))),
    ("always not p", always(ir.Not(P))),
    ("p and q until p", ir.And((P, ir.Temporal("until", (Q, P))))),
    ("p until q or p", ir.Or((ir.Temporal("until", (P, Q)), P))),
    ("not exists x in spans: p", ir.Not(ir.Quant("exists", "x", ir.Spans(), None, P))),
    (
        "p until not exists x in spans: p",
        ir.Temporal("until", (P, ir.Not(ir.Quant("exists", "x", ir.Spans(), None, P)))),
    ),
    ("always always p", always(always(P))),
    ("always forall x in spans: p", always(ir.Quant("forall", "x", ir.Spans(), None, P))),
    (
        "p until exists x in spans: p",
        ir.Temporal("until", (P, ir.Quant("exists", "x", ir.Spans(), None, P))),
    ),
    (
        "eventually s.duration > 5ms",
        ir.Temporal("eventually", (ir.Compare(">", f(S, "duration"), dur(5 * MS)),)),
    ),
    ("# a comment\np # another", P),
]


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[t for t, _ in CASES])
def test_construct_parses_to_ir(text: str, expected: ir.Node) -> None:
    assert parse_formula(text, VARIABLES, PARAMS) == expected


def test_every_rule_has_a_callback() -> None:
    missing = []
    for rule in lark_parser().rules:
        name = rule.alias or rule.origin.name
        if name.startswith("_"):
            continue  # `_rule`s (and lark's helper rules) are inlined
        kept = [s for s in rule.expansion if not (s.is_term and getattr(s, "filter_out", False))]
        if rule.options.expand1 and not rule.alias and len(kept) == 1:
            continue  # a `?rule` alternative with one child is inlined
        if not callable(getattr(_Builder, name, None)):
            missing.append(name)
    assert not missing


def test_grammar_has_no_conflicts() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    lark.logger.addHandler(handler)
    level = lark.logger.level
    lark.logger.setLevel(logging.DEBUG)
    try:
        lark.Lark(
            GRAMMAR_FILE.read_text(), parser="lalr", start=["start", "expr", "literal"], debug=True
        )
    finally:
        lark.logger.removeHandler(handler)
        lark.logger.setLevel(level)
    assert "conflict" not in stream.getvalue().lower()


def test_keywords_are_reserved() -> None:
    assert {"forall", "spans", "until", "inf", "true"} <= keywords()
    assert "count" not in keywords()  # function names are ordinary names


SPEC = """
# A spec with every declaration form.
spec structure "Structural well-formedness of a trace"

let max_name_length = 128
/// Allowed clock skew.
/// Overridable.
param skew = 50ms
param kind0 = CLIENT
param neg = -3

/// Doc comment lines immediately before a property
/// become its doc string.
property parent_exists {
  severity warning
  message "span {s.name} ({s.span_id}) names parent {s.parent_id}, {{not a hole}}"
  tags structure, parent, "with space"
  check forall s in spans where not s.is_root: count(parent(s)) == 1
}

property order {
  check forall s in spans: len(s.name) <= max_name_length
  doc "An explicit doc."
  severity info
}
"""


def test_spec_structure() -> None:
    spec = parse_spec(SPEC)
    assert spec.name == "structure"
    assert spec.description == "Structural well-formedness of a trace"
    assert [(p.name, p.overridable) for p in spec.params] == [
        ("max_name_length", False),
        ("skew", True),
        ("kind0", True),
        ("neg", True),
    ]
    assert spec.params[1].doc == "Allowed clock skew.\nOverridable."
    assert spec.params[2].default == Const("CLIENT", Type.KIND)
    assert spec.params[3].default == Const(-3, Type.INT)
    first, second = spec.properties
    assert first.severity == "warning"
    assert first.tags == ("structure", "parent", "with space")
    assert first.doc == "Doc comment lines immediately before a property\nbecome its doc string."
    assert first.message == ir.Template(
        (
            "span ",
            f(S, "name"),
            " (",
            f(S, "span_id"),
            ") names parent ",
            f(S, "parent_id"),
            ", {not a hole}",
        )
    )
    assert second.doc == "An explicit doc." and second.severity == "info"
    assert second.formula.body.right == ir.ParamRef("max_name_length", Type.INT)  # type: ignore[attr-defined]
    assert str(spec.positions["order"]) == "<string>:21:10"


def test_message_holes_may_hold_strings_and_braces() -> None:
    spec = parse_spec(
        'property p { message "{s.attributes["k}"]} / {count({x in children(s) where x.is_root})}"'
        " check forall s in spans: true }"
    )
    parts = spec.properties[0].message.parts  # type: ignore[union-attr]
    assert parts[0] == ir.Attr(S, "k}")
    assert parts[1] == " / "
    assert parts[2] == ir.Aggregate(
        "count", ir.Comprehension("x", ir.Rel("children", S), f(ir.Var("x"), "is_root"))
    )


def test_keywords_usable_as_property_names_and_tags() -> None:
    spec = parse_spec("property always { tags check, forall check true }")
    assert spec.properties[0].name == "always"
    assert spec.properties[0].tags == ("check", "forall")


def test_spec_name_defaults_to_file_stem(tmp_path: object) -> None:
    assert parse_spec("", "dir/my_rules.otlspec").name == "my_rules"
    assert parse_spec("").name == ""
