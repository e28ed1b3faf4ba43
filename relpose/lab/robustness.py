"""The robustness lab: perturb the 2D input, sweep the perturbation size, train the encoding ablation.

Perturbations act on one (T, J, 2) sequence in normalised screen coordinates (the model's input,
see relpose.cameras.normalize_screen_coordinates: x_norm = 2 x_px / w - 1), return a new array
and are deterministic given `seed`. Sizes are in the units a reader thinks in (pixels, a scale
factor, a number of joints); `res_w` (the camera's width in pixels) converts pixels to normalised
units: 1 px = 2 / res_w.

- translate: the whole sequence moved by the same offset (global motion a camera pan would make);
- scale: every coordinate multiplied by a factor about the image centre (a zoom);
- gaussian_noise: independent noise on every coordinate (a jittery detector);
- drop_joints: in each frame `n` random joints (never the root) collapse onto the root joint
  (a detector that lost them). The root, not zeros: zero is the image centre, so a joint set to
  zero jumps by however far the person stands from the centre, which mixes a translation into
  the test; on the root the joint carries no information and nothing else changes.

`sweep` runs the evaluation protocol of relpose.evaluate on perturbed inputs, giving every model
the same perturbed sequences. `train_ablation` trains one stage-1 encoding variant through the
command line, into its own folder.
"""
from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field

import numpy as np

from . import presets
from ..encoding import ENCODINGS, ROOT_JOINT
from ..errors import UserError
from ..evaluate import evaluate_sequences
from ..tables import text_table

# Units of each perturbation's level, and the axis label / table heading of a sweep.
UNITS = {"translate": "px", "scale": "scale factor", "noise": "px", "drop": "joints"}
PERTURBATIONS = tuple(UNITS)
AXIS_LABELS = {"translate": "translation (px)", "scale": "scale factor", "noise": "noise σ (px)",
               "drop": "dropped joints per frame"}
# The level of each perturbation that leaves the input unchanged.
IDENTITY = {"translate": 0, "scale": 1.0, "noise": 0, "drop": 0}

# The lab's stage-1 runs: the quick architecture, fewer epochs on a third of its slice of each take,
# in smaller batches (more steps for the same frames); in full mode the paper's stage-1 settings.
LAB_PRESETS = {
    "quick": dataclasses.replace(presets.QUICK, name="lab-quick",
                                 stages={1: presets.QUICK.train_config(1, epochs=4, subset=0.1, batch_size=256)}),
    "full": presets.PAPER,
}


def _px_to_norm(pixels, res_w: float) -> float:
    if res_w <= 0:
        raise UserError(f"camera width res_w={res_w} must be positive (pixels)")
    return 2.0 * pixels / res_w


def _check_poses(poses_2d) -> np.ndarray:
    x = np.asarray(poses_2d, dtype=np.float32)
    if x.ndim != 3 or x.shape[-1] != 2:
        raise ValueError(f"expected 2D poses of shape (T, J, 2), got {x.shape}")
    return x


def translate(poses_2d, pixels: float, res_w: float = 1000, seed: int = 0) -> np.ndarray:
    """Shift every frame by one offset of length `pixels` in a direction drawn from `seed`."""
    x = _check_poses(poses_2d)
    angle = np.random.default_rng(seed).uniform(0, 2 * np.pi)
    offset = _px_to_norm(pixels, res_w) * np.array([np.cos(angle), np.sin(angle)], dtype=np.float32)
    return x + offset


def scale(poses_2d, factor: float, res_w: float = 1000, seed: int = 0) -> np.ndarray:
    """Multiply every coordinate by `factor` about the image centre (the origin of normalised coordinates).

    `res_w` and `seed` are unused (scaling needs neither); they keep the perturbations' signatures alike.
    """
    if factor <= 0:
        raise UserError(f"scale factor {factor} must be positive")
    return _check_poses(poses_2d) * np.float32(factor)


def gaussian_noise(poses_2d, sigma_px: float, res_w: float = 1000, seed: int = 0) -> np.ndarray:
    """Add N(0, sigma_px^2) pixels to every coordinate of every joint and frame."""
    x = _check_poses(poses_2d)
    if sigma_px < 0:
        raise UserError(f"noise sigma {sigma_px} px must be >= 0")
    noise = np.random.default_rng(seed).standard_normal(x.shape).astype(np.float32)
    return x + noise * np.float32(_px_to_norm(sigma_px, res_w))


