"""The GPU backend's kernels (``@cuda.jit`` renderings of the plan) agree with the reference.

Without a GPU they run on numba's CUDA simulator, in a subprocess (the simulator has to be
selected before ``numba.cuda`` is first imported). ``-m gpu`` tests run on a real device.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _simulate(n_random: int) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NUMBA_ENABLE_CUDASIM": "1", "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "tests.engine.gpu_sim_check", str(n_random)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )


def test_stdlib_and_random_formulas_on_the_cuda_simulator() -> None:
    done = _simulate(15)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    assert "0 disagreements" in done.stdout


@pytest.mark.slow
def test_many_random_formulas_on_the_cuda_simulator() -> None:
    done = _simulate(200)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]


@pytest.mark.gpu
def test_stdlib_on_a_cuda_device() -> None:
    from tests.engine.differential import compare, stdlib, stdlib_data
    from workbench.engine import cupy_gpu
    from workbench.engine.reference import param_values

    ok, why = cupy_gpu.available()
    if not ok:
        pytest.skip(why)
    spec = stdlib()
    runner = cupy_gpu.runner(simulate=False)
    problems = [compare(runner, p, stdlib_data(), param_values(spec)) for p in spec.properties]
    assert [p for p in problems if p] == []
