"""Plausibility checks on poses whose answer is known by construction: hand-animated skeletons with fixed
bone lengths, bones scaled by known factors, feet moved at known speeds, knees bent by known angles."""
from dataclasses import replace

import numpy as np
import pytest

from relpose.errors import UserError
from relpose.skeleton import H36M_17, HUMANEVA_15
from relpose.wild.plausibility import (bone_length_variation, foot_sliding, forward_direction, joint_limits,
                                       left_right_asymmetry, mirrored_bone_pairs, plausibility_report,
                                       pseudo_trajectory)

J = {n: i for i, n in enumerate(H36M_17.joint_names)}
DOWN, FORWARD, LEFT = np.array([0.0, 1.0, 0.0]), np.array([0.0, 0.0, -1.0]), np.array([1.0, 0.0, 0.0])
THIGH, SHANK = 0.45, 0.42
FPS = 50


def leg(hip, swing, flexion):
    """Knee and ankle of a leg in the sagittal plane: the thigh swung forward by `swing` (rad) from
    hanging down, the shank turned back from the thigh's line by `flexion` (a normal knee bend > 0)."""
    d1 = np.cos(swing)[:, None] * DOWN + np.sin(swing)[:, None] * FORWARD
    d2 = np.cos(swing - flexion)[:, None] * DOWN + np.sin(swing - flexion)[:, None] * FORWARD
    knee = hip + THIGH * d1
    return knee, knee + SHANK * d2


def person(T=100, swing_l=0.0, swing_r=0.0, flex_l=0.0, flex_r=0.0):
    """H36M-17 poses (T, 17, 3), camera space, root-relative, facing the camera (forward = -z, up = -y,
    the person's left = +x). Angles are scalars or (T,) arrays; bone lengths never change."""
    T_ = np.ones(T)
    P = np.zeros((T, 17, 3))
    up = -DOWN
    fixed = {"RHip": -0.12 * LEFT, "LHip": 0.12 * LEFT, "Spine": 0.22 * up, "Thorax": 0.48 * up,
             "Nose": 0.58 * up + 0.08 * FORWARD, "Head": 0.72 * up,
             "LShoulder": 0.45 * up + 0.17 * LEFT, "RShoulder": 0.45 * up - 0.17 * LEFT}
    for name, p in fixed.items():
        P[:, J[name]] = p
    for side in "LR":
        P[:, J[side + "Elbow"]] = P[:, J[side + "Shoulder"]] + 0.28 * DOWN
        P[:, J[side + "Wrist"]] = P[:, J[side + "Elbow"]] + 0.25 * DOWN
    for side, swing, flex in (("L", swing_l, flex_l), ("R", swing_r, flex_r)):
        P[:, J[side + "Knee"]], P[:, J[side + "Foot"]] = leg(P[:, J[side + "Hip"]], swing * T_, flex * T_)
    return P


def walking(T=100):
    t = np.arange(T) / FPS
    s = 0.4 * np.sin(2 * np.pi * t)
    return person(T, swing_l=s, swing_r=-s, flex_l=0.6 + 0.5 * s, flex_r=0.6 - 0.5 * s)


def rotate_yaw(P, angle):
    """Turn poses about the vertical (camera y) axis: a person facing elsewhere."""
    c, s = np.cos(angle), np.sin(angle)
    R = np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])
    return P @ R.T


def subtree(skeleton, j):
    kids = skeleton.children()
    out, stack = [], [j]
    while stack:
        k = stack.pop()
        out.append(k)
        stack += kids[k]
    return out


def scale_bone(P, skeleton, child, factors):
    """Scale the bone ending at `child` by factors (T,), carrying the joints below it along."""
    P = P.copy()
    bone = P[:, child] - P[:, skeleton.parents[child]]
    P[:, subtree(skeleton, child)] += ((np.asarray(factors) - 1)[:, None] * bone)[:, None]
    return P


# ------------------------------------------------------------------- bone lengths and symmetry
def test_rigid_animation_has_no_bone_variation_and_no_asymmetry():
    P = rotate_yaw(walking(), 0.7)
    bv = bone_length_variation(P, H36M_17)
    assert np.all(bv.cv < 1e-12) and bv.max_pct < 1e-10
    asym = left_right_asymmetry(P, H36M_17)
    assert np.all(asym.value < 1e-12)   # the legs move differently, but their bones are as long


