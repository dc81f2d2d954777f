"""``--backend auto`` runs small inputs on the reference (no compiler wait) and says why."""

from __future__ import annotations

import pytest

from tests.engine.differential import same, stdlib, stdlib_data
from workbench.engine import check, cost, numba_cpu
from workbench.engine.compiled import generated


def test_estimates_pick_by_size_and_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    gen = generated(stdlib().property("span_ended").formula)
    for cached, small, large in ((True, 100, 10_000), (False, 10_000, 1_000_000)):
        monkeypatch.setattr(numba_cpu, "is_cached", lambda g, t="cpu", c=cached: c)
        use, why = cost.prefer_reference(gen, small)
        assert use and why.startswith("auto: reference") and str(small) in why
        use, why = cost.prefer_reference(gen, large)
        assert not use and why.startswith("auto: numba")
        assert ("cached kernel" if cached else "not compiled yet") in why


def test_auto_on_a_small_table_uses_the_reference_with_the_same_results(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(numba_cpu, "is_cached", lambda g, t="cpu": False)
    table = stdlib_data()
    assert table.n_spans * cost.REFERENCE_S_PER_SPAN < cost.COMPILE_S
    auto = check(stdlib(), table, backend="auto")
    ref = check(stdlib(), table, backend="reference")
    picked = [r for r in auto.results if r.reason.startswith("auto: reference")]
    assert len(picked) > 30
    assert all(r.backend == "reference" and "not compiled yet" in r.reason for r in picked)
    assert [same(a, b) for a, b in zip(auto.results, ref.results, strict=True)] == [None] * len(
        ref.results)


def test_auto_sending_a_quadratic_shape_to_the_reference_hashes_it(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The cost model's reference runs the quadratic stdlib shapes by hashing, not as nested
    loops (on small inputs with no cached kernel those loops were most of a first run)."""
    monkeypatch.setattr(numba_cpu, "is_cached", lambda g, t="cpu": False)
    table = stdlib_data()
    names = ["unique_span_ids", "service_name_consistent", "span_ended"]
    spec = stdlib()
    auto = check(spec, table, backend="auto", properties=names)
    ref = check(spec, table, backend="reference", properties=names)
    by = {r.prop.name: r for r in auto.results}
    for name in names[:2]:
        assert by[name].backend == "reference"
        assert by[name].reason.startswith("auto: reference") and "linear" in by[name].reason
    assert "linear" not in by["span_ended"].reason
    assert auto.timings["grouped"] > 0
    assert [same(a, b) for a, b in zip(auto.results, ref.results, strict=True)] == [None] * 3
