"""Perturbations of the 2D input, sweeps over their size, and the figure of a pose before and after."""

import numpy as np
import pytest
import torch

from relpose.lab import robustness as rb
from relpose.datasets import load_dataset
from relpose.encoding import positional_encoding
from relpose.errors import UserError
from relpose.evaluate import evaluate_dataset
from relpose.model import ModelConfig, RIEModel


def poses(t=40, j=17, seed=0):
    return np.random.default_rng(seed).uniform(-0.8, 0.8, size=(t, j, 2)).astype(np.float32)


# ----------------------------------------------------------------------------- perturbations

def test_translate_moves_every_frame_by_one_offset_of_the_given_length():
    x = poses()
    y = rb.translate(x, 50, res_w=1000, seed=3)
    offset = (y - x).reshape(-1, 2)
    np.testing.assert_allclose(offset, np.broadcast_to(offset[0], offset.shape), atol=1e-6)
    assert np.linalg.norm(offset[0]) == pytest.approx(0.1, abs=1e-6)  # 50 px of 1000 = 0.1 normalised units
    # Global motion: what every joint sees relative to the root does not change.
    np.testing.assert_allclose(positional_encoding(torch.from_numpy(y)), positional_encoding(torch.from_numpy(x)),
                               atol=1e-6)
    assert y.shape == x.shape and y.dtype == np.float32


def test_translate_direction_depends_on_the_seed_only():
    x = poses()
    np.testing.assert_array_equal(rb.translate(x, 20, seed=1), rb.translate(x, 20, seed=1))
    assert not np.allclose(rb.translate(x, 20, seed=1), rb.translate(x, 20, seed=2))
    np.testing.assert_array_equal(rb.translate(x, 0, seed=5), x)


def test_scale_multiplies_about_the_image_centre():
    x = poses()
    np.testing.assert_allclose(rb.scale(x, 1.5), x * 1.5, rtol=1e-6)
    np.testing.assert_array_equal(rb.scale(x, 1.0), x)
    with pytest.raises(UserError, match="scale factor"):
        rb.scale(x, 0)


def test_gaussian_noise_has_the_requested_spread_in_pixels():
    x = np.zeros((2000, 17, 2), np.float32)
    y = rb.gaussian_noise(x, 5, res_w=1000, seed=0)
    assert y.std() == pytest.approx(0.01, rel=0.02)   # 5 px = 0.01 normalised units
    assert abs(y.mean()) < 1e-3
    np.testing.assert_array_equal(y, rb.gaussian_noise(x, 5, res_w=1000, seed=0))
    assert not np.array_equal(y, rb.gaussian_noise(x, 5, res_w=1000, seed=1))
    np.testing.assert_array_equal(rb.gaussian_noise(poses(), 0), poses())
    # Pixels scale with the camera width: the same pixels are half as much of a 2000-px image.
    assert rb.gaussian_noise(x, 5, res_w=2000, seed=0).std() == pytest.approx(0.005, rel=0.02)


@pytest.mark.parametrize("n", [0, 1, 4, 16])
def test_drop_joints_puts_exactly_n_non_root_joints_on_the_root(n):
    x = poses(t=60)
    y = rb.drop_joints(x, n, seed=7)
    moved = np.any(y != x, axis=-1)                      # (T, J)
    on_root = np.all(y == x[:, :1], axis=-1)
    assert not moved[:, 0].any()
    np.testing.assert_array_equal(moved.sum(axis=1), n)   # random poses: no joint starts on the root
    assert on_root[moved].all()
    np.testing.assert_array_equal(y, rb.drop_joints(x, n, seed=7))


def test_drop_joints_draws_a_new_set_each_frame_and_checks_n():
    x = poses(t=60)
    moved = np.any(rb.drop_joints(x, 3, seed=0) != x, axis=-1)
    assert len({tuple(np.flatnonzero(m)) for m in moved}) > 10
    with pytest.raises(UserError, match=r"\[0, 16\]"):
        rb.drop_joints(x, 17)


