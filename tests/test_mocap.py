"""The motion-capture test set (relpose.mocap): forward kinematics against pybullet's, bone lengths,
walking speed, 50 fps, the files through load_dataset and `-d mocap --evaluate` through the CLI."""
import os
import subprocess
import sys

import numpy as np
import pytest

pybullet = pytest.importorskip("pybullet")

from cli_helpers import TINY_MODEL  # noqa: E402
from relpose.cli import main  # noqa: E402
from relpose.datasets import load_dataset  # noqa: E402
from relpose.mocap import deepmimic as dm  # noqa: E402
from relpose.mocap import make_files  # noqa: E402
from relpose.skeleton import H36M_17  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_forward_kinematics_matches_pybullet():
    frames = dm.read_clip(dm.clip_files()["walk"])
    _, root_pos, root_quat, joints = dm.split_frames(frames)
    ours, _ = dm.forward_kinematics(root_pos, root_quat, joints)
    c = pybullet.connect(pybullet.DIRECT)
    try:
        body = pybullet.loadURDF(os.path.join(dm.data_path(), "humanoid", "humanoid.urdf"),
                                 globalScaling=dm.URDF_SCALE, physicsClientId=c)
        index = {pybullet.getJointInfo(body, j, physicsClientId=c)[1].decode(): j
                 for j in range(pybullet.getNumJoints(body, physicsClientId=c))}
        assert set(index) == set(dm.JOINT_NAMES)
        for t in range(0, len(frames), 5):
            w, x, y, z = root_quat[t]   # the clip's w x y z -> pybullet's x y z w
            pybullet.resetBasePositionAndOrientation(body, root_pos[t], [x, y, z, w], physicsClientId=c)
            for name, value in joints.items():
                if value.ndim == 1:
                    pybullet.resetJointState(body, index[name], value[t], physicsClientId=c)
                else:
                    w, x, y, z = value[t]
                    pybullet.resetJointStateMultiDof(body, index[name], [x, y, z, w], physicsClientId=c)
            for k, name in enumerate(dm.JOINT_NAMES[1:], start=1):
                link = pybullet.getLinkState(body, index[name], computeForwardKinematics=True, physicsClientId=c)
                np.testing.assert_allclose(link[4], ours[t, k], atol=1e-5)   # the URDF link frame's origin
    finally:
        pybullet.disconnect(c)


@pytest.fixture(scope="module")
def clips():
    return {name: dm.clip_h36m17(path) for name, path in dm.clip_files().items()}


def test_clips_are_the_twenty_humanoid_clips_at_50_fps(clips):
    assert len(clips) == 20 and "walk" in clips and "walker_0walk_forward" in clips
    frames = dm.read_clip(dm.clip_files()["walk"])
    duration = sum(f[0] for f in frames[:-1])
    assert len(clips["walk"]) == int(np.floor(duration * 50 + 1e-6)) + 1     # one sample every 20 ms
    for pos in clips.values():
        assert pos.shape[1:] == (17, 3) and np.isfinite(pos).all()


def test_bone_lengths_are_constant_over_every_clip(clips):
    for name, pos in clips.items():
        for child, parent in H36M_17.bones():
            length = np.linalg.norm(pos[:, child] - pos[:, parent], axis=-1)
            assert length.max() - length.min() < 1e-6, (name, child, parent)


def test_walk_is_about_one_metre_per_second_upright_and_about_1_6_m_tall(clips):
    pos = clips["walk"]
    speed = np.linalg.norm(pos[-1, 0, :2] - pos[0, 0, :2]) / ((len(pos) - 1) / 50)
    assert 0.8 < speed < 1.3
    assert 0.75 < pos[:, 0, 2].mean() < 0.95            # pelvis height, z up
    assert 1.45 < (pos[:, 10, 2] - pos[:, 3, 2]).max() < 1.75


@pytest.fixture(scope="module")
def mocap_dir(tmp_path_factory):
    folder = str(tmp_path_factory.mktemp("mocap"))
    make_files(folder, log=lambda *_: None)
    return folder


def test_files_load_as_the_mocap_data_set_inside_every_camera(mocap_dir, clips):
    for keypoints in ("gt", "det"):
        d = load_dataset("mocap", keypoints, mocap_dir)
        assert d.subjects() == ["S11"] and d.actions("S11") == list(clips) and d.fps == 50
        for name, per_camera in d.positions_2d["S11"].items():
            assert len(per_camera) == 4 and all(len(p) == len(clips[name]) for p in per_camera)
            assert all(np.abs(p).max() <= 1 for p in per_camera)   # normalised x within the image
    r = subprocess.run([sys.executable, "-m", "relpose.mocap", "--data-dir", mocap_dir], capture_output=True,
                       text=True, cwd=ROOT)
    assert r.returncode == 2 and r.stderr.startswith("error: ") and "exists and is not replaced" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_evaluate_on_mocap_through_the_command_line(mocap_dir, tiny_data_dir, tmp_path, capsys):
    ck = str(tmp_path)
    assert main(["-d", "synth", "-k", "det", "--data-dir", tiny_data_dir, "-c", ck, *TINY_MODEL, "-e", "1",
                 "--downsample", "4", "-str", "S1", "-a", "Walking", "--stage", "1", "--no-eval"]) == 0
    capsys.readouterr()
    assert main(["-d", "mocap", "--data-dir", mocap_dir, "-c", ck, *TINY_MODEL, "--stage", "1",
                 "--evaluate", "stage_1_epoch_1.bin"]) == 0
    out = capsys.readouterr().out
    assert "----walk----" in out and "----walker_turn_left0----" in out
    assert "Protocol #1   (MPJPE) action-wise average:" in out and "Protocol #2 (P-MPJPE)" in out


@pytest.mark.parametrize("flags, expected", [
    (["--seed", "-1"], "--seed -1: give a whole number from 0 to 4,294,967,295"),
    (["--seed", str(2 ** 32)], "--seed 4294967296: give a whole number"),
    (["--seed", "1.5"], "invalid int value: '1.5'"),
    (["--data-dir", ""], "--data-dir is empty"),
    (["--data-dir", "FILE"], "is a file: pass a directory (--data-dir)"),
    (["--bogus"], "unrecognized arguments: --bogus"),
])
def test_mocap_command_flags_end_in_one_line_before_any_work(tmp_path, capsys, flags, expected):
    from relpose.cli.mocap import main as mocap_main
    (tmp_path / "FILE").write_text("keep")
    flags = [str(tmp_path / "FILE") if f == "FILE" else f for f in flags]
    assert mocap_main((["--data-dir", str(tmp_path / "data")] if "--data-dir" not in flags else []) + flags) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and expected in err and "Traceback" not in err, err
    assert not (tmp_path / "data").exists() and (tmp_path / "FILE").read_text() == "keep"


def test_mocap_api_refuses_seeds_out_of_range(tmp_path):
    from relpose.errors import UserError
    from relpose.mocap import ensure_mocap
    for seed in (-1, 2 ** 32, True, 1.0):
        with pytest.raises(UserError, match="--seed .*: give a whole number from 0"):
            make_files(tmp_path, seed=seed)
        with pytest.raises(UserError, match="--seed"):
            ensure_mocap(tmp_path, "gt", seed=seed)
    assert list(tmp_path.iterdir()) == []
