"""Evaluation analyses: per-take predictions agree with the protocol, aggregations with hand sums."""
import numpy as np
import pytest
import torch

from relpose.lab.error_analysis import (TakePrediction, format_motion_table, motion_by_action, pearson_r, per_action_mpjpe_mm,
                              per_joint_mpjpe_mm, predict_takes, take_motion_stats,
                              trainable_table, tta_table, worst_joints)
from relpose.datasets import load_dataset
from relpose.evaluate import ActionResult, EvaluationResult, evaluate_dataset
from relpose.model import ModelConfig, RIEModel
from relpose.train import freeze_encoders


def take(pred, target, trajectory=None, action="Walking 1", subject="S9", camera=0):
    target = np.asarray(target, dtype=np.float32)
    if trajectory is None:
        trajectory = np.zeros((len(target), 3), np.float32)
    return TakePrediction(subject, action, camera, np.asarray(pred, dtype=np.float32), target,
                          np.asarray(trajectory, dtype=np.float32))


@pytest.fixture(scope="module")
def tiny_model():
    torch.manual_seed(0)
    return RIEModel(ModelConfig(filter_widths=(3, 3), channels=16, latent_dim=16, hidden=32, stage=2)).eval()


@pytest.mark.parametrize("tta", [False, True])
def test_predict_takes_pools_to_the_protocol_figures(tiny_data_dir, tiny_model, tta):
    ds = load_dataset("synth", "det", tiny_data_dir)
    takes = predict_takes(tiny_model, ds, ["S9"], action_filter=["Walking", "Sitting"], downsample=2, tta=tta)
    reference = evaluate_dataset(tiny_model, ds, ["S9"], action_filter=["Walking", "Sitting"], downsample=2,
                                 tta=tta, log=None)
    got = per_action_mpjpe_mm(takes)
    assert list(got) == [a.action for a in reference.actions]
    for a in reference.actions:
        assert got[a.action] == pytest.approx(a.mpjpe_mm, rel=1e-5)
    # one entry per take and camera; joint 0 of the target zeroed, its trajectory kept aside
    pairs = [p for ps in ds.actions_by_name(["S9"], ["Walking", "Sitting"]).values() for p in ps]
    assert len(takes) == sum(len(ds.positions_3d[s][a]) for s, a in pairs)
    first = takes[0]
    stored = ds.positions_3d[first.subject][first.action][first.camera][::2]
    np.testing.assert_array_equal(first.trajectory, stored[:, 0])
    np.testing.assert_array_equal(first.target[:, 1:], stored[:, 1:])
    assert np.all(first.target[:, 0] == 0)
    assert first.prediction.shape == stored.shape


def test_per_joint_error_is_frame_weighted():
    target = np.zeros((4, 17, 3))
    pred_a = target[:3].copy()
    pred_a[:, 5, 0] = 0.010          # joint 5 off by 10 mm in 3 frames
    pred_b = target[:1].copy()
    pred_b[:, 5, 1] = 0.030          # and by 30 mm in 1 frame
    pred_b[:, 2, 2] = -0.004
    errors = per_joint_mpjpe_mm([take(pred_a, target[:3]), take(pred_b, target[:1])])
    assert errors.shape == (17,)
    assert errors[5] == pytest.approx((3 * 10 + 30) / 4, rel=1e-5)
    assert errors[2] == pytest.approx(4 / 4, rel=1e-5)
    assert np.count_nonzero(errors) == 2
    with pytest.raises(ValueError, match="no takes"):
        per_joint_mpjpe_mm([])


def test_per_action_pools_takes_of_one_action():
    target = np.zeros((2, 17, 3))
    off = target + [0.0, 0.0, 0.017]          # 17 mm everywhere
    takes = [take(off, target, action="Walking 1"), take(target, target, action="Walking"),
             take(off[:1], target[:1], action="Sitting")]
    got = per_action_mpjpe_mm(takes)
    assert got == pytest.approx({"Walking": 17 / 2, "Sitting": 17.0}, rel=1e-5)


def test_worst_joints_sorted_and_checked():
    names = ["a", "b", "c", "d"]
    assert worst_joints([1.0, 5.0, 3.0, 4.0], names, k=3) == [("b", 5.0), ("d", 4.0), ("c", 3.0)]
    with pytest.raises(ValueError, match="joint names"):
        worst_joints([1.0, 2.0], names)


def test_take_motion_stats_of_a_walk():
    fps, frames, speed = 50.0, 101, 1.5
    t = np.arange(frames) / fps
    trajectory = np.stack([speed * t, np.zeros(frames), 4 + np.zeros(frames)], axis=1)  # straight line
    rng = np.random.default_rng(0)
    target = np.repeat(rng.normal(size=(1, 17, 3)) * 0.3, frames, axis=0)
    target[:, 0] = 0
    pred = target + np.array([0.0, 0.02, 0.0])   # constant 20 mm offset: no velocity error
    (row,) = take_motion_stats([take(pred, target, trajectory)], fps)
    assert row.frames == frames
    assert row.mpjpe_mm == pytest.approx(20.0, rel=1e-4)
    assert row.mpjve_mm == pytest.approx(0.0, abs=1e-3)
    assert row.root_speed_m_s == pytest.approx(speed, rel=1e-4)
    assert row.root_range_m == pytest.approx(speed * t[-1] / 2, rel=1e-4)  # half the path from its middle
    assert row.local_std_m == pytest.approx(0.0, abs=1e-6)               # a rigid pose does not move locally


