"""Multi-stage training of the RIE model (the published run.py training loop, as plain functions).

Stage 1 trains the local and global encoders with per-group decoders (no fusion). Stage 2 loads
the stage-1 encoders by name, freezes them and trains the fusion blocks and new, wider decoders.
Stage 3 loads a stage-2 model and fine-tunes everything.

    model = RIEModel(ModelConfig(stage=2, ...))
    load_previous_stage(model, load_checkpoint("stage_1_epoch_80.bin"))      # encoders, by name
    with CheckpointWriter("checkpoint", cfg) as writer:
        model, history = train_stage(model, dataset, cfg, subjects=["S1", "S5"], callbacks=[writer])

`train_stage` prepares the windows, the optimiser and the validation; `train_epochs` is the loop
itself (one `train_step` per batch, then the learning-rate and batch-norm schedules); what happens
after an epoch (checkpoints, curves, a notebook's plot) are callbacks taking an `EpochEnd`.
"""
from __future__ import annotations

import math
import os
import time
from dataclasses import asdict, dataclass, field

import torch
from tqdm.auto import tqdm

from . import checkpoints, fastpaths
from .config_rules import PYTHON_TERMS, TRAIN_RULES, Terms, check_rules
from .datasets import PoseDataset, without_trajectory
from .errors import CheckpointError, UserError
from .evaluate import validation_mpjpe
from .files import FolderLock, check_writable_folder, remove_stray_temporaries
from .metrics import mpjpe
from .model import RIEModel
from .runtime import Distributed, autocast
from .weights import check_compatible
from .windows import Flip, WindowSampler

# BatchNorm momentum of the temporal encoders decays exponentially over the run (VideoPose3D).
BN_MOMENTUM_START, BN_MOMENTUM_END = 0.1, 0.001


@dataclass
class TrainConfig:
    """How one stage is trained (the published run.py's defaults; `-lr 0.0005 -e 20` for stage 3)."""

    stage: int = 1
    epochs: int = 80
    batch_size: int = 1024
    learning_rate: float = 1e-3
    lr_decay: float = 0.95            # per epoch
    augment: bool = True              # train on each window and its mirror image (-no-da turns it off)
    subset: float = 1.0               # fraction of each sequence (a deterministic contiguous part)
    downsample: int = 1               # every n-th frame
    seed: int = 1234
    hold_bn_stats: bool = False       # stage 2: keep the frozen encoders' BatchNorm statistics fixed
    amp: bool = False                 # bf16 autocast
    checkpoint_frequency: int = 10
    validate: bool = True             # evaluate the test subjects after every epoch (--no-eval turns it off)
    eval_batch_size: int = 1024

    def __post_init__(self):
        check_rules(vars(self), TRAIN_RULES)
        self.downsample = int(self.downsample)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        return cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__})


@dataclass
class History:
    epochs: list[int] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    train_mpjpe_mm: list[float] = field(default_factory=list)
    eval_mpjpe_mm: list[float] = field(default_factory=list)
    frames_per_second: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)

    @classmethod
    def from_checkpoint(cls, checkpoint: dict) -> "History":
        h = cls()
        for k, v in (checkpoint.get("history") or {}).items():
            if hasattr(h, k):
                setattr(h, k, list(v))
        return h

    def add(self, epoch: int, lr: float, train_mm: float, eval_mm: float, frames_per_second: float,
            seconds: float) -> None:
        """One epoch's record appended to every list."""
        self.epochs.append(epoch)
        self.lr.append(lr)
        self.train_mpjpe_mm.append(train_mm)
        self.eval_mpjpe_mm.append(eval_mm)
        self.frames_per_second.append(frames_per_second)
        self.seconds.append(seconds)


@dataclass
class EpochEnd:
    """What a callback sees after each epoch. `lr` is the rate the next epoch will use."""

    stage: int
    epoch: int          # epochs done so far
    epochs: int
    lr: float
    history: History
    model: RIEModel     # the model itself (not a DistributedDataParallel wrapper)
    optimizer: torch.optim.Optimizer
    sampler: WindowSampler


# ----------------------------------------------------------------------------- stage preparation

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


