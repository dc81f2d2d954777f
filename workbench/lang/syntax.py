"""The grammar (``grammar.lark``), its reserved words, and lark errors in user words."""

from __future__ import annotations

import functools
import re
from pathlib import Path

from lark import Lark, Token
from lark.exceptions import UnexpectedInput, UnexpectedToken

from workbench.errors import SourcePos, SpecSyntaxError
from workbench.lang.source import Source

GRAMMAR_FILE = Path(__file__).with_name("grammar.lark")


@functools.cache
def lark_parser() -> Lark:
    """The shared LALR parser (built once; about 0.1 s, or a few ms from lark's own cache of
    the parse tables, a file in the temp directory keyed by the grammar's hash)."""
    return Lark(
        GRAMMAR_FILE.read_text(encoding="utf-8"),
        parser="lalr",
        lexer="contextual",
        start=["start", "expr", "literal"],
        propagate_positions=True,
        maybe_placeholders=True,
        cache=True,
    )


@functools.cache
def keywords() -> frozenset[str]:
    """Reserved words: every identifier-like literal of the grammar (``forall``, ``spans``...)."""
    return frozenset(
        t.pattern.value
        for t in lark_parser().terminals
        if t.pattern.type == "str" and re.fullmatch(r"[a-z_]+", t.pattern.value)
    )


# --------------------------------------------------------------------------- syntax errors

_TERMINAL_WORDS = {
    "NAME": "a name",
    "NUMBER": "a number",
    "DURATION": "a duration",
    "STRING": "a string",
    "TEMPLATE": "a message string",
    "DOC_COMMENT": "a /// doc comment",
    "CMP_OP": "a comparison (== != < <= > >=)",
    "$END": "end of input",
}


@functools.cache
def _terminal_words() -> dict[str, str]:
    words = dict(_TERMINAL_WORDS)
    for t in lark_parser().terminals:
        if t.pattern.type == "str":
            words[t.name] = f"'{t.pattern.value}'"
    return words


@functools.cache
def _expression_starts() -> frozenset[str]:
    return frozenset(lark_parser().parse_interactive("", start="expr").accepts())


def _describe(tok: Token) -> str:
    if tok.type == "$END":
        return "end of input"
    if tok.type in ("STRING", "TEMPLATE"):
        return "string"
    return f"`{tok.value}`"


def expected_words(expected: set[str] | frozenset[str]) -> str:
    """Terminal names -> ``one of: ':', 'where'`` (or ``an expression``) in user words."""
    words = _terminal_words()
    names = set(expected)
    out: list[str] = []
    if {"NAME", "NUMBER"} <= names:
        names -= _expression_starts()
        out.append("an expression")
    out += sorted(words.get(n, n) for n in names)
    if len(out) == 1:
        return out[0]
    return "one of: " + ", ".join(out)


def _end_pos(text: str, file: str) -> SourcePos:
    stripped = text.rstrip()
    line = stripped.count("\n") + 1
    column = len(stripped) - (stripped.rfind("\n") + 1) + 1
    return SourcePos(file, line, column)


def _expected(exc: UnexpectedInput) -> set[str]:
    """Terminals that would have been accepted (simulated on the parser state when possible:
    LALR tables merge look-aheads of different contexts, the simulation does not)."""
    parser = getattr(exc, "interactive_parser", None)
    accepted: set[str] = set(parser.accepts()) if parser is not None else set()
    if not accepted:
        accepted = set(getattr(exc, "expected", None) or getattr(exc, "allowed", None) or ())
    if not accepted and parser is not None:
        accepted = {"$END"}  # fully reduced: only the end could follow
    return accepted


def syntax_error(exc: UnexpectedInput, text: str, source: Source) -> SpecSyntaxError:
    """Convert a lark error into a positioned :class:`SpecSyntaxError` with a hint."""
    expected = _expected(exc)
    hint = "expected " + expected_words(expected) if expected else None
    if isinstance(exc, UnexpectedToken):
        tok = exc.token
        pos = _end_pos(text, source.file) if tok.type == "$END" else source.pos(tok)
        message = f"unexpected {_describe(tok)}"
        if tok.type in ("CMP_OP", "IN", "MATCHES", "HB") and "CMP_OP" not in expected:
            hint = (
                hint + "; " if hint else ""
            ) + "comparisons do not chain: combine them with `and`"
        if tok.type == "DOC_COMMENT" or (tok.type == "IMPORT" and "PROPERTY" in expected):
            hint = "a /// doc comment must come right before a property, let or param"
    else:
        pos = SourcePos(source.file, int(exc.line), int(exc.column))
        at = int(exc.pos_in_stream or 0)
        char = text[at] if at < len(text) else ""
        message = f"unexpected character {char!r}"
        if char == '"':
            message = "unterminated string, or a malformed message template"
            hint = "strings end on the same line; in messages write `{{`/`}}` for literal braces"
    err = source.error(SpecSyntaxError, message, pos, hint)
    assert isinstance(err, SpecSyntaxError)
    return err
