"""Solutions to notebook 02's exercises (relative encoding), as code with the numbers it gives.

Run from the kit's top folder: `python notebooks/solutions/02_relative_encoding.py` (a few seconds on one CPU
thread; nothing is trained). Everything is computed from the synthetic set and from counts, so the numbers are
checked tightly.
"""
from __future__ import annotations

import os
import sys
from functools import cache

import numpy as np
import torch
from torch.utils.flop_counter import FlopCounterMode

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from solution_tools import expect, main, quick  # noqa: E402

from relpose import encoding  # noqa: E402
from relpose.datasets import load_dataset  # noqa: E402
from relpose.lab import presets  # noqa: E402
from relpose.lab import settings as lab  # noqa: E402
from relpose.model import ModelConfig, RIEModel, forward_dilated_sequence  # noqa: E402
from relpose.windows import gather_windows  # noqa: E402

SUBJECT, ACTION, CAMERA, FRAME = "S9", "Walking", 0, 200     # the notebook's example window
EXACT = dict(rel=1e-3, abs=1e-6)


@cache
def setup():
    s = quick()
    det = lab.load_data(s)
    gt = load_dataset("synth", "gt", s.data_dir)
    return s, det, gt


def exercise_1():
    """Detected against exact 2D: which encoding amplifies the noise, and why the centre frame stays zero."""
    s, det, gt = setup()
    pad = (int(np.prod(s.preset.filter_widths)) - 1) // 2
    windows = {k: gather_windows(torch.as_tensor(d.positions_2d[SUBJECT][ACTION][CAMERA]), pad)
               for k, d in (("det", det), ("gt", gt))}
    blocks = {"raw": lambda w: w, "positional": encoding.positional_encoding, "temporal": encoding.temporal_encoding}
    noise = {}
    for name, f in blocks.items():
        diff = f(windows["det"]) - f(windows["gt"])                      # what the detector's noise does to the block
        # RMS over the non-root joints, in pixels of the 1000 px wide image (1 normalised unit = 500 px)
        noise[name] = float(diff[..., 1:, :].square().mean().sqrt()) * 500
    expect("noise of the raw block (RMS)", noise["raw"], 4.663, rel=1e-3, unit="px")
    expect("positional / raw", noise["positional"] / noise["raw"], 1.263, rel=1e-3)
    expect("temporal / raw", noise["temporal"] / noise["raw"], 1.278, rel=1e-3)
    centre = encoding.temporal_encoding(windows["det"])[:, pad]
    assert bool((centre == 0).all())
    # Both relative blocks subtract a second noisy position (the root's, the centre frame's), adding its noise: the
    # temporal block amplifies it most, slightly ahead of the positional one. Independent noise of equal size would
    # multiply the RMS by sqrt(2) = 1.41; both stay below, because the root is among the least noisy points and the
    # synthetic detector's noise is correlated between neighbouring frames (relpose.synth.generator: lag-1 ~0.5,
    # so frames near the centre err alike). At the centre frame the temporal encoding is x_c - x_c = 0 exactly,
    # whatever the noise.


def exercise_2():
    """Scale a window about its root by 1.2: which blocks change, and by how much?"""
    s, det, _ = setup()
    pad = (int(np.prod(s.preset.filter_widths)) - 1) // 2
    window = gather_windows(torch.as_tensor(det.positions_2d[SUBJECT][ACTION][CAMERA]), pad, frames=[FRAME])[0]
    root = window[pad, 0]                             # the centre frame's root
    scaled = root + 1.2 * (window - root)             # a person 1.2 times larger in the image, about the root
    for name, f in (("positional", encoding.positional_encoding), ("temporal", encoding.temporal_encoding)):
        assert torch.allclose(f(scaled), 1.2 * f(window), atol=1e-6), name       # both scale by exactly 1.2
    change = float((scaled - window).abs().max() / (window - root).abs().max())
    expect("raw block: largest change / largest distance from the root", change, 0.2, **EXACT)
    # The raw block moves by 20% of each point's distance from the root; the relative blocks scale by exactly 1.2.
    # A scale-normalised encoding (divided by the person's size) would remove the cue the model uses for depth,
    # apparent size: the absolute scale of the 3D pose would become ambiguous.


def exercise_3():
    """A sequence exactly one receptive field long: the dilated pass equals the window-by-window one."""
    s, det, _ = setup()
    rf = int(np.prod(s.preset.filter_widths))
    seq = torch.as_tensor(det.positions_2d[SUBJECT][ACTION][CAMERA])[:rf]         # T = 1 output frame
    torch.manual_seed(0)
    model = RIEModel(s.preset.model_config(det, 3, encoding="raw+temp")).eval()
    with torch.no_grad():
        per_window = model(seq[None])[:, 0]
        dilated = forward_dilated_sequence(model, seq[None])[0]
    gap = float((per_window - dilated).abs().max())
    expect("largest difference, raw+temp, T = 1", gap, 0.0, abs=1e-5, unit="m")
    # With one output frame the sequence's centre is the window's centre, so the naive whole-sequence temporal
    # encoding is the per-window one. With T > 1 they differ (notebook 02, section 6).


