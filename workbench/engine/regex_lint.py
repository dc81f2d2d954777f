"""``otlspec lint`` for user regexes: patterns that can backtrack exponentially.

Two shapes, found on Python's own parse of the pattern (so what is analysed is what ``re``
runs, after its own rewrites: ``(a|b)`` is a character class there, and harmless):

* nested quantifiers, ``(a+)+``: a repeat whose body holds an unbounded repeat and no
  delimiter;
* ambiguous bodies under a repeat, ``(a|a)+``, ``(a|aa)+``, ``(a|a+b?)+``, ``(a+a)+``: a body
  that matches one text in two ways, or as one iteration and as several (unbounded repeats
  inside the body are sampled at their first few counts).

Both are heuristics that err towards silence: a body too large or too irregular to analyse is
not reported.
"""

from __future__ import annotations

import functools
import re
from re import _constants as C
from re import _parser as sre
from typing import Any

from workbench.engine.regex_budget import BUDGET_ENV

_POSSESSIVE = getattr(C, "POSSESSIVE_REPEAT", None)
_REPEATS = (C.MAX_REPEAT, C.MIN_REPEAT, _POSSESSIVE)
_ATOMS = (C.LITERAL, C.NOT_LITERAL, C.IN, C.ANY)


def _subs(op: Any, av: Any) -> list[Any]:
    if op in _REPEATS:
        return [av[2]]
    if op is C.BRANCH:
        return list(av[1])
    if op is C.SUBPATTERN:
        return [av[-1]]
    if op in (C.ASSERT, C.ASSERT_NOT):
        return [av[1]]
    if op is getattr(C, "ATOMIC_GROUP", None):
        return [av]
    return []


def _unbounded(items: Any) -> bool:
    """Whether ``items`` hold a repeat without an upper bound (``+``, ``*``, ``{m,}``)."""
    return any(
        (op in _REPEATS and av[1] is C.MAXREPEAT) or any(_unbounded(s) for s in _subs(op, av))
        for op, av in items
    )


def _anchored(items: Any) -> bool:
    """Whether ``items`` must match a character outside any repeat (``[.]`` in
    ``([.][a-z]+)*``): such a delimiter keeps the iterations of an outer repeat apart."""
    for op, av in items:
        if op in _ATOMS or (op is C.SUBPATTERN and _anchored(av[-1])):
            return True
        if op is C.BRANCH and all(_anchored(alt) for alt in av[1]):
            return True  # ``(a+b|c)``: each alternative has its delimiter
        if op in _REPEATS and av[0] >= 1 and av[1] is not C.MAXREPEAT and _anchored(av[2]):
            return True
    return False


_NESTED = "a repeated group whose body repeats too, with no delimiter"
_AMBIGUOUS = "a repeated group whose alternatives can match the same text"
#: Bounds of :func:`_expand` (past them a body is not analysed: a miss, never a false alarm).
_MAX_WAYS, _MAX_LEN, _MAX_COPIES = 64, 24, 4
#: Counts an unbounded repeat is expanded to in :func:`_expand` (``a+`` as ``a{1,3}``).
_UNBOUNDED_COUNTS = 3
_CATEGORY_RE = {
    C.CATEGORY_DIGIT: re.compile(r"\d"), C.CATEGORY_NOT_DIGIT: re.compile(r"\D"),
    C.CATEGORY_WORD: re.compile(r"\w"), C.CATEGORY_NOT_WORD: re.compile(r"\W"),
    C.CATEGORY_SPACE: re.compile(r"\s"), C.CATEGORY_NOT_SPACE: re.compile(r"\S"),
}
#: Characters beyond Latin-1 that tell the categories apart (Greek, CJK, Arabic digit...).
_PROBE_CHARS = (0x100, 0x3B1, 0x660, 0x2028, 0x3000, 0x4E00)


def _expand(items: Any) -> list[tuple[Any, ...]] | None:
    """Each way ``items`` can match, as a fixed sequence of one-character atoms.

    A branch gives one way per alternative and a small bounded repeat one per count, so two
    equal sequences are two ways of matching the same text. An unbounded repeat that
    backtracks is sampled at its first :data:`_UNBOUNDED_COUNTS` counts (a subset of its
    ways, so an ambiguity found among them is real). ``None`` when ``items`` hold anything
    else (large or possessive unbounded repeats, backreferences, lookaround, local flags) or
    have too many ways.
    """
    ways: list[tuple[Any, ...]] = [()]
    for op, av in items:
        if op in _ATOMS:
            alts: list[tuple[Any, ...]] | None = [((op, av),)]
        elif op is C.AT:
            continue  # zero-width
        elif op is C.SUBPATTERN:
            alts = None if av[1] or av[2] else _expand(av[-1])
        elif op is C.BRANCH:
            alts = []
            for alt in av[1]:
                sub = _expand(alt)
                if sub is None:
                    return None
                alts += sub
        elif op in _REPEATS and (
            (av[1] is not C.MAXREPEAT and av[1] <= _MAX_COPIES)
            or (av[1] is C.MAXREPEAT and op is not _POSSESSIVE)
        ):
            body = _expand(av[2])
            if body is None:
                return None
            alts = []
            # an unbounded (backtracking) repeat is sampled at its first few counts: each
            # way so found is a real way of the pattern, so an ambiguity among them is real
            high = av[0] + _UNBOUNDED_COUNTS - 1 if av[1] is C.MAXREPEAT else av[1]
            for count in range(av[0], high + 1):
                copies: list[tuple[Any, ...]] = [()]
                for _ in range(count):
                    copies = [c + b for c in copies for b in body]
                alts += copies
        else:
            return None
        if alts is None:
            return None
        ways = [w + a for w in ways for a in alts]
        if len(ways) > _MAX_WAYS or any(len(w) > _MAX_LEN for w in ways):
            return None
    return ways


