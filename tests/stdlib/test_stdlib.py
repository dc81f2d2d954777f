"""The standard library: it loads, every property is documented, and each property holds on
its pass trace and fails (alone, where possible) on its fail trace, naming the intended span.

The traces are tests/data/stdlib/<property>/{pass,fail}.json, written from
tests/stdlib/cases.py by tests/stdlib/make_data.py.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest

from tests.stdlib import make_data
from tests.stdlib.cases import CASES, FAIL_EXTRAS, PASS_EXTRAS, base, build, span_id, trace_id
from workbench.engine.base import CheckResult
from workbench.engine.reference import check
from workbench.lang import ir, load_spec, parse_spec
from workbench.traces import load_traces

ROOT = Path(__file__).resolve().parents[2]
STDLIB = ROOT / "specs" / "stdlib"
DATA = ROOT / "tests" / "data" / "stdlib"
FILES = sorted(STDLIB.glob("*.otlspec"))


@cache
def stdlib() -> ir.Spec:
    return parse_spec("spec all_of_stdlib\nimport stdlib\n")


def names() -> list[str]:
    return [p.name for p in stdlib().properties]


def run(path: Path) -> CheckResult:
    table = load_traces([path])
    assert table.n_traces == 1, f"{path} should hold exactly one trace"
    return check(stdlib(), table)


def failing(result: CheckResult) -> set[str]:
    return {r.name for r in result.results if not bool(r.holds[0])}


# --------------------------------------------------------------------------- loading


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_each_file_loads(path: Path) -> None:
    spec = load_spec(path)
    assert spec.properties, f"{path.name} defines no property"


def test_stdlib_import_loads_everything() -> None:
    spec = stdlib()
    per_file = {prop.name for p in FILES for prop in load_spec(p).properties}
    assert {prop.name for prop in spec.properties} == per_file
    assert len(spec.properties) >= 25
    assert len(set(names())) == len(names()), "property names must be unique"


@pytest.mark.parametrize("name", sorted({p.name for p in stdlib().properties}))
def test_property_is_documented(name: str) -> None:
    prop = stdlib().property(name)
    assert prop.doc.strip(), "missing doc comment"
    assert prop.message is not None and prop.message.parts, "missing message"
    assert prop.tags, "missing tags"
    assert prop.severity in ("error", "warning", "info")
    holes = [part for part in prop.message.parts if not isinstance(part, str)]
    assert holes, "the message should name the offending span(s)"


def _checks(path: Path) -> dict[str, str]:
    """The ``check`` text of each property of a spec file, whitespace-normalised."""
    out: dict[str, str] = {}
    for block in re.split(r"^property ", path.read_text(), flags=re.M)[1:]:
        name = block.split()[0]
        body = block[: block.index("\n}")]
        out[name] = " ".join(body[body.index("check ") :].split())
    return out


def test_stdlib_doc_has_a_section_per_property() -> None:
    text = (ROOT / "docs" / "stdlib.md").read_text()
    missing = [n for n in names() if f"### `{n}`" not in text]
    assert not missing, f"docs/stdlib.md lacks sections for {missing}"


def test_stdlib_doc_formulas_match_the_specs() -> None:
    flat = " ".join((ROOT / "docs" / "stdlib.md").read_text().split())
    for path in FILES:
        for name, check_text in _checks(path).items():
            assert check_text in flat, f"docs/stdlib.md shows a stale formula for {name}"


# --------------------------------------------------------------------------- the traces


def test_every_property_has_both_traces() -> None:
    for name in names():
        for variant in ("pass", "fail"):
            assert (DATA / name / f"{variant}.json").is_file(), f"missing {name}/{variant}.json"
    assert set(CASES) == set(names()), "cases.py and the stdlib disagree"
    stray = {p.name for p in DATA.iterdir() if p.is_dir()} - set(names())
    assert not stray, f"test data for unknown properties: {stray}"


@pytest.mark.parametrize("name", sorted(CASES))
def test_trace_files_are_up_to_date(name: str) -> None:
    for variant in ("pass", "fail"):
        on_disk = (DATA / name / f"{variant}.json").read_text()
        assert on_disk == make_data.render(name, variant), (
            f"{name}/{variant}.json is stale: run python tests/stdlib/make_data.py"
        )


def test_base_trace_satisfies_the_whole_stdlib(tmp_path: Path) -> None:
    t = base()
    t.trace_id = trace_id("base", "pass")
    path = tmp_path / "base.json"
    path.write_text(make_data.dumps(make_data.otlp(t)))
    result = run(path)
    assert failing(result) == set()


@pytest.mark.parametrize("name", sorted(CASES))
def test_pass_trace_holds(name: str) -> None:
    result = run(DATA / name / "pass.json")
    assert result.holds(name, 0), [w.message for w in result[name].witnesses.get(0, [])]
    unexpected = failing(result) - PASS_EXTRAS.get(name, set())
    assert not unexpected, f"pass trace of {name} also violates {sorted(unexpected)}"


@pytest.mark.parametrize("name", sorted(CASES))
def test_fail_trace_violates_only_its_property(name: str) -> None:
    result = run(DATA / name / "fail.json")
    assert not result.holds(name, 0), f"fail trace of {name} satisfies it"
    unexpected = failing(result) - {name} - FAIL_EXTRAS.get(name, set())
    assert not unexpected, f"fail trace of {name} also violates {sorted(unexpected)}"
    witnesses = result[name].witnesses[0]
    assert witnesses and all(w.message for w in witnesses)
    expected = CASES[name].witness
    if expected is not None:
        raw = build(name, "fail")[expected].span_id
        want = (raw or span_id(expected)).lower()
        bound = {ref.span_id for w in witnesses for _, ref in w.bindings}
        assert want in bound, f"no witness of {name} names span {expected} ({want}): " + "; ".join(
            w.message for w in witnesses
        )


@pytest.mark.parametrize("name", sorted(FAIL_EXTRAS))
def test_declared_overlaps_are_real(name: str) -> None:
    """Every allowed extra violation does occur: keeps FAIL_EXTRAS honest."""
    result = run(DATA / name / "fail.json")
    assert FAIL_EXTRAS[name] <= failing(result)
