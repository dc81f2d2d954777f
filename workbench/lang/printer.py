"""IR -> canonical otlspec text, with the fewest parentheses the grammar allows.

Guarantees (tested with Hypothesis): ``parse_formula(print_formula(f), vars) == f`` for every
typed formula ``f``, and ``parse_spec(print_spec(s)) == s`` for a spec without imports.

Parenthesization follows the grammar's precedence levels (``PRECEDENCE``), plus parentheses
the grammar does not need where a reader could misgroup (:func:`operand_prec`): an ``and``
inside an ``or``, an ``until``/``since`` inside ``and``/``or``, and a prefix operator (``not``,
``always``...) as an operand of ``until``/``since`` (``(not p) until q``: ``not`` used to bind
looser than ``until``). And one rule for quantifiers: a quantifier's body extends as far
right as possible, so a quantifier (or a formula that *ends* in one, such as
``a and forall x in S: p``) is printed bare only in a position that nothing follows: the last
operand of ``->``/``or``/``and``/``until``/``since``, the operand of ``not`` or of a unary
temporal operator, a quantifier body, or inside brackets.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from workbench.lang import ir
from workbench.lang.ir import KINDS, STATUSES, UNITS, Const, Node, Type

#: Binding strength of each construct (higher binds tighter).
QUANT, IMPLIES, OR, AND, UNTIL, PREFIX, COMPARE, ADD, MUL, NEG, POSTFIX, ATOM = range(1, 13)
#: A ``min_prec`` no construct reaches: the operand is parenthesized for the reader's sake.
CLARIFY = ATOM + 1
PRECEDENCE: dict[type, int] = {
    ir.Quant: QUANT,
    ir.Implies: IMPLIES,
    ir.Or: OR,
    ir.And: AND,
    ir.Not: PREFIX,
    ir.Compare: COMPARE,
    ir.Match: COMPARE,
    ir.InList: COMPARE,
    ir.Member: COMPARE,
    ir.HappensBefore: COMPARE,
    ir.Neg: NEG,
    ir.Field: POSTFIX,
    ir.Attr: POSTFIX,
}
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_UNITS_DESC = sorted(UNITS.items(), key=lambda kv: -kv[1])
_ESCAPE = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r"}
_UNESCAPE = {'"': '"', "\\": "\\", "n": "\n", "t": "\t", "r": "\r"}
_HEX4 = re.compile(r"[0-9a-fA-F]{4}")


# --------------------------------------------------------------------------- literals
# Literal text <-> values, both directions (the parser decodes with these too).


def escape_at(text: str, i: int) -> tuple[str, int]:
    """Decode the backslash sequence at ``text[i]``: (decoded text, length in ``text``)."""
    n = text[i + 1 : i + 2]
    if n in _UNESCAPE:
        return _UNESCAPE[n], 2
    if n == "u" and _HEX4.fullmatch(text, i + 2, i + 6):
        return chr(int(text[i + 2 : i + 6], 16)), 6
    return text[i : i + 2], 2  # kept as written


def unescape(body: str) -> str:
    """Decode the escapes of a string literal's body (without quotes).

    ``\\"`` ``\\\\`` ``\\n`` ``\\t`` ``\\r`` and ``\\uXXXX`` are escapes; any other
    backslash is kept as written, so regular expressions such as ``"\\d+"`` read naturally.
    """
    if "\\" not in body:
        return body
    out: list[str] = []
    i = 0
    while i < len(body):
        if body[i] == "\\":
            text, length = escape_at(body, i)
            out.append(text)
            i += length
        else:
            out.append(body[i])
            i += 1
    return "".join(out)


def number_const(text: str) -> Const:
    """``3`` -> INT, ``3.5`` / ``1e3`` -> FLOAT."""
    if text.isdigit():
        return Const(int(text), Type.INT)
    return Const(float(text), Type.FLOAT)


def duration_ns(text: str) -> int | None:
    """Nanoseconds of a duration literal such as ``1.5s``; ``None`` if not a whole number."""
    m = re.fullmatch(r"([0-9]+(?:\.[0-9]+)?)(ns|us|ms|s|m|h)", text)
    assert m is not None, text
    value = Decimal(m[1]) * UNITS[m[2]]
    if value != value.to_integral_value():
        return None
    return int(value)


def enum_const(name: str) -> Const | None:
    """``CLIENT`` -> Const('CLIENT', KIND), ``ERROR`` -> Const('ERROR', STATUS), else None."""
    if name in KINDS:
        return Const(name, Type.KIND)
    if name in STATUSES:
        return Const(name, Type.STATUS)
    return None


def quote(text: str, template: bool = False) -> str:
    """A string literal for ``text`` (in a message template, braces are doubled too)."""
    out = ['"']
    for ch in text:
        if ch in _ESCAPE:
            out.append(_ESCAPE[ch])
        elif template and ch in "{}":
            out.append(ch * 2)
        elif unicodedata.category(ch) in ("Cc", "Cs", "Zl", "Zp"):
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def duration_text(ns: int) -> str:
    """Nanoseconds in the largest exact unit: ``50ms``, ``1500us``, ``0s``, ``-2h``."""
    if ns < 0:
        return "-" + duration_text(-ns)
    if ns == 0:
        return "0s"
    for unit, size in _UNITS_DESC:
        if ns % size == 0:
            return f"{ns // size}{unit}"
    raise AssertionError("unreachable: ns divides by 1")


def float_text(value: float) -> str:
    """A float literal that reads back as exactly ``value`` (``1e999`` for infinity)."""
    if math.isnan(value):
        raise ValueError("NaN has no otlspec literal")
    sign = "-" if math.copysign(1.0, value) < 0 else ""
    body = "1e999" if math.isinf(value) else repr(abs(value))
    return sign + body


def const_text(node: Const) -> str:
    """The literal text of a constant."""
    value, typ = node.value, node.type
    if typ is Type.BOOL:
        return "true" if value else "false"
    if typ is Type.DURATION:
        return duration_text(int(value))
    if typ in (Type.STR, Type.ID):
        return quote(str(value))
    if typ is Type.FLOAT:
        return float_text(float(value))
    return str(value)  # INT, KIND, STATUS (TIME constants have no literal; shown as ns)


def _is_negative(node: Const) -> bool:
    if node.type in (Type.INT, Type.DURATION):
        return int(node.value) < 0
    if node.type is Type.FLOAT:
        return math.copysign(1.0, float(node.value)) < 0
    return False


def precedence(node: Node) -> int:
    """The precedence level of the construct ``node`` is printed as."""
    cls = type(node)
    if cls is ir.Temporal:
        return UNTIL if len(node.args) == 2 else PREFIX  # type: ignore[attr-defined]
    if cls is ir.Arith:
        return ADD if node.op in "+-" else MUL  # type: ignore[attr-defined]
    if cls is Const:
        return NEG if _is_negative(node) else ATOM  # type: ignore[arg-type]
    return PRECEDENCE.get(cls, ATOM)


# --------------------------------------------------------------------------- formulas


def fmt(node: Node, min_prec: int = 0, open_ok: bool = True) -> str:
    """Print ``node`` in a position that needs precedence ``min_prec``.

    ``open_ok``: nothing follows this position, so a trailing quantifier may stay bare.
    """
    if type(node) is ir.Quant:
        return _quant(node, True) if open_ok else "(" + _quant(node, True) + ")"
    if precedence(node) < min_prec:
        return "(" + _RENDER[type(node)](node, True) + ")"
    return _RENDER[type(node)](node, open_ok)


def print_formula(node: Node) -> str:
    """Canonical text of a formula or expression.

    Parameters
    ----------
    node:
        A typed IR node (not a Property/Spec: see :func:`print_spec`).

    Returns
    -------
    str
        One line of otlspec; ``parse_formula`` of it gives ``node`` back.
    """
    return fmt(node)


def _interval(iv: ir.Interval) -> str:
    if iv == ir.Interval():
        return ""
    lo = iv.lo_name or duration_text(iv.lo)
    hi = iv.hi_name or ("inf" if iv.hi is None else duration_text(iv.hi))
    return f"[{lo}, {hi}]"


def _neg(node: ir.Neg, open_ok: bool) -> str:
    arg = node.operand
    if isinstance(arg, Const) and not _is_negative(arg):
        return f"-({const_text(arg)})"  # a bare `-5` would read back as the constant -5
    return "-" + fmt(arg, NEG, False)


def _quant_parts(node: ir.Quant) -> tuple[str, Node | None, Node]:
    """``forall a in S, b in T`` (binders merged), the innermost guard and body."""
    binders = [f"{node.var} in {fmt(node.domain, ADD, False)}"]
    while node.guard is None and type(node.body) is ir.Quant and node.body.kind == node.kind:
        node = node.body
        binders.append(f"{node.var} in {fmt(node.domain, ADD, False)}")
    return f"{node.kind} {', '.join(binders)}", node.guard, node.body


def _quant(node: ir.Quant, open_ok: bool) -> str:
    prefix, guard, body = _quant_parts(node)
    where = "" if guard is None else f" where {fmt(guard)}"
    return f"{prefix}{where}: {fmt(body)}"


def layout(
    node: Node, indent: str = "", min_prec: int = 0, open_ok: bool = True, width: int = 100
) -> str:
    """:func:`fmt`, with a formula too long for ``width`` columns broken over several lines.

    Breaks go after a quantifier head (and before a long ``where`` guard), before each
    ``and``/``or`` operand, after ``->`` and inside long parentheses; continuation lines are
    indented past ``indent``. The parser ignores line breaks, so the result reads back as
    the same formula.
    """
    text = fmt(node, min_prec, open_ok)
    if len(indent) + len(text) <= width:
        return text
    cls = type(node)
    inner = indent + "  "
    if (not open_ok) if cls is ir.Quant else precedence(node) < min_prec:
        return "(" + layout(node, indent + " ", 0, True, width) + ")"
    if isinstance(node, ir.Quant):
        prefix, guard, body = _quant_parts(node)
        head = prefix
        if guard is not None:
            one_line = f"{prefix} where {fmt(guard)}:"
            if len(indent) + len(one_line) <= width:
                head = one_line[:-1]
            else:
                head = f"{prefix}\n{inner}where {layout(guard, inner, 0, True, width)}"
        return f"{head}:\n{inner}{layout(body, inner, 0, True, width)}"
    if isinstance(node, ir.And | ir.Or):
        word = "and" if cls is ir.And else "or"
        parts = [layout(a, inner, operand_prec(node, a), False, width) for a in node.args[:-1]]
        last = node.args[-1]
        parts.append(layout(last, inner, operand_prec(node, last), open_ok, width))
        return f"\n{inner}{word} ".join(parts)
    if isinstance(node, ir.Implies):
        left = layout(node.left, indent, OR, False, width)
        return f"{left} ->\n{inner}{layout(node.right, inner, IMPLIES, open_ok, width)}"
    return text


def _aggregate(node: ir.Aggregate, open_ok: bool) -> str:
    domain = node.domain
    var = node.var
    if isinstance(domain, ir.Comprehension) and (var is None or domain.var == var):
        head = f"{domain.var} in {fmt(domain.domain, ADD, False)} where {fmt(domain.guard)}"
    elif var is None:
        head = fmt(domain)
    else:
        head = f"{var} in {fmt(domain, ADD, False)}"
    body = "" if node.body is None else f": {fmt(node.body)}"
    return f"{node.op}({head}{body})"


def operand_prec(parent: Node, child: Node) -> int:
    """The ``min_prec`` an operand of a connective or temporal operator is printed with: what
    the grammar needs, or :data:`CLARIFY` where a reader could misgroup the bare text."""
    cls, sub = type(parent), precedence(child)
    if cls is ir.Temporal:  # binary: operands bind tighter (non-associative)
        return CLARIFY if sub == PREFIX else PREFIX
    if cls is ir.Or:
        return CLARIFY if sub in (AND, UNTIL) else AND
    if cls is ir.And:
        return CLARIFY if sub == UNTIL else UNTIL
    raise AssertionError(f"no operands rule for {cls.__name__}")


#: ``quantile(q, ...)`` prints as ``pNN(...)`` for these ``q`` (``functions.QUANTILE_SUGAR``).
_QUANTILE_SUGAR = {0.5: "p50", 0.9: "p90", 0.95: "p95", 0.99: "p99"}


def _quantile(node: ir.Quantile, open_ok: bool) -> str:
    domain = node.domain
    if isinstance(domain, ir.Comprehension) and domain.var == node.var:
        head = f"{domain.var} in {fmt(domain.domain, ADD, False)} where {fmt(domain.guard)}"
    else:
        head = f"{node.var} in {fmt(domain, ADD, False)}"
    name = _QUANTILE_SUGAR.get(node.q)
    q = "" if name else f"{float_text(node.q)}, "
    return f"{name or 'quantile'}({q}{head}: {fmt(node.body)})"


def _chain(sep: str) -> Callable[[Any, bool], str]:
    def render(node: Any, open_ok: bool) -> str:
        args = node.args
        parts = [fmt(a, operand_prec(node, a), False) for a in args[:-1]]
        parts.append(fmt(args[-1], operand_prec(node, args[-1]), open_ok))
        return f" {sep} ".join(parts)

    return render


def _temporal(node: ir.Temporal, open_ok: bool) -> str:
    iv = _interval(node.interval)
    if len(node.args) == 2:
        left, right = node.args
        text = fmt(left, operand_prec(node, left), False)
        return f"{text} {node.op}{iv} {fmt(right, operand_prec(node, right), open_ok)}"
    return f"{node.op}{iv} {fmt(node.args[0], PREFIX, open_ok)}"


def _binary(node: Any, op: str, left: Node, right: str) -> str:
    return f"{fmt(left, ADD, False)} {op} {right}"


def _attr(node: ir.Attr, open_ok: bool) -> str:
    word = "resource" if node.scope == "resource" else "attributes"
    return f"{node.base.name}.{word}[{quote(node.key)}]"


def _event_of(node: ir.EventOf, open_ok: bool) -> str:
    name = "" if node.name is None else ", " + quote(node.name)
    return f"event({node.arg.name}{name})"


def template_text(node: ir.Template) -> str:
    """A message template as a string literal with ``{hole}``s."""
    out = []
    for part in node.parts:
        if isinstance(part, str):
            out.append(quote(part, template=True)[1:-1])
        else:
            out.append("{" + fmt(part) + "}")
    return '"' + "".join(out) + '"'


_RENDER: dict[type, Callable[[Any, bool], str]] = {
    Const: lambda n, o: const_text(n),
    ir.ParamRef: lambda n, o: n.name,
    ir.Var: lambda n, o: n.name,
    ir.ListLit: lambda n, o: "[" + ", ".join(const_text(i) for i in n.items) + "]",
    ir.Field: lambda n, o: f"{n.base.name}.{n.name}",
    ir.Attr: _attr,
    ir.Neg: _neg,
    ir.Arith: lambda n, o: (
        f"{fmt(n.left, precedence(n), False)} {n.op} {fmt(n.right, precedence(n) + 1, False)}"
    ),
    ir.Call: lambda n, o: f"{n.func}({', '.join(fmt(a) for a in n.args)})",
    ir.Spans: lambda n, o: "spans",
    ir.Roots: lambda n, o: "roots",
    ir.Rel: lambda n, o: f"{n.rel}({n.arg.name})",
    ir.Events: lambda n, o: f"events({n.arg.name})",
    ir.Comprehension: lambda n, o: (
        "{" + f"{n.var} in {fmt(n.domain, ADD, False)} where {fmt(n.guard)}" + "}"
    ),
    ir.Aggregate: _aggregate,
    ir.Quantile: _quantile,
    ir.Compare: lambda n, o: _binary(n, n.op, n.left, fmt(n.right, ADD, False)),
    ir.Match: lambda n, o: _binary(n, "matches", n.operand, quote(n.pattern)),
    ir.InList: lambda n, o: _binary(n, "in", n.operand, _RENDER[ir.ListLit](n.items, o)),
    ir.Member: lambda n, o: _binary(n, "in", n.elem, fmt(n.domain, ADD, False)),
    ir.Has: lambda n, o: f"has({fmt(n.operand)})",
    ir.HappensBefore: lambda n, o: f"{n.left.name} hb {n.right.name}",
    ir.Not: lambda n, o: "not " + fmt(n.arg, PREFIX, o),
    ir.And: _chain("and"),
    ir.Or: _chain("or"),
    ir.Implies: lambda n, o: f"{fmt(n.left, OR, False)} -> {fmt(n.right, IMPLIES, o)}",
    ir.Quant: _quant,
    ir.StartOf: lambda n, o: f"start({n.arg.name})",
    ir.EndOf: lambda n, o: f"end({n.arg.name})",
    ir.EventOf: _event_of,
    ir.Temporal: _temporal,
    ir.Template: lambda n, o: template_text(n),
}


# --------------------------------------------------------------------------- specs


def _doc_lines(doc: str, indent: str = "") -> list[str]:
    return [
        (indent + "/// " + line).rstrip(" ") if line else indent + "///" for line in doc.split("\n")
    ]


def _doc_fits_comments(doc: str) -> bool:
    return not any(
        unicodedata.category(ch) in ("Cc", "Cs", "Zl", "Zp") and ch != "\n" for ch in doc
    ) and not any(line != line.rstrip(" ") for line in doc.split("\n"))


def _tag(tag: str) -> str:
    return tag if _NAME.fullmatch(tag) else quote(tag)


def print_decl(param: ir.Param) -> str:
    """A ``let``/``param`` line, after its ``///`` doc lines."""
    kind = "param" if param.overridable else "let"
    lines = _doc_lines(param.doc) if param.doc else []
    return "\n".join([*lines, f"{kind} {param.name} = {const_text(param.default)}"])