def load_encoders(model: RIEModel, state: dict, terms: Terms = PYTHON_TERMS) -> list[str]:
    """Copy every LocalLayer_* and GlobalInfo tensor of a stage-1 state_dict into `model` by name."""
    names = encoder_parameter_names(model)
    missing = [k for k in names if k not in state]
    if missing:
        raise CheckpointError(f"the stage-1 checkpoint lacks encoder tensor '{missing[0]}' "
                              f"({len(missing)} missing); is it a checkpoint of this architecture?")
    own = model.state_dict()
    settings = ", ".join(terms.name(f) for f in ("filter_widths", "channels", "latent_dim"))
    for k in names:
        if own[k].shape != state[k].shape:
            raise CheckpointError(f"the stage-1 checkpoint's '{k}' has shape {tuple(state[k].shape)}, "
                                  f"the model's has {tuple(own[k].shape)}: check {settings}")
    model.load_state_dict({k: state[k] for k in names}, strict=False)
    return names


def load_previous_stage(model: RIEModel, checkpoint: dict, terms: Terms = PYTHON_TERMS) -> list[str]:
    """Start a stage from the one before: stage 2 takes the stage-1 encoders (by name), stage 3 the whole
    stage-2 model. Returns the names of the tensors loaded; messages name the model's settings in `terms`."""
    state = checkpoint["model_pos"]
    if model.config.stage == 2:
        check_compatible(state, model.config, encoders_only=True, terms=terms)
        return load_encoders(model, state, terms)
    if model.config.stage == 3:
        check_compatible(state, model.config, terms=terms)
        model.load_state_dict(state, strict=True)
        return list(state)
    raise UserError("stage 1 trains from scratch; there is no previous stage to load")


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
    default here too, and `hold_bn_stats` calls this after every `model.train()`.
    """
    for prefix in model.encoder_prefixes():
        for m in getattr(model, prefix).modules():
            if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
                m.eval()


def make_optimizer(model: torch.nn.Module, lr: float, device: torch.device) -> torch.optim.Optimizer:
    """AdamW with amsgrad as published; the fused implementation does one kernel per step."""
    params = [p for p in model.parameters() if p.requires_grad]
    return torch.optim.AdamW(params, lr=lr, amsgrad=True, fused=torch.device(device).type in ("cpu", "cuda"))


def training_record(model: RIEModel, cfg: TrainConfig, dataset: PoseDataset) -> dict:
    """What a checkpoint records of its training, as plain data: the model and training configurations,
    and the data it saw (name, keypoints, the frame rate the model was trained at)."""
    return {"config": model.config.to_dict(), "train_config": cfg.to_dict(),
            "data": {"dataset": dataset.name, "keypoints": dataset.keypoints, "fps": dataset.fps / cfg.downsample,
                     "layout": getattr(dataset, "layout", None)}}


# ----------------------------------------------------------------------------- the loop

def train_step(model, optimizer: torch.optim.Optimizer, inputs_2d: torch.Tensor, targets_3d: torch.Tensor, *,
               device: torch.device, amp: bool = False) -> torch.Tensor:
    """One optimisation step on a batch of windows; returns the batch's MPJPE loss (metres, detached)."""
    targets_3d = without_trajectory(targets_3d)  # the model predicts root-relative poses
    with autocast(device, amp):
        predicted = model(inputs_2d)
    loss = mpjpe(predicted.float(), targets_3d)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return loss.detach()


def train_epochs(model, sampler: WindowSampler, optimizer: torch.optim.Optimizer, cfg: TrainConfig, *,
                 device: torch.device, start_epoch: int = 0, lr: float | None = None, history: History | None = None,
                 evaluate_fn=None, callbacks=(), dist: Distributed = Distributed(), progress: bool | float = True,
                 log=print) -> History:
    """Run epochs start_epoch+1 .. cfg.epochs. `model` may be DistributedDataParallel-wrapped.

    `progress`: a progress bar per epoch (True), none (False), or one redrawn at most every `progress`
    seconds (a number).

    The dropout masks of each epoch come from a generator seeded by (seed, epoch), and the window
    order from the sampler's persistent RandomState, so a run resumed from a checkpoint ends where
    an uninterrupted one would.
    """
    history = history or History()
    lr = cfg.learning_rate if lr is None else lr
    device = torch.device(device)
    core = model.module if hasattr(model, "module") else model
    for epoch in range(start_epoch, cfg.epochs):
        _prepare_epoch(model, core, cfg, epoch)
        t0 = time.perf_counter()
        with fastpaths.accelerated(core):   # the CPU fast forms of the model's modules: the same computation, faster
            loss_sum, frames = _run_batches(model, sampler, optimizer, cfg, epoch, t0, device=device,
                                            show=progress and dist.is_main, progress=progress)
        if dist.enabled:
            _take_rank0_buffers(core)
        seconds = time.perf_counter() - t0
        train_mm = loss_sum.item() / max(frames, 1) * 1000
        eval_mm = evaluate_fn(core) if evaluate_fn is not None else float("nan")
        history.add(epoch + 1, lr, train_mm, eval_mm, frames * dist.world_size / seconds, seconds)
        if dist.is_main:
            ev = "" if math.isnan(eval_mm) else f" eval {eval_mm:.2f} mm"
            log(f"[stage {cfg.stage}] epoch {epoch + 1}/{cfg.epochs}  {seconds:.1f} s  lr {lr:.6f}  "
                f"train {train_mm:.2f} mm{ev}  {history.frames_per_second[-1]:.0f} frames/s")
        lr = _decay_learning_rate(optimizer, lr, cfg.lr_decay)
        if dist.is_main:
            state = EpochEnd(cfg.stage, epoch + 1, cfg.epochs, lr, history, core, optimizer, sampler)
            for callback in callbacks:
                callback(state)
    return history


