"""Named recipes: the paper's settings and the quick CPU settings of the demo and notebooks, as data.

A `Preset` is a model shape plus one TrainConfig per stage; `model_config(dataset, stage)` completes
the ModelConfig with what the data set decides (its skeleton, its keypoint count).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from ..model import ModelConfig
from ..train import TrainConfig


@dataclass(frozen=True)
class Preset:
    name: str
    filter_widths: tuple[int, ...]
    channels: int
    latent_dim: int
    hidden: int
    stages: dict = field(default_factory=dict)   # stage -> TrainConfig
    speed_of: str = ""   # the recipe whose measured training speed this one shares ("": its own name)

    @property
    def measured_as(self) -> str:
        """The recipe name MEASURED_WINDOWS_PER_SECOND knows this one by."""
        return self.speed_of or self.name

    def model_config(self, dataset, stage: int, **overrides) -> ModelConfig:
        """The ModelConfig of `stage` for `dataset` (its skeleton's joints, body-part groups and input layout)."""
        base = dict(**dataset.model_inputs(), filter_widths=self.filter_widths,
                    channels=self.channels, latent_dim=self.latent_dim, hidden=self.hidden, stage=stage)
        return ModelConfig(**{**base, **overrides})

    def train_config(self, stage: int, **overrides) -> TrainConfig:
        return dataclasses.replace(self.stages[stage], **overrides)

    def epochs(self, stage: int) -> int:
        return self.stages[stage].epochs

    def with_epochs(self, epochs: int | None) -> "Preset":
        """The same recipe with every stage shortened (or lengthened) to `epochs`; None keeps it."""
        if epochs is None:
            return self
        stages = {s: dataclasses.replace(c, epochs=int(epochs)) for s, c in self.stages.items()}
        return dataclasses.replace(self, name=f"{self.name}-e{int(epochs)}", stages=stages, speed_of=self.measured_as)

    def with_train(self, **overrides) -> "Preset":
        """The same recipe with TrainConfig fields changed in every stage (e.g. subset, batch_size)."""
        return dataclasses.replace(self, stages={s: dataclasses.replace(c, **overrides)
                                                 for s, c in self.stages.items()})


def _stages(epochs: dict, **common) -> dict:
    lr = {1: 1e-3, 2: 1e-3, 3: 5e-4}
    return {s: TrainConfig(stage=s, epochs=e, learning_rate=lr[s], **common) for s, e in epochs.items()}


# The published model (RIE, Human3.6M, ground-truth 2D): receptive field 243, 256 channels, FC width 1024.
PAPER = Preset("paper", (3, 3, 3, 3, 3), 256, 256, 1024, _stages({1: 80, 2: 80, 3: 20}, batch_size=1024))
# The published CPN-keypoint model is the same with latent features of 512 (-lfd 512).
PAPER_CPN = dataclasses.replace(PAPER, name="paper-cpn", latent_dim=512, speed_of="paper")

# Minutes on 2 CPU cores with the default synthetic data: receptive field 27, small widths, every
# 4th frame of a 30% slice of each take (~45k training windows per epoch with flips).
QUICK = Preset("quick", (3, 3, 3), 64, 64, 256,
               _stages({1: 6, 2: 3, 3: 3}, batch_size=512, downsample=4, subset=0.3))

# The two-minute tour of notebook 00: the same model, fewer epochs and windows.
QUICKSTART = Preset("quickstart", (3, 3, 3), 64, 64, 256,
                    _stages({1: 2, 2: 1, 3: 1}, batch_size=512, downsample=4, subset=0.15))

PRESETS = {p.name: p for p in (PAPER, PAPER_CPN, QUICK, QUICKSTART)}


# Training windows per second measured on the machines of benchmarks/README.md, per recipe and device:
# the quick recipe on 2 CPU cores (make demo's stage-1 epochs, 2026-11-28/12-02), the paper's model on the
# same 2 cores (bench_model.py, stage 1) and on one H200 (bench_epoch.py, fp32, stage 1). Stage 3 runs at
# about 0.8 of stage 1 (fusion and wider decoders); stage 2 about as fast as stage 1 (frozen encoders still
# run forward and, through the fusion blocks, backward). Good for an order of magnitude, no more.
MEASURED_WINDOWS_PER_SECOND = {("quick", "cpu"): 3700, ("quickstart", "cpu"): 3700, ("paper", "cpu"): 233,
                               ("paper", "cuda"): 28540}
STAGE_SPEED = {1: 1.0, 2: 1.0, 3: 0.8}


def training_windows(dataset, subjects, cfg) -> int:
    """Windows one epoch of `cfg` trains on (each twice with flip augmentation)."""
    _, _, poses_2d = dataset.fetch(subjects, subset=cfg.subset, downsample=cfg.downsample, parse_3d_poses=False)
    return sum(len(p) for p in poses_2d) * (2 if cfg.augment else 1)


def expected_seconds(preset: Preset, stage: int, windows_per_epoch: int, device: str) -> float | None:
    """Rough wall time of a stage from the measured throughput (None when nothing was measured for it)."""
    rate = MEASURED_WINDOWS_PER_SECOND.get((preset.measured_as, str(device).split(":")[0]))
    if rate is None:
        return None
    return windows_per_epoch * preset.epochs(stage) / (rate * STAGE_SPEED[stage])


def describe_expected_time(preset: Preset, stage: int, windows_per_epoch: int, device: str) -> str:
    seconds = expected_seconds(preset, stage, windows_per_epoch, device)
    if seconds is None:
        return f"stage {stage}: {preset.epochs(stage)} epochs of {windows_per_epoch:,} windows (no measured speed for {device})"
    when = f"{seconds / 60:.0f} min" if seconds < 5400 else f"{seconds / 3600:.1f} h"
    return (f"stage {stage}: {preset.epochs(stage)} epochs of {windows_per_epoch:,} windows, expected about {when} "
            f"on {device} (from the measured speeds in benchmarks/README.md)")