def test_perturb_dispatches_by_name_and_rejects_unknown_names():
    x = poses()
    np.testing.assert_array_equal(rb.perturb(x, "noise", 3, res_w=1000, seed=2),
                                  rb.gaussian_noise(x, 3, res_w=1000, seed=2))
    assert [rb.describe(p, v) for p, v in [("translate", 50), ("scale", 1.5), ("noise", 2.5), ("drop", 3)]] == \
        ["translate 50 px", "scale ×1.5", "noise σ = 2.5 px", "drop 3 joints"]
    with pytest.raises(UserError, match="unknown perturbation 'blur'"):
        rb.perturb(x, "blur", 1)
    with pytest.raises(ValueError, match=r"\(T, J, 2\)"):
        rb.translate(np.zeros((5, 17, 3)), 1)


# ----------------------------------------------------------------------------- sweeps on a tiny model

def tiny_model(seed=0, encoding="raw+pos+temp"):
    torch.manual_seed(seed)
    return RIEModel(ModelConfig(filter_widths=(3, 3), channels=16, latent_dim=16, hidden=32, encoding=encoding)).eval()


@pytest.fixture(scope="module")
def tiny_dataset(tiny_data_dir):
    return load_dataset("synth", "gt", tiny_data_dir)


def test_sweep_without_perturbation_matches_the_evaluation_protocol(tiny_dataset):
    model = tiny_model()
    r = rb.sweep({"m": model}, tiny_dataset, ["S9"], ["Walking", "Sitting"], "translate", [0],
                 downsample=2)
    ref = evaluate_dataset(model, tiny_dataset, ["S9"], action_filter=["Walking", "Sitting"], downsample=2, log=None)
    assert r.mpjpe_mm["m"][0] == pytest.approx(ref.mpjpe_mm, abs=1e-4)
    assert r.frames == sum(a.frames for a in ref.actions)


def test_sweep_is_deterministic_and_feels_the_perturbation(tiny_dataset):
    models = {"a": tiny_model(0), "b": tiny_model(1, encoding="raw")}
    args = (tiny_dataset, ["S9", "S11"], ["Walking"], "noise", [0, 20])
    r1 = rb.sweep(models, *args, downsample=4, seed=3)
    r2 = rb.sweep(models, *args, downsample=4, seed=3)
    assert r1.mpjpe_mm == r2.mpjpe_mm
    # The unperturbed level can come from an earlier evaluation of the same sequences.
    sequences = rb.fetch_test_set(tiny_dataset, ["S9", "S11"], ["Walking"], downsample=4)
    clean = rb.evaluate_models(models, tiny_dataset, sequences)
    r3 = rb.sweep(models, tiny_dataset, None, None, "noise", [0, 20], seed=3, sequences=sequences, clean=clean)
    assert r3.mpjpe_mm == r1.mpjpe_mm
    fake = {n: dict(c, mpjpe_mm=-1.0) for n, c in clean.items()}   # proves the level was not evaluated again
    again = rb.sweep(models, tiny_dataset, None, None, "noise", [0], sequences=sequences, clean=fake)
    assert again.mpjpe_mm["a"] == [-1.0]
    assert set(r1.mpjpe_mm) == {"a", "b"} and all(len(v) == 2 for v in r1.mpjpe_mm.values())
    assert r1.mpjpe_mm["a"][1] != r1.mpjpe_mm["a"][0]
    assert r1.degradation_mm("a") == pytest.approx(r1.mpjpe_mm["a"][1] - r1.mpjpe_mm["a"][0])
    assert r1.perturbed_mean_mm("b") == r1.mpjpe_mm["b"][1]
    lines = r1.table().splitlines()
    assert lines[0].split() == ["noise", "σ", "(px)", "a", "b"] and len(lines) == 4
    assert lines[3].split() == ["20", f"{r1.mpjpe_mm['a'][1]:.1f}", f"{r1.mpjpe_mm['b'][1]:.1f}"]


