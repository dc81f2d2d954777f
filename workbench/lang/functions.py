"""Parse-tree rules for ``name(...)``: built-in functions, aggregates, and their errors.

:class:`BuilderBase` holds the helpers every builder rule uses (positions, located errors);
:class:`FunctionRules` turns a ``call`` into the IR node the function names. The rest of the
builder is :class:`workbench.lang.builder.Builder`.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any

from lark import Token

from workbench.errors import SourcePos, SpecError, SpecSyntaxError, SpecTypeError
from workbench.lang import ir
from workbench.lang.ir import RELATIONS, Const, Node, Type, Var
from workbench.lang.source import PosTable, Source
from workbench.lang.syntax import keywords

#: Scalar built-in functions and their arity.
SCALAR_FUNCTIONS: dict[str, int] = {
    "len": 1,
    "lower": 1,
    "upper": 1,
    "abs": 1,
    "canon": 1,
    "luhn": 1,
    "str": 1,
    "int": 1,
    "float": 1,
}
#: Aggregate functions.
AGGREGATES: tuple[str, ...] = ("count", "sum", "min", "max", "avg", "distinct")
#: ``pNN(x in S: e)`` is ``quantile(0.NN, x in S: e)``.
QUANTILE_SUGAR: dict[str, float] = {"p50": 0.5, "p90": 0.9, "p95": 0.95, "p99": 0.99}
#: Every name usable as ``name(x in S where G: e)``.
AGGREGATE_LIKE: tuple[str, ...] = (*AGGREGATES, "quantile", *QUANTILE_SUGAR)
#: Every name usable as ``name(...)``.
FUNCTIONS: tuple[str, ...] = (
    *AGGREGATE_LIKE,
    *RELATIONS,
    "events",
    "start",
    "end",
    "event",
    "has",
    "hb",
    *SCALAR_FUNCTIONS,
)


# --------------------------------------------------------------------------- signatures
# (read by the type checker; ``tests/engine/test_values.py`` checks them against the value
# library's table of built-ins)

NUMERIC = frozenset({Type.INT, Type.FLOAT})
TEXT = frozenset({Type.STR, Type.ID})
#: Types a message hole, ``str()``, ``has()`` or ``distinct`` may take.
SCALARS = frozenset({Type.BOOL, Type.INT, Type.FLOAT, Type.STR, Type.DURATION, Type.TIME,
                     Type.KIND, Type.STATUS, Type.ID, Type.VALUE})
#: What an attribute value may be compared with.
VALUE_PEERS = frozenset({Type.VALUE, Type.BOOL, Type.INT, Type.FLOAT, Type.STR, Type.ID})

#: The type checker's signature of each scalar function: argument types, result type
#: (``None``: the argument's type, ``value`` giving ``float``).
CALL_SIGNATURES: dict[str, tuple[frozenset[Type], Type | None]] = {
    "len": (TEXT | {Type.VALUE}, Type.INT),
    "lower": (TEXT | {Type.VALUE}, Type.STR),
    "upper": (TEXT | {Type.VALUE}, Type.STR),
    "canon": (TEXT | {Type.VALUE}, Type.STR),
    "str": (SCALARS, Type.STR),
    "abs": (frozenset({Type.INT, Type.FLOAT, Type.DURATION, Type.VALUE}), None),
    "luhn": (frozenset({Type.STR, Type.VALUE}), Type.BOOL),
    "int": (frozenset({Type.INT, Type.FLOAT, Type.STR, Type.VALUE}), Type.INT),
    "float": (frozenset({Type.INT, Type.FLOAT, Type.STR, Type.VALUE}), Type.FLOAT),
}
_SUMMABLE = frozenset({Type.INT, Type.FLOAT, Type.DURATION, Type.VALUE})
#: The body types each aggregate accepts.
AGGREGATE_TYPES: dict[str, frozenset[Type]] = {
    "sum": _SUMMABLE,
    "avg": _SUMMABLE,
    "min": _SUMMABLE | {Type.TIME},
    "max": _SUMMABLE | {Type.TIME},
    "distinct": SCALARS,
}


class BuilderBase:
    """State and helpers shared by the builder's rules."""

    def __init__(self, source: Source, positions: PosTable) -> None:
        self.src = source
        self.positions = positions
        self.parens: set[int] = set()  # nodes written in parentheses
        self.literals: set[int] = set()  # numeric constants written as one token

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



