"""Hypothesis strategies for well-typed otlspec IR.

Everything generated is *typed, canonical* IR: exactly what :func:`workbench.lang.parse_formula`
returns for some text (``and``/``or`` flattened, ``0`` compared with a duration written as
``0s``, attribute scopes fixed, interval bounds named after a param carrying its value...), so
``parse_formula(print_formula(f), variables, params) == f`` holds for every draw, and every
backend can evaluate it.

Main entry points
-----------------
``formulas(variables=None, params=None, max_depth=4, temporal=True)``
    Boolean formulas; closed when ``variables`` is empty.
``terms(type, variables, params, max_depth)``
    Expressions of a given :class:`~workbench.lang.ir.Type`.
``param_tables()``, ``properties(params)``, ``specs()``
    Declarations and whole specs (no imports).

Coverage: quantifiers over spans/roots/relations/events/comprehensions, aggregates with and
without ``where``, membership, happens-before, timeline atoms, unary and binary temporal
operators with literal and named intervals, attributes of all three scopes, arithmetic on
numbers, durations and timestamps, scalar functions, regex matches, lists, lets/params,
message templates with holes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from hypothesis import strategies as st

from workbench.lang import ir
from workbench.lang.ir import Const, Node, Type

VAR_NAMES = ("s", "t", "u", "e", "x")
PARAM_NAMES = ("limit", "window", "skew", "ratio", "svc", "flag", "kind0", "code0", "slack")
ATTR_KEYS = ("http.method", "http.status_code", "db.system", "retry", "k", "a b", 'q"uote')
EVENT_NAMES = ("retry", "exception", "ack")
PATTERNS = ("^GET /\\d+$", "a|b", "\\.", "[a-z]+", "x{2,3}", '\\"q', "", "(?i)err")
SPAN_BOOL_FIELDS = ("is_root", "has_end", "sampled")
SPAN_INT_FIELDS = ("depth", "flags", "event_count", "link_count", "attribute_count")
SPAN_STR_FIELDS = ("name", "status_message", "service", "scope", "trace_state")
SPAN_ID_FIELDS = ("trace_id", "span_id", "parent_id")
SCALAR_TYPES = (
    Type.BOOL,
    Type.INT,
    Type.FLOAT,
    Type.STR,
    Type.DURATION,
    Type.TIME,
    Type.KIND,
    Type.STATUS,
    Type.ID,
    Type.VALUE,
)

# --------------------------------------------------------------------------- constants

ints = st.integers(min_value=-(10**12), max_value=10**12)
floats = st.floats(allow_nan=False, allow_infinity=False, width=64)
texts = st.text(max_size=6)
durations = st.one_of(
    st.sampled_from([0, 1, 1000, 1_500_000, 50_000_000, 2_000_000_000, 60_000_000_000]),
    st.integers(min_value=-(10**15), max_value=10**15),
)


def consts(typ: Type) -> st.SearchStrategy[Const]:
    """Literal constants of ``typ`` (BOOL, INT, FLOAT, STR, DURATION, KIND or STATUS)."""
    values: dict[Type, st.SearchStrategy[Any]] = {
        Type.BOOL: st.booleans(),
        Type.INT: ints,
        Type.FLOAT: floats,
        Type.STR: texts,
        Type.DURATION: durations,
        Type.KIND: st.sampled_from(ir.KINDS),
        Type.STATUS: st.sampled_from(ir.STATUSES),
    }
    return values[typ].map(lambda v: Const(v, typ))


# --------------------------------------------------------------------------- context


@dataclass(frozen=True)
class Ctx:
    """What a generator may use: bound variables, params, remaining depth, temporal ops."""

    env: Mapping[str, Type] = field(default_factory=dict)
    params: Mapping[str, Const] = field(default_factory=dict)
    depth: int = 3
    temporal: bool = True

    def deeper(self) -> Ctx:
        return Ctx(self.env, self.params, self.depth - 1, self.temporal)

    def bind(self, name: str, typ: Type) -> Ctx:
        return Ctx({**self.env, name: typ}, self.params, self.depth - 1, self.temporal)

    def vars_of(self, typ: Type) -> list[str]:
        return sorted(n for n, t in self.env.items() if t is typ)

    def params_of(self, typ: Type) -> list[str]:
        return sorted(n for n, c in self.params.items() if c.type is typ)

    def can(self, typ: Type) -> bool:
        """Whether an expression of ``typ`` can be generated here."""
        spans, events = bool(self.vars_of(Type.SPAN)), bool(self.vars_of(Type.EVENT))
        if typ in (Type.ID, Type.EVENTS):
            return spans
        if typ is Type.VALUE:
            return spans or events
        if typ is Type.TIME:
            return spans or events or self.depth > 0
        return True


Gen = Callable[[Any, Ctx], Node]
_GENS: dict[Type, list[tuple[Callable[[Ctx], bool], Gen, int]]] = {t: [] for t in Type}


def _gen(
    typ: Type, when: Callable[[Ctx], bool] = lambda c: True, leaf: bool = False, weight: int = 1
) -> Callable[[Gen], Gen]:
    """Register a generator of ``typ``; non-leaf generators need depth > 0.

    ``weight`` makes a generator proportionally more likely (leaves come first, so shrinking
    moves towards constants).
    """

    def register(fn: Gen) -> Gen:
        cond = when if leaf else (lambda c: c.depth > 0 and when(c))
        _GENS[typ].append((cond, fn, weight))
        return fn

    return register


def gen(draw: Any, typ: Type, c: Ctx) -> Node:
    """Draw an expression of ``typ`` in context ``c``."""
    options = [(fn, w) for cond, fn, w in _GENS[typ] if cond(c)]
    assert options, (typ, c)
    index = draw(st.integers(0, sum(w for _, w in options) - 1))
    for fn, w in options:
        if index < w:
            return fn(draw, c)
        index -= w
    raise AssertionError("unreachable")


def _pick(draw: Any, items: list[Any] | tuple[Any, ...]) -> Any:
    return draw(st.sampled_from(list(items)))


def _available(c: Ctx, types: tuple[Type, ...] = SCALAR_TYPES) -> list[Type]:
    return [t for t in types if c.can(t)]


# --------------------------------------------------------------------------- leaves


def _const_gen(typ: Type) -> None:
    _gen(typ, leaf=True)(lambda draw, c: draw(consts(typ)))
    _gen(typ, lambda c: bool(c.params_of(typ)), leaf=True)(
        lambda draw, c: ir.ParamRef(_pick(draw, c.params_of(typ)), typ)
    )


for _t in (Type.BOOL, Type.INT, Type.FLOAT, Type.STR, Type.DURATION, Type.KIND, Type.STATUS):
    _const_gen(_t)


def _span_field(typ: Type, names: tuple[str, ...]) -> None:
    _gen(typ, lambda c: bool(c.vars_of(Type.SPAN)), leaf=True)(
        lambda draw, c: ir.Field(ir.Var(_pick(draw, c.vars_of(Type.SPAN))), _pick(draw, names))
    )


_span_field(Type.BOOL, SPAN_BOOL_FIELDS)
_span_field(Type.INT, SPAN_INT_FIELDS)
_span_field(Type.STR, SPAN_STR_FIELDS)
_span_field(Type.ID, SPAN_ID_FIELDS)
_span_field(Type.DURATION, ("duration",))
_span_field(Type.TIME, ("start", "end"))
_span_field(Type.KIND, ("kind",))
_span_field(Type.STATUS, ("status",))


def _event_field(draw: Any, c: Ctx, name: str) -> Node:
    return ir.Field(ir.Var(_pick(draw, c.vars_of(Type.EVENT))), name)


def _can(c: Ctx, typ: Type, deeper: bool = False) -> bool:
    return (c.deeper() if deeper else c).can(typ)


for _t, _name in ((Type.STR, "name"), (Type.TIME, "time")):
    _gen(_t, lambda c: bool(c.vars_of(Type.EVENT)), leaf=True)(partial(_event_field, name=_name))


@_gen(Type.VALUE, lambda c: c.can(Type.VALUE), leaf=True)
def _attr(draw: Any, c: Ctx) -> Node:
    names = c.vars_of(Type.SPAN) + c.vars_of(Type.EVENT)
    var = _pick(draw, names)
    key = _pick(draw, ATTR_KEYS)
    if c.env[var] is Type.EVENT:
        return ir.Attr(ir.Var(var), key, "event")
    return ir.Attr(ir.Var(var), key, _pick(draw, ("span", "resource")))


@_gen(Type.BOOL, lambda c: c.temporal and bool(c.vars_of(Type.SPAN)), leaf=True, weight=2)
def _timeline_atom(draw: Any, c: Ctx) -> Node:
    var = ir.Var(_pick(draw, c.vars_of(Type.SPAN)))
    kind = draw(st.integers(0, 3))
    if kind == 0:
        return ir.StartOf(var)
    if kind == 1:
        return ir.EndOf(var)
    return ir.EventOf(var, None if kind == 2 else _pick(draw, EVENT_NAMES))


@_gen(Type.BOOL, lambda c: bool(c.vars_of(Type.SPAN)), leaf=True)
def _hb(draw: Any, c: Ctx) -> Node:
    spans = c.vars_of(Type.SPAN)
    return ir.HappensBefore(ir.Var(_pick(draw, spans)), ir.Var(_pick(draw, spans)))


# --------------------------------------------------------------------------- sets


_gen(Type.SPANS, leaf=True)(lambda draw, c: _pick(draw, (ir.Spans(), ir.Roots())))
_gen(Type.SPANS, lambda c: bool(c.vars_of(Type.SPAN)), leaf=True)(
    lambda draw, c: ir.Rel(_pick(draw, ir.RELATIONS), ir.Var(_pick(draw, c.vars_of(Type.SPAN))))
)
_gen(Type.EVENTS, lambda c: bool(c.vars_of(Type.SPAN)), leaf=True)(
    lambda draw, c: ir.Events(ir.Var(_pick(draw, c.vars_of(Type.SPAN))))
)


def _domain(draw: Any, c: Ctx) -> tuple[Node, Type]:
    """A set expression and its element type."""
    typ = _pick(draw, [t for t in (Type.SPANS, Type.EVENTS) if c.can(t)])
    return gen(draw, typ, c), ir.Type.SPAN if typ is Type.SPANS else Type.EVENT


for _set, _elem in ((Type.SPANS, Type.SPAN), (Type.EVENTS, Type.EVENT)):

    @_gen(_set, partial(_can, typ=_set))
    def _comprehension(draw: Any, c: Ctx, _set: Type = _set, _elem: Type = _elem) -> Node:
        var = _pick(draw, VAR_NAMES)
        domain = gen(draw, _set, c.deeper())
        return ir.Comprehension(var, domain, gen(draw, Type.BOOL, c.bind(var, _elem)))


# --------------------------------------------------------------------------- aggregates

_AGG_BODY = {
    "sum": (Type.INT, Type.FLOAT, Type.DURATION, Type.VALUE),
    "avg": (Type.INT, Type.FLOAT, Type.DURATION, Type.VALUE),
    "min": (Type.INT, Type.FLOAT, Type.DURATION, Type.VALUE, Type.TIME),
    "max": (Type.INT, Type.FLOAT, Type.DURATION, Type.VALUE, Type.TIME),
    "distinct": SCALAR_TYPES,
}


def _agg_result(op: str, body: Type) -> Type:
    if op == "distinct":
        return Type.INT
    if op == "avg":
        return Type.DURATION if body is Type.DURATION else Type.FLOAT
    return Type.FLOAT if body is Type.VALUE else body


def _aggregate(draw: Any, c: Ctx, want: Type) -> Node:
    ops = [
        (op, b) for op, bodies in _AGG_BODY.items() for b in bodies if _agg_result(op, b) is want
    ]
    op, body_type = _pick(draw, ops)
    domain, elem = _domain(draw, c.deeper())
    var = _pick(draw, VAR_NAMES)
    inner = c.bind(var, elem)
    if draw(st.booleans()):  # `op(x in S where G: e)`
        domain = ir.Comprehension(var, domain, gen(draw, Type.BOOL, inner))
    if not inner.can(body_type):
        body_type = Type.INT if op == "distinct" else body_type
        if not inner.can(body_type):
            return ir.Aggregate("count", domain)  # only reachable for want == INT
    return ir.Aggregate(op, domain, var, gen(draw, body_type, inner))


for _t in (Type.INT, Type.FLOAT, Type.DURATION, Type.TIME):
    _gen(_t, weight=2)(partial(_aggregate, want=_t))

#: Quantiles the generators draw: both ends, the sugar (p50...), and ranks that round.
QUANTILES = (0.0, 0.25, 0.5, 0.9, 0.99, 1.0, 0.3333)


def _quantile(draw: Any, c: Ctx, want: Type) -> Node:
    body_type = Type.VALUE if want is Type.FLOAT and draw(st.booleans()) else want
    domain, elem = _domain(draw, c.deeper())
    var = _pick(draw, VAR_NAMES)
    inner = c.bind(var, elem)
    if draw(st.booleans()):  # `quantile(q, x in S where G: e)`
        domain = ir.Comprehension(var, domain, gen(draw, Type.BOOL, inner))
    if not inner.can(body_type):
        return ir.Aggregate("count", domain) if want is Type.INT else gen(draw, want, c)
    return ir.Quantile(_pick(draw, QUANTILES), domain, var, gen(draw, body_type, inner))


for _t in (Type.INT, Type.FLOAT, Type.DURATION, Type.TIME):
    _gen(_t, weight=1)(partial(_quantile, want=_t))


@_gen(Type.INT)
def _count(draw: Any, c: Ctx) -> Node:
    domain, elem = _domain(draw, c.deeper())
    if draw(st.booleans()):
        var = _pick(draw, VAR_NAMES)
        domain = ir.Comprehension(var, domain, gen(draw, Type.BOOL, c.bind(var, elem)))
    return ir.Aggregate("count", domain)


# --------------------------------------------------------------------------- arithmetic

_ARITH: list[tuple[str, Type, Type, Type]] = [
    *((op, Type.INT, Type.INT, Type.INT) for op in "+-*%"),
    *(
        (op, a, b, Type.FLOAT)
        for op in "+-*%"
        for a, b in ((Type.FLOAT, Type.INT), (Type.INT, Type.FLOAT), (Type.FLOAT, Type.FLOAT))
    ),
    *(("/", a, b, Type.FLOAT) for a in (Type.INT, Type.FLOAT) for b in (Type.INT, Type.FLOAT)),
    *(
        (op, Type.VALUE, b, Type.FLOAT)
        for op in "+-*/%"
        for b in (Type.INT, Type.FLOAT, Type.VALUE)
    ),
    *((op, Type.INT, Type.VALUE, Type.FLOAT) for op in "+*"),
    ("-", Type.TIME, Type.TIME, Type.DURATION),
    ("+", Type.TIME, Type.DURATION, Type.TIME),
    ("-", Type.TIME, Type.DURATION, Type.TIME),
    ("+", Type.DURATION, Type.TIME, Type.TIME),
    ("+", Type.DURATION, Type.DURATION, Type.DURATION),
    ("-", Type.DURATION, Type.DURATION, Type.DURATION),
    ("*", Type.DURATION, Type.INT, Type.DURATION),
    ("*", Type.FLOAT, Type.DURATION, Type.DURATION),
    ("/", Type.DURATION, Type.DURATION, Type.FLOAT),
    ("/", Type.DURATION, Type.INT, Type.DURATION),
]


def _arith_possible(c: Ctx, result: Type) -> bool:
    d = c.deeper()
    return any(r is result and d.can(a) and d.can(b) for _, a, b, r in _ARITH)


for _t in (Type.INT, Type.FLOAT, Type.DURATION, Type.TIME):

    @_gen(_t, partial(_arith_possible, result=_t))
    def _arith(draw: Any, c: Ctx, _t: Type = _t) -> Node:
        d = c.deeper()
        rows = [row for row in _ARITH if row[3] is _t and d.can(row[1]) and d.can(row[2])]
        op, a, b, _ = _pick(draw, rows)
        return ir.Arith(op, gen(draw, a, c.deeper()), gen(draw, b, c.deeper()))


def _negation(draw: Any, c: Ctx, operand: Type) -> Node:
    return ir.Neg(gen(draw, operand, c.deeper()))


def _abs(draw: Any, c: Ctx, operand: Type) -> Node:
    return ir.Call("abs", (gen(draw, operand, c.deeper()),))


for _t, _operand in (
    (Type.INT, Type.INT),
    (Type.FLOAT, Type.FLOAT),
    (Type.DURATION, Type.DURATION),
    (Type.FLOAT, Type.VALUE),
):
    _gen(_t, partial(_can, typ=_operand, deeper=True))(partial(_negation, operand=_operand))
    _gen(_t, partial(_can, typ=_operand, deeper=True))(partial(_abs, operand=_operand))

_CALLS = (
    ("len", (Type.STR, Type.ID, Type.VALUE), Type.INT),
    ("lower", (Type.STR, Type.ID, Type.VALUE), Type.STR),
    ("upper", (Type.STR, Type.ID, Type.VALUE), Type.STR),
    ("canon", (Type.STR, Type.ID, Type.VALUE), Type.STR),
    ("str", SCALAR_TYPES, Type.STR),
    ("luhn", (Type.STR, Type.VALUE), Type.BOOL),
)
for _fn, _args, _result in _CALLS:

    @_gen(_result)
    def _call(draw: Any, c: Ctx, _fn: str = _fn, _args: tuple[Type, ...] = _args) -> Node:
        return ir.Call(_fn, (gen(draw, _pick(draw, _available(c.deeper(), _args)), c.deeper()),))


# --------------------------------------------------------------------------- atoms

_ORDERED = (Type.INT, Type.FLOAT, Type.STR, Type.ID, Type.DURATION, Type.TIME, Type.VALUE)


def _peer(draw: Any, c: Ctx, typ: Type, ordering: bool) -> Type:
    """A type comparable with ``typ``."""
    groups = {
        Type.INT: (Type.INT, Type.FLOAT),
        Type.FLOAT: (Type.INT, Type.FLOAT),
        Type.STR: (Type.STR, Type.ID),
        Type.ID: (Type.STR, Type.ID),
        Type.VALUE: (Type.VALUE, Type.INT, Type.FLOAT, Type.STR, Type.ID)
        + (() if ordering else (Type.BOOL,)),
    }
    return _pick(draw, _available(c, groups.get(typ, (typ,))))


@_gen(Type.BOOL, weight=4)
def _compare(draw: Any, c: Ctx) -> Node:
    op = _pick(draw, ("==", "!=", "<", "<=", ">", ">="))
    ordering = op not in ("==", "!=")
    d = c.deeper()
    left_type = _pick(draw, _available(d, _ORDERED if ordering else SCALAR_TYPES))
    right_type = _peer(draw, d, left_type, ordering)
    if draw(st.booleans()):
        left_type, right_type = right_type, left_type
    left, right = gen(draw, left_type, c.deeper()), gen(draw, right_type, c.deeper())
    return ir.Compare(op, left, right)


@_gen(Type.BOOL)
def _match(draw: Any, c: Ctx) -> Node:
    typ = _pick(draw, _available(c.deeper(), (Type.STR, Type.ID, Type.VALUE)))
    return ir.Match(gen(draw, typ, c.deeper()), _pick(draw, PATTERNS))


@_gen(Type.BOOL)
def _in_list(draw: Any, c: Ctx) -> Node:
    typ = _pick(draw, _available(c.deeper(), SCALAR_TYPES))
    typ = Type.STR if typ is Type.TIME else typ  # no TIME literals
    literal = {
        Type.INT: (Type.INT, Type.FLOAT),
        Type.FLOAT: (Type.INT, Type.FLOAT),
        Type.ID: (Type.STR,),
        Type.VALUE: (Type.BOOL, Type.INT, Type.FLOAT, Type.STR),
    }.get(typ, (typ,))
    items = draw(st.lists(st.sampled_from(literal).flatmap(consts), max_size=3))
    return ir.InList(gen(draw, typ, c.deeper()), ir.ListLit(tuple(items)))


@_gen(Type.BOOL)
def _member(draw: Any, c: Ctx) -> Node:
    choices = [(Type.SPAN, Type.SPANS)] if c.vars_of(Type.SPAN) else []
    if c.vars_of(Type.EVENT) and c.can(Type.EVENTS):
        choices.append((Type.EVENT, Type.EVENTS))
    if not choices:
        return gen(draw, Type.BOOL, c.deeper())
    elem, sets = _pick(draw, choices)
    return ir.Member(ir.Var(_pick(draw, c.vars_of(elem))), gen(draw, sets, c.deeper()))


@_gen(Type.BOOL)
def _has(draw: Any, c: Ctx) -> Node:
    return ir.Has(gen(draw, _pick(draw, _available(c.deeper())), c.deeper()))


# --------------------------------------------------------------------------- formulas


@_gen(Type.BOOL)
def _not(draw: Any, c: Ctx) -> Node:
    return ir.Not(gen(draw, Type.BOOL, c.deeper()))


def _flat_args(draw: Any, c: Ctx, cls: type) -> tuple[Node, ...]:
    args: list[Node] = []
    for _ in range(draw(st.integers(2, 3))):
        arg = gen(draw, Type.BOOL, c.deeper())
        args.extend(arg.args if isinstance(arg, cls) else (arg,))  # type: ignore[attr-defined]
    return tuple(args)


_gen(Type.BOOL, weight=2)(lambda draw, c: ir.And(_flat_args(draw, c, ir.And)))
_gen(Type.BOOL, weight=2)(lambda draw, c: ir.Or(_flat_args(draw, c, ir.Or)))
_gen(Type.BOOL)(
    lambda draw, c: ir.Implies(gen(draw, Type.BOOL, c.deeper()), gen(draw, Type.BOOL, c.deeper()))
)


@_gen(Type.BOOL, weight=6)
def _quant(draw: Any, c: Ctx) -> Node:
    domain, elem = _domain(draw, c.deeper())
    var = _pick(draw, VAR_NAMES)
    inner = c.bind(var, elem)
    guard = gen(draw, Type.BOOL, inner) if draw(st.booleans()) else None
    return ir.Quant(
        _pick(draw, ("forall", "exists")), var, domain, guard, gen(draw, Type.BOOL, inner)
    )


def intervals(params: Mapping[str, Const] | None = None) -> st.SearchStrategy[ir.Interval]:
    """Intervals with literal bounds or bounds named after duration params in ``params``."""

    @st.composite
    def build(draw: Any) -> ir.Interval:
        names = sorted(
            n for n, v in (params or {}).items() if v.type is Type.DURATION and int(v.value) >= 0
        )
        lo = draw(st.sampled_from([0, 0, 1_000_000, 5_000_000_000]))
        lo_name = None
        if names and draw(st.booleans()):
            lo_name = draw(st.sampled_from(names))
            lo = int(params[lo_name].value)  # type: ignore[index]
        hi: int | None = None
        hi_name = None
        upper = [n for n in names if int(params[n].value) >= lo]  # type: ignore[index]
        choice = draw(st.integers(0, 2))
        if choice == 1:
            hi = lo + draw(st.sampled_from([0, 1, 1_000_000, 2_000_000_000]))
        elif choice == 2 and upper:
            hi_name = draw(st.sampled_from(upper))
            hi = int(params[hi_name].value)  # type: ignore[index]
        return ir.Interval(lo, hi, lo_name, hi_name)

    return build()


@_gen(Type.BOOL, lambda c: c.temporal, weight=5)
def _temporal(draw: Any, c: Ctx) -> Node:
    op = _pick(
        draw,
        (
            "always",
            "eventually",
            "next",
            "wnext",
            "historically",
            "once",
            "previously",
            "until",
            "since",
        ),
    )
    iv = ir.Interval() if op in ("next", "wnext", "previously") else draw(intervals(c.params))
    args = tuple(
        gen(draw, Type.BOOL, c.deeper()) for _ in range(2 if op in ir.BINARY_TEMPORAL else 1)
    )
    return ir.Temporal(op, args, iv)


# --------------------------------------------------------------------------- public strategies


def terms(
    typ: Type,
    variables: Mapping[str, Type] | None = None,
    params: Mapping[str, Const] | None = None,
    max_depth: int = 3,
    temporal: bool = True,
) -> st.SearchStrategy[Node]:
    """Well-typed expressions of ``typ`` over ``variables`` (name -> SPAN/EVENT) and ``params``."""
    ctx = Ctx(dict(variables or {}), dict(params or {}), max_depth, temporal)
    if not ctx.can(typ):
        raise ValueError(f"cannot build a {typ} from variables {variables}")

    @st.composite
    def build(draw: Any) -> Node:
        return gen(draw, typ, Ctx(ctx.env, ctx.params, draw(st.integers(0, max_depth)), temporal))

    return build()


def formulas(
    variables: Mapping[str, Type] | None = None,
    params: Mapping[str, Const] | None = None,
    max_depth: int = 4,
    temporal: bool = True,
) -> st.SearchStrategy[Node]:
    """Well-typed boolean formulas (closed when ``variables`` is empty).

    ``temporal=False`` leaves out temporal operators and timeline atoms (for backends
    without a timeline).
    """
    return terms(Type.BOOL, variables, params, max_depth, temporal)


def param_tables(min_size: int = 0) -> st.SearchStrategy[dict[str, ir.Param]]:
    """``name -> Param`` tables (lets and params of every literal type)."""
    typed = {
        "limit": Type.INT,
        "window": Type.DURATION,
        "skew": Type.DURATION,
        "ratio": Type.FLOAT,
        "svc": Type.STR,
        "flag": Type.BOOL,
        "kind0": Type.KIND,
        "code0": Type.STATUS,
        "slack": Type.DURATION,
    }

    @st.composite
    def build(draw: Any) -> dict[str, ir.Param]:
        names = draw(st.lists(st.sampled_from(PARAM_NAMES), unique=True, min_size=min_size))
        out = {}
        for name in names:
            typ = typed[name]
            value = (
                draw(consts(typ))
                if typ is not Type.DURATION
                else Const(draw(st.integers(0, 10**10)), Type.DURATION)
            )
            doc = draw(st.sampled_from(["", "a doc line", "two\nlines"]))
            out[name] = ir.Param(name, value, draw(st.booleans()), doc)
        return out

    return build()


def templates(
    env: Mapping[str, Type], params: Mapping[str, Const]
) -> st.SearchStrategy[ir.Template]:
    """Message templates whose holes use ``env`` (the leading ``forall`` variables)."""
    ctx = Ctx(dict(env), dict(params), 1, True)

    @st.composite
    def build(draw: Any) -> ir.Template:
        parts: list[str | Node] = []
        for _ in range(draw(st.integers(0, 4))):
            if draw(st.booleans()):
                text = draw(st.text(max_size=5))
                if text:
                    if parts and isinstance(parts[-1], str):
                        parts[-1] += text
                    else:
                        parts.append(text)
            else:
                typ = _pick(draw, _available(ctx))
                parts.append(gen(draw, typ, ctx))
        return ir.Template(tuple(parts))

    return build()


def element_type(domain: Node) -> Type:
    """SPAN or EVENT: the elements of a generated set expression."""
    while isinstance(domain, ir.Comprehension):
        domain = domain.domain
    return Type.EVENT if isinstance(domain, ir.Events) else Type.SPAN


def leading_env(formula: Node) -> dict[str, Type]:
    """Variables of the leading ``forall`` chain (what message holes may use)."""
    env: dict[str, Type] = {}
    while isinstance(formula, ir.Quant) and formula.kind == "forall":
        env[formula.var] = element_type(formula.domain)
        formula = formula.body
    return env


names = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True)


def properties(
    params: Mapping[str, ir.Param] | None = None, name: str | None = None
) -> st.SearchStrategy[ir.Property]:
    """Properties over ``params``; the formula often starts with ``forall`` binders (for holes)."""
    values = {n: p.default for n, p in (params or {}).items()}

    @st.composite
    def build(draw: Any) -> ir.Property:
        ctx = Ctx({}, values, 1, True)
        binders: list[tuple[str, Node, Type]] = []
        for _ in range(draw(st.integers(0, 2))):
            domain, elem = _domain(draw, ctx)
            var = _pick(draw, VAR_NAMES)
            binders.append((var, domain, elem))
            ctx = Ctx({**ctx.env, var: elem}, values, 1, True)
        body = draw(formulas(ctx.env, values, max_depth=3))
        formula = body
        for var, domain, _ in reversed(binders):
            formula = ir.Quant("forall", var, domain, None, formula)
        message = draw(st.none() | templates(leading_env(formula), values))
        return ir.Property(
            name or draw(names),
            formula,
            draw(st.sampled_from(("error", "warning", "info"))),
            message,
            tuple(draw(st.lists(st.sampled_from(["structure", "a-b", "x y", "perf"]), max_size=2))),
            draw(
                st.sampled_from(["", "Doc.", "line one\n\n  indented", "trailing  ", "tab\there"])
            ),
        )

    return build()


@st.composite
def specs(draw: Any) -> ir.Spec:
    """Whole specs without imports (params, lets and a few properties)."""
    table = draw(param_tables())
    prop_names = draw(st.lists(names, unique=True, max_size=3))
    props = tuple(draw(properties(table, n)) for n in prop_names)
    name = draw(st.sampled_from(["", "demo", "structure"]))
    description = draw(st.sampled_from(["", "A spec", 'with "quotes"'])) if name else ""
    return ir.Spec(name, description, tuple(table.values()), props)
