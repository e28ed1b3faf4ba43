"""The motion library of the synthetic data set: everything that makes a pose sequence.

A take of an action is made top to bottom:
  1. a body: segment lengths of the 32-joint Human3.6M skeleton (`Body`);
  2. global motion: a pelvis path and a footstep plan (feet stay planted between steps), standing
     at spots with steps between them, sitting down on a chair, or walking a closed path;
  3. local motion: key poses of hands (wrist targets in the chest frame), trunk and head, taken
     from the action's style, blended with smooth steps, plus a little smooth noise (`make_motion`);
  4. kinematics: root, spine and head by forward kinematics from angles, legs and arms by
     two-bone inverse kinematics (knees bend forward, elbows point back/out/down or where the pose
     says), so every bone keeps its length and planted feet do not slide; the root is as high as
     the legs allow (or on the chair) (`pose_from_motion`).
Everything is vectorised over frames; the only Python loops run over joints, key poses and steps.
relpose.synth turns these pose sequences into the data set files (subjects, cameras, detections).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FPS = 50                             # frames per second of the generated motion (Human3.6M's rate)
AREA_CENTRE = np.array([0.2, 0.6])   # middle of the floor area all four Human3.6M cameras see
SIDES = (-1.0, 1.0)                  # index 0 = right (-y in the body frame), 1 = left


# ----------------------------------------------------------------------------------------- body
@dataclass(frozen=True)
class Body:
    """Segment lengths in metres. Body frame: x forward, y left, z up."""
    hip_w: float = 0.13       # root -> hip joint, sideways
    thigh: float = 0.44
    shank: float = 0.44
    ankle_h: float = 0.085    # ankle height over the floor with the foot flat
    foot: float = 0.18        # ankle -> toe tip, forward
    spine: float = 0.24       # root -> Spine1 (the removed joint 11 sits half way)
    chest: float = 0.25       # Spine1 -> Neck ("Thorax" of the 17-joint layout)
    nose: float = 0.10        # Neck -> Head joint ("Nose"), up (and 0.6x forward)
    top: float = 0.15         # Nose -> head top ("Head")
    shoulder_w: float = 0.16  # Neck -> shoulder, sideways
    upper_arm: float = 0.28
    forearm: float = 0.25
    hand: float = 0.08

    @property
    def height(self) -> float:
        return self.ankle_h + self.shank + self.thigh + self.spine + self.chest + self.nose + self.top

    @property
    def leg(self) -> float:
        return self.thigh + self.shank


# ------------------------------------------------------------------------------ small helpers
def _rot(axis: str, a: np.ndarray) -> np.ndarray:
    """Rotation matrices (T, 3, 3) about a body axis by angles a (T,).

    By hand rather than SciPy's Rotation.from_euler, which goes through quaternions and differs in the last
    bit of about one entry in four: the synthetic files must stay byte for byte what this generator version
    has always written for a seed. tests/test_synth.py checks the two agree to 1e-15.
    """
    i, j = {"x": (1, 2), "y": (2, 0), "z": (0, 1)}[axis]   # the plane it turns, positive from i to j
    c, s = np.cos(a), np.sin(a)
    R = np.zeros(np.shape(a) + (3, 3))
    R[..., "xyz".index(axis), "xyz".index(axis)] = 1.0
    R[..., i, i], R[..., i, j], R[..., j, i], R[..., j, j] = c, -s, s, c
    return R


def _apply(R, v):
    return np.einsum("...ij,...j->...i", R, v)


def _unit(v):
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-9)


def _smoothstep(x):
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3 - 2 * x)


def _keys(t, kt, kv):
    """Piecewise smooth-step interpolation through keys (kt increasing, kv (K, ...)); held outside."""
    kt, kv = np.asarray(kt, float), np.asarray(kv, float)
    i = np.clip(np.searchsorted(kt, t, side="right") - 1, 0, len(kt) - 2)
    a = _smoothstep((t - kt[i]) / np.maximum(kt[i + 1] - kt[i], 1e-9))
    return kv[i] + a.reshape(a.shape + (1,) * (kv.ndim - 1)) * (kv[i + 1] - kv[i])


def _wobble(rng, t, n, fmin=0.15, fmax=0.8, k=3):
    """Smooth noise (T, n) with unit RMS: a few sines of random frequency and phase."""
    f = rng.uniform(fmin, fmax, (k, n))
    phase = rng.uniform(0, 2 * np.pi, (k, n))
    return np.sin(2 * np.pi * f * t[:, None, None] + phase).sum(1) / np.sqrt(k / 2)


def _wrap(a):
    return (a + np.pi) % (2 * np.pi) - np.pi


def _two_bone(root, target, l1, l2, pole, max_bend=np.radians(150)):
    """Analytic two-bone IK: middle joint (knee/elbow) on the pole side, end on the target if reachable."""
    v = target - root
    u = _unit(v)
    d_min = np.sqrt(l1 ** 2 + l2 ** 2 + 2 * l1 * l2 * np.cos(max_bend))
    d = np.clip(np.linalg.norm(v, axis=-1, keepdims=True), d_min, 0.9995 * (l1 + l2))
    a = (l1 ** 2 - l2 ** 2 + d ** 2) / (2 * d)
    h = np.sqrt(np.maximum(l1 ** 2 - a ** 2, 0.0))
    w = _unit(pole - np.sum(pole * u, -1, keepdims=True) * u)
    return root + a * u + h * w, root + d * u


# ---------------------------------------------------------------------------- action styles
# Wrist targets of the LEFT arm relative to the left shoulder, chest frame (x fwd, y left, z up), for
# a 0.53 m arm; the right arm uses them mirrored (y -> -y).
HAND = dict(
    down=(0.03, 0.06, -0.51), front=(0.12, 0.03, -0.48), hip=(-0.05, 0.04, -0.32), belly=(0.22, -0.12, -0.32),
    fold=(0.21, -0.20, -0.22), fold2=(0.16, -0.19, -0.17), gesture=(0.32, 0.06, -0.20), open=(0.28, 0.25, -0.15),
    chest=(0.28, -0.08, -0.10), point=(0.48, 0.12, 0.06), side=(0.14, 0.48, 0.06), ear=(0.06, -0.09, 0.17),
    mouth=(0.18, -0.12, 0.08), chin=(0.16, -0.10, 0.02), wave=(0.08, 0.20, 0.33), up=(0.05, 0.12, 0.50),
    shake=(0.40, -0.04, -0.24), reach=(0.44, 0.00, -0.30), high=(0.33, 0.06, 0.36), camera=(0.20, -0.13, 0.10),
    tee=(0.00, 0.52, 0.02), flex=(0.00, 0.30, 0.22), lap=(0.34, -0.04, -0.36), leash=(0.30, 0.03, -0.38),
)
# Where the elbow points (IK pole, same frame): back and a little out and down unless the pose says
# otherwise (a direction the hand itself never takes, so the IK stays well defined); hands at the face
# keep the elbow down and a little forward, arms in front of the body keep it down, hands on hips out.
ELBOW = dict(hip=(-0.35, 0.9, -0.25), ear=(0.35, 0.45, -0.8), mouth=(0.3, 0.4, -0.85), chin=(0.3, 0.4, -0.85),
             camera=(0.1, 0.55, -0.8), fold=(0.0, 0.6, -0.8), fold2=(0.0, 0.6, -0.8), belly=(-0.2, 0.6, -0.8),
             chest=(-0.1, 0.6, -0.8), wave=(0.0, 0.7, -0.7), up=(-0.1, 0.8, -0.5), high=(0.0, 0.7, -0.7),
             flex=(-0.2, 0.3, -0.9))
_DEFAULT_ELBOW = (-0.8, 0.45, -0.4)
# Key poses: right hand, left hand, lean (deg, forward +), twist, nod (down +), look (left +), crouch.
POSES = dict(
    rest=("down", "down", 0, 0, 0, 0, 0), front=("front", "front", 3, 0, 5, 0, 0),
    hips=("hip", "hip", -2, 0, 0, 0, 0), one_hip=("down", "hip", 0, 5, 0, 10, 0),
    clasp=("belly", "belly", 0, 0, 5, 0, 0), fold=("fold2", "fold", -2, 0, 0, 0, 0),
    look=("down", "down", 0, 10, 0, 45, 0), gesture=("down", "gesture", 3, -8, 0, 0, 0),
    gesture2=("gesture", "gesture", 5, 0, 0, 0, 0), open=("open", "open", 0, 0, -5, 0, 0),
    chest=("down", "chest", 3, -5, 0, 0, 0), point=("down", "point", 0, 10, 0, 20, 0),
    point_side=("down", "side", 0, 15, 0, 50, 0), phone=("down", "ear", 3, 0, 10, 0, 0),
    phone_hip=("hip", "ear", 0, 0, 5, 10, 0), phone_fold=("belly", "ear", 3, 0, 15, 0, 0),
    eat=("chest", "mouth", 8, 0, 15, 0, 0), eat_hold=("chest", "chest", 8, 0, 25, 0, 0),
    smoke=("down", "mouth", 0, 0, 0, 0, 0), smoke_fold=("fold2", "mouth", 0, 0, 5, 0, 0),
    think=("belly", "chin", 5, 0, 10, 0, 0), wave=("down", "wave", -3, 10, -5, 0, 0),
    shake=("down", "shake", 8, 0, 5, 0, 0), photo=("camera", "camera", 5, 0, 10, 0, 0),
    photo_low=("camera", "camera", 15, 0, 10, 0, 0.12), tee=("tee", "tee", 0, 0, 0, 0, 0),
    up=("up", "up", -3, 0, -10, 0, 0), flex=("flex", "flex", 0, 0, 0, 0, 0),
    pose_point=("hip", "point", 0, 15, 0, 25, 0), pose_wave=("down", "up", 0, 0, -5, 10, 0),
    reach=("down", "reach", 30, 10, 20, 0, 0.05), reach_both=("reach", "reach", 35, 0, 25, 0, 0.10),
    reach_high=("down", "high", -3, 10, -15, 10, 0), carry=("chest", "chest", 3, 0, 10, 0, 0),
    lap=("lap", "lap", 5, 0, 10, 0, 0), lap_gesture=("lap", "gesture", 5, -5, 0, 10, 0),
    lap_lean=("lap", "lap", -10, 0, 0, 20, 0), leash=("down", "leash", 5, 0, 15, 10, 0),
    walk=("down", "down", 3, 0, 5, 0, 0), walk_look=("down", "down", 3, 10, 0, 35, 0),
    walk_talk=("down", "gesture", 3, 10, 0, 30, 0),
)


@dataclass(frozen=True)
class Style:
    mode: str                                  # 'stand', 'walk' or 'sitdown'
    poses: tuple[str, ...]                     # key poses drawn at random (mirrored half the time)
    hold: tuple[float, float] = (1.5, 4.0)     # seconds a key pose is held
    energy: float = 0.8                        # amplitude of the small-range motion
    move_every: tuple[float, float] | None = None  # seconds between steps to a new spot
    move_dist: tuple[float, float] = (0.3, 1.0)
    speed: tuple[float, float] = (1.1, 1.5)    # walking speed, m/s
    p_seated: float = 0.0                      # chance that a standing action is done on a chair
    sway: float = 0.03                         # weight shifts, metres


_SEATED = ("lap", "lap_gesture", "think", "phone", "fold", "rest", "lap_lean", "clasp")
STYLES = {
    "Directions": Style("stand", ("rest", "point", "point_side", "gesture", "gesture2", "one_hip", "chest", "look"),
                        (1.2, 3.0), 1.0, (2.5, 5.0), (0.4, 1.4)),
    "Discussion": Style("stand", ("gesture", "gesture2", "open", "chest", "fold", "one_hip", "think", "rest"),
                        (1.0, 3.0), 1.2, (4.0, 8.0), (0.2, 0.8)),
    "Eating": Style("stand", ("eat", "eat", "eat_hold", "front", "think"), (1.5, 3.5), 0.6, (6.0, 12.0),
                    (0.2, 0.6), p_seated=0.5),
    "Greeting": Style("stand", ("wave", "shake", "open", "rest", "gesture2"), (1.0, 2.5), 1.2, (2.5, 5.0), (0.6, 1.5)),
    "Phoning": Style("stand", ("phone", "phone_hip", "phone_fold", "gesture", "rest"), (2.0, 5.0), 0.7, (4.0, 8.0),
                     (0.4, 1.2), p_seated=0.3),
    "Photo": Style("stand", ("photo", "photo_low", "rest", "point", "chest"), (1.5, 3.5), 0.6, (3.0, 6.0), (0.3, 1.0)),
    "Posing": Style("stand", ("tee", "up", "flex", "hips", "pose_point", "fold", "pose_wave"), (2.0, 4.0), 0.4,
                    (5.0, 8.0), (0.3, 0.8)),
    "Purchases": Style("stand", ("reach", "reach_both", "reach_high", "carry", "rest", "chest"), (1.2, 3.0), 0.8,
                       (2.5, 5.0), (0.4, 1.2)),
    "Sitting": Style("stand", _SEATED, (2.0, 5.0), 0.6, p_seated=1.0),
    "SittingDown": Style("sitdown", ("rest", "front", "lap", "think", "fold", "clasp"), (2.0, 5.0), 0.5),
    "Smoking": Style("stand", ("smoke", "smoke_fold", "rest", "one_hip", "fold"), (2.0, 5.0), 0.5, (6.0, 12.0),
                     (0.3, 0.8), p_seated=0.3),
    "Waiting": Style("stand", ("rest", "hips", "fold", "clasp", "one_hip", "look", "front"), (2.0, 5.0), 0.35,
                     (12.0, 25.0), (0.2, 0.5), sway=0.05),
    "WalkDog": Style("walk", ("leash", "leash", "walk", "walk_look"), (2.0, 5.0), 0.6, speed=(0.9, 1.3)),
    "Walking": Style("walk", ("walk", "walk", "walk_look"), (2.0, 5.0), 0.5, speed=(1.1, 1.5)),
    "WalkTogether": Style("walk", ("walk_look", "walk_talk", "walk"), (2.0, 5.0), 0.6, speed=(0.9, 1.2)),
}


# --------------------------------------------------------------------------- footstep plans
@dataclass
class FootPlan:
    """Footprints P[k] (ankle xy, yaw); step k lifts the foot off P[k] at lift[k] and lands on P[k+1]."""
    xy: np.ndarray
    yaw: np.ndarray
    lift: np.ndarray
    land: np.ndarray
    heel: np.ndarray      # heel-off angle (rad) before the lift, pivoting on the toes
    heel_t: np.ndarray    # duration of the heel-off
    height: np.ndarray    # swing height


def _foot_track(t, p: FootPlan, b: Body):
    """Ankle position (T, 3), yaw and pitch (T,) of one foot following its plan."""
    K = len(p.lift)
    lift, land = np.append(p.lift, 1e9), np.append(p.land, 1e9)       # a step that never comes
    heel, heel_t = np.append(p.heel, 0.0), np.append(p.heel_t, 1.0)
    height = np.append(p.height, 0.0)
    j = np.searchsorted(lift[:K], t, side="right") - 1         # last step started, -1 for none
    jc = np.maximum(j, 0)
    swing = (j >= 0) & (t < land[jc])

    def ankle(i, theta):  # ankle over footprint i, heel raised by theta about the toe tip
        fwd = b.foot * (1 - np.cos(theta)) + b.ankle_h * np.sin(theta)   # toe - Ry(theta) toe, foot frame
        return np.stack([p.xy[i, 0] + fwd * np.cos(p.yaw[i]), p.xy[i, 1] + fwd * np.sin(p.yaw[i]),
                         b.ankle_h * np.cos(theta) + b.foot * np.sin(theta)], -1)

    # planted: on footprint j+1, heel rising before the next lift
    i = j + 1
    theta = heel[i] * _smoothstep((t - lift[i] + heel_t[i]) / heel_t[i])
    a_plant, yaw, pitch = ankle(i, theta), p.yaw[i], theta
    # swing: from the heel-off pose on footprint j to the flat pose on footprint j+1
    k1 = np.minimum(jc + 1, K)
    alpha = np.clip((t - lift[jc]) / np.maximum(land[jc] - lift[jc], 1e-6), 0, 1)
    beta = _smoothstep(alpha)[:, None]
    a0, a1 = ankle(jc, heel[jc]), ankle(k1, np.zeros_like(t))
    a_swing = a0 + beta * (a1 - a0)
    a_swing[:, 2] += height[jc] * np.sin(np.pi * alpha)
    yaw_swing = p.yaw[jc] + beta[:, 0] * _wrap(p.yaw[k1] - p.yaw[jc])
    return (np.where(swing[:, None], a_swing, a_plant), np.where(swing, yaw_swing, yaw),
            np.where(swing, heel[jc] * (1 - alpha) ** 2, pitch))


def _stance(centre, yaw, b, width, stagger, fwd):
    """Ankle xy (2, 2) and yaw (2,) of both feet standing at centre facing yaw."""
    R = _rot("z", np.array([yaw]))[0, :2, :2]
    xy = np.array([centre + R @ [fwd + s * stagger, s * width / 2] for s in SIDES])
    return xy, np.array([yaw + s * 0.1 for s in SIDES])


# ---------------------------------------------------------------------------- global motion
def _spot(rng, scale, near=None, dist=(0.3, 1.0)):
    """A random standing spot in the capture area (and `dist` away from `near` if possible)."""
    best = None
    for _ in range(20):
        r, a = np.sqrt(rng.uniform()), rng.uniform(0, 2 * np.pi)
        p = AREA_CENTRE + scale * r * np.array([0.45 * np.cos(a), 0.95 * np.sin(a)])
        if near is None:
            return p
        err = abs(np.clip(np.linalg.norm(p - near), *dist) - np.linalg.norm(p - near))
        if best is None or err < best[0]:
            best = (err, p)
        if err == 0:
            break
    return best[1]


def _global_stand(rng, b, style, t, scale):
    """Standing at spots with a few steps between them (or seated on a chair for p_seated)."""
    seated = rng.uniform() < style.p_seated
    centre, yaw = _spot(rng, scale), rng.uniform(-np.pi, np.pi)
    width, stagger = 2 * b.hip_w * rng.uniform(0.7, 1.1), rng.uniform(-0.05, 0.05)
    fwd = b.thigh * rng.uniform(0.85, 1.05) if seated else -0.03
    z_seat = rng.uniform(0.42, 0.5) + 0.09 if seated else 3.0
    xy, fyaw = _stance(centre, yaw, b, width, stagger, fwd)
    feet, feet_yaw = [[xy[0]], [xy[1]]], [[fyaw[0]], [fyaw[1]]]
    steps = [[], []]                                # (lift, land, heel, heel_t, height) per foot
    ck, cv, yk, yv = [t[0]], [centre], [t[0]], [yaw]
    c = rng.uniform(*style.move_every) * rng.uniform(0.3, 1.0) if style.move_every and not seated else np.inf
    while c < t[-1]:
        new = _spot(rng, scale, centre, style.move_dist)
        travel, dist = new - centre, np.linalg.norm(new - centre)
        # face the way to go if it is ahead-ish, else side-step; turns stay small enough for the hips
        walk_dir = yaw + _wrap(np.arctan2(travel[1], travel[0]) - yaw)
        walk_dir = walk_dir if dist > 0.6 and abs(walk_dir - yaw) < 1.2 else None
        new_yaw = (yaw if walk_dir is None else walk_dir) + rng.uniform(-0.9, 0.9)
        n = int(np.clip(dist / 0.35 + 2, 2, 6))
        step_t, first = rng.uniform(0.45, 0.6), rng.integers(2)
        last_step = {(first + n - 1) % 2: n - 1, (first + n - 2) % 2: n - 2}
        for k in range(n):
            f = (first + k) % 2
            frac = 1.0 if last_step[f] == k else (k + 1) / n
            fy = new_yaw if frac == 1.0 else (walk_dir if walk_dir is not None else yaw + frac * (new_yaw - yaw))
            xy, fyaw = _stance(centre + frac * travel, fy, b, width, stagger, fwd)
            feet[f].append(xy[f])
            feet_yaw[f].append(fyaw[f])
            lift = c + k * step_t
            steps[f].append((lift, lift + 0.8 * step_t, rng.uniform(0.1, 0.4) * min(1, dist), 0.15,
                             rng.uniform(0.04, 0.08)))
        end = c + n * step_t
        ck += [c, end]
        cv += [centre, new]
        if walk_dir is not None:
            yk += [c, c + 0.3 * (end - c), c + 0.7 * (end - c), end]
            yv += [yaw, walk_dir, walk_dir, new_yaw]
        else:
            yk += [c, end]
            yv += [yaw, new_yaw]
        centre, yaw = new, new_yaw
        c = end + rng.uniform(*style.move_every)
    ck, cv, yk, yv = ck + [t[-1] + 1], cv + [centre], yk + [t[-1] + 1], yv + [yaw]
    plans = [FootPlan(np.array(feet[f]), np.array(feet_yaw[f]), *(np.array(c_).reshape(-1) for c_ in
                      (zip(*steps[f]) if steps[f] else [[]] * 5))) for f in range(2)]
    return dict(root_xy=_keys(t, ck, cv), yaw=_keys(t, yk, yv), plans=plans, z_seat=np.full_like(t, z_seat),
                pitch=np.full_like(t, -0.07 if seated else 0.03), lean=np.zeros_like(t), seated=seated, phase=None)


def _global_sitdown(rng, b, style, t, scale):
    """Standing in front of a chair, sitting down, sitting, standing up again (feet stay planted)."""
    centre, yaw = _spot(rng, scale * 0.9), rng.uniform(-np.pi, np.pi)
    width, stagger = 2 * b.hip_w * rng.uniform(0.8, 1.1), rng.uniform(-0.04, 0.04)
    seat_back = b.thigh * rng.uniform(0.85, 1.0)                # pelvis behind the ankles when seated
    z_seat = rng.uniform(0.42, 0.5) + 0.09
    xy, fyaw = _stance(centre, yaw, b, width, stagger, 0.0)
    plans = [FootPlan(xy[f:f + 1], fyaw[f:f + 1], *([np.zeros(0)] * 5)) for f in range(2)]
    # keys of (pelvis offset along the heading, root height limit, pelvis pitch); the trunk leans
    # forward during each transition to keep the balance over the feet
    up, down = (0.03, b.ankle_h + b.leg, 0.03), (-seat_back, z_seat, -0.07)
    sitting = rng.uniform() < 0.5
    kt, kv, lt, lv = [t[0] - 1], [down if sitting else up], [t[0] - 1], [0.0]
    c = t[0] - rng.uniform(0, 3)
    while c < t[-1]:
        c += rng.uniform(2.5, 6.0) if sitting else rng.uniform(1.5, 4.0)
        d = rng.uniform(1.4, 2.2)
        kt += [c, c + d]
        kv += [kv[-1], up if sitting else down]
        lt += [c, c + 0.5 * d, c + d]
        lv += [0.0, np.radians(rng.uniform(30, 45)), 0.0]
        c += d
        sitting = not sitting
    keys, lean = _keys(t, kt + [c + 1], kv + [kv[-1]]), _keys(t, lt + [c + 1], lv + [0.0])
    heading = np.stack([np.cos(yaw), np.sin(yaw)])
    return dict(root_xy=centre + keys[:, :1] * heading, yaw=np.full_like(t, yaw), plans=plans,
                z_seat=keys[:, 1], pitch=keys[:, 2], lean=lean, seated=True, phase=None)


def _path(rng, scale):
    """A closed walking path around the capture area: ellipse or figure of eight, random size/turn."""
    th = np.linspace(0, 2 * np.pi, 1200, endpoint=False) * (1 if rng.uniform() < 0.5 else -1)
    a, b = rng.uniform(0.5, 0.65) * scale, rng.uniform(0.85, 1.15) * scale
    if rng.uniform() < 0.65:
        xy = np.stack([a * np.cos(th), b * np.sin(th)], -1)
    else:
        xy = np.stack([a * np.sin(2 * th), b * np.sin(th)], -1)
    xy = xy @ _rot("z", np.array([rng.uniform(-0.25, 0.25)]))[0, :2, :2].T + AREA_CENTRE
    seg = np.linalg.norm(np.roll(xy, -1, 0) - xy, axis=-1)
    arc = np.concatenate([[0], np.cumsum(seg)[:-1]])
    tangent = _unit(np.roll(xy, -1, 0) - np.roll(xy, 1, 0))
    curv = np.linalg.norm(np.roll(tangent, -1, 0) - np.roll(tangent, 1, 0), axis=-1) / (2 * seg.mean())
    return arc, seg.sum(), xy, tangent, curv


def _global_walk(rng, b, style, t, scale):
    """Walking a closed path; footprints from the gait phase, slower in tight turns."""
    arc, perim, pxy, ptan, pcurv = _path(rng, scale)

    def at(s, v):  # path samples v (N, k) at arc lengths s, going round and round
        return np.stack([np.interp(s, arc, v[:, i], period=perim) for i in range(v.shape[1])], -1)

    v0 = rng.uniform(*style.speed)
    # arc-length grid: speed, stride and gait phase as functions of distance walked
    s0 = rng.uniform(0, perim)
    sg = s0 + np.arange(-3.0, (t[-1] - t[0]) * v0 * 1.3 + 3.0, 0.01)
    curv = np.interp(sg, arc, pcurv, period=perim)
    v = v0 * np.clip(1.0 / np.sqrt(1 + 0.5 * curv), 0.55, 1) * (1 + 0.08 * _wobble(rng, sg, 1, 0.05, 0.2)[:, 0])
    stride = b.leg * (0.75 + 0.6 * v)
    tg = np.concatenate([[0], np.cumsum(0.01 / v)[:-1]])
    tg += t[0] - np.interp(s0, sg, tg)                                       # at s0 when the take starts
    ug = np.concatenate([[0], np.cumsum(0.01 / stride)[:-1]]) + rng.uniform(0, 1)
    s = np.interp(t, tg, sg)
    u = np.interp(t, tg, ug)
    plans = []
    for f, side in enumerate(SIDES):
        ks = np.arange(np.floor(ug[0]) + 1, np.floor(ug[-1])) + 0.5 * f      # footprints fully inside the grid
        sk = np.interp(ks, ug, sg)
        tan = at(sk, ptan)
        xy = at(sk, pxy) + side * 0.06 * (b.leg / 0.88) * np.stack([-tan[:, 1], tan[:, 0]], -1)
        yaw = np.unwrap(np.arctan2(tan[:, 1], tan[:, 0])) + side * 0.08
        lift = np.interp(ks[:-1] + 0.35, ug, tg)
        land = np.interp(ks[1:] - 0.25, ug, tg)
        heel_t = lift - np.interp(ks[:-1] + 0.15, ug, tg)
        plans.append(FootPlan(xy, yaw, lift, land, np.full(len(lift), rng.uniform(0.35, 0.55)), heel_t,
                              np.full(len(lift), rng.uniform(0.05, 0.08))))
    tan = at(s, ptan)
    normal = np.stack([-tan[:, 1], tan[:, 0]], -1)
    sway = -0.02 * np.cos(2 * np.pi * (u - 0.05))[:, None] * normal      # over the stance foot
    return dict(root_xy=at(s, pxy) + sway, yaw=np.unwrap(np.arctan2(tan[:, 1], tan[:, 0])), plans=plans,
                z_seat=np.full_like(t, 3.0), pitch=np.full_like(t, 0.06), lean=np.zeros_like(t), seated=False, phase=u,
                speed=np.interp(t, tg, v))


# ------------------------------------------------------------------------------ local motion
def _pose_vector(rng, name):
    r, l, lean, twist, nod, look, crouch = POSES[name]
    sign = 1.0
    if rng.uniform() < 0.5:                                   # mirror: swap the arms' roles
        r, l, sign = l, r, -1.0
    mirror = np.array([1, -1, 1])
    hands = np.stack([np.array(HAND[r]) * mirror, HAND[l]])
    elbows = np.concatenate([np.array(ELBOW.get(r, _DEFAULT_ELBOW)) * mirror, ELBOW.get(l, _DEFAULT_ELBOW)])
    noise = rng.standard_normal(11) * ([0.02] * 6 + [3, 5, 5, 10, 1])
    hands += noise[:6].reshape(2, 3)
    reach = np.linalg.norm(hands, axis=-1)
    angles = np.radians([lean, sign * twist, nod, sign * look]) + np.radians(noise[6:10])
    return np.concatenate([(hands / reach[:, None]).ravel(), reach, angles,
                           [crouch, 0.95 + 0.35 * np.tanh(noise[10]), r == "down", l == "down"], elbows])


def _upper_body(rng, style, t):
    """Key poses held for a while and blended. Columns: wrist target directions (right, left) 0-5 and
    distances 6-7 (blending them apart keeps the hands away from the shoulder in transitions), lean,
    twist, nod, look 8-11, crouch 12, energy 13, arm swing weights 14-15, elbow poles 16-21."""
    c = t[0] - rng.uniform(0, style.hold[1])
    kt, kv = [c], [_pose_vector(rng, rng.choice(style.poses))]
    while c < t[-1]:
        c += rng.uniform(*style.hold)
        tau = rng.uniform(0.5, 1.0)
        kt += [c, c + tau]
        kv += [kv[-1], _pose_vector(rng, rng.choice(style.poses))]
        c += tau
    return _keys(t, kt + [c + 1], kv + [kv[-1]])


@dataclass
class Motion:
    root_xy: np.ndarray      # (T, 2) pelvis over the floor
    z_seat: np.ndarray       # (T,) highest the root may be (the chair; 3 m when standing)
    extension: np.ndarray    # (T,) how straight the legs may get (fraction of leg length)
    yaw: np.ndarray          # (T,) pelvis heading, and pitch (forward +) and roll (left up +)
    pitch: np.ndarray
    roll: np.ndarray
    spine: np.ndarray        # (T, 3) pitch, roll, yaw of the trunk, shared by joints 11 and 12
    neck: np.ndarray         # (T, 2) pitch (nod down +), yaw (look left +)
    ankle: np.ndarray        # (2, T, 3) ankle targets, right then left
    foot_yaw: np.ndarray     # (2, T)
    foot_pitch: np.ndarray   # (2, T) heel raised +
    hands: np.ndarray        # (2, T, 3) wrist targets, chest frame, relative to the shoulder (0.53 m arm)
    elbows: np.ndarray       # (2, T, 3) elbow directions (IK poles), chest frame


def concat_motions(motions: list[Motion]) -> Motion:
    """One Motion of all frames (per-foot and per-hand channels have time on axis 1)."""
    per_limb = {"ankle", "foot_yaw", "foot_pitch", "hands", "elbows"}
    return Motion(**{k: np.concatenate([getattr(m, k) for m in motions], axis=int(k in per_limb))
                     for k in Motion.__dataclass_fields__})


def make_motion(rng, b: Body, action: str, n_frames: int, scale: float = 1.0) -> Motion:
    """Channels of one take of an action (base name, e.g. 'Walking')."""
    style = STYLES[action]
    t = np.arange(n_frames) / FPS
    g = {"stand": _global_stand, "walk": _global_walk, "sitdown": _global_sitdown}[style.mode](rng, b, style, t, scale)
    ub = _upper_body(rng, style, t)
    # small-range motion: smooth noise on hands (faster), trunk, head and pelvis
    e = style.energy * ub[:, 13:14]
    # hand directions blend linearly; where that passes near zero (say ear -> hip) bulge forward-out
    hands = np.concatenate([_unit(d + (1 - np.linalg.norm(d, axis=-1, keepdims=True)) * [0.6, 0.8 * side, 0])
                            * ub[:, 6 + f:7 + f] for f, side, d in zip((0, 1), SIDES, (ub[:, 0:3], ub[:, 3:6]))], -1)
    hands += 0.035 * e * _wobble(rng, t, 6, 0.2, 1.2)
    noise = _wobble(rng, t, 7) * np.radians([2, 4, 4, 8, 0.6, 0, 0]) + [0, 0, 0, 0, 0, 0.005, 0.005]
    lean, twist, nod, look = (ub[:, 8:12] + e * noise[:, :4]).T
    yaw, pitch, roll = g["yaw"], g["pitch"] + 0.5 * g["lean"], noise[:, 4]
    heading = np.stack([np.cos(yaw), np.sin(yaw)], -1)
    root_xy = g["root_xy"] + noise[:, 5:7]
    extension = 0.997 - ub[:, 12]
    if g["phase"] is not None:                      # walking: arm swing, pelvis rotation, leaner legs
        u = 2 * np.pi * (g["phase"] + 0.25)
        amp = 0.14 * np.clip(g["speed"] / 1.2, 0.5, 1.2)
        for f, side in enumerate(SIDES):
            hands[:, 3 * f] += side * amp * np.cos(u) * ub[:, 14 + f]   # arm opposite to the leg
            hands[:, 3 * f + 2] += 0.03 * np.abs(np.cos(u)) * ub[:, 14 + f]
        yaw = yaw + 0.06 * np.sin(u)
        twist = twist - 0.1 * np.sin(u)
        roll = roll + 0.04 * np.cos(2 * u)
        extension = extension - 0.007
    elif not g["seated"]:                           # standing: weight shifts from foot to foot
        n_keys = int(t[-1] / 1.5) + 3
        kt = np.cumsum(rng.uniform(1.5, 5.0, n_keys)) - rng.uniform(0, 5)
        shift = style.sway * rng.choice([-1.0, 0.0, 1.0], n_keys) * rng.uniform(0.5, 1.0, n_keys)
        shift = _keys(t, kt, shift)
        root_xy = root_xy + shift[:, None] * np.stack([-heading[:, 1], heading[:, 0]], -1)
        roll = roll + 1.5 * shift
    feet = [_foot_track(t, p, b) for p in g["plans"]]
    return Motion(root_xy, g["z_seat"], extension, yaw, pitch, roll,
                  np.stack([lean + 0.5 * g["lean"], -0.8 * roll, twist], -1), np.stack([nod, look], -1),
                  np.stack([f[0] for f in feet]), np.stack([f[1] for f in feet]), np.stack([f[2] for f in feet]),
                  np.stack([hands[:, :3], hands[:, 3:]]), np.stack([ub[:, 16:19], ub[:, 19:22]]))


# -------------------------------------------------------------------------------- kinematics
def pose_from_motion(b: Body, m: Motion) -> np.ndarray:
    """World positions (T, 32, 3) of the Human3.6M mocap skeleton."""
    T = len(m.yaw)
    P = np.zeros((T, 32, 3))
    Rp = _rot("z", m.yaw) @ _rot("y", m.pitch) @ _rot("x", m.roll)
    hips = [_apply(Rp, np.array([0.0, s * b.hip_w, 0.0])) for s in SIDES]
    # root height: the chair, or as high as both legs allow at the requested extension
    z = m.z_seat.copy()
    for f in range(2):
        dh = np.linalg.norm(m.root_xy + hips[f][:, :2] - m.ankle[f, :, :2], axis=-1)
        reach = m.extension * b.leg
        z = np.minimum(z, m.ankle[f, :, 2] + np.sqrt(np.maximum(reach ** 2 - dh ** 2, (0.3 * b.leg) ** 2))
                       - hips[f][:, 2])
    P[:, 0] = np.concatenate([m.root_xy, z[:, None]], -1)
    toe_base, toe_tip = np.array([0.72 * b.foot, 0, -0.76 * b.ankle_h]), np.array([b.foot, 0, -b.ankle_h])
    for f, (hip, knee, ankle, toe, tip) in enumerate(((1, 2, 3, 4, 5), (6, 7, 8, 9, 10))):
        P[:, hip] = P[:, 0] + hips[f]
        # knees point between the toes and the pelvis front (the hip turns the thigh only so far)
        pole = np.stack([np.cos(m.foot_yaw[f]), np.sin(m.foot_yaw[f]), np.zeros(T)], -1) + Rp[:, :, 0]
        P[:, knee], P[:, ankle] = _two_bone(P[:, hip], m.ankle[f], b.thigh, b.shank, pole)
        Rf = _rot("z", m.foot_yaw[f]) @ _rot("y", m.foot_pitch[f])
        P[:, toe], P[:, tip] = P[:, ankle] + _apply(Rf, toe_base), P[:, ankle] + _apply(Rf, toe_tip)
    # trunk and head: forward kinematics, the trunk bend split over joints 11 and 12
    Rs = _rot("z", m.spine[:, 2] / 2) @ _rot("y", m.spine[:, 0] / 2) @ _rot("x", m.spine[:, 1] / 2)
    half = np.array([0, 0, b.spine / 2])
    P[:, 11] = P[:, 0] + _apply(Rp, half)
    R11 = Rp @ Rs
    P[:, 12] = P[:, 11] + _apply(R11, half)
    R12 = R11 @ Rs
    P[:, 13] = P[:, 12] + _apply(R12, np.array([0, 0, b.chest]))
    R13 = R12 @ _rot("z", m.neck[:, 1]) @ _rot("y", m.neck[:, 0])
    P[:, 14] = P[:, 13] + _apply(R13, np.array([0.6 * b.nose, 0, b.nose]))
    P[:, 15] = P[:, 14] + _apply(R13, np.array([-0.2 * b.top, 0, b.top]))
    # arms: shoulders hang off the neck joint (like the mocap's duplicated joints 16/24), IK to the wrists
    arm_scale = (b.upper_arm + b.forearm) / 0.53
    for f, (s, (clav, sh, el, wr, thumb, thumb_end, hand, hand_end)) in enumerate(
            zip(SIDES, ((24, 25, 26, 27, 28, 29, 30, 31), (16, 17, 18, 19, 20, 21, 22, 23)))):
        P[:, clav] = P[:, 13]
        P[:, sh] = P[:, clav] + _apply(R12, np.array([-0.01, s * b.shoulder_w, -0.03]))
        target = P[:, sh] + _apply(R12, m.hands[f] * arm_scale)
        pole = _apply(R12, m.elbows[f])
        P[:, el], P[:, wr] = _two_bone(P[:, sh], target, b.upper_arm, b.forearm, pole)
        fa = _unit(P[:, wr] - P[:, el])
        side = _unit(np.cross(_unit(np.cross(P[:, el] - P[:, sh], fa)), fa))
        P[:, thumb] = P[:, thumb_end] = P[:, wr] + b.hand * (0.4 * fa + 0.35 * s * side)
        P[:, hand] = P[:, hand_end] = P[:, wr] + b.hand * fa
    return P
