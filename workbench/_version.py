"""The package version and location: a leaf module, so subpackages need not import the root.

``workbench/__init__.py`` re-exports :data:`__version__`; :mod:`workbench.lang`,
:mod:`workbench.report`, :mod:`workbench.datasets` and :mod:`workbench.experiments` read it
(and :data:`PACKAGE_DIR`) from here.
"""

from __future__ import annotations

from pathlib import Path

__version__ = "0.1.0"

#: The directory of the installed ``workbench`` package.
PACKAGE_DIR: Path = Path(__file__).resolve().parent
