"""The paper's claims decided over many seeds: one command trains and measures every seed, one JSON keeps it
all, and `analyse` turns the JSON into verdicts corrected for the number of tests.

    python -m relpose.lab.claims [--mode quick|full] [--seeds 0-9 | N | 0,3,5] [--workers 2] [--out PATH]
                                 [--tiny] [--analyse PATH]        (make claims: --workers 2)

(the command line is relpose.cli.claims).

The claims (Shan et al. 2021, abstract, in the kit's words; `PAPER_CLAIMS`), each a paired comparison by seed:

(a) accuracy: the relative encodings lower the clean error (the ablations validate them);
(b) robustness: with them the error grows less when the 2D input is perturbed (robustness.perturb);
(c) global motion: without the positional encoding the model copes worse with a person moving fast in the
    image (error in the fastest minus the slowest bin of the root's 2D speed, as relpose.lab.ablation);
(d) local motion: without the temporal encoding the model is less accurate where the joints move little
    around the frame (error in the bin of the smallest local motion range, `motion_range_px`);
(e) multi-stage optimisation: stages 1-3 beat the same model trained in one stage for the same number of epochs.

Per seed (`run_seed`) the four stage-1 encodings are trained or reused (ablation.train_ablation, under
<checkpoint folder>/lab/claims/<encoding>/seed_S), evaluated on the clean test set (Protocols #1 and #2,
action-wise), at every perturbation level (the same perturbed inputs for every model), and per frame
binned by root speed and by local motion range; then stages 2 and 3 are trained from that seed's
raw+pos+temp stage-1 model (lab/claims/staged/seed_S), and the same stage-3 model trained from random weights
in one stage for e1 + e2 + e3 epochs at stage 1's learning rate (lab/claims/one_stage/seed_S), both evaluated
clean. `run_claims` runs the seeds (in `workers`
processes), rewriting the JSON after every seed, and resumes from it.

The local motion range of a test frame is what the model's window shows of the body's own motion: over
the receptive field's frames centred on it, each joint's root-relative 2D position is compared with its
position at the centre frame, the largest distance is kept, and the mean over the joints (the root
excluded) is converted to pixels (res_w / 2 per normalised unit). The temporal encoding feeds the model
joint minus the same joint at the centre frame; taking it root-relative here leaves the global motion out,
which claim (c) measures. The window is measured at the test set's frame rate (its downsampling), with the
sequence's ends edge-padded as evaluation pads them.

The stage-1 models live apart from notebook 08's (<checkpoint folder>/lab/<encoding>/seed_S): the two
recipes differ, and sharing a folder would have each retrain the other's file whenever their epochs agree.
A checkpoint is reused while it records the configurations the run would train with (ablation.ensure_stage),
so a seed interrupted after training only evaluates again.

The JSON: "recipe" (everything that decides the numbers, seeds excepted: presets, levels, bins, test set,
data), "test_set" (frames, actions, bin edges and counts), "seeds" {seed: clean, curves, speed_bins,
range_bins, staged, trained, seconds, threads}, "provenance" (the latest run: commit, CPU, torch, threads,
workers, data files, wall time, date) and "runs" (every run that added seeds).

Statistics (relpose.lab.intervals): each row's mean difference ours minus baseline in mm with its 95%
Student-t interval (per row, not simultaneous) and two-sided paired t-test p; Holm's correction over every
row of the family (primary and secondary rows); a row 'holds' when its Holm-adjusted p < 0.05 and the
sign is the paper's, 'contradicted' when significant with the other sign, 'undecided' otherwise. The rows
(`analyse`; primary first, it decides the claim):
  (a) raw+pos+temp - raw; then raw+pos - raw, raw+temp - raw, raw+pos+temp - raw+pos, raw+pos+temp - raw+temp;
  (b) per perturbation, the growth over clean (ablation.growth) raw+pos+temp - raw; then each perturbed level;
  (c) the speed slope (ablation.speed_slope) raw+pos+temp - raw; then raw+pos - raw (the positional encoding
      alone, which the abstract names) and each speed bin;
  (d) the smallest-range bin raw+pos+temp - raw+pos (the temporal encoding added); then raw+temp - raw there,
      and both in every other bin;
  (e) stages 1-3 - one stage, clean MPJPE.

The quick recipe (QUICK_CLAIMS): the quick preset's model, stage 1 for CLAIMS_STAGE1_EPOCHS epochs on
CLAIMS_SUBSET of each take, every CLAIMS_DOWNSAMPLE-th frame; stages 2 and 3 are the quick preset's (3 + 3
epochs) on the same frames. Test set: synthetic S9 and S11, all actions, camera 0 only, every 4th frame
(7,645 frames), with flip augmentation. Measured on 2 CPU cores beside another job (2026-12, torch 2.13,
one thread per worker): one stage-1 epoch 13.5 s, stage 2 14 s, stage 3 18 s per epoch, so a seed trains in
about 14 minutes (4 x 10 + 3 + 3 + 16 epochs); evaluating one model on camera 0 takes 1.2 s, the seed's 46
evaluations about 50 s (~6% of training); all four cameras would take 5 s per model, ~25%. Ten seeds on two
workers: about 75 minutes (the stored run's wall time is in its JSON). Full mode (FULL_CLAIMS): the paper's recipe (presets.PAPER, as the ablation's full
mode) on Human3.6M, all four cameras at the full frame rate, on the GPU.
"""
from __future__ import annotations

import dataclasses
import datetime
import filecmp
import json
import math
import multiprocessing
import os
import platform
import shutil
import subprocess
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field

import numpy as np

from .. import presets
from ..ablation import (LEVELS, AblationResult, ensure_stage, growth, rank_bins, root_speed_px, speed_slope,
                        train_ablation)
from ..intervals import holm, paired_comparison, seeds_needed, detectable_effect
from ..presets import Preset
from ..robustness import IDENTITY, PERTURBATIONS, describe, evaluate_models, fetch_test_set
from ...encoding import ENCODINGS, ROOT_JOINT
from ...errors import UserError
from ...files import atomic_path, check_writable_folder, find_root, read_json
from ...tables import text_table
from ...train import TrainConfig, checkpoint_name

