"""The broad motion library: what people do beyond Human3.6M's fifteen actions, and bodies of every size.

relpose.synth.motion makes Human3.6M's actions (standing, walking, sitting on a chair) with the pelvis upright
and the feet planned step by step. Here the whole body is posed from joint angles, so that anything a person
does can be written down: lying, rolling, crawling, getting up from the floor, kneeling, squatting, sitting on
the floor, bending to the floor, running, jumping, turning on the spot, waving, throwing, boxing, lifting, a
cartwheel and a handstand. A take is made top to bottom:

  1. a body (`random_body`): children to tall adults, proportions within measured human ranges;
  2. key poses (`_program`): each motion is a short script of poses (joint angles in degrees, the pelvis free
     to pitch, roll and spin), held and blended, jittered a little and mirrored half the time; cycles
     (crawling, running, punching) are written as repeated keys;
  3. channels: the keys interpolated linearly and smoothed (a Gaussian of 60-100 ms), so joints move with
     continuous velocity and stay inside the joint limits (`LIMITS`: a weighted average of values inside
     an interval stays inside it);
  4. forward kinematics (`skeleton_from_angles`): every bone keeps its length by construction;
  5. the floor (`_on_the_floor`): the body is lowered until the lowest point of its surface (soles, knees,
     hands, buttocks, back, head; joint centres sit a few centimetres inside the body) touches the floor,
     and moved over the floor so that the point it stands on does not slide: while a point stays in
     contact it is the anchor, and the body moves so that the anchor keeps its place (crawling, rolling
     and running move the body forward this way, as they do in life); in the air (jumps, running's flight
     phase) the body flies on a parabola with the horizontal speed it took off with.

The same 32-joint Human3.6M skeleton as relpose.synth.motion, so both feed the same files.
"""
from __future__ import annotations

from dataclasses import fields

import numpy as np

from .motion import FPS, Body, _rot, _unit

GRAVITY = 9.81
# Joint limits (degrees), after the American Academy of Orthopaedic Surgeons' normal ranges of motion (hip flexion
# 120-140, abduction 45, rotation 45; knee flexion 135-155; ankle dorsiflexion 20, plantar flexion 50; shoulder
# flexion 180, abduction 180, rotation 70-90; elbow flexion 150) and the trunk's lumbar and thoracic ranges summed;
# kneeling with the instep on the floor takes the ankle past its active plantar flexion, to about 65 degrees.
# Signs: flexion forward/up +, abduction out +, rotation out +, ankle toes up +, trunk lean forward +, side bend to
# the left +, twist to the left +, nod down +, look left +.
LIMITS = dict(hip_flex=(-30, 140), hip_abd=(-20, 60), hip_rot=(-40, 45), knee=(0, 155), ankle=(-65, 30),
              sh_flex=(-60, 180), sh_abd=(-20, 180), sh_twist=(-80, 90), elbow=(0, 150),
              lean=(-35, 85), side=(-35, 35), twist=(-45, 45), nod=(-50, 60), look=(-70, 70))
SIDED = ("hip_flex", "hip_abd", "hip_rot", "knee", "ankle", "sh_flex", "sh_abd", "sh_twist", "elbow")
# Pelvis orientation (yaw, pitch forward +, roll left side up... see _pelvis) and the trunk and head; angles in degrees.
GLOBAL = ("yaw", "pitch", "roll", "spin", "lean", "side", "twist", "nod", "look")
MIRRORED_SIGN = ("yaw", "roll", "spin", "side", "twist", "look")   # change sign when left and right swap
SIDES = (-1.0, 1.0)   # 0 = right, 1 = left, as in relpose.synth.motion
JITTER_DEG = 4.0      # how much one pass of a motion differs from the script (per channel, standard deviation)

# ------------------------------------------------------------------------------------------- bodies
# Children's heads are larger and legs shorter relative to height: head height is ~1/5.5 of stature at five years
# against ~1/7.5 for adults; the hip joint sits at ~0.45 of stature at two years against 0.53 for adults (Drillis &
# Contini; WHO growth standards). `childness` goes from 1 at 1.0 m to 0 at 1.55 m.
HEIGHT_RANGE_M = (1.0, 1.95)
SEGMENT_SPREAD = 0.04       # individual variation of a segment's length (coefficient of variation ~4%)


def random_body(rng, height: float | None = None) -> Body:
    """A body of `height` metres (drawn from HEIGHT_RANGE_M when None: a quarter children, the rest adults)."""
    ref = Body()
    if height is None:
        height = rng.uniform(1.0, 1.45) if rng.uniform() < 0.25 else rng.uniform(1.5, 1.95)
    child = float(np.clip((1.55 - height) / 0.55, 0.0, 1.0))
    factors = {k: 1.0 for k in (f.name for f in fields(Body))}
    factors.update(nose=1 + 0.35 * child, top=1 + 0.35 * child, thigh=1 - 0.08 * child, shank=1 - 0.08 * child,
                   upper_arm=1 - 0.05 * child, forearm=1 - 0.05 * child, hand=1 - 0.05 * child)
    noise = np.clip(1 + SEGMENT_SPREAD * rng.standard_normal(len(factors)), 0.92, 1.08)
    b = Body(**{k: getattr(ref, k) * f * n for (k, f), n in zip(factors.items(), noise)})
    return Body(**{k: getattr(b, k) * height / b.height for k in factors})   # exactly `height` tall


