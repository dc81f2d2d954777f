"""The check pipeline: parameters bound once, typed, by the named ``bind_params`` pass; IR
dumps after any pass; progress reported as verdicts become final."""

from __future__ import annotations

import pytest

from tests.engine.test_params import SPEC, table
from tests.test_cli import run
from workbench.engine import check
from workbench.engine.pipeline import PASSES, dump_ir
from workbench.errors import ParamError
from workbench.lang import bind_params, ir, parse_spec
from workbench.lang.walk import postorder


def test_typed_values_bind_without_a_text_round_trip() -> None:
    spec = parse_spec(SPEC)
    typed = bind_params(spec, {"skew": 10_000_000, "window": ir.Const(5, ir.Type.DURATION)})
    text = bind_params(spec, {"skew": "10ms", "window": "5ns"})
    assert typed == text
    assert not any(isinstance(n, ir.ParamRef)
                   for p in typed.properties for n in postorder(p.formula))
    with pytest.raises(ParamError, match="expected a duration"):
        bind_params(spec, {"skew": 1.5})
    with pytest.raises(ParamError, match="expected a duration"):
        bind_params(spec, {"skew": True})


@pytest.mark.parametrize("backend", ["reference", "numba"])
def test_check_runs_the_bind_pass_and_reports_real_progress(backend: str) -> None:
    spec = parse_spec(SPEC)
    seen: list[str] = []
    result = check(spec, table(), {"skew": 100_000_000}, backend=backend, progress=seen.append)
    assert sorted(seen) == ["child_start", "retried"]
    assert "pass:bind_params" in result.timings
    assert result.params["skew"] == 100_000_000


def test_progress_comes_after_each_verdict(monkeypatch: pytest.MonkeyPatch) -> None:
    from workbench.engine import reference

    spec = parse_spec(SPEC)
    events: list[str] = []
    original = reference.check_property

    def spy(prop, *args, **kwargs):  # type: ignore[no-untyped-def]
        events.append(f"run {prop.name}")
        return original(prop, *args, **kwargs)

    monkeypatch.setattr(reference, "check_property", spy)
    check(spec, table(), backend="reference", progress=lambda n: events.append(f"done {n}"))
    assert events == ["run child_start", "done child_start", "run retried", "done retried"]


def test_dump_ir_after_each_pass() -> None:
    spec = parse_spec(SPEC)
    assert list(PASSES) == ["bind_params", "normalize", "regroup"]
    bound = dump_ir(spec, "child_start", "bind_params", {"skew": "1ms"})
    assert ir.Const(1_000_000, ir.Type.DURATION) in postorder(bound)
    for name in PASSES:
        assert not any(isinstance(n, ir.ParamRef) for n in postorder(dump_ir(spec, "retried",
                                                                              name)))
    with pytest.raises(ValueError, match="no such pass"):
        dump_ir(spec, "retried", "optimize")


def test_cli_explain_dump_ir(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "explain", "parent_exists", "--dump-ir", "normalize")
    assert code == 0 and "IR after normalize:" in out and "Quant(" in out
    code, _, err = run(capsys, "explain", "parent_exists", "--dump-ir", "optimize")
    assert code == 2 and "no such pass" in err
