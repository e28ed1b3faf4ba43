"""What the solution modules share: registering exercises, checking a number against the value a solution
expects (within a stated tolerance), and short training runs that never touch the notebooks' checkpoints.

Each solution module (`NN_topic.py`, one per notebook) defines `exercise_1()`, `exercise_2()`, ... Each
runs the exercise's code, prints what it measures, and checks it with `expect` (a number within a tolerance
of the value it gave when the solutions were written: quick mode, 2 CPU threads) or `assert` (a fact that
must hold exactly). Run a module to see its numbers:

    python notebooks/solutions/05_stage3_finetune.py          # from the kit's top folder

`make test` runs them all (notebooks/solutions/test_solutions.py). They reuse the checkpoints the notebooks
make (relpose.lab.settings.ensure_checkpoint trains what is missing) and train their own short runs in a
temporary folder, so they change nothing the notebooks read. RELPOSE_SOLUTIONS_RECORD=1 prints the values
outside their tolerance instead of failing (for updating the expected values after a change of recipe).
"""
from __future__ import annotations

import contextlib
import dataclasses
import functools
import os
import sys
import tempfile
import time

import numpy as np

from relpose.evaluate import validation_mpjpe
from relpose.lab import settings as lab
from relpose.model import RIEModel
from relpose.runtime import seed_everything
from relpose.train import CheckpointWriter, load_previous_stage, train_stage, training_record


def expect(label: str, value: float, expected: float, *, rel: float = 0.0, abs: float = 0.0, unit: str = "") -> float:
    """Print `label: value unit` and check it is within max(rel * |expected|, abs) of `expected`.

    Tolerances follow the notebooks' (relpose.lab.tolerance): numbers computed without training are
    checked tightly; numbers that come out of training move in their last digits between CPUs and thread
    counts, and more the shorter the run."""
    allowed = max(rel * np.abs(expected), abs) + 1e-9
    shown = f"{value:.4g}" if isinstance(value, float) else str(value)
    print(f"  {label}: {shown}{' ' + unit if unit else ''}")
    if os.environ.get("RELPOSE_SOLUTIONS_RECORD") == "1":   # updating the expected values after a recipe change
        if np.abs(value - expected) > allowed:
            print(f"    ^ expected {expected} within {allowed:g}: OUTSIDE")
        return value
    assert np.abs(value - expected) <= allowed, (
        f"{label}: {value} {unit}, expected {expected} within {allowed:g} (rel {rel:g}, abs {abs:g})")
    return value


def exercises(module) -> list:
    """The module's exercise functions in order: exercise_1, exercise_2, ..."""
    found = [(int(name.split("_")[1]), f) for name, f in vars(module).items()
             if name.startswith("exercise_") and name.split("_")[1].isdigit() and callable(f)]
    return [f for _, f in sorted(found)]


def run_all(module) -> None:
    """Run every exercise of a solution module, with its title and time (what `python NN_topic.py` does)."""
    start = time.perf_counter()
    for f in exercises(module):
        t = time.perf_counter()
        print(f"{f.__name__.replace('_', ' ')}: {(f.__doc__ or '').strip().splitlines()[0]}")
        f()
        print(f"  ({time.perf_counter() - t:.1f} s)\n")
    print(f"all exercises of {os.path.basename(module.__file__)}: {time.perf_counter() - start:.0f} s")


def quick(preset: str = "quick"):
    """The notebooks' quick-mode settings (their checkpoints, made by the notebooks or trained here if missing),
    without progress bars."""
    os.environ.setdefault("RELPOSE_PROGRESS", "0")
    return dataclasses.replace(lab.settings("quick", preset=preset), progress=False)