# ------------------------------------------------------------------------------- forward kinematics
def _pelvis(a) -> np.ndarray:
    """Pelvis rotation: heading (yaw about the vertical), pitch (forward +), roll (about the forward axis) and
    spin (about the body's own long axis, last: what turns a lying body from its back onto its front)."""
    r = np.radians
    return _rot("z", r(a["yaw"])) @ _rot("y", r(a["pitch"])) @ _rot("x", r(a["roll"])) @ _rot("z", r(a["spin"]))


def skeleton_from_angles(b: Body, a: dict) -> tuple[np.ndarray, np.ndarray]:
    """(T, 32, 3) Human3.6M joints with the root at the origin, and (T, K, 4) surface points (xyz, radius)
    of the body for the floor contact. `a`: channel -> (T,) degrees, sided channels (2, T), right first."""
    r = np.radians
    T = len(a["yaw"])
    P = np.zeros((T, 32, 3))
    Rp = _pelvis(a)
    app = lambda R, v: np.einsum("tij,j->ti", R, np.asarray(v, float))
    surface = [(P[:, 0], 0.10)]
    for f, (s, (hip, knee, ankle, toe, tip)) in enumerate(zip(SIDES, ((1, 2, 3, 4, 5), (6, 7, 8, 9, 10)))):
        P[:, hip] = app(Rp, (0.0, s * b.hip_w, 0.0))
        Rt = (Rp @ _rot("z", s * r(a["hip_rot"][f])) @ _rot("x", s * r(a["hip_abd"][f]))
              @ _rot("y", -r(a["hip_flex"][f])))
        P[:, knee] = P[:, hip] + app(Rt, (0, 0, -b.thigh))
        Rs = Rt @ _rot("y", r(a["knee"][f]))
        P[:, ankle] = P[:, knee] + app(Rs, (0, 0, -b.shank))
        Rf = Rs @ _rot("y", -r(a["ankle"][f]))
        P[:, toe] = P[:, ankle] + app(Rf, (0.72 * b.foot, 0, -0.76 * b.ankle_h))
        P[:, tip] = P[:, ankle] + app(Rf, (b.foot, 0, -b.ankle_h))
        heel = P[:, ankle] + app(Rf, (-0.25 * b.foot, 0, -b.ankle_h))
        surface += [(P[:, hip], 0.09), (P[:, knee], 0.05), (P[:, tip], 0.0), (P[:, toe], 0.0), (heel, 0.0)]
    half = (0, 0, b.spine / 2)
    Rs = _rot("z", r(a["twist"]) / 2) @ _rot("y", r(a["lean"]) / 2) @ _rot("x", r(a["side"]) / 2)
    P[:, 11] = app(Rp, half)
    R11 = Rp @ Rs
    P[:, 12] = P[:, 11] + app(R11, half)
    R12 = R11 @ Rs
    P[:, 13] = P[:, 12] + app(R12, (0, 0, b.chest))
    R13 = R12 @ _rot("z", r(a["look"])) @ _rot("y", r(a["nod"]))
    P[:, 14] = P[:, 13] + app(R13, (0.6 * b.nose, 0, b.nose))
    P[:, 15] = P[:, 14] + app(R13, (-0.2 * b.top, 0, b.top))
    surface += [(P[:, 11], 0.10), (P[:, 12], 0.10), (P[:, 13], 0.08), (P[:, 14], 0.08), (P[:, 15], 0.07)]
    for f, (s, (clav, sh, el, wr, thumb, thumb_end, hand, hand_end)) in enumerate(
            zip(SIDES, ((24, 25, 26, 27, 28, 29, 30, 31), (16, 17, 18, 19, 20, 21, 22, 23)))):
        P[:, clav] = P[:, 13]
        P[:, sh] = P[:, clav] + app(R12, (-0.01, s * b.shoulder_w, -0.03))
        Ra = (R12 @ _rot("x", s * r(a["sh_abd"][f])) @ _rot("y", -r(a["sh_flex"][f]))
              @ _rot("z", s * r(a["sh_twist"][f])))
        P[:, el] = P[:, sh] + app(Ra, (0, 0, -b.upper_arm))
        Re = Ra @ _rot("y", -r(a["elbow"][f]))
        P[:, wr] = P[:, el] + app(Re, (0, 0, -b.forearm))
        P[:, thumb] = P[:, thumb_end] = P[:, wr] + app(Re, (0.0, s * 0.35 * b.hand, -0.4 * b.hand))
        P[:, hand] = P[:, hand_end] = P[:, wr] + app(Re, (0, 0, -b.hand))
        surface += [(P[:, sh], 0.07), (P[:, el], 0.04), (P[:, wr], 0.03), (P[:, hand_end], 0.01)]
    points = np.stack([np.concatenate([p, np.full((T, 1), rad)], -1) for p, rad in surface], 1)
    return P, points


