"""The encoding ablation over seeds (relpose.lab.ablation): shapes, pairing and invariants on tiny runs, and
the checkpoints it trains."""
import math
import os

import numpy as np
import pytest
import torch

from relpose.datasets import load_dataset
from relpose.errors import UserError
from relpose.lab import ablation as ab
from relpose.lab import robustness as rb
from relpose.lab.intervals import LOWER, HIGHER, UNDECIDED
from relpose.lab.presets import Preset
from relpose.lab.settings import Settings
from relpose.train import TrainConfig
from relpose.viz import legibility
from relpose.weights import load_model

TINY = Preset("tiny", (3, 3), 16, 16, 32, {1: TrainConfig(stage=1, epochs=1, batch_size=256, downsample=4, subset=0.3)})


def test_root_speed_is_pixels_per_original_frame():
    # The root moves 0.01 normalised units per stored frame along x; res_w 1000 -> 5 px per stored
    # frame; stored every 2nd frame -> 2.5 px per original frame, also at the clamped ends.
    p2 = np.zeros((10, 17, 2), np.float32)
    p2[:, :, 0] = 0.01 * np.arange(10)[:, None]
    assert ab.root_speed_px(p2, 1000, downsample=2) == pytest.approx(np.full(10, 2.5), rel=1e-5)


@pytest.fixture(scope="module")
def tiny_ablation(tiny_data_dir, tmp_path_factory):
    torch.set_num_threads(2)
    s = Settings("quick", "synth", "gt", tiny_data_dir, str(tmp_path_factory.mktemp("ckpt")), TINY, "cpu",
                 progress=False)
    dataset = load_dataset("synth", "gt", tiny_data_dir)
    sequences = rb.fetch_test_set(dataset, ["S9"], ["Walking", "Sitting"], downsample=2, cameras=[0])
    levels = {"translate": [0, 200], "noise": [0, 10]}
    return ab.run_ablation(s, sequences, encodings=["raw", "raw+pos"], seeds=[0, 1], preset=TINY, levels=levels,
                           downsample=2, speed_bins=3, dataset=dataset, log=lambda *_: None), sequences


def test_ablation_holds_one_value_per_seed_everywhere(tiny_ablation):
    r, sequences = tiny_ablation
    frames = sum(len(p2) for seqs in sequences.values() for _, p2, _ in seqs)
    assert r.frames == frames and sum(r.speed_frames) == frames and len(r.speed_edges) == 4
    assert r.speed_edges == sorted(r.speed_edges)
    for e in ("raw", "raw+pos"):
        assert len(r.clean[e]) == 2 and all(v > 0 for v in r.clean[e])
        assert [len(v) for v in r.speed[e]] == [2, 2, 2]
        for p in ("translate", "noise"):
            assert [len(v) for v in r.curves[p][e]] == [2, 2]
            assert r.curves[p][e][0] == r.clean[e]          # the unperturbed level is the clean evaluation
    # The seeds trained different models.
    assert r.clean["raw"][0] != r.clean["raw"][1]
    # The speed bins split the same frames: their frame-weighted mean is the frame mean of the clean run,
    # which differs from the action-wise average only by the weighting of actions; it must be close.
    for e in ("raw", "raw+pos"):
        pooled = sum(n * r.speed[e][b][0] for b, n in enumerate(r.speed_frames)) / frames
        assert pooled == pytest.approx(r.clean[e][0], rel=0.25)


def test_ablation_intervals_comparisons_and_tables(tiny_ablation):
    r, _ = tiny_ablation
    iv = r.clean_intervals()["raw"]
    assert iv.mean == pytest.approx(np.mean(r.clean["raw"])) and iv.n == 2 and not math.isnan(iv.half_width)
    c = r.comparisons()["raw+pos"]
    assert c.difference.mean == pytest.approx(np.mean(np.subtract(r.clean["raw+pos"], r.clean["raw"])))
    assert c.verdict in (LOWER, HIGHER, UNDECIDED) and "raw" not in r.comparisons()
    assert len(r.curve_comparisons("translate")) == 2 and len(r.speed_comparisons()) == 3
    for table in (r.clean_table(), r.curve_table("noise"), r.speed_table()):
        assert "raw+pos" in table and "±" in table
    assert "translate (px)" in r.curve_table("translate")
    with pytest.raises(UserError, match="no 'scale' curve"):
        r.curve_intervals("scale")


