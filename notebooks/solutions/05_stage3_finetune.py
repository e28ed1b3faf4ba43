"""Solutions to notebook 05's exercises (stage 3: fine-tuning), as code with the numbers it gives.

Run from the kit's top folder: `python notebooks/solutions/05_stage3_finetune.py` (about 25 s on one CPU thread).
Every run starts from the notebooks' quick stage-2 checkpoint (made by notebooks 03-04, trained here if
missing) and is short, to fit the solutions' minutes: epochs on 3% of each take instead of the recipe's 30% (8
batches), validated on one camera of S9 (exercise 5: of S8, and of S9 and S11). One seed each: differences smaller
than the seed-to-seed spread of notebook 08 (several mm for quick runs) are not results. What the solutions assert
as facts are the mechanisms (a frozen part does not move; a larger step moves the encoders further); the
millimetres are checked within 15% or 5 mm of the values they gave when written (notebook 05's tolerance), since
short training moves in its last digits between CPUs and thread counts, and starts from a stage-2 model each
machine trains itself.
"""
from __future__ import annotations

import copy
import os
import sys
from functools import cache

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from solution_tools import expect, main, quick, relative_change, short_run, validate_on, validation_set  # noqa: E402

from relpose import checkpoints, train  # noqa: E402
from relpose.evaluate import validation_mpjpe  # noqa: E402
from relpose.lab import settings as lab  # noqa: E402

PARTS = {"local encoders": "LocalLayer_", "global encoder": "GlobalInfo", "fusion": "FuseBlocks",
         "decoders": "Integration_"}
TRAINED = dict(rel=0.15, abs=5.0)     # tolerance of short runs' millimetres (notebook 05's for trained numbers)
# The first epoch of exercise 1 is 8 steps from the stage-2 model: at lr 1e-3 it moved by 16% between CPU settings
# (on generator version 1's data: 77.6 mm stored, 89.7 under MKL_CBWR=COMPATIBLE with one thread).
EIGHT_STEPS = dict(rel=0.25, abs=5.0)
CHANGE = dict(rel=0.25, abs=0.004)    # tolerance of relative weight changes


@cache
def setup():
    s = quick()
    dataset = lab.load_data(s)
    stage2 = checkpoints.load_checkpoint(lab.ensure_checkpoint(s, 2))
    return s, dataset, stage2, validation_set(dataset, ["S9"])


@cache
def stage3_run(learning_rate: float = 5e-4, epochs: int = 2):
    """A short stage-3 run from the stage-2 checkpoint: (history, weights after each epoch)."""
    s, dataset, stage2, valid = setup()
    states = []
    snapshot = lambda end: states.append(copy.deepcopy(end.model.state_dict()))
    _, history = short_run(s, 3, dataset, epochs=epochs, previous=stage2, valid=valid, callbacks=[snapshot],
                           learning_rate=learning_rate)
    return history, states


def changes(after: dict) -> dict:
    before = setup()[2]["model_pos"]
    return {part: relative_change(before, after, prefix) for part, prefix in PARTS.items()}


@cache
def stage2_error() -> float:
    """The stage-2 model's validation MPJPE on the same frames: where stage 3 starts."""
    s, _, _, valid = setup()
    return validation_mpjpe(lab.load_model(s, 2), *valid)


def exercise_1():
    """Fine-tune with the stage-1/2 learning rate (1e-3) instead of 5e-4."""
    results = {lr: stage3_run(lr, 1 if lr == 1e-3 else 2) for lr in (5e-4, 1e-3)}
    expect("stage 2, where stage 3 starts: validation MPJPE (S9)", stage2_error(), 64.8, **TRAINED, unit="mm")
    expected = {5e-4: (63.7, {"local encoders": 0.0127, "global encoder": 0.0192, "fusion": 0.0210,
                              "decoders": 0.0200}),
                1e-3: (66.0, {"local encoders": 0.0237, "global encoder": 0.0379, "fusion": 0.0405,
                              "decoders": 0.0385})}
    for lr, (mm, parts) in expected.items():
        history, states = results[lr]
        expect(f"lr {lr:g}: validation MPJPE after the first epoch (S9)", history.eval_mpjpe_mm[0], mm, **EIGHT_STEPS,
               unit="mm")
        for part, value in changes(states[0]).items():
            expect(f"lr {lr:g}: {part}, relative change in the first epoch", value, parts[part], **CHANGE)
    small, large = (changes(results[lr][1][0])["local encoders"] for lr in (5e-4, 1e-3))
    first = {lr: results[lr][0].eval_mpjpe_mm[0] for lr in (5e-4, 1e-3)}
    print(f"  first epoch, lr 1e-3 minus lr 5e-4: {first[1e-3] - first[5e-4]:+.1f} mm; "
          f"lr 1e-3 minus stage 2: {first[1e-3] - stage2_error():+.1f} mm")
    # Adam's step is about lr per parameter: twice the rate moves every part nearly twice as far (the mechanism,
    # asserted for the local encoders). What that does to the error is not decided by one short run: both rates'
    # 8 steps land within a few mm of stage 2's error (65 -> 64 mm at 5e-4, 65 -> 66 mm at 1e-3; the BatchNorm
    # momentum restarts at 0.1 as well), the larger rate 2 mm above the smaller, less than its first epoch moves
    # between CPU settings (16%, EIGHT_STEPS) or between seeds (several mm). On generator version 1's data the
    # larger rate landed 10 mm above the smaller and far above stage 2 (a large step undoing part of stage 2); on
    # this data that no longer shows.
    assert 1.4 < large / small < 2.5, (small, large)


