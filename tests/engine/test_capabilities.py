"""Capability tables are complete by construction: every backend's table has exactly one entry
per IR node class and temporal operator kind, and the compiled code generator dispatches from
its table (a missing entry fails here instead of falling through)."""

from __future__ import annotations

import pytest

from workbench.engine import capabilities, codegen
from workbench.engine.base import REGISTRY, get_backend
from workbench.engine.capabilities import (
    MissingCapability,
    all_node_classes,
    capability_keys,
    compiled_capabilities,
    gate,
    lookup,
    temporal_key,
)
from workbench.engine.codegen_temporal import TEMPORAL_SHAPES
from workbench.engine.codegen_terms import Unsupported
from workbench.lang import ir
from workbench.lang.ir import Const, EndOf, Quant, Spans, Temporal, Type, Var

S = Var("s")
EVENTUALLY = Quant("forall", "s", Spans(), None, Temporal("eventually", (EndOf(S),)))


def test_capability_keys_are_node_classes_and_temporal_ops() -> None:
    keys = capability_keys()
    assert {k for k in keys if isinstance(k, type)} == set(all_node_classes())
    assert {k[1] for k in keys if isinstance(k, tuple)} == set(ir.TEMPORAL_OPS)


@pytest.mark.parametrize("name", list(REGISTRY))
def test_each_backend_table_is_complete(name: str) -> None:
    backend = get_backend(name)
    if not backend.capabilities and not backend.available()[0]:
        pytest.skip(f"{name}: {backend.available()[1]}")
    assert set(backend.capabilities) == capability_keys()
    assert set(backend.capabilities.values()) <= {
        "compiled", "lowered", "interpreted", "unsupported"}


def test_every_temporal_operator_has_compiled_code() -> None:
    assert set(TEMPORAL_SHAPES) == set(ir.TEMPORAL_OPS)


def test_unknown_temporal_operator_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown temporal operator 'soon'"):
        Temporal("soon", (Const(True, Type.BOOL),))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="takes 2"):
        Temporal("until", (Const(True, Type.BOOL),))


def test_a_missing_entry_fails_instead_of_falling_through(monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    table = compiled_capabilities()
    gate(table, EVENTUALLY)
    without_op = {k: v for k, v in table.items() if k != temporal_key("eventually")}
    with pytest.raises(MissingCapability, match="temporal operator `eventually`"):
        gate(without_op, EVENTUALLY)
    without_node = {k: v for k, v in table.items() if k is not ir.EndOf}
    with pytest.raises(MissingCapability, match="EndOf"):
        lookup(without_node, EndOf(S))
    # the code generator reads its table: take an entry out and it refuses the formula
    monkeypatch.setattr(codegen, "_TABLE", without_op)
    with pytest.raises(MissingCapability):
        codegen.generate(EVENTUALLY)
    monkeypatch.setattr(codegen, "_TABLE", {**table, temporal_key("eventually"): "unsupported"})
    with pytest.raises(Unsupported, match="Temporal is not compiled"):
        codegen.generate(EVENTUALLY)


def test_unsupported_reasons() -> None:
    hb = ir.HappensBefore(S, S)
    with pytest.raises(Unsupported, match=r"`hb` \(happens-before reachability\)"):
        gate(compiled_capabilities(), Quant("forall", "s", Spans(), None, hb))
    assert set(capabilities.UNSUPPORTED) <= set(compiled_capabilities())
