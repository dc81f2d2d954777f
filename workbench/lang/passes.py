"""Passes over typed specs: parameter binding, normalization, and a small pass manager.

* :func:`bind_params` (in :mod:`workbench.lang.bind`, re-exported here) applies ``--param``
  overrides and replaces every :class:`~workbench.lang.ir.ParamRef` (and every named
  interval bound) by its value; :func:`workbench.engine.check` runs it first.
* :func:`normalize` applies :data:`RULES` bottom-up to a fixpoint. Each rule is a small,
  separately callable function that returns the rewritten node or ``None`` (not applicable);
  each is sound for the semantics of ``docs/language.md`` *including undefined values* (so,
  for example, ``not a < b`` is **not** rewritten to ``a >= b``: both are false when ``a`` is
  undefined).
* :func:`run_passes` runs a pipeline, timing each pass and optionally dumping the spec.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from workbench.lang import ir
from workbench.lang.bind import bind_params as bind_params  # re-exported
from workbench.lang.bind import override_values as override_values
from workbench.lang.bind import param_overrides as param_overrides
from workbench.lang.bind import parse_param_value as parse_param_value
from workbench.lang.bind import typed_param_value as typed_param_value
from workbench.lang.construct import SMART, intern, neg
from workbench.lang.ir import Const, Node, Spec, Type
from workbench.lang.walk import transform

# --------------------------------------------------------------------------- rules


@dataclass(frozen=True)
class Rule:
    """A named rewrite rule: ``apply(node)`` returns the rewritten node or ``None``.

    ``node_types`` are the node classes the rule can fire on (:func:`normalize` offers a node
    only the rules of its class).
    """

    name: str
    apply: Callable[[Node], Node | None]
    node_types: tuple[type, ...] = ()

    @property
    def doc(self) -> str:
        """The rule's statement (its function's docstring)."""
        return (self.apply.__doc__ or "").strip()

    def __call__(self, node: Node) -> Node | None:
        return self.apply(node)


TRUE = Const(True, Type.BOOL)
FALSE = Const(False, Type.BOOL)
_NUMBERS = (Type.INT, Type.FLOAT)


def _bool(node: Node) -> bool | None:
    return bool(node.value) if isinstance(node, Const) and node.type is Type.BOOL else None


def flatten_and(node: Node) -> Node | None:
    """``a and (b and c)`` -> ``a and b and c``."""
    if isinstance(node, ir.And) and any(isinstance(a, ir.And) for a in node.args):
        return ir.And(
            tuple(x for a in node.args for x in (a.args if isinstance(a, ir.And) else (a,)))
        )
    return None


def flatten_or(node: Node) -> Node | None:
    """``a or (b or c)`` -> ``a or b or c``."""
    if isinstance(node, ir.Or) and any(isinstance(a, ir.Or) for a in node.args):
        return ir.Or(
            tuple(x for a in node.args for x in (a.args if isinstance(a, ir.Or) else (a,)))
        )
    return None


def double_negation(node: Node) -> Node | None:
    """``not not a`` -> ``a`` (connectives are two-valued)."""
    if isinstance(node, ir.Not) and isinstance(node.arg, ir.Not):
        return node.arg.arg
    return None


def not_constant(node: Node) -> Node | None:
    """``not true`` -> ``false``; ``not false`` -> ``true``."""
    if isinstance(node, ir.Not) and (b := _bool(node.arg)) is not None:
        return FALSE if b else TRUE
    return None


def and_constants(node: Node) -> Node | None:
    """``a and true`` -> ``a``; ``a and false`` -> ``false``; a one-operand ``and`` -> the
    operand."""
    if not isinstance(node, ir.And):
        return None
    if any(_bool(a) is False for a in node.args):
        return FALSE
    args = tuple(a for a in node.args if _bool(a) is not True)
    if len(args) == len(node.args) and len(args) >= 2:
        return None
    return TRUE if not args else args[0] if len(args) == 1 else ir.And(args)


def or_constants(node: Node) -> Node | None:
    """``a or false`` -> ``a``; ``a or true`` -> ``true``; a one-operand ``or`` -> its operand."""
    if not isinstance(node, ir.Or):
        return None
    if any(_bool(a) is True for a in node.args):
        return TRUE
    args = tuple(a for a in node.args if _bool(a) is not False)
    if len(args) == len(node.args) and len(args) >= 2:
        return None
    return FALSE if not args else args[0] if len(args) == 1 else ir.Or(args)


def duplicate_operands(node: Node) -> Node | None:
    """``a and a`` -> ``a``, ``a or a`` -> ``a`` (first occurrence kept)."""
    if isinstance(node, ir.And | ir.Or):
        args = tuple(dict.fromkeys(node.args))
        if len(args) < len(node.args):
            return args[0] if len(args) == 1 else type(node)(args)
    return None


def implies_constants(node: Node) -> Node | None:
    """``true -> a`` -> ``a``; ``false -> a`` -> ``true``; ``a -> true`` -> ``true``;
    ``a -> false`` -> ``not a``."""
    if not isinstance(node, ir.Implies):
        return None
    left, right = _bool(node.left), _bool(node.right)
    if left is not None:
        return node.right if left else TRUE
    if right is not None:
        return TRUE if right else neg(node.left)
    return None


def fold_negation(node: Node) -> Node | None:
    """``-(c)`` -> the constant ``-c`` for a number or duration ``c``."""
    if isinstance(node, ir.Neg) and isinstance(node.operand, Const):
        c = node.operand
        if c.type in (*_NUMBERS, Type.DURATION) and _is_number(c.value):
            return Const(-c.value, c.type)  # type: ignore[operator]
    return None


_NUMERIC_OPS: dict[str, Callable[[Any, Any], Any]] = {
    "+": lambda x, y: x + y,
    "-": lambda x, y: x - y,
    "*": lambda x, y: x * y,
    "/": lambda x, y: x / y,
    "%": lambda x, y: x % y,
}


def _arith(op: str, a: Const, b: Const) -> Const | None:
    x: Any = a.value
    y: Any = b.value
    ta, tb = a.type, b.type
    if op in "/%" and y == 0:
        return None  # undefined: left for the backends
    value: Any
    try:
        if ta in _NUMBERS and tb in _NUMBERS:
            typ = Type.INT if ta is tb is Type.INT and op != "/" else Type.FLOAT
            value = _NUMERIC_OPS[op](x, y)
            value = float(value) if typ is Type.FLOAT else int(value)
        elif ta is tb is Type.DURATION and op in "+-":
            typ, value = Type.DURATION, _NUMERIC_OPS[op](x, y)
        elif op == "*" and {ta, tb} == {Type.DURATION, Type.INT}:
            typ, value = Type.DURATION, x * y
        elif op == "/" and ta is tb is Type.DURATION:
            typ, value = Type.FLOAT, x / y
        else:
            return None
    except (OverflowError, ValueError):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return Const(value, typ)


def fold_arithmetic(node: Node) -> Node | None:
    """``c1 op c2`` -> its value, for constants of the types the type rules allow.

    Not folded: division or remainder by zero (undefined), non-finite results, and
    ``duration * float`` / ``duration / int`` (their value may be a fractional number of
    nanoseconds, which no duration literal can write).
    """
    if (
        isinstance(node, ir.Arith)
        and isinstance(node.left, Const)
        and isinstance(node.right, Const)
    ):
        return _arith(node.op, node.left, node.right)
    return None


_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _values_equal(a: object, b: object) -> bool:
    """Equality of values as the manual defines it: numbers numerically, booleans only with
    booleans, anything else when of the same kind and equal."""
    if _is_number(a) and _is_number(b):
        return a == b
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    return type(a) is type(b) and a == b


def fold_comparison(node: Node) -> Node | None:
    """``c1 op c2`` -> ``true``/``false`` for constants (ordering: numbers or texts only)."""
    if not (
        isinstance(node, ir.Compare)
        and isinstance(node.left, Const)
        and isinstance(node.right, Const)
    ):
        return None
    a, b = node.left.value, node.right.value
    if node.op in ("==", "!="):
        return TRUE if _values_equal(a, b) == (node.op == "==") else FALSE
    if (_is_number(a) and _is_number(b)) or (isinstance(a, str) and isinstance(b, str)):
        return TRUE if _COMPARE[node.op](a, b) else FALSE
    return None


def fold_in_list(node: Node) -> Node | None:
    """``c in [c1, c2]`` -> ``true``/``false`` for a constant ``c``."""
    if isinstance(node, ir.InList) and isinstance(node.operand, Const):
        c = node.operand.value
        return TRUE if any(_values_equal(c, i.value) for i in node.items.items) else FALSE
    return None


def fold_match(node: Node) -> Node | None:
    """``"text" matches "re"`` -> ``true``/``false`` (Python ``re.search``)."""
    if (
        isinstance(node, ir.Match)
        and isinstance(node.operand, Const)
        and node.operand.type is Type.STR
    ):
        from workbench.engine.regex import search  # linear time where RE2 applies

        return TRUE if search(node.pattern, str(node.operand.value)) else FALSE
    return None


def quantifier_constants(node: Node) -> Node | None:
    """``where true`` is dropped; a ``false`` guard or a ``true``/``false`` body decides:
    ``forall .. where false`` -> ``true``, ``exists .. where false`` -> ``false``,
    ``forall ..: true`` -> ``true``, ``exists ..: false`` -> ``false``."""
    if not isinstance(node, ir.Quant):
        return None
    guard = None if node.guard is None else _bool(node.guard)
    body = _bool(node.body)
    universal = node.kind == "forall"
    if guard is False or body is universal:
        return TRUE if universal else FALSE
    if guard is True:
        return ir.Quant(node.kind, node.var, node.domain, None, node.body)
    return None


def trivial_comprehension(node: Node) -> Node | None:
    """``{x in S where true}`` -> ``S``."""
    if isinstance(node, ir.Comprehension) and _bool(node.guard) is True:
        return node.domain
    return None




def temporal_constants(node: Node) -> Node | None:
    """``always/historically/wnext true`` -> ``true``; ``eventually/once/next/previously
    false`` -> ``false``; ``a until/since false`` -> ``false`` (any interval)."""
    if isinstance(node, ir.Temporal):
        last = _bool(node.args[-1])
        if last is True and node.op in ir.TRUE_WHEN_TRUE:
            return TRUE
        if last is False and node.op in ir.FALSE_WHEN_FALSE:
            return FALSE
    return None


#: The normalization rules, in the order they are tried at each node.
RULES: list[Rule] = [
    Rule(fn.__name__, fn, types)
    for fn, types in (
        (flatten_and, (ir.And,)),
        (flatten_or, (ir.Or,)),
        (double_negation, (ir.Not,)),
        (not_constant, (ir.Not,)),
        (and_constants, (ir.And,)),
        (or_constants, (ir.Or,)),
        (duplicate_operands, (ir.And, ir.Or)),
        (implies_constants, (ir.Implies,)),
        (fold_negation, (ir.Neg,)),
        (fold_arithmetic, (ir.Arith,)),
        (fold_comparison, (ir.Compare,)),
        (fold_in_list, (ir.InList,)),
        (fold_match, (ir.Match,)),
        (quantifier_constants, (ir.Quant,)),
        (trivial_comprehension, (ir.Comprehension,)),
        (temporal_constants, (ir.Temporal,)),
    )
]


def normalize(node: Node, rules: Sequence[Rule] | None = None) -> Node:
    """Apply ``rules`` bottom-up, each node to a fixpoint.

    With the default rules, ``and``/``or``/``not`` are rebuilt by the smart constructors of
    :mod:`workbench.lang.construct` (the same normal form as the connective rules, in one
    step), and the result is hash-consed.

    Parameters
    ----------
    node:
        Any node, including a :class:`~workbench.lang.ir.Property` or a whole
        :class:`~workbench.lang.ir.Spec`. Bind params first (:func:`bind_params`) for
        constants to fold fully.
    rules:
        The rules to apply, tried in order at each node (default :data:`RULES`).

    Returns
    -------
    Node
        An equivalent node, hash-consed (:func:`~workbench.lang.construct.intern`);
        unchanged sub-trees of an interned input are shared with it.
    """
    by_class: dict[type, list[Rule]] = {}
    untyped: list[Rule] = []
    for rule in RULES if rules is None else rules:
        for cls in rule.node_types:
            by_class.setdefault(cls, []).append(rule)
        if not rule.node_types:
            untyped.append(rule)

    smart = SMART if rules is None else {}

    def rewrite(n: Node) -> Node | None:
        changed = False
        build = smart.get(type(n))
        if build is not None:  # and/or/not: the smart constructor is the normal form
            built = build(n)
            n, changed = built, built is not n
        while True:
            for rule in by_class.get(type(n), []) + untyped:
                out = rule.apply(n)
                if out is not None:
                    n, changed = out, True
                    break
            else:
                shared = intern(n)  # equal sub-trees of the result are one object
                return shared if changed or shared is not n else None

    return transform(node, rewrite)


def normalize_spec(spec: Spec) -> Spec:
    """:func:`normalize` for a spec (keeps the type for the pass manager)."""
    result = normalize(spec)
    assert isinstance(result, Spec)
    return result


# --------------------------------------------------------------------------- pass manager


@dataclass(frozen=True)
class Pass:
    """A named spec -> spec transformation."""

    name: str
    run: Callable[[Spec], Spec]


def bind_pass(overrides: Mapping[str, Any] | None = None) -> Pass:
    """A :class:`Pass` running :func:`bind_params` with ``overrides``."""
    return Pass("bind_params", lambda spec: bind_params(spec, overrides))


NORMALIZE = Pass("normalize", normalize_spec)


def run_passes(
    spec: Spec,
    passes: Iterable[Pass | Callable[[Spec], Spec]],
    dump: bool = False,
    out: TextIO | None = None,
) -> tuple[Spec, list[tuple[str, float]]]:
    """Run ``passes`` in order, timing each.

    Parameters
    ----------
    spec:
        The input spec.
    passes:
        :class:`Pass` objects or plain functions (named after ``__name__``).
    dump:
        Print the spec after each pass (as canonical text) to ``out`` (default stderr).

    Returns
    -------
    tuple[Spec, list[tuple[str, float]]]
        The final spec and ``(pass name, seconds)`` per pass.
    """
    from workbench.lang.printer import print_spec

    timings: list[tuple[str, float]] = []
    for item in passes:
        p = item if isinstance(item, Pass) else Pass(getattr(item, "__name__", "pass"), item)
        start = time.perf_counter()
        spec = p.run(spec)
        elapsed = time.perf_counter() - start
        timings.append((p.name, elapsed))
        if dump:
            stream = out or sys.stderr
            print(f"# --- after {p.name} ({elapsed * 1000:.2f} ms)", file=stream)
            print(print_spec(spec), file=stream)
    return spec, timings
