"""Giving freed heap memory back to the operating system between the big steps of a build."""

from __future__ import annotations

from typing import Any

_TRIM: Any = None


def release_memory() -> None:
    """Return freed heap memory to the operating system (glibc's ``malloc_trim``).

    The span table is built from many pieces (per file, per decoder chunk) that are freed as
    their joined, reordered columns are made; glibc keeps the pages of such mid-heap frees
    resident unless asked, so without this the build's peak RSS would count every source
    column twice. A no-op where glibc is not the C library.
    """
    global _TRIM
    if _TRIM is None:
        try:
            import ctypes

            _TRIM = ctypes.CDLL("libc.so.6").malloc_trim
        except (OSError, AttributeError):
            _TRIM = False
    if _TRIM:
        _TRIM(0)
