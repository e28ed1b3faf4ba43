"""`python -m relpose.cli.wild --keypoints NAME`: lift a video's custom keypoint file and write what a
person wants to see — the video with its 2D keypoints beside the 3D skeleton (MP4 or GIF), the poses
(.npy, one per video frame, camera space, metres) and a standalone HTML explorer — with the plausibility
checks printed. `make wild VIDEO=...` runs the detector first (its own environment), then this.
"""
from __future__ import annotations

import sys
from pathlib import Path

from ..errors import UserError
from ..files import check_output_file
from ..lab.wild import ensure_wild_model, lift_custom, load_any_model, wild_settings, world_view
from ..viz.figures import export_html, sequence_animation_figure
from ..viz.render import export_predictions, render_animation
from .common import OneLineParser, run_command


def build_parser() -> OneLineParser:
    p = OneLineParser(prog="python -m relpose.cli.wild",
                      description="Lift a video's 2D keypoints (data_2d_custom_NAME.npz) to 3D and show them.")
    p.add_argument("--keypoints", "-k", required=True, metavar="NAME", help="reads DATA_DIR/data_2d_custom_NAME.npz")
    p.add_argument("--data-dir", default="data", metavar="PATH", help="folder of the keypoint file (default: data)")
    p.add_argument("--video", metavar="FILE", help="the video, drawn behind the 2D keypoints (optional)")
    p.add_argument("--video-name", metavar="NAME", help="which video of the file (when it holds several)")
    p.add_argument("--checkpoint", metavar="PATH", help="the model: a kit checkpoint or the published "
                                                         "cpn_pretrained.bin / gt_pretrained.bin (default: the kit's "
                                                         "in-the-wild model, trained first if missing)")
    p.add_argument("--out-dir", default="wild", metavar="PATH", help="where NAME.mp4/.gif, .npy, .html go (default: wild)")
    p.add_argument("--gif", action="store_true", help="write a GIF instead of an MP4")
    p.add_argument("--limit", type=int, default=-1, metavar="N", help="render only the first N frames")
    p.add_argument("--no-tta", action="store_true", help="no flip test-time augmentation")
    p.add_argument("--no-progress", action="store_true", help="no progress bar while rendering")
    p.add_argument("--overwrite", action="store_true", help="replace outputs that exist (never done without it)")
    return p


def _main(argv) -> int:
    args = build_parser().parse_args(argv)
    out = Path(args.out_dir)
    stem = out / args.keypoints
    movie = check_output_file(stem.with_suffix(".gif" if args.gif else ".mp4"), "--out-dir", overwrite=args.overwrite)
    poses_file = check_output_file(stem.with_suffix(".npy"), "--out-dir", overwrite=args.overwrite)
    page = check_output_file(stem.with_suffix(".html"), "--out-dir", overwrite=args.overwrite)
    if args.video is not None and not Path(args.video).is_file():
        raise UserError(f"--video '{args.video}' does not exist; give the video the keypoints were detected in")

    if args.checkpoint:
        path = args.checkpoint
    else:
        s = wild_settings()
        path = ensure_wild_model(s, log=print)
    print(f"model: {path}")
    model, ckpt = load_any_model(path)
    lifted = lift_custom(model, ckpt, args.keypoints, args.data_dir, args.video_name, tta=not args.no_tta)

    export_predictions(poses_file, lifted.poses)
    shown = world_view(lifted)
    fps = lifted.fps or lifted.model_fps or 25.0
    n = render_animation(lifted.keypoints, {"Reconstruction": shown}, lifted.skeleton, fps, 3000, 70, movie,
                         viewport=(lifted.width, lifted.height), limit=args.limit, input_video_path=args.video,
                         video_first_frame=lifted.first_frame, progress=not args.no_progress)
    fig = sequence_animation_figure({"Reconstruction": shown}, lifted.skeleton, keypoints_2d=lifted.keypoints,
                                    res_w=lifted.width, res_h=lifted.height, fps=fps, up_axis="z",
                                    title=f"{lifted.name}: 2D keypoints and the lifted 3D pose")
    export_html(fig, page)
    print(f"wrote {movie} ({n} frames), {poses_file} ({len(lifted.poses)} poses, camera space, metres), {page}")
    print(lifted.report.table())
    print(lifted.report.summary())
    return 0


def main(argv=None) -> int:
    return run_command(_main, argv)


if __name__ == "__main__":
    sys.exit(main())
