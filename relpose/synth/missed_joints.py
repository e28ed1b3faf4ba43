"""Joints a 2D detector misses, and the gaps filled as the kit fills a real detector's.

MediaPipe Pose and COCO detectors lose a joint now and then for a few frames (no point, or a score under the
threshold): the wrists and ankles more often than the trunk, a joint that moves fast (motion blur) more often
than a still one, a joint hidden behind the body more often than one in plain view. The kit fills such gaps in
a real detector's output linearly in time per joint (relpose.custom_keypoints.interpolate_in_time, which
relpose.wild.detections.fill_gaps uses); the synthetic detections get the same treatment, so that a model
trained on them has seen what the filling leaves.

The rates are this kit's choices, not measurements: a still joint in view is missed in about 0.2% of the
frames (the trunk, the nose), 0.4% (eyes), 0.6% (elbows, knees), 1% (ears) and 2% (wrists, ankles); up to
4 times as often when it moves fast (FAST_SPEED person sizes a frame and more) and 4 times as often when it
is behind the torso. A gap lasts 2 to 7 frames.
"""
from __future__ import annotations

import numpy as np

from ..custom_keypoints import interpolate_in_time

# Share of frames missed for a still joint in view, by a word in its name (the first that matches); others: 0.2%.
MISSED_SHARE = (("wrist", 0.02), ("ankle", 0.02), ("foot", 0.02), ("ear", 0.01), ("elbow", 0.006), ("knee", 0.006),
                ("eye", 0.004))
OTHER_SHARE = 0.002
GAP_FRAMES = (2, 7)          # shortest and longest gap
FAST_SPEED = 0.04            # person sizes a frame (a wrist at ~3.4 m/s on a 1.7 m person at 50 fps) ...
FAST_FACTOR = 4.0            # ... at which a joint is missed this many times as often (linearly from 1 below)
HIDDEN_FACTOR = 4.0          # behind the torso
HIDDEN_DEPTH = 0.1           # metres behind the torso's middle, and within half the torso's length of it on the image


def base_shares(joint_names) -> np.ndarray:
    """(J,) share of frames missed for each joint, still and in view."""
    def share(name):
        return next((s for word, s in MISSED_SHARE if word in name.lower()), OTHER_SHARE)
    return np.array([share(n) for n in joint_names])


def _speed(pixels: np.ndarray, starts) -> np.ndarray:
    """(C, T, J) image speed in person sizes (the larger side of the keypoints' box) a frame; 0 at take starts."""
    size = np.maximum((pixels.max(axis=2) - pixels.min(axis=2)).max(axis=-1), 1.0)       # (C, T)
    step = np.linalg.norm(np.diff(pixels, axis=1, prepend=pixels[:, :1]), axis=-1)      # (C, T, J)
    step[:, list(starts)] = 0.0
    return step / size[..., None]


def _hidden(pixels: np.ndarray, depth: np.ndarray, joint_names) -> np.ndarray:
    """(C, T, J): behind the torso's middle and, on the image, within half the torso's length of it."""
    names = [n.lower() for n in joint_names]
    shoulders = [j for j, n in enumerate(names) if "shoulder" in n]
    hips = [j for j, n in enumerate(names) if "hip" in n]
    top, bottom = pixels[:, :, shoulders].mean(2), pixels[:, :, hips].mean(2)          # (C, T, 2)
    middle = (top + bottom) / 2
    radius = np.linalg.norm(top - bottom, axis=-1) / 2                                  # (C, T)
    middle_depth = depth[:, :, shoulders + hips].mean(2)
    near = np.linalg.norm(pixels - middle[:, :, None], axis=-1) < radius[..., None]
    return near & (depth > middle_depth[..., None] + HIDDEN_DEPTH)


def missed_joints(rng, pixels: np.ndarray, depth: np.ndarray, joint_names, starts=(0,)) -> np.ndarray:
    """(C, T, J) bool: the joints a detector misses in the (C, T, J, 2) pixels of C cameras, whose (C, T, J)
    `depth` is their distance along each camera's axis (metres); `starts` are the frames where takes begin."""
    rate = base_shares(joint_names) * (1 + (FAST_FACTOR - 1) * np.clip(_speed(pixels, starts) / FAST_SPEED, 0, 1))
    rate = rate * np.where(_hidden(pixels, depth, joint_names), HIDDEN_FACTOR, 1.0)
    begins = rng.random(rate.shape) < rate / np.mean(GAP_FRAMES)     # a gap begins; it lasts GAP_FRAMES
    c, t, j = np.nonzero(begins)
    length = rng.integers(GAP_FRAMES[0], GAP_FRAMES[1] + 1, len(t))
    missed = np.zeros(rate.shape, bool)
    T = rate.shape[1]
    for k in range(GAP_FRAMES[1]):
        on = (k < length) & (t + k < T)
        missed[c[on], t[on] + k, j[on]] = True
    return missed


def fill_missed(pixels: np.ndarray, missed: np.ndarray, bounds) -> np.ndarray:
    """(C, T, J, 2) float32: the missed positions filled in time within each take (takes are [bounds[i],
    bounds[i + 1]) frames), as the kit fills a real detector's gaps; a joint missed in a whole take keeps
    its positions (never the case with gaps of a few frames in takes of dozens)."""
    out = pixels.astype(np.float32, copy=True)
    for cam in range(len(pixels)):
        for lo, hi in zip(bounds[:-1], bounds[1:]):
            gaps = missed[cam, lo:hi] & ~missed[cam, lo:hi].all(axis=0)
            joints = np.flatnonzero(gaps.any(axis=0))      # only these need filling
            if len(joints):
                take = out[cam, lo:hi]                        # a view: writing it writes `out`
                take[:, joints] = np.where(gaps[:, joints, None],
                                           interpolate_in_time(take[:, joints], ~gaps[:, joints]), take[:, joints])
    return out
