"""relpose.viz.legibility: text and panel sizes of a figure in pixels of the saved image, and the figures the kit
draws for notebooks measured against its rules."""
import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from relpose.lab import robustness
from relpose.skeleton import H36M_17
from relpose.viz import legibility, static_figure
from relpose.viz.static import DPI


def figure(width_in=4.0, height_in=3.0, dpi=100):
    fig = Figure(figsize=(width_in, height_in), dpi=dpi)
    FigureCanvasAgg(fig)
    return fig


def test_measure_reports_the_smallest_drawn_text_in_pixels_of_the_saved_image():
    fig = figure()
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, 1])
    ax.tick_params(labelsize=12)
    ax.set_title("a title", fontsize=14)
    ax.text(0.5, 0.5, "small", fontsize=8)
    assert legibility.measure(fig, dpi=72)["text_px"] == pytest.approx(8.0)    # 8 pt at 72 dpi
    assert legibility.measure(fig, dpi=144)["text_px"] == pytest.approx(16.0)  # the same figure saved twice as large
    assert legibility.measure(fig)["text_px"] == pytest.approx(8 * 100 / 72, abs=0.01)   # default: its own dpi


def test_text_that_is_not_drawn_does_not_count():
    fig = figure()
    ax = fig.add_subplot()
    ax.plot([0, 1])
    hidden = fig.add_subplot(2, 2, 4)
    hidden.tick_params(labelsize=4)
    hidden.set_visible(False)
    ax.text(0.5, 0.5, "", fontsize=3)                          # empty
    ax.text(0.5, 0.5, "gone", fontsize=3).set_visible(False)  # invisible
    assert legibility.measure(fig, dpi=72)["text_px"] == pytest.approx(10.0)
    assert legibility.measure(figure(), dpi=72)["text_px"] is None          # nothing drawn at all


def test_panels_and_scenes_in_pixels_without_colour_bars_or_axes_switched_off():
    fig = figure(8, 4, dpi=50)
    flat = fig.add_axes([0.1, 0.1, 0.3, 0.5])
    image = flat.imshow(np.eye(3))
    fig.colorbar(image, ax=flat)
    fig.add_axes([0.0, 0.9, 1.0, 0.1]).axis("off")               # a strip holding text only
    fig.add_axes([0.55, 0.1, 0.4, 0.8], projection="3d")
    m = legibility.measure(fig, dpi=100)                         # saved at twice the figure's dpi
    (w, h), = m["panels_px"]                                     # the image, not its colour bar nor the strip
    assert w <= 0.3 * 800 + 0.1 and h <= 0.5 * 400 + 0.1 and max(w, h) > 100  # the aspect may shrink one side
    assert m["scenes_px"] == [[pytest.approx(0.4 * 800, abs=0.2), pytest.approx(0.8 * 400, abs=0.2)]]


def test_problems_name_what_is_too_small():
    assert legibility.problems({"text_px": 10.0, "panels_px": [[200, 140], [140, 200]], "scenes_px": [[200, 200]]}) == []
    found = legibility.problems({"text_px": 7, "panels_px": [[190, 150], [300, 120]], "scenes_px": [[138, 138]]})
    assert found == ["text of 7 px (at least 10 px)",
                     "a panel of 190 x 150 px (at least 200 px along its longer side, 140 px along the other)",
                     "a panel of 300 x 120 px (at least 200 px along its longer side, 140 px along the other)",
                     "a 3D panel of 138 x 138 px (at least 200 x 200 px)"]
    assert legibility.problems({"text_px": None, "panels_px": [], "scenes_px": []}) == []


def test_static_twin_of_a_plotly_figure_is_legible():
    import plotly.graph_objects as go

    fig = go.Figure(go.Scatter3d(x=[0, 1], y=[0, 1], z=[0, 1], mode="lines+text", text=["a", "b"], name="a pose"))
    fig.add_trace(go.Scatter3d(x=[1, 0], y=[0, 1], z=[1, 0], mode="lines", name="another"))
    fig.update_layout(title="a title", height=440)
    m = legibility.measure(static_figure(fig), DPI)
    assert m["text_px"] == pytest.approx(10.0) and len(m["scenes_px"]) == 1
    assert legibility.problems(m) == []


def test_perturbation_examples_are_legible_two_panels_a_row():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pose = np.random.default_rng(0).uniform(-0.3, 0.3, size=(17, 2)).astype(np.float32)
    levels = {"translate": 100, "scale": 1.2, "noise": 5, "drop": 2}
    fig = robustness.plot_perturbation_examples(pose, H36M_17, levels)
    try:
        assert [a.get_title() for a in fig.axes] == [robustness.describe(n, v) for n, v in levels.items()]
        assert legibility.problems(legibility.measure(fig, DPI)) == []
    finally:
        plt.close(fig)


def test_measure_shown_figures_adds_the_measurements_to_the_kernels_png(monkeypatch):
    import IPython
    from IPython.core.formatters import DisplayFormatter

    from relpose.viz import notebook

    class Shell:
        display_formatter = DisplayFormatter()

    import matplotlib
    import matplotlib.pyplot as plt

    shell = Shell()
    shell.display_formatter.formatters["image/png"].for_type(Figure, lambda fig: "iVBORw0KGgo=")  # the inline printer
    monkeypatch.setattr(IPython, "get_ipython", lambda: shell)
    monkeypatch.setattr(matplotlib, "get_backend", lambda: "module://matplotlib_inline.backend_inline")
    monkeypatch.setattr(plt, "switch_backend", lambda name: None)   # a kernel's inline backend, without a kernel
    assert notebook.measure_shown_figures() and notebook.measure_shown_figures()   # the second call changes nothing
    fig = figure(dpi=72)
    fig.add_subplot().plot([0, 1])
    data, metadata = shell.display_formatter.format(fig)
    assert data["image/png"] == "iVBORw0KGgo="
    measured = metadata["image/png"][legibility.METADATA_KEY]
    assert measured["text_px"] == pytest.approx(10.0) and len(measured["panels_px"]) == 1
    monkeypatch.setattr(matplotlib, "get_backend", lambda: "agg")
    assert notebook.measure_shown_figures() is False                   # no inline backend: no figure is stored
    monkeypatch.setattr(IPython, "get_ipython", lambda: None)
    assert notebook.measure_shown_figures() is False                   # outside a kernel: nothing to do