# ------------------------------------------------------------------------------------------ the floor
CONTACT_TOLERANCE = 0.015   # metres: surface points this close to the lowest one share the body's weight


def _on_the_floor(P, points, flights) -> np.ndarray:
    """World positions: lowered onto the floor (z = 0) and moved so that the point in contact does not slide.

    flights: (start s, end s, forward speed m/s or None) intervals in the air: a parabola of the take-off's
    duration, the horizontal velocity the body had at take-off (plus any given speed along the heading)."""
    T = len(P)
    height = points[..., 2] - points[..., 3]                        # (T, K) surface heights below the joints
    lowest = height.min(1)
    t = np.arange(T) / FPS
    air = np.zeros(T)
    drift = np.zeros((T, 2))
    for t0, t1, speed in flights:
        inside = (t > t0) & (t < t1)
        air[inside] = 0.5 * GRAVITY * (t[inside] - t0) * (t1 - t[inside])
        if speed is not None:
            drift[inside] = speed
    offset = np.zeros((T, 2))
    anchor, velocity = int(np.argmin(height[0])), np.zeros(2)
    for k in range(1, T):
        if air[k] > 0:
            offset[k] = offset[k - 1] + velocity + drift[k] / FPS
            anchor = -1
            continue
        touching = height[k] <= lowest[k] + CONTACT_TOLERANCE
        if anchor < 0 or not touching[anchor]:
            anchor = int(np.argmin(np.where(touching, height[k], np.inf)))
        offset[k] = offset[k - 1] + points[k - 1, anchor, :2] - points[k, anchor, :2]
        velocity = offset[k] - offset[k - 1]
    world = P.copy()
    world[..., :2] += offset[:, None]
    world[..., 2] += (air - lowest)[:, None]
    return world


# ------------------------------------------------------------------------------------------ key poses
STAND = dict(hip_abd=4, knee=4, ankle=2, sh_abd=8, elbow=12, nod=3)


def pose(base=STAND, **changes) -> dict:
    """A key pose: channel -> degrees (sided channels a value for both sides or a (right, left) pair)."""
    return {**base, **changes}


# Poses the scripts share (degrees; the pelvis pitch -90 lies on the back, +90 faces the floor).
LIE_BACK = pose(pitch=-90, hip_abd=8, knee=5, ankle=-25, sh_abd=20, elbow=15, nod=-10)
LIE_FRONT = pose(pitch=90, hip_abd=8, knee=5, ankle=-40, sh_flex=150, sh_abd=30, elbow=90, nod=-20, look=40)
LIE_SIDE = pose(pitch=-90, spin=-90, hip_flex=40, knee=60, sh_flex=90, elbow=100, look=10)
LONG_SIT = pose(pitch=-10, lean=15, hip_flex=95, knee=5, ankle=-20, sh_flex=-30, sh_abd=15, elbow=5, nod=10)
CROSS_LEGGED = pose(pitch=-5, lean=10, hip_flex=80, hip_abd=45, hip_rot=45, knee=135, ankle=-20, sh_flex=30,
                    elbow=70, nod=15)
KNEES_UP = pose(pitch=-20, lean=25, hip_flex=130, hip_abd=10, knee=125, sh_flex=45, sh_abd=10, elbow=40, nod=10)
# On hands and knees the trunk tilts up 13 degrees: arms are longer than thighs (thighs and arms vertical).
HANDS_KNEES = pose(pitch=77, hip_flex=77, hip_abd=6, knee=90, ankle=-60, sh_flex=77, sh_abd=8, elbow=5, nod=-50)
KNEEL_UP = pose(hip_flex=0, knee=90, ankle=-60, sh_abd=10, elbow=20)
KNEEL_ONE = pose(pitch=5, hip_flex=(0, 95), knee=(90, 95), ankle=(-60, 5), sh_abd=10, elbow=20)
SIT_HEELS = pose(pitch=10, lean=5, hip_flex=25, knee=150, ankle=-60, sh_flex=25, elbow=60, nod=10)
SQUAT = pose(pitch=35, lean=10, hip_flex=115, hip_abd=15, hip_rot=15, knee=125, ankle=25, sh_flex=60, elbow=30,
             nod=-25)
CROUCH = pose(pitch=30, lean=10, hip_flex=75, hip_abd=8, knee=85, ankle=20, sh_flex=-40, elbow=20, nod=-20)
BEND = pose(pitch=55, lean=35, hip_flex=55, knee=12, sh_flex=70, sh_abd=10, elbow=10, nod=-20)
SIDE_SIT = pose(pitch=-10, roll=-25, lean=10, side=25, hip_flex=(70, 60), hip_rot=(-30, 40), knee=(120, 130),
                ankle=-30, sh_flex=(-10, 10), sh_abd=(35, 10), elbow=(5, 30))
