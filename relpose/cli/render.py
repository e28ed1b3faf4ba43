"""`--render`: predict one sequence (--viz-subject/-action/-camera), then export and/or animate it
(relpose.viz.render.render_take does the work)."""
from __future__ import annotations

from ..cameras import image_coordinates
from ..errors import UserError
from ..wild.plausibility import plausibility_report
from ..viz.render import render_take


def render_from_args(args, dataset, model, device, model_fps=None, log=print) -> None:
    if not args.viz_subject or not args.viz_action:
        raise UserError("--render needs --viz-subject and --viz-action (and --viz-camera, default 0)")
    if not args.viz_output and not args.viz_export:
        raise UserError("--render needs --viz-output PATH (.gif/.mp4) and/or --viz-export PATH (.npy)")
    prediction = render_take(model, dataset, args.viz_subject, args.viz_action, args.viz_camera, output=args.viz_output,
                export=args.viz_export, tta=args.test_time_augmentation, ground_truth=not args.viz_no_ground_truth,
                limit=args.viz_limit, downsample=args.viz_downsample, size=args.viz_size, bitrate=args.viz_bitrate,
                video=args.viz_video, video_skip=args.viz_skip, batch_size=args.eval_batch_size, device=device,
                amp=args.amp, model_fps=model_fps, log=log)
    if not dataset.has_3d(args.viz_subject):   # no ground truth: say how plausible the poses are
        log(plausibility_line(dataset, args.viz_subject, args.viz_action, args.viz_camera, prediction, model_fps))


def plausibility_line(dataset, subject, action, camera, prediction, model_fps=None) -> str:
    cam = dataset.cameras[subject][camera]
    fps = dataset.fps_of(subject) or model_fps or 25.0
    keypoints = None
    if dataset.input_layout().name == dataset.skeleton.name:   # the root is placed from the skeleton's own 2D
        keypoints = image_coordinates(dataset.positions_2d[subject][action][camera], w=cam["res_w"], h=cam["res_h"])
    report = plausibility_report(prediction, dataset.skeleton, fps, keypoints, cam["res_w"], cam["res_h"])
    return report.summary()
