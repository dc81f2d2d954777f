"""Properties as mathematics: the IR as sympy objects, printed with sympy's LaTeX printer.

:func:`to_sympy` maps a formula to sympy: terms become sympy expressions (``s.start - 50 ms``
is an ``Add`` of a field atom and a duration atom), comparisons become sympy relationals, and
the constructs sympy has no notion of (quantifiers over span sets, metric temporal operators,
happens-before, regular expressions) become small :class:`sympy.logic.boolalg.Boolean`
subclasses that know how to print themselves. :func:`to_latex` is ``sympy.latex`` of that.

With ``faithful=True`` (the default) connectives keep the order they were written in (sympy's
own ``And``/``Or`` sort their arguments); with ``faithful=False`` they are sympy's ``And``,
``Or``, ``Not`` and ``Implies``, so quantifier-free parts can be manipulated with
``sympy.simplify_logic`` and friends. sympy's logic is two-valued: it turns ``not a < b`` into
``a >= b``, which the language does not (both are false when ``a`` is undefined), so use that
mode for algebra on defined values only.
"""

from __future__ import annotations

from typing import Any

import sympy
from sympy.logic.boolalg import Boolean

from workbench.lang import ir

_UNITS = (("h", 3_600_000_000_000), ("min", 60_000_000_000), ("s", 1_000_000_000),
          ("ms", 1_000_000), (r"\mu s", 1_000), ("ns", 1))
_TEMPORAL = {
    "always": r"\Box", "eventually": r"\Diamond", "historically": r"\blacksquare",
    "once": r"\blacklozenge", "next": r"\bigcirc", "wnext": r"\bar{\bigcirc}",
    "previously": r"\ominus", "until": r"\mathbin{\mathcal{U}}",
    "since": r"\mathbin{\mathcal{S}}",
}


def _tt(text: str) -> str:
    """``text`` as LaTeX typewriter text with every special character escaped."""
    out = []
    for ch in text:
        if ch in "\\":
            out.append(r"\textbackslash{}")
        elif ch in "{}$&#_%":
            out.append("\\" + ch)
        elif ch == "^":
            out.append(r"\^{}")
        elif ch == "~":
            out.append(r"\textasciitilde{}")
        else:
            out.append(ch)
    return r"\texttt{" + "".join(out) + "}"


def _esc(name: str) -> str:
    return name.replace("_", "\\_")


def latex(expr: sympy.Basic) -> str:
    """``sympy.latex`` keeping terms in the order they were written."""
    return sympy.latex(expr, order="none")


def duration_latex(ns: int) -> str:
    """A duration in its largest exact unit: ``50\\,\\mathrm{ms}``."""
    if ns == 0:
        return "0"
    for unit, size in _UNITS:
        if ns % size == 0:
            return rf"{ns // size}\,\mathrm{{{unit}}}"
    return rf"{ns}\,\mathrm{{ns}}"  # pragma: no cover - ns divides everything


class _Atom(sympy.Expr):
    """A term printed from a fixed LaTeX text (arg 0, a sympy ``Str``)."""

    def _latex(self, printer: Any) -> str:
        return str(self.args[0])

    def _sympystr(self, printer: Any) -> str:
        return str(self.args[1]) if len(self.args) > 1 else str(self.args[0])


class _Formula(Boolean):
    """A formula printed by ``_tex`` from its sympy args."""

    def _latex(self, printer: Any) -> str:
        return self._tex(printer)

    def _tex(self, printer: Any) -> str:  # pragma: no cover - overridden
        raise NotImplementedError


def _str(node: sympy.Basic) -> str:
    return str(node)


class Pred(_Formula):
    """A fixed-text atom: ``\\mathrm{start}(s)``, ``a \\prec b``, ``\\top``."""

    def _tex(self, printer: Any) -> str:
        return _str(self.args[0])


