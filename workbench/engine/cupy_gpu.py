"""The GPU backend: the same generated kernels, compiled for CUDA (one thread per trace).

:mod:`workbench.engine.codegen` emits code in the subset that ``numba.cuda`` compiles (no
allocation, no recursion, scalar helpers), so the GPU backend renders the very same plan with
``@cuda.jit`` instead of ``@njit``: ``verdict`` runs one thread per trace, ``witness`` one
thread per failing trace. Table and index columns are uploaded once per table and kept on the
device; per-property tables (constants, string predicate tables) are uploaded per property.

The backend is named ``cupy`` on the command line (``--backend cupy``). It needs a CUDA
device visible to numba (``numba.cuda.is_available()``); CuPy itself is optional (used only to
report the device when installed). Without a device, :func:`available` says why in one line
and :func:`workbench.engine.check` runs the CPU backend instead.

Tests run the backend on numba's CUDA simulator (``simulate=True``, which must be chosen
before ``numba.cuda`` is first imported): the kernels then execute as Python, thread by
thread, which checks the generated CUDA code and the launch logic without a GPU.
"""

from __future__ import annotations

import os
import sys
import threading
from types import ModuleType
from typing import Any

import numpy as np

from workbench.engine.capabilities import compiled_capabilities
from workbench.engine.codegen import Generated
from workbench.engine.compiled import CompiledBackend
from workbench.lang import ir

NAME = "cupy"
THREADS_PER_BLOCK = 128

#: How each IR node class is handled by this backend (the CPU backend's plan, on the GPU).
CAPABILITIES: dict[type[ir.Node], str] = compiled_capabilities("cupy")


def _numba_cuda(simulate: bool) -> Any:
    import numba

    if simulate:
        if "numba.cuda" in sys.modules and not numba.config.ENABLE_CUDASIM:  # type: ignore[attr-defined]  # numba.config attrs are set at import, not in its types
            raise RuntimeError("the CUDA simulator must be enabled before numba.cuda is imported "
                               "(set NUMBA_ENABLE_CUDASIM=1)")
        numba.config.ENABLE_CUDASIM = 1  # type: ignore[attr-defined]  # numba.config attrs are set at import, not in its types
    from numba import cuda

    return cuda


def available(simulate: bool = False) -> tuple[bool, str]:
    """Whether a CUDA device can run the kernels, with a one-line explanation."""
    if simulate:
        return True, "numba CUDA simulator"
    if _no_driver():
        return False, "no CUDA device or driver found"
    try:
        import numba
        from numba import cuda
    except Exception as err:  # pragma: no cover - environment dependent
        return False, f"numba.cuda cannot be imported ({err})"
    if numba.config.ENABLE_CUDASIM:  # type: ignore[attr-defined]  # numba.config attrs are set at import, not in its types
        return False, "only the CUDA simulator is enabled (NUMBA_ENABLE_CUDASIM=1), not a device"
    try:
        if not cuda.is_available():
            return False, "no CUDA device or driver found"
        name = cuda.get_current_device().name
    except Exception as err:  # pragma: no cover - environment dependent
        return False, f"CUDA device unusable ({err})"
    if isinstance(name, bytes):
        name = name.decode()
    return True, f"CUDA device {name}"


def _no_driver() -> bool:
    """Whether the CUDA driver library surely cannot load here: then :func:`available` says so
    without importing ``numba.cuda`` (about 0.2 s of every ``auto`` run on a machine without a
    GPU). Only the default driver search is short-cut: with ``NUMBA_CUDA_DRIVER`` or the
    simulator configured, numba decides."""
    if os.environ.get("NUMBA_CUDA_DRIVER") or os.environ.get("NUMBA_ENABLE_CUDASIM", "0") != "0":
        return False
    import ctypes

    for name in ("libcuda.so.1", "libcuda.so"):
        try:
            ctypes.CDLL(name)
        except OSError:
            continue
        return False
    return sys.platform.startswith("linux")  # elsewhere the driver has other names


