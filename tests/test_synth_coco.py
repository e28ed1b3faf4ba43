"""COCO-17 keypoints of the synthetic bodies and the 'det_coco' keypoint set (a COCO detector's,
converted to Human3.6M-17 as the kit converts real detections)."""
import hashlib
import os

import numpy as np
import pytest

from relpose import synth
from relpose.cameras import load_rig
from relpose.datasets import dataset_spec, load_dataset
from relpose.errors import UserError
from relpose.keypoint_layouts import get_layout
from relpose.skeleton import H36M_17_JOINT_NAMES, H36M_KEPT_JOINTS
from relpose.synth.generator import _COCO_SWAP_PAIRS

COCO = get_layout("coco-17")
# Human3.6M-17 joint of each COCO limb keypoint (the test's own table, by name).
LIMBS = {f"{s}_{part}": f"{s[0].upper()}{h36m}" for s in ("left", "right")
         for part, h36m in (("shoulder", "Shoulder"), ("elbow", "Elbow"), ("wrist", "Wrist"), ("hip", "Hip"),
                            ("knee", "Knee"), ("ankle", "Foot"))}
THORAX, NECK_NOSE, HEAD = 13, 14, 15    # 32-joint indices


def _j32(h36m17_name):
    return H36M_KEPT_JOINTS[H36M_17_JOINT_NAMES.index(h36m17_name)]


def _load(path, key="positions_2d"):
    return np.load(path, allow_pickle=True)[key].item()


