"""Traversals of the IR: post-order iteration, bottom-up rebuilding, free variables.

Per-class facts (which fields hold sub-nodes: :data:`workbench.lang.ir.CHILD_FIELDS`; which
variable a node binds) are kept in dicts keyed on the class, so the walkers dispatch without
``isinstance`` ladders. Shared sub-trees (the IR is often a DAG after rewriting) are visited
and rebuilt once: the memo tables are keyed by object identity (cheaper still than the
nodes' cached hashes, and exact for a DAG).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import fields
from typing import Any

from workbench.lang import ir
from workbench.lang.ir import Node

Rewrite = Callable[[Node], Node | None]

def child_fields(cls: type) -> tuple[str, ...]:
    """Names of the fields of node class ``cls`` that may hold nodes (or tuples of nodes).

    Read from :data:`workbench.lang.ir.CHILD_FIELDS`; a class missing there raises
    ``KeyError`` rather than being walked as a leaf.
    """
    return ir.CHILD_FIELDS[cls]


def _children(node: Node) -> Iterator[Node]:
    for name in child_fields(type(node)):
        value = getattr(node, name)
        if isinstance(value, Node):
            yield value
        elif isinstance(value, tuple):
            yield from (v for v in value if isinstance(v, Node))


def postorder(root: Node) -> list[Node]:
    """Every distinct node object under ``root``, children before parents.

    Parameters
    ----------
    root:
        Any IR node (included in the result, last).

    Returns
    -------
    list[Node]
        The nodes in post-order; a sub-tree shared by several parents appears once.
    """
    out: list[Node] = []
    seen: set[int] = set()
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            out.append(node)
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.append((node, True))
        stack.extend((child, False) for child in reversed(list(_children(node))))
    return out


def _rebuild(node: Node, new_child: Callable[[Node], Node]) -> Node:
    """``node`` with every sub-node replaced by ``new_child(sub)``; ``node`` itself if unchanged."""
    changes: dict[str, Any] = {}
    for name in child_fields(type(node)):
        value = getattr(node, name)
        if isinstance(value, Node):
            new = new_child(value)
            if new is not value:
                changes[name] = new
        elif isinstance(value, tuple):
            items = tuple(new_child(v) if isinstance(v, Node) else v for v in value)
            if any(a is not b for a, b in zip(items, value, strict=True)):
                changes[name] = items
    if not changes:
        return node
    kwargs = {f.name: changes.get(f.name, getattr(node, f.name)) for f in fields(node)}
    return type(node)(**kwargs)


def transform(node: Node, rewrite: Rewrite | Mapping[type, Rewrite]) -> Node:
    """Rebuild ``node`` bottom-up, offering each rebuilt node to ``rewrite``.

    Parameters
    ----------
    node:
        The root.
    rewrite:
        Either a function returning a replacement node or ``None`` (keep), or a dict from node
        class to such a function (classes not in the dict are kept).

    Returns
    -------
    Node
        The new tree; unchanged sub-trees are shared with the input.
    """
    if isinstance(rewrite, Mapping):
        table = rewrite

        def by_class(n: Node) -> Node | None:
            fn = table.get(type(n))
            return fn(n) if fn is not None else None

        fn: Rewrite = by_class
    else:
        fn = rewrite
    memo: dict[int, Node] = {}
    keep: list[Node] = []

    def visit(n: Node) -> Node:
        done = memo.get(id(n))
        if done is not None:
            return done
        rebuilt = _rebuild(n, visit)
        replaced = fn(rebuilt)
        result = rebuilt if replaced is None else replaced
        memo[id(n)] = result
        keep.append(n)
        return result

    return visit(node)


_BINDER_SCOPES: dict[type, tuple[str, ...]] = {
    ir.Quant: ("guard", "body"),
    ir.Comprehension: ("guard",),
    ir.Aggregate: ("body",),
    ir.Quantile: ("body",),
}


def binder_of(node: Node) -> tuple[str | None, tuple[str, ...]]:
    """The variable ``node`` binds (or ``None``) and the fields in which it is in scope."""
    scoped = _BINDER_SCOPES.get(type(node))
    if scoped is None:
        return None, ()
    return getattr(node, "var", None), scoped


def free_vars(node: Node) -> frozenset[str]:
    """Names of the variables used in ``node`` and not bound inside it.

    Parameters
    ----------
    node:
        Any IR node (quantifiers, comprehensions and aggregates bind their variable in their
        guard/body, not in their domain).

    Returns
    -------
    frozenset[str]
        Free variable names; a :class:`~workbench.lang.ir.ParamRef` is not a variable.
    """
    memo: dict[int, frozenset[str]] = {}

    def visit(n: Node) -> frozenset[str]:
        done = memo.get(id(n))
        if done is not None:
            return done
        if isinstance(n, ir.Var):
            result = frozenset({n.name})
        else:
            var, scoped = binder_of(n)
            acc: set[str] = set()
            for name in child_fields(type(n)):
                value = getattr(n, name)
                subs = value if isinstance(value, tuple) else (value,)
                for sub in subs:
                    if isinstance(sub, Node):
                        inner = visit(sub)
                        acc |= inner - {var} if name in scoped else inner
            result = frozenset(acc)
        memo[id(n)] = result
        return result

    return visit(node)
