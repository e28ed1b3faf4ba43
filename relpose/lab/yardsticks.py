"""Yardsticks for the plausibility checks (relpose.wild.plausibility): the same checks, run the same way, on
takes whose truth is known, so that a lift's "8% left/right asymmetry" can be read against something.

The sets, each of views (one camera's view of one take, as a video would show it):
- the truth of the synthetic test subjects (-d synth, S9 and S11) and of the DeepMimic motion capture
  (-d mocap, relpose.mocap: real human motion): their camera-space 3D made root-relative, the root placed for
  foot sliding from their exact 2D projections ('gt'), and once more from the detector-like ones ('det');
- each model's lifts of both sets, lifted as `make wild` lifts a video (relpose.wild.lifting): the keypoints
  converted to the model's layout, zoomed to the person size it learned, shown to it at its training rate and
  brought back to the take's (relpose.lift.lift_sequence), flipped at test time; the root placed from the
  keypoints it read.
Every report comes from relpose.wild.plausibility.take_plausibility, the function a lift's checks come from,
at the take's frame rate. Each value of a lift's table (PlausibilityReport.values) is aggregated per set:
its median over views and its 10th and 90th percentiles (a few odd views move neither), with the number of
views that had one (foot sliding has none where no foot is planted).

The models: the in-the-wild model the kit ships (relpose/data/models/wild-quick.bin, trained on 'det_coco'
keypoints) and the quick recipe's stage 3 (checkpoint/quick, trained on 'det'). Each reads its training
keypoints; on the mocap set too where relpose.mocap makes them, else 'det' (the set has no 'det_coco' yet),
and the file records which. `python -m relpose.cli.yardsticks` (`make yardsticks`, about a minute on 2 cores
once the models exist) writes relpose/data/plausibility_yardsticks.json, which relpose.wild.yardsticks reads
beside every lift.

What the first measurement showed: the truth's bones keep their length and are symmetric (0.0%); a lift's
foot sliding is mostly the 2D noise moving the root placed from the keypoints (the truth itself, its root
placed from the 'det' keypoints, slides as fast as the models' lifts, and about half as fast at 25 fps as at
50: noise independent between frames makes a speed proportional to the frame rate).
"""
from __future__ import annotations

import datetime
import hashlib
import json
import os
import platform
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .. import mocap
from ..datasets import dataset_spec, load_dataset, read_npz_metadata, without_trajectory
from ..errors import UserError
from ..files import atomic_path, check_output_file
from ..lift import checkpoint_fps, checkpoint_input_layout, fit_input_layout, lift_sequence
from ..person_scale import zoom_to_training_size
from ..runtime import cpu_flags
from ..tables import text_table
from ..weights import load_any_model
from ..windows import Flip
from ..wild import yardsticks as stored
from ..wild.plausibility import PlausibilityReport, take_plausibility
from .claims import code_version
from .settings import ensure_checkpoint, find_root, settings
from .sim_to_real import MOCAP_SUBJECTS, SYNTH_TEST_SUBJECTS
from .wild_model import default_wild_model

PERCENTILES = (50, 10, 90)        # stored as median, p10, p90 (relpose.wild.yardsticks.STATS)
MODELS = ("wild-quick", "quick")
SHOWN = ("mocap truth", "wild-quick on mocap")   # the columns beside a lift: real motion, and the model make wild uses
TRUTH_KEYPOINTS = "gt"            # the truth's root is placed from its exact projections
PERSON_SIZE = "normalise"         # as every route that lifts a video does by default (relpose.person_scale)
_quiet = lambda *_: None   # noqa: E731


# --------------------------------------------------------------------------------------- the reports
def views(dataset, subjects, cameras=None):
    """(subject, action, camera) of every camera (or those in `cameras`) of every take of `subjects`."""
    for subject in subjects:
        for action in dataset.actions(subject):
            for camera in range(len(dataset.cameras[subject])):
                if cameras is None or camera in cameras:
                    yield subject, action, camera


