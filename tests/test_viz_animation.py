"""The kernel-free animation of `make wild` (sequence_animation_figure): the video behind the 2D panel, the video's
frame numbers on the slider, a scene holding the whole path, controls that do not overlap, guessed joints and
several people, all read back from the figure's JSON."""
import base64
import io

import numpy as np
import pytest
from PIL import Image

from relpose import viz
from relpose.skeleton import H36M_17
from relpose.viz import figures, primitives
from relpose.viz.render import read_video_frames
from viz_helpers import bones_of_trace, random_sequence, segments

RIGHT_ARM = (14, 15, 16)  # RShoulder, RElbow, RWrist


def walk(T=30, offset=(0.0, 0.0)):
    """A body walking 3 m along x in world space (z up, feet on the floor), plus its 2D keypoints in pixels."""
    rng = np.random.default_rng(4)
    pose = rng.normal(size=(17, 3)) * 0.2 + [0, 0, 0.9]
    pose[:, 2] -= pose[:, 2].min()
    poses = np.repeat(pose[None], T, axis=0)
    poses[..., 0] += np.linspace(0, 3, T)[:, None] + offset[0]
    poses[..., 1] += offset[1]
    pixels = np.stack([100 + 50 * poses[..., 0], 200 - 100 * poses[..., 2]], axis=-1)
    return poses, pixels


def decoded(uri):
    head, data = uri.split(",", 1)
    assert head == "data:image/jpeg;base64"
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(data))))


def trace_points(trace, dims="xyz"):
    """All (finite) points of a trace, None gaps dropped."""
    return np.array([p for p in zip(*[getattr(trace, d) for d in dims]) if None not in p], dtype=float).reshape(
        -1, len(dims))


def animated_trace(fig, frame, name):
    """The data a frame gives to the trace called `name`."""
    index = [k for k, t in enumerate(fig.data) if t.name == name][0]
    return frame.data[list(frame.traces).index(index)]


def grey_frames(count, h=36, w=64):
    """Frames of one grey level each (10, 20, ...), so a decoded JPEG says which frame it is."""
    return [np.full((h, w, 3), 10 * (i + 1), np.uint8) for i in range(count)]


# ----------------------------------------------------------------------------- 1. the video behind the 2D panel

def test_background_frames_are_layout_images_of_the_kept_frames():
    poses, pixels = walk(12)
    images = [np.full((360, 640, 3), 15 * i, np.uint8) for i in range(12)]  # one per pose row
    fig = viz.sequence_animation_figure({"p": poses}, H36M_17, keypoints_2d=pixels, res_w=640, res_h=360,
                                        up_axis="z", downsample=3, background_frames=images)
    assert len(fig.frames) == 4 and len(fig.layout.images) == 1
    for f, frame in enumerate(fig.frames):
        (image,) = frame.layout.images
        assert (image.xref, image.yref, image.x, image.y, image.sizex, image.sizey) == ("x", "y", 0, 0, 640, 360)
        assert (image.xanchor, image.yanchor, image.sizing, image.layer) == ("left", "top", "stretch", "below")
        picture = decoded(image.source)
        assert picture.shape == (180, 320, 3)  # shrunk to 320 px wide, aspect kept
        assert abs(picture.mean() - 15 * 3 * f) < 2  # the kept row 3f, JPEG within 2 grey levels
    assert fig.layout.images[0].source == fig.frames[0].layout.images[0].source
    assert fig.layout.xaxis.showgrid is False and list(fig.layout.yaxis.range) == [360, 0]


def test_background_from_a_callable_gets_the_video_frame_numbers_and_wrong_counts_fail():
    poses, pixels = walk(10)
    asked = []

    def frame(n):
        asked.append(n)
        return np.full((20, 40, 3), 100, np.uint8)

    fig = viz.sequence_animation_figure({"p": poses}, H36M_17, keypoints_2d=pixels, up_axis="z", downsample=4,
                                        first_frame=50, background_frames=frame)
    assert asked == [50, 54, 58]
    assert decoded(fig.frames[1].layout.images[0].source).shape == (20, 40, 3)  # never enlarged
    with pytest.raises(ValueError, match="one per kept frame"):
        viz.sequence_animation_figure({"p": poses}, H36M_17, keypoints_2d=pixels, downsample=4,
                                      background_frames=grey_frames(5))
    with pytest.raises(ValueError, match="keypoints_2d"):
        viz.sequence_animation_figure({"p": poses}, H36M_17, background_frames=grey_frames(10))
    plain = viz.sequence_animation_figure({"p": poses}, H36M_17, keypoints_2d=pixels, downsample=4)
    assert not plain.layout.images and all(not f.layout.images for f in plain.frames)