def _member(atom: tuple[Any, Any], code: int) -> bool:
    op, av = atom
    if op is C.LITERAL:
        return code == av
    if op is C.NOT_LITERAL:
        return code != av
    if op is C.ANY:
        return code != 10
    negate, hit = False, False
    for k, (iop, iav) in enumerate(av):
        if iop is C.NEGATE and k == 0:
            negate = True
        elif iop is C.LITERAL:
            hit = hit or code == iav
        elif iop is C.RANGE:
            hit = hit or iav[0] <= code <= iav[1]
        elif iop is C.CATEGORY and iav in _CATEGORY_RE:
            hit = hit or _CATEGORY_RE[iav].match(chr(code)) is not None
        else:
            hit = True  # unknown member: assume it may match
    return hit != negate


def _codes(atom: tuple[Any, Any]) -> list[int]:
    op, av = atom
    if op in (C.LITERAL, C.NOT_LITERAL):
        return [av]
    if op is C.IN:
        return [c for iop, iav in av if iop in (C.LITERAL, C.RANGE)
                for c in ((iav,) if iop is C.LITERAL else iav)]
    return []


def _meet(a: tuple[Any, Any], b: tuple[Any, Any]) -> bool:
    """Whether some character matches both atoms (tried on Latin-1, the atoms' own
    characters and a few others)."""
    for code in (*range(256), *_PROBE_CHARS, *_codes(a), *_codes(b)):
        if _member(a, code) and _member(b, code):
            return True
    return False


def _overlap(s: tuple[Any, ...], t: tuple[Any, ...]) -> bool:
    return len(s) == len(t) and all(_meet(a, b) for a, b in zip(s, t, strict=True))


def _ambiguous(items: Any) -> bool:
    """Whether one text can be matched by one iteration of ``items`` in two ways, or by one
    iteration and by several: ``(a|a)``, ``(a|aa)``, ``(ab|a|b)``. A repeat of such a body
    tries exponentially many splits of a text it finally rejects."""
    ways = _expand(items)
    if ways is None or len(ways) < 2:
        return False
    full = [w for w in ways if w]
    if any(_overlap(a, b) for i, a in enumerate(ways) for b in ways[i + 1:]):
        return True

    @functools.cache
    def tiles(j: int, start: int) -> bool:  # can ways tile full[j][start:]?
        rest = full[j][start:]
        return not rest or any(
            len(w) <= len(rest) and _overlap(w, rest[: len(w)]) and tiles(j, start + len(w))
            for w in full
        )

    return any(
        0 < len(w) < len(v) and _overlap(w, v[: len(w)]) and tiles(j, len(w))
        for j, v in enumerate(full) for w in full
    )


def _nested(items: Any, found: list[str]) -> None:
    """Note each repeat (of more than one iteration) whose body holds an unbounded repeat and
    no delimiter, or can match one text in several ways: its iterations can split a text in
    exponentially many ways."""
    for op, av in items:
        if op in _REPEATS:
            _lo, hi, sub = av
            if hi is C.MAXREPEAT or hi > 1:
                if _unbounded(sub) and not _anchored(sub):
                    found.append(_NESTED)
                elif _ambiguous(sub):
                    found.append(_AMBIGUOUS)
        for sub in _subs(op, av):
            _nested(sub, found)


def backtracking_risk(pattern: str) -> str | None:
    """Why ``pattern`` can take exponential time on a backtracking engine, or ``None``.

    Flags nested quantifiers (``(a+)+``, ``(a*b?)*``, ``(\\w+\\s?)+``): a repeat whose body
    holds an unbounded repeat and no character it must match outside it; and ambiguous
    alternations under a repeat (``(a|a)+``, ``(a|aa)+``, ``(ab|a|b)+``): a body of fixed-length
    ways of which two match the same text, or one matches what several iterations do, also
    with unbounded repeats inside (``(a+a)+``, ``(a|a+b?)+``; such repeats are sampled at
    their first few counts, so what is found is real). A heuristic that errs towards
    silence: a body too large to expand is not reported.
    """
    try:
        parsed = sre.parse(pattern)
    except (re.error, RecursionError):
        return None
    found: list[str] = []
    _nested(parsed, found)
    if not found:
        return None
    if found[0] == _AMBIGUOUS:
        what, fix = "repeats an ambiguous alternation", (
            "make the alternatives exclusive, e.g. `(a|aa)+` as `a+`, `(ab|a|b)+` as `[ab]+`")
    else:
        what, fix = "nests quantifiers", "write it without the nesting, e.g. `(a+)+` as `a+`"
    return (
        f"regex {pattern!r} {what} ({found[0]}): a backtracking engine can take "
        "exponential time on it; otlspec runs it in linear time where RE2 applies, under a "
        f"time budget ({BUDGET_ENV}) otherwise; {fix}"
    )


def lint_patterns(spec: Any) -> list[Any]:
    """``otlspec lint`` warnings for the spec's patterns that can backtrack exponentially."""
    from workbench.lang import ir, postorder
    from workbench.lang.lint import LintWarning

    warnings = []
    for prop in spec.properties:
        seen: set[str] = set()
        for node in postorder(prop.formula):
            if isinstance(node, ir.Match) and node.pattern not in seen:
                seen.add(node.pattern)
                why = backtracking_risk(node.pattern)
                if why:
                    warnings.append(LintWarning(why, prop.name, spec.positions.get(prop.name)))
    return warnings


__all__ = ["backtracking_risk", "lint_patterns"]
