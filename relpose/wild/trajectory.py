"""Where the person is: camera-space root positions of root-relative poses, the floor, and a world frame.

A lifting model gives root-relative poses in camera space (x right, y down, z forward, metres). Where the
root is follows from the 2D keypoints: the root that makes the lifted body reproject onto them
(`pseudo_trajectory`, `camera_trajectory`). A floor is a plane under the feet where they are planted
(`ground_plane`), and `to_world` turns the camera-space positions into a frame with z up and the floor at
z = 0, so the body can be shown moving through space.

Scale: a single image cannot tell a small person near the camera from a big one far away. The depth found
is that of a body of the lifted body's size, so it is as right as that size is (a lifted body 10% too tall
is placed 10% too far). When the keypoints were zoomed before lifting (relpose.person_scale), place
the body against the video's own keypoints and focal length: the zoom changed what the model saw, not where
the person is, and a body lifted at a typical size then lands at the depth where a person of that size
would look as big as the person does in the video.
"""
from __future__ import annotations

import numpy as np

from ..custom_keypoints import DEFAULT_VIDEO_FPS
from ..errors import UserError
from ..keypoint_layouts import get_layout, skeleton_layout
from ..skeleton import H36M_17, HUMANEVA_15, Skeleton
from .anthropometry import ANKLE_HEIGHT, body_height, joint

_ANKLES = ("Foot", "Ankle")     # H36M-17 "LFoot" is the ankle joint, HumanEva-15 says "LAnkle"
_PELVIS = ("Hip", "Pelvis")
# Joints of the torso and the legs: the weak-perspective depth reference (arms move and foreshorten too much).
_TORSO_LEGS = {"Hip", "Pelvis", "Spine", "Thorax", "LHip", "RHip", "LKnee", "RKnee", "LFoot", "RFoot",
               "LAnkle", "RAnkle"}
# Human3.6M-17 joints that a conversion from another layout only approximates (COCO's head point is the
# eyes' midpoint, 145 mm from Human3.6M's head joint on the synthetic bodies, the thorax the shoulders'
# midpoint, 32 mm off, ...): they do not place the root. Limbs and pelvis convert exactly.
DERIVED_JOINTS = ("Spine", "Thorax", "Nose", "Head")
# How much the body's own up direction counts in the floor's fit: as much as planted feet spread this far
# (metres, a standard deviation) along the floor. Feet on a line (a straight walk, standing still) leave the
# plane's tilt about that line open; the prior closes it, and feet spread wider than this outweigh it. On the
# lifted DeepMimic clips (relpose.lab.wild_distance) 0.1 gave the floor 1-2 degrees closer at 6-8 m than 0.3.
PRIOR_SPREAD = 0.1


# ------------------------------------------------------------------------------------- helpers
def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-12)


def default_skeleton(num_joints: int) -> Skeleton:
    for s in (H36M_17, HUMANEVA_15):
        if s.num_joints == num_joints:
            return s
    raise UserError(f"no default skeleton has {num_joints} joints; pass skeleton=")


def check_poses(poses, skeleton: Skeleton, min_frames: int = 1) -> np.ndarray:
    poses = np.asarray(poses, dtype=float)
    if poses.ndim != 3 or poses.shape[1:] != (skeleton.num_joints, 3):
        raise UserError(f"expected poses of shape (T, {skeleton.num_joints}, 3) for skeleton {skeleton.name}, "
                        f"got {poses.shape}")
    if len(poses) < min_frames:
        raise UserError(f"need at least {min_frames} frames, got {len(poses)}")
    return poses


def feet(skeleton: Skeleton) -> tuple[int, int]:
    """Indices of the (left, right) ankle joints, found by name."""
    if not skeleton.joint_names:
        raise UserError(f"skeleton {skeleton.name} has no joint names; foot sliding finds its joints by name")
    names = skeleton.joint_names
    for suffix in _ANKLES:
        if "L" + suffix in names and "R" + suffix in names:
            return names.index("L" + suffix), names.index("R" + suffix)
    raise UserError(f"skeleton {skeleton.name} has no feet: foot sliding needs joints named LFoot/RFoot or "
                    f"LAnkle/RAnkle, it has {', '.join(names)}")


