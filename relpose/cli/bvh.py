"""`python -m relpose.cli.bvh POSES.npy OUT.bvh`: exported poses (one per video frame) -> a BVH file for Blender
and other animation tools, and with --json a plain JSON of the joints (relpose.wild.bvh, relpose.wild.joints_json)."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from ..custom_keypoints import DEFAULT_VIDEO_FPS, MAX_FRAMES
from ..errors import UserError
from ..files import check_output_file
from ..skeleton import H36M_17
from ..wild.bvh import AXES, check_axes, write_bvh
from ..wild.joints_json import write_joints_json
from .common import OneLineParser, run_command

_HEADER_READERS = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}


def load_array(path, flag: str, shape_text: str, trailing: tuple[int, ...]) -> np.ndarray:
    """A .npy file of floats (frames, *trailing), its header checked before anything is read; never a pickle."""
    path = Path(path)
    try:
        with open(path, "rb") as f:
            version = np.lib.format.read_magic(f)
            read_header = _HEADER_READERS.get(version)
            if read_header is None:
                raise ValueError(f"format version {version} is not one numpy.save writes")
            shape, _, dtype = read_header(f)   # the header only: no data read, no pickle run
    except FileNotFoundError:
        raise UserError(f"{flag} '{path}' does not exist; give the .npy file of poses the kit exported") from None
    except IsADirectoryError:
        raise UserError(f"{flag} '{path}' is a folder; give a .npy file") from None
    except (OSError, ValueError) as e:
        raise UserError(f"{flag} '{path}' is not a NumPy .npy file ({str(e).splitlines()[0][:120]})") from None
    if dtype.kind != "f" or len(shape) != 1 + len(trailing) or tuple(shape[1:]) != trailing \
            or not 1 <= shape[0] <= MAX_FRAMES:
        raise UserError(f"{flag} '{path}' holds a {dtype} array of shape {tuple(shape)}; expected floats {shape_text} "
                        f"with 1 to {MAX_FRAMES:,} frames")
    try:
        return np.load(path, allow_pickle=False).astype(float)
    except (OSError, ValueError) as e:
        raise UserError(f"{flag} '{path}' cannot be read ({str(e).splitlines()[0][:120]}); export it again") from None


def _bvh(argv) -> int:
    parser = OneLineParser(prog="python -m relpose.cli.bvh",
                           description="Convert lifted poses (.npy, one Human3.6M-17 pose per video frame, metres) "
                                       "into a BVH file (Y up, centimetres, constant bone lengths) and optionally "
                                       "a plain JSON of the joints.")
    parser.add_argument("poses", metavar="POSES.npy", help="poses (frames, 17, 3) in metres, as `make wild` exports")
    parser.add_argument("output", metavar="OUT.bvh", help="the BVH file to write")
    parser.add_argument("--fps", type=float, default=None,
                        help=f"the video's frame rate (default: {DEFAULT_VIDEO_FPS:g}, said when assumed)")
    parser.add_argument("--json", default=None, metavar="OUT.json", help="also write the joints as plain JSON")
    parser.add_argument("--axes", default="camera", choices=tuple(AXES),
                        help="the frame of the poses: camera (x right, y down, z forward; the default, what the "
                             "model predicts), z-up or y-up (world)")
    parser.add_argument("--trajectory", default=None, metavar="ROOT.npy",
                        help="root positions (frames, 3) in metres, same axes, added to the poses")
    parser.add_argument("--first-frame", type=int, default=0, help="the video frame of the first pose (JSON)")
    parser.add_argument("--per-side-bones", action="store_true",
                        help="fit left and right bones separately (default: one length for each mirrored pair)")
    parser.add_argument("--euler-order", default="auto",
                        help="the rotation channels' order: auto (ZXY for the root and arms, ZYX for the legs, spine "
                             "and head) or one order for every joint, such as ZXY")
    parser.add_argument("--overwrite", action="store_true", help="replace existing output files")
    args = parser.parse_args(argv)

    check_axes(args.axes, "--axes")
    output = check_output_file(args.output, "OUT.bvh", overwrite=args.overwrite, suffixes=(".bvh",))
    json_path = None
    if args.json is not None:
        json_path = check_output_file(args.json, "--json", overwrite=args.overwrite, suffixes=(".json",))
        if json_path.resolve() == output.resolve():
            raise UserError("--json names the BVH file; give another name")
    poses = load_array(args.poses, "POSES.npy", f"(frames, {H36M_17.num_joints}, 3)", (H36M_17.num_joints, 3))
    trajectory = None
    if args.trajectory is not None:
        trajectory = load_array(args.trajectory, "--trajectory", "(frames, 3)", (3,))
    fps = args.fps
    if fps is None:
        fps = DEFAULT_VIDEO_FPS
        print(f"frame rate not given: {DEFAULT_VIDEO_FPS:g} fps assumed (give the video's with --fps)")

    fit = write_bvh(output, poses, fps, trajectory=trajectory, axes=args.axes, symmetric=not args.per_side_bones,
                    euler_order=args.euler_order.upper() if args.euler_order != "auto" else "auto",
                    overwrite=args.overwrite)
    print(fit.summary())
    if json_path is not None:
        write_joints_json(json_path, poses, fps, H36M_17.joint_names, first_frame=args.first_frame,
                          trajectory=trajectory, axes=args.axes, overwrite=args.overwrite)
        print(f"wrote {json_path}: {len(poses)} frames, {H36M_17.num_joints} joints, metres ({args.axes} axes)")
    return 0


def main(argv=None) -> int:
    return run_command(_bvh, argv)


if __name__ == "__main__":
    sys.exit(main())