def truth_reports(dataset, subjects, cameras=None) -> list[PlausibilityReport]:
    """The checks on the truth: each view's camera-space 3D made root-relative, as a model predicts it."""
    return [take_plausibility(dataset, s, a, c, without_trajectory(dataset.positions_3d[s][a][c]))
            for s, a, c in views(dataset, subjects, cameras)]


def lift_view(model, ckpt: dict, dataset, subject: str, action: str, camera: int, *, tta: bool = True,
              person_size: str = PERSON_SIZE) -> np.ndarray:
    """(T, J, 3) poses of one view lifted as relpose.wild.lifting lifts a video (`dataset` already in the
    model's input layout): zoomed to the training person size, at the model's frame rate and back."""
    cam = dataset.cameras[subject][camera]
    x = dataset.positions_2d[subject][action][camera]
    zoomed, _ = zoom_to_training_size(x, cam["res_w"], cam["res_h"], dataset.input_layout().name, person_size, _quiet)
    return lift_sequence(model, zoomed, fps=dataset.fps_of(subject), model_fps=checkpoint_fps(ckpt), tta=tta,
                         flip=Flip.from_dataset(dataset))


def lifted_reports(model, ckpt: dict, dataset, subjects, cameras=None, *, tta: bool = True,
                   person_size: str = PERSON_SIZE) -> list[PlausibilityReport]:
    """The checks on `model`'s lifts of every view, the root placed from the keypoints it read."""
    model.eval()   # predict_sequence does not switch modes itself
    fitted = fit_input_layout(dataset, checkpoint_input_layout(ckpt, dataset.skeleton), "the model", _quiet)
    return [take_plausibility(fitted, s, a, c, lift_view(model, ckpt, fitted, s, a, c, tta=tta,
                                                         person_size=person_size), checkpoint_fps(ckpt))
            for s, a, c in views(fitted, subjects, cameras)]


def aggregate(reports) -> dict:
    """{key: {median, p10, p90, views}} over the reports of one set (one per view), for every value any of
    them has; `views` counts those that had it (foot sliding: a planted foot)."""
    out = {}
    values = [r.values() for r in reports]
    for key in dict.fromkeys(k for v in values for k in v):
        have = np.array([v[key] for v in values if v.get(key) is not None and np.isfinite(v[key])], dtype=float)
        if len(have):
            median, low, high = np.percentile(have, PERCENTILES)
            out[key] = dict(median=round(float(median), 3), p10=round(float(low), 3), p90=round(float(high), 3),
                            views=int(len(have)))
    return out


# ------------------------------------------------------------------------------------------ the sets
@dataclass(frozen=True)
class TakeSet:
    name: str              # its key in the file, and its column's header
    data: str              # 'synth' or 'mocap'
    subjects: tuple
    keypoints: str         # the 2D the model read; for the truth, the 2D the root was placed from
    model: str | None      # None: the ground truth
    description: str


def mocap_keypoints(model_keypoints: str, wanted: str | None = None) -> str:
    """The mocap keypoints a model is measured on: `wanted`, else its training keypoints where relpose.mocap
    makes them, else 'det' (the set's detector-like keypoints)."""
    if wanted is not None:
        return wanted
    return model_keypoints if model_keypoints in mocap.FILE_NAMES else "det"


def take_sets(model_keypoints: dict, wanted_mocap: str | None = None) -> list[TakeSet]:
    """The truth of both sets (the root placed from the exact projections, then from the detector-like
    keypoints: how much foot sliding the 2D noise alone makes), then each model (name -> its training
    keypoints) on both."""
    synth, real = ", ".join(SYNTH_TEST_SUBJECTS), "the DeepMimic motion-capture clips"
    sets = []
    for data, subjects, what in (("synth", SYNTH_TEST_SUBJECTS, f"the synthetic test subjects' ({synth}) own 3D"),
                                 ("mocap", MOCAP_SUBJECTS, f"{real}' own 3D (real motion)")):
        sets += [TakeSet(f"{data} truth", data, subjects, TRUTH_KEYPOINTS, None, what),
                 TakeSet(f"{data} truth, det root", data, subjects, "det", None,
                         f"{what}, the root placed from the 'det' keypoints")]
    for name, keypoints in model_keypoints.items():
        k = mocap_keypoints(keypoints, wanted_mocap)
        sets += [TakeSet(f"{name} on synth", "synth", SYNTH_TEST_SUBJECTS, keypoints, name,
                         f"the {name} model's lifts of the synthetic test subjects' '{keypoints}' keypoints"),
                 TakeSet(f"{name} on mocap", "mocap", MOCAP_SUBJECTS, k, name,
                         f"the {name} model's lifts of {real}' '{k}' keypoints")]
    return sets


