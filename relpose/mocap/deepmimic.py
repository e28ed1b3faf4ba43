"""DeepMimic clips and the forward kinematics of their humanoid, in numpy.

A clip (pybullet_data/data/motions/*.txt and .../walker/*.txt) is JSON: {"Loop": ..., "Frames": [...]}
with 44 numbers per frame: the frame's duration (s), the root position (3, metres, y up), the root
orientation (quaternion w x y z), then per joint of the humanoid, in this order, a quaternion (w x y z,
spherical joints) or an angle (rad, the revolute knees and elbows about their z axis).

The humanoid (pybullet_data/humanoid/humanoid.urdf) is drawn in units of 4 cm: pybullet's DeepMimic
examples load it with globalScaling 0.25, which makes it ~1.6 m tall (pelvis ~0.85 m above the floor,
as the clips' root height says, neck joint 0.46 m above the pelvis, top of the head 0.28 m above that).
Every joint's frame is its parent's, moved by the joint's URDF origin (no rpy in this model), then
rotated by the joint's own rotation; a joint's position is its frame's origin. Rotations and their
interpolation are SciPy's (scipy.spatial.transform.Rotation, Slerp).

Human3.6M-17 from the humanoid's joints. Exact: the pelvis (root), hips, knees, ankles, shoulders,
elbows, wrists. Approximations: Spine = the chest joint (0.24 m above the pelvis, about Human3.6M's
spine joint); Thorax = the neck joint (the base of the neck); Nose = a point of the head, 0.075 m
forward and 0.15 m up from the neck joint in the head's frame; Head = 0.25 m straight up from the neck
joint in the head's frame (near the top of the skull). The humanoid's hips are 0.17 m apart (Human3.6M
subjects ~0.25 m) and it has no feet joints beyond the ankle (Human3.6M's 'foot' joint 3/6 is the ankle).
"""
from __future__ import annotations

import json
import os

import numpy as np
from scipy.spatial.transform import Rotation, Slerp

from ..errors import DataError, UserError

URDF_SCALE = 0.25     # metres per URDF unit (pybullet's DeepMimic globalScaling)
# (joint, parent, URDF origin xyz, 'spherical' | 'revolute' | 'fixed'), parents before children; the
# DeepMimic frame lists the non-fixed joints in this order.
JOINTS = (
    ("root", None, (0.0, 0.0, 0.0), "root"),
    ("chest", "root", (0.0, 0.944604, 0.0), "spherical"),
    ("neck", "chest", (0.0, 0.895576, 0.0), "spherical"),
    ("right_hip", "root", (0.0, 0.0, 0.339548), "spherical"),
    ("right_knee", "right_hip", (0.0, -1.686184, 0.0), "revolute"),
    ("right_ankle", "right_knee", (0.0, -1.63948, 0.0), "spherical"),
    ("right_shoulder", "chest", (-0.0962, 0.974, 0.73244), "spherical"),
    ("right_elbow", "right_shoulder", (0.0, -1.099152, 0.0), "revolute"),
    ("right_wrist", "right_elbow", (0.0, -1.035788, 0.0), "fixed"),
    ("left_hip", "root", (0.0, 0.0, -0.339548), "spherical"),
    ("left_knee", "left_hip", (0.0, -1.686184, 0.0), "revolute"),
    ("left_ankle", "left_knee", (0.0, -1.63948, 0.0), "spherical"),
    ("left_shoulder", "chest", (-0.0962, 0.974, -0.73244), "spherical"),
    ("left_elbow", "left_shoulder", (0.0, -1.099152, 0.0), "revolute"),
    ("left_wrist", "left_elbow", (0.0, -1.035788, 0.0), "fixed"),
)
JOINT_NAMES = tuple(j[0] for j in JOINTS)
# The DeepMimic frame: duration, root position, root quaternion, then these joints in this order.
FRAME_JOINTS = ("chest", "neck", "right_hip", "right_knee", "right_ankle", "right_shoulder", "right_elbow",
                "left_hip", "left_knee", "left_ankle", "left_shoulder", "left_elbow")
