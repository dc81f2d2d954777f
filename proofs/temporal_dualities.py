"""Temporal dualities with intervals, for an arbitrary formula P.

`P` and `Q` are schematic: uninterpreted predicates of the timeline point, so each duality
holds for every formula substituted for them. Each equivalence is checked at every point of
the timeline (`always (lhs <-> rhs)`), over traces of up to 3 spans with one event slot
each (9 timeline points), for the unbounded interval and for a bounded one with a nonzero
lower bound.
"""

from workbench.lang import ir
from workbench.smt.theorem import Theorem, everywhere, iff, pred

P = pred("P", timed=True)
Q = pred("Q", timed=True)
TRUE = ir.Const(True, ir.Type.BOOL)
INTERVALS = {"[0, inf]": ir.Interval(), "[1ms, 3ms]": ir.Interval(1_000_000, 3_000_000)}


def op(name: str, *args: ir.Node, interval: ir.Interval | None = None) -> ir.Node:
    return ir.Temporal(name, tuple(args), interval or ir.Interval())


def dual(name: str, statement: str, lhs: ir.Node, rhs: ir.Node, expect: str = "proved"
         ) -> Theorem:
    return Theorem(name=name, statement=statement, conclusion=everywhere(iff(lhs, rhs)),
                   spans=3, events=1, expect=expect)


THEOREMS = []
for label, iv in INTERVALS.items():
    suffix = "unbounded" if iv.unbounded else "bounded"
    THEOREMS += [
        dual(f"always_eventually_dual_{suffix}",
             f"always{label} P <-> not eventually{label} not P",
             op("always", P, interval=iv), ir.Not(op("eventually", ir.Not(P), interval=iv))),
        dual(f"historically_once_dual_{suffix}",
             f"historically{label} P <-> not once{label} not P",
             op("historically", P, interval=iv), ir.Not(op("once", ir.Not(P), interval=iv))),
        dual(f"eventually_is_true_until_{suffix}",
             f"eventually{label} P <-> true until{label} P",
             op("eventually", P, interval=iv), op("until", TRUE, P, interval=iv)),
        dual(f"once_is_true_since_{suffix}",
             f"once{label} P <-> true since{label} P",
             op("once", P, interval=iv), op("since", TRUE, P, interval=iv)),
        dual(f"until_implies_eventually_{suffix}",
             f"(P until{label} Q) -> eventually{label} Q, written as an equivalence with "
             "((P until Q) and eventually Q)",
             op("until", P, Q, interval=iv),
             ir.And((op("until", P, Q, interval=iv), op("eventually", Q, interval=iv)))),
    ]
THEOREMS += [
    dual("wnext_next_dual", "wnext P <-> not next not P", op("wnext", P),
         ir.Not(op("next", ir.Not(P)))),
    dual("next_is_not_wnext", "next P <-> wnext P (false: they differ at the last point)",
         op("next", P), op("wnext", P), expect="refuted"),
    dual("eventually_distributes_over_and",
         "eventually[0, 1ms] P and eventually[0, 1ms] Q <-> eventually[0, 1ms] (P and Q) "
         "(false: P and Q may hold at different points)",
         ir.And((op("eventually", P, interval=ir.Interval(0, 1_000_000)),
                 op("eventually", Q, interval=ir.Interval(0, 1_000_000)))),
         op("eventually", ir.And((P, Q)), interval=ir.Interval(0, 1_000_000)),
         expect="refuted"),
]