# The quick recipe's training. Stage-1 epochs chosen so that the models reach the notebooks' strength
# (Protocol #1 <= 60 mm on the synthetic test subjects, issue #25), measured on the quick preset's
# raw+pos+temp stage 1 (subset 0.3, every 4th frame, seeds 0 and 1, all test actions at every 4th frame,
# flip TTA, one thread, 2026-12-07): 6 epochs 67.4 / 60.1 mm (84 / 65 s); 10 epochs 55.7 / 57.6 mm (127 / 107 s).
CLAIMS_STAGE1_EPOCHS = 10
CLAIMS_SUBSET = 0.3
CLAIMS_DOWNSAMPLE = 4
CLAIMS_SEEDS = tuple(range(10))

FORMAT = "relpose-claims/1"
ALPHA = 0.05                 # family-wise error rate of the Holm correction
EFFECT_MM = 2.0              # the smallest difference the power analysis asks the seeds to detect
POWER = 0.8
HOLDS, CONTRADICTED, UNDECIDED = "holds", "contradicted", "undecided"
CLAIMS_FOLDER = os.path.join("lab", "claims")   # below the mode's checkpoint folder
MAX_JSON_BYTES = 64 * 2 ** 20
NOT_IN_SOURCES = "not in the kit's sources"


@dataclass(frozen=True)
class TestSet:
    """How the test sequences are fetched (robustness.fetch_test_set's arguments) and evaluated."""

    __test__ = False   # not a pytest class, whatever its name

    subjects: tuple = ("S9", "S11")
    actions: tuple | None = None      # None: all
    cameras: tuple | None = (0,)      # None: all
    downsample: int = CLAIMS_DOWNSAMPLE
    tta: bool = True                  # flip augmentation, as the paper evaluates


@dataclass(frozen=True)
class ClaimsRecipe:
    """What one claims study trains and measures; everything but `seeds` must match to resume a JSON."""

    name: str
    encoder_preset: Preset      # stage 1, trained for each of the four encodings
    staged_preset: Preset       # stages 1-3 for claim (e); its stage 1 is encoder_preset's (that model is reused)
    seeds: tuple = CLAIMS_SEEDS
    levels: dict = field(default_factory=lambda: {p: list(v) for p, v in LEVELS.items()})
    speed_bins: int = 4
    range_bins: int = 4
    test: TestSet = TestSet()

    def __post_init__(self):
        e, s = self.encoder_preset, self.staged_preset
        if 1 not in e.stages:
            raise UserError(f"the claims recipe '{self.name}': encoder_preset has no stage 1")
        if sorted(s.stages) != [1, 2, 3]:
            raise UserError(f"the claims recipe '{self.name}': staged_preset needs stages 1, 2 and 3, "
                            f"got {sorted(s.stages)}")
        shape = lambda p: (tuple(p.filter_widths), p.channels, p.latent_dim, p.hidden)
        if shape(e) != shape(s) or e.stages[1] != s.stages[1]:
            raise UserError(f"the claims recipe '{self.name}': staged_preset's model and stage 1 must be "
                            "encoder_preset's, so that the raw+pos+temp stage-1 model is reused for claim (e)")
        if not self.seeds or len(set(self.seeds)) != len(self.seeds) or any(int(x) != x or x < 0 for x in self.seeds):
            raise UserError(f"the claims recipe '{self.name}': seeds must be distinct whole numbers >= 0, "
                            f"got {list(self.seeds)}")
        for p, lv in self.levels.items():
            if p not in PERTURBATIONS:
                raise UserError(f"unknown perturbation '{p}'; choose from {', '.join(PERTURBATIONS)}")
            if IDENTITY[p] not in lv or len(lv) < 2:
                raise UserError(f"the '{p}' levels {list(lv)} need the unperturbed level {IDENTITY[p]} and one more")
        if self.test.downsample != e.stages[1].downsample:
            raise UserError(f"the claims recipe '{self.name}': the test set's downsampling {self.test.downsample} must "
                            f"be the training's ({e.stages[1].downsample}): the models know one frame rate")
        if self.speed_bins < 2 or self.range_bins < 2:
            raise UserError("claims (c) and (d) compare bins: give at least 2 speed bins and 2 range bins")

    @property
    def one_stage_config(self) -> TrainConfig:
        """The equal-budget baseline of claim (e): the stage-3 model trained from random weights for the three
        stages' epochs together, at stage 1's learning rate, on stage 1's frames."""
        total = sum(self.staged_preset.epochs(k) for k in (1, 2, 3))
        first = self.staged_preset.train_config(1)
        return self.staged_preset.train_config(3, epochs=total, learning_rate=first.learning_rate,
                                               subset=first.subset, downsample=first.downsample)

    def with_seeds(self, seeds) -> "ClaimsRecipe":
        return dataclasses.replace(self, seeds=tuple(int(s) for s in seeds))


def _quick_recipe() -> ClaimsRecipe:
    data = dict(subset=CLAIMS_SUBSET, downsample=CLAIMS_DOWNSAMPLE)
    stage1 = presets.QUICK.train_config(1, epochs=CLAIMS_STAGE1_EPOCHS, **data)
    encoder = dataclasses.replace(presets.QUICK, name="claims-quick", stages={1: stage1})
    staged = dataclasses.replace(presets.QUICK, name="claims-quick-staged",
                                 stages={1: stage1, 2: presets.QUICK.train_config(2, **data),
                                         3: presets.QUICK.train_config(3, **data)})
    return ClaimsRecipe("quick", encoder, staged, CLAIMS_SEEDS, test=TestSet(downsample=CLAIMS_DOWNSAMPLE))


def _tiny_recipe() -> ClaimsRecipe:
    """Seconds per seed: a small model, one epoch per stage on a slice of each take (for tests and --tiny)."""
    stage = lambda k, lr: TrainConfig(stage=k, epochs=1, batch_size=256, learning_rate=lr, subset=0.3, downsample=4)
    encoder = Preset("claims-tiny", (3, 3), 16, 16, 32, {1: stage(1, 1e-3)})
    staged = dataclasses.replace(encoder, name="claims-tiny-staged",
                                 stages={1: stage(1, 1e-3), 2: stage(2, 1e-3), 3: stage(3, 5e-4)})
    return ClaimsRecipe("tiny", encoder, staged, (0, 1), levels={"translate": [0, 200], "noise": [0, 10]},
                        speed_bins=2, range_bins=2, test=TestSet(downsample=4, tta=False))


