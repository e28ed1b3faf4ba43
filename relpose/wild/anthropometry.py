"""How big a person is, from a skeleton's joint positions, and the ranges a human body falls in.

Sources (facts, as fractions of standing height H unless said otherwise):
- Drillis, R. and Contini, R. (1966), "Body segment parameters", Report 1166-03, Office of Vocational
  Rehabilitation, New York University, as reproduced in Winter, D. A., "Biomechanics and Motor Control of
  Human Movement" (fig. 4.1): ankle joint 0.039 H above the floor, hip joint 0.530 H, knee 0.285 H, shoulder
  (acromion) 0.818 H; thigh 0.245 H, shank 0.246 H, upper arm 0.186 H, forearm 0.146 H; shoulder breadth
  0.259 H and hip breadth 0.191 H (on the skin, wider than between joint centres).
- NASA-STD-3000, Man-Systems Integration Standards, vol. I, section 3 (anthropometry): stature from
  about 1.49 m (5th percentile of its smallest population) to about 1.90 m (95th percentile of its tallest).
- Children: stature about 0.75 m at one year and 1.15 m at six (WHO Child Growth Standards / CDC growth
  charts); legs are shorter relative to height (hip joint ~0.45 H at age two), heads larger.

A skeleton's joints are joint centres, so widths between joints are narrower than the skin breadths
above; the ranges in `ADULT_RANGES` allow for it and were checked on the kit's synthetic bodies (eight
Human3.6M-like subjects) and the DeepMimic humanoid (relpose.mocap), which both fall inside them.
"""
from __future__ import annotations

import numpy as np

from ..errors import UserError
from ..skeleton import Skeleton

ANKLE_HEIGHT = 0.039           # Drillis & Contini: ankle joint above the floor, a fraction of standing height
ADULT_HEIGHT_M = (1.45, 2.00)  # NASA-STD-3000's 5th-95th percentile span, rounded outwards
CHILD_HEIGHT_M = (0.70, 1.60)  # about one year to early teens
# Ratios to standing height: (adult low, adult high). Joint-centre measures (see the module's note).
ADULT_RANGES = {
    "shoulder width": (0.13, 0.27),   # between shoulder joints; skin breadth 0.259 H
    "hip width": (0.08, 0.19),        # between hip joints; skin breadth 0.191 H
    "leg length": (0.42, 0.56),       # hip joint -> ankle, thigh + shank = 0.491 H
    "arm span": (0.75, 0.98),         # wrist -> shoulder -> shoulder -> wrist: 0.259 H + 2 x 0.332 H ~ 0.92 H
}
# The same for children (about one to twelve years): relatively shorter legs (sitting height is ~0.57 of stature
# at three years against ~0.52 for adults), so the leg range starts lower; widths and arms overlap the adults'.
CHILD_RANGES = {"shoulder width": (0.13, 0.27), "hip width": (0.08, 0.20), "leg length": (0.36, 0.52),
                "arm span": (0.70, 0.98)}
_NAMES = {"pelvis": ("Hip", "Pelvis"), "ankle": ("Foot", "Ankle")}


def joint(skeleton: Skeleton, *names: str) -> int:
    """The index of the first of `names` the skeleton has (UserError when it has none)."""
    for name in names:
        if name in (skeleton.joint_names or ()):
            return skeleton.joint_names.index(name)
    raise UserError(f"skeleton {skeleton.name} has no joint named {' or '.join(names)}")


def _length(poses, a: int, b: int) -> np.ndarray:
    return np.linalg.norm(poses[:, a] - poses[:, b], axis=-1)


def _sided(skeleton: Skeleton, side: str, part: str) -> int:
    names = _NAMES.get(part, (part.capitalize(),))
    return joint(skeleton, *(side + n for n in names))


def leg_length(poses, skeleton: Skeleton) -> np.ndarray:
    """(T,) hip joint -> knee -> ankle, the mean of both legs (metres, along the bones)."""
    out = 0.0
    for side in "LR":
        hip, knee, ankle = (_sided(skeleton, side, p) for p in ("hip", "knee", "ankle"))
        out = out + _length(poses, hip, knee) + _length(poses, knee, ankle)
    return out / 2


def body_height(poses, skeleton: Skeleton) -> float:
    """Standing height (metres) from bone lengths, whatever the pose: the median over frames of head top ->
    thorax -> spine -> pelvis (where the skeleton has a spine joint) plus the mean leg, over 1 - ANKLE_HEIGHT
    for the ankle's height above the floor. The head joint is taken as the top of the head (Human3.6M's
    'Head' and the DeepMimic humanoid's sit near it)."""
    poses = np.asarray(poses, dtype=float)
    head, thorax, pelvis = joint(skeleton, "Head"), joint(skeleton, "Thorax"), joint(skeleton, *_NAMES["pelvis"])
    if "Spine" in (skeleton.joint_names or ()):
        spine = joint(skeleton, "Spine")
        trunk = _length(poses, thorax, spine) + _length(poses, spine, pelvis)
    else:
        trunk = _length(poses, thorax, pelvis)
    chain = _length(poses, head, thorax) + trunk + leg_length(poses, skeleton)
    return float(np.nanmedian(chain)) / (1 - ANKLE_HEIGHT)


def proportions(poses, skeleton: Skeleton) -> dict[str, float]:
    """The ratios of ADULT_RANGES (median over frames of each length, divided by `body_height`)."""
    poses = np.asarray(poses, dtype=float)
    height = body_height(poses, skeleton)
    s = {side: _sided(skeleton, side, "shoulder") for side in "LR"}
    h = {side: _sided(skeleton, side, "hip") for side in "LR"}
    arm = 0.0
    for side in "LR":
        elbow, wrist = _sided(skeleton, side, "elbow"), _sided(skeleton, side, "wrist")
        arm = arm + _length(poses, s[side], elbow) + _length(poses, elbow, wrist)
    shoulders = _length(poses, s["L"], s["R"])
    lengths = {"shoulder width": shoulders, "hip width": _length(poses, h["L"], h["R"]),
               "leg length": leg_length(poses, skeleton), "arm span": shoulders + arm}
    return {k: float(np.nanmedian(v)) / height for k, v in lengths.items()}
