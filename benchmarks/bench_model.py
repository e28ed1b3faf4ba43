"""Training and evaluation throughput of the RIE model, FLOPs per window, and the machine's matmul peak.

    python benchmarks/bench_model.py                   # both configurations, stages 1 and 3, fp32 and --amp
    python benchmarks/bench_model.py --config small --steps 3 --no-amp
    python benchmarks/bench_model.py --device cuda     # on a GPU
    python benchmarks/bench_model.py --config quick,lab --stages 1 --variants plain,fp32   # the fast paths' gain

For every (configuration, stage) it measures, in one run on the same machine:
- train: windows/s of a full training step (window gather from resident sequences, forward, loss,
  backward, fused AdamW step) at batch 1024 (the quick and lab recipes: 512), median over steps after a warm-up step;
- eval: windows/s of the evaluation forward pass with test-time augmentation (original and
  flipped windows in one batch), i.e. 2 windows per test frame;
- a baseline of the same computation done the straightforward way (per-window Python gather,
  the flipped windows as a second forward pass, a per-tensor optimizer step), so the gains are
  ratios measured in the same run;
- plain: the kit's training step and evaluation with the model's plain PyTorch ops, without the
  CPU fast paths of relpose.fastpaths (so fp32/plain is what the fast paths alone give);
- FLOPs per window (torch.utils.flop_counter) and the achieved GFLOP/s beside the machine's
  measured fp32 (and bf16) matmul GFLOP/s.

`--variants parts,grouped` compares the five body parts run one after another (the per-module fast forms) with
the five as one batched computation (relpose.grouped; by default the kit groups on CUDA only).

On CUDA, `--variants ...,graph,amp-graph` adds an experiment: the whole training step (forward,
backward, optimizer) and the evaluation forward pass captured once as a CUDA graph and replayed,
one launch instead of thousands, since at batch 1024 the GPU step is bound by kernel launches.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import statistics
import subprocess
import sys
import time

import numpy as np
import torch
from torch.utils.flop_counter import FlopCounterMode

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from relpose.evaluate import predict_sequence  # noqa: E402
from relpose import fastpaths  # noqa: E402
from relpose.grouped import grouping_on  # noqa: E402
from relpose.model import ModelConfig, RIEModel  # noqa: E402
from relpose.runtime import autocast, cpu_has_bf16, keep_freed_memory  # noqa: E402
from relpose.skeleton import H36M_17  # noqa: E402
from relpose.train import train_step  # noqa: E402
from relpose.windows import Flip, WindowSampler, flip_poses  # noqa: E402

CONFIGS = {
    # the published small ablation configuration and the paper's configuration
    "small": dict(filter_widths=(3, 3, 3), channels=64, latent_dim=32, hidden=1024),
    "paper": dict(filter_widths=(3, 3, 3, 3, 3), channels=256, latent_dim=256, hidden=1024),
    # the kit's quick recipe (relpose.lab.presets.QUICK) and the lab's ablation recipe
    # (relpose.lab.ablation.ABLATION_PRESET), each trained at batch 512
    "quick": dict(filter_widths=(3, 3, 3), channels=64, latent_dim=64, hidden=256),
    "lab": dict(filter_widths=(3, 3), channels=32, latent_dim=32, hidden=128),
}
BATCH = {"quick": 512, "lab": 512}   # the recipes' batch sizes; the others train at --batch (1024)
# Reference figures of the published implementation on this kind of machine (issue #4), windows/s.
REFERENCE = {("small", 1, "train"): 990, ("paper", 1, "train"): 115, ("paper", 3, "eval"): 380}
LEFT, RIGHT = list(H36M_17.joints_left), list(H36M_17.joints_right)


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def timed(fn, device, repeats):
    times = []
    for _ in range(repeats):
        sync(device)
        t0 = time.perf_counter()
        fn()
        sync(device)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def matmul_gflops(device, dtype, n=2048, repeats=5):
    a = torch.randn(n, n, device=device, dtype=dtype)
    b = torch.randn(n, n, device=device, dtype=dtype)
    a @ b
    t = timed(lambda: a @ b, device, repeats)
    return 2 * n ** 3 / t / 1e9


def flops_per_window(model, rf, device, backward=False):
    x = torch.randn(8, rf, 17, 2, device=device)
    counter = FlopCounterMode(display=False)
    with counter:
        out = model(x)
        if backward:
            out.sum().backward()
    model.zero_grad(set_to_none=True)
    return counter.get_total_flops() / 8


def sequences(n_seq, frames, seed=0):
    rng = np.random.default_rng(seed)
    p2 = [rng.normal(size=(frames, 17, 2)).astype(np.float32) * 0.3 for _ in range(n_seq)]
    p3 = [rng.normal(size=(frames, 17, 3)).astype(np.float32) * 0.2 for _ in range(n_seq)]
    return p2, p3


def captured(fn, static_inputs, warmup=3):
    """CUDA-graph `fn` (which reads only `static_inputs`); returns replay(*inputs) -> fn's static output."""
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):  # warm up off the default stream, as torch.cuda.graph requires
        for _ in range(warmup):
            fn()
    torch.cuda.current_stream().wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        out = fn()

    def replay(*inputs):
        for static, new in zip(static_inputs, inputs):
            static.copy_(new)
        graph.replay()
        return out
    return replay


