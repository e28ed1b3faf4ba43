"""How plausible is a lifted pose sequence when there is no ground truth to compare with?

Four checks that need only the predicted 3D poses (T, J, 3) in metres, camera space (x right, y down,
z forward), root-relative, and the skeleton's joint names:

- bone length variation: a real person's bones keep their length, so any change over frames is error;
- left/right asymmetry: mirrored bones (LHip-LKnee and RHip-RKnee) of one person have about the same length;
- foot sliding: a planted foot does not move over the floor. The poses are root-relative, so the root
  is first placed in the camera from the 2D keypoints (`pseudo_trajectory`);
- joint angles outside human limits: knees and elbows folded beyond 165 degrees, knees bent backwards.

`plausibility_report` runs them all and prints a table or a one-line summary.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import UserError
from ..skeleton import H36M_17, HUMANEVA_15, Skeleton
from ..tables import text_table

FOLD_LIMIT_DEG = 165.0          # knee/elbow flexion beyond this is outside human range (0 = straight)
HYPEREXTENSION_LIMIT_DEG = -10.0  # signed knee flexion below this: the knee bends backwards
_PELVIS = ("Hip", "Pelvis")     # H36M-17 calls the pelvis "Hip", HumanEva-15 "Pelvis"
_ANKLES = ("Foot", "Ankle")     # H36M-17 "LFoot" is the ankle joint, HumanEva-15 says "LAnkle"
# Joints of the torso and the legs: the weak-perspective depth reference (arms move and foreshorten too much).
_TORSO_LEGS = {"Hip", "Pelvis", "Spine", "Thorax", "LHip", "RHip", "LKnee", "RKnee", "LFoot", "RFoot",
               "LAnkle", "RAnkle"}


# ------------------------------------------------------------------------------------- helpers
def _check_poses(poses, skeleton: Skeleton, min_frames: int = 1) -> np.ndarray:
    poses = np.asarray(poses, dtype=float)
    if poses.ndim != 3 or poses.shape[1:] != (skeleton.num_joints, 3):
        raise UserError(f"expected poses of shape (T, {skeleton.num_joints}, 3) for skeleton {skeleton.name}, "
                        f"got {poses.shape}")
    if len(poses) < min_frames:
        raise UserError(f"need at least {min_frames} frames, got {len(poses)}")
    return poses


def _index(skeleton: Skeleton, *candidates: str) -> int | None:
    for name in candidates:
        if name in skeleton.joint_names:
            return skeleton.joint_names.index(name)
    return None


def _require_names(skeleton: Skeleton, what: str) -> None:
    if not skeleton.joint_names:
        raise UserError(f"skeleton {skeleton.name} has no joint names; {what} finds its joints by name")


def _bone_name(skeleton: Skeleton, child: int, parent: int) -> str:
    names = skeleton.joint_names or tuple(str(j) for j in range(skeleton.num_joints))
    return f"{names[parent]}-{names[child]}"


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-12)


def _pct(x: float) -> float:
    return 100.0 * float(x)


# ------------------------------------------------------------------------ 1. bone length variation
@dataclass(frozen=True)
class BoneLengthVariation:
    """Coefficient of variation (population std / mean over frames, a fraction) of each bone's length."""

    bones: tuple[str, ...]
    cv: np.ndarray
    mean_length: np.ndarray   # metres

    @property
    def median_pct(self) -> float:
        return _pct(np.nanmedian(self.cv))

    @property
    def max_pct(self) -> float:
        return _pct(np.nanmax(self.cv))

    @property
    def worst(self) -> str:
        return self.bones[int(np.nanargmax(self.cv))]


def bone_length_variation(poses, skeleton: Skeleton) -> BoneLengthVariation:
    poses = _check_poses(poses, skeleton)
    lengths = skeleton.bone_lengths(poses)                  # (T, B)
    mean = lengths.mean(0)
    with np.errstate(invalid="ignore", divide="ignore"):     # a zero-length bone has no relative variation
        cv = np.where(mean > 1e-9, lengths.std(0) / mean, np.nan)
    names = tuple(_bone_name(skeleton, c, p) for c, p in skeleton.bones())
    return BoneLengthVariation(names, cv, mean)


