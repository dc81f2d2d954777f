"""The numba CPU backend: generated kernels compiled with ``numba.njit``, run on all cores.

Each property's kernel source (:mod:`workbench.engine.codegen`) is written once to a module
file named by its hash under the cache directory (``$OTLSPEC_CACHE_DIR``, else
``$NUMBA_CACHE_DIR/otlspec``, else ``~/.cache/otlspec/numba``) and imported; numba's own
on-disk cache (``cache=True``) then keeps the machine code next to it, so a kernel is compiled
once per machine, not once per run. Properties of the same shape (or one property under other
``--param`` values) share a kernel: literals live in the constant arrays, not in the code.

Kernels are ``nogil`` loops over a range of traces; :class:`NumbaRunner` cuts the traces into
ranges of about equal span counts and runs them on a thread pool (one thread per core), which
parallelizes exactly like ``prange`` without numba's slower parallel-loop compilation.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.abc
import importlib.util
import marshal
import os
import pickle
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import CodeType, ModuleType
from typing import Any

import numpy as np

from workbench.engine.capabilities import compiled_capabilities
from workbench.engine.codegen import CODEGEN_VERSION, Generated, render
from workbench.engine.compiled import CompiledBackend, balanced_chunks
from workbench.lang import ir

NAME = "numba"
#: Spans per batch of :meth:`NumbaRunner.verdicts` (a batch's columns fit in the L2/L3 cache).
BATCH_SPANS = 16_384

#: How each IR node class is handled by this backend.
CAPABILITIES: dict[type[ir.Node], str] = compiled_capabilities("numba")


def available() -> tuple[bool, str]:
    """Whether numba is installed here (and why not).

    Asked of the installed distribution, without importing numba (0.2 s): ``auto`` asks on
    every run, also when its cost model then runs every property on the reference. A numba
    that is installed but cannot be imported fails when its first kernel loads, and those
    properties run on the reference with that error as the reason.
    """
    found = sys.modules.get("numba")
    if found is not None:
        return True, f"numba {getattr(found, '__version__', '')}".strip()
    try:
        if importlib.util.find_spec("numba") is None:
            return False, "numba is not installed"
    except (ImportError, ValueError) as err:  # pragma: no cover - depends on the environment
        return False, f"numba is not installed ({err})"
    from importlib import metadata

    try:
        return True, f"numba {metadata.version('numba')}"
    except metadata.PackageNotFoundError:  # pragma: no cover - a source tree on the path
        return True, "numba"


class _NoScipy(importlib.abc.MetaPathFinder):
    """Makes ``import scipy`` fail while installed (see :func:`quick_start`)."""

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
        if name == "scipy" or name.startswith("scipy."):
            raise ImportError("scipy is not imported while numba starts (otlspec quick start)")


def quick_start() -> None:
    """Import numba's array lowering without SciPy, for a command-line run that needs numba.

    ``numba.np.arraymath`` imports ``scipy.linalg.cython_blas`` when it is first imported, only
    to decide whether ``np.correlate``/``np.convolve`` of floats may use BLAS; that import
    costs about 0.15 s of CPU, more than loading a dozen cached kernels, and no otlspec kernel
    uses BLAS. Imported without SciPy, those two functions use numba's own loop instead (same
    results), and ``np.dot`` and ``np.linalg`` still import SciPy when a kernel first uses
    them. Does nothing when SciPy or numba's lowering is already imported, and is not called
    on ``import workbench``, so a library user's own numba code is untouched.
    """
    if "scipy" in sys.modules or "numba.np.arraymath" in sys.modules:
        return
    blocker = _NoScipy()
    sys.meta_path.insert(0, blocker)
    try:
        import numba.np.arraymath  # noqa: F401
    except Exception:  # numba missing or changed: it starts the normal way later
        pass
    finally:
        sys.meta_path.remove(blocker)


def cache_dir() -> Path:
    """Where generated modules (and numba's cache of them) live."""
    explicit = os.environ.get("OTLSPEC_CACHE_DIR")
    if explicit:
        base = Path(explicit)
    elif os.environ.get("NUMBA_CACHE_DIR"):
        base = Path(os.environ["NUMBA_CACHE_DIR"]) / "otlspec"
    else:
        base = Path.home() / ".cache" / "otlspec" / "numba"
    return base


#: Held while a kernel module is written and imported (the prefetch thread loads them too).
_LOAD_LOCK = threading.RLock()
#: The kernel modules imported completely (a module is in ``sys.modules`` while it executes).
_READY: dict[str, ModuleType] = {}


@functools.cache
def _lib_digest() -> str:
    from workbench.engine import kernel_lib

    return hashlib.sha256(Path(kernel_lib.__file__).read_bytes()).hexdigest()[:8]


def _named(gen: Generated, target: str) -> tuple[str, str]:
    """``(module text, module name)`` of ``gen`` for ``target``."""
    text = render(gen, target)
    digest = hashlib.sha256((text + _lib_digest() + CODEGEN_VERSION).encode()).hexdigest()[:24]
    return text, f"otlspec_k_{target}_{digest}"


def load_module(gen: Generated, target: str) -> ModuleType:
    """Write (once) and import the module of ``gen`` for ``target``."""
    text, name = _named(gen, target)
    found = _READY.get(name)
    if found is not None:
        return found
    with _LOAD_LOCK:
        found = _READY.get(name) or sys.modules.get(name)
        if found is None:
            found = _import(name, text)
        _READY[name] = found
        return found


def _import(name: str, text: str) -> ModuleType:
    directory = cache_dir()
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.py"
    if not path.exists() or path.read_text() != text:
        fd, tmp = tempfile.mkstemp(dir=directory, suffix=".tmp")
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        os.replace(tmp, path)
    module = ModuleType(name)
    module.__file__ = str(path)
    code = _code(path, text)
    sys.modules[name] = module
    try:
        exec(code, module.__dict__)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def _code(path: Path, text: str) -> CodeType:
    """The code object of the kernel module at ``path`` (whose source is ``text``).

    Kept in a marshal file beside numba's cache, because the interpreter's own ``.pyc`` is
    not written under ``PYTHONDONTWRITEBYTECODE`` (and compiling the stdlib's 46 kernel
    modules from source costs about 0.1 s each run). The file starts with the interpreter's
    magic number and a hash of the source; anything else is compiled again.
    """
    cached = path.parent / "__pycache__" / f"{path.stem}.{sys.implementation.cache_tag}.code"
    head = importlib.util.MAGIC_NUMBER + hashlib.sha256(text.encode()).digest()[:12]
    try:
        data = cached.read_bytes()
        if data[:len(head)] == head:
            return marshal.loads(data[len(head):])
    except (OSError, EOFError, ValueError, TypeError):
        pass
    code = compile(text, str(path), "exec", dont_inherit=True)
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=cached.parent, suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            fh.write(head + marshal.dumps(code))
        os.replace(tmp, cached)
    except OSError:  # a read-only cache: compile each run
        pass
    return code


class NumbaRunner:
    """Loads, compiles and runs generated kernels on the CPU."""

    name = NAME

    def __init__(self, threads: int | None = None) -> None:
        self.threads = threads or int(os.environ.get("NUMBA_NUM_THREADS", 0)) or os.cpu_count() or 1
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        self._warm: set[tuple[str, str]] = set()
        self._remembered: set[str] = set()
        self.compile_seconds = 0.0
        self.job_seconds: list[float] = []

    def pool(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="otlspec")
            return self._pool

    def load(self, gen: Generated) -> ModuleType:
        return load_module(gen, "cpu")

    def _compile(self, fn: Any, kind: str, key: str, call: Any) -> None:
        """Compile (or load from numba's cache) on a first, empty call; timed as compile."""
        if (key, kind) in self._warm:
            return
        t0 = time.perf_counter()
        call()
        self.compile_seconds += time.perf_counter() - t0
        self._warm.add((key, kind))

    def verdicts(self, jobs: list[tuple[ModuleType, tuple[np.ndarray, ...]]], n_traces: int,
                 toff: np.ndarray) -> list[np.ndarray]:
        """Run every job's ``verdict`` kernel, batch by batch.

        The traces are cut into batches of about :data:`BATCH_SPANS` spans; a worker thread
        runs *every* property's kernel on its batch before taking the next one, so each
        batch's columns are read from memory once and then served from cache, instead of the
        whole table streaming through the cache once per property.
        """
        outs = [np.ones(n_traces, dtype=np.bool_) for _ in jobs]
        compiling = np.zeros(len(jobs))
        memo: dict[int, Any] = {}  # argument types by array id: the jobs share most arrays
        for j, ((handle, args), out) in enumerate(zip(jobs, outs, strict=True)):
            fn = handle.verdict
            before = self.compile_seconds
            used: list[tuple[Any, ...] | None] = []
            self._compile(fn, "verdict", handle.__name__,
                          lambda fn=fn, out=out, args=args, used=used: used.append(
                              _first_call(fn, memo, out, args)))
            if handle.__name__ not in self._remembered:
                self._remembered.add(handle.__name__)
                remember_signatures(handle, used[0] if used else None)
            if sum(getattr(fn, "_cache_misses", {}).values()):
                # a kernel new to the disk cache: compile its witness kernel too, now, so that
                # later (warm) runs only read the cache, even when they meet new failures
                wfn = handle.witness
                self._compile(wfn, "witness", handle.__name__, lambda wfn=wfn, args=args: wfn(
                    0, 0, np.zeros(0, np.int64), np.zeros((0, 1, 3), np.int64),
                    np.zeros(0, np.int64), *args))
            compiling[j] = self.compile_seconds - before
        total = int(toff[n_traces]) if n_traces else 0
        serial = self.threads == 1 or total < 20_000
        # one thread: one range (each kernel call costs a dispatch on ~70 arguments), unless
        # the table is large enough for batches to keep its columns in cache
        parts = max(1 if serial else self.threads * 4, total // BATCH_SPANS)
        chunks = balanced_chunks(toff, n_traces, parts)
        # seconds of each job on each chunk (one row per chunk, so threads never share a cell)
        spent = np.zeros((len(chunks), len(jobs)))

        def work(c: int, a: int, b: int) -> None:
            row = spent[c]
            for j, ((handle, args), out) in enumerate(zip(jobs, outs, strict=True)):
                t0 = time.perf_counter()
                handle.verdict(a, b, out, *args)
                row[j] = time.perf_counter() - t0

        if serial or len(chunks) <= 1:
            for c, (a, b) in enumerate(chunks):
                work(c, a, b)
        else:
            for f in [self.pool().submit(work, c, a, b) for c, (a, b) in enumerate(chunks)]:
                f.result()
        #: per job: compilation plus kernel seconds summed over threads (read by the driver)
        self.job_seconds = (spent.sum(axis=0) + compiling).tolist()
        return outs

    def witness(self, handle: ModuleType, args: tuple[np.ndarray, ...], traces: np.ndarray,
                cap: int, slots: int) -> tuple[np.ndarray, np.ndarray]:
        wbuf = np.zeros((traces.shape[0], cap, 2 + slots), dtype=np.int64)
        wcnt = np.zeros(traces.shape[0], dtype=np.int64)
        fn = handle.witness
        self._compile(fn, "witness", handle.__name__,
                      lambda: fn(0, 0, traces, wbuf, wcnt, *args))
        n = traces.shape[0]
        if n < 64 or self.threads == 1:
            fn(0, n, traces, wbuf, wcnt, *args)
        else:
            step = -(-n // (self.threads * 4))
            futures = [self.pool().submit(fn, a, min(n, a + step), traces, wbuf, wcnt, *args)
                       for a in range(0, n, step)]
            for f in futures:
                f.result()
        return wbuf, wcnt


def _first_call(fn: Any, memo: dict[int, Any], out: np.ndarray,
                args: tuple[np.ndarray, ...]) -> tuple[Any, ...] | None:
    """Load (or compile) the verdict kernel ``fn`` for these arguments, without running it.

    A numba dispatcher gets the signature directly (``compile``): the argument types come from
    ``memo``, so the ~80 arrays every kernel shares are typed once per pass, not once per
    kernel, and the call skips numba's argument-folding path. Plain Python kernels
    (:class:`PythonRunner`) are called on an empty range instead.

    Returns the signature (None for a plain Python kernel).
    """
    typeof = getattr(fn, "typeof_pyval", None)
    if typeof is None or not hasattr(fn, "compile"):
        fn(0, 0, out, *args)
        return None
    sig = [typeof(0), typeof(0)]
    for a in (out, *args):
        found = memo.get(id(a))
        if found is None:
            found = memo[id(a)] = typeof(a)
        sig.append(found)
    fn.compile(tuple(sig))
    return tuple(sig)


class PythonRunner(NumbaRunner):
    """The generated kernels run as plain Python (no compilation): a fast way to test the
    lowering itself, and an interpreter for debugging (out-of-bounds reads raise)."""

    name = "python"

    def __init__(self) -> None:
        super().__init__(threads=1)

    def load(self, gen: Generated) -> ModuleType:
        return load_module(gen, "py")


_RUNNER: NumbaRunner | None = None


def runner() -> NumbaRunner:
    """The process-wide CPU runner."""
    global _RUNNER
    if _RUNNER is None:
        _RUNNER = NumbaRunner()
    return _RUNNER


def module_name(gen: Generated, target: str = "cpu") -> str:
    """The name (and file stem) of ``gen``'s kernel module, as :func:`load_module` writes it."""
    return _named(gen, target)[1]


def is_cached(gen: Generated, target: str = "cpu") -> bool:
    """Whether the verdict kernel of ``gen`` is in numba's disk cache (or loaded already)."""
    name = module_name(gen, target)
    if name in sys.modules:
        return True
    return name in _cached_names()


_LISTING: tuple[str, int, set[str]] = ("", -1, set())


def _cached_names() -> set[str]:
    """The kernel modules with a verdict kernel in numba's disk cache: one listing of the cache
    directory, read again only when the directory changes (a new entry changes its mtime)."""
    global _LISTING
    directory = cache_dir() / "__pycache__"
    try:
        stamp = directory.stat().st_mtime_ns
    except OSError:
        return set()
    if (str(directory), stamp) != _LISTING[:2]:
        names = {f.partition(".verdict-")[0] for f in os.listdir(directory)
                 if ".verdict-" in f and f.endswith(".nbi")}
        _LISTING = (str(directory), stamp, names)
    return _LISTING[2]


def _signatures_path(name: str) -> Path:
    return cache_dir() / f"{name}.sigs"


def known_signatures(name: str) -> list[tuple[Any, ...]]:
    """The argument types the verdict kernel of module ``name`` was called with by earlier runs
    (recorded by :func:`remember_signatures`); empty when none were recorded or the record is
    unreadable."""
    try:
        with open(_signatures_path(name), "rb") as fh:
            found = pickle.load(fh)
    except Exception:  # missing, or written by another numba version: load the normal way
        return []
    return [tuple(s) for s in found] if isinstance(found, list) else []


def remember_signatures(handle: ModuleType, used: tuple[Any, ...] | None = None) -> None:
    """Record the argument types of ``handle``'s verdict kernel next to its module, so that a
    later run can load that overload from numba's disk cache before the tables exist
    (:func:`preload`).

    The record lists the signatures in order of use, the latest last: ``used`` (the one this
    run called the kernel with) moves to the end. Writes only when that order changes or a
    signature is new, so warm runs on inputs of one kind write nothing.
    """
    sigs = [tuple(s) for s in getattr(handle.verdict, "signatures", ())]
    known = known_signatures(handle.__name__)
    if used is not None:
        used = tuple(used)
        if known and known[-1] == used:
            return
        record = [s for s in known if s != used] + [used]
    else:
        if not sigs or all(s in known for s in sigs):
            return
        record = known + [s for s in sigs if s not in known]
    directory = cache_dir()
    try:
        fd, tmp = tempfile.mkstemp(dir=directory, suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            pickle.dump(record, fh)
        os.replace(tmp, _signatures_path(handle.__name__))
    except (OSError, pickle.PicklingError):  # a read-only cache: later runs load as before
        pass


def preload(gen: Generated) -> bool:
    """Import ``gen``'s module and load its verdict kernel from numba's disk cache for each
    signature an earlier run used, without any table (see :mod:`workbench.engine.prefetch`).

    Only the signature used last is loaded (:func:`remember_signatures` keeps it at the end
    of the record): a run calls each verdict kernel with one signature, and linking an
    overload the run does not call would cost as much as the one it calls (the tables of a
    Parquet dataset, say, are read-only arrays, those of trace files are not: two signatures
    of every kernel once both kinds of input were checked).

    Returns whether anything was loaded. Nothing is ever compiled here: a signature missing
    from the disk cache is left to the run, which compiles it when it calls the kernel.
    """
    name = module_name(gen)
    sigs = known_signatures(name)
    if not sigs or not is_cached(gen):
        return False
    fn = load_module(gen, "cpu").verdict
    return _load_cached(fn, sigs[-1])


def _load_cached(fn: Any, sig: tuple[Any, ...]) -> bool:
    """Add the overload of dispatcher ``fn`` for ``sig`` from numba's disk cache, as
    ``Dispatcher.compile`` does on a cache hit, but never compile on a miss."""
    try:
        from numba.core.compiler_lock import global_compiler_lock

        with global_compiler_lock:
            if fn.overloads.get(sig) is not None:
                return True
            cres = fn._cache.load_overload(sig, fn.targetctx)
            if cres is None:
                return False
            fn._cache_hits[sig] += 1
            if not cres.objectmode:
                fn.targetctx.insert_user_function(cres.entry_point, cres.fndesc, [cres.library])
            fn.add_overload(cres)
    except (AttributeError, ImportError, TypeError):  # another numba's internals: skip
        return False
    return True


#: This module's entry in :data:`workbench.engine.base.REGISTRY`.
BACKEND = CompiledBackend(NAME, runner, available)
