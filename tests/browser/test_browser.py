"""Browser tests: the standalone HTML export and the SequenceExplorer in JupyterLab, in headless Chromium.

How Chromium and JupyterLab are started, and what the page may reach: conftest.py.
"""
import json
import time
from pathlib import Path

import numpy as np
import pytest

from browser_helpers import ARTIFACTS, open_in_jupyterlab, serve_folder

pytestmark = pytest.mark.browser


def small_sequence(T=40, seed=0):
    """A skeleton swinging its arms, so consecutive frames visibly differ."""
    rng = np.random.default_rng(seed)
    base = rng.normal(size=(17, 3)) * 0.25
    t = np.arange(T)[:, None]
    gt = base[None] + 0.3 * np.sin(t / 4.0)[..., None] * (np.arange(17) % 3 == 0)[None, :, None]
    gt = gt + np.array([0.0, 0.0, 5.0])
    kps = gt[..., :2] / gt[..., 2:] * 1.2
    return gt, kps


# ----------------------------------------------------------------------------- standalone HTML

def read_3d_trace(page, trace: int):
    return page.evaluate(f"""() => {{
        const gd = [...document.querySelectorAll('.js-plotly-plot')].find(g => g._fullLayout && g._fullLayout.scene);
        const d = gd.data[{trace}];
        return [Array.from(d.x), Array.from(d.y), Array.from(d.z)];
    }}""")


def test_exported_html_animates_offline(page, tmp_path):
    from relpose import viz
    from relpose.skeleton import H36M_17

    gt, kps = small_sequence()
    fig = viz.sequence_animation_figure({"prediction": gt + 0.02, "ground truth": gt}, H36M_17,
                                        keypoints_2d=kps * 300 + 500, downsample=2)
    viz.export_html(fig, tmp_path / "anim.html")
    with serve_folder(tmp_path) as base:
        page.goto(f"{base}/anim.html", timeout=30_000)
        page.wait_for_selector(".js-plotly-plot .slider-rail-rect", timeout=30_000)
        before = read_3d_trace(page, 3)  # prediction, left side
        page.screenshot(path=str(ARTIFACTS / "html_frame0.png"))
        rail = page.locator(".slider-rail-rect").first.bounding_box()
        page.mouse.click(rail["x"] + 0.6 * rail["width"], rail["y"] + rail["height"] / 2)  # jump along the slider
        page.wait_for_function("""() => {
            const gd = document.querySelector('.js-plotly-plot');
            return gd._fullLayout.sliders[0].active > 0; }""", timeout=15_000)
        time.sleep(0.5)  # let the frame finish drawing before the screenshot
        active = page.evaluate("() => document.querySelector('.js-plotly-plot')._fullLayout.sliders[0].active")
        after = read_3d_trace(page, 3)
        page.screenshot(path=str(ARTIFACTS / "html_frame_moved.png"))
    frame = int(fig.frames[active].name)
    expected = viz.segment_coordinates(viz.display_coordinates(gt[frame] + 0.02, "-y"),
                                       viz.segment_index(viz.bone_sides(H36M_17)["left"]))
    got = np.array([[np.nan if v is None else v for v in axis] for axis in after], dtype=float).T
    assert frame > 0 and after != before
    assert np.allclose(got, expected, equal_nan=True, atol=1e-6)
    assert page.blocked_requests == []  # nothing but the local server was contacted


# ----------------------------------------------------------------------------- JupyterLab

NOTEBOOK_CELL = """\
import numpy as np
from relpose import viz
from relpose.skeleton import H36M_17
seqs, preds = {{}}, {{}}
for key, seed in [(("S1", "Walking", 0), 0), (("S1", "Walking", 1), 1)]:
    gt, kps = {sequence}(seed=seed)
    seqs[key] = viz.Sequence(kps, gt, res_w=1000, res_h=1000)
    preds[key] = gt + 0.01
explorer = viz.SequenceExplorer(seqs, H36M_17, predictions=preds, height=380)
explorer.widget
"""


def write_notebook(folder: Path) -> Path:
    import inspect
    source = inspect.getsource(small_sequence) + "\n" + NOTEBOOK_CELL.format(sequence="small_sequence")
    nb = {"cells": [{"id": "explorer", "cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
                     "source": source}],
          "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                       "language_info": {"name": "python"}},
          "nbformat": 4, "nbformat_minor": 5}
    path = folder / "explorer.ipynb"
    path.write_text(json.dumps(nb))
    return path


def test_explorer_widget_in_jupyterlab(page, jupyterlab):
    base, token, root = jupyterlab
    write_notebook(root)
    open_in_jupyterlab(page, base, token, "explorer.ipynb")
    # Then run every cell through JupyterLab's own command.
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    try:
        page.wait_for_function("""() => [...document.querySelectorAll('.jp-OutputArea .js-plotly-plot')]
            .some(g => g._fullLayout && g._fullLayout.scene && g.data && g.data.length > 3)""", timeout=120_000)
        page.wait_for_selector(".jp-OutputArea .widget-slider .noUi-handle", timeout=60_000)
        page.wait_for_function("() => document.querySelector('.jp-OutputArea .widget-html-content')"
                               " && document.querySelector('.jp-OutputArea .widget-html-content')"
                               ".textContent.includes('frame 0 /')", timeout=60_000)
    finally:
        page.screenshot(path=str(ARTIFACTS / "jupyterlab_frame0.png"))
    before = read_3d_trace(page, 3)
    handle = page.locator(".jp-OutputArea .widget-slider .noUi-handle").first
    handle.focus()
    for _ in range(5):
        page.keyboard.press("ArrowRight")  # the slider's keyboard steps, as a user would
    page.wait_for_function("() => document.querySelector('.jp-OutputArea .widget-html-content')"
                           ".textContent.includes('frame 5 /')", timeout=60_000)
    page.wait_for_function(f"""() => {{
        const gd = [...document.querySelectorAll('.js-plotly-plot')].find(g => g._fullLayout && g._fullLayout.scene);
        return JSON.stringify(Array.from(gd.data[3].x)) !== {json.dumps(json.dumps(before[0]))}; }}""",
                           timeout=60_000)
    after = read_3d_trace(page, 3)
    page.screenshot(path=str(ARTIFACTS / "jupyterlab_frame5.png"))

    from relpose import viz
    from relpose.skeleton import H36M_17
    gt, _ = small_sequence(seed=0)
    pred = gt + 0.01
    expected = viz.segment_coordinates(viz.display_coordinates(pred[5] - pred[5, :1], "-y"),
                                       viz.segment_index(viz.bone_sides(H36M_17)["left"]))
    got = np.array([[np.nan if v is None else v for v in axis] for axis in after], dtype=float).T
    assert np.allclose(got, expected, equal_nan=True, atol=1e-6)
    assert page.blocked_requests == []