# ------------------------------------------------------------------------ 2. left/right asymmetry
@dataclass(frozen=True)
class Asymmetry:
    """Per mirrored bone pair: mean over frames of |L - R| / mean(L, R) (a fraction)."""

    pairs: tuple[tuple[str, str], ...]   # (left bone, right bone)
    value: np.ndarray

    @property
    def mean_pct(self) -> float:
        return _pct(np.nanmean(self.value))

    @property
    def max_pct(self) -> float:
        return _pct(np.nanmax(self.value))

    @property
    def worst(self) -> tuple[str, str]:
        return self.pairs[int(np.nanargmax(self.value))]


def mirrored_bone_pairs(skeleton: Skeleton) -> list[tuple[int, int]]:
    """(left bone index, right bone index) into skeleton.bones(): the right bone is the left one with
    every joint swapped by the skeleton's symmetry (Thorax-LShoulder pairs with Thorax-RShoulder)."""
    bones = skeleton.bones()
    where = {b: i for i, b in enumerate(bones)}
    perm = skeleton.symmetry_permutation()
    left = set(skeleton.joints_left)
    pairs = []
    for i, (c, p) in enumerate(bones):
        mirror = (int(perm[c]), int(perm[p]))
        if c in left and mirror in where:
            pairs.append((i, where[mirror]))
    return pairs


def left_right_asymmetry(poses, skeleton: Skeleton) -> Asymmetry:
    poses = _check_poses(poses, skeleton)
    pairs = mirrored_bone_pairs(skeleton)
    if not pairs:
        raise UserError(f"skeleton {skeleton.name} has no mirrored bones (joints_left/right are empty)")
    lengths = skeleton.bone_lengths(poses)
    li, ri = np.array(pairs).T
    L, R = lengths[:, li], lengths[:, ri]
    with np.errstate(invalid="ignore", divide="ignore"):
        rel = np.abs(L - R) / ((L + R) / 2)
    bones = skeleton.bones()
    names = tuple((_bone_name(skeleton, *bones[a]), _bone_name(skeleton, *bones[b])) for a, b in pairs)
    return Asymmetry(names, rel.mean(0))


# ----------------------------------------------------------------------------- 3. foot sliding
def _reference_bones(skeleton: Skeleton) -> list[tuple[int, int]]:
    names = skeleton.joint_names
    chosen = [(c, p) for c, p in skeleton.bones() if names and names[c] in _TORSO_LEGS and names[p] in _TORSO_LEGS]
    return chosen or skeleton.bones()


def pseudo_trajectory(poses, keypoints_2d_pixels, width: float, height: float, focal: float | None = None,
                      root: int = 0, skeleton: Skeleton | None = None, method: str = "perspective") -> np.ndarray:
    """Camera-space position (T, 3) of the root joint of root-relative poses, from their 2D keypoints.

    method="weak" (weak perspective): depth z = focal * (length of a reference in 3D) / (its length in
    the image, pixels). The reference is the torso and leg bones (all bones where the skeleton has no
    such names); its 3D length is taken on the x, y components of the bones, as seen from the camera,
    so that a bone pointing at the camera, short in the image, does not make the person look far away.
    x, y: the 2D root back-projected at that depth.

    method="perspective" (the default): the root that best reprojects every joint, by linear least
    squares on (x + X_j) = a_j (z + Z_j), (y + Y_j) = b_j (z + Z_j), where (a_j, b_j) are the joint's
    normalised image coordinates. Weak perspective ignores that a leg swinging towards the camera looks
    bigger: on a walk seen at 6 m its depth wobbles by ~1.5% (9 cm) with the gait, which reads as tens
    of cm/s of foot sliding; the least-squares root is exact for exact 2D. A third keypoint channel, if
    any, weights the joints (detector confidences).

    Assumptions: a pinhole camera without distortion, principal point at the image centre and, by
    default, focal = image width in pixels (about a 53 degree horizontal field of view, typical of
    phones and webcams); pass `focal` when it is known. Frames that cannot be placed get NaN.

    `skeleton` defaults to the Human3.6M-17 layout when the poses have 17 joints, HumanEva-15 for 15.
    """
    poses = np.asarray(poses, dtype=float)
    kp_all = np.asarray(keypoints_2d_pixels, dtype=float)
    kp = kp_all[..., :2]
    if skeleton is None:
        skeleton = _default_skeleton(poses.shape[1] if poses.ndim == 3 else -1)
    poses = _check_poses(poses, skeleton)
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


