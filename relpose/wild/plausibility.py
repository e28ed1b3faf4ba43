"""How plausible is a lifted pose sequence when there is no ground truth to compare with?

Five checks that need only the predicted 3D poses (T, J, 3) in metres, camera space (x right, y down,
z forward), root-relative, and the skeleton's joint names:

- bone length variation: a real person's bones keep their length, so any change over frames is error;
- left/right asymmetry: mirrored bones (LHip-LKnee and RHip-RKnee) of one person have about the same length;
- foot sliding: a planted foot does not move over the floor. The poses are root-relative, so the root
  is first placed in the camera from the 2D keypoints (`pseudo_trajectory`, relpose.wild.trajectory);
- joint angles outside human limits: knees and elbows folded beyond 165 degrees, knees bent backwards;
- body size: the height from bone lengths and the body's proportions (shoulder width, hip width, leg
  length, arm span over height) against adult and child ranges (relpose.wild.anthropometry). A model that
  reads a person's size from their size in the image makes a far pedestrian a child and a near one a giant.

`plausibility_report` runs them all and prints a table or a one-line summary, each value beside its
yardsticks (relpose.wild.yardsticks: the same checks on takes whose truth is known) when the package has them.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..cameras import image_coordinates
from ..custom_keypoints import DEFAULT_VIDEO_FPS
from ..errors import UserError
from ..skeleton import Skeleton
from ..tables import text_table
from .anthropometry import ADULT_HEIGHT_M, ADULT_RANGES, CHILD_HEIGHT_M, CHILD_RANGES, body_height, proportions
from .trajectory import check_poses as _check_poses
# feet and pseudo_trajectory live in relpose.wild.trajectory and are used here (and imported from here by callers)
from .trajectory import feet, planted_feet, pseudo_trajectory
from .yardsticks import Yardsticks, load_yardsticks

FOLD_LIMIT_DEG = 165.0          # knee/elbow flexion beyond this is outside human range (0 = straight)
HYPEREXTENSION_LIMIT_DEG = -10.0  # signed knee flexion below this: the knee bends backwards
_PELVIS = ("Hip", "Pelvis")     # H36M-17 calls the pelvis "Hip", HumanEva-15 "Pelvis"
_ANKLES = ("Foot", "Ankle")     # H36M-17 "LFoot" is the ankle joint, HumanEva-15 says "LAnkle"
PACKAGED = "packaged"   # table()/summary(yardsticks=PACKAGED): the yardsticks file the package holds, if any


# ------------------------------------------------------------------------------------- helpers
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
    slower of the two feet (ties: both; relpose.wild.trajectory.planted_feet). Its sliding is its speed
    perpendicular to `up` (central differences). The default `up` is -y: camera space with a level camera.
    """
    left, right = feet(skeleton)
    positions = _check_poses(positions, skeleton, min_frames=2)
    up = _unit(np.asarray(up, dtype=float))
    v = np.gradient(positions[:, [left, right]], axis=0) * fps
    horizontal = np.linalg.norm(v - (v @ up)[..., None] * up, axis=-1)
    return FootSliding(planted_feet(positions, skeleton, fps, up, contact_height, window_s), horizontal)


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


# -------------------------------------------------------------------------------- 5. body size
def _range_text(low: float, high: float, scale: float = 1.0, fmt: str = "{:.2f}") -> str:
    return f"{fmt.format(low * scale)}-{fmt.format(high * scale)}"


