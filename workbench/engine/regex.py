"""User regexes (``x matches "re"``): linear-time where possible, time-bounded otherwise.

The language keeps Python's ``re.search`` semantics (``docs/language.md``). A backtracking
engine takes exponential time on patterns such as ``^(a+)+$``, so each pattern is translated,
when that provably keeps its meaning, into RE2 syntax and run by ``google-re2`` (linear in the
text). The translation goes through Python's own parse of the pattern, so what RE2 runs is
what Python would have matched:

* literals, classes, ``.``, groups, alternation, greedy and lazy repeats, ``^``, ``\\A``,
  ``\\Z``, the flags ``(?s)``, ``(?m)``, ``(?i)``, ``(?a)``;
* ``$`` only where nothing can follow it (Python's ``$`` also matches before a final newline);
* ``\\d \\w \\s \\b`` and ``(?i)`` differ between the engines on non-ASCII text, so such patterns
  use RE2 for ASCII texts only;
* a one-character lookaround at an edge of the pattern: ``(?<![C])X`` searches as
  ``(?:\\A|[^C])X`` and ``X(?![C])`` as ``X(?:[^C]|\\z)`` (see :meth:`_Translator.top`).

Everything else (backreferences, other lookarounds, possessive repeats, local flags) and every
text that the RE2 form does not cover runs on Python's ``re`` with a time budget per search
(:data:`BUDGET_ENV`, default :data:`DEFAULT_BUDGET_S` seconds). Past it the search raises
:class:`RegexTimeout`, which the caller completes with the property and the span. On the main
thread the budget is enforced with ``SIGALRM``; signals reach only the main thread, so on other
threads (``otlspec serve``'s handlers, thread pools) the search runs in a helper interpreter of
the same Python, one per thread, started on first need and killed when a search overruns (the
next search starts a fresh one). A pattern whose only obstacle is lookarounds first runs on
RE2 without them (a superset: an assertion only removes matches), and ``re`` sees only the
texts where that finds a match. That fallback lives in :mod:`workbench.engine.regex_budget`;
its public names are re-exported here.

:func:`backtracking_risk` (:mod:`workbench.engine.regex_lint`, re-exported here) finds nested
quantifiers and ambiguous alternations under a repeat for ``otlspec lint``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from re import _constants as C
from re import _parser as sre
from typing import Any

import numpy as np

from workbench.engine.regex_budget import (  # the fallback's names stay importable from here
    BUDGET_ENV,
    DEFAULT_BUDGET_S,
    RegexTimeout,
    bounded_search,
    bounded_search_many,
    budget,
)
from workbench.engine.text_bulk import arrow_bools, arrow_strings

try:  # a compiled extension: optional, so a missing wheel only costs the linear-time engine
    import re2 as _re2
except ImportError:  # pragma: no cover - google-re2 is a dependency
    _re2 = None


# --------------------------------------------------------------------------- translation


class _Untranslatable(Exception):
    """The pattern uses a construct whose RE2 meaning differs (or that RE2 lacks)."""


_FLAGS = C.SRE_FLAG_IGNORECASE | C.SRE_FLAG_DOTALL | C.SRE_FLAG_MULTILINE | C.SRE_FLAG_ASCII
#: Python's ``\\s`` on ASCII text (RE2's lacks ``\\v`` and ``\\x1c``-``\\x1f``).
_SPACE = r"\t\n\x0b\f\r\x1c-\x1f "
_SPACE_ASCII = r"\t\n\x0b\f\r "


def _char(code: int) -> str:
    ch = chr(code)
    return ch if ch.isascii() and ch.isalnum() else f"\\x{{{code:x}}}"


class _Translator:
    def __init__(self, flags: int, relax: bool = False) -> None:
        self.ascii_flag = bool(flags & C.SRE_FLAG_ASCII)
        self.multiline = bool(flags & C.SRE_FLAG_MULTILINE)
        self.ascii_text = bool(flags & C.SRE_FLAG_IGNORECASE)  # case folding differs off ASCII
        #: drop the lookarounds left after :meth:`top`: the RE2 form then matches a superset
        self.relax = relax

    def top(self, items: Any) -> str:
        """The whole pattern. A lookaround of one character at the very start (lookbehind) or
        the very end (lookahead) becomes a character or the text's edge, which keeps the
        meaning of a *search*: ``(?<![C])X`` finds a match exactly where ``(?:\\A|[^C])X``
        does, and ``X(?![C])`` exactly where ``X(?:[^C]|\\z)`` does (the extra character
        consumed at an edge of the match cannot affect the rest of it)."""
        items = list(items)
        head = tail = ""
        if items and (edge := self._edge(items[0][0], items[0][1], -1)) is not None:
            head, items = edge, items[1:]
        if items and (edge := self._edge(items[-1][0], items[-1][1], 1)) is not None:
            tail, items = edge, items[:-1]
        return head + self.seq(items, not tail) + tail

    def _edge(self, op: Any, av: Any, direction: int) -> str | None:
        if op not in (C.ASSERT, C.ASSERT_NOT) or av[0] != direction:
            return None
        sub = list(av[1])
        if len(sub) != 1 or sub[0][0] not in (C.LITERAL, C.NOT_LITERAL, C.IN):
            return None
        one_op, one_av = sub[0]
        if op is C.ASSERT:
            return self.item(one_op, one_av, False)
        if one_op is C.LITERAL:
            other = f"[^{_char(one_av)}]"
        elif one_op is C.NOT_LITERAL:
            other = _char(one_av)
        else:
            items = list(one_av)
            negated = bool(items) and items[0][0] is C.NEGATE
            other = self._class(items[1:] if negated else [(C.NEGATE, None), *items])
        edge = r"\A" if direction < 0 else r"\z"
        return f"(?:{edge}|{other})" if direction < 0 else f"(?:{other}|{edge})"

    def _category(self, cat: Any, in_class: bool) -> str:
        if not self.ascii_flag:
            self.ascii_text = True
        space = _SPACE_ASCII if self.ascii_flag else _SPACE
        table = {
            C.CATEGORY_DIGIT: r"\d",
            C.CATEGORY_NOT_DIGIT: r"\D",
            C.CATEGORY_WORD: r"\w",
            C.CATEGORY_NOT_WORD: r"\W",
            C.CATEGORY_SPACE: space if in_class else f"[{space}]",
            C.CATEGORY_NOT_SPACE: None if in_class else f"[^{space}]",
        }
        out = table.get(cat)
        if out is None:
            raise _Untranslatable(str(cat))
        return out

    def _class(self, items: list[tuple[Any, Any]]) -> str:
        out = []
        for k, (op, av) in enumerate(items):
            if op is C.NEGATE and k == 0:
                out.append("^")
            elif op is C.LITERAL:
                out.append(_char(av))
            elif op is C.RANGE:
                out.append(f"{_char(av[0])}-{_char(av[1])}")
            elif op is C.CATEGORY:
                out.append(self._category(av, True))
            else:
                raise _Untranslatable(str(op))
        return "[" + "".join(out) + "]"

    def seq(self, items: Any, tail: bool) -> str:
        items = list(items)
        return "".join(
            self.item(op, av, tail and k == len(items) - 1) for k, (op, av) in enumerate(items)
        )

    def item(self, op: Any, av: Any, tail: bool) -> str:
        if op is C.LITERAL:
            return _char(av)
        if op is C.NOT_LITERAL:
            return f"[^{_char(av)}]"
        if op is C.ANY:
            return "."
        if op is C.IN:
            if len(av) == 1 and av[0][0] is C.CATEGORY:
                return self._category(av[0][1], False)
            return self._class(av)
        if op is C.BRANCH:
            return "(?:" + "|".join(self.seq(alt, tail) for alt in av[1]) + ")"
        if op is C.SUBPATTERN:
            _group, add, delete, sub = av
            if add or delete:
                raise _Untranslatable("local flags")
            return "(?:" + self.seq(sub, tail) + ")"
        if op in (C.MAX_REPEAT, C.MIN_REPEAT):
            lo, hi, sub = av
            if hi is C.MAXREPEAT:
                count = "*" if lo == 0 else "+" if lo == 1 else f"{{{lo},}}"
            else:
                count = "?" if (lo, hi) == (0, 1) else f"{{{lo},{hi}}}"
            lazy = "?" if op is C.MIN_REPEAT else ""
            return "(?:" + self.seq(sub, False) + ")" + count + lazy
        if op is C.AT:
            return self._at(av, tail)
        if self.relax and op in (C.ASSERT, C.ASSERT_NOT):
            return ""  # an assertion only ever removes matches
        raise _Untranslatable(str(op))  # backrefs, lookaround, atomic groups, possessive

    def _at(self, where: Any, tail: bool) -> str:
        if where is C.AT_BEGINNING or where is C.AT_BEGINNING_STRING:
            return "^" if where is C.AT_BEGINNING else r"\A"
        if where is C.AT_END_STRING:
            return r"\z"
        if where is C.AT_END:
            if self.multiline:
                return "$"
            if tail:  # nothing follows: consuming Python's optional final newline is harmless
                return r"(?:\n?\z)"
            raise _Untranslatable("`$` followed by more pattern")
        if where in (C.AT_BOUNDARY, C.AT_NON_BOUNDARY):
            if not self.ascii_flag:
                self.ascii_text = True
            return r"\b" if where is C.AT_BOUNDARY else r"\B"
        raise _Untranslatable(str(where))


def translate(pattern: str, relax: bool = False) -> tuple[str, bool] | None:
    """The RE2 form of a Python pattern and whether it is valid for ASCII texts only;
    ``None`` when no equivalent RE2 form is known.

    With ``relax``, lookarounds that have no equivalent are dropped: the RE2 form then finds
    a match in every text where the pattern does (and maybe in more), a prefilter for the
    ``re`` fallback.
    """
    try:
        parsed = sre.parse(pattern)
        flags = parsed.state.flags
        if flags & ~(_FLAGS | C.SRE_FLAG_UNICODE | C.SRE_FLAG_VERBOSE):
            return None
        t = _Translator(flags, relax)
        body = t.top(parsed.data if hasattr(parsed, "data") else parsed)
    except (_Untranslatable, re.error, RecursionError):
        return None
    prefix = "".join(
        f
        for bit, f in (
            (C.SRE_FLAG_IGNORECASE, "i"),
            (C.SRE_FLAG_DOTALL, "s"),
            (C.SRE_FLAG_MULTILINE, "m"),
        )
        if flags & bit
    )
    if t.ascii_text and not pattern.isascii() and flags & C.SRE_FLAG_IGNORECASE:
        return None  # case folding of non-ASCII pattern letters differs
    return (f"(?{prefix})" if prefix else "") + body, t.ascii_text


# --------------------------------------------------------------------------- matching


@dataclass(frozen=True, slots=True)
class Regex:
    """A compiled user pattern: :meth:`search` answers as ``re.search(pattern, text)``."""

    pattern: str
    fallback: re.Pattern[str]
    linear: Any = None  # text -> bool through the RE2 program, when there is one
    ascii_only: bool = False
    re2_pattern: str | None = None  # the RE2 form ``linear`` runs
    #: without an RE2 form: a relaxed RE2 form (lookarounds dropped) matching a superset, so
    #: that only the texts it matches need the ``re`` fallback
    prefilter: Any = None
    prefilter_ascii: bool = False
    prefilter_pattern: str | None = None

    def search_many(self, texts: Sequence[str], distinct: bool = False) -> list[bool]:
        """:meth:`search` of every text, in bulk: the RE2 form over an Arrow string array
        where pyarrow is installed (one C++ loop, no Python call per text), the rest on the
        per-text engines with the ``re`` fallback's alarm handler installed once. Repeated
        texts are searched once, unless the caller says that they are ``distinct``.

        Raises
        ------
        RegexTimeout
            As :meth:`search`.
        """
        unique = texts if distinct else dict.fromkeys(texts)
        if len(unique) < len(texts):  # span names, statuses, attribute values repeat: search
            found = dict(zip(unique, self.search_many(list(unique)), strict=True))  # each once
            return [found[t] for t in texts]
        out: list[bool] = [False] * len(texts)
        rest: list[int] = list(range(len(texts)))
        if self.re2_pattern is not None and len(texts) >= _BULK_MIN:
            done = _arrow_search(self.re2_pattern, texts, self.ascii_only)
            if done is not None:
                hits, covered = done
                out = hits.tolist()
                rest = np.flatnonzero(~covered).tolist()
        elif self.prefilter_pattern is not None and len(texts) >= _BULK_MIN:
            done = _arrow_search(self.prefilter_pattern, texts, self.prefilter_ascii)
            if done is not None:  # out stays False where the superset form finds nothing
                hits, covered = done
                rest = np.flatnonzero(hits | ~covered).tolist()
        if not rest:
            return out
        linear = self.linear
        slow: list[int] = []
        for i in rest:
            text = texts[i]
            if linear is not None and (not self.ascii_only or text.isascii()):
                try:
                    out[i] = bool(linear(text))
                    continue
                except UnicodeEncodeError:
                    pass
            elif self._rejects(text):
                continue
            slow.append(i)
        if slow:
            for i, hit in zip(slow, bounded_search_many(self.fallback, self.pattern,
                                                         [texts[i] for i in slow]), strict=True):
                out[i] = hit
        return out

    def search_fixed(self, texts: np.ndarray) -> np.ndarray | None:
        """:meth:`search` of every item of a ``S<w>`` array whose items are all ``w`` ASCII
        bytes (the hex ids of a string table), as a bool array: the RE2 form over the array's
        own buffer, without a Python string per item. None when that is not possible (no RE2
        form or no pyarrow, shorter or non-ASCII items); then :meth:`search_many` answers.
        """
        width = texts.dtype.itemsize
        n = int(texts.shape[0])
        if self.re2_pattern is None or n < _BULK_MIN or texts.dtype.kind != "S" or not width:
            return None
        raw = np.ascontiguousarray(texts).view(np.uint8)
        if (raw == 0).any() or (raw >= 128).any():
            return None
        pc = _pyarrow()
        if pc is None:
            return None
        pa, compute = pc
        offsets = np.arange(0, width * n + 1, width, dtype=np.int64)
        try:
            arr = pa.Array.from_buffers(pa.large_binary(), n,
                                        [None, pa.py_buffer(offsets), pa.py_buffer(raw)])
            hits = compute.match_substring_regex(arr, self.re2_pattern)
        except (pa.ArrowException, ValueError, TypeError):
            return None
        return arrow_bools(hits)

    @property
    def engine(self) -> str:
        """``"re2"`` (every text), ``"re2-ascii"`` (ASCII texts; others on ``re``) or ``"re"``."""
        if self.linear is None:
            return "re"
        return "re2-ascii" if self.ascii_only else "re2"

    def search(self, text: str) -> bool:
        """Whether the pattern matches somewhere in ``text``.

        Raises
        ------
        RegexTimeout
            The ``re`` fallback ran past :func:`budget` (on any thread).
        """
        if self.linear is not None and (not self.ascii_only or text.isascii()):
            try:
                return bool(self.linear(text))
            except UnicodeEncodeError:  # lone surrogates have no UTF-8 form: use re
                pass
        elif self._rejects(text):
            return False
        return bounded_search(self.fallback, self.pattern, text)

    def _rejects(self, text: str) -> bool:
        """Whether the prefilter proves that the pattern finds nothing in ``text``."""
        if self.prefilter is None or (self.prefilter_ascii and not text.isascii()):
            return False
        try:
            return not self.prefilter(text)
        except UnicodeEncodeError:
            return False


@functools.lru_cache(maxsize=1024)
def compile_regex(pattern: str) -> Regex:
    """Compile a user pattern (cached); raises ``re.error`` for an invalid one."""
    fallback = re.compile(pattern)
    if _re2 is None:
        return Regex(pattern, fallback)
    found = translate(pattern)
    program = _re2_program(found[0]) if found is not None else None
    if found is not None and program is not None:
        return Regex(pattern, fallback, _searcher(program), found[1], found[0])
    relaxed = translate(pattern, relax=True)
    program = _re2_program(relaxed[0]) if relaxed is not None else None
    if relaxed is None or program is None:
        return Regex(pattern, fallback)
    return Regex(pattern, fallback, prefilter=_searcher(program), prefilter_ascii=relaxed[1],
                 prefilter_pattern=relaxed[0])


def _re2_program(re2_pattern: str) -> Any:
    """The compiled RE2 program, or None past RE2's limits (repeat counts over 1000, memory)."""
    options = _re2.Options()
    options.log_errors = False
    options.never_capture = True
    try:
        return _re2.compile(re2_pattern, options)
    except Exception:
        return None


