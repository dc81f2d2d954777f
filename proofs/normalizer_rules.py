"""Soundness of the normalizer: every rewrite rule in `workbench.lang.passes.RULES`.

For each rule, every instance in a generated pool on which the rule fires must mean the same
before and after the rewrite, on every trace of up to 3 spans:

* formulas: `forall s in spans: before(s) <-> after(s)`, with schematic atoms `P(s)`, `Q(s)`,
  `R(s)` standing for arbitrary formulas (temporal operators use timeline-dependent ones
  and are compared at every point);
* value terms (constant folding): the same definedness, and when defined, equal values with
  the same text (`str(before) == str(after)`, which tells ints from floats);
* set terms: the same `count` and the same `forall x in S: P(x)`.

The constant pool covers ints, floats, durations, strings, booleans and enum members, zero
divisors included.
"""

import itertools

from workbench.lang import ir
from workbench.lang.passes import RULES
from workbench.smt.theorem import Theorem, everywhere, forall_spans, iff, pred

B = ir.Type.BOOL
T, F = ir.Const(True, B), ir.Const(False, B)
P, Q, R = pred("P", "s"), pred("Q", "s"), pred("R", "s")
PT, QT = pred("PT", timed=True), pred("QT", timed=True)
CONSTS = [
    ir.Const(0, ir.Type.INT), ir.Const(3, ir.Type.INT), ir.Const(-2, ir.Type.INT),
    ir.Const(1.5, ir.Type.FLOAT), ir.Const(3.0, ir.Type.FLOAT),
    ir.Const(10_000_000, ir.Type.DURATION), ir.Const(0, ir.Type.DURATION),
    ir.Const("a", ir.Type.STR), ir.Const("b", ir.Type.STR), T, F,
    ir.Const("CLIENT", ir.Type.KIND), ir.Const("SERVER", ir.Type.KIND),
]


def _formula_pool() -> list[ir.Node]:
    leaves = [P, Q, T, F]
    pool: list[ir.Node] = [*leaves, ir.Not(ir.Not(P)), ir.Not(T), ir.Not(F)]
    for a, b in itertools.product(leaves, repeat=2):
        pool += [ir.And((a, b)), ir.Or((a, b)), ir.Implies(a, b)]
    pool += [ir.And((P, ir.And((Q, R)))), ir.Or((ir.Or((P, Q)), R)), ir.And((P, Q, P)),
             ir.Or((P, P)), ir.And((P, ir.Not(ir.Not(Q))))]
    t = ir.Var("t")
    pt, qt = pred("P", "t"), pred("Q", "t")
    for kind in ("forall", "exists"):
        for guard in (None, T, F, pt):
            for body in (T, F, qt):
                pool.append(ir.Quant(kind, "t", ir.Spans(), guard, body))
    del t
    for a, b in itertools.product(CONSTS, repeat=2):
        for op in ("==", "!=", "<", "<=", ">", ">="):
            pool.append(ir.Compare(op, a, b))
    for c in CONSTS:
        pool.append(ir.InList(c, ir.ListLit((ir.Const(3, ir.Type.INT), ir.Const("a", ir.Type.STR),
                                             ir.Const(3.0, ir.Type.FLOAT), T))))
    for text in ("abc", "ABC", ""):
        for pattern in ("^a", "b", "(?i)^A", "^$"):
            pool.append(ir.Match(ir.Const(text, ir.Type.STR), pattern))
    return pool


def _temporal_pool() -> list[ir.Node]:
    pool: list[ir.Node] = []
    for iv in (ir.Interval(), ir.Interval(1_000_000, 3_000_000)):
        for name in ("always", "eventually", "historically", "once"):
            for arg in (T, F, PT):
                pool.append(ir.Temporal(name, (arg,), iv))
        for name in ("until", "since"):
            for a, b in itertools.product((T, F, PT), (T, F, QT)):
                pool.append(ir.Temporal(name, (a, b), iv))
    for name in ("next", "wnext", "previously"):
        for arg in (T, F, PT):
            pool.append(ir.Temporal(name, (arg,)))
    return pool


def _term_pool() -> list[ir.Node]:
    pool: list[ir.Node] = [ir.Neg(c) for c in CONSTS]
    for a, b in itertools.product(CONSTS, repeat=2):
        for op in ("+", "-", "*", "/", "%"):
            pool.append(ir.Arith(op, a, b))
    return pool


def _set_pool() -> list[ir.Node]:
    return [ir.Comprehension("t", ir.Spans(), T), ir.Comprehension("t", ir.Spans(), F),
            ir.Comprehension("t", ir.Spans(), pred("P", "t"))]


def _term_equal(a: ir.Node, b: ir.Node) -> ir.Node:
    same_text = ir.Compare("==", ir.Call("str", (a,)), ir.Call("str", (b,)))
    return ir.And((iff(ir.Has(a), ir.Has(b)),
                   ir.Implies(ir.Has(a), ir.And((ir.Compare("==", a, b), same_text)))))


def _set_equal(a: ir.Node, b: ir.Node) -> ir.Node:
    x = pred("R", "x")
    return ir.And((ir.Compare("==", ir.Aggregate("count", a), ir.Aggregate("count", b)),
                   iff(ir.Quant("forall", "x", a, None, x), ir.Quant("forall", "x", b, None, x))))


def _instances(rule, pool):  # type: ignore[no-untyped-def]
    out = []
    for node in pool:
        after = rule(node)
        if after is not None:
            out.append((node, after))
    return out


def _theorem(rule) -> Theorem:  # type: ignore[no-untyped-def]
    parts: list[ir.Node] = []
    for before, after in _instances(rule, _formula_pool()):
        parts.append(forall_spans("s", iff(before, after)))
    for before, after in _instances(rule, _temporal_pool()):
        parts.append(everywhere(iff(before, after)))
    for before, after in _instances(rule, _term_pool()):
        parts.append(_term_equal(before, after))
    for before, after in _instances(rule, _set_pool()):
        parts.append(_set_equal(before, after))
    if not parts:
        raise ValueError(f"rule {rule.name}: no instance in the pools fires it; extend the pools")
    conclusion = parts[0] if len(parts) == 1 else ir.And(tuple(parts))
    return Theorem(
        name=f"rule_{rule.name}_sound",
        statement=f"{rule.name}: {rule.doc.splitlines()[0] if rule.doc else ''} "
        f"({len(parts)} instances)",
        conclusion=conclusion,
        spans=3,
        events=1,
        expect=EXPECT.get(rule.name, "proved"),
    )


#: Rules the reference semantics disagrees with (reported to the language's owners); when a
#: rule is fixed its theorem flips to "proved" and this entry must go.
EXPECT: dict[str, str] = {}

THEOREMS = [_theorem(rule) for rule in RULES]