GUARD = pose(hip_flex=(25, -5), hip_abd=10, knee=(20, 15), ankle=(5, 10), sh_flex=65, sh_abd=25, elbow=125,
             twist=-20, yaw=20, nod=5)
STAR = pose(hip_abd=40, knee=0, sh_abd=165, elbow=5)   # arms and legs spread: cartwheels, jumping jacks


def _jittered(rng, keys, spread: float) -> list:
    """The keys with every channel moved by the same few degrees (drawn once per pass, sided channels per side):
    a person's own way of doing the motion. The same offset at every key adds no motion of its own, so a
    planted foot stays planted."""
    channels = {c for _, p in keys for c in p if c != "yaw"}
    # the legs get one offset for both sides: two planted feet keep their distance when the pose changes
    offset = {c: spread * rng.standard_normal(2 if c in SIDED and c.startswith(("sh_", "elbow")) else 1)
              for c in sorted(channels)}
    out = []
    for dt, p in keys:
        q = {}
        for c, v in p.items():
            if c in SIDED:
                q[c] = tuple(np.broadcast_to(np.asarray(v, float), (2,)) + offset[c])
            else:
                q[c] = float(v) + (float(offset[c][0]) if c in offset else 0.0)
        out.append((dt, q))
    return out


# ----------------------------------------------------------------------------------------- scripts
# A script is a list of keys (seconds from the previous key, pose); the pose is reached at its key's time and
# held until the next key starts to move. `S(rng)` returns the keys (and flights) of one pass of the motion.

def _hold(rng, lo=0.6, hi=2.0) -> float:
    return float(rng.uniform(lo, hi))


def _lie_back(rng):
    arms = rng.choice(["side", "overhead", "chest"])
    arm_pose = dict(side=dict(sh_abd=25), overhead=dict(sh_flex=165, sh_abd=20, elbow=30),
                    chest=dict(sh_flex=45, elbow=110))[arms]
    keys = [(1.0, pose(LIE_BACK)), (_hold(rng), pose(LIE_BACK, **arm_pose)),
            (1.2, pose(LIE_BACK, hip_flex=55, knee=100, ankle=10, **arm_pose)),
            (_hold(rng), pose(LIE_BACK, hip_flex=(55, 80), knee=(100, 60), ankle=10, nod=5, look=30)),
            (1.0, pose(LIE_BACK, hip_flex=55, knee=100, ankle=10, spin=-15, look=-40)), (1.2, pose(LIE_BACK))]
    return keys, []


def _lie_front(rng):
    keys = [(1.0, pose(LIE_FRONT)), (_hold(rng), pose(LIE_FRONT, look=-40)),
            (1.0, pose(LIE_FRONT, lean=-30, sh_flex=120, sh_abd=20, elbow=95, nod=-30, look=0)),  # on the elbows
            (_hold(rng), pose(LIE_FRONT, lean=-30, sh_flex=120, sh_abd=20, elbow=95, knee=(10, 80), nod=-25)),
            (1.0, pose(LIE_FRONT, knee=(80, 10), look=30)), (1.0, pose(LIE_FRONT))]
    return keys, []


def _lie_side(rng):
    keys = [(1.0, pose(LIE_SIDE)), (_hold(rng, 1, 3), pose(LIE_SIDE, hip_flex=(40, 20), knee=(60, 30))),
            (1.0, pose(LIE_SIDE, sh_flex=(90, 40), sh_abd=(10, 60), elbow=(100, 20), look=-20)),
            (_hold(rng), pose(LIE_SIDE, spin=-75, nod=20)), (1.0, pose(LIE_SIDE))]
    return keys, []


def _roll(rng):
    """Log roll: back -> side -> front -> side -> back, arms overhead or held at the chest."""
    arms = dict(sh_flex=170, sh_abd=10, elbow=10) if rng.uniform() < 0.5 else dict(sh_flex=40, elbow=120)
    keys = [(1.0, pose(LIE_BACK, **arms))]
    for k in range(1, 5 + int(rng.integers(0, 4))):
        keys.append((rng.uniform(0.5, 0.8), pose(LIE_BACK, spin=-90 * k, **arms, hip_flex=10 * (k % 2))))
    return keys + [(_hold(rng, 0.5, 1.0), keys[-1][1])], []


