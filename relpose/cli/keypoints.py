"""`python -m relpose.cli.keypoints`: a 2D detector's output -> data/data_2d_custom_<NAME>.npz (VideoPose3D layout)."""
from __future__ import annotations

import sys
from pathlib import Path

from ..custom_keypoints import MAX_FPS, MAX_FRAME_SIDE, MIN_FPS
from ..errors import UserError
from ..files import check_output_file
from ..wild.detections import FORMATS, check_min_score, check_person, convert_detections, custom_file, read_detections
from ..wild.video import probe_video
from .common import OneLineParser, option, run_command, shell_command


def video_properties(path, with_frames: bool = False) -> tuple:
    """(width, height, fps) of the video the detector ran on (relpose.wild.video.probe_video), and with_frames
    its number of frames (an estimate from the header); a frame rate no video has counts as unknown."""
    width, height, fps, frames = probe_video(path, "--video", with_frames=True)
    if fps is not None and not MIN_FPS <= fps <= MAX_FPS:
        fps = frames = None
    if not (1 <= width <= MAX_FRAME_SIDE and 1 <= height <= MAX_FRAME_SIDE):
        raise UserError(f"--video '{path}' has frames of {width}x{height} pixels; give a video file")
    return (width, height, fps, frames) if with_frames else (width, height, fps)


def _check_flags(args) -> None:
    """Ranges of the numeric flags, before any file is read."""
    for flag, value in (("--width", args.width), ("--height", args.height)):
        if value is not None and not 1 <= value <= MAX_FRAME_SIDE:
            raise UserError(f"{flag} {value}: give the frame's size in pixels, 1 to {MAX_FRAME_SIDE:,}")
    if args.fps is not None and not MIN_FPS <= args.fps <= MAX_FPS:   # false for NaN
        raise UserError(f"--fps {args.fps}: give the video's frame rate, {MIN_FPS:g} to {MAX_FPS:,.0f} frames "
                        "per second")
    check_min_score(args.min_score, "--min-score")
    args.person = check_person(args.person)


def _check_length(video, frames: float | None, path) -> None:
    """The detections fit in the video where its length is known (an estimate: a frame or two of slack)."""
    if frames is None:
        return
    last = video.first_frame + len(video.frames)
    if video.first_frame >= frames or last > frames + max(2.0, 0.01 * frames):
        raise UserError(f"{video.where} holds frames {video.first_frame:,} to {last - 1:,}, but --video '{path}' "
                        f"has about {frames:,.0f}; give the video the detector ran on")


def _keypoints(argv) -> int:
    parser = OneLineParser(prog="python -m relpose.cli.keypoints",
                           description="Convert a 2D detector's output (one person per frame, or each person; "
                                       "gaps interpolated and marked) into VideoPose3D's custom 2D file "
                                       "data_2d_custom_<NAME>.npz.")
    parser.add_argument("input", metavar="INPUT",
                        help="the detector's output: a results .json file, or OpenPose's folder of *_keypoints.json")
    parser.add_argument("--format", choices=FORMATS, default=None, help="the detector's format (default: recognised "
                                                                          "from the content)")
    parser.add_argument("--name", required=True, help="the keypoints name: writes data_2d_custom_<NAME>.npz, "
                                                      "read with -d custom -k NAME")
    parser.add_argument("--width", type=int, default=None, help="frame width in pixels (COCO, OpenPose, AlphaPose)")
    parser.add_argument("--height", type=int, default=None, help="frame height in pixels")
    parser.add_argument("--fps", type=float, default=None, help="frame rate (recorded in the file's metadata)")
    parser.add_argument("--video", default=None, metavar="FILE",
                        help="the video the detector ran on: its size and frame rate, and its name in the file")
    parser.add_argument("--min-score", type=float, default=0.3,
                        help="joints below this score are interpolated in time (default: 0.3)")
    parser.add_argument("--person", default="best", metavar="best|all|N",
                        help="with several people (COCO results, AlphaPose, OpenPose): best, the highest-scoring "
                             "followed by overlap (default); all, each tracked person as its own video "
                             "<video>.person<N>; or N, tracked person N (numbered by first appearance)")
    parser.add_argument("--data-dir", default="data", help="output directory (default: data)")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing file (never done without it)")
    args = parser.parse_args(argv)
    _check_flags(args)

    width, height, fps, video_name, video_frames = args.width, args.height, args.fps, None, None
    if args.video is not None:   # probed (its header only) before anything is written
        if width is not None or height is not None:
            raise UserError("give either --video or --width/--height, not both")
        width, height, video_fps, video_frames = video_properties(args.video, with_frames=True)
        fps = fps if fps is not None else video_fps
        video_name = Path(args.video).name
    output = check_output_file(custom_file(args.data_dir, args.name), "the output file", overwrite=args.overwrite)
    video = read_detections(args.input, args.format, width=width, height=height, fps=fps, name=video_name)
    if video.source_format == "mediapipe":   # the file records its own size: flags may only agree with it
        for flag, given, recorded in (("--width", width, video.width), ("--height", height, video.height)):
            if given is not None and given != recorded:
                source = flag if args.video is None else f"--video's {flag[2:]}"
                raise UserError(f"{source} {given} disagrees with {args.input}, which records {recorded}; leave it out")
        if video.fps is None:
            video.fps = fps
    _check_length(video, video_frames, args.video)
    reports = convert_detections(video, output, min_score=args.min_score, person=args.person,
                                 overwrite=args.overwrite)
    fps_text = f", {video.fps:g} fps" if video.fps else ""
    written = ", ".join(f"'{entry}' ({r.frames} frames from video frame {r.first_frame})"
                        for entry, r in reports.items())
    print(f"wrote {output}: video{'s' if len(reports) > 1 else ''} {written}, {video.width}x{video.height}{fps_text}, "
          f"layout {video.layout}")
    first = next(iter(reports))
    which = option("--video-name", first) if len(reports) > 1 else []
    wild = ["python", "-m", "relpose.cli.wild", *option("-k", args.name), *which] + \
        (option("--video", args.video) if args.video else [])
    print("next: " + shell_command(wild) + "   (the kit's in-the-wild model; --checkpoint PATH for another"
          + ("; --video-name chooses the person" if which else "") + ")")
    command = ["python", "-m", "relpose", "-d", "custom", *option("-k", args.name), "--evaluate", "<checkpoint>",
               "--render", *option("--viz-subject", first), "--viz-action", "custom", "--viz-camera", "0"]
    if args.video is not None:
        command += option("--viz-video", args.video)
    command += option("--viz-output", f"{args.name}.mp4")
    print("  or: " + shell_command(command, ("<checkpoint>",))
          + "   (with the checkpoint's model flags: -arc, -ch, -lfd, --hidden, --stage)")
    return 0


def main(argv=None) -> int:
    return run_command(_keypoints, argv)


if __name__ == "__main__":
    sys.exit(main())
