"""Stand-in until relpose.viz.curves lands (the viz package is being split in a parallel branch)."""
from __future__ import annotations

import math

from .files import atomic_path


def save_training_curves(history, path) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 4))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.plot(history.epochs, history.train_mpjpe_mm, label="train (3D MPJPE)")
    if any(not math.isnan(v) for v in history.eval_mpjpe_mm):
        ax.plot(history.epochs, history.eval_mpjpe_mm, label="eval (3D MPJPE)")
    ax.set_xlabel("epoch")
    ax.set_ylabel("MPJPE (mm)")
    ax.set_yscale("log")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    with atomic_path(path, what="training curves") as tmp:
        fig.savefig(tmp, dpi=100, format="png")
