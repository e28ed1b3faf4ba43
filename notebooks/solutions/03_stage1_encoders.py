"""Solutions to notebook 03's exercises (stage 1: the encoders), as code with the numbers it gives.

Run from the kit's top folder: `python notebooks/solutions/03_stage1_encoders.py` (about 20 s on one CPU thread).
Exercise 3 shows its mechanism on the trained stage-1 model instead of retraining it (the retraining is the
exercise: two minutes), exercise 5 trains a few short epochs, exercise 2 reuses notebook 08's lab (five seeds per
encoding). Counts are
checked exactly; the millimetres of short runs within 15% or 5 mm (notebook 03's tolerance for trained numbers).
"""
from __future__ import annotations

import copy
import dataclasses
import math
import os
import sys
from functools import cache

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from solution_tools import (expect, from_scratch, lab_clean_errors, main, quick, scratch_folder,  # noqa: E402
                            short_run, validation_set)

from relpose import checkpoints, train, weights  # noqa: E402
from relpose.evaluate import validation_mpjpe  # noqa: E402
from relpose.lab import intervals, presets  # noqa: E402
from relpose.lab import settings as lab  # noqa: E402
from relpose.model import RIEModel  # noqa: E402
from relpose.windows import Flip, WindowSampler, gather_windows  # noqa: E402

TRAINED = dict(rel=0.15, abs=5.0)
LAB = dict(rel=0.15, abs=8.0)      # notebook 08's tolerance for its lab's errors


@cache
def setup():
    s = quick()
    dataset = lab.load_data(s)
    return s, dataset, validation_set(dataset, ["S9"])


def exercise_1():
    """Receptive field and parameters of the local encoders for filter widths (3,3,3,3,3) and (3,3,3)."""
    s, dataset, _ = setup()
    cfg = s.model_config(dataset, 1)
    counts = {}
    for widths in ((3, 3, 3, 3, 3), (3, 3, 3)):
        model = RIEModel(dataclasses.replace(cfg, filter_widths=widths))
        counts[widths] = model.parameter_counts()
        print(f"  widths {widths}: receptive field {model.receptive_field()} frames, local encoders "
              f"{counts[widths]['local encoders']:,d}, global encoder {counts[widths]['global encoder']:,d} parameters")
    long, short = counts[(3, 3, 3, 3, 3)], counts[(3, 3, 3)]
    assert (long["local encoders"], short["local encoders"]) == (373_824, 207_424)
    assert long["global encoder"] == short["global encoder"] == 291_136
    # Each extra block adds, per body part, a width-3 convolution (64 x 64 x 3), a 1x1 convolution (64 x 64) and two
    # BatchNorm layers (2 x 2 x 64): 12,288 + 4,096 + 256 = 16,640; five parts, 83,200 per block.
    assert (long["local encoders"] - short["local encoders"]) == 2 * 5 * (64 * 64 * 3 + 64 * 64 + 4 * 64)
    # The global encoder reads only the centre frame, whatever the window's length: its size does not change.


def exercise_2():
    """Stage 1 with encoding='raw' (VideoPose3D's input) against 'raw+pos+temp'."""
    errors = lab_clean_errors()        # notebook 08's lab: a smaller stage-1 recipe, five seeds each
    for encoding, values in errors.items():
        print(f"  {encoding}: mean {np.mean(values):.1f} mm over seeds 0-4 ({min(values):.1f}-{max(values):.1f})")
    difference = intervals.mean_interval(np.subtract(errors["raw+pos+temp"], errors["raw"]))
    expect("raw, mean over five seeds", float(np.mean(errors["raw"])), 126.1, **LAB, unit="mm")
    expect("raw+pos+temp, mean over five seeds", float(np.mean(errors["raw+pos+temp"])), 132.3, **LAB, unit="mm")
    print(f"  paired difference: {difference.mean:+.1f} mm [{difference.low:+.1f}, {difference.high:+.1f}]: "
          f"{intervals.verdict_of(difference)}")
    # One quick run of each (what the exercise asks) lands anywhere within these seed ranges: it cannot decide.


