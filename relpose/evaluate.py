"""The evaluation protocol of the published pipeline: Protocol #1 (MPJPE) and #2 (P-MPJPE) per action.

- one window per test frame, edge-padded at the sequence ends (`--causal` shifts it);
- with test-time augmentation the prediction is the mean of the window's prediction and the
  un-flipped prediction for its mirror image;
- the target's root joint is zeroed, the prediction is compared as the model outputs it;
- an action pools every frame of every subject, take and camera (frame-weighted); P-MPJPE
  aligns each frame separately; the action-wise average is the plain mean over actions;
- MPJVE (velocities) pools the sequences of at least 2 frames, frame-weighted the same way; an action
  none of whose sequences has 2 frames (e.g. after a large downsample) is refused in one line, as is
  an evaluation over no action at all: never a table of NaN.
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import torch

from . import fastpaths
from .datasets import without_trajectory
from .errors import UserError
from .metrics import mean_velocity_error, mpjpe, n_mpjpe, p_mpjpe
from .runtime import autocast
from .tables import text_table
from .windows import NO_FLIP, Flip, gather_windows


@torch.no_grad()
def predict_sequence(model, poses_2d, *, tta: bool = True, flip: Flip = NO_FLIP, causal_shift: int | None = None,
                     batch_size: int = 1024, device: torch.device | None = None, amp: bool = False) -> torch.Tensor:
    """3D poses (T, J, 3) for every frame of one 2D sequence (T, J_in, 2); with `tta`, `flip` mirrors them.

    `causal_shift` defaults to the model's own (ModelConfig.causal_shift: 0 unless causal).

    The temporal encoding is relative to each window's centre frame, so nothing can be shared
    between neighbouring windows: windows are gathered with one indexing op on the model's
    device, and with TTA the original and flipped windows run as one batch.
    """
    # eval mode: dropout off, batch-norm statistics frozen, whoever calls; accelerated: the CPU fast forms
    # of the model's modules (relpose.fastpaths), the same computation with faster kernels
    with eval_mode(model), fastpaths.accelerated(model):
        return _predict_windows(model, poses_2d, tta=tta, flip=flip, causal_shift=causal_shift,
                                batch_size=batch_size, device=device, amp=amp)


@contextmanager
def eval_mode(model):
    """`model` in evaluation mode inside the block; each module's own mode restored after it (a training
    loop that holds batch-norm statistics keeps them held)."""
    modes = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        yield model
    finally:
        for m, training in modes:
            m.training = training


def _predict_windows(model, poses_2d, *, tta, flip, causal_shift, batch_size, device, amp) -> torch.Tensor:
    device = device or next(model.parameters()).device
    pad = model.config.pad()
    if causal_shift is None:
        causal_shift = model.config.causal_shift()
    x = torch.as_tensor(poses_2d, dtype=torch.float32, device=device)
    out = []
    per_batch = max(1, batch_size // 2) if tta else batch_size
    for start in range(0, x.shape[0], per_batch):
        frames = torch.arange(start, min(start + per_batch, x.shape[0]), device=device)
        windows = gather_windows(x, pad, causal_shift, frames)
        n = windows.shape[0]
        if tta:
            windows = torch.cat([windows, flip.keypoints(windows)])
        with autocast(device, amp):
            pred = model(windows)[:, 0].float()
        if tta:
            pred = (pred[:n] + flip.joints(pred[n:])) / 2
        out.append(pred)
    return torch.cat(out)


@dataclass
class ActionResult:
    action: str
    frames: int
    mpjpe_mm: float
    p_mpjpe_mm: float
    n_mpjpe_mm: float
    mpjve_mm: float


@dataclass
class EvaluationResult:
    actions: list[ActionResult] = field(default_factory=list)
    subject: str | None = None

    def average(self, attr: str) -> float:
        return float(np.mean([getattr(a, attr) for a in self.actions])) if self.actions else float("nan")

    @property
    def mpjpe_mm(self) -> float:
        return self.average("mpjpe_mm")

    @property
    def p_mpjpe_mm(self) -> float:
        return self.average("p_mpjpe_mm")

    def table(self, digits: int = 2) -> str:
        """A tidy text table of the per-action results and their averages (`digits` decimals; 1 stays
        stable across machines, as the notebooks print it)."""
        fields = ("mpjpe_mm", "p_mpjpe_mm", "n_mpjpe_mm", "mpjve_mm")
        rows = [[a.action, a.frames, *(getattr(a, f) for f in fields)] for a in self.actions]
        average = ["Average", sum(a.frames for a in self.actions), *(self.average(f) for f in fields)]
        name_width = max([14] + [len(a.action) for a in self.actions])   # DeepMimic clip names run longer
        return text_table(("Action", "frames", "MPJPE", "P-MPJPE", "N-MPJPE", "MPJVE"), rows, footer=[average],
                          widths=(name_width, 9, 9, 9, 9, 8), formats=("", "d") + (f".{digits}f",) * 4,
                          suffix="  (mm)")


def evaluate_sequences(model, poses_3d, poses_2d, *, action: str = "", tta: bool = True, flip: Flip = NO_FLIP,
                       causal_shift: int | None = None,
                       batch_size: int = 1024, device=None, amp: bool = False,
                       return_predictions: bool = False, all_protocols: bool = True):
    """Pool the errors of several sequences (one action) the way the published evaluation does."""
    sums = dict(p1=0.0, p2=0.0, p3=0.0, vel=0.0)
    n_frames = vel_frames = 0
    predictions = []
    for seq_3d, seq_2d in zip(poses_3d, poses_2d):
        pred = predict_sequence(model, seq_2d, tta=tta, flip=flip, causal_shift=causal_shift,
                                batch_size=batch_size, device=device, amp=amp)
        # Root-relative target; the prediction is compared as output.
        target = without_trajectory(torch.as_tensor(seq_3d, dtype=torch.float32, device=pred.device))
        t = target.shape[0]
        # Per-sequence means weighted by frame count: the same pooling as the published code.
        sums["p1"] += mpjpe(pred, target).item() * t
        p_np, t_np = pred.cpu().numpy(), target.cpu().numpy()
        if all_protocols:
            sums["p3"] += n_mpjpe(pred[None], target[None]).item() * t
            sums["p2"] += p_mpjpe(p_np, t_np) * t
            if t >= 2:   # a velocity needs two frames
                sums["vel"] += mean_velocity_error(p_np, t_np) * t
                vel_frames += t
        n_frames += t
        if return_predictions:
            predictions.append(p_np)
    if n_frames == 0:
        raise UserError(f"nothing to evaluate{f' for {action}' if action else ''}: no frames")
    if all_protocols and vel_frames == 0:
        raise UserError(f"{action or 'the evaluation'}: every sequence has a single frame, too few for the velocity "
                        "error (MPJVE, 2 frames at least); use a smaller downsample")
    per_frame = [sums[k] / n_frames for k in ("p1", "p2", "p3")] + [sums["vel"] / max(vel_frames, 1)]
    result = ActionResult(action, n_frames, *(v * 1000 for v in per_frame))
    return (result, predictions) if return_predictions else result


def evaluate_dataset(model, dataset, subjects, *, action_filter=None, downsample: int = 1, tta: bool = True,
                     causal_shift: int | None = None, batch_size: int = 1024, device=None, amp: bool = False,
                     log=print) -> EvaluationResult:
    """Protocol #1/#2 (and #3, MPJVE) per action over `subjects`, printing the published log lines."""
    model.eval()
    result = EvaluationResult()
    groups = dataset.actions_by_name(subjects, action_filter)
    if not groups:
        raise UserError(f"nothing to evaluate: no action of {', '.join(subjects) or 'no subject'} matches "
                        f"{', '.join(action_filter) if action_filter else 'the selection'}")
    for action, pairs in groups.items():
        poses_3d, poses_2d = dataset.fetch_actions(pairs, downsample=downsample)
        if max(len(p) for p in poses_3d) < 2:
            raise UserError(f"{action}: its takes have a single frame after downsampling by {downsample}, too few "
                            "for the velocity error (MPJVE needs 2 frames); use a smaller downsample")
        r = evaluate_sequences(model, poses_3d, poses_2d, action=action, tta=tta, flip=Flip.from_dataset(dataset),
                               causal_shift=causal_shift, batch_size=batch_size, device=device, amp=amp)
        result.actions.append(r)
        if log:
            log(f"----{action}----")
            log(f"Test time augmentation: {tta}")
            log(f"Protocol #1 Error (MPJPE): {r.mpjpe_mm:.4f} mm")
            log(f"Protocol #2 Error (P-MPJPE): {r.p_mpjpe_mm:.4f} mm")
            log(f"Protocol #3 Error (N-MPJPE): {r.n_mpjpe_mm:.4f} mm")
            log(f"Velocity Error (MPJVE): {r.mpjve_mm:.4f} mm")
            log("----------")
    if log:
        log(f"Protocol #1   (MPJPE) action-wise average: {result.average('mpjpe_mm'):.2f} mm")
        log(f"Protocol #2 (P-MPJPE) action-wise average: {result.average('p_mpjpe_mm'):.2f} mm")
        log(f"Protocol #3 (N-MPJPE) action-wise average: {result.average('n_mpjpe_mm'):.2f} mm")
        log(f"Velocity      (MPJVE) action-wise average: {result.average('mpjve_mm'):.2f} mm")
    return result


def validation_mpjpe(model, poses_3d, poses_2d, *, causal_shift: int | None = None, batch_size: int = 2048,
                     device=None, amp: bool = False) -> float:
    """Frame-weighted MPJPE (mm) without TTA: the per-epoch validation figure during training."""
    model.eval()
    r = evaluate_sequences(model, poses_3d, poses_2d, tta=False, causal_shift=causal_shift,
                           batch_size=batch_size, device=device, amp=amp, all_protocols=False)
    return r.mpjpe_mm
