"""``otlspec experiment``: `q` stops without failing, a killed run is not `latest`, and the
lint stage lints the spec as written (no "param never used" once params are bound)."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.experiments.test_experiments import TOML
from workbench.experiments import store
from workbench.experiments.cli import run

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture()
def experiment(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.toml"
    path.write_text(TOML.format(root=ROOT))
    return path


def test_lint_stage_has_no_spurious_unused_params(experiment: Path, tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    out = io.StringIO()
    assert run(str(experiment), str(runs), run_id="lint", step=True, yes=True, stdout=out) == 0
    assert "lint: 0 warning(s)" in out.getvalue()


def test_a_killed_run_is_marked_and_not_latest(experiment: Path, tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    assert run(str(experiment), str(runs), run_id="done", quiet=True, stdout=io.StringIO()) == 0
    # a run whose process dies without cleaning up (SIGKILL): started, then never finished
    code = (
        "import os, sys\n"
        "from workbench.experiments.config import load_config\n"
        "from workbench.experiments.runner import Run\n"
        f"r = Run(load_config({str(experiment)!r}), {str(runs)!r}, 'killed')\n"
        "g = r.stages(); next(g)\n"
        "os._exit(9)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, timeout=300)
    assert proc.returncode == 9
    assert (runs / "killed" / store.PID_FILE).is_file()
    status = {r["id"]: r["status"] for r in store.runs(runs)}
    assert status == {"done": "ok", "killed": "killed"}
    assert store.resolve(runs, "latest") == "done"
    assert json.loads(json.dumps(store.runs(runs)))  # rows stay plain data