def _full_recipe() -> ClaimsRecipe:
    # The ablation's full mode trains presets.PAPER's stage 1 (ablation.LAB_PRESETS['full']); the same here.
    encoder = dataclasses.replace(presets.PAPER, name="claims-full", stages={1: presets.PAPER.train_config(1)})
    staged = dataclasses.replace(presets.PAPER, name="claims-full-staged")
    return ClaimsRecipe("full", encoder, staged, CLAIMS_SEEDS, test=TestSet(cameras=None, downsample=1))


QUICK_CLAIMS = _quick_recipe()
TINY_CLAIMS = _tiny_recipe()
FULL_CLAIMS = _full_recipe()
RECIPES = {r.name: r for r in (QUICK_CLAIMS, TINY_CLAIMS, FULL_CLAIMS)}


# ----------------------------------------------------------------------------- the paper's claims

# Per claim: what the paper says (paraphrased), the direction of ours minus baseline it implies, and its
# number. The kit holds the abstract only, not the paper's tables: paper_value stays None until a number
# can be quoted with its source.
PAPER_CLAIMS = {
    "a": dict(title="accuracy", direction="lower", paper_value=None,
              said="the ablation studies show that each relative encoding makes the estimate more accurate",
              source="abstract (no table in the kit's sources)"),
    "b": dict(title="robustness", direction="lower", paper_value=None,
              said="relative positions do not change when the whole person moves, so the error should grow less "
                   "under a perturbed 2D input",
              source="the kit's reading of the positional encoding's invariance (relpose/encoding.py); "
                     "the abstract gives no number"),
    "c": dict(title="global motion", direction="lower", paper_value=None,
              said="without the positional encoding the model copes badly with a person's global motion",
              source="abstract (no table in the kit's sources)"),
    "d": dict(title="local motion, small range", direction="lower", paper_value=None,
              said="without the temporal encoding the model is less accurate on local motion of small range",
              source="abstract (no table in the kit's sources)"),
    "e": dict(title="multi-stage", direction="lower", paper_value=None,
              said="optimising in several stages makes further use of the encodings",
              source="abstract (no table in the kit's sources)"),
}


def paper_claim(claim: str) -> dict:
    """PAPER_CLAIMS' entry of a claim id such as 'a' or 'b:translate'."""
    return PAPER_CLAIMS[claim.split(":")[0]]


# ----------------------------------------------------------------------------- local motion range

def motion_range_px(poses_2d, res_w: float, pad: int, root=(ROOT_JOINT,), chunk: int = 4096) -> np.ndarray:
    """Per frame, the local motion range (px) of its input window of 2 * pad + 1 frames (see the module's
    docstring): the mean over joints of the largest distance of the root-relative joint from where it is
    at the centre frame. `root`: the keypoint(s) whose (mean) position is the root (a single root joint is
    left out of the mean; it is always at 0)."""
    from ...windows import gather_windows

    x = np.asarray(poses_2d, dtype=np.float64)   # float64: the same bins on every CPU
    root = list(root)
    rel = x - x[:, root].mean(axis=1, keepdims=True)
    if len(root) == 1:
        rel = np.delete(rel, root[0], axis=1)
    out = np.empty(len(x))
    for start in range(0, len(x), chunk):   # windows of a long take would need ~W times its memory at once
        frames = np.arange(start, min(len(x), start + chunk))
        w = gather_windows(rel, pad, frames=frames)                          # (n, W, J', 2)
        out[frames] = np.linalg.norm(w - w[:, pad:pad + 1], axis=-1).max(axis=1).mean(axis=1)
    return out * res_w / 2


def frame_bins(recipe: ClaimsRecipe, test_set: dict, root=(ROOT_JOINT,)) -> dict:
    """Per test frame (evaluate_models' order) its speed bin and its range bin, with the bins' edges."""
    from ...model import receptive_field

    frames = [(p2, res_w) for seqs in test_set.values() for _, p2, res_w in seqs]
    speeds = np.concatenate([root_speed_px(p2, res_w, recipe.test.downsample) for p2, res_w in frames])
    pad = (receptive_field(recipe.encoder_preset.filter_widths) - 1) // 2
    ranges = np.concatenate([motion_range_px(p2, res_w, pad, root) for p2, res_w in frames])
    speed_which, speed_edges = rank_bins(speeds, recipe.speed_bins, "speed")
    range_which, range_edges = rank_bins(ranges, recipe.range_bins, "motion range")
    return dict(frames=len(speeds), speed_which=speed_which, speed_edges=speed_edges, range_which=range_which,
                range_edges=range_edges)


def fetch_recipe_test_set(recipe: ClaimsRecipe, dataset) -> dict:
    t = recipe.test
    return fetch_test_set(dataset, list(t.subjects), None if t.actions is None else list(t.actions), t.downsample,
                          None if t.cameras is None else list(t.cameras))


# ----------------------------------------------------------------------------- one seed

def _mtime(path: str):
    return os.stat(path).st_mtime_ns if os.path.exists(path) else None


def _same_file(a: str, b: str) -> bool:
    return os.path.exists(a) and os.path.exists(b) and filecmp.cmp(a, b, shallow=False)


def _stage_settings(settings, preset: Preset, folder: str):
    return dataclasses.replace(settings, preset=preset, checkpoint_dir=folder, progress=False,
                               model_overrides=dict(settings.model_overrides, encoding="raw+pos+temp"))


