"""Evaluation analyses beyond the per-action table: predictions per take, per-joint errors,
the effect of test-time augmentation, and how the error grows with the amount of motion.

The protocol tables themselves come from relpose.evaluate; this module keeps every take's
prediction (one `TakePrediction` per subject, action and camera) so that the same forward passes
can be cut in other ways:

- `per_joint_mpjpe_mm(takes)`: frame-weighted error of each joint over all takes (mm);
- `take_motion_stats(takes, fps)`: one row per take with its MPJPE, MPJVE, root speed and the
  extents of its global and local motion, for error-against-motion plots;
- `tta_table(with_tta, without_tta)`: the per-action Protocol #1/#2 figures side by side.

One small helper for the training notebooks sits here too: `trainable_table(model)` (which
tensors a stage trains).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from ..evaluate import EvaluationResult, predict_sequence
from ..tables import text_table
from ..windows import Flip


@dataclass
class TakePrediction:
    """One camera's view of one take: the model's 3D poses and the truth (metres, camera space)."""
    subject: str
    action: str             # the take's name in the data set, e.g. "Walking 1"
    camera: int
    prediction: np.ndarray  # (T, J, 3) root-relative, as the model outputs it
    target: np.ndarray      # (T, J, 3) root-relative: joint 0 set to zero
    trajectory: np.ndarray  # (T, 3) camera-space position of the root joint

    @property
    def action_name(self) -> str:
        """The action without the take number ('SittingDown 1' -> 'SittingDown')."""
        return self.action.split(" ")[0]

    def joint_errors_mm(self) -> np.ndarray:
        """(T, J) Euclidean error of every joint in every frame, in mm."""
        return np.linalg.norm(self.prediction - self.target, axis=-1) * 1000


def predict_takes(model, dataset, subjects, *, action_filter=None, downsample: int = 1, tta: bool = True,
                  causal_shift: int = 0, batch_size: int = 1024, device=None) -> list[TakePrediction]:
    """The model's prediction for every take and camera of `subjects` (actions in file order).

    Same windows, padding and TTA as relpose.evaluate.evaluate_dataset, so pooling these errors per
    action reproduces its Protocol #1 figures.
    """
    model.eval()
    flip, takes = Flip.from_dataset(dataset), []
    for action, pairs in dataset.actions_by_name(subjects, action_filter).items():
        for subject, take in pairs:
            poses_3d, poses_2d = dataset.fetch_actions([(subject, take)], downsample=downsample)
            for camera, (seq_3d, seq_2d) in enumerate(zip(poses_3d, poses_2d)):
                pred = predict_sequence(model, seq_2d, tta=tta, flip=flip, causal_shift=causal_shift,
                                        batch_size=batch_size, device=device).cpu().numpy()
                target = np.array(seq_3d, dtype=np.float32)
                trajectory = target[:, 0].copy()
                target[:, 0] = 0
                takes.append(TakePrediction(subject, take, camera, pred, target, trajectory))
    return takes


def per_joint_mpjpe_mm(takes: list[TakePrediction]) -> np.ndarray:
    """(J,) mean error of each joint over every frame of every take (frames weigh equally), mm."""
    if not takes:
        raise ValueError("no takes to aggregate")
    sums = sum(t.joint_errors_mm().sum(axis=0) for t in takes)
    frames = sum(len(t.prediction) for t in takes)
    return sums / frames


def per_action_mpjpe_mm(takes: list[TakePrediction]) -> dict[str, float]:
    """Frame-weighted MPJPE of each action (takes pooled over subjects and cameras), mm."""
    sums: dict[str, float] = {}
    frames: dict[str, int] = {}
    for t in takes:
        name = t.action_name
        sums[name] = sums.get(name, 0.0) + float(t.joint_errors_mm().mean(axis=1).sum())
        frames[name] = frames.get(name, 0) + len(t.prediction)
    return {name: sums[name] / frames[name] for name in sums}


def worst_joints(errors_mm, joint_names, k: int = 3) -> list[tuple[str, float]]:
    """The `k` joints with the largest error, largest first, as (name, error) pairs."""
    errors_mm = np.asarray(errors_mm, dtype=np.float64)
    if len(joint_names) != len(errors_mm):
        raise ValueError(f"{len(errors_mm)} errors but {len(joint_names)} joint names")
    order = np.argsort(-errors_mm, kind="stable")[:k]
    return [(joint_names[j], float(errors_mm[j])) for j in order]


@dataclass
class TakeMotion:
    """Error and amount of motion of one take seen by one camera."""
    subject: str
    action: str
    camera: int
    frames: int
    mpjpe_mm: float
    mpjve_mm: float
    root_speed_m_s: float   # mean speed of the root joint (global motion)
    root_range_m: float     # largest distance of the root from its mean position
    local_std_m: float      # mean over joints of the root-relative joint's standard deviation (local motion):
                            # the root-mean-square distance from its mean position, not a range

    @property
    def action_name(self) -> str:
        return self.action.split(" ")[0]


def take_motion_stats(takes: list[TakePrediction], fps: float) -> list[TakeMotion]:
    """One `TakeMotion` per take: its errors next to how much (and how fast) the person moved.

    MPJVE is per frame of the given takes (mm/frame), as VideoPose3D reports it; with downsampled
    takes the frame step is larger, so compare MPJVE only between takes of the same frame rate.
    `fps` is the frame rate of the takes as given (the data set's rate / downsample).
    """
    rows = []
    for t in takes:
        err = t.joint_errors_mm()
        if len(t.prediction) > 1:
            vel = np.linalg.norm(np.diff(t.prediction, axis=0) - np.diff(t.target, axis=0), axis=-1)
            mpjve = float(vel.mean() * 1000)
            speed = float(np.linalg.norm(np.diff(t.trajectory, axis=0), axis=-1).mean() * fps)
        else:
            mpjve, speed = float("nan"), 0.0
        root_range = float(np.linalg.norm(t.trajectory - t.trajectory.mean(axis=0), axis=-1).max())
        # Standard deviation of each non-root joint around its own mean, in 3D, then averaged over joints.
        local = t.target[:, 1:]
        local_std = float(np.sqrt(((local - local.mean(axis=0)) ** 2).sum(axis=-1).mean(axis=0)).mean())
        rows.append(TakeMotion(t.subject, t.action, t.camera, len(t.prediction), float(err.mean()), mpjve,
                               speed, root_range, local_std))
    return rows


def pearson_r(x, y) -> float:
    """Pearson correlation of two equally long sequences (nan when either is constant)."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if x.shape != y.shape or x.ndim != 1 or len(x) < 2:
        raise ValueError(f"need two 1-D sequences of the same length >= 2, got shapes {x.shape} and {y.shape}")
    if np.ptp(x) == 0 or np.ptp(y) == 0:
        return float("nan")   # SciPy would say so with a warning
    return float(stats.pearsonr(x, y).statistic)


def motion_by_action(rows: list[TakeMotion]) -> list[tuple[str, int, float, float, float]]:
    """(action, frames, frame-weighted MPJPE mm, mean root speed m/s, mean local std m) per action."""
    out = []
    for name in dict.fromkeys(r.action_name for r in rows):
        group = [r for r in rows if r.action_name == name]
        frames = np.array([r.frames for r in group], dtype=np.float64)
        weights = frames / frames.sum()
        out.append((name, int(frames.sum()), float(np.dot(weights, [r.mpjpe_mm for r in group])),
                    float(np.dot(weights, [r.root_speed_m_s for r in group])),
                    float(np.dot(weights, [r.local_std_m for r in group]))))
    return out


def format_motion_table(rows: list[TakeMotion]) -> str:
    """Per-action error and motion, slowest root first, as an aligned text table."""
    table = [(name, frames, err, speed, local * 1000)
             for name, frames, err, speed, local in sorted(motion_by_action(rows), key=lambda r: r[3])]
    return text_table(("Action", "frames", "MPJPE mm", "root m/s", "local std mm"), table, widths=(14, 8, 10, 10, 14),
                      formats=("", "d", ".1f", ".2f", ".1f"))


def tta_table(with_tta: EvaluationResult, without_tta: EvaluationResult, digits: int = 1) -> str:
    """Per-action MPJPE and P-MPJPE without and with test-time augmentation, and the change (mm)."""
    plain = {a.action: a for a in without_tta.actions}
    if set(plain) != {a.action for a in with_tta.actions}:
        raise ValueError("the two evaluations cover different actions")

    def row(name, p1, p1t, p2, p2t):
        return [name, p1, p1t, p1t - p1, "", p2, p2t, p2t - p2]

    rows = [row(a.action, plain[a.action].mpjpe_mm, a.mpjpe_mm, plain[a.action].p_mpjpe_mm, a.p_mpjpe_mm)
            for a in with_tta.actions]
    average = row("Average", without_tta.mpjpe_mm, with_tta.mpjpe_mm, without_tta.p_mpjpe_mm, with_tta.p_mpjpe_mm)
    f, d = f".{digits}f", f"+.{digits}f"
    return text_table(("Action", "MPJPE", "+TTA", "change", "", "P-MPJPE", "+TTA", "change"), rows, footer=[average],
                      widths=(14, 8, 8, 8, 3, 8, 8, 8), formats=("", f, f, d, "", f, f, d), suffix="  (mm)")


def trainable_table(model) -> str:
    """Parameter tensors grouped by top-level module (the name up to the first dot): how many tensors
    and values each holds, and how many of them train (requires_grad)."""
    groups: dict[str, list[int]] = {}
    for name, p in model.named_parameters():
        g = groups.setdefault(name.split(".")[0], [0, 0, 0, 0])
        g[0] += 1
        g[1] += p.numel()
        if p.requires_grad:
            g[2] += 1
            g[3] += p.numel()
    totals = [sum(g[i] for g in groups.values()) for i in range(4)]
    return text_table(("module", "tensors", "values", "trained", "values"), [[k, *g] for k, g in groups.items()],
                      footer=[["total", *totals]], widths=(22, 8, 10, 9, 10), formats=("", "d", ",d", "d", ",d"))
