"""Keypoint layouts as data (relpose.keypoint_layouts): published orders, symmetry, and the conversion
to Human3.6M-17 checked on known points."""
import numpy as np
import pytest

from relpose.errors import DataError, UserError
from relpose.keypoint_layouts import LAYOUTS, get_layout
from relpose.skeleton import H36M_17, H36M_17_JOINT_NAMES, HUMANEVA_15

CONVERTIBLE = [n for n, l in LAYOUTS.items() if l.h36m_from is not None]
H = {n: i for i, n in enumerate(H36M_17_JOINT_NAMES)}


def test_registered_layouts_and_their_published_sizes_and_symmetries():
    sizes = {n: l.num_joints for n, l in LAYOUTS.items()}
    assert sizes == {"h36m-17": 17, "humaneva-15": 15, "coco-17": 17, "halpe-26": 26, "openpose-25": 25,
                     "blazepose-33": 33}
    # The left/right lists VideoPose3D uses for flip augmentation, derived here from the names.
    assert LAYOUTS["coco-17"].symmetry == ((1, 3, 5, 7, 9, 11, 13, 15), (2, 4, 6, 8, 10, 12, 14, 16))
    assert LAYOUTS["h36m-17"].symmetry == (H36M_17.joints_left, H36M_17.joints_right)
    assert LAYOUTS["humaneva-15"].symmetry == (HUMANEVA_15.joints_left, HUMANEVA_15.joints_right)
    # Spot checks of each published order.
    assert LAYOUTS["openpose-25"].index("mid_hip") == 8 and LAYOUTS["openpose-25"].index("right_heel") == 24
    assert LAYOUTS["halpe-26"].index("head") == 17 and LAYOUTS["halpe-26"].index("right_heel") == 25
    assert LAYOUTS["blazepose-33"].index("left_hip") == 23 and LAYOUTS["blazepose-33"].index("mouth_right") == 10
    for layout in LAYOUTS.values():
        left, right = layout.symmetry
        assert len(set(left) | set(right)) == 2 * len(left)
        for a, b in layout.bone_indices():
            assert 0 <= a < layout.num_joints and 0 <= b < layout.num_joints


@pytest.mark.parametrize("name", [n for n in CONVERTIBLE if n != "h36m-17"])   # h36m-17: the identity, below
def test_conversion_on_known_points(name):
    layout = LAYOUTS[name]
    rng = np.random.default_rng(0)
    p = rng.uniform(0, 1000, size=(3, layout.num_joints, 2))
    at = lambda n: p[:, layout.index(n)]
    out = layout.to_h36m17(p)
    assert out.shape == (3, 17, 2) and out.dtype == np.float32
    pelvis = (at("left_hip") + at("right_hip")) / 2
    thorax = (at("left_shoulder") + at("right_shoulder")) / 2
    np.testing.assert_allclose(out[:, H["Hip"]], pelvis, rtol=1e-6)
    np.testing.assert_allclose(out[:, H["Thorax"]], thorax, rtol=1e-6)
    np.testing.assert_allclose(out[:, H["Spine"]], (pelvis + thorax) / 2, rtol=1e-6)
    np.testing.assert_allclose(out[:, H["Nose"]], at("nose"), rtol=1e-6)
    head = at("head") if "head" in layout.joint_names else (at("left_eye") + at("right_eye")) / 2
    np.testing.assert_allclose(out[:, H["Head"]], head, rtol=1e-6)
    # Limbs joint for joint, the person's left to Human3.6M's L joints.
    for h36m, src in (("LHip", "left_hip"), ("RKnee", "right_knee"), ("LFoot", "left_ankle"),
                      ("RFoot", "right_ankle"), ("LShoulder", "left_shoulder"), ("RElbow", "right_elbow"),
                      ("LWrist", "left_wrist"), ("RWrist", "right_wrist")):
        np.testing.assert_allclose(out[:, H[h36m]], at(src), rtol=1e-6)


@pytest.mark.parametrize("name", CONVERTIBLE)
def test_conversion_commutes_with_mirroring(name):
    # Mirror the image (x -> -x, left <-> right) before or after converting: the same poses.
    layout = LAYOUTS[name]
    p = np.random.default_rng(1).normal(size=(5, layout.num_joints, 3))   # works for (x, y, score) too

    def mirror(points, left, right):
        m = points.copy()
        m[..., 0] *= -1
        m[..., list(left) + list(right), :] = m[..., list(right) + list(left), :]
        return m
    np.testing.assert_allclose(layout.to_h36m17(mirror(p, *layout.symmetry)),
                               mirror(layout.to_h36m17(p), H36M_17.joints_left, H36M_17.joints_right), atol=1e-6)


def test_identity_scores_and_errors():
    p = np.random.default_rng(2).normal(size=(4, 17, 2)).astype(np.float32)
    np.testing.assert_array_equal(get_layout("h36m-17").to_h36m17(p), p)
    coco = get_layout("coco-17")
    scores = np.linspace(0.1, 0.9, 17)
    s = coco.scores_to_h36m17(scores)
    assert s.shape == (17,)
    assert s[H["Hip"]] == min(scores[11], scores[12]) and s[H["LWrist"]] == scores[9]
    assert s[H["Spine"]] == min(scores[[5, 6, 11, 12]])
    with pytest.raises(DataError, match=r"coco-17 keypoints have 17 joints, got an array of shape \(4, 25, 2\)"):
        coco.to_h36m17(np.zeros((4, 25, 2)))
    with pytest.raises(UserError, match="humaneva-15 layout has no conversion"):
        get_layout("humaneva-15").to_h36m17(np.zeros((1, 15, 2)))
    with pytest.raises(UserError, match="unknown keypoint layout 'yolo' \\(known: h36m-17, humaneva-15, coco-17"):
        get_layout("yolo")
    assert get_layout("coco") is get_layout("coco-17") and get_layout("h36m").name == "h36m-17"   # VideoPose3D's names
