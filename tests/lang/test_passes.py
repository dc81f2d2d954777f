"""bind_params, the normalization rules, the pass manager and the walkers."""

from __future__ import annotations

import io

import pytest

from tests.lang.conftest import PARAMS, VARIABLES
from workbench.errors import ParamError
from workbench.lang import (
    RULES,
    Pass,
    bind_params,
    free_vars,
    ir,
    normalize,
    parse_formula,
    parse_spec,
    postorder,
    run_passes,
    transform,
    type_of,
)
from workbench.lang.ir import Const, Type
from workbench.lang.passes import NORMALIZE, bind_pass
from workbench.lang.walk import child_fields

SPEC = """
let limit = 3
param skew = 50ms
param name = "checkout"
param ratio = 0.5
param kind0 = CLIENT
property p {
  message "{s.name} exceeds {skew}"
  check forall s in spans where s.service == name and s.kind == kind0:
    eventually[0s, skew] s.duration < skew * ratio and s.depth < limit
}
"""


def param_refs(node: ir.Node) -> list[ir.Node]:
    return [n for n in postorder(node) if isinstance(n, ir.ParamRef)]


def test_bind_params_defaults_and_overrides() -> None:
    spec = parse_spec(SPEC)
    assert param_refs(spec)
    bound = bind_params(spec, {"skew": "10ms", "name": "cart", "ratio": "2", "kind0": "SERVER"})
    assert not param_refs(bound)
    assert [p.default for p in bound.params] == [
        Const(3, Type.INT),
        Const(10_000_000, Type.DURATION),
        Const("cart", Type.STR),
        Const(2.0, Type.FLOAT),
        Const("SERVER", Type.KIND),
    ]
    intervals = [n for n in postorder(bound) if isinstance(n, ir.Interval)]
    assert intervals == [ir.Interval(0, 10_000_000)]
    message = bound.properties[0].message
    assert message is not None and message.parts[2] == Const(10_000_000, Type.DURATION)
    assert bind_params(spec, {"name": '"quoted"'}).params[2].default == Const("quoted", Type.STR)
    assert not param_refs(bind_params(spec, {}))


@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        ({"nope": "1"}, "no such param"),
        ({"skew": "10"}, "expected a duration such as 10ms"),
        ({"skew": "abc"}, "expected a duration"),
        ({"ratio": '"x"'}, "expected a number"),
        ({"kind0": "ERROR"}, "expected a span kind"),
        ({"limit": "4"}, "`limit` is a `let` constant"),
        ({"skew": "-1ms"}, "empty or negative"),
    ],
)
def test_bind_params_errors(overrides: dict[str, str], words: str) -> None:
    with pytest.raises(ParamError) as info:
        bind_params(parse_spec(SPEC), overrides)
    assert words in str(info.value)


def test_duration_param_accepts_zero() -> None:
    bound = bind_params(parse_spec(SPEC), {"skew": "0"})
    assert bound.params[1].default == Const(0, Type.DURATION)


P, Q = ir.ParamRef("p", Type.BOOL), ir.ParamRef("q", Type.BOOL)
TRUE, FALSE = Const(True, Type.BOOL), Const(False, Type.BOOL)
X = ir.Field(ir.Var("s"), "depth")


def f(text: str) -> ir.Node:
    return parse_formula(text, VARIABLES, PARAMS)


