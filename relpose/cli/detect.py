"""`python -m relpose.wild.detect VIDEO --output LANDMARKS.json`: flags -> relpose.wild.detect.

Runs in the detector's environment (make detect-env: mediapipe, numpy < 2, no torch), so it imports
nothing but relpose.cli.common, relpose.files and relpose.wild.detect.
"""
from __future__ import annotations

import sys

from ..files import check_output_file
from ..wild.detect import detect_video, write_landmarks
from .common import OneLineParser, run_command


def build_parser() -> OneLineParser:
    p = OneLineParser(prog="python -m relpose.wild.detect",
                      description="2D pose landmarks (MediaPipe Pose, 33 points) for every frame of a video, "
                                  "offline (the model bundled with mediapipe).")
    p.add_argument("video", metavar="VIDEO", help="the video file (anything OpenCV reads: .mp4, .avi, .mov)")
    p.add_argument("--output", "-o", required=True, metavar="LANDMARKS.json", help="the landmarks file to write")
    p.add_argument("--limit", type=int, metavar="N", help="detect in the first N frames only")
    p.add_argument("--overwrite", action="store_true", help="replace --output if it exists")
    p.add_argument("--min-detection", type=float, default=0.5, metavar="C",
                   help="MediaPipe's minimum person-detection confidence, 0..1 (default: 0.5)")
    p.add_argument("--no-progress", action="store_true", help="no progress output on stderr")
    return p


def _main(argv) -> int:
    args = build_parser().parse_args(argv)
    output = check_output_file(args.output, "--output", overwrite=args.overwrite, suffixes=(".json",))
    stats: dict = {}
    landmarks = detect_video(args.video, limit=args.limit, progress=not args.no_progress,
                             min_detection=args.min_detection, stats=stats)
    write_landmarks(landmarks, output, overwrite=args.overwrite)
    n, found = stats["frames"], stats["frames_with_person"]
    print(f"{output}: {n} frames, a person in {found} ({100 * found / n:.0f}%), "
          f"detection {stats['frames_per_second']:.1f} frames/s")
    return 0


def main(argv=None) -> int:
    return run_command(_main, argv)


if __name__ == "__main__":
    sys.exit(main())
