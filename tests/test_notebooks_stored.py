"""The stored notebooks as a reader finds them in git: normalised (stable under open-and-save in
JupyterLab), a static image with every Plotly figure, a static picture beside every widget, no
machine paths, nothing too large. Fix with `make refresh-notebooks` (re-run and store) or
`make normalise-notebooks` (form only); the rules are in relpose/cli/notebooks.py."""
from pathlib import Path

import pytest

from relpose.cli import notebooks

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


def test_there_are_notebooks_to_check():
    assert len(NOTEBOOKS) >= 9


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_stored_notebook_is_normalised_and_readable_without_a_kernel(path):
    problems = notebooks.check(str(path))
    assert not problems, f"{path.name}:\n" + "\n".join(problems)
