"""The --render animation: files are read back to check frame counts and pixel sizes."""
import numpy as np
import pytest

from relpose.viz import render
from relpose.errors import UserError
from relpose.skeleton import H36M_17
from viz_helpers import gif_frames

SIZE, DPI = 2, 40  # each panel 80 x 80 pixels


@pytest.fixture(scope="module")
def sequence():
    rng = np.random.default_rng(0)
    poses = rng.normal(size=(12, 17, 3)) * 0.3 + np.array([1.0, 2.0, 1.0])
    keypoints = rng.uniform(0, 100, size=(12, 17, 2))
    return keypoints, {"Reconstruction": poses, "Ground truth": poses + 0.01}


def render_to(path, sequence, **kwargs):
    keypoints, poses = sequence
    opts = dict(fps=10, bitrate=500, azim=70.0, output_path=path, viewport=(100, 80), size=SIZE, dpi=DPI)
    opts.update(kwargs)
    return render.render_animation(keypoints, poses, H36M_17, **opts)


def mp4_frames(path):
    import imageio_ffmpeg
    reader = imageio_ffmpeg.read_frames(str(path))
    meta = next(reader)
    count = sum(1 for _ in reader)
    return count, tuple(meta["size"])


def test_gif_frames_and_size(tmp_path, sequence):
    n = render_to(tmp_path / "a.gif", sequence, limit=6)
    assert n == 6
    assert gif_frames(tmp_path / "a.gif") == (6, (3 * SIZE * DPI, SIZE * DPI))  # input + 2 pose panels


def test_mp4_frames_and_size(tmp_path, sequence):
    n = render_to(tmp_path / "a.mp4", sequence, limit=5)
    assert n == 5
    assert mp4_frames(tmp_path / "a.mp4") == (5, (3 * SIZE * DPI, SIZE * DPI))


def test_downsample_and_limit_change_frame_count(tmp_path, sequence):
    keypoints, poses = sequence
    assert render_to(tmp_path / "d.gif", sequence, downsample=4) == 3  # 12 frames in blocks of 4
    assert gif_frames(tmp_path / "d.gif")[0] == 3
    one = {"Reconstruction": poses["Reconstruction"]}
    assert render_to(tmp_path / "l.gif", (keypoints, one), downsample=2, limit=4) == 4
    assert gif_frames(tmp_path / "l.gif") == (4, (2 * SIZE * DPI, SIZE * DPI))


def test_downsample_averages_blocks():
    x = np.arange(10, dtype=float)[:, None]
    assert np.allclose(render.downsample_frames(x, 3)[:, 0], [1, 4, 7])  # partial last block dropped
    assert render.downsample_frames(x, 1) is x


def test_input_video_frames_are_used(tmp_path, sequence):
    import imageio_ffmpeg
    w, h = 64, 48
    writer = imageio_ffmpeg.write_frames(str(tmp_path / "in.mp4"), (w, h), fps=10, macro_block_size=16)
    writer.send(None)
    for i in range(10):
        writer.send(np.full((h, w, 3), 20 * i, np.uint8).tobytes())
    writer.close()
    n = render_to(tmp_path / "v.gif", sequence, input_video_path=tmp_path / "in.mp4", input_video_skip=2)
    assert n == 8  # 10 video frames minus 2 skipped, fewer than the 12 pose frames
    assert gif_frames(tmp_path / "v.gif")[0] == 8
    with pytest.raises(UserError, match="does not exist"):
        render_to(tmp_path / "x.gif", sequence, input_video_path=tmp_path / "missing.mp4")


def test_unknown_extension_and_bad_downsample(tmp_path, sequence):
    with pytest.raises(UserError, match=r"unsupported extension '\.avi'.*\.gif or \.mp4"):
        render_to(tmp_path / "a.avi", sequence)
    assert not (tmp_path / "a.avi").exists()
    with pytest.raises(UserError, match="downsample"):
        render_to(tmp_path / "a.gif", sequence, downsample=0)