@dataclass(frozen=True)
class BodySize:
    """The height (metres, from bone lengths: relpose.wild.anthropometry.body_height) and the proportions
    (ratios to the height) of the lifted body, judged against adult and child ranges."""

    height_m: float
    ratios: dict

    def height_verdict(self) -> str:
        """'' inside the adult range, else why not, e.g. 'below the adult range 1.45-2.00 m (a child, ...)'."""
        (low, high), (child_low, _) = ADULT_HEIGHT_M, CHILD_HEIGHT_M
        adult = f"the adult range {_range_text(low, high)} m"
        if self.height_m < child_low:
            return f"below {adult} and a child's {child_low:.2f} m (the person's size was misread)"
        if self.height_m < low:
            return f"below {adult} (a child, or the person's size was misread)"
        if self.height_m > high:
            return f"above {adult} (the person's size was misread, e.g. someone close to the camera)"
        return ""

    def proportion_verdicts(self) -> dict:
        """{proportion: why it is outside the adult range} for those that are."""
        out = {}
        for name, value in self.ratios.items():
            low, high = ADULT_RANGES[name]
            if low <= value <= high:
                continue
            side = "below" if value < low else "above"
            child_low, child_high = CHILD_RANGES[name]
            child = " (a child's)" if child_low <= value <= child_high else ""
            out[name] = f"{side} the adult range {_range_text(low, high, 100, '{:.0f}')}%{child}"
        return out

    @property
    def plausible(self) -> bool:
        return not self.height_verdict() and not self.proportion_verdicts()

    def summary(self) -> str:
        """'height 1.72 m', with what is outside the adult ranges: 'height 1.13 m: below the adult range ...'."""
        text = f"height {self.height_m:.2f} m"
        if self.height_verdict():
            text += f": {self.height_verdict()}"
        off = self.proportion_verdicts()
        if off:
            text += "; " + ", ".join(f"{name} {100 * self.ratios[name]:.0f}% of height {why}" for name, why in off.items())
        return text


def body_size(poses, skeleton: Skeleton) -> BodySize:
    poses = _check_poses(poses, skeleton)
    return BodySize(body_height(poses, skeleton), proportions(poses, skeleton))


