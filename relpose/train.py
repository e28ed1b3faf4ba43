"""Multi-stage training of the RIE model (the published run.py training loop, as functions).

Stage 1 trains the local and global encoders with per-group decoders (no fusion). Stage 2 loads
the stage-1 encoders by name, freezes them and trains the fusion blocks and new, wider decoders.
Stage 3 loads a stage-2 model and fine-tunes everything.
"""
from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass, field

import numpy as np
import torch
from tqdm.auto import tqdm

from . import checkpoints
from .errors import CheckpointError, UserError
from .files import atomic_path
from .metrics import mpjpe
from .model import RIEModel
from .runtime import Distributed, autocast
from .windows import WindowSampler

# BatchNorm momentum of the temporal encoders decays exponentially over the run (VideoPose3D).
BN_MOMENTUM_START, BN_MOMENTUM_END = 0.1, 0.001


def checkpoint_name(stage: int, epoch: int) -> str:
    """File name of the checkpoint written after `epoch` epochs of `stage` (the published naming)."""
    return f"stage_{stage}_epoch_{epoch}.bin"


def checkpoint_epochs(start_epoch: int, epochs: int, frequency: int) -> list[int]:
    """The epochs after which a run from start_epoch to epochs writes a checkpoint: every
    `frequency`-th and the last."""
    return [e for e in range(start_epoch + 1, epochs + 1) if e % frequency == 0 or e == epochs]


def bn_momentum(epoch: int, epochs: int) -> float:
    """Momentum after `epoch` finished epochs of `epochs`."""
    return BN_MOMENTUM_START * math.exp(-epoch / epochs * math.log(BN_MOMENTUM_START / BN_MOMENTUM_END))


def encoder_parameter_names(model: RIEModel) -> list[str]:
    """Every tensor name (parameters and buffers) that belongs to an encoder, by name prefix."""
    prefixes = tuple(p + "." for p in model.encoder_prefixes())
    return [k for k in model.state_dict() if k.startswith(prefixes)]


def load_encoders(model: RIEModel, state: dict) -> list[str]:
    """Copy every LocalLayer_* and GlobalInfo tensor of a stage-1 state_dict into `model` by name."""
    names = encoder_parameter_names(model)
    missing = [k for k in names if k not in state]
    if missing:
        raise CheckpointError(f"the -p checkpoint lacks encoder tensor '{missing[0]}' "
                              f"({len(missing)} missing); is it a checkpoint of this architecture?")
    own = model.state_dict()
    for k in names:
        if own[k].shape != state[k].shape:
            raise CheckpointError(f"the -p checkpoint's '{k}' has shape {tuple(state[k].shape)}, "
                                  f"the model's has {tuple(own[k].shape)}: check -arc, -ch and -lfd")
    model.load_state_dict({k: state[k] for k in names}, strict=False)
    return names


def freeze_encoders(model: RIEModel) -> list[str]:
    """Stage 2: stop gradients into the encoders, chosen by name (never by position)."""
    prefixes = tuple(p + "." for p in model.encoder_prefixes())
    frozen = []
    for name, p in model.named_parameters():
        if name.startswith(prefixes):
            p.requires_grad_(False)
            frozen.append(name)
    return frozen


def hold_encoder_bn_statistics(model: RIEModel) -> None:
    """Put the encoders' BatchNorm layers in eval mode so their running statistics stay fixed.

    The published stage 2 leaves them in training mode (statistics keep updating); that is the
    default here too, and `--hold-bn-stats` calls this after every `model.train()`.
    """
    for prefix in model.encoder_prefixes():
        for m in getattr(model, prefix).modules():
            if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
                m.eval()


@dataclass
class History:
    epochs: list[int] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    train_mpjpe_mm: list[float] = field(default_factory=list)
    eval_mpjpe_mm: list[float] = field(default_factory=list)
    frames_per_second: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)


def make_optimizer(model: torch.nn.Module, lr: float, device: torch.device) -> torch.optim.Optimizer:
    """AdamW with amsgrad as published; the fused implementation does one kernel per step."""
    params = [p for p in model.parameters() if p.requires_grad]
    return torch.optim.AdamW(params, lr=lr, amsgrad=True, fused=device.type in ("cpu", "cuda"))


def export_training_curves(history: History, path: str) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(history.epochs, history.train_mpjpe_mm, label="train (3D MPJPE)")
    if any(not math.isnan(v) for v in history.eval_mpjpe_mm):
        ax.plot(history.epochs, history.eval_mpjpe_mm, label="eval (3D MPJPE)")
    ax.set_xlabel("epoch")
    ax.set_ylabel("MPJPE (mm)")
    ax.set_yscale("log")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    with atomic_path(path, what="training curves") as tmp:
        fig.savefig(tmp, dpi=100, format="png")
    plt.close(fig)


def train_step(model, optimizer: torch.optim.Optimizer, inputs_2d: torch.Tensor, targets_3d: torch.Tensor, *,
               device: torch.device, amp: bool = False) -> torch.Tensor:
    """One optimisation step on a batch of windows; returns the batch's MPJPE loss (metres, detached)."""
    targets_3d = targets_3d.clone()
    targets_3d[:, :, 0] = 0  # the model predicts root-relative poses
    with autocast(device, amp):
        predicted = model(inputs_2d)
    loss = mpjpe(predicted.float(), targets_3d)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return loss.detach()


