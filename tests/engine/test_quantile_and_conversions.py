"""``quantile``/``p50``... and ``int()``/``float()``: exact semantics in the value library,
and the reference, the compiled kernels (as Python and under numba) and the Z3 encoding agree.
"""

from __future__ import annotations

import math

import pytest

from tests.engine.differential import compare
from workbench.engine import numba_cpu, reference
from workbench.engine import values as V
from workbench.engine.compiled import unsupported_reason
from workbench.lang import ir, parse_formula, parse_spec, print_formula
from workbench.lang.ir import Type
from workbench.traces.model import SpanTable
from workbench.traces.records import SpanRecord, to_table

T = 1_700_000_000_000_000_000
MS = 1_000_000
TID = "0af7651916cd43dd8448eb211c80319c"
CODES = ["504", 200, 1.5, "abc", "-3", "2e3", True, 7.9, -7.9, "1_000", 1e300, " 5", 1.0, 1]


def _table() -> SpanTable:
    """One root with 21 children of durations 20..220 ms whose `c` attributes mix texts,
    ints, floats and a bool; plus a second trace of three equal values (1, 1.0, 1)."""
    root = SpanRecord(TID, f"{1:016x}", "", "root", 2, 0, "", T, T + 1000 * MS,
                      events=[(name, T + k * 10, []) for k, name in enumerate("abc", 1)])
    kids = [
        SpanRecord(TID, f"{i:016x}", f"{1:016x}", f"k{i}", 3, 0, "", T + i, T + i + 10 * i * MS,
                   attributes=[("c", CODES[i % len(CODES)]), ("n", i)])
        for i in range(2, 23)
    ]
    other = "1" * 32
    ties = [SpanRecord(other, f"{i + 100:016x}", "", "t", 1, 0, "", T, T + 5,
                       attributes=[("c", v)]) for i, v in enumerate([1, 1.0, 1])]
    return to_table([root, *kids, *ties])


QUANTILE_SPEC = parse_spec("""
property p99_under { check p99(x in spans where not x.is_root: x.duration) < 200ms }
property p50_exact { check p50(x in spans where not x.is_root: x.duration) == 120ms }
property q_zero_is_min {
  check quantile(0, x in spans: x.duration) == min(x in spans: x.duration)
}
property q_one_is_max {
  check quantile(1, x in spans: x.start) == max(x in spans: x.start)
}
property q_attr { check quantile(0.75, x in spans: x.attributes["c"]) > 7 }
property q_keeps_type { check str(p50(x in spans: x.attributes["c"])) == "1.0" }
property q_empty_undefined { check not has(quantile(0.5, x in spans where false: x.duration)) }
property q_per_span { check forall s in roots: quantile(0.3333, c in children(s): c.depth) == 1 }
property q_events {
  check forall s in roots where count(events(s)) > 0: p90(e in events(s): e.time) == s.start + 30ns
}
""")
CONVERT_SPEC = parse_spec("""
property int_of_number {
  check forall s in spans where has(s.attributes["n"]):
    int(s.attributes["n"] * 1.5) >= s.attributes["n"]
}
property float_of_int { check forall s in spans: float(s.depth) == s.depth }
property int_of_float { check forall s in spans: int(-2.5) == -2 and not has(int(1e300)) }
property int_of_text { check exists s in spans: int(s.attributes["c"]) == 504 }
property float_of_text { check exists s in spans: float(s.attributes["c"]) == 2000 }
property text_not_a_number {
  check forall s in spans: has(int(s.attributes["c"])) -> int(s.attributes["c"]) != 1000
}
""")


def test_quantile_rank_is_exact() -> None:
    assert V.quantile_ratio(0.99) == (99, 100) and V.quantile_ratio(0.29) == (29, 100)
    assert V.quantile_rank(0.29, 100) == 29  # 0.29 * 100 is 28.999999999999996 in floats
    assert [V.quantile_rank(q, 4) for q in (0.0, 0.25, 0.5, 0.51, 1.0)] == [1, 1, 2, 3, 4]
    assert V.quantile_rank(0.99, 1) == 1 and V.quantile_rank(0.99, 101) == 100