def group_joints(name: str):
    s, det, _ = setup()
    return next(g.joints for g in det.skeleton.groups if g.name == name)


def encoder_macs(widths, c_in: int, channels: int, latent: int, frames: int, per_window: bool) -> int:
    """Multiply-adds of one temporal encoder for `frames` output frames (notebook 02, section 7): per window, every
    frame's window runs alone; dilated, each layer runs once over the sequence, a few positions beyond its ends."""
    rf = int(np.prod(widths))
    if per_window:
        macs, seen = rf * c_in * channels, widths[0]
        for w in widths[1:]:
            seen *= w
            macs += rf // seen * (w + 1) * channels ** 2
        return frames * (macs + channels * latent)
    length, dilation = frames + rf - widths[0], widths[0]          # first layer's output positions
    macs = length * widths[0] * c_in * channels
    for w in widths[1:]:
        length -= (w - 1) * dilation
        macs += length * (w + 1) * channels ** 2
        dilation *= w
    return macs + frames * channels * latent


def exercise_4():
    """At which receptive field does one window per frame cost 10x the dilated form (torso, 256 channels)?"""
    c_in = len(group_joints("Torso")) * encoding.channels_per_joint("raw+pos+temp")      # 30 input channels
    frames = 500                                                                         # notebook 02's T

    def ratio(k: int, channels: int = 256) -> float:
        widths = (3,) * k
        return (encoder_macs(widths, c_in, channels, 256, frames, True)
                / encoder_macs(widths, c_in, channels, 256, frames, False))

    ratios = {3 ** k: ratio(k) for k in range(2, 8)}
    print("  receptive field: ratio  " + ", ".join(f"{r}: {v:.1f}" for r, v in ratios.items()))
    expect("ratio at 243 frames (notebook 02's table)", ratios[243], 8.45, rel=1e-3)
    first = min(r for r, v in ratios.items() if v >= 10)
    expect("the first receptive field 3^k where the per-window form costs 10x", first, 729)
    by_channels = {c: ratio(5, c) for c in (64, 256, 1024)}
    print("  at 243 frames: " + ", ".join(f"{c} channels {v:.1f}" for c, v in by_channels.items()))
    assert by_channels[64] > by_channels[256] > by_channels[1024]
    # The per-window form pays the first layer R/w1 times over: the ratio grows with the receptive field (at 729
    # frames it passes 10 with T = 500 output frames; ignoring the dilated pass's extra positions at the sequence
    # ends it would pass 10 already at 243). More channels make the C^2 terms, paid alike in both forms in the
    # later layers, weigh more: the ratio shrinks.


def exercise_5():
    """The fusion module's multiply-adds in the paper configuration, against the temporal encoders."""
    s, det, _ = setup()
    p = presets.PAPER
    cfg = ModelConfig(num_joints=det.skeleton.num_joints, groups=det.skeleton.groups, filter_widths=p.filter_widths,
                      channels=p.channels, latent_dim=p.latent_dim, hidden=p.hidden, stage=3, encoding="raw+pos+temp")
    model = RIEModel(cfg).eval()
    window = torch.zeros(1, cfg.receptive_field(), det.skeleton.num_joints, 2)
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(window)
    counts = {k: sum(v.values()) // 2 for k, v in counter.get_flop_counts().items()}
    fusion = sum(v for k, v in counts.items() if k.count(".") == 2 and k.startswith("RIEModel.FuseBlocks."))
    encoders = sum(v for k, v in counts.items() if k.startswith("RIEModel.LocalLayer_") and k.count(".") == 1)
    total = counts["RIEModel"]
    expect("fusion blocks, million multiply-adds per output frame", fusion / 1e6, 17.04, rel=1e-3)
    expect("temporal encoders (five parts, one window)", encoders / 1e6, 59.10, rel=1e-3)
    expect("whole model", total / 1e6, 95.10, rel=1e-3)
    # By hand: 5 x (4*256*1024 + 2*1024^2 + 1024*256) = 17.0 M, the weights of five FCBlocks. With one window per
    # output frame the encoders still cost over three times the fusion at 243 frames; with VideoPose3D's shared
    # dilated pass they would cost 1/8.4 of that, and the fully connected layers would take most of the time.


if __name__ == "__main__":
    main(__name__)