def train(model: RIEModel, *, sampler: WindowSampler, optimizer: torch.optim.Optimizer, epochs: int,
          lr: float, lr_decay: float, start_epoch: int = 0, device: torch.device,
          stage: int, checkpoint_dir: str | None = None, checkpoint_frequency: int = 10,
          checkpoint_extra: dict | None = None, evaluate_fn=None, amp: bool = False,
          hold_bn_stats: bool = False, seed: int = 0, dist: Distributed = Distributed(),
          history: History | None = None, progress: bool = True, curves_path: str | None = None,
          log=print) -> History:
    """Run epochs start_epoch+1 .. epochs. `model` may be DistributedDataParallel-wrapped.

    The dropout masks of each epoch come from a generator seeded by (seed, epoch), and the window
    order from the sampler's persistent RandomState, so a run resumed from a checkpoint ends where
    an uninterrupted one would.
    """
    history = history or History()
    saves = set(checkpoint_epochs(start_epoch, epochs, checkpoint_frequency))
    core = model.module if hasattr(model, "module") else model
    for epoch in range(start_epoch, epochs):
        core.set_bn_momentum(bn_momentum(epoch, epochs))
        torch.manual_seed(seed * 100_003 + epoch)
        model.train()
        if hold_bn_stats:
            hold_encoder_bn_statistics(core)
        t0 = time.perf_counter()
        loss_sum = torch.zeros((), dtype=torch.float64, device=device)
        frames = 0
        show = progress and dist.is_main
        bar = tqdm(sampler, total=sampler.num_batches, disable=not show,
                   desc=f"stage {stage} epoch {epoch + 1}/{epochs}", unit="batch", leave=False)
        for step, (inputs_2d, targets_3d) in enumerate(bar):
            loss = train_step(model, optimizer, inputs_2d, targets_3d, device=device, amp=amp)
            n = targets_3d.shape[0] * targets_3d.shape[1]
            loss_sum += loss.detach().double() * n
            frames += n
            if show and step % 10 == 0:  # .item() waits for the device: not every step
                bar.set_postfix(loss_mm=f"{loss.item() * 1000:.1f}",
                                fps=f"{frames / (time.perf_counter() - t0):.0f}")
        if dist.enabled:
            # DDP broadcasts rank 0's BatchNorm statistics before each forward, so after the last
            # step they differ by one local update; make every rank end the epoch with rank 0's.
            # (Constant index/threshold buffers are the same everywhere and skipped: gloo has no int16.)
            for buf in core.buffers():
                if buf.is_floating_point() or buf.dtype == torch.int64:
                    torch.distributed.broadcast(buf, src=0)
        seconds = time.perf_counter() - t0
        train_mm = loss_sum.item() / max(frames, 1) * 1000
        eval_mm = evaluate_fn(core) if evaluate_fn is not None else float("nan")

        history.epochs.append(epoch + 1)
        history.lr.append(lr)
        history.train_mpjpe_mm.append(train_mm)
        history.eval_mpjpe_mm.append(eval_mm)
        history.frames_per_second.append(frames * dist.world_size / seconds)
        history.seconds.append(seconds)
        if dist.is_main:
            ev = "" if math.isnan(eval_mm) else f" eval {eval_mm:.2f} mm"
            log(f"[stage {stage}] epoch {epoch + 1}/{epochs}  {seconds:.1f} s  lr {lr:.6f}  "
                f"train {train_mm:.2f} mm{ev}  {history.frames_per_second[-1]:.0f} frames/s")

        # Exponential learning-rate decay, once per epoch.
        lr *= lr_decay
        for group in optimizer.param_groups:
            group["lr"] *= lr_decay

        done = epoch + 1
        if dist.is_main and checkpoint_dir and done in saves:
            path = os.path.join(checkpoint_dir, checkpoint_name(stage, done))
            checkpoints.save_checkpoint(
                path, epoch=done, lr=lr, random_state=sampler.random_state(),
                optimizer_state=optimizer.state_dict(), model_state=core.state_dict(),
                extra=dict(checkpoint_extra or {}, history=history.__dict__))
            log(f"Saving checkpoint to {path}")
        if dist.is_main and curves_path:
            export_training_curves(history, curves_path)
    return history


def restore_history(checkpoint: dict) -> History:
    saved = checkpoint.get("history") or {}
    h = History()
    for k, v in saved.items():
        if hasattr(h, k):
            setattr(h, k, list(v))
    return h


def check_stage_flags(stage: int, pretrain: str, finetune: str, resume: str) -> None:
    if stage not in (1, 2, 3):
        raise UserError(f"--stage {stage} is not a stage: use 1, 2 or 3")
    if resume:
        return
    if stage == 2 and not pretrain:
        raise UserError("--stage 2 needs the stage-1 checkpoint: add -p stage_1_epoch_<E>.bin")
    if stage == 3 and not finetune:
        raise UserError("--stage 3 needs the stage-2 checkpoint: add -ft stage_2_epoch_<E>.bin")
    if stage == 1 and (pretrain or finetune):
        raise UserError("-p/-ft are for stages 2 and 3; stage 1 trains from scratch")