@contextlib.contextmanager
def scratch_folder():
    """A temporary checkpoint folder for a solution's own runs, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="relpose-solution-") as folder:
        yield folder


def validation_set(dataset, subjects, downsample: int = 4, camera: int = 0):
    """(3D, 2D) sequences of one camera of `subjects`, every `downsample`-th frame: a small validation set
    (a quarter of what the notebooks validate on: the other cameras see the same motion)."""
    _, poses_3d, poses_2d = dataset.fetch(list(subjects), downsample=downsample)
    cameras = len(dataset.cameras[subjects[0]])
    return poses_3d[camera::cameras], poses_2d[camera::cameras]


def validate_on(valid, into: list | None = None):
    """A training callback that computes the MPJPE (mm, no flipping) on `valid` (validation_set) after every epoch:
    into the history's eval column (the run's own validation is off), or appended to the list `into`."""
    def callback(end):
        mm = validation_mpjpe(end.model, *valid)
        if into is None:
            end.history.eval_mpjpe_mm[-1] = mm
        else:
            into.append(mm)
    return callback


def short_run(s, stage: int, dataset, *, epochs: int = 1, subset: float = 0.03, previous: dict | None = None,
              model: RIEModel | None = None, folder: str | None = None, subjects=None, valid=None, callbacks=(),
              resume: dict | None = None, model_overrides: dict | None = None, **train_overrides):
    """Train `stage` of the settings' recipe briefly: `epochs` epochs on `subset` of each take (the notebooks'
    quick recipe uses 0.3) of `subjects` (default: the training subjects), from the checkpoint dict `previous`
    (stage 2 and 3) or the given `model` (with `resume`: continuing that checkpoint's run). With `valid`
    (validation_set) the history's eval column holds its MPJPE after every epoch. Writes the checkpoint into
    `folder` when given. Returns (model, history)."""
    cfg = s.train_config(stage, epochs=epochs, subset=subset, validate=False, **train_overrides)
    if model is None:
        seed_everything(cfg.seed)
        model = RIEModel(s.preset.model_config(dataset, stage, **{**s.model_overrides, **(model_overrides or {})}))
        if previous is not None:
            load_previous_stage(model, previous)
    callbacks = [*callbacks] + ([validate_on(valid)] if valid is not None else [])
    quiet = lambda *_: None
    run = dict(subjects=subjects or s.subjects_train, device=s.device, resume=resume, progress=False, log=quiet)
    if folder is None:
        return train_stage(model, dataset, cfg, callbacks=callbacks, **run)
    with CheckpointWriter(folder, cfg, extra=training_record(model, cfg, dataset), log=quiet) as writer:
        return train_stage(model, dataset, cfg, callbacks=[*callbacks, writer], **run)


def relative_change(before: dict, after: dict, prefix: str) -> float:
    """||after - before|| / ||before|| over the parameters whose names start with `prefix` (notebook 05, section 5)."""
    import torch
    names = [n for n in before if n.startswith(prefix) and before[n].dtype.is_floating_point
             and "running_" not in n and "num_batches" not in n]
    delta = torch.sqrt(sum((after[n].float() - before[n].float()).square().sum() for n in names))
    norm = torch.sqrt(sum(before[n].float().square().sum() for n in names))
    return float(delta / norm)


def from_scratch(edits: dict | None = None, notebooks=("03_stage1_encoders", "04_stage2_fusion")) -> dict:
    """The names the notebooks' cells tagged "from-scratch" define (RIE, RIEFusion, load_published, ...), run in a
    fresh namespace; `edits` {old text: new text} changes their source first (each text must occur: an
    exercise's mistake made on purpose)."""
    import nbformat

    namespace, edits, used = {"__name__": "from_scratch"}, dict(edits or {}), set()
    for name in notebooks:
        path = os.path.join(lab.find_root(), "notebooks", f"{name}.ipynb")
        for cell in nbformat.read(path, as_version=4).cells:
            if "from-scratch" in cell.metadata.get("tags", []):
                source = cell.source
                for old, new in edits.items():
                    if old in source:
                        source, _ = source.replace(old, new), used.add(old)
                exec(compile(source, f"{name}[from-scratch]", "exec"), namespace)
    missing = set(edits) - used
    assert not missing, f"the from-scratch cells no longer contain {sorted(missing)}"
    return namespace


def main(module_name: str) -> None:
    """Entry point of `python notebooks/solutions/NN_topic.py`."""
    run_all(sys.modules[module_name])


# Notebook 08's lab: its test set and its stage-1 checkpoints (one per encoding and seed), which exercises of
# notebooks 00, 03 and 08 reuse.
LAB_ACTIONS = ("Directions", "Eating", "Walking", "WalkTogether")
LAB_SEEDS = (0, 1, 2, 3, 4)


@functools.cache
def lab_clean_errors(encodings=("raw", "raw+pos+temp"), seeds=LAB_SEEDS, epochs: int | None = None,
                     checkpoint_dir: str | None = None) -> dict:
    """{encoding: [clean MPJPE (mm) per seed]} of notebook 08's ablation models (trained if missing: seconds
    each) on its test set (S9 and S11, four actions, camera 0, no flipping): the numbers of its section 1.
    `checkpoint_dir`: train into (or reuse) another folder than the notebooks' lab, e.g. a scratch_folder()."""
    from relpose.lab import ablation
    from relpose.lab import robustness as rb
    from relpose.weights import load_model

    s = quick()
    if checkpoint_dir is not None:
        s = dataclasses.replace(s, checkpoint_dir=checkpoint_dir)
    dataset = lab.load_data(s)
    recipe = ablation.lab_preset("quick", epochs)
    test_set = rb.fetch_test_set(dataset, ["S9", "S11"], list(LAB_ACTIONS),
                                 downsample=recipe.train_config(1).downsample, cameras=[0])
    errors = {e: [] for e in encodings}
    for seed in seeds:
        models = {e: load_model(ablation.train_ablation(s, e, recipe, seed=seed, dataset=dataset))
                  for e in encodings}
        for e, r in rb.evaluate_models(models, dataset, test_set, tta=False).items():
            errors[e].append(r["mpjpe_mm"])
    return errors
