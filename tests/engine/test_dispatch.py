"""Backend choice: ``check(backend=...)`` runs each property on the first backend of the chain
whose fragment contains it and says which ran it and why; the bundled real traces get the same
verdicts and witnesses from the compiled backend as from the reference."""

from __future__ import annotations

import pytest

from tests.engine.differential import real_files, same, stdlib
from workbench.engine import chain, check, explain_backend
from workbench.errors import BackendError
from workbench.lang import ir
from workbench.lang.ir import HappensBefore, Property, Quant, Spans, Var
from workbench.traces import load_traces
from workbench.traces.model import SpanTable

S = Var("s")
HB = Property("uses_hb", Quant("forall", "s", Spans(), None, HappensBefore(S, S)))


def _real() -> SpanTable:
    files = []
    for path in real_files():
        try:
            if load_traces([path]).n_spans:
                files.append(path)
        except Exception:  # metrics, logs and manifests are not trace files
            continue
    if not files:
        pytest.skip("no bundled real traces")
    return load_traces(files)


def test_whole_stdlib_on_the_real_traces() -> None:
    spec = stdlib()
    table = _real()
    compiled = check(spec, table, backend="numba")
    expected = check(spec, table, backend="reference")
    assert {r.backend for r in compiled.results} == {"numba"}
    problems = [same(a, b) for a, b in zip(compiled.results, expected.results, strict=True)]
    assert [p for p in problems if p] == []
    assert {"compile", "check", "index", "total"} <= set(compiled.timings)


def test_a_property_outside_the_fragment_falls_back_with_its_reason() -> None:
    spec = ir.Spec("t", "", (), (stdlib().property("span_ended"), HB))
    table = _real()
    result = check(spec, table, backend="numba")
    assert result["span_ended"].backend == "numba"
    assert result["span_ended"].reason == "numba: compiled"
    assert result["uses_hb"].backend == "reference"
    assert result["uses_hb"].reason == (
        "numba: `hb` (happens-before reachability) is not compiled -> reference")
    assert explain_backend(HB, "numba") == ("reference", result["uses_hb"].reason)


def test_the_gpu_backend_without_a_device_says_so_and_uses_the_cpu() -> None:
    names, notes = chain("cupy")
    if "cupy" in names:
        pytest.skip("a CUDA device is present")
    assert names == ["numba", "reference"]
    assert len(notes) == 1 and notes[0].startswith("cupy: ")
    backend, reason = explain_backend(stdlib().property("span_ended"), "cupy")
    assert backend == "numba" and reason.startswith("cupy: ")


def test_reference_and_unknown_backends() -> None:
    table = _real()
    res = check(ir.Spec("t", "", (), (stdlib().property("span_ended"),)), table,
                backend="reference")
    assert res.results[0].backend == "reference"
    with pytest.raises(BackendError):
        check(ir.Spec("t", "", (), ()), table, backend="fpga")
