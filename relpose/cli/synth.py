"""`python -m relpose.synth`: write the synthetic Human3.6M-shaped data set (VideoPose3D layout)."""
from __future__ import annotations

import os
import sys
import time

from ..synth import (BASE_ACTIONS, FILE_NAMES, SIZES, SYNTH_ACTIONS, SYNTH_SUBJECTS_TEST, SYNTH_SUBJECTS_TRAIN,
                     generate_files)
from .common import OneLineParser, run_command


def _synth(argv) -> int:
    parser = OneLineParser(prog="python -m relpose.synth",
                           description="Write the synthetic Human3.6M-shaped data set (VideoPose3D layout).")
    parser.add_argument("--data-dir", default="data", help="output directory (default: data)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    parser.add_argument("--size", default="default", choices=tuple(SIZES), help="preset (default: default)")
    parser.add_argument("--frames-per-take", type=int, default=None, help="override the preset's take length")
    parser.add_argument("--overwrite", action="store_true", help="replace existing files (never done without it)")
    parser.add_argument("--det-coco", action="store_true",
                        help="also write data_2d_synth_det_coco.npz (-k det_coco: a COCO detector's keypoints "
                             "converted to Human3.6M-17)")
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    paths, frames = generate_files(args.data_dir, seed=args.seed, size=args.size,
                                   frames_per_take=args.frames_per_take, overwrite=args.overwrite,
                                   only=(*FILE_NAMES, "det_coco") if args.det_coco else None)
    for p in paths.values():
        print(f"wrote {p} ({os.path.getsize(p) / 1e6:.1f} MB)")
    print(f"subjects {' '.join(SYNTH_SUBJECTS_TRAIN)} (train), {' '.join(SYNTH_SUBJECTS_TEST)} (test); "
          f"{len(SYNTH_ACTIONS)} actions ({len(BASE_ACTIONS)} x 2 takes); {frames:,} frames per camera, 4 cameras; "
          f"size {args.size}, seed {args.seed}, {time.perf_counter() - t0:.1f} s")
    return 0


def main(argv=None) -> int:
    return run_command(_synth, argv)


if __name__ == "__main__":
    sys.exit(main())