def test_scaled_bone_gives_the_known_variation_and_asymmetry():
    T = 120
    s = 1 + 0.1 * np.sin(np.linspace(0, 6, T))      # the left thigh stretches between 0.9 and 1.1
    P = scale_bone(walking(T), H36M_17, J["LKnee"], s)
    bv = bone_length_variation(P, H36M_17)
    i = bv.bones.index("LHip-LKnee")
    assert bv.cv[i] == pytest.approx(s.std() / s.mean(), rel=1e-6)
    assert np.delete(bv.cv, i).max() < 1e-12        # the shank moved along, its length did not change
    assert bv.max_pct == pytest.approx(100 * s.std() / s.mean(), rel=1e-6) and bv.median_pct < 1e-10
    assert bv.worst == "LHip-LKnee"
    asym = left_right_asymmetry(P, H36M_17)
    k = asym.pairs.index(("LHip-LKnee", "RHip-RKnee"))
    assert asym.value[k] == pytest.approx(np.mean(np.abs(s - 1) / ((s + 1) / 2)), rel=1e-6)
    assert asym.mean_pct == pytest.approx(100 * asym.value[k] / len(asym.pairs), rel=1e-6)


def test_constant_scale_asymmetry():
    P = scale_bone(person(10), H36M_17, J["RElbow"], np.full(10, 1.2))   # right upper arm 20% longer
    asym = left_right_asymmetry(P, H36M_17)
    assert asym.worst == ("LShoulder-LElbow", "RShoulder-RElbow")
    assert asym.max_pct == pytest.approx(100 * 0.2 / 1.1, rel=1e-6)


@pytest.mark.parametrize("skeleton", [H36M_17, HUMANEVA_15], ids=lambda s: s.name)
def test_mirrored_pairs_are_named_mirrors(skeleton):
    bones, names = skeleton.bones(), skeleton.joint_names
    pairs = mirrored_bone_pairs(skeleton)
    assert len(pairs) == 6   # hip, thigh, shank, shoulder, upper arm, forearm
    for li, ri in pairs:
        (lc, lp), (rc, rp) = bones[li], bones[ri]
        assert names[lc].startswith("L") and names[rc] == "R" + names[lc][1:]
        assert names[rp] == names[lp] or names[rp] == "R" + names[lp][1:]


# --------------------------------------------------------------------------------- foot sliding
def test_a_planted_foot_moving_at_a_known_speed():
    T, v = 100, 0.3   # m/s along x (horizontal: up is -y)
    P = person(T, swing_l=0.5, flex_l=1.0)                 # left foot lifted, right leg straight
    positions = P + np.stack([v * np.arange(T) / FPS, np.zeros(T), np.full(T, 4.0)], -1)[:, None]
    fs = foot_sliding(positions, H36M_17, FPS)
    assert not fs.planted[:, 0].any() and fs.planted[:, 1].all()
    assert fs.sliding_cm_s == pytest.approx(100 * v, rel=1e-9)
    assert fs.planted_pct == pytest.approx(100)


def test_a_static_foot_does_not_slide_while_the_other_swings():
    T = 100
    swing = 0.5 * np.sin(np.linspace(0, 4 * np.pi, T))
    fs = foot_sliding(person(T, swing_l=swing), H36M_17, FPS)
    assert fs.planted[:, 1].all() and fs.sliding_cm_s == pytest.approx(0, abs=1e-9)


def test_vertical_motion_is_not_sliding():
    T = 100
    P = person(T)
    P[:, J["RFoot"], 1] += 0.02 * np.sin(np.linspace(0, 8 * np.pi, T))   # bobbing inside contact height
    P[:, J["LFoot"], 0] += np.linspace(0, 1, T)                         # the other foot faster
    fs = foot_sliding(P, H36M_17, FPS)
    assert fs.planted[:, 1].all() and fs.sliding_cm_s == pytest.approx(0, abs=1e-9)


def test_a_slower_foot_above_contact_height_is_not_planted():
    T = 60
    P = person(T)
    P[:, J["LFoot"], 1] -= 0.1                                # left foot held 10 cm up, still
    P[:, J["RFoot"], 0] += 0.5 * np.arange(T) / FPS           # right on the floor, moving
    fs = foot_sliding(P, H36M_17, FPS, contact_height=0.05)
    assert not fs.planted.any() and np.isnan(fs.sliding_cm_s) and fs.planted_pct == 0
    assert foot_sliding(P, H36M_17, FPS, contact_height=0.15).planted[:, 0].all()


def test_the_floor_is_local_to_a_window():
    T, jump = 200, 100
    P = person(T)
    P[jump:] -= 0.3 * DOWN     # steps up onto a 30 cm platform and stays
    fs = foot_sliding(P, H36M_17, FPS)
    w = FPS // 2
    # on the platform: planted once the window no longer reaches back to the lower floor
    assert fs.planted[jump + w + 1:].all() and fs.planted[:jump - 1].all()
    assert not fs.planted[jump + 1:jump + w - 1].any()


