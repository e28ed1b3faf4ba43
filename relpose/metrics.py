"""Pose errors: MPJPE and its variants, with the definitions of VideoPose3D (Pavllo et al. 2019).

- MPJPE (protocol #1): mean Euclidean distance between predicted and true joints.
- P-MPJPE (protocol #2): MPJPE after aligning each predicted frame to the truth with the best
  rotation, scale and translation (Procrustes), never a reflection.
- N-MPJPE: MPJPE after the best per-frame scale only.
- MPJVE: MPJPE of the velocities (finite differences along axis 0, the time axis).

One scheme for numpy and torch: every function takes two numpy arrays or two torch tensors
(same shape, last axis = coordinates, the one before = joints) and answers in kind: a numpy
scalar/array for numpy inputs, a tensor (differentiable, on the inputs' device) for torch inputs.
Each metric is written once in torch; numpy inputs are wrapped without copying and keep their dtype.
"""
from __future__ import annotations

import numpy as np
import torch


def _as_tensor(a) -> torch.Tensor:
    a = np.asarray(a)
    if not np.issubdtype(a.dtype, np.floating):
        a = a.astype(np.float64)
    if not a.flags.writeable:  # torch.from_numpy wants writable memory (e.g. arrays from np.load(mmap_mode=...))
        a = a.copy()
    return torch.from_numpy(a)


def _run(fn, pred, target, *extra):
    """Run the torch implementation ``fn`` and answer in the kind of the inputs."""
    pred_torch, target_torch = isinstance(pred, torch.Tensor), isinstance(target, torch.Tensor)
    if pred_torch != target_torch:
        raise TypeError("pass pred and target both as numpy arrays or both as torch tensors")
    if tuple(pred.shape) != tuple(target.shape):
        raise ValueError(f"pred and target differ in shape: {tuple(pred.shape)} vs {tuple(target.shape)}")
    if pred_torch:
        return fn(pred, target, *extra)
    extra = [_as_tensor(e) for e in extra]
    out = fn(_as_tensor(pred), _as_tensor(target), *extra).numpy()
    return out[()] if out.ndim == 0 else out  # 0-d array -> numpy scalar


def _joint_errors(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return torch.linalg.vector_norm(pred - target, dim=-1)


def _mpjpe(pred, target):
    return _joint_errors(pred, target).mean()


def _weighted_mpjpe(pred, target, w):
    w = torch.as_tensor(w, dtype=pred.dtype, device=pred.device)
    return (w * _joint_errors(pred, target)).mean()


def _per_joint_mpjpe(pred, target):
    errors = _joint_errors(pred, target)
    return errors.reshape(-1, errors.shape[-1]).mean(dim=0)


def _p_mpjpe(pred, target):
    # Frames of (J, 3) poses; X is the truth, Y the prediction, both centred and scaled to unit norm.
    Y = pred.reshape(-1, *pred.shape[-2:])
    X = target.reshape(-1, *target.shape[-2:])
    # Defined results for what would break the SVD: a frame holding NaN/inf gets a NaN error (as MPJPE
    # gives it); a frame whose points coincide (all zero) has no direction to align, so its norm is taken
    # as 1 and the alignment shrinks the prediction to the truth's centre (scale 0) or leaves it there.
    finite = torch.isfinite(X).flatten(1).all(1) & torch.isfinite(Y).flatten(1).all(1)
    X = torch.where(finite[:, None, None], X, torch.zeros_like(X))
    Y = torch.where(finite[:, None, None], Y, torch.zeros_like(Y))
    mu_x, mu_y = X.mean(dim=1, keepdim=True), Y.mean(dim=1, keepdim=True)
    X0, Y0 = X - mu_x, Y - mu_y
    norm_x = torch.sqrt((X0 ** 2).sum(dim=(1, 2), keepdim=True))
    norm_y = torch.sqrt((Y0 ** 2).sum(dim=(1, 2), keepdim=True))
    norm_x = torch.where(norm_x > 0, norm_x, torch.ones_like(norm_x))
    norm_y = torch.where(norm_y > 0, norm_y, torch.ones_like(norm_y))
    X0, Y0 = X0 / norm_x, Y0 / norm_y

    # Orthogonal Procrustes: R = V U^T from the SVD of X0^T Y0. If that R is a reflection
    # (det -1), flip the last singular vector and value to get the best proper rotation.
    U, s, Vt = torch.linalg.svd(X0.transpose(1, 2) @ Y0)
    V = Vt.transpose(1, 2)
    sign = torch.sign(torch.linalg.det(V @ U.transpose(1, 2)))
    fix = torch.ones_like(s)
    fix[:, -1] = sign
    V, s = V * fix[:, None, :], s * fix
    R = V @ U.transpose(1, 2)

    scale = s.sum(dim=1)[:, None, None] * norm_x / norm_y
    shift = mu_x - scale * (mu_y @ R)
    aligned = scale * (Y @ R) + shift
    errors = _joint_errors(aligned, X)
    return torch.where(finite[:, None], errors, torch.full_like(errors, float("nan"))).mean()


def _n_mpjpe(pred, target):
    # Per frame, the scale minimising the squared error: <target, pred> / <pred, pred> over the joints;
    # an all-zero prediction has every scale equally bad, and keeps scale 0 rather than 0 / 0.
    pred_sq = (pred ** 2).sum(dim=-1, keepdim=True).mean(dim=-2, keepdim=True)
    cross = (target * pred).sum(dim=-1, keepdim=True).mean(dim=-2, keepdim=True)
    scale = torch.where(pred_sq > 0, cross / torch.where(pred_sq > 0, pred_sq, torch.ones_like(pred_sq)),
                        torch.zeros_like(pred_sq))
    return _mpjpe(scale * pred, target)


def _mean_velocity_error(pred, target):
    if pred.shape[0] < 2:   # evaluation pools only sequences of 2 frames or more (relpose.evaluate)
        raise ValueError(f"velocity error needs at least 2 frames along axis 0, got shape {tuple(pred.shape)}")
    return _mpjpe(torch.diff(pred, dim=0), torch.diff(target, dim=0))


def mpjpe(pred, target):
    """Mean per-joint position error (protocol #1), in the units of the inputs."""
    return _run(_mpjpe, pred, target)


def weighted_mpjpe(pred, target, w):
    """MPJPE with each joint error multiplied by ``w`` before the mean.

    ``w`` broadcasts against the per-joint errors of shape ``pred.shape[:-1]``: e.g. (J,) joint
    weights, or (B, 1, 1) sample weights for (B, T, J, 3) poses.
    """
    return _run(_weighted_mpjpe, pred, target, w)


def p_mpjpe(pred, target):
    """MPJPE after per-frame Procrustes alignment of pred to target (protocol #2).

    Inputs (..., J, 3); every (J, 3) pose is aligned on its own.
    """
    return _run(_p_mpjpe, pred, target)


def n_mpjpe(pred, target):
    """MPJPE after scaling each predicted frame (..., J, 3) by its least-squares optimal factor."""
    return _run(_n_mpjpe, pred, target)


def mean_velocity_error(pred, target):
    """MPJVE: MPJPE of the first differences along axis 0 (time), e.g. of (T, J, 3) sequences.

    In units per frame, as VideoPose3D reports it.
    """
    return _run(_mean_velocity_error, pred, target)


mpjve = mean_velocity_error


def per_joint_mpjpe(pred, target):
    """(J,) mean error of each joint over all leading axes (frames, batch)."""
    return _run(_per_joint_mpjpe, pred, target)