FRAME_SIZE = 1 + 3 + 4 + sum(1 if dict((j[0], j[3]) for j in JOINTS)[n] == "revolute" else 4 for n in FRAME_JOINTS)

# Human3.6M-17 (0 pelvis, 1-3 right leg, 4-6 left leg, 7 spine, 8 thorax, 9 nose, 10 head, 11-13 left
# arm, 14-16 right arm) from humanoid joints; None: a point of the head (HEAD_POINTS, URDF units).
H36M_FROM_HUMANOID = ("root", "right_hip", "right_knee", "right_ankle", "left_hip", "left_knee", "left_ankle",
                      "chest", "neck", None, None, "left_shoulder", "left_elbow", "left_wrist",
                      "right_shoulder", "right_elbow", "right_wrist")
HEAD_POINTS = {9: (0.3, 0.6, 0.0), 10: (0.0, 1.0, 0.0)}   # in the neck joint's frame
APPROXIMATE_H36M_JOINTS = (7, 8, 9, 10)
# The humanoid is y up; Human3.6M's world (and the cameras' calibration) z up: (x, y, z) -> (x, -z, y).
Y_UP_TO_Z_UP = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])


def quat_to_matrix(q) -> np.ndarray:
    """Rotation matrices (..., 3, 3) of quaternions (..., 4) in w x y z order (normalised first)."""
    q = np.asarray(q, dtype=np.float64)
    return Rotation.from_quat(q.reshape(-1, 4), scalar_first=True).as_matrix().reshape(q.shape[:-1] + (3, 3))


def _z_rotation(angle) -> np.ndarray:
    """Rotation matrices (..., 3, 3) about the z axis by `angle` (...,) radians (a revolute joint)."""
    angle = np.asarray(angle, dtype=np.float64)
    return Rotation.from_euler("z", angle.reshape(-1, 1)).as_matrix().reshape(angle.shape + (3, 3))


def split_frames(frames) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict]:
    """(durations (T,), root position (T, 3), root quaternion (T, 4) w x y z, {joint: (T, 4) or (T,)})."""
    f = np.asarray(frames, dtype=np.float64)
    if f.ndim != 2 or f.shape[1] != FRAME_SIZE:
        raise DataError(f"a DeepMimic humanoid frame has {FRAME_SIZE} numbers, got shape {f.shape}")
    kinds = {j[0]: j[3] for j in JOINTS}
    joints, k = {}, 8
    for name in FRAME_JOINTS:
        n = 1 if kinds[name] == "revolute" else 4
        joints[name] = f[:, k] if n == 1 else f[:, k:k + 4]
        k += n
    return f[:, 0], f[:, 1:4], f[:, 4:8], joints


def forward_kinematics(root_pos, root_quat, joints: dict) -> tuple[np.ndarray, np.ndarray]:
    """World positions (T, 15, 3) of JOINTS (metres, y up) and their frames' rotations (T, 15, 3, 3)."""
    root_pos = np.asarray(root_pos, dtype=np.float64)
    T = len(root_pos)
    pos, rot = {}, {}
    for name, parent, origin, kind in JOINTS:
        if parent is None:
            pos[name], rot[name] = root_pos, quat_to_matrix(root_quat)
            continue
        pos[name] = pos[parent] + rot[parent] @ (np.asarray(origin) * URDF_SCALE)
        if kind == "spherical":
            local = quat_to_matrix(joints[name])
        elif kind == "revolute":
            local = _z_rotation(np.asarray(joints[name], dtype=np.float64))
        else:
            local = np.broadcast_to(np.eye(3), (T, 3, 3))
        rot[name] = rot[parent] @ local
    return np.stack([pos[n] for n in JOINT_NAMES], 1), np.stack([rot[n] for n in JOINT_NAMES], 1)


