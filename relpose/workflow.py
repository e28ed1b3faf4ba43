"""The notebooks' glue: one place that knows where data and checkpoints live in each mode.

A notebook's `parameters` cell picks MODE = "quick" (synthetic data, CPU, small model, minutes) or
"full" (real Human3.6M, the paper's settings, CUDA); `RELPOSE_MODE` in the environment overrides
it for every notebook. Everything here is the command line underneath, so a notebook cell and a
shell command do the same thing.
"""
from __future__ import annotations

import contextlib
import io
import os
import shlex
from dataclasses import dataclass, field

import torch

from . import checkpoints, presets
from .cli import main as cli_main
from .cli import parse_args
from .errors import UserError
from .runtime import keep_freed_memory


@dataclass
class Settings:
    mode: str
    dataset: str
    keypoints: str
    data_dir: str
    checkpoint_dir: str
    preset: dict
    device: str
    extra: list = field(default_factory=list)

    def flags(self, stage: int, *more: str) -> list[str]:
        """Command-line flags that train `stage` in this mode."""
        return ["-d", self.dataset, "-k", self.keypoints, "--data-dir", self.data_dir, "-c", self.checkpoint_dir,
                "--device", self.device, *presets.stage_flags(self.preset, stage), *self.extra, *more]

    def checkpoint_name(self, stage: int) -> str:
        return f"stage_{stage}_epoch_{self.preset['epochs'][stage]}.bin"

    def checkpoint_path(self, stage: int) -> str:
        return os.path.join(self.checkpoint_dir, self.checkpoint_name(stage))


def find_root(start: str | None = None) -> str:
    """The kit's top folder (the one holding relpose/ and notebooks/), from a notebook's working dir."""
    here = os.path.abspath(start or os.getcwd())
    for folder in (here, os.path.dirname(here), os.path.dirname(os.path.dirname(here))):
        if os.path.isdir(os.path.join(folder, "relpose")) and os.path.isdir(os.path.join(folder, "notebooks")):
            return folder
    return here


def settings(mode: str | None = None, root: str | None = None, preset: str = "quick") -> Settings:
    """Settings for "quick" or "full" mode; RELPOSE_MODE overrides `mode` when set.

    In quick mode `preset` picks a configuration from relpose.presets ("quick", or "quickstart" for
    notebook 00) and its own checkpoint folder checkpoint/<preset>.
    """
    mode = os.environ.get("RELPOSE_MODE") or mode or "quick"
    root = root or find_root()
    data_dir = os.path.join(root, "data")
    if mode == "quick":
        # checkpoint/<preset> holds only what the notebooks made, so they may retrain over it (--overwrite).
        # Two threads everywhere: results then do not depend on the machine's core count.
        torch.set_num_threads(2)
        keep_freed_memory()
        return Settings("quick", "synth", "det", data_dir, os.path.join(root, "checkpoint", preset),
                        presets.PRESETS[preset], "cpu", ["--no-progress", "--overwrite"])
    if mode == "full":
        device = "cuda" if torch.cuda.is_available() else "cpu"
        return Settings("full", "h36m", "cpn_ft_h36m_dbb", data_dir, os.path.join(root, "checkpoint"),
                        presets.PAPER, device)
    raise UserError(f"MODE '{mode}' is not a mode: use 'quick' or 'full'")


def notebook_setup() -> None:
    """Small, stable notebook outputs: Plotly figures as JSON only (JupyterLab draws them; no 3 MB of
    plotly.js per notebook), compact matplotlib PNGs, short numpy prints."""
    import matplotlib
    import numpy as np
    import plotly.io as pio

    pio.renderers.default = "plotly_mimetype"
    matplotlib.rcParams.update({"figure.dpi": 72, "savefig.dpi": 72, "figure.figsize": (6.4, 3.6)})
    np.set_printoptions(precision=4, suppress=True, linewidth=110)


def run_cli(flags: list[str], quiet: bool = False) -> str:
    """Run `python -m relpose <flags>` in this process; returns what it printed."""
    buf = io.StringIO()
    if quiet:
        with contextlib.redirect_stdout(buf):
            code = cli_main(flags)
    else:
        code = cli_main(flags)
    if code:
        raise RuntimeError(f"python -m relpose {shlex.join(flags)} failed with exit code {code}")
    return buf.getvalue()


def ensure_data(s: Settings) -> None:
    if s.dataset == "synth":
        from .synth import ensure_synthetic
        ensure_synthetic(s.data_dir, s.keypoints)


def previous_stage_flags(s: Settings, stage: int) -> list[str]:
    if stage == 2:
        return ["-p", s.checkpoint_name(1)]
    if stage == 3:
        return ["-ft", s.checkpoint_name(2)]
    return []


def ensure_checkpoint(s: Settings, stage: int, quiet: bool = True) -> str:
    """Path of this mode's stage-`stage` checkpoint, training it (and earlier stages) if missing."""
    path = s.checkpoint_path(stage)
    if os.path.exists(path):
        return path
    if stage > 1:
        ensure_checkpoint(s, stage - 1, quiet)
    ensure_data(s)
    if not quiet:
        print(f"making {os.path.relpath(path)} (stage {stage}, {s.mode} mode) ...", flush=True)
    run_cli(s.flags(stage, *previous_stage_flags(s, stage), "--no-eval"), quiet=quiet)
    return path


def load_model(s: Settings, stage: int, path: str | None = None, **config_overrides):
    """The trained model of a stage (eval mode, on the mode's device), training it first if missing."""
    from .model import RIEModel
    from .run import model_config_from_args
    from .datasets import load_dataset

    path = path or ensure_checkpoint(s, stage)
    args = parse_args(s.flags(stage))
    ds = load_dataset(s.dataset, s.keypoints, s.data_dir)
    cfg = model_config_from_args(args, ds)
    for k, v in config_overrides.items():
        setattr(cfg, k, v)
    model = RIEModel(cfg)
    ckpt = checkpoints.load_checkpoint(path)
    checkpoints.check_compatible(ckpt["model_pos"], cfg)
    model.load_state_dict(ckpt["model_pos"])
    return model.to(s.device).eval()


def load_history(path: str) -> dict:
    """The training curves stored in a checkpoint (epochs, lr, train/eval MPJPE, frames/s)."""
    return checkpoints.load_checkpoint(path).get("history", {})
