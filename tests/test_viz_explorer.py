"""The sequence explorer widget: traces, readout and menus checked against the input arrays."""
import re

import numpy as np
import pytest

from relpose import viz
from relpose.errors import UserError
from relpose.viz import legibility
from relpose.skeleton import H36M_17
from viz_helpers import bones_of_trace, random_sequence


@pytest.fixture(scope="module")
def explorer_data():
    rng = np.random.default_rng(4)
    seqs, preds = {}, {}
    for key, T in {("S1", "Walking", 0): 30, ("S1", "Walking", 1): 25, ("S1", "Eating", 0): 12,
                   ("S11", "Walking", 0): 18}.items():
        gt, kps = random_sequence(rng, T)
        seqs[key] = viz.Sequence(kps, gt, res_w=1000, res_h=1002)
        preds[key] = gt + rng.normal(size=gt.shape) * 0.03 + np.array([0.0, 0.0, 0.4])  # root offset is ignored
    return seqs, preds


def root_relative(p):
    return p - p[:, :1]


def test_explorer_frame_updates_traces_and_readout(explorer_data):
    seqs, preds = explorer_data
    ex = viz.SequenceExplorer(seqs, H36M_17, predictions=preds)
    assert ex.key == ("S1", "Eating", 0)  # natural order: first subject, first action, first camera
    ex.select("S1", "Walking", 1)
    ex.set_frame(17)
    seq, pred = seqs[("S1", "Walking", 1)], preds[("S1", "Walking", 1)]
    gt_shown = viz.display_coordinates(root_relative(seq.poses_3d)[17], "-y")
    pred_shown = viz.display_coordinates(root_relative(pred)[17], "-y")
    sides = viz.bone_sides(H36M_17)
    for k, side in enumerate(viz.SIDES):
        assert sorted(bones_of_trace(ex.fig_3d.data[k], gt_shown)) == sorted(sides[side])
        assert sorted(bones_of_trace(ex.fig_3d.data[3 + k], pred_shown)) == sorted(sides[side])
    pixels = (seq.keypoints_2d[17] + np.array([1.0, 1002 / 1000])) * 1000 / 2  # hand inverse of the normalisation
    assert sorted(bones_of_trace(ex.fig_2d.data[0], pixels, dims=("x", "y"))) == sorted(sides["left"])
    assert list(ex.fig_2d.layout.yaxis.range) == [1002, 0]

    errors = np.linalg.norm(root_relative(pred)[17] - root_relative(seq.poses_3d)[17], axis=-1) * 1000
    mpjpe = float(re.search(r"MPJPE ([\d.]+) mm · worst", ex.readout.value).group(1))
    assert abs(mpjpe - errors.mean()) < 0.051
    worst = re.search(r"worst joint (\w+) \(([\d.]+) mm\)", ex.readout.value)
    assert worst.group(1) == H36M_17.joint_names[int(errors.argmax())]
    assert abs(float(worst.group(2)) - errors.max()) < 0.051
    assert np.allclose(ex.frame_errors_mm(), errors)


def test_explorer_toggles_and_trajectory(explorer_data):
    seqs, preds = explorer_data
    ex = viz.SequenceExplorer(seqs, H36M_17, predictions=preds)
    ex.select("S1", "Walking", 0)
    ex.set_frame(5)
    ex.gt_toggle.value = False
    assert [t.visible for t in ex.fig_3d.data[:6]] == [False] * 3 + [True] * 3
    ex.prediction_toggle.value = False
    assert [t.visible for t in ex.fig_3d.data[:6]] == [False] * 6
    ex.gt_toggle.value = ex.prediction_toggle.value = True
    assert ex.fig_3d.data[6].visible is False  # root path hidden
    ex.trajectory_toggle.value = True
    assert ex.frame_slider.value == 5 and ex.fig_3d.data[6].visible is True
    seq = seqs[("S1", "Walking", 0)]
    gt_shown = viz.display_coordinates(seq.poses_3d[5], "-y")  # absolute camera space
    assert bones_of_trace(ex.fig_3d.data[0], gt_shown)
    assert np.allclose(ex.fig_3d.data[6].x, viz.display_coordinates(seq.poses_3d[:, 0], "-y")[:, 0])


def test_explorer_dropdowns_load_the_right_sequence(explorer_data):
    seqs, preds = explorer_data
    ex = viz.SequenceExplorer(seqs, H36M_17, predictions=preds)
    assert list(ex.subject_dropdown.options) == ["S1", "S11"]
    ex.subject_dropdown.value = "S11"
    assert ex.key == ("S11", "Walking", 0)
    assert list(ex.action_dropdown.options) == ["Walking"]
    assert ex.frame_slider.max == 17 and ex.play.max == 17
    ex.set_frame(9)
    pixels = (seqs[ex.key].keypoints_2d[9] + np.array([1.0, 1.002])) * 500
    assert bones_of_trace(ex.fig_2d.data[1], pixels, dims=("x", "y"))
    ex.subject_dropdown.value = "S1"
    assert ex.key[0] == "S1" and ex.key[1] == "Walking"  # action kept when the subject has it
    assert ex.frame_slider.value == 0
    ex.camera_dropdown.value = 1
    assert ex.key == ("S1", "Walking", 1) and ex.frame_slider.max == 24
    ex.action_dropdown.value = "Eating"
    assert ex.key == ("S1", "Eating", 0) and [v for _, v in ex.camera_dropdown.options] == [0]
    with pytest.raises(UserError, match="no sequence"):
        ex.select("S9", "Walking", 0)