@pytest.fixture(scope="module")
def grey_video(tmp_path_factory):
    import imageio_ffmpeg
    path = tmp_path_factory.mktemp("video") / "grey.mp4"
    writer = imageio_ffmpeg.write_frames(str(path), (64, 48), fps=10, macro_block_size=16)
    writer.send(None)
    for i in range(12):
        writer.send(np.full((48, 64, 3), 20 * i, np.uint8).tobytes())
    writer.close()
    return path


def test_read_video_frames_reads_just_the_asked_frames_in_order(grey_video):
    frames = read_video_frames(grey_video, [7, 2, 3])
    assert [f.shape for f in frames] == [(48, 64, 3)] * 3
    assert np.allclose([f.mean() for f in frames], [140, 40, 60], atol=4)  # H.264 within 4 grey levels
    small = read_video_frames(grey_video, [0, 11], width=32)
    assert [f.shape for f in small] == [(24, 32, 3)] * 2
    with pytest.raises(viz.render.UserError, match="has 12 frames; frame 12"):
        read_video_frames(grey_video, [3, 12])
    with pytest.raises(viz.render.UserError, match="does not exist"):
        read_video_frames(grey_video.with_name("missing.mp4"), [0])


def test_background_from_a_video_file_starts_at_first_frame(grey_video):
    poses, pixels = walk(8)
    fig = viz.sequence_animation_figure({"p": poses}, H36M_17, keypoints_2d=pixels, res_w=64, res_h=48,
                                        up_axis="z", downsample=2, first_frame=3, background_frames=grey_video)
    levels = [decoded(f.layout.images[0].source).mean() for f in fig.frames]
    assert np.allclose(levels, [60, 100, 140, 180], atol=5)  # video frames 3, 5, 7, 9


# ----------------------------------------------------------------------------- 2. the video's frame numbers

def test_slider_shows_the_video_frame_numbers():
    poses, pixels = walk(10)
    fig = viz.sequence_animation_figure({"p": poses}, H36M_17, keypoints_2d=pixels, downsample=3, first_frame=120)
    labels = [step.label for step in fig.layout.sliders[0].steps]
    assert labels == ["120", "123", "126", "129"] == [f.name for f in fig.frames]
    assert [list(step.args[0]) for step in fig.layout.sliders[0].steps] == [[n] for n in labels]  # plays its frame
    numbers = np.arange(10) * 2 + 7  # e.g. every other video frame was detected
    fig = viz.sequence_animation_figure({"p": poses}, H36M_17, downsample=5, frame_numbers=numbers)
    assert [step.label for step in fig.layout.sliders[0].steps] == ["7", "17"]
    with pytest.raises(ValueError, match="not both"):
        viz.sequence_animation_figure({"p": poses}, H36M_17, frame_numbers=numbers, first_frame=3)
    with pytest.raises(ValueError, match="10 distinct"):
        viz.sequence_animation_figure({"p": poses}, H36M_17, frame_numbers=np.zeros(10))


# ----------------------------------------------------------------------------- 3 and 5. the scene holds everything

@pytest.mark.parametrize("offset", [(0.0, 0.0), (40.0, -25.0)])
def test_scene_ranges_hold_every_frame_the_floor_and_the_path(offset):
    poses, pixels = walk(40, offset)
    fig = viz.sequence_animation_figure({"p": poses, "q": poses + [0.5, 1.0, 0.0]}, H36M_17, keypoints_2d=pixels,
                                        up_axis="z", downsample=1, path=True, floor=0.0)
    scene = fig.layout.scene
    ranges = np.array([scene.xaxis.range, scene.yaxis.range, scene.zaxis.range])
    assert np.allclose(ranges[:, 1] - ranges[:, 0], ranges[0, 1] - ranges[0, 0], atol=1e-9)  # cube: true scale
    lo, hi = ranges[:, 0] - 1e-9, ranges[:, 1] + 1e-9
    checked = 0
    for frame in fig.frames:
        for trace in frame.data:
            if trace.type == "scatter3d":
                pts = trace_points(trace)
                assert ((pts >= lo) & (pts <= hi)).all()
                checked += len(pts)
    assert checked > 40 * 2 * 16
    floor = [t for t in fig.data if t.type == "surface"][0]
    assert floor.z[0][0] == 0.0 and lo[2] <= 0.0 <= hi[2]
    assert 0.0 - ranges[2, 0] == pytest.approx(0.1)  # the floor near the bottom: no empty cube under it
    whole = [t for t in fig.data if t.name == "p (path)"][0]
    assert np.allclose(trace_points(whole), np.c_[poses[:, 0, :2], np.zeros(40)])
    assert fig.layout.scene.camera.eye.x > 1.25  # further than plotly's default, which crops the cube's corners


