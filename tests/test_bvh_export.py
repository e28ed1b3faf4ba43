"""BVH export (relpose.wild.bvh), the plain JSON of joints (relpose.wild.joints_json) and `python -m relpose.cli.bvh`.

The BVH files are read back by an independent reader, pybvh (PyPI, pinned in requirements.txt): it parses the file
and does its own forward kinematics, End Sites included, with its own Euler-angle code, so a wrong channel
order, rotation convention or offset in the writer shows up as positions that differ from the fitted ones.
The poses are the synthetic set's motions (relpose.synth: the generator of data_3d_synth.npz), made here so
that the tests need no data file.
"""
import json
import warnings

import numpy as np
import pybvh
import pytest
from scipy.spatial.transform import Rotation

from relpose.cli.bvh import main as bvh_main
from relpose.errors import DataError, UserError
from relpose.skeleton import H36M_17, H36M_KEPT_JOINTS, HUMANEVA_15
from relpose.synth.generator import SUBJECTS, SYNTH_ACTIONS, make_body
from relpose.synth.motion import make_motion, pose_from_motion
from relpose.wild import bvh
from relpose.wild.joints_json import read_joints_json, write_joints_json

MM = 1e-3
CM = 1e-2


def synthetic_take(subject: str, action: str, frames: int, seed: int = 0) -> np.ndarray:
    """World positions (T, 17, 3) metres, z up, of one synthetic take (the generator's first attempt)."""
    rng = np.random.default_rng([seed, SUBJECTS.index(subject), SYNTH_ACTIONS.index(action), 0])
    body = make_body(subject, seed)
    return pose_from_motion(body, make_motion(rng, body, action.split(" ")[0], frames))[:, list(H36M_KEPT_JOINTS)]


@pytest.fixture(scope="module")
def turning_walk():
    """S11 'Walking 1': 420 frames in which the subject turns round twice (732 degrees of yaw)."""
    return synthetic_take("S11", "Walking 1", 420)


