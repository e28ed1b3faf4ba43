"""Solutions to notebook 00's exercises (quick start), as code with the numbers it gives.

Run from the kit's top folder: `python notebooks/solutions/00_quickstart.py` (about a minute on one CPU thread:
exercise 6 trains stage 1 for 4 epochs).
It reuses the tour's checkpoints (checkpoint/quickstart, made by notebook 00, trained here if missing) and notebook
08's lab checkpoints. Test errors of those models are checked within notebook 00's tolerance (5% or 2 mm: they are
retrained under other CPU settings by `make test`).
"""
from __future__ import annotations

import dataclasses
import os
import sys
from functools import cache

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from solution_tools import expect, lab_clean_errors, main, quick, scratch_folder, short_run  # noqa: E402

from relpose import checkpoints, train  # noqa: E402
from relpose.datasets import without_trajectory  # noqa: E402
from relpose.errors import UserError  # noqa: E402
from relpose.evaluate import predict_sequence  # noqa: E402
from relpose.lab import intervals  # noqa: E402
from relpose.lab import settings as lab  # noqa: E402
from relpose.model import RIEModel  # noqa: E402

TRAINED = dict(rel=0.05, abs=2.0)    # notebook 00's tolerance for its test errors


@cache
def setup():
    s = quick("quickstart")
    dataset = lab.load_data(s)
    return s, dataset, lab.load_model(s, 3)


@cache
def evaluation(tta: bool):
    s, dataset, model = setup()
    return lab.evaluate(s, model, dataset, tta=tta)


def exercise_1():
    """The printed commands train the same models; what --evaluate does differently."""
    s, dataset, _ = setup()
    # Training is deterministic for a fixed seed and thread count: the same short run twice gives the same weights,
    # bit for bit (so the commands reproduce the notebook's checkpoints, and its table, on the same machine).
    runs = [short_run(s, 1, dataset, subset=0.01)[0].state_dict() for _ in range(2)]
    assert all(torch.equal(runs[0][k], runs[1][k]) for k in runs[0])
    # --evaluate loads the checkpoint instead of training and reads only the test subjects: the table below is
    # notebook 00's stage-3 row (without flipping, `-no-tta`), on every 4th frame of S9 and S11, 4 cameras.
    result = evaluation(tta=False)
    _, _, test_2d = dataset.fetch(s.subjects_test, downsample=s.train_config(3).downsample)
    assert sum(a.frames for a in result.actions) == sum(len(p) for p in test_2d) == 30580
    expect("stage 3, test MPJPE without flipping", result.mpjpe_mm, 75.0, **TRAINED, unit="mm")
    expect("stage 3, P-MPJPE", result.p_mpjpe_mm, 57.9, **TRAINED, unit="mm")


def exercise_2():
    """Stage 3 straight from stage 1: the error message, and why."""
    s, dataset, _ = setup()
    stage3 = RIEModel(s.model_config(dataset, 3))
    try:
        train.load_previous_stage(stage3, checkpoints.load_checkpoint(lab.ensure_checkpoint(s, 1)))
    except UserError as e:
        message = str(e)
    else:
        raise AssertionError("a stage-1 checkpoint loaded into a stage-3 model")
    print(f"  {message}")
    assert message == "checkpoint is a stage-1 model (no FuseBlocks) but stage is 3", message
    # (The command line says '--stage is 3'.) Stages 2 and 3 have the fusion blocks and decoders with a third
    # input (the fused features); stage 1 has neither, so a stage-1 file cannot fill a stage-3 model. Stage 2
    # exists to train those new parts on top of the frozen stage-1 encoders; stage 3 then loads all of stage 2.


def exercise_3():
    """Test-time augmentation: how much flipping helps the tour's model."""
    with_flip, without = evaluation(tta=True), evaluation(tta=False)
    expect("with flipping", with_flip.mpjpe_mm, 71.8, **TRAINED, unit="mm")
    expect("without", without.mpjpe_mm, 75.0, **TRAINED, unit="mm")
    gain = 100 * (1 - with_flip.mpjpe_mm / without.mpjpe_mm)
    expect("flipping lowers the error by", gain, 4.3, abs=1.5, unit="%")
    assert with_flip.mpjpe_mm < without.mpjpe_mm
    # Averaging the prediction for the mirrored input with the original cancels part of the errors that are not
    # mirror-symmetric: about 3 mm (4%) for this small model, twice the share it had on generator version 1's data;
    # notebook 06 shows it action by action (flipping helps in every action there).


