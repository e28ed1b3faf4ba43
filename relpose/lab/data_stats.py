"""Descriptive statistics of a pose data set: how fast people move and how far their joints reach.

Used by the data-inspection notebook to compare actions: global motion (walking) shows up as root
speed, local motion (gestures, eating) as the range of motion of the limbs around the root; and to show
which takes of the synthetic set are motions of the broad library (`library_takes_table`).

- root speed: the root joint's displacement between consecutive frames times the frame rate (m/s);
- range of motion of a joint: the largest distance between two positions the joint takes over a
  sequence, measured relative to the root (so walking across the room does not count, only how far
  the joint moves around the pelvis). It does not depend on the camera: rotations keep distances.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import UserError
from ..synth.generator import FLOOR_VARIANTS, SYNTH_ACTIONS
from ..tables import text_table

_BLOCK_ELEMENTS = 1 << 18  # squared distances held at once by range_of_motion (2 MB)


def _check_sequence(positions) -> np.ndarray:
    positions = np.asarray(positions, dtype=np.float64)
    if positions.ndim != 3 or positions.shape[-1] != 3 or positions.shape[0] == 0:
        raise ValueError(f"expected a (frames, joints, 3) sequence, got shape {positions.shape}")
    return positions


def root_speed(positions, fps: float, root: int = 0) -> np.ndarray:
    """Speed (T - 1,) in units per second of the root joint of a (T, J, 3) sequence."""
    positions = _check_sequence(positions)
    if fps <= 0:
        raise ValueError(f"fps must be positive, got {fps}")
    return np.linalg.norm(np.diff(positions[:, root], axis=0), axis=-1) * fps


def range_of_motion(positions, root: int = 0, root_relative: bool = True) -> np.ndarray:
    """Per joint (J,): the largest distance between two of its positions over a (T, J, 3) sequence.

    With root_relative (default) the positions are taken relative to the root joint of the same
    frame first, so the root itself gets 0. Exact: all pairs of frames, through Gram matrices
    (|a - b|^2 = |a|^2 + |b|^2 - 2 a.b), in blocks of rows so long takes need little memory.
    """
    p = _check_sequence(positions)
    if root_relative:
        p = p - p[:, root:root + 1]
    p = p - p.mean(axis=0)                      # centring keeps the Gram trick accurate
    p = np.ascontiguousarray(p.transpose(1, 0, 2))   # (J, T, 3)
    pt = p.transpose(0, 2, 1)
    sq = np.einsum("jtc,jtc->jt", p, p)         # (J, T)
    joints, frames = sq.shape
    block = max(1, _BLOCK_ELEMENTS // (joints * frames))
    best = np.zeros(joints)
    for i in range(0, frames, block):           # small blocks stay in cache: ~20x faster than one big one
        rows = slice(i, i + block)
        d2 = p[:, rows] @ pt                    # (J, rows, T), then in place: |a|^2 + |b|^2 - 2 a.b
        d2 *= -2
        d2 += sq[:, rows, None]
        d2 += sq[:, None, :]
        best = np.maximum(best, d2.reshape(joints, -1).max(axis=1))
    return np.sqrt(np.maximum(best, 0))


@dataclass
class ActionStatistics:
    action: str
    takes: int
    frames: int                       # summed over takes, one camera
    root_speed: float                 # mean over all frames, m/s
    range_of_motion_mm: np.ndarray    # (J,) frame-weighted mean over takes, mm


def per_action_statistics(dataset, subjects, action_filter=None, downsample: int = 1) -> list[ActionStatistics]:
    """Frames, mean root speed and per-joint range of motion for each action of `subjects`.

    Takes are grouped by action name as in the evaluation ('Walking 1' counts as 'Walking'). Each take
    is measured once, on the first camera's 3D (the motion is the same in every camera); joint 0 of
    the prepared 3D holds the root's camera-space trajectory, joints 1.. are relative to it.
    `downsample` > 1 measures every n-th frame (faster on long takes; speeds stay in m/s, frames
    count the frames measured).
    """
    if int(downsample) != downsample or downsample < 1:
        raise UserError(f"downsample must be a whole number >= 1, got {downsample}")
    stride = int(downsample)
    stats = []
    for action, pairs in dataset.actions_by_name(subjects, action_filter).items():
        if any(not dataset.has_3d(s) for s, _ in pairs):
            raise UserError(f"action '{action}': subject(s) without 3D poses in {dataset.name}; "
                            "pass labelled subjects only")
        speeds, roms, frames = [], [], []
        for subject, take in pairs:
            seq = dataset.positions_3d[subject][take][0][::stride]
            absolute = seq.copy()
            absolute[:, 1:] += seq[:, :1]       # back to absolute camera-space positions
            if len(seq) > 1:
                speeds.append(root_speed(absolute, dataset.fps / stride))
            roms.append(range_of_motion(absolute))
            frames.append(len(seq))
        mean_speed = float(np.concatenate(speeds).mean()) if speeds else 0.0
        rom = np.average(np.stack(roms), axis=0, weights=frames) * 1000
        stats.append(ActionStatistics(action, len(pairs), int(sum(frames)), mean_speed, rom))
    return stats


def format_statistics(stats: list[ActionStatistics], skeleton, joints=None) -> str:
    """An aligned text table: action, takes, frames, root speed, mean range of motion and chosen joints."""
    names = list(skeleton.joint_names) or [str(j) for j in range(skeleton.num_joints)]
    picked = []
    for j in joints or ():
        if isinstance(j, str) and j not in names:
            raise UserError(f"joint '{j}' is not in skeleton {skeleton.name} (joints: {', '.join(names)})")
        picked.append(names.index(j) if isinstance(j, str) else int(j))
    joints = picked
    width = max([len("action")] + [len(s.action) for s in stats])
    # Mean over the joints that move relative to the root (the root's own range is 0 by definition).
    rows = [[s.action, s.takes, s.frames, s.root_speed, s.range_of_motion_mm[1:].mean(),
             *(s.range_of_motion_mm[j] for j in joints)] for s in stats]
    return text_table(["action", "takes", "frames", "root m/s", "ROM mean", *(names[j] for j in joints)], rows,
                      widths=[width, 5, 7, 8, 8] + [9] * len(joints),
                      formats=["", "d", "d", ".2f", ".0f"] + [".0f"] * len(joints), sep="  ",
                      note="(ROM: range of motion relative to the root, mm; mean over the non-root joints)")


def library_takes_table(library_takes: dict, actions=None) -> str:
    """Which takes of the synthetic set are motions of the broad library: the 3D file's
    metadata['library_takes'] ({subject: {take: motion}}) as a table, a row per subject and a column per action
    with library variants (`actions`, default the generator's FLOOR_VARIANTS), each cell the motion of each of the
    action's takes in order ('-': the action's own key-pose motion); the last row counts them."""
    actions = list(FLOOR_VARIANTS if actions is None else actions)
    takes = {a: [t for t in SYNTH_ACTIONS if t.split(" ")[0] == a] for a in actions}
    unknown = [a for a in actions if not takes[a]]
    if unknown:
        raise UserError(f"no takes of {', '.join(unknown)} in the synthetic set (actions: "
                        f"{', '.join(sorted({t.split(' ')[0] for t in SYNTH_ACTIONS}))})")
    rows = [[subject, *(" / ".join(library_takes[subject].get(t, "-") for t in takes[a]) for a in actions)]
            for subject in library_takes]
    counts = [f"{sum(t in library_takes[s] for s in library_takes for t in takes[a])} of "
              f"{len(library_takes) * len(takes[a])}" for a in actions]
    return text_table(["subject", *actions], rows, footer=[["library", *counts]], sep="  ",
                      note="(each cell: the motion of the action's first / second take; -: the action's own motion)")
