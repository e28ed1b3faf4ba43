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


def boxes(page, selector: str) -> list[dict]:
    return [b for b in (el.bounding_box() for el in page.locator(selector).all()) if b and b["width"] > 0]


def overlap(a: dict, b: dict) -> bool:
    return (a["x"] < b["x"] + b["width"] and b["x"] < a["x"] + a["width"]
            and a["y"] < b["y"] + b["height"] and b["y"] < a["y"] + a["height"])


def shown_frame(page) -> dict:
    """What the page shows now: the slider's step, its label, and the 2D panel's background image."""
    return page.evaluate("""() => {
        const gd = document.querySelector('.js-plotly-plot');
        const image = gd.querySelector('.imagelayer image');
        return {active: gd._fullLayout.sliders[0].active,
                label: gd.querySelector('.slider-group > text.slider-label').textContent,
                image: image && (image.getAttribute('href') || image.getAttribute('xlink:href'))}; }""")


def test_wild_html_shows_the_video_frame_and_its_number(page, tmp_path):
    from relpose import viz
    from relpose.skeleton import H36M_17

    gt, kps = small_sequence()
    images = [np.full((90, 160, 3), (6 * i, 100, 250 - 6 * i), np.uint8) for i in range(len(gt))]
    guessed = np.zeros(gt.shape[:2], bool)
    guessed[10:, 16] = True
    fig = viz.sequence_animation_figure({"prediction": gt + 0.02}, H36M_17, keypoints_2d=kps * 300 + 500,
                                        res_w=1000, res_h=1000, downsample=2, first_frame=100,
                                        background_frames=images, guessed=guessed, path=True,
                                        title="wild: 2D keypoints and the lifted 3D pose")
    viz.export_html(fig, tmp_path / "wild.html")
    with serve_folder(tmp_path) as base:
        page.goto(f"{base}/wild.html", timeout=30_000)
        page.wait_for_selector(".js-plotly-plot .slider-rail-rect", timeout=30_000)
        page.wait_for_selector(".js-plotly-plot .imagelayer image", state="attached", timeout=30_000)
        first = shown_frame(page)
        page.screenshot(path=str(ARTIFACTS / "wild_html_frame0.png"))
        layouts = []
        for width in (800, 1500):  # the page follows the window's width; the old layout overlapped under ~1200 px
            page.set_viewport_size({"width": width, "height": 1100})
            time.sleep(0.7)
            # Play and Pause; the slider's "frame N" text, rail and tick labels; the 2D panel's axis title and
            # ticks; the legend.
            layouts.append([boxes(page, s) for s in (".updatemenu-button", ".slider-group > text.slider-label",
                                                     ".slider-rail-rect", ".slider-label-group text", ".xtitle",
                                                     ".xtick", ".legend")])
        rail = page.locator(".slider-rail-rect").first.bounding_box()
        page.mouse.click(rail["x"] + 0.6 * rail["width"], rail["y"] + rail["height"] / 2)
        page.wait_for_function("() => document.querySelector('.js-plotly-plot')._fullLayout.sliders[0].active > 0",
                               timeout=15_000)
        time.sleep(0.5)
        moved = shown_frame(page)
        page.screenshot(path=str(ARTIFACTS / "wild_html_frame_moved.png"))
        page.locator(".updatemenu-button", has_text="Play").first.click()  # plays with the images in the frames
        time.sleep(1.0)
        page.locator(".updatemenu-button", has_text="Pause").first.click()
        played = shown_frame(page)
    assert first == {"active": 0, "label": "frame 100", "image": fig.frames[0].layout.images[0].source}
    frame = fig.frames[moved["active"]]
    assert moved["label"] == f"frame {frame.name}" and int(frame.name) == 100 + 2 * moved["active"]
    assert moved["image"] == frame.layout.images[0].source != first["image"]
    assert played["active"] > moved["active"]
    assert played["image"] == fig.frames[played["active"]].layout.images[0].source
    for buttons, *others in layouts:
        assert len(buttons) == 2 and all(others[:3])
        for button in buttons:
            for kind in others:
                assert not any(overlap(button, other) for other in kind)  # nothing on top of Play or Pause
        label = others[0][0]
        assert not any(overlap(label, other) for kind in others[1:] for other in kind)
    assert page.blocked_requests == []


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