# rule name -> (input, expected output) examples; a rule returns None when it does not apply
RULE_CASES: dict[str, list[tuple[ir.Node, ir.Node | None]]] = {
    "flatten_and": [(ir.And((P, ir.And((Q, P)))), ir.And((P, Q, P))), (ir.And((P, Q)), None)],
    "flatten_or": [(ir.Or((ir.Or((P, Q)), P)), ir.Or((P, Q, P))), (ir.Or((P, Q)), None)],
    "double_negation": [(ir.Not(ir.Not(P)), P), (ir.Not(P), None)],
    "not_constant": [(ir.Not(TRUE), FALSE), (ir.Not(FALSE), TRUE), (ir.Not(P), None)],
    "and_constants": [
        (ir.And((P, TRUE, Q)), ir.And((P, Q))),
        (ir.And((P, TRUE)), P),
        (ir.And((TRUE, TRUE)), TRUE),
        (ir.And((P, FALSE)), FALSE),
        (ir.And((P, Q)), None),
    ],
    "or_constants": [
        (ir.Or((P, FALSE, Q)), ir.Or((P, Q))),
        (ir.Or((FALSE, P)), P),
        (ir.Or((FALSE, FALSE)), FALSE),
        (ir.Or((P, TRUE)), TRUE),
        (ir.Or((P, Q)), None),
    ],
    "duplicate_operands": [
        (ir.And((P, Q, P)), ir.And((P, Q))),
        (ir.Or((P, P)), P),
        (ir.And((P, Q)), None),
    ],
    "implies_constants": [
        (ir.Implies(TRUE, P), P),
        (ir.Implies(FALSE, P), TRUE),
        (ir.Implies(P, TRUE), TRUE),
        (ir.Implies(P, FALSE), ir.Not(P)),
        (ir.Implies(P, Q), None),
    ],
    "fold_negation": [
        (f("-(5)"), Const(-5, Type.INT)),
        (f("-(5ms)"), Const(-5_000_000, Type.DURATION)),
        (f("-s.depth"), None),
    ],
    "fold_arithmetic": [
        (f("1 + 2"), Const(3, Type.INT)),
        (f("7 % 3"), Const(1, Type.INT)),
        (f("-7 % 3"), Const(2, Type.INT)),
        (f("1 / 2"), Const(0.5, Type.FLOAT)),
        (f("1 + 0.5"), Const(1.5, Type.FLOAT)),
        (f("1s - 1ms"), Const(999_000_000, Type.DURATION)),
        (f("1s * 2"), Const(2_000_000_000, Type.DURATION)),
        (f("1s * 1.5"), None),
        (f("-7ns / 2"), None),
        (f("3s / 2s"), Const(1.5, Type.FLOAT)),
        (f("1 / 0"), None),
        (f("1e308 * 10.0"), None),
        (f("s.depth + 1"), None),
    ],
    "fold_comparison": [
        (f("1 < 2"), TRUE),
        (f("1 == 1.0"), TRUE),
        (f('"a" >= "b"'), FALSE),
        (f("5ms == 5000us"), TRUE),
        (f("CLIENT != SERVER"), TRUE),
        (ir.Compare("==", Const(0, Type.INT), Const(0, Type.DURATION)), TRUE),
        (ir.Compare("==", TRUE, Const(1, Type.INT)), FALSE),
        (ir.Compare("<", TRUE, FALSE), None),
        (f("s.depth < 2"), None),
    ],
    "fold_in_list": [
        (f("2 in [1, 2.0]"), TRUE),
        (f('"x" in ["a"]'), FALSE),
        (ir.InList(Const(0, Type.DURATION), ir.ListLit((Const(0, Type.INT),))), TRUE),
        (f("s.depth in [1]"), None),
    ],
    "fold_match": [
        (f('"GET /1" matches "\\d"'), TRUE),
        (f('"abc" matches "^b"'), FALSE),
        (f('s.name matches "a"'), None),
    ],
    "quantifier_constants": [
        (f("forall x in spans where false: x.is_root"), TRUE),
        (f("exists x in spans where false: x.is_root"), FALSE),
        (f("forall x in spans: true"), TRUE),
        (f("exists x in spans: false"), FALSE),
        (f("exists x in spans where true: x.is_root"), f("exists x in spans: x.is_root")),
        (f("exists x in spans: true"), None),
        (f("forall x in spans: false"), None),
    ],
    "trivial_comprehension": [
        (f("{x in roots where true}"), ir.Roots()),
        (f("{x in roots where x.is_root}"), None),
    ],
    "temporal_constants": [
        (f("always[1s, 2s] true"), TRUE),
        (f("historically true"), TRUE),
        (f("wnext true"), TRUE),
        (f("eventually false"), FALSE),
        (f("once[0s, 1s] false"), FALSE),
        (f("next false"), FALSE),
        (f("previously false"), FALSE),
        (f("p until false"), FALSE),
        (f("p since false"), FALSE),
        (f("eventually true"), None),
        (f("always false"), None),
        (f("next true"), None),
    ],
}