def train_staged(settings, recipe: ClaimsRecipe, seed: int, stage1_path: str, dataset) -> tuple[str, bool]:
    """Stages 2 and 3 of raw+pos+temp in <checkpoint folder>/lab/claims/staged/seed_S, from a copy of the
    seed's stage-1 model; returns the stage-3 path and whether anything was trained.

    A stage is reused only while the stage-1 copy is byte for byte the model it was trained from: when
    that model changed, stages 3 and 2 are deleted before the new copy goes in, so an interruption
    anywhere never leaves a later stage that came from another stage 1.
    """
    folder = os.path.join(settings.checkpoint_dir, CLAIMS_FOLDER, "staged", f"seed_{seed}")
    s = _stage_settings(settings, recipe.staged_preset.with_train(seed=seed), folder)
    check_writable_folder(folder, "the claims' checkpoint folder")
    copy = s.checkpoint_path(1)
    force = not _same_file(copy, stage1_path)
    if force:
        for stage in (3, 2):
            if os.path.exists(s.checkpoint_path(stage)):
                os.unlink(s.checkpoint_path(stage))
        with atomic_path(copy, what="stage-1 checkpoint copy") as tmp:
            shutil.copyfile(stage1_path, tmp)
    trained2 = ensure_stage(s, 2, dataset, force=force)
    trained3 = ensure_stage(s, 3, dataset, force=trained2)
    return s.checkpoint_path(3), trained2 or trained3


def train_one_stage(settings, recipe: ClaimsRecipe, seed: int, dataset) -> tuple[str, bool]:
    """The equal-budget control of claim (e): the stage-3 model (encoders, fusion, decoders) of raw+pos+temp
    trained from random weights in one stage for the three stages' epochs together, with the learning rate a
    model trained from scratch gets (stage 1's, decaying per epoch), on the same frames, in
    <checkpoint folder>/lab/claims/one_stage/seed_S (notebook 05's section 5 over one seed). Reused while its
    checkpoint records these configurations."""
    from ...checkpoints import load_checkpoint
    from ...model import RIEModel
    from ...runtime import seed_everything
    from ...train import CheckpointWriter, train_stage, training_record

    folder = os.path.join(settings.checkpoint_dir, CLAIMS_FOLDER, "one_stage", f"seed_{seed}")
    cfg = dataclasses.replace(recipe.one_stage_config, seed=seed)
    preset = dataclasses.replace(recipe.encoder_preset, name=recipe.encoder_preset.name + "-one-stage",
                                 stages={3: cfg})
    s = _stage_settings(settings, preset, folder)
    check_writable_folder(folder, "the claims' checkpoint folder")
    path = s.checkpoint_path(3)
    seed_everything(cfg.seed)   # before building the model: stage 1's initial weights of the same seed
    model = RIEModel(s.model_config(dataset, 3)).to(s.device)
    wanted = training_record(model, cfg, dataset)
    if os.path.exists(path) and all(load_checkpoint(path).get(k) == v for k, v in wanted.items()):
        return path, False
    with CheckpointWriter(folder, cfg, extra=wanted, overwrite=True, log=lambda *_: None) as writer:
        train_stage(model, dataset, cfg, subjects=s.subjects_train, valid_subjects=s.subjects_test, device=s.device,
                    callbacks=[writer], progress=False, log=lambda *_: None)
    return path, True


def run_seed(settings, recipe: ClaimsRecipe, seed: int, dataset, test_set: dict) -> dict:
    """Train (or reuse) and measure everything of one seed; a JSON-ready record (mm, seconds)."""
    import torch

    from ...weights import load_model

    t_start = time.perf_counter()
    bins = frame_bins(recipe, test_set, dataset.model_inputs()["input_root"])
    train_s, trained, models = {}, {}, {}
    stage1 = {}
    for enc in ENCODINGS:
        path = os.path.join(settings.checkpoint_dir, CLAIMS_FOLDER, enc, f"seed_{seed}",
                            checkpoint_name(1, recipe.encoder_preset.epochs(1)))
        before, t0 = _mtime(path), time.perf_counter()
        stage1[enc] = train_ablation(settings, enc, recipe.encoder_preset, seed=seed, dataset=dataset,
                                     under=CLAIMS_FOLDER)
        train_s[enc], trained[enc] = time.perf_counter() - t0, _mtime(stage1[enc]) != before
        models[enc] = load_model(stage1[enc], device=settings.device)
    t0 = time.perf_counter()
    staged_path, trained["staged"] = train_staged(settings, recipe, seed, stage1["raw+pos+temp"], dataset)
    train_s["staged"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    one_path, trained["one_stage"] = train_one_stage(settings, recipe, seed, dataset)
    train_s["one_stage"] = time.perf_counter() - t0

    t_eval = time.perf_counter()
    tta = recipe.test.tta
    clean = evaluate_models(models, dataset, test_set, tta=tta, all_protocols=True)
    record = dict(seed=int(seed), threads=torch.get_num_threads(), device=str(settings.device))
    record["clean"] = {e: dict(mpjpe_mm=clean[e]["mpjpe_mm"], p_mpjpe_mm=clean[e]["p_mpjpe_mm"]) for e in ENCODINGS}

    def binned(which, n):
        return {e: [float(clean[e]["frame_mpjpe_mm"][which == b].astype(np.float64).mean()) for b in range(n)]
                for e in ENCODINGS}

    record["speed_bins"] = binned(bins["speed_which"], recipe.speed_bins)
    record["range_bins"] = binned(bins["range_which"], recipe.range_bins)
    curves = {p: {e: [] for e in ENCODINGS} for p in recipe.levels}
    for p, levels in recipe.levels.items():
        for level in levels:
            mm = clean if level == IDENTITY[p] else evaluate_models(models, dataset, test_set, p, level, seed=seed,
                                                                     tta=tta)
            for e in ENCODINGS:
                curves[p][e].append(mm[e]["mpjpe_mm"])
    record["curves"] = curves
    staged = evaluate_models({"three_stage": load_model(staged_path, device=settings.device),
                              "one_stage": load_model(one_path, device=settings.device)},
                             dataset, test_set, tta=tta, all_protocols=True)
    record["staged"] = {k: dict(mpjpe_mm=v["mpjpe_mm"], p_mpjpe_mm=v["p_mpjpe_mm"]) for k, v in staged.items()}
    eval_s = time.perf_counter() - t_eval
    record["trained"] = trained
    record["seconds"] = dict(train=train_s, train_total=sum(train_s.values()), evaluate=eval_s,
                             total=time.perf_counter() - t_start)
    return record


# ----------------------------------------------------------------------------- many seeds, one JSON

def preset_dict(preset: Preset) -> dict:
    d = dataclasses.asdict(preset)
    d["stages"] = {str(k): v for k, v in d["stages"].items()}
    return d


def _plain(x):
    """JSON-ready: tuples as lists, numpy scalars as numbers, NaN as None (JSON has no NaN)."""
    if isinstance(x, dict):
        return {str(k): _plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_plain(v) for v in x]
    if isinstance(x, np.ndarray):
        return _plain(x.tolist())
    if isinstance(x, (np.floating, float)):
        return None if math.isnan(float(x)) else float(x)
    if isinstance(x, (np.integer,)):
        return int(x)
    return x


def _data_provenance(settings) -> dict:
    """Which data: for each file its name, size and the maker's record (the synthetic generator's), if any."""
    from ...datasets import dataset_spec, read_npz_metadata

    files = []
    for path in dataset_spec(settings.dataset).files(settings.keypoints, settings.data_dir):
        meta = read_npz_metadata(path) if os.path.exists(path) else None
        files.append(dict(file=path.name, bytes=path.stat().st_size if path.exists() else None,
                          generator=meta.get("generator") if isinstance(meta, dict) else None))
    return dict(dataset=settings.dataset, keypoints=settings.keypoints, files=files)


def describe_recipe(settings, recipe: ClaimsRecipe) -> dict:
    """Everything that decides the numbers, seeds excepted: the JSON's key for resuming."""
    data = _data_provenance(settings)
    return _plain(dict(name=recipe.name, mode=settings.mode, dataset=settings.dataset, keypoints=settings.keypoints,
                       data_generator=[f["generator"] for f in data["files"]], encodings=list(ENCODINGS),
                       encoder_preset=preset_dict(recipe.encoder_preset),
                       staged_preset=preset_dict(recipe.staged_preset),
                       one_stage=dataclasses.asdict(recipe.one_stage_config),
                       levels={p: list(v) for p, v in recipe.levels.items()}, speed_bins=recipe.speed_bins,
                       range_bins=recipe.range_bins, test=dataclasses.asdict(recipe.test)))


def _git(root: str) -> dict:
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=10)
        if commit.returncode != 0:
            return dict(commit=None, dirty=None)
        status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                                capture_output=True, text=True, timeout=10)
        return dict(commit=commit.stdout.strip(), dirty=bool(status.stdout.strip()) if status.returncode == 0 else None)
    except (OSError, subprocess.SubprocessError):
        return dict(commit=None, dirty=None)