def _sha(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def _unit(v):
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    out = tmp_path_factory.mktemp("synth_coco")
    paths = synth.generate(out, seed=0, size="tiny")
    before = {k: (_sha(p), os.stat(p).st_mtime_ns) for k, p in paths.items()}
    extra = synth.generate(out, seed=0, size="tiny", only=("det_coco",))
    after = {k: (_sha(p), os.stat(p).st_mtime_ns) for k, p in paths.items()}
    return dict(dir=out, paths={**paths, **extra}, before=before, after=after, p3=_load(paths["3d"], "positions_3d"))


@pytest.fixture(scope="module")
def poses(tiny):
    """A few takes of every subject, (T, 32, 3), and their COCO keypoints."""
    pos = np.concatenate([tiny["p3"][s][a] for s in synth.SUBJECTS for a in ("Walking", "Phoning", "Posing 1")])
    return pos, synth.coco_keypoints_3d(pos)


def test_limb_keypoints_are_the_human36m_joints(poses):
    pos, coco = poses
    assert coco.shape == (len(pos), 17, 3) and coco.dtype == np.float32
    for name, h36m in LIMBS.items():
        assert np.array_equal(coco[:, COCO.index(name)], pos[:, _j32(h36m)]), name


def _mid_plane(pos):
    """Unit normal (pointing left) and a point of the plane through Thorax, Neck/Nose and Head."""
    a, b, c = pos[:, THORAX], pos[:, NECK_NOSE], pos[:, HEAD]
    return _unit(np.cross(c - b, b - a)), b


def test_eyes_and_ears_mirror_each_other_across_the_head_mid_plane(poses):
    pos, coco = poses
    n, on_plane = _mid_plane(pos.astype(np.float64))
    shoulders = pos[:, _j32("LShoulder")] - pos[:, _j32("RShoulder")]
    assert (np.sum(n * shoulders, -1) > 0).all()          # the normal points to the body's left
    for part in ("eye", "ear"):
        left, right = coco[:, COCO.index(f"left_{part}")], coco[:, COCO.index(f"right_{part}")]
        d_left, d_right = np.sum((left - on_plane) * n, -1), np.sum((right - on_plane) * n, -1)
        assert (d_left > 0.02).all() and (d_right < -0.02).all()             # each on its own side
        mirrored = left - 2 * d_left[:, None] * n                            # reflect the left one
        assert np.abs(mirrored - right).max() < 1e-5, part
    eye_w = np.linalg.norm(coco[:, 1] - coco[:, 2], axis=-1)
    ear_w = np.linalg.norm(coco[:, 3] - coco[:, 4], axis=-1)
    assert (0.05 < eye_w).all() and (eye_w < 0.08).all() and (ear_w > 1.8 * eye_w).all()
    nose = coco[:, COCO.index("nose")]
    assert np.abs(np.sum((nose - on_plane) * n, -1)).max() < 1e-5           # the nose on the mid-plane


def test_nose_is_in_front_of_the_head_and_eyes_above_it(poses):
    pos, coco = poses
    up = _unit(pos[:, HEAD] - pos[:, NECK_NOSE])
    left = _unit(pos[:, _j32("LShoulder")] - pos[:, _j32("RShoulder")])
    facing = _unit(np.cross(left, up))                    # the body's front (x = y cross z)
    nose, eyes, ears = coco[:, 0], coco[:, 1:3].mean(1), coco[:, 3:5].mean(1)
    ahead = np.sum((nose - pos[:, NECK_NOSE]) * facing, -1)
    assert (ahead > 0.02).all() and np.median(ahead) > 0.08
    assert (np.sum((nose - ears) * facing, -1) > 0.05).all()     # the face is in front of the ears
    assert (np.sum((eyes - nose) * up, -1) > 0.02).all()         # eyes above the nose tip
    assert (np.sum((pos[:, HEAD] - eyes) * up, -1) > 0.05).all()  # and well below the head top


def test_straight_neck_takes_left_right_from_the_shoulders(poses):
    pos = poses[0][:5].astype(np.float64)
    pos[:, NECK_NOSE] = (pos[:, THORAX] + pos[:, HEAD]) / 2              # 13, 14, 15 in a line
    coco = synth.coco_keypoints_3d(pos)
    assert np.isfinite(coco).all()
    across = _unit(coco[:, 1] - coco[:, 2])
    shoulders = _unit(pos[:, _j32("LShoulder")] - pos[:, _j32("RShoulder")])
    up = _unit(pos[:, HEAD] - pos[:, NECK_NOSE])
    shoulders = _unit(shoulders - np.sum(shoulders * up, -1, keepdims=True) * up)
    assert np.allclose(across, shoulders, atol=1e-5)


def test_converted_coco_differs_from_human36m_only_on_the_trunk_and_head(tiny):
    """The systematic differences of the COCO -> Human3.6M-17 conversion, on the test subjects."""
    dist = {}
    for s in synth.SYNTH_SUBJECTS_TEST:
        for a, pos in tiny["p3"][s].items():
            converted = COCO.to_h36m17(synth.coco_keypoints_3d(pos))
            d = np.linalg.norm(converted - pos[:, list(H36M_KEPT_JOINTS)], axis=-1)
            for j, name in enumerate(H36M_17_JOINT_NAMES):
                dist.setdefault(name, []).append(d[:, j])
    mean = {k: float(np.concatenate(v).mean()) for k, v in dist.items()}
    limbs = [n for n in H36M_17_JOINT_NAMES if n[0] in "LR"] + ["Hip"]  # the pelvis is the hips' mean
    assert max(mean[n] for n in limbs) < 1e-6
    assert 0.05 < mean["Head"] and 0.05 < mean["Nose"] and max(mean, key=mean.get) == "Head"
    assert 0.005 < mean["Thorax"] < 0.05 and 0.005 < mean["Spine"] < 0.05


def test_swap_pairs_are_mirror_images():
    left, right = COCO.symmetry
    mirror = dict(zip(left, right)) | dict(zip(right, left))
    for a, b in _COCO_SWAP_PAIRS:
        assert [mirror[j] for j in a] == list(b)


def test_generating_det_coco_leaves_gt_and_det_untouched(tiny, tmp_path):
    assert tiny["before"] == tiny["after"]
    # det (and gt) are the same bytes whether or not det_coco is made in the same call
    both = synth.generate(tmp_path, seed=0, size="tiny", only=("gt", "det", "det_coco"))
    assert _sha(both["det"]) == tiny["before"]["det"][0] and _sha(both["gt"]) == tiny["before"]["gt"][0]
    assert _sha(both["det_coco"]) == _sha(tiny["paths"]["det_coco"])      # and det_coco is deterministic


def test_det_coco_loads_in_the_human36m_layout_with_detector_noise_and_the_head_shift(tiny):
    ds = load_dataset("synth", "det_coco", tiny["dir"])
    assert ds.num_keypoints() == 17 and ds.input_layout().name == "h36m-17"
    assert sorted(ds.positions_2d) == sorted(synth.SUBJECTS)
    f = np.load(tiny["paths"]["det_coco"], allow_pickle=True)
    assert f["metadata"].item()["layout_name"] == "h36m"
    gt, det_coco, det = (_load(tiny["paths"][k]) for k in ("gt", "det_coco", "det"))
    rig = load_rig("h36m")
    err, noise, det_err = [], [], []
    for s in synth.SYNTH_SUBJECTS_TEST:
        for a in ("Walking", "Directions", "Eating 1"):
            exact = COCO.to_h36m17(synth.coco_keypoints_3d(tiny["p3"][s][a]))   # noise-free converted keypoints
            for c, cam in enumerate(rig[s]):
                err.append(np.linalg.norm(det_coco[s][a][c] - gt[s][a][c], axis=-1))
                noise.append(np.linalg.norm(det_coco[s][a][c] - synth.project(exact, cam), axis=-1))
                det_err.append(np.linalg.norm(det[s][a][c] - gt[s][a][c], axis=-1))
    err, noise, det_err = (np.median(np.concatenate(e), axis=0) for e in (err, noise, det_err))
    assert (1.0 < noise).all() and (noise < 8.0).all()              # detector-like: a few pixels everywhere
    limb = [j for j, n in enumerate(H36M_17_JOINT_NAMES) if n[0] in "LR"]
    assert np.allclose(err[limb], noise[limb])                       # limbs: noise only, no shift
    assert err[H36M_17_JOINT_NAMES.index("Head")] > 3 * err[limb].max()  # the head: the systematic shift
    assert np.median(det_err[limb]) == pytest.approx(np.median(err[limb]), rel=0.3)   # noise like det's


def test_det_coco_is_made_on_demand_and_only_when_asked(tmp_path):
    only = synth.ensure_synthetic(tmp_path / "a", "det_coco", size="tiny", log=lambda *_: None)
    assert sorted(os.listdir(tmp_path / "a")) == ["data_2d_synth_det_coco.npz", "data_3d_synth.npz"]
    assert set(only) >= {"3d", "det_coco"}
    logs = []
    synth.ensure_synthetic(tmp_path / "b", None, size="tiny", log=logs.append)
    assert sorted(os.listdir(tmp_path / "b")) == ["data_2d_synth_det.npz", "data_2d_synth_gt.npz",
                                                  "data_3d_synth.npz"]
    assert "data_2d_synth_det_coco" not in logs[0] and "data_2d_synth_det.npz" in logs[0]
    assert sorted(os.path.basename(p) for p in synth.generate(tmp_path / "c", size="tiny").values()) == [
        "data_2d_synth_det.npz", "data_2d_synth_gt.npz", "data_3d_synth.npz"]


def test_unknown_keypoints_name_det_coco():
    with pytest.raises(UserError, match="det_coco"):
        synth.ensure_synthetic("unused", "cpn")
    with pytest.raises(UserError, match="-k det_coco"):
        dataset_spec("synth").check_keypoints("cpn")


def test_command_line_writes_det_coco_only_with_its_flag(tmp_path):
    from relpose.cli import synth as synth_cli
    flags = ["--seed", "0", "--size", "tiny", "--frames-per-take", "3"]
    assert synth_cli.main(["--data-dir", str(tmp_path / "a"), *flags]) == 0
    assert "data_2d_synth_det_coco.npz" not in os.listdir(tmp_path / "a")
    assert synth_cli.main(["--data-dir", str(tmp_path / "b"), *flags, "--det-coco"]) == 0
    assert sorted(os.listdir(tmp_path / "b")) == ["data_2d_synth_det.npz", "data_2d_synth_det_coco.npz",
                                                  "data_2d_synth_gt.npz", "data_3d_synth.npz"]
