"""The portfolio: Z3 strategies that suit otlspec's obligations, and how to run one.

A :class:`Strategy` is data: an optional tactic (an SMT-LIB tactic expression, installed as
Z3's ``tactic.default_tactic``) and a few Z3 parameters. The same data configures a labelling
run (:func:`run_strategy`, on SMT-LIB text in a fresh Z3 context so that the resource count
starts at zero) and an ``otlspec prove`` call (:func:`applied`, around the unchanged
:mod:`workbench.smt` obligations), so what was measured is what runs.

Results are measured in Z3's deterministic resource count (``rlimit count``): the same
obligation, strategy and Z3 version give the same count on any machine, however loaded. Every
run is bounded twice: by a resource limit (deterministic) and by a wall-clock timeout (a safety
net, since some tactics check the resource limit rarely).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import z3

#: Default resource limit of a labelling run (Z3 ``rlimit`` units; about 0.4 s of one free
#: core). It is the limit that binds: a run stopped by the wall clock first would be a label
#: of the machine's load, not of the obligation (:func:`~workbench.strategy.label.determined`).
DEFAULT_RLIMIT = 2_000_000
#: Default wall-clock limit of a labelling run, in seconds: a safety net for tactics that
#: check the resource limit rarely, far above the resource limit even on a loaded machine.
DEFAULT_TIMEOUT = 20.0

_PRE = "simplify propagate-values solve-eqs elim-uncnstr"
#: The probe tree ``otlspec strategy cond`` learns from the committed labels (depth 2, at least
#: 20 obligations a leaf), compiled to one tactic; a test relearns it and compares.
_LEGACY = "(then simplify propagate-values solve-eqs (using-params smt :arith.solver 2))"
PROBE_TREE = ("(if (> num-bool-consts 45) (if (> num-exprs 1775) "
              f"(then {_PRE} smt) {_LEGACY}) "
              f"(if (> size 117) (then simplify smt) {_LEGACY}))")


@dataclass(frozen=True)
class Strategy:
    """One solver configuration of the portfolio.

    Parameters
    ----------
    name:
        Identifier used on the command line and in labels.
    description:
        One line: what it does and why it might suit an obligation.
    tactic:
        SMT-LIB tactic expression (``(then simplify smt)``) or ``None`` for Z3's default.
    params:
        Global Z3 parameters set for the run (``smt.random_seed``...).
    """

    name: str
    description: str
    tactic: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict)


PORTFOLIO: tuple[Strategy, ...] = (
    Strategy("default", "Z3's default solver (what workbench.smt uses)"),
    Strategy("preprocess", "simplify, propagate values, solve equations, eliminate "
             "unconstrained terms, then smt: symbolic traces are full of defined terms",
             f"(then {_PRE} smt)"),
    Strategy("simplify-smt", "simplify then smt", "(then simplify smt)"),
    Strategy("ctx-simplify", "contextual simplification before smt",
             "(then simplify propagate-values ctx-simplify solve-eqs smt)"),
    Strategy("qflia", "Z3's QF_LIA tactic (linear integer arithmetic)", "qflia"),
    Strategy("qfidl", "Z3's QF_IDL tactic: difference logic over timestamps", "qfidl"),
    Strategy("pre-qfidl", "preprocessing, then the difference-logic tactic",
             f"(then {_PRE} qfidl)"),
    Strategy("lia2sat", "bounded integers to pseudo-booleans to SAT (small domains only)",
             "(then simplify propagate-values normalize-bounds lia2pb pb2bv bit-blast sat)"),
    Strategy("arith-legacy", "the legacy arithmetic solver (smt.arith.solver=2)",
             params={"smt.auto_config": False, "smt.arith.solver": 2}),
    Strategy("no-auto-config", "default solver without auto-configuration",
             params={"smt.auto_config": False}),
    Strategy("seed-7", "default solver, another random seed",
             params={"smt.random_seed": 7, "sat.random_seed": 7}),
    Strategy("pre-seed-7", "preprocessing then smt, another random seed",
             f"(then {_PRE} smt)", {"smt.random_seed": 7, "sat.random_seed": 7}),
    # widened portfolio (issue 15: the SBS-VBS gap was 10.3% of SBS): variants of the single
    # best strategy (simplify then smt) that change the search, not only the preprocessing
    Strategy("simplify-seed-3", "simplify then smt, another random seed",
             "(then simplify smt)", {"smt.random_seed": 3, "sat.random_seed": 3}),
    Strategy("simplify-legacy-arith", "simplify then smt with the legacy arithmetic solver",
             "(then simplify smt)", {"smt.auto_config": False, "smt.arith.solver": 2}),
    Strategy("simplify-no-auto-config", "simplify then smt without auto-configuration",
             "(then simplify smt)", {"smt.auto_config": False}),
    Strategy("pre-legacy-arith", "preprocessing without elim-uncnstr, then smt with the "
             "legacy arithmetic solver chosen inside the tactic",
             _LEGACY),
    Strategy("probe-tree", "probe-guided: a tree over Z3 probes, learned on the labels "
             "(`otlspec strategy cond`), choosing inside Z3 with no Python at solve time",
             PROBE_TREE),
)

_BY_NAME = {s.name: s for s in PORTFOLIO}


def strategy(name: str) -> Strategy:
    """The portfolio member called ``name``.

    Raises
    ------
    KeyError
        With the known names, when ``name`` is not one.
    """
    try:
        return _BY_NAME[name]
    except KeyError:
        raise KeyError(f"no strategy {name!r}; known: {', '.join(_BY_NAME)}") from None


def names() -> list[str]:
    """Names of the portfolio, in order."""
    return [s.name for s in PORTFOLIO]


@contextlib.contextmanager
def applied(strat: Strategy) -> Iterator[None]:
    """Install ``strat`` as Z3's global configuration for the duration of the block.

    Solvers created inside the block (``z3.Solver()``) use the strategy's tactic and
    parameters; on exit Z3's parameters are reset to their defaults.
    """
    if strat.tactic is None and not strat.params:
        yield
        return
    try:
        if strat.tactic is not None:
            z3.set_param("tactic.default_tactic", strat.tactic)
        for key, value in strat.params.items():
            z3.set_param(key, value)
        yield
    finally:
        z3.reset_params()


@dataclass
class Run:
    """One strategy on one obligation."""

    strategy: str
    status: str  # "sat" | "unsat" | "unknown" | "error"
    rlimit: int
    seconds: float
    reason: str = ""

    @property
    def solved(self) -> bool:
        """It answered sat or unsat."""
        return self.status in ("sat", "unsat")

    def to_json(self) -> dict[str, Any]:
        """A JSON-friendly record."""
        return {"strategy": self.strategy, "status": self.status, "rlimit": self.rlimit,
                "seconds": round(self.seconds, 5), "reason": self.reason}


def _rlimit_count(solver: z3.Solver) -> int:
    stats = solver.statistics()
    return int(stats.get_key_value("rlimit count")) if "rlimit count" in stats.keys() else 0


def run_strategy(smt2: str, strat: Strategy, rlimit: int = DEFAULT_RLIMIT,
                 timeout: float = DEFAULT_TIMEOUT) -> Run:
    """Solve the SMT-LIB benchmark ``smt2`` with ``strat``, in a fresh Z3 context.

    A run that exhausts ``rlimit`` or ``timeout`` reports ``unknown`` with Z3's reason; a
    tactic that rejects the goal (``lia2pb`` on unbounded integers) reports ``unknown`` too.
    """
    with applied(strat):
        ctx = z3.Context()
        assertions = z3.parse_smt2_string(smt2, ctx=ctx)
        solver = z3.Solver(ctx=ctx)
        solver.set("rlimit", int(rlimit))
        solver.set("timeout", max(1, int(timeout * 1000)))
        solver.add(assertions)
        started = time.perf_counter()
        try:
            result = solver.check()
        except z3.Z3Exception as err:
            return Run(strat.name, "error", _rlimit_count(solver),
                       time.perf_counter() - started, str(err)[:200])
        seconds = time.perf_counter() - started
        count = _rlimit_count(solver)
        if result == z3.sat:
            return Run(strat.name, "sat", count, seconds)
        if result == z3.unsat:
            return Run(strat.name, "unsat", count, seconds)
        return Run(strat.name, "unknown", count, seconds, solver.reason_unknown()[:200])


__all__ = ["DEFAULT_RLIMIT", "DEFAULT_TIMEOUT", "PORTFOLIO", "PROBE_TREE", "Run", "Strategy",
           "applied", "names", "run_strategy", "strategy"]