class CudaRunner:
    """Loads generated kernels for CUDA and runs them (or simulates them)."""

    name = NAME

    def __init__(self, simulate: bool = False) -> None:
        self.simulate = simulate
        self.cuda = _numba_cuda(simulate)
        self.compile_seconds = 0.0
        self._device: dict[int, tuple[np.ndarray, Any]] = {}
        self._lock = threading.Lock()

    def load(self, gen: Generated) -> ModuleType:
        from workbench.engine.numba_cpu import load_module

        return load_module(gen, "cuda")

    def _to_device(self, arrays: tuple[np.ndarray, ...]) -> list[Any]:
        """Device copies; large table columns are cached (keyed by the host array's identity)."""
        out = []
        with self._lock:
            for a in arrays:
                if a.nbytes >= 4096:
                    hit = self._device.get(id(a))
                    if hit is None or hit[0] is not a:
                        hit = (a, self.cuda.to_device(a))
                        self._device[id(a)] = hit
                    out.append(hit[1])
                else:
                    out.append(self.cuda.to_device(a))
        return out

    def _launch(self, kernel: Any, n: int, *args: Any) -> None:
        if n == 0:
            return
        blocks = (n + THREADS_PER_BLOCK - 1) // THREADS_PER_BLOCK
        threads = THREADS_PER_BLOCK if not self.simulate else min(THREADS_PER_BLOCK, n)
        if self.simulate:
            blocks = (n + threads - 1) // threads
        kernel[blocks, threads](*args)

    def verdicts(self, jobs: list[tuple[ModuleType, tuple[np.ndarray, ...]]], n_traces: int,
                 toff: np.ndarray) -> list[np.ndarray]:
        """Launch every job's ``verdict`` kernel (one thread per trace) and fetch the verdicts."""
        import time

        outs = []
        self.job_seconds: list[float] = []
        for handle, args in jobs:
            dev = self._to_device(args)
            out = self.cuda.to_device(np.ones(n_traces, dtype=np.bool_))
            t0 = time.perf_counter()
            first = not getattr(handle, "_otlspec_warm", False)
            self._launch(handle.verdict, n_traces, 0, n_traces, out, *dev)
            if first and not self.simulate:
                self.cuda.synchronize()
                self.compile_seconds += time.perf_counter() - t0
                handle.__dict__["_otlspec_warm"] = True  # a mark on the kernel module
            elif not self.simulate:
                self.cuda.synchronize()  # so that each job's time is its own
            self.job_seconds.append(time.perf_counter() - t0)
            outs.append(out)
        return [np.asarray(o.copy_to_host(), dtype=np.bool_) for o in outs]

    def witness(self, handle: ModuleType, args: tuple[np.ndarray, ...], traces: np.ndarray,
                cap: int, slots: int) -> tuple[np.ndarray, np.ndarray]:
        dev = self._to_device(args)
        n = traces.shape[0]
        wbuf = self.cuda.to_device(np.zeros((n, cap, 2 + slots), dtype=np.int64))
        wcnt = self.cuda.to_device(np.zeros(n, dtype=np.int64))
        self._launch(handle.witness, n, 0, n, self.cuda.to_device(traces), wbuf, wcnt, *dev)
        return wbuf.copy_to_host(), wcnt.copy_to_host()


_RUNNERS: dict[bool, CudaRunner] = {}


def runner(simulate: bool | None = None) -> CudaRunner:
    """The process-wide GPU runner (``simulate`` defaults to ``$NUMBA_ENABLE_CUDASIM``)."""
    if simulate is None:
        simulate = os.environ.get("NUMBA_ENABLE_CUDASIM", "0") not in ("", "0")
    found = _RUNNERS.get(simulate)
    if found is None:
        found = _RUNNERS[simulate] = CudaRunner(simulate)
    return found


def _device_runner() -> CudaRunner:
    return runner(simulate=False)


def _device_available() -> tuple[bool, str]:
    return available(simulate=False)


#: This module's entry in :data:`workbench.engine.base.REGISTRY` (a real device, never the
#: simulator).
BACKEND = CompiledBackend(NAME, _device_runner, _device_available)