# ------------------------------------------------------------------------------------ 6. report
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
    body: BodySize | None = None              # height and proportions
    body_note: str = ""                       # why body is None
    left_out: int = 0                         # frames not checked (filled in time: nobody was detected there)

    def keyed_rows(self) -> list[tuple[str, str, float | None, str, str]]:
        """(key, metric, value, unit, what it means): `rows` with each row's stable key, by which the
        yardsticks file (relpose.wild.yardsticks) stores the same value measured on takes with known truth."""
        bv, asym, jl, fs = self.bone_variation, self.asymmetry, self.joint_limits, self.foot_sliding
        worst_joints = ", ".join(f"{j} {s:.1f}%" for j, s in jl.share_by_joint()) or "none"
        rows = [
            ("bone_variation_median_pct", "bone length variation (median)", bv.median_pct, "%",
             "std/mean of a bone's length over frames, median over bones; real bones: 0"),
            ("bone_variation_max_pct", "bone length variation (max)", bv.max_pct, "%",
             f"the most varying bone ({bv.worst})"),
            ("asymmetry_mean_pct", "left/right asymmetry (mean)", asym.mean_pct, "%",
             "|L-R|/mean(L,R) of mirrored bones, mean over frames and pairs; a person: a few %"),
            ("asymmetry_max_pct", "left/right asymmetry (max)", asym.max_pct, "%",
             f"the most asymmetric pair ({asym.worst[0]} vs {asym.worst[1]})"),
        ]
        if fs is None:
            rows += [("foot_sliding_cm_s", "foot sliding while planted", None, "cm/s",
                      f"not measured: {self.foot_sliding_note}"),
                     ("planted_frames_pct", "frames with a planted foot", None, "%",
                      f"not measured: {self.foot_sliding_note}")]
        else:
            rows += [("foot_sliding_cm_s", "foot sliding while planted", fs.sliding_cm_s, "cm/s",
                      "horizontal speed of a planted foot (root placed from the 2D keypoints); real feet: ~0"),
                     ("planted_frames_pct", "frames with a planted foot", fs.planted_pct, "%",
                      "frames where a foot is low and the slower one")]
        rows.append(("outside_limits_pct", "frames outside human limits", jl.frames_outside_pct, "%",
                     f"knee/elbow folded > {FOLD_LIMIT_DEG:g} deg or knee bent backwards < "
                     f"{HYPEREXTENSION_LIMIT_DEG:g} deg; by joint: {worst_joints}"))
        rows += self._body_rows()
        return rows

    def rows(self) -> list[tuple[str, float | None, str, str]]:
        """(metric, value, unit, what it means); value None where it could not be measured."""
        return [row[1:] for row in self.keyed_rows()]

    def values(self) -> dict[str, float | None]:
        """{key: value} of the table (None where not measured): what relpose.lab.yardsticks aggregates."""
        return {key: value for key, _, value, _, _ in self.keyed_rows()}

    def _body_rows(self) -> list[tuple[str, str, float | None, str, str]]:
        if self.body is None:
            return [("height_cm", "height", None, "cm", f"not measured: {self.body_note}")]
        low, high = ADULT_HEIGHT_M
        verdict = self.body.height_verdict() or f"adults {low:.2f}-{high:.2f} m"
        rows = [("height_cm", "height", 100 * self.body.height_m, "cm",
                 f"head top to floor from bone lengths; {verdict}")]
        off = self.body.proportion_verdicts()
        for name, value in self.body.ratios.items():
            a, b = ADULT_RANGES[name]
            c, d = CHILD_RANGES[name]
            rows.append((f"{name.replace(' ', '_')}_pct", f"{name} / height", 100 * value, "%",
                         f"adults {100 * a:.0f}-{100 * b:.0f}%, children {100 * c:.0f}-{100 * d:.0f}%"
                         + (f": {off[name]}" if name in off else "")))
        return rows

    def table(self, yardsticks=PACKAGED) -> str:
        """The checks as a table; beside each value, the yardsticks' median [10-90% range] over takes whose
        truth is known (relpose.wild.yardsticks: PACKAGED reads the package's file, None shows none)."""
        marks, why_not = _resolve(yardsticks)
        columns = marks.columns if marks is not None else ()
        rows = self.keyed_rows()
        wide = max(len(r[4]) for r in rows)   # text_table right-aligns all but the first column: pad to read left
        body = [[m, "n/a" if v is None or not np.isfinite(v) else f"{v:.1f}", u, *(c.cell(key) for c in columns),
                 what.ljust(wide)] for key, m, v, u, what in rows]
        note = marks.note() if marks is not None else why_not
        return text_table(["metric", "value", "unit", *(c.label for c in columns), "what it means".ljust(wide)], body,
                          sep="  ", title=f"plausibility of {self.frames} frames at {self.fps:g} fps (no ground truth "
                                          f"needed{self._left_out_text()})", note=note)

    def _left_out_text(self) -> str:
        if not self.left_out:
            return ""
        return f"; {self.left_out} frame{'s' if self.left_out != 1 else ''} with nobody detected, filled in time, left out"

    def summary(self, yardsticks=PACKAGED) -> str:
        """One line; with yardsticks, each check's main value is followed by theirs in brackets:
        'left/right asymmetry 8.0% [mocap truth 1.9%, wild-quick on mocap 6.1%]'."""
        marks, _ = _resolve(yardsticks)
        beside = lambda key, unit="%", scale=1.0, fmt=".1f": _beside(marks, key, unit, scale, fmt)  # noqa: E731
        bv, asym, jl, fs = self.bone_variation, self.asymmetry, self.joint_limits, self.foot_sliding
        if fs is None:
            sliding = f"foot sliding n/a ({self.foot_sliding_note})"
        elif not np.isfinite(fs.sliding_cm_s):
            sliding = "foot sliding n/a (no planted foot found)"
        else:
            sliding = f"foot sliding {fs.sliding_cm_s:.1f} cm/s while planted ({fs.planted_pct:.0f}% of frames)"
        sliding += beside("foot_sliding_cm_s", " cm/s")
        joints = [j for j, _ in jl.share_by_joint()]
        limits = f"{jl.frames_outside_pct:.1f}% of frames with a joint outside human limits"
        if joints:
            limits += f" ({', '.join(joints[:2])})"
        limits += beside("outside_limits_pct")
        if self.body is None:
            body = f"height n/a ({self.body_note})" + beside("height_cm", " m", 0.01, ".2f")
        else:   # the yardstick right after the height, before any verdict on it
            text, height = self.body.summary(), f"height {self.body.height_m:.2f} m"
            body = height + beside("height_cm", " m", 0.01, ".2f") + text[len(height):]
        return (f"plausibility: bone length varies {bv.median_pct:.1f}% (median, max {bv.max_pct:.1f}%)"
                f"{beside('bone_variation_median_pct')}, {body}, left/right asymmetry {asym.mean_pct:.1f}%"
                f"{beside('asymmetry_mean_pct')}, {sliding}, {limits}{self._left_out_text()}")


