"""The compiled code generator dispatches from tables that agree with its capability table."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from workbench.engine.capabilities import COMPILED_NODES
from workbench.engine.codegen import COND, FORMULAS, LOOP, MEMBER, Gen
from workbench.engine.codegen_terms import TERMS, VALUE, Unsupported
from workbench.lang import ir


def test_every_compiled_node_has_a_rule() -> None:
    compiled = {c for c, how in COMPILED_NODES.items() if how == "compiled"}
    ruled = set(COND) | set(VALUE) | set(MEMBER)
    assert compiled <= ruled, sorted(c.__name__ for c in compiled - ruled)


def test_no_rule_for_an_unsupported_node() -> None:
    ruled = set(COND) | set(VALUE) | set(MEMBER)
    assert not {c for c in ruled if COMPILED_NODES[c] == "unsupported"}


def test_terms_and_formulas_are_disjoint_and_each_compiles_both_ways() -> None:
    assert not TERMS & FORMULAS
    assert TERMS <= set(VALUE) and TERMS <= set(COND)  # a term used as a formula
    assert FORMULAS <= set(COND)
    assert set(MEMBER) == {ir.Spans, ir.Roots, ir.Events, ir.Rel, ir.Comprehension}
    assert set(LOOP) | {ir.Comprehension} == set(MEMBER)  # a comprehension loops its domain


def test_a_node_without_a_rule_is_unsupported() -> None:
    @dataclass(frozen=True, slots=True)
    class Mystery(ir.Node):
        """A node class no code generator knows."""

    gen = Gen()
    with pytest.raises(Unsupported, match="Mystery is not a formula"):
        gen.cond(Mystery(), {}, "0")
    with pytest.raises(Unsupported, match="Mystery is not a value"):
        gen.val_now(Mystery(), {}, "0")
    with pytest.raises(Unsupported, match="Mystery is not a set"):
        gen.member("x", "span", Mystery(), {}, "0")