#: below this many texts :meth:`Regex.search_many` does not convert to Arrow
_BULK_MIN = 64
_PC: Any = None


def _pyarrow() -> tuple[Any, Any] | None:
    """``(pyarrow, pyarrow.compute)``, or None where pyarrow is not installed."""
    global _PC
    if _PC is None:
        try:
            import pyarrow as pa
            import pyarrow.compute as pc

            _PC = (pa, pc)
        except ImportError:
            _PC = False
    return _PC or None


def _arrow_search(
    re2_pattern: str, texts: Sequence[str], ascii_only: bool
) -> tuple[np.ndarray, np.ndarray] | None:
    """(hits, covered) bool arrays of an RE2 pattern over ``texts`` through
    ``pyarrow.compute`` (which links RE2 itself); None when pyarrow is missing or cannot take
    the texts (lone surrogates). ``covered`` is false for the texts the RE2 form does not
    decide (non-ASCII texts of an ASCII-only translation)."""
    found = _pyarrow()
    if found is None:
        return None
    pa, pc = found
    try:
        arr = arrow_strings(pa, texts)
        if arr is None:
            return None
        hits = arrow_bools(pc.match_substring_regex(arr, re2_pattern))
        covered = (arrow_bools(pc.string_is_ascii(arr)) if ascii_only
                   else np.ones(len(texts), dtype=np.bool_))
    except (pa.ArrowException, ValueError, TypeError):
        return None
    return hits, covered