def test_quantile_values() -> None:
    assert V.quantile(0.5, [30, 10, 20, 40]) == 20  # nearest rank: the lower median
    assert V.quantile(0.9, list(range(1, 11))) == 9
    assert V.quantile(0.5, []) is V.UNDEF
    assert V.quantile(0.5, ["a", True, [1]]) is V.UNDEF  # only numbers count
    assert V.quantile(1.0, [1.0, math.nan, 2]) == 2  # NaN is skipped
    first = V.quantile(0.0, [1.0, 1, 1])  # equal values: stable, in member order
    assert first == 1 and isinstance(first, float)
    second = V.quantile(0.5, [1.0, 1, 1])
    assert second == 1 and isinstance(second, int)


def test_conversions() -> None:
    assert [V.to_int(x) for x in ("504", "-3", "+7", 7.9, -7.9, 12)] == [504, -3, 7, 7, -7, 12]
    for bad in ("5.0", " 5", "1_000", "0x1f", "", "١٢", True, [1], 1e300, math.inf, math.nan):
        assert V.to_int(bad) is V.UNDEF, bad
    assert [V.to_float(x) for x in ("1.5", "2e3", ".5", "504", 3, 2.5)] == [
        1.5, 2000.0, 0.5, 504.0, 3.0, 2.5]
    for bad in ("nan", "inf", "1e999", " 1", "1,5", False, {"a": 1}):
        assert V.to_float(bad) is V.UNDEF, bad
    assert V.call("int", V.UNDEF) is V.UNDEF


def test_printing_round_trips() -> None:
    cases = {
        "p99(x in spans: x.duration) < 1s": "p99(x in spans: x.duration) < 1s",
        "quantile(0.99, x in spans: x.duration) < 1s": "p99(x in spans: x.duration) < 1s",
        "quantile(1, x in spans where x.is_root: x.depth) > 0":
            "quantile(1.0, x in spans where x.is_root: x.depth) > 0",
        'int(s.attributes["code"]) >= 500': 'int(s.attributes["code"]) >= 500',
    }
    for text, canonical in cases.items():
        f = parse_formula(text, {"s": Type.SPAN})
        assert print_formula(f) == canonical
        assert parse_formula(canonical, {"s": Type.SPAN}) == f
    f = parse_formula("p50(x in spans: x.duration)", {})
    assert f == ir.Quantile(0.5, ir.Spans(), "x", ir.Field(ir.Var("x"), "duration"))


@pytest.mark.parametrize(
    ("text", "message", "hint"),
    [
        ("quantile(1.5, x in spans: x.duration) > 0s", "number literal from 0 to 1", "0.99"),
        ("quantile(x in spans: x.duration) > 0s", "takes 2 arguments", "quantile(q, "),
        ("p99(x in spans: x.name) == \"a\"", "not str", None),
        ("p98(x in spans where x.is_root: x.duration) > 0s", "unknown function `p98`",
         "did you mean `p99`"),
        ("percentile(x in spans: x.duration) > 0s", "unknown function `percentile`",
         "aggregates are count, sum"),
        ("len(x in spans where x.is_root: 1) > 0", "belong to aggregates", "quantile"),
        ("int(s.kind) == 1", "int() takes", None),
    ],
)
def test_errors(text: str, message: str, hint: str | None) -> None:
    with pytest.raises(Exception) as caught:
        parse_formula(text, {"s": Type.SPAN})
    err = caught.value
    assert message in str(err) and "<string>:1:" in str(err)
    if hint is not None:
        assert hint in (getattr(err, "hint", None) or "")


def _expected(spec: ir.Spec) -> dict[str, list[bool]]:
    table = _table()
    return {p.name: reference.check_property(p, table, {}).holds.tolist()
            for p in spec.properties}


def test_reference_verdicts() -> None:
    assert _expected(QUANTILE_SPEC) == {
        "p99_under": [False, False],  # the second trace has only roots: undefined
        "p50_exact": [True, False],
        "q_zero_is_min": [True, True],
        "q_one_is_max": [True, True],
        "q_attr": [True, False],
        "q_keeps_type": [False, True],  # rank 2 of (1, 1.0, 1) is the float
        "q_empty_undefined": [True, True],
        "q_per_span": [True, False],  # no children: undefined
        "q_events": [True, True],
    }
    assert _expected(CONVERT_SPEC) == {
        "int_of_number": [True, True],
        "float_of_int": [True, True],
        "int_of_float": [True, True],
        "int_of_text": [True, False],
        "float_of_text": [True, False],
        "text_not_a_number": [True, True],
    }