def planted_feet(positions, skeleton: Skeleton, fps: float, up=(0.0, -1.0, 0.0), contact_height: float = 0.05,
                 window_s: float = 0.5) -> np.ndarray:
    """(T, 2) bool, left then right foot: planted in that frame.

    A foot is planted when its height along `up` is within `contact_height` (m) of the lowest height of
    either foot in the frames within ±`window_s` seconds (the floor there), and it is the slower of the two
    feet (ties: both). Frames with NaN positions are never planted.
    """
    left, right = feet(skeleton)
    up = _unit(np.asarray(up, dtype=float))
    p = np.asarray(positions, dtype=float)[:, [left, right]]    # (T, 2, 3)
    h = p @ up
    w = max(int(round(window_s * fps)), 0)
    # per-frame floor: lowest height of either foot in the window (fmin skips NaN frames; the edges use the
    # part of the window inside the take)
    padded = np.pad(np.fmin(h[:, 0], h[:, 1]), w, constant_values=np.inf)
    floor = np.fmin.reduce(np.lib.stride_tricks.sliding_window_view(padded, 2 * w + 1), axis=-1)
    speed = np.linalg.norm(np.gradient(p, axis=0) * fps, axis=-1)
    with np.errstate(invalid="ignore"):   # NaN frames compare False: never planted
        low = h - floor[:, None] <= contact_height
        slower = speed <= speed[:, ::-1] + 1e-6   # equal speeds (a rigid pose translating) tie despite rounding
    return low & slower


def _reference_bones(skeleton: Skeleton) -> list[tuple[int, int]]:
    names = skeleton.joint_names
    chosen = [(c, p) for c, p in skeleton.bones() if names and names[c] in _TORSO_LEGS and names[p] in _TORSO_LEGS]
    return chosen or skeleton.bones()


