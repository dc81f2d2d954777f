"""Symbolic values: the encoder's counterpart of the reference interpreter's Python values.

A :class:`SVal` is either a concrete Python value (``kind == "py"``; the reference's own
equality, ordering and functions then apply verbatim) or a symbolic one of a known sort:
``num`` (an Int/Real term), ``str`` (a string code of the :class:`ValueDomain`), ``bool``, or
``any`` (an attribute's value code, whose sort is itself symbolic). ``defined`` is false where
the reference would produce its undefined value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import z3

from workbench.engine import values as pv
from workbench.engine.values import BUILTINS, UNDEF, is_number, to_text
from workbench.smt.domain import ValueDomain, in_codes
from workbench.smt.terms import (
    Bool,
    Num,
    band,
    beq,
    bnot,
    bor,
    is_sym,
    ite,
    lift,
    num_cmp,
    num_eq,
)


class EncodingError(Exception):
    """An IR node (or a use of one) that the Z3 encoding does not support."""


@dataclass(frozen=True, slots=True)
class SVal:
    """A possibly symbolic value (see the module docstring)."""

    kind: str  # "py" | "num" | "str" | "bool" | "any"
    defined: Bool = True
    py: Any = None
    term: Any = None  # num: Num; str: string code; bool: Bool; any: value code

    @staticmethod
    def const(value: Any) -> SVal:
        """A concrete value (``UNDEF`` gives an undefined one)."""
        if value is UNDEF:
            return SVal("py", False, UNDEF)
        return SVal("py", True, value)

    @staticmethod
    def num(term: Num, defined: Bool = True) -> SVal:
        """A number (folds to a concrete value when ``term`` is one)."""
        if not is_sym(term) and defined is True:
            return SVal.const(term)
        return SVal("num", defined, None, term)

    @staticmethod
    def boolean(term: Bool, defined: Bool = True) -> SVal:
        """A boolean value."""
        if isinstance(term, bool) and defined is True:
            return SVal.const(term)
        return SVal("bool", defined, None, term)

    @staticmethod
    def string(code: Num, domain: ValueDomain, defined: Bool = True) -> SVal:
        """A string given by its domain code."""
        if isinstance(code, int) and defined is True:
            return SVal.const(domain.strings[code])
        return SVal("str", defined, None, code)

    @staticmethod
    def value(code: Num, domain: ValueDomain) -> SVal:
        """An attribute value code (``-1`` = absent)."""
        if isinstance(code, int):
            return SVal.const(UNDEF if code < 0 else domain.decode(code))
        return SVal("any", code >= 0, None, code)


@dataclass(frozen=True, slots=True)
class Facets:
    """A uniform view of a value: one flag per sort and the value within that sort."""

    is_num: Bool
    num: Num
    is_str: Bool
    code: Any  # a Python str, or a string code term
    is_bool: Bool
    b: Bool


def facets(v: SVal, dom: ValueDomain) -> Facets:
    """The :class:`Facets` of a defined value."""
    if v.kind == "py":
        x = v.py
        return Facets(is_number(x), x if is_number(x) else 0, isinstance(x, str),
                      x if isinstance(x, str) else "", isinstance(x, bool),
                      x if isinstance(x, bool) else False)
    if v.kind == "num":
        return Facets(True, v.term, False, "", False, False)
    if v.kind == "str":
        return Facets(False, 0, True, v.term, False, False)
    if v.kind == "bool":
        return Facets(False, 0, False, "", True, v.term)
    code = v.term
    nums = list(dom.number_codes())
    num = dom.value_table(code, lambda x: x if is_number(x) else 0, nums) if nums else 0
    return Facets(
        is_num=band(code >= dom.n_str, code < dom.false_code),
        num=num,
        is_str=band(code >= 0, code < dom.n_str),
        code=code,
        is_bool=code >= dom.false_code,
        b=code == dom.true_code,
    )


def _str_code(x: Any, dom: ValueDomain) -> Any:
    """A string code term for a Python string (must be in the domain) or a code term."""
    if isinstance(x, str):
        if not dom.has(x):
            return None
        return dom.code(x)
    return x


def str_cmp(op: str, a: Any, b: Any, dom: ValueDomain) -> Bool:
    """Compare two strings (Python strings or codes)."""
    if isinstance(a, str) and isinstance(b, str):
        return pv.order(op, a, b) if op not in ("==", "!=") else (a == b) == (op == "==")
    ca, cb = _str_code(a, dom), _str_code(b, dom)
    if ca is None or cb is None:
        # a concrete string outside the domain never equals a symbolic one; order by rank
        known, other = (cb, a) if ca is None else (ca, b)
        if op in ("==", "!="):
            return op == "!="
        pos = sum(1 for s in dom.strings if s < other)  # codes below ``pos`` are < other
        if ca is None:  # other < known
            return known >= pos if op in ("<", "<=") else known < pos
        return known < pos if op in ("<", "<=") else known >= pos
    return num_cmp(op, ca, cb)


def equal(a: SVal, b: SVal, dom: ValueDomain) -> Bool:
    """The value library's :func:`~workbench.engine.values.equal` on two defined values."""
    if a.kind == "py" and b.kind == "py":
        return pv.equal(a.py, b.py)
    fa, fb = facets(a, dom), facets(b, dom)
    return bor(
        band(fa.is_num, fb.is_num, num_eq(fa.num, fb.num)),
        band(fa.is_str, fb.is_str, str_cmp("==", fa.code, fb.code, dom)),
        band(fa.is_bool, fb.is_bool, beq(fa.b, fb.b)),
    )