CPU_FLAGS = ("avx2", "avx512f", "avx512_bf16", "amx_bf16")


def cpu_info() -> dict:
    """The CPU's model name and whether it has the instruction sets that change PyTorch's CPU kernels."""
    model, flags = None, set()
    try:
        with open("/proc/cpuinfo") as f:   # Linux; elsewhere the flags stay unknown (all False)
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() == "model name" and model is None:
                    model = value.strip()
                elif key.strip() == "flags" and not flags:
                    flags = set(value.split())
    except OSError:
        pass
    return dict(model=model or platform.processor() or None, flags={f: f in flags for f in CPU_FLAGS})


def code_version() -> dict:
    """The commit of the code this process runs and whether tracked files differ from it (read when a run
    starts: a commit made while a long run goes on must not be credited with its numbers)."""
    return _git(find_root(os.path.dirname(os.path.abspath(__file__))))


def provenance(settings, workers: int, wall_seconds: float, git: dict | None = None) -> dict:
    import torch

    git = git or code_version()
    cpu = cpu_info()
    gpu = torch.cuda.get_device_name(0) if str(settings.device).startswith("cuda") else None
    return dict(git_commit=git["commit"], git_dirty=git["dirty"], cpu_model=cpu["model"], cpu_flags=cpu["flags"],
                gpu=gpu, device=str(settings.device), torch=torch.__version__, python=platform.python_version(),
                threads=1 if workers > 1 else torch.get_num_threads(), workers=workers,
                wall_seconds=wall_seconds, data=_data_provenance(settings),
                date=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"))


def read_results(path) -> dict:
    """A claims JSON (written by run_claims); UserError for anything else."""
    data = read_json(path, what="a claims results file", max_bytes=MAX_JSON_BYTES,
                     fix="give a JSON written by python -m relpose.lab.claims")
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise UserError(f"{path} is not a claims results file (no \"format\": \"{FORMAT}\"); give a JSON written "
                        "by python -m relpose.lab.claims")
    return data


def _existing(out_path: str, recipe_key: dict | None) -> dict | None:
    """The JSON already at out_path when it holds this recipe's seeds (to resume); UserError when it is
    another recipe's or not ours; None when there is none. recipe_key None: only check that it is ours."""
    if not os.path.exists(out_path):
        return None
    if os.path.isdir(out_path):
        raise UserError(f"--out '{out_path}' is a folder; give a .json file name")
    try:
        data = read_results(out_path)
    except UserError:
        raise UserError(f"'{out_path}' exists and is not a claims results file; pass another --out or delete "
                        "it") from None
    if recipe_key is not None and data.get("recipe") != recipe_key:
        changed = sorted(k for k in set(recipe_key) | set(data.get("recipe") or {})
                         if (data.get("recipe") or {}).get(k) != recipe_key.get(k))
        raise UserError(f"'{out_path}' holds the results of another recipe ({', '.join(changed)} differ); pass "
                        "another --out or delete it")
    return data


def write_results(data: dict, out_path: str) -> None:
    with atomic_path(out_path, what="claims results file") as tmp:
        with open(tmp, "w") as f:
            json.dump(_plain(data), f, indent=1, allow_nan=False)
            f.write("\n")


def _same_test_set(a, b) -> bool:
    """Same frames, actions and bins; edges equal to rounding (another CPU may round the last bit)."""
    if not isinstance(a, dict) or set(a) != set(b):
        return False
    for k, v in b.items():
        if k.endswith("_edges_px"):
            if len(a[k]) != len(v) or not np.allclose(a[k], v, rtol=1e-9, atol=1e-9):
                return False
        elif a[k] != v:
            return False
    return True


_WORKER_DATA = {}


def _end_with_parent() -> None:
    """On Linux, have the kernel stop this worker when the process that started the run ends (a `kill` of that
    process alone would otherwise leave the workers training on, holding their checkpoint folders' locks
    against the next run). Ctrl-C already reaches every process of the terminal's group."""
    import ctypes
    import signal
    import sys

    if not sys.platform.startswith("linux"):
        return
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGTERM))   # 1: PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _init_worker() -> None:
    import torch

    _end_with_parent()
    # Two workers on two cores: one thread each, or they would fight over the cores.
    torch.set_num_threads(1)


