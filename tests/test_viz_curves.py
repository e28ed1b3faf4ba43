"""Training curves as a PNG: the plotted values are the history's, the file is written atomically, and
matplotlib's backend and pyplot's figures are left as they were."""
import math

import matplotlib
import numpy as np
import pytest
from PIL import Image

from relpose.train import History
from relpose.viz import curves


def history(eval_mm):
    return History(epochs=[1, 2, 3], lr=[1e-3, 9e-4, 8e-4], train_mpjpe_mm=[90.0, 60.0, 45.0],
                   eval_mpjpe_mm=eval_mm, frames_per_second=[1.0] * 3, seconds=[1.0] * 3)


def test_curves_figure_plots_train_and_validation_mpjpe():
    fig = curves.training_curves_figure(history([95.0, 70.0, 52.0]))
    ax = fig.axes[0]
    assert [line.get_label() for line in ax.lines] == ["train (3D MPJPE)", "eval (3D MPJPE)"]
    assert np.allclose(ax.lines[0].get_ydata(), [90, 60, 45]) and np.allclose(ax.lines[1].get_ydata(), [95, 70, 52])
    assert ax.get_yscale() == "log" and ax.get_ylabel() == "MPJPE (mm)" and ax.get_xlabel() == "epoch"
    no_eval = curves.training_curves_figure(history([math.nan] * 3))  # --no-eval: no validation curve
    assert [line.get_label() for line in no_eval.axes[0].lines] == ["train (3D MPJPE)"]


def test_saved_png_leaves_the_backend_and_pyplot_alone(tmp_path):
    import matplotlib.pyplot as plt

    backend, open_figures = matplotlib.get_backend(), plt.get_fignums()
    path = tmp_path / "stage_1_training_curves.png"
    curves.save_training_curves(history([95.0, 70.0, 52.0]), path)
    with Image.open(path) as im:
        assert im.format == "PNG" and im.size == (600, 400)
    assert matplotlib.get_backend() == backend and plt.get_fignums() == open_figures
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]  # no temporary left behind


def test_a_failed_write_leaves_no_file(tmp_path, monkeypatch):
    from matplotlib.figure import Figure

    def fail(self, *args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(Figure, "savefig", fail)
    with pytest.raises(RuntimeError, match="disk full"):
        curves.save_training_curves(history([95.0, 70.0, 52.0]), tmp_path / "curves.png")
    assert list(tmp_path.iterdir()) == []