def order(op: str, a: SVal, b: SVal, dom: ValueDomain) -> Bool:
    """The value library's :func:`~workbench.engine.values.order` on two defined values."""
    if a.kind == "py" and b.kind == "py":
        return pv.order(op, a.py, b.py)
    fa, fb = facets(a, dom), facets(b, dom)
    return bor(
        band(fa.is_num, fb.is_num, num_cmp(op, fa.num, fb.num)),
        band(fa.is_str, fb.is_str, str_cmp(op, fa.code, fb.code, dom)),
    )


def compare(op: str, a: SVal, b: SVal, dom: ValueDomain) -> Bool:
    """``a op b`` with the reference's rules (false when either side is undefined)."""
    if op == "==":
        rel = equal(a, b, dom)
    elif op == "!=":
        rel = bnot(equal(a, b, dom))
    else:
        rel = order(op, a, b, dom)
    return band(a.defined, b.defined, rel)


def truthy(v: SVal, dom: ValueDomain) -> Bool:
    """The reference's ``holds`` of a value in formula position: it is the boolean true."""
    if v.kind == "py":
        return v.py is True
    if v.kind == "bool":
        return band(v.defined, v.term)
    if v.kind == "any":
        return band(v.defined, v.term == dom.true_code)
    return False


def call(func: str, arg: SVal, dom: ValueDomain) -> SVal:
    """A scalar built-in (``len lower upper abs canon luhn str``) on one value."""
    if func not in BUILTINS:
        raise EncodingError(f"function {func}() is not supported by the Z3 encoding")
    if arg.kind == "py":
        if arg.py is UNDEF:
            return SVal.const(BUILTINS[func].on_undefined)
        return SVal.const(BUILTINS[func](arg.py))
    fn = BUILTINS[func].impl
    if func in ("int", "float"):
        return _convert(func, arg, dom)
    if arg.kind == "num":
        if func == "abs":
            t = arg.term
            return SVal.num(ite(t < 0, -t, t), arg.defined)
        if func == "luhn":
            raise EncodingError("luhn() of a symbolic number is not supported by the encoding")
        if func == "str":
            raise EncodingError("str() of a symbolic number (not an attribute) is not supported")
        return SVal.const(UNDEF)
    if arg.kind == "bool":
        if func == "str":
            return SVal.string(ite(arg.term, dom.code("true"), dom.code("false")), dom,
                               arg.defined)
        return SVal.const(False if func == "luhn" else UNDEF)
    if arg.kind == "str":
        return _str_call(func, fn, arg.term, arg.defined, dom)
    # an attribute value code: tabulate over the whole value domain
    code = arg.term
    codes = range(dom.size)
    if func == "luhn":
        return SVal.boolean(band(arg.defined, dom.value_table(code, _luhn_any, codes)))
    if func == "str":
        texts = {c: to_text(dom.decode(c)) for c in codes}
        if not all(dom.has(t) for t in texts.values()):
            raise EncodingError("str() of an attribute needs the text of every domain value")
        return SVal.string(dom.value_table(code, lambda x: dom.code(to_text(x)), codes), dom,
                           arg.defined)
    if func == "abs":
        f = facets(arg, dom)
        return SVal.num(ite(f.num < 0, -f.num, f.num) if is_sym(f.num) else abs(f.num),
                        band(arg.defined, f.is_num))
    # len/lower/upper/canon: defined on strings only
    f = facets(arg, dom)
    inner = _str_call(func, fn, code, band(arg.defined, f.is_str), dom, clamp=True)
    return inner


