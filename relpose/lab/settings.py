"""The notebooks' settings: one place that knows where data and checkpoints live in each mode, and the
functions that make what a notebook needs (the data, a stage's checkpoint) when it is missing.

A notebook's `parameters` cell picks MODE = "quick" (synthetic data, CPU, small model, minutes) or
"full" (real Human3.6M, the paper's settings, CUDA) and EPOCHS (None = the mode's recipe; a number
shortens every stage); `RELPOSE_MODE` / `RELPOSE_EPOCHS` in the environment override them for every
notebook. Training goes through relpose.train.train_stage, exactly what `python -m relpose` runs;
RELPOSE_PROGRESS=0 turns its progress bars off (the output-refreshing tool does, so stored outputs stay
small).

A notebook's bar is redrawn at most every PROGRESS_SECONDS: each redraw is a message on the kernel's
output channel, which drops messages once about a thousand wait unread, and nbval reads a cell's
messages only when the cell ends, so a bar redrawn ten times a second through a long training cell
lost the cell's final message and failed it on a slow machine.

"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

import torch

from .. import checkpoints, mocap, synth  # noqa: F401  (importing synth and mocap registers their makers)
from ..datasets import PoseDataset, dataset_spec, load_dataset, merged_datasets
from ..errors import UserError
from ..files import find_root   # notebooks call it as lab.find_root
from ..evaluate import evaluate_dataset
from ..model import RIEModel
from ..runtime import keep_freed_memory, seed_everything
from ..train import CheckpointWriter, History, checkpoint_name, load_previous_stage, train_stage, training_record
from ..weights import load_model as load_model_file
from . import presets

PROGRESS_SECONDS = 5.0   # a notebook's progress bar is redrawn at most this often (see above)


@dataclass
class Settings:
    mode: str
    dataset: str
    keypoints: str
    data_dir: str
    checkpoint_dir: str
    preset: presets.Preset
    device: str
    progress: bool | float = True   # a bar (True), none (False), or one redrawn every that many seconds
    model_overrides: dict = field(default_factory=dict)   # ModelConfig fields changed from the preset
    # other registered data sets whose training subjects join `dataset`'s in training (same keypoints); testing
    # stays on `dataset`'s test subjects
    also_train_on: tuple[str, ...] = ()

    def checkpoint_name(self, stage: int) -> str:
        return checkpoint_name(stage, self.preset.epochs(stage))

    def checkpoint_path(self, stage: int) -> str:
        return os.path.join(self.checkpoint_dir, self.checkpoint_name(stage))

    def model_config(self, dataset: PoseDataset, stage: int):
        return self.preset.model_config(dataset, stage, **self.model_overrides)

    def train_config(self, stage: int, **overrides):
        return self.preset.train_config(stage, **overrides)

    @property
    def subjects_train(self) -> list[str]:
        return [s for name in (self.dataset, *self.also_train_on) for s in dataset_spec(name).subjects_train]

    @property
    def subjects_test(self) -> list[str]:
        return list(dataset_spec(self.dataset).subjects_test)


def settings(mode: str | None = None, root: str | None = None, preset: str = "quick",
             epochs: int | None = None) -> Settings:
    """Settings for "quick" or "full" mode; RELPOSE_MODE (and RELPOSE_EPOCHS) override the arguments.

    In quick mode `preset` picks a recipe from relpose.lab.presets ("quick", or "quickstart" for
    notebook 00) and its own checkpoint folder checkpoint/<preset>; `epochs` shortens every stage
    (the checkpoint names follow, so a later notebook finds what an earlier one wrote).
    """
    mode = os.environ.get("RELPOSE_MODE") or mode or "quick"
    env_epochs = os.environ.get("RELPOSE_EPOCHS")
    if env_epochs:
        try:
            epochs = int(env_epochs)
        except ValueError:
            raise UserError(f"RELPOSE_EPOCHS={env_epochs!r} is not a whole number of epochs") from None
    if epochs is not None and epochs < 1:
        raise UserError(f"EPOCHS = {epochs}: give a positive number of epochs, or None for the mode's recipe")
    root = root or find_root()
    data_dir = os.path.join(root, "data")
    # Progress bars while a person watches; the tool that stores the notebooks' outputs turns them off.
    progress = PROGRESS_SECONDS if os.environ.get("RELPOSE_PROGRESS", "1") != "0" else False
    if mode == "quick":
        torch.set_num_threads(quick_mode_threads())
        keep_freed_memory()
        recipe = presets.PRESETS[preset].with_epochs(epochs)
        # checkpoint/<recipe> holds only what the notebooks made there.
        return Settings("quick", "synth", "det", data_dir, os.path.join(root, "checkpoint", recipe.name),
                        recipe, "cpu", progress=progress)
    if mode == "full":
        device = "cuda" if torch.cuda.is_available() else "cpu"
        recipe = presets.PAPER_CPN.with_epochs(epochs)
        folder = os.path.join(root, "checkpoint") if epochs is None else os.path.join(root, "checkpoint", recipe.name)
        if device == "cpu":
            print("warning: full mode without CUDA: the paper's recipe takes days on a CPU (see the expected times below)")
        return Settings("full", "h36m", "cpn_ft_h36m_dbb", data_dir, folder, recipe, device, progress=progress)
    raise UserError(f"MODE '{mode}' is not a mode: use 'quick' or 'full'")


def quick_mode_threads() -> int:
    """Two threads, whatever the core count (an 8-core laptop then sums in the order CI does), unless
    OMP_NUM_THREADS asks for another number: `make test` runs the notebooks once more with one thread and
    MKL's other code branch, to change the last bits of training as another CPU does."""
    value = os.environ.get("OMP_NUM_THREADS", "").strip()
    if not value:
        return 2
    try:
        threads = int(value)
    except ValueError:
        threads = 0
    if threads < 1:
        raise UserError(f"OMP_NUM_THREADS={value!r} is not a positive whole number of threads: unset it or give one")
    return threads


