"""`--render`: predict one sequence (--viz-subject/-action/-camera), then export and/or animate it."""
from __future__ import annotations

import numpy as np

from ..cameras import camera_to_world, image_coordinates
from ..errors import UserError
from ..evaluate import predict_sequence
from ..viz.render import export_predictions, render_animation, validate_selection


def render_from_args(args, dataset, model, device, log=print) -> None:
    """As published: the prediction is saved in camera space (--viz-export); for the animation the
    ground-truth trajectory is added back and both pose sets go to world space with the camera's
    extrinsics. Without ground truth only the camera's rotation is applied and the lowest point
    is put on the floor.
    """
    if not args.viz_subject or not args.viz_action:
        raise UserError("--render needs --viz-subject and --viz-action (and --viz-camera, default 0)")
    if not args.viz_output and not args.viz_export:
        raise UserError("--render needs --viz-output PATH (.gif/.mp4) and/or --viz-export PATH (.npy)")
    available = {s: {a: len(cams) for a, cams in acts.items()} for s, acts in dataset.positions_2d.items()}
    subject, action, camera = args.viz_subject, args.viz_action, args.viz_camera
    validate_selection(available, subject, action, camera)

    keypoints = np.asarray(dataset.positions_2d[subject][action][camera])
    ground_truth = None
    if dataset.has_3d(subject):
        ground_truth = np.array(dataset.positions_3d[subject][action][camera], dtype=np.float32)
    else:
        log("INFO: this action is unlabeled. Ground truth will not be rendered.")
    prediction = predict_sequence(
        model, keypoints, tta=args.test_time_augmentation, kps_left=dataset.kps_left, kps_right=dataset.kps_right,
        joints_left=dataset.joints_left, joints_right=dataset.joints_right, batch_size=args.eval_batch_size,
        device=device, amp=args.amp,
    ).float().cpu().numpy()
    if args.viz_export:
        log(f"Exporting joint positions to {args.viz_export}")
        export_predictions(args.viz_export, prediction)  # camera space, as the model predicts
    if not args.viz_output:
        return

    cams = dataset.cameras.get(subject) or next(iter(dataset.cameras.values()))
    cam = cams[camera]
    if ground_truth is not None:
        trajectory = ground_truth[:, :1]
        ground_truth[:, 1:] += trajectory
        prediction = prediction + trajectory
        prediction = camera_to_world(prediction, cam["orientation"], cam["translation"])
        ground_truth = camera_to_world(ground_truth, cam["orientation"], cam["translation"])
    else:
        prediction = camera_to_world(prediction, cam["orientation"], np.zeros(3, np.float32))
        prediction[:, :, 2] -= prediction[:, :, 2].min()  # no trajectory: at least stand on the floor
    anim_output = {"Reconstruction": prediction}
    if ground_truth is not None and not args.viz_no_ground_truth:
        anim_output["Ground truth"] = ground_truth
    pixels = image_coordinates(keypoints[..., :2], w=cam["res_w"], h=cam["res_h"])
    log(f"Rendering {subject} / {action} / camera {camera} to {args.viz_output}")
    n = render_animation(pixels, anim_output, dataset.skeleton, dataset.fps, args.viz_bitrate, cam["azimuth"],
                         args.viz_output, viewport=(cam["res_w"], cam["res_h"]), limit=args.viz_limit,
                         downsample=args.viz_downsample, size=args.viz_size, input_video_path=args.viz_video,
                         input_video_skip=args.viz_skip)
    log(f"Wrote {n} frames to {args.viz_output}")
