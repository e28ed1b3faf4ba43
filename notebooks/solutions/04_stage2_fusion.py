"""Solutions to notebook 04's exercises (stage 2: fusion on frozen encoders), as code with the numbers it gives.

Run from the kit's top folder: `python notebooks/solutions/04_stage2_fusion.py` (about 20 s on one CPU thread).
Exercises 2-4 train stage 2 briefly from the notebooks' quick stage-1 checkpoint (one epoch on 10% of each take, 30
batches, validated on one camera of S9), so they show the mechanisms, one seed each; their millimetres are checked
within 15% or 5 mm (short training moves in its last digits between CPUs, from a stage-1 model each machine trains).
"""
from __future__ import annotations

import os
import sys
from functools import cache

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from solution_tools import (expect, from_scratch, main, quick, relative_change, short_run,  # noqa: E402
                            validation_set)

from relpose import checkpoints, train  # noqa: E402
from relpose.evaluate import validation_mpjpe  # noqa: E402
from relpose.lab import settings as lab  # noqa: E402
from relpose.model import RIEModel  # noqa: E402
from relpose.runtime import seed_everything  # noqa: E402

TRAINED = dict(rel=0.15, abs=5.0)
SUBSET = 0.1          # of each take: 30 batches (the recipe: 0.3, 88 batches, 3 epochs)


@cache
def setup():
    s = quick()
    dataset = lab.load_data(s)
    stage1 = checkpoints.load_checkpoint(lab.ensure_checkpoint(s, 1))
    return s, dataset, stage1, validation_set(dataset, ["S9"])


@cache
def stage2_run(hold_bn_stats: bool = False):
    """One short stage-2 epoch from the stage-1 checkpoint: (model, history)."""
    s, dataset, stage1, valid = setup()
    return short_run(s, 2, dataset, previous=stage1, valid=valid, subset=SUBSET, hold_bn_stats=hold_bn_stats)


def exercise_1():
    """The parameters of one fusion block, by hand."""
    s, dataset, _, _ = setup()
    model = RIEModel(s.model_config(dataset, 2))
    L, H = model.config.latent_dim, model.config.hidden
    by_hand = (4 * L * H + H) + 2 * (H * H + H) + (H * L + L) + 3 * 2 * H
    print(f"  L = {L}, H = {H}: (4L)H + H = {4 * L * H + H:,d}, two residual layers {2 * (H * H + H):,d}, "
          f"out {H * L + L:,d}, three BatchNorms {3 * 2 * H:,d}")
    assert by_hand == model.parameter_counts()["fusion"] // 5 == 215_360
    # BatchNorm's running mean and variance are buffers, not parameters: only weight and bias count.


def exercise_2():
    """Hold the frozen encoders' BatchNorm statistics (HOLD_BN_STATS = True) against the published behaviour."""
    s, dataset, stage1, valid = setup()
    published, held = stage2_run(False), stage2_run(True)
    expect("stage 1, where stage 2 starts: validation MPJPE (S9)", validation_mpjpe(lab.load_model(s, 1), *valid), 68.5,
           **TRAINED, unit="mm")
    expect("published (statistics follow the batches): validation MPJPE (S9)", published[1].eval_mpjpe_mm[-1], 93.0,
           **TRAINED, unit="mm")
    expect("held (stage 1's statistics): validation MPJPE (S9)", held[1].eval_mpjpe_mm[-1], 96.1, **TRAINED,
           unit="mm")
    moved = relative_change(stage1["model_pos"], held[0].state_dict(), "LocalLayer_")
    assert moved == 0.0       # held and frozen: the encoders' weights did not move
    # 3 mm apart after one short epoch, the published behaviour lower (the head is still far from trained: stage 2's
    # recipe ends near 65 mm on these frames, and the short epoch ends above stage 1, where it started). That is
    # within the seed-to-seed spread of these runs: with seeds 1 and 2 instead of the recipe's (measured once when
    # this was written) the published runs ended at 78.9 and 81.3 mm, and held minus published was -1.1 and +12.2 mm.
    # A single pair of runs does not decide it; train both over several seeds (notebook 08's paired intervals).