def _seed_task(settings, recipe: ClaimsRecipe, seed: int) -> dict:
    """One seed in a worker process (the data set loaded once per worker)."""
    from ...datasets import load_dataset

    key = (settings.dataset, settings.keypoints, settings.data_dir)
    if key not in _WORKER_DATA:
        _WORKER_DATA[key] = load_dataset(*key)
    dataset = _WORKER_DATA[key]
    return run_seed(settings, recipe, seed, dataset, fetch_recipe_test_set(recipe, dataset))


def run_claims(settings, recipe: ClaimsRecipe, out_path, workers: int = 1, log=print) -> dict:
    """Run every seed of `recipe` not yet in the JSON at out_path, rewriting it (atomically) after each seed.

    Seeds already there (same recipe description) are kept and skipped, also those not in recipe.seeds now;
    a JSON of another recipe is never replaced. workers > 1 runs seeds in that many processes ('spawn'), each
    with one thread (a seed's numbers then come from single-threaded kernels; each seed records its thread
    count). Returns the JSON's content.
    """
    from ..settings import load_data

    if int(workers) != workers or workers < 1:
        raise UserError(f"--workers {workers}: give a whole number >= 1")
    out_path = os.fspath(out_path)
    t_start = time.perf_counter()
    git = code_version()
    if os.path.exists(out_path):   # a file that is not ours stops the run before any work
        _existing(out_path, None)
    check_writable_folder(os.path.dirname(os.path.abspath(out_path)), "the folder of --out")
    dataset = load_data(settings)          # makes the synthetic set first, before any worker reads it
    recipe_key = describe_recipe(settings, recipe)   # with the data's provenance, now that the files exist
    data = _existing(out_path, recipe_key)
    test_set = fetch_recipe_test_set(recipe, dataset)
    bins = frame_bins(recipe, test_set, dataset.model_inputs()["input_root"])
    test_info = dict(frames=bins["frames"], actions=list(test_set),
                     speed_edges_px=bins["speed_edges"], speed_frames=np.bincount(bins["speed_which"]).tolist(),
                     range_edges_px=bins["range_edges"], range_frames=np.bincount(bins["range_which"]).tolist())
    if data is None:
        data = dict(format=FORMAT, recipe=recipe_key, test_set=_plain(test_info), seeds={}, provenance={}, runs=[])
    elif not _same_test_set(data.get("test_set"), _plain(test_info)):
        raise UserError(f"'{out_path}' was measured on another test set than this data gives; pass another --out "
                        "or delete it")
    done = {int(k) for k in data["seeds"]}
    todo = [s for s in recipe.seeds if s not in done]
    previous_wall = sum(r.get("wall_seconds", 0.0) for r in data.get("runs", []))
    run_entry = dict(date=None, seeds=[], wall_seconds=0.0, workers=workers)
    data.setdefault("runs", []).append(run_entry)
    if done & set(recipe.seeds):
        log(f"{out_path}: seeds {sorted(done & set(recipe.seeds))} are there already (same recipe), kept")

    def finish(seed: int, record: dict) -> None:
        data["seeds"][str(seed)] = record
        data["seeds"] = {k: data["seeds"][k] for k in sorted(data["seeds"], key=int)}
        wall = time.perf_counter() - t_start
        data["provenance"] = provenance(settings, workers, wall, git)
        data["provenance"]["wall_seconds_all_runs"] = previous_wall + wall
        now = data["provenance"]
        run_entry.update(date=now["date"], wall_seconds=wall, git_commit=now["git_commit"], cpu_model=now["cpu_model"])
        run_entry["seeds"].append(int(seed))
        write_results(data, out_path)
        sec = record["seconds"]
        log(f"seed {seed}: trained/reused in {sec['train_total']:.0f} s, evaluated in {sec['evaluate']:.0f} s; "
            f"{len(data['seeds'])} seed(s) in {out_path}")

    if not todo:
        log(f"nothing to run: every seed of {list(recipe.seeds)} is in {out_path}")
        data["runs"].pop()
        return data
    log(f"claims '{recipe.name}': seeds {todo} with {workers} worker(s) -> {out_path}")
    if workers == 1:
        for seed in todo:
            finish(seed, run_seed(settings, recipe, seed, dataset, test_set))
    else:
        with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                                 initializer=_init_worker) as pool:
            pending = {pool.submit(_seed_task, settings, recipe, seed): seed for seed in todo}
            try:
                while pending:
                    finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                    for future in finished:
                        finish(pending.pop(future), future.result())
            except BaseException:
                pool.shutdown(wait=False, cancel_futures=True)
                raise
    return data


# ----------------------------------------------------------------------------- the verdicts

@dataclass
class Verdict:
    """One paired comparison ours minus baseline over the seeds, decided within the family."""

    claim: str              # 'a', 'b:translate', 'c', 'd', 'e'
    row: str                # what is compared
    primary: bool
    ours: str
    baseline: str
    differences: list       # per seed, mm
    mean: float             # mm
    half_width: float       # 95% Student-t, this row alone
    p: float                # two-sided paired t-test
    p_holm: float = math.nan
    verdict: str = UNDECIDED
    agrees: bool | None = None   # the mean's sign is the paper's direction
    direction: str = "lower"

    @property
    def n(self) -> int:
        return len(self.differences)

    def to_dict(self) -> dict:
        return _plain(dataclasses.asdict(self))


def _seed_records(data: dict) -> list[dict]:
    records = [data["seeds"][k] for k in sorted(data.get("seeds", {}), key=int)]
    if not records:
        raise UserError("the claims JSON holds no seed yet: run python -m relpose.lab.claims first")
    return records