def test_trajectory_is_removed_for_display():
    poses = np.zeros((3, 17, 3))
    poses[:, 0] = [[5, 6, 1.0], [7, 8, 1.1], [9, 1, 0.9]]
    poses[:, 10] = poses[:, 0] + [0.1, 0.2, 0.7]
    shown, zlim = render._rooted(poses, "z")
    assert np.allclose(shown[:, 0, :2], 0) and np.allclose(shown[:, 0, 2], poses[:, 0, 2])  # heights kept
    assert np.allclose(shown[:, 10], [[0.1, 0.2, 1.7], [0.1, 0.2, 1.8], [0.1, 0.2, 1.6]])
    assert zlim == (0.0, render.RADIUS)
    camera_space, zlim = render._rooted(poses, "-y")
    assert np.allclose(camera_space[:, 0], 0) and zlim[0] < 0 < zlim[1]


def test_export_predictions_round_trip(tmp_path):
    poses = np.random.default_rng(1).normal(size=(7, 17, 3)).astype(np.float32)
    path = render.export_predictions(tmp_path / "out" / "pred.npy", poses)
    assert np.array_equal(np.load(path), poses)
    with pytest.raises(UserError, match=r"\.npy"):
        render.export_predictions(tmp_path / "pred.txt", poses)


def test_validate_selection_lists_valid_choices():
    available = {"S9": {"Walking": 2, "Directions 1": 2}, "S11": {"Directions": 4, "Directions 1": 4}}
    render.validate_selection(available, "S11", "Directions", 3)
    with pytest.raises(UserError, match="unknown --viz-subject 'S2'; valid: S9, S11"):
        render.validate_selection(available, "S2", "Walking", 0)
    with pytest.raises(UserError, match="unknown --viz-action 'Foo' for S11; valid: Directions, Directions 1"):
        render.validate_selection(available, "S11", "Foo", 0)
    with pytest.raises(UserError, match=r"--viz-camera 2 for S9 'Walking'; valid: 0, 1"):
        render.validate_selection(available, "S9", "Walking", 2)
    triples = [("S1", "Eating", 0), ("S1", "Eating", 3)]
    with pytest.raises(UserError, match="valid: 0, 3"):
        render.validate_selection(triples, "S1", "Eating", 1)


# ----------------------------------------------------------------------------- follow, guessed joints, several people

def walking(T=8, start=(0.0, 0.0)):
    """A body 1.7 m tall (feet at z = 0) walking 2 m along x from `start`, world space, and keypoints in pixels."""
    rng = np.random.default_rng(2)
    pose = rng.normal(size=(17, 3)) * 0.15
    pose[:, 2] = np.linspace(0, 1.7, 17)
    poses = np.repeat(pose[None], T, axis=0) + [start[0], start[1], 0.0]
    poses[..., 0] += np.linspace(0, 2, T)[:, None]
    pixels = rng.uniform(10, 90, size=(T, 17, 2))
    return pixels, poses


def panels(path, frame: int, count: int):
    """One GIF frame as RGB, cut into its `count` square panels (input first)."""
    from PIL import Image
    with Image.open(path) as im:
        im.seek(frame)
        rgb = np.asarray(im.convert("RGB")).astype(int)
    side = rgb.shape[0]
    return [rgb[:, k * side:(k + 1) * side] for k in range(count)]


def reddish(rgb):
    return int(((rgb[..., 0] > 150) & (rgb[..., 1] < 90) & (rgb[..., 2] < 90)).sum())


def dark(rgb):
    return int((rgb.max(axis=-1) < 80).sum())


def test_scene_limits_hold_the_whole_path_far_from_the_origin():
    _, poses = walking(start=(50.0, -30.0))
    box, floor = render._scene_limits([poses], "z")
    pts = poses.reshape(-1, 3)
    for k in range(3):
        assert (pts[:, k] >= box[k][0]).all() and (pts[:, k] <= box[k][1]).all()
    assert floor == 0.0 and box[2][0] == 0.0
    assert box[0][1] - box[0][0] == pytest.approx(box[1][1] - box[1][0])  # a square floor, true scale
    assert box[0][1] - box[0][0] >= 2 + 2 * 0.2  # the 2 m walk with a margin
    lifted = poses + [0, 0, 0.5]
    assert render._scene_limits([lifted], "z")[1] == 0.0  # the floor stays at z = 0 in world space
    camera_space = render.display_coordinates(lifted, "-y")
    assert render._scene_limits([camera_space], "-y")[1] == pytest.approx(camera_space[..., 2].min())  # no floor


