"""Every temporal operator is handled by every consumer of the IR: a new operator that misses
one of the files listed in docs/contributing.md fails here (or in
tests/engine/test_capabilities.py), instead of taking another operator's branch."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from tests.smt.test_differential import TABLES, _concrete
from workbench.engine import reference
from workbench.engine.reference import Interpreter
from workbench.explore import latex
from workbench.lang import ir, parse_formula, print_formula
from workbench.lang.parser import GRAMMAR_FILE
from workbench.stream import ops as stream_ops
from workbench.stream.backend import BACKEND as STREAM
from workbench.traces.context import TraceContext

S = ir.Var("s")


def _formula(op: str) -> ir.Node:
    args: tuple[ir.Node, ...] = ((ir.Not(ir.EndOf(S)), ir.EndOf(S)) if op in ir.BINARY_TEMPORAL
                                 else (ir.StartOf(S),))
    interval = ir.Interval(0, 50) if op in ir.INTERVAL_OPS else ir.Interval()
    return ir.Quant("exists", "s", ir.Spans(), None, ir.Temporal(op, args, interval))  # type: ignore[arg-type]


def test_the_operator_tables_agree() -> None:
    ops = set(ir.TEMPORAL_OPS)
    assert ir.FUTURE_OPS | ir.PAST_OPS == ops and not ir.FUTURE_OPS & ir.PAST_OPS
    assert ir.BINARY_TEMPORAL <= ops and ir.INTERVAL_OPS <= ops
    assert ir.FALSE_WHEN_FALSE | ir.TRUE_WHEN_TRUE == ops
    assert not ir.FALSE_WHEN_FALSE & ir.TRUE_WHEN_TRUE
    assert set(latex._TEMPORAL) == ops
    grammar = GRAMMAR_FILE.read_text(encoding="utf-8")
    assert all(f'"{op}"' in grammar for op in ops)
    manual = (Path(__file__).parents[1] / "docs" / "language.md").read_text(encoding="utf-8")
    assert all(re.search(rf"\b{op}\b", manual) for op in ops)


@pytest.mark.parametrize("op", ir.TEMPORAL_OPS)
def test_each_operator_parses_prints_renders_and_encodes(op: str) -> None:
    formula = _formula(op)
    assert parse_formula(print_formula(formula)) == formula
    assert latex.to_latex(formula)
    for table in TABLES:
        want = Interpreter(TraceContext(table, 0), {}).holds(formula, {}, 0)
        assert _concrete(formula, table) is want


def test_the_stream_monitor_has_a_rule_per_operator() -> None:
    # the dense sweep and the point-wise reading are tables keyed by op: a new operator
    # without its entry fails here rather than taking another operator's branch
    assert set(stream_ops.TEMPORAL) == set(ir.TEMPORAL_OPS)
    assert all(rule.point[0] in ("window", "step", "dense")
               for rule in stream_ops.TEMPORAL.values())
    # the incremental timeline reading folds a window only for the windowed operators
    assert {op for op, rule in stream_ops.TEMPORAL.items() if rule.window} \
        == ir.INTERVAL_OPS - ir.BINARY_TEMPORAL
    assert all(rule.window in ("any", "all", "") for rule in stream_ops.TEMPORAL.values())


@pytest.mark.parametrize("op", ir.TEMPORAL_OPS)
def test_each_operator_streams_like_the_reference(op: str) -> None:
    formula = _formula(op)
    prop = ir.Property("p", formula)
    for table in TABLES:
        [got] = STREAM.check([prop], table, {})
        assert not isinstance(got, Exception), got
        assert np.array_equal(got.holds, reference.check_property(prop, table, {}).holds)
