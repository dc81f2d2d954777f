"""A warm kernel cache is only read: runs after the first write no new cache files, even when
they meet failures (and so witness kernels) the first run did not."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "stdlib" / "child_starts_after_parent"


def _files(d: Path) -> set[str]:
    return {str(p.relative_to(d)) for p in d.rglob("*") if p.is_file()}


@pytest.mark.slow
def test_warm_runs_write_no_cache_files(tmp_path: Path) -> None:
    env = {**os.environ, "OTLSPEC_CACHE_DIR": str(tmp_path / "cache")}
    spec = str(ROOT / "specs" / "stdlib" / "timing.otlspec")

    def run(trace: Path) -> None:
        subprocess.run([sys.executable, "-m", "workbench.cli", "check", spec, str(trace),
                        "--backend", "numba", "--no-progress"], env=env, check=False,
                       capture_output=True, timeout=600, cwd=ROOT)

    run(DATA / "pass.json")  # cold: compiles, nothing fails
    cold = _files(tmp_path / "cache")
    assert cold
    run(DATA / "fail.json")  # warm: a property fails for the first time
    assert _files(tmp_path / "cache") == cold
