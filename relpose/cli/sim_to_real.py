"""`python -m relpose.cli.sim_to_real NAME=CHECKPOINT ...`: models on the synthetic test subjects and on the real
DeepMimic motion capture (relpose.lab.sim_to_real), side by side: the gap and the per-clip table.

Each model is evaluated at its training frame rate (its checkpoint's downsample, or --downsample for a file without
a training record, such as the shipped in-the-wild model), with the keypoints it was trained on (-k).

`--seeds 0,1,2` trains the quick recipe once per seed on the synthetic set of --data-dir (stages 1-3, into
checkpoint/sim-to-real/synth-v<generator version>/seed-<k>, kept: a second run only evaluates) and prints each
seed's gap and the mean with its 95% interval: an error on motion a model never saw moves a lot between seeds.
`--also-train-on synthwild` adds the broad set's training subjects to what each seed trains on (folder
synth-v<version>+synthwild): what motion the Human3.6M-shaped set does not have would buy the quick recipe.
`--recipe wild -k det_coco` trains the in-the-wild model's recipe per seed instead; `--subset` changes the share of
each take a recipe trains on per epoch (folder suffix -subset<F>).
"""
from __future__ import annotations

import dataclasses
import datetime
import json
import os
import platform
import sys
import time

from ..checkpoints import load_checkpoint
from ..config_rules import SUBSET_RULE, check_rules
from ..datasets import dataset_spec, load_dataset
from ..errors import UserError
from ..files import atomic_path, check_output_file
from ..mocap import ensure_mocap
from ..synth import ensure_synthetic
from ..weights import load_model
from ..files import find_root
from ..lab.claims import code_version, cpu_info
from ..lab.settings import settings as lab_settings
from ..lab.wild_model import WILD_KEYPOINTS, wild_settings
from ..lab.sim_to_real import clip_table, gap_record, gap_table, gaps_over_seeds, seeds_summary, sim_to_real_gap
from ..synth import read_provenance
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


def _seeds(text) -> list[int]:
    if text is None:
        return []
    try:
        seeds = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise UserError(f"--seeds {text!r}: give whole numbers separated by commas, e.g. --seeds 0,1,2") from None
    if not seeds or any(v < 0 for v in seeds) or len(set(seeds)) != len(seeds):
        raise UserError(f"--seeds {text!r}: give distinct non-negative whole numbers, e.g. --seeds 0,1,2")
    return seeds


def _also_train_on(text, seeds) -> tuple[str, ...]:
    names = tuple(n for n in text.split(",") if n) if text else ()
    if names and not seeds:
        raise UserError("--also-train-on changes what --seeds trains; give --seeds too")
    for name in names:
        spec = dataset_spec(name)   # an unknown name is a one-line error naming the known sets
        if not spec.kit_made or not spec.subjects_train or name == "synth":
            raise UserError(f"--also-train-on {name}: give kit-made sets with training subjects other than synth "
                            "(e.g. synthwild)")
    return names


def _recipe_settings(recipe, keypoints, data_dir, also, subset=None):
    """(settings, checkpoint folder name) of what --seeds trains."""
    meta = read_provenance(os.path.join(data_dir, "data_3d_synth.npz")) or {}
    version = meta.get("version", "unknown")
    if recipe == "wild":
        s = dataclasses.replace(wild_settings(), data_dir=data_dir)
        name = f"{os.path.basename(s.checkpoint_dir)}-v{version}"
    else:
        s = dataclasses.replace(lab_settings("quick"), keypoints=keypoints, data_dir=data_dir,
                                also_train_on=tuple(also))
        name = "+".join((f"synth-v{version}", *also)) + f"-{keypoints}"
    if subset is None:
        return s, name
    return dataclasses.replace(s, preset=s.preset.with_train(subset=subset)), f"{name}-subset{subset:g}"


def _subset(value) -> float | None:
    if value is None:
        return None
    check_rules({"subset": value}, [SUBSET_RULE])   # TrainConfig's rule: a one-line error naming the value
    return float(value)


def _seed_gaps(seeds, keypoints, data_dir, synth, mocap, strides, also=(), recipe="quick", subset=None) -> dict:
    """The recipe trained per seed on data_dir's synthetic set (and the training subjects of the sets `also`),
    named 'seed k'."""
    s, name = _recipe_settings(recipe, keypoints, data_dir, also, subset)
    folder = os.path.join(find_root(), "checkpoint", "sim-to-real", name)
    gaps = gaps_over_seeds(s, seeds, folder, synth, mocap)
    strides.update({f"seed {k}": s.train_config(3).downsample for k in seeds})
    return {f"seed {k}": g for k, g in gaps.items()}


