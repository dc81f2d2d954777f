"""Proof obligations about specs: consistency, implication, vacuity, redundancy.

Each obligation encodes the properties over one bounded symbolic trace
(:func:`~workbench.smt.model.symbolic_trace`), asks Z3, and returns an :class:`Outcome`.
Every trace Z3 produces (a witness or a counterexample) is written as OTLP/JSON, loaded back
and re-checked with the reference interpreter; a disagreement raises
:class:`~workbench.smt.witness.Disagreement` instead of reporting a wrong answer.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import z3

from workbench.lang import ir
from workbench.smt.domain import Usage, ValueDomain, scan
from workbench.smt.encode import Encoder
from workbench.smt.model import Bounds, default_bounds, symbolic_strings, symbolic_trace
from workbench.smt.terms import Bool, lift, py_value
from workbench.smt.witness import Disagreement, extract, recheck
from workbench.traces.records import SpanRecord


@dataclass
class Options:
    """Solver settings shared by all obligations.

    Parameters
    ----------
    spans:
        Largest number of spans of the traces considered (``N``).
    events, links:
        Event and link slots per span; ``None`` chooses 2 / 1 when the formulas read events
        or links, else 0.
    timeout:
        Seconds per Z3 call (every call is bounded; an exhausted call reports ``unknown``).
    emit_smt2:
        Where to write the SMT-LIB text of the (first) obligation, if anywhere.
    """

    spans: int = 4
    events: int | None = None
    links: int | None = None
    timeout: float = 30.0
    emit_smt2: str | None = None


@dataclass
class Outcome:
    """The answer to one obligation."""

    obligation: str
    subject: str
    status: str  # "sat" | "unsat" | "unknown" | "error"
    verdict: str  # what it means, in words
    spans: int
    seconds: float
    witness: list[SpanRecord] | None = None
    core: list[str] = field(default_factory=list)
    reason: str = ""
    rechecked: bool = False

    def to_json(self) -> dict[str, Any]:
        """A JSON-friendly summary (the trace itself is written separately)."""
        return {
            "obligation": self.obligation,
            "subject": self.subject,
            "status": self.status,
            "verdict": self.verdict,
            "spans": self.spans,
            "seconds": round(self.seconds, 3),
            "core": self.core,
            "reason": self.reason,
            "rechecked_by_reference": self.rechecked,
            "has_trace": self.witness is not None,
        }


class Problem:
    """Formulas encoded over one symbolic trace (shared by the checks of an obligation)."""

    def __init__(self, formulas: Sequence[ir.Node], params: Mapping[str, Any],
                 options: Options, extra_usage: Usage | None = None) -> None:
        usage = Usage() if extra_usage is None else extra_usage
        for f in formulas:
            scan(f, usage)
        for value in params.values():  # lets and params are literals too
            if isinstance(value, str):
                usage.strings.add(value)
            elif isinstance(value, int | float) and not isinstance(value, bool):
                usage.numbers.add(value)
        base = default_bounds(usage, options.spans)
        self.bounds = Bounds(
            spans=options.spans,
            events=base.events if options.events is None else options.events,
            links=base.links if options.links is None else options.links,
            extra_attributes=base.extra_attributes,
        )
        self.usage = usage
        strings = usage.strings | symbolic_strings(self.bounds)
        self.domain = ValueDomain(strings, usage.numbers, usage.patterns, usage.funcs)
        self.terms = symbolic_trace(usage, self.domain, self.bounds)
        self.encoder = Encoder(self.terms, params)
        self.params = dict(params)
        self.options = options
        self.keep_alive: tuple[ir.Node, ...] = ()

    def encode(self, node: ir.Node) -> Bool:
        """The formula holds on the symbolic trace."""
        return self.encoder.formula(node)

    def solver(self) -> z3.Solver:
        """A solver holding the axioms (call after encoding every formula)."""
        s = z3.Solver()
        s.set("timeout", max(1, int(self.options.timeout * 1000)))
        for a in self.terms.axioms:
            s.add(lift(a))
        return s


#: Problems built ahead of a check (``otlspec prove --strategy auto`` encodes the obligation
#: to compute its features), each taken once by the check of the same formulas
#: (:func:`take_problem`).
_PREBUILT: dict[str, Problem] = {}


def _problem_key(formulas: Sequence[ir.Node], params: Mapping[str, Any],
                 options: Options) -> str:
    # IR nodes compare structurally; the encoding depends on the bounds, not on timeouts
    return repr((tuple(formulas), sorted(params.items(), key=repr), options.spans,
                 options.events, options.links))


def prebuild(formulas: Sequence[ir.Node], params: Mapping[str, Any],
             options: Options) -> Problem:
    """Build the :class:`Problem` that the next check of ``formulas`` will reuse.

    Parameters
    ----------
    formulas, params, options:
        As for :class:`Problem`.

    Returns
    -------
    Problem
        The problem, kept (with its formulas, whose ids key the encoder's memo) until a check
        with equal formulas, parameters and bounds takes it.
    """
    pb = Problem(formulas, params, options)
    pb.keep_alive = tuple(formulas)
    _PREBUILT.clear()
    _PREBUILT[_problem_key(formulas, params, options)] = pb
    return pb


def take_problem(formulas: Sequence[ir.Node], params: Mapping[str, Any],
            options: Options) -> Problem:
    """The prebuilt problem of these formulas (:func:`prebuild`), or a new one."""
    pb = _PREBUILT.pop(_problem_key(formulas, params, options), None)
    if pb is None:
        return Problem(formulas, params, options)
    pb.options = options
    return pb


def _write_smt2(path: str | None, solver: z3.Solver, tracks: Mapping[str, z3.BoolRef],
                comment: str) -> None:
    if not path:
        return
    lines = [f"; otlspec: {comment}"]
    for name, t in tracks.items():
        lines.append(f"; {t} <=> property {name}")
    lines.append("(set-option :produce-unsat-cores true)")
    lines.append(solver.sexpr())
    if tracks:
        lines.append("(check-sat-assuming (" + " ".join(str(t) for t in tracks.values()) + "))")
    else:
        lines.append("(check-sat)")
    Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")


def _params(spec: ir.Spec) -> dict[str, Any]:
    return {p.name: p.default.value for p in spec.params}


def _check(s: z3.Solver, assumptions: Sequence[z3.BoolRef] = ()) -> tuple[str, str]:
    r = s.check(*assumptions)
    if r == z3.sat:
        return "sat", ""
    if r == z3.unsat:
        return "unsat", ""
    return "unknown", s.reason_unknown()


def _verify(problem: Problem, model: z3.ModelRef, props: Sequence[ir.Property],
            terms_of: Mapping[str, Bool]) -> list[SpanRecord]:
    """Extract the trace and make the reference agree with the model on every property."""
    records = extract(model, problem.terms)
    expected = {p.name: bool(py_value(model, lift(terms_of[p.name]))) for p in props}
    result = recheck(records, props, problem.params, expected)
    if not result.agrees:
        raise Disagreement(
            "the reference checker disagrees with the Z3 model on "
            + ", ".join(result.mismatches())
            + " (an encoding bug; please report it with --emit-smt2 output)"
        )
    return records


def _tidy(problem: Problem) -> z3.BoolRef:
    """A literal that, when assumed, asks for a plain trace: no attributes beyond those needed."""
    lit = z3.Bool(f"tidy_{problem.encoder.tag}")
    codes = []
    for sp in problem.terms.spans:
        codes += [v.term for v in sp.attrs.values()]
        codes += [v.term for k, v in sp.resource.items() if k != "service.name"]
        for ev in sp.events:
            codes += [v.term for v in ev.attrs.values()]
    extra = [v for name, v in problem.terms.variables.items() if name.endswith("extra_attributes")]
    conds = [c == -1 for c in codes] + [e == 0 for e in extra]
    return lit if not conds else z3.And(lit, z3.Implies(lit, z3.And(*conds)))


def _smallest(s: z3.Solver, problem: Problem, assumptions: list[z3.BoolRef],
              budget: float) -> z3.ModelRef:
    """After a ``sat`` answer: the model of a smallest (and, if possible, plainest) trace."""
    best = s.model()
    deadline = time.perf_counter() + budget
    spans = problem.terms.spans
    tidy = z3.Bool(f"tidy_{problem.encoder.tag}")
    s.add(z3.Implies(tidy, _tidy(problem)))
    for k in range(1, len(spans) + 1):
        size = [z3.Not(lift(spans[k].act))] if k < len(spans) else []
        for extra in ([tidy], []):
            if time.perf_counter() > deadline:
                return best
            if s.check(*assumptions, *size, *extra) == z3.sat:
                return s.model()
    return best


def _minimize(s: z3.Solver, tracks: dict[str, z3.BoolRef], core: list[str]) -> list[str]:
    """Deletion-based minimization of an unsat core (each member is necessary)."""
    keep = list(core)
    for name in list(core):
        trial = [tracks[n] for n in keep if n != name]
        if s.check(*trial) == z3.unsat:
            keep.remove(name)
    return keep


# ------------------------------------------------------------------------ obligations


def consistent(spec: ir.Spec, assume: Sequence[ir.Property] = (),
               options: Options | None = None) -> Outcome:
    """Is there a trace of at most N spans on which every property (and assumption) holds?

    Sat: the witness trace (re-checked). Unsat: a minimal set of conflicting properties.
    """
    opts = options or Options()
    started = time.perf_counter()
    params = _params(spec)
    props = list(spec.properties)
    problem = take_problem([p.formula for p in [*props, *assume]], params, opts)
    terms = {p.name: problem.encode(p.formula) for p in props}
    assumed = [problem.encode(p.formula) for p in assume]
    s = problem.solver()
    for a in assumed:
        s.add(lift(a))
    tracks = {p.name: z3.Bool(f"prop::{p.name}") for p in props}
    for name, t in tracks.items():
        s.add(z3.Implies(t, lift(terms[name])))
    _write_smt2(opts.emit_smt2, s, tracks, f"consistent {spec.name}, N={opts.spans}")
    status, reason = _check(s, list(tracks.values()))
    subject = spec.name
    if status == "sat":
        all_terms = {**terms, **{p.name: a for p, a in zip(assume, assumed, strict=True)}}
        model = _smallest(s, problem, list(tracks.values()), opts.timeout)
        records = _verify(problem, model, [*props, *assume], all_terms)
        return Outcome("consistent", subject, "sat",
                       f"consistent: a trace of {len(records)} span(s) satisfies all "
                       f"{len(props)} properties", opts.spans,
                       time.perf_counter() - started, records, rechecked=True)
    if status == "unsat":
        names = {str(t): n for n, t in tracks.items()}
        core = [names[str(c)] for c in s.unsat_core() if str(c) in names]
        core = _minimize(s, tracks, core)
        what = ", ".join(core) if core else "(the assumptions alone)"
        return Outcome("consistent", subject, "unsat",
                       f"inconsistent up to {opts.spans} spans: no trace satisfies {what}",
                       opts.spans, time.perf_counter() - started, core=core)
    return Outcome("consistent", subject, "unknown", f"unknown: {reason}", opts.spans,
                   time.perf_counter() - started, reason=reason)


def implies(premises: Sequence[ir.Property], conclusion: ir.Property,
            params: Mapping[str, Any], options: Options | None = None,
            try_unbounded: bool = True) -> Outcome:
    """Do the premises entail the conclusion on every trace of at most N spans?

    Sat: a counterexample (premises hold, the conclusion fails; re-checked). Unsat: holds up
    to N, and for all sizes when the unbounded encoding also proves it.
    """
    opts = options or Options()
    started = time.perf_counter()
    problem = take_problem([p.formula for p in [*premises, conclusion]], params, opts)
    pre = [problem.encode(p.formula) for p in premises]
    goal = problem.encode(conclusion.formula)
    s = problem.solver()
    tracks = {p.name: z3.Bool(f"prop::{p.name}") for p in premises}
    for p, term in zip(premises, pre, strict=True):
        s.add(z3.Implies(tracks[p.name], lift(term)))
    s.add(z3.Not(lift(goal)))
    _write_smt2(opts.emit_smt2, s, tracks,
                f"premises |- {conclusion.name}, N={opts.spans} (unsat = entailment holds)")
    status, reason = _check(s, list(tracks.values()))
    subject = conclusion.name
    if status == "sat":
        terms = {p.name: t for p, t in zip(premises, pre, strict=True)}
        terms[conclusion.name] = goal
        model = _smallest(s, problem, list(tracks.values()), opts.timeout)
        records = _verify(problem, model, [*premises, conclusion], terms)
        return Outcome("implies", subject, "sat",
                       f"does not follow: counterexample of {len(records)} span(s)", opts.spans,
                       time.perf_counter() - started, records, rechecked=True)
    if status == "unsat":
        names = {str(t): n for n, t in tracks.items()}
        core = _minimize(s, tracks, [names[str(c)] for c in s.unsat_core() if str(c) in names])
        verdict = f"holds up to {opts.spans} spans"
        if try_unbounded:
            from workbench.smt.unbounded import prove_unbounded

            proved, why = prove_unbounded(premises, conclusion, params, opts.timeout)
            verdict += "; holds for traces of any size (unbounded proof)" if proved else (
                f"; unbounded: {why}")
        return Outcome("implies", subject, "unsat", verdict, opts.spans,
                       time.perf_counter() - started, core=core)
    return Outcome("implies", subject, "unknown", f"unknown: {reason}", opts.spans,
                   time.perf_counter() - started, reason=reason)


def trigger(node: ir.Node) -> ir.Node | None:
    """The condition under which a property's guards fire (``None``: it has no guard).

    ``forall x in D where G: B`` fires when some member satisfies ``G`` and ``B``'s guards
    fire; ``A -> B`` fires when ``A`` holds (and ``B``'s guards fire); ``always[I] φ`` and
    ``historically[I] φ`` fire when ``φ``'s guards fire somewhere in the window; a conjunction
    fires when any conjunct does.
    """
    if isinstance(node, ir.Quant) and node.kind == "forall":
        inner = trigger(node.body)
        if node.guard is None and inner is None and isinstance(node.domain, ir.Spans):
            return None
        parts = [x for x in (node.guard, inner) if x is not None]
        cond: ir.Node = ir.Const(True, ir.Type.BOOL) if not parts else (
            parts[0] if len(parts) == 1 else ir.And(tuple(parts)))
        return ir.Quant("exists", node.var, node.domain, None, cond)
    if isinstance(node, ir.Implies):
        inner = trigger(node.right)
        return node.left if inner is None else ir.And((node.left, inner))
    if isinstance(node, ir.Temporal) and node.op in ("always", "historically"):
        inner = trigger(node.args[0])
        if inner is None:
            return None
        op: ir.TemporalOp = "eventually" if node.op == "always" else "once"
        return ir.Temporal(op, (inner,), node.interval)
    if isinstance(node, ir.And):
        found = [t for t in (trigger(a) for a in node.args) if t is not None]
        if not found:
            return None
        return found[0] if len(found) == 1 else ir.Or(tuple(found))
    return None


def vacuous(spec: ir.Spec, assume: Sequence[ir.Property] = (),
            options: Options | None = None) -> list[Outcome]:
    """For each property: can its guards fire on some trace of at most N spans?

    ``unsat`` means the property is vacuous (it can only hold trivially).
    """
    opts = options or Options()
    params = _params(spec)
    out: list[Outcome] = []
    for prop in spec.properties:
        started = time.perf_counter()
        cond = trigger(prop.formula)
        if cond is None:
            out.append(Outcome("vacuous", prop.name, "sat", "not vacuous: it has no guard",
                               opts.spans, time.perf_counter() - started))
            continue
        problem = Problem([cond, *[a.formula for a in assume]], params, opts)
        fires = problem.encode(cond)
        assumed = [problem.encode(a.formula) for a in assume]
        s = problem.solver()
        for a in assumed:
            s.add(lift(a))
        s.add(lift(fires))
        path = opts.emit_smt2
        if path and len(spec.properties) > 1:
            path = f"{path}.{prop.name}.smt2"
        _write_smt2(path, s, {}, f"guards of {prop.name} fire (unsat = vacuous)")
        status, reason = _check(s)
        seconds = time.perf_counter() - started
        if status == "sat":
            verdict = "not vacuous: its guards fire"
        elif status == "unsat":
            verdict = f"vacuous: its guards never fire on traces of up to {opts.spans} spans"
        else:
            verdict = f"unknown: {reason}"
        out.append(Outcome("vacuous", prop.name, status, verdict, opts.spans, seconds,
                           reason=reason))
    return out


#: What the bounded trace model assumes and the loader does not guarantee (loaded traces may
#: repeat span ids, have parent cycles, end before they start): stated in every ``redundant``
#: answer.
MODEL_ASSUMPTIONS = "unique span ids, acyclic parents and no span ending before it starts"


def redundant(spec: ir.Spec, options: Options | None = None) -> list[Outcome]:
    """For each property: is it implied by the others (on traces of at most N spans)?

    ``unsat`` means redundant; ``core`` names a minimal set of other properties implying it
    (empty: the property holds on every well-formed trace). Properties are taken in order and
    each one found redundant is left out of the checks that follow, so the redundant ones can
    be removed *together*: two properties that imply each other are not both reported.
    Every answer assumes :data:`MODEL_ASSUMPTIONS`, which loaded data need not satisfy; the
    verdict says so.
    """
    opts = options or Options()
    params = _params(spec)
    props = list(spec.properties)
    problem = take_problem([p.formula for p in props], params, opts)
    terms = {p.name: problem.encode(p.formula) for p in props}
    s = problem.solver()
    tracks = {p.name: z3.Bool(f"prop::{p.name}") for p in props}
    for name, t in tracks.items():
        s.add(z3.Implies(t, lift(terms[name])))
    names = {str(t): n for n, t in tracks.items()}
    out: list[Outcome] = []
    removed: set[str] = set()
    for prop in props:
        started = time.perf_counter()
        others = [tracks[p.name] for p in props
                  if p.name != prop.name and p.name not in removed]
        s.push()
        s.add(z3.Not(lift(terms[prop.name])))
        status, reason = _check(s, others)
        core: list[str] = []
        if status == "unsat":
            core = [names[str(c)] for c in s.unsat_core() if str(c) in names]
            core = _minimize(s, tracks, core)
            removed.add(prop.name)
            verdict = (f"redundant assuming {MODEL_ASSUMPTIONS}: holds on every such trace of "
                       f"up to {opts.spans} spans" if not core else
                       "redundant: implied by " + ", ".join(core)
                       + f" (assuming {MODEL_ASSUMPTIONS})")
        elif status == "sat":
            verdict = "independent of the others"
        else:
            verdict = f"unknown: {reason}"
        s.pop()
        out.append(Outcome("redundant", prop.name, status, verdict, opts.spans,
                           time.perf_counter() - started, core=core, reason=reason))
    return out


def property_of(formula: ir.Node, name: str) -> ir.Property:
    """Wrap a bare formula as a property."""
    return ir.Property(name=name, formula=formula)


__all__ = [
    "MODEL_ASSUMPTIONS",
    "Disagreement",
    "Options",
    "Outcome",
    "Problem",
    "ValueDomain",
    "consistent",
    "implies",
    "property_of",
    "redundant",
    "trigger",
    "vacuous",
]