def bench_train(cfg, stage, device, batch, steps, amp, baseline, graph=False):
    torch.manual_seed(0)
    model = RIEModel(ModelConfig(stage=stage, **cfg)).to(device).train()
    fastpaths.accelerate(model)   # as relpose.train.train_epochs does (a no-op for the plain variants)
    pad = (model.receptive_field() - 1) // 2
    p2, p3 = sequences(8, 2000)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, amsgrad=True,
                            **({"foreach": False} if baseline else {"fused": True, "capturable": graph}))
    if baseline:
        # straightforward batches: pad every window separately in a Python loop, then copy to the device
        rng = np.random.default_rng(0)
        pairs = [(s, t) for s in range(len(p2)) for t in range(len(p2[s]))]

        def batches():
            while True:
                idx = rng.choice(len(pairs), batch, replace=False)
                xs, ys = [], []
                for i in idx:
                    s, t = pairs[i]
                    lo, hi = t - pad, t + pad + 1
                    w = p2[s][max(lo, 0):min(hi, len(p2[s]))]
                    w = np.pad(w, ((max(0, -lo), max(0, hi - len(p2[s]))), (0, 0), (0, 0)), mode="edge")
                    xs.append(w)
                    ys.append(p3[s][t:t + 1])
                yield torch.from_numpy(np.stack(xs)).to(device), torch.from_numpy(np.stack(ys)).to(device)
        it = batches()
    else:
        sampler = WindowSampler(p2, p3, batch_size=batch, pad=pad, augment=True, flip=Flip.of(H36M_17),
                                device=device)

        def forever():
            while True:
                yield from sampler
        it = forever()

    def step():
        x, y = next(it)
        train_step(model, opt, x, y, device=device, amp=amp)

    if graph:
        # train_step sets the gradients to None before backward, so the captured backward allocates
        # them from the graph's pool and every replay writes them in place.
        static_x, static_y = (t.clone() for t in next(it))
        replay = captured(lambda: train_step(model, opt, static_x, static_y, device=device, amp=amp),
                          (static_x, static_y))

        def step():
            replay(*next(it))

    for _ in range(3):  # warm-up: the allocator's pools, oneDNN's kernel choices, the optimizer state
        step()
    return batch / timed(step, device, steps)