def to_h36m17(positions, rotations) -> np.ndarray:
    """Human3.6M-17 joints (T, 17, 3) from forward_kinematics' output (same units and axes)."""
    index = {n: i for i, n in enumerate(JOINT_NAMES)}
    neck = index["neck"]
    out = []
    for j, name in enumerate(H36M_FROM_HUMANOID):
        if name is not None:
            out.append(positions[:, index[name]])
        else:
            offset = np.asarray(HEAD_POINTS[j]) * URDF_SCALE
            out.append(positions[:, neck] + rotations[:, neck] @ offset)
    return np.stack(out, 1)


def resample(frames, fps: float) -> tuple[np.ndarray, np.ndarray, dict]:
    """Root position, root quaternion and joints at `fps`, over the clip's duration (durations summed,
    the last frame's ignored): positions and angles linearly, quaternions by spherical interpolation
    (SciPy's Slerp, the shorter way round), w x y z."""
    durations, root_pos, root_quat, joints = split_frames(frames)
    times = np.concatenate([[0.0], np.cumsum(durations[:-1])])
    if len(times) < 2 or not np.all(np.diff(times) > 0):
        raise DataError("a DeepMimic clip needs at least two frames with positive durations")
    t = np.arange(0.0, times[-1] + 1e-9, 1.0 / fps)
    i = np.clip(np.searchsorted(times, t, side="right") - 1, 0, len(times) - 2)
    w = np.clip((t - times[i]) / (times[i + 1] - times[i]), 0.0, 1.0)

    def lerp(a):
        return a[i] + (a[i + 1] - a[i]) * (w if a.ndim == 1 else w[:, None])

    def slerp(q):
        # np.arange may step a rounding error past the last key time; Slerp takes only times within the keys.
        rotations = Slerp(times, Rotation.from_quat(q, scalar_first=True))(np.minimum(t, times[-1]))
        return rotations.as_quat(scalar_first=True)

    out_joints = {n: lerp(v) if v.ndim == 1 else slerp(v) for n, v in joints.items()}
    return lerp(root_pos), slerp(root_quat), out_joints


def read_clip(path) -> list:
    """The frames of a DeepMimic clip file (a list of lists of FRAME_SIZE numbers)."""
    try:
        with open(path) as f:
            data = json.load(f)
        frames = data["Frames"]
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise DataError(f"{path} is not a readable DeepMimic clip ({type(e).__name__}); reinstall pybullet==3.2.7") \
            from None
    if not frames or len(frames[0]) != FRAME_SIZE:
        raise DataError(f"{path}: expected humanoid frames of {FRAME_SIZE} numbers; it is not a humanoid clip")
    return frames


def data_path() -> str:
    """pybullet_data's folder in the installed pybullet package."""
    try:
        import pybullet_data
    except ImportError:
        raise UserError("the motion-capture set needs pybullet: pip install pybullet==3.2.7 "
                        "(it ships the DeepMimic clips)") from None
    return pybullet_data.getDataPath()


def clip_files(root: str | None = None) -> dict[str, str]:
    """{clip name: path} of the humanoid clips: data/motions/humanoid3d_<name>.txt -> '<name>',
    data/motions/walker/<name>.txt -> 'walker_<name>' (laikago_walk.txt is a quadruped's and skipped)."""
    motions = os.path.join(root or data_path(), "data", "motions")
    out = {}
    for folder, prefix, strip in ((motions, "", "humanoid3d_"), (os.path.join(motions, "walker"), "walker_", "")):
        if not os.path.isdir(folder):
            continue
        for name in sorted(os.listdir(folder)):
            if name.endswith(".txt") and name.startswith(strip):
                out[prefix + name[len(strip):-4]] = os.path.join(folder, name)
    if not out:
        raise DataError(f"no DeepMimic humanoid clips in {motions}; reinstall pybullet==3.2.7")
    return out


def clip_h36m17(path, fps: float = 50) -> np.ndarray:
    """Human3.6M-17 world positions (T, 17, 3), metres, z up, at `fps`, of one clip file."""
    root_pos, root_quat, joints = resample(read_clip(path), fps)
    positions, rotations = forward_kinematics(root_pos, root_quat, joints)
    return to_h36m17(positions, rotations) @ Y_UP_TO_Z_UP.T
