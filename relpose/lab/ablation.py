"""The encoding ablation over seeds: clean error, robustness curves and error against global motion,
each as a mean with its 95% interval, and every variant compared with 'raw' seed by seed.

`run_ablation` trains (or reuses, see robustness.train_ablation) stage 1 of every encoding variant
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
robustness.LAB_PRESETS['full'] (the paper's stage 1).
"""
from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field

import numpy as np

from . import presets
from .intervals import HIGHER, LOWER, UNDECIDED, mean_interval, paired_comparison
from .robustness import IDENTITY, LAB_PRESETS, UNITS, evaluate_models, train_ablation
from ..encoding import ENCODINGS, ROOT_JOINT
from ..errors import UserError
from ..tables import text_table

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
    if bins < 1 or len(speeds) < bins:
        raise UserError(f"{bins} speed bins need at least {bins} test frames, got {len(speeds)}")
    order = np.argsort(speeds, kind="stable")
    which = np.empty(len(speeds), int)
    which[order] = np.arange(len(speeds)) * bins // len(speeds)
    edges = np.array([speeds[which == b].min() for b in range(bins)] + [speeds.max()])
    return speeds, which, edges


def run_ablation(settings, sequences: dict, *, encodings=ENCODINGS, seeds=QUICK_SEEDS, preset=None,
                 levels: dict | None = None, downsample: int = 1, speed_bins: int = SPEED_BINS,
                 dataset=None, tta: bool = True, log=print) -> AblationResult:
    """Train (or reuse) every encoding x seed and measure it on `sequences` (robustness.fetch_test_set,
    fetched with `downsample`, which converts the speeds to the original frame rate).

    `preset` defaults to ABLATION_PRESET in quick mode and robustness.LAB_PRESETS['full'] (the paper's
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
        models = {e: load_model(train_ablation(settings, e, preset, seed=seed), device=settings.device)
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
    """One panel per perturbation (two a row): mean MPJPE (mm) over the seeds with its 95% interval, per
    variant; the variants' intervals sit side by side at each level, so that they do not hide each other."""
    import matplotlib.pyplot as plt
    from .robustness import AXIS_LABELS

    names = list(perturbations or result.curves)
    cols = min(2, len(names))
    rows = -(-len(names) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.8 * cols, 3.4 * rows), squeeze=False)
    for ax in axes.flat[len(names):]:
        ax.set_visible(False)
    for ax, p in zip(axes.flat, names):
        levels = np.asarray(result.levels[p], dtype=float)
        order = np.argsort(levels)
        variants = result.curve_intervals(p)
        step = 0.015 * (np.ptp(levels) or 1.0)   # a small shift per variant along the level axis
        for i, (e, per_level) in enumerate(variants.items()):
            mean = np.array([r.mean for r in per_level])[order]
            half = np.nan_to_num(np.array([r.half_width for r in per_level]))[order]
            shift = (i - (len(variants) - 1) / 2) * step
            ax.errorbar(levels[order] + shift, mean, yerr=half, marker="o", ms=4, capsize=3, label=e)
        ax.set_xlabel(AXIS_LABELS[p])
        ax.set_ylabel("MPJPE (mm)")
        ax.grid(alpha=0.3)
    axes.flat[0].legend(fontsize=10)
    fig.suptitle(f"mean and 95% interval over {len(result.seeds)} seeds", fontsize=11)
    fig.tight_layout()
    return fig


def plot_speed(result: AblationResult, ax=None):
    """Per-frame MPJPE (mm) against the bins of the root's 2D speed, mean and 95% interval per variant."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6.4, 3.6))
    edges = np.asarray(result.speed_edges)
    centres = np.arange(len(result.speed_frames))
    for i, (e, per_bin) in enumerate(result.speed_intervals().items()):
        mean = [r.mean for r in per_bin]
        half = np.nan_to_num([r.half_width for r in per_bin])
        ax.errorbar(centres + (i - 1.5) * 0.08, mean, yerr=half, marker="o", ms=3, capsize=2, label=e)
    ax.set_xticks(centres, [f"{lo:.2f}-{hi:.2f}" for lo, hi in zip(edges[:-1], edges[1:])])
    ax.set_xlabel("root speed in the 2D input (px per 50 fps frame)")
    ax.set_ylabel("per-frame MPJPE (mm)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=10)
    ax.figure.tight_layout()
    return ax.figure