# ------------------------------------------------------------------------------------- the models
def model_path(name: str, log=print) -> str:
    """The file of one of MODELS, made first where it is missing (the quick recipe trains in minutes)."""
    if name == "wild-quick":
        return default_wild_model(log=log)
    if name == "quick":
        return ensure_checkpoint(settings("quick"), 3, log=log)
    raise UserError(f"model {name!r}: the yardsticks are measured with {', '.join(MODELS)}")


def _sha256(path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(2 ** 20), b""):
            digest.update(block)
    return digest.hexdigest()


def model_record(path, ckpt: dict, root: str) -> dict:
    """Which model, as its file says: the shipped model's own provenance, else what a checkpoint records."""
    record = dict(file=os.path.relpath(os.path.abspath(path), root), sha256=_sha256(path), epoch=ckpt.get("epoch"),
                  data=ckpt.get("data"))
    if ckpt.get("provenance"):
        record["provenance"] = ckpt["provenance"]
    else:
        seconds = (ckpt.get("history") or {}).get("seconds")
        record.update(train_config=ckpt.get("train_config"), last_stage_train_seconds=sum(seconds) if seconds else None)
    return record


# ----------------------------------------------------------------------------------- the command
def _data_record(data_dir, names) -> dict:
    """{file: the generator that wrote it} for the data files read."""
    out = {}
    for name in names:
        meta = read_npz_metadata(os.path.join(data_dir, name))
        out[name] = meta.get("generator") if isinstance(meta, dict) else None
    return out


def measure(data_dir, *, models=MODELS, wanted_mocap: str | None = None, tta: bool = True, cameras=None,
            person_size: str = PERSON_SIZE, log=print) -> tuple[dict, dict, dict]:
    """({set name: {set, values, views, frames, fps}}, {model: record}, {data file: generator}) for the sets
    of `take_sets`, making missing data and models first."""
    root = find_root()
    loaded = {name: (path, *load_any_model(path)) for name, path in ((n, model_path(n, log)) for n in models)}
    model_keypoints = {name: ckpt["data"]["keypoints"] for name, (_, _, ckpt) in loaded.items()}
    sets = take_sets(model_keypoints, wanted_mocap)
    files = set()
    for ts in sets:
        if ts.data == "synth":
            dataset_spec("synth").make_missing(ts.keypoints, data_dir, log=_quiet)
        else:
            mocap.ensure_mocap(data_dir, ts.keypoints, log=_quiet)
        files.update(p.name for p in dataset_spec(ts.data).files(ts.keypoints, data_dir))
    datasets, results = {}, {}
    for ts in sets:
        key = (ts.data, ts.keypoints)
        if key not in datasets:
            datasets[key] = load_dataset(ts.data, ts.keypoints, data_dir)
        t0 = time.perf_counter()
        if ts.model is None:
            reports = truth_reports(datasets[key], ts.subjects, cameras)
        else:
            _, model, ckpt = loaded[ts.model]
            reports = lifted_reports(model, ckpt, datasets[key], ts.subjects, cameras, tta=tta,
                                     person_size=person_size)
        results[ts.name] = dict(set=ts, values=aggregate(reports), views=len(reports),
                                frames=sum(r.frames for r in reports), fps=float(datasets[key].fps))
        log(f"{ts.name}: {len(reports)} views, {time.perf_counter() - t0:.1f} s")
    records = {name: model_record(path, ckpt, root) for name, (path, _, ckpt) in loaded.items()}
    return results, records, _data_record(data_dir, sorted(files))


