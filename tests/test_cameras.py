"""relpose.cameras: transforms, projection, screen normalisation, calibration rigs."""
import numpy as np
import pytest
import torch
from scipy.spatial.transform import Rotation

from relpose.cameras import (camera_to_world, frame_rate, image_coordinates, load_rig, normalize_screen_coordinates,
                             project_to_2d, project_to_2d_linear, qinverse, qrot, world_to_camera)
from relpose.errors import DataError

RNG = np.random.default_rng(0)


def random_quaternions(n):
    q = RNG.normal(size=(n, 4))
    return q / np.linalg.norm(q, axis=-1, keepdims=True)


def quat_to_matrix(q):
    """The rotation matrix of a w x y z quaternion (SciPy's)."""
    return Rotation.from_quat(np.asarray(q, dtype=np.float64), scalar_first=True).as_matrix()


def test_qrot_matches_rotation_matrices():
    q = random_quaternions(50)
    v = RNG.normal(size=(50, 3))
    expected = np.stack([quat_to_matrix(qi) @ vi for qi, vi in zip(q, v)])
    np.testing.assert_allclose(qrot(q, v), expected, atol=1e-12)
    # qinverse undoes the rotation
    np.testing.assert_allclose(qrot(qinverse(q), qrot(q, v)), v, atol=1e-12)


def test_qrot_broadcasts_one_quaternion_over_joints():
    q = random_quaternions(1)[0]
    v = RNG.normal(size=(7, 17, 3))
    np.testing.assert_allclose(qrot(np.broadcast_to(q, (7, 17, 4)), v), v @ quat_to_matrix(q).T, atol=1e-12)


def test_world_camera_round_trip_and_definition():
    cam = load_rig("h36m")["S9"][2]
    X = (RNG.normal(size=(10, 17, 3)) * 0.5).astype(np.float32)
    Xc = world_to_camera(X, cam["orientation"], cam["translation"])
    assert Xc.dtype == np.float32 and Xc.shape == X.shape
    R = quat_to_matrix(cam["orientation"].astype(np.float64))
    np.testing.assert_allclose(Xc, (X - cam["translation"]) @ R, atol=1e-5)  # R^T (X - t), row vectors
    np.testing.assert_allclose(camera_to_world(Xc, cam["orientation"], cam["translation"]), X, atol=1e-5)
    # The subject near the world origin is in front of every camera, a few metres away.
    for c in load_rig("h36m")["S1"]:
        depth = world_to_camera(np.zeros((1, 3), np.float32), c["orientation"], c["translation"])[0, 2]
        assert 3 < depth < 8


def test_projection_of_optical_axis_is_principal_point():
    cam = load_rig("h36m")["S1"][0]
    X = np.array([[[0.0, 0.0, 4.0], [0.0, 0.0, 9.0]]], dtype=np.float32)
    got = project_to_2d(X, cam["intrinsic"][None])
    np.testing.assert_allclose(got[0], np.stack([cam["intrinsic"][2:4]] * 2), atol=1e-7)


def test_zero_distortion_equals_linear_pinhole():
    intr = load_rig("h36m")["S5"][1]["intrinsic"].copy()
    X = (RNG.normal(size=(6, 17, 3)) * 0.4 + [0, 0, 5]).astype(np.float32)
    intr[4:] = 0
    params = np.broadcast_to(intr, (6, 9))
    linear = project_to_2d_linear(X, params)
    np.testing.assert_allclose(project_to_2d(X, params), linear, atol=1e-6)
    np.testing.assert_allclose(linear, intr[:2] * X[..., :2] / X[..., 2:] + intr[2:4], atol=1e-6)
    # with the real coefficients the lens model moves points off the axis
    full = project_to_2d(X, np.broadcast_to(load_rig("h36m")["S5"][1]["intrinsic"], (6, 9)))
    assert np.abs(full - linear).max() > 1e-4


def test_numpy_and_torch_agree():
    cam = load_rig("h36m")["S11"][3]
    X = (RNG.normal(size=(4, 17, 3)) * 0.4 + [0, 0, 5]).astype(np.float32)
    q = random_quaternions(4).astype(np.float32)
    v = X[:, 0]
    Xt = torch.from_numpy(X)
    pairs = [
        (qrot(q, v), qrot(torch.from_numpy(q), torch.from_numpy(v))),
        (world_to_camera(X, cam["orientation"], cam["translation"]),
         world_to_camera(Xt, torch.from_numpy(cam["orientation"]), torch.from_numpy(cam["translation"]))),
        (camera_to_world(X, cam["orientation"], cam["translation"]),
         camera_to_world(Xt, cam["orientation"], cam["translation"])),
        (project_to_2d(X, np.broadcast_to(cam["intrinsic"], (4, 9))),
         project_to_2d(Xt, torch.from_numpy(cam["intrinsic"]).expand(4, 9))),
        (project_to_2d_linear(X, np.broadcast_to(cam["intrinsic"], (4, 9))),
         project_to_2d_linear(Xt, torch.from_numpy(cam["intrinsic"]).expand(4, 9))),
        (normalize_screen_coordinates(X[..., :2] * 100, 1000, 1002),
         normalize_screen_coordinates(Xt[..., :2] * 100, 1000, 1002)),
    ]
    for a, b in pairs:
        assert isinstance(b, torch.Tensor) and b.dtype == torch.float32
        np.testing.assert_allclose(a, b.numpy(), atol=1e-5)


