"""Joints a detector misses (relpose.synth.missed_joints): which, how often, for how long, and the gaps filled
as the kit fills a real detector's (in time, within a take)."""
import numpy as np
import pytest

from relpose.keypoint_layouts import get_layout
from relpose.synth.missed_joints import fill_missed, missed_joints

NAMES = get_layout("h36m-17").joint_names
J = {n: i for i, n in enumerate(NAMES)}


def standing(T=20000):
    """(1, T, 17, 2) pixels of a still person (a 400 px tall box), every joint 5 m away (none behind the body)."""
    y = {"Head": 100, "Nose": 130, "Thorax": 170, "Spine": 240, "Hip": 300, "Knee": 400, "Foot": 500,
         "Shoulder": 170, "Elbow": 240, "Wrist": 300}
    x = {"L": 560, "R": 440}
    pose = np.array([[x.get(n[0], 500) if n[1:] in y else 500, y.get(n[1:], y.get(n))] for n in NAMES], np.float32)
    pose[[J["LWrist"], J["RWrist"]], 0] = [620, 380]                       # hands beside the body
    return np.broadcast_to(pose, (1, T, 17, 2)).copy(), np.full((1, T, 17), 5.0)


def share(missed, joint):
    return missed[..., J[joint]].mean()


def test_wrists_and_ankles_are_missed_most_the_trunk_least():
    pixels, depth = standing()
    missed = missed_joints(np.random.default_rng(0), pixels, depth, NAMES)
    assert 0.015 < share(missed, "LWrist") < 0.026 and 0.015 < share(missed, "RFoot") < 0.026
    assert 0.004 < share(missed, "LElbow") < 0.008
    assert share(missed, "Hip") < 0.004 and share(missed, "Thorax") < 0.004
    assert 0.002 < missed.mean() < 0.02
    # a gap lasts a few frames
    runs = np.diff(np.flatnonzero(np.diff(np.concatenate([[0], missed[0, :, J["LWrist"]], [0]]))))[::2]
    assert runs.min() >= 2 and np.median(runs) <= 6 and (runs <= 7).mean() > 0.9


def test_fast_and_hidden_joints_are_missed_more_often():
    pixels, depth = standing()
    still = missed_joints(np.random.default_rng(1), pixels, depth, NAMES)
    fast = pixels.copy()
    fast[0, 1::2, J["LWrist"], 1] += 40                      # 40 px a frame, a tenth of the person's size
    hidden = depth.copy()
    hidden[0, :, J["RWrist"]] = 5.4                          # behind the torso ...
    pixels_hidden = pixels.copy()
    pixels_hidden[0, :, J["RWrist"]] = [500, 230]            # ... and over it on the image
    moved = missed_joints(np.random.default_rng(1), fast, depth, NAMES)
    covered = missed_joints(np.random.default_rng(1), pixels_hidden, hidden, NAMES)
    assert share(moved, "LWrist") > 3 * share(still, "LWrist")
    assert share(covered, "RWrist") > 3 * share(still, "RWrist")
    assert share(moved, "RWrist") == pytest.approx(share(still, "RWrist"), rel=0.3)


def test_gaps_are_filled_in_time_within_each_take():
    T = 40
    t = np.arange(T, dtype=np.float32)
    pixels = np.stack([np.stack([10 + 2 * t, 100 - t], -1)] * 3, axis=1)[None]    # (1, T, 3, 2), linear motion
    pixels[0, 20:, :, :] += 500                                                   # the second take is elsewhere
    missed = np.zeros((1, T, 3), bool)
    missed[0, 5:9, 0] = True          # inside the first take: the line again
    missed[0, 17:20, 1] = True        # at the first take's end: held at its last seen position
    missed[0, 20:23, 2] = True        # at the second take's start: held at its first seen position
    filled = fill_missed(pixels, missed, [0, 20, T])
    assert filled.dtype == np.float32
    assert np.allclose(filled[0, 5:9, 0], pixels[0, 5:9, 0])
    assert np.array_equal(filled[0, 17:20, 1], np.repeat(pixels[0, 16:17, 1], 3, axis=0))
    assert np.array_equal(filled[0, 20:23, 2], np.repeat(pixels[0, 23:24, 2], 3, axis=0))
    assert np.array_equal(filled[~missed], pixels[~missed])                        # seen joints kept exactly
