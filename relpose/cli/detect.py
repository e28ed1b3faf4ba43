"""`python -m relpose.wild.detect VIDEO --output LANDMARKS.json`: flags -> relpose.wild.detect.

Runs in the detector's environment (make detect-env: mediapipe, numpy < 2, no torch), so it imports
nothing that imports torch: relpose.cli.common, relpose.files, relpose.wild.detect,
relpose.wild.detections (which writes the custom 2D file with --name) and relpose.wild.detection_key.
"""
from __future__ import annotations

import argparse
import sys

from ..custom_keypoints import MAX_FRAME_NUMBER, MAX_FRAMES
from ..errors import UserError
from ..files import check_output_file
from ..wild.detect import detect_video, write_landmarks
from ..wild.detection_key import MADE_BY_DETECTOR, MADE_BY_MAKE_WILD, detection_key
from ..wild.detections import check_min_score, convert_detections, custom_file, read_mediapipe_json
from .common import OneLineParser, option, run_command, shell_command


def build_parser() -> OneLineParser:
    p = OneLineParser(prog="python -m relpose.wild.detect",
                      description="2D pose landmarks (MediaPipe Pose, 33 points) for every frame of a video, "
                                  "offline (the model bundled with mediapipe).")
    p.add_argument("video", metavar="VIDEO", help="the video file (anything OpenCV reads: .mp4, .avi, .mov)")
    p.add_argument("--output", "-o", required=True, metavar="LANDMARKS.json", help="the landmarks file to write")
    p.add_argument("--start", type=int, default=0, metavar="N", help="start at frame N of the video (default 0)")
    p.add_argument("--limit", type=int, metavar="N", help="detect in N frames only (from --start)")
    p.add_argument("--name", metavar="NAME",
                   help="also write the lifter's input, DATA_DIR/data_2d_custom_NAME.npz (one person per frame, "
                        "gaps interpolated), for `python -m relpose -d custom -k NAME`")
    p.add_argument("--data-dir", default="data", metavar="PATH", help="folder for --name's file (default: data)")
    p.add_argument("--min-score", type=float, default=0.3, metavar="S",
                   help="with --name: landmarks less visible than S are interpolated (default: 0.3)")
    p.add_argument("--overwrite", action="store_true", help="replace --output if it exists")
    p.add_argument("--min-detection", type=float, default=0.5, metavar="C",
                   help="MediaPipe's minimum person-detection confidence, 0..1 (default: 0.5)")
    p.add_argument("--no-progress", action="store_true", help="no progress output on stderr")
    # `make wild` (relpose.cli.wild_make) marks the keypoint file as its own: it may replace it when asked
    # for other frames of the same video, never a file made otherwise.
    p.add_argument("--made-by-make-wild", action="store_true", help=argparse.SUPPRESS)
    return p


def check_flags(args) -> None:
    """Ranges of the numeric flags, before the video is opened."""
    if not 0 <= args.start <= MAX_FRAME_NUMBER:
        raise UserError(f"--start {args.start}: give a frame number from 0 to {MAX_FRAME_NUMBER:,}")
    if args.limit is not None and not 1 <= args.limit <= MAX_FRAMES:
        raise UserError(f"--limit {args.limit}: give a number of frames from 1 to {MAX_FRAMES:,}")
    check_min_score(args.min_score, "--min-score", high=1.0)   # MediaPipe's visibility is 0..1
    if not 0.0 <= args.min_detection <= 1.0:   # false for NaN
        raise UserError(f"--min-detection {args.min_detection}: give a confidence from 0 to 1")


def _main(argv) -> int:
    args = build_parser().parse_args(argv)
    check_flags(args)
    output = check_output_file(args.output, "--output", overwrite=args.overwrite, suffixes=(".json",))
    custom = None
    if args.name is not None:   # checked before the work, like --output
        custom = check_output_file(custom_file(args.data_dir, args.name), "--name", overwrite=args.overwrite,
                                   suffixes=(".npz",))
    stats: dict = {}
    landmarks = detect_video(args.video, limit=args.limit, start=args.start, progress=not args.no_progress,
                             min_detection=args.min_detection, stats=stats)
    write_landmarks(landmarks, output, overwrite=args.overwrite)
    n, found = stats["frames"], stats["frames_with_person"]
    print(f"{output}: {n} frames, a person in {found} ({100 * found / n:.0f}%), "
          f"detection {stats['frames_per_second']:.1f} frames/s")
    if custom is not None:
        # What the detection was made from (the video read, so it exists), for make wild to compare with.
        key = detection_key(args.video, args.start, args.limit,
                            MADE_BY_MAKE_WILD if args.made_by_make_wild else MADE_BY_DETECTOR)
        convert_detections(read_mediapipe_json(output), custom, min_score=args.min_score, overwrite=args.overwrite,
                           provenance={"detection": key})
        # Printed for a person to copy: every word shell-quoted (a video's name may hold $(...), ; or quotes).
        lift = ["python", "-m", "relpose.cli.wild", *option("-k", args.name), *option("--video", args.video)]
        render = ["python", "-m", "relpose", "-d", "custom", *option("-k", args.name), "--evaluate", "<checkpoint>",
                  "--render", *option("--viz-subject", landmarks["video"]), "--viz-action", "custom",
                  *option("--viz-video", args.video), "--viz-export", f"{args.name}.npy"]
        if args.made_by_make_wild:   # make wild lifts it next: no commands to copy
            print(f"wrote {custom}")
        else:
            print(f"wrote {custom}: lift it (in the kit's environment) with\n  {shell_command(lift)}\n"
                  f"  or: {shell_command(render, ('<checkpoint>',))}   (with the checkpoint's model flags: -arc, "
                  "-ch, -lfd, --hidden, --stage)")
    return 0


def main(argv=None) -> int:
    return run_command(_main, argv)


if __name__ == "__main__":
    sys.exit(main())
