"""Python API misuse raises an ArgumentError (a TypeError) naming the argument and the type it
takes, never a raw AttributeError from inside a backend; and typed params are not coerced."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.conftest import SKEWED
from workbench.engine import check
from workbench.errors import ArgumentError
from workbench.lang import load_spec, load_specs
from workbench.traces import load_traces


@pytest.fixture(scope="module")
def spec() -> object:
    return load_spec("stdlib.timing")


@pytest.fixture(scope="module")
def table() -> object:
    return load_traces([str(SKEWED)])


def _raises(words: list[str], fn: object, *args: object, **kwargs: object) -> None:
    with pytest.raises(ArgumentError) as info:
        fn(*args, **kwargs)  # type: ignore[operator]
    assert isinstance(info.value, TypeError)
    for w in words:
        assert w in str(info.value), str(info.value)


def test_spec_argument(spec: object, table: object) -> None:
    _raises(
        ["check(spec=...)", "expected a Spec", "str 'stdlib'", "load_spec('stdlib')"],
        check,
        "stdlib",
        table,
    )
    _raises(["check(spec=...)", "SpanTable", "swapped"], check, table, spec)
    _raises(["check(spec=...)", "got None"], check, None, table)


def test_table_argument(spec: object) -> None:
    _raises(
        ["check(table=...)", "expected a SpanTable", "got None", "load_traces"], check, spec, None
    )
    _raises(["check(table=...)", "got str"], check, spec, "trace.json")


def test_properties_is_a_list_of_names(spec: object, table: object) -> None:
    _raises(
        ["check(properties=...)", "list of property names", "properties=['x']"],
        check,
        spec,
        table,
        properties="x",
    )
    _raises(["check(properties=...)", "names are str"], check, spec, table, properties=[1])
    result = check(spec, table, properties=("child_starts_after_parent",))
    assert [r.name for r in result.results] == ["child_starts_after_parent"]


@pytest.mark.parametrize("value", [1.5, True, None, [1]])
def test_typed_param_values_are_not_coerced(spec: object, table: object, value: object) -> None:
    _raises(
        [
            "check(params={'skew': ...})",
            "`skew` is a duration param",
            "an int of nanoseconds",
            "'10ms'",
        ],
        check,
        spec,
        table,
        {"skew": value},
    )


def test_params_mapping_and_good_values(spec: object, table: object) -> None:
    _raises(["check(params=...)", "mapping"], check, spec, table, ["skew=10ms"])
    _raises(["check(backend=...)", "expected a str"], check, spec, table, backend=None)
    loose = check(spec, table, {"skew": 10**12})
    text = check(spec, table, {"skew": "1000s"})
    assert [r.n_failed for r in loose.results] == [r.n_failed for r in text.results]


def test_load_spec_arguments(tmp_path: Path) -> None:
    _raises(["load_spec(path=...)", "got NoneType None"], load_spec, None)
    _raises(
        ["load_specs(paths=...)", "expected a list of paths", "str 'stdlib'"], load_specs, "stdlib"
    )
    _raises(["load_specs(paths=...)", "each path"], load_specs, ["stdlib", None])
    assert load_specs(["stdlib.timing"]).properties