def _resolve(yardsticks) -> tuple[Yardsticks | None, str | None]:
    """(yardsticks, why there are none): a lift prints its checks whatever state the yardsticks file is in."""
    if yardsticks is None or isinstance(yardsticks, Yardsticks):
        return yardsticks, None
    if yardsticks != PACKAGED:
        raise TypeError(f"yardsticks must be Yardsticks, None or PACKAGED, got {yardsticks!r}")
    try:
        return load_yardsticks(), None
    except UserError as e:   # a damaged file must not stop a lift from being reported
        return None, f"yardsticks not shown: {e}"


def _beside(marks: Yardsticks | None, key: str, unit: str, scale: float, fmt: str) -> str:
    """' [mocap truth 1.9%, wild-quick on mocap 6.1%]': each shown set's median of `key`; '' without yardsticks."""
    if marks is None:
        return ""
    parts = [f"{c.label} {format(c.median(key) * scale, fmt)}{unit}" for c in marks.columns
             if c.median(key) is not None]
    return f" [{', '.join(parts)}]" if parts else ""


def plausibility_report(poses, skeleton: Skeleton, fps: float, keypoints_2d=None, width: float | None = None,
                        height: float | None = None, focal: float | None = None, checked=None) -> PlausibilityReport:
    """All checks on root-relative camera-space poses (T, J, 3). Foot sliding needs the 2D keypoints
    (pixels, the poses' joint layout) and the image size to place the root (`pseudo_trajectory`).

    `checked` (T,) bool: the frames to judge (default all). Frames where nobody was detected hold poses
    lifted from keypoints filled in time: they say nothing of the model and are left out. Foot speeds are
    still taken over consecutive frames of the whole take, then kept for the checked frames only."""
    poses = _check_poses(poses, skeleton)
    if checked is not None:
        checked = np.asarray(checked, dtype=bool)
        if checked.shape != (len(poses),):
            raise UserError(f"checked must be one flag per frame ({len(poses)}), got shape {checked.shape}")
        if not checked.any():
            raise UserError("no frame to check: every frame was filled in time (nobody was detected)")
        if checked.all():
            checked = None
    if checked is not None:
        full = plausibility_report(poses, skeleton, fps, keypoints_2d, width, height, focal)
        kept = poses[checked]
        sliding = full.foot_sliding
        if sliding is not None:
            sliding = FootSliding(sliding.planted[checked], sliding.horizontal_speed[checked])
        body, body_note = full.body, full.body_note
        try:
            body = body_size(kept, skeleton)
        except UserError as e:
            body, body_note = None, str(e)
        return PlausibilityReport(len(kept), float(fps), bone_length_variation(kept, skeleton),
                                  left_right_asymmetry(kept, skeleton), joint_limits(kept, skeleton), sliding,
                                  full.foot_sliding_note, full.trajectory, body, body_note,
                                  left_out=int((~checked).sum()))
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
    body, body_note = None, ""
    try:
        body = body_size(poses, skeleton)
    except UserError as e:
        body_note = str(e)
    return PlausibilityReport(len(poses), float(fps), bone_length_variation(poses, skeleton),
                              left_right_asymmetry(poses, skeleton), joint_limits(poses, skeleton),
                              sliding, note, trajectory, body, body_note)


def take_plausibility(dataset, subject: str, action: str, camera: int, poses, model_fps=None) -> PlausibilityReport:
    """The plausibility checks of poses lifted from one take of `dataset` (no ground truth needed). The root is
    placed from the 2D keypoints only when they are in the skeleton's own layout (one keypoint per joint).
    Frames a custom keypoint file marks as filled in time (nobody detected) are left out."""
    cam = dataset.cameras[subject][camera]
    keypoints = None
    if dataset.input_layout().name == dataset.skeleton.name:
        keypoints = image_coordinates(dataset.positions_2d[subject][action][camera], w=cam["res_w"], h=cam["res_h"])
    fps = dataset.fps_of(subject) or model_fps or DEFAULT_VIDEO_FPS
    interpolated = cam.get("interpolated")
    checked = None if interpolated is None else ~np.asarray(interpolated, dtype=bool)
    return plausibility_report(poses, dataset.skeleton, fps, keypoints, cam["res_w"], cam["res_h"], checked=checked)
