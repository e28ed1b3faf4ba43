"""The robustness lab's figures (matplotlib; relpose.lab.robustness and relpose.lab.ablation compute what
they show): a pose before and after each perturbation, the ablation's error curves over the perturbation
size, and its error against the root's 2D speed, each with the 95% interval over seeds.

The ablation figures read an AblationResult's `curves`, `levels`, `seeds`, `curve_intervals(p)`,
`speed_edges`, `speed_frames` and `speed_intervals()`; nothing here imports the lab.
"""
from __future__ import annotations

import numpy as np

from ..cameras import image_coordinates


def perturbation_examples_figure(pose, moved: dict, skeleton, res_w: int = 1000, res_h: int = 1000):
    """One panel per {title: perturbed pose} (two a row): a (J, 2) normalised pose before (grey) and after, in
    pixels."""
    import matplotlib.pyplot as plt

    cols = min(2, len(moved))   # two panels a row: each large enough to read at the stored size
    rows = -(-len(moved) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.0 * cols, 3.8 * rows), squeeze=False)
    for ax in axes.flat[len(moved):]:
        ax.set_visible(False)
    for ax, (title, after) in zip(axes.flat, moved.items()):
        both = [image_coordinates(p, res_w, res_h) for p in (pose, after)]
        for px, style in zip(both, (dict(color="0.7", lw=3), dict(color="C3", lw=1.5))):
            for child, parent in skeleton.bones():
                ax.plot(px[[child, parent], 0], px[[child, parent], 1], **style)
        ax.set_title(title)
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


def curves_figure(result, axis_labels: dict, perturbations=None):
    """One panel per perturbation (two a row, x axis labelled by `axis_labels`): mean MPJPE (mm) over the
    seeds with its 95% interval, per variant, the variants' intervals side by side at each level."""
    import matplotlib.pyplot as plt

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
        step = 0.015 * (np.ptp(levels) or 1.0)   # a small shift per variant, so the intervals do not hide each other
        for i, (e, per_level) in enumerate(variants.items()):
            mean = np.array([r.mean for r in per_level])[order]
            half = np.nan_to_num(np.array([r.half_width for r in per_level]))[order]
            shift = (i - (len(variants) - 1) / 2) * step
            ax.errorbar(levels[order] + shift, mean, yerr=half, marker="o", ms=4, capsize=3, label=e)
        ax.set_xlabel(axis_labels[p])
        ax.set_ylabel("MPJPE (mm)")
        ax.grid(alpha=0.3)
    axes.flat[0].legend(fontsize=10)
    fig.suptitle(f"mean and 95% interval over {len(result.seeds)} seeds", fontsize=11)
    fig.tight_layout()
    return fig


def plot_speed(result, ax=None):
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


VERDICT_COLOURS = {"holds": "C2", "contradicted": "C3", "undecided": "0.45"}


def verdicts_figure(verdicts, title: str = ""):
    """The claims' primary rows as a forest plot: each row's mean paired difference (ours minus baseline, mm)
    with its 95% interval, coloured by its verdict after the family-wise correction; left of zero is the
    paper's side. `verdicts`: objects with claim, ours, baseline, mean, half_width, verdict, primary."""
    import matplotlib.pyplot as plt

    rows = [v for v in verdicts if v.primary]
    fig, ax = plt.subplots(figsize=(7.6, 0.5 * len(rows) + 1.4))
    y = np.arange(len(rows))[::-1]
    for yi, v in zip(y, rows):
        colour = VERDICT_COLOURS.get(v.verdict, "0.45")
        ax.errorbar(v.mean, yi, xerr=np.nan_to_num(v.half_width), fmt="o", color=colour, capsize=4, ms=5)
    ax.axvline(0, color="0.2", lw=1)
    ax.set_yticks(y, [f"({v.claim}) {v.ours} - {v.baseline}" for v in rows])
    ax.set_xlabel("ours minus baseline (mm), mean and 95% interval over seeds; < 0: the paper's side")
    for verdict, colour in VERDICT_COLOURS.items():
        ax.plot([], [], "o", color=colour, label=verdict)
    ax.legend(fontsize=10, loc="lower right", title="after Holm", title_fontsize=10)
    ax.grid(alpha=0.3, axis="x")
    if title:
        ax.set_title(title, fontsize=11)
    fig.tight_layout()
    return fig