def exercise_3():
    """Skip the freezing: do the first epoch's validation errors improve faster or slower?"""
    s, dataset, stage1, valid = setup()
    saved = train.freeze_encoders
    try:
        train.freeze_encoders = lambda model: []
        model, history = short_run(s, 2, dataset, previous=stage1, valid=valid, subset=SUBSET)
    finally:
        train.freeze_encoders = saved
    frozen = stage2_run(False)[1]
    moved = relative_change(stage1["model_pos"], model.state_dict(), "LocalLayer_")
    expect("frozen encoders: validation MPJPE after the first epoch (S9)", frozen.eval_mpjpe_mm[-1], 93.0, **TRAINED,
           unit="mm")
    expect("unfrozen: validation MPJPE after the first epoch (S9)", history.eval_mpjpe_mm[-1], 86.5, **TRAINED,
           unit="mm")
    expect("unfrozen: the encoders' relative change", moved, 0.068, rel=0.3, abs=0.01)
    assert moved > 0.01
    # The random fusion blocks' first gradients now reach the encoders and move their weights by 7% in one short
    # epoch. In this run that does not slow the first epoch down (the unfrozen run is 6.5 mm lower, with more
    # parameters fitting the same batches; one seed); what freezing protects is the encoders' features for the later
    # epochs and stage 3, which one short epoch and one seed cannot show.


def exercise_4():
    """Stage 2 on untrained encoders: how much of the result comes from stage 1?"""
    s, dataset, _, valid = setup()
    cfg = s.train_config(2)
    seed_everything(cfg.seed)
    untrained = RIEModel(s.model_config(dataset, 2))          # random encoders, frozen by stage 2 as usual
    _, history = short_run(s, 2, dataset, model=untrained, valid=valid, subset=SUBSET)
    trained = stage2_run(False)[1]
    expect("stage 1's encoders: validation MPJPE (S9)", trained.eval_mpjpe_mm[-1], 93.0, **TRAINED, unit="mm")
    expect("random encoders: validation MPJPE (S9)", history.eval_mpjpe_mm[-1], 204.9, **TRAINED, unit="mm")
    assert history.eval_mpjpe_mm[-1] > trained.eval_mpjpe_mm[-1] + 40
    # (The same as the exercise's stage 1 with a learning rate near 0: the encoders keep their random weights.)
    # Frozen random encoders are fixed random feature extractors that nothing trains: nearly all of stage 2's
    # accuracy comes from the stage-1 encoders.


def exercise_5():
    """Fusion blocks that read all five parts, their own included: do the stage-2 weights load?"""
    s, dataset, _, _ = setup()
    scratch = from_scratch({"FCBlock((n - 1) * latent,": "FCBlock(n * latent,", " if j != k]": "]"})
    cfg = RIEModel(s.model_config(dataset, 2)).config
    model = scratch["RIEFusion"](cfg)
    stage2 = checkpoints.load_checkpoint(lab.ensure_checkpoint(s, 2))["model_pos"]
    try:
        scratch["load_published"](model, stage2, cfg.groups)
        raise AssertionError("the published stage-2 weights loaded into wider fusion blocks")
    except RuntimeError as error:
        mismatches = [line.strip() for line in str(error).splitlines() if "size mismatch" in line]
    print(f"  load_state_dict: {len(mismatches)} size mismatches, e.g. {mismatches[0]}")
    assert len(mismatches) == 5 and all("fusion." in m and ".fc_1.weight" in m for m in mismatches)
    assert "torch.Size([256, 256])" in mismatches[0] and "torch.Size([256, 320])" in mismatches[0]
    # The published blocks read (n - 1) * L = 4 x 64 features, these 5 x 64: the weights cannot be reused. Such a
    # model is trained from the stage-1 encoders again (stage 2 with new fusion blocks); whether reading the own part
    # helps is an ablation over seeds (notebook 08). The decoders already read the own feature directly.


if __name__ == "__main__":
    main(__name__)
