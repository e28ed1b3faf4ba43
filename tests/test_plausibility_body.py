"""The body-size checks of relpose.wild.plausibility (height and proportions against adult and child ranges,
relpose.wild.anthropometry): the synthetic bodies and the DeepMimic humanoid pass, bodies scaled or stretched
by known factors fail with a message that says why."""
from dataclasses import replace

import numpy as np
import pytest

from relpose.errors import UserError
from relpose.skeleton import H36M_17, HUMANEVA_15, reduce_h36m_32_to_17
from relpose.synth import SUBJECTS, make_body, make_motion, pose_from_motion
from relpose.wild.anthropometry import ADULT_RANGES, body_height, proportions
from relpose.wild.plausibility import body_size, plausibility_report

J = {n: i for i, n in enumerate(H36M_17.joint_names)}


def synthetic(subject="S1", action="Walking", frames=60):
    """Root-relative camera-space poses (T, 17, 3) of a synthetic take (a level camera looking along world +y)."""
    body = make_body(subject, 0)
    world = reduce_h36m_32_to_17(pose_from_motion(body, make_motion(np.random.default_rng(0), body, action, frames)))
    cam = np.stack([world[..., 0], -world[..., 2], world[..., 1]], -1)
    return cam - cam[:, :1], body


@pytest.mark.parametrize("subject", SUBJECTS)
def test_ground_truth_bodies_pass_and_their_height_is_measured(subject):
    poses, body = synthetic(subject, "SittingDown")     # sitting too: the height comes from bone lengths
    size = body_size(poses, H36M_17)
    assert size.height_m == pytest.approx(body.height, rel=0.015)   # measured: within 1.2%
    assert size.plausible and size.height_verdict() == "" and size.proportion_verdicts() == {}
    assert size.summary() == f"height {size.height_m:.2f} m"


def test_the_deepmimic_humanoid_passes():
    pybullet = pytest.importorskip("pybullet")  # noqa: F841
    from relpose.mocap import mocap_takes
    walk = mocap_takes()["walk"]
    size = body_size(walk - walk[:, :1], H36M_17)
    assert size.height_m == pytest.approx(1.60, abs=0.02) and size.plausible


def test_a_body_scaled_by_0_6_is_below_the_adult_range_and_says_why():
    poses, body = synthetic()
    r = plausibility_report(0.6 * poses, H36M_17, 50)
    height = 0.6 * body_height(poses, H36M_17)
    assert r.body.height_m == pytest.approx(height, rel=1e-9)
    expected = f"height {height:.2f} m: below the adult range 1.45-2.00 m (a child, or the person's size was misread)"
    assert expected in r.summary(yardsticks=None)
    assert r.body.proportion_verdicts() == {}              # the proportions of a scaled body do not change
    row = dict((m, (v, what)) for m, v, _, what in r.rows())["height"]
    assert row[0] == pytest.approx(100 * height) and row[1].endswith("; " + expected.split(": ", 1)[1])


def test_giants_and_dolls():
    poses, _ = synthetic()
    assert "above the adult range 1.45-2.00 m (the person's size was misread" in body_size(1.4 * poses, H36M_17).summary()
    assert "below the adult range 1.45-2.00 m and a child's 0.70 m" in body_size(0.3 * poses, H36M_17).height_verdict()


def test_proportions_outside_the_adult_range_are_named():
    poses, _ = synthetic()
    wide = poses.copy()
    across = poses[:, J["LHip"]] - poses[:, J["RHip"]]
    across /= np.linalg.norm(across, axis=-1, keepdims=True)
    for side, sign in (("L", 1), ("R", -1)):   # each hip pushed 10 cm further out, its leg with it
        for j in (side + "Hip", side + "Knee", side + "Foot"):
            wide[:, J[j]] += sign * 0.10 * across
    size = body_size(wide, H36M_17)
    ratio = size.ratios["hip width"]
    assert ratio > ADULT_RANGES["hip width"][1]
    assert size.proportion_verdicts() == {"hip width": "above the adult range 8-19%"}
    assert f"; hip width {100 * ratio:.0f}% of height above the adult range 8-19%" in size.summary()
    rows = {m: what for m, _, _, what in plausibility_report(wide, H36M_17, 50).rows()}
    assert rows["hip width / height"].endswith(": above the adult range 8-19%")
    assert rows["leg length / height"] == "adults 42-56%, children 36-52%"


def test_short_legs_are_in_a_childs_range():
    poses, _ = synthetic()
    short = poses.copy()
    for side in "LR":                      # thighs and shanks at 60% of their length
        hip, knee, foot = J[side + "Hip"], J[side + "Knee"], J[side + "Foot"]
        short[:, knee] = poses[:, hip] + 0.6 * (poses[:, knee] - poses[:, hip])
        short[:, foot] = short[:, knee] + 0.6 * (poses[:, foot] - poses[:, knee])
    verdict = body_size(short, H36M_17).proportion_verdicts()["leg length"]
    assert verdict == "below the adult range 42-56% (a child's)"


def test_proportions_are_ratios_of_the_named_lengths():
    poses, _ = synthetic()
    ratios, height = proportions(poses, H36M_17), body_height(poses, H36M_17)
    hips = np.linalg.norm(poses[:, J["LHip"]] - poses[:, J["RHip"]], axis=-1)
    assert ratios["hip width"] == pytest.approx(np.median(hips) / height, rel=1e-9)
    assert set(ratios) == set(ADULT_RANGES)


def test_humaneva_bodies_and_skeletons_without_names():
    poses, _ = synthetic()
    he = np.zeros((len(poses), 15, 3))
    for i, name in enumerate(HUMANEVA_15.joint_names):   # the same body in HumanEva-15's joints (no spine)
        he[:, i] = poses[:, J[{"Pelvis": "Hip", "LAnkle": "LFoot", "RAnkle": "RFoot"}.get(name, name)]]
    assert body_size(he, HUMANEVA_15).height_m == pytest.approx(body_size(poses, H36M_17).height_m, rel=0.05)
    with pytest.raises(UserError, match="skeleton h36m-17 has no joint named Head"):
        body_size(poses, replace(H36M_17, joint_names=()))