def _convert(func: str, arg: SVal, dom: ValueDomain) -> SVal:
    """``int(x)`` / ``float(x)`` of a symbolic value (:func:`workbench.engine.values.to_int`,
    ``to_float``). Floats are reals here, so every float is finite."""
    impl = BUILTINS[func].impl
    if arg.kind == "num":
        t = lift(arg.term)
        if func == "float":
            return SVal.num(z3.ToReal(t) if t.is_int() else t, arg.defined)
        if t.is_int():
            return SVal.num(t, arg.defined)
        trunc = z3.If(t >= 0, z3.ToInt(t), -z3.ToInt(-t))
        return SVal.num(trunc, band(arg.defined, t >= -(2**63), t < 2**63))
    if arg.kind == "bool":
        return SVal.const(UNDEF)
    if arg.kind == "str":
        ok = dom.str_set(arg.term, lambda s: impl(s) is not UNDEF)
        value = dom.str_table(arg.term, lambda s: _or_zero(impl(s)))
        return SVal.num(value, band(arg.defined, ok))
    codes = range(dom.size)  # an attribute value code: tabulate over the value domain
    ok = dom.value_table(arg.term, lambda x: x is not None and impl(x) is not UNDEF, codes)
    value = dom.value_table(arg.term, lambda x: _or_zero(impl(x) if x is not None else UNDEF),
                            codes)
    return SVal.num(value, band(arg.defined, ok))


def _or_zero(x: Any) -> Any:
    return 0 if x is UNDEF else x


def _luhn_any(x: Any) -> bool:
    return x is not None and bool(BUILTINS["luhn"](x))


def _str_call(func: str, fn: Any, code: Any, defined: Bool, dom: ValueDomain,
              clamp: bool = False) -> SVal:
    def safe(s: str) -> Any:
        return fn(s)

    if clamp and is_sym(code):
        # an attribute code outside the strings maps to string 0 (the result is undefined)
        code = ite(code < dom.n_str, ite(code >= 0, code, 0), 0)
    if func == "len":
        return SVal.num(dom.str_table(code, safe), defined)
    if func == "luhn":
        return SVal.boolean(band(defined, dom.str_table(code, lambda s: bool(fn(s)))))
    if func == "str":
        return SVal.string(code, dom, defined)
    if func == "abs":
        return SVal.const(UNDEF)
    if func in ("lower", "upper", "canon"):
        missing = [s for s in dom.strings if not dom.has(fn(s))]
        if missing:
            raise EncodingError(f"{func}() leaves the string domain (internal error)")
        return SVal.string(dom.str_table(code, lambda s: dom.code(fn(s))), dom, defined)
    raise EncodingError(f"function {func}() is not supported by the Z3 encoding")


def matches(v: SVal, pattern: Any, dom: ValueDomain) -> Bool:
    """``v matches pattern`` (``pattern`` a compiled regex): false unless ``v`` is a string."""
    if v.kind == "py":
        return isinstance(v.py, str) and pattern.search(v.py) is not None
    if v.kind == "str":
        return band(v.defined, dom.str_set(v.term, lambda s: pattern.search(s) is not None))
    if v.kind == "any":
        members = [i for i, s in enumerate(dom.strings) if pattern.search(s) is not None]
        return band(v.defined, in_codes(v.term, members))
    return False