@torch.no_grad()
def bench_eval(cfg, stage, device, frames, steps, amp, baseline, graph=False):
    torch.manual_seed(0)
    model = RIEModel(ModelConfig(stage=stage, **cfg)).to(device).eval()
    fastpaths.accelerate(model)   # as relpose.evaluate.predict_sequence does (a no-op for the plain variants)
    seq = torch.from_numpy(sequences(1, frames)[0][0]).to(device)
    pad = (model.receptive_field() - 1) // 2

    if baseline:
        # the flipped windows as a second forward pass, windows gathered per frame in Python
        def run():
            padded = torch.cat([seq[:1].expand(pad, -1, -1), seq, seq[-1:].expand(pad, -1, -1)])
            wins = torch.stack([padded[t:t + 2 * pad + 1] for t in range(frames)])
            with autocast(device, amp):
                a = model(wins)
                b = model(flip_poses(wins, LEFT, RIGHT))
            return (a + flip_poses(b, LEFT, RIGHT)) / 2
    elif graph:
        # predict_sequence's work with the model's forward pass captured (gather and flips stay eager)
        padded = torch.cat([seq[:1].expand(pad, -1, -1), seq, seq[-1:].expand(pad, -1, -1)])
        index = torch.arange(frames, device=device)[:, None] + torch.arange(2 * pad + 1, device=device)
        static = torch.cat([padded[index], flip_poses(padded[index], LEFT, RIGHT)])

        def forward():
            with autocast(device, amp):
                return model(static)[:, 0].float()
        replay = captured(forward, (static,))

        def run():
            wins = padded[index]
            pred = replay(torch.cat([wins, flip_poses(wins, LEFT, RIGHT)]))
            return (pred[:frames] + flip_poses(pred[frames:], LEFT, RIGHT)) / 2
    else:
        def run():
            return predict_sequence(model, seq, tta=True, flip=Flip.of(H36M_17),
                                    batch_size=2 * frames, device=device, amp=amp)
    run()
    return 2 * frames / timed(run, device, steps)  # two windows per test frame with TTA


VARIANTS = ("baseline", "plain", "parts", "fp32", "grouped", "amp", "graph", "amp-graph")