def _prepare_epoch(model, core: RIEModel, cfg: TrainConfig, epoch: int) -> None:
    """This epoch's batch-norm momentum and dropout seed, and training mode (encoder statistics held if asked)."""
    core.set_bn_momentum(bn_momentum(epoch, cfg.epochs))
    torch.manual_seed(cfg.seed * 100_003 + epoch)
    model.train()
    if cfg.hold_bn_stats:
        hold_encoder_bn_statistics(core)


def _run_batches(model, sampler: WindowSampler, optimizer, cfg: TrainConfig, epoch: int, t0: float, *, device,
                 show: bool, progress: bool | float) -> tuple[torch.Tensor, int]:
    """One pass over the sampler's batches: (the loss summed over target frames, float64 on the device; frames)."""
    loss_sum = torch.zeros((), dtype=torch.float64, device=device)
    frames = 0
    bar = tqdm(sampler, total=sampler.num_batches, disable=not show,
               mininterval=0.1 if isinstance(progress, bool) else float(progress),
               desc=f"stage {cfg.stage} epoch {epoch + 1}/{cfg.epochs}", unit="batch", leave=False)
    for step, (inputs_2d, targets_3d) in enumerate(bar):
        loss = train_step(model, optimizer, inputs_2d, targets_3d, device=device, amp=cfg.amp)
        n = targets_3d.shape[0] * targets_3d.shape[1]
        loss_sum += loss.double() * n
        frames += n
        if show and step % 10 == 0:  # .item() waits for the device: not every step
            bar.set_postfix(loss_mm=f"{loss.item() * 1000:.1f}",
                            fps=f"{frames / (time.perf_counter() - t0):.0f}")
    return loss_sum, frames


def _take_rank0_buffers(core: RIEModel) -> None:
    """DDP broadcasts rank 0's BatchNorm statistics before each forward, so after the last step they differ by
    one local update; make every rank end the epoch with rank 0's. (Constant index/threshold buffers are the
    same everywhere and skipped: gloo has no int16.)"""
    for buf in core.buffers():
        if buf.is_floating_point() or buf.dtype == torch.int64:
            torch.distributed.broadcast(buf, src=0)


def _decay_learning_rate(optimizer, lr: float, decay: float) -> float:
    """Exponential learning-rate decay, once per epoch: the optimiser's groups and the returned rate."""
    lr *= decay
    for group in optimizer.param_groups:
        group["lr"] *= decay
    return lr


