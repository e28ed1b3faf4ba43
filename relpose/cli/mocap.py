"""`python -m relpose.mocap`: write the motion-capture test set (DeepMimic clips, VideoPose3D layout)."""
from __future__ import annotations

import sys

from ..mocap import make_files
from .common import OneLineParser, run_command


def _mocap(argv) -> int:
    parser = OneLineParser(prog="python -m relpose.mocap",
                           description="Convert pybullet's DeepMimic clips into a Human3.6M-17 test set "
                                       "(data_3d_mocap.npz, data_2d_mocap_gt.npz, data_2d_mocap_det.npz).")
    parser.add_argument("--data-dir", default="data", help="output directory (default: data)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the detector noise (default: 0)")
    args = parser.parse_args(argv)
    make_files(args.data_dir, seed=args.seed)
    return 0


def main(argv=None) -> int:
    return run_command(_mocap, argv)


if __name__ == "__main__":
    sys.exit(main())
