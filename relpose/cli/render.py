"""`--render`: predict one sequence (--viz-subject/-action/-camera), then export and/or animate it
(relpose.viz.render.render_take does the work)."""
from __future__ import annotations

from pathlib import Path

from ..errors import UserError
from ..lab.wild import take_plausibility
from ..viz.render import render_take


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
        amp=args.amp, model_fps=model_fps, log=log)
    if not dataset.has_3d(args.viz_subject):   # no ground truth: say how plausible the poses are
        log(take_plausibility(dataset, args.viz_subject, args.viz_action, args.viz_camera, prediction,
                              model_fps).summary())



def check_video(path, flag: str = "--viz-video") -> None:
    """Before any work: `path` is a video ffmpeg can decode a frame of (not a folder, an empty or a text file)."""
    import imageio_ffmpeg
    p = Path(path)
    if not p.exists():
        raise UserError(f"{flag} '{path}' does not exist; give the path of the input video")
    if not p.is_file():
        raise UserError(f"{flag} '{path}' is a folder, not a video file; give the video itself (e.g. an .mp4)")
    if p.stat().st_size == 0:
        raise UserError(f"{flag} '{path}' is empty (0 bytes); give the input video")
    reader = imageio_ffmpeg.read_frames(str(p))
    try:
        meta = next(reader)
        next(reader)
        if not meta.get("size"):
            raise ValueError("no frame size")
    except (Exception, StopIteration) as e:   # ffmpeg's errors for what is not a video vary by version
        why = "it has no frames" if isinstance(e, StopIteration) else "ffmpeg cannot decode it"
        raise UserError(f"{flag} '{path}' is not a video ({why}); give a video file such as an .mp4") from None
    finally:
        reader.close()
