"""Plotly figures: trace data checked against the input arrays."""
import re

import numpy as np
import pytest

from relpose import viz
from relpose.cameras import load_rig
from relpose.errors import UserError
from relpose.skeleton import H36M_17, HUMANEVA_15
from viz_helpers import bones_of_trace, random_sequence, segments


def test_skeleton_figure_bones_colours_and_coordinates():
    rng = np.random.default_rng(0)
    pose = rng.normal(size=(17, 3))
    fig = viz.skeleton_figure({"pred": pose}, H36M_17, up_axis="z")
    lines = [t for t in fig.data if t.type == "scatter3d"]
    assert len(lines) == 3 and sum(t.type == "surface" for t in fig.data) == 1  # 3 sides + floor
    sides = viz.bone_sides(H36M_17)
    for trace, side in zip(lines, viz.SIDES):
        bones = bones_of_trace(trace, pose)
        assert sorted(bones) == sorted(sides[side])
        assert trace.line.color == viz.PALETTES[0][side]
    left = bones_of_trace(lines[0], pose)
    assert all(c in H36M_17.joints_left for c, _ in left) and len(left) == 6
    right = bones_of_trace(lines[1], pose)
    assert all(c in H36M_17.joints_right for c, _ in right) and len(right) == 6
    assert len(bones_of_trace(lines[2], pose)) == 16 - 12
    scene = fig.layout.scene
    assert scene.aspectmode == "cube"
    spans = [r[1] - r[0] for r in (scene.xaxis.range, scene.yaxis.range, scene.zaxis.range)]
    assert np.allclose(spans, spans[0])
    assert all("(m)" in a.title.text for a in (scene.xaxis, scene.yaxis, scene.zaxis))
    floor = [t for t in fig.data if t.type == "surface"][0]
    assert np.isclose(floor.z[0][0], pose[:, 2].min())


def test_camera_space_is_shown_y_up():
    pose = np.zeros((17, 3))
    pose[10] = [0.1, -0.8, 4.0]  # the head is above the hip: negative y in camera space
    fig = viz.skeleton_figure({"p": pose}, H36M_17)  # default up axis for camera space is -y
    shown = viz.display_coordinates(pose, "-y")
    assert np.allclose(shown[10], [0.1, 4.0, 0.8])
    head_bone = [s for s in segments(fig.data[2]) if np.allclose(s[0], shown[10])]
    assert len(head_bone) == 1
    assert fig.layout.scene.zaxis.title.text == "-y (m)"
    with pytest.raises(UserError, match="up_axis"):
        viz.display_coordinates(pose, "x")


def test_side_layout_shares_ranges_and_overlay_uses_two_palettes():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(17, 3)), rng.normal(size=(17, 3)) + 3
    side = viz.skeleton_figure({"gt": a, "pred": b}, H36M_17, layout="side", up_axis="z")
    scenes = {t.scene for t in side.data if t.type == "scatter3d"}
    assert scenes == {"scene", "scene2"}
    assert side.layout.scene.xaxis.range == side.layout.scene2.xaxis.range
    assert side.layout.scene.zaxis.range == side.layout.scene2.zaxis.range
    over = viz.skeleton_figure({"pred": b, "gt": a}, H36M_17, layout="overlay", up_axis="z")
    lines = [t for t in over.data if t.type == "scatter3d"]
    assert len(lines) == 6
    assert lines[0].line.color == viz.PALETTES[0]["left"] and lines[3].line.color == viz.PALETTES[1]["left"]
    assert bones_of_trace(lines[3], a)  # the second pose set's traces hold its own coordinates
    with pytest.raises(UserError, match="layout"):
        viz.skeleton_figure({"a": a}, H36M_17, layout="grid")


