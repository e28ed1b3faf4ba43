"""`python -m relpose.cli.sim_to_real NAME=CHECKPOINT ...`: models on the synthetic test subjects and on the real
DeepMimic motion capture (relpose.lab.sim_to_real), side by side: the gap, the per-clip table and the per-joint errors.

Each model is evaluated at its training frame rate (its checkpoint's downsample, or --downsample for a file without
a training record, such as the shipped in-the-wild model), with the keypoints it was trained on (-k).
"""
from __future__ import annotations

import json
import sys

from ..checkpoints import load_checkpoint
from ..datasets import load_dataset
from ..errors import UserError
from ..files import atomic_path, check_output_file
from ..mocap import ensure_mocap
from ..synth import ensure_synthetic
from ..weights import load_model
from ..lab.sim_to_real import clip_table, gap_record, gap_table, sim_to_real_gap
from .common import OneLineParser, run_command


def _models(specs) -> dict[str, str]:
    models = {}
    for spec in specs:
        name, sep, path = spec.partition("=")
        if not sep or not name or not path:
            raise UserError(f"model '{spec}': give NAME=CHECKPOINT, e.g. after=checkpoint/quick/stage_3_epoch_3.bin")
        if name in models:
            raise UserError(f"model name '{name}' given twice: give each model its own name")
        models[name] = path
    return models


def _sim_to_real(argv) -> int:
    parser = OneLineParser(prog="python -m relpose.cli.sim_to_real", description=__doc__.split("\n\n")[0])
    parser.add_argument("models", nargs="+", metavar="NAME=CHECKPOINT", help="models to compare")
    parser.add_argument("-k", "--keypoints", default="det", choices=("gt", "det", "det_coco"),
                        help="2D keypoints of both sets (the models' training keypoints; default det)")
    parser.add_argument("--data-dir", default="data", help="where the synthetic and mocap files are (made if missing)")
    parser.add_argument("--downsample", type=int, default=4,
                        help="frame stride for a model file without a training record (default 4, the quick recipe)")
    parser.add_argument("--json", help="also write the numbers to this JSON file (never replaces one)")
    args = parser.parse_args(argv)
    models = _models(args.models)
    if args.json:
        check_output_file(args.json, "the results file", overwrite=False, suffixes=(".json",))
    ensure_synthetic(args.data_dir, args.keypoints)
    ensure_mocap(args.data_dir, args.keypoints)
    synth, mocap = load_dataset("synth", args.keypoints, args.data_dir), load_dataset("mocap", args.keypoints,
                                                                                       args.data_dir)
    gaps, strides = {}, {}
    for name, path in models.items():
        stride = (load_checkpoint(path).get("train_config") or {}).get("downsample", args.downsample)
        strides[name] = stride
        gaps[name] = sim_to_real_gap(load_model(path), synth, mocap, downsample=stride)
    print(gap_table(gaps))
    print()
    print(clip_table(gaps))
    if args.json:
        record = {"command": "python -m relpose.cli.sim_to_real " + " ".join(argv or sys.argv[1:]),
                  "keypoints": args.keypoints, "models": models, "downsample": strides,
                  "results": {n: gap_record(g, list(synth.skeleton.joint_names)) for n, g in gaps.items()}}
        with atomic_path(args.json, what="results file") as tmp, open(tmp, "w") as f:
            json.dump(record, f, indent=1)
        print(f"wrote {args.json}")
    return 0


def main(argv=None) -> int:
    return run_command(_sim_to_real, argv)


if __name__ == "__main__":
    sys.exit(main())