def _crawl(rng):
    """Hands and knees, diagonal pairs swinging together; the stance limbs sweep back and carry the body."""
    sweep = rng.uniform(12, 20)
    arm_sweep = np.degrees(np.arcsin(np.sin(np.radians(sweep)) * 0.44 / 0.53))   # hands travel as far as knees
    cycle = rng.uniform(1.0, 1.5)
    keys, yaw, turn = [(1.0, pose(HANDS_KNEES))], 0.0, rng.uniform(-5, 5)   # degrees per half cycle
    for k in range(12):
        yaw += turn
        s = 1 if k % 2 else -1           # which diagonal swings forward
        hip, arm = HANDS_KNEES["hip_flex"], HANDS_KNEES["sh_flex"]
        keys.append((cycle / 2, pose(HANDS_KNEES, hip_flex=(hip + s * sweep, hip - s * sweep),
                                     sh_flex=(arm - s * arm_sweep, arm + s * arm_sweep), roll=4 * s, look=5 * s,
                                     yaw=yaw)))
    return keys, []


def _get_up(rng):
    """From lying (back or front) to standing through sitting or hands and knees and kneeling, or back down."""
    if rng.uniform() < 0.5:
        path = [LIE_BACK, LONG_SIT, SIDE_SIT, HANDS_KNEES, KNEEL_UP, KNEEL_ONE, STAND]
    else:
        path = [LIE_FRONT, pose(LIE_FRONT, lean=-35, sh_flex=110, elbow=20, nod=-30), HANDS_KNEES, KNEEL_UP,
                KNEEL_ONE, STAND]
    if rng.uniform() < 0.5:
        path = path[::-1]
    return [(rng.uniform(0.7, 1.3), pose(p)) for p in path] + [(_hold(rng), pose(path[-1]))], []


def _kneel(rng):
    keys = [(1.0, pose(STAND)), (1.0, pose(KNEEL_ONE)), (_hold(rng), pose(KNEEL_ONE, sh_flex=60, elbow=80)),
            (0.8, pose(KNEEL_UP)), (_hold(rng), pose(KNEEL_UP, sh_flex=(20, 90), elbow=(30, 60), look=30)),
            (1.0, pose(SIT_HEELS)), (_hold(rng, 1, 3), pose(SIT_HEELS, lean=25, nod=25)),
            (1.0, pose(KNEEL_UP)), (0.8, pose(KNEEL_ONE)), (1.0, pose(STAND))]
    return keys, []


def _squat(rng):
    keys = [(1.0, pose(STAND))]
    for _ in range(3):
        deep = rng.uniform() < 0.6
        keys += [(rng.uniform(0.7, 1.2), pose(SQUAT if deep else CROUCH, sh_flex=(60 if deep else 80))),
                 (_hold(rng, 0.3, 1.5), pose(SQUAT if deep else CROUCH, sh_flex=40, elbow=90, nod=-10)),
                 (rng.uniform(0.7, 1.2), pose(STAND))]
    return keys, []


def _sit_floor(rng):
    sit = [LONG_SIT, CROSS_LEGGED, KNEES_UP, SIDE_SIT][int(rng.integers(4))]
    down = [STAND, KNEEL_ONE, KNEEL_UP, SIDE_SIT, sit]
    keys = [(rng.uniform(0.8, 1.2), pose(p)) for p in down]
    keys += [(_hold(rng, 1.5, 4), pose(sit, look=30)), (1.0, pose(sit, sh_flex=(60, 20), elbow=(90, 30), look=-20)),
             (_hold(rng, 1, 3), pose(sit))]
    return keys + [(rng.uniform(0.8, 1.2), pose(p)) for p in down[::-1]], []


def _bend_reach(rng):
    """Bending to pick something up from the floor, with straight or bent knees, and putting it on a shelf."""
    low = BEND if rng.uniform() < 0.5 else pose(CROUCH, sh_flex=60, elbow=10, pitch=45)
    keys = [(1.0, pose(STAND)), (1.2, pose(low, sh_flex=(80, 50))), (_hold(rng, 0.3, 1.0), pose(low)),
            (1.2, pose(STAND, sh_flex=40, elbow=90)), (_hold(rng, 0.5, 1.5), pose(STAND, sh_flex=150, elbow=20,
                                                                                      nod=-25)),
            (1.0, pose(STAND))]
    return keys, []