def drop_joints(poses_2d, n: int, res_w: float = 1000, seed: int = 0) -> np.ndarray:
    """In every frame, put `n` joints drawn from `seed` (each frame its own draw, never the root) on the root."""
    x = _check_poses(poses_2d)
    t, j = x.shape[:2]
    if int(n) != n or not 0 <= n < j:
        raise UserError(f"number of dropped joints {n} must be a whole number in [0, {j - 1}]")
    # A random permutation of the non-root joints per frame (argsort of uniforms); keep the first n.
    others = np.delete(np.arange(j), ROOT_JOINT)
    order = np.random.default_rng(seed).random((t, j - 1)).argsort(axis=1)
    dropped = others[order[:, :int(n)]]                          # (T, n)
    out = x.copy()
    frames = np.arange(t)[:, None]
    out[frames, dropped] = x[:, ROOT_JOINT:ROOT_JOINT + 1]      # broadcast the root over the n joints
    return out


PERTURB = {"translate": translate, "scale": scale, "noise": gaussian_noise, "drop": drop_joints}


def perturb(poses_2d, perturbation: str, level: float, res_w: float = 1000, seed: int = 0) -> np.ndarray:
    """Apply the perturbation named `perturbation` (one of PERTURBATIONS) of size `level`."""
    if perturbation not in PERTURB:
        raise UserError(f"unknown perturbation '{perturbation}'; choose one of {', '.join(PERTURBATIONS)}")
    return PERTURB[perturbation](poses_2d, level, res_w=res_w, seed=seed)


# ----------------------------------------------------------------------------- sweeps

@dataclass
class SweepResult:
    """MPJPE (mm, action-wise average as in Protocol #1) per model and perturbation level."""

    perturbation: str
    levels: list
    mpjpe_mm: dict = field(default_factory=dict)    # model name -> [mm per level]
    frames: int = 0

    @property
    def unit(self) -> str:
        return UNITS[self.perturbation]

    def table(self, decimals: int = 1) -> str:
        names = list(self.mpjpe_mm)
        width = max(12, *(len(n) + 2 for n in names))
        rows = [[format(level, "g"), *(self.mpjpe_mm[n][k] for n in names)] for k, level in enumerate(self.levels)]
        return text_table([AXIS_LABELS[self.perturbation], *names], rows, widths=[26] + [width] * len(names),
                          formats=[""] + [f".{decimals}f"] * len(names))

    def degradation_mm(self, name: str) -> float:
        """Mean growth of the error over the perturbed levels, relative to the unperturbed level (mm)."""
        identity = IDENTITY[self.perturbation]
        if identity not in self.levels:
            raise UserError(f"the {self.perturbation} sweep has no unperturbed level {identity}; add it to the levels")
        clean = self.mpjpe_mm[name][self.levels.index(identity)]
        return float(np.mean([v - clean for level, v in zip(self.levels, self.mpjpe_mm[name]) if level != identity]))

    def perturbed_mean_mm(self, name: str) -> float:
        """Mean MPJPE over the perturbed levels (mm)."""
        identity = IDENTITY[self.perturbation]
        return float(np.mean([v for level, v in zip(self.levels, self.mpjpe_mm[name]) if level != identity]))


def fetch_test_set(dataset, subjects, actions=None, downsample: int = 1, cameras=None) -> dict:
    """{action name: [(3D (T, J, 3), 2D (T, J, 2), camera width px), ...]}: the protocol's per-action groups.

    `cameras` (indices) keeps only those views of each take; None keeps them all.
    """
    groups = dataset.actions_by_name(subjects, actions)
    out = {}
    for name, pairs in groups.items():
        poses_3d, poses_2d = dataset.fetch_actions(pairs, downsample=downsample)
        views = [(subject, c, cam["res_w"]) for subject, _ in pairs for c, cam in enumerate(dataset.cameras[subject])]
        keep = [k for k, (_, c, _) in enumerate(views) if cameras is None or c in cameras]
        if not keep:
            raise UserError(f"cameras {list(cameras)} match no camera of the test set (it has "
                            f"{len(dataset.cameras[pairs[0][0]])} per take)")
        out[name] = [(poses_3d[k], poses_2d[k], views[k][2]) for k in keep]
    return out