def _searcher(program: Any) -> Any:
    """``text -> bool`` for an RE2 program. The binding's ``search`` builds a match object
    with str offsets (about 6 us a call); its underlying ``Match`` on the UTF-8 bytes costs a
    quarter of that, which matters when a pattern runs over every distinct attribute value."""
    raw = getattr(program, "_regexp", None)
    anchor = getattr(getattr(getattr(_re2, "_re2", None), "RE2", None), "Anchor", None)
    if raw is None or anchor is None or not hasattr(raw, "Match"):
        return lambda text: program.search(text) is not None
    match, unanchored = raw.Match, anchor.UNANCHORED

    def found(text: str) -> bool:
        data = text.encode("utf-8")
        return bool(match(unanchored, data, 0, len(data))[0][0] != -1)

    return found


def search(pattern: str, text: str) -> bool:
    """``re.search(pattern, text) is not None``, in linear time where possible."""
    return compile_regex(pattern).search(text)



# the linter lives next door (this module's size); its names stay importable from here
from workbench.engine.regex_lint import backtracking_risk, lint_patterns  # noqa: E402

__all__ = ["BUDGET_ENV", "DEFAULT_BUDGET_S", "Regex", "RegexTimeout", "backtracking_risk",
           "budget", "compile_regex", "lint_patterns", "search", "translate"]