def _default_skeleton(num_joints: int) -> Skeleton:
    for s in (H36M_17, HUMANEVA_15):
        if s.num_joints == num_joints:
            return s
    raise UserError(f"no default skeleton has {num_joints} joints; pass skeleton=")


def feet(skeleton: Skeleton) -> tuple[int, int]:
    """Indices of the (left, right) ankle joints, found by name."""
    _require_names(skeleton, "foot sliding")
    for suffix in _ANKLES:
        left, right = _index(skeleton, "L" + suffix), _index(skeleton, "R" + suffix)
        if left is not None and right is not None:
            return left, right
    raise UserError(f"skeleton {skeleton.name} has no feet: foot sliding needs joints named LFoot/RFoot or "
                    f"LAnkle/RAnkle, it has {', '.join(skeleton.joint_names)}")


@dataclass(frozen=True)
class FootSliding:
    planted: np.ndarray          # (T, 2) bool, left then right foot
    horizontal_speed: np.ndarray  # (T, 2) m/s, the feet's speed perpendicular to `up`

    @property
    def sliding_cm_s(self) -> float:
        """Mean horizontal speed of the planted feet (over all planted foot-frames); NaN if none."""
        if not self.planted.any():
            return float("nan")
        return 100.0 * float(self.horizontal_speed[self.planted].mean())

    @property
    def planted_pct(self) -> float:
        """Share of frames with at least one planted foot."""
        return _pct(self.planted.any(1).mean())


def foot_sliding(positions, skeleton: Skeleton, fps: float, up=(0.0, -1.0, 0.0), contact_height: float = 0.05,
                 window_s: float = 0.5) -> FootSliding:
    """How fast planted feet move over the floor, in positions (T, J, 3) that include the root's motion.

    A foot is planted in a frame when its height along `up` is within `contact_height` (m) of the lowest
    height of either foot in the frames within ±`window_s` seconds (the floor there), and it is the
    slower of the two feet (ties: both). Its sliding is its speed perpendicular to `up` (central
    differences). The default `up` is -y: camera space with a level camera.
    """
    left, right = feet(skeleton)
    positions = _check_poses(positions, skeleton, min_frames=2)
    up = _unit(np.asarray(up, dtype=float))
    p = positions[:, [left, right]]                           # (T, 2, 3)
    h = p @ up
    w = max(int(round(window_s * fps)), 0)
    # per-frame floor estimate: lowest height of either foot in the window (fmin skips NaN frames;
    # the edges use the part of the window inside the take)
    padded = np.pad(np.fmin(h[:, 0], h[:, 1]), w, constant_values=np.inf)
    floor = np.fmin.reduce(np.lib.stride_tricks.sliding_window_view(padded, 2 * w + 1), axis=-1)
    v = np.gradient(p, axis=0) * fps
    speed = np.linalg.norm(v, axis=-1)
    horizontal = np.linalg.norm(v - (v @ up)[..., None] * up, axis=-1)
    with np.errstate(invalid="ignore"):   # NaN frames (no trajectory) compare False: never planted
        low = h - floor[:, None] <= contact_height
        slower = speed <= speed[:, ::-1] + 1e-6   # equal speeds (a rigid pose translating) tie despite rounding
    return FootSliding(low & slower, horizontal)


# ------------------------------------------------------------------------------- 4. joint angles
def _limb_triplets(skeleton: Skeleton) -> list[tuple[str, int, int, int]]:
    """(name of the middle joint, upper, middle, lower) for the knees and elbows the skeleton has."""
    _require_names(skeleton, "the joint-limit check")
    out = []
    for side in "LR":
        for upper, middle, lowers in (("Hip", "Knee", _ANKLES), ("Shoulder", "Elbow", ("Wrist",))):
            ids = (_index(skeleton, side + upper), _index(skeleton, side + middle),
                   _index(skeleton, *(side + x for x in lowers)))
            if None not in ids:
                out.append((side + middle, *ids))
    if not out:
        raise UserError(f"skeleton {skeleton.name} has no knees or elbows by name ({', '.join(skeleton.joint_names)})")
    return out


