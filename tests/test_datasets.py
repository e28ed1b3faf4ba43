"""relpose.datasets: VideoPose3D-layout files, per-camera preparation, fetch, and bad input."""
import copy
import hashlib
import zipfile

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from relpose.cameras import load_rig
from relpose.datasets import deterministic_random, load_dataset
from relpose.errors import DataError, UserError

# The 17 of Human3.6M's 32 mocap joints every lifting paper keeps (written out, not taken from the code).
KEPT = [0, 1, 2, 3, 6, 7, 8, 12, 13, 14, 15, 17, 18, 19, 25, 26, 27]
H36M_META = {"layout_name": "h36m", "num_joints": 17,
             "keypoints_symmetry": [[4, 5, 6, 11, 12, 13], [1, 2, 3, 14, 15, 16]]}
HE_META = {"layout_name": "humaneva15", "num_joints": 15,
           "keypoints_symmetry": [[2, 3, 4, 8, 9, 10], [5, 6, 7, 11, 12, 13]]}
TAKES = {"S1": {"Walking 1": 20, "Eating": 15, "Walking": 12},
         "S5": {"SittingDown 1": 18, "Sitting 2": 10, "Walking 1": 14}}


def make_h36m(extra_frames=0, joints_3d=32, seed=0):
    """World positions (around the origin, metres) and pixel keypoints for 4 cameras."""
    rng = np.random.default_rng(seed)
    world, kps = {}, {}
    for subject, takes in TAKES.items():
        world[subject], kps[subject] = {}, {}
        for action, n in takes.items():
            world[subject][action] = (rng.normal(size=(n, joints_3d, 3)) * 0.3 + [0, 0, 1]).astype(np.float32)
            kps[subject][action] = [rng.uniform(0, 1000, size=(n + extra_frames, 17, 2)).astype(np.float32)
                                    for _ in range(4)]
    return world, kps


def write(tmp_path, world=None, kps=None, meta=H36M_META, name="h36m", keypoints="gt"):
    if world is not None:
        np.savez_compressed(tmp_path / f"data_3d_{name}.npz", positions_3d=world)
    if kps is not None:
        np.savez_compressed(tmp_path / f"data_2d_{name}_{keypoints}.npz", positions_2d=kps, metadata=meta)


@pytest.fixture
def h36m(tmp_path):
    world, kps = make_h36m(extra_frames=3)
    write(tmp_path, world, kps)
    return load_dataset("h36m", "gt", tmp_path), world, kps


def quat_to_matrix(q):
    """The rotation matrix of a w x y z quaternion (SciPy's)."""
    return Rotation.from_quat(np.asarray(q, dtype=np.float64), scalar_first=True).as_matrix()


def expected_camera_space(world, cam):
    """R^T (X - t) with R the camera-to-world rotation; then joints 1.. relative to joint 0."""
    pos = (world.astype(np.float64) - cam["translation"]) @ quat_to_matrix(cam["orientation"])
    pos[:, 1:] -= pos[:, :1]
    return pos


# ---------------------------------------------------------------- preparation

def test_camera_space_root_relative_with_trajectory(h36m):
    ds, world, _ = h36m
    rig = load_rig("h36m")
    for subject in ("S1", "S5"):
        for action in TAKES[subject]:
            per_cam = ds.positions_3d[subject][action]
            assert len(per_cam) == 4
            for cam, pos in zip(rig[subject], per_cam):
                assert pos.dtype == np.float32 and pos.shape == (TAKES[subject][action], 17, 3)
                np.testing.assert_allclose(pos, expected_camera_space(world[subject][action][:, KEPT], cam), atol=2e-5)
    # The trajectory is the root in camera space: a few metres in front of the camera.
    assert (ds.positions_3d["S1"]["Walking 1"][0][:, 0, 2] > 2).all()


def test_h36m_17_joint_3d_file_equals_32_joint_one(tmp_path):
    world, kps = make_h36m()
    write(tmp_path, world, kps)
    ds32 = load_dataset("h36m", "gt", tmp_path)
    write(tmp_path, {s: {a: p[:, KEPT] for a, p in t.items()} for s, t in world.items()}, kps)
    ds17 = load_dataset("h36m", "gt", tmp_path)
    np.testing.assert_array_equal(ds32.positions_3d["S5"]["Sitting 2"][3], ds17.positions_3d["S5"]["Sitting 2"][3])