@pytest.mark.parametrize("w,h", [(1000, 1002), (1000, 1000), (640, 480)])
def test_screen_normalisation_values_and_round_trip(w, h):
    corners = np.array([[w / 2, h / 2], [0, 0], [w, h], [w, 0]], dtype=np.float64)
    # x spans [-1, 1]; y keeps the aspect ratio, so the image centre maps to the origin.
    np.testing.assert_allclose(normalize_screen_coordinates(corners, w, h),
                               [[0, 0], [-1, -h / w], [1, h / w], [1, -h / w]], atol=1e-12)
    px = RNG.uniform(0, w, size=(5, 17, 2))
    np.testing.assert_allclose(image_coordinates(normalize_screen_coordinates(px, w, h), w, h), px, atol=1e-9)
    with pytest.raises(ValueError):
        normalize_screen_coordinates(np.zeros((3, 3)), w, h)


def test_h36m_normalised_intrinsics_of_camera_54138969():
    cam = load_rig("h36m")["S1"][0]
    assert cam["id"] == "54138969" and (cam["res_w"], cam["res_h"]) == (1000, 1002)
    intr = cam["intrinsic"]
    assert intr.shape == (9,) and intr.dtype == np.float32
    np.testing.assert_allclose(intr[:2], [1145.0494 / 1000 * 2, 1143.7811 / 1000 * 2], atol=1e-5)
    np.testing.assert_allclose(intr[:2], [2.2901, 2.2876], atol=1e-4)
    np.testing.assert_allclose(intr[2:4], [512.5415 / 1000 * 2 - 1, 515.4515 / 1000 * 2 - 1002 / 1000], atol=1e-5)
    np.testing.assert_allclose(intr[2:4], [0.0251, 0.0289], atol=1e-4)
    np.testing.assert_allclose(intr[4:7], [-0.20709892, 0.24777518, -0.00307515], atol=1e-7)


def test_rig_subjects_and_units():
    h36m = load_rig("h36m")
    assert list(h36m) == ["S1", "S5", "S6", "S7", "S8", "S9", "S11"]  # S2-S4 have no calibration
    assert all(len(cams) == 4 for cams in h36m.values())
    assert [c["id"] for c in h36m["S1"]] == ["54138969", "55011271", "58860488", "60457274"]
    # S1, camera 54138969 sits at (1841.1, 4955.3, 1563.4) mm in the calibration file.
    np.testing.assert_allclose(h36m["S1"][0]["translation"], [1.8411071, 4.9552846, 1.5634454], atol=1e-6)
    for cams in h36m.values():
        for c in cams:
            assert 2 < np.linalg.norm(c["translation"]) < 8  # metres, not millimetres
            assert np.isclose(np.linalg.norm(c["orientation"]), 1, atol=1e-5)
    humaneva = load_rig("humaneva")
    assert list(humaneva) == ["S1", "S2", "S3"] and all(len(c) == 3 for c in humaneva.values())
    assert all("intrinsic" not in c and (c["res_w"], c["res_h"]) == (640, 480) for c in humaneva["S2"])
    np.testing.assert_allclose(humaneva["S1"][0]["translation"], [4.062227, 0.6632477, 1.528397], atol=1e-6)
    assert frame_rate("h36m") == 50 and frame_rate("humaneva") == 60


def test_load_rig_returns_independent_copies():
    a = load_rig("h36m")
    a["S1"][0]["translation"][:] = 0
    assert np.linalg.norm(load_rig("h36m")["S1"][0]["translation"]) > 1


def test_unknown_rig_is_a_data_error():
    for name in ("mpii", "synth", "humaneva15"):  # rig names only: a data set's rig comes from its registration
        with pytest.raises(DataError, match=f"no camera rig '{name}' \\(known: h36m, humaneva\\)"):
            load_rig(name)
        with pytest.raises(DataError, match="no camera rig"):
            frame_rate(name)