class FunctionRules(BuilderBase):
    """The ``call`` rule: ``name(args)``, ``agg(x in S where G: e)``."""

    def call(self, meta: Any, ch: list[Any]) -> Node:
        tok, args, guard, body = ch
        fname, args = str(tok.value), args or []
        if fname in AGGREGATES:
            return self._at(self._aggregate(fname, args, guard, body, meta, tok), meta, tok)
        if fname == "quantile" or fname in QUANTILE_SUGAR:
            return self._at(self._quantile(fname, args, guard, body, meta, tok), meta, tok)
        if fname not in FUNCTIONS:
            close = did_you_mean(fname, FUNCTIONS if guard is None and body is None
                                 else AGGREGATE_LIKE)
            listed = "aggregates are " + ", ".join(AGGREGATE_LIKE)
            if guard is None and body is None:
                listed = "functions are " + ", ".join(sorted(FUNCTIONS))
            raise self._err(f"unknown function `{fname}`", tok,
                            f"{close} {listed}" if close else listed)
        if guard is not None or body is not None:
            raise self._err(
                f"`where` and `:` belong to aggregates, not to `{fname}()`",
                meta,
                "aggregates are " + ", ".join(AGGREGATE_LIKE),
            )
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
            raise self._err(f"unknown function `{fname}`", tok, did_you_mean(fname, FUNCTIONS))
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
        if fname == "count" and body is not None:
            raise self._err("count() takes no `: value`", meta, usage)
        if fname != "count" and body is None:
            raise self._err(f"{fname}() needs a variable and a value", meta, usage)
        domain, var = self._binder(args[0], guard, meta, usage)
        if fname == "count":
            return ir.Aggregate("count", domain)
        if var is None:
            raise self._err(f"{fname}() needs a variable to bind", meta, usage)
        return ir.Aggregate(fname, domain, var, body)  # type: ignore[arg-type]

    def _binder(
        self, arg: Node, guard: Node | None, meta: Any, usage: str
    ) -> tuple[Node, str | None]:
        """``x in S`` (with ``where G``) -> (the set, the variable); a bare set -> (it, None)."""
        binder = isinstance(arg, ir.Member) and id(arg) not in self.parens
        domain = arg.domain if isinstance(arg, ir.Member) and binder else arg
        var = arg.elem.name if isinstance(arg, ir.Member) and binder else None
        if guard is not None:
            if var is None:
                raise self._err("`where` needs a variable: `x in S where ...`", meta, usage)
            domain = self._at(ir.Comprehension(var, domain, guard), self._where(arg, meta))
        return domain, var

    def _quantile(
        self,
        fname: str,
        args: list[Node],
        guard: Node | None,
        body: Node | None,
        meta: Any,
        tok: Token,
    ) -> Node:
        sugar = fname in QUANTILE_SUGAR
        head = fname + ("(" if sugar else "(q, ")
        usage = f"write `{head}x in S: value)` or `{head}x in S where condition: value)`"
        if sugar:
            usage += f"; `{fname}` is `quantile({QUANTILE_SUGAR[fname]}, ...)`"
        else:
            usage += " with q a number from 0 to 1, e.g. `quantile(0.99, x in S: x.duration)`"
        wanted = 1 if sugar else 2
        if len(args) != wanted:
            raise self._err(
                f"{fname}() takes {_plural(wanted, 'argument')} before `:`, got {len(args)}",
                tok,
                usage,
            )
        if sugar:
            q = QUANTILE_SUGAR[fname]
        else:
            lit = args[0]
            value = lit.value if isinstance(lit, Const) else None
            if not (isinstance(value, int | float) and not isinstance(value, bool)
                    and id(lit) in self.literals and 0 <= value <= 1):
                raise self._err(
                    "the quantile must be a number literal from 0 to 1",
                    self._where(lit, meta),
                    usage,
                )
            q = float(value)
        if body is None:
            raise self._err(f"{fname}() needs a variable and a value", meta, usage)
        domain, var = self._binder(args[-1], guard, meta, usage)
        if var is None:
            raise self._err(f"{fname}() needs a variable to bind", meta, usage)
        return ir.Quantile(q, domain, var, body)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def suggest_enum(name: str) -> str | None:
    """A hint for a misspelt span kind or status name (``Clinet`` -> ``CLIENT``), else None."""
    names = (*ir.KINDS, *ir.STATUSES)
    upper = name.upper()
    if upper in names:
        close = [upper]
    else:
        close = difflib.get_close_matches(upper, names, n=2, cutoff=0.7)
    if not close:
        return None
    return (
        "did you mean " + " or ".join(f"`{c}`" for c in close) + "? kinds: "
        + ", ".join(ir.KINDS) + "; statuses: " + ", ".join(ir.STATUSES)
    )


def did_you_mean(name: str, options: Iterable[str]) -> str | None:
    """``did you mean `count`?`` for the options close to ``name``, else ``None``."""
    close = difflib.get_close_matches(name, list(options), n=3, cutoff=0.6)
    return "did you mean " + " or ".join(f"`{c}`" for c in close) + "?" if close else None