def forward_direction(poses, skeleton: Skeleton) -> np.ndarray:
    """The body's forward direction (T, 3): torso up (pelvis -> thorax) x hips' left -> right.

    In a right-handed frame (camera space is one), up x right = forward: a person upright facing the
    camera has up = -y and right (their right, the image's left) = -x, and (-y) x (-x) = -z, towards the camera.
    """
    _require_names(skeleton, "the body's forward direction")
    ids = (_index(skeleton, *_PELVIS), _index(skeleton, "Thorax"), _index(skeleton, "LHip"), _index(skeleton, "RHip"))
    if None in ids:
        raise UserError(f"skeleton {skeleton.name} needs joints named Hip/Pelvis, Thorax, LHip and RHip")
    pelvis, thorax, lhip, rhip = ids
    return _unit(np.cross(poses[:, thorax] - poses[:, pelvis], poses[:, rhip] - poses[:, lhip]))


@dataclass(frozen=True)
class JointLimits:
    joints: tuple[str, ...]        # LKnee, LElbow, RKnee, RElbow (those the skeleton has)
    flexion_deg: np.ndarray        # (T, n) unsigned, 0 = straight
    signed_knee_deg: dict          # knee name -> (T,) flexion in the sagittal plane, negative = backwards
    outside: np.ndarray            # (T, n) bool

    @property
    def frames_outside_pct(self) -> float:
        return _pct(self.outside.any(1).mean())

    def share_by_joint(self) -> list[tuple[str, float]]:
        """(joint, % of frames outside limits), most often first, only joints that ever are."""
        share = 100.0 * self.outside.mean(0)
        return sorted(((j, float(s)) for j, s in zip(self.joints, share) if s > 0), key=lambda x: -x[1])


def joint_limits(poses, skeleton: Skeleton, fold_limit_deg: float = FOLD_LIMIT_DEG,
                 hyperextension_limit_deg: float = HYPEREXTENSION_LIMIT_DEG) -> JointLimits:
    """Knees and elbows outside human range: flexion (the angle between upper and lower segment, 0 =
    straight) above `fold_limit_deg`, or a knee whose signed flexion is below `hyperextension_limit_deg`.

    Signed knee flexion is measured in the leg's sagittal plane, about the body's right axis
    (forward x up): positive when the shank swings behind the thigh, as a knee normally bends, whether
    standing (thigh down) or sitting (thigh forward); negative when the knee bends backwards.
    """
    poses = _check_poses(poses, skeleton)
    triplets = _limb_triplets(skeleton)
    forward = forward_direction(poses, skeleton)
    pelvis, thorax = _index(skeleton, *_PELVIS), _index(skeleton, "Thorax")
    right_axis = _unit(np.cross(forward, poses[:, thorax] - poses[:, pelvis]))
    flexion, signed, outside = [], {}, []
    for name, a, b, c in triplets:
        d1, d2 = poses[:, b] - poses[:, a], poses[:, c] - poses[:, b]
        cos = np.einsum("ti,ti->t", d1, d2)
        unsigned = np.degrees(np.arctan2(np.linalg.norm(np.cross(d1, d2), axis=-1), cos))
        bad = unsigned > fold_limit_deg
        if name.endswith("Knee"):
            # d1 x d2 points along -right for a normal bend (thigh down, shank back: (-up) x (-forward) = -right)
            s = np.degrees(np.arctan2(-np.einsum("ti,ti->t", np.cross(d1, d2), right_axis), cos))
            signed[name] = s
            bad = bad | (s < hyperextension_limit_deg)
        flexion.append(unsigned)
        outside.append(bad)
    return JointLimits(tuple(t[0] for t in triplets), np.stack(flexion, 1), signed, np.stack(outside, 1))