class Quantifier(_Formula):
    """``args = (kind, var, domain, guard, body)``; guard is ``true`` when absent."""

    def _tex(self, printer: Any) -> str:
        kind, var, domain, guard, body = self.args
        sym = r"\forall" if str(kind) == "forall" else r"\exists"
        head = rf"{sym}\, {printer._print(var)} \in {printer._print(domain)}"
        if guard is not sympy.true:
            conn = r"\rightarrow" if str(kind) == "forall" else r"\wedge"
            return rf"{head}:\ \left({printer._print(guard)} {conn} {printer._print(body)}\right)"
        return rf"{head}:\ {printer._print(body)}"


class Temporal(_Formula):
    """``args = (op, lo, hi, *formulas)``; ``hi`` is ``oo`` for an unbounded interval."""

    def _tex(self, printer: Any) -> str:
        op, lo, hi, *subs = self.args
        sym = _TEMPORAL[str(op)]
        if str(op) in ir.INTERVAL_OPS and not (lo == 0 and hi == sympy.oo):
            hi_tex = r"\infty)" if hi == sympy.oo else duration_latex(int(hi)) + "]"
            sym += rf"_{{[{duration_latex(int(lo))},\, {hi_tex}}}"
        parts = [_paren(printer, s) for s in subs]
        if len(parts) == 2:
            return rf"{parts[0]} {sym} {parts[1]}"
        return rf"{sym}\, {parts[0]}"


class Conj(_Formula):
    """Order-preserving conjunction."""

    def _tex(self, printer: Any) -> str:
        return r" \wedge ".join(_paren(printer, a) for a in self.args)


class Disj(_Formula):
    """Order-preserving disjunction."""

    def _tex(self, printer: Any) -> str:
        return r" \vee ".join(_paren(printer, a) for a in self.args)


class Neg(_Formula):
    """Negation."""

    def _tex(self, printer: Any) -> str:
        return r"\neg " + _paren(printer, self.args[0])


class Impl(_Formula):
    """Implication."""

    def _tex(self, printer: Any) -> str:
        return rf"{_paren(printer, self.args[0])} \rightarrow {_paren(printer, self.args[1])}"


def _paren(printer: Any, node: sympy.Basic) -> str:
    text = printer._print(node)
    simple = isinstance(node, Pred | Temporal | Neg) or getattr(node, "is_Relational", False)
    return text if simple else rf"\left({text}\right)"


def _sym(text: str, plain: str | None = None) -> sympy.Basic:
    return _Atom(sympy.core.symbol.Str(text), sympy.core.symbol.Str(plain or text))


def _var(name: str) -> sympy.Basic:
    """A variable or parameter: a plain symbol when one letter, else upright-italic text."""
    if len(name) == 1:
        return sympy.Symbol(name)
    return _sym(rf"\mathit{{{_esc(name)}}}", name)


def _vt(name: str) -> str:
    """LaTeX of a variable name."""
    return name if len(name) == 1 else rf"\mathit{{{_esc(name)}}}"


def _pred(text: str) -> Pred:
    return Pred(sympy.core.symbol.Str(text))


