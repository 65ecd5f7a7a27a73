"""The notebooks in notebooks/ run top to bottom (each asserts its key result), are stored without
outputs (the documentation site executes them when it builds, so the figures it shows always come
from the code as it is), and say in their first cell which extras they need."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
CELL_TIMEOUT_S = 120
# The first cell's install line, e.g. pip install ".[plots,sklearn]"
INSTALL_LINE = re.compile(r'pip install "\.\[([a-z0-9_,-]+)\]"')


def _ids(paths):
    return [path.stem for path in paths]


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 8, NOTEBOOKS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_notebook_is_stored_without_outputs(path):
    import nbformat

    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, f"{path.name}: clear the outputs"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_notebook_names_the_extras_it_needs(path):
    import nbformat

    first = nbformat.read(path, as_version=4).cells[0]
    found = INSTALL_LINE.search(first.source) if first.cell_type == "markdown" else None
    assert found, f'{path.name}: its first (markdown) cell should say `pip install ".[extra,...]"`'
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    unknown = sorted(set(found.group(1).split(",")) - set(declared))
    assert not unknown, f"{path.name} asks for extras {unknown} that pyproject.toml does not declare"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_notebook_runs(path):
    import nbclient
    import nbformat

    notebook = nbformat.read(path, as_version=4)
    # Kernel 'python3' is ipykernel's own; jupyter_client starts it with this interpreter
    # (sys.executable), so the notebook sees the environment the tests run in.
    client = nbclient.NotebookClient(
        notebook,
        timeout=CELL_TIMEOUT_S,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    try:
        client.execute()
    except nbclient.exceptions.CellExecutionError as error:
        pytest.fail(f"{path.name} failed:\n{error}", pytrace=False)