def test_humaneva_ankles_and_a_skeleton_without_feet():
    P = np.zeros((5, 15, 3))
    P[:, [10, 13], 1] = 0.9
    assert foot_sliding(P, HUMANEVA_15, FPS).planted.all()
    no_feet = replace(H36M_17, joint_names=tuple(n.replace("Foot", "Toe") for n in H36M_17.joint_names))
    with pytest.raises(UserError, match="no feet"):
        foot_sliding(person(5), no_feet, FPS)
    with pytest.raises(UserError, match="no joint names"):
        foot_sliding(person(5), replace(H36M_17, joint_names=()), FPS)


# --------------------------------------------------------------------------- pseudo-trajectory
def pinhole(X, f, width, height):
    return f * X[..., :2] / X[..., 2:] + np.array([width / 2, height / 2])


@pytest.mark.parametrize("focal", [None, 1500.0])
@pytest.mark.parametrize("yaw", [0.0, 0.5])
def test_pseudo_trajectory_recovers_the_root(focal, yaw):
    T, width, height = 100, 1000, 800
    f = width if focal is None else focal
    t = np.arange(T) / FPS
    root = np.stack([0.4 * np.sin(t), -0.1 + 0.05 * t, 4.0 + t], -1)   # walks away from 4 to 6 m
    P = rotate_yaw(walking(T), yaw)
    kp = pinhole(P + root[:, None], f, width, height)
    est = pseudo_trajectory(P, kp, width, height, focal=focal)
    np.testing.assert_allclose(est[:, 2], root[:, 2], rtol=0.01)
    # x, y: within 1% of the depth (x crosses 0, so a relative error of x itself says little)
    assert np.all(np.abs(est[:, :2] - root[:, :2]) < 0.01 * root[:, 2:])
    # weak perspective: exact for a person flat in the image plane...
    flat = person(T)
    weak = pseudo_trajectory(flat, pinhole(flat + root[:, None], f, width, height), width, height, focal=focal,
                             method="weak")
    np.testing.assert_allclose(weak, root, rtol=1e-9, atol=1e-9)
    # ...but a leg swinging towards the camera looks bigger, so the walk's depth comes out a few % off
    weak = pseudo_trajectory(P, kp, width, height, focal=focal, method="weak")
    assert 0.005 < np.abs(weak[:, 2] / root[:, 2] - 1).max() < 0.05


def test_pseudo_trajectory_weights_by_confidence_and_skips_missing_joints():
    T, width = 10, 1000
    P = walking(T)
    root = np.array([0.3, 0.1, 5.0])
    kp = pinhole(P + root, width, width, width)
    conf = np.ones((T, 17, 1))
    kp[:, J["LWrist"]] += 80.0          # a wrong detection...
    conf[:, J["LWrist"]] = 0.0          # ...that the detector was not sure of
    kp[:, J["Head"]] = np.nan           # and a missing one
    est = pseudo_trajectory(P, np.concatenate([kp, conf], -1), width, width)
    np.testing.assert_allclose(est, np.tile(root, (T, 1)), rtol=1e-9)


def test_report_foot_sliding_from_2d_of_a_walk_in_place():
    """The feet of a rigid pose standing still at 5 m, seen by a pinhole camera: ~no sliding."""
    T, width, height = 100, 1000, 1000
    P = person(T, swing_l=0.4 * np.sin(np.linspace(0, 4 * np.pi, T)), flex_l=0.8)
    kp = pinhole(P + [0.2, 0.0, 5.0], width, width, height)
    report = plausibility_report(P, H36M_17, FPS, keypoints_2d=kp, width=width, height=height)
    np.testing.assert_allclose(report.trajectory[:, 2], 5.0, rtol=0.01)
    assert report.foot_sliding.planted[:, 1].all() and report.foot_sliding.sliding_cm_s < 1.0


# --------------------------------------------------------------------------------- joint angles
def test_forward_direction_of_a_person_facing_the_camera():
    np.testing.assert_allclose(forward_direction(person(3), H36M_17), np.tile(FORWARD, (3, 1)), atol=1e-12)


@pytest.mark.parametrize("yaw", [0.0, 1.2, np.pi])
@pytest.mark.parametrize("swing", [0.0, np.pi / 2])   # standing, and sitting (thigh forward)
def test_knee_angles_and_limits(yaw, swing):
    flex = np.radians([0.0, 60.0, -20.0, 170.0, 5.0, -5.0])   # straight, normal, backwards, folded, small both ways
    P = rotate_yaw(person(len(flex), swing_l=swing, flex_l=flex), yaw)
    jl = joint_limits(P, H36M_17)
    k = jl.joints.index("LKnee")
    np.testing.assert_allclose(jl.flexion_deg[:, k], np.abs(np.degrees(flex)), atol=1e-9)
    np.testing.assert_allclose(jl.signed_knee_deg["LKnee"], np.degrees(flex), atol=1e-9)
    np.testing.assert_array_equal(jl.outside[:, k], [False, False, True, True, False, False])
    np.testing.assert_array_equal(jl.signed_knee_deg["RKnee"], 0.0 * flex)    # the right leg stays straight
    assert jl.frames_outside_pct == pytest.approx(100 * 2 / 6)
    assert jl.share_by_joint() == [("LKnee", pytest.approx(100 * 2 / 6))]