def test_growth_slope_and_claims_are_paired_arithmetic(tiny_ablation):
    r, _ = tiny_ablation
    g = ab.growth(r, "translate")     # one perturbed level: growth = that level minus clean, per seed
    for e in ("raw", "raw+pos"):
        assert g[e] == pytest.approx([r.curves["translate"][e][1][s] - r.clean[e][s] for s in range(2)])
    slope = ab.speed_slope(r)
    assert slope["raw"] == pytest.approx([r.speed["raw"][2][s] - r.speed["raw"][0][s] for s in range(2)])
    lines = ab.claims(r, ours="raw+pos")
    assert len(lines) == 4   # accuracy, two perturbations, global motion
    d = np.subtract(r.clean["raw+pos"], r.clean["raw"]).mean()
    assert f"{d:+.1f}" in lines[0]
    assert all(any(w in line for w in ("holds", "contradicted", "undecided")) for line in lines)
    with pytest.raises(UserError, match="no perturbed level"):
        ab.growth(ab.AblationResult(["raw"], [0], "x", clean={"raw": [1.0]}, levels={"noise": [0]},
                                    curves={"noise": {"raw": [[1.0]]}}), "noise")


def test_figures_have_one_panel_per_perturbation_and_labelled_axes(tiny_ablation):
    import matplotlib
    matplotlib.use("Agg")
    r, _ = tiny_ablation
    fig = ab.plot_curves(r)
    assert [a.get_xlabel() for a in fig.axes] == ["translation (px)", "noise σ (px)"]
    assert all(a.get_ylabel() == "MPJPE (mm)" for a in fig.axes)
    assert legibility.problems(legibility.measure(fig, dpi=72)) == []   # as a notebook stores it
    fig = ab.plot_speed(r)
    assert "px" in fig.axes[0].get_xlabel() and len(fig.axes[0].get_xticklabels()) == 3
    assert legibility.problems(legibility.measure(fig, dpi=72)) == []


# ----------------------------------------------------------------------------- the ablation's checkpoints

def lab_settings(data_dir, checkpoint_dir):
    return Settings("quick", "synth", "gt", data_dir, str(checkpoint_dir), TINY, "cpu", progress=False)


def test_train_ablation_writes_one_folder_per_encoding_and_reuses_it(tiny_data_dir, tmp_path):
    torch.set_num_threads(2)
    s = lab_settings(tiny_data_dir, tmp_path / "a")
    path = ab.train_ablation(s, "raw", TINY)
    assert path == os.path.join(str(tmp_path / "a"), "lab", "raw", "stage_1_epoch_1.bin")
    model = load_model(path)
    assert model.config.encoding == "raw" and not model.training
    stamp = os.stat(path).st_mtime_ns
    assert ab.train_ablation(s, "raw", TINY) == path and os.stat(path).st_mtime_ns == stamp
    # Retraining elsewhere writes the same weights: a reused checkpoint is as good as a fresh one.
    again = load_model(ab.train_ablation(lab_settings(tiny_data_dir, tmp_path / "b"), "raw", TINY))
    for (k, v), w in zip(model.state_dict().items(), again.state_dict().values()):
        assert torch.equal(v, w), k
    # Another recipe in the same folder (same epochs, so the same file name) is retrained, not reused.
    ab.train_ablation(s, "raw", TINY.with_train(subset=0.2))
    assert os.stat(path).st_mtime_ns != stamp
    changed = load_model(path)
    assert not all(torch.equal(v, w) for v, w in zip(model.state_dict().values(), changed.state_dict().values()))
    with pytest.raises(UserError, match="unknown encoding 'pos'"):
        ab.train_ablation(s, "pos", TINY)
