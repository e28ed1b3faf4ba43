"""The encoding ablation over seeds: clean error, robustness curves and error against global motion,
each as a mean with its 95% interval, and every variant compared with 'raw' seed by seed.

`run_ablation` trains (or reuses, see `train_ablation`) stage 1 of every encoding variant
once per seed, evaluates every model on the same test sequences and returns an `AblationResult`:

- clean[enc]: MPJPE (mm, action-wise average, Protocol #1) per seed;
- curves[perturbation][enc]: per level, MPJPE per seed (robustness.perturb, same perturbed inputs for
  every model and seed);
- speed[enc]: per bin of the root's 2D speed, the mean per-frame MPJPE per seed. The speed is that
  of the root joint in the model's 2D input, in pixels per frame at the data set's frame rate
  (50 fps): |x[t+k] - x[t-k]| / 2k of the normalised coordinates, times res_w / 2, divided by the
  test set's downsampling; k = 2 (a central difference over four frames) keeps the detector's
  jitter (about 3 px per frame) from posing as motion. Frames are binned by the rank of their speed
  (the same bins for every model), so each bin holds as many frames (±1).

The recipe (ABLATION_PRESET, `lab_preset("quick")`): a smaller model than the quick one (filter widths
3,3: receptive field 9; 32 channels, latent 32, FC width 128), 4 epochs on a tenth of each take, every
4th frame, batch 512. On the synthetic default set one run trains ~15k windows per epoch in ~30 steps,
and a step costs about as much as its ~75 module calls, not its FLOPs: measured 36 s to train the 4
variants of one seed and 5 s to evaluate them (4 actions, one camera, no flipping) on 2 CPU cores
(2026-12-03, torch 2.13 CPU, AVX512-BF16/AMX, fp32), so 5 seeds take under 4 minutes. Full mode uses
LAB_PRESETS['full'] (the paper's stage 1). `train_ablation` trains one stage-1 encoding variant into its own
folder (`lab_checkpoint_dir`) and reuses it while its recorded configurations match.
"""
from __future__ import annotations

import dataclasses
import os
import time
from dataclasses import dataclass, field

import numpy as np

from . import presets
from .intervals import HIGHER, LOWER, UNDECIDED, mean_interval, paired_comparison
from .robustness import AXIS_LABELS, IDENTITY, UNITS, evaluate_models
from ..encoding import ENCODINGS, ROOT_JOINT
from ..errors import UserError
from ..tables import text_table
from ..viz.robustness import curves_figure, plot_speed  # noqa: F401  (plot_speed: notebook 08 calls ablation.plot_speed)

# The lab's stage-1 runs: the quick architecture, fewer epochs on a third of its slice of each take,
# in smaller batches (more steps for the same frames); in full mode the paper's stage-1 settings.
LAB_PRESETS = {
    "quick": dataclasses.replace(presets.QUICK, name="lab-quick",
                                 stages={1: presets.QUICK.train_config(1, epochs=4, subset=0.1, batch_size=256)}),
    "full": presets.PAPER,
}


ABLATION_PRESET = dataclasses.replace(
    presets.QUICK, name="ablation-quick", filter_widths=(3, 3), channels=32, latent_dim=32, hidden=128,
    stages={1: presets.QUICK.train_config(1, epochs=4, subset=0.1, batch_size=512)})
QUICK_SEEDS = (0, 1, 2, 3, 4)
LEVELS = {"translate": [0, 100, 200, 400], "scale": [1.0, 0.8, 1.25], "noise": [0, 5, 10, 20], "drop": [0, 2, 4]}
SPEED_SPAN = 2          # frames each side of the central difference
SPEED_BINS = 4          # equal-count bins of the root's 2D speed
BASELINE = "raw"


def lab_preset(mode: str, epochs: int | None = None):
    """The ablation's stage-1 recipe for a lab mode ('quick': ABLATION_PRESET; 'full': the paper's stage 1),
    with every run shortened or lengthened to `epochs` when given."""
    if mode not in ("quick", "full"):
        raise UserError(f"unknown lab mode '{mode}': use 'quick' or 'full'")
    return (ABLATION_PRESET if mode == "quick" else LAB_PRESETS["full"]).with_epochs(epochs)


