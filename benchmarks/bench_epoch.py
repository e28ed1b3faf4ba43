"""Epoch time of training on a Human3.6M-sized synthetic set, and the share of it spent on data.

    python benchmarks/bench_epoch.py --device cuda                 # paper configuration, fp32
    python benchmarks/bench_epoch.py --device cuda --amp           # bf16 autocast
    python benchmarks/bench_epoch.py --device cpu --size tiny --arch 3,3 --channels 32 --max-batches 20   # smoke test

The training windows stay resident on the device (relpose.windows.WindowSampler), so a batch is
one gather kernel. The epoch is timed as training runs it (nothing synchronised inside). The data
share is measured two ways: (1) the time of a pass that only draws the epoch's batches, over the
epoch time; (2) over --sync-batches further steps, the time spent inside the sampler with the
device synchronised before and after each draw, over the time of those steps.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from relpose import fastpaths  # noqa: E402
from relpose.datasets import load_dataset  # noqa: E402
from relpose.model import ModelConfig, RIEModel  # noqa: E402
from relpose.runtime import keep_freed_memory  # noqa: E402
from relpose.synth import generate  # noqa: E402
from relpose.train import make_optimizer, train_step  # noqa: E402
from relpose.windows import Flip, WindowSampler  # noqa: E402


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--size", default="h36m", help="synthetic set size preset (h36m ~ 1.5M training windows)")
    p.add_argument("--data-dir", help="use existing synthetic files here instead of generating them")
    p.add_argument("--arch", default="3,3,3,3,3")
    p.add_argument("--channels", type=int, default=256)
    p.add_argument("--latent", type=int, default=256)
    p.add_argument("--stage", type=int, default=1)
    p.add_argument("--batch", type=int, default=1024)
    p.add_argument("--amp", action="store_true")
    p.add_argument("--max-batches", type=int, default=0, help="stop an epoch early (0: full epoch)")
    p.add_argument("--sync-batches", type=int, default=200, help="steps timed with synchronised draws")
    args = p.parse_args(argv)
    device = torch.device(args.device)
    if device.type == "cpu":
        keep_freed_memory()

    data_dir = args.data_dir or tempfile.mkdtemp(prefix="relpose_epoch_")
    if not args.data_dir:
        t = time.perf_counter()
        generate(data_dir, size=args.size)
        print(f"generated the '{args.size}' synthetic set in {time.perf_counter() - t:.0f} s")
    ds = load_dataset("synth", "det", data_dir)
    _, poses_3d, poses_2d = ds.fetch(["S1", "S5", "S6", "S7", "S8"])
    cfg = ModelConfig(filter_widths=tuple(int(w) for w in args.arch.split(",")), channels=args.channels,
                      latent_dim=args.latent, stage=args.stage)
    model = fastpaths.accelerate(RIEModel(cfg).to(device).train())   # as relpose.train.train_epochs runs it
    pad = cfg.pad()
    t = time.perf_counter()
    sampler = WindowSampler(poses_2d, poses_3d, batch_size=args.batch, pad=pad, augment=False,
                            flip=Flip.from_dataset(ds), device=device)
    sync(device)
    print(f"windows resident on {device}: {sampler.num_frames()} training windows, "
          f"set up in {time.perf_counter() - t:.1f} s")
    n_batches = min(sampler.num_batches, args.max_batches or sampler.num_batches)
    opt = make_optimizer(model, 1e-3, device)

    def step(x, y):
        train_step(model, opt, x, y, device=device, amp=args.amp)

    # warm-up: kernel selection, allocator, fused optimizer state
    for i, (x, y) in enumerate(sampler):
        step(x, y)
        if i == 4:
            break

    # (1) the sampler alone
    sync(device)
    t = time.perf_counter()
    for i, (x, y) in enumerate(sampler):
        if i + 1 >= n_batches:
            break
    sync(device)
    data_only = time.perf_counter() - t

    # (2) the epoch as the training loop runs it: nothing synchronised
    frames = 0
    sync(device)
    t = time.perf_counter()
    for i, (x, y) in enumerate(sampler):
        step(x, y)
        frames += x.shape[0]
        if i + 1 >= n_batches:
            break
    sync(device)
    epoch = time.perf_counter() - t

    # (3) some steps again with the device synchronised around each draw, to time the draws alone
    n_sync = min(n_batches, args.sync_batches)
    waited = 0.0
    sync(device)
    t_sync = time.perf_counter()
    it = iter(sampler)
    for i in range(n_sync):
        sync(device)
        t = time.perf_counter()
        x, y = next(it)
        sync(device)
        waited += time.perf_counter() - t
        step(x, y)
    sync(device)
    t_sync = time.perf_counter() - t_sync

    full = "" if n_batches == sampler.num_batches else f" (first {n_batches} of {sampler.num_batches} batches)"
    print(f"epoch{full}: {epoch:.1f} s, {frames / epoch:.0f} windows/s, amp={args.amp}, "
          f"{torch.cuda.max_memory_allocated(device) / 2**30 if device.type == 'cuda' else float('nan'):.1f} GiB peak")
    print(f"data share: sampler-only pass {data_only:.2f} s = {100 * data_only / epoch:.2f}% of the epoch; "
          f"synchronised draws in {n_sync} steps {waited:.2f} s = {100 * waited / t_sync:.2f}% of those steps")

if __name__ == "__main__":
    main()