def ablation_result(data: dict) -> AblationResult:
    """The JSON's stage-1 measurements as an ablation.AblationResult (values of seed k at index k)."""
    records = _seed_records(data)
    levels = data["recipe"]["levels"]
    test = data.get("test_set", {})
    return AblationResult(
        list(ENCODINGS), [r["seed"] for r in records], data["recipe"]["name"],
        clean={e: [r["clean"][e]["mpjpe_mm"] for r in records] for e in ENCODINGS},
        clean_p2={e: [r["clean"][e]["p_mpjpe_mm"] for r in records] for e in ENCODINGS},
        levels={p: list(v) for p, v in levels.items()},
        curves={p: {e: [[r["curves"][p][e][k] for r in records] for k in range(len(v))] for e in ENCODINGS}
                for p, v in levels.items()},
        speed_edges=test.get("speed_edges_px", []), speed_frames=test.get("speed_frames", []),
        speed={e: [[r["speed_bins"][e][b] for r in records] for b in range(len(records[0]["speed_bins"][e]))]
               for e in ENCODINGS},
        frames=test.get("frames", 0))


def analyse(data: dict, alpha: float = ALPHA) -> list[Verdict]:
    """The family of paired tests the JSON decides, Holm-corrected over all of its rows (see the module's
    docstring); the first row of each claim is its primary row."""
    records = _seed_records(data)
    result = ablation_result(data)
    rows: list[Verdict] = []

    def add(claim, row, primary, ours, baseline, ours_vals, base_vals):
        c = paired_comparison(ours_vals, base_vals, ours, baseline)
        diffs = [float(a - b) for a, b in zip(ours_vals, base_vals)]
        rows.append(Verdict(claim, row, primary, ours, baseline, diffs, c.difference.mean, c.difference.half_width,
                            c.p_value, direction=paper_claim(claim)["direction"]))

    clean = result.clean
    rpt = "raw+pos+temp"
    # (a) accuracy
    add("a", "clean MPJPE", True, rpt, "raw", clean[rpt], clean["raw"])
    for ours, base in (("raw+pos", "raw"), ("raw+temp", "raw"), (rpt, "raw+pos"), (rpt, "raw+temp")):
        add("a", "clean MPJPE", False, ours, base, clean[ours], clean[base])
    # (b) robustness, per perturbation
    for p, levels in result.levels.items():
        g = growth(result, p)
        add(f"b:{p}", f"{p}: growth over clean (mean of perturbed levels)", True, rpt, "raw", g[rpt], g["raw"])
        for k, level in enumerate(levels):
            if level != IDENTITY[p]:
                add(f"b:{p}", f"MPJPE at {describe(p, level)}", False, rpt, "raw",
                    result.curves[p][rpt][k], result.curves[p]["raw"][k])
    # (c) global motion
    slope = speed_slope(result)
    add("c", "fastest minus slowest root-speed bin", True, rpt, "raw", slope[rpt], slope["raw"])
    add("c", "fastest minus slowest root-speed bin", False, "raw+pos", "raw", slope["raw+pos"], slope["raw"])
    edges = data.get("test_set", {}).get("speed_edges_px")
    for b, per_seed in enumerate(zip(*[result.speed[e] for e in (rpt, "raw")])):
        add("c", f"root-speed bin {b + 1}{_edges(edges, b, 'px/frame')}", False, rpt, "raw", per_seed[0], per_seed[1])
    # (d) local motion of small range
    ranges = {e: [[r["range_bins"][e][b] for r in records] for b in range(len(records[0]["range_bins"][e]))]
              for e in ENCODINGS}
    edges = data.get("test_set", {}).get("range_edges_px")
    label = lambda b: f"motion-range bin {b + 1}{_edges(edges, b, 'px')}" + (" (smallest)" if b == 0 else "")
    add("d", label(0), True, rpt, "raw+pos", ranges[rpt][0], ranges["raw+pos"][0])
    add("d", label(0), False, "raw+temp", "raw", ranges["raw+temp"][0], ranges["raw"][0])
    for b in range(1, len(ranges[rpt])):
        add("d", label(b), False, rpt, "raw+pos", ranges[rpt][b], ranges["raw+pos"][b])
        add("d", label(b), False, "raw+temp", "raw", ranges["raw+temp"][b], ranges["raw"][b])
    # (e) three stages against one stage of the same epochs
    staged = {k: [r["staged"][k]["mpjpe_mm"] for r in records] for k in ("three_stage", "one_stage")}
    add("e", "clean MPJPE, same total epochs", True, "stages 1-3", "one stage", staged["three_stage"],
        staged["one_stage"])

    for v, p_holm in zip(rows, holm([r.p for r in rows])):
        v.p_holm = p_holm
        v.agrees = None if v.mean == 0 or math.isnan(v.mean) else (v.mean < 0) == (v.direction == "lower")
        significant = not math.isnan(p_holm) and p_holm < alpha
        v.verdict = (HOLDS if v.agrees else CONTRADICTED) if significant and v.agrees is not None else UNDECIDED
    return rows


def _edges(edges, b: int, unit: str) -> str:
    if not edges or len(edges) <= b + 1:
        return ""
    return f" ({edges[b]:.2f}-{edges[b + 1]:.2f} {unit})"


def against_paper(verdicts: list[Verdict]) -> list[Verdict]:
    """The rows whose measured difference goes against the paper's direction, significantly after Holm."""
    return [v for v in verdicts if v.verdict == CONTRADICTED]


def summaries(verdicts: list[Verdict]) -> dict:
    """{claim id: its primary row}: each claim's summary verdict."""
    return {v.claim: v for v in verdicts if v.primary}


# ----------------------------------------------------------------------------- power

