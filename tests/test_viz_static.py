"""Static twins of Plotly figures and the notebook renderer: what matplotlib draws is read back and
compared with the figure's data; the renderer's bundle holds rounded JSON and a PNG of the right size."""
import base64
import io
import json
import re

import numpy as np
import plotly.graph_objects as go
import pytest
from PIL import Image

from relpose import viz
from relpose.viz.figure_json import PLOTLY_MIME
from relpose.skeleton import H36M_17, HUMANEVA_15
from relpose.viz import static


def lines_3d(ax):
    return [np.array(line.get_data_3d()).T for line in ax.lines]


def same_with_gaps(a, b):
    return a.shape == b.shape and np.allclose(a, b, equal_nan=True, atol=6e-5)  # the twin draws 4 decimals


def test_skeleton_twin_draws_every_trace_in_its_scene_with_the_figure_ranges():
    rng = np.random.default_rng(0)
    fig = viz.skeleton_figure({"pred": rng.normal(size=(17, 3)), "gt": rng.normal(size=(17, 3))}, H36M_17,
                              layout="side", up_axis="z", title="two poses")
    twin = static.static_figure(fig)
    scenes = [ax for ax in twin.axes if ax.name == "3d"]
    assert len(scenes) == 2
    for k, ax in enumerate(scenes):
        name = "scene" if k == 0 else f"scene{k + 1}"
        traces = [t for t in fig.data if t.type == "scatter3d" and (t.scene or "scene") == name]
        expected = [np.array([[np.nan if v is None else v for v in getattr(t, d)] for d in "xyz"]).T
                    for t in traces]
        assert len(lines_3d(ax)) == len(expected) == 3
        assert all(same_with_gaps(a, b) for a, b in zip(lines_3d(ax), expected))
        for limits, axis in zip((ax.get_xlim(), ax.get_ylim(), ax.get_zlim()), ("xaxis", "yaxis", "zaxis")):
            assert np.allclose(limits, fig.layout[name][axis].range, atol=6e-5)
        assert len(ax.collections) >= 1  # the floor (and the markers)
    assert [t.get_text() for t in twin.texts if t.get_text() == "two poses"]  # the title
    width, height = (twin.get_size_inches() * twin.dpi).round()
    assert (width, height) == (700, 480)  # plotly's default width, the figure's height


def test_keypoints_twin_keeps_image_space_and_bar_twin_the_heights():
    kps = np.random.default_rng(1).uniform(0, 900, size=(17, 2))
    twin = static.static_figure(viz.keypoints_2d_figure(kps, H36M_17, res_w=1000, res_h=1002))
    ax = twin.axes[0]
    assert ax.get_ylim() == (1002, 0) and ax.get_xlim() == (0, 1000)  # y points down, as in the image
    left = ax.lines[0].get_xydata()
    index = viz.segment_index(viz.bone_sides(H36M_17)["left"])
    assert same_with_gaps(left, viz.segment_coordinates(kps, index))

    errors = np.linspace(10, 80, 15)
    twin = static.static_figure(viz.joint_error_figure(errors, HUMANEVA_15))
    ax = twin.axes[0]
    bars = ax.patches
    assert np.allclose([b.get_height() for b in bars], errors)
    assert [t.get_text() for t in ax.get_xticklabels()] == list(HUMANEVA_15.joint_names)
    assert any(np.allclose(line.get_ydata(), errors.mean()) for line in ax.lines)  # the dashed mean line
    assert any(t.get_text() == f"mean {errors.mean():.1f} mm" for t in ax.texts)


def test_animation_twin_shows_the_first_frame():
    rng = np.random.default_rng(2)
    poses = rng.normal(size=(20, 17, 3))
    fig = viz.sequence_animation_figure({"p": poses}, H36M_17, downsample=5)
    fig.data[0].x = [9.0] * len(fig.data[0].x)  # the first frame, not the figure's data, is what shows
    twin = static.static_figure(fig)
    ax = next(a for a in twin.axes if a.name == "3d")
    first = np.array([[np.nan if v is None else v for v in getattr(fig.frames[0].data[0], d)] for d in "xyz"]).T
    assert same_with_gaps(lines_3d(ax)[0], first)
    assert any("of an animation of 4 frames" in t.get_text() for t in twin.texts)


def test_first_frame_updates_only_the_named_traces():
    fig = {"data": [{"type": "scatter", "x": [0]}, {"type": "scatter", "x": [1]}],
           "frames": [{"data": [{"x": [5]}], "traces": [1]}]}
    assert static.first_frame(fig) == [{"type": "scatter", "x": [0]}, {"type": "scatter", "x": [5]}]


def test_hidden_traces_are_not_drawn_and_colours_convert():
    fig = go.Figure([go.Scatter(x=[0, 1], y=[0, 1], line_color="rgb(255, 0, 0)"),
                     go.Scatter(x=[0, 1], y=[1, 0], visible=False)])
    ax = static.static_figure(fig).axes[0]
    assert len(ax.lines) == 1 and ax.lines[0].get_color() == (1.0, 0.0, 0.0)
    assert static.colour("rgba(0, 0, 255, 0.5)") == (0.0, 0.0, 1.0, 0.5) and static.colour(None, "red") == "red"


