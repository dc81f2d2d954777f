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

from collections.abc import Callable
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
        rule = _TERM.get(type(node))
        if rule is None:
            raise TypeError(f"not a term: {type(node).__name__}")
        return rule(self, node)

    def _t_var(self, node: ir.ParamRef | ir.Var) -> sympy.Basic:
        return _var(node.name)

    def _t_field(self, node: ir.Field) -> sympy.Basic:
        return _sym(rf"{_vt(node.base.name)}.\mathrm{{{_esc(node.name)}}}",
                    f"{node.base.name}.{node.name}")

    def _t_attr(self, node: ir.Attr) -> sympy.Basic:
        where = {"span": "attributes", "resource": "resource", "event": "attributes"}
        return _sym(rf"{_vt(node.base.name)}.\mathrm{{{where[node.scope]}}}[{_tt(node.key)}]",
                    f"{node.base.name}.{where[node.scope]}[{node.key!r}]")

    def _t_neg(self, node: ir.Neg) -> sympy.Basic:
        return sympy.Mul(-1, self.term(node.operand), evaluate=False)

    def _t_arith(self, node: ir.Arith) -> sympy.Basic:
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

    def _t_quantile(self, node: ir.Quantile) -> sympy.Basic:
        dom, body = latex(self.set_(node.domain)), latex(self.term(node.body))
        return _sym(rf"Q_{{{node.q:g}}}\,\{{{body} \mid {_vt(node.var)} \in {dom}\}}",
                    "quantile(...)")

    def _t_call(self, node: ir.Call) -> sympy.Basic:
        args = ", ".join(latex(self.term(a)) for a in node.args)
        return _sym(rf"\mathrm{{{node.func}}}({args})", f"{node.func}(...)")

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
        rule = _SET.get(type(node))
        if rule is None:
            raise TypeError(f"not a term: {type(node).__name__}")
        return rule(self, node)

    def _s_spans(self, node: ir.Spans) -> sympy.Basic:
        return _sym(r"\mathit{spans}", "spans")

    def _s_roots(self, node: ir.Roots) -> sympy.Basic:
        return _sym(r"\mathit{roots}", "roots")

    def _s_rel(self, node: ir.Rel) -> sympy.Basic:
        return _sym(rf"\mathrm{{{node.rel}}}({_vt(node.arg.name)})",
                    f"{node.rel}({node.arg.name})")

    def _s_events(self, node: ir.Events) -> sympy.Basic:
        return _sym(rf"\mathrm{{events}}({_vt(node.arg.name)})", f"events({node.arg.name})")

    def _s_comprehension(self, node: ir.Comprehension) -> sympy.Basic:
        dom = latex(self.set_(node.domain))
        guard = latex(self.formula(node.guard))
        return _sym(rf"\{{{_vt(node.var)} \in {dom} \mid {guard}\}}", "{...}")

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
        rule = _FORMULA.get(type(node))
        if rule is None:
            raise TypeError(f"cannot print {type(node).__name__}")
        return rule(self, node)

    def _f_const(self, node: ir.Const) -> sympy.Basic:
        return sympy.true if node.value else sympy.false

    def _f_compare(self, node: ir.Compare) -> sympy.Basic:
        a, b = self.term(node.left), self.term(node.right)
        return {"==": sympy.Eq, "!=": sympy.Ne, "<": sympy.Lt, "<=": sympy.Le,
                ">": sympy.Gt, ">=": sympy.Ge}[node.op](a, b, evaluate=False)

    def _f_not(self, node: ir.Not) -> sympy.Basic:
        f = self.formula
        return Neg(f(node.arg)) if self.faithful else sympy.Not(f(node.arg))

    def _f_and(self, node: ir.And) -> sympy.Basic:
        args = [self.formula(a) for a in node.args]
        return Conj(*args) if self.faithful else sympy.And(*args)

    def _f_or(self, node: ir.Or) -> sympy.Basic:
        args = [self.formula(a) for a in node.args]
        return Disj(*args) if self.faithful else sympy.Or(*args)

    def _f_implies(self, node: ir.Implies) -> sympy.Basic:
        a, b = self.formula(node.left), self.formula(node.right)
        return Impl(a, b) if self.faithful else sympy.Implies(a, b)

    def _f_quant(self, node: ir.Quant) -> sympy.Basic:
        f = self.formula
        guard = sympy.true if node.guard is None else f(node.guard)
        return Quantifier(sympy.core.symbol.Str(node.kind), _var(node.var),
                          self.set_(node.domain), guard, f(node.body))

    def _f_temporal(self, node: ir.Temporal) -> sympy.Basic:
        hi = sympy.oo if node.interval.hi is None else sympy.Integer(node.interval.hi)
        return Temporal(sympy.core.symbol.Str(node.op), sympy.Integer(node.interval.lo), hi,
                        *[self.formula(a) for a in node.args])

    def _f_atom(self, node: ir.Node) -> sympy.Basic:
        return _pred(self.atom(node))

    def atom(self, node: ir.Node) -> str:
        rule = _ATOM.get(type(node))
        if rule is None:
            raise TypeError(f"cannot print {type(node).__name__}")
        return rule(self, node)

    def _a_match(self, node: ir.Match) -> str:
        return rf"{latex(self.term(node.operand))} \mathrel{{\sim}} {_tt('/' + node.pattern + '/')}"

    def _a_in_list(self, node: ir.InList) -> str:
        items = ", ".join(latex(self.term(i)) for i in node.items.items)
        return rf"{latex(self.term(node.operand))} \in \{{{items}\}}"

    def _a_member(self, node: ir.Member) -> str:
        return rf"{_vt(node.elem.name)} \in {latex(self.set_(node.domain))}"

    def _a_has(self, node: ir.Has) -> str:
        return rf"\mathrm{{has}}({latex(self.term(node.operand))})"

    def _a_happens_before(self, node: ir.HappensBefore) -> str:
        return rf"{_vt(node.left.name)} \prec_{{hb}} {_vt(node.right.name)}"

    def _a_start(self, node: ir.StartOf) -> str:
        return rf"\mathrm{{start}}({_vt(node.arg.name)})"

    def _a_end(self, node: ir.EndOf) -> str:
        return rf"\mathrm{{end}}({_vt(node.arg.name)})"

    def _a_event(self, node: ir.EventOf) -> str:
        name = "" if node.name is None else ", " + _tt(f'"{node.name}"')
        return rf"\mathrm{{event}}({_vt(node.arg.name)}{name})"

    def _a_term(self, node: ir.Node) -> str:
        return latex(self.term(node))  # a boolean-valued term (``luhn(x)``, ``s.is_root``)


