"""The fixed costs of a warm check: kernels prefetched beside trace loading (and the verdicts
unchanged), load-only preloading, recorded signatures, the quick numba start, and the
pandas-free Arrow helpers."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType, SimpleNamespace

import numpy as np
import pytest

from tests.engine.differential import ROOT, same, stdlib, stdlib_data
from workbench.engine import check, numba_cpu, prefetch
from workbench.engine.compiled import bind, generated
from workbench.lang import parse_spec

pytestmark = pytest.mark.skipif(not numba_cpu.available()[0], reason="numba is not installed")


def test_prefetched_check_agrees_with_the_reference() -> None:
    spec, table = stdlib(), stdlib_data()
    job = prefetch.start(spec, None, backend="numba")
    assert job is not None
    job.wait()
    assert job.error is None
    got = check(spec, table, backend="numba")
    want = check(spec, table, backend="reference")
    assert [p for p in (same(a, b) for a, b in zip(got.results, want.results, strict=True))
            if p] == []
    assert any(r.backend == "numba" for r in got.results)


def test_no_prefetch_for_other_backends_small_inputs_or_when_off(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = stdlib()
    assert prefetch.start(spec, backend="reference") is None
    small = tmp_path / "t.json"
    small.write_text("{}")
    assert prefetch.start(spec, inputs=[str(small)]) is None
    assert prefetch.input_bytes([str(small)]) == 2
    assert prefetch.input_bytes([str(tmp_path)]) == 2
    assert prefetch.input_bytes(["-"]) is None
    monkeypatch.setenv(prefetch.ENV, "0")
    assert prefetch.start(spec) is None


def _gen(text: str) -> object:
    spec = parse_spec(f"spec s\nproperty p {{\n  check forall s in spans: {text}\n}}\n")
    return generated(bind(spec.properties[0].formula, {}))


def test_preload_only_loads_never_compiles(tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTLSPEC_CACHE_DIR", str(tmp_path / "cache"))
    gen = _gen("s.end >= s.start - 123457ms")
    assert numba_cpu.preload(gen) is False  # no recorded signature: nothing happens
    assert not (tmp_path / "cache").exists()
    # a recorded signature, but nothing in numba's cache: still nothing compiled or written
    name = numba_cpu.module_name(gen)
    handle = ModuleType(name)
    handle.verdict = SimpleNamespace(signatures=[("int64", "int64")])  # type: ignore[attr-defined]
    (tmp_path / "cache").mkdir()
    numba_cpu.remember_signatures(handle)
    assert numba_cpu.known_signatures(name) == [("int64", "int64")]
    before = sorted(p.name for p in (tmp_path / "cache").rglob("*"))
    assert numba_cpu.preload(gen) is False
    assert sorted(p.name for p in (tmp_path / "cache").rglob("*")) == before


def test_signatures_are_written_only_when_new(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTLSPEC_CACHE_DIR", str(tmp_path))
    handle = ModuleType("otlspec_k_cpu_test")
    handle.verdict = SimpleNamespace(signatures=[("a",)])  # type: ignore[attr-defined]
    numba_cpu.remember_signatures(handle)
    path = tmp_path / "otlspec_k_cpu_test.sigs"
    stamp = path.stat().st_mtime_ns
    numba_cpu.remember_signatures(handle)
    assert path.stat().st_mtime_ns == stamp
    handle.verdict.signatures.append(("b",))
    numba_cpu.remember_signatures(handle)
    assert numba_cpu.known_signatures("otlspec_k_cpu_test") == [("a",), ("b",)]
    path.write_bytes(b"not a pickle")
    assert numba_cpu.known_signatures("otlspec_k_cpu_test") == []


def test_signatures_are_kept_in_order_of_use(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTLSPEC_CACHE_DIR", str(tmp_path))
    handle = ModuleType("otlspec_k_cpu_test")
    handle.verdict = SimpleNamespace(signatures=[("a",), ("b",)])  # type: ignore[attr-defined]
    numba_cpu.remember_signatures(handle, ("b",))
    assert numba_cpu.known_signatures("otlspec_k_cpu_test") == [("b",)]
    numba_cpu.remember_signatures(handle, ("a",))
    assert numba_cpu.known_signatures("otlspec_k_cpu_test") == [("b",), ("a",)]
    path = tmp_path / "otlspec_k_cpu_test.sigs"
    stamp = path.stat().st_mtime_ns
    numba_cpu.remember_signatures(handle, ("a",))  # the same kind of input again: no write
    assert path.stat().st_mtime_ns == stamp
    numba_cpu.remember_signatures(handle)  # nothing new
    assert path.stat().st_mtime_ns == stamp
    numba_cpu.remember_signatures(handle, ("b",))  # the other kind: moves to the end
    assert numba_cpu.known_signatures("otlspec_k_cpu_test") == [("a",), ("b",)]


def test_preload_loads_only_the_signature_used_last(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTLSPEC_CACHE_DIR", str(tmp_path))
    gen = _gen("s.end >= s.start - 123458ms")
    name = numba_cpu.module_name(gen)
    handle = ModuleType(name)
    handle.verdict = SimpleNamespace(signatures=[])  # type: ignore[attr-defined]
    numba_cpu.remember_signatures(handle, ("writable",))
    numba_cpu.remember_signatures(handle, ("read-only",))
    loaded: list[tuple[object, ...]] = []
    monkeypatch.setattr(numba_cpu, "is_cached", lambda gen, target="cpu": True)
    monkeypatch.setattr(numba_cpu, "load_module", lambda gen, target: handle)
    monkeypatch.setattr(numba_cpu, "_load_cached",
                        lambda fn, sig: loaded.append(sig) is None)
    assert numba_cpu.preload(gen) is True
    assert loaded == [("read-only",)]


def test_kernel_module_code_is_cached_and_checked(tmp_path: Path) -> None:
    path = tmp_path / "m.py"
    path.write_text("X = 1\n")
    code = numba_cpu._code(path, "X = 1\n")
    cached = list((tmp_path / "__pycache__").glob("m.*.code"))
    assert len(cached) == 1
    ns: dict[str, object] = {}
    exec(numba_cpu._code(path, "X = 1\n"), ns)
    assert ns["X"] == 1 and code.co_filename == str(path)
    ns = {}
    exec(numba_cpu._code(path, "X = 2\n"), ns)  # another source: compiled again
    assert ns["X"] == 2


def test_quick_start_skips_scipy_and_numba_still_works() -> None:
    script = (
        "import sys\n"
        "from workbench.engine.numba_cpu import quick_start\n"
        "quick_start()\n"
        "assert 'numba.np.arraymath' in sys.modules and 'scipy' not in sys.modules\n"
        "import numba, numpy as np\n"
        "f = numba.njit(lambda a: a.sum())\n"
        "assert f(np.arange(4.0)) == 6.0\n"
        "import scipy\n"  # importable again afterwards
        "print('ok')\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip() == "ok"


def test_arrow_helpers_agree_with_pyarrow() -> None:
    pa = pytest.importorskip("pyarrow")
    pc = pytest.importorskip("pyarrow.compute")
    from workbench.engine.text_bulk import arrow_bools, arrow_strings

    texts = ["", "abc", "żółw", "a" * 70, "x\u00e9y"] * 20
    arr = arrow_strings(pa, texts)
    assert arr.to_pylist() == texts
    hits = pc.match_substring_regex(arr, "b|é")
    assert arrow_bools(hits[3:]).tolist() == hits[3:].to_pylist()
    assert arrow_strings(pa, ["\ud800"]) is None
    with pytest.raises(ValueError):
        arrow_bools(pa.array([True, None, False]))
    assert np.asarray(arrow_bools(pa.array([], pa.bool_()))).shape == (0,)


def test_no_cuda_driver_is_answered_without_numba_cuda(monkeypatch: pytest.MonkeyPatch) -> None:
    import ctypes

    from workbench.engine import cupy_gpu

    def missing(name: str, *a: object, **k: object) -> object:
        raise OSError(f"{name}: cannot open shared object file")

    monkeypatch.delenv("NUMBA_CUDA_DRIVER", raising=False)
    monkeypatch.delenv("NUMBA_ENABLE_CUDASIM", raising=False)
    monkeypatch.setattr(ctypes, "CDLL", missing)
    if sys.platform.startswith("linux"):
        assert cupy_gpu.available() == (False, "no CUDA device or driver found")
    monkeypatch.setenv("NUMBA_CUDA_DRIVER", "/nonexistent/libcuda.so")
    assert cupy_gpu._no_driver() is False  # numba decides


def test_auto_on_a_tiny_input_never_starts_numba() -> None:
    trace = ROOT / "tests" / "data" / "stdlib" / "child_starts_after_parent" / "fail.json"
    script = (
        "import sys\n"
        "from workbench.cli import main\n"
        "try:\n"
        f"    main(['check', 'stdlib', {str(trace)!r}, '--no-progress'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print('numba' in sys.modules, file=sys.stderr)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    auto = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          cwd=ROOT, env=env, timeout=300)
    ref = subprocess.run([sys.executable, "-m", "workbench.cli", "check", "stdlib", str(trace),
                          "--backend", "reference", "--no-progress"], capture_output=True,
                         text=True, cwd=ROOT, env=env, timeout=300)
    assert auto.stderr.strip().splitlines()[-1] == "False", auto.stderr[-3000:]
    assert auto.stdout == ref.stdout and "46 properties" in auto.stdout


def test_a_checked_table_and_its_cached_index_are_freed() -> None:
    """The engine caches an index per table; the index must not keep its table alive, or a
    long-running process (a server, a Dask worker) holds every table it ever checked."""
    import gc
    import weakref

    from workbench.datasets.generator import generate
    from workbench.datasets.writer import to_table as dataset_table
    from workbench.engine import plan

    table = dataset_table(generate(traces=20, seed=3))
    key = id(table)
    index = plan.table_index(table)
    index.need("children")
    assert plan._INDEXES[key][1] is index and index.table is table
    del index
    alive = weakref.ref(table)
    del table
    gc.collect()
    assert alive() is None and key not in plan._INDEXES