# ---------------------------------------------------------------------------------- the root
def pseudo_trajectory(poses, keypoints_2d_pixels, width: float, height: float, focal: float | None = None,
                      root: int = 0, skeleton: Skeleton | None = None, method: str = "perspective") -> np.ndarray:
    """Camera-space position (T, 3) of the root joint of root-relative poses, from their 2D keypoints
    (pixels, one per joint of the poses; a third channel, if any, weights the joints: detector confidences).

    method="weak" (weak perspective): depth z = focal * (length of a reference in 3D) / (its length in
    the image, pixels). The reference is the torso and leg bones (all bones where the skeleton has no
    such names); its 3D length is taken on the x, y components of the bones, as seen from the camera,
    so that a bone pointing at the camera, short in the image, does not make the person look far away.
    x, y: the 2D root back-projected at that depth.

    method="perspective" (the default): the root that best reprojects every joint, by linear least
    squares on (x + X_j) = a_j (z + Z_j), (y + Y_j) = b_j (z + Z_j), where (a_j, b_j) are the joint's
    normalised image coordinates. Weak perspective ignores that a leg swinging towards the camera looks
    bigger: on a walk seen at 6 m its depth wobbles by ~1.5% (9 cm) with the gait, which reads as tens
    of cm/s of foot sliding; the least-squares root is exact for exact 2D.

    Assumptions: a pinhole camera without distortion, principal point at the image centre and, by
    default, focal = image width in pixels (about a 53 degree horizontal field of view, typical of
    phones and webcams); pass `focal` when it is known. Frames that cannot be placed get NaN.

    `skeleton` defaults to the Human3.6M-17 layout when the poses have 17 joints, HumanEva-15 for 15.
    """
    poses = np.asarray(poses, dtype=float)
    kp_all = np.asarray(keypoints_2d_pixels, dtype=float)
    kp = kp_all[..., :2]
    if skeleton is None:
        skeleton = default_skeleton(poses.shape[1] if poses.ndim == 3 else -1)
    poses = check_poses(poses, skeleton)
    if kp.shape != poses.shape[:2] + (2,):
        raise UserError(f"keypoints_2d must be (T, J, 2) in the poses' joint layout {poses.shape[:2]}, got {kp.shape}")
    f = float(width if focal is None else focal)
    centre = np.array([width / 2, height / 2])
    ab = (kp - centre) / f                                      # normalised image coordinates
    rel = poses - poses[:, root:root + 1]
    if method == "weak":
        child, parent = np.array(_reference_bones(skeleton)).T
        len_3d = np.linalg.norm(rel[:, child, :2] - rel[:, parent, :2], axis=-1).sum(-1)
        len_2d = np.linalg.norm(ab[:, child] - ab[:, parent], axis=-1).sum(-1)
        with np.errstate(invalid="ignore", divide="ignore"):
            z = np.where(len_2d * f > 1.0, len_3d / len_2d, np.nan)   # under a pixel: no depth
        return np.concatenate([ab[:, root] * z[:, None], z[:, None]], -1)
    if method != "perspective":
        raise UserError(f"method must be 'perspective' or 'weak', got {method!r}")
    w = kp_all[..., 2] if kp_all.shape[-1] > 2 else np.ones(kp.shape[:2])
    w = np.where(np.isfinite(ab).all(-1) & np.isfinite(w), w, 0.0)
    ab = np.nan_to_num(ab)
    T, n = kp.shape[:2]
    # rows [1, 0, -a_j] . (x, y, z) = a_j Z_j - X_j and [0, 1, -b_j] . (x, y, z) = b_j Z_j - Y_j
    A = np.zeros((T, n, 2, 3))
    A[..., 0, 0] = A[..., 1, 1] = 1.0
    A[..., 2] = -ab
    b = ab * rel[..., 2:] - rel[..., :2]
    A, b, w2 = A.reshape(T, 2 * n, 3), b.reshape(T, 2 * n), np.repeat(w, 2, axis=1)
    AtA = np.einsum("tki,tk,tkj->tij", A, w2, A)
    Atb = np.einsum("tki,tk,tk->ti", A, w2, b)
    ok = (w > 0).sum(1) >= 2                    # two points fix the three unknowns
    out = np.full((T, 3), np.nan)
    if ok.any():
        out[ok] = np.linalg.solve(AtA[ok] + 1e-12 * np.eye(3), Atb[ok][..., None])[..., 0]
    return out


def camera_trajectory(poses, keypoints_px, width: float, height: float, *, focal: float | None = None,
                      layout: str | None = None, skeleton: Skeleton | None = None, converted: bool = False) -> np.ndarray:
    """(T, 3) camera-space root positions (metres) of root-relative poses (T, J, 3), from the video's 2D
    keypoints (T, K, 2 or 3: pixels of the video, not zoomed; a third channel is confidences).

    `layout`: the keypoints' layout (default: the skeleton's own). Keypoints in another layout are converted
    to the skeleton's joints, and the joints that conversion only approximates (DERIVED_JOINTS) do not count;
    `converted=True` says the same of keypoints already converted (a COCO detector's, as a lifted video keeps
    them). `focal` in pixels; by default the image width (see `pseudo_trajectory`). NaN where a frame cannot
    be placed.
    """
    poses = np.asarray(poses, dtype=float)
    if skeleton is None:
        skeleton = default_skeleton(poses.shape[1] if poses.ndim == 3 else -1)
    own = skeleton_layout(skeleton)
    source = get_layout(layout) if layout is not None else own
    kp = np.asarray(keypoints_px, dtype=float)
    if kp.ndim != 3 or kp.shape[1] != source.num_joints or kp.shape[-1] not in (2, 3):
        raise UserError(f"keypoints_px must be (T, {source.num_joints}, 2 or 3) pixels of {source.name} keypoints, "
                        f"got {kp.shape}")
    weights = kp[..., 2] if kp.shape[-1] == 3 else np.ones(kp.shape[:2])
    if source.name != own.name:
        if own.name != "h36m-17":
            raise UserError(f"{source.name} keypoints cannot be converted to the {own.name} skeleton's joints")
        weights = source.scores_to_h36m17(weights).astype(float)
        kp = source.to_h36m17(kp[..., :2]).astype(float)
        converted = True
    if converted:
        weights = weights.copy()
        weights[:, [joint(skeleton, n) for n in DERIVED_JOINTS if n in skeleton.joint_names]] = 0.0
    kp = np.concatenate([kp[..., :2], weights[..., None]], -1)
    return pseudo_trajectory(poses, kp, width, height, focal, root=joint(skeleton, *_PELVIS), skeleton=skeleton)