def test_2d_trimmed_to_mocap_length_and_normalised(h36m):
    ds, _, kps = h36m
    rig = load_rig("h36m")
    for cam_idx, cam in enumerate(rig["S1"]):
        raw = kps["S1"]["Eating"][cam_idx]
        got = ds.positions_2d["S1"]["Eating"][cam_idx]
        assert len(raw) == 18 and got.shape == (15, 17, 2) and got.dtype == np.float32
        w, h = cam["res_w"], cam["res_h"]
        expected = raw[:15].astype(np.float64) / w * 2 - np.array([1, h / w])
        np.testing.assert_allclose(got, expected, atol=1e-6)
    assert (rig["S1"][0]["res_w"], rig["S1"][0]["res_h"]) == (1000, 1002)  # so the y offset really differs


def test_metadata_and_skeleton_symmetry(h36m):
    ds, _, _ = h36m
    assert ds.kps_left == [4, 5, 6, 11, 12, 13] and ds.kps_right == [1, 2, 3, 14, 15, 16]
    assert ds.joints_left == [4, 5, 6, 11, 12, 13] and ds.joints_right == [1, 2, 3, 14, 15, 16]
    assert ds.skeleton.num_joints == 17 and ds.fps == 50
    assert ds.subjects() == ["S1", "S5"] and ds.actions("S5") == list(TAKES["S5"])


# ---------------------------------------------------------------- fetch

def test_fetch_order_cameras_and_intrinsics(h36m):
    ds, _, _ = h36m
    intr, p3, p2 = ds.fetch(["S5", "S1"])
    order = [(s, a) for s in ("S5", "S1") for a in TAKES[s]]
    assert len(p2) == len(p3) == len(intr) == 4 * len(order)
    for k, (s, a) in enumerate(order):
        for c in range(4):
            assert p2[4 * k + c] is ds.positions_2d[s][a][c]
            assert p3[4 * k + c] is ds.positions_3d[s][a][c]
            np.testing.assert_array_equal(intr[4 * k + c], load_rig("h36m")[s][c]["intrinsic"])
    assert np.allclose(intr[0][:4], [2.2901, 2.2876, 0.0251, 0.0289], atol=1e-4)


def test_action_filter_is_a_prefix_match(h36m):
    ds, _, _ = h36m
    _, p3, p2 = ds.fetch(["S1", "S5"], action_filter=["Walking"])
    expected = [ds.positions_2d[s][a][c] for s, a in [("S1", "Walking 1"), ("S1", "Walking"), ("S5", "Walking 1")]
                for c in range(4)]
    assert len(p2) == len(expected) and all(x is y for x, y in zip(p2, expected))
    _, _, p2 = ds.fetch(["S5"], action_filter=["Sitting"])  # 'SittingDown 1' starts with 'Sitting' too
    assert [len(x) for x in p2] == [18] * 4 + [10] * 4
    _, _, p2 = ds.fetch(["S5"], action_filter="SittingD")  # a single string is one prefix
    assert len(p2) == 4
    with pytest.raises(UserError, match="matches no action"):
        ds.fetch(["S1"], action_filter=["Sitting"])
    with pytest.raises(UserError, match="matches no action"):  # a prefix, not a substring
        ds.fetch(["S5"], action_filter=["Down", "ing"])
    assert list(ds.actions_by_name(["S5"], ["Down", "ing"])) == []


def test_downsample(h36m):
    ds, _, _ = h36m
    _, p3, p2 = ds.fetch(["S1"], downsample=3)
    _, f3, f2 = ds.fetch(["S1"])
    assert [len(x) for x in p2] == [7] * 4 + [5] * 4 + [4] * 4
    for a, b in zip(p2 + p3, f2 + f3):
        np.testing.assert_array_equal(a, b[::3])


def published_start(length, n_frames):
    digest = hashlib.sha256(str(length).encode()).digest()
    raw = int.from_bytes(digest[:4], "little", signed=False)
    return int(raw / (2 ** 32 - 1) * (length - n_frames + 1))