def test_elbow_fold_is_flagged():
    P = person(4)
    angle = np.radians([0, 90, 160, 170])
    # the forearm turned by `angle` from the upper arm's line, towards the front
    d = np.cos(angle)[:, None] * DOWN + np.sin(angle)[:, None] * FORWARD
    P[:, J["RWrist"]] = P[:, J["RElbow"]] + 0.25 * d
    jl = joint_limits(P, H36M_17)
    k = jl.joints.index("RElbow")
    np.testing.assert_allclose(jl.flexion_deg[:, k], np.degrees(angle), atol=1e-9)
    np.testing.assert_array_equal(jl.outside[:, k], [False, False, False, True])


# ---------------------------------------------------------------------------------------- report
def test_report_without_2d_says_why_and_prints():
    P = scale_bone(walking(50), H36M_17, J["RFoot"], np.linspace(0.95, 1.05, 50))
    r = plausibility_report(P, H36M_17, FPS)
    assert r.foot_sliding is None and "2D keypoints" in r.foot_sliding_note
    rows = r.rows()
    assert all(len(row) == 4 for row in rows) and rows[0][2] == "%"
    assert dict((m, v) for m, v, _, _ in rows)["foot sliding while planted"] is None
    table = r.table()
    assert "what it means" in table and "n/a" in table and "RKnee-RFoot" in table
    line = r.summary()
    assert line.startswith("plausibility: bone length varies 0.0% (median, max ") and "\n" not in line
    assert "foot sliding n/a" in line and "0.0% of frames with a joint outside human limits" in line
    r2 = plausibility_report(P, H36M_17, FPS, keypoints_2d=np.zeros((50, 17, 2)))
    assert r2.foot_sliding is None and "width and height" in r2.foot_sliding_note


def test_report_names_the_joint_outside_limits():
    P = person(10, flex_r=np.radians(np.r_[np.zeros(9), -30.0]))
    line = plausibility_report(P, H36M_17, FPS).summary(yardsticks=None)   # the check's own words
    assert line.endswith("10.0% of frames with a joint outside human limits (RKnee)")


def test_bad_shapes_are_user_errors():
    with pytest.raises(UserError, match="shape"):
        bone_length_variation(np.zeros((5, 15, 3)), H36M_17)
    with pytest.raises(UserError, match="keypoints_2d"):
        pseudo_trajectory(person(5), np.zeros((5, 16, 2)), 100, 100)


# ------------------------------------------------------------------------ the kit's synthetic data
def synthetic_take(action, frames=150):
    from relpose.skeleton import reduce_h36m_32_to_17
    from relpose.synth import make_body, make_motion, pose_from_motion
    body = make_body("S1", 0)
    world = reduce_h36m_32_to_17(pose_from_motion(body, make_motion(np.random.default_rng(0), body, action, frames)))
    # world (x, y, z up) -> a level camera looking along world +y from 6 m: x right, y down, z forward
    return np.stack([world[..., 0], -world[..., 2], world[..., 1] + 6.0], -1)


@pytest.mark.parametrize("action", ["Walking", "Waiting"])
def test_synthetic_takes_are_plausible(action):
    from relpose.synth import FPS as SYNTH_FPS
    cam = synthetic_take(action)
    poses = cam - cam[:, :1]
    width = 1000
    r = plausibility_report(poses, H36M_17, SYNTH_FPS, keypoints_2d=pinhole(cam, width, width, width), width=width,
                            height=width)
    assert r.bone_variation.median_pct < 0.01 and r.asymmetry.max_pct < 1e-6   # one body: both sides equal
    assert r.joint_limits.frames_outside_pct == 0
    for knee in ("LKnee", "RKnee"):   # the generator bends knees forward: never negative
        assert r.joint_limits.signed_knee_deg[knee].min() > -1.0
    np.testing.assert_allclose(r.trajectory, cam[:, 0], rtol=1e-6)   # exact 2D: the root is found exactly
    assert r.foot_sliding.planted_pct > 90   # someone walking or standing always has a foot down
    true = foot_sliding(cam, H36M_17, SYNTH_FPS)
    assert r.foot_sliding.sliding_cm_s == pytest.approx(true.sliding_cm_s, abs=1e-6)
    # standing, the feet stay put; walking, the ankle joint moves a little as the heel rolls off
    assert r.foot_sliding.sliding_cm_s < (6.0 if action == "Walking" else 0.1)
