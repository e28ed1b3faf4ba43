"""The broad motion library (relpose.synth.library): sound kinematics, the floor, and bodies of human proportions."""
import numpy as np
import pytest

from relpose.skeleton import H36M_32, H36M_KEPT_JOINTS
from relpose.synth import library as lib
from relpose.synth.motion import FPS
from relpose.wild.anthropometry import ADULT_RANGES, CHILD_RANGES, proportions
from relpose.datasets import dataset_spec

FRAMES = 250
SEEDS = range(3)


@pytest.fixture(scope="module")
def takes():
    body = lib.random_body(np.random.default_rng(0), 1.72)
    return body, {m: [lib.library_take(np.random.default_rng(s), body, m, FRAMES) for s in SEEDS]
                  for m in lib.LIBRARY_MOTIONS}


def _unit(v):
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-12)


def _angle(a, b):
    return np.degrees(np.arccos(np.clip(np.sum(_unit(a) * _unit(b), -1), -1, 1)))


def test_the_library_covers_what_people_do():
    assert {"lie_back", "lie_front", "lie_side", "roll", "crawl", "get_up", "kneel", "squat", "sit_floor",
            "bend_reach", "run", "jump", "turn", "wave", "throw", "box", "lift"} <= set(lib.LIBRARY_MOTIONS)
    assert {"cartwheel", "handstand"} & set(lib.LIBRARY_MOTIONS)


def test_shapes_determinism_and_unknown_motion(takes):
    body, t = takes
    assert all(x.shape == (FRAMES, 32, 3) and np.isfinite(x).all() for xs in t.values() for x in xs)
    again = lib.library_take(np.random.default_rng(0), body, "crawl", FRAMES)
    assert np.array_equal(again, t["crawl"][0])
    with pytest.raises(ValueError, match="unknown motion 'moonwalk'"):
        lib.library_take(np.random.default_rng(0), body, "moonwalk", 10)


def test_bones_keep_their_length(takes):
    body, t = takes
    for m, xs in t.items():
        for x in xs:
            lengths = H36M_32.bone_lengths(x)
            assert np.abs(lengths - lengths[0]).max() < 1e-9, m


def test_knees_and_elbows_bend_within_human_limits_and_one_way(takes):
    _, t = takes
    for m, xs in t.items():
        for x in xs:
            left = x[:, 6] - x[:, 1]
            for hip, knee, ankle in ((1, 2, 3), (6, 7, 8)):
                thigh, shank = x[:, knee] - x[:, hip], x[:, ankle] - x[:, knee]
                flexion = _angle(thigh, shank)
                assert flexion.max() <= lib.LIMITS["knee"][1] + 1e-6, m
                bent = flexion > 10            # the shank folds backwards: thigh x shank points to the body's left
                assert np.all(np.sum(_unit(np.cross(thigh, shank)) * _unit(left), -1)[bent] > 0.3), m
            for shoulder, elbow, wrist in ((25, 26, 27), (17, 18, 19)):
                assert _angle(x[:, elbow] - x[:, shoulder], x[:, wrist] - x[:, elbow]).max() <= 150 + 1e-6, m


def test_the_body_rests_on_the_floor_or_flies_briefly(takes):
    _, t = takes
    for m, xs in t.items():
        for x in xs:
            lowest = x[..., 2].min(1)
            assert lowest.min() > -0.005, m                       # never through the floor
            airborne = lowest > 0.12                              # nothing near the floor (joints sit inside it)
            if m not in ("run", "jump"):
                assert not airborne.any(), m
            else:                                                 # flights of a stride or a jump, then back down
                runs = np.diff(np.flatnonzero(np.diff(np.r_[0, airborne.astype(int), 0])))[::2]
                assert runs.max(initial=0) <= 0.7 * FPS, m