@pytest.mark.parametrize("subset,stride", [(0.5, 1), (0.3, 2), (0.75, 3)])
def test_subset_deterministic_and_published_formula(h36m, subset, stride):
    ds, _, _ = h36m
    first = ds.fetch(["S1", "S5"], subset=subset, downsample=stride)
    again = ds.fetch(["S1", "S5"], subset=subset, downsample=stride)
    _, full3, full2 = ds.fetch(["S1", "S5"])
    for i, seq in enumerate(full2):
        n_frames = int(round(len(seq) // stride * subset) * stride)
        start = published_start(len(seq), n_frames)
        np.testing.assert_array_equal(first[2][i], seq[start:start + n_frames:stride])
        np.testing.assert_array_equal(first[1][i], full3[i][start:start + n_frames:stride])
        np.testing.assert_array_equal(again[2][i], first[2][i])
    assert any(published_start(n, int(round(n * subset))) > 0 for n in (20, 15, 12, 18, 10, 14))


def test_deterministic_random_hand_value():
    digest = hashlib.sha256(b"1000").digest()
    raw = int.from_bytes(digest[:4], "little")
    assert deterministic_random(5, 105, "1000") == int(raw / 4294967295 * 100) + 5
    assert all(0 <= deterministic_random(0, 7, str(n)) < 7 for n in range(200))


def test_actions_by_name_and_fetch_actions(h36m):
    ds, _, _ = h36m
    groups = ds.actions_by_name(["S1", "S5"])
    assert list(groups) == ["Walking", "Eating", "SittingDown", "Sitting"]
    assert groups["Walking"] == [("S1", "Walking 1"), ("S1", "Walking"), ("S5", "Walking 1")]
    assert groups["SittingDown"] == [("S5", "SittingDown 1")]
    assert list(ds.actions_by_name(["S5", "S1"], action_filter=["Sitting", "Eat"])) == ["SittingDown", "Sitting", "Eating"]
    assert list(ds.actions_by_name(["S5"])) == ["SittingDown", "Sitting", "Walking"]

    p3, p2 = ds.fetch_actions(groups["Walking"], downsample=2)
    assert len(p3) == len(p2) == 12
    np.testing.assert_array_equal(p2[4 + 1], ds.positions_2d["S1"]["Walking"][1][::2])
    np.testing.assert_array_equal(p3[8 + 3], ds.positions_3d["S5"]["Walking 1"][3][::2])
    with pytest.raises(UserError, match="no action 'Jumping'"):
        ds.fetch_actions([("S1", "Jumping")])


def test_summary_and_num_frames(h36m):
    ds, _, _ = h36m
    assert ds.summary() == [("S1", 2, 3, 47, 4), ("S5", 3, 3, 42, 4)]
    assert ds.num_frames(["S1"]) == 47 * 4 and ds.num_frames() == (47 + 42) * 4
    text = ds.format_summary()
    lines = text.splitlines()
    assert lines[0].startswith("h36m / gt: 2 subjects")
    assert len({len(line) for line in lines[1:]}) == 1  # aligned columns
    assert lines[3].split() == ["S1", "2", "3", "47", "4"] and lines[-1].split() == ["total", "4", "6", "89", "4"]


def test_bad_fetch_arguments(h36m):
    ds, _, _ = h36m
    with pytest.raises(UserError, match=r"unknown subject\(s\) 'S9'.*available: S1, S5"):
        ds.fetch(["S1", "S9"])
    with pytest.raises(UserError, match="subset"):
        ds.fetch(["S1"], subset=0)
    with pytest.raises(UserError, match="downsample"):
        ds.fetch(["S1"], downsample=0)


def test_2d_only_loading(tmp_path):
    _, kps = make_h36m(extra_frames=3)
    write(tmp_path, None, kps)
    ds = load_dataset("h36m", "gt", tmp_path, with_3d=False)
    assert ds.positions_3d is None and ds.positions_2d["S1"]["Eating"][0].shape == (18, 17, 2)
    intr, p3, p2 = ds.fetch(["S1"], parse_3d_poses=False)
    assert p3 is None and len(p2) == len(intr) == 12
    with pytest.raises(UserError, match="2D keypoints only"):
        ds.fetch(["S1"])
    assert "2D only" in ds.format_summary()


def test_2d_only_subjects_use_the_rig_intrinsics(tmp_path):
    """Detection files also hold unlabelled subjects (Human3.6M S2-S4), which have no extrinsics."""
    world, kps = make_h36m()
    rng = np.random.default_rng(3)
    kps["S3"] = {"Phoning": [rng.uniform(0, 1000, size=(11, 17, 2)).astype(np.float32) for _ in range(4)]}
    write(tmp_path, world, kps)
    ds = load_dataset("h36m", "gt", tmp_path)
    assert ds.subjects() == ["S1", "S5", "S3"] and not ds.has_3d("S3") and ds.actions("S3") == ["Phoning"]
    rig = load_rig("h36m")
    assert all("orientation" not in c for c in ds.cameras["S3"])
    intr, p3, p2 = ds.fetch(["S3"], parse_3d_poses=False)
    assert p3 is None and len(p2) == len(intr) == 4
    for c, cam in enumerate(rig["S1"]):
        np.testing.assert_array_equal(intr[c], cam["intrinsic"])
        expected = kps["S3"]["Phoning"][c].astype(np.float64) / cam["res_w"] * 2 - [1, cam["res_h"] / cam["res_w"]]
        np.testing.assert_allclose(p2[c], expected, atol=1e-6)
    with pytest.raises(UserError, match="2D keypoints only"):
        ds.fetch(["S1", "S3"])
    with pytest.raises(UserError, match="2D keypoints only"):
        ds.fetch_actions([("S3", "Phoning")])


# ---------------------------------------------------------------- HumanEva

def test_humaneva_subject_naming_and_cameras(tmp_path):
    rng = np.random.default_rng(1)
    world = {s: {"Walking 1 chunk0": (rng.normal(size=(16, 15, 3)) * 0.3 + [0, 0, 1]).astype(np.float32)}
             for s in ("Train/S1", "Validate/S1", "Train/S2")}
    kps = {s: {a: [rng.uniform(0, 480, size=(len(p), 15, 2)).astype(np.float32) for _ in range(3)]
               for a, p in t.items()} for s, t in world.items()}
    kps["Unlabeled/S4"] = {"Box 3": [rng.uniform(0, 480, size=(9, 15, 2)).astype(np.float32) for _ in range(3)]}
    write(tmp_path, world, kps, HE_META, name="humaneva15", keypoints="gt")
    ds = load_dataset("humaneva15", "gt", tmp_path)
    rig = load_rig("humaneva")
    assert ds.fps == 60 and ds.skeleton.num_joints == 15
    assert ds.subjects() == ["Train/S1", "Validate/S1", "Train/S2", "Unlabeled/S4"]
    for subject in ("Train/S1", "Validate/S1"):
        for mine, ref in zip(ds.cameras[subject], rig["S1"], strict=True):
            assert mine["id"] == ref["id"] and "intrinsic" not in mine
            np.testing.assert_array_equal(mine["orientation"], ref["orientation"])
            np.testing.assert_array_equal(mine["translation"], ref["translation"])
    assert not np.array_equal(rig["S1"][0]["translation"], rig["S2"][0]["translation"])
    # S4 has no extrinsic calibration: its cameras carry only the resolution used for normalisation
    assert [sorted(c) for c in ds.cameras["Unlabeled/S4"]] == [["azimuth", "id", "res_h", "res_w"]] * 3
    for subject, calib in (("Validate/S1", "S1"), ("Train/S2", "S2")):
        for cam, pos in zip(rig[calib], ds.positions_3d[subject]["Walking 1 chunk0"]):
            np.testing.assert_allclose(pos, expected_camera_space(world[subject]["Walking 1 chunk0"], cam), atol=2e-5)
    intr, p3, p2 = ds.fetch(["Train/S1"])
    assert intr is None and len(p3) == len(p2) == 3  # HumanEva calibration has no intrinsics
    expected = kps["Unlabeled/S4"]["Box 3"][2].astype(np.float64) / 640 * 2 - [1, 480 / 640]
    np.testing.assert_allclose(ds.positions_2d["Unlabeled/S4"]["Box 3"][2], expected, atol=1e-6)
    _, p3, p2 = ds.fetch(["Unlabeled/S4"], parse_3d_poses=False)
    assert p3 is None and len(p2) == 3


def test_humaneva_coco_keypoints_count_from_metadata(tmp_path):
    world = {"Train/S1": {"Jog 1": np.zeros((5, 15, 3), np.float32) + [0, 0, 1]}}
    kps = {"Train/S1": {"Jog 1": [np.zeros((5, 17, 2), np.float32)] * 3}}
    coco = {"layout_name": "coco", "num_joints": 17,
            "keypoints_symmetry": [[1, 3, 5, 7, 9, 11, 13, 15], [2, 4, 6, 8, 10, 12, 14, 16]]}
    write(tmp_path, world, kps, coco, name="humaneva15", keypoints="detectron_pt_coco")
    ds = load_dataset("humaneva15", "detectron_pt_coco", tmp_path)
    assert ds.positions_2d["Train/S1"]["Jog 1"][0].shape == (5, 17, 2) and ds.kps_left[0] == 1


# ---------------------------------------------------------------- bad input

def single_line_error(excinfo, *parts):
    msg = str(excinfo.value)
    assert "\n" not in msg
    for part in parts:
        assert part in msg, f"{part!r} not in {msg!r}"


@pytest.mark.parametrize("name,hint", [("h36m", "Getting the data"), ("synth", "python -m relpose.synth")])
def test_missing_files_name_file_folder_and_howto(tmp_path, name, hint):
    with pytest.raises(DataError) as e:
        load_dataset(name, "gt", tmp_path)
    single_line_error(e, f"data_3d_{name}.npz", str(tmp_path.resolve()), hint)
    world, _ = make_h36m()
    write(tmp_path, world, None, name=name)
    keypoints = "det" if name == "synth" else "cpn"  # the synthetic set only has gt and det
    with pytest.raises(DataError) as e:
        load_dataset(name, keypoints, tmp_path)
    single_line_error(e, f"data_2d_{name}_{keypoints}.npz", str(tmp_path.resolve()), hint)


def test_not_an_npz_and_corrupt_archive(tmp_path):
    world, kps = make_h36m()
    write(tmp_path, None, kps)
    (tmp_path / "data_3d_h36m.npz").write_text("hello, not a zip")
    with pytest.raises(DataError) as e:
        load_dataset("h36m", "gt", tmp_path)
    single_line_error(e, "data_3d_h36m.npz", "not an .npz")
    with zipfile.ZipFile(tmp_path / "data_3d_h36m.npz", "w") as z:
        z.writestr("positions_3d.npy", b"garbage bytes")
    with pytest.raises(DataError) as e:
        load_dataset("h36m", "gt", tmp_path)
    single_line_error(e, "data_3d_h36m.npz", "cannot be read")


def test_missing_keys(tmp_path):
    world, kps = make_h36m()
    np.savez_compressed(tmp_path / "data_3d_h36m.npz", poses=world)
    write(tmp_path, None, kps)
    with pytest.raises(DataError) as e:
        load_dataset("h36m", "gt", tmp_path)
    single_line_error(e, "data_3d_h36m.npz", "positions_3d", "poses")
    write(tmp_path, world, None)
    np.savez_compressed(tmp_path / "data_2d_h36m_gt.npz", positions_2d=kps)
    with pytest.raises(DataError) as e:
        load_dataset("h36m", "gt", tmp_path)
    single_line_error(e, "data_2d_h36m_gt.npz", "metadata")


def _set(d, subject, action, value, camera=None):
    if camera is None:
        d[subject][action] = value
    else:
        d[subject][action][camera] = value


BAD_CASES = {
    # name: (mutation of (world, kps, meta), expected message parts)
    "3d wrong joints": (lambda w, k, m: _set(w, "S1", "Eating", np.zeros((15, 20, 3), np.float32)),
                        ["data_3d_h36m.npz", "'S1'", "'Eating'", "(15, 20, 3)"]),
    "3d wrong dims": (lambda w, k, m: _set(w, "S5", "Sitting 2", np.zeros((10, 32, 2), np.float32)),
                      ["data_3d_h36m.npz", "'S5'", "'Sitting 2'", "shape"]),
    "3d integer dtype": (lambda w, k, m: _set(w, "S1", "Walking", np.zeros((12, 32, 3), np.int32)),
                         ["data_3d_h36m.npz", "'Walking'", "int32"]),
    "3d nan": (lambda w, k, m: w["S1"]["Walking 1"].__setitem__((7, 3, 1), np.nan),
               ["data_3d_h36m.npz", "'Walking 1'", "NaN", "frame 7"]),
    "3d not a dict": (lambda w, k, m: w.__setitem__("S1", [1, 2]), ["data_3d_h36m.npz", "'S1'", "dict"]),
    "2d wrong joints": (lambda w, k, m: _set(k, "S1", "Eating", np.zeros((15, 16, 2), np.float32), 2),
                        ["data_2d_h36m_gt.npz", "'S1'", "'Eating'", "camera 2", "(15, 16, 2)"]),
    "2d wrong dims": (lambda w, k, m: _set(k, "S5", "Walking 1", np.zeros((14, 17, 3), np.float32), 0),
                      ["data_2d_h36m_gt.npz", "'Walking 1'", "camera 0", "shape"]),
    "2d integer dtype": (lambda w, k, m: _set(k, "S1", "Walking", np.zeros((12, 17, 2), np.int64), 1),
                               ["data_2d_h36m_gt.npz", "camera 1", "int64"]),
    "2d inf": (lambda w, k, m: k["S5"]["Sitting 2"][3].__setitem__((4, 0, 0), np.inf),
               ["data_2d_h36m_gt.npz", "'Sitting 2'", "camera 3", "inf", "frame 4"]),
    "2d missing camera": (lambda w, k, m: _set(k, "S1", "Eating", None, 1), ["'Eating'", "camera 1", "NoneType"]),
    "2d too few cameras": (lambda w, k, m: k["S1"]["Eating"].pop(), ["data_2d_h36m_gt.npz", "'Eating'", "3 cameras"]),
    "2d shorter": (lambda w, k, m: _set(k, "S5", "Walking 1", np.zeros((13, 17, 2), np.float32), 2),
                   ["data_2d_h36m_gt.npz", "'S5'", "'Walking 1'", "camera 2", "13 frames", "14"]),
    "2d missing subject": (lambda w, k, m: k.pop("S5"), ["data_2d_h36m_gt.npz", "'S5'", "missing"]),
    "2d missing action": (lambda w, k, m: k["S1"].pop("Walking"), ["data_2d_h36m_gt.npz", "'S1'", "lacks action 'Walking'"]),
    "2d extra action": (lambda w, k, m: _set(k, "S1", "Jumping", k["S1"]["Eating"]), ["'S1'", "'Jumping' not in"]),
    "3d uncalibrated subject": (lambda w, k, m: (w.__setitem__("S2", w["S1"]), k.__setitem__("S2", k["S1"])),
                                ["data_3d_h36m.npz", "'S2'", "no camera calibration"]),
    "metadata malformed": (lambda w, k, m: m.pop("keypoints_symmetry"), ["data_2d_h36m_gt.npz", "metadata"]),
    "metadata bad index": (lambda w, k, m: m.__setitem__("keypoints_symmetry", [[4, 40], [1, 2]]),
                           ["data_2d_h36m_gt.npz", "keypoints_symmetry"]),
}


@pytest.mark.parametrize("case", list(BAD_CASES))
def test_malformed_files(tmp_path, case):
    mutate, parts = BAD_CASES[case]
    world, kps = make_h36m()
    meta = copy.deepcopy(H36M_META)
    mutate(world, kps, meta)
    write(tmp_path, world, kps, meta)
    with pytest.raises(DataError) as e:
        load_dataset("h36m", "gt", tmp_path)
    single_line_error(e, *parts)


def test_float64_files_are_accepted_as_float32(tmp_path):
    world, kps = make_h36m()
    world["S1"]["Eating"] = world["S1"]["Eating"].astype(np.float64)
    kps["S1"]["Eating"] = [x.astype(np.float64) for x in kps["S1"]["Eating"]]
    write(tmp_path, world, kps)
    ds = load_dataset("h36m", "gt", tmp_path)
    assert ds.positions_3d["S1"]["Eating"][0].dtype == ds.positions_2d["S1"]["Eating"][0].dtype == np.float32


def test_unknown_dataset_and_bad_keypoints_name(tmp_path):
    with pytest.raises(UserError, match="unknown data set 'mpii'"):
        load_dataset("mpii", "gt", tmp_path)
    with pytest.raises(UserError, match="plain name"):
        load_dataset("h36m", "../gt", tmp_path)


def test_kit_made_sets_are_made_by_the_maker_their_package_registers(tmp_path, monkeypatch):
    import relpose.mocap
    import relpose.synth
    from relpose import datasets
    assert datasets.MAKERS["synth"] is relpose.synth.ensure_synthetic
    assert datasets.MAKERS["mocap"] is relpose.mocap.ensure_mocap
    calls = []
    monkeypatch.setitem(datasets.MAKERS, "synth", lambda data_dir, keypoints, log: calls.append((data_dir, keypoints)))
    datasets.dataset_spec("synth").make_missing("det", tmp_path)
    datasets.dataset_spec("h36m").make_missing("gt", tmp_path)   # the user's set: nothing is made
    assert calls == [(str(tmp_path), "det")]
    monkeypatch.delitem(datasets.MAKERS, "synth")
    with pytest.raises(UserError, match="its maker was not imported here; run `python -m relpose.synth`"):
        datasets.dataset_spec("synth").make_missing("det", tmp_path)
    with pytest.raises(ValueError, match="'h36m' is not made by the kit"):
        datasets.register_maker("h36m", print)
