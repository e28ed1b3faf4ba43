"""Solutions to notebook 08's exercises (robustness lab), as code with the numbers it gives.

Run from the kit's top folder: `python notebooks/solutions/08_robustness_lab.py` (about 35 s on one CPU thread).
It reuses notebook 08's lab checkpoints (seeds 0-4 of `raw` and `raw+pos+temp`; trained if missing, seconds each)
and notebooks 03-05's quick model. Exercise 1 projects the intervals of ten seeds from five instead of training five
more (three minutes: run notebook 08 with SEEDS = list(range(10))); exercise 2 compares 2 with 4 epochs on three
seeds instead of 4 with 8 on five. Trained numbers are checked within notebook 08's tolerances (15% or 8 mm).
"""
from __future__ import annotations

import os
import sys
from functools import cache

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from solution_tools import LAB_SEEDS, expect, lab_clean_errors, main, quick, scratch_folder  # noqa: E402

from relpose import cameras, encoding  # noqa: E402
from relpose.datasets import load_dataset, without_trajectory  # noqa: E402
from relpose.lab import intervals, sim_to_real  # noqa: E402
from relpose.lab import settings as lab  # noqa: E402
from relpose.mocap import ensure_mocap  # noqa: E402
from relpose.windows import WindowSampler, flip_poses  # noqa: E402

TRAINED = dict(rel=0.15, abs=8.0)


def exercise_1():
    """Ten seeds instead of five: how much do the half-widths shrink, and could a verdict change?"""
    factor = (intervals.t_quantile(0.975, 9) / np.sqrt(10)) / (intervals.t_quantile(0.975, 4) / np.sqrt(5))
    expect("half-width with 10 seeds / with 5 (same spread)", factor, 0.576, rel=1e-3)
    errors = lab_clean_errors()
    d = intervals.mean_interval(np.subtract(errors["raw+pos+temp"], errors["raw"]))
    projected = factor * d.half_width
    print(f"  raw+pos+temp - raw over 5 seeds: {d.mean:+.1f} +- {d.half_width:.1f} mm ({intervals.verdict_of(d)}); "
          f"with 10 seeds and the same spread: +- {projected:.1f} mm")
    expect("the paired difference's half-width, 5 seeds", d.half_width, 3.6, **TRAINED, unit="mm")
    # The intervals shrink by about 42%. A verdict changes only where the mean difference crosses the new
    # half-width: here the mean (+9.4 mm: the raw encoding better) is already far outside +-3.6 mm, so the verdict is
    # decided with five seeds and ten would only narrow it. On generator version 1's data the same recipe gave
    # +-20.8 mm and an undecided verdict: a verdict belongs to its recipe and its data. Five more seeds also move the
    # mean: only running them decides.


def exercise_2():
    """Train longer: does the difference between encodings, or the seed spread, grow with training?"""
    seeds = LAB_SEEDS[:3]
    four = {e: v[:3] for e, v in lab_clean_errors().items()}
    with scratch_folder() as folder:       # the 2-epoch runs: in their own folder, trained each time (seconds each)
        two = lab_clean_errors(seeds=seeds, epochs=2, checkpoint_dir=folder)
    for label, errs in (("2 epochs", two), ("4 epochs", four)):
        d = np.subtract(errs["raw+pos+temp"], errs["raw"])
        spread = max(np.std(v, ddof=1) for v in errs.values())
        print(f"  {label}: raw {np.mean(errs['raw']):.1f}, raw+pos+temp {np.mean(errs['raw+pos+temp']):.1f} mm; "
              f"difference {d.mean():+.1f} mm; largest seed std {spread:.1f} mm (seeds 0-2)")
    expect("2 epochs: raw, mean of seeds 0-2", float(np.mean(two["raw"])), 157.4, **TRAINED, unit="mm")
    expect("4 epochs: raw, mean of seeds 0-2", float(np.mean(four["raw"])), 120.4, **TRAINED, unit="mm")
    assert np.mean(four["raw"]) < np.mean(two["raw"])
    # Longer training lowers every encoding's error (by ~35 mm from 2 to 4 epochs) and halves the seed spread;
    # the difference between the encodings grows a little (+8 to +11 mm, raw ahead), on three seeds. Whether it
    # keeps growing is what EPOCHS = 8 in notebook 08 measures: report it either way (it names the recipe
    # 'ablation-quick-e8' and retrains rather than reuse the 4-epoch checkpoints).


def exercise_3():
    """Why a translation-invariant input cannot do: perspective makes the root-relative 2D depend on position."""
    s = quick()
    dataset = lab.load_data(s)
    cam = dataset.cameras["S9"][0]
    pose = dataset.positions_3d["S9"]["Walking"][0][100]           # camera space, metres: joint 0 holds the root's
    relative = without_trajectory(pose[None])[0]                   # position, the others are root-relative
    depth = float(pose[0, 2])
    f = cam["intrinsic"][:2] * cam["res_w"] / 2                    # focal length in pixels

    def root_relative_2d(root_xy_px):
        # the same 3D pose with its root seen at pixel offset root_xy_px from the principal point, same depth
        root = np.array([root_xy_px[0] / f[0] * depth, root_xy_px[1] / f[1] * depth, depth])
        px = cameras.image_coordinates(cameras.project_to_2d_linear(relative + root, cam["intrinsic"]),
                                       cam["res_w"], cam["res_h"])
        return px - px[:1]

    centre, edge = root_relative_2d((0, 0)), root_relative_2d((400, 0))
    shift = float(np.linalg.norm(centre - edge, axis=-1).max())
    expect("largest change of the root-relative 2D, same 3D pose at the centre and 400 px aside", shift, 27.2,
           rel=0.05, unit="px")
    # The same root-relative 3D pose looks different, root-relative, at another place in the image (perspective:
    # it is seen from another direction). So the mapping from root-relative 2D to root-relative 3D depends on
    # where the person is, mostly through the viewing direction of the root; a fully invariant input throws that
    # away. This is why RIE keeps the raw block.