def measure(config, stage, kind, variant, device, batch, steps, eval_frames):
    """One measurement, in this process: windows/s of `variant`."""
    # 'plain' is the kit with the model's plain modules (fastpaths.disabled(): accelerate swaps nothing).
    # The baseline is the straightforward implementation: relpose.fastpaths off (Conv1d modules, PyTorch's
    # dropout, the bias add before batch norm), glibc's default thresholds (fresh pages for every large
    # activation), plus the per-window gather, the per-tensor optimizer step and the second forward pass
    # for flipped windows chosen below.
    if variant != "baseline" and device.type == "cpu":
        keep_freed_memory()
    amp, base, graph = variant.startswith("amp"), variant == "baseline", variant.endswith("graph")
    if graph and device.type != "cuda":
        raise SystemExit(f"variant {variant} needs a CUDA device")
    cfg, batch = CONFIGS[config], batch or BATCH.get(config, 1024)
    # 'parts': the per-module fast forms, the five parts one after another (the kit before relpose.grouped);
    # 'grouped': the five parts as one computation on any device (by default the kit groups on CUDA only).
    with fastpaths.disabled() if variant in ("baseline", "plain") else (
            fastpaths.ungrouped() if variant == "parts" else
            grouping_on("cpu", "cuda") if variant == "grouped" else contextlib.nullcontext()):
        if kind == "train":
            return bench_train(cfg, stage, device, batch, steps, amp, base, graph)
        return bench_eval(cfg, stage, device, eval_frames, steps, amp, base, graph)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--config", default="small,paper", help="comma-separated subset of " + ",".join(CONFIGS))
    p.add_argument("--stages", default="1,3")
    p.add_argument("--device", default="cpu")
    p.add_argument("--batch", type=int, help="batch size (default: the recipe's for quick and lab, else 1024)")
    p.add_argument("--steps", type=int, default=5, help="timed steps per measurement (median)")
    p.add_argument("--eval-frames", type=int, default=512)
    p.add_argument("--variants", default="baseline,plain,fp32,amp", help="comma-separated subset of " + ",".join(VARIANTS))
    p.add_argument("--json", help="also write the results as JSON here")
    p.add_argument("--worker", nargs=3, metavar=("STAGE", "KIND", "VARIANT"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    device = torch.device(args.device)
    if args.worker:
        stage, kind, variant = int(args.worker[0]), args.worker[1], args.worker[2]
        print(json.dumps(measure(args.config, stage, kind, variant, device, args.batch, args.steps,
                                 args.eval_frames)))
        return

    configs = args.config.split(",")
    unknown = [c for c in configs if c not in CONFIGS]
    if unknown:
        p.error(f"unknown --config {','.join(unknown)}; choose from {','.join(CONFIGS)}")
    stages = [int(s) for s in args.stages.split(",")]
    variants = args.variants.split(",")
    native_bf16 = device.type == "cuda" or cpu_has_bf16()
    fp32 = matmul_gflops(device, torch.float32)
    bf16 = matmul_gflops(device, torch.bfloat16)
    print(f"# device {device} ({platform.processor() or platform.machine()}, {torch.get_num_threads()} threads), "
          f"torch {torch.__version__}, CPU capability {torch.backends.cpu.get_cpu_capability()}, "
          f"native bf16: {native_bf16}")
    print(f"# measured matmul peak: fp32 {fp32:.0f} GFLOP/s, bf16 {bf16:.0f} GFLOP/s (2048x2048)")
    print(f"# batch {args.batch or 'per recipe'}, median of {args.steps} steps after a warm-up; "
          "each variant in its own process")
    print("| config | stage | pass | baseline win/s | plain win/s | relpose fp32 win/s | fp32/baseline | fp32/plain | "
          "published ref | fp32/ref | --amp win/s | amp/fp32 | GFLOP/window | achieved GFLOP/s (fp32) | "
          "% of fp32 peak |")
    print("|" + "---|" * 15)
    rows = []
    for name in configs:
        for stage in stages:
            model = RIEModel(ModelConfig(stage=stage, **CONFIGS[name])).to(device)
            for kind in ("train", "eval"):
                fpw = flops_per_window(model.train() if kind == "train" else model.eval(),
                                       model.receptive_field(), device, backward=kind == "train")
                got = {}
                for variant in variants:
                    cmd = [sys.executable, __file__, "--config", name, "--device", args.device,
                           "--steps", str(args.steps), "--eval-frames", str(args.eval_frames),
                           "--worker", str(stage), kind, variant] + (["--batch", str(args.batch)] if args.batch else [])
                    proc = subprocess.run(cmd, capture_output=True, text=True)
                    if proc.returncode != 0:  # report and go on: one failed variant should not lose the table
                        tail = (proc.stdout + proc.stderr).strip().splitlines()[-1:]
                        print(f"# {name} stage {stage} {kind} {variant}: failed: {' '.join(tail)}", flush=True)
                        continue
                    got[variant] = json.loads(proc.stdout.strip().splitlines()[-1])
                base, plain, ours, amp = got.get("baseline"), got.get("plain"), got.get("fp32"), got.get("amp")
                ref = REFERENCE.get((name, stage, kind))
                achieved = None if ours is None else fpw * ours / 1e9
                rows.append(dict(config=name, stage=stage, kind=kind, baseline=base, plain=plain, fp32=ours, amp=amp,
                                 parts=got.get("parts"), grouped=got.get("grouped"),
                                 graph=got.get("graph"), amp_graph=got.get("amp-graph"), reference=ref,
                                 gflop_per_window=fpw / 1e9, achieved_gflops=achieved,
                                 peak_fp32=fp32, peak_bf16=bf16))
                fmt = lambda v, f="{:.0f}": "-" if v is None else f.format(v)
                ratio = lambda a, b: None if a is None or b is None else a / b
                print(f"| {name} | {stage} | {kind} | {fmt(base)} | {fmt(plain)} | {fmt(ours)} | "
                      f"{fmt(ratio(ours, base), '{:.2f}x')} | {fmt(ratio(ours, plain), '{:.2f}x')} | "
                      f"{fmt(ref)} | {fmt(ratio(ours, ref), '{:.2f}x')} | {fmt(amp)} | "
                      f"{fmt(ratio(amp, ours), '{:.2f}x')} | {fpw / 1e9:.3f} | {fmt(achieved)} | "
                      f"{fmt(None if achieved is None else 100 * achieved / fp32, '{:.0f}%')} |", flush=True)
                for variant in ("parts", "grouped", "graph", "amp-graph"):
                    if got.get(variant) is not None:
                        what = "CUDA graph " if "graph" in variant else ""
                        print(f"#   {name} stage {stage} {kind}, {what}{variant}: {got[variant]:.0f} win/s = "
                              f"{fmt(ratio(got[variant], ours), '{:.2f}x')} fp32 (the kit's default)"
                              + ("" if variant != "grouped" or got.get("parts") is None else
                                 f" = {ratio(got['grouped'], got['parts']):.2f}x parts"), flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
