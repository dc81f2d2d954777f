"""Run the GPU backend's kernels on numba's CUDA simulator against the reference.

Executed in a subprocess by ``test_gpu_simulator.py`` (the simulator must be chosen before
``numba.cuda`` is imported): ``python -m tests.engine.gpu_sim_check [N_RANDOM]``. Prints one
line per disagreement and exits non-zero when there is any.
"""

from __future__ import annotations

import os
import sys

os.environ["NUMBA_ENABLE_CUDASIM"] = "1"


def main(n_random: int) -> int:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from tests import strategies
    from tests.engine import table_strategy
    from tests.engine.differential import compare, stdlib, stdlib_data
    from workbench.engine import cupy_gpu
    from workbench.engine.reference import param_values

    runner = cupy_gpu.runner(simulate=True)
    spec = stdlib()
    values = param_values(spec)
    problems = [compare(runner, p, stdlib_data(), values) for p in spec.properties]
    problems = [p for p in problems if p]
    # quantiles and int(text): the kernels that the stdlib does not use
    from tests.engine.test_quantile_and_conversions import (
        CONVERT_SPEC,
        QUANTILE_SPEC,
        _big_table,
        _table,
    )
    from workbench.lang import parse_spec

    for table, props in ((_table(), [*QUANTILE_SPEC.properties, *CONVERT_SPEC.properties]),
                         (_big_table(), parse_spec(
                             'property t { check forall s in spans: int(s.attributes["big"]) > 0 }'
                         ).properties)):
        problems += [found for p in props if (found := compare(runner, p, table))]

    @settings(max_examples=n_random, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(table=table_strategy.tables(max_traces=3, max_spans=6), data=st.data())
    def random_formulas(table, data) -> None:  # type: ignore[no-untyped-def]
        params = data.draw(strategies.param_tables())
        prop = data.draw(strategies.properties(params, name="p"))
        found = compare(runner, prop, table, {n: p.default.value for n, p in params.items()})
        assert found is None, found

    if n_random:
        try:
            random_formulas()
        except AssertionError as err:
            problems.append(str(err))
    for p in problems:
        print(p)
    print(f"{len(spec.properties)} stdlib properties, {n_random} random formulas, "
          f"{len(problems)} disagreements")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 20))