def _planted_slides(x, joint, radius, k=5):
    """Per-frame horizontal movement (m) of a joint while its surface stays on the floor for k frames running."""
    low = x[:, joint, 2] - radius < 0.003
    window = np.lib.stride_tricks.sliding_window_view(low, k).all(1)
    planted = np.zeros(len(x) - 1, bool)
    planted[k // 2:k // 2 + len(window)] = window[:len(planted) - k // 2]
    return np.linalg.norm(np.diff(x[:, joint, :2], axis=0), axis=-1)[planted]


def test_a_planted_foot_hand_or_knee_hardly_slides(takes):
    """The point the body stands on never moves (by construction); the other points on the floor follow the pose.
    Measured (seeds 0-5): 95% of planted frames move under 1.3 cm/frame in every motion, most not at all."""
    _, t = takes
    contacts = ((5, 0.0), (10, 0.0), (31, 0.01), (23, 0.01), (2, 0.05), (7, 0.05))   # toes, hands, knees
    for m, xs in t.items():
        slides = np.concatenate([_planted_slides(x, j, r) for x in xs for j, r in contacts])
        if len(slides):
            assert np.median(slides) < 0.001, m
            assert np.percentile(slides, 95) < 0.015, (m, np.percentile(slides, 95))


def test_the_pelvis_is_free(takes):
    _, t = takes
    up = {m: [_unit(x[:, 13] - x[:, 0])[:, 2] for x in xs] for m, xs in t.items()}   # trunk direction, z part
    lying = ("lie_back", "lie_front", "lie_side", "roll")
    assert all(np.mean(np.concatenate(up[m]) < 0.5) > 0.5 for m in lying)             # the trunk mostly horizontal
    assert np.concatenate(up["handstand"]).min() < -0.8                               # upside down
    assert np.concatenate(up["cartwheel"]).min() < -0.8
    crawl = np.concatenate([x[:, 0, 2] for x in t["crawl"]])
    assert crawl.max() < 0.75 and np.concatenate(up["crawl"]).max() < 0.5


def test_running_is_fast_and_crawling_moves_forward(takes):
    _, t = takes
    speed = np.median([np.linalg.norm(np.diff(x[:, 0, :2], axis=0), axis=-1).mean() * FPS for x in t["run"]])
    assert 2.0 < speed < 4.5
    crawl = np.median([np.linalg.norm(np.diff(x[:, 0, :2], axis=0), axis=-1).mean() * FPS for x in t["crawl"]])
    assert 0.1 < crawl < 1.0


def test_mirrored_twice_is_the_pose():
    p = lib.pose(lib.GUARD, look=20, roll=10)
    assert lib.mirrored(lib.mirrored(p)) == {k: (tuple(v) if k in lib.SIDED else v) for k, v in
                                              lib.mirrored(lib.mirrored(p)).items()}
    m = lib.mirrored(p)
    assert m["look"] == -20 and m["roll"] == -10 and m["hip_flex"] == (-5.0, 25.0)


@pytest.mark.parametrize("height", [1.0, 1.2, 1.5, 1.75, 1.95])
def test_bodies_have_human_proportions(height):
    skeleton = dataset_spec("synth").skeleton
    for seed in range(5):
        body = lib.random_body(np.random.default_rng(seed), height)
        assert body.height == pytest.approx(height)
        x = lib.library_take(np.random.default_rng(seed), body, "wave", 20)[:, list(H36M_KEPT_JOINTS)]
        ranges = CHILD_RANGES if height < 1.45 else ADULT_RANGES
        for name, value in proportions(x, skeleton).items():
            low, high = ranges[name]
            assert low <= value <= high, (height, name, value)


def test_drawn_heights_cover_children_and_adults():
    heights = [lib.random_body(np.random.default_rng(s)).height for s in range(400)]
    assert lib.HEIGHT_RANGE_M[0] <= min(heights) < 1.1 and 1.85 < max(heights) <= lib.HEIGHT_RANGE_M[1]
    assert 0.15 < np.mean(np.array(heights) < 1.45) < 0.35
