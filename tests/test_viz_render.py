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