def translate_windows(windows: torch.Tensor, max_px: float, res_w: int, generator: torch.Generator) -> torch.Tensor:
    """Training-time translation augmentation: one random offset per window (the same for every frame and joint),
    uniform in direction, up to max_px pixels, in normalised units (2 px / w)."""
    n = windows.shape[0]
    angle = torch.rand(n, generator=generator) * 2 * torch.pi
    radius = torch.rand(n, generator=generator) * max_px * 2 / res_w
    offset = torch.stack([radius * torch.cos(angle), radius * torch.sin(angle)], dim=-1)
    return windows + offset[:, None, None, :]


def exercise_4():
    """Translation augmentation: where it goes, and what it must not break."""
    s = quick()
    dataset = lab.load_data(s)
    cfg = s.train_config(1)
    _, poses_3d, poses_2d = dataset.fetch(["S1"], subset=0.05, downsample=cfg.downsample)
    sampler = WindowSampler(poses_2d, poses_3d, batch_size=64, pad=13, shuffle=True, augment=False, seed=0)
    windows, _ = next(iter(sampler))
    shifted = translate_windows(windows, 200, 1000, torch.Generator().manual_seed(0))
    offsets = (shifted - windows)[:, 0, 0] * 1000 / 2
    assert float(offsets.norm(dim=-1).max()) <= 200 + 1e-3
    # The relative blocks do not see it; the raw block does, which is the point:
    for name, f in (("positional", encoding.positional_encoding), ("temporal", encoding.temporal_encoding)):
        assert torch.allclose(f(shifted), f(windows), atol=1e-6), name
    # Flip augmentation must mirror the shifted input (flip after shifting), so the mirrored offset goes with it:
    flipped = flip_poses(shifted, dataset.kps_left, dataset.kps_right)
    assert torch.allclose(flipped, flip_poses(windows, dataset.kps_left, dataset.kps_right)
                          + (shifted - windows) * torch.tensor([-1.0, 1.0]))
    print(f"  64 windows shifted by up to 200 px (mean {float(offsets.norm(dim=-1).mean()):.0f} px)")
    # Where: in relpose.windows.WindowSampler (or right after it in the training loop), for training batches only;
    # the 3D target stays as it is. The shift distribution: the one the test probes (uniform directions, up to the
    # sweep's largest translation), or the spread of root positions seen across the training cameras.


@cache
def gap():
    s = quick()
    ensure_mocap(s.data_dir, "det", log=lambda *_: None)
    mocap = load_dataset("mocap", "det", s.data_dir)
    synth = lab.load_data(s)
    return sim_to_real.sim_to_real_gap(lab.load_model(s, 3), synth, mocap, downsample=s.train_config(3).downsample,
                                       synth_cameras=[0]), synth.skeleton.joint_names


def exercise_5():
    """Closing the gap: which joint, is it an approximate point, and what changes the gap table?"""
    g, names = gap()
    diff = g.mocap.per_joint_mm - g.synth.per_joint_mm
    worst = names[int(np.argmax(diff))]
    approximate = ("Spine", "Thorax", "Nose", "Head")          # relpose.mocap.deepmimic.to_h36m17 makes these up
    print(f"  largest gap: {worst} (+{diff.max():.0f} mm); approximate points: " +
          ", ".join(f"{n} +{diff[names.index(n)]:.0f}" for n in approximate))
    expect("gap, all clips (Protocol #1)", g.gap_mm, 141.4, **TRAINED, unit="mm")
    assert worst not in approximate
    upright = [c for c in g.mocap.per_action if c.startswith(("walk", "run", "jump", "kick", "punch", "dance"))]
    on_upright = float(np.mean([g.mocap.per_action[c][0] for c in upright]))
    expect(f"mocap MPJPE on the {len(upright)} upright clips (walks, run, jump, kick, punch, dances)", on_upright,
           94.5, **TRAINED, unit="mm")
    expect("mocap MPJPE on all 20 clips", g.mocap.mpjpe_mm, 199.0, **TRAINED, unit="mm")
    # The largest gap is at a real joint (a foot, +308 mm when this was written), not at the approximate points
    # (+62 to +202 mm), and the clips the Human3.6M-shaped set has no counterpart for (crawling, getting up,
    # cartwheels, flips, rolls) carry most of it: on the 12 upright clips the error is 94 mm, on all 20 199 mm. The
    # motion, not the mapping. Changing the generator's motion and retraining is the honest way to close it (training
    # on the clips is not: they are the test set), and notebook 08's section 6 shows both tries: a few floor takes
    # within Human3.6M's actions did not help the quick model; the broad set -d synthwild helped the in-the-wild model.


if __name__ == "__main__":
    main(__name__)
