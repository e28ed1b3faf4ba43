"""Training curves (`--export-training-curves`): MPJPE per epoch, train and validation, as a PNG.

Drawn on a bare matplotlib Figure with the Agg canvas: no pyplot, so the caller's backend and its
open figures are untouched (a notebook keeps its inline backend).
"""
from __future__ import annotations

import math

from ..files import atomic_path


def training_curves_figure(history):
    """A Figure of train and (when there is any) validation MPJPE against epoch, log scale."""
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
    return fig


def save_training_curves(history, path) -> None:
    """Write the curves as a 600 x 400 PNG at `path`, atomically (an interrupted write leaves no file)."""
    fig = training_curves_figure(history)
    with atomic_path(path, what="training curves") as tmp:
        fig.savefig(tmp, dpi=100, format="png")
