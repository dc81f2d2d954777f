"""Text to raw IR: the lark front end of otlspec.

The grammar lives in ``grammar.lark`` (LALR(1), contextual lexer; :mod:`.syntax` loads it and
words its errors). :class:`~workbench.lang.builder.Builder` turns the parse tree into IR nodes,
one callback per grammar rule or alias, with an explicit stack instead of recursion. The
result is *raw*: bare names are still :class:`~workbench.lang.ir.Var` nodes and attribute
scopes are not yet known; :mod:`workbench.lang.typecheck` resolves and types it. Source
positions never enter the IR (nodes compare structurally); they live in a
:class:`~workbench.lang.source.PosTable` keyed by node identity.

This module holds the entry points and re-exports the front end's public names.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lark.exceptions import UnexpectedInput

from workbench.errors import SourcePos, SpecFileError, SpecSyntaxError
from workbench.lang.builder import MAX_DEPTH, SEVERITIES, Builder, check_depth
from workbench.lang.functions import AGGREGATES, FUNCTIONS, SCALAR_FUNCTIONS, did_you_mean
from workbench.lang.ir import Const
from workbench.lang.source import PosTable, RawDecl, RawFile, RawImport, RawProperty, Source
from workbench.lang.syntax import (
    GRAMMAR_FILE,
    expected_words,
    keywords,
    lark_parser,
    syntax_error,
)

#: The builder under its former private name (tests check it has a callback per rule).
_Builder = Builder

__all__ = [
    "AGGREGATES",
    "FUNCTIONS",
    "GRAMMAR_FILE",
    "MAX_DEPTH",
    "SCALAR_FUNCTIONS",
    "SEVERITIES",
    "Builder",
    "PosTable",
    "RawDecl",
    "RawFile",
    "RawImport",
    "RawProperty",
    "Source",
    "did_you_mean",
    "expected_words",
    "keywords",
    "lark_parser",
    "parse_file",
    "parse_literal",
    "parse_raw",
    "read_source",
    "syntax_error",
]

# --------------------------------------------------------------------------- entry points


def parse_raw(text: str, start: str, source: Source, positions: PosTable) -> Any:
    """Parse ``text`` from grammar rule ``start`` into raw IR, recording positions.

    ``source`` supplies the file name and the lines shown in error messages (``text`` may be
    a padded copy of a fragment of it, e.g. a message hole).
    """
    try:
        tree = lark_parser().parse(text, start=start)
    except UnexpectedInput as exc:
        raise syntax_error(exc, text, source) from None
    def hole(padded: str) -> Any:
        return parse_raw(padded, "expr", source, positions)

    result = Builder(source, positions, hole).transform(tree)
    if start == "expr":
        check_depth(result, source, positions)
    return result


def read_source(path: Path, name: str | None = None) -> str:
    """The text of a spec file, decoded as UTF-8.

    Raises
    ------
    SpecFileError
        The file is missing or unreadable (``name: error: ...``).
    SpecSyntaxError
        The bytes are not UTF-8, at the ``file:line:col`` of the first bad byte.
    """
    shown = name if name is not None else str(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise SpecFileError(
            shown,
            "no such spec file",
            "give an existing *.otlspec file, a directory of them, or `stdlib` / `stdlib.MODULE`",
        ) from None
    except IsADirectoryError:
        raise SpecFileError(shown, "is a directory, not a spec file") from None
    except OSError as exc:
        raise SpecFileError(shown, f"cannot read: {exc.strerror or exc}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        start = data.rfind(b"\n", 0, exc.start) + 1
        line = data.count(b"\n", 0, exc.start) + 1
        column = len(data[start : exc.start].decode("utf-8", "replace")) + 1
        end = data.find(b"\n", exc.start)
        text = data[start : end if end >= 0 else len(data)].decode("utf-8", "replace")
        raise SpecSyntaxError(
            f"invalid UTF-8 (byte 0x{data[exc.start]:02x}): spec files are UTF-8 text",
            SourcePos(shown, line, column),
            text.replace("\t", " "),
            "re-save the file as UTF-8",
        ) from None


def parse_file(text: str, file: str = "<string>") -> RawFile:
    """Parse a spec file's text (syntax only: no imports, no types)."""
    source = Source(file, text)
    result = parse_raw(text, "start", source, PosTable())
    assert isinstance(result, RawFile)
    return result


def parse_literal(text: str) -> Const:
    """Parse a literal (``10ms``, ``-3``, ``"x"``, ``true``, ``CLIENT``); raises SpecError."""
    result = parse_raw(text, "literal", Source("<param>", text), PosTable())
    assert isinstance(result, Const)
    return result
