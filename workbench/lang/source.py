"""Source texts, the side table of source positions, and the raw (untyped) file structure.

The parser (:mod:`workbench.lang.parser`) fills these; the type checker reads them. Positions
never enter the IR (nodes compare structurally): :class:`PosTable` keys them by node identity.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from workbench.errors import SourcePos, SpecError
from workbench.lang import ir
from workbench.lang.ir import Node

# --------------------------------------------------------------------------- positions


@dataclass
class Source:
    """A source text with its file name, for positions and caret displays."""

    file: str
    text: str
    lines: list[str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.lines = self.text.split("\n")

    def line(self, number: int) -> str | None:
        """The text of a 1-based line (tabs shown as spaces so carets line up)."""
        if 1 <= number <= len(self.lines):
            return self.lines[number - 1].rstrip("\r").replace("\t", " ")
        return None

    def error(
        self, cls: type[SpecError], message: str, pos: SourcePos | None, hint: str | None = None
    ) -> SpecError:
        """Build a positioned error of class ``cls``."""
        return cls(message, pos, self.line(pos.line) if pos else None, hint)

    def pos(self, item: Any) -> SourcePos:
        """The position of a lark token or rule ``meta``."""
        return SourcePos(
            self.file,
            int(item.line),
            int(item.column),
            getattr(item, "end_line", None),
            getattr(item, "end_column", None),
        )


class PosTable:
    """Source positions of IR nodes, keyed by node identity.

    ``span`` is the extent of the whole construct; ``anchor`` (optional) is the token an error
    about the node should point at (an operator, a field name, a function name).
    """

    def __init__(self) -> None:
        self._span: dict[int, SourcePos] = {}
        self._anchor: dict[int, SourcePos] = {}
        self._parts: dict[tuple[int, str], SourcePos] = {}
        self._keep: list[object] = []  # keeps ids unique while the table lives

    def add(self, node: object, span: SourcePos, anchor: SourcePos | None = None) -> None:
        """Record where ``node`` came from."""
        self._keep.append(node)
        self._span[id(node)] = span
        if anchor is not None:
            self._anchor[id(node)] = anchor

    def span(self, node: object) -> SourcePos | None:
        """The extent of ``node``, if known."""
        return self._span.get(id(node))

    def anchor(self, node: object) -> SourcePos | None:
        """The anchor token of ``node``, else its extent."""
        return self._anchor.get(id(node)) or self._span.get(id(node))

    def add_part(self, node: object, part: str, pos: SourcePos) -> None:
        """Record the position of a named part of ``node`` (an interval bound)."""
        self._keep.append(node)
        self._parts[(id(node), part)] = pos

    def part(self, node: object, part: str) -> SourcePos | None:
        """The position of a named part of ``node``, else of ``node`` itself."""
        return self._parts.get((id(node), part)) or self.span(node)

    def copy(self, old: object, new: object) -> None:
        """Give ``new`` the positions of ``old`` (used when a pass rebuilds a node); a node
        that has positions keeps them (a shared, interned node points at its first
        occurrence)."""
        if new is old or id(old) not in self._span or id(new) in self._span:
            return
        self.add(new, self._span[id(old)], self._anchor.get(id(old)))


# --------------------------------------------------------------------------- raw file


@dataclass
class RawImport:
    """``import "path"`` (kind ``path``) or ``import stdlib.x`` (kind ``module``)."""

    kind: str
    target: str
    pos: SourcePos
    lines: tuple[int, int] = (0, 0)  # first and last source line


@dataclass
class RawDecl:
    """A ``let`` or ``param`` with the position of its name."""

    param: ir.Param
    pos: SourcePos
    lines: tuple[int, int] = (0, 0)


@dataclass
class RawProperty:
    """A property before typing."""

    name: str
    pos: SourcePos
    formula: Node
    severity: str = "error"
    message: ir.Template | None = None
    tags: tuple[str, ...] = ()
    doc: str = ""
    lines: tuple[int, int] = (0, 0)


@dataclass
class RawFile:
    """One parsed spec file, before imports are resolved and formulas typed."""

    name: str
    description: str
    imports: list[RawImport]
    decls: list[RawDecl]
    properties: list[RawProperty]
    source: Source
    positions: PosTable
    header_lines: tuple[int, int] | None = None
    #: Places whose meaning changed when ``not`` came to bind tighter than ``until``/``since``
    #: (``lint`` reports them; see :meth:`workbench.lang.builder.Builder.binary_temporal`).
    precedence_changes: list[PrecedenceChange] = field(default_factory=list)


@dataclass(frozen=True)
class PrecedenceChange:
    """``not P until Q`` written without parentheses: it now reads ``(not P) until Q``;
    before the precedence change it read ``not (P until Q)``."""

    pos: SourcePos
    op: str  # until / since

    @property
    def message(self) -> str:
        """The lint message."""
        return (
            f"`not P {self.op} Q` now reads `(not P) {self.op} Q`: `not` binds tighter than "
            f"`{self.op}`; before, it read `not (P {self.op} Q)`. Add parentheses to say which "
            "you mean (`otlspec fmt` writes the current reading)"
        )

