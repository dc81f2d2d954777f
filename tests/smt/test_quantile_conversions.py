"""The Z3 encoding of ``quantile``/``pNN`` and ``int()``/``float()``: concrete traces fold
to the reference's verdicts, and symbolic answers are real (sat witnesses are rechecked by
the reference; unsat where the manual's semantics say no trace exists)."""

from __future__ import annotations

import pytest

from tests.engine.test_quantile_and_conversions import CONVERT_SPEC, QUANTILE_SPEC, _table
from workbench.engine.reference import Interpreter, TraceContext
from workbench.lang import ir, parse_spec
from workbench.smt.domain import Usage, ValueDomain, scan
from workbench.smt.encode import Encoder
from workbench.smt.model import concrete_trace
from workbench.smt.obligations import Options, consistent


@pytest.mark.parametrize("spec", [QUANTILE_SPEC, CONVERT_SPEC], ids=["quantile", "convert"])
def test_concrete_traces_fold_to_reference(spec: ir.Spec) -> None:
    table = _table()
    for trace in range(2):
        interp = Interpreter(TraceContext(table, trace), {})
        for prop in spec.properties:
            usage = scan(prop.formula, Usage())
            dom = ValueDomain(usage.strings, usage.numbers, (), ())
            got = Encoder(concrete_trace(table, trace, usage, dom)).formula(prop.formula)
            assert got is interp.holds(prop.formula, {}, 0), (prop.name, trace)


@pytest.mark.parametrize(
    ("check", "status"),
    [
        ("p50(x in spans: x.duration) > 5ms and max(x in spans: x.duration) < 8ms "
         "and count(spans) >= 3", "sat"),
        ("p50(x in spans: x.duration) > max(x in spans: x.duration)", "unsat"),
        ("quantile(0, x in spans: x.duration) != min(x in spans: x.duration)", "unsat"),
        ("p99(x in spans: x.depth) < p50(x in spans: x.depth)", "unsat"),
        ("count(spans) == 3 and p90(x in spans: x.duration) < max(x in spans: x.duration)",
         "unsat"),  # ceil(0.9 * 3) = 3: the maximum
        ("count(spans) == 3 and p50(x in spans: x.duration) < max(x in spans: x.duration)",
         "sat"),
        ('exists s in spans: int(s.attributes["c"]) > 500 and float(s.attributes["c"]) < 600',
         "sat"),
        ('exists s in spans: int(s.attributes["c"]) == 504 and s.attributes["c"] == "504"',
         "sat"),
        ('exists s in spans: s.attributes["c"] == "5.0" and has(int(s.attributes["c"]))',
         "unsat"),
        ("exists s in spans: float(s.depth) != s.depth", "unsat"),
        # happens-before: a span that never ended has no end point (manual 7.7)
        ("exists a in spans, b in spans: not a.has_end and a hb b", "unsat"),
        ("exists a in spans, b in spans: a.has_end and a hb b", "sat"),
    ],
)
def test_symbolic(check: str, status: str) -> None:
    spec = parse_spec(f"property a {{ check {check} }}")
    out = consistent(spec, options=Options(spans=3, timeout=20))
    assert out.status == status
    if status == "sat":
        assert out.rechecked
