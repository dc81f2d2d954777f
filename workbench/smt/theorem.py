"""Machine-checked theorems about the language and the standard library.

A theorem file is a small Python module (``proofs/*.py``) defining ``THEOREMS``, a list of
:class:`Theorem`: premises, a conclusion, a bound on the trace size and the expected outcome.
Formulas are written in otlspec syntax (:func:`formula`) or built as IR; :func:`pred` makes a
*schematic* atom (an uninterpreted relation), so a theorem over ``P(s)`` holds for every
formula put in its place. ``otlspec prove theorem FILE`` and ``tests/smt/test_proofs.py`` run
them; each prints ``proved`` / ``refuted`` (with a counterexample) and the time taken.

A theorem is proved when ``axioms and premises and not conclusion`` is unsatisfiable over
traces of up to ``spans`` spans (the well-formedness axioms of
:func:`~workbench.smt.model.symbolic_trace`).
"""

from __future__ import annotations

import runpy
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import z3

from workbench.lang import ir
from workbench.smt.encode import Pred
from workbench.smt.model import T0
from workbench.smt.obligations import Options, Problem, _smallest
from workbench.smt.terms import lift, py_value
from workbench.smt.witness import Disagreement, extract, recheck
from workbench.traces.model import KIND_NAMES
from workbench.traces.records import SpanRecord


@dataclass
class Theorem:
    """A statement to prove (or, with ``expect="refuted"``, to refute) over bounded traces.

    Parameters
    ----------
    name:
        Identifier, printed with the result.
    statement:
        The theorem in words (shown in ``docs/proofs.md`` and on failure).
    conclusion:
        The formula that must hold on every trace satisfying the premises.
    premises:
        Formulas assumed to hold.
    spans, events, links:
        Trace bounds (``spans`` is the ``N`` of "holds up to N").
    expect:
        ``"proved"`` or ``"refuted"`` (a plausible but false lemma).
    params:
        Values of names the formulas use (durations in ns).
    """

    name: str
    statement: str
    conclusion: ir.Node
    premises: Sequence[ir.Node] = ()
    spans: int = 4
    events: int = 0
    links: int = 0
    expect: str = "proved"
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class TheoremResult:
    """The outcome of checking one theorem."""

    theorem: Theorem
    status: str  # "proved" | "refuted" | "unknown"
    seconds: float
    counterexample: list[SpanRecord] | None = None
    detail: str = ""

    @property
    def as_expected(self) -> bool:
        """The outcome is the one the theorem file expects."""
        return self.status == self.theorem.expect

    def render(self) -> str:
        """One line of verdict, then the counterexample when there is one."""
        t = self.theorem
        mark = "ok" if self.as_expected else "UNEXPECTED"
        head = (f"{t.name}: {self.status} up to {t.spans} spans in {self.seconds:.2f}s"
                f" (expected {t.expect}: {mark})")
        lines = [head]
        if self.detail:
            lines.append("  " + self.detail)
        if self.counterexample is not None:
            lines.append("  counterexample (times in ns after T0):")
            lines.extend("    " + describe_span(r) for r in self.counterexample)
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        """JSON summary."""
        return {
            "name": self.theorem.name,
            "statement": self.theorem.statement,
            "status": self.status,
            "expected": self.theorem.expect,
            "as_expected": self.as_expected,
            "spans": self.theorem.spans,
            "seconds": round(self.seconds, 3),
            "detail": self.detail,
            "counterexample": None if self.counterexample is None else [
                describe_span(r) for r in self.counterexample],
        }


def describe_span(r: SpanRecord) -> str:
    """``span 2 (child of 1, CLIENT): [5, 20]`` with times relative to T0."""
    num = str(int(r.span_id, 16))
    if not r.parent_id:
        rel = "root"
    elif r.parent_id.startswith("dead"):
        rel = "orphan"
    else:
        rel = f"child of {int(r.parent_id, 16)}"
    end = "open" if r.end is None else str(r.end - T0)
    extra = "".join(f", event {n}@{t - T0}" for n, t, _ in r.events)
    extra += "".join(f", link to {int(s, 16)}" for _, s, _ in r.links)
    return f"span {num} ({rel}, {KIND_NAMES[r.kind]}): [{r.start - T0}, {end}]{extra}"


# ------------------------------------------------------------------------ building blocks