def test_every_rule_is_tested_and_documented() -> None:
    assert {r.name for r in RULES} == set(RULE_CASES)
    assert all(r.doc for r in RULES)


@pytest.mark.parametrize(
    ("name", "before", "after"),
    [(name, b, a) for name, cases in RULE_CASES.items() for b, a in cases],
)
def test_rule(name: str, before: ir.Node, after: ir.Node | None) -> None:
    rule = next(r for r in RULES if r.name == name)
    assert rule(before) == after


def test_normalize_bottom_up_to_fixpoint() -> None:
    formula = f("not not (p and (true and q)) -> 1 + 2 == 3")
    assert normalize(formula) == TRUE
    assert normalize(f("not not (p and (q and (true or r)))")) == ir.And((P, Q))
    assert normalize(f("forall x in spans where 1 < 2: x.depth < 2 * 3")) == f(
        "forall x in spans: x.depth < 6"
    )


def test_normalize_keeps_types() -> None:
    formula = f("s.duration < 1s + 500ms and s.depth * 1 >= 0")
    assert type_of(normalize(formula), VARIABLES) is Type.BOOL


def test_run_passes_times_and_dumps() -> None:
    out = io.StringIO()
    spec, timings = run_passes(
        parse_spec(SPEC),
        [bind_pass({"skew": "1ms"}), NORMALIZE, Pass("noop", lambda s: s)],
        True,
        out,
    )
    assert [name for name, _ in timings] == ["bind_params", "normalize", "noop"]
    assert all(seconds >= 0 for _, seconds in timings)
    assert not param_refs(spec)
    assert "# --- after normalize" in out.getvalue() and "property p {" in out.getvalue()


# --------------------------------------------------------------------------- walk


def test_postorder_children_first_and_shared_once() -> None:
    shared = ir.Field(ir.Var("s"), "depth")
    node = ir.Arith("+", shared, shared)
    order = postorder(node)
    assert order[-1] is node
    assert sum(1 for n in order if n is shared) == 1
    assert order.index(shared) < order.index(node)


def test_transform_with_function_and_table() -> None:
    formula = f("s.depth > 1 and s.depth > 1")
    renamed = transform(formula, {ir.Var: lambda v: ir.Var("t")})
    assert renamed == f("t.depth > 1 and t.depth > 1")
    same = transform(formula, lambda n: None)
    assert same is formula  # unchanged trees are shared, not copied


def test_free_vars() -> None:
    assert free_vars(f("s hb t")) == {"s", "t"}
    assert free_vars(f("forall x in children(s): x hb t")) == {"s", "t"}
    assert free_vars(f("count(x in events(s) where x.name == e.name) > 0")) == {"s", "e"}
    assert free_vars(f("sum(x in spans: x.depth) > limit")) == set()
    assert free_vars(f("forall s in children(s): s.is_root")) == {"s"}


def test_child_fields_cover_every_node_class() -> None:
    expected = {
        ir.Const: (),
        ir.Field: ("base",),
        ir.Attr: ("base",),
        ir.Quant: ("domain", "guard", "body"),
        ir.Aggregate: ("domain", "body"),
        ir.Temporal: ("args", "interval"),
        ir.InList: ("operand", "items"),
        ir.ListLit: ("items",),
        ir.Template: ("parts",),
        ir.Property: ("formula", "message"),
        ir.Spec: ("params", "properties"),
        ir.Param: ("default",),
        ir.Interval: (),
        ir.EventOf: ("arg",),
    }
    for cls, fields in expected.items():
        assert child_fields(cls) == fields, cls
