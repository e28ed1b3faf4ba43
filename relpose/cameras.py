"""Camera model: world <-> camera transforms, projection with lens distortion, screen normalisation.

Conventions are those of the VideoPose3D data preparation: quaternions are w-x-y-z and the
``orientation`` rotates camera coordinates into world coordinates; the file stores translations
in millimetres, the kit works in metres. Every function takes numpy arrays or torch tensors and
returns the same kind, batched over any leading dimensions.
"""
from __future__ import annotations

import copy

import numpy as np
import torch

from .errors import DataError
from .resources import package_json


def _is_torch(x) -> bool:
    return isinstance(x, torch.Tensor)


def _cross(a, b):
    return torch.linalg.cross(a, b, dim=-1) if _is_torch(a) else np.cross(a, b)


def _as_like(values, like):
    """Constant `values` as an array/tensor of the same kind, dtype and device as `like`."""
    if _is_torch(like):
        return torch.as_tensor(values, dtype=like.dtype, device=like.device)
    return np.asarray(values, dtype=like.dtype)


def qrot(q, v):
    """Rotate vectors v (..., 3) by unit quaternions q (..., 4), w-x-y-z. Shapes broadcast.

    VideoPose3D's formula by hand rather than SciPy's Rotation: it also takes torch tensors, on any device and
    differentiable (tests/test_cameras.py checks it against SciPy's matrices)."""
    qvec = q[..., 1:]
    uv = _cross(qvec, v)
    uuv = _cross(qvec, uv)
    return v + 2 * (q[..., :1] * uv + uuv)


def qinverse(q):
    """Inverse of unit quaternions (the conjugate)."""
    sign = _as_like([1.0, -1.0, -1.0, -1.0], q)
    return q * sign


def _broadcast_quaternion(q, X):
    q = _as_like(q, X)
    shape = X.shape[:-1] + (4,)
    return q.expand(shape) if _is_torch(q) else np.broadcast_to(q, shape)


def world_to_camera(X, R, t):
    """World positions X (..., 3) to camera space. R: camera-to-world quaternion, t: camera position."""
    q = _broadcast_quaternion(qinverse(_as_like(R, X)), X)
    return qrot(q, X - _as_like(t, X))


def camera_to_world(X, R, t):
    """Camera-space positions X (..., 3) to world space (inverse of world_to_camera)."""
    q = _broadcast_quaternion(R, X)
    return qrot(q, X) + _as_like(t, X)


def _clip(x, lo, hi):
    return torch.clamp(x, lo, hi) if _is_torch(x) else np.clip(x, lo, hi)


def _sum_last(x):
    return x.sum(dim=-1, keepdim=True) if _is_torch(x) else x.sum(axis=-1, keepdims=True)


def _cat_last(xs):
    return torch.cat(xs, dim=-1) if _is_torch(xs[0]) else np.concatenate(xs, axis=-1)


def project_to_2d(X, camera_params):
    """Project camera-space points X (..., J, 3) with the full Human3.6M lens model.

    camera_params (..., 9) = [fx, fy, cx, cy, k1, k2, k3, p1, p2] (normalised intrinsics, see
    `normalized_intrinsics`); leading dims of camera_params match X without the joint axis.
    Returns normalised screen coordinates (..., J, 2). As in the published pipeline, the
    perspective division is clipped to [-1, 1] so points far off-axis cannot blow up.
    """
    camera_params = _as_like(camera_params, X)
    cp = camera_params[..., None, :]  # broadcast over joints
    f, c, k, p = cp[..., :2], cp[..., 2:4], cp[..., 4:7], cp[..., 7:9]
    XX = _clip(X[..., :2] / X[..., 2:], -1, 1)
    r2 = _sum_last(XX ** 2)
    radial = 1 + _sum_last(k * _cat_last([r2, r2 ** 2, r2 ** 3]))
    tangential = _sum_last(p * XX)
    distorted = XX * (radial + tangential) + p * r2
    return f * distorted + c


def project_to_2d_linear(X, camera_params):
    """Pinhole projection without distortion (only fx, fy, cx, cy of camera_params are used)."""
    camera_params = _as_like(camera_params, X)
    cp = camera_params[..., None, :]
    XX = _clip(X[..., :2] / X[..., 2:], -1, 1)
    return cp[..., :2] * XX + cp[..., 2:4]


def normalize_screen_coordinates(X, w, h):
    """Pixels -> [-1, 1] along x, keeping the aspect ratio: X / w * 2 - [1, h / w]."""
    if X.shape[-1] != 2:
        raise ValueError(f"expected (..., 2) pixel coordinates, got shape {tuple(X.shape)}")
    return X / w * 2 - _as_like([1.0, h / w], X)


def image_coordinates(X, w, h):
    """Inverse of normalize_screen_coordinates: back to pixels."""
    if X.shape[-1] != 2:
        raise ValueError(f"expected (..., 2) normalised coordinates, got shape {tuple(X.shape)}")
    return (X + _as_like([1.0, h / w], X)) * w / 2


