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
    """One panel per {title: perturbed pose}: a (J, 2) normalised pose before (grey) and after, in pixels."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(moved), figsize=(2.4 * len(moved), 2.8), squeeze=False)
    for ax, (title, after) in zip(axes[0], moved.items()):
        both = [image_coordinates(p, res_w, res_h) for p in (pose, after)]
        for px, style in zip(both, (dict(color="0.7", lw=3), dict(color="C3", lw=1.5))):
            for child, parent in skeleton.bones():
                ax.plot(px[[child, parent], 0], px[[child, parent], 1], **style)
        ax.set_title(title, fontsize=9)
        lo, hi = np.concatenate(both).min(axis=0) - 40, np.concatenate(both).max(axis=0) + 40
        half = (hi - lo).max() / 2   # a square window around both poses
        (cx, cy) = (lo + hi) / 2
        ax.set_xlim(cx - half, cx + half)
        ax.set_ylim(cy + half, cy - half)   # image y points down
        ax.set_aspect("equal")
        ax.set_xlabel("x (px)")
    axes[0][0].set_ylabel("y (px)")
    fig.tight_layout()
    return fig


def curves_figure(result, axis_labels: dict, perturbations=None):
    """One panel per perturbation (x axis labelled by `axis_labels`): mean MPJPE (mm) over the seeds with
    its 95% interval, per variant."""
    import matplotlib.pyplot as plt

    names = list(perturbations or result.curves)
    fig, axes = plt.subplots(1, len(names), figsize=(3.2 * len(names), 3.0), squeeze=False)
    for ax, p in zip(axes[0], names):
        levels = np.asarray(result.levels[p], dtype=float)
        order = np.argsort(levels)
        for e, per_level in result.curve_intervals(p).items():
            mean = np.array([r.mean for r in per_level])[order]
            half = np.nan_to_num(np.array([r.half_width for r in per_level]))[order]
            ax.plot(levels[order], mean, marker="o", ms=3, label=e)
            ax.fill_between(levels[order], mean - half, mean + half, alpha=0.15)
        ax.set_xlabel(axis_labels[p])
        ax.set_ylabel("MPJPE (mm)")
        ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize=7)
    fig.suptitle(f"mean and 95% interval over {len(result.seeds)} seeds", fontsize=9)
    fig.tight_layout()
    return fig


def plot_speed(result, ax=None):
    """Per-frame MPJPE (mm) against the bins of the root's 2D speed, mean and 95% interval per variant."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(4.6, 3.0))
    edges = np.asarray(result.speed_edges)
    centres = np.arange(len(result.speed_frames))
    for i, (e, per_bin) in enumerate(result.speed_intervals().items()):
        mean = [r.mean for r in per_bin]
        half = np.nan_to_num([r.half_width for r in per_bin])
        ax.errorbar(centres + (i - 1.5) * 0.08, mean, yerr=half, marker="o", ms=3, capsize=2, label=e)
    ax.set_xticks(centres, [f"{lo:.2f}-{hi:.2f}" for lo, hi in zip(edges[:-1], edges[1:])], fontsize=7)
    ax.set_xlabel("root speed in the 2D input (px per 50 fps frame)")
    ax.set_ylabel("per-frame MPJPE (mm)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    ax.figure.tight_layout()
    return ax.figure
