"""Smart constructors (flatten, fold, deduplicate, double negation) and hash-consing."""

from __future__ import annotations

import gc

from workbench.lang import construct, ir, parse_formula, parse_spec, passes
from workbench.lang.construct import FALSE, TRUE, conj, disj, intern, neg
from workbench.lang.walk import postorder

S = intern(ir.Var("s"))
P = intern(ir.Compare(">", ir.Field(S, "duration"), ir.Const(0, ir.Type.DURATION)))
Q = intern(ir.Has(ir.Attr(S, "http.method", "span")))
R = intern(ir.Field(S, "is_root"))


def test_and_or_flatten_fold_and_deduplicate_in_first_order() -> None:
    assert conj([P, ir.And((Q, P)), R]) == ir.And((P, Q, R))
    assert disj([ir.Or((Q, P)), P]) == ir.Or((Q, P))
    assert conj([P, TRUE, Q]) == ir.And((P, Q))
    assert conj([P, FALSE, Q]) == FALSE
    assert disj([P, FALSE]) == P
    assert disj([Q, TRUE, P]) == TRUE
    assert conj([]) == TRUE and disj([]) == FALSE
    assert conj([P, P]) is P


def test_double_negation_and_constant_negation() -> None:
    assert neg(neg(P)) is P
    assert neg(TRUE) == FALSE and neg(FALSE) == TRUE
    assert neg(P) == ir.Not(P)


def test_interning_makes_equal_nodes_one_object() -> None:
    a = intern(ir.Var("s_interned"))
    b = intern(ir.Var("s_interned"))
    assert a is b
    assert conj([P, Q]) is conj([P, Q])
    # equal but differently typed scalars stay apart
    one, one_f = intern(ir.Const(1, ir.Type.FLOAT)), intern(ir.Const(1.0, ir.Type.FLOAT))
    assert one == one_f and one is not one_f
    assert isinstance(one.value, int) and isinstance(one_f.value, float)


def test_the_table_holds_nodes_weakly() -> None:
    before = len(construct._TABLE)
    intern(ir.Var("a_name_nobody_keeps"))
    gc.collect()
    assert len(construct._TABLE) <= before


def test_typed_specs_share_equal_subtrees() -> None:
    spec = parse_spec(
        "property p {\n  check forall s in spans: (s.duration > 1ms and s.is_root)"
        " or (s.duration > 1ms and not s.is_root)\n}\n")
    nodes = postorder(spec.properties[0].formula)
    compares = [n for n in nodes if isinstance(n, ir.Compare)]
    assert len(compares) == 1  # the two `s.duration > 1ms` are one object


def test_parsed_formulas_keep_what_was_written() -> None:
    # folding happens in `normalize`, not when parsing (the round trip and `fmt` stay exact)
    formula = parse_formula("not not (true and s.is_root)", {"s": ir.Type.SPAN})
    assert isinstance(formula, ir.Not) and isinstance(formula.arg, ir.Not)
    assert passes.normalize(formula) == ir.Field(S, "is_root")


def test_normalize_builds_connectives_with_the_smart_constructors() -> None:
    formula = ir.Or((ir.And((P, ir.And((Q, P)), TRUE)), ir.Not(ir.Not(ir.And((P, Q))))))
    out = passes.normalize(formula)
    assert out == ir.And((P, Q))
    assert out is intern(ir.And((P, Q)))
    assert passes.normalize(ir.And((P, Q)), rules=[]) is out  # no rules: interned only
