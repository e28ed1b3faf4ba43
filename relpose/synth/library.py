"""(stub, being written) The broad motion library: floor work, kneeling, squatting, running, jumping, arm-heavy
and acrobatic motion, with the pelvis free; bodies from children to tall adults.

API (stable):
    LIBRARY_MOTIONS            names of the motions
    random_body(rng) -> Body   a body drawn from human proportions, children to tall adults
    library_take(rng, body, motion, n_frames, centre=(0.0, 0.0)) -> (T, 32, 3) float64 world positions,
        metres, z up, the floor at z = 0, the take's mean root position over the floor at `centre`.
"""
from __future__ import annotations

import numpy as np

from .motion import Body, make_motion, pose_from_motion

LIBRARY_MOTIONS = ("lie_back", "lie_front", "lie_side", "roll", "crawl", "get_up", "kneel", "squat", "sit_floor",
                   "bend_reach", "run", "jump", "turn", "wave", "throw", "box", "lift", "cartwheel", "handstand")


def random_body(rng) -> Body:
    h = rng.uniform(1.0, 1.95)
    ref = Body()
    return Body(*(getattr(ref, k) * h / ref.height for k in ref.__dataclass_fields__))


def library_take(rng, body: Body, motion: str, n_frames: int, centre=(0.0, 0.0)) -> np.ndarray:
    if motion not in LIBRARY_MOTIONS:
        raise ValueError(f"unknown motion {motion!r}")
    pos = pose_from_motion(body, make_motion(rng, body, "Waiting", n_frames))
    pos[..., :2] += np.asarray(centre) - pos[:, 0, :2].mean(0)
    return pos
