"""The command line a person reads: help with arguments, defaults, exit codes and an example;
a demo that says its violations are known; hints for typos and bad params."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.conftest import CLEAN, Run
from workbench.cli import _parser

COMMANDS = [
    ["check"],
    ["demo"],
    ["lint"],
    ["fmt"],
    ["explain"],
    ["prove", "consistent"],
    ["prove", "implies"],
    ["fix"],
    ["gen"],
    ["convert"],
    ["eval"],
    ["experiment", "run"],
    ["experiment", "step"],
    ["experiment", "show"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_help_has_exit_codes_and_an_example(
    command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        _parser().parse_args([*command, "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    flat = " ".join(out.split())
    assert "exit codes: 0 " in flat and "3 internal error" in flat
    assert "example:\n  otlspec " in out


def test_check_help_describes_arguments_and_defaults(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        _parser().parse_args(["check", "--help"])
    out = capsys.readouterr().out
    assert out.startswith("usage: otlspec check [options] SPEC [SPEC ...] TRACES [TRACES ...]\n")
    assert "SPEC... TRACES..." not in out
    assert "'stdlib'" in out and "'-' for stdin" in out
    assert "(default: error)" in out  # --fail-on
    assert "lowest severity" in out
    assert "no progress bar" in out
    assert "(default: None)" not in out and "(default: False)" not in out


def test_top_level_help_has_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        _parser().parse_args(["--help"])
    out = capsys.readouterr().out
    assert "exit codes:" in out and "--debug" in out


def test_demo_has_no_manifest_warnings_and_says_violations_are_known(run: Run) -> None:
    code, out, err = run("demo")
    assert code == 0
    assert "not a trace file" not in out + err
    assert "manifest" not in out + err
    assert "contains known violations" in err


def test_unbound_variable_lists_the_variables_in_scope(run: Run, tmp_path: Path) -> None:
    spec = tmp_path / "u.otlspec"
    spec.write_text("property p {\n  check forall p in spans: q.duration > 0ns\n}\n")
    code, _, err = run("lint", spec)
    assert code == 2
    assert "unknown name `q`" in err and "hint: variables bound here: `p`" in err
    spec.write_text("property p {\n  check forall span in spans: spna.duration > 0ns\n}\n")
    _, _, err = run("lint", spec)
    assert "did you mean `span`?" in err


def test_missing_stdlib_module_lists_the_modules(run: Run, tmp_path: Path) -> None:
    code, _, err = run("lint", "stdlib.nosuch")
    assert code == 2
    assert "no stdlib module `stdlib.nosuch`" in err
    assert "modules: stdlib.attributes," in err and "stdlib.timing" in err
    spec = tmp_path / "m.otlspec"
    spec.write_text("import stdlib.timeing\n")
    _, _, err = run("lint", spec)
    assert "did you mean `timing`?" in err and "stdlib.structure" in err


@pytest.mark.parametrize("value", ["-5ms", "-1ns"])
def test_negative_duration_param_is_rejected(run: Run, value: str) -> None:
    code, out, err = run("check", "stdlib.timing", CLEAN, "--param", f"skew={value}")
    assert code == 2
    assert f"--param skew={value}: a negative duration" in err
    assert out == ""
    code, _, _ = run("check", "stdlib.timing", CLEAN, "--param", "skew=0ms")
    assert code == 0