def root_speed_px(poses_2d, res_w: float, downsample: int = 1, span: int = SPEED_SPAN) -> np.ndarray:
    """Per frame, the root joint's 2D speed in pixels per frame of the original rate (central difference)."""
    x = np.asarray(poses_2d, dtype=np.float64)[:, ROOT_JOINT]
    t = np.arange(len(x))
    lo, hi = np.clip(t - span, 0, len(x) - 1), np.clip(t + span, 0, len(x) - 1)
    steps = np.maximum(hi - lo, 1) * downsample
    return np.linalg.norm(x[hi] - x[lo], axis=-1) * res_w / 2 / steps


@dataclass
class AblationResult:
    """Per-seed measurements of every encoding variant; methods turn them into intervals and tables.

    Lists over seeds are in the order of `seeds` (value k of every variant comes from seed k, which
    is what the paired comparisons need).
    """

    encodings: list
    seeds: list
    recipe: str
    clean: dict = field(default_factory=dict)            # enc -> [mm per seed]
    clean_p2: dict = field(default_factory=dict)         # enc -> [P-MPJPE mm per seed]
    levels: dict = field(default_factory=dict)           # perturbation -> [levels]
    curves: dict = field(default_factory=dict)           # perturbation -> enc -> [[mm per seed] per level]
    speed_edges: list = field(default_factory=list)      # px/frame, len(bins) + 1
    speed_frames: list = field(default_factory=list)     # frames per bin
    speed: dict = field(default_factory=dict)            # enc -> [[mm per seed] per bin]
    train_seconds: float = 0.0
    eval_seconds: float = 0.0
    frames: int = 0

    # -- intervals and comparisons
    def clean_intervals(self) -> dict:
        return {e: mean_interval(v) for e, v in self.clean.items()}

    def comparisons(self, values: dict | None = None, baseline: str = BASELINE) -> dict:
        """{enc: Comparison with `baseline`} of per-seed values (default: clean MPJPE)."""
        values = self.clean if values is None else values
        if baseline not in values:
            raise UserError(f"no '{baseline}' variant to compare with (have {', '.join(values)})")
        return {e: paired_comparison(v, values[baseline], e, baseline) for e, v in values.items() if e != baseline}

    def curve_intervals(self, perturbation: str) -> dict:
        """{enc: [Interval per level]} of one robustness curve."""
        return {e: [mean_interval(v) for v in per_level] for e, per_level in self._curve(perturbation).items()}

    def curve_comparisons(self, perturbation: str, baseline: str = BASELINE) -> list:
        """Per level, {enc: Comparison with baseline}."""
        curve = self._curve(perturbation)
        return [self.comparisons({e: curve[e][k] for e in curve}, baseline) for k in range(len(self.levels[perturbation]))]

    def speed_intervals(self) -> dict:
        return {e: [mean_interval(v) for v in per_bin] for e, per_bin in self.speed.items()}

    def speed_comparisons(self, baseline: str = BASELINE) -> list:
        return [self.comparisons({e: self.speed[e][k] for e in self.speed}, baseline)
                for k in range(len(self.speed_frames))]

    def _curve(self, perturbation: str) -> dict:
        if perturbation not in self.curves:
            raise UserError(f"no '{perturbation}' curve in this ablation (have {', '.join(self.curves) or 'none'})")
        return self.curves[perturbation]

    # -- text tables
    def clean_table(self) -> str:
        """Per variant: mean ± 95% half-width of clean MPJPE, and the paired difference with raw + verdict."""
        intervals, comps = self.clean_intervals(), self.comparisons() if BASELINE in self.clean else {}
        rows = []
        for e, r in intervals.items():
            c = comps.get(e)
            rows.append([e, f"{r.mean:.1f}", f"± {r.half_width:.1f}",
                         "" if c is None else f"{c.difference.mean:+.1f} ± {c.difference.half_width:.1f}",
                         "(baseline)" if c is None else c.verdict])
        return text_table(["encoding", "MPJPE", "95%", f"minus {BASELINE}", "verdict"], rows,
                          widths=[16, 8, 9, 16, 20],
                          note=f"(mm; mean over {len(self.seeds)} seeds {list(self.seeds)}, Student-t 95% intervals; "
                               f"differences paired by seed)")

    def curve_table(self, perturbation: str) -> str:
        """Mean ± half-width per level and variant, then each variant's verdict against raw per level."""
        intervals, comps = self.curve_intervals(perturbation), self.curve_comparisons(perturbation)
        names = list(intervals)
        rows = []
        for k, level in enumerate(self.levels[perturbation]):
            cells = [f"{intervals[e][k].mean:.1f} ± {intervals[e][k].half_width:.1f}" for e in names]
            verdicts = [comps[k][e].verdict.replace(" at 95%", "") for e in names if e != BASELINE]
            rows.append([format(level, "g"), *cells, " / ".join(verdicts)])
        others = [e for e in names if e != BASELINE]
        return text_table([f"{perturbation} ({UNITS[perturbation]})", *names, "vs raw: " + " / ".join(others)], rows,
                          sep="  ",
                          note=f"(MPJPE mm, mean ± 95% half-width over {len(self.seeds)} seeds; verdicts paired by seed)")

    def speed_table(self) -> str:
        """Error against the root's 2D speed (px/frame at 50 fps): mean ± half-width per bin and variant."""
        intervals, comps = self.speed_intervals(), self.speed_comparisons()
        names = list(intervals)
        rows = []
        for k, n in enumerate(self.speed_frames):
            lo, hi = self.speed_edges[k], self.speed_edges[k + 1]
            cells = [f"{intervals[e][k].mean:.1f} ± {intervals[e][k].half_width:.1f}" for e in names]
            verdicts = [comps[k][e].verdict.replace(" at 95%", "") for e in names if e != BASELINE]
            rows.append([f"{lo:.2f}-{hi:.2f}", n, *cells, " / ".join(verdicts)])
        others = [e for e in names if e != BASELINE]
        return text_table(["root speed px/frame", "frames", *names, "vs raw: " + " / ".join(others)], rows,
                          sep="  ",
                          note="(per-frame MPJPE mm, mean ± 95% half-width over seeds; speed of the root in the 2D "
                               "input, central difference over 4 frames, pixels per 50 fps frame)")


