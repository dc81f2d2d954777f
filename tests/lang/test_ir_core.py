"""The IR core: explicit child fields for every node class, cached hashes that are never
pickled, exhaustive temporal operators."""

from __future__ import annotations

import pickle
import re
from dataclasses import fields, replace

import pytest

from workbench.lang import ir
from workbench.lang.walk import child_fields, postorder

CLASSES = [v for v in vars(ir).values()
           if isinstance(v, type) and issubclass(v, ir.Node) and v is not ir.Node]
NAMES = {c.__name__ for c in CLASSES} | {"Node"}


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_child_fields_are_explicit_and_match_the_annotations(cls: type[ir.Node]) -> None:
    by_annotation = tuple(f.name for f in fields(cls)
                          if NAMES & set(re.findall(r"[A-Za-z_]+", str(f.type))))
    assert ir.CHILD_FIELDS[cls] == by_annotation == child_fields(cls)


def test_an_unknown_node_class_is_not_walked_as_a_leaf() -> None:
    class Extra(ir.Var):
        __slots__ = ()

    with pytest.raises(KeyError):
        postorder(Extra("x"))


def test_hash_is_cached_structural_and_not_pickled() -> None:
    s = ir.Var("s")
    a = ir.And((ir.Has(ir.Attr(s, "k")), ir.Not(ir.Field(s, "is_root"))))
    b = ir.And((ir.Has(ir.Attr(s, "k")), ir.Not(ir.Field(s, "is_root"))))
    assert a == b and hash(a) == hash(b) and a._hash == hash(a)  # type: ignore[attr-defined]
    assert hash(ir.Var("s")) != hash(ir.Const("s", ir.Type.STR))
    copy = pickle.loads(pickle.dumps(a))
    assert not hasattr(copy, "_hash") and copy == a and hash(copy) == hash(a)
    assert not hasattr(replace(a), "_hash")
    assert "_hash" not in {f.name for f in fields(a)}
    spec = ir.Spec("x", "", (), (), positions={"p": None})  # type: ignore[dict-item]
    assert hash(spec) == hash(ir.Spec("x", "", (), ()))


def test_temporal_operators_are_exhaustive() -> None:
    assert set(ir.TEMPORAL_OPS) == ir.FUTURE_OPS | ir.PAST_OPS
    true = ir.Const(True, ir.Type.BOOL)
    for op in ir.TEMPORAL_OPS:
        args = (true, true) if op in ir.BINARY_TEMPORAL else (true,)
        assert ir.Temporal(op, args).op == op  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        ir.Temporal("sometimes", (true,))  # type: ignore[arg-type]
