"""Stored notebooks as a reader sees them: converted to HTML (no kernel, no plotly.js) and opened in JupyterLab.

A small notebook is written and executed here (a Plotly figure, the explorer widget, a plain widget
with `show_widget`, a matplotlib figure), so these tests do not depend on the stored outputs of notebooks/;
the real notebooks are checked too once their stored outputs carry static images (else they skip).
In the HTML export every figure shows one picture, once, and no widget shows its Python text form
(`VBox(children=(...`) above its picture: nbconvert has no widget state, so it would print that line.
"""
import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from browser_helpers import ARTIFACTS, REPO, open_in_jupyterlab, serve_folder

pytestmark = pytest.mark.browser

NOTEBOOKS = REPO / "notebooks"
PLOTLY = "application/vnd.plotly.v1+json"
WIDGET = "application/vnd.jupyter.widget-view+json"
CELLS = [
    "from relpose.lab.settings import notebook_setup\nnotebook_setup()",
    "import numpy as np\nfrom relpose import viz\nfrom relpose.skeleton import H36M_17\n"
    "rng = np.random.default_rng(0)\npose = rng.normal(size=(17, 3)).astype(np.float32) * 0.3\n"
    "viz.skeleton_figure({'pose': pose}, H36M_17, title='a random pose')",
    "print('between the figures')\nviz.joint_error_figure(np.arange(17) * 3.3, H36M_17)",
    "gt = pose[None] + 0.05 * np.sin(np.arange(30))[:, None, None] + np.array([0, 0, 5], np.float32)\n"
    "kps = rng.uniform(-0.5, 0.5, size=(30, 17, 2))\n"
    "explorer = viz.SequenceExplorer({('S1', 'Walking', 0): viz.Sequence(kps, gt)}, H36M_17,\n"
    "                                predictions={('S1', 'Walking', 0): gt + 0.02})\nexplorer",
    "import ipywidgets as widgets\nfrom matplotlib.figure import Figure\n"
    "picture = Figure(figsize=(3, 2))\npicture.add_subplot().plot([0, 1], [1, 0])\n"
    "viz.show_widget(widgets.IntSlider(3, description='size'), picture)",
    "import matplotlib.pyplot as plt\nfig, ax = plt.subplots()\nax.plot([0, 1], [1, 0])\nplt.show()",
]
# A widget's text form as ipywidgets writes it: VBox(children=(...)), IntSlider(value=3, ...), interactive(...).
WIDGET_TEXT = re.compile(r"\b\w+\((children|value|description|options|layout)=|\w*(Widget|Explorer)\(")


@pytest.fixture(scope="module")
def executed_notebook(tmp_path_factory):
    """The small notebook, run in a fresh kernel and stored by `python -m relpose.cli.notebooks refresh` (normalised)."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    from relpose.cli import notebooks as notebook_tools

    folder = tmp_path_factory.mktemp("rendering")
    path = folder / "figures.ipynb"
    cells = [new_code_cell(source) for source in CELLS]
    cells[0].metadata["tags"] = ["parameters"]
    nbformat.write(new_notebook(cells=cells), path)
    notebook_tools.refresh(str(path), timeout=300)
    assert notebook_tools.check(str(path)) == []  # normalised, every figure and widget has its picture
    return path


def to_html(notebook: Path, folder: Path) -> Path:
    out = subprocess.run([sys.executable, "-m", "jupyter", "nbconvert", "--to", "html", "--output-dir", str(folder),
                          str(notebook)], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    return folder / (notebook.stem + ".html")


def rendered_outputs(page) -> list[list[dict]]:
    """Per code cell with outputs, per output: the size of the images it shows, and its text."""
    return page.evaluate("""() => [...document.querySelectorAll('.jp-Cell.jp-CodeCell')].map(cell =>
        [...cell.querySelectorAll('.jp-OutputArea-child')].map(child => ({
            images: [...child.querySelectorAll('img')].map(img =>
                [img.naturalWidth, img.naturalHeight, img.src.slice(0, 22), img.src.length + ':' + img.src.slice(-80)]),
            text: child.innerText})))""")


def check_one_picture_per_figure_and_no_widget_text(shown, name: str) -> None:
    """No output shows a widget's text form, no output shows two pictures, and no picture is shown twice."""
    seen = {}
    for c, children in enumerate(shown):
        for k, child in enumerate(children):
            assert not WIDGET_TEXT.search(child["text"]), f"{name}: code cell {c} shows a widget's text: {child['text'][:80]!r}"
            assert len(child["images"]) <= 1, f"{name}: code cell {c} output {k} shows {len(child['images'])} pictures"
            for image in child["images"]:
                assert image[3] not in seen, f"{name}: code cell {c} shows the picture of code cell {seen[image[3]]} again"
                seen[image[3]] = c