def test_path_walked_so_far_grows_with_the_frames_and_the_whole_path_is_fixed():
    poses, _ = walk(20)
    fig = viz.sequence_animation_figure({"p": poses}, H36M_17, up_axis="z", downsample=5, path=True, floor=0.0)
    whole = [k for k, t in enumerate(fig.data) if t.name == "p (path)"][0]
    assert all(whole not in f.traces for f in fig.frames)
    for f, t in enumerate(range(0, 20, 5)):
        walked = trace_points(animated_trace(fig, fig.frames[f], "p (path so far)"))
        assert np.allclose(walked, np.c_[poses[0:t + 1:5, 0, :2], np.zeros(f + 1)])
    default = viz.sequence_animation_figure({"p": poses}, H36M_17, up_axis="z", downsample=5)
    assert not any("path" in t.name for t in default.data if t.name)
    lowest = default.data[-1].z[0][0]
    assert lowest == pytest.approx(poses[::5, :, 2].min())  # the floor is the lowest point unless given


# ----------------------------------------------------------------------------- 4. controls do not overlap

def test_controls_sit_under_the_plot_with_the_buttons_left_of_the_slider():
    poses, pixels = walk(10)
    fig = viz.sequence_animation_figure({"p": poses}, H36M_17, keypoints_2d=pixels, downsample=1)
    (menu,), (slider,) = fig.layout.updatemenus, fig.layout.sliders
    assert menu.direction == "left" and (menu.x, menu.xanchor, menu.y, menu.yanchor) == (0, "left", 0, "top")
    assert (slider.x, slider.xanchor, slider.y, slider.yanchor) == (0, "left", 0, "top")
    # The slider (rail and its "frame N" label) starts pad.l pixels in: room for the buttons in a row,
    # at most ~8 px a character plus plotly's ~10 px of padding each side.
    widths = sum(8 * len(b.label) + 20 for b in menu.buttons)
    assert slider.pad.l >= widths + 20 and slider.currentvalue.xanchor == "left"
    # Both start below the 2D panel's tick labels and axis title (~45 px) and end inside the bottom margin.
    assert menu.pad.t == slider.pad.t >= 50
    assert fig.layout.margin.b >= slider.pad.t + 60


# ----------------------------------------------------------------------------- 6. guessed joints

def test_guessed_joints_are_grey_dashed_in_both_panels_and_only_there():
    poses, pixels = walk(6)
    guessed = np.zeros((6, 17), bool)
    guessed[3:, 15] = True  # the right elbow is out of view from frame 3
    fig = viz.sequence_animation_figure({"p": poses}, H36M_17, keypoints_2d=pixels, up_axis="z", downsample=1,
                                        guessed=guessed)
    marked = [t for t in fig.data if t.name == viz.primitives.GUESSED_LABEL]
    assert len(marked) == 2  # one in the 2D panel, one in the scene
    for trace in marked:
        assert trace.line.dash == "dash" and trace.line.color == primitives.GUESSED_COLOUR and trace.opacity < 1
    assert [t.showlegend for t in marked] == [False, True]  # one legend entry
    elbow = [(15, 14), (16, 15)]
    for f, expect in [(0, []), (4, elbow)]:
        frame = fig.frames[f]
        flat = animated_trace(fig, frame, "2D (right)"), animated_trace(fig, frame, "p (right)")
        grey = [d for d, k in zip(frame.data, frame.traces) if fig.data[k].name == primitives.GUESSED_LABEL]
        right = sorted(viz.bone_sides(H36M_17)["right"])
        assert sorted(bones_of_trace(flat[0], pixels[f], dims=("x", "y"))) == sorted(set(right) - set(expect))
        assert sorted(bones_of_trace(flat[1], poses[f])) == sorted(set(right) - set(expect))
        assert sorted(bones_of_trace(grey[0], pixels[f], dims=("x", "y"))) == sorted(expect)
        assert sorted(bones_of_trace(grey[1], poses[f])) == sorted(expect)


