"""Which joints the detector saw, and one plain line when a body part was out of view most of a take.

A joint is seen in a frame when the person was detected there, the joint's score (MediaPipe: its
visibility) is at least min_score, and it lies inside the image. Detectors still place joints they
cannot see (MediaPipe puts the hips and legs of a chest-up shot far below the frame): those positions
are guesses, and so is the 3D the lifter makes of them.
"""
from __future__ import annotations

import numpy as np

from ..keypoint_layouts import get_layout

PARTS = ("head", "arms", "torso", "legs")
# Words in a joint's name that place it in a part, checked in this order (foot_index is a leg's, not an
# arm's 'index'); a name with none of them (shoulders, hips, neck, thorax, spine, pelvis) is the torso's.
_PART_WORDS = (("legs", ("knee", "ankle", "heel", "toe", "foot")),
               ("arms", ("elbow", "wrist", "pinky", "index", "thumb", "hand")),
               ("head", ("nose", "eye", "ear", "mouth", "head")))
UNSEEN_SHARE = 0.5   # a part unseen in more than this share of the frames is reported


def body_part(joint_name: str) -> str:
    """'head', 'arms', 'legs' or 'torso' for a joint name of any registered layout."""
    name = joint_name.lower()
    for part, words in _PART_WORDS:
        if any(w in name for w in words):
            return part
    return "torso"


def seen_mask(keypoints: np.ndarray, scores: np.ndarray, detected: np.ndarray, width: int, height: int,
              min_score: float) -> np.ndarray:
    """(T, J) bool: detected (T,), score >= min_score, finite and inside the width x height image."""
    k = np.asarray(keypoints, dtype=np.float64)
    with np.errstate(invalid="ignore"):   # NaN (a missing joint) compares false
        inside = (k[..., 0] >= 0) & (k[..., 0] <= width) & (k[..., 1] >= 0) & (k[..., 1] <= height)
    return np.asarray(detected, bool)[:, None] & inside & (np.asarray(scores) >= min_score)


def unseen_parts(seen: np.ndarray, layout: str, interpolated: np.ndarray | None = None) -> dict[str, float]:
    """Per body part, the share of frames in which more than half of its joints were unseen; frames with
    nobody (`interpolated`) are not counted (nothing was seen there at all)."""
    lay = get_layout(layout)
    seen = np.asarray(seen, dtype=bool)
    if seen.ndim != 2 or seen.shape[1] != lay.num_joints:
        raise ValueError(f"seen has shape {seen.shape}, expected (frames, {lay.num_joints}) for {lay.name}")
    counted = np.ones(len(seen), bool) if interpolated is None else ~np.asarray(interpolated, dtype=bool)
    if not counted.any():
        return {}
    parts = np.array([body_part(n) for n in lay.joint_names])
    share = {}
    for part in PARTS:
        joints = parts == part
        if joints.any():
            out_of_view = (~seen[counted][:, joints]).mean(axis=1) > 0.5
            share[part] = float(out_of_view.mean())
    return share


def unseen_report(seen: np.ndarray, layout: str, interpolated: np.ndarray | None = None) -> str | None:
    """One plain line naming the body parts out of view in more than half the frames, e.g. "the legs are
    not in view in 96% of frames: the 3D legs are guesses"; None when every part was mostly seen."""
    share = {p: s for p, s in unseen_parts(seen, layout, interpolated).items() if s > UNSEEN_SHARE}
    if not share:
        return None
    parts = sorted(share, key=lambda p: -share[p])
    listed = lambda words: words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]  # noqa: E731
    names, shares = listed(parts), listed([f"{100 * share[p]:.0f}%" for p in parts])
    singular = len(parts) == 1 and parts[0] in ("head", "torso")
    verb, guess = ("is", "a guess") if singular else ("are", "guesses")
    return f"the {names} {verb} not in view in {shares} of frames: the 3D {names} {verb} {guess}"
