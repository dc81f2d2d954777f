"""Parse tree -> raw IR: one callback per grammar rule (see ``grammar.lark``).

The result is *raw*: bare names are still :class:`~workbench.lang.ir.Var` nodes and attribute
scopes are not yet known; :mod:`workbench.lang.typecheck` resolves and types it. Function
calls and aggregates are built by :class:`workbench.lang.functions.FunctionRules`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from lark import Token, Tree

from workbench.errors import SourcePos, SpecSyntaxError
from workbench.lang import ir
from workbench.lang.functions import FunctionRules, suggest_enum
from workbench.lang.ir import Const, Node, Type, Var
from workbench.lang.printer import duration_ns, enum_const, escape_at, number_const, unescape
from workbench.lang.source import (
    PosTable,
    PrecedenceChange,
    RawDecl,
    RawFile,
    RawImport,
    RawProperty,
    Source,
)
from workbench.lang.walk import child_fields, postorder

SEVERITIES: tuple[str, ...] = ("error", "warning", "info")
#: How deeply a formula may nest (after ``and``/``or`` chains are flattened and parentheses
#: dropped). The type checker, the passes and the backends recurse on the IR; past this depth
#: the parser reports a located error instead of letting them hit Python's recursion limit.
MAX_DEPTH = 200
_NO_INTERVAL = frozenset({"next", "wnext", "previously"})


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


class Builder(FunctionRules):
    """Parse tree -> raw IR. One method per grammar rule / alias (see grammar.lark), called
    as ``method(meta, children)`` with the children already built.

    :meth:`transform` walks the tree with an explicit stack, not by recursion, so a flat chain
    of thousands of ``and``s or hundreds of nested parentheses builds without a RecursionError.
    """

    def __init__(
        self, source: Source, positions: PosTable, parse_hole: Callable[[str], Node]
    ) -> None:
        super().__init__(source, positions)
        self.parse_hole = parse_hole  # parses a message hole (padded to its source position)
        self.changes: list[PrecedenceChange] = []

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
            self.changes,
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
        check_depth(ch[0], self.src, self.positions)
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
                parts.append(self.parse_hole(padded))
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
        if isinstance(left, ir.Not) and id(left) not in self.parens:
            # `not p until q` meant `not (p until q)` before `not` bound tighter than `until`
            self.changes.append(PrecedenceChange(self._where(left, meta), str(op.value)))
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
                suggest_enum(ch[0].value)
                or "write a number, a duration, a string, true/false, or a kind/status name",
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


def check_depth(root: Node, source: Source, positions: PosTable) -> None:
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