def batches_per_epoch(cfg) -> int:
    s, dataset, _ = setup()
    return math.ceil(presets.training_windows(dataset, s.subjects_train, cfg) / cfg.batch_size)


def end_for_one_epoch() -> float:
    """BN_MOMENTUM_END that makes the quick recipe's last epoch average over one epoch (m = 1/batches)."""
    cfg = setup()[0].train_config(1)
    E, start = cfg.epochs, train.BN_MOMENTUM_START
    # the last epoch uses m = start * (end / start) ** ((E - 1) / E); solve m = 1 / batches for end
    return start * (1 / (batches_per_epoch(cfg) * start)) ** (E / (E - 1))


@cache
def trained_stage1():
    s, dataset, valid = setup()
    model = lab.load_model(s, 1)
    return model, validation_mpjpe(model, *valid)


def statistics_from(momentum: float, batches: int) -> float:
    """Validation MPJPE (S9) of the trained stage-1 model after its temporal encoders' running BatchNorm statistics
    were re-estimated over `batches` training batches with `momentum` (weights unchanged): what a training run
    ending with that momentum would have kept."""
    s, dataset, valid = setup()
    model = copy.deepcopy(trained_stage1()[0]).eval()
    model.set_bn_momentum(momentum)
    for enc in model.local_encoders():
        for m in enc.modules():
            if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
                m.train()                      # only these update; dropout and the FC blocks' statistics stay put
    cfg = s.train_config(1)
    _, poses_3d, poses_2d = dataset.fetch(s.subjects_train, subset=cfg.subset, downsample=cfg.downsample)
    sampler = WindowSampler(poses_2d, poses_3d, batch_size=cfg.batch_size, pad=model.config.pad(), shuffle=True,
                            augment=True, flip=Flip.from_dataset(dataset), seed=cfg.seed)
    with torch.no_grad():
        for _, (inputs_2d, _) in zip(range(batches), sampler):
            model(inputs_2d)
    return validation_mpjpe(model, *valid)


def exercise_3():
    """A constant BatchNorm momentum of 0.1: does the gap between training and validation error change?"""
    # Retraining the notebook's 6 epochs with a constant momentum takes two minutes: that is the exercise. Its
    # mechanism in seconds: the trained model's weights, with the running statistics a run would keep with a
    # constant 0.1 (the last ~10 batches, re-estimated over 30) instead of the schedule's (~465 batches).
    _, stored = trained_stage1()
    constant = statistics_from(0.1, 30)
    expect("stored statistics (the schedule): validation MPJPE (S9)", stored, 68.5, **TRAINED, unit="mm")
    expect("statistics of the last ~10 batches (m = 0.1)", constant, 63.6, **TRAINED, unit="mm")
    # The same weights, 5 mm apart by their running statistics alone. The schedule's statistics average over
    # ~5 epochs (exercise 4), during which the weights kept changing: they describe older weights, and here the
    # recent statistics fit the final weights better. With a constant 0.1 the validation curve follows the latest
    # weights (lower here) but jumps more from epoch to epoch, as the last ~10 batches vary; the gap between the
    # training and the validation curve narrows by about this much at the end of training.


def exercise_4():
    """Over how many epochs do the running statistics average in the last epoch?"""
    s = setup()[0]
    cfg = s.train_config(1)
    batches = batches_per_epoch(cfg)
    last = train.bn_momentum(cfg.epochs - 1, cfg.epochs)
    expect("quick recipe: batches per epoch", batches, 88)
    expect("quick recipe: momentum in the last epoch", last, 0.002154, rel=1e-3)
    expect("quick recipe: 1/m in epochs", 1 / last / batches, 5.28, rel=1e-2, unit="epochs")
    paper = presets.PAPER.train_config(1)
    paper_batches = batches_per_epoch(paper)
    paper_last = train.bn_momentum(paper.epochs - 1, paper.epochs)
    expect("paper recipe on the synthetic set: batches per epoch", paper_batches, 587)
    expect("paper recipe: momentum in the last epoch", paper_last, 0.001059, rel=1e-3)
    expect("paper recipe: 1/m in epochs", 1 / paper_last / paper_batches, 1.61, rel=1e-2, unit="epochs")
    # (The real Human3.6M has about five times the synthetic set's frames: there the paper's last-epoch
    # statistics average over about a third of an epoch.)
    end = end_for_one_epoch()
    expect("BN_MOMENTUM_END for one epoch in the quick recipe", end, 0.007356, rel=1e-3)
    saved = train.BN_MOMENTUM_END
    try:
        train.BN_MOMENTUM_END = end
        assert math.isclose(1 / train.bn_momentum(cfg.epochs - 1, cfg.epochs), batches, rel_tol=1e-9)
    finally:
        train.BN_MOMENTUM_END = saved
    # Retraining with it and comparing the validation curves is the exercise itself (two minutes in the notebook).