def test_verdict_compares_the_printed_numbers():
    r = rb.SweepResult("scale", [0.5, 1.0, 2.0], {"rel": [30.0, 10.0, 20.0], "raw": [40.0, 12.0, 44.0]})
    assert r.perturbed_mean_mm("rel") == 25.0 and r.degradation_mm("rel") == 15.0
    assert r.degradation_mm("raw") == 30.0
    line = rb.verdict(r, "rel", "raw")
    assert "25.0 vs 42.0 mm" in line and "lowers MPJPE under scale: yes" in line
    assert "+15.0 vs +30.0 mm -> degrades less: yes" in line
    assert "under scale: no" in rb.verdict(r, "raw", "rel")
    with pytest.raises(UserError, match="no unperturbed level 1.0"):
        rb.SweepResult("scale", [0.5, 2.0], {"m": [1.0, 2.0]}).degradation_mm("m")


def test_test_set_keeps_the_requested_cameras_and_all_protocols_agree(tiny_dataset):
    all_views = rb.fetch_test_set(tiny_dataset, ["S9"], ["Walking"], downsample=2)
    two = rb.fetch_test_set(tiny_dataset, ["S9"], ["Walking"], downsample=2, cameras=(0, 2))
    assert len(all_views["Walking"]) == 8 and len(two["Walking"]) == 4   # two takes x four cameras
    np.testing.assert_array_equal(two["Walking"][1][1], all_views["Walking"][2][1])
    assert all(w == 1000 for _, _, w in two["Walking"])
    with pytest.raises(UserError, match="match no camera"):
        rb.fetch_test_set(tiny_dataset, ["S9"], ["Walking"], cameras=(7,))
    model = tiny_model()
    ref = evaluate_dataset(model, tiny_dataset, ["S9"], action_filter=["Walking"], downsample=2, log=None)
    got = rb.evaluate_models({"m": model}, tiny_dataset, all_views, all_protocols=True)["m"]
    assert got["mpjpe_mm"] == pytest.approx(ref.mpjpe_mm, abs=1e-4)
    assert got["p_mpjpe_mm"] == pytest.approx(ref.p_mpjpe_mm, abs=1e-4)
    frames = got["frame_mpjpe_mm"]
    assert frames.shape == (ref.actions[0].frames,)
    assert frames.mean() == pytest.approx(ref.mpjpe_mm, abs=1e-3)   # one action: the mean of its frames
    table = rb.results_table({"m": got}, outlier_mm=float(np.median(frames))).splitlines()
    assert table[2].split() == ["m", f"{ref.mpjpe_mm:.1f}", f"{ref.p_mpjpe_mm:.1f}", f"{np.median(frames):.1f}",
                                f"{np.percentile(frames, 95):.1f}", f"{100 * np.mean(frames > np.median(frames)):.1f}%"]


def test_sweep_rejects_unknown_perturbations(tiny_dataset):
    with pytest.raises(UserError, match="unknown perturbation"):
        rb.sweep({"m": tiny_model()}, tiny_dataset, ["S9"], ["Walking"], "shear", [0])


def test_perturbation_examples_show_the_pose_before_and_after_in_pixels():
    """One panel per perturbation, titled as `describe` says; its second line is the moved pose (relpose.viz.robustness)."""
    import matplotlib
    matplotlib.use("Agg")
    from relpose.skeleton import H36M_17

    pose = poses(t=1)[0]
    fig = rb.plot_perturbation_examples(pose, H36M_17, {"translate": 200, "noise": 10}, res_w=1000, res_h=800)
    assert [ax.get_title() for ax in fig.axes] == [rb.describe("translate", 200), rb.describe("noise", 10)]
    child, parent = H36M_17.bones()[0]
    bones = len(H36M_17.bones())
    before, after = fig.axes[0].lines[0].get_xydata(), fig.axes[0].lines[bones].get_xydata()
    np.testing.assert_allclose(before[0], (pose[child] + [1, 800 / 1000]) * 500, atol=1e-3)   # pixels
    shift = after - before   # every point moved by one offset of 200 px
    np.testing.assert_allclose(shift, shift[:1].repeat(2, 0), atol=1e-3)
    assert np.linalg.norm(shift[0]) == pytest.approx(200, abs=1e-3)
