"""`python -m relpose.cli.wild --keypoints NAME`: lift a video's custom keypoint file and write what a
person wants to see — the video with its 2D keypoints beside the 3D skeleton (MP4 or GIF), the poses
(.npy, one per video frame, camera space, metres) and a standalone HTML explorer — with the plausibility
checks printed. `make wild VIDEO=...` runs the detector first (its own environment), then this
(relpose.cli.wild_make).

Every input is checked before anything is written or trained: the keypoint file is read, the video
probed (one frame decoded), the checkpoint found. The outputs keep the whole NAME (`-k walk.take2` writes
walk.take2.mp4), are held by a lock on their name while the command runs (a second run of the same name
is refused, not silently replaced), and are written into a hidden staging folder and moved into place
at the end: an interrupted run (Ctrl-C: exit 130) leaves none of them, and the next run of the name
removes what a killed one left.
"""
from __future__ import annotations

import os
import re
import shutil
import sys
from pathlib import Path

from ..custom_keypoints import custom_file
from ..errors import UserError
from ..files import TMP_PREFIX, OutputsLock, check_output_file, check_writable_folder
from ..wild.video import probe_video
from .common import OneLineParser, run_command

# torch, plotly and matplotlib are imported where the lift starts, so that a refusal comes at once (and
# relpose.cli.wild_make checks make's variables without them).

OUTPUT_SUFFIXES = (".mp4", ".gif", ".npy", ".html")


def build_parser() -> OneLineParser:
    p = OneLineParser(prog="python -m relpose.cli.wild",
                      description="Lift a video's 2D keypoints (data_2d_custom_NAME.npz) to 3D and show them.")
    p.add_argument("--keypoints", "-k", required=True, metavar="NAME", help="reads DATA_DIR/data_2d_custom_NAME.npz")
    p.add_argument("--data-dir", default="data", metavar="PATH", help="folder of the keypoint file (default: data)")
    p.add_argument("--video", metavar="FILE", help="the video, drawn behind the 2D keypoints (optional)")
    p.add_argument("--video-name", metavar="NAME", help="which video of the file (when it holds several)")
    p.add_argument("--checkpoint", metavar="PATH", help="the model: a kit checkpoint or the published "
                                                         "cpn_pretrained.bin / gt_pretrained.bin (default: the in-the-wild "
                                                         "model the kit ships, relpose/data/models/wild-quick.bin)")
    p.add_argument("--out-dir", default="wild", metavar="PATH", help="where NAME.mp4/.gif, .npy, .html go (default: wild)")
    p.add_argument("--gif", action="store_true", help="write a GIF instead of an MP4")
    p.add_argument("--limit", type=int, default=None, metavar="N", help="render only the first N frames (default: all)")
    p.add_argument("--no-tta", action="store_true", help="no flip test-time augmentation")
    p.add_argument("--no-progress", action="store_true", help="no progress bar while rendering")
    p.add_argument("--overwrite", action="store_true", help="replace outputs that exist (never done without it)")
    return p


def output_paths(out_dir, name: str, gif: bool = False) -> dict[str, Path]:
    """The outputs of `name`: the whole name plus a suffix (Path.with_suffix would cut 'walk.take2' to 'walk')."""
    out = Path(out_dir)
    return {"movie": out / f"{name}{'.gif' if gif else '.mp4'}", "poses": out / f"{name}.npy",
            "page": out / f"{name}.html"}


def staging_folder(out_dir, name: str) -> Path:
    """Where a run of `name` writes its outputs before moving them into place (removed at its end)."""
    return Path(out_dir) / f"{TMP_PREFIX}{name}.partial"


def remove_leftovers(out_dir, name: str) -> list[Path]:
    """Delete what an interrupted run of `name` left in out_dir: its staging folder, and the temporary files of
    atomic writes of its outputs (`.relpose-<name>.<8 random>.tmp<suffix>`, nothing of another name).
    Call while holding the name's OutputsLock."""
    removed = []
    staging = staging_folder(out_dir, name)
    if staging.is_dir():
        shutil.rmtree(staging, ignore_errors=True)
        removed.append(staging)
    pattern = re.compile(re.escape(f"{TMP_PREFIX}{name}.") + r"[a-z0-9_]{8}\.tmp(" +
                         "|".join(re.escape(s) for s in OUTPUT_SUFFIXES) + ")")
    if Path(out_dir).is_dir():
        for p in Path(out_dir).iterdir():
            if pattern.fullmatch(p.name) and p.is_file():
                p.unlink(missing_ok=True)
                removed.append(p)
    return removed


