"""Choosing a strategy for ``otlspec prove``: ``--strategy auto|portfolio|default|NAME``.

The default is ``auto``, the shipped model (:data:`DEFAULT_STRATEGY`), because on held-out
spec families it beat the single best strategy with its feature time charged (see
``otlspec strategy eval`` and notebook 5; the numbers are in ``datasets/obligations/README.md``).
It picks from the IR counts of the formulas (node counts by class, temporal operators,
quantifier depth, bounded intervals), the obligation's kind and the trace bound N, and Z3's
probes on the goal (about 1 ms). The chosen strategy and the features that most lowered its
predicted cost against Z3's default are printed on stderr.

Measured on all 1,868 labelled obligations (held-out families, 5 folds, feature time
charged): PAR-2 70.9k resource units against 82.3k for the single best strategy of each fold
and 365k for Z3's default (57.5% of the SBS-VBS gap closed; the IR-only model 72.6k, 48.8%).
End to end (``benchmarks/strategy_e2e.py``, ten ``otlspec prove`` commands, identical
verdicts): Z3 did 45.35M / 33.17M / 32.40M resource units with ``default`` / ``simplify-smt`` /
``auto`` (the IR-only model: 40.30M); in wall time ``auto`` was the slowest (18.1 s vs 14.8 s
for ``simplify-smt``): loading the model and the probes cost about 0.3 s per command.
``prove theorem`` chooses per theorem (:class:`PerTheorem`: each theorem's own premises and
conclusion, one line of choices on stderr). Known label weakness: ``wnext_next_dual`` is
labelled at N = 2 only but proved at N = 3, and in the N = 3 label of
``rule_temporal_constants_sound`` two strategies tie at the labelling limit.

``auto`` picks the strategy of least predicted cost (:class:`~workbench.strategy.model.CostModel`);
a model trained on Z3's probes too gets them on the goal, built with
:func:`workbench.smt.obligations.prebuild` so the check reuses that encoding. Without a model,
or when the features cannot be computed, it falls back to :data:`FALLBACK`, the single best
strategy of the committed labels. The choice and the features
that drove it are printed on stderr; the obligations themselves run unchanged inside
:func:`~workbench.strategy.portfolio.applied` (for ``theorem``, one per theorem).
``--strategy default`` means Z3's own default.

``portfolio`` ranks the strategies the same way and races the ``--portfolio-k`` best (distinct
as the action runs them, see below) in parallel processes (:mod:`.race`): the first definitive
answer wins, the others are killed, and ``--portfolio-timeout`` bounds the whole race.

Z3 applies a configured tactic to a solver's checks without assumptions only (checked: a check
under assumptions costs the same resource count whatever the tactic). ``prove vacuous`` and
``prove theorem`` get the whole strategy; ``consistent`` and ``implies`` ask their main
question under assumptions (for unsat cores) yet still run other checks that take the tactic
(end to end, ``consistent stdlib`` costs 39% less under ``(then simplify smt)``); ``redundant``
checks everything under assumptions and so gets the parameters alone, which is why the
portfolio does not race two strategies that differ only in their tactic there.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import z3

from workbench.strategy.portfolio import Strategy, applied, names, strategy

if TYPE_CHECKING:
    from workbench.lang import ir
    from workbench.smt.obligations import Options
    from workbench.smt.theorem import Theorem
    from workbench.strategy.model import CostModel

_KIND_OF_ACTION = {"consistent": "consistency", "implies": "implication", "vacuous": "vacuity",
                   "redundant": "redundancy", "theorem": "theorem"}
#: Actions whose every check is under assumptions: a strategy's tactic does not apply there.
_PARAMS_ONLY = frozenset({"redundant"})
#: What ``otlspec prove`` runs without ``--strategy`` (measured; see the module docstring).
DEFAULT_STRATEGY = "auto"
#: The strategy of ``auto`` when the model cannot choose: the single best strategy of the
#: committed labels (a test recomputes it).
FALLBACK = "probe-tree"
#: Default number of strategies ``--strategy portfolio`` races.
PORTFOLIO_K = 3
#: Default wall-clock bound of a whole race, in seconds.
PORTFOLIO_TIMEOUT = 300.0


@dataclass
class Choice:
    """The strategy chosen for a command, and why."""

    strategy: Strategy
    mode: str  # "auto" | "fixed" | "fallback"
    why: str
    seconds: float = 0.0
    #: Every strategy, best predicted first (the portfolio order without a model).
    ranked: list[str] = field(default_factory=list)

    def render(self) -> str:
        """One line for stderr."""
        return f"strategy: {self.strategy.name} ({self.mode}; {self.why})"


def add_prove_option(prove: argparse.ArgumentParser) -> None:
    """Add ``--strategy`` to every action of the ``prove`` parser."""
    for action in prove._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                sub.add_argument(
                    "--strategy", default=DEFAULT_STRATEGY, metavar="NAME",
                    help=f"Z3 strategy (default {DEFAULT_STRATEGY}: the shipped model picks, "
                    "measured best on held-out families), portfolio (race the model's best "
                    "--portfolio-k), default (Z3's own), or one of " + ", ".join(names()))
                sub.add_argument(
                    "--portfolio-k", type=int, default=PORTFOLIO_K, metavar="K",
                    help=f"strategies raced by --strategy portfolio (default {PORTFOLIO_K})")
                sub.add_argument(
                    "--portfolio-timeout", type=float, default=PORTFOLIO_TIMEOUT,
                    metavar="SECONDS", help="wall-clock bound of the whole race (default "
                    f"{PORTFOLIO_TIMEOUT:g})")


def wrap_prove(handler: Callable[[argparse.Namespace], int]
               ) -> Callable[[argparse.Namespace], int]:
    """``handler`` run under the strategy chosen for its arguments."""
    def run(args: argparse.Namespace) -> int:
        if getattr(args, "strategy", None) == "portfolio":
            return _run_portfolio(handler, args)
        if getattr(args, "prove_action", None) == "theorem" and (
                getattr(args, "strategy", DEFAULT_STRATEGY) or DEFAULT_STRATEGY) == "auto":
            per = PerTheorem()  # prove theorem enters per(thm) around each theorem's check
            try:
                return handler(argparse.Namespace(**{**vars(args), "per_theorem": per}))
            finally:
                print(per.render(), file=sys.stderr)
        try:
            choice = choose_for_args(args)
        except KeyError as err:
            print(f"otlspec prove: {err.args[0]}", file=sys.stderr)
            return 2
        print(choice.render(), file=sys.stderr)
        with applied(choice.strategy):
            return handler(args)

    return run


def as_run(strat: Strategy, action: str) -> Strategy:
    """``strat`` as ``action`` runs it: without its tactic where solvers check under
    assumptions (so two strategies differing only in their tactic are the same there)."""
    return replace(strat, tactic=None) if action in _PARAMS_ONLY else strat


def portfolio_for(ranked: list[str], action: str, k: int) -> list[Strategy]:
    """The first ``k`` strategies of ``ranked`` that ``action`` runs differently."""
    out: list[Strategy] = []
    seen: set[tuple[object, ...]] = set()
    for name in ranked:
        strat = as_run(strategy(name), action)
        key = (strat.tactic, tuple(sorted((k_, str(v)) for k_, v in strat.params.items())))
        if key not in seen:
            seen.add(key)
            out.append(strategy(name))
        if len(out) >= k:
            break
    return out


def _run_portfolio(handler: Callable[[argparse.Namespace], int],
                   args: argparse.Namespace) -> int:
    from workbench.strategy.race import race_command, render

    k = getattr(args, "portfolio_k", PORTFOLIO_K)
    limit = getattr(args, "portfolio_timeout", PORTFOLIO_TIMEOUT)
    if k < 1 or limit <= 0:
        print("otlspec prove: --portfolio-k must be at least 1 and --portfolio-timeout "
              "positive", file=sys.stderr)
        return 2
    choice = choose_for_args(argparse.Namespace(**{**vars(args), "strategy": "auto"}))
    racers = portfolio_for(choice.ranked, args.prove_action, k)
    print(f"strategy: portfolio of {', '.join(s.name for s in racers)} ({choice.mode}; "
          f"{choice.why}; first definitive answer within {limit:g}s wins)", file=sys.stderr)
    code, outcome = race_command(handler, args, racers, limit)
    print(render(outcome), file=sys.stderr)
    return code


def choose_for_args(args: argparse.Namespace) -> Choice:
    """The strategy for a parsed ``otlspec prove`` command line.

    For ``theorem`` under ``auto`` this is the choice for the first theorem only;
    :func:`wrap_prove` chooses per theorem instead (:class:`PerTheorem`).
    """
    name = getattr(args, "strategy", DEFAULT_STRATEGY) or DEFAULT_STRATEGY
    if name != "auto":
        return Choice(strategy(name), "fixed", "asked for", ranked=names())
    return _choose(lambda probes, reused: _features(args, probes=probes, reused=reused))


def choose_for_theorem(thm: Theorem, model: CostModel | None = None) -> Choice:
    """The ``auto`` strategy for one theorem, from its own premises and conclusion.

    Parameters
    ----------
    thm:
        The theorem whose obligation (axioms, premises, not conclusion) is about to run.
    model:
        The cost model; ``None`` loads the shipped one (a :class:`PerTheorem` loads it once).
    """
    return _choose(lambda probes, reused: _theorem_features(thm, probes), model)


def _choose(features: Callable[[bool, dict[str, float]], dict[str, float] | None],
            model: CostModel | None = None) -> Choice:
    """The strategy of least predicted cost for the features ``features(probes, reused)`` gives.

    ``reused`` collects ``{"encode": seconds}`` when building the features encoded a goal that
    the check which follows reuses; that time is reported apart, not as the cost of choosing.
    """
    fixed = names()
    reused: dict[str, float] = {}
    fallback = [FALLBACK, *(n for n in fixed if n != FALLBACK)]
    started = time.perf_counter()
    try:
        if model is None:
            model = _load_model()
        if model is None:
            return Choice(strategy(FALLBACK), "fallback", "no model shipped", ranked=fallback)
        feats = features(any(f.startswith("probe.") for f in model.features), reused)
    except Exception as err:  # a selector problem must never stop a proof
        return Choice(strategy(FALLBACK), "fallback", f"{type(err).__name__}: {err}"[:160],
                      time.perf_counter() - started, fallback)
    if feats is None:
        return Choice(strategy(FALLBACK), "fallback", "no features for this obligation",
                      time.perf_counter() - started, fallback)
    pred = model.predict(feats)
    ranked = sorted((s for s in model.strategies if s in fixed),
                    key=lambda s: (pred[s], model.strategies.index(s)))
    ranked += [s for s in fixed if s not in ranked]
    chosen = ranked[0]
    reasons = model.why(feats, chosen)
    encode = reused.get("encode", 0.0)
    secs = time.perf_counter() - started - encode
    why = ", ".join(f"{k}={feats.get(k, 0):g}" for k, _ in reasons) or "lowest predicted cost"
    spent = f"{secs:.2f}s to choose"
    if encode:
        spent += f", {encode:.2f}s encoding the goal (reused by the check)"
    return Choice(strategy(chosen), "auto", f"top features: {why}; {spent}", secs, ranked)


def _load_model() -> CostModel | None:
    """The shipped cost model, or ``None`` when none is shipped."""
    from workbench.strategy.model import MODEL_PATH, CostModel

    return CostModel.load(MODEL_PATH) if MODEL_PATH.exists() else None


class PerTheorem:
    """``prove theorem --strategy auto``: a strategy chosen for each theorem as it runs.

    Called with a theorem, it returns a context that installs that theorem's strategy
    (:func:`choose_for_theorem`); ``prove theorem`` enters it around each check. The choices
    are kept for :meth:`render`.
    """

    def __init__(self) -> None:
        self.choices: list[tuple[str, Choice]] = []
        self._model: CostModel | None = None
        self._loaded = False

    def __call__(self, thm: Theorem) -> contextlib.AbstractContextManager[None]:
        """The context that runs ``thm`` under its own strategy."""
        if not self._loaded:
            started = time.perf_counter()
            self._loaded = True
            try:
                self._model = _load_model()
            except Exception as err:  # a selector problem must never stop a proof
                self.choices.append((thm.name, Choice(
                    strategy(FALLBACK), "fallback", f"{type(err).__name__}: {err}"[:160],
                    time.perf_counter() - started)))
                return applied(strategy(FALLBACK))
        if self._model is None:
            choice = Choice(strategy(FALLBACK), "fallback", "no model shipped")
        else:
            choice = choose_for_theorem(thm, self._model)
        self.choices.append((thm.name, choice))
        return applied(choice.strategy)

    def render(self, names_shown: int = 4) -> str:
        """One line for stderr: each strategy with its count, the theorems of the rarer ones."""
        if not self.choices:
            return "strategy: auto per theorem (no theorems)"
        groups: dict[str, list[str]] = {}
        for thm, choice in self.choices:
            groups.setdefault(choice.strategy.name, []).append(thm)
        order = sorted(groups, key=lambda s: -len(groups[s]))
        parts = []
        for i, name in enumerate(order):
            part = f"{name} x{len(groups[name])}"
            if i > 0:  # the majority goes unnamed
                shown = groups[name][:names_shown]
                more = len(groups[name]) - len(shown)
                part += f" ({', '.join(shown)}{f', +{more}' if more else ''})"
            parts.append(part)
        fallbacks = sum(c.mode == "fallback" for _, c in self.choices)
        secs = sum(c.seconds for _, c in self.choices)
        extra = f", {fallbacks} by fallback" if fallbacks else ""
        return (f"strategy: auto per theorem ({len(self.choices)} theorems{extra}; "
                f"{secs:.2f}s to choose): " + ", ".join(parts))


def _features(args: argparse.Namespace, probes: bool = True,
              reused: dict[str, float] | None = None) -> dict[str, float] | None:
    """Features of the (first) obligation that ``args`` asks about.

    The IR counts of its formulas, its kind and trace bound: a walk of the IR, no Z3. With
    ``probes`` (a model trained on them), Z3's probes on the goal as well; for ``consistent``,
    ``redundant`` and ``implies`` that goal is built with
    :func:`workbench.smt.obligations.prebuild`, so the check that follows reuses the encoding
    (the spec is not encoded twice); ``vacuous`` and ``theorem`` encode one small problem.
    For ``theorem`` these are the first theorem's (:func:`_theorem_features`). The seconds
    spent building a goal that the check reuses go to ``reused["encode"]``.
    """
    from workbench.smt.cli import _options, load_spec_arg, merge_specs
    from workbench.smt.obligations import Problem, prebuild, trigger

    action = args.prove_action
    if action == "theorem":
        from workbench.smt.theorem import load_theorems

        thms = load_theorems(args.files[0])
        return _theorem_features(thms[0], probes) if thms else None
    opts = _options(args)
    build: Callable[..., Any] = prebuild
    negated: int | None = -1  # the index of the formula the goal negates (the obligation's subject)
    if action == "implies":
        pre, post = load_spec_arg(args.premises), load_spec_arg(args.conclusion)
        if not post.properties:
            return None
        params = {p.name: p.default.value for p in (*post.params, *pre.params)}
        formulas = [p.formula for p in [*pre.properties, post.properties[0]]]
    else:
        spec = merge_specs([load_spec_arg(a) for a in args.specs])
        if not spec.properties:
            return None
        params = {p.name: p.default.value for p in spec.params}
        formulas = [p.formula for p in spec.properties]
        assume = [p.formula for a in getattr(args, "assume", [])
                  for p in load_spec_arg(a).properties]
        negated = None
        if action == "vacuous":
            cond = next((c for c in map(trigger, formulas) if c is not None), None)
            if cond is None:
                return None
            formulas, build = [cond, *assume], Problem
        elif action == "redundant":  # the first property fails, the others hold
            negated = 0
        else:
            formulas = [*formulas, *assume]
    return _goal_features(formulas, params, opts, _KIND_OF_ACTION[action], build, negated,
                          probes, reused if build is prebuild else None)


def _theorem_features(thm: Theorem, probes: bool = True) -> dict[str, float]:
    """Features of one theorem's obligation: its premises and its negated conclusion."""
    from workbench.smt.obligations import Options, Problem

    opts = Options(spans=thm.spans, events=thm.events, links=thm.links)
    return _goal_features([*thm.premises, thm.conclusion], dict(thm.params), opts, "theorem",
                          Problem, -1, probes)