@pytest.mark.parametrize("follow", ["root", "scene"])
def test_a_body_far_from_the_origin_is_drawn(tmp_path, follow):
    pixels, poses = walking(start=(50.0, -30.0))
    render_to(tmp_path / "far.gif", (pixels, {"Reconstruction": poses}), follow=follow, size=3)
    _, scene = panels(tmp_path / "far.gif", 4, 2)
    assert reddish(scene) > 5 and dark(scene) > 20  # right limbs red, the rest black: the body is in view


def test_follow_is_checked(tmp_path, sequence):
    with pytest.raises(UserError, match="follow='camera'.*'root'.*'scene'"):
        render_to(tmp_path / "f.gif", sequence, follow="camera")
    assert not (tmp_path / "f.gif").exists()


def test_guessed_bones_are_grey_in_both_panels(tmp_path):
    pixels, poses = walking()
    guessed = np.zeros((8, 17), bool)
    guessed[4:] = True  # from frame 4 nothing was seen
    render_to(tmp_path / "g.gif", (pixels, {"Reconstruction": poses}), guessed=guessed, size=3)
    for frame, seen in [(1, True), (6, False)]:
        flat, scene = panels(tmp_path / "g.gif", frame, 2)
        assert (reddish(flat) > 3) == seen and (reddish(scene) > 3) == seen
    grey = panels(tmp_path / "g.gif", 6, 2)[1]
    assert (np.abs(grey - grey.mean(axis=-1, keepdims=True)).max(axis=-1) < 12)[grey.max(axis=-1) < 200].all()
    with pytest.raises(ValueError, match=r"guessed of 'Reconstruction' has shape \(8, 3\)"):
        render_to(tmp_path / "g2.gif", (pixels, {"Reconstruction": poses}), guessed=np.zeros((8, 3), bool))


def test_mean_root_skips_absent_people():
    a = np.zeros((3, 17, 3))
    b = np.ones((3, 17, 3))
    b[1] = np.nan
    assert np.allclose(render._mean_root([a, b]), [[0.5] * 3, [0, 0, 0], [0.5] * 3])
    assert np.allclose(render._mean_root([b]), [[1] * 3, [0] * 3, [1] * 3])  # nobody there: 0, no warning


def test_several_people_share_one_panel_and_absent_rows_draw_nothing(tmp_path):
    pixels, one = walking()
    two = one + [0.0, 1.0, 0.0]
    absent = np.full_like(one, np.nan)
    kps = {"person 1": pixels, "person 2": np.full_like(pixels, np.nan)}
    n = render_to(tmp_path / "p.mp4", (kps, {"person 1": one, "person 2": two}), follow="scene",
                  guessed={"person 1": np.zeros((8, 17), bool)})
    assert n == 8 and mp4_frames(tmp_path / "p.mp4") == (8, (2 * SIZE * DPI, SIZE * DPI))  # input + one 3D panel
    # A person absent in every frame changes nothing in the 2D panel: no line to the origin.
    render_to(tmp_path / "alone.gif", ({"person 1": pixels}, {"person 1": one}), size=3)
    render_to(tmp_path / "ghost.gif", (kps, {"person 1": one, "person 2": absent}), size=3)
    for frame in (0, 5):
        alone, ghost = panels(tmp_path / "alone.gif", frame, 2)[0], panels(tmp_path / "ghost.gif", frame, 2)[0]
        assert np.abs(alone - ghost).max() < 60  # GIF palettes differ on smoothed edges; a light line on black: 200


def test_an_ffmpeg_ended_by_a_signal_counts_as_interrupted_whatever_it_logged():
    import subprocess
    from relpose.viz.render import _interrupted
    quiet = subprocess.CalledProcessError(255, ["ffmpeg"], output=b"", stderr=b"")   # -loglevel error: no "received signal"
    assert _interrupted(quiet)
    assert _interrupted(subprocess.CalledProcessError(-2, ["ffmpeg"]))
    assert not _interrupted(subprocess.CalledProcessError(1, ["ffmpeg"], stderr=b"Unknown encoder 'libx264'"))
    broken = BrokenPipeError(32, "Broken pipe")
    try:
        try:
            raise broken
        except BrokenPipeError:
            raise subprocess.CalledProcessError(255, ["ffmpeg"])
    except subprocess.CalledProcessError as e:
        assert _interrupted(e)   # the order a loaded machine gives: the pipe breaks before Python's Ctrl-C