def print_property(prop: ir.Property) -> str:
    """A ``property`` block."""
    lines = []
    if prop.doc and _doc_fits_comments(prop.doc):
        lines += _doc_lines(prop.doc)
    lines.append(f"property {prop.name} {{")
    if prop.doc and not _doc_fits_comments(prop.doc):
        lines.append(f"  doc {quote(prop.doc)}")
    lines.append(f"  severity {prop.severity}")
    if prop.message is not None:
        lines.append(f"  message {template_text(prop.message)}")
    if prop.tags:
        lines.append("  tags " + ", ".join(_tag(t) for t in prop.tags))
    lines.append(f"  check {layout(prop.formula, '  ')}")
    lines.append("}")
    return "\n".join(lines)


def print_spec(spec: ir.Spec) -> str:
    """Canonical text of a whole spec.

    Parameters
    ----------
    spec:
        A typed spec.

    Returns
    -------
    str
        Header, lets/params and properties. Imports are already resolved into ``spec``, so the
        text is *flattened*: it contains every imported param and property and no ``import``
        lines. Doc strings print as ``///`` lines (as ``doc "..."`` when they hold control
        characters or trailing spaces; a param's doc keeps ``///`` lines only). A description
        prints only with a name.
    """
    blocks: list[str] = []
    if spec.name:
        desc = f" {quote(spec.description)}" if spec.description else ""
        blocks.append(f"spec {spec.name}{desc}")
    if spec.params:
        blocks.append("\n".join(print_decl(p) for p in spec.params))
    blocks += [print_property(p) for p in spec.properties]
    return "\n\n".join(blocks) + "\n"