class _Builder:
    def __init__(self, faithful: bool) -> None:
        self.faithful = faithful

    # ------------------------------------------------------------------- terms
    def term(self, node: ir.Node) -> sympy.Basic:
        if isinstance(node, ir.Const):
            return self.const(node)
        if isinstance(node, ir.ParamRef | ir.Var):
            return _var(node.name)
        if isinstance(node, ir.Field):
            return _sym(rf"{_vt(node.base.name)}.\mathrm{{{_esc(node.name)}}}",
                        f"{node.base.name}.{node.name}")
        if isinstance(node, ir.Attr):
            where = {"span": "attributes", "resource": "resource", "event": "attributes"}
            return _sym(rf"{_vt(node.base.name)}.\mathrm{{{where[node.scope]}}}[{_tt(node.key)}]",
                        f"{node.base.name}.{where[node.scope]}[{node.key!r}]")
        if isinstance(node, ir.Neg):
            return sympy.Mul(-1, self.term(node.operand), evaluate=False)
        if isinstance(node, ir.Arith):
            a, b = self.term(node.left), self.term(node.right)
            if node.op == "+":
                return sympy.Add(a, b, evaluate=False)
            if node.op == "-":
                return sympy.Add(a, sympy.Mul(-1, b, evaluate=False), evaluate=False)
            if node.op == "*":
                return sympy.Mul(a, b, evaluate=False)
            if node.op == "/":
                return sympy.Mul(a, sympy.Pow(b, -1, evaluate=False), evaluate=False)
            return sympy.Mod(a, b, evaluate=False)
        if isinstance(node, ir.Call):
            args = ", ".join(latex(self.term(a)) for a in node.args)
            return _sym(rf"\mathrm{{{node.func}}}({args})", f"{node.func}(...)")
        if isinstance(node, ir.Aggregate):
            return self.aggregate(node)
        if isinstance(node, ir.Quantile):
            dom, body = latex(self.set_(node.domain)), latex(self.term(node.body))
            return _sym(rf"Q_{{{node.q:g}}}\,\{{{body} \mid {_vt(node.var)} \in {dom}\}}",
                        "quantile(...)")
        return self.set_(node)

    def const(self, node: ir.Const) -> sympy.Basic:
        v = node.value
        if node.type is ir.Type.DURATION:
            return _sym(duration_latex(int(v)), f"{v}ns")
        if node.type is ir.Type.BOOL:
            return sympy.true if v else sympy.false
        if node.type in (ir.Type.KIND, ir.Type.STATUS):
            return _sym(rf"\mathsf{{{v}}}", str(v))
        if isinstance(v, str):
            return _sym(_tt(f'"{v}"'), repr(v))
        if isinstance(v, float):
            return sympy.Float(v)
        return sympy.Integer(int(v))

    def set_(self, node: ir.Node) -> sympy.Basic:
        if isinstance(node, ir.Spans):
            return _sym(r"\mathit{spans}", "spans")
        if isinstance(node, ir.Roots):
            return _sym(r"\mathit{roots}", "roots")
        if isinstance(node, ir.Rel):
            return _sym(rf"\mathrm{{{node.rel}}}({_vt(node.arg.name)})",
                        f"{node.rel}({node.arg.name})")
        if isinstance(node, ir.Events):
            return _sym(rf"\mathrm{{events}}({_vt(node.arg.name)})", f"events({node.arg.name})")
        if isinstance(node, ir.Comprehension):
            dom = latex(self.set_(node.domain))
            guard = latex(self.formula(node.guard))
            return _sym(rf"\{{{_vt(node.var)} \in {dom} \mid {guard}\}}", "{...}")
        raise TypeError(f"not a term: {type(node).__name__}")

    def aggregate(self, node: ir.Aggregate) -> sympy.Basic:
        dom = latex(self.set_(node.domain))
        if node.op == "count":
            return _sym(rf"\left|{dom}\right|", "count(...)")
        assert node.var is not None and node.body is not None
        body = latex(self.term(node.body))
        if node.op == "distinct":
            return _sym(rf"\left|\{{{body} \mid {_vt(node.var)} \in {dom}\}}\right|",
                        "distinct(...)")
        op = {"sum": r"\sum", "min": r"\min", "max": r"\max", "avg": r"\operatorname{avg}"}
        return _sym(rf"{op[node.op]}_{{{_vt(node.var)} \in {dom}}} {body}", f"{node.op}(...)")

    # ------------------------------------------------------------------- formulas
    def formula(self, node: ir.Node) -> sympy.Basic:
        f = self.formula
        if isinstance(node, ir.Const):
            return sympy.true if node.value else sympy.false
        if isinstance(node, ir.Compare):
            a, b = self.term(node.left), self.term(node.right)
            return {"==": sympy.Eq, "!=": sympy.Ne, "<": sympy.Lt, "<=": sympy.Le,
                    ">": sympy.Gt, ">=": sympy.Ge}[node.op](a, b, evaluate=False)
        if isinstance(node, ir.Not):
            return Neg(f(node.arg)) if self.faithful else sympy.Not(f(node.arg))
        if isinstance(node, ir.And):
            args = [f(a) for a in node.args]
            return Conj(*args) if self.faithful else sympy.And(*args)
        if isinstance(node, ir.Or):
            args = [f(a) for a in node.args]
            return Disj(*args) if self.faithful else sympy.Or(*args)
        if isinstance(node, ir.Implies):
            a, b = f(node.left), f(node.right)
            return Impl(a, b) if self.faithful else sympy.Implies(a, b)
        if isinstance(node, ir.Quant):
            guard = sympy.true if node.guard is None else f(node.guard)
            return Quantifier(sympy.core.symbol.Str(node.kind), _var(node.var),
                              self.set_(node.domain), guard, f(node.body))
        if isinstance(node, ir.Temporal):
            hi = sympy.oo if node.interval.hi is None else sympy.Integer(node.interval.hi)
            return Temporal(sympy.core.symbol.Str(node.op), sympy.Integer(node.interval.lo), hi,
                            *[f(a) for a in node.args])
        return _pred(self.atom(node))

    def atom(self, node: ir.Node) -> str:
        t = lambda n: latex(self.term(n))  # noqa: E731
        if isinstance(node, ir.Match):
            return rf"{t(node.operand)} \mathrel{{\sim}} {_tt('/' + node.pattern + '/')}"
        if isinstance(node, ir.InList):
            items = ", ".join(t(i) for i in node.items.items)
            return rf"{t(node.operand)} \in \{{{items}\}}"
        if isinstance(node, ir.Member):
            return rf"{_vt(node.elem.name)} \in {latex(self.set_(node.domain))}"
        if isinstance(node, ir.Has):
            return rf"\mathrm{{has}}({t(node.operand)})"
        if isinstance(node, ir.HappensBefore):
            return rf"{_vt(node.left.name)} \prec_{{hb}} {_vt(node.right.name)}"
        if isinstance(node, ir.StartOf):
            return rf"\mathrm{{start}}({_vt(node.arg.name)})"
        if isinstance(node, ir.EndOf):
            return rf"\mathrm{{end}}({_vt(node.arg.name)})"
        if isinstance(node, ir.EventOf):
            name = "" if node.name is None else ", " + _tt(f'"{node.name}"')
            return rf"\mathrm{{event}}({_vt(node.arg.name)}{name})"
        if isinstance(node, ir.Call | ir.Field | ir.Attr | ir.Var | ir.ParamRef):
            return t(node)  # a boolean-valued term (``luhn(x)``, ``s.is_root``)
        raise TypeError(f"cannot print {type(node).__name__}")


