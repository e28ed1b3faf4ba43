"""`make demo`: the whole method on the embedded synthetic data, in a few minutes on 2 CPU cores.

Generates the synthetic Human3.6M-shaped data if missing, prints its summary, trains the three
stages with the quick configuration (relpose.presets.QUICK), then evaluates with Protocols #1/#2.
Every step is a command line you could type yourself; they are printed before they run.
"""
from __future__ import annotations

import argparse
import os
import shlex
import sys

from . import presets
from .cli import main as cli_main


def stage_commands(data_dir: str, checkpoint_dir: str, preset: dict, extra=()) -> list[list[str]]:
    # The demo folder holds only what the demo made, so a second `make demo` retrains over it.
    common = ["-d", "synth", "--data-dir", data_dir, "-c", checkpoint_dir, "--overwrite", *extra]
    e = preset["epochs"]
    return [
        [*common, *presets.stage_flags(preset, 1), "--no-eval"],
        [*common, *presets.stage_flags(preset, 2), "--no-eval", "-p", f"stage_1_epoch_{e[1]}.bin"],
        [*common, *presets.stage_flags(preset, 3), "-ft", f"stage_2_epoch_{e[2]}.bin"],
    ]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m relpose.demo", description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", default="data")
    p.add_argument("--checkpoint-dir", default=os.path.join("checkpoint", "demo"))
    p.add_argument("--preset", default="quick", choices=sorted(presets.PRESETS))
    p.add_argument("--data-only", action="store_true", help="make and summarise the data, no training")
    args = p.parse_args(argv)

    from .datasets import load_dataset
    from .errors import UserError
    from .synth import ensure_synthetic

    try:
        ensure_synthetic(args.data_dir, "det")
        dataset = load_dataset("synth", "det", args.data_dir)
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print("Synthetic Human3.6M-shaped data set (2D detections 'det'):")
    print(dataset.format_summary())
    if args.data_only:
        return 0
    for i, cmd in enumerate(stage_commands(args.data_dir, args.checkpoint_dir, presets.PRESETS[args.preset]), 1):
        print(f"\n=== Stage {i}: python -m relpose {shlex.join(cmd)}", flush=True)
        code = cli_main(cmd)
        if code:
            return code
    return 0


if __name__ == "__main__":
    sys.exit(main())