def evaluate_models(models: dict, dataset, sequences: dict, perturbation: str | None = None, level: float = 0, *,
                    seed: int = 0, tta: bool = True, batch_size: int = 1024, all_protocols: bool = False) -> dict:
    """{name: {"mpjpe_mm", "p_mpjpe_mm", "frame_mpjpe_mm"}} of every model on the same (perturbed) `sequences`.

    mpjpe_mm / p_mpjpe_mm are action-wise averages, as Protocols #1 and #2 report them (P-MPJPE only
    with all_protocols, NaN otherwise); frame_mpjpe_mm holds every frame's MPJPE (mm), all actions
    concatenated, for looking past the mean. Sequence k of the whole set (in order) is perturbed
    with seed `seed + k`.
    """
    flips = dict(kps_left=dataset.kps_left, kps_right=dataset.kps_right,
                 joints_left=dataset.joints_left, joints_right=dataset.joints_right)
    per_action = {name: [] for name in models}
    per_frame = {name: [] for name in models}
    k = 0
    for action, seqs in sequences.items():
        poses_3d, poses_2d = [], []
        for p3, p2, res_w in seqs:
            poses_3d.append(p3)
            if perturbation is not None:
                p2 = perturb(p2, perturbation, level, res_w=res_w, seed=seed + k)
            poses_2d.append(p2)
            k += 1
        for name, model in models.items():
            model.eval()
            r, predictions = evaluate_sequences(model, poses_3d, poses_2d, action=action, tta=tta,
                                                batch_size=batch_size, all_protocols=all_protocols,
                                                return_predictions=True, **flips)
            per_action[name].append((r.mpjpe_mm, r.p_mpjpe_mm if all_protocols else float("nan")))
            for pred, p3 in zip(predictions, poses_3d):
                target = np.array(p3, dtype=np.float32)
                target[:, 0] = 0   # root-relative target, as the protocol compares it
                per_frame[name].append(np.linalg.norm(pred - target, axis=-1).mean(axis=-1) * 1000)
    out = {}
    for name in models:
        mpjpe_mm, p_mpjpe_mm = np.mean(per_action[name], axis=0).tolist()
        out[name] = dict(mpjpe_mm=mpjpe_mm, p_mpjpe_mm=p_mpjpe_mm, frame_mpjpe_mm=np.concatenate(per_frame[name]))
    return out


def sweep(models: dict, dataset, subjects, actions, perturbation: str, levels, *, downsample: int = 1,
          cameras=None, seed: int = 0, tta: bool = True, batch_size: int = 1024,
          sequences: dict | None = None, clean: dict | None = None) -> SweepResult:
    """MPJPE of each model {name: model} at each perturbation level, on subjects x actions.

    Every model sees the same perturbed inputs (see evaluate_models). Pass `sequences` (from
    fetch_test_set) to reuse one fetched test set across sweeps; subjects/actions/downsample/cameras
    are then ignored. `clean` (evaluate_models on the same sequences, without perturbation) supplies
    the unperturbed level instead of evaluating it again.
    """
    if perturbation not in PERTURB:
        raise UserError(f"unknown perturbation '{perturbation}'; choose one of {', '.join(PERTURBATIONS)}")
    if not models:
        raise UserError("sweep needs at least one model: pass {name: model}")
    sequences = sequences if sequences is not None else fetch_test_set(dataset, subjects, actions, downsample, cameras)
    result = SweepResult(perturbation, list(levels), {name: [] for name in models},
                         frames=sum(len(p2) for seqs in sequences.values() for _, p2, _ in seqs))
    for level in result.levels:
        if clean is not None and level == IDENTITY[perturbation] and all(name in clean for name in models):
            for name in models:
                result.mpjpe_mm[name].append(clean[name]["mpjpe_mm"])
            continue
        mm = evaluate_models(models, dataset, sequences, perturbation, level, seed=seed, tta=tta,
                             batch_size=batch_size)
        for name in models:
            result.mpjpe_mm[name].append(mm[name]["mpjpe_mm"])
    return result


def results_table(results: dict, label: str = "model", outlier_mm: float = 200) -> str:
    """Results of evaluate_models as an aligned text table (0.1 mm): Protocols #1 and #2, then the
    distribution of per-frame MPJPE: median, 95th percentile and the share of frames above `outlier_mm`."""
    width = max(len(label), *(len(n) for n in results)) + 2
    rows = [[name, r["mpjpe_mm"], r["p_mpjpe_mm"], np.median(r["frame_mpjpe_mm"]),
             np.percentile(r["frame_mpjpe_mm"], 95), f"{100 * np.mean(r['frame_mpjpe_mm'] > outlier_mm):.1f}%"]
            for name, r in results.items()]
    return text_table([label, "MPJPE", "P-MPJPE", "median", "p95", f"> {outlier_mm:g} mm"], rows,
                      widths=[width, 8, 9, 8, 8, 10], formats=["", ".1f", ".1f", ".1f", ".1f", ""],
                      note="(mm; MPJPE and P-MPJPE are action-wise averages, the rest over all frames)")


def verdict(result: SweepResult, ours: str, baseline: str) -> str:
    """One line comparing two models of a sweep, on the rounded (printed) numbers.

    "Lowers the error": mean MPJPE over the perturbed levels is lower; "degrades less": the error
    grows less from the unperturbed level (see SweepResult.degradation_mm).
    """
    p = result.perturbation
    a, b = round(result.perturbed_mean_mm(ours), 1), round(result.perturbed_mean_mm(baseline), 1)
    da, db = round(result.degradation_mm(ours), 1), round(result.degradation_mm(baseline), 1)
    return (f"{p:<9} mean over perturbed levels {a:.1f} vs {b:.1f} mm -> relative encoding lowers MPJPE under "
            f"{p}: {'yes' if a < b else 'no'}; growth {da:+.1f} vs {db:+.1f} mm -> degrades less: "
            f"{'yes' if da < db else 'no'}")


