"""Package layering: subpackages do not import the package root or each other's privates."""

from __future__ import annotations

import re
from pathlib import Path

import workbench
from workbench._version import PACKAGE_DIR, __version__

ROOT = Path(workbench.__file__).resolve().parent
_ROOT_IMPORT = re.compile(r"^\s*(import workbench\s*$|from workbench import )", re.M)


def _sources(*packages: str) -> list[Path]:
    return [p for pkg in packages for p in sorted((ROOT / pkg).rglob("*.py"))]


def test_version_is_a_leaf() -> None:
    assert workbench.__version__ == __version__
    assert PACKAGE_DIR == ROOT


def test_subpackages_do_not_import_the_package_root() -> None:
    offenders = [
        str(p.relative_to(ROOT))
        for p in _sources("lang", "report", "datasets", "experiments", "engine", "smt", "ui")
        if _ROOT_IMPORT.search(p.read_text(encoding="utf-8"))
    ]
    assert offenders == []
