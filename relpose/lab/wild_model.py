"""The in-the-wild model: its recipe, its training, and the file the kit ships so that `make wild` lifts a
video at once instead of training first.

The model is the quick recipe trained on the broad synthetic set's 'det_coco' keypoints together with the
Human3.6M-shaped set's training subjects (`wild_settings`): -d synthwild (relpose.synth.wild_set) has what people
do beyond Human3.6M's actions (floor work, kneeling, running, jumping, acrobatics: relpose.synth.library), bodies
from children to tall adults, and cameras people use (phones and webcams at any height, landscape and portrait)
beside a Human3.6M camera; -d synth keeps what Human3.6M's actions through its four cameras look like. Its
keypoints are a COCO detector's on the synthetic bodies (eyes, ears and nose from the head's geometry) with
detector noise and missed joints, converted to Human3.6M-17 by the same code that converts a real detector's
output. Its 2D input then has the systematic differences converted keypoints have
(relpose.lab.conversion_offsets), which a model trained on the 'det' keypoints never saw.

`python -m relpose.cli.wild_model` (or `make wild-model`) makes it: the quick recipe on both sets'
'det_coco' keypoints (`ensure_wild_model`: trained if checkpoint/wild-synthwild-synth-quick has no stage-3
file yet), stored weights-only in half precision (the training file with its optimizer state is 40 MB;
the weights in float16 are under 7 MB) with its configuration, frame rate and provenance: the commit, the
recipe, the data set's generator, the machine and torch version, the training time, and the synthetic
test error of the float32 weights and of the float16 ones, on the broad set's test subjects and on the
Human3.6M-shaped set's (through Human3.6M's cameras, as the DeepMimic clips are seen). Loading casts the weights
back to float32 (load_state_dict copies into the model's own dtype), so every loader of the kit reads it unchanged.
"""
from __future__ import annotations

import dataclasses
import os
import platform
import subprocess
from importlib import resources
from pathlib import Path

import torch

from .. import __version__, checkpoints
from ..datasets import dataset_spec
from ..errors import UserError
from ..files import atomic_path, check_output_file
from ..runtime import cpu_flags
from ..synth import read_provenance
from ..weights import load_model
from .settings import Settings, ensure_checkpoint, evaluate, find_root, load_data, settings

WILD_KEYPOINTS = "det_coco"
WILD_DATASET = "synthwild"
# The Human3.6M-shaped set's training subjects train alongside: on the broad set alone (a quarter of it through a
# Human3.6M camera, 15 of its 34 actions Human3.6M's) the model was 19 mm worse on the Human3.6M-shaped test
# subjects than the model trained there (77.0 against 58.3 mm), and 25-45 mm worse on the DeepMimic walks.
ALSO_TRAIN_ON = ("synth",)


def wild_settings(root: str | None = None, preset: str = "quick", epochs: int | None = None) -> Settings:
    """The quick recipe on the broad synthetic set's 'det_coco' keypoints and the Human3.6M-shaped set's training
    subjects, tested on the broad set's test subjects; checkpoints in checkpoint/wild-synthwild-synth-<preset> (a
    folder name of its own: models trained on other data before are not mistaken for it)."""
    s = settings("quick", root, preset, epochs)
    root = root or find_root()
    folder = "-".join(("wild", WILD_DATASET, *ALSO_TRAIN_ON, s.preset.name))
    return dataclasses.replace(s, dataset=WILD_DATASET, keypoints=WILD_KEYPOINTS, also_train_on=ALSO_TRAIN_ON,
                               checkpoint_dir=os.path.join(root, "checkpoint", folder))


def ensure_wild_model(s: Settings | None = None, stage: int = 3, quiet: bool = True, log=print) -> str:
    """Path of the in-the-wild model's checkpoint, making its data and training it first if missing."""
    s = s or wild_settings()
    dataset_spec(s.dataset).make_missing(s.keypoints, s.data_dir, log=lambda *_: None)
    return ensure_checkpoint(s, stage, quiet=quiet, log=log)


SHIPPED_NAME = "wild-quick.bin"
MAX_SHIPPED_BYTES = 10 * 2 ** 20   # what the repository may hold of one model
STAGE = 3


def shipped_model_path() -> Path:
    """Where the shipped model lives inside the installed package (it may not exist in a fresh clone's
    working copy until `make wild-model` ran; the repository commits it)."""
    return Path(str(resources.files("relpose").joinpath("data", "models", SHIPPED_NAME)))