def _goal_features(formulas: list[ir.Node], params: dict[str, Any], opts: Options, kind: str,
                   build: Callable[..., Any], negated: int | None,
                   probes: bool, reused: dict[str, float] | None = None) -> dict[str, float]:
    """IR and meta features of ``formulas``, and Z3's probes on their goal with ``probes``
    (``formulas[negated]`` negated there, the obligation's subject). With ``reused``, the
    seconds spent building and encoding the goal are recorded there as ``"encode"``."""
    from workbench.smt.terms import lift
    from workbench.strategy.features import ir_features, meta_features, probe_features

    feats = {**ir_features(formulas, params), **meta_features(kind, opts.spans)}
    if probes:
        started = time.perf_counter()
        pb = build(formulas, params, opts)
        terms = [lift(pb.encode(f)) for f in formulas]
        if reused is not None:
            reused["encode"] = time.perf_counter() - started
        if negated is not None:
            terms[negated] = z3.Not(terms[negated])
        goal = [*(lift(a) for a in pb.terms.axioms), *terms]
        feats.update(probe_features(goal))
    return feats


__all__ = ["DEFAULT_STRATEGY", "FALLBACK", "PORTFOLIO_K", "PORTFOLIO_TIMEOUT", "Choice",
           "PerTheorem", "add_prove_option", "as_run", "choose_for_args", "choose_for_theorem",
           "portfolio_for", "wrap_prove"]
