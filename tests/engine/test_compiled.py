"""The compiled backends agree with the reference interpreter: verdicts and witnesses.

The generated kernels are run three ways: compiled by numba (the CPU backend), as plain
Python (the same source, no compilation: cheap enough for many Hypothesis examples) and, in
``test_gpu_simulator.py``, on numba's CUDA simulator.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import strategies
from tests.engine import table_strategy
from tests.engine.differential import compare, stdlib, stdlib_data
from workbench.engine import cupy_gpu, numba_cpu
from workbench.engine.capabilities import all_node_classes
from workbench.engine.compiled import unsupported_reason
from workbench.engine.reference import param_values
from workbench.lang import ir


def examples(n: int) -> settings:
    """Deterministic Hypothesis settings with ``n`` examples and no deadline."""
    return settings(
        max_examples=n,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                               HealthCheck.filter_too_much],
        derandomize=True,
        database=None,
    )

# A spread of stdlib shapes compiled by numba in the default run (the rest under -m slow).
QUICK = [
    "service_name_consistent", "error_surfaces_to_ancestor", "exception_event_attributes",
    "span_id_valid", "client_children", "url_credentials_redacted", "unique_span_ids",
    "reachable_from_root", "client_error_retried", "no_span_after_root_end",
    "retry_preceded_by_failure", "exception_ends_span_in_error",
]


def python_runner() -> numba_cpu.PythonRunner:
    return numba_cpu.PythonRunner()


@pytest.mark.parametrize("caps", [numba_cpu.CAPABILITIES, cupy_gpu.CAPABILITIES])
def test_capability_tables_cover_every_node_class(caps: dict[type, str]) -> None:
    missing = [c.__name__ for c in all_node_classes() if c not in caps]
    assert not missing
    assert set(caps.values()) <= {"compiled", "lowered", "unsupported"}


def test_whole_stdlib_compiles() -> None:
    spec = stdlib()
    values = param_values(spec)
    outside = {p.name: unsupported_reason(p, values) for p in spec.properties}
    assert {k: v for k, v in outside.items() if v is not None} == {}


@pytest.mark.parametrize("name", QUICK)
def test_stdlib_on_numba(name: str) -> None:
    spec = stdlib()
    assert compare(numba_cpu.runner(), spec.property(name), stdlib_data(),
                   param_values(spec)) is None


@pytest.mark.slow
@pytest.mark.parametrize("name", [p.name for p in stdlib().properties])
def test_every_stdlib_property_on_numba(name: str) -> None:
    spec = stdlib()
    assert compare(numba_cpu.runner(), spec.property(name), stdlib_data(),
                   param_values(spec)) is None


def test_whole_stdlib_as_python() -> None:
    spec = stdlib()
    values = param_values(spec)
    runner = python_runner()
    problems = [compare(runner, p, stdlib_data(), values) for p in spec.properties]
    assert [p for p in problems if p] == []


@examples(25)
@given(table=table_strategy.tables(), data=st.data())
def test_stdlib_on_random_tables_as_python(table, data) -> None:
    spec = stdlib()
    prop = data.draw(st.sampled_from(spec.properties))
    assert compare(python_runner(), prop, table, param_values(spec)) is None


@pytest.mark.slow
@examples(300)
@given(table=table_strategy.tables(max_traces=6, max_spans=14), data=st.data())
def test_stdlib_on_random_tables_on_numba(table, data) -> None:
    spec = stdlib()
    prop = data.draw(st.sampled_from(spec.properties))
    assert compare(numba_cpu.runner(), prop, table, param_values(spec)) is None


def _random_case(data: st.DataObject) -> tuple[ir.Property, dict]:
    params = data.draw(strategies.param_tables())
    prop = data.draw(strategies.properties(params, name="p"))
    return prop, {n: p.default.value for n, p in params.items()}


@examples(150)
@given(table=table_strategy.tables(max_traces=3, max_spans=7), data=st.data())
def test_random_formulas_as_python(table, data) -> None:
    prop, values = _random_case(data)
    assert compare(python_runner(), prop, table, values) is None


@examples(4)
@given(table=table_strategy.tables(max_traces=3, max_spans=7), data=st.data())
def test_random_formulas_on_numba(table, data) -> None:
    prop, values = _random_case(data)
    assert compare(numba_cpu.runner(), prop, table, values) is None


@pytest.mark.slow
@examples(150)
@given(table=table_strategy.tables(max_traces=4, max_spans=9), data=st.data())
def test_many_random_formulas_on_numba(table, data) -> None:
    prop, values = _random_case(data)
    assert compare(numba_cpu.runner(), prop, table, values) is None