def notebook_setup() -> None:
    """Small, stable notebook outputs: Plotly figures as rounded JSON (JupyterLab draws them; no 3 MB of
    plotly.js per notebook) with a static PNG beside it (relpose.viz.notebook), compact matplotlib PNGs,
    short numpy prints, and each matplotlib figure stored with its legibility measurements
    (relpose.viz.legibility)."""
    import matplotlib
    import numpy as np
    import plotly.io as pio

    from ..viz.notebook import measure_shown_figures, register_renderer

    pio.renderers.default = register_renderer()  # Plotly JSON (rounded) + a static PNG for readers without JS
    matplotlib.rcParams.update({"figure.dpi": 72, "savefig.dpi": 72, "figure.figsize": (6.4, 3.6)})
    measure_shown_figures()
    np.set_printoptions(precision=4, suppress=True, linewidth=110)


_TIMINGS = re.compile(r"  [\d.]+ s(?=  lr)|  \d+ frames/s| in [\d.]+ s\b")


def training_log(s: Settings, log=print):
    """The log a notebook passes to training: every line as written while you run it (progress bars on), and
    without its seconds and frames/s in the stored outputs (made with RELPOSE_PROGRESS=0), where they would be
    noise: another program on the machine can slow an epoch down several-fold."""
    return log if s.progress else (lambda line: log(_TIMINGS.sub("", line)))


def ensure_data(s: Settings) -> None:
    """Make the mode's data if it is the kit's own (the synthetic set); real data must be in data/.

    Every file of a kit-made set is made, not only the mode's keypoints: notebooks compare the
    detector-like input with the exact projections ('gt'), and a fresh clone has neither. Keypoints made
    only on request (the synthetic set's 'det_coco') are made when they are the settings' own.
    """
    for name in (s.dataset, *s.also_train_on):
        spec = dataset_spec(name)
        spec.make_missing(None, s.data_dir, log=lambda *_: None)
        spec.make_missing(s.keypoints, s.data_dir, log=lambda *_: None)


def load_data(s: Settings) -> PoseDataset:
    """The settings' data set, with the training subjects of `also_train_on`'s sets beside its own."""
    ensure_data(s)
    data = load_dataset(s.dataset, s.keypoints, s.data_dir)
    others = [load_dataset(name, s.keypoints, s.data_dir) for name in s.also_train_on]
    return merged_datasets(data, *others) if others else data


def train_preset_stage(s: Settings, stage: int, dataset: PoseDataset | None = None, *, log=print,
                       overwrite: bool = True, **train_overrides) -> tuple[RIEModel, History]:
    """Train one stage of the mode's recipe into its checkpoint folder, starting from the previous stage's
    checkpoint (which must exist: see ensure_checkpoint). What `python -m relpose` does for the same flags.

    The mode's folder holds only what the notebooks made, so a stage is retrained over its own earlier
    checkpoint (overwrite=True); pass overwrite=False for a folder of your own.
    """
    dataset = dataset or load_data(s)
    cfg = s.train_config(stage, **train_overrides)
    root = find_root(s.checkpoint_dir) + os.sep
    shown = lambda message: log(message.replace(root, ""))   # paths relative to the kit's top folder
    seed_everything(cfg.seed)   # before building the model: its initial weights come from this seed
    model = RIEModel(s.model_config(dataset, stage)).to(s.device)
    if stage > 1:
        load_previous_stage(model, checkpoints.load_checkpoint(s.checkpoint_path(stage - 1)))
    with CheckpointWriter(s.checkpoint_dir, cfg, extra=training_record(model, cfg, dataset), overwrite=overwrite,
                          log=shown) as writer:
        return train_stage(model, dataset, cfg, subjects=s.subjects_train, valid_subjects=s.subjects_test,
                           device=s.device, callbacks=[writer], progress=s.progress, log=shown)


def ensure_checkpoint(s: Settings, stage: int, quiet: bool = True, log=print) -> str:
    """Path of this mode's stage-`stage` checkpoint, training it (and earlier stages) if missing.

    It always says when it trains (one line), and with quiet=False shows every epoch's line too.
    """
    path = s.checkpoint_path(stage)
    if os.path.exists(path):
        return path
    if stage > 1:
        ensure_checkpoint(s, stage - 1, quiet, log)
    log(f"making {os.path.relpath(path, find_root())} (stage {stage}, {s.mode} mode) ...")
    train_preset_stage(s, stage, log=(lambda *_: None) if quiet else log, validate=False)
    return path


def load_model(s: Settings, stage: int, path: str | None = None) -> RIEModel:
    """The trained model of a stage (eval mode, on the mode's device), training it first if missing."""
    return load_model_file(path or ensure_checkpoint(s, stage), device=s.device)


def load_history(path: str) -> dict:
    """The training curves stored in a checkpoint (epochs, lr, train/eval MPJPE, frames/s)."""
    return checkpoints.load_checkpoint(path).get("history", {})


def evaluate(s: Settings, model: RIEModel, dataset: PoseDataset | None = None, *, tta: bool = True,
             subjects=None, log=None):
    """Protocols #1/#2 per action on the mode's test subjects (relpose.evaluate.evaluate_dataset)."""
    dataset = dataset or load_data(s)
    downsample = s.preset.stages[3].downsample
    return evaluate_dataset(model, dataset, subjects or s.subjects_test, downsample=downsample, tta=tta,
                            device=s.device, log=log)
