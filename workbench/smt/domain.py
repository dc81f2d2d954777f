"""The finite value domain of a symbolic trace, and what a set of formulas needs from a trace.

Strings
-------
otlspec's string functions (``matches`` with Python ``re.search`` semantics, look-arounds
included, ``lower``, ``upper``, ``canon``, ``len``, ``luhn``, ``str``) are evaluated *exactly*
by Python on an enumerated domain: every string literal the formulas mention, the span kind
and status names, the span ids of the symbolic slots, one or more sample strings that match
each regex (and variants), a few "other" strings, and the closure of all of these under the
string functions the formulas use. A symbolic string is an integer code into this domain;
codes are assigned in Python string order, so ``<`` on strings is ``<`` on codes.

Attribute values
----------------
Attribute values are dynamically typed. A symbolic attribute is one *value code*: codes
``0..S-1`` are the strings, then the numbers (every numeric literal ``c`` with ``c - 1`` and
``c + 1``, 0 and 1, deduplicated by numeric value), then ``false`` and ``true``; ``-1`` is
"absent". Lists and maps are not in the domain (see ``docs/reasoning.md``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import z3

from workbench.engine.values import TEXT_MAPS, to_text
from workbench.lang import ir
from workbench.smt.terms import Bool, Num, bor, ite

try:  # Python 3.11+: the regex parser lives in re._parser
    from re import _parser as sre_parse
except ImportError:  # pragma: no cover
    import sre_parse

#: Strings that stand for "anything else".
OTHER_STRINGS: tuple[str, ...] = ("", "other", "x")
#: Characters tried, in order, where a regex admits a class of characters.
_CANDIDATE_CHARS = "a1bX0 -_.@:/Z9zA~%+?=#&,;!'\"()[]{}<>\\|^$*\t"


@dataclass
class Usage:
    """What formulas read from a trace; decides which parts of a trace are modelled."""

    strings: set[str] = field(default_factory=set)
    numbers: set[int | float] = field(default_factory=set)
    patterns: set[str] = field(default_factory=set)
    span_keys: set[str] = field(default_factory=set)
    resource_keys: set[str] = field(default_factory=set)
    event_keys: set[str] = field(default_factory=set)
    funcs: set[str] = field(default_factory=set)
    fields: set[str] = field(default_factory=set)
    events: bool = False
    links: bool = False
    hb: bool = False
    temporal: bool = False
    real: bool = False

    def merge(self, other: Usage) -> None:
        """Add what ``other`` uses."""
        for name in ("strings", "numbers", "patterns", "span_keys", "resource_keys",
                     "event_keys", "funcs", "fields"):
            getattr(self, name).update(getattr(other, name))
        for name in ("events", "links", "hb", "temporal", "real"):
            setattr(self, name, getattr(self, name) or getattr(other, name))


def scan(node: ir.Node, usage: Usage | None = None, event_vars: frozenset[str] = frozenset()
         ) -> Usage:
    """Collect the :class:`Usage` of a formula (literals, attribute keys, features)."""
    u = usage if usage is not None else Usage()
    _scan(node, u, event_vars)
    return u


def _is_event_domain(node: ir.Node) -> bool:
    while type(node) is ir.Comprehension:
        node = node.domain
    return type(node) is ir.Events


def _scan(node: ir.Node, u: Usage, ev: frozenset[str]) -> None:
    note = _NOTES.get(type(node))
    if note is not None:
        note(node, u, ev)
    inner = ev
    if type(node) in _EVENT_BINDERS:
        var = getattr(node, "var", None)
        if var and _is_event_domain(node.domain):  # type: ignore[attr-defined]
            inner = ev | {var}
    for child in node.children():
        _scan(child, u, inner)


def _note_const(node: ir.Const, u: Usage, ev: frozenset[str]) -> None:
    v = node.value
    if isinstance(v, str):
        u.strings.add(v)
    elif isinstance(v, int | float) and not isinstance(v, bool):
        u.numbers.add(v)
        if isinstance(v, float):
            u.real = True


def _note_attr(node: ir.Attr, u: Usage, ev: frozenset[str]) -> None:
    if node.scope == "resource":
        u.resource_keys.add(node.key)
    elif node.base.name in ev or node.scope == "event":
        u.event_keys.add(node.key)
    else:
        u.span_keys.add(node.key)


def _note_field(node: ir.Field, u: Usage, ev: frozenset[str]) -> None:
    u.fields.add(node.name)
    if node.name == "event_count":
        u.events = True
    if node.name == "link_count":
        u.links = True


def _note_call(node: ir.Call, u: Usage, ev: frozenset[str]) -> None:
    u.funcs.add(node.func)
    if node.func == "hb":
        u.hb = True


def _note_event_of(node: ir.EventOf, u: Usage, ev: frozenset[str]) -> None:
    u.events = u.temporal = True
    if node.name is not None:
        u.strings.add(node.name)


def _note_events(node: ir.Events, u: Usage, ev: frozenset[str]) -> None:
    u.events = True


def _note_rel(node: ir.Rel, u: Usage, ev: frozenset[str]) -> None:
    if node.rel == "linked":
        u.links = True


def _note_hb(node: ir.HappensBefore, u: Usage, ev: frozenset[str]) -> None:
    u.hb = True


def _note_arith(node: ir.Arith, u: Usage, ev: frozenset[str]) -> None:
    if node.op == "/":
        u.real = True


def _note_aggregate(node: ir.Aggregate, u: Usage, ev: frozenset[str]) -> None:
    if node.op == "avg":
        u.real = True


def _note_temporal(node: ir.Node, u: Usage, ev: frozenset[str]) -> None:
    u.temporal = True


def _note_match(node: ir.Match, u: Usage, ev: frozenset[str]) -> None:
    u.patterns.add(node.pattern)


#: What a node of each class adds to a :class:`Usage` (classes without an entry add nothing
#: themselves; their children are scanned all the same).
_NOTES: dict[type[ir.Node], Callable[[Any, Usage, frozenset[str]], None]] = {
    ir.Const: _note_const, ir.Match: _note_match, ir.Attr: _note_attr, ir.Field: _note_field,
    ir.Call: _note_call, ir.Events: _note_events, ir.EventOf: _note_event_of,
    ir.Rel: _note_rel, ir.HappensBefore: _note_hb, ir.Arith: _note_arith,
    ir.Aggregate: _note_aggregate, ir.Temporal: _note_temporal, ir.StartOf: _note_temporal,
    ir.EndOf: _note_temporal,
}
#: Binders whose variable ranges over events when their domain is a set of events.
_EVENT_BINDERS = frozenset({ir.Quant, ir.Comprehension, ir.Aggregate, ir.Quantile})


# ------------------------------------------------------------------------ regex samples


def regex_samples(pattern: str, limit: int = 4) -> list[str]:
    """A few strings that ``re.search(pattern, s)`` accepts (best effort; may be empty).

    Strings are built from the parsed pattern with different choices at classes, branches
    and repeats, and kept only when Python's ``re`` agrees that they match.
    """
    try:
        compiled = re.compile(pattern)
        parsed = sre_parse.parse(pattern)
    except (re.error, RecursionError):
        return []
    found: list[str] = []
    for variant in range(12):
        for extra in (0, 1):
            try:
                text = _build(parsed, variant, extra, compiled.flags & re.IGNORECASE)
            except _NoSample:
                continue
            if compiled.search(text) is not None and text not in found:
                found.append(text)
                if len(found) >= limit:
                    return found
    return found


class _NoSample(Exception):
    pass


def _pick(allowed: Any, variant: int) -> str:
    chars = [c for c in _CANDIDATE_CHARS if allowed(c)]
    if not chars:
        chars = [chr(c) for c in range(32, 127) if allowed(chr(c))]
    if not chars:
        raise _NoSample
    return chars[variant % len(chars)]


def _class_test(items: list[Any]) -> Any:
    negate = False
    tests = []
    for op, av in items:
        name = str(op)
        if name == "NEGATE":
            negate = True
        elif name == "LITERAL":
            tests.append(lambda c, v=av: ord(c) == v)
        elif name == "RANGE":
            tests.append(lambda c, v=av: v[0] <= ord(c) <= v[1])
        elif name == "CATEGORY":
            tests.append(lambda c, v=str(av): _category(v, c))
    return lambda c: any(t(c) for t in tests) != negate


def _category(name: str, c: str) -> bool:
    base = {
        "CATEGORY_DIGIT": c.isdigit(),
        "CATEGORY_SPACE": c.isspace(),
        "CATEGORY_WORD": c.isalnum() or c == "_",
    }
    for key, value in base.items():
        if name == key:
            return value
        if name == key.replace("CATEGORY_", "CATEGORY_NOT_"):
            return not value
    return False


def _build(parsed: Any, variant: int, extra: int, icase: int) -> str:
    out: list[str] = []
    for op, av in parsed:
        name = str(op)
        if name == "LITERAL":
            out.append(chr(av))
        elif name == "NOT_LITERAL":
            out.append(_pick(lambda c, v=av: ord(c) != v, variant))
        elif name == "ANY":
            out.append(_pick(lambda c: c != "\n", variant))
        elif name == "IN":
            out.append(_pick(_class_test(av), variant))
        elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            lo, hi, sub = av
            times = lo + extra if (hi is sre_parse.MAXREPEAT or lo + extra <= hi) else lo
            for rep in range(times):
                out.append(_build(sub, variant + rep, extra, icase))
        elif name == "SUBPATTERN":
            out.append(_build(av[-1], variant, extra, icase))
        elif name == "ATOMIC_GROUP":
            out.append(_build(av, variant, extra, icase))
        elif name == "BRANCH":
            branches = av[1]
            out.append(_build(branches[variant % len(branches)], variant // len(branches),
                              extra, icase))
        elif name == "CATEGORY":
            out.append(_pick(lambda c, v=str(av): _category(v, c), variant))
        elif name in ("AT", "ASSERT", "ASSERT_NOT", "GROUPREF", "GROUPREF_EXISTS"):
            continue
        else:
            raise _NoSample
    return "".join(out)


# ------------------------------------------------------------------------ the domain


def _num_key(v: int | float | Fraction) -> Fraction:
    return Fraction(v)


class ValueDomain:
    """The enumerated strings and numbers of a symbolic trace (see the module docstring).

    Parameters
    ----------
    strings:
        Strings that must be representable (literals, ids, kind and status names...).
    numbers:
        Numeric literals; each ``c`` adds ``c - 1``, ``c`` and ``c + 1``.
    patterns:
        Regexes whose sample strings join the domain.
    funcs:
        The string functions in use; the domain is closed under them.
    """

    def __init__(self, strings: Iterable[str], numbers: Iterable[int | float],
                 patterns: Iterable[str] = (), funcs: Iterable[str] = ()) -> None:
        funcs = set(funcs)
        nums: dict[Fraction, int | float] = {}
        for c in [0, 1, *numbers]:
            if isinstance(c, bool):
                continue
            for v in (c - 1, c, c + 1):
                nums.setdefault(_num_key(v), v)
        self.numbers: list[int | float] = sorted(nums.values())
        pool = set(strings) | set(OTHER_STRINGS)
        for p in sorted(patterns):
            pool.update(regex_samples(p))
        if "len" in funcs:  # strings on both sides of every length bound
            for c in self.numbers:
                if isinstance(c, int) and 0 <= c <= 4096:
                    pool.add("x" * c)
        if "str" in funcs:
            pool.update(to_text(v) for v in self.numbers)
            pool.update(("true", "false"))
        closers = [f for f in ("lower", "upper", "canon") if f in funcs]
        for _ in range(4):
            new = {TEXT_MAPS[f](s) for f in closers for s in pool} - pool
            if not new:
                break
            pool |= new
        self.strings: list[str] = sorted(pool)
        self._code: dict[str, int] = {s: i for i, s in enumerate(self.strings)}
        self.n_str = len(self.strings)
        self.n_num = len(self.numbers)
        self.false_code = self.n_str + self.n_num
        self.true_code = self.false_code + 1
        self.size = self.true_code + 1
        self._num_code: dict[Fraction, int] = {
            _num_key(v): self.n_str + i for i, v in enumerate(self.numbers)
        }

    # ----------------------------------------------------------------- codes
    def code(self, text: str) -> int:
        """The code of a string of the domain."""
        try:
            return self._code[text]
        except KeyError:
            raise KeyError(f"string {text!r} is not in the symbolic value domain") from None

    def has(self, text: str) -> bool:
        """Whether ``text`` is in the domain."""
        return text in self._code

    def value_code(self, value: Any) -> int | None:
        """The value code of a Python attribute value, or None when it is not representable."""
        if isinstance(value, bool):
            return self.true_code if value else self.false_code
        if isinstance(value, str):
            return self._code.get(value)
        if isinstance(value, int | float):
            return self._num_code.get(_num_key(value))
        return None

    def decode(self, code: int) -> Any:
        """The Python value of a value code (``None`` for absent, -1)."""
        if code < 0:
            return None
        if code < self.n_str:
            return self.strings[code]
        if code < self.false_code:
            return self.numbers[code - self.n_str]
        return code == self.true_code

    # ----------------------------------------------------------------- tables
    def str_table(self, code: Num, fn: Any) -> Any:
        """``fn(s)`` for the string with code ``code``, as a term (grouped by result)."""
        if isinstance(code, int):
            return fn(self.strings[code])
        groups: dict[Any, list[int]] = {}
        for i, s in enumerate(self.strings):
            groups.setdefault(fn(s), []).append(i)
        return self._select(code, groups)

    def str_set(self, code: Num, pred: Any) -> Bool:
        """Whether the string with code ``code`` satisfies ``pred``."""
        if isinstance(code, int):
            return bool(pred(self.strings[code]))
        members = [i for i, s in enumerate(self.strings) if pred(s)]
        return in_codes(code, members)

    def value_table(self, code: Num, fn: Any, codes: Iterable[int]) -> Any:
        """``fn(decode(c))`` over the value codes ``codes`` (grouped by result)."""
        if isinstance(code, int):
            return fn(self.decode(code))
        groups: dict[Any, list[int]] = {}
        for c in codes:
            groups.setdefault(fn(self.decode(c)), []).append(c)
        return self._select(code, groups)

    @staticmethod
    def _select(code: Any, groups: dict[Any, list[int]]) -> Any:
        items = sorted(groups.items(), key=lambda kv: -len(kv[1]))
        out = items[0][0]
        for value, members in items[1:]:
            out = ite(in_codes(code, members), value, out)
        return out

    def number_codes(self) -> range:
        """The value codes of numbers."""
        return range(self.n_str, self.false_code)

    def __repr__(self) -> str:
        return f"ValueDomain({self.n_str} strings, {self.n_num} numbers)"


def in_codes(code: Num, members: list[int]) -> Bool:
    """``code`` is one of ``members`` (sorted runs become range tests)."""
    if isinstance(code, int):
        return code in members
    runs: list[tuple[int, int]] = []
    for m in sorted(set(members)):
        if runs and runs[-1][1] == m - 1:
            runs[-1] = (runs[-1][0], m)
        else:
            runs.append((m, m))
    parts: list[Bool] = []
    for lo, hi in runs:
        parts.append(code == lo if lo == hi else z3.And(code >= lo, code <= hi))
    return bor(*parts)