# ---------------------------------------------------------------------------------- the floor
def body_up(positions, skeleton: Skeleton) -> np.ndarray:
    """(3,) the body's up direction: from the ankles' midpoint to the thorax, the median over frames of each
    component, normalised. Standing, the upper body is balanced over the feet, and most of a take is spent
    upright, so a cartwheel's frames do not decide it (measured: 2-3 degrees from the vertical on the
    synthetic takes, 5-8 on the DeepMimic walks, closer than the pelvis -> thorax axis on both)."""
    p = np.asarray(positions, dtype=float)
    left, right = feet(skeleton)
    axis = _unit(p[:, joint(skeleton, "Thorax")] - (p[:, left] + p[:, right]) / 2)
    up = np.nanmedian(axis, axis=0)
    if not np.isfinite(up).all() or np.linalg.norm(up) < 1e-9:
        raise UserError("cannot tell the body's up direction: no frame has the thorax and both ankles")
    return _unit(up)


def _robust_start(points: np.ndarray, up: np.ndarray, candidates: int = 300, max_tilt_deg: float = 30.0) -> np.ndarray:
    """Which points to fit (N,) bool: the inliers of the least-median-of-squares plane through three of them
    (tried `candidates` times, deterministically; planes tilted more than `max_tilt_deg` from `up` are not
    considered), so that a run of frames placed wrongly cannot drag the first fit towards itself."""
    i, j, k = np.random.default_rng(0).integers(len(points), size=(3, candidates))
    normal = np.cross(points[j] - points[i], points[k] - points[i])
    size = np.linalg.norm(normal, axis=-1)
    ok = (size > 1e-9) & (np.abs(normal @ up) >= size * np.cos(np.radians(max_tilt_deg)))
    if not ok.any():   # collinear points: only the up direction to go by
        residual = np.abs((points - np.median(points, axis=0)) @ up)
        return residual <= max(3 * 1.4826 * np.median(residual), 0.01)
    normal = normal[ok] / size[ok, None]
    residual = np.abs(np.einsum("cnk,ck->cn", points[None] - points[i[ok], None], normal))   # (candidates, N)
    score = np.median(residual, axis=1)
    best = int(np.argmin(score))
    return residual[best] <= max(3 * 1.4826 * score[best], 0.01)


def _fit_plane(points: np.ndarray, up: np.ndarray, rounds: int = 3) -> tuple[np.ndarray, float]:
    """(normal, offset) of the plane n.p = offset through `points` (N, 3), written as a height over the
    plane perpendicular to `up`, h = d + alpha a + beta b, fitted by ridge regression (the tilts alpha, beta
    shrunk towards 0, i.e. towards `up`, see PRIOR_SPREAD) to the inliers of a robust start, then to the
    points within 3 robust sigmas (1 cm at least) of the previous fit."""
    e1 = _unit(np.cross(up, [1.0, 0.0, 0.0] if abs(up[0]) < 0.9 else [0.0, 1.0, 0.0]))
    e2 = np.cross(up, e1)
    ab, h = points @ np.stack([e1, e2], 1), points @ up
    keep = _robust_start(points, up)
    for _ in range(rounds):
        mean_ab, mean_h = ab[keep].mean(0), h[keep].mean()
        x, y = ab[keep] - mean_ab, h[keep] - mean_h
        tilt = np.linalg.solve(x.T @ x + keep.sum() * PRIOR_SPREAD ** 2 * np.eye(2), x.T @ y)
        d = mean_h - mean_ab @ tilt
        residual = h - d - ab @ tilt
        spread = 1.4826 * np.median(np.abs(residual[keep]))
        keep = np.abs(residual) <= max(3 * spread, 0.01)
    m = up - tilt[0] * e1 - tilt[1] * e2
    return m / np.linalg.norm(m), float(d / np.linalg.norm(m))