def _commit(root: str) -> str:
    try:
        done = subprocess.run(["git", "-C", root, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
        dirty = subprocess.run(["git", "-C", root, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True).stdout.strip()
        return done.stdout.strip() + ("+changes" if dirty else "") if done.returncode == 0 else "unknown"
    except OSError:
        return "unknown"


def half_precision(state: dict) -> dict:
    """float32 tensors as float16 (integer buffers such as batch-norm counters kept as they are)."""
    return {k: v.half() if v.dtype == torch.float32 else v for k, v in state.items()}


def training_seconds(s) -> float | None:
    """The epochs' training time of the three stages, as their checkpoints recorded it (without
    evaluation and start-up)."""
    total = 0.0
    for stage in range(1, STAGE + 1):
        seconds = checkpoints.load_checkpoint(s.checkpoint_path(stage)).get("history", {}).get("seconds")
        if not seconds:
            return None
        total += sum(seconds)
    return round(total, 1)


def make_shipped_model(output=None, *, overwrite: bool = False, log=print) -> dict:
    """Train (if needed) and store the shipped in-the-wild model; returns its provenance record."""
    output = Path(output) if output is not None else shipped_model_path()
    check_output_file(output, "the shipped model", overwrite=overwrite, suffixes=(".bin",))
    s = wild_settings()
    path = ensure_wild_model(s, STAGE, log=log)
    ckpt = checkpoints.load_checkpoint(path)
    dataset = load_data(s)   # the broad set with ALSO_TRAIN_ON's sets beside it, each with its test subjects
    # the Human3.6M-shaped set's test subjects through Human3.6M's cameras: how the DeepMimic clips are seen
    lab_set = dataclasses.replace(s, dataset="synth", also_train_on=())
    lab_data = dataset if set(lab_set.subjects_test) <= set(dataset.subjects()) else load_data(lab_set)
    errors = {}
    for precision, state in (("float32", ckpt["model_pos"]), ("float16", half_precision(ckpt["model_pos"]))):
        model = load_model(path, device=s.device)
        model.load_state_dict(state)
        errors[precision] = {}
        for name, settings_, data in ((s.dataset, s, dataset), ("synth", lab_set, lab_data)):
            result = evaluate(settings_, model, data)
            errors[precision][name] = {"mpjpe_mm": round(result.average("mpjpe_mm"), 2),
                                       "p_mpjpe_mm": round(result.average("p_mpjpe_mm"), 2)}
    root = find_root()
    provenance = {
        "made_by": "python -m relpose.cli.wild_model", "relpose": __version__, "commit": _commit(root),
        "recipe": (f"{s.preset.name} (relpose.lab.presets), three stages, {s.keypoints} keypoints of -d {s.dataset}"
                   + "".join(f" and the training subjects of -d {name}" for name in s.also_train_on)),
        "data": {name: read_provenance(os.path.join(s.data_dir, f"data_2d_{name}_{s.keypoints}.npz"))
                 for name in (s.dataset, *s.also_train_on)},
        "test_subjects": {s.dataset: list(s.subjects_test), "synth": list(lab_set.subjects_test)},
        "synthetic_test_error": errors,
        "torch": str(torch.__version__), "machine": platform.machine(), "cpu_flags": cpu_flags(),
        "train_seconds": training_seconds(s), "trained_from": os.path.relpath(path, root),
        "weights": "float16 (cast to float32 on loading)"}
    payload = {"epoch": int(ckpt["epoch"]), "model_pos": half_precision(ckpt["model_pos"]),
               "config": ckpt["config"], "data": ckpt.get("data"), "provenance": provenance}
    output.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(output, what="model") as tmp, open(tmp, "wb") as f:
        torch.save(payload, f)
    size = output.stat().st_size
    if size > MAX_SHIPPED_BYTES:
        output.unlink()
        raise UserError(f"the model would take {size / 2 ** 20:.1f} MB, more than the {MAX_SHIPPED_BYTES / 2 ** 20:.0f} MB "
                        "the repository holds of one; use a smaller recipe")
    log(f"wrote {output} ({size / 2 ** 20:.1f} MB): synthetic test MPJPE {errors['float32'][s.dataset]['mpjpe_mm']} mm "
        f"on {s.dataset}, {errors['float32']['synth']['mpjpe_mm']} mm on synth (float32 weights); "
        f"{errors['float16'][s.dataset]['mpjpe_mm']} / {errors['float16']['synth']['mpjpe_mm']} mm "
        "(float16, as shipped)")
    return provenance


def default_wild_model(log=print) -> str:
    """The model `make wild` and `python -m relpose.cli.wild` lift with when none is given: the shipped one;
    where it is missing (a copy of the kit without it), the same recipe trained here first (minutes)."""
    shipped = shipped_model_path()
    if shipped.is_file():
        return str(shipped)
    if log:
        log(f"the shipped model {shipped} is missing (make it with `make wild-model`); training the same recipe "
            "here")
    return ensure_wild_model(wild_settings(), STAGE, log=log)
