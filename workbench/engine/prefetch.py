"""Kernel loading beside trace loading: the fixed cost of a warm run, hidden behind the reader.

Which kernels a check needs depends on the spec and its parameters only, not on the traces:
the generated module of a property is named by its normalized formula. So while the traces
load, a second thread can already generate every property's kernel source, import the modules
and load the verdict kernels from numba's disk cache (:func:`numba_cpu.preload`, for the
argument types the latest earlier run called them with: one overload per kernel, the one a
run on the same kind of input calls; tables of trace files and of Parquet datasets differ in
their arrays' read-only flag, and linking both overloads cost ~0.3 CPU-s and ~37 MB at 10k
spans). Most of that work is LLVM's (linking the cached
object code), which runs without the GIL, and the readers' own loops are ``nogil`` kernels, so
on two cores the two overlap.

The prefetch never compiles: a kernel that is not in the disk cache yet, or a signature not
seen before, is left to the run, which compiles it exactly as without a prefetch. Nothing it
does changes a verdict; it only fills the process's caches earlier. The compiled backend waits
for it (:func:`wait`) before it loads kernels itself, so no kernel is loaded twice, and counts
the wait as kernel loading (``compile``).

``OTLSPEC_PREFETCH=0`` turns it off.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench.lang import ir

#: Inputs smaller than this (bytes, all files together) are not prefetched, and for them
#: :func:`warm_up` does not start numba: on a few hundred spans ``auto``'s cost model runs the
#: reference, which needs no kernel (where it picks numba after all, numba starts then).
MIN_INPUT_BYTES = 128 * 1024
ENV = "OTLSPEC_PREFETCH"


@dataclass
class Prefetch:
    """A running (or finished) prefetch of one spec's kernels."""

    thread: threading.Thread | None = None
    #: wall seconds the prefetch thread ran, once it has finished
    seconds: float = 0.0
    #: properties whose verdict kernel came from the disk cache
    loaded: list[str] = field(default_factory=list)
    #: what stopped it early, if anything (the run then loads the rest itself)
    error: BaseException | None = None

    def wait(self) -> float:
        """Wait until the prefetch has finished; returns the seconds waited."""
        if self.thread is None or not self.thread.is_alive():
            return 0.0
        t0 = time.perf_counter()
        self.thread.join()
        return time.perf_counter() - t0


_ACTIVE: Prefetch | None = None


def input_bytes(inputs: Iterable[str]) -> int | None:
    """Total size of the trace inputs (files, and the files directly in directories), or None
    when some input is not a local path (stdin, a URL, a glob)."""
    total = 0
    for text in inputs:
        path = Path(text)
        try:
            if path.is_file():
                total += path.stat().st_size
            elif path.is_dir():
                total += sum(p.stat().st_size for p in path.iterdir() if p.is_file())
            else:
                return None
        except OSError:
            return None
    return total


def warm_up(spec: ir.Spec, params: Mapping[str, Any] | None = None, *, backend: str = "auto",
            inputs: Sequence[str] = (), properties: Iterable[str] | None = None
            ) -> Prefetch | None:
    """What a command-line check does before it reads the traces, for a backend other than
    the reference: start numba (:func:`numba_cpu.quick_start`), load the compiled readers
    (so that every input takes them) and :func:`start` the kernel prefetch.

    With ``auto`` and inputs under :data:`MIN_INPUT_BYTES` it does nothing: numba then starts
    only if the cost model sends some property to a kernel.
    """
    if backend == "reference":
        return None
    size = input_bytes(inputs) if inputs else None
    if backend == "auto" and size is not None and size < MIN_INPUT_BYTES:
        return None
    from workbench.engine import numba_cpu
    from workbench.traces.blocks import preload_fast_readers

    numba_cpu.quick_start()  # without SciPy's BLAS (0.15 s)
    preload_fast_readers()
    return start(spec, params, backend=backend, inputs=inputs, properties=properties)


def start(spec: ir.Spec, params: Mapping[str, Any] | None = None, *, backend: str = "auto",
          inputs: Sequence[str] = (), properties: Iterable[str] | None = None
          ) -> Prefetch | None:
    """Start loading the kernels ``check(spec, ..., params, backend=backend)`` will use.

    Returns the prefetch (also remembered for :func:`wait`), or None when there is nothing to
    prefetch: another backend requested, ``OTLSPEC_PREFETCH=0``, or inputs smaller than
    :data:`MIN_INPUT_BYTES`.
    """
    global _ACTIVE
    if backend not in ("auto", "numba") or os.environ.get(ENV, "1") == "0":
        return None
    size = input_bytes(inputs) if inputs else None
    if size is not None and size < MIN_INPUT_BYTES:
        return None
    wanted = None if properties is None else set(properties)
    job = Prefetch()
    job.thread = threading.Thread(target=_run, args=(job, spec, params, backend, wanted),
                                  name="otlspec-prefetch")
    _ACTIVE = job
    job.thread.start()
    return job


def wait() -> float:
    """Wait for the active prefetch, if any; returns the seconds waited."""
    job = _ACTIVE
    return 0.0 if job is None else job.wait()


def _run(job: Prefetch, spec: ir.Spec, params: Mapping[str, Any] | None, backend: str,
         wanted: set[str] | None) -> None:
    t0 = time.perf_counter()
    try:
        _prefetch(job, spec, params, backend, wanted)
    except Exception as err:  # the run loads whatever is left the normal way
        job.error = err
    job.seconds = time.perf_counter() - t0


def _prefetch(job: Prefetch, spec: ir.Spec, params: Mapping[str, Any] | None, backend: str,
              wanted: set[str] | None) -> None:
    from workbench.engine import check_plan, numba_cpu
    from workbench.engine.base import backend_chain
    from workbench.engine.codegen_terms import Unsupported
    from workbench.engine.compiled import bind, generated

    chain, _ = backend_chain(backend)
    if not chain or chain[0].name != numba_cpu.NAME:
        return
    # the run's own plan (check_plan.py): the check then does not run the passes again
    plan = check_plan.bound(spec, params)
    values = plan.values
    for prop in plan.spec.properties:
        if wanted is not None and prop.name not in wanted:
            continue
        try:
            gen = generated(bind(prop.formula, values))
        except Unsupported:
            continue
        if numba_cpu.preload(gen):
            job.loaded.append(prop.name)