def normalized_intrinsics(camera: dict) -> np.ndarray:
    """The 9-vector [fx, fy, cx, cy, k1, k2, k3, p1, p2] with focal/centre in normalised units."""
    w, h = camera["res_w"], camera["res_h"]
    focal = np.asarray(camera["focal_length"], dtype=np.float32) / w * 2
    centre = normalize_screen_coordinates(np.asarray(camera["center"], dtype=np.float32), w, h)
    return np.concatenate([focal, centre, np.asarray(camera["radial_distortion"], dtype=np.float32),
                           np.asarray(camera["tangential_distortion"], dtype=np.float32)]).astype(np.float32)


RIGS = ("h36m", "humaneva")


def _rig_spec(name: str) -> dict:
    if name not in RIGS:
        raise DataError(f"no camera rig '{name}' (known: {', '.join(RIGS)})")
    return package_json(f"{name}_cameras")


def camera_from_record(record: dict) -> dict:
    """A camera dict of the kit from a record in the JSON rig's form (relpose/data/h36m_cameras.json: an entry of
    'intrinsics' merged with one of 'extrinsics'): center and focal_length in pixels, translation in millimetres,
    orientation a w-x-y-z quaternion camera -> world. Other keys are kept as they are."""
    cam = copy.deepcopy(record)
    cam["orientation"] = np.asarray(record["orientation"], dtype=np.float32)
    cam["translation"] = np.asarray(record["translation"], dtype=np.float32) / 1000  # mm -> m
    if "focal_length" in cam:
        cam["intrinsic"] = normalized_intrinsics(cam)
        cam["center"] = cam["intrinsic"][2:4].copy()
        cam["focal_length"] = cam["intrinsic"][:2].copy()
        cam["radial_distortion"] = np.asarray(cam["radial_distortion"], dtype=np.float32)
        cam["tangential_distortion"] = np.asarray(cam["tangential_distortion"], dtype=np.float32)
    return cam


# A record read from a data file: (key, values it holds, what they must be).
_RECORD_FIELDS = (("res_w", 1, "a positive whole number of pixels"), ("res_h", 1, "a positive whole number of pixels"),
                  ("center", 2, "2 pixel coordinates"), ("focal_length", 2, "2 positive focal lengths in pixels"),
                  ("radial_distortion", 3, "3 coefficients"), ("tangential_distortion", 2, "2 coefficients"),
                  ("orientation", 4, "a unit quaternion w, x, y, z"), ("translation", 3, "3 coordinates in mm"))


def _record_value(record: dict, key: str, size: int, what: str, where: str) -> np.ndarray:
    fix = "re-create the file with camera records in the JSON rig's form (relpose.cameras.camera_from_record)"
    if key not in record:
        raise DataError(f"{where}: camera record has no '{key}' ({what}); {fix}")
    try:
        value = np.asarray(record[key], dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        value = np.zeros(0)
    ok = value.size == size and np.isfinite(value).all()
    if ok and key in ("res_w", "res_h"):
        whole = isinstance(record[key], (int, np.integer)) and not isinstance(record[key], bool)
        ok = whole and 0 < value[0] <= 2 ** 16
    if ok and key == "focal_length":
        ok = bool((value > 0).all())
    if ok and key == "orientation":
        ok = abs(np.linalg.norm(value) - 1) < 1e-3
    if not ok:
        got = " ".join(repr(record[key]).split())[:60]
        raise DataError(f"{where}: camera record '{key}' should be {what}, got {got}; {fix}")
    return value


def check_camera_record(record, where: str) -> dict:
    """camera_from_record of a record read from a data file, its values checked first (DataError naming `where`)."""
    if not isinstance(record, dict):
        raise DataError(f"{where}: a camera record should be a dict in the JSON rig's form, got "
                        f"{type(record).__name__}; re-create the file")
    for key, size, what in _RECORD_FIELDS:
        _record_value(record, key, size, what, where)
    return camera_from_record(record)


def rig_records(name: str) -> dict[str, list[dict]]:
    """The records of rig 'h36m' or 'humaneva' per calibrated subject, in the JSON rig's form (see
    camera_from_record): what a data file that keeps its own cameras writes for a camera of the rig."""
    spec = _rig_spec(name)
    return {subject: [{**copy.deepcopy(intr), **copy.deepcopy(extr)} for intr, extr in zip(spec["intrinsics"], extrs)]
            for subject, extrs in spec["extrinsics"].items() if all(extrs)}   # {} means no calibration


def load_rig(name: str) -> dict[str, list[dict]]:
    """Cameras per subject of rig 'h36m' or 'humaneva', as the published pipeline prepares them.

    Each camera dict has id, res_w, res_h, azimuth, orientation (float32 quaternion), translation
    (float32, metres) and, where intrinsics are known (Human3.6M), center and focal_length in
    normalised units, the distortion coefficients and the 9-vector 'intrinsic'. Subjects without
    calibration in the file (Human3.6M S2-S4, HumanEva S4) are left out.
    """
    return {subject: [camera_from_record(r) for r in records] for subject, records in rig_records(name).items()}


def frame_rate(name: str) -> int:
    """Capture frame rate of a rig (50 Hz Human3.6M, 60 Hz HumanEva-I)."""
    return int(_rig_spec(name)["fps"])