def test_rig_cameras_are_drawn_at_their_positions():
    rig = load_rig("h36m")["S1"]
    pose = np.zeros((17, 3))
    fig = viz.skeleton_figure({"p": pose}, H36M_17, cameras=rig)
    markers = [t for t in fig.data if t.name == "camera ids"][0]
    centres = np.stack([markers.x, markers.y, markers.z], axis=1)
    assert np.allclose(centres, np.stack([c["translation"] for c in rig]), atol=1e-5)
    for k in range(3):
        lo, hi = fig.layout.scene[("xaxis", "yaxis", "zaxis")[k]].range
        assert (centres[:, k] > lo).all() and (centres[:, k] < hi).all()


def test_keypoints_2d_figure_is_in_image_space():
    rng = np.random.default_rng(2)
    kps = rng.uniform(0, 900, size=(17, 2))
    fig = viz.keypoints_2d_figure(kps, H36M_17, res_w=1000, res_h=1002)
    assert list(fig.layout.yaxis.range) == [1002, 0]  # reversed: y grows downwards
    assert list(fig.layout.xaxis.range) == [0, 1000]
    assert "px" in fig.layout.xaxis.title.text and "px" in fig.layout.yaxis.title.text
    assert len(fig.data) == 3
    assert sorted(bones_of_trace(fig.data[0], kps, dims=("x", "y"))) == sorted(viz.bone_sides(H36M_17)["left"])


def test_joint_error_figure_bars_equal_input():
    errors = np.arange(15, dtype=float) * 3 + 1
    fig = viz.joint_error_figure(errors, HUMANEVA_15)
    bar = fig.data[0]
    assert np.allclose(bar.y, errors)
    assert list(bar.x) == list(HUMANEVA_15.joint_names)
    assert bar.marker.color[2] == viz.PALETTES[0]["left"]  # LShoulder
    assert bar.marker.color[5] == viz.PALETTES[0]["right"]  # RShoulder
    assert "mm" in fig.layout.yaxis.title.text
    with pytest.raises(ValueError, match="15 per-joint"):
        viz.joint_error_figure(errors[:3], HUMANEVA_15)


def test_sequence_animation_frames_hold_the_poses():
    rng = np.random.default_rng(3)
    gt, kps = random_sequence(rng, 20)
    pred = gt + 0.05
    pixels = (kps + 1) * 500
    fig = viz.sequence_animation_figure({"pred": pred, "gt": gt}, H36M_17, keypoints_2d=pixels, downsample=3,
                                        up_axis="z")
    assert len(fig.frames) == 7  # frames 0, 3, ..., 18
    assert [f.name for f in fig.frames] == [str(i) for i in range(0, 20, 3)]
    assert len(fig.layout.sliders[0].steps) == 7
    frame = fig.frames[4]  # source frame 12
    assert sorted(bones_of_trace(frame.data[0], pixels[12], dims=("x", "y"))) == sorted(
        viz.bone_sides(H36M_17)["left"])
    assert sorted(bones_of_trace(frame.data[3], pred[12])) == sorted(viz.bone_sides(H36M_17)["left"])
    assert sorted(bones_of_trace(frame.data[6], gt[12])) == sorted(viz.bone_sides(H36M_17)["left"])
    assert list(frame.traces) == list(range(9))
    capped = viz.sequence_animation_figure({"p": np.repeat(gt, 10, axis=0)}, H36M_17, max_frames=50)
    assert len(capped.frames) == 50


def test_export_html_inlines_plotly_and_refuses_cdn(tmp_path):
    fig = viz.skeleton_figure({"p": np.zeros((17, 3))}, H36M_17)
    path = viz.export_html(fig, tmp_path / "fig.html")
    text = path.read_text()
    assert len(text) > 1_000_000 and re.search(r"plotly\.js v\d", text)  # the library itself is inline
    assert "Plotly.newPlot" in text
    scripts = re.findall(r"<script[^>]*>", text)
    assert scripts and not any("src=" in s for s in scripts)  # nothing is fetched from anywhere
    with pytest.raises(UserError, match="offline"):
        viz.export_html(fig, tmp_path / "cdn.html", include_plotlyjs="cdn")
    with pytest.raises(UserError, match=".html"):
        viz.export_html(fig, tmp_path / "fig.png")
