"""The compiled readers' numba cache is dropped when any source of the kernel unit changes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

pytest.importorskip("numba")

from workbench.traces import kernel_cache

PACKAGE = Path(kernel_cache.__file__).resolve().parents[1]


def _copy_unit(tmp_path: Path) -> Path:
    root = tmp_path / "workbench"
    for rel in kernel_cache.UNIT:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(PACKAGE / rel, root / rel)
    return root


def test_the_digest_follows_every_source_of_the_unit(tmp_path: Path) -> None:
    root = _copy_unit(tmp_path)
    first = kernel_cache.digest(root)
    assert kernel_cache.digest(root) == first
    for rel in kernel_cache.UNIT:
        path = root / rel
        text = path.read_text()
        path.write_text(text + "\n# edited\n")
        assert kernel_cache.digest(root) != first, rel
        path.write_text(text)
    assert kernel_cache.digest(root) == first


def test_stale_cache_files_of_the_unit_are_dropped_once(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    root = _copy_unit(tmp_path)
    dirs = kernel_cache.cache_dirs(root)
    traces = root / "traces" / "__pycache__"
    assert dirs[traces] == {Path(r).stem for r in kernel_cache.UNIT if r.startswith("traces/")}
    traces.mkdir(parents=True, exist_ok=True)
    stale = [traces / "kernels.walk_request-376.py311.nbi",
             traces / "kernels_wire.varint-19.py311.1.nbc"]
    other = [traces / "blocks.cpython-311.pyc", traces / "resolve.f-1.py311.nbi"]
    for f in (*stale, *other):
        f.write_bytes(b"x")
    kernel_cache._refresh(root)
    assert not any(f.exists() for f in stale) and all(f.exists() for f in other)
    assert (traces / kernel_cache.STAMP).read_text() == kernel_cache.digest(root)
    fresh = traces / "kernels.walk_request-376.py311.nbi"
    fresh.write_bytes(b"y")
    kernel_cache._refresh(root)  # same sources: the cache stays
    assert fresh.exists()
    (root / "traces" / "kernels_wire.py").write_text("# changed callee\n")
    kernel_cache._refresh(root)  # a callee changed: the caller's machine code goes too
    assert not fresh.exists()
    assert (root / "serve" / "__pycache__" / kernel_cache.STAMP).exists()


def test_refresh_runs_once_per_process_and_never_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[Path] = []

    def broken(root: Path) -> None:
        calls.append(root)
        raise PermissionError("read-only cache")

    monkeypatch.setattr(kernel_cache, "_DONE", False)
    monkeypatch.setattr(kernel_cache, "_refresh", broken)
    kernel_cache.refresh()
    kernel_cache.refresh()
    assert calls == [PACKAGE]
