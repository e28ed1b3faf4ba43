"""`--render` from the command line: flags checked before any work, then export and animation end to end."""
from types import SimpleNamespace

import numpy as np
import pytest

from relpose.keypoint_layouts import get_layout
from relpose.viz import render as viz_render
from relpose.cli.parser import parse_args
from relpose.cli.render import render_from_args
from relpose.cli.run import check_outputs
from relpose.errors import UserError
from relpose.skeleton import H36M_17
from viz_helpers import gif_frames


def test_render_from_args_checks_flags_before_predicting(tmp_path):
    args = SimpleNamespace(viz_subject="S1", viz_action=None, viz_output=str(tmp_path / "a.gif"), viz_export=None)
    with pytest.raises(UserError, match="--viz-subject and --viz-action"):
        render_from_args(args, dataset=None, model=None, device=None)
    args = SimpleNamespace(viz_subject="S1", viz_action="Walk", viz_output=None, viz_export=None)
    with pytest.raises(UserError, match="--viz-output"):
        render_from_args(args, dataset=None, model=None, device=None)
    args = parse_args(["--render", "--viz-subject", "S1", "--viz-action", "Walk", "--viz-output",
                       str(tmp_path / "a.webm"), "--evaluate", "x.bin"])
    with pytest.raises(UserError, match="unsupported extension"):
        check_outputs(args)  # the command line checks every output before any work


def test_render_from_args_exports_and_renders(tmp_path, monkeypatch):
    """End to end with a stand-in for the model's sequence prediction (the model has its own tests)."""
    import torch

    from relpose.cameras import load_rig, normalize_screen_coordinates

    rng = np.random.default_rng(2)
    T, cam = 8, load_rig("h36m")["S1"][0]
    stored = rng.normal(size=(T, 17, 3)).astype(np.float32) * 0.2
    stored[:, 0] = [0.0, 0.0, 5.0]  # trajectory in joint 0, the rest root-relative
    pixels = rng.uniform(0, 1000, size=(T, 17, 2)).astype(np.float32)
    dataset = SimpleNamespace(
        positions_2d={"S1": {"Walking": [normalize_screen_coordinates(pixels, 1000, 1002)]}},
        positions_3d={"S1": {"Walking": [stored]}}, cameras={"S1": [cam]}, skeleton=H36M_17, fps=50,
        kps_left=H36M_17.joints_left, kps_right=H36M_17.joints_right, joints_left=H36M_17.joints_left,
        joints_right=H36M_17.joints_right, has_3d=lambda s: s == "S1", video_fps=None, fps_of=lambda s: 50,
        num_keypoints=lambda: 17, input_layout=lambda: get_layout("h36m-17"))
    prediction = torch.from_numpy(stored.copy())
    prediction[:, 0] = 0
    seen = {}

    def fake_lift(model, poses_2d, **kwargs):
        seen.update(kwargs, n=len(poses_2d))
        return prediction.numpy()

    monkeypatch.setattr(viz_render, "lift_sequence", fake_lift)  # render_take lifts
    args = SimpleNamespace(viz_subject="S1", viz_action="Walking", viz_camera=0, viz_output=str(tmp_path / "r.gif"),
                           viz_export=str(tmp_path / "p.npy"), viz_bitrate=500, viz_no_ground_truth=False,
                           viz_limit=3, viz_downsample=1, viz_size=1, viz_video=None, viz_skip=0,
                           test_time_augmentation=False, eval_batch_size=64, amp=False, keep_person_size=False)
    logs = []
    render_from_args(args, dataset, model=None, device="cpu", log=logs.append)
    assert seen["n"] == T and seen["tta"] is False
    assert np.array_equal(np.load(tmp_path / "p.npy"), prediction.numpy())  # camera space, as predicted
    assert gif_frames(tmp_path / "r.gif") == (3, (3 * 80, 80))  # input + reconstruction + ground truth
    assert any("Wrote 3 frames" in line for line in logs)
    args.viz_camera = 1
    with pytest.raises(UserError, match="--viz-camera 1 for S1 'Walking'; valid: 0"):
        render_from_args(args, dataset, model=None, device="cpu")
