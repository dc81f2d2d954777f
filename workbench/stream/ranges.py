"""Order joins of accumulators: sorted keys, so a new span finds its partners by bisection.

An accumulator whose members contribute only while a conjunct ``y.f < x.g`` holds (``<=``,
``>``, ``>=``; in the comprehension's guard, the quantifier's guard, or an ``exists``' body:
``count(x in spans where x.start < s.start)``) cannot be hash-indexed like an equality join
(:mod:`workbench.stream.accumulate`), but :func:`workbench.engine.values.order` compares only
numbers with numbers and strings with strings, so each side sorts: a :class:`RangeIndex` keeps
the members' keys and the binding groups' keys, numbers and strings apart, and a new member is
fed only to the groups whose key it precedes (or follows), a new group only the members in its
range: O(log n) to find them instead of a pass over every binding. Undefined, NaN, booleans and
other values satisfy no order and join nothing.
"""

from __future__ import annotations

import bisect
from typing import Any

from workbench.engine.values import UNDEF, is_number
from workbench.lang import ir

#: ``m op b`` read the other way round: ``b flip[op] m``
_FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}


def order_key(cands: list[ir.Node], var: str, members: set[str]
              ) -> tuple[ir.Node, ir.Node, str] | None:
    """``(member side, binding side, op)`` of the first conjunct ``member op binding`` among
    ``cands`` (each a conjunct every contributing member satisfies), or ``None``."""
    from workbench.stream.accumulate import free_vars

    def one(node: ir.Node) -> str | None:
        fv = free_vars(node)
        return next(iter(fv)) if len(fv) == 1 else None

    for c in cands:
        if isinstance(c, ir.Compare) and c.op in _FLIP:
            lv, rv = one(c.left), one(c.right)
            if lv in members and rv == var:
                return c.left, c.right, c.op
            if rv in members and lv == var:
                return c.right, c.left, _FLIP[c.op]
    return None


def sort_key(value: Any) -> tuple[int, Any] | None:
    """``(kind, value)``: kind 0 for numbers, 1 for strings; ``None`` for what orders nothing."""
    if value is UNDEF or isinstance(value, bool):
        return None
    if is_number(value):
        return None if value != value else (0, value)
    if isinstance(value, str):
        return (1, value)
    return None


class RangeIndex:
    """The members and the binding groups of one order join, sorted by key per kind.

    ``op`` is the join read as ``member op binding``.
    """

    def __init__(self, op: str) -> None:
        self.op = op
        # per kind: sorted keys and, at the same positions, the members / groups
        self._mkeys: tuple[list[Any], list[Any]] = ([], [])
        self._members: tuple[list[Any], list[Any]] = ([], [])
        self._gkeys: tuple[list[Any], list[Any]] = ([], [])
        self._groups: tuple[list[Any], list[Any]] = ([], [])

    def add_member(self, key: tuple[int, Any], member: Any) -> None:
        kind, v = key
        i = bisect.bisect_right(self._mkeys[kind], v)
        self._mkeys[kind].insert(i, v)
        self._members[kind].insert(i, member)

    def add_group(self, key: tuple[int, Any], group: Any) -> None:
        kind, v = key
        i = bisect.bisect_right(self._gkeys[kind], v)
        self._gkeys[kind].insert(i, v)
        self._groups[kind].insert(i, group)

    def remove_group(self, key: tuple[int, Any], group: Any) -> None:
        kind, v = key
        keys, groups = self._gkeys[kind], self._groups[kind]
        i = bisect.bisect_left(keys, v)
        while i < len(keys) and keys[i] == v:
            if groups[i] is group:
                del keys[i], groups[i]
                return
            i += 1

    def groups_for(self, key: tuple[int, Any]) -> list[Any]:
        """The groups whose key ``b`` satisfies ``member_key op b``."""
        kind, a = key
        keys, groups = self._gkeys[kind], self._groups[kind]
        op = self.op
        if op == "<":
            return groups[bisect.bisect_right(keys, a):]
        if op == "<=":
            return groups[bisect.bisect_left(keys, a):]
        if op == ">":
            return groups[:bisect.bisect_left(keys, a)]
        return groups[:bisect.bisect_right(keys, a)]

    def members_for(self, key: tuple[int, Any]) -> list[Any]:
        """The members whose key ``a`` satisfies ``a op group_key``."""
        kind, b = key
        keys, members = self._mkeys[kind], self._members[kind]
        op = self.op
        if op == "<":
            return members[:bisect.bisect_left(keys, b)]
        if op == "<=":
            return members[:bisect.bisect_right(keys, b)]
        if op == ">":
            return members[bisect.bisect_right(keys, b):]
        return members[bisect.bisect_left(keys, b):]


__all__ = ["RangeIndex", "order_key", "sort_key"]
