"""examples/python/portrait.ipynb runs as it is, as a reader of the repository would run it.

The notebook is executed with nbclient (what `jupyter nbconvert --execute` uses) twice: with the
repository root as its working directory and with its own folder, so neither can depend on where
Jupyter was started. A cell that raises fails the test with the cell's error. The committed copy
must carry its outputs, pictures included, so that a reader on a code host sees the faces.
"""
import copy
import os

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NOTEBOOK = os.path.join(ROOT, "examples", "python", "portrait.ipynb")


def images(nb):
    return [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
            if "image/png" in o.get("data", {})]


@pytest.fixture(scope="module")
def notebook():
    with open(NOTEBOOK) as f:
        return nbformat.read(f, as_version=4)


def test_committed_notebook_shows_its_faces(notebook):
    assert len(images(notebook)) >= 4, (
        "examples/python/portrait.ipynb was committed without its pictures: run it with "
        "`jupyter nbconvert --to notebook --execute --inplace` in examples/python and commit the result")


@pytest.mark.parametrize("cwd", [ROOT, os.path.join(ROOT, "examples", "python")], ids=["repository-root", "own-folder"])
def test_notebook_runs_from(cwd, notebook):
    nb = copy.deepcopy(notebook)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
    env_path = os.environ.get("PYTHONPATH")
    try:
        # The kernel is a new process: it must find avpgan by the notebook's own means (the
        # checkout's bindings), not through the test runner's PYTHONPATH.
        os.environ.pop("PYTHONPATH", None)
        NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": cwd}}).execute()
    finally:
        if env_path is not None:
            os.environ["PYTHONPATH"] = env_path
    assert len(images(nb)) >= 4, "the notebook ran but showed %d pictures, not the 4 faces" % len(images(nb))
