"""The value library of otlspec: what the language's runtime values are and how they behave.

Shared by every consumer of the IR's semantics: the reference interpreter (the oracle), the
compiled plan's host side (string predicates tabulated per table), the Z3 encoder (concrete
values and value domains) and the notebook renderers. The numba kernels mirror these rules in
:mod:`workbench.engine.kernel_lib`; ``tests/engine/test_values.py`` checks they agree.

Values
------
* a span is its table row (``int``); an event is an :class:`~workbench.traces.model.EventView`;
* times and durations are ``int`` nanoseconds (a ``/`` on durations may give a ``float``);
* enum members are their names (``"CLIENT"``, ``"ERROR"``), ids their lowercase hex text;
* :data:`UNDEF` is the undefined value (an absent attribute, ``min`` of nothing, ``x / 0``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from workbench.engine.regex import Regex, compile_regex
from workbench.lang.ir import Type
from workbench.traces.model import EventView


class Undefined:
    """The type of :data:`UNDEF` (a singleton)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<undefined>"


#: The undefined value: an absent attribute, ``min`` of an empty set, ``x / 0``.
UNDEF: Any = Undefined()


def is_number(v: Any) -> bool:
    """Whether ``v`` is an int or a float (a bool is not a number)."""
    return isinstance(v, int | float) and not isinstance(v, bool)


def equal(a: Any, b: Any) -> bool:
    """``a == b`` on two defined values: numbers across int/float, otherwise same type only."""
    if is_number(a) and is_number(b):
        return bool(a == b)
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if type(a) is not type(b):
        return False
    return bool(a == b)


def order(op: str, a: Any, b: Any) -> bool:
    """``a op b`` for ``op`` in ``< <= > >=``: numbers with numbers, strings with strings;
    anything else is false."""
    comparable = (is_number(a) and is_number(b)) or (isinstance(a, str) and isinstance(b, str))
    if not comparable:
        return False
    if op == "<":
        return bool(a < b)
    if op == "<=":
        return bool(a <= b)
    if op == ">":
        return bool(a > b)
    if op == ">=":
        return bool(a >= b)
    raise ValueError(f"not an ordering operator: {op!r}")