def exercise_2():
    """Continue stage 2 (encoders frozen) instead of unfreezing them."""
    s, dataset, stage2, valid = setup()
    model = lab.load_model(s, 2)
    done = int(stage2["epoch"])
    _, history = short_run(s, 2, dataset, model=model, epochs=done + 1, valid=valid, resume=stage2)
    state = model.state_dict()
    moved = changes(state)
    assert moved["local encoders"] == 0.0 and moved["global encoder"] == 0.0, moved   # frozen: exactly unchanged
    finetuned, _ = stage3_run()
    expect("stage 2 continued one epoch: validation MPJPE (S9)", history.eval_mpjpe_mm[-1], 69.0, **TRAINED, unit="mm")
    expect("stage 3, one epoch: validation MPJPE (S9)", finetuned.eval_mpjpe_mm[0], 67.8, **TRAINED, unit="mm")
    # One short epoch each, one seed: the difference is within the seed-to-seed spread, so this does not decide
    # how much of stage 3's gain comes from unfreezing; several seeds would (notebook 08's paired intervals).


def exercise_3():
    """Start stage 3's BatchNorm momentum at stage 2's last value instead of 0.1."""
    s = setup()[0]
    epochs2 = s.train_config(2).epochs
    last = train.bn_momentum(epochs2 - 1, epochs2)          # the momentum stage 2's last epoch used
    expect("stage 2's last momentum", last, 0.0046, abs=5e-5)
    default, _ = stage3_run()
    saved = train.BN_MOMENTUM_START
    try:
        train.BN_MOMENTUM_START = last
        stage3_run.cache_clear()
        patched, _ = stage3_run()
    finally:
        train.BN_MOMENTUM_START = saved
        stage3_run.cache_clear()
    for label, h, expected in (("momentum from 0.1", default, (67.8, 65.3)), (f"momentum from {last:.4f}", patched,
                                                                           (66.8, 66.4))):
        for epoch, mm in enumerate(expected, 1):
            expect(f"{label}: validation MPJPE after epoch {epoch} (S9)", h.eval_mpjpe_mm[epoch - 1], mm, **TRAINED,
                   unit="mm")
    # With a small momentum the running statistics average over ~1/m = 200 batches: they lag the changing weights
    # (here they keep mostly stage 2's statistics through 16 steps), so the curve is smoother but describes older
    # weights; with 0.1 they follow the last ~10 batches. Two short epochs cannot show smoothness (the two curves
    # fall alike here); the exercise needs the recipe's 3 epochs and several seeds.


def exercise_4():
    """Seconds per epoch of the three stages, from the notebooks' checkpoints."""
    s = setup()[0]
    for stage in (1, 2, 3):
        h = lab.load_history(lab.ensure_checkpoint(s, stage))
        seconds, rate = np.mean(h["seconds"]), np.mean(h["frames_per_second"])
        assert np.isfinite(seconds) and seconds > 0
        print(f"  stage {stage}: {seconds:.1f} s per epoch, {rate:.0f} training windows per second")
    # Not asserted: timings on a shared 2-core machine vary by 10-20% between epochs. Every stage runs the whole
    # forward pass. Stage 2 saves only the encoders' backward pass, while its fusion blocks and wider decoders add
    # fully connected work; in the quick configuration the fully connected layers hold most of the parameters
    # (2.3 M of 2.5 M, notebook 05 section 1), so stage 2 is not the cheapest per epoch.


def exercise_5():
    """Choose the epoch on a held-out training subject (S8), and compare with S9 and S11."""
    s, dataset, stage2, _ = setup()
    train_subjects = [x for x in s.subjects_train if x != "S8"]
    on_test = []
    _, history = short_run(s, 3, dataset, epochs=3, previous=stage2, subjects=train_subjects,
                           valid=validation_set(dataset, ["S8"]),
                           callbacks=[validate_on(validation_set(dataset, s.subjects_test), into=on_test)])
    expected_s8, expected_test = (72.5, 63.1, 62.5), (71.3, 66.6, 63.1)
    for epoch in range(3):
        expect(f"epoch {epoch + 1}: S8 (held out)", history.eval_mpjpe_mm[epoch], expected_s8[epoch], **TRAINED,
               unit="mm")
        expect(f"epoch {epoch + 1}: S9 + S11 (test)", on_test[epoch], expected_test[epoch], **TRAINED, unit="mm")
    best_s8, best_test = int(np.argmin(history.eval_mpjpe_mm)) + 1, int(np.argmin(on_test)) + 1
    print(f"  best epoch by S8: {best_s8}; by S9 + S11: {best_test}")
    # Here the two agree: both curves fall at every epoch and both choose the last one (on S8 by 0.6 mm only, less
    # than a seed moves it, so the choice between epochs 2 and 3 is close). One short run cannot show that a
    # held-out subject ranks epochs as the test subjects do in general; agreeing here does not make choosing by
    # S9/S11 harmless. Choosing by a held-out training subject is honest; choosing by S9/S11 (what 'best' means in
    # the published README's recipe) tunes the choice on the test subjects and overstates the accuracy for new
    # people.


if __name__ == "__main__":
    main(__name__)