# ------------------------------------------------------------------------------------ 5. report
@dataclass(frozen=True)
class PlausibilityReport:
    frames: int
    fps: float
    bone_variation: BoneLengthVariation
    asymmetry: Asymmetry
    joint_limits: JointLimits
    foot_sliding: FootSliding | None = None
    foot_sliding_note: str = ""               # why foot_sliding is None
    trajectory: np.ndarray | None = field(default=None, repr=False)   # the pseudo-trajectory used

    def rows(self) -> list[tuple[str, float | None, str, str]]:
        """(metric, value, unit, what it means); value None where it could not be measured."""
        bv, asym, jl, fs = self.bone_variation, self.asymmetry, self.joint_limits, self.foot_sliding
        worst_joints = ", ".join(f"{j} {s:.1f}%" for j, s in jl.share_by_joint()) or "none"
        rows = [
            ("bone length variation (median)", bv.median_pct, "%",
             "std/mean of a bone's length over frames, median over bones; real bones: 0"),
            ("bone length variation (max)", bv.max_pct, "%", f"the most varying bone ({bv.worst})"),
            ("left/right asymmetry (mean)", asym.mean_pct, "%",
             "|L-R|/mean(L,R) of mirrored bones, mean over frames and pairs; a person: a few %"),
            ("left/right asymmetry (max)", asym.max_pct, "%", f"the most asymmetric pair ({asym.worst[0]} vs {asym.worst[1]})"),
        ]
        if fs is None:
            rows += [("foot sliding while planted", None, "cm/s", f"not measured: {self.foot_sliding_note}"),
                     ("frames with a planted foot", None, "%", f"not measured: {self.foot_sliding_note}")]
        else:
            rows += [("foot sliding while planted", fs.sliding_cm_s, "cm/s",
                      "horizontal speed of a planted foot (root placed from the 2D keypoints); real feet: ~0"),
                     ("frames with a planted foot", fs.planted_pct, "%", "frames where a foot is low and the slower one")]
        rows.append(("frames outside human limits", jl.frames_outside_pct, "%",
                     f"knee/elbow folded > {FOLD_LIMIT_DEG:g} deg or knee bent backwards < {HYPEREXTENSION_LIMIT_DEG:g} deg; "
                     f"by joint: {worst_joints}"))
        return rows

    def table(self) -> str:
        rows = self.rows()
        wide = max(len(r[3]) for r in rows)   # text_table right-aligns all but the first column: pad to read left
        body = [[m, "n/a" if v is None or not np.isfinite(v) else f"{v:.1f}", u, what.ljust(wide)]
                for m, v, u, what in rows]
        return text_table(["metric", "value", "unit", "what it means".ljust(wide)], body, sep="  ",
                          title=f"plausibility of {self.frames} frames at {self.fps:g} fps (no ground truth needed)")

    def summary(self) -> str:
        bv, asym, jl, fs = self.bone_variation, self.asymmetry, self.joint_limits, self.foot_sliding
        if fs is None:
            sliding = f"foot sliding n/a ({self.foot_sliding_note})"
        elif not np.isfinite(fs.sliding_cm_s):
            sliding = "foot sliding n/a (no planted foot found)"
        else:
            sliding = f"foot sliding {fs.sliding_cm_s:.1f} cm/s while planted ({fs.planted_pct:.0f}% of frames)"
        joints = [j for j, _ in jl.share_by_joint()]
        limits = f"{jl.frames_outside_pct:.1f}% of frames with a joint outside human limits"
        if joints:
            limits += f" ({', '.join(joints[:2])})"
        return (f"plausibility: bone length varies {bv.median_pct:.1f}% (median, max {bv.max_pct:.1f}%), "
                f"left/right asymmetry {asym.mean_pct:.1f}%, {sliding}, {limits}")


def plausibility_report(poses, skeleton: Skeleton, fps: float, keypoints_2d=None, width: float | None = None,
                        height: float | None = None, focal: float | None = None) -> PlausibilityReport:
    """All checks on root-relative camera-space poses (T, J, 3). Foot sliding needs the 2D keypoints
    (pixels, the poses' joint layout) and the image size to place the root (`pseudo_trajectory`)."""
    poses = _check_poses(poses, skeleton)
    sliding, note, trajectory = None, "", None
    if keypoints_2d is None:
        note = "needs the 2D keypoints and the image size to place the root"
    elif width is None or height is None:
        note = "2D keypoints given without the image width and height"
    else:
        try:
            feet(skeleton)
        except UserError as e:
            note = str(e)
        else:
            if len(poses) < 2:
                note = "needs at least 2 frames"
            else:
                trajectory = pseudo_trajectory(poses, keypoints_2d, width, height, focal, skeleton=skeleton)
                sliding = foot_sliding(poses + trajectory[:, None], skeleton, fps)
    return PlausibilityReport(len(poses), float(fps), bone_length_variation(poses, skeleton),
                              left_right_asymmetry(poses, skeleton), joint_limits(poses, skeleton),
                              sliding, note, trajectory)
