"""An unexpected exception is a bug: exit status 3, one line naming it and where to report it,
the traceback only with ``--debug``; distinct from 1 (violations) and 2 (bad input)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.cli.conftest import ROOT, STDLIB, Run
from workbench import cli


def _boom(*_args: object, **_kwargs: object) -> object:
    raise ZeroDivisionError("division by zero\nsecond line")


def test_internal_error_is_status_3_and_one_line(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("workbench.lang.lint_spec", _boom)
    code, out, err = run("lint", STDLIB / "timing.otlspec")
    assert code == cli.EXIT_BUG == 3
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("otlspec: internal error (a bug in otlspec): ZeroDivisionError")
    assert "report it to" in lines[0] and "--debug" in lines[0]
    assert "Traceback" not in err and out == ""


@pytest.mark.parametrize("where", ["before", "after"])
def test_debug_shows_the_traceback(run: Run, monkeypatch: pytest.MonkeyPatch, where: str) -> None:
    monkeypatch.setattr("workbench.lang.lint_spec", _boom)
    argv = ["lint", str(STDLIB / "timing.otlspec")]
    argv = ["--debug", *argv] if where == "before" else [*argv, "--debug"]
    code, _, err = run(*argv)
    assert code == 3
    assert "Traceback (most recent call last)" in err
    assert "ZeroDivisionError" in err
    assert err.strip().splitlines()[-1].startswith("otlspec: internal error")


def test_user_errors_keep_status_2(run: Run) -> None:
    code, _, err = run("lint", "--debug", "no/such.otlspec")
    assert code == 2
    assert "Traceback" not in err


def test_the_process_exits_3() -> None:
    code = (
        "import sys, workbench.lang as L\n"
        "L.lint_spec = lambda spec: 1 / 0\n"
        "from workbench.cli import main\n"
        f"sys.exit(main(['lint', {str(STDLIB / 'timing.otlspec')!r}]))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 3, proc.stderr
    assert proc.stderr.count("\n") == 1
