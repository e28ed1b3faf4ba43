"""A recipe finds its measured training speed by the name it was measured under, not by parsing its own name."""
import dataclasses

import pytest

from relpose.lab.presets import MEASURED_WINDOWS_PER_SECOND, PAPER, PAPER_CPN, QUICK, expected_seconds


def test_shortened_recipes_keep_the_speed_they_were_measured_at():
    rate = MEASURED_WINDOWS_PER_SECOND[("quick", "cpu")]
    short = QUICK.with_epochs(2)
    assert short.name == "quick-e2" and short.measured_as == "quick"
    assert expected_seconds(short, 1, rate, "cpu") == pytest.approx(2.0)              # 2 epochs of one second
    assert expected_seconds(short, 3, rate, "cpu") == pytest.approx(2.0 / 0.8)
    cpn = PAPER_CPN.with_epochs(4).with_epochs(5)
    assert cpn.name == "paper-cpn-e4-e5" and cpn.measured_as == "paper"
    cuda = MEASURED_WINDOWS_PER_SECOND[("paper", "cuda")]
    assert expected_seconds(cpn, 1, cuda, "cuda:0") == pytest.approx(5.0)


def test_a_recipe_without_a_measurement_says_so():
    assert expected_seconds(dataclasses.replace(QUICK, name="lab-quick"), 1, 1000, "cpu") is None
    # A name that merely begins like a measured one is not taken for it.
    assert expected_seconds(dataclasses.replace(PAPER, name="paper-extra"), 1, 1000, "cpu") is None
    assert expected_seconds(PAPER, 1, 1000, "mps") is None


def test_training_log_leaves_timings_out_of_stored_outputs_only():
    """Notebooks pass lab.training_log(S) to training: with progress bars off (how stored outputs are made) the
    seconds and frames/s, which vary from run to run, are left out; everything else of the line stays."""
    import dataclasses

    from relpose.lab import settings as lab

    line = "[stage 1] epoch 2/6  10.8 s  lr 0.000950  train 77.53 mm eval 52.45 mm  4162 frames/s"
    ablation = "seed 0: trained/loaded 4 variants in 5 s, evaluated in 27 s"
    seen = []
    s = lab.settings("quick")
    stored = lab.training_log(dataclasses.replace(s, progress=False), seen.append)
    stored(line)
    stored(ablation)
    assert seen == ["[stage 1] epoch 2/6  lr 0.000950  train 77.53 mm eval 52.45 mm",
                    "seed 0: trained/loaded 4 variants, evaluated"]
    shown = lab.training_log(dataclasses.replace(s, progress=5.0), seen.append)
    shown(line)
    assert seen[-1] == line


def test_ensure_data_makes_the_settings_own_on_request_keypoints(tmp_path):
    """A fresh clone has no data: ensure_data makes the synthetic set's three files, and 'det_coco' (made only on
    request) when the settings read it, as notebook 09's in-the-wild settings do."""
    import dataclasses

    from relpose.lab import settings as lab
    from relpose.lab.presets import Preset
    from relpose.train import TrainConfig

    tiny = Preset("tiny", (3,), 8, 8, 16, {1: TrainConfig(stage=1, epochs=1)})
    s = dataclasses.replace(lab.settings("quick"), data_dir=str(tmp_path), preset=tiny)
    s = dataclasses.replace(s, model_overrides={})
    lab.ensure_data(dataclasses.replace(s, keypoints="det"))
    made = sorted(p.name for p in tmp_path.iterdir())
    assert made == ["data_2d_synth_det.npz", "data_2d_synth_gt.npz", "data_3d_synth.npz"]
    lab.ensure_data(dataclasses.replace(s, keypoints="det_coco"))
    assert (tmp_path / "data_2d_synth_det_coco.npz").is_file()
