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
