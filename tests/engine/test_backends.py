"""The backend protocol and registry: every registered backend is a :class:`Backend` object,
and ``check``/``explain_backend`` walk one chain of them (a new backend is one module plus
one registry line)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from workbench.datasets.scale import generate_table
from workbench.engine import base, check, explain_backend
from workbench.engine.base import REGISTRY, Backend, backend_chain, get_backend
from workbench.errors import BackendError
from workbench.lang import ir
from workbench.lang.ir import HappensBefore, Property, Quant, Spans, Var

S = Var("s")
HB = Property("uses_hb", Quant("forall", "s", Spans(), None, HappensBefore(S, S)))
ENDS = Property("ends", Quant("forall", "s", Spans(), None, ir.Field(S, "has_end")))


@pytest.mark.parametrize("name", list(REGISTRY))
def test_every_registered_backend_implements_the_protocol(name: str) -> None:
    backend = get_backend(name)
    assert isinstance(backend, Backend)
    assert backend.name == name
    ok, why = backend.available()
    assert isinstance(ok, bool) and why


def test_the_last_backend_runs_everything() -> None:
    last = get_backend(list(REGISTRY)[-1])
    assert last.unsupported(HB, {}) is None
    assert set(last.capabilities.values()) <= {"interpreted", "compiled", "lowered"}


def test_unknown_backend() -> None:
    with pytest.raises(BackendError, match="unknown backend 'fpga'"):
        backend_chain("fpga")
    with pytest.raises(BackendError):
        get_backend("fpga")


@pytest.fixture
def toy(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    names = list(REGISTRY)
    registry = {n: REGISTRY[n] for n in names[:-1]}
    registry["toy"] = "tests.engine.toy_backend"  # the one line, just before the catch-all
    registry[names[-1]] = REGISTRY[names[-1]]
    monkeypatch.setattr(base, "REGISTRY", registry)
    monkeypatch.setattr(base, "_LOADED", {})
    monkeypatch.setattr(base, "_STATUS", {})
    yield


def test_a_new_backend_is_one_module_and_one_registry_line(toy: None) -> None:
    from tests.engine.toy_backend import BACKEND

    BACKEND.calls.clear()
    table = generate_table(200, seed=3)
    spec = ir.Spec("t", "", (), (ENDS, HB))
    result = check(spec, table, backend="toy")
    assert BACKEND.calls[0] == ["ends", "uses_hb"]
    assert result["ends"].backend == "toy"
    assert result["ends"].reason == "toy: interpreted by the toy"
    assert result["uses_hb"].backend == "reference"
    assert result["uses_hb"].reason == (
        "toy: failed (NotImplementedError: `HappensBefore` is not handled by the toy)"
        " -> reference")
    expected = check(spec, table, backend="reference")
    for got, want in zip(result.results, expected.results, strict=True):
        assert (got.holds == want.holds).all()
    assert explain_backend(ENDS, "toy") == ("toy", "toy: interpreted by the toy (always here)")
    name, reason = explain_backend(HB, "toy")
    assert (name, reason) == (
        "reference", "toy: `HappensBefore` is not handled by the toy -> reference")
    assert "toy" in [b.name for b in backend_chain("auto")[0]]
