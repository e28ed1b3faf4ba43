"""`python -m relpose.synth`: write a synthetic data set (VideoPose3D layout): the Human3.6M-shaped one
(`--set synth`, the default) or the broad one the in-the-wild model trains on (`--set wild`, 'synthwild')."""
from __future__ import annotations

import os
import sys
import time

import numpy as np

from ..errors import UserError
from ..synth import (BASE_ACTIONS, FILE_NAMES, SIZES, SYNTH_ACTIONS, SYNTH_SUBJECTS_TEST, SYNTH_SUBJECTS_TRAIN,
                     generate_files, generate_wild, wild_set)
from .common import OneLineParser, run_command

SETS = ("synth", "wild")


def _wrote(paths) -> None:
    for p in paths.values():
        print(f"wrote {p} ({os.path.getsize(p) / 1e6:.1f} MB)")


def _wild(args, t0: float) -> int:
    if args.size not in wild_set.SIZES:
        raise UserError(f"--size {args.size} is not a size of the wild set (choose from {', '.join(wild_set.SIZES)})")
    if args.det_coco:
        raise UserError("--det-coco is for --set synth: the wild set always writes data_2d_synthwild_det_coco.npz")
    paths, summary = generate_wild(args.data_dir, seed=args.seed, size=args.size, frames_per_take=args.frames_per_take,
                                   overwrite=args.overwrite)
    _wrote(paths)
    distance = np.array(summary["camera_distances"])
    print(f"subjects {' '.join(wild_set.SUBJECTS_TRAIN)} (train), {' '.join(wild_set.SUBJECTS_TEST)} (test); "
          f"{len(wild_set.ACTIONS)} actions, one take each; {summary['frames_train']:,} frames per camera over the "
          f"training subjects ({summary['frames']:,} in all), 4 cameras per subject {distance.min():.1f}-"
          f"{distance.max():.1f} m away; size {args.size}, seed {args.seed}, {time.perf_counter() - t0:.1f} s")
    return 0


def _synth(argv) -> int:
    parser = OneLineParser(prog="python -m relpose.synth",
                           description="Write a synthetic data set (VideoPose3D layout): the Human3.6M-shaped one "
                                       "(--set synth) or the broad one the in-the-wild model trains on (--set wild).")
    parser.add_argument("--set", default="synth", choices=SETS,
                        help="synth: data_*_synth*.npz, Human3.6M's subjects, actions and cameras (default); wild: "
                             "data_*_synthwild*.npz (-d synthwild), bodies of every size, broad motion, the cameras "
                             "people use, all four files")
    parser.add_argument("--data-dir", default="data", help="output directory (default: data)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    parser.add_argument("--size", default="default", choices=tuple(SIZES),
                        help="preset (default: default; the wild set has tiny and default)")
    parser.add_argument("--frames-per-take", type=int, default=None, help="override the preset's take length")
    parser.add_argument("--overwrite", action="store_true", help="replace existing files (never done without it)")
    parser.add_argument("--det-coco", action="store_true",
                        help="also write data_2d_synth_det_coco.npz (-k det_coco: a COCO detector's keypoints "
                             "converted to Human3.6M-17)")
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    if args.set == "wild":
        return _wild(args, t0)
    paths, frames = generate_files(args.data_dir, seed=args.seed, size=args.size,
                                   frames_per_take=args.frames_per_take, overwrite=args.overwrite,
                                   only=(*FILE_NAMES, "det_coco") if args.det_coco else None)
    _wrote(paths)
    print(f"subjects {' '.join(SYNTH_SUBJECTS_TRAIN)} (train), {' '.join(SYNTH_SUBJECTS_TEST)} (test); "
          f"{len(SYNTH_ACTIONS)} actions ({len(BASE_ACTIONS)} x 2 takes); {frames:,} frames per camera, 4 cameras; "
          f"size {args.size}, seed {args.seed}, {time.perf_counter() - t0:.1f} s")
    return 0


def main(argv=None) -> int:
    return run_command(_synth, argv)


if __name__ == "__main__":
    sys.exit(main())
