"""`--render`: predict one sequence (--viz-subject/-action/-camera), then export and/or animate it
(relpose.viz.render.render_take does the work)."""
from __future__ import annotations

from ..errors import UserError
from ..viz.render import render_take
from ..wild.plausibility import take_plausibility
from ..wild.video import probe_video


def render_from_args(args, dataset, model, device, model_fps=None, log=print) -> None:
    if not args.viz_subject or not args.viz_action:
        raise UserError("--render needs --viz-subject and --viz-action (and --viz-camera, default 0)")
    if not args.viz_output and not args.viz_export:
        raise UserError("--render needs --viz-output PATH (.gif/.mp4) and/or --viz-export PATH (.npy)")
    prediction = render_take(
        model, dataset, args.viz_subject, args.viz_action, args.viz_camera, output=args.viz_output,
        export=args.viz_export, tta=args.test_time_augmentation, ground_truth=not args.viz_no_ground_truth,
        limit=args.viz_limit, downsample=args.viz_downsample, size=args.viz_size, bitrate=args.viz_bitrate,
        video=args.viz_video, video_skip=args.viz_skip, batch_size=args.eval_batch_size, device=device,
        amp=args.amp, model_fps=model_fps, person_size="keep" if args.keep_person_size else "normalise", log=log)
    if not dataset.has_3d(args.viz_subject):   # no ground truth: say how plausible the poses are
        log(take_plausibility(dataset, args.viz_subject, args.viz_action, args.viz_camera, prediction,
                              model_fps).summary())



def check_video(path, flag: str = "--viz-video") -> None:
    """Before any work: `path` is a video ffmpeg can decode a frame of (not a folder, an empty or a text file)."""
    probe_video(path, flag)