"""Constant-folding constructors over Python values and Z3 terms.

The encoder mixes concrete values (a span id of a fixed slot, every field of a loaded trace in
``otlspec fix``) with symbolic ones. These helpers accept either and only build a Z3 term when
an argument is symbolic, so a formula over a concrete trace folds to a small residue over the
few unknowns (the clock offsets) instead of a term as large as the unrolled formula.

``Bool`` is ``bool | z3.BoolRef``; ``Num`` is ``int | float | z3.ArithRef``.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any, TypeAlias

import z3

Bool: TypeAlias = bool | z3.BoolRef
Num: TypeAlias = int | float | Fraction | z3.ArithRef


def is_sym(x: Any) -> bool:
    """Whether ``x`` is a Z3 expression (not a Python constant)."""
    return isinstance(x, z3.ExprRef)


def lift(x: Any) -> z3.ExprRef:
    """A Z3 term for a Python bool, int, float or Fraction (Z3 terms pass through)."""
    if isinstance(x, z3.ExprRef):
        return x
    if isinstance(x, bool):
        return z3.BoolVal(x)
    if isinstance(x, int):
        return z3.IntVal(x)
    if isinstance(x, float):
        return z3.RealVal(Fraction(x))
    if isinstance(x, Fraction):
        return z3.RealVal(x)
    raise TypeError(f"cannot lift {x!r} to a Z3 term")


def _unify(a: Any, b: Any) -> tuple[z3.ExprRef, z3.ExprRef]:
    ta, tb = lift(a), lift(b)
    if z3.is_arith(ta) and z3.is_arith(tb) and ta.is_int() != tb.is_int():
        ta = z3.ToReal(ta) if ta.is_int() else ta
        tb = z3.ToReal(tb) if tb.is_int() else tb
    return ta, tb


def band(*args: Bool) -> Bool:
    """Conjunction, folding Python booleans."""
    terms: list[z3.BoolRef] = []
    for a in args:
        if a is False:
            return False
        if a is True:
            continue
        if z3.is_false(a):
            return False
        if z3.is_true(a):
            continue
        terms.append(a)
    if not terms:
        return True
    return terms[0] if len(terms) == 1 else z3.And(*terms)


def bor(*args: Bool) -> Bool:
    """Disjunction, folding Python booleans."""
    terms: list[z3.BoolRef] = []
    for a in args:
        if a is True:
            return True
        if a is False:
            continue
        if z3.is_true(a):
            return True
        if z3.is_false(a):
            continue
        terms.append(a)
    if not terms:
        return False
    return terms[0] if len(terms) == 1 else z3.Or(*terms)


def bnot(a: Bool) -> Bool:
    """Negation, folding Python booleans."""
    if isinstance(a, bool):
        return not a
    if z3.is_true(a):
        return False
    if z3.is_false(a):
        return True
    if z3.is_not(a):
        return a.arg(0)
    return z3.Not(a)


def bimp(a: Bool, b: Bool) -> Bool:
    """Implication ``a -> b``."""
    return bor(bnot(a), b)


def beq(a: Bool, b: Bool) -> Bool:
    """Boolean equivalence."""
    if isinstance(a, bool) and isinstance(b, bool):
        return a == b
    if isinstance(a, bool):
        return b if a else bnot(b)
    if isinstance(b, bool):
        return a if b else bnot(a)
    return a == b


def ite(c: Bool, a: Any, b: Any) -> Any:
    """``a if c else b``, folding when ``c`` is concrete or both branches are equal constants."""
    if isinstance(c, bool):
        return a if c else b
    if z3.is_true(c):
        return a
    if z3.is_false(c):
        return b
    if not is_sym(a) and not is_sym(b) and type(a) is type(b) and a == b:
        return a
    if isinstance(a, bool) or isinstance(b, bool) or z3.is_bool(lift(a)):
        return z3.If(c, lift(a), lift(b))
    ta, tb = _unify(a, b)
    return z3.If(c, ta, tb)


def num_eq(a: Num, b: Num) -> Bool:
    """``a == b`` on numbers."""
    if not is_sym(a) and not is_sym(b):
        return bool(a == b)
    ta, tb = _unify(a, b)
    return ta == tb


def num_cmp(op: str, a: Num, b: Num) -> Bool:
    """``a op b`` for ``op`` in ``== != < <= > >=``."""
    if not is_sym(a) and not is_sym(b):
        return {
            "==": a == b,
            "!=": a != b,
            "<": a < b,
            "<=": a <= b,
            ">": a > b,
            ">=": a >= b,
        }[op]
    ta, tb = _unify(a, b)
    if op == "==":
        return ta == tb
    if op == "!=":
        return ta != tb
    if op == "<":
        return ta < tb
    if op == "<=":
        return ta <= tb
    if op == ">":
        return ta > tb
    return ta >= tb


def add(a: Num, b: Num) -> Num:
    """``a + b``."""
    if not is_sym(a) and not is_sym(b):
        return a + b
    if not is_sym(b) and b == 0:
        return a
    if not is_sym(a) and a == 0:
        return b
    ta, tb = _unify(a, b)
    return ta + tb


def sub(a: Num, b: Num) -> Num:
    """``a - b``."""
    if not is_sym(a) and not is_sym(b):
        return a - b
    if not is_sym(b) and b == 0:
        return a
    ta, tb = _unify(a, b)
    return ta - tb


def mul(a: Num, b: Num) -> Num:
    """``a * b``."""
    if not is_sym(a) and not is_sym(b):
        return a * b
    ta, tb = _unify(a, b)
    return ta * tb


def neg(a: Num) -> Num:
    """``-a``."""
    if not is_sym(a):
        return -a
    return -a


def total(terms: list[Num]) -> Num:
    """The sum of ``terms`` (0 when empty)."""
    out: Num = 0
    for t in terms:
        out = add(out, t)
    return out


def count(conds: list[Bool]) -> Num:
    """How many of ``conds`` hold."""
    return total([ite(c, 1, 0) for c in conds])


def is_real(x: Any) -> bool:
    """Whether ``x`` is real-valued (a float, a Fraction, or a Z3 real term)."""
    if isinstance(x, float | Fraction):
        return True
    return is_sym(x) and z3.is_arith(x) and not x.is_int()


def py_value(model: z3.ModelRef, x: Any) -> Any:
    """The Python value of ``x`` in ``model`` (ints, Fractions, bools)."""
    if not is_sym(x):
        return x
    v = model.eval(x, model_completion=True)
    if z3.is_true(v):
        return True
    if z3.is_false(v):
        return False
    if z3.is_int_value(v):
        return v.as_long()
    if z3.is_rational_value(v):
        return Fraction(v.numerator_as_long(), v.denominator_as_long())
    if z3.is_algebraic_value(v):
        return float(v.approx(20).as_decimal(20).rstrip("?"))
    raise TypeError(f"no Python value for {v}")