Rule = Callable[[_Builder, Any], Any]
#: How each set, term, atom and formula class prints (dispatch by exact class: the IR's
#: classes do not subclass each other). ``tests/test_explore.py`` checks that every formula
#: and term class of the IR has an entry.
_SET: dict[type[ir.Node], Rule] = {
    ir.Spans: _Builder._s_spans, ir.Roots: _Builder._s_roots, ir.Rel: _Builder._s_rel,
    ir.Events: _Builder._s_events, ir.Comprehension: _Builder._s_comprehension,
}
_TERM: dict[type[ir.Node], Rule] = {
    ir.Const: _Builder.const, ir.ParamRef: _Builder._t_var, ir.Var: _Builder._t_var,
    ir.Field: _Builder._t_field, ir.Attr: _Builder._t_attr, ir.Neg: _Builder._t_neg,
    ir.Arith: _Builder._t_arith, ir.Call: _Builder._t_call, ir.Aggregate: _Builder.aggregate,
    ir.Quantile: _Builder._t_quantile,
    **_SET,
}
_ATOM: dict[type[ir.Node], Rule] = {
    ir.Match: _Builder._a_match, ir.InList: _Builder._a_in_list,
    ir.Member: _Builder._a_member, ir.Has: _Builder._a_has,
    ir.HappensBefore: _Builder._a_happens_before, ir.StartOf: _Builder._a_start,
    ir.EndOf: _Builder._a_end, ir.EventOf: _Builder._a_event,
    **{c: _Builder._a_term for c in (ir.Call, ir.Field, ir.Attr, ir.Var, ir.ParamRef)},
}
_FORMULA: dict[type[ir.Node], Rule] = {
    ir.Const: _Builder._f_const, ir.Compare: _Builder._f_compare, ir.Not: _Builder._f_not,
    ir.And: _Builder._f_and, ir.Or: _Builder._f_or, ir.Implies: _Builder._f_implies,
    ir.Quant: _Builder._f_quant, ir.Temporal: _Builder._f_temporal,
    **{c: _Builder._f_atom for c in _ATOM},
}


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