def test_local_std_is_the_joints_standard_deviation():
    frames = 200
    target = np.zeros((frames, 17, 3))
    target[:, 4, 0] = np.where(np.arange(frames) % 2 == 0, 0.1, -0.1)   # one joint swinging +-10 cm
    (row,) = take_motion_stats([take(target, target)], fps=50)
    assert row.local_std_m == pytest.approx(0.1 / 16, rel=1e-5)    # std 0.1 on one of 16 joints
    assert row.mpjpe_mm == 0 and row.mpjve_mm == 0


def test_motion_by_action_weights_by_frames_and_table():
    target = np.zeros((3, 17, 3))
    rows = take_motion_stats([take(target + [0, 0, 0.01], target, action="Walking 1"),
                              take(target[:1] + [0, 0, 0.04], target[:1], action="Walking")], fps=50)
    ((name, frames, err, speed, local),) = motion_by_action(rows)
    assert (name, frames) == ("Walking", 4)
    assert err == pytest.approx((3 * 10 + 40) / 4, rel=1e-5)
    text = format_motion_table(rows)
    assert text.splitlines()[2].split() == ["Walking", "4", "17.5", "0.00", "0.0"]


def test_pearson_r():
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=50), rng.normal(size=50)
    assert pearson_r(x, y) == pytest.approx(np.corrcoef(x, y)[0, 1])
    assert pearson_r(x, 2 * x + 1) == pytest.approx(1.0)
    assert np.isnan(pearson_r(x, np.ones(50)))
    with pytest.raises(ValueError, match="same length"):
        pearson_r(x, y[:10])


def test_tta_table_rows_and_changes():
    def result(values):
        return EvaluationResult([ActionResult(a, 10, p1, p2, 0.0, 0.0) for a, p1, p2 in values])
    with_tta = result([("Walking", 40.0, 30.0), ("Sitting", 50.0, 41.0)])
    without = result([("Sitting", 52.0, 42.5), ("Walking", 41.0, 30.5)])
    lines = tta_table(with_tta, without).splitlines()
    assert lines[2].split() == ["Walking", "41.0", "40.0", "-1.0", "30.5", "30.0", "-0.5"]
    assert lines[3].split() == ["Sitting", "52.0", "50.0", "-2.0", "42.5", "41.0", "-1.5"]
    assert lines[-1].split() == ["Average", "46.5", "45.0", "-1.5", "36.5", "35.5", "-1.0"]
    with pytest.raises(ValueError, match="different actions"):
        tta_table(with_tta, result([("Walking", 1.0, 1.0)]))


def test_result_table_rounds_and_averages_over_actions():
    r = EvaluationResult([ActionResult("Walking", 10, 40.04, 30.06, 35.0, 2.0),
                          ActionResult("Sitting", 30, 50.0, 41.0, 45.0, 3.0)])
    lines = r.table(digits=1).splitlines()
    assert lines[2].split() == ["Walking", "10", "40.0", "30.1", "35.0", "2.0"]
    assert lines[-1].split() == ["Average", "40", "45.0", "35.5", "40.0", "2.5"]  # actions weigh equally


def test_trainable_table_counts_frozen_encoders(tiny_model):
    model = RIEModel(tiny_model.config)
    freeze_encoders(model)
    rows = {line.split()[0]: line.split()[1:] for line in trainable_table(model).splitlines()[2:]
            if not line.startswith("-")}
    torso = model.LocalLayer_Torso
    assert rows["LocalLayer_Torso"] == [str(len(list(torso.parameters()))),
                                        f"{sum(p.numel() for p in torso.parameters()):,d}", "0", "0"]
    fuse = sum(p.numel() for p in model.FuseBlocks.parameters())
    assert rows["FuseBlocks"][1] == rows["FuseBlocks"][3] == f"{fuse:,d}"
    trained = sum(p.numel() for p in model.parameters() if p.requires_grad)
    assert rows["total"][3] == f"{trained:,d}"
    assert rows["total"][1] == f"{model.num_parameters():,d}"


def test_text_table_aligns_formats_and_rules():
    from relpose.tables import text_table
    out = text_table(("name", "n", "x"), [["a", 1, 2.345], ["bb", 22, "pre"]], widths=(4, 3, 6),
                     formats=("", "d", ".1f"), footer=[["all", 23, 1.0]], suffix=" (u)", note="note")
    assert out.splitlines() == ["name  n     x (u)", "-" * 17, "a     1   2.3", "bb   22   pre", "-" * 17,
                                "all  23   1.0", "note"]
    auto = text_table(("a", "long header"), [["xyz", 5]], sep="  ", title="T").splitlines()
    assert auto == ["T", "a    long header", "-" * 16, "xyz            5"]