def yardsticks_document(results: dict, records: dict, data: dict, *, command: str, wall_seconds: float,
                        tta: bool = True, person_size: str = PERSON_SIZE, git: dict | None = None) -> dict:
    """The file's content (relpose.wild.yardsticks reads it): every set's values and what made them."""
    git = git or code_version()
    sets = {}
    for name, r in results.items():
        ts = r["set"]
        sets[name] = dict(label=name, description=ts.description, data=ts.data, subjects=list(ts.subjects),
                          keypoints=ts.keypoints, model=ts.model, fps=r["fps"], views=r["views"], frames=r["frames"],
                          values=r["values"])
    provenance = dict(command=command, commit=git["commit"], commit_dirty=git["dirty"],
                      date=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                      torch=str(torch.__version__), numpy=np.__version__, python=platform.python_version(),
                      machine=platform.machine(), cpu_flags=cpu_flags(), threads=torch.get_num_threads(),
                      wall_seconds=round(wall_seconds, 1), data=data, models=records,
                      lift=dict(tta=tta, person_size=person_size,
                                frame_rate="checks at the take's rate; the model sees its training rate"))
    return dict(format=stored.FORMAT, version=stored.VERSION, provenance=provenance,
                shown=[s for s in SHOWN if s in sets], notes=notes(sets), sets=sets)


def notes(sets: dict) -> list[str]:
    """What a reader of the shown columns needs besides them: foot sliding from 2D noise alone."""
    noisy = sets.get("mocap truth, det root")
    if noisy is None or "foot_sliding_cm_s" not in noisy["values"]:
        return []
    v = noisy["values"]["foot_sliding_cm_s"]
    # The root is placed frame by frame from the keypoints: their noise moves it, and a planted foot with it, by
    # a few cm per frame, which is a speed proportional to the frame rate for noise independent between frames.
    return [f"foot sliding: the mocap truth with its root placed from detector-like keypoints ('det') slides "
            f"{stored.range_text(v['median'], v['p10'], v['p90'])} cm/s at {noisy['fps']:g} fps: most of a "
            "lift's sliding is 2D noise moving the placed root, and it grows with the frame rate"]


def yardsticks_table(document: dict) -> str:
    """Every set's median [10-90%] of every value, one column per set."""
    sets = document["sets"]
    keys = list(dict.fromkeys(k for s in sets.values() for k in s["values"]))

    def cell(values, key):
        return stored.range_text(*(values[key][s] for s in stored.STATS)) if key in values else "n/a"

    rows = [[key, *(cell(s["values"], key) for s in sets.values())] for key in keys]
    return text_table(["value", *sets], rows, sep="  ",
                      title="plausibility yardsticks: median [10-90% range] over views")


def make_yardsticks(output=None, *, overwrite: bool = False, wanted_mocap: str | None = None,
                    command: str = stored.COMMAND, data_dir=None, log=print) -> dict:
    """Measure every set and write the file (default: the package's relpose/data/plausibility_yardsticks.json),
    atomically; an existing file is replaced only with `overwrite`. Returns the document."""
    output = Path(output) if output is not None else stored.yardsticks_path()
    check_output_file(output, "--output", overwrite=overwrite, suffixes=(".json",))
    git = code_version()   # read when the run starts: a commit made meanwhile is not credited with its numbers
    t0 = time.perf_counter()
    data_dir = data_dir or os.path.join(find_root(), "data")
    results, records, data = measure(data_dir, wanted_mocap=wanted_mocap, log=log)
    document = yardsticks_document(results, records, data, command=command, wall_seconds=time.perf_counter() - t0,
                                   git=git)
    stored.parse_yardsticks(document)   # what a lift will read must read
    with atomic_path(output, what="yardsticks file") as tmp:
        tmp.write_text(json.dumps(document, indent=1, allow_nan=False) + "\n", encoding="utf-8")
    log(yardsticks_table(document))
    log(f"wrote {output} in {time.perf_counter() - t0:.0f} s")
    return document
