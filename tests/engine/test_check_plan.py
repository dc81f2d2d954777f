"""The per-(spec, params) plan cache of :func:`workbench.engine.check` (``check_plan.py``):
a cached plan gives exactly the uncached results on every table, and a changed spec or
changed params never reuse a plan."""

from __future__ import annotations

from functools import cache

import pytest

from tests.engine.differential import same
from tests.engine.test_params import SPEC
from tests.engine.test_params import table as skew_table
from workbench.engine import CheckResult, check, check_plan
from workbench.lang import parse_spec
from workbench.traces.model import SpanTable


@cache
def faulty(traces: int, seed: int) -> SpanTable:
    """Generated traces with every fault injected into about half of them."""
    from workbench.datasets.faults import inject, parse_faults
    from workbench.datasets.generator import generate
    from workbench.datasets.writer import to_table

    ds = generate(traces=traces, seed=seed, services=4)
    inject(ds, parse_faults("all", traces, rate=0.5), seed=seed)
    return to_table(ds)


def uncached(*args, **kwargs) -> CheckResult:  # type: ignore[no-untyped-def]
    check_plan.clear()
    try:
        return check(*args, **kwargs)
    finally:
        check_plan.clear()


def assert_same(got: CheckResult, want: CheckResult) -> None:
    assert [r.name for r in got.results] == [r.name for r in want.results]
    for a, b in zip(got.results, want.results, strict=True):
        assert a.backend == b.backend and a.reason == b.reason
        assert same(a, b) is None, same(a, b)
    assert got.params == want.params


@pytest.mark.parametrize("backend", ["numba", "reference"])
def test_a_cached_plan_gives_the_uncached_results_on_each_table(backend: str) -> None:
    from tests.engine.differential import stdlib

    spec = stdlib()
    tables = [faulty(1, 3), faulty(7, 4), faulty(20, 5), faulty(7, 4)]
    if backend == "reference":
        tables = tables[:2]
    want = [uncached(spec, t, backend=backend) for t in tables]
    check_plan.clear()
    got = [check(spec, t, backend=backend) for t in tables]
    assert check_plan.sizes()["plans"] == 1  # one plan served every table
    if backend == "numba":
        assert check_plan.sizes()["kernels"] > 0
    assert any(not r.holds.all() for res in got for r in res.results)  # faults were found
    for g, w in zip(got, want, strict=True):
        assert_same(g, w)
    # the plan is reused, not rebuilt: the same bound spec object comes back
    assert check(spec, tables[0], backend=backend).spec is got[0].spec


@pytest.mark.parametrize("backend", ["numba", "reference"])
def test_changed_params_do_not_reuse_a_plan(backend: str) -> None:
    spec = parse_spec(SPEC)
    t = skew_table()
    loose = {"skew": "100ms", "window": "30ms"}
    check_plan.clear()
    order = [None, loose, None, {"skew": 100_000_000, "window": 30_000_000}, loose, None]
    for params in order:
        got = check(spec, t, params, backend=backend)
        assert_same(got, uncached(spec, t, params, backend=backend))
        strict = params is None
        assert got.holds("child_start") is not strict and got.holds("retried") is not strict
    # a result's params are a copy: changing them does not reach the cached plan
    got = check(spec, t, backend=backend)
    got.params["skew"] = 10**12
    assert not check(spec, t, backend=backend).holds("child_start")


def test_changed_spec_does_not_reuse_a_plan() -> None:
    t = skew_table()
    check_plan.clear()
    strict = parse_spec(SPEC)
    assert not check(strict, t, backend="numba").holds("child_start")
    loose = parse_spec(SPEC.replace("param skew = 50ms", "param skew = 100ms"))
    assert check(loose, t, backend="numba").holds("child_start")
    again = parse_spec(SPEC)  # equal to `strict` but another object: a plan of its own
    assert not check(again, t, backend="numba").holds("child_start")
    assert check_plan.sizes()["plans"] == 3


def test_params_key_tells_types_apart_and_skips_unhashable_values() -> None:
    assert check_plan.params_key({"x": 1}) != check_plan.params_key({"x": True})
    assert check_plan.params_key({"x": 1}) != check_plan.params_key({"x": 1.0})
    assert check_plan.params_key({"a": "1", "b": 2}) == check_plan.params_key({"b": 2, "a": "1"})
    assert check_plan.params_key(None) == check_plan.params_key({}) == ()
    assert check_plan.params_key({"x": ["unhashable"]}) is None


def test_plans_are_bounded() -> None:
    t = skew_table()
    check_plan.clear()
    for ms in range(check_plan.MAX_PLANS + 5):
        check(parse_spec(SPEC), t, {"skew": f"{ms}ms"}, backend="reference")
    assert check_plan.sizes()["plans"] == check_plan.MAX_PLANS