def exercise_5():
    """Resume a run: the new epochs continue the learning-rate schedule and the weights of an uninterrupted run."""
    s, dataset, _ = setup()
    with scratch_folder() as folder:
        short_run(s, 1, dataset, epochs=1, subset=0.02, folder=folder)
        path = os.path.join(folder, train.checkpoint_name(1, 1))
        ckpt = checkpoints.load_checkpoint(path)
        model = RIEModel(s.model_config(dataset, 1))
        weights.load_weights(model, path)
        resumed, history = short_run(s, 1, dataset, epochs=3, subset=0.02, model=model, resume=ckpt)
    assert history.epochs == [1, 2, 3]
    lr0, decay = s.train_config(1).learning_rate, s.train_config(1).lr_decay
    assert history.lr[1] == ckpt["lr"] and np.allclose(history.lr, [lr0, lr0 * decay, lr0 * decay ** 2])
    whole, _ = short_run(s, 1, dataset, epochs=3, subset=0.02)
    same = all(torch.equal(a, b) for a, b in zip(whole.state_dict().values(), resumed.state_dict().values()))
    assert same
    print(f"  learning rates {[f'{v:.6f}' for v in history.lr]}; weights equal to an uninterrupted 3-epoch run: {same}")


def exercise_6():
    """The from-scratch model with a mistake: the skip connection carries the first step of each group."""
    s, dataset, valid = setup()
    model, _ = trained_stage1()
    cfg = model.config
    windows = torch.as_tensor(np.concatenate([gather_windows(p, cfg.pad())[::50] for p in valid[1]]))
    with torch.no_grad():
        package = model(windows)
        outputs = {}
        mistake = {"x[:, :, self.width // 2::self.width]": "x[:, :, ::self.width]"}
        for label, edits in (("middle step (as published)", None), ("first step (the mistake)", mistake)):
            scratch = from_scratch(edits, notebooks=("03_stage1_encoders",))
            mine = scratch["RIE"](cfg)
            scratch["load_published"](mine, model.state_dict(), cfg.groups)
            outputs[label] = mine.eval()(windows)
    torch.testing.assert_close(outputs["middle step (as published)"], package, rtol=0, atol=0)
    wrong = outputs["first step (the mistake)"]
    try:
        torch.testing.assert_close(wrong, package, rtol=0, atol=1e-5)
        raise AssertionError("the mistake went unnoticed")
    except AssertionError as error:
        report = [line.strip() for line in str(error).splitlines() if line.strip()]
        print("  assert_close: " + "; ".join(report[:3]))
    gap = (wrong - package).abs()
    print(f"  {len(windows)} windows of S9: largest difference {gap.max().item() * 1000:.0f} mm, "
          f"mean {gap.mean().item() * 1000:.1f} mm; the published skip: bit for bit equal")
    expect("share of coordinates beyond 0.01 mm", (gap > 1e-5).float().mean().item(), 0.99, abs=0.02)
    assert gap.mean().item() > 1e-3           # millimetres off on average, far beyond float32 rounding
    # A width-w convolution turns the group of w steps centred on step w // 2 into one step, so the skip must carry
    # that same step for the sum to describe one stretch of time. Chained over the blocks, the last block's skip then
    # comes from the window's centre frame, the frame whose pose is predicted; with the first step of each group it
    # comes from earlier frames, which the trained weights never saw there.


if __name__ == "__main__":
    main(__name__)
