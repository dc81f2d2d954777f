"""Smart constructors and hash-consing for the IR.

:func:`conj`, :func:`disj` and :func:`neg` build ``and``/``or``/``not`` in normal form:
nested same-kind operands are flattened, boolean constants folded (``true`` is the identity
of ``and`` and absorbs ``or``; ``false`` the reverse), duplicate operands dropped (first
occurrence kept, so operand order is stable) and ``not not a`` is ``a``. Every rewrite is
sound for the semantics of ``docs/language.md``, undefined values included: the connectives
are two-valued (an atom over an undefined value is false, not undefined).

:func:`intern` hash-conses a node: structurally equal nodes built through it are the same
object, so memo tables keyed by nodes (or by ``id``) share work across equal sub-formulas.
The table holds its nodes weakly; a node's key names its children by identity and its scalar
fields with their Python type (so ``1`` and ``1.0``, or ``0.0`` and ``-0.0``, stay apart
even though they compare equal).

The type checker builds every typed node through :func:`intern`, so every consumer of a loaded
spec sees shared IR; it keeps the connectives as written (``parse(print(f)) == f`` and
``otlspec fmt`` preserve the text, and folding before typing would hide type errors in
absorbed operands). :func:`workbench.lang.passes.normalize` rebuilds the connectives with
the smart constructors (:data:`SMART`).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterable
from dataclasses import fields, replace
from typing import Any

from workbench.lang import ir
from workbench.lang.ir import Const, Node, Type

TRUE = Const(True, Type.BOOL)
FALSE = Const(False, Type.BOOL)

_TABLE: weakref.WeakValueDictionary[tuple[Any, ...], Node] = weakref.WeakValueDictionary()
_FIELDS: dict[type, tuple[str, ...]] = {}
_CANON: dict[int, weakref.ref[Node]] = {}  # id -> the canonical node (alive)


def _bool(node: Node) -> bool | None:
    return bool(node.value) if isinstance(node, Const) and node.type is Type.BOOL else None


def _part(value: object) -> object:
    """The key of one field value: nodes by identity, scalars with their type."""
    if isinstance(value, Node):
        return id(value)
    if isinstance(value, tuple):
        return tuple(_part(v) for v in value)
    if isinstance(value, float):
        return (float, value.hex())
    return (type(value), value)


def _canonical(node: Node) -> bool:
    ref = _CANON.get(id(node))
    return ref is not None and ref() is node


def _forgetter(key: int) -> Callable[[weakref.ref[Node]], None]:
    def forget(ref: weakref.ref[Node]) -> None:
        if _CANON.get(key) is ref:
            del _CANON[key]
    return forget


def _interned_field(value: object) -> object:
    if isinstance(value, Node):
        return intern(value)
    if isinstance(value, tuple) and any(isinstance(v, Node) for v in value):
        items = tuple(intern(v) if isinstance(v, Node) else v for v in value)
        return value if all(a is b for a, b in zip(items, value, strict=True)) else items
    return value


def intern(node: Node) -> Node:
    """The canonical object equal to ``node`` (``node`` itself the first time).

    Parameters
    ----------
    node:
        Any IR node. Children that are not canonical yet are interned first (the type
        checker interns bottom-up, so that is one table look-up per child).

    Returns
    -------
    Node
        A node equal to ``node``; the same object for every equal node interned while it
        lives.
    """
    if _canonical(node):
        return node
    cls = type(node)
    names = _FIELDS.get(cls)
    if names is None:
        names = _FIELDS[cls] = tuple(f.name for f in fields(node))
    changes: dict[str, object] = {}
    for name in names:
        value = getattr(node, name)
        new = _interned_field(value)
        if new is not value:
            changes[name] = new
    if changes:
        node = replace(node, **changes)
    try:
        key = (cls, *(_part(getattr(node, n)) for n in names))
        found = _TABLE.get(key)
    except TypeError:  # an unhashable field value: not shared
        return node
    if found is not None:
        return found
    _TABLE[key] = node
    _CANON[id(node)] = weakref.ref(node, _forgetter(id(node)))
    return node


def _operands(args: Iterable[Node], kind: type[ir.And] | type[ir.Or]) -> list[Node]:
    out: list[Node] = []
    for a in args:
        out.extend(a.args if type(a) is kind else (a,))
    return out


def _junction(args: Iterable[Node], kind: type[ir.And] | type[ir.Or]) -> Node:
    unit = kind is ir.And  # the identity of `and` is true, of `or` false
    flat = _operands(args, kind)
    if any(_bool(a) is (not unit) for a in flat):
        return intern(FALSE if unit else TRUE)
    kept = tuple(dict.fromkeys(a for a in flat if _bool(a) is not unit))
    if not kept:
        return intern(TRUE if unit else FALSE)
    if len(kept) == 1:
        return kept[0]
    return intern(kind(kept))


def conj(args: Iterable[Node]) -> Node:
    """``and`` of ``args``: flattened, constants folded, duplicates dropped; a single operand
    is returned as is, no operand is ``true``."""
    return _junction(args, ir.And)


def disj(args: Iterable[Node]) -> Node:
    """``or`` of ``args``: flattened, constants folded, duplicates dropped; a single operand
    is returned as is, no operand is ``false``."""
    return _junction(args, ir.Or)


def neg(arg: Node) -> Node:
    """``not arg``, with ``not not a`` -> ``a`` and ``not true`` -> ``false``."""
    if type(arg) is ir.Not:
        return arg.arg
    b = _bool(arg)
    if b is not None:
        return intern(FALSE if b else TRUE)
    return intern(ir.Not(arg))


def _rebuild_and(node: Node) -> Node:
    built = conj(node.args)  # type: ignore[attr-defined]
    return node if built == node else built


def _rebuild_or(node: Node) -> Node:
    built = disj(node.args)  # type: ignore[attr-defined]
    return node if built == node else built


def _rebuild_not(node: Node) -> Node:
    built = neg(node.arg)  # type: ignore[attr-defined]
    return node if built == node else built


#: The smart constructor of each connective, applied to an existing node (the node itself
#: when it is already in normal form); :func:`workbench.lang.passes.normalize` uses it.
SMART: dict[type, Callable[[Node], Node]] = {
    ir.And: _rebuild_and,
    ir.Or: _rebuild_or,
    ir.Not: _rebuild_not,
}

__all__ = ["FALSE", "SMART", "TRUE", "conj", "disj", "intern", "neg"]
