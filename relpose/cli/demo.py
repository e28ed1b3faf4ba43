"""`make demo`: the whole method on the embedded synthetic data, in a few minutes on 2 CPU cores.

Generates the synthetic Human3.6M-shaped data if missing, prints its summary, trains the three
stages with the quick recipe (relpose.lab.presets.QUICK) and evaluates each with Protocols #1/#2.
Each stage runs the same functions as `python -m relpose`; its command line is printed first.
"""
from __future__ import annotations

import os
import sys

from .. import synth  # noqa: F401  (importing it registers the synthetic set's maker)
from ..datasets import dataset_spec, load_dataset
from ..evaluate import evaluate_dataset
from ..lab import presets
from ..lab.settings import Settings, train_preset_stage
from .common import OneLineParser, run_command
from .parser import command_line, flags_for


def _demo(argv) -> int:
    p = OneLineParser(prog="python -m relpose.cli.demo", description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", default="data")
    p.add_argument("--checkpoint-dir", default=os.path.join("checkpoint", "demo"))
    p.add_argument("--preset", default="quick", choices=sorted(presets.PRESETS))
    p.add_argument("--data-only", action="store_true", help="make and summarise the data, no training")
    args = p.parse_args(argv)

    dataset_spec("synth").make_missing("det", args.data_dir)
    dataset = load_dataset("synth", "det", args.data_dir)
    print("Synthetic Human3.6M-shaped data set (2D detections 'det'):")
    print(dataset.format_summary())
    if args.data_only:
        return 0
    # The demo folder holds only what the demo made, so a second `make demo` retrains over it.
    s = Settings("demo", "synth", "det", args.data_dir, args.checkpoint_dir, presets.PRESETS[args.preset], "cpu",
                 progress=True)
    for stage in (1, 2, 3):
        validate = stage == 3   # the first two stages skip the per-epoch validation (time)
        cfg = s.train_config(stage, validate=validate)
        previous = s.checkpoint_name(stage - 1) if stage > 1 else None
        flags = flags_for(dataset="synth", keypoints="det", model=s.model_config(dataset, stage), train=cfg,
                          data_dir=args.data_dir, checkpoint_dir=args.checkpoint_dir, previous=previous) + ["--overwrite"]
        print(f"\n=== Stage {stage}: {command_line(flags)}", flush=True)
        model, _ = train_preset_stage(s, stage, dataset, validate=validate)
        print()
        print(evaluate_dataset(model, dataset, s.subjects_test, downsample=cfg.downsample,
                               log=lambda *_: None).table(), flush=True)
    return 0


def main(argv=None) -> int:
    return run_command(_demo, argv)


if __name__ == "__main__":
    sys.exit(main())