def _sim_to_real(argv) -> int:
    parser = OneLineParser(prog="python -m relpose.cli.sim_to_real", description=__doc__.split("\n\n")[0])
    parser.add_argument("models", nargs="*", metavar="NAME=CHECKPOINT", help="models to compare")
    parser.add_argument("--seeds", help="train the quick recipe with these seeds (e.g. 0,1,2) and compare them")
    parser.add_argument("--recipe", default="quick", choices=("quick", "wild"),
                        help="with --seeds: the quick recipe on the synthetic set (default), or the in-the-wild "
                             "model's (relpose.lab.wild_model: the broad set and the synthetic set's training "
                             "subjects, -k det_coco)")
    parser.add_argument("--subset", type=float, default=None, metavar="F",
                        help="with --seeds: the share of each take the recipe trains on per epoch (default: the "
                             "recipe's, 0.3); e.g. the same number of windows with --also-train-on's extra subjects")
    parser.add_argument("--also-train-on", default="", metavar="SET[,SET]",
                        help="with --seeds: train on these kit-made sets' training subjects too (e.g. synthwild, the "
                             "broad set); testing stays on the synthetic set's test subjects")
    parser.add_argument("-k", "--keypoints", default="det", choices=("gt", "det", "det_coco"),
                        help="2D keypoints of both sets (the models' training keypoints; default det)")
    parser.add_argument("--data-dir", default="data", help="where the synthetic and mocap files are (made if missing)")
    parser.add_argument("--downsample", type=int, default=4,
                        help="frame stride for a model file without a training record (default 4, the quick recipe)")
    parser.add_argument("--json", help="also write the numbers to this JSON file (never replaces one)")
    args = parser.parse_args(argv)
    started, code = time.perf_counter(), code_version()   # the commit read when the run starts
    models = _models(args.models)
    seeds = _seeds(args.seeds)
    also = _also_train_on(args.also_train_on, seeds)
    if (args.recipe != "quick" or args.subset is not None) and not seeds:
        raise UserError("--recipe and --subset change what --seeds trains; give --seeds too")
    subset = _subset(args.subset)
    if args.recipe == "wild" and (args.keypoints != WILD_KEYPOINTS or also):
        raise UserError(f"--recipe wild trains the in-the-wild model's recipe on its own data: give -k "
                        f"{WILD_KEYPOINTS} and no --also-train-on")
    if not models and not seeds:
        raise UserError("give models as NAME=CHECKPOINT, or --seeds to train some (see --help)")
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
    if seeds:
        gaps.update(_seed_gaps(seeds, args.keypoints, args.data_dir, synth, mocap, strides, also, args.recipe, subset))
    print(gap_table(gaps))
    print()
    print(clip_table(gaps))
    if seeds:
        summary = seeds_summary({k: gaps[f"seed {k}"] for k in seeds})
        print(f"\nover {len(seeds)} seeds (mean ± 95% half-width): " + ", ".join(
            f"{k} {v}" if k != "ratio" else f"ratio {v.mean:.2f} ± {v.half_width:.2f}"
            for k, v in summary.items() if not k.startswith("clip")))
    if args.json:
        import torch
        cpu = cpu_info()
        record = {"command": "python -m relpose.cli.sim_to_real " + " ".join(argv or sys.argv[1:]),
                  "provenance": {"git_commit": code["commit"], "git_dirty": code["dirty"], "cpu_model": cpu["model"],
                                 "cpu_flags": cpu["flags"], "torch": torch.__version__,
                                 "python": platform.python_version(), "threads": torch.get_num_threads(),
                                 "wall_seconds": round(time.perf_counter() - started, 1),
                                 "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")},
                  "keypoints": args.keypoints, "models": models, "downsample": strides,
                  "data": {n: read_provenance(os.path.join(args.data_dir, f)) for n, f in
                           (("synth", "data_3d_synth.npz"), ("mocap", "data_3d_mocap.npz"))},
                  "results": {n: gap_record(g, list(synth.skeleton.joint_names)) for n, g in gaps.items()}}
        if seeds:
            record["over_seeds"] = {k: {"mean": round(v.mean, 3), "half_width_95": round(v.half_width, 3), "n": v.n}
                                    for k, v in summary.items()}
        with atomic_path(args.json, what="results file") as tmp, open(tmp, "w") as f:
            json.dump(record, f, indent=1)
        print(f"wrote {args.json}")
    return 0


def main(argv=None) -> int:
    return run_command(_sim_to_real, argv)


if __name__ == "__main__":
    sys.exit(main())
