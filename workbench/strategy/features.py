"""Cheap features of an obligation, computed before solving.

Three groups, concatenated by :func:`vector` in the fixed order of :data:`FEATURES`:

* ``ir.*``   a memoized DAG walk of the otlspec IR of the formulas encoded: node counts by
  class, temporal operators, bounded intervals, quantifier depth, aggregates (stored in the
  corpus manifest, since the IR is not in the SMT-LIB);
* ``probe.*`` Z3 probes on the goal (computed inside Z3, on the goal ``otlspec prove`` has
  already built: no Python walk of the term);
* ``meta.*`` the obligation's kind and trace bound ``N``.

:func:`smt_features` (a Python DAG walk of the Z3 term: operator counts, depth) is kept for
analysis but is not in :data:`FEATURES`: it cost about 7x a median solve, the probes a
fraction of one (measured when the features were made cheap, issue 15).

Every feature is a float; counts are ``log1p``-scaled by the model, not here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import z3

from workbench.lang import ir

IR_CLASSES = ("Quant", "Compare", "And", "Or", "Not", "Implies", "Temporal", "Aggregate",
              "Rel", "Events", "Field", "Attr", "Arith", "Call", "Match", "Member", "Has",
              "HappensBefore", "Const", "ParamRef", "Var", "InList", "Comprehension")
TEMPORAL_OPS = ("always", "eventually", "until", "historically", "once", "since", "next",
                "wnext")
IR_FEATURES = (
    "ir.nodes", "ir.formulas", "ir.params", "ir.quant_depth", "ir.temporal_depth",
    "ir.bounded_intervals", "ir.interval_log_hi",
    *(f"ir.n_{c}" for c in IR_CLASSES), *(f"ir.t_{op}" for op in TEMPORAL_OPS),
)
PROBES = ("size", "num-exprs", "num-consts", "num-bool-consts", "num-arith-consts", "depth",
          "is-qflia", "is-qflra", "is-qfauflia", "is-unbounded", "is-pb", "is-ilp",
          "has-quantifiers", "is-propositional", "arith-max-deg", "arith-avg-bw")
SMT_OPS = ("and", "or", "not", "ite", "eq", "distinct", "le", "lt", "ge", "gt", "add", "sub",
           "mul", "implies", "uninterp", "numeral", "const_bool", "const_int", "const_real")
PROBE_FEATURES = tuple(f"probe.{p}" for p in PROBES)
SMT_FEATURES = ("smt.dag_nodes", "smt.assertions", "smt.max_depth",
                *(f"smt.op_{o}" for o in SMT_OPS), *PROBE_FEATURES)
KIND_NAMES = ("consistency", "vacuity", "redundancy", "implication", "theorem", "repair")
META_FEATURES = ("meta.n", *(f"meta.kind_{k}" for k in KIND_NAMES))
#: Every feature, in the order of :func:`vector`.
FEATURES: tuple[str, ...] = (*IR_FEATURES, *PROBE_FEATURES, *META_FEATURES)
#: The features of the shipped selector: known before anything is encoded (a walk of the IR,
#: the kind and N), so choosing costs no Z3 work at all. With the probes as well, the
#: selector's predictions were no better on held-out families and their cost (about 1 ms,
#: more than most obligations' whole solve) made it lose to the single best strategy.
SELECTOR_FEATURES: tuple[str, ...] = (*IR_FEATURES, *META_FEATURES)


def ir_features(nodes: Sequence[ir.Node], params: Mapping[str, Any]) -> dict[str, float]:
    """Counts from one memoized post-order walk of the IR DAG of ``nodes``."""
    out = dict.fromkeys(IR_FEATURES, 0.0)
    out["ir.formulas"] = float(len(nodes))
    out["ir.params"] = float(len(params))
    seen: dict[int, tuple[int, int]] = {}  # id -> (quantifier depth, temporal depth)

    def walk(n: ir.Node) -> tuple[int, int]:
        key = id(n)
        if key in seen:
            return seen[key]
        q = t = 0
        for c in n.children():
            cq, ct = walk(c)
            q, t = max(q, cq), max(t, ct)
        name = type(n).__name__
        out["ir.nodes"] += 1
        if f"ir.n_{name}" in out:
            out[f"ir.n_{name}"] += 1
        if isinstance(n, ir.Quant):
            q += 1
        if isinstance(n, ir.Temporal):
            t += 1
            if f"ir.t_{n.op}" in out:
                out[f"ir.t_{n.op}"] += 1
        if isinstance(n, ir.Interval) and not n.unbounded:
            out["ir.bounded_intervals"] += 1
            hi = n.hi if n.hi is not None else n.lo
            out["ir.interval_log_hi"] = max(out["ir.interval_log_hi"], math.log10(1 + abs(hi)))
        seen[key] = (q, t)
        return q, t

    for node in nodes:
        q, t = walk(node)
        out["ir.quant_depth"] = max(out["ir.quant_depth"], float(q))
        out["ir.temporal_depth"] = max(out["ir.temporal_depth"], float(t))
    return out


_KIND_OPS = {
    z3.Z3_OP_AND: "and", z3.Z3_OP_OR: "or", z3.Z3_OP_NOT: "not", z3.Z3_OP_ITE: "ite",
    z3.Z3_OP_EQ: "eq", z3.Z3_OP_DISTINCT: "distinct", z3.Z3_OP_LE: "le", z3.Z3_OP_LT: "lt",
    z3.Z3_OP_GE: "ge", z3.Z3_OP_GT: "gt", z3.Z3_OP_ADD: "add", z3.Z3_OP_SUB: "sub",
    z3.Z3_OP_MUL: "mul", z3.Z3_OP_IMPLIES: "implies", z3.Z3_OP_ANUM: "numeral",
}


def smt_features(assertions: Sequence[z3.ExprRef]) -> dict[str, float]:
    """Operator counts of the Z3 term DAG of ``assertions`` and Z3 probes on their goal."""
    out = dict.fromkeys(SMT_FEATURES, 0.0)
    out["smt.assertions"] = float(len(assertions))
    depth: dict[int, int] = {}
    stack: list[tuple[z3.ExprRef, bool]] = [(a, False) for a in assertions]
    while stack:  # iterative post-order: symbolic-trace terms nest deeply
        e, done = stack.pop()
        key = e.get_id()
        if key in depth and not done:
            continue
        if not z3.is_app(e):
            depth[key] = 1
            continue
        kids = e.children()
        if not done:
            stack.append((e, True))
            stack.extend((c, False) for c in kids if c.get_id() not in depth)
            continue
        if key in depth:
            continue
        depth[key] = 1 + max((depth.get(c.get_id(), 1) for c in kids), default=0)
        out["smt.dag_nodes"] += 1
        k = e.decl().kind()
        if k == z3.Z3_OP_UNINTERPRETED:
            if kids:
                out["smt.op_uninterp"] += 1
            elif z3.is_bool(e):
                out["smt.op_const_bool"] += 1
            elif z3.is_int(e):
                out["smt.op_const_int"] += 1
            else:
                out["smt.op_const_real"] += 1
        elif k in _KIND_OPS:
            out[f"smt.op_{_KIND_OPS[k]}"] += 1
    out["smt.max_depth"] = float(max(depth.values(), default=0))
    out.update(probe_features(assertions))
    return out


def probe_features(assertions: Sequence[z3.ExprRef]) -> dict[str, float]:
    """Z3's probes (:data:`PROBES`) on the goal of ``assertions``: cheap, computed by Z3.

    Parameters
    ----------
    assertions:
        The obligation's assertions, as the solver would receive them.

    Returns
    -------
    dict
        ``probe.<name>`` to its value (all 0 for no assertions).
    """
    out = dict.fromkeys(PROBE_FEATURES, 0.0)
    if assertions:
        ctx = assertions[0].ctx
        goal = z3.Goal(ctx=ctx)
        goal.add(*assertions)
        for p in PROBES:
            out[f"probe.{p}"] = float(z3.Probe(p, ctx=ctx)(goal))
    return out


def meta_features(kind: str, n: int) -> dict[str, float]:
    """The obligation's kind (one-hot) and trace bound."""
    out = {"meta.n": float(n)}
    out.update({f"meta.kind_{k}": float(k == kind) for k in KIND_NAMES})
    return out


def vector(values: Mapping[str, float], names: Sequence[str] | None = None) -> list[float]:
    """The values of ``names`` (default :data:`FEATURES`), in order (missing ones are 0)."""
    return [float(values.get(name, 0.0)) for name in (FEATURES if names is None else names)]


__all__ = ["FEATURES", "PROBE_FEATURES", "SELECTOR_FEATURES", "ir_features", "meta_features",
           "probe_features", "smt_features", "vector"]