def to_text(value: Any) -> str:
    """``str(value)`` in the language: ``true``/``false`` for booleans, an event's name."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, EventView):
        return value.name
    return str(value)


def canon(text: str) -> str:
    """``canon(x)``: lowercase, letters and digits only (``"Set-Cookie"`` -> ``"setcookie"``)."""
    return "".join(c for c in text.lower() if c.isalnum())


def _luhn_sum(digits: list[int], double_first: bool) -> int:
    """The Luhn sum of ``digits`` read from the right; the rightmost is doubled when
    ``double_first``."""
    total = 0
    for i, d in enumerate(reversed(digits)):
        if (i % 2 == 0) == double_first:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total


def luhn(value: Any) -> bool:
    """``luhn(x)``: the decimal digits of ``x`` (13 to 19 of them) pass the Luhn checksum.

    Other characters are ignored (``"4111 1111 1111 1111"`` passes); a bool, an undefined or
    a non-text value fails.
    """
    if not isinstance(value, str | int) or isinstance(value, bool):
        return False
    digits = [int(c) for c in str(value) if c in "0123456789"]
    if not 13 <= len(digits) <= 19:
        return False
    return _luhn_sum(digits, double_first=False) % 10 == 0


def luhn_check_digit(digits: str) -> str:
    """The digit that makes ``digits + check`` pass :func:`luhn` (card-number generators)."""
    return str((10 - _luhn_sum([int(c) for c in digits], double_first=True) % 10) % 10)


def regex(pattern: str) -> Regex:
    """The compiled ``pattern`` of a ``matches`` (cached; Python ``re.search`` semantics):
    ``.search(text) -> bool`` runs on RE2 where that keeps the meaning, on ``re`` under a time
    budget otherwise (:mod:`workbench.engine.regex`)."""
    return compile_regex(pattern)


def format_duration(ns: float) -> str:
    """Render nanoseconds with the largest unit that keeps it readable (``1.5ms``)."""
    sign = "-" if ns < 0 else ""
    ns = abs(ns)
    for unit, size in (("h", 3_600e9), ("m", 60e9), ("s", 1e9), ("ms", 1e6), ("us", 1e3)):
        if ns >= size:
            return f"{sign}{ns / size:.6g}{unit}"
    return f"{sign}{ns:.6g}ns"


# ------------------------------------------------------------------------- quantiles


def quantile_ratio(q: float) -> tuple[int, int]:
    """``q`` as the exact fraction ``num / den`` of its shortest decimal text (``0.99`` ->
    ``(99, 100)``, not the binary float's ratio), so ranks need no floating point."""
    fraction = Fraction(repr(float(q)))
    return fraction.numerator, fraction.denominator


def quantile_rank(q: float, n: int) -> int:
    """The 1-based rank of the nearest-rank ``q``-quantile among ``n >= 1`` sorted values:
    ``max(1, ceil(q * n))`` in exact arithmetic."""
    num, den = quantile_ratio(q)
    return max(1, -(-num * n // den))


def quantile(q: float, values: list[Any]) -> Any:
    """``quantile(q, ...)`` of the collected values: the numbers (NaN skipped), stably sorted
    in member order, at :func:`quantile_rank`; :data:`UNDEF` when there is none."""
    numbers = [v for v in values if is_number(v) and v == v]
    if not numbers:
        return UNDEF
    return sorted(numbers)[quantile_rank(q, len(numbers)) - 1]


# ------------------------------------------------------------------------- built-ins

_TEXT = frozenset({Type.STR, Type.ID})
_SCALARS = frozenset({
    Type.BOOL, Type.INT, Type.FLOAT, Type.STR, Type.DURATION, Type.TIME, Type.KIND,
    Type.STATUS, Type.ID, Type.VALUE,
})


@dataclass(frozen=True, slots=True)
class Builtin:
    """A scalar built-in function of the language.

    ``accepts`` is the set of static argument types; ``returns`` the result type (``None``:
    the argument's type, as for ``abs``). ``impl`` runs on one *defined* value and returns
    :data:`UNDEF` where the result is undefined; ``on_undefined`` is the result for an
    undefined argument (``False`` for the predicate ``luhn``, :data:`UNDEF` otherwise).
    """

    name: str
    arity: int
    accepts: frozenset[Type]
    returns: Type | None
    impl: Callable[[Any], Any]
    on_undefined: Any = UNDEF
    doc: str = ""

    def __call__(self, *args: Any) -> Any:
        if len(args) != self.arity:
            raise TypeError(f"{self.name}() takes {self.arity} argument(s), not {len(args)}")
        if any(a is UNDEF for a in args):
            return self.on_undefined
        return self.impl(*args)


def _len(v: Any) -> Any:
    return len(v) if isinstance(v, str | list | dict) else UNDEF


def _lower(v: Any) -> Any:
    return v.lower() if isinstance(v, str) else UNDEF


def _upper(v: Any) -> Any:
    return v.upper() if isinstance(v, str) else UNDEF


def _abs(v: Any) -> Any:
    return abs(v) if is_number(v) else UNDEF


def _canon(v: Any) -> Any:
    return canon(v) if isinstance(v, str) else UNDEF


_INT_TEXT = re.compile(r"[+-]?[0-9]+", re.ASCII)
_FLOAT_TEXT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?", re.ASCII)
_INT64 = (-(2**63), 2**63)


def _in_int64(n: int) -> Any:
    return n if _INT64[0] <= n < _INT64[1] else UNDEF


def to_int(v: Any) -> Any:
    """``int(x)``: an int as is; a finite float truncated toward zero; a text that is a
    decimal integer (``"504"``, ``"-3"``; no spaces, no ``_``) as that integer; undefined
    otherwise (a bool, a list, ``"5.0"``, ``"0x1f"``) and when the result leaves int64."""
    if isinstance(v, bool):
        return UNDEF
    if isinstance(v, int):
        return v
    if isinstance(v, float):
        return _in_int64(int(v)) if math.isfinite(v) else UNDEF
    if isinstance(v, str) and _INT_TEXT.fullmatch(v):
        return _in_int64(int(v))
    return UNDEF


def to_float(v: Any) -> Any:
    """``float(x)``: a number as a float; a text that is a decimal number (``"1.5"``,
    ``"2e3"``, ``"504"``; no ``nan``/``inf``, no spaces) as the nearest float, undefined when
    that overflows; undefined for anything else."""
    if isinstance(v, bool):
        return UNDEF
    if isinstance(v, int | float):
        return float(v)
    if isinstance(v, str) and _FLOAT_TEXT.fullmatch(v):
        f = float(v)
        return f if math.isfinite(f) else UNDEF
    return UNDEF


#: Every scalar built-in, by name (the parser's arities and the type checker's signatures are
#: tested against this table).
BUILTINS: dict[str, Builtin] = {
    b.name: b
    for b in (
        Builtin("len", 1, _TEXT | {Type.VALUE}, Type.INT, _len, doc="length of a text"),
        Builtin("lower", 1, _TEXT | {Type.VALUE}, Type.STR, _lower, doc="lowercase text"),
        Builtin("upper", 1, _TEXT | {Type.VALUE}, Type.STR, _upper, doc="uppercase text"),
        Builtin("canon", 1, _TEXT | {Type.VALUE}, Type.STR, _canon,
                doc="lowercase letters and digits only"),
        Builtin("str", 1, _SCALARS, Type.STR, to_text, doc="text of a value"),
        Builtin("abs", 1, frozenset({Type.INT, Type.FLOAT, Type.DURATION, Type.VALUE}), None,
                _abs, doc="absolute value"),
        Builtin("luhn", 1, frozenset({Type.STR, Type.VALUE}), Type.BOOL, luhn,
                on_undefined=False, doc="Luhn checksum of 13-19 digits"),
        Builtin("int", 1, frozenset({Type.INT, Type.FLOAT, Type.STR, Type.VALUE}), Type.INT,
                to_int, doc="an integer, or a text that is one"),
        Builtin("float", 1, frozenset({Type.INT, Type.FLOAT, Type.STR, Type.VALUE}),
                Type.FLOAT, to_float, doc="a number, or a text that is one"),
    )
}

#: String-to-string built-ins (the ones a compiled backend tabulates per distinct string).
TEXT_MAPS: dict[str, Callable[[str], str]] = {"lower": str.lower, "upper": str.upper,
                                              "canon": canon}


def call(name: str, *args: Any) -> Any:
    """Apply built-in ``name`` to ``args`` (undefined arguments give ``on_undefined``)."""
    return BUILTINS[name](*args)


__all__ = [
    "BUILTINS",
    "TEXT_MAPS",
    "UNDEF",
    "Builtin",
    "Undefined",
    "call",
    "canon",
    "equal",
    "format_duration",
    "is_number",
    "luhn",
    "luhn_check_digit",
    "order",
    "quantile",
    "quantile_rank",
    "quantile_ratio",
    "regex",
    "to_float",
    "to_int",
    "to_text",
]