def train_stage(model: RIEModel, dataset: PoseDataset, cfg: TrainConfig, *, subjects, actions=None,
                valid_subjects=None, device="cpu", resume: dict | None = None, callbacks=(),
                dist: Distributed = Distributed(), progress: bool | float = True, log=print) -> tuple[RIEModel, History]:
    """Train one stage of `model` (in place) on `subjects` of `dataset`; returns the model and its history.

    Load the previous stage first (`load_previous_stage`); stage 2 freezes the encoders here.
    `resume` is a checkpoint of this run (its weights already in `model`): training continues after
    its epoch with its optimiser state, learning rate, window order and history. With cfg.validate,
    `valid_subjects` are evaluated after every epoch (frame-weighted MPJPE, no test-time flipping).
    """
    device = torch.device(device)
    c = model.config
    if c.stage != cfg.stage:
        raise UserError(f"the model is configured for stage {c.stage} but the training for stage {cfg.stage}")
    _, poses_3d, poses_2d = dataset.fetch(subjects, actions, subset=cfg.subset, downsample=cfg.downsample)
    if cfg.stage == 2:
        frozen = freeze_encoders(model)
        log(f"INFO: froze {len(frozen)} encoder parameters; training fusion and decoders")
    sampler = WindowSampler(poses_2d, poses_3d, batch_size=cfg.batch_size, pad=c.pad(), causal_shift=c.causal_shift(),
                            shuffle=True, augment=cfg.augment, flip=Flip.from_dataset(dataset), seed=cfg.seed,
                            device=device, rank=dist.rank, world_size=dist.world_size)
    start_epoch, lr, history = 0, cfg.learning_rate, None
    optimizer = make_optimizer(model, lr, device)
    if resume is not None:
        start_epoch, lr, history = int(resume["epoch"]), float(resume["lr"]), History.from_checkpoint(resume)
        optimizer.load_state_dict(resume["optimizer"])
        sampler.set_random_state(resume["random_state"])
    if dist.is_main:
        log(f"INFO: Training on {sampler.num_frames()} frames ({sampler.num_batches} batches per epoch)")

    evaluate_fn = None
    if cfg.validate and valid_subjects and dist.is_main:
        _, valid_3d, valid_2d = dataset.fetch(valid_subjects, actions, downsample=cfg.downsample)
        evaluate_fn = lambda m: validation_mpjpe(m, valid_3d, valid_2d, batch_size=cfg.eval_batch_size,
                                                 device=device, amp=cfg.amp)
    net = model
    if dist.enabled:
        net = torch.nn.parallel.DistributedDataParallel(
            model, device_ids=[device.index] if device.type == "cuda" else None)
    history = train_epochs(net, sampler, optimizer, cfg, device=device, start_epoch=start_epoch, lr=lr,
                           history=history, evaluate_fn=evaluate_fn, callbacks=callbacks, dist=dist,
                           progress=progress, log=log)
    if dist.enabled:
        torch.distributed.barrier()
    return model, history


# ----------------------------------------------------------------------------- checkpoints

class CheckpointWriter:
    """Callback that writes the published checkpoints of a run into `folder` (every cfg.checkpoint_frequency
    epochs and the last), each with `extra` (e.g. `training_record`) and the history so far.

    Used as a context manager it holds the folder's lock for the run (one training per folder), removes
    temporary files an interrupted save left and, unless `overwrite`, refuses to start when a checkpoint
    it would write exists already (an earlier run's work is never replaced silently).
    """

    def __init__(self, folder, cfg: TrainConfig, *, start_epoch: int = 0, extra: dict | None = None,
                 overwrite: bool = False, flag: str = "-c", log=print):
        self.folder, self.cfg, self.extra, self.log = str(folder), cfg, dict(extra or {}), log
        self.epochs = set(checkpoint_epochs(start_epoch, cfg.epochs, cfg.checkpoint_frequency))
        self.overwrite, self.flag = overwrite, flag
        self._lock: FolderLock | None = None

    def paths(self) -> list[str]:
        return [os.path.join(self.folder, checkpoint_name(self.cfg.stage, e)) for e in sorted(self.epochs)]

    def __enter__(self) -> "CheckpointWriter":
        check_writable_folder(self.folder, self.flag)
        self._lock = FolderLock(self.folder, self.flag).acquire()
        try:
            if self._lock.stale:
                s = self._lock.stale
                self.log(f"INFO: taking over the lock of an earlier run in {self.folder} that ended without "
                         f"releasing it (pid {s.get('pid')}, started {s.get('started')})")
            stray = remove_stray_temporaries(self.folder)
            if stray:
                self.log(f"INFO: removed {len(stray)} temporary file(s) of an interrupted save from {self.folder}")
            taken = [os.path.basename(p) for p in self.paths() if os.path.exists(p)]
            if taken and not self.overwrite:
                more = f" (and {len(taken) - 1} more)" if len(taken) > 1 else ""
                raise UserError(f"{self.flag} '{self.folder}' already holds {taken[0]}{more} from an earlier run, "
                                f"which this run would replace; resume that run with -r, train into another folder "
                                f"with {self.flag}, or pass --overwrite")
            if taken:
                self.log(f"--overwrite: replacing {', '.join(taken)} in {self.folder}")
        except BaseException:
            self._lock.release()
            raise
        return self

    def __exit__(self, *exc) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def __call__(self, state: EpochEnd) -> None:
        if state.epoch not in self.epochs:
            return
        path = os.path.join(self.folder, checkpoint_name(state.stage, state.epoch))
        checkpoints.save_checkpoint(
            path, epoch=state.epoch, lr=state.lr, random_state=state.sampler.random_state(),
            optimizer_state=state.optimizer.state_dict(), model_state=state.model.state_dict(),
            extra=dict(self.extra, history=state.history.__dict__))
        self.log(f"Saving checkpoint to {path}")