def _run(rng):
    """Running on a curve: stance legs sweep back under the body (which carries it forward), flight between."""
    cadence = rng.uniform(2.6, 3.0)                 # steps per second
    step = 1.0 / cadence
    stance = rng.uniform(0.42, 0.5) * step * 2 / 2  # seconds a foot is on the ground per step
    turn = rng.uniform(60, 80) * rng.choice([-1, 1])  # x 1/2 degrees of heading per step: a circle of ~2 m radius
    base = pose(pitch=10, lean=5, elbow=90, sh_abd=10, nod=-5)
    keys, flights, t, yaw = [(0.6, pose(base, hip_flex=(30, -15), knee=(20, 90)))], [], 0.6, 0.0
    for k in range(24):
        s = 0 if k % 2 == 0 else 1      # the stance leg
        o = 1 - s
        yaw += turn / 4
        touch = {"hip_flex": [0, 0], "knee": [0, 0], "sh_flex": [0, 0], "ankle": [0, 0]}
        for leg, (flex, knee, ankle) in ((s, (20, 15, 5)), (o, (-15, 80, -20))):
            touch["hip_flex"][leg], touch["knee"][leg], touch["ankle"][leg] = flex, knee, ankle
        touch["sh_flex"][s], touch["sh_flex"][o] = -35, 45        # arms swing against the legs
        off = {"hip_flex": [0, 0], "knee": [0, 0], "sh_flex": [0, 0], "ankle": [0, 0]}
        for leg, (flex, knee, ankle) in ((s, (-15, 25, -30)), (o, (45, 60, 5))):
            off["hip_flex"][leg], off["knee"][leg], off["ankle"][leg] = flex, knee, ankle
        off["sh_flex"][s], off["sh_flex"][o] = -40, 50
        keys.append((step - stance if k else 0.0, pose(base, yaw=yaw, **{c: tuple(v) for c, v in touch.items()})))
        keys.append((stance, pose(base, yaw=yaw + turn / 4, twist=8 * (1 - 2 * s),
                                  **{c: tuple(v) for c, v in off.items()})))
        yaw += turn / 4
        t += (step - stance if k else 0.0) + stance
        flights.append((t, t + step - stance, None))
    return keys, flights[:-1]


def _jump(rng):
    """Jumps: in place, forward, or jumping jacks; a crouch, the take-off, the flight, the landing."""
    keys, flights, t = [(0.8, pose(STAND))], [], 0.8
    kind = rng.choice(["up", "forward", "jacks"])
    for _ in range(3):
        if kind == "jacks":      # two hops: feet apart and arms up, then back; the legs change in the air only
            for start, end in ((STAND, STAR), (STAR, STAND)):
                air = rng.uniform(0.25, 0.35)
                keys += [(0.15, pose(start, knee=25, hip_flex=15, ankle=15)),
                         (air / 2, pose(start, hip_abd=20, knee=10, ankle=-30, sh_abd=90)),
                         (air / 2, pose(end, knee=10, ankle=-10)), (0.15, pose(end, knee=20, hip_flex=10, ankle=10))]
                flights.append((t + 0.15, t + 0.15 + air, None))
                t += 0.3 + air
            continue
        air = rng.uniform(0.35, 0.6)
        speed = rng.uniform(0.6, 1.2) if kind == "forward" else 0.0
        keys += [(0.7, pose(CROUCH)), (0.25, pose(STAND, hip_flex=-5, knee=0, ankle=-40, sh_flex=170, elbow=10)),
                 (air * 0.5, pose(STAND, hip_flex=40, knee=70, ankle=-20, sh_flex=120, elbow=20)),
                 (air * 0.5, pose(STAND, hip_flex=35, knee=20, ankle=10, sh_flex=60)),
                 (0.2, pose(CROUCH, sh_flex=40)), (_hold(rng, 0.4, 1.0), pose(STAND))]
        flights.append((t + 0.95, t + 0.95 + air, (speed, 0.0)))
        t += 0.95 + air + 0.2 + keys[-1][0]
    return keys, flights