def describe(perturbation: str, level: float) -> str:
    """A short label such as 'translate 200 px', 'scale ×1.25', 'noise σ = 10 px' or 'drop 4 joints'."""
    return {"translate": f"translate {level:g} px", "scale": f"scale ×{level:g}",
            "noise": f"noise σ = {level:g} px", "drop": f"drop {level:g} joints"}[perturbation]


def plot_perturbation_examples(pose_2d, skeleton, levels: dict, res_w: int = 1000, res_h: int = 1000, seed: int = 0):
    """One panel per perturbation {name: level}: a (J, 2) normalised pose before (grey) and after, in pixels."""
    import matplotlib.pyplot as plt
    from ..cameras import image_coordinates

    pose = _check_poses(np.asarray(pose_2d)[None])
    cols = min(2, len(levels))   # two panels a row: each large enough to read at the stored size
    rows = -(-len(levels) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.0 * cols, 3.8 * rows), squeeze=False)
    for ax in axes.flat[len(levels):]:
        ax.set_visible(False)
    for ax, (name, level) in zip(axes.flat, levels.items()):
        moved = perturb(pose, name, level, res_w=res_w, seed=seed)
        both = [image_coordinates(p[0], res_w, res_h) for p in (pose, moved)]
        for px, style in zip(both, (dict(color="0.7", lw=3), dict(color="C3", lw=1.5))):
            for child, parent in skeleton.bones():
                ax.plot(px[[child, parent], 0], px[[child, parent], 1], **style)
        ax.set_title(describe(name, level))
        lo, hi = np.concatenate(both).min(axis=0) - 40, np.concatenate(both).max(axis=0) + 40
        half = (hi - lo).max() / 2   # a square window around both poses
        (cx, cy) = (lo + hi) / 2
        ax.set_xlim(cx - half, cx + half)
        ax.set_ylim(cy + half, cy - half)   # image y points down
        ax.set_aspect("equal")
        ax.set_xlabel("x (px)")
        ax.set_ylabel("y (px)")
    fig.tight_layout()
    return fig


# ----------------------------------------------------------------------------- ablation

def lab_checkpoint_dir(settings, encoding: str, seed: int | None = None) -> str:
    """Where the lab keeps an encoding variant: <mode's checkpoint folder>/lab/<encoding>[/seed_<seed>]."""
    if encoding not in ENCODINGS:
        raise UserError(f"unknown encoding '{encoding}'; choose one of {', '.join(ENCODINGS)}")
    folder = os.path.join(settings.checkpoint_dir, "lab", encoding)
    return folder if seed is None else os.path.join(folder, f"seed_{seed}")


def ablation_settings(settings, encoding: str, preset=None, seed: int | None = None):
    """The Settings that train stage 1 of one encoding variant into its own folder."""
    preset = preset or LAB_PRESETS[settings.mode]
    if seed is not None:
        preset = preset.with_train(seed=seed)
    return dataclasses.replace(settings, preset=preset, checkpoint_dir=lab_checkpoint_dir(settings, encoding, seed),
                               model_overrides=dict(settings.model_overrides, encoding=encoding), progress=False)


def train_ablation(settings, encoding: str, preset=None, seed: int | None = None, quiet: bool = True) -> str:
    """Path of the stage-1 checkpoint of `encoding` trained with `preset` (and `seed`); trains it if missing.

    A checkpoint already there is reused only when the configurations it records (model, training,
    data) are the ones this call would train with; otherwise it is retrained (the lab folder is the
    kit's own). Training is deterministic (fixed seed, fixed thread count in quick mode), so a reused
    checkpoint holds the same weights a fresh run would write.
    """
    from ..checkpoints import load_checkpoint
    from ..model import RIEModel
    from ..train import training_record
    from .settings import load_data, train_preset_stage

    s = ablation_settings(settings, encoding, preset, seed)
    path = s.checkpoint_path(1)
    dataset = load_data(s)
    cfg = s.train_config(1, validate=False)
    wanted = training_record(RIEModel(s.model_config(dataset, 1)), cfg, dataset)
    if os.path.exists(path):
        stored = load_checkpoint(path)
        if all(stored.get(k) == v for k, v in wanted.items()):
            return path
    train_preset_stage(s, 1, dataset, log=(lambda *_: None) if quiet else print, validate=False)
    return path
