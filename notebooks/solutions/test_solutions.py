"""Every exercise solution runs and gives its expected numbers (`make test` runs this file after the notebooks,
whose checkpoints the solutions reuse): one test per exercise, `notebooks/solutions/NN_topic.py::exercise_K`."""
from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(HERE))

from solution_tools import exercises  # noqa: E402

MODULES = sorted(p for p in HERE.glob("[0-9][0-9]_*.py"))


def _load(path: Path):
    name = f"solution_{path.stem}"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def _cases():
    for path in MODULES:
        for f in exercises(_load(path)):
            yield pytest.param(path, f.__name__, id=f"{path.stem}::{f.__name__}")


@pytest.fixture(autouse=True)
def _kit_folder(monkeypatch):
    monkeypatch.chdir(ROOT)          # the solutions find data/ and checkpoint/ from the kit's top folder
    monkeypatch.setenv("RELPOSE_PROGRESS", "0")


def test_every_notebook_has_its_solutions_and_links_them():
    notebooks = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    assert [p.stem for p in MODULES] == [p.stem for p in notebooks]
    for path in notebooks:
        links = re.findall(r"\]\((solutions/[^)]+)\)", path.read_text(encoding="utf-8"))
        assert links and all((path.parent / link).is_file() for link in links), (path.name, links)
        assert all(len(exercises(_load(m))) >= 4 for m in MODULES if m.stem == path.stem)


@pytest.mark.parametrize("path, name", list(_cases()))
def test_solution(path, name):
    getattr(_load(path), name)()      # prints its numbers (pytest -rP shows them) and asserts them