def _speed_bins(sequences: dict, downsample: int, bins: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per frame of the test set (evaluate_models' order): its speed and its bin (by rank, so the bins
    hold equal numbers of frames even where many speeds tie); and the edges: each bin's lowest speed,
    then the highest."""
    speeds = np.concatenate([root_speed_px(p2, res_w, downsample) for seqs in sequences.values()
                             for _, p2, res_w in seqs])
    which, edges = rank_bins(speeds, bins, "speed")
    return speeds, which, edges


def rank_bins(values, bins: int, what: str = "value") -> tuple[np.ndarray, np.ndarray]:
    """Each value's bin by rank (bin b holds the values ranked b/bins to (b+1)/bins, so the bins hold
    equal counts ±1 even where values tie) and the edges: each bin's lowest value, then the highest."""
    values = np.asarray(values)
    if bins < 1 or len(values) < bins:
        raise UserError(f"{bins} {what} bins need at least {bins} test frames, got {len(values)}")
    order = np.argsort(values, kind="stable")
    which = np.empty(len(values), int)
    which[order] = np.arange(len(values)) * bins // len(values)
    edges = np.array([values[which == b].min() for b in range(bins)] + [values.max()])
    return which, edges


def run_ablation(settings, sequences: dict, *, encodings=ENCODINGS, seeds=QUICK_SEEDS, preset=None,
                 levels: dict | None = None, downsample: int = 1, speed_bins: int = SPEED_BINS,
                 dataset=None, tta: bool = True, log=print) -> AblationResult:
    """Train (or reuse) every encoding x seed and measure it on `sequences` (robustness.fetch_test_set,
    fetched with `downsample`, which converts the speeds to the original frame rate).

    `preset` defaults to ABLATION_PRESET in quick mode and LAB_PRESETS['full'] (the paper's
    stage 1) in full mode; `levels` {perturbation: [levels]} defaults to LEVELS (each list should hold
    its unperturbed level, which is taken from the clean evaluation).
    """
    from ..weights import load_model
    from .settings import load_data

    encodings, seeds = list(encodings), list(seeds)
    if not encodings or not seeds:
        raise UserError("the ablation needs at least one encoding and one seed")
    preset = preset or lab_preset(settings.mode)
    levels = LEVELS if levels is None else levels
    dataset = dataset or load_data(settings)
    speeds, which, edges = _speed_bins(sequences, downsample, speed_bins)
    result = AblationResult(encodings, seeds, preset.name, levels={p: list(v) for p, v in levels.items()},
                            speed_edges=edges.tolist(), speed_frames=np.bincount(which, minlength=speed_bins).tolist(),
                            frames=len(speeds))
    result.clean = {e: [] for e in encodings}
    result.clean_p2 = {e: [] for e in encodings}
    result.curves = {p: {e: [[] for _ in v] for e in encodings} for p, v in levels.items()}
    result.speed = {e: [[] for _ in range(speed_bins)] for e in encodings}
    for seed in seeds:
        t0 = time.perf_counter()
        models = {e: load_model(train_ablation(settings, e, preset, seed=seed, dataset=dataset), device=settings.device)
                  for e in encodings}
        t1 = time.perf_counter()
        clean = evaluate_models(models, dataset, sequences, tta=tta, all_protocols=True)
        for e in encodings:
            result.clean[e].append(clean[e]["mpjpe_mm"])
            result.clean_p2[e].append(clean[e]["p_mpjpe_mm"])
            frame_mm = clean[e]["frame_mpjpe_mm"]
            for b in range(speed_bins):
                result.speed[e][b].append(float(frame_mm[which == b].mean()))
        for p, lv in levels.items():
            for k, level in enumerate(lv):
                mm = clean if level == IDENTITY[p] else evaluate_models(models, dataset, sequences, p, level,
                                                                         seed=seed, tta=tta)
                for e in encodings:
                    result.curves[p][e][k].append(mm[e]["mpjpe_mm"])
        result.train_seconds += t1 - t0
        result.eval_seconds += time.perf_counter() - t1
        log(f"seed {seed}: trained/loaded {len(encodings)} variants in {t1 - t0:.0f} s, evaluated in "
            f"{time.perf_counter() - t1:.0f} s")
    return result


