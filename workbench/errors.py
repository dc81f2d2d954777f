"""One exception tree for every user-facing error.

Every error carries *where*: a source position in a spec file (``file:line:col``) or a
record path in a trace file (``file: resourceSpans[0].scopeSpans[1].spans[3].spanId``).
The CLI prints ``str(error)`` and exits with status 2 for these.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SourcePos:
    """A position in a source text (1-based line and column)."""

    file: str
    line: int
    column: int
    end_line: int | None = None
    end_column: int | None = None

    def __str__(self) -> str:
        return f"{self.file or '<string>'}:{self.line}:{self.column}"


class OtlspecError(Exception):
    """Base class of all otlspec errors meant for users."""


class SpecError(OtlspecError):
    """An error in a spec: syntax, name resolution or typing.

    Parameters
    ----------
    message:
        What is wrong, in one sentence.
    pos:
        Where it is, when known.
    source_line:
        The text of the offending line, for the caret display.
    hint:
        What to do about it (expected tokens, a suggestion).
    """

    kind = "error"

    def __init__(
        self,
        message: str,
        pos: SourcePos | None = None,
        source_line: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.message = message
        self.pos = pos
        self.source_line = source_line
        self.hint = hint
        super().__init__(self.render())

    def render(self) -> str:
        where = f"{self.pos}: " if self.pos else ""
        out = f"{where}{self.kind}: {self.message}"
        if self.source_line is not None and self.pos is not None:
            out += "\n    " + self.source_line.rstrip("\n")
            width = 1
            if self.pos.end_line == self.pos.line and self.pos.end_column:
                width = max(1, self.pos.end_column - self.pos.column)
            out += "\n    " + " " * (self.pos.column - 1) + "^" * width
        if self.hint:
            out += f"\n  hint: {self.hint}"
        return out


class SpecSyntaxError(SpecError):
    """The spec text does not parse."""

    kind = "syntax error"


class SpecTypeError(SpecError):
    """The spec parses but is ill-typed or names something unknown."""

    kind = "type error"


class SpecImportError(SpecError):
    """An ``import`` cannot be resolved or is cyclic."""

    kind = "import error"


class SpecFileError(SpecError):
    """A spec file (or directory) that cannot be read: missing, unreadable, empty directory.

    Rendered as ``PATH: error: MESSAGE`` with an optional hint.
    """

    def __init__(self, path: str, message: str, hint: str | None = None) -> None:
        self.path = path
        super().__init__(message, None, None, hint)

    def render(self) -> str:
        out = f"{self.path}: {self.kind}: {self.message}"
        if self.hint:
            out += f"\n  hint: {self.hint}"
        return out


class ParamError(OtlspecError):
    """A ``--param NAME=VALUE`` override names no param or has the wrong type."""


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """A problem found while reading trace input; loaders collect these instead of raising.

    ``severity`` is ``"error"`` when a record (or the whole file) could not be read at all and
    ``"warning"`` when it was read with a repair (for example a duplicate span joined).
    ``path`` is the record path inside the file, e.g.
    ``resourceSpans[0].scopeSpans[0].spans[2].endTimeUnixNano``.
    """

    file: str
    path: str
    message: str
    severity: str = "error"
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        where = self.file or "<stdin>"
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        if self.path:
            where += f": {self.path}"
        return f"{where}: {self.severity}: {self.message}"


class TraceInputError(OtlspecError):
    """No trace could be read from the input at all (every record failed, or no such file)."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        self.diagnostics = diagnostics
        super().__init__("\n".join(str(d) for d in diagnostics) or "no trace input")


class ArgumentError(OtlspecError, TypeError):
    """A public API function got an argument of the wrong type or value (the message names
    the argument and what it takes). A ``TypeError`` too, as Python callers expect."""


class BackendError(OtlspecError):
    """A backend cannot compile or run a property."""