def _turn(rng):
    """Turning on the spot in small steps: the heading changes while one foot is off the floor and the other
    pivots on its toes (heel raised), as people turn."""
    total = rng.choice([90, 180, 270, 360]) * rng.choice([-1, 1])
    steps = int(abs(total) // 45)
    keys, yaw = [(0.8, pose(STAND))], 0.0
    for k in range(steps):
        lifted = (0, 1)[(k + (total > 0)) % 2]
        flex, ankle = [0, 0], [2, 2]
        flex[lifted], ankle[1 - lifted] = 35, -20
        up = dict(hip_flex=tuple(flex), knee=tuple(2 * v for v in flex), ankle=tuple(ankle))
        yaw += total / steps
        keys += [(0.2, pose(STAND, yaw=yaw - total / steps, **up)), (0.25, pose(STAND, yaw=yaw, **up)),
                 (0.2, pose(STAND, yaw=yaw))]
    return keys + [(_hold(rng), pose(STAND, yaw=yaw))], []


def _wave(rng):
    both = rng.uniform() < 0.4
    keys = [(0.8, pose(STAND))]
    for k in range(8):
        e = 25 if k % 2 else 70
        arm = dict(sh_abd=(150 if both else 10, 150), elbow=(e if both else 12, e), sh_twist=(0, 20))
        keys.append((rng.uniform(0.22, 0.35), pose(STAND, **arm, look=15, side=-5)))
    return keys + [(0.8, pose(STAND))], []


def _throw(rng):
    wind = pose(STAND, yaw=-50, twist=-35, hip_flex=(10, 30), knee=(10, 40), sh_abd=(95, 40), sh_twist=(85, 0),
                elbow=(95, 40), sh_flex=(0, 60), lean=-10)
    step = pose(wind, hip_flex=(5, 30), knee=(10, 5))
    release = pose(STAND, yaw=10, twist=35, hip_flex=(-10, 30), knee=(25, 10), sh_flex=(150, -20), sh_abd=(40, 20),
                   elbow=(15, 30), lean=30, pitch=10)
    follow = pose(release, sh_flex=(40, -30), lean=40, pitch=15, twist=40)
    back = pose(STAND, hip_flex=(0, 35), knee=(5, 60))
    keys = [(0.8, pose(STAND)), (0.8, wind), (0.3, step), (0.2, release), (0.3, follow), (0.6, back),
            (0.4, pose(STAND)), (_hold(rng), pose(STAND))]
    return keys, []


def _box(rng):
    keys = [(0.8, pose(STAND)), (0.6, pose(GUARD))]
    for _ in range(10):
        kind = rng.choice(["jab", "cross", "hook", "bob"])
        if kind == "jab":
            hit = pose(GUARD, sh_flex=(65, 92), sh_abd=(25, 8), elbow=(125, 5), twist=-25)
        elif kind == "cross":
            hit = pose(GUARD, sh_flex=(92, 65), sh_abd=(8, 25), elbow=(5, 125), twist=25, yaw=0, hip_rot=(-20, 10))
        elif kind == "hook":
            hit = pose(GUARD, sh_abd=(25, 90), sh_flex=(65, 80), elbow=(125, 95), sh_twist=(0, -30), twist=30)
        else:
            hit = pose(GUARD, knee=(50, 45), hip_flex=(50, 20), pitch=25, side=rng.choice([-15, 15]))
        keys += [(rng.uniform(0.12, 0.2), hit), (rng.uniform(0.15, 0.25), pose(GUARD)),
                 (_hold(rng, 0.1, 0.6), pose(GUARD, knee=(28, 22)))]
    return keys, []


def _lift(rng):
    low = pose(SQUAT, sh_flex=55, sh_abd=15, elbow=15, nod=-30)
    keys = [(1.0, pose(STAND)), (1.2, low), (0.5, low), (1.2, pose(STAND, sh_flex=35, sh_abd=15, elbow=85)),
            (_hold(rng, 0.5, 1.5), pose(STAND, sh_flex=35, sh_abd=15, elbow=85)),
            (1.0, pose(STAND, sh_flex=175, sh_abd=20, elbow=10, lean=-10, nod=-20)),
            (_hold(rng, 0.3, 1.0), pose(STAND, sh_flex=175, sh_abd=20, elbow=10, lean=-10)),
            (1.0, pose(STAND, sh_flex=35, sh_abd=15, elbow=85)), (1.2, low), (1.0, pose(STAND))]
    return keys, []


def _cartwheel(rng):
    """The body turns a full circle about its forward axis, arms and legs spread; hands, then feet, carry it."""
    star = pose(STAR, hip_abd=30)
    keys = [(0.8, pose(STAND)), (0.6, pose(star, hip_abd=(5, 30), knee=(10, 0)))]
    for k in range(1, 5):
        keys.append((rng.uniform(0.28, 0.38), pose(star, roll=90 * k, lean=10 * (k % 2))))
    keys += [(0.5, pose(STAND, roll=360, sh_abd=120)), (_hold(rng), pose(STAND, roll=360))]
    return keys, []


def _handstand(rng):
    up = pose(STAND, pitch=180, sh_flex=175, sh_abd=8, elbow=0, hip_abd=8, knee=0, ankle=-40, nod=-40)
    keys = [(0.8, pose(STAND)), (0.6, pose(STAND, sh_flex=175, sh_abd=8, elbow=0, hip_flex=(0, 40))),
            (0.6, pose(STAND, pitch=80, sh_flex=170, hip_flex=(-20, 60), knee=(0, 10), nod=-40)),
            (0.6, pose(up, hip_flex=(-10, 25))), (0.4, up),
            (_hold(rng, 0.8, 2.0), pose(up, lean=-8, hip_flex=(10, -10))),
            (0.6, pose(up, hip_flex=(30, -20), knee=(20, 0))),
            (0.7, pose(STAND, pitch=90, sh_flex=170, hip_flex=(60, -20), nod=-40)),
            (0.7, pose(STAND, sh_flex=160, hip_flex=(40, 0))), (0.8, pose(STAND))]
    return keys, []


SCRIPTS = dict(lie_back=_lie_back, lie_front=_lie_front, lie_side=_lie_side, roll=_roll, crawl=_crawl, get_up=_get_up,
               kneel=_kneel, squat=_squat, sit_floor=_sit_floor, bend_reach=_bend_reach, run=_run, jump=_jump,
               turn=_turn, wave=_wave, throw=_throw, box=_box, lift=_lift, cartwheel=_cartwheel,
               handstand=_handstand)
LIBRARY_MOTIONS = tuple(SCRIPTS)
# Motions whose every key is fast (punches, running strides): a shorter smoothing kernel keeps their speed.
_THERE_AND_BACK = {"roll", "cartwheel"}
_FAST = {"run": 0.03, "box": 0.04, "jump": 0.04, "wave": 0.05, "throw": 0.04, "turn": 0.05}


# -------------------------------------------------------------------------------------------- takes
def mirrored(p: dict) -> dict:
    """The pose with left and right swapped."""
    out = {}
    for c, v in p.items():
        if c in SIDED:
            out[c] = tuple(np.broadcast_to(np.asarray(v, float), (2,))[::-1])
        else:
            out[c] = -v if c in MIRRORED_SIGN else v
    return out


def _channels(keys, n_frames: int, smooth_s: float) -> dict:
    """Channel arrays (degrees) of the keys: interpolated, smoothed, clipped to LIMITS."""
    times = np.cumsum([dt for dt, _ in keys])
    poses = [{**STAND, **p} for _, p in keys]
    t = np.arange(n_frames) / FPS
    out = {}
    for c in GLOBAL + SIDED:
        if c in SIDED:
            v = np.stack([np.broadcast_to(np.asarray(p.get(c, 0.0), float), (2,)) for p in poses])   # (K, 2)
            v = np.stack([np.interp(t, times, v[:, f]) for f in range(2)])
        else:
            v = np.array([float(p.get(c, 0.0)) for p in poses])
            v = np.interp(t, times, v)
        out[c] = _gauss(v, smooth_s * FPS)
        if c in LIMITS:
            out[c] = np.clip(out[c], *LIMITS[c])
    return out


def _gauss(v, sigma_frames):
    """Gaussian smoothing along the last axis, edges held."""
    r = int(np.ceil(3 * sigma_frames))
    k = np.exp(-0.5 * (np.arange(-r, r + 1) / sigma_frames) ** 2)
    k /= k.sum()
    pad = np.pad(v, [(0, 0)] * (v.ndim - 1) + [(r, r)], mode="edge")
    return np.apply_along_axis(lambda x: np.convolve(x, k, mode="valid"), -1, pad)


def library_take(rng, body: Body, motion: str, n_frames: int, centre=(0.0, 0.0), arms: dict | None = None
                 ) -> np.ndarray:
    """(T, 32, 3) world positions of one take of a library motion: z up, the floor at z = 0, the take's mean
    root position over the floor at `centre`, a random heading; passes of the motion repeat to fill the take,
    which starts at a random point of the first pass. `arms`: channels held throughout (say, the hands at the
    face holding a camera while kneeling)."""
    if motion not in SCRIPTS:
        raise ValueError(f"unknown motion {motion!r} (known: {', '.join(LIBRARY_MOTIONS)})")
    keys, flights, start = [], [], 0.0
    lead_in = rng.uniform(0.0, 2.0)
    mirror = rng.uniform() < 0.5
    while start < n_frames / FPS + lead_in + 1.0:
        k, f = SCRIPTS[motion](rng)
        k = _jittered(rng, [(dt, {**STAND, **p}) for dt, p in k], JITTER_DEG)
        if arms:
            k = [(dt, {**p, **arms}) for dt, p in k]
        if mirror:
            k = [(dt, mirrored(p)) for dt, p in k]
        if keys:   # carry on from where the last pass ended: the heading, and whole turns of the body
            last = keys[-1][1]
            shift = {c: 360.0 * np.round(last.get(c, 0.0) / 360.0) for c in ("pitch", "roll", "spin")}
            shift["yaw"] = last.get("yaw", 0.0)
            k = [(dt, {**p, **{c: p.get(c, 0.0) + v for c, v in shift.items()}}) for dt, p in k]
        # a motion that travels (rolls, cartwheels) comes back on the next pass; others mirror at random
        mirror = not mirror if motion in _THERE_AND_BACK else rng.uniform() < 0.5
        if keys:   # the next pass starts where this one ended: its first key follows the last
            k = [(max(k[0][0], 0.3), k[0][1])] + k[1:]
        keys += k
        flights += [(a + start, b + start, s) for a, b, s in f]
        start = float(np.sum([dt for dt, _ in keys]))
    skip = int(round(lead_in * FPS))
    a = _channels(keys, n_frames + skip, _FAST.get(motion, 0.08))
    a = {c: v[..., skip:] for c, v in a.items()}
    a["yaw"] = a["yaw"] + np.degrees(rng.uniform(-np.pi, np.pi))
    P, points = skeleton_from_angles(body, a)
    heading = np.radians(a["yaw"])

    def along_heading(t0, speed):   # a jump's forward speed along the heading it takes off in
        k = min(max(int((t0 - lead_in) * FPS), 0), n_frames - 1)
        return speed * np.array([np.cos(heading[k]), np.sin(heading[k])])

    flights = [(t0 - lead_in, t1 - lead_in, None if v is None else along_heading(t0, v[0])) for t0, t1, v in flights
               if t1 > lead_in and t0 < lead_in + n_frames / FPS]
    world = _on_the_floor(P, points, flights)
    world[..., :2] += np.asarray(centre, float) - world[:, 0, :2].mean(0)
    return world
