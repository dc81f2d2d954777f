"""Shared helpers of the command-line tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from workbench.cli import main

ROOT = Path(__file__).resolve().parents[2]
STDLIB = ROOT / "specs" / "stdlib"
DATA = ROOT / "tests" / "data" / "stdlib"
SKEWED = DATA / "child_starts_after_parent" / "fail.json"
CLEAN = DATA / "child_starts_after_parent" / "pass.json"

Run = Callable[..., tuple[int, str, str]]


@pytest.fixture()
def run(capsys: pytest.CaptureFixture[str]) -> Run:
    """``run(*argv) -> (exit code, stdout, stderr)`` of ``otlspec`` in this process."""

    def go(*argv: str | Path) -> tuple[int, str, str]:
        code = main([str(a) for a in argv])
        out, err = capsys.readouterr()
        return code, out, err

    return go