def exercise_4():
    """The worst frame of the take shown in 3D: which joints, and is it depth?"""
    s, dataset, model = setup()
    keypoints = dataset.positions_2d["S9"]["Walking"][0]
    truth = without_trajectory(dataset.positions_3d["S9"]["Walking"][0])
    predicted = predict_sequence(model, keypoints, tta=False).cpu().numpy()
    per_frame = np.linalg.norm(predicted - truth, axis=-1).mean(-1) * 1000
    worst = int(np.argmax(per_frame))
    joints = np.linalg.norm(predicted[worst] - truth[worst], axis=-1) * 1000
    names = dataset.skeleton.joint_names
    print(f"  worst frame {worst}: {per_frame[worst]:.0f} mm; worst joints " +
          ", ".join(f"{names[j]} {joints[j]:.0f} mm" for j in np.argsort(joints)[::-1][:3]))
    components = np.abs(predicted - truth).mean(axis=(0, 1)) * 1000        # x, y, z over the whole take
    expect("the take's mean per-frame MPJPE", float(per_frame.mean()), 70.3, **TRAINED, unit="mm")
    for axis, value in zip("xyz", components):
        print(f"  mean |error| along {axis} (camera space): {value:.1f} mm")
    # The worst frame's worst joint is a foot; over the take the error along z, the depth along the camera's axis,
    # is about twice that along x or y (49 against 23 and 28 mm): the 2D input hardly constrains depth.
    assert components[2] > max(components[0], components[1]), components


def exercise_5():
    """The raw encoding (VideoPose3D's input) against the published one: is one run enough?"""
    # Training the three stages again with encoding="raw" takes minutes; notebook 08 trains stage 1 of both
    # encodings over five seeds (its lab recipe, seconds each), and these are its numbers.
    errors = lab_clean_errors()
    for encoding, values in errors.items():
        print(f"  {encoding}: " + ", ".join(f"{v:.1f}" for v in values) + " mm (seeds 0-4)")
    raw, ours = (np.array(errors[e]) for e in ("raw", "raw+pos+temp"))
    spread = max(np.ptp(raw), np.ptp(ours))
    difference = intervals.mean_interval(ours - raw)
    expect("largest seed-to-seed range of one encoding", float(spread), 5.9, rel=0.5, abs=5, unit="mm")
    print(f"  paired difference (raw+pos+temp - raw): {difference.mean:+.1f} mm, 95% interval "
          f"[{difference.low:+.1f}, {difference.high:+.1f}]: {intervals.verdict_of(difference)}")
    # Here the seeds move one encoding's error by less (up to 6 mm) than the encodings differ (+9.4 mm), and every
    # seed's pair points the same way: raw is lower, by 7-14 mm, in this small lab recipe (receptive field 9, 4
    # epochs), against the paper's claim. One run would have pointed the same way this time, but it could not have
    # told you so: without several seeds there is no measure of the seed-to-seed spread, so a single difference
    # carries no interval. The paired interval over seeds decides (notebook 08, section 1), and for this recipe
    # only: notebook 08's stored study, with models as strong as the notebooks', finds raw+pos+temp - raw at
    # +1.9 +- 2.8 mm over ten seeds, undecided.
    assert spread < abs(difference.mean) and np.all(ours > raw), (spread, difference.mean)


def exercise_6():
    """The control section 4 lacks: stage 1 alone, trained as many epochs as the three stages together."""
    s, dataset, _ = setup()
    epochs = sum(s.train_config(k).epochs for k in (1, 2, 3))
    with scratch_folder() as folder:
        longer = dataclasses.replace(s, checkpoint_dir=folder)
        model, _ = lab.train_preset_stage(longer, 1, dataset, validate=False, epochs=epochs, log=lambda *_: None)
        control = lab.evaluate(longer, model, dataset, tta=False).mpjpe_mm
    stage1 = lab.evaluate(s, lab.load_model(s, 1), dataset, tta=False).mpjpe_mm
    stage3 = evaluation(tta=False).mpjpe_mm
    expect(f"stage 1 after its {s.train_config(1).epochs} epochs (the tour)", stage1, 118.3, **TRAINED, unit="mm")
    expect(f"stage 1 alone for {epochs} epochs (the control)", control, 97.0, rel=0.10, abs=5, unit="mm")
    expect("the three stages (the tour)", stage3, 75.0, **TRAINED, unit="mm")
    explained = (stage1 - control) / (stage1 - stage3)
    print(f"  the extra epochs explain {stage1 - control:.0f} of the {stage1 - stage3:.0f} mm from stage 1 to stage 3 "
          f"({100 * explained:.0f}%); {control - stage3:.0f} mm are left for fusion and fine-tuning")
    # One seed is one draw: quick runs that differ only in their seed land up to 10% apart, so this says the
    # stages most likely help, not by how much (stage 3 also lowers the learning rate, which a longer stage 1 does
    # not). Notebook 08's ablation over seeds, and the claims experiment, are the way to measure it.
    assert 0 < explained < 1


if __name__ == "__main__":
    main(__name__)