@pytest.mark.parametrize("spec", [QUANTILE_SPEC, CONVERT_SPEC], ids=["quantile", "convert"])
def test_compiled_kernels_as_python_agree(spec: ir.Spec) -> None:
    table = _table()
    for prop in spec.properties:
        assert compare(numba_cpu.PythonRunner(), prop, table) is None, prop.name


def test_compiled_fragment() -> None:
    """Quantiles compile; int() compiles on numbers and text, float() on numbers only (a
    stated limit: float() of text runs on the reference)."""
    reasons = {p.name: unsupported_reason(p, {}) for p in
               (*QUANTILE_SPEC.properties, *CONVERT_SPEC.properties)}
    assert {n for n, r in reasons.items() if r is not None} == {
        "q_keeps_type", "float_of_text"}
    assert "float() of a text" in str(reasons["float_of_text"])
    huge = parse_spec("property h { check quantile(0.1234567891, x in spans: x.depth) > 0 }")
    assert "9 decimals" in str(unsupported_reason(huge.properties[0], {}))


@pytest.mark.slow
def test_numba_agrees() -> None:
    table = _table()
    for prop in (*QUANTILE_SPEC.properties, *CONVERT_SPEC.properties):
        assert compare(numba_cpu.runner(), prop, table) is None, prop.name


def test_explain_types_names_text_compared_with_numbers() -> None:
    from workbench.engine.value_types import explain_types, number_comparisons

    spec = parse_spec("""
property raw { check forall s in spans: s.attributes["c"] >= 500 or s.attributes["n"] > 0 }
property listed { check forall s in spans: s.attributes["c"] in [200, 504] }
property converted { check forall s in spans: int(s.attributes["c"]) >= 500 }
property texts { check forall s in spans: s.attributes["c"] == "504" }
""")
    found = {(c.property, c.attr.key) for c in number_comparisons(spec)}
    assert found == {("raw", "c"), ("raw", "n"), ("listed", "c")}
    warnings = explain_types(spec, _table())
    assert [w.property for w in warnings] == ["raw", "listed"]  # `n` holds numbers only
    text = warnings[0].message
    assert '`s.attributes["c"]` is compared with a number' in text
    assert '9 of 22 loaded values are text (" 5", "-3", "1_000", ...)' in text
    assert "write `float(" in text  # "2e3" reads as a float, not as an int
    assert warnings[0].pos is not None and warnings[0].pos.line == 2


BIG = ["-9223372036854775808", "9223372036854775807", "-3", "4294967296", "2147483648",
       "-2147483649", "9223372036854775808", "07", "+12"]


def _big_table() -> SpanTable:
    return to_table([
        SpanRecord(f"{k + 1:032x}", f"{k + 1:016x}", "", "s", 1, 0, "", T, T + 1,
                   attributes=[("big", text)])
        for k, text in enumerate(BIG)
    ])


def test_int_of_text_keeps_all_64_bits() -> None:
    """The compiled int(text) joins two int32 tables: values at and beyond the halves'
    edges, negative ones, and one past int64 (undefined)."""
    checks = "\n".join(
        f'property b{k} {{ check forall s in spans: int(s.attributes["big"]) == {text} }}'
        if V.to_int(text) is not V.UNDEF and V.to_int(text) >= 0 else
        f'property b{k} {{ check forall s in spans: int(s.attributes["big"]) == -{text[1:]} }}'
        if V.to_int(text) is not V.UNDEF else
        f'property b{k} {{ check forall s in spans: not has(int(s.attributes["big"])) }}'
        for k, text in enumerate(BIG)
    )
    spec = parse_spec(checks.replace("== +12", "== 12"))
    table = _big_table()
    for k, prop in enumerate(spec.properties):
        assert unsupported_reason(prop, {}) is None
        holds = reference.check_property(prop, table, {}).holds.tolist()
        assert holds == [i == k for i in range(len(BIG))], prop.name
        assert compare(numba_cpu.PythonRunner(), prop, table) is None, prop.name


@pytest.mark.slow
def test_int_of_text_on_numba() -> None:
    spec = parse_spec('property t { check forall s in spans: int(s.attributes["big"]) > 0 }')
    assert compare(numba_cpu.runner(), spec.properties[0], _big_table()) is None