def read_back(path, skeleton=H36M_17) -> np.ndarray:
    """(T, J, 3) metres of the skeleton's joints, by pybvh's forward kinematics (End Sites: the leaf joints)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # pybvh guesses the up axis and warns when its two guesses differ
        file = pybvh.read_bvh_file(path, world_up="+y")
    positions = file.node_positions() * CM
    leaves = [j for j, kids in enumerate(skeleton.children()) if not kids]
    leaf_of = {skeleton.joint_names[skeleton.parents[j]]: j for j in leaves}   # an End Site's parent: the leaf's,
    leaf_of.update({f"{skeleton.joint_names[skeleton.parents[j]]}_{skeleton.joint_names[j]}": j for j in leaves})
    # or the branch joint PARENT_LEAF when the leaf's parent has several children (HumanEva's Thorax -> Head)
    rows = {}
    for i, node in enumerate(file.nodes):
        rows[leaf_of[node.parent.name] if node.is_end_site() else skeleton.joint_names.index(node.name)
             if node.name in skeleton.joint_names else None] = i
    return positions[:, [rows[j] for j in range(skeleton.num_joints)]]


def motion_block(path) -> np.ndarray:
    lines = path.read_text().split("MOTION\n", 1)[1].splitlines()[2:]
    return np.array([[float(v) for v in line.split()] for line in lines])


def max_mm(a, b) -> float:
    return float(np.linalg.norm(np.asarray(a) - np.asarray(b), axis=-1).max() / MM)


# ----------------------------------------------------------------------------- exact poses, read back
def test_turning_subject_is_fitted_exactly_and_read_back_by_pybvh(turning_walk, tmp_path):
    path = tmp_path / "walk.bvh"
    fit = bvh.write_bvh(path, turning_walk, 50, axes="z-up")
    world = bvh.to_bvh_frame(turning_walk, "z-up")
    assert fit.max_error_mm < 1.0                         # constant bones, exact positions: nothing to lose
    assert max_mm(read_back(path), fit.fitted) < 1.0      # the file is what the report says
    assert max_mm(read_back(path), world) < 1.0
    motion = motion_block(path)
    assert motion.shape == (420, 3 + 3 * 18)              # root position + 18 rotating joints (12 + 6 branches)
    yaw = motion[:, 5]                                    # the root's Y rotation (channels Z X Y)
    assert np.ptp(yaw) > 600                              # turning round twice: continuous, not wrapped to +-180
    assert np.abs(np.diff(motion[:, 3:], axis=0)).max() < 30   # no Euler flips between frames (50 fps)


def test_camera_space_with_trajectory(turning_walk, tmp_path):
    # The walk seen by a camera 4 m away, 1.5 m up, looking at it: camera space (x right, y down, z forward).
    to_camera = Rotation.from_euler("x", -90, degrees=True)           # z up -> camera's -y up
    camera = to_camera.apply(turning_walk.reshape(-1, 3)).reshape(turning_walk.shape) + [0.0, 0.2, 4.0]
    trajectory, relative = camera[:, 0].copy(), camera - camera[:, :1]
    path = tmp_path / "cam.bvh"
    fit = bvh.write_bvh(path, relative, 25, trajectory=trajectory)
    expected = np.stack([trajectory[:, 0], -trajectory[:, 1], -trajectory[:, 2]], axis=1)   # (x, -y, -z)
    assert np.abs(motion_block(path)[:, :3] * CM - expected).max() < 1e-5      # root position channels, cm
    assert max_mm(read_back(path), bvh.to_bvh_frame(camera)) < 1.0
    assert fit.max_error_mm < 1.0
    text = path.read_text()
    assert "Frame Time: 0.04000000" in text and "Frames: 420" in text


def random_pose_sequence(skeleton, frames, seed, *, spread_deg=180.0):
    """Positions made by forward kinematics of a random T-pose skeleton (symmetric bones) with random joint
    rotations up to `spread_deg`, any body orientation: exactly representable, so the fit must be exact."""
    rng = np.random.default_rng(seed)
    lengths = rng.uniform(0.1, 0.5, skeleton.num_joints)
    lengths = 0.5 * (lengths + lengths[skeleton.symmetry_permutation()])
    skel = bvh.build_skeleton(skeleton, lengths)
    local = []
    for node in range(len(skel.names)):
        angles = rng.uniform(-1, 1, (frames, 3)) * np.radians(spread_deg) / np.sqrt(3)
        local.append(None if skel.end_site[node] else Rotation.from_rotvec(angles))
    local[0] = Rotation.random(frames, random_state=seed)
    nodes = bvh.forward_kinematics(skel, rng.normal(0, 1, (frames, 3)), local)
    poses = np.zeros((frames, skeleton.num_joints, 3))
    for n, j in enumerate(skel.joint):
        if j >= 0:
            poses[:, j] = nodes[:, n]
    return poses


@pytest.mark.parametrize("skeleton, order", [(H36M_17, "auto"), (H36M_17, "ZXY"), (HUMANEVA_15, "auto")])
def test_random_rotations_are_fitted_exactly(skeleton, order, tmp_path):
    poses = random_pose_sequence(skeleton, 60, seed=len(order) + skeleton.num_joints)
    path = tmp_path / "random.bvh"
    fit = bvh.write_bvh(path, poses, 30, axes="y-up", skeleton=skeleton, euler_order=order)
    assert fit.max_error_mm < 1.0
    assert max_mm(read_back(path, skeleton), fit.fitted) < 1.0
    assert max_mm(fit.fitted, poses) < 1.0


def test_noisy_poses_keep_constant_symmetric_bones_and_report_the_fit_error(turning_walk, tmp_path):
    rng = np.random.default_rng(7)
    noisy = turning_walk + rng.normal(0, 20 * MM, turning_walk.shape)    # 20 mm per coordinate, 35 mm per joint
    path = tmp_path / "noisy.bvh"
    fit = bvh.write_bvh(path, noisy, 50, axes="z-up")
    read = read_back(path)
    assert max_mm(read, fit.fitted) < 1.0
    lengths = H36M_17.bone_lengths(read)
    assert lengths.std(axis=0).max() < 0.01 * MM                        # one length per bone, every frame
    mirror = H36M_17.symmetry_permutation()
    child = np.array([c for c, _ in H36M_17.bones()])
    assert np.allclose(fit.bone_lengths, fit.bone_lengths[mirror], atol=1e-12)
    true = H36M_17.bone_lengths(turning_walk)[0]
    assert np.abs(fit.bone_lengths[child] - true).max() < 10 * MM       # medians see through the noise
    # Directions are kept, lengths made constant: a joint moves by its chain's length changes, so the fit
    # error is of the noise's size (measured: 31.8 mm mean, 137 mm max) - never zero, never far beyond it.
    print(fit.summary())
    assert 10 < fit.mean_error_mm < 50, fit.summary()
    assert fit.max_error_mm < 250, fit.summary()
    assert fit.joint_error_mm.shape == (17,) and fit.joint_error_mm[0] < 0.01   # the root: exact to the written 1e-4 cm
    assert f"{fit.mean_error_mm:.1f} mm" in fit.summary()


def test_per_side_bones_keep_an_asymmetric_body(turning_walk, tmp_path):
    stretched = turning_walk.copy()
    stretched[:, 6] += 0.05 * (stretched[:, 6] - stretched[:, 5]) / np.linalg.norm(
        stretched[:, 6] - stretched[:, 5], axis=-1, keepdims=True)     # left shin 5 cm longer
    exact = bvh.write_bvh(tmp_path / "a.bvh", stretched, 50, axes="z-up", symmetric=False)
    averaged = bvh.write_bvh(tmp_path / "b.bvh", stretched, 50, axes="z-up")
    assert exact.max_error_mm < 1.0
    assert averaged.joint_error_mm[6] == pytest.approx(25.0, abs=1.0)  # each shin off by half the difference
    assert averaged.joint_error_mm[3] == pytest.approx(25.0, abs=1.0)


# ----------------------------------------------------------------------------- the pieces
def test_axes_are_proper_rotations_to_y_up():
    for axes in bvh.AXES:
        m = bvh.to_bvh_frame(np.eye(3), axes)
        assert np.allclose(m @ m.T, np.eye(3)) and np.linalg.det(m) == pytest.approx(1.0)
    assert np.allclose(bvh.to_bvh_frame([0, -1, 0], "camera"), [0, 1, 0])   # camera up (-y) -> +Y
    assert np.allclose(bvh.to_bvh_frame([0, 0, 1], "camera"), [0, 0, -1])   # looking away from the camera -> -Z
    assert np.allclose(bvh.to_bvh_frame([0, 0, 1], "z-up"), [0, 1, 0])
    with pytest.raises(UserError, match="unknown axes; use one of camera, z-up, y-up"):
        bvh.to_bvh_frame([0, 0, 1], "x-up")


def test_shortest_arc():
    rng = np.random.default_rng(0)
    rest = np.array([0.0, -1.0, 0.0])
    targets = rng.normal(size=(200, 3)) * rng.uniform(0.1, 3, (200, 1))
    r = bvh.shortest_arc(rest, targets)
    unit = targets / np.linalg.norm(targets, axis=1, keepdims=True)
    assert np.allclose(r.apply(rest), unit, atol=1e-12)
    assert np.allclose(r.magnitude(), np.arccos(np.clip(unit @ rest, -1, 1)), atol=1e-9)   # the smallest angle
    special = bvh.shortest_arc(rest, np.array([[0.0, 2.0, 0.0], [0.0, 0.0, 0.0], [0.0, -3.0, 0.0]]))
    assert np.allclose(special[0].apply(rest), [0, 1, 0], atol=1e-12)   # opposite: a half turn
    assert special[1].magnitude() == 0 and special[2].magnitude() == 0  # no direction / already there: none


def test_continuous_euler_keeps_each_rotation_and_removes_jumps():
    # A path through the gimbal lock of ZXY (X = 90 degrees) and twice round Y.
    t = np.linspace(0, 1, 400)
    path = Rotation.from_euler("ZXY", np.stack([40 * np.sin(6 * t), 120 * np.sin(3 * t), 720 * t], 1), degrees=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        raw = path.as_euler("ZXY", degrees=True)
    smooth = bvh.continuous_euler(raw[:, None])[:, 0]
    assert (Rotation.from_euler("ZXY", smooth, degrees=True).inv() * path).magnitude().max() < 1e-9
    assert np.abs(np.diff(raw, axis=0)).max() > 170                 # what a reader would have interpolated across
    assert np.abs(np.diff(smooth, axis=0)).max() < 30
    assert np.ptp(smooth[:, 2]) > 600


def test_skeleton_tree_and_rest_pose():
    skel = bvh.build_skeleton(H36M_17, np.arange(17) / 10.0)
    assert skel.names[:4] == ("Hip", "Hip_RHip", "RHip", "RKnee")
    assert sum(skel.end_site) == 5
    assert {skel.names[skel.parents[n]] for n in range(len(skel.names)) if skel.end_site[n]} == \
        {"RKnee", "LKnee", "Nose", "LElbow", "RElbow"}
    assert [n for n in skel.names if "_" in n] == ["Hip_RHip", "Hip_LHip", "Hip_Spine", "Thorax_Nose",
                                                   "Thorax_LShoulder", "Thorax_RShoulder"]
    offsets = {name: skel.offsets[n] for n, name in enumerate(skel.names) if not skel.end_site[n]}
    assert np.allclose(offsets["LHip"], [0.4, 0, 0]) and np.allclose(offsets["RHip"], [-0.1, 0, 0])   # T-pose
    assert np.allclose(offsets["RKnee"], [0, -0.2, 0]) and np.allclose(offsets["Spine"], [0, 0.7, 0])
    assert np.allclose(offsets["LElbow"], [1.2, 0, 0])
    orders = dict(zip(skel.names, skel.orders))
    assert orders["Hip"] == "ZXY" and orders["LElbow"] == "ZXY" and orders["RKnee"] == "ZYX"
    with pytest.raises(UserError, match="joint 'Tail': no T-pose direction"):
        bvh.rest_direction("Tail")


def test_bvh_header(turning_walk, tmp_path):
    path = tmp_path / "h.bvh"
    bvh.write_bvh(path, turning_walk[:3], 30, axes="z-up")
    lines = path.read_text().splitlines()
    assert lines[:4] == ["HIERARCHY", "ROOT Hip", "{", "  OFFSET 0.0000 0.0000 0.0000"]
    assert lines[4] == "  CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation"
    assert sum(line.strip() == "End Site" for line in lines) == 5
    assert lines[-4:-3] == ["Frame Time: 0.03333333"] and len(lines[-1].split()) == 57


# ----------------------------------------------------------------------------- files and bad input
def test_never_overwrites_without_permission(turning_walk, tmp_path):
    path = tmp_path / "x.bvh"
    path.write_text("mine")
    with pytest.raises(UserError, match="already exists; choose another name, delete it, or pass --overwrite"):
        bvh.write_bvh(path, turning_walk[:5], 25, axes="z-up")
    assert path.read_text() == "mine"
    bvh.write_bvh(path, turning_walk[:5], 25, axes="z-up", overwrite=True)
    assert path.read_text().startswith("HIERARCHY")
    assert [p.name for p in tmp_path.iterdir()] == ["x.bvh"]           # no temporary left behind


@pytest.mark.parametrize("change, message", [
    (lambda p: p[:, :16], r"expected an array \(frames, 17, 3\)"),
    (lambda p: np.where(np.arange(len(p))[:, None, None] == 3, np.nan, p), "frame 3 holds NaN"),
])
def test_bad_poses(turning_walk, tmp_path, change, message):
    with pytest.raises(UserError, match=message):
        bvh.write_bvh(tmp_path / "x.bvh", change(turning_walk[:10]), 25)
    assert not list(tmp_path.iterdir())


def test_bad_fps_trajectory_and_order(turning_walk, tmp_path):
    poses = turning_walk[:10]
    with pytest.raises(DataError, match="fps must be a number from 0.01"):
        bvh.write_bvh(tmp_path / "x.bvh", poses, 0)
    with pytest.raises(UserError, match=r"trajectory: expected one root position per frame, shape \(10, 3\)"):
        bvh.write_bvh(tmp_path / "x.bvh", poses, 25, trajectory=np.zeros((9, 3)))
    with pytest.raises(UserError, match="euler order 'ZZY'"):
        bvh.write_bvh(tmp_path / "x.bvh", poses, 25, euler_order="ZZY")
    with pytest.raises(UserError, match="unsupported extension '.txt'"):
        bvh.write_bvh(tmp_path / "x.txt", poses, 25)


# ----------------------------------------------------------------------------- JSON of joints
def test_joints_json_round_trip(turning_walk, tmp_path):
    poses = turning_walk[:50] - turning_walk[:50, :1]
    trajectory = turning_walk[:50, 0]
    rng = np.random.default_rng(1)
    interpolated, seen = rng.random(50) < 0.2, rng.random((50, 17)) < 0.8
    path = write_joints_json(tmp_path / "j.json", poses, 29.97, H36M_17.joint_names, first_frame=120,
                             interpolated=interpolated, seen=seen, trajectory=trajectory, axes="z-up")
    back = read_joints_json(path)
    assert np.abs(back.poses - (poses + trajectory[:, None])).max() <= 0.05 * MM + 1e-12   # rounded to 0.1 mm
    assert back.frames.tolist() == list(range(120, 170)) and back.fps == 29.97
    assert back.interpolated.tolist() == interpolated.tolist() and back.seen.tolist() == seen.tolist()
    assert back.joint_names == H36M_17.joint_names and back.parents == H36M_17.parents
    assert back.axes == "z-up" and back.trajectory_added is True
    doc = json.loads(path.read_text())
    assert doc["format"] == "relpose-joints" and doc["version"] == 1 and doc["units"] == "m"
    assert doc["axes"].startswith("z-up: ")
    assert set(doc["frames"][0]) == {"frame", "interpolated", "joints", "seen"}
    assert all(round(v, 4) == v for v in np.ravel(doc["frames"][7]["joints"]))


def test_joints_json_minimal_and_refusals(turning_walk, tmp_path):
    poses = turning_walk[:5] - turning_walk[:5, :1]
    path = write_joints_json(tmp_path / "m.json", poses, 25, H36M_17.joint_names)
    back = read_joints_json(path)
    assert back.seen is None and back.interpolated is None and not back.trajectory_added and back.axes == "camera"
    with pytest.raises(UserError, match="already exists"):
        write_joints_json(path, poses, 25, H36M_17.joint_names)
    with pytest.raises(UserError, match="parents: give the parent of each joint"):
        write_joints_json(tmp_path / "n.json", poses, 25, [f"j{i}" for i in range(17)])
    with pytest.raises(UserError, match=r"seen: expected \(5, 17\) booleans"):
        write_joints_json(tmp_path / "n.json", poses, 25, H36M_17.joint_names, seen=np.ones((5, 16), bool))


@pytest.mark.parametrize("edit, message", [
    (lambda d: d.update(format="other"), 'is not a relpose joints file'),
    (lambda d: d.update(version=2), "joints file of version 2; this relpose reads version 1: update relpose"),
    (lambda d: d["frames"][1].update(frame=7), r'"frames\[1\].frame" is 7, but frames must be consecutive'),
    (lambda d: d["frames"][2]["joints"].pop(), r'"frames\[2\].joints" must be 17 positions'),
    (lambda d: d["frames"][2]["joints"][0].__setitem__(1, "x"), r'"frames\[2\].joints" must be 17 positions'),
    (lambda d: d.update(parents=d["parents"][:3]), '"parents" must be 17 joint indices'),
    (lambda d: d.update(fps=-1), '"fps" must be a frame rate'),
    (lambda d: d["frames"][3].pop("interpolated"), r'"frames\[3\].interpolated" must be in every frame or in none'),
])
def test_joints_json_reader_names_what_is_wrong(turning_walk, tmp_path, edit, message):
    path = write_joints_json(tmp_path / "j.json", turning_walk[:4], 25, H36M_17.joint_names, axes="z-up",
                             interpolated=[False, True, False, False])
    doc = json.loads(path.read_text())
    edit(doc)
    path.write_text(json.dumps(doc))
    with pytest.raises(DataError, match=message):
        read_joints_json(path)


def test_joints_json_reader_refuses_broken_json(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{"format": "relpose-joints", ')
    with pytest.raises(DataError, match="is not valid JSON"):
        read_joints_json(path)


# ----------------------------------------------------------------------------- command line
def test_command_line_writes_bvh_and_json(turning_walk, tmp_path, capsys):
    poses = tmp_path / "walk.npy"
    np.save(poses, (turning_walk[:40] - turning_walk[:40, :1]).astype(np.float32))
    out, js = tmp_path / "walk.bvh", tmp_path / "walk.json"
    assert bvh_main([str(poses), str(out), "--fps", "30", "--json", str(js), "--axes", "z-up",
                     "--first-frame", "10"]) == 0
    printed = capsys.readouterr().out
    assert f"wrote {out}: 40 frames at 30 fps" in printed and f"wrote {js}: 40 frames" in printed
    assert max_mm(read_back(out), bvh.to_bvh_frame(turning_walk[:40] - turning_walk[:40, :1], "z-up")) < 1.0
    assert read_joints_json(js).frames[0] == 10
    assert bvh_main([str(poses), str(out)]) == 2                        # exists: refused, nothing assumed
    assert "already exists" in capsys.readouterr().err

    root = tmp_path / "root.npy"
    np.save(root, turning_walk[:40, 0])
    assert bvh_main([str(poses), str(out), "--trajectory", str(root), "--axes", "z-up", "--euler-order", "zxy",
                     "--overwrite"]) == 0
    assert "25 fps assumed (give the video's with --fps)" in capsys.readouterr().out
    assert max_mm(read_back(out), bvh.to_bvh_frame(turning_walk[:40], "z-up")) < 1.0
    text = out.read_text()
    assert text.count("CHANNELS 3 Zrotation Xrotation Yrotation") == 17 and "Zrotation Yrotation" not in text


def test_command_line_refuses_bad_arrays(tmp_path, capsys):
    wrong = tmp_path / "wrong.npy"
    np.save(wrong, np.zeros((10, 16, 3)))
    assert bvh_main([str(wrong), str(tmp_path / "o.bvh")]) == 2
    err = capsys.readouterr().err
    assert "holds a float64 array of shape (10, 16, 3); expected floats (frames, 17, 3)" in err and err.count("\n") == 1
    pickled = tmp_path / "pickled.npy"
    np.save(pickled, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    assert bvh_main([str(pickled), str(tmp_path / "o.bvh")]) == 2          # the header is read, the pickle never
    assert "holds a object array" in capsys.readouterr().err
    assert bvh_main([str(tmp_path / "missing.npy"), str(tmp_path / "o.bvh")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert not (tmp_path / "o.bvh").exists()
