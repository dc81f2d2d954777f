"""Consistency, implication, vacuity and redundancy on the stdlib and the examples."""

from __future__ import annotations

from pathlib import Path

from workbench.engine.reference import check
from workbench.lang import ir
from workbench.smt.cli import load_spec_arg
from workbench.smt.obligations import Options, consistent, implies, redundant, vacuous
from workbench.traces.records import to_table


def test_stdlib_consistent_with_rechecked_witness(stdlib: ir.Spec) -> None:
    out = consistent(stdlib, options=Options(spans=3, timeout=120))
    assert out.status == "sat", out.verdict
    assert out.rechecked and out.witness
    result = check(stdlib, to_table(out.witness))
    assert result.ok, [r.name for r in result.results if not r.holds.all()]


def test_conflicting_example_minimal_core(examples: Path) -> None:
    spec = load_spec_arg(str(examples / "conflicting.otlspec"))
    out = consistent(spec, options=Options(spans=4))
    assert out.status == "unsat"
    assert sorted(out.core) == ["has_a_root", "root_is_server", "server_called_by_client"]


def test_assumption_makes_consistent_spec_conflict(examples: Path) -> None:
    spec = load_spec_arg(str(examples / "conflicting.otlspec") + "#spans_end,spans_are_short")
    never_end = ir.Property("never_end", load_spec_arg("specs/examples/vacuous.otlspec")
                            .properties[0].formula)
    assert consistent(spec, [never_end], Options(spans=2)).status == "sat"


def test_implication_holds_and_unbounded(examples: Path) -> None:
    pre = load_spec_arg(str(examples / "containment.otlspec"))
    post = load_spec_arg("stdlib.timing#child_starts_after_parent")
    params = {p.name: p.default.value for p in post.params}
    out = implies(list(pre.properties), post.properties[0], params, Options(spans=4))
    assert out.status == "unsat"
    assert "any size" in out.verdict


def test_implication_counterexample_rechecked(examples: Path) -> None:
    pre = load_spec_arg("stdlib.timing#child_starts_after_parent")
    post = load_spec_arg(str(examples / "containment.otlspec"))
    params = {p.name: p.default.value for p in pre.params}
    out = implies(list(pre.properties), post.properties[0], params, Options(spans=4))
    assert out.status == "sat" and out.rechecked
    result = check(ir.Spec("x", "", pre.params, (*pre.properties, *post.properties)),
                   to_table(out.witness or []))
    assert result.holds("child_starts_after_parent") and not result.holds("child_inside_parent")


def test_vacuity_example(examples: Path) -> None:
    outs = {o.subject: o.status for o in vacuous(load_spec_arg(str(examples / "vacuous.otlspec")))}
    assert outs == {"negative_duration_flagged": "unsat", "server_client_named": "unsat",
                    "failed_client_explained": "sat"}


def test_redundancy_finds_implied_and_valid_properties() -> None:
    spec = load_spec_arg("stdlib.structure#has_root,single_root,unique_span_ids,span_ended")
    outs = {o.subject: o for o in redundant(spec, Options(spans=3))}
    assert outs["unique_span_ids"].status == "unsat" and outs["unique_span_ids"].core == []
    assert outs["span_ended"].status == "sat"
    assert "assuming unique span ids, acyclic parents" in outs["unique_span_ids"].verdict


def test_redundant_properties_can_be_removed_together() -> None:
    """Two properties implying each other: only the first is reported, and the second is
    then independent of what remains (removing both would lose their meaning)."""
    from workbench.lang import parse_spec

    spec = parse_spec("""
property a { check forall s in spans: s.depth < 1 }
property b { check not exists s in spans: s.depth >= 1 }
property c { check count(spans) >= 1 or true }
""")
    outs = {o.subject: o for o in redundant(spec, Options(spans=2))}
    assert outs["a"].status == "unsat" and outs["a"].core == ["b"]
    assert outs["b"].status == "sat"  # a is gone: b is not implied by c alone
    assert outs["c"].status == "unsat" and outs["c"].core == []


def test_emit_smt2_and_timeout(tmp_path: Path, stdlib: ir.Spec) -> None:
    path = tmp_path / "o.smt2"
    spec = load_spec_arg("specs/examples/conflicting.otlspec")
    consistent(spec, options=Options(spans=2, emit_smt2=str(path)))
    text = path.read_text()
    assert "check-sat-assuming" in text and "declare-fun" in text
    out = consistent(stdlib, options=Options(spans=3, timeout=0.001))
    assert out.status in ("unknown", "sat")
    if out.status == "unknown":
        assert out.reason


def test_cli_exit_codes(tmp_path: Path, examples: Path) -> None:
    from workbench.smt.cli import main

    assert main(["prove", "consistent", str(examples / "conflicting.otlspec")]) == 1
    out = tmp_path / "w.json"
    assert main(["prove", "consistent", str(examples / "vacuous.otlspec"), "-o", str(out)]) == 0
    assert out.exists()
    assert main(["prove", "implies", "stdlib.timing#child_starts_after_parent",
                 str(examples / "containment.otlspec")]) == 1
    assert main(["prove", "vacuous", str(examples / "vacuous.otlspec")]) == 1
    assert main(["prove", "consistent", "nope.otlspec"]) == 2


def test_avg_of_float_values_encodes() -> None:
    """Regression (found by test_generated_formulas_witnesses_agree): ``avg`` over float
    values summed to a Real term, which ``z3.ToReal`` rejected."""
    avg = ir.Aggregate("avg", ir.Spans(), "s", ir.Const(0.0, ir.Type.FLOAT))
    spec = ir.Spec("g", "", (), (ir.Property(
        "p", ir.Compare("==", avg, ir.Const(0, ir.Type.INT))),))
    assert consistent(spec, options=Options(spans=2, timeout=20)).status == "sat"