def to_sympy(node: ir.Node, faithful: bool = True) -> sympy.Basic:
    """A formula (or term) as a sympy object.

    Parameters
    ----------
    node
        A property, a formula or a term of the IR.
    faithful
        Keep connectives in written order (printing classes); ``False``: sympy's ``And``,
        ``Or``, ``Not`` and ``Implies`` (see the module docstring).

    Returns
    -------
    sympy.Basic
    """
    b = _Builder(faithful)
    if isinstance(node, ir.Property):
        node = node.formula
    try:
        return b.formula(node)
    except TypeError:
        return b.term(node)


def to_latex(node: ir.Node, faithful: bool = True) -> str:
    """LaTeX of a formula: ``sympy.latex`` of :func:`to_sympy`, without ``$`` delimiters.

    Parameters
    ----------
    node, faithful
        As for :func:`to_sympy`.

    Returns
    -------
    str
    """
    return latex(to_sympy(node, faithful))


class Math:
    """A formula that renders as mathematics in a notebook (``_repr_latex_``).

    Parameters
    ----------
    node
        A property, or any formula or term of the IR.
    """

    def __init__(self, node: ir.Node) -> None:
        self.node = node

    @property
    def latex(self) -> str:
        return to_latex(self.node)

    def _repr_latex_(self) -> str:
        name = self.node.name if isinstance(self.node, ir.Property) else None
        body = self.latex
        if name:
            return rf"$\mathsf{{{_esc(name)}}}:\quad {body}$"
        return f"${body}$"

    def __repr__(self) -> str:
        from workbench.lang import print_formula

        node = self.node.formula if isinstance(self.node, ir.Property) else self.node
        return print_formula(node)