def ground_plane(positions_camera, skeleton: Skeleton, *, fps: float | None = None, up=None,
                 contact_height: float = 0.05, rounds: int = 3) -> tuple[np.ndarray, float]:
    """(normal, offset): the floor {p : normal . p = offset} under camera-space positions (T, J, 3) that
    include the root's motion (poses + `camera_trajectory`); `normal` is a unit vector pointing up, and
    `normal . p - offset` is a point's height above the floor (metres).

    The plane is fitted to the ankles in the frames where they are planted (`planted_feet`: low and the
    slower foot), starting from `up` (default: the body's up direction, `body_up`) and refitting with each
    new normal `rounds` times; outliers are trimmed and the tilt about directions the feet do not spread in
    is held near the previous up direction. It is then lowered by the ankle's height above the floor
    (ANKLE_HEIGHT of the skeleton's `body_height`). `fps`: the take's frame rate (the planted test looks
    ±0.5 s around each frame); 25 when not given.
    """
    p = check_poses(positions_camera, skeleton, min_frames=2)
    p = p[np.isfinite(p).all((1, 2))]
    if len(p) < 2:
        raise UserError("ground_plane needs at least 2 frames with every joint placed (no NaN)")
    normal = _unit(np.asarray(up, dtype=float)) if up is not None else body_up(p, skeleton)
    ankles = p[:, list(feet(skeleton))]
    fitted = None
    for _ in range(rounds):
        planted = planted_feet(p, skeleton, fps or DEFAULT_VIDEO_FPS, normal, contact_height)
        if planted.sum() < 3:
            if fitted is not None:   # a refit that finds too few planted feet keeps the previous plane
                break
            raise UserError(f"ground_plane found {int(planted.sum())} planted foot positions; it needs 3")
        fitted = _fit_plane(ankles[planted], normal)
        normal = fitted[0]
    normal, offset = fitted
    return normal, offset - ANKLE_HEIGHT * body_height(p, skeleton)


def to_world(poses_camera, trajectory, plane, *, root: int = 0) -> np.ndarray:
    """(T, J, 3) positions in a world frame with z up and the floor at z = 0, from root-relative camera-space
    poses (T, J, 3), their root positions (T, 3) and the floor `plane` = (normal, offset) of `ground_plane`.

    The origin is the point of the floor under the camera, y the camera's viewing direction along the floor
    and x = y x z its right: the camera stands at (0, 0, its height) looking along +y, as in a right-handed
    world seen from behind the camera. NaN rows of the trajectory stay NaN.
    """
    poses = np.asarray(poses_camera, dtype=float)
    trajectory = np.asarray(trajectory, dtype=float)
    if poses.ndim != 3 or poses.shape[-1] != 3 or trajectory.shape != (len(poses), 3):
        raise UserError(f"to_world needs poses (T, J, 3) and a trajectory (T, 3), got {poses.shape} and "
                        f"{trajectory.shape}")
    normal, offset = plane
    z = _unit(np.asarray(normal, dtype=float))
    forward = np.array([0.0, 0.0, 1.0]) - z[2] * z               # the camera's optical axis along the floor
    if np.linalg.norm(forward) < 1e-6:
        raise UserError("the floor's normal is the camera's viewing direction: a camera looking straight down "
                        "has no forward along the floor")
    y = _unit(forward)
    x = np.cross(y, z)
    positions = poses - poses[:, root:root + 1] + trajectory[:, None]
    return (positions - offset * z) @ np.stack([x, y, z], 1)