# ----------------------------------------------------------------------------- claims and figures

def growth(result: AblationResult, perturbation: str) -> dict:
    """{enc: per seed, the error's growth over its clean value, averaged over the perturbed levels}:
    how much a variant degrades, independently of how accurate it is unperturbed."""
    curve, levels = result._curve(perturbation), result.levels[perturbation]
    perturbed = [k for k, level in enumerate(levels) if level != IDENTITY[perturbation]]
    if not perturbed:
        raise UserError(f"the '{perturbation}' curve has no perturbed level (levels {levels})")
    return {e: [float(np.mean([curve[e][k][s] - result.clean[e][s] for k in perturbed]))
                for s in range(len(result.seeds))] for e in curve}


def speed_slope(result: AblationResult) -> dict:
    """{enc: per seed, the error in the fastest speed bin minus the error in the slowest}: how much
    more the person's global motion in the image costs each variant."""
    return {e: [fast - slow for fast, slow in zip(bins[-1], bins[0])] for e, bins in result.speed.items()}


def claims(result: AblationResult, ours: str = "raw+pos+temp", baseline: str = BASELINE) -> list[str]:
    """The paper's claims as sentences computed from `result`: each a paired comparison over the seeds
    of `ours` against `baseline`, with its verdict (lower / higher / undecided at 95%)."""
    def said(what: str, values: dict, lower_is: str) -> str:
        c = paired_comparison(values[ours], values[baseline], ours, baseline)
        d = c.difference
        holds = {LOWER: f"holds ({lower_is})", HIGHER: "contradicted (the opposite is measured)",
                 UNDECIDED: "undecided"}[c.verdict]
        return f"{what}: {ours} minus {baseline} = {d.mean:+.1f} ± {d.half_width:.1f} mm -> {holds}"

    lines = [said("more accurate (clean MPJPE)", result.clean, "more accurate")]
    for p in result.curves:
        if any(level != IDENTITY[p] for level in result.levels[p]):
            lines.append(said(f"more robust to {p} (growth over clean)", growth(result, p), "degrades less"))
    if len(result.speed_frames) > 1:
        lines.append(said("less hurt by global motion (fastest minus slowest speed bin)", speed_slope(result),
                          "less hurt"))
    return lines


