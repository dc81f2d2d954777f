"""numba's on-disk cache of the compiled readers, kept in step with their sources.

numba keys a cached function by the timestamp of *its own* source file, not by the functions it
calls in other modules: after an edit of ``kernels_wire.py`` (a checkout, a merge, an editable
install being worked on), ``kernels.walk_request`` would go on loading machine code with the
old ``varint`` compiled into it. The reader kernels call across the modules of :data:`UNIT`,
so they are cached as one unit: a digest of all their sources is kept beside numba's cache
files, and when it differs every cached file of the unit's modules is dropped before any of
them is loaded (each module calls :func:`refresh` on import). A fresh install writes every
file anew, so this matters for working trees; it costs one read of the sources per process.
"""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

#: The kernel modules that call one another's njit functions (paths under ``workbench/``).
UNIT = (
    "traces/kernels.py",
    "traces/kernels_intern.py",
    "traces/kernels_json.py",
    "traces/kernels_json_parts.py",
    "traces/kernels_json_scan.py",
    "traces/kernels_utf8.py",
    "traces/kernels_wire.py",
    "serve/wire.py",
)
#: The file beside numba's cache files that holds the digest of the sources they came from.
STAMP = "otlspec-readers.digest"

_LOCK = threading.Lock()
_DONE = False


def refresh() -> None:
    """Drop the unit's cached machine code once per process if its sources changed.

    Never raises for a file system problem (a read-only cache directory, a race with another
    process): numba then compiles or loads as it would have.
    """
    global _DONE
    with _LOCK:
        if _DONE:
            return
        _DONE = True
        try:
            _refresh(Path(__file__).resolve().parents[1])
        except (OSError, ImportError, RuntimeError):
            pass


def digest(root: Path) -> str:
    """The digest of the unit's sources under the package directory ``root``."""
    h = hashlib.sha256()
    for rel in UNIT:
        path = root / rel
        h.update(rel.encode())
        h.update(path.read_bytes() if path.exists() else b"")
    return h.hexdigest()[:20]


def cache_dirs(root: Path) -> dict[Path, set[str]]:
    """numba's cache directory of each unit module (as numba's own locators choose it), with
    the module names (file stems) whose cache files it holds."""
    from numba.core.caching import FunctionCache

    found: dict[Path, set[str]] = {}
    for rel in UNIT:
        path = root / rel
        namespace: dict[str, object] = {}
        exec(compile("def probe():\n    pass\n", str(path), "exec"), namespace)
        impl = FunctionCache._impl_class(namespace["probe"])
        directory = Path(impl.locator.get_cache_path())
        found.setdefault(directory, set()).add(path.stem)
    return found


def _refresh(root: Path) -> None:
    wanted = digest(root)
    for directory, stems in cache_dirs(root).items():
        stamp = directory / STAMP
        try:
            if stamp.read_text() == wanted:
                continue
        except OSError:
            pass
        directory.mkdir(parents=True, exist_ok=True)
        for entry in directory.iterdir():
            if entry.suffix in (".nbi", ".nbc") and entry.name.split(".", 1)[0] in stems:
                entry.unlink(missing_ok=True)
        tmp = directory / f"{STAMP}.{os.getpid()}.{threading.get_ident()}.tmp"
        tmp.write_text(wanted)
        tmp.replace(stamp)


__all__ = ["STAMP", "UNIT", "cache_dirs", "digest", "refresh"]