def power_analysis(data: dict, effect: float = EFFECT_MM, alpha: float = ALPHA, power: float = POWER) -> dict:
    """How many seeds the primary rows need: the sd of each one's per-seed differences (and their median),
    the seeds needed to detect `effect` mm (two-sided, `alpha`, `power`) alone (m = 1) and under the
    Bonferroni bound for the family of primary rows and of all rows, and the effect detectable with the seeds
    used."""
    verdicts = analyse(data, alpha)
    primary = [v for v in verdicts if v.primary]
    n = len(_seed_records(data))
    m_primary, m_all = len(primary), len(verdicts)

    def plan(sd: float) -> dict:
        if not (math.isfinite(sd) and sd > 0):
            return dict(sd_mm=sd, seeds_needed=None, seeds_needed_primary_family=None,
                        seeds_needed_all_rows=None, detectable_mm=None, detectable_mm_primary_family=None)
        return dict(sd_mm=sd, seeds_needed=seeds_needed(sd, effect, alpha, power, 1),
                    seeds_needed_primary_family=seeds_needed(sd, effect, alpha, power, m_primary),
                    seeds_needed_all_rows=seeds_needed(sd, effect, alpha, power, m_all),
                    detectable_mm=detectable_effect(sd, n, alpha, power, 1) if n >= 2 else None,
                    detectable_mm_primary_family=detectable_effect(sd, n, alpha, power, m_primary) if n >= 2 else None)

    sds = {v.claim: float(np.std(v.differences, ddof=1)) if v.n >= 2 else math.nan for v in primary}
    finite = [s for s in sds.values() if math.isfinite(s)]
    median = float(np.median(finite)) if finite else math.nan
    return _plain(dict(effect_mm=effect, alpha=alpha, power=power, seeds_used=n, primary_rows=m_primary,
                       all_rows=m_all, rows={c: plan(s) for c, s in sds.items()}, median=plan(median)))


# ----------------------------------------------------------------------------- tables

def _p(p: float) -> str:
    if p is None or math.isnan(p):
        return "-"
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def _agrees(v: Verdict) -> str:
    return "-" if v.agrees is None else ("yes" if v.agrees else "no")


def _ours(v: Verdict) -> str:
    hw = "" if math.isnan(v.half_width) else f" ± {v.half_width:.1f}"
    return f"{v.mean:+.1f}{hw}"


def summary_table(verdicts: list[Verdict]) -> str:
    """One row per claim (its primary row): the paper's direction and number, ours, p, Holm p, verdict."""
    rows = []
    for claim, v in summaries(verdicts).items():
        paper = paper_claim(claim)
        number = NOT_IN_SOURCES if paper["paper_value"] is None else f"{paper['paper_value']:+.1f} mm"
        rows.append([f"({claim}) {paper['title']}", f"{v.ours} - {v.baseline}", f"{paper['direction']}; {number}",
                     _ours(v), _p(v.p), _p(v.p_holm), v.verdict, _agrees(v)])
    n = verdicts[0].n if verdicts else 0
    return text_table(["claim", "ours minus baseline", "paper", "ours (mm)", "p", "Holm p", "verdict", "sign agrees"],
                      rows, sep="  ",
                      note=f"(mm; mean ± 95% half-width over {n} seeds, paired by seed; two-sided paired t; Holm over "
                           f"all {len(verdicts)} rows; 'holds' = Holm p < {ALPHA} in the paper's direction)")


def detail_table(verdicts: list[Verdict]) -> str:
    """Every row of the family, primary and secondary."""
    rows = [[v.claim, "primary" if v.primary else "", v.row, f"{v.ours} - {v.baseline}", _ours(v), _p(v.p),
             _p(v.p_holm), v.verdict, _agrees(v)] for v in verdicts]
    return text_table(["claim", "role", "row", "ours minus baseline", "mm", "p", "Holm p", "verdict", "agrees"],
                      rows, sep="  ", note="(paper's direction: lower for every row)")


def power_table(power: dict) -> str:
    """The power analysis as text."""
    def cell(x, fmt):
        return "-" if x is None else format(x, fmt)

    rows = [[c, cell(r["sd_mm"], ".2f"), cell(r["seeds_needed"], "d"), cell(r["seeds_needed_primary_family"], "d"),
             cell(r["seeds_needed_all_rows"], "d"), cell(r["detectable_mm"], ".2f"),
             cell(r["detectable_mm_primary_family"], ".2f")]
            for c, r in list(power["rows"].items()) + [("median", power["median"])]]
    return text_table(["primary row", "sd (mm)", "n alone", f"n /{power['primary_rows']}", f"n /{power['all_rows']}",
                       "detectable", f"detectable /{power['primary_rows']}"], rows, sep="  ",
                      note=f"(seeds needed to detect {power['effect_mm']:g} mm with power {power['power']:g}, "
                           f"two-sided paired t at {power['alpha']:g}, alone or at {power['alpha']:g}/m (Bonferroni); "
                           f"detectable: mm with the {power['seeds_used']} seeds used)")


def stored_path(mode: str, root: str | None = None) -> str:
    """Where the kit keeps a mode's claims study: <kit>/results/claims_<mode>.json (made by `make claims`)."""
    return os.path.join(root or find_root(), "results", f"claims_{mode}.json")


def stored_study(mode: str, root: str | None = None) -> dict | None:
    """The mode's stored claims study, or None when it has not been made (full mode, until someone runs it)."""
    path = stored_path(mode, root)
    return read_results(path) if os.path.exists(path) else None


def provenance_line(data: dict) -> str:
    """One line on where the numbers come from: seeds, commit, CPU, torch, workers, wall time, date."""
    p = data.get("provenance", {})
    flags = ", ".join(f for f, on in (p.get("cpu_flags") or {}).items() if on) or "no listed flags"
    commit = (p.get("git_commit") or "unknown")[:7] + (" with local changes" if p.get("git_dirty") else "")
    wall = p.get("wall_seconds_all_runs", p.get("wall_seconds"))
    device = p.get("gpu") or f"{p.get('cpu_model') or 'an unknown CPU'} ({flags})"
    return (f"{len(data.get('seeds', {}))} seeds of recipe '{data['recipe']['name']}'; code {commit}; {device}; "
            f"torch {p.get('torch')}; {p.get('workers')} worker(s) x {p.get('threads')} thread(s); "
            f"{'?' if wall is None else f'{wall / 60:.0f} min'} in all; {str(p.get('date', '?'))[:10]}")


def report(data: dict) -> str:
    """The summary, what goes against the paper, and the power analysis."""
    verdicts = analyse(data)
    against = against_paper(verdicts)
    lines = [summary_table(verdicts), ""]
    lines.append("against the paper (significant after Holm): " +
                 ("none" if not against else "; ".join(f"({v.claim}) {v.row}: {v.ours} - {v.baseline} {_ours(v)} mm"
                                                       for v in against)))
    lines += ["", power_table(power_analysis(data))]
    return "\n".join(lines)