def plot_curves(result: AblationResult, perturbations=None):
    """One panel per perturbation: mean MPJPE (mm) over the seeds with its 95% interval, per variant (drawn by
    relpose.viz.robustness)."""
    return curves_figure(result, AXIS_LABELS, perturbations)


# ----------------------------------------------------------------------------- the ablation's checkpoints

def lab_checkpoint_dir(settings, encoding: str, seed: int | None = None, under: str = "lab") -> str:
    """Where the lab keeps an encoding variant: <mode's checkpoint folder>/<under>/<encoding>[/seed_<seed>]
    (`under` lets another study, such as relpose.lab.claims, keep its own recipe's runs apart)."""
    if encoding not in ENCODINGS:
        raise UserError(f"unknown encoding '{encoding}'; choose one of {', '.join(ENCODINGS)}")
    folder = os.path.join(settings.checkpoint_dir, under, encoding)
    return folder if seed is None else os.path.join(folder, f"seed_{seed}")


def ablation_settings(settings, encoding: str, preset=None, seed: int | None = None, under: str = "lab"):
    """The Settings that train stage 1 of one encoding variant into its own folder."""
    preset = preset or LAB_PRESETS[settings.mode]
    if seed is not None:
        preset = preset.with_train(seed=seed)
    return dataclasses.replace(settings, preset=preset,
                               checkpoint_dir=lab_checkpoint_dir(settings, encoding, seed, under),
                               model_overrides=dict(settings.model_overrides, encoding=encoding), progress=False)


def train_ablation(settings, encoding: str, preset=None, seed: int | None = None, quiet: bool = True,
                   dataset=None, under: str = "lab") -> str:
    """Path of the stage-1 checkpoint of `encoding` trained with `preset` (and `seed`); trains it if missing.

    A checkpoint already there is reused only when the configurations it records (model, training,
    data) are the ones this call would train with; otherwise it is retrained (the lab folder is the
    kit's own). Training is deterministic (fixed seed, fixed thread count in quick mode), so a reused
    checkpoint holds the same weights a fresh run would write. `dataset`: the settings' data set, when the
    caller has it loaded already (else it is loaded here, about a second for the synthetic set). `under`:
    the folder below the checkpoint folder (lab_checkpoint_dir).
    """
    from .settings import load_data

    s = ablation_settings(settings, encoding, preset, seed, under)
    ensure_stage(s, 1, dataset if dataset is not None else load_data(s), quiet=quiet)
    return s.checkpoint_path(1)


def ensure_stage(s, stage: int, dataset, quiet: bool = True, force: bool = False) -> bool:
    """Train `stage` of the settings' recipe into s.checkpoint_dir (from the previous stage's checkpoint there)
    unless the checkpoint there records the configurations (model, training, data) this would train with;
    `force` retrains it anyway. True when it trained."""
    from ..checkpoints import load_checkpoint
    from ..model import RIEModel
    from ..train import training_record
    from .settings import train_preset_stage

    path = s.checkpoint_path(stage)
    if os.path.exists(path) and not force:
        cfg = s.train_config(stage, validate=False)
        wanted = training_record(RIEModel(s.model_config(dataset, stage)), cfg, dataset)
        stored = load_checkpoint(path)
        if all(stored.get(k) == v for k, v in wanted.items()):
            return False
    train_preset_stage(s, stage, dataset, log=(lambda *_: None) if quiet else print, validate=False)
    return True
