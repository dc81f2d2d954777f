"""Choosing a strategy for ``otlspec prove``: ``--strategy auto|default|NAME``.

``auto`` (the default when the package ships a model) builds the obligation the command asks
about once more, as the corpus does, computes its features, and picks the strategy of least
predicted cost (:class:`~workbench.strategy.model.CostModel`); without a model, or when the
features cannot be computed, it falls back to Z3's default. The choice and the features that
drove it are printed on stderr; the obligations themselves run unchanged inside
:func:`~workbench.strategy.portfolio.applied`.

Z3 applies a configured tactic to a solver's non-incremental checks only: ``prove vacuous``
and ``prove theorem`` get the whole strategy, while ``consistent``, ``implies`` and
``redundant`` (which check under assumptions, for unsat cores) get its parameters.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

from workbench.strategy.portfolio import Strategy, applied, names, strategy

_KIND_OF_ACTION = {"consistent": "consistency", "implies": "implication", "vacuous": "vacuity",
                   "redundant": "redundancy", "theorem": "theorem"}


@dataclass
class Choice:
    """The strategy chosen for a command, and why."""

    strategy: Strategy
    mode: str  # "auto" | "fixed" | "fallback"
    why: str
    seconds: float = 0.0

    def render(self) -> str:
        """One line for stderr."""
        return f"strategy: {self.strategy.name} ({self.mode}; {self.why})"


def add_prove_option(prove: argparse.ArgumentParser) -> None:
    """Add ``--strategy`` to every action of the ``prove`` parser."""
    for action in prove._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                sub.add_argument(
                    "--strategy", default="auto", metavar="NAME",
                    help="Z3 strategy: auto (the shipped model; default), default, or one of "
                    + ", ".join(names()))


def wrap_prove(handler: Callable[[argparse.Namespace], int]
               ) -> Callable[[argparse.Namespace], int]:
    """``handler`` run under the strategy chosen for its arguments."""
    def run(args: argparse.Namespace) -> int:
        try:
            choice = choose_for_args(args)
        except KeyError as err:
            print(f"otlspec prove: {err.args[0]}", file=sys.stderr)
            return 2
        print(choice.render(), file=sys.stderr)
        with applied(choice.strategy):
            return handler(args)

    return run


def choose_for_args(args: argparse.Namespace) -> Choice:
    """The strategy for a parsed ``otlspec prove`` command line."""
    name = getattr(args, "strategy", "auto") or "auto"
    if name != "auto":
        return Choice(strategy(name), "fixed", "asked for")
    started = time.perf_counter()
    try:
        from workbench.strategy.model import MODEL_PATH, CostModel

        if not MODEL_PATH.exists():
            return Choice(strategy("default"), "fallback", "no model shipped")
        model = CostModel.load(MODEL_PATH)
        feats = _features(args)
    except Exception as err:  # a selector problem must never stop a proof
        return Choice(strategy("default"), "fallback", f"{type(err).__name__}: {err}"[:160],
                      time.perf_counter() - started)
    if feats is None:
        return Choice(strategy("default"), "fallback", "no features for this obligation",
                      time.perf_counter() - started)
    chosen = model.choose(feats)
    reasons = model.why(feats, chosen)
    secs = time.perf_counter() - started
    why = ", ".join(f"{k}={feats.get(k, 0):g}" for k, _ in reasons) or "lowest predicted cost"
    return Choice(strategy(chosen), "auto", f"top features: {why}; {secs:.2f}s to choose",
                  secs)


def _features(args: argparse.Namespace) -> dict[str, float] | None:
    """Features of the (first) obligation that ``args`` asks about."""
    from workbench.smt.cli import load_spec_arg, merge_specs
    from workbench.strategy.corpus import Config, _Builder
    from workbench.strategy.label import features_of

    action = args.prove_action
    b = _Builder(Config(limit=1))
    if action == "theorem":
        from workbench.smt.theorem import load_theorems

        thms = load_theorems(args.files[0])
        if thms:
            b.theorem("cli", thms[0], thms[0].spans, "cli", list(thms[0].premises))
    else:
        if action == "implies":
            pre, post = load_spec_arg(args.premises), load_spec_arg(args.conclusion)
            props = [*post.properties[:1], *pre.properties]
            params = {p.name: p.default.value for p in (*post.params, *pre.params)}
            kinds: tuple[str, ...] = ("redundancy",)  # goal fails, premises hold
        else:
            spec = merge_specs([load_spec_arg(a) for a in args.specs])
            props = list(spec.properties)
            params = {p.name: p.default.value for p in spec.params}
            kinds = (_KIND_OF_ACTION[action],)
        b.spec("cli", props, params, args.spans, "cli", kinds)
        if not b.out:
            b.spec("cli", props, params, args.spans, "cli", ("consistency",))
    if not b.out:
        return None
    ob = b.out[0]
    feats, _ = features_of(ob.smt2, ob.ir, _KIND_OF_ACTION[action], ob.n)
    return feats


__all__ = ["Choice", "add_prove_option", "choose_for_args", "wrap_prove"]