def check_html_shows_pictures(page, notebook: Path, folder: Path, name: str) -> int:
    """Convert, load, and check every Plotly output and every widget's picture is a real image; returns
    how many were checked."""
    html = to_html(notebook, folder)
    with serve_folder(folder) as base:
        page.goto(f"{base}/{html.name}", timeout=60_000)
        page.wait_for_load_state("load")
        shown = rendered_outputs(page)
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    cells = [c for c in json.loads(notebook.read_text())["cells"] if c["cell_type"] == "code"]
    assert len(shown) == len(cells)
    check_one_picture_per_figure_and_no_widget_text(shown, name)
    checked = 0
    for cell, children in zip(cells, shown):
        outputs = cell["outputs"]
        assert len(children) == len(outputs)
        for k, output in enumerate(outputs):
            data = output.get("data", {})
            if PLOTLY in data or WIDGET in data:
                later = [c for c in children[k + 1:] if c["images"]]  # a widget's picture comes after it
                picture = children[k] if PLOTLY in data else (later[0] if later else {"images": []})
                assert picture["images"], f"{name}: no image for output {k} of {cell['source'][:60]!r}"
                width, height, source, _ = picture["images"][0]   # the last: a fingerprint of the picture
                assert width >= 150 and height >= 100, (width, height)
                assert source == "data:image/png;base64,"  # in the file: nothing to fetch
                checked += 1
    # nbconvert's template asks CDNs for require.js and MathJax (blocked here); the pictures need neither.
    assert all("require" in url or "mathjax" in url.lower() for url in page.blocked_requests), page.blocked_requests
    return checked


def test_html_export_shows_figures_and_widget_pictures(page, executed_notebook, tmp_path):
    checked = check_html_shows_pictures(page, executed_notebook, tmp_path, "nbconvert_small")
    assert checked == 4  # two Plotly figures, the explorer, the slider
    html = (tmp_path / "figures.html").read_text()
    assert "IntSlider(" not in html and "VBox(" not in html   # not even hidden: the widgets' text is not stored
    # and the matplotlib figure, each once (counted as images: nbconvert's own CSS holds a PNG data URL too)
    assert html.count('src="data:image/png;base64,') == 5


def notebooks_with_figures():
    out = []
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        text = path.read_text()
        if PLOTLY in text or WIDGET in text:
            out.append(path)
    return out


@pytest.mark.parametrize("path", notebooks_with_figures(), ids=lambda p: p.name)
def test_stored_notebook_html_shows_figures(page, path, tmp_path):
    from relpose.cli import notebooks as notebook_tools

    nb = json.loads(path.read_text())
    missing = [p for i, c in enumerate(c for c in nb["cells"] if c["cell_type"] == "code")
               for p in notebook_tools.output_problems(i, c.get("outputs", [])) if "static" in p]
    if missing:
        pytest.skip(f"stored outputs have no static images yet ({missing[0]}); "
                    "run `make refresh-notebooks` to store them")
    assert check_html_shows_pictures(page, path, tmp_path, f"nbconvert_{path.stem}") > 0


def test_jupyterlab_open_and_save_changes_nothing(page, jupyterlab, executed_notebook):
    """Opening a normalised notebook in JupyterLab (a kernel starts) and saving it writes the same bytes."""
    base, token, root = jupyterlab
    path = root / "figures.ipynb"
    shutil.copy(executed_notebook, path)
    before = path.read_text()
    open_in_jupyterlab(page, base, token, "figures.ipynb")
    page.wait_for_selector(".jp-RenderedPlotly img.plot-img", timeout=60_000)  # the stored image, not a graph
    time.sleep(3)  # the kernel's info reply updates the notebook's metadata
    dirty = page.evaluate("() => window.jupyterapp.shell.currentWidget.context.model.dirty")
    modified = path.stat().st_mtime_ns
    page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
    deadline = time.monotonic() + 30
    while path.stat().st_mtime_ns == modified and time.monotonic() < deadline:
        time.sleep(0.2)
    page.screenshot(path=str(ARTIFACTS / "jupyterlab_saved.png"))
    after = path.read_text()
    assert path.stat().st_mtime_ns != modified, "JupyterLab did not save"
    if after != before:
        import difflib
        diff = "".join(list(difflib.unified_diff(before.splitlines(True), after.splitlines(True)))[:60])
        pytest.fail(f"open-and-save changed the notebook (dirty={dirty}):\n{diff}")
    assert not dirty
    assert page.blocked_requests == []
