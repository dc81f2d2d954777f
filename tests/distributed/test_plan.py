"""The shard planner and the worker environment (pure functions, no cluster)."""

from __future__ import annotations

from workbench.distributed.runner import plan_shards, worker_env


def test_every_unit_lands_in_exactly_one_shard_in_order() -> None:
    weights = [5, 1, 9, 3, 3, 7, 2]
    plan = plan_shards(weights, 3)
    assert sorted(u for shard in plan for u in shard) == list(range(len(weights)))
    assert all(shard == sorted(shard) for shard in plan)


def test_shards_are_balanced_by_weight() -> None:
    weights = [10] * 8 + [1] * 8
    loads = [sum(weights[u] for u in shard) for shard in plan_shards(weights, 2)]
    assert loads == [44, 44]


def test_no_more_shards_than_units_and_at_least_one() -> None:
    assert sorted(plan_shards([3, 4], 8)) == [[0], [1]]
    assert plan_shards([], 4) == []
    assert plan_shards([1, 1, 1], 0) == [[0, 1, 2]]


def test_units_stay_home_unless_that_unbalances() -> None:
    # four equal units, all parsed on shard 0: two stay there, two move (10% slack)
    plan = plan_shards([1, 1, 1, 1], 2, home=[0, 0, 0, 0])
    assert sorted(len(s) for s in plan) == [2, 2]
    # units already spread: each stays where it is
    assert plan_shards([1, 1, 1, 1], 2, home=[1, 0, 1, 0]) == [[1, 3], [0, 2]]


def test_plan_is_deterministic() -> None:
    weights = [4, 4, 4, 2, 2, 2, 1]
    assert plan_shards(weights, 3) == plan_shards(list(weights), 3)


def test_worker_env_shares_the_cores() -> None:
    assert worker_env(2, cpus=2)["NUMBA_NUM_THREADS"] == "1"
    assert worker_env(1, cpus=8)["OMP_NUM_THREADS"] == "8"
    assert worker_env(3, cpus=2)["NUMBA_NUM_THREADS"] == "1"
    assert worker_env(2, cpus=8, threads=3)["NUMBA_NUM_THREADS"] == "3"


def test_worker_env_bounds_every_thread_pool() -> None:
    """numba, Arrow (OMP), the trace loaders and BLAS all get the worker's share."""
    env = worker_env(2, cpus=2)
    assert {env[k] for k in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OTLSPEC_JOBS",
                             "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")} == {"1"}