# ----------------------------------------------------------------------------- 7. several people

def test_several_people_with_absent_rows_draw_nothing_there():
    one, kps_one = walk(8)
    two, kps_two = walk(8, offset=(0.0, 2.0))
    two[2:5], kps_two[2:5] = np.nan, np.nan  # person 2 leaves the picture for three frames
    fig = viz.sequence_animation_figure({"person 1": one, "person 2": two}, H36M_17,
                                        keypoints_2d={"person 1": kps_one, "person 2": kps_two}, up_axis="z",
                                        downsample=1, path=True, floor=0.0,
                                        guessed={"person 2": np.ones((8, 17), bool)})
    legend = [t.name for t in fig.data if t.showlegend is not False]
    assert legend == ["person 1", "person 2", primitives.GUESSED_LABEL]  # one entry a person
    colour = {t.name: t.line.color for t in fig.data if t.type != "surface"}
    assert colour["person 1 2D (left)"] == colour["person 1 (left)"] != colour["person 2 (left)"]
    frame = fig.frames[3]
    for k, data in zip(frame.traces, frame.data):
        name = fig.data[k].name
        if (name.startswith("person 2") and "path" not in name) or name == primitives.GUESSED_LABEL:
            values = [v for d in ("x", "y", "z") if getattr(data, d, None) is not None for v in getattr(data, d)]
            assert all(v is None for v in values), name  # absent: no point anywhere, none at the origin
    assert len(segments(animated_trace(fig, frame, "person 1 (left)"))) == 6
    walked = trace_points(animated_trace(fig, fig.frames[6], "person 2 (path so far)"))
    assert len(walked) == 7 - 3  # its path has a gap where it was absent
    twin = viz.static_png(fig)  # the notebooks' static picture copes with gaps, images and dashes
    assert twin[:4] == b"\x89PNG"


def test_static_twin_of_an_animation_with_background_images():
    poses, pixels = walk(6)
    fig = viz.sequence_animation_figure({"p": poses}, H36M_17, keypoints_2d=pixels, up_axis="z",
                                        background_frames=grey_frames(6), guessed=np.ones((6, 17), bool))
    with Image.open(io.BytesIO(viz.static_png(fig, width=500, height=300))) as png:
        assert png.size == (500, 300)


def test_animation_frames_match_the_figure():
    assert list(figures.animation_frames(10, 3)) == [0, 3, 6, 9]
    assert len(figures.animation_frames(1000)) == 143  # stride 7 keeps at most 150
    gt, _ = random_sequence(np.random.default_rng(0), 1000)
    assert [int(f.name) for f in viz.sequence_animation_figure({"p": gt}, H36M_17).frames] == list(
        figures.animation_frames(1000))


def test_a_wide_video_gets_a_2d_panel_legible_in_the_static_picture():
    """A 640 x 272 video (2.35:1) drawn in 40% of the width would be a strip under 100 px high in the stored
    picture; its panel's share grows with the aspect, and the static twin passes the legibility rules."""
    from relpose.skeleton import H36M_17
    from relpose.viz import figures, legibility
    from relpose.viz.static import DPI, static_figure

    rng = np.random.default_rng(0)
    poses, keypoints = {"lifted": rng.random((4, 17, 3))}, rng.random((4, 17, 2)) * [640, 272]
    wide = figures.sequence_animation_figure(poses, H36M_17, keypoints_2d=keypoints, res_w=640, res_h=272, fps=25)
    square = figures.sequence_animation_figure(poses, H36M_17, keypoints_2d=keypoints, res_w=1000, res_h=1000)
    assert wide.layout.xaxis.domain[1] - wide.layout.xaxis.domain[0] > 0.5
    assert square.layout.xaxis.domain[1] - square.layout.xaxis.domain[0] == pytest.approx(0.4 * 0.9)
    assert legibility.problems(legibility.measure(static_figure(wide.to_dict()), DPI)) == []
