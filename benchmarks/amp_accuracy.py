"""Final MPJPE of fp32 against `--amp` (bf16 autocast) training, over several seeds.

    python benchmarks/amp_accuracy.py                            # quick stage-1 config, seeds 0-4, CPU
    python benchmarks/amp_accuracy.py --seeds 0,1,2 -- -arc 3,3,3,3,3 -ch 256 -lfd 256 --stage 1 -e 8 --downsample 2

One run of each precision cannot say whether they agree within 5%: short runs of the same
precision differ by ~10% from seed to seed. So this trains each seed twice (fp32, then `--amp`;
the seed fixes the initial weights and the order of the batches), evaluates each run as the
command line does (action-wise MPJPE, with TTA, in the run's own precision), and reports the
per-precision mean and spread and the paired difference with a 95% interval. With --workdir, runs
already logged there are read back instead of trained again.

Everything after `--` replaces the default training flags (the quick preset's stage 1, shortened).
bf16 numbers are the same on a CPU without bf16 instructions (oneDNN emulates them), only slower,
so this answers the accuracy question on any machine.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, ROOT)   # run as a script from anywhere: the kit beside it
from relpose.lab.intervals import mean_interval  # noqa: E402
DEFAULT_FLAGS = ("-d synth -k det -arc 3,3,3 -ch 64 -lfd 64 --hidden 256 --stage 1 -e 6 -b 512 "
                 "--downsample 4 --subset 0.3").split()
MPJPE_LINE = re.compile(r"Protocol #1\s+\(MPJPE\) action-wise average:\s+([0-9.]+) mm")


def train_and_evaluate(flags: list[str], seed: int, amp: bool, device: str | None, workdir: str) -> tuple[float, float]:
    """One `python -m relpose` run; returns (action-wise MPJPE in mm, wall seconds)."""
    name = f"{'amp' if amp else 'fp32'}_seed{seed}"
    cmd = [sys.executable, "-m", "relpose", *flags, "--seed", str(seed), "--no-eval", "--no-progress",
           "-c", os.path.join(workdir, name)]
    if amp:
        cmd.append("--amp")
    if device:
        cmd += ["--device", device]
    log, header = os.path.join(workdir, name + ".log"), "# command: " + " ".join(cmd[1:]) + "\n"
    if os.path.exists(log):  # finished in an earlier call with this --workdir and the same flags: reuse it
        text = open(log).read()
        found, took = MPJPE_LINE.search(text), re.search(r"^# wall seconds: ([0-9.]+)$", text, re.M)
        if found and text.startswith(header):
            return float(found.group(1)), float(took.group(1)) if took else math.nan
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    found = MPJPE_LINE.search(proc.stdout)
    with open(log + ".tmp", "w") as f:
        f.write(header + proc.stdout + proc.stderr + f"\n# wall seconds: {seconds:.1f}\n")
    os.replace(log + ".tmp", log)
    if proc.returncode != 0 or not found:
        tail = (proc.stdout + proc.stderr).strip().splitlines()[-3:]
        raise SystemExit(f"run failed ({' '.join(cmd)}):\n" + "\n".join(tail))
    return float(found.group(1)), seconds


def interval95(values: list[float]) -> tuple[float, float]:
    """Mean and half-width of its 95% confidence interval (Student's t, relpose.lab.intervals)."""
    r = mean_interval(values)
    return r.mean, r.half_width


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    flags = DEFAULT_FLAGS
    if "--" in argv:
        cut = argv.index("--")
        argv, flags = argv[:cut], argv[cut + 1:]
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", default="0,1,2,3,4", help="comma-separated seeds (default 0,1,2,3,4)")
    p.add_argument("--device", default=None, help="passed to --device (default: the command line's choice)")
    p.add_argument("--workdir", default=None,
                   help="where checkpoints and logs go (default: a temporary folder); runs already logged there are "
                        "reused, so more seeds can be added later")
    p.add_argument("--json", default=None, help="also write the results here")
    args = p.parse_args(argv)
    try:
        seeds = [int(s) for s in args.seeds.split(",") if s]
    except ValueError:
        p.error(f"--seeds '{args.seeds}' is not a comma-separated list of integers")

    workdir = args.workdir or tempfile.mkdtemp(prefix="relpose_amp_")
    os.makedirs(workdir, exist_ok=True)
    print(f"flags: {' '.join(flags)}\nlogs and checkpoints: {workdir}")
    print(f"{'seed':>4}  {'fp32 mm':>8}  {'amp mm':>8}  {'amp-fp32':>8}  {'fp32 s':>6}  {'amp s':>6}", flush=True)
    rows = []
    for seed in seeds:
        fp32, t32 = train_and_evaluate(flags, seed, False, args.device, workdir)
        bf16, t16 = train_and_evaluate(flags, seed, True, args.device, workdir)
        rows.append({"seed": seed, "fp32_mm": fp32, "amp_mm": bf16, "fp32_s": t32, "amp_s": t16})
        print(f"{seed:>4}  {fp32:>8.2f}  {bf16:>8.2f}  {100 * (bf16 - fp32) / fp32:>+7.1f}%  {t32:>6.0f}  {t16:>6.0f}",
              flush=True)

    fp32_mean, fp32_ci = interval95([r["fp32_mm"] for r in rows])
    amp_mean, amp_ci = interval95([r["amp_mm"] for r in rows])
    diff_mean, diff_ci = interval95([r["amp_mm"] - r["fp32_mm"] for r in rows])
    sd = (lambda k: statistics.stdev([r[k] for r in rows]) if len(rows) > 1 else math.nan)
    print(f"fp32: mean {fp32_mean:.2f} mm, sd {sd('fp32_mm'):.2f} (95% CI ±{fp32_ci:.2f})")
    print(f"amp:  mean {amp_mean:.2f} mm, sd {sd('amp_mm'):.2f} (95% CI ±{amp_ci:.2f})")
    rel, rel_ci = 100 * diff_mean / fp32_mean, 100 * diff_ci / fp32_mean
    print(f"amp - fp32 (paired by seed): {diff_mean:+.2f} mm = {rel:+.1f}% of fp32 (95% CI ±{rel_ci:.1f}%)")
    verdict = ("within 5%" if abs(rel) + rel_ci <= 5 else
               "outside 5%" if abs(rel) - rel_ci > 5 else "undecided at 5% with these seeds")
    print(f"verdict: {verdict}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"flags": flags, "device": args.device, "runs": rows, "fp32_mean_mm": fp32_mean,
                       "amp_mean_mm": amp_mean, "paired_diff_pct": rel, "paired_diff_ci95_pct": rel_ci,
                       "verdict": verdict}, f, indent=1)


if __name__ == "__main__":
    main()