def test_static_png_has_the_figure_size_and_a_palette():
    fig = viz.joint_error_figure(np.arange(17.0), H36M_17, height=300)
    png = static.static_png(fig)
    with Image.open(io.BytesIO(png)) as im:
        assert im.size == (700, 300) and im.mode == "P"
        assert len(im.getcolors(256)) > 5  # a drawing, not a blank image


def test_renderer_bundle_holds_rounded_json_and_the_twin():
    pose = (np.random.default_rng(3).normal(size=(17, 3)) * 0.3).astype(np.float32)
    pose[0] = [653.9, 0.5, 1.0]  # float32: 653.9000244140625
    fig = viz.skeleton_figure({"p": pose}, H36M_17, up_axis="z")
    bundle = viz.StaticImageRenderer().to_mimebundle(fig.to_dict())
    assert set(bundle) == {PLOTLY_MIME, "image/png"}
    text = json.dumps(bundle[PLOTLY_MIME])
    assert "653.9," in text and "653.9000244" not in text and "bdata" not in text
    decimals = [len(v) for v in re.findall(r"\d\.(\d+)", json.dumps(bundle[PLOTLY_MIME]["data"]))]
    assert decimals and max(decimals) <= 5  # 4 places, 5 for values under 0.1 (three significant digits)
    with Image.open(io.BytesIO(base64.b64decode(bundle["image/png"]))) as im:
        assert im.size == (700, 480)
    shown = bundle[PLOTLY_MIME]["data"][0]
    assert np.allclose([v for v in shown["x"] if v is not None],
                       [v for v in fig.data[0].x if v is not None], atol=5e-5)  # rounding only


def test_register_renderer_becomes_a_plotly_renderer():
    import plotly.io as pio

    name = viz.register_renderer()
    assert name == "relpose" and isinstance(pio.renderers[name], viz.StaticImageRenderer)
    bundle = pio.renderers._build_mime_bundle(go.Figure(go.Bar(y=[1.25, 2.0])).to_dict(), renderers_string=name)
    assert bundle[PLOTLY_MIME]["data"][0]["y"] == [1.25, 2] and "image/png" in bundle


class FakeWidget:
    """What show_widget reads of an ipywidgets widget: its display bundle."""
    def _repr_mimebundle_(self, **kwargs):
        return {"text/plain": "VBox(children=(...))", viz.notebook.WIDGET_MIME: {"model_id": "ab12"}}


def test_show_widget_displays_the_widget_view_alone_then_its_measured_picture(monkeypatch):
    import IPython.display
    from matplotlib.figure import Figure

    from relpose.viz.legibility import METADATA_KEY

    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda obj, **kw: shown.append((obj, kw)))
    picture = Figure(figsize=(4, 3), dpi=100)   # saved at 72 dpi: 288 x 216 px
    picture.add_subplot().plot([0, 1])
    viz.show_widget(FakeWidget(), lambda: picture, caption="a line")
    assert shown[0] == ({viz.notebook.WIDGET_MIME: {"model_id": "ab12"}}, {"raw": True})  # no text form
    bundle, options = shown[1]
    assert options["raw"] is True and bundle["text/plain"] == "[a line]"
    with Image.open(io.BytesIO(base64.b64decode(bundle["image/png"]))) as im:
        assert im.size == (288, 216)
    measured = options["metadata"]["image/png"][METADATA_KEY]
    assert measured["text_px"] == pytest.approx(10.0)   # matplotlib's 10 pt tick labels at 72 dpi
    (w, h), = measured["panels_px"]
    assert 0.6 * 288 < w < 288 and 0.6 * 216 < h < 216 and measured["scenes_px"] == []
    assert viz.picture_bundle(b"\x89PNG")["image/png"] == base64.b64encode(b"\x89PNG").decode()
    shown.clear()
    viz.show_widget(FakeWidget(), b"\x89PNG")   # PNG bytes: shown, nothing to measure
    assert shown[1][1] == {"raw": True, "metadata": None}


def test_skeleton_drawing_helpers_draw_every_bone_in_side_colours():
    from matplotlib.figure import Figure

    pose = np.random.default_rng(4).normal(size=(17, 3))
    fig = Figure()
    ax2, ax3 = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2, projection="3d")
    viz.draw_skeleton_2d(ax2, pose[:, :2], H36M_17)
    viz.draw_skeleton_3d(ax3, pose, H36M_17, palette=1, label="gt")
    assert len(ax2.lines) == len(ax3.lines) == len(H36M_17.bones())
    child, parent = viz.bone_sides(H36M_17)["right"][0]
    right = [line for line in ax3.lines if same_with_gaps(np.array(line.get_data_3d()).T, pose[[child, parent]])]
    assert right and right[0].get_color() == viz.PALETTES[1]["right"]
    assert [line.get_label() for line in ax3.lines].count("gt") == 1


@pytest.mark.parametrize("eye, expected", [({"x": 1, "y": 0, "z": 0}, (0, 0)), ({"x": 0, "y": 1, "z": 1}, (45, 90))])
def test_view_angles_follow_plotly_camera(eye, expected):
    assert np.allclose(static.view_angles(eye), expected)
