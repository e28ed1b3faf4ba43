"""COCO-17 keypoints of the synthetic bodies: what a COCO-trained detector would mark on them.

Limbs are Human3.6M's own joints (32-joint indices): shoulders 17/25, elbows 18/26, wrists 19/27,
hips 6/1, knees 7/2, ankles 8/3. COCO's annotators mark the hip joints, so the hips are Human3.6M's
hip joints too (a detector's hips may sit a little wider, on the body's surface; that is not modelled).

The face has no joints in the mocap skeleton: Human3.6M's "Neck/Nose" (14) sits inside the head near
the nose's height, not at the tip of the nose, and "Head" (15) is near the top of the head. The face
is built in a head frame:
  up       along Neck/Nose (14) -> Head (15), the head's long axis (its centre line);
  left     normal to the plane of Thorax (13), Neck/Nose (14) and Head (15) (14 sits in front of the
           13-15 line, so the plane is the head's mid-plane and follows where the head looks); where
           that plane is degenerate, the body's left from the shoulders (right -> left shoulder);
  forward  left x up.
Offsets for an adult head whose 14-15 segment is 15 cm (Body.top), scaled with that segment, from the
head top (15) along the centre line:
  eyes     11 cm down, 3.2 cm either side (half a ~64 mm pupil distance), 8.5 cm forward;
  nose tip 15.5 cm down, on the mid-plane, 11 cm forward (~2.5 cm in front of the eyes);
  ears     12.5 cm down, 7.5 cm either side (half a ~15 cm head breadth), 1 cm forward (the ear
           canal is about half way along the head's length).
"""
from __future__ import annotations

import numpy as np

from ..keypoint_layouts import COCO17

H36M32 = {"left_shoulder": 17, "right_shoulder": 25, "left_elbow": 18, "right_elbow": 26, "left_wrist": 19,
          "right_wrist": 27, "left_hip": 6, "right_hip": 1, "left_knee": 7, "right_knee": 2, "left_ankle": 8,
          "right_ankle": 3}
THORAX, NECK_NOSE, HEAD = 13, 14, 15
REFERENCE_HEAD = 0.15    # metres, Neck/Nose -> Head of the reference body the offsets below are for
# (forward, left, down from the head top) in metres for the reference head; left/right mirror y.
FACE_OFFSETS = {"nose": (0.110, 0.0, 0.155), "left_eye": (0.085, 0.032, 0.110), "right_eye": (0.085, -0.032, 0.110),
                "left_ear": (0.010, 0.075, 0.125), "right_ear": (0.010, -0.075, 0.125)}


def _unit(v):
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-12)


def head_frame(positions_32):
    """(forward, left, up) unit vectors (..., 3) each, and the head top (..., 3), of (..., 32, 3) poses."""
    p = np.asarray(positions_32, dtype=np.float64)
    top, base, thorax = p[..., HEAD, :], p[..., NECK_NOSE, :], p[..., THORAX, :]
    up = _unit(top - base)
    normal = np.cross(top - base, base - thorax)        # the mid-plane's normal, pointing left
    shoulders = p[..., H36M32["left_shoulder"], :] - p[..., H36M32["right_shoulder"], :]
    # a straight neck (13, 14, 15 in a line) leaves the plane undefined: the shoulders give left-right then
    flat = np.linalg.norm(normal, axis=-1, keepdims=True) < 1e-4 * np.linalg.norm(top - base, axis=-1, keepdims=True)
    left = np.where(flat, shoulders, normal)
    left = _unit(left - np.sum(left * up, -1, keepdims=True) * up)
    return np.cross(left, up), left, up, top


def coco_keypoints_3d(positions_32) -> np.ndarray:
    """(T, 17, 3) COCO-17 keypoints (coco-17 order, float32) of (T, 32, 3) Human3.6M world poses."""
    p = np.asarray(positions_32)
    if p.ndim < 2 or p.shape[-2:] != (32, 3):
        raise ValueError(f"expected (..., 32, 3) Human3.6M poses, got an array of shape {p.shape}")
    forward, left, up, top = head_frame(p)
    scale = np.linalg.norm(p[..., HEAD, :] - p[..., NECK_NOSE, :], axis=-1, keepdims=True) / REFERENCE_HEAD
    out = np.empty(p.shape[:-2] + (COCO17.num_joints, 3))
    for k, name in enumerate(COCO17.joint_names):
        if name in H36M32:
            out[..., k, :] = p[..., H36M32[name], :]
        else:
            f, l, d = FACE_OFFSETS[name]
            out[..., k, :] = top + scale * (f * forward + l * left - d * up)
    return out.astype(np.float32)

