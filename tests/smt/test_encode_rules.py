"""The Z3 encoder dispatches from its tables, and the tables cover every IR node class."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from workbench.lang import ir
from workbench.smt import encode
from workbench.smt.encode import ROLES, RULES, Encoder
from workbench.smt.values import EncodingError


def test_every_node_class_has_a_role() -> None:
    assert set(ROLES) == set(ir.CHILD_FIELDS)
    assert set(ROLES.values()) <= {"formula", "term", "set", "part"}


@pytest.mark.parametrize("role", ["formula", "term", "set"])
def test_every_class_of_a_role_has_its_rule(role: str) -> None:
    wanted = {c for c, r in ROLES.items() if r == role}
    assert wanted <= set(RULES[role])
    # formulas and terms stand for each other; sets and parts are nothing else
    others = {c for c, r in ROLES.items() if r in ("set", "part")}
    if role == "set":
        assert set(RULES["set"]) == wanted
    else:
        assert not others & set(RULES[role])


def test_a_node_without_a_rule_is_a_clear_error() -> None:
    @dataclass(frozen=True, slots=True)
    class Mystery(ir.Node):
        """A node class no encoder knows."""

    enc = Encoder.__new__(Encoder)
    with pytest.raises(EncodingError, match="has no rule for Mystery"):
        enc._holds(Mystery(), {}, None)
    with pytest.raises(EncodingError, match="no value rule for Mystery"):
        enc.value(Mystery(), {}, None)
    with pytest.raises(EncodingError, match="Mystery is not a set"):
        enc.members(Mystery(), {}, None)
    assert encode.Pred in ROLES
