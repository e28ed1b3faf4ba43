"""`python -m relpose.lab.wild_distance`: people at any distance, measured on the DeepMimic clips
(relpose.lab.wild_distance); writes a JSON of every view and prints the tables."""
from __future__ import annotations

import os
import sys

from ..files import check_output_file
from ..lab.wild_distance import WildDistanceConfig, run, tables, write_result
from .common import OneLineParser, run_command


def _wild_distance(argv) -> int:
    parser = OneLineParser(prog="python -m relpose.lab.wild_distance",
                           description="Lift the DeepMimic clips seen by virtual cameras 2-8 m away with the in-the-wild "
                                       "model, with and without zooming the keypoints to the training person size, and "
                                       "place the root and the floor.")
    parser.add_argument("--checkpoint", help="the in-the-wild model (default: the one the kit ships, relpose/data/models/wild-quick.bin)")
    parser.add_argument("--data-dir", default="data", help="where data_3d_mocap.npz is (default: data; read from "
                                                          "pybullet's clips when missing)")
    parser.add_argument("--clips", type=int, help="only the first N clips, alphabetically (default: all 20)")
    parser.add_argument("--seed", type=int, default=0, help="azimuths and detector noise (default: 0)")
    parser.add_argument("--output", default=os.path.join("benchmarks", "results", "wild_distance.json"),
                        help="the JSON written (default: benchmarks/results/wild_distance.json)")
    parser.add_argument("--overwrite", action="store_true", help="replace --output if it exists")
    args = parser.parse_args(argv)
    if args.clips is not None and args.clips < 1:
        parser.error(f"--clips {args.clips}: give 1 or more")
    output = check_output_file(args.output, "--output", overwrite=args.overwrite, suffixes=(".json",))
    result = run(WildDistanceConfig(args.checkpoint, args.data_dir, args.clips, args.seed))
    write_result(result, output)
    print(tables(result))
    print(f"wrote {output} ({result['seconds']:.0f} s)")
    return 0


def main(argv=None) -> int:
    return run_command(_wild_distance, argv)


if __name__ == "__main__":
    sys.exit(main())
