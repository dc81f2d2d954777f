"""The notebooks run top to bottom (nbclient), and are stored without outputs.

Each notebook runs in a fresh kernel started in ``notebooks/``, as JupyterLab would. All six
run in the default suite (about 80 s together), so CI executes every notebook; a notebook that
grows slow can be marked slow here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
#: notebook -> whether it takes long enough to be excluded from the default run
EXPECTED = {
    "01-language-and-semantics.ipynb": False,
    "02-exploring-real-traces.ipynb": False,
    "03-batch-checking-and-performance.ipynb": False,
    "04-reasoning-with-z3.ipynb": False,
    "05-proof-strategies.ipynb": False,
    "06-complete-experiment.ipynb": False,
}


def test_the_notebooks_are_all_here() -> None:
    assert sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_stored_without_outputs(name: str) -> None:
    nbformat = pytest.importorskip("nbformat")
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, name


def _params() -> list[object]:
    return [pytest.param(name, marks=[pytest.mark.slow] if slow else [], id=name[:2])
            for name, slow in sorted(EXPECTED.items())]


@pytest.mark.parametrize("name", _params())
def test_notebook_runs(name: str) -> None:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                                     resources={"metadata": {"path": str(NOTEBOOKS)}})
    client.execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
              if o.output_type == "error"]
    assert not errors
