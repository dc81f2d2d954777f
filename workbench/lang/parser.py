"""Text to raw IR: the lark front end of otlspec.

The grammar lives in ``grammar.lark`` (LALR(1), contextual lexer). :class:`_Builder` turns the
parse tree into IR nodes, one callback per grammar rule or alias. The result is *raw*: bare
names are still :class:`~workbench.lang.ir.Var` nodes and attribute scopes are not yet known;
:mod:`workbench.lang.typecheck` resolves and types it. Source positions never enter the IR
(nodes compare structurally); they live in a :class:`PosTable` keyed by node identity.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedInput, UnexpectedToken

from workbench.errors import (
    SourcePos,
    SpecError,
    SpecFileError,
    SpecSyntaxError,
    SpecTypeError,
)
from workbench.lang import ir
from workbench.lang.ir import RELATIONS, Const, Node, Type, Var
from workbench.lang.printer import duration_ns, enum_const, escape_at, number_const, unescape
from workbench.lang.walk import child_fields, postorder

GRAMMAR_FILE = Path(__file__).with_name("grammar.lark")

#: Scalar built-in functions and their arity.
SCALAR_FUNCTIONS: dict[str, int] = {
    "len": 1,
    "lower": 1,
    "upper": 1,
    "abs": 1,
    "canon": 1,
    "luhn": 1,
    "str": 1,
}
#: Aggregate functions.
AGGREGATES: tuple[str, ...] = ("count", "sum", "min", "max", "avg", "distinct")
#: Every name usable as ``name(...)``.
FUNCTIONS: tuple[str, ...] = (
    *AGGREGATES,
    *RELATIONS,
    "events",
    "start",
    "end",
    "event",
    "has",
    "hb",
    *SCALAR_FUNCTIONS,
)
SEVERITIES: tuple[str, ...] = ("error", "warning", "info")
#: How deeply a formula may nest (after ``and``/``or`` chains are flattened and parentheses
#: dropped). The type checker, the passes and the backends recurse on the IR; past this depth
#: the parser reports a located error instead of letting them hit Python's recursion limit.
MAX_DEPTH = 200
_NO_INTERVAL = frozenset({"next", "wnext", "previously"})


@functools.cache
def lark_parser() -> Lark:
    """The shared LALR parser (built once; about 0.1 s)."""
    return Lark(
        GRAMMAR_FILE.read_text(encoding="utf-8"),
        parser="lalr",
        lexer="contextual",
        start=["start", "expr", "literal"],
        propagate_positions=True,
        maybe_placeholders=True,
    )


@functools.cache
def keywords() -> frozenset[str]:
    """Reserved words: every identifier-like literal of the grammar (``forall``, ``spans``...)."""
    return frozenset(
        t.pattern.value
        for t in lark_parser().terminals
        if t.pattern.type == "str" and re.fullmatch(r"[a-z_]+", t.pattern.value)
    )


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
        """Give ``new`` the positions of ``old`` (used when a pass rebuilds a node)."""
        if new is old or id(old) not in self._span:
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


def _match_brace(raw: str, i: int) -> int:
    """Index of the ``}`` closing the ``{`` at ``raw[i]`` (skipping string literals)."""
    depth = 0
    while i < len(raw):
        c = raw[i]
        if c == '"':
            i += 1
            while raw[i] != '"':
                i += 2 if raw[i] == "\\" else 1
        elif c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    raise AssertionError("the TEMPLATE terminal guarantees balanced braces")


# --------------------------------------------------------------------------- the builder


def _negative(const: Const) -> Const:
    assert isinstance(const.value, int | float)
    return Const(-const.value, const.type)


def _lines(meta: Any) -> tuple[int, int]:
    return (meta.line, meta.end_line)


def _flat(node: Node, cls: type[ir.And] | type[ir.Or]) -> tuple[Node, ...]:
    return node.args if isinstance(node, cls) else (node,)


class _Builder:
    """Parse tree -> raw IR. One method per grammar rule / alias (see grammar.lark), called
    as ``method(meta, children)`` with the children already built.

    :meth:`transform` walks the tree with an explicit stack, not by recursion, so a flat chain
    of thousands of ``and``s or hundreds of nested parentheses builds without a RecursionError.
    """

    def __init__(self, source: Source, positions: PosTable) -> None:
        self.src = source
        self.positions = positions
        self.parens: set[int] = set()  # nodes written in parentheses
        self.literals: set[int] = set()  # numeric constants written as one token

    def transform(self, tree: Tree[Token]) -> Any:
        """Build ``tree`` bottom-up, left to right (the order a recursive transformer takes)."""
        order: list[Tree[Token]] = []
        todo = [tree]
        while todo:  # pre-order, last child first: reversed, it is a left-to-right post-order
            node = todo.pop()
            order.append(node)
            todo.extend(c for c in node.children if isinstance(c, Tree))
        built: dict[int, Any] = {}
        for node in reversed(order):
            children = [built.pop(id(c)) if isinstance(c, Tree) else c for c in node.children]
            callback = getattr(self, str(node.data), None)
            if callback is None:  # every rule has one (tests/lang checks); keep the tree else
                built[id(node)] = Tree(node.data, children, node.meta)
            else:
                built[id(node)] = callback(node.meta, children)
        return built[id(tree)]

    # ---- helpers
    def _at(self, node: Node, where: Any, anchor: Any = None) -> Node:
        self.positions.add(
            node, self.src.pos(where), self.src.pos(anchor) if anchor is not None else None
        )
        return node

    def _err(
        self, message: str, where: Any, hint: str | None = None, syntax: bool = False
    ) -> SpecError:
        cls = SpecSyntaxError if syntax else SpecTypeError
        pos = where if isinstance(where, SourcePos) else self.src.pos(where)
        return self.src.error(cls, message, pos, hint)

    def _where(self, node: Node, default: Any) -> SourcePos:
        return self.positions.span(node) or self.src.pos(default)

    def _var(self, node: Node, what: str, meta: Any) -> Var:
        if isinstance(node, Var):
            return node
        raise self._err(
            f"{what} takes a span variable, not an expression",
            self._where(node, meta),
            "bind one first, e.g. `forall p in parent(s): ...`",
        )

    def _name(self, tok: Token) -> str:
        if tok.value in keywords():
            raise self._err(f"`{tok.value}` is a reserved word", tok, syntax=True)
        return str(tok.value)

    # ---- file structure
    def start(self, meta: Any, ch: list[Any]) -> RawFile:
        header = ch[0] or ("", "", None)
        items = ch[1:]
        return RawFile(
            header[0],
            header[1],
            [i for i in items if isinstance(i, RawImport)],
            [i for i in items if isinstance(i, RawDecl)],
            [i for i in items if isinstance(i, RawProperty)],
            self.src,
            self.positions,
            header[2],
        )

    def header(self, meta: Any, ch: list[Any]) -> tuple[str, str, tuple[int, int]]:
        desc = unescape(ch[1].value[1:-1]) if ch[1] is not None else ""
        return str(ch[0].value), desc, _lines(meta)

    def import_path(self, meta: Any, ch: list[Token]) -> RawImport:
        return RawImport("path", unescape(ch[0].value[1:-1]), self.src.pos(meta), _lines(meta))

    def import_module(self, meta: Any, ch: list[Token]) -> RawImport:
        return RawImport("module", ".".join(t.value for t in ch), self.src.pos(meta), _lines(meta))

    def docs(self, meta: Any, ch: list[Token]) -> str:
        lines = []
        for tok in ch:
            line = tok.value[3:].rstrip("\r")
            lines.append(line[1:] if line.startswith(" ") else line)
        return "\n".join(lines)

    def decl(self, meta: Any, ch: list[Any]) -> RawDecl:
        doc, kind, name, value = ch
        param = ir.Param(self._name(name), value, kind.type == "PARAM", doc or "")
        return RawDecl(param, self.src.pos(name), _lines(meta))

    def property(self, meta: Any, ch: list[Any]) -> RawProperty:
        doc, name, *items = ch
        seen: dict[str, Any] = {}
        for kind, value, pos in items:
            if kind in seen or (kind == "doc" and doc is not None):
                raise self._err(f"`{kind}` given twice in property `{name}`", pos, syntax=True)
            seen[kind] = value
        if doc is not None:
            seen["doc"] = doc
        if "check" not in seen:
            raise self._err(
                f"property `{name}` has no `check`", name, "add `check <formula>`", syntax=True
            )
        return RawProperty(
            str(name.value),
            self.src.pos(name),
            seen["check"],
            seen.get("severity", "error"),
            seen.get("message"),
            seen.get("tags", ()),
            seen.get("doc", ""),
            _lines(meta),
        )

    def severity(self, meta: Any, ch: list[Token]) -> tuple[str, str, SourcePos]:
        if ch[0].value not in SEVERITIES:
            raise self._err(
                f"unknown severity `{ch[0].value}`", ch[0], "use one of: error, warning, info"
            )
        return ("severity", str(ch[0].value), self.src.pos(meta))

    def message(self, meta: Any, ch: list[Token]) -> tuple[str, ir.Template, SourcePos]:
        return ("message", self._template(ch[0]), self.src.pos(meta))

    def tags(self, meta: Any, ch: list[Token]) -> tuple[str, tuple[str, ...], SourcePos]:
        values = tuple(unescape(t.value[1:-1]) if t.type == "STRING" else str(t.value) for t in ch)
        return ("tags", values, self.src.pos(meta))

    def check(self, meta: Any, ch: list[Node]) -> tuple[str, Node, SourcePos]:
        _check_depth(ch[0], self.src, self.positions)
        return ("check", ch[0], self.src.pos(meta))

    def doc(self, meta: Any, ch: list[Token]) -> tuple[str, str, SourcePos]:
        return ("doc", unescape(ch[0].value[1:-1]), self.src.pos(meta))

    def _template(self, tok: Token) -> ir.Template:
        raw: str = tok.value
        line, first = int(tok.line or 1), int(tok.column or 1)
        parts: list[str | Node] = []
        buf: list[str] = []
        i, end = 1, len(raw) - 1
        while i < end:
            c = raw[i]
            if c == "\\":
                text, length = escape_at(raw, i)
                buf.append(text)
                i += length
            elif c in "{}" and raw[i + 1] == c:
                buf.append(c)
                i += 2
            elif c == "{":
                j = _match_brace(raw, i)
                hole = raw[i + 1 : j]
                column = first + i + 1
                if not hole.strip():
                    raise self._err(
                        "empty `{}` in a message",
                        SourcePos(self.src.file, line, column - 1, line, column + 1),
                        "write `{{}}` for literal braces",
                        syntax=True,
                    )
                if buf:
                    parts.append("".join(buf))
                    buf = []
                padded = "\n" * (line - 1) + " " * (column - 1) + hole
                parts.append(parse_raw(padded, "expr", self.src, self.positions))
                i = j + 1
            else:
                buf.append(c)
                i += 1
        if buf:
            parts.append("".join(buf))
        return ir.Template(tuple(parts))

    # ---- connectives and quantifiers
    def implies(self, meta: Any, ch: list[Node]) -> Node:
        return self._at(ir.Implies(ch[0], ch[1]), meta)

    def or_(self, meta: Any, ch: list[Node]) -> Node:
        return self._at(ir.Or(_flat(ch[0], ir.Or) + _flat(ch[1], ir.Or)), meta)

    def and_(self, meta: Any, ch: list[Node]) -> Node:
        return self._at(ir.And(_flat(ch[0], ir.And) + _flat(ch[1], ir.And)), meta)

    def not_(self, meta: Any, ch: list[Node]) -> Node:
        return self._at(ir.Not(ch[0]), meta)

    def binder(self, meta: Any, ch: list[Any]) -> tuple[str, Node, Any]:
        return (self._name(ch[0]), ch[1], meta)

    def quant(self, meta: Any, ch: list[Any]) -> Node:
        kind, *binders, guard, body = ch
        node: Node = body
        for i, (name, domain, bmeta) in enumerate(reversed(binders)):
            node = ir.Quant(kind.value, name, domain, guard if i == 0 else None, node)
            self._at(node, meta if i == len(binders) - 1 else bmeta, kind)
        return node

    # ---- temporal
    def unary_temporal(self, meta: Any, ch: list[Any]) -> Node:
        op, interval, arg = ch
        if interval is not None and op.value in _NO_INTERVAL:
            raise self._err(f"`{op.value}` takes no interval", self._where(interval, meta))
        return self._at(ir.Temporal(op.value, (arg,), interval or ir.Interval()), meta, op)

    def binary_temporal(self, meta: Any, ch: list[Any]) -> Node:
        left, op, interval, right = ch
        return self._at(ir.Temporal(op.value, (left, right), interval or ir.Interval()), meta, op)

    def interval(self, meta: Any, ch: list[Token]) -> Node:
        values: list[int | None] = []
        names: list[str | None] = []
        for side, tok in zip(("lower", "upper"), ch, strict=True):
            name: str | None = None
            value: int | None = 0
            if tok.type == "DURATION":
                value = self._duration(tok)
            elif tok.type == "NUMBER":
                if tok.value.strip("0") not in ("", "."):
                    raise self._err(
                        "interval bounds are durations",
                        tok,
                        f"write a unit, e.g. `{tok.value}ms`",
                    )
            elif tok.type == "INF":
                if side == "lower":
                    raise self._err("the lower bound of an interval cannot be `inf`", tok)
                value = None
            else:
                name = str(tok.value)  # resolved (and checked) by the type checker
            values.append(value)
            names.append(name)
        lo, hi = values
        assert lo is not None
        if hi is not None and not any(names) and lo > hi:
            raise self._err("empty interval: the lower bound exceeds the upper bound", meta)
        node = ir.Interval(lo, hi, names[0], names[1])
        self._at(node, meta)
        for tok, part in zip(ch, ("lo", "hi"), strict=True):
            self.positions.add_part(node, part, self.src.pos(tok))
        return node

    # ---- comparisons
    def compare(self, meta: Any, ch: list[Any]) -> Node:
        return self._at(ir.Compare(ch[1].value, ch[0], ch[2]), meta, ch[1])

    def match(self, meta: Any, ch: list[Any]) -> Node:
        pattern = unescape(ch[1].value[1:-1])
        try:
            re.compile(pattern)
        except re.error as exc:
            raise self._err(f"bad regular expression: {exc}", ch[1]) from None
        return self._at(ir.Match(ch[0], pattern), meta)

    def in_(self, meta: Any, ch: list[Node]) -> Node:
        if not isinstance(ch[0], Var):
            raise self._err(
                "the left side of `in` must be a variable when the right side is a set",
                self._where(ch[0], meta),
                'to test a value against constants write a list: `x in ["a", "b"]`',
            )
        return self._at(ir.Member(ch[0], ch[1]), meta)

    def in_list(self, meta: Any, ch: list[Any]) -> Node:
        return self._at(ir.InList(ch[0], ch[1]), meta)

    def hb(self, meta: Any, ch: list[Node]) -> Node:
        return self._at(
            ir.HappensBefore(self._var(ch[0], "`hb`", meta), self._var(ch[1], "`hb`", meta)), meta
        )

    # ---- arithmetic and terms
    def arith(self, meta: Any, ch: list[Any]) -> Node:
        return self._at(ir.Arith(ch[1].value, ch[0], ch[2]), meta, ch[1])

    def negate(self, meta: Any, ch: list[Any]) -> Node:
        arg = ch[1]
        if isinstance(arg, Const) and id(arg) in self.literals and id(arg) not in self.parens:
            return self._at(_negative(arg), meta)
        return self._at(ir.Neg(arg), meta)

    def field(self, meta: Any, ch: list[Any]) -> Node:
        base = ch[0]
        if not isinstance(base, Var):
            raise self._err(
                f"only span and event variables have fields (`.{ch[1].value}`)",
                self._where(base, meta),
                "bind the span first, e.g. `forall p in parent(s): p.name == ...`",
            )
        return self._at(ir.Field(base, str(ch[1].value)), meta, ch[1])

    def attr(self, meta: Any, ch: list[Any]) -> Node:
        base, kw, key = ch
        if not isinstance(base, Var):
            raise self._err(
                f"only span and event variables have `.{kw.value}`", self._where(base, meta)
            )
        scope: Any = "resource" if kw.type == "RESOURCE" else "span"
        return self._at(ir.Attr(base, unescape(key.value[1:-1]), scope), meta, kw)

    def name(self, meta: Any, ch: list[Token]) -> Node:
        return self._at(Var(str(ch[0].value)), meta)

    def spans(self, meta: Any, ch: list[Token]) -> Node:
        return self._at(ir.Spans(), meta)

    def roots(self, meta: Any, ch: list[Token]) -> Node:
        return self._at(ir.Roots(), meta)

    def paren(self, meta: Any, ch: list[Node]) -> Node:
        self.parens.add(id(ch[0]))
        return ch[0]

    def arglist(self, meta: Any, ch: list[Node]) -> list[Node]:
        return list(ch)

    def comprehension(self, meta: Any, ch: list[Any]) -> Node:
        name, domain, guard = ch
        var = self._name(name)
        if guard is None:
            return domain  # {x in S} is S
        return self._at(ir.Comprehension(var, domain, guard), meta)

    def call(self, meta: Any, ch: list[Any]) -> Node:
        tok, args, guard, body = ch
        fname, args = str(tok.value), args or []
        if fname in AGGREGATES:
            return self._at(self._aggregate(fname, args, guard, body, meta, tok), meta, tok)
        if guard is not None or body is not None:
            raise self._err(f"`where` and `:` belong to aggregates, not to `{fname}()`", meta)
        arity = SCALAR_FUNCTIONS.get(fname, 2 if fname == "hb" else 1)
        if fname == "event" and len(args) in (1, 2):
            arity = len(args)
        if fname in FUNCTIONS and len(args) != arity:
            count = "1 or 2 arguments" if fname == "event" else _plural(arity, "argument")
            raise self._err(f"{fname}() takes {count}, got {len(args)}", tok)
        node: Node
        if fname in RELATIONS:
            node = ir.Rel(fname, self._var(args[0], f"{fname}()", meta))
        elif fname == "events":
            node = ir.Events(self._var(args[0], "events()", meta))
        elif fname == "start":
            node = ir.StartOf(self._var(args[0], "start()", meta))
        elif fname == "end":
            node = ir.EndOf(self._var(args[0], "end()", meta))
        elif fname == "event":
            name: str | None = None
            if len(args) == 2:
                if not (isinstance(args[1], Const) and args[1].type is Type.STR):
                    raise self._err(
                        "the event name must be a string literal", self._where(args[1], meta)
                    )
                name = str(args[1].value)
            node = ir.EventOf(self._var(args[0], "event()", meta), name)
        elif fname == "has":
            node = ir.Has(args[0])
        elif fname == "hb":
            node = ir.HappensBefore(
                self._var(args[0], "hb()", meta), self._var(args[1], "hb()", meta)
            )
        elif fname in SCALAR_FUNCTIONS:
            node = ir.Call(fname, tuple(args))
        else:
            raise self._err(f"unknown function `{fname}`", tok, _did_you_mean(fname, FUNCTIONS))
        return self._at(node, meta, tok)

    def _aggregate(
        self,
        fname: str,
        args: list[Node],
        guard: Node | None,
        body: Node | None,
        meta: Any,
        tok: Token,
    ) -> Node:
        usage = f"write `{fname}(x in S: value)` or `{fname}(x in S where condition: value)`"
        if fname == "count":
            usage = "write `count(S)` or `count(x in S where condition)`"
        if len(args) != 1:
            raise self._err(f"{fname}() takes 1 argument, got {len(args)}", tok, usage)
        arg = args[0]
        binder = isinstance(arg, ir.Member) and id(arg) not in self.parens
        domain = arg.domain if isinstance(arg, ir.Member) and binder else arg
        var = arg.elem.name if isinstance(arg, ir.Member) and binder else None
        if fname == "count" and body is not None:
            raise self._err("count() takes no `: value`", meta, usage)
        if fname != "count" and body is None:
            raise self._err(f"{fname}() needs a variable and a value", meta, usage)
        if guard is not None:
            if var is None:
                raise self._err("`where` needs a variable: `x in S where ...`", meta, usage)
            domain = self._at(ir.Comprehension(var, domain, guard), self._where(arg, meta))
        if fname == "count":
            return ir.Aggregate("count", domain)
        if var is None:
            raise self._err(f"{fname}() needs a variable to bind", meta, usage)
        return ir.Aggregate(fname, domain, var, body)  # type: ignore[arg-type]

    # ---- literals
    def const(self, meta: Any, ch: list[Token]) -> Node:
        tok = ch[0]
        node: Const
        if tok.type == "NUMBER":
            node = number_const(tok.value)
        elif tok.type == "DURATION":
            node = Const(self._duration(tok), Type.DURATION)
        elif tok.type == "STRING":
            node = Const(unescape(tok.value[1:-1]), Type.STR)
        else:
            node = Const(tok.type == "TRUE", Type.BOOL)
        if node.type in (Type.INT, Type.FLOAT, Type.DURATION):
            self.literals.add(id(node))
        return self._at(node, meta)

    def literal(self, meta: Any, ch: list[Any]) -> Node:
        if isinstance(ch[0], Const):
            return ch[0]
        if len(ch) == 2:
            const = self.const(meta, [ch[1]])
            assert isinstance(const, Const)
            return self._at(_negative(const), meta)
        found = enum_const(ch[0].value)
        if found is None:
            raise self._err(
                f"`{ch[0].value}` is not a literal",
                ch[0],
                "write a number, a duration, a string, true/false, or a kind/status name",
            )
        return self._at(found, meta)

    def list(self, meta: Any, ch: list[Any]) -> Node:
        return self._at(ir.ListLit(tuple(c for c in ch if c is not None)), meta)

    def _duration(self, tok: Token) -> int:
        value = duration_ns(tok.value)
        if value is None:
            raise self._err(f"`{tok.value}` is not a whole number of nanoseconds", tok)
        return value


def _kids(node: Node) -> list[Node]:
    kids: list[Node] = []
    for name in child_fields(type(node)):
        value = getattr(node, name)
        if isinstance(value, Node):
            kids.append(value)
        elif isinstance(value, tuple):
            kids += [v for v in value if isinstance(v, Node)]
    return kids


def _check_depth(root: Node, source: Source, positions: PosTable) -> None:
    """Raise a located error when ``root`` nests deeper than :data:`MAX_DEPTH` (iteratively)."""
    depth: dict[int, int] = {}
    for node in postorder(root):
        d = 1 + max((depth[id(c)] for c in _kids(node)), default=0)
        depth[id(node)] = d
        if d > MAX_DEPTH:
            raise source.error(
                SpecSyntaxError,
                f"formula nested more than {MAX_DEPTH} levels deep",
                positions.span(node) or positions.span(root),
                "split it into several properties, or write long conjunctions and disjunctions "
                "as flat `and`/`or` chains (those do not nest)",
            )


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _did_you_mean(name: str, options: Any) -> str | None:
    import difflib

    close = difflib.get_close_matches(name, list(options), n=3, cutoff=0.6)
    return "did you mean " + " or ".join(f"`{c}`" for c in close) + "?" if close else None


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
    result = _Builder(source, positions).transform(tree)
    if start == "expr":
        _check_depth(result, source, positions)
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
