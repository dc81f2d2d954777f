"""Outlined sub-formulas that differ only in their constant slots share one function, so a
wide conjunction of same-shaped terms compiles one numba function per shape, not per term."""

from __future__ import annotations

from workbench.engine.codegen import _lift_slots
from workbench.engine.compiled import generated
from workbench.lang import parse_spec


def _wide(width: int) -> str:
    terms = [f's.duration >= {i}ns and s.name != "op-{i}" and s.attributes["k{i}"] != {i}'
             f" and s.depth + {i} > 0" for i in range(width)]
    return "spec w\nproperty w {\n  check forall s in spans: " + " and ".join(terms) + "\n}\n"


def test_lift_slots_names_each_distinct_slot_once() -> None:
    text, slots = _lift_slots("a = KI[3] + KI[3]\nb = KF[3] > KI[7]")
    assert text == "a = KI[kc0] + KI[kc0]\nb = KF[kc1] > KI[kc2]"
    assert slots == [("kc0", "3"), ("kc1", "3"), ("kc2", "7")]


def test_same_shaped_conjuncts_share_outlined_functions() -> None:
    small = generated(parse_spec(_wide(4)).properties[0].formula).source
    large = generated(parse_spec(_wide(10)).properties[0].formula).source
    # 2.5x the terms: the witness' outlined functions are shared, not repeated per term
    assert large.count("def fn_") <= small.count("def fn_") + 6
    assert "KI[kc0]" in large