def formula(text: str) -> ir.Node:
    """Parse an otlspec formula (free names must be bound by quantifiers)."""
    from workbench.lang import parse_formula

    return parse_formula(text)


def pred(name: str, *args: str, timed: bool = False) -> Pred:
    """A schematic atom ``name(args...)`` over span variables (see :class:`Pred`)."""
    return Pred(name, tuple(ir.Var(a) for a in args), timed)


def iff(a: ir.Node, b: ir.Node) -> ir.Node:
    """``a <-> b``."""
    return ir.And((ir.Implies(a, b), ir.Implies(b, a)))


def everywhere(node: ir.Node) -> ir.Node:
    """``always node`` (``node`` at every timeline point)."""
    return ir.Temporal("always", (node,), ir.Interval())


def forall_spans(var: str, body: ir.Node) -> ir.Node:
    """``forall var in spans: body``."""
    return ir.Quant("forall", var, ir.Spans(), None, body)


def _has_pred(node: ir.Node) -> bool:
    return isinstance(node, Pred) or any(_has_pred(c) for c in node.children())


# ------------------------------------------------------------------------ running


def run_theorem(thm: Theorem, timeout: float = 120.0) -> TheoremResult:
    """Check one theorem (see the module docstring)."""
    started = time.perf_counter()
    opts = Options(spans=thm.spans, events=thm.events, links=thm.links, timeout=timeout)
    problem = Problem([*thm.premises, thm.conclusion], thm.params, opts)
    pre = [problem.encode(p) for p in thm.premises]
    goal = problem.encode(thm.conclusion)
    s = problem.solver()
    for p in pre:
        s.add(lift(p))
    s.add(z3.Not(lift(goal)))
    r = s.check()
    if r == z3.unsat:
        return TheoremResult(thm, "proved", time.perf_counter() - started)
    if r != z3.sat:
        return TheoremResult(thm, "unknown", time.perf_counter() - started,
                             detail=f"z3: {s.reason_unknown()}")
    model = _smallest(s, problem, [], timeout / 4)
    records = extract(model, problem.terms)
    detail = _failing_parts(model, problem, thm.conclusion)
    schematic = any(_has_pred(f) for f in [*thm.premises, thm.conclusion])
    if not schematic:
        props = [ir.Property(f"premise_{i}", f) for i, f in enumerate(thm.premises)]
        props.append(ir.Property("conclusion", thm.conclusion))
        expected = {p.name: True for p in props[:-1]}
        expected["conclusion"] = False
        check = recheck(records, props, thm.params, expected)
        if not check.agrees:
            raise Disagreement(f"theorem {thm.name}: the reference checker disagrees on "
                               + ", ".join(check.mismatches()))
    else:
        detail = (detail + "; " if detail else "") + _pred_table(model, problem)
    return TheoremResult(thm, "refuted", time.perf_counter() - started, records, detail)


def _failing_parts(model: z3.ModelRef, problem: Problem, conclusion: ir.Node) -> str:
    """For a conjunction, which conjuncts fail (printed as otlspec text when possible)."""
    if not isinstance(conclusion, ir.And) or len(conclusion.args) < 2:
        return ""
    failing = []
    for part in conclusion.args:
        if not py_value(model, lift(problem.encode(part))):
            failing.append(_text(part))
    return "failing: " + " | ".join(failing[:5]) if failing else ""


def _text(node: ir.Node) -> str:
    try:
        from workbench.lang import print_formula

        return print_formula(node)
    except Exception:  # schematic atoms are not printable otlspec
        return repr(node)[:200]


def _pred_table(model: z3.ModelRef, problem: Problem) -> str:
    out = []
    for (name, arity, _), fn in sorted(problem.encoder.predicates.items(),
                                       key=lambda kv: kv[0][0]):
        entry = model.eval(fn(*([z3.IntVal(0)] * arity)) if arity else fn(),
                           model_completion=True)
        out.append(f"{name}: {model[fn] if model[fn] is not None else entry}")
    return "schematic predicates: " + "; ".join(out) if out else ""


def load_theorems(path: str | Path) -> list[Theorem]:
    """The ``THEOREMS`` of a theorem file."""
    namespace = runpy.run_path(str(path))
    found = namespace.get("THEOREMS")
    if not isinstance(found, list) or not all(isinstance(t, Theorem) for t in found):
        raise ValueError(f"{path}: a theorem file defines THEOREMS, a list of Theorem")
    return found
