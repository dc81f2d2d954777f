"""Probe-guided strategies: Z3 ``(if PROBE-TEST A B)`` tactics, written or learned.

A :class:`Cond` is a small decision tree over Z3 probes (``num-consts``, ``size``,
``is-qflia``...) whose leaves are strategies of the portfolio. :meth:`Cond.tactic` compiles
it to one SMT-LIB tactic expression, so choosing runs inside Z3, on the goal, with no Python
at solve time::

    (if (> num-consts 120) qflia (then simplify smt))

A leaf must be expressible as a tactic: a portfolio member with a tactic and no global
parameters, or ``default`` (Z3's ``default`` tactic, which is what the default solver runs on
a non-incremental check). Probes see the goal as asserted, before any tactic, which is what the
``probe.*`` features measure (:mod:`.features`); so the cost of a ``Cond`` on a labelled
obligation is the labelled cost of the leaf its features reach (:func:`simulate`), which
:func:`learn` minimises greedily on training labels.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from workbench.strategy.features import PROBES
from workbench.strategy.label import Label
from workbench.strategy.model import cost
from workbench.strategy.portfolio import DEFAULT_RLIMIT, Strategy, strategy

_OPS = (">", ">=", "<", "<=", "=")


@dataclass(frozen=True)
class Cond:
    """``(if (OP PROBE VALUE) THEN ELSE)``; ``then``/``orelse`` are strategy names or conds."""

    probe: str
    op: str
    value: float
    then: Cond | str
    orelse: Cond | str

    def __post_init__(self) -> None:
        if self.probe not in PROBES:
            raise ValueError(f"cond: unknown probe {self.probe!r}; known: {', '.join(PROBES)}")
        if self.op not in _OPS:
            raise ValueError(f"cond: unknown comparison {self.op!r}; use one of {_OPS}")
        if not float(self.value).is_integer():
            # Z3's tactic language reads probe constants as machine integers only
            raise ValueError(f"cond: probe threshold {self.value!r} must be an integer")

    def test(self, features: dict[str, float]) -> bool:
        """Whether the probe test holds for an obligation of these features."""
        x = features.get(f"probe.{self.probe}", 0.0)
        return {">": x > self.value, ">=": x >= self.value, "<": x < self.value,
                "<=": x <= self.value, "=": x == self.value}[self.op]

    def leaf(self, features: dict[str, float]) -> str:
        """The strategy an obligation of these features runs."""
        branch = self.then if self.test(features) else self.orelse
        return branch if isinstance(branch, str) else branch.leaf(features)

    def leaves(self) -> list[str]:
        """Every strategy named in the tree, left to right."""
        return [n for b in (self.then, self.orelse)
                for n in ([b] if isinstance(b, str) else b.leaves())]

    def tactic(self) -> str:
        """The tree as one Z3 tactic expression."""
        return (f"(if ({self.op} {self.probe} {_num(self.value)}) {_tactic_of(self.then)} "
                f"{_tactic_of(self.orelse)})")

    def as_strategy(self, name: str, description: str = "") -> Strategy:
        """A portfolio-style :class:`Strategy` running this tree."""
        return Strategy(name, description or f"probe-guided: {self.render()}", self.tactic())

    def render(self) -> str:
        """Readable one-line form: ``num-consts > 120 ? qflia : simplify-smt``."""
        def side(b: Cond | str) -> str:
            return b if isinstance(b, str) else f"({b.render()})"
        return f"{self.probe} {self.op} {_num(self.value)} ? {side(self.then)} : " \
               f"{side(self.orelse)}"


def _num(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:.6g}"


def _tactic_of(branch: Cond | str) -> str:
    if isinstance(branch, Cond):
        return branch.tactic()
    strat = strategy(branch)
    if strat.params:
        raise ValueError(f"cond: strategy {branch!r} sets global parameters "
                         f"({', '.join(strat.params)}), which a tactic branch cannot; use a "
                         "tactic-only strategy")
    return strat.tactic if strat.tactic is not None else "default"


def tactic_strategies(names: Sequence[str]) -> list[str]:
    """The strategies of ``names`` that can be leaves (a tactic or ``default``, no params)."""
    return [n for n in names if not strategy(n).params]


def simulate(tree: Cond | str, label: Label, rlimit: int = DEFAULT_RLIMIT) -> float:
    """PAR-2 cost of ``tree`` on a labelled obligation: its leaf's labelled cost."""
    leaf = tree if isinstance(tree, str) else tree.leaf(label.features)
    return cost(label, leaf, rlimit)


def _best(labels: Sequence[Label], names: Sequence[str], rlimit: int) -> tuple[str, float]:
    totals = {s: sum(cost(lab, s, rlimit) for lab in labels) for s in names}
    best = min(names, key=lambda s: (totals[s], list(names).index(s)))
    return best, totals[best]


def learn(labels: Sequence[Label], names: Sequence[str], depth: int = 2, min_leaf: int = 20,
          rlimit: int = DEFAULT_RLIMIT, probes: Sequence[str] = PROBES) -> Cond | str:
    """A probe tree of at most ``depth`` tests minimising total PAR-2 on ``labels``.

    Greedy, as CART: at each node, the probe threshold (an integer between distinct observed
    values, since Z3's tactic language compares probes with integers) whose two sides, each
    running its own best strategy, cost least in total; a split must leave ``min_leaf``
    obligations on each side and lower the cost, else the node is a leaf. ``names`` are the
    candidate leaves (see :func:`tactic_strategies`).
    """
    names = tactic_strategies(names)
    if not names:
        raise ValueError("cond: no candidate strategy can be a tactic branch")
    leaf, leaf_cost = _best(labels, names, rlimit)
    if depth <= 0 or len(labels) < 2 * min_leaf:
        return leaf
    per = {s: [cost(lab, s, rlimit) for lab in labels] for s in names}
    found: tuple[float, str, float] | None = None
    for probe in probes:
        key = f"probe.{probe}"
        order = sorted(range(len(labels)), key=lambda i: labels[i].features.get(key, 0.0))
        xs = [labels[i].features.get(key, 0.0) for i in order]
        left = dict.fromkeys(names, 0.0)
        total = {s: sum(per[s]) for s in names}
        for pos in range(len(order) - 1):
            i = order[pos]
            for s in names:
                left[s] += per[s][i]
            if xs[pos] == xs[pos + 1] or pos + 1 < min_leaf or len(order) - pos - 1 < min_leaf:
                continue
            cut = math.floor((xs[pos] + xs[pos + 1]) / 2)
            if not xs[pos] <= cut < xs[pos + 1]:
                continue  # no integer between them (fractional probe values)
            c = min(left.values()) + min(total[s] - left[s] for s in names)
            if c < leaf_cost * (1 - 1e-9) and (found is None or c < found[0]):
                found = (c, probe, float(cut))
    if found is None:
        return leaf
    _, probe, at = found
    hi = [lab for lab in labels if lab.features.get(f"probe.{probe}", 0.0) > at]
    lo = [lab for lab in labels if lab.features.get(f"probe.{probe}", 0.0) <= at]
    then = learn(hi, names, depth - 1, min_leaf, rlimit, probes)
    orelse = learn(lo, names, depth - 1, min_leaf, rlimit, probes)
    if then == orelse and isinstance(then, str):
        return then
    return Cond(probe, ">", at, then, orelse)


__all__ = ["Cond", "learn", "simulate", "tactic_strategies"]