def check_outputs(paths: dict[str, Path], overwrite: bool, flag: str = "--overwrite") -> None:
    """Refuse, in one line naming the file, an output that exists (unless `overwrite`) or cannot be written."""
    for path in paths.values():
        if path.exists() and not path.is_dir() and not overwrite:
            raise UserError(f"'{path}' already exists; choose another name, delete it, or pass {flag}")
        check_output_file(path, "the output", overwrite=True)


def check_video_matches(video, size: tuple[int, int], keypoint_file, recorded: tuple[int, int]) -> None:
    if tuple(size) != tuple(recorded):
        raise UserError(f"video '{video}' is {size[0]}x{size[1]} pixels but {keypoint_file} was detected in a "
                        f"{recorded[0]}x{recorded[1]} video; give that video, or detect again in this one")


def _main(argv, lock: OutputsLock | None = None) -> int:
    """The command; `lock`: the name's lock when the caller (relpose.cli.wild_make) holds it already."""
    args = build_parser().parse_args(argv)
    if args.limit is not None and args.limit < 1:
        raise UserError(f"--limit {args.limit}: give a positive number of frames, or leave it out for all of them")
    # Inputs first: nothing is written, trained or lifted for a run that cannot finish.
    keypoint_file = custom_file(args.data_dir, args.keypoints)
    from ..lab.wild import load_custom_video
    loaded = load_custom_video(args.keypoints, args.data_dir, args.video_name)
    if args.checkpoint is not None and not Path(args.checkpoint).is_file():
        what = "is a folder" if Path(args.checkpoint).is_dir() else "does not exist"
        raise UserError(f"--checkpoint '{args.checkpoint}' {what}; give a checkpoint file (.bin), or leave it out "
                        "for the kit's in-the-wild model")
    if args.video is not None:
        width, height, _ = probe_video(args.video, "--video")
        cam = loaded[0].cameras[loaded[1]][0]
        check_video_matches(args.video, (width, height), keypoint_file, (cam["res_w"], cam["res_h"]))
    paths = output_paths(args.out_dir, args.keypoints, args.gif)
    check_writable_folder(args.out_dir, "--out-dir")
    if lock is None:
        with OutputsLock(args.out_dir, args.keypoints, "-k") as held:
            return _lift_and_write(args, paths, loaded, held)
    return _lift_and_write(args, paths, loaded, lock)


def _lift_and_write(args, paths: dict[str, Path], loaded, lock: OutputsLock) -> int:
    from ..lab.wild import lift_custom, load_any_model, world_view
    from ..lab.wild_model import default_wild_model
    from ..viz.figures import export_html, sequence_animation_figure
    from ..viz.render import export_predictions, render_animation
    check_outputs(paths, args.overwrite)
    if remove_leftovers(args.out_dir, args.keypoints):
        print(f"removed what an interrupted run of {args.keypoints} left in {args.out_dir}")
    path = args.checkpoint or default_wild_model(log=print)
    print(f"model: {path}")
    model, ckpt = load_any_model(path)
    lifted = lift_custom(model, ckpt, args.keypoints, args.data_dir, tta=not args.no_tta, loaded=loaded)

    staging = staging_folder(args.out_dir, args.keypoints)
    staging.mkdir()
    try:
        staged = {k: staging / p.name for k, p in paths.items()}
        shown = world_view(lifted)
        fps = lifted.fps or lifted.model_fps or 25.0
        n = render_animation(lifted.keypoints, {"Reconstruction": shown}, lifted.skeleton, fps, 3000, 70,
                             staged["movie"], viewport=(lifted.width, lifted.height), limit=args.limit or -1,
                             input_video_path=args.video, video_first_frame=lifted.first_frame,
                             progress=not args.no_progress)
        export_predictions(staged["poses"], lifted.poses)
        fig = sequence_animation_figure({"Reconstruction": shown}, lifted.skeleton, keypoints_2d=lifted.keypoints,
                                        res_w=lifted.width, res_h=lifted.height, fps=fps, up_axis="z",
                                        title=f"{lifted.name}: 2D keypoints and the lifted 3D pose")
        export_html(fig, staged["page"])
        for key, target in paths.items():   # the lock is held: nobody else of the kit wrote these meanwhile
            os.replace(staged[key], target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    print(f"wrote {paths['movie']} ({n} frames), {paths['poses']} ({len(lifted.poses)} poses, camera space, metres), "
          f"{paths['page']}")
    print(lifted.report.table())
    print(lifted.report.summary())
    return 0


def main(argv=None, lock: OutputsLock | None = None) -> int:
    return run_command(lambda a: _main(a, lock), argv)


if __name__ == "__main__":
    sys.exit(main())