def test_explorer_predicts_lazily_and_without_ground_truth(explorer_data):
    seqs, _ = explorer_data
    calls = []

    def predict(kps):
        calls.append(len(kps))
        return np.zeros((len(kps), 17, 3))

    ex = viz.SequenceExplorer(seqs, H36M_17, predict_fn=predict)
    assert calls == [12]  # only the shown sequence
    ex.select("S11", "Walking", 0)
    ex.select("S1", "Eating", 0)
    assert calls == [12, 18]  # cached
    no_gt = {("S2", "Free", 0): viz.Sequence(seqs[("S11", "Walking", 0)].keypoints_2d, None)}
    ex = viz.SequenceExplorer(no_gt, H36M_17, predict_fn=predict)
    assert "n/a" in ex.readout.value
    assert [t.visible for t in ex.fig_3d.data[:6]] == [False] * 3 + [True] * 3


class FakeDataset:
    """The parts of PoseDataset the explorer reads: 3D stored with the trajectory in joint 0."""

    def __init__(self, gt, kps):
        stored = gt.copy()
        stored[:, 1:] -= stored[:, :1]
        self.positions_3d = {"S9": {"Sitting": [stored]}}
        self.positions_2d = {"S9": {"Sitting": [kps]}, "S10": {"Free": [kps[:5]]}}
        self.cameras = {"S9": [{"res_w": 1000, "res_h": 1002}]}
        self.skeleton = H36M_17


def test_explorer_from_dataset_restores_absolute_positions():
    rng = np.random.default_rng(5)
    gt, kps = random_sequence(rng, 10)
    ex = viz.SequenceExplorer.from_dataset(FakeDataset(gt, kps), subjects=["S9"],
                                           predictions={("S9", "Sitting", 0): gt})
    assert set(ex.sequences) == {("S9", "Sitting", 0)}
    assert np.allclose(ex.sequences[("S9", "Sitting", 0)].poses_3d, gt)
    assert "MPJPE 0.0 mm" in ex.readout.value
    ex.trajectory_toggle.value = True
    assert bones_of_trace(ex.fig_3d.data[0], viz.display_coordinates(gt[0], "-y"))
    with pytest.raises(UserError, match="no sequences"):
        viz.SequenceExplorer.from_dataset(FakeDataset(gt, kps), subjects=["S1"])


def test_static_picture_is_a_frame_strip_of_the_shown_sequence(explorer_data):
    seqs, preds = explorer_data
    ex = viz.SequenceExplorer(seqs, H36M_17, predictions=preds)
    ex.select("S1", "Walking", 1)
    seq, pred = seqs[("S1", "Walking", 1)], preds[("S1", "Walking", 1)]
    fig = ex.static_picture(frames=[0, 7, 24])
    flat, scenes = [a for a in fig.axes if a.name != "3d"], [a for a in fig.axes if a.name == "3d"]
    assert len(flat) == len(scenes) == 3
    pixels = seq.keypoints_2d * 500 + np.array([500, 501])  # normalised -> pixels for a 1000 x 1002 image
    child, parent = H36M_17.bones()[0]
    assert np.allclose(flat[1].lines[0].get_xydata(), pixels[7][[child, parent]]) or any(
        np.allclose(line.get_xydata(), pixels[7][[child, parent]]) for line in flat[1].lines)
    assert flat[1].get_ylim()[0] > flat[1].get_ylim()[1]  # image y points down
    gt_shown = viz.display_coordinates(root_relative(seq.poses_3d)[24], "-y")
    pred_shown = viz.display_coordinates(root_relative(pred)[24], "-y")
    drawn = [np.array(line.get_data_3d()).T for line in scenes[2].lines]
    assert len(drawn) == 2 * len(H36M_17.bones())  # ground truth and prediction
    assert any(np.allclose(d, gt_shown[[child, parent]]) for d in drawn)
    assert any(np.allclose(d, pred_shown[[child, parent]]) for d in drawn)
    errors = np.linalg.norm(root_relative(pred) - root_relative(seq.poses_3d), axis=-1).mean(axis=1) * 1000
    assert scenes[2].get_title() == f"MPJPE {errors[24]:.1f} mm"
    assert [a.get_title() for a in flat] == ["frame 0", "frame 7", "frame 24"]
    default = ex.static_picture()
    assert len(default.axes) == 6  # three frames by default
    assert legibility.problems(legibility.measure(default, viz.static.DPI)) == []  # as stored in a notebook
    with pytest.raises(UserError, match=r"frames must lie in 0\.\.24"):
        ex.static_picture(frames=[3, 25])


def test_explorer_shows_its_picture_after_the_widget(explorer_data, monkeypatch):
    import IPython.display

    seqs, preds = explorer_data
    ex = viz.SequenceExplorer(seqs, H36M_17, predictions=preds)
    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda obj, **kw: shown.append(obj))
    ex._ipython_display_()
    assert shown[0] == viz.notebook.widget_bundle(ex.widget)   # the widget's view, without its text form
    assert set(shown[0]) == {viz.notebook.WIDGET_MIME}
    assert set(shown[1]) == {"image/png", "text/plain"} and "S1 · Eating · camera 0" in shown[1]["text/plain"]
