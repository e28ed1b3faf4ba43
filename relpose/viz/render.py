"""The paper's `--render`: a GIF/MP4 of the 2D input beside one 3D panel per pose set.

Follows VideoPose3D's renderer: panels of `size` inches at 80 dpi, a 1.7 m cube that follows the
root in the horizontal plane (trajectory removed for display), right limbs red and the rest black,
`downsample` averaging blocks of frames (and dividing fps by the factor), `limit` capping the frame
count after downsampling. GIFs use Pillow, MP4s ffmpeg (the system one, else imageio-ffmpeg's binary).

ffmpeg is handed absolute paths only: it reads a name such as 'concat:a|b' or 'http:x' as a protocol and
one starting with '-' as an option. A Ctrl-C while rendering (the terminal interrupts ffmpeg too) ends as
a KeyboardInterrupt, with the partial file removed, not as ffmpeg's error.
"""
from __future__ import annotations

import contextlib
import logging
import shutil
import subprocess
from pathlib import Path

import numpy as np

from ..cameras import camera_to_world, image_coordinates
from ..errors import UserError
from ..files import atomic_path
from ..lift import lift_sequence, needs_resampling
from ..person_scale import zoom_to_training_size
from ..wild.video import for_ffmpeg as _for_ffmpeg
from .primitives import display_coordinates, natural_key

WRITERS = {".gif": "pillow", ".mp4": "ffmpeg"}
RADIUS = 1.7  # metres shown around the root, as published
RIGHT_COLOUR, OTHER_COLOUR = "red", "black"


def ffmpeg_executable() -> str:
    """A system ffmpeg on PATH, else the binary shipped in the imageio-ffmpeg wheel."""
    found = shutil.which("ffmpeg")
    if found:
        return found
    import imageio_ffmpeg
    return imageio_ffmpeg.get_ffmpeg_exe()


def downsample_frames(x: np.ndarray, factor: int) -> np.ndarray:
    """Average non-overlapping blocks of `factor` frames (a trailing partial block is dropped)."""
    if factor <= 1:
        return x
    length = x.shape[0] // factor * factor
    return x[:length].reshape(-1, factor, *x.shape[1:]).mean(axis=1)


def read_video(path, skip: int = 0, limit: int = -1):
    """Frames (H, W, 3) uint8 of a video file via imageio-ffmpeg, skipping the first `skip` frames."""
    import imageio_ffmpeg
    if not Path(path).is_file():
        raise UserError(f"--viz-video '{path}' does not exist; give the path of the input video")
    reader = imageio_ffmpeg.read_frames(_for_ffmpeg(path))
    meta = next(reader)
    w, h = meta["size"]
    frames = []
    try:
        for i, raw in enumerate(reader):
            if i < skip:
                continue
            if 0 < limit <= len(frames):
                break
            frames.append(np.frombuffer(raw, dtype=np.uint8).reshape(h, w, 3))
    finally:
        reader.close()
    return frames, float(meta.get("fps") or 0)


@contextlib.contextmanager
def _quiet(logger_name: str):
    logger = logging.getLogger(logger_name)
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _ffmpeg_got_sigint(error: subprocess.CalledProcessError) -> bool:
    said = error.stderr.decode(errors="replace") if isinstance(error.stderr, bytes) else str(error.stderr or "")
    return error.returncode == -2 or (error.returncode == 255 and "received signal 2" in said)


def _interrupted(error: BaseException) -> bool:
    """Whether `error` ends a Ctrl-C: the KeyboardInterrupt itself, or the error ffmpeg's end raised while
    it was handled (matplotlib's writer checks ffmpeg's exit status on the way out), or ffmpeg's own exit
    on SIGINT noticed before Python's."""
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, KeyboardInterrupt):
            return True
        if isinstance(error, subprocess.CalledProcessError) and _ffmpeg_got_sigint(error):
            return True
        error = error.__cause__ or error.__context__
    return False


def _rooted(poses: np.ndarray, up_axis: str) -> tuple[np.ndarray, tuple[float, float]]:
    """Display-frame poses with the root moved to the origin horizontally, and the z limits to show.

    World space (up_axis 'z') keeps heights so the floor stays at z = 0 (limits [0, radius]); other
    frames have no floor reference, so the root goes to the origin in all three axes.
    """
    shown = display_coordinates(poses, up_axis)
    if up_axis == "z":
        shown[..., :2] -= shown[:, :1, :2]
        return shown, (0.0, RADIUS)
    return shown - shown[:, :1], (-RADIUS / 2, RADIUS / 2)


def render_animation(keypoints_2d, poses: dict, skeleton, fps: float, bitrate: int, azim: float, output_path,
                     viewport=(1000, 1000), limit: int = -1, downsample: int = 1, size: float = 6,
                     input_video_path=None, input_video_skip: int = 0, keypoints_metadata=None,
                     dpi: int = 80, up_axis: str = "z", video_first_frame: int = 0, progress: bool = False,
                     bones_2d=None) -> int:
    """Write the animation to output_path (.gif or .mp4); returns the number of frames written.

    keypoints_2d: (T, J, 2) pixels; poses: {title: (T, J, 3) metres}, world space (z up) as the CLI
    prepares them, or another up_axis ('-y' for camera space). keypoints_metadata, when given, is
    VideoPose3D's dict whose 'keypoints_symmetry'[1] lists the right 2D joints. video_first_frame: the
    video frame the keypoints start at (keypoints detected in an excerpt of the video). progress: a bar
    over the frames drawn (drawing, not lifting, is what takes the time: ~5 frames/s on 2 CPU cores).
    bones_2d: (child, parent) pairs of the 2D keypoints when their layout is not the skeleton's (COCO
    keypoints in, HumanEva joints out); keypoints_metadata then names their right side.
    """
    output_path = Path(output_path)   # as given, for messages; ffmpeg gets the absolute path
    writer_name = WRITERS.get(output_path.suffix.lower())
    if writer_name is None:
        raise UserError(f"--viz-output '{output_path}': unsupported extension '{output_path.suffix}'; "
                        f"use {' or '.join(WRITERS)}")
    if downsample < 1:
        raise UserError(f"--viz-downsample must be >= 1, got {downsample}")
    import matplotlib
    from matplotlib.animation import FFMpegWriter, FuncAnimation, PillowWriter
    from matplotlib.figure import Figure  # no pyplot: no global figure state, works under any backend

    keypoints = np.asarray(keypoints_2d, dtype=np.float64)
    poses = {title: np.asarray(p, dtype=np.float64) for title, p in poses.items()}
    if input_video_path is None:
        frames = None  # one black frame of the viewport's size stands for every frame
    else:
        frames, video_fps = read_video(input_video_path, input_video_skip + video_first_frame,
                                       limit * downsample if limit > 0 else -1)
        fps = fps or video_fps
        keypoints = keypoints[input_video_skip:]
        poses = {t: p[input_video_skip:] for t, p in poses.items()}
        length = min(len(keypoints), len(frames))
        keypoints, frames = keypoints[:length], np.stack(frames[:length])
        poses = {t: p[:length] for t, p in poses.items()}
    fps = fps or 25.0   # neither the data nor a video says: a common video rate
    if downsample > 1:
        keypoints = downsample_frames(keypoints, downsample)
        poses = {t: downsample_frames(p, downsample) for t, p in poses.items()}
        if frames is not None:
            frames = downsample_frames(frames.astype(np.float32), downsample).astype(np.uint8)
        fps = fps / downsample
    count = len(keypoints) if limit < 1 else min(limit, len(keypoints))
    if count < 1:
        raise UserError(f"nothing to render for '{output_path}': the sequence has no frames after "
                        f"skip={input_video_skip}, downsample={downsample}")

    right_2d = set(keypoints_metadata["keypoints_symmetry"][1]) if keypoints_metadata else set(skeleton.joints_right)
    right_3d = set(skeleton.joints_right)
    bones = skeleton.bones()
    bones_2d = bones if bones_2d is None else list(bones_2d)
    shown = {t: _rooted(p, up_axis) for t, p in poses.items()}

    with matplotlib.rc_context({"animation.ffmpeg_path": ffmpeg_executable()}):
        fig = Figure(figsize=(size * (1 + len(poses)), size))
        ax_in = fig.add_subplot(1, 1 + len(poses), 1)
        ax_in.set_axis_off()
        ax_in.set_title("Input")
        background = frames[0] if frames is not None else np.zeros((viewport[1], viewport[0]), np.uint8)
        image = ax_in.imshow(background, aspect="equal", cmap="gray" if background.ndim == 2 else None,
                             vmin=0, vmax=255)
        other_2d = OTHER_COLOUR if frames is not None else "#d0d0d0"  # black lines vanish on the blank frame
        lines_2d = [ax_in.plot(*keypoints[0, [c, p]].T, color=RIGHT_COLOUR if c in right_2d else other_2d)[0]
                    for c, p in bones_2d]
        points_2d = ax_in.scatter(*keypoints[0].T, 10, color="white", edgecolors="white", zorder=10)

        lines_3d = []
        for k, (title, (data, zlim)) in enumerate(shown.items()):
            ax = fig.add_subplot(1, 1 + len(poses), k + 2, projection="3d")
            ax.view_init(elev=15.0, azim=azim)
            ax.set_xlim3d([-RADIUS / 2, RADIUS / 2])
            ax.set_ylim3d([-RADIUS / 2, RADIUS / 2])
            ax.set_zlim3d(list(zlim))
            ax.set_box_aspect((1, 1, 1))
            ax.set_xticklabels([]), ax.set_yticklabels([]), ax.set_zticklabels([])
            ax.set_title(title)
            lines_3d.append([ax.plot(*data[0, [c, p]].T, zdir="z", color=RIGHT_COLOUR if c in right_3d
                                     else OTHER_COLOUR)[0] for c, p in bones])
        fig.subplots_adjust(left=0.01, right=0.99, bottom=0.02, top=0.9, wspace=0.05)

        def update(i):
            if frames is not None:
                image.set_data(frames[i])
            for line, (c, p) in zip(lines_2d, bones_2d):
                line.set_data(keypoints[i, [c, p], 0], keypoints[i, [c, p], 1])
            points_2d.set_offsets(keypoints[i])
            for lines, (data, _) in zip(lines_3d, shown.values()):
                for line, (c, p) in zip(lines, bones):
                    line.set_data_3d(data[i, [c, p], 0], data[i, [c, p], 1], data[i, [c, p], 2])
            return []

        anim = FuncAnimation(fig, update, frames=np.arange(count), interval=1000 / fps, repeat=False)
        output_path.parent.mkdir(parents=True, exist_ok=True)
        if writer_name == "ffmpeg":
            writer = FFMpegWriter(fps=fps, codec="libx264", bitrate=bitrate, extra_args=["-pix_fmt", "yuv420p"])
        else:
            writer = PillowWriter(fps=fps)
        bar = None
        if progress:
            from tqdm.auto import tqdm
            bar = tqdm(total=count, unit="frame", desc=f"rendering {output_path.name}")
        try:
            # matplotlib logs ffmpeg's whole stderr as a warning when it fails; an interrupted ffmpeg says
            # only that it was interrupted, and a real failure's text is in its CalledProcessError.
            with atomic_path(_for_ffmpeg(output_path), what="animation") as tmp, _quiet("matplotlib.animation"):
                try:
                    anim.save(str(tmp), writer=writer, dpi=dpi,
                              progress_callback=(lambda i, n: bar.update(1)) if bar is not None else None)
                except BaseException as e:
                    if not isinstance(e, KeyboardInterrupt) and _interrupted(e):
                        raise KeyboardInterrupt from None
                    raise
        finally:
            if bar is not None:
                bar.close()
    return count


def export_predictions(path, poses) -> Path:
    """`--viz-export`: save the camera-space predictions (T, J, 3) as .npy (exactly at `path`)."""
    path = Path(path)
    poses = np.asarray(poses)
    if poses.ndim != 3 or poses.shape[-1] != 3:
        raise ValueError(f"expected predictions of shape (T, J, 3), got {poses.shape}")
    if path.suffix.lower() != ".npy":
        raise UserError(f"--viz-export '{path}' must end in .npy")
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path, what="--viz-export file") as tmp, open(tmp, "wb") as f:
        np.save(f, poses)
    return path


def _normalise_available(available) -> dict:
    """{subject: {action: [camera, ...]}} from that shape, {subject: {action: n_cameras}}, or (s, a, c) triples."""
    if isinstance(available, dict):
        out = {}
        for s, actions in available.items():
            out[s] = {a: list(range(c)) if isinstance(c, int) else list(c) for a, c in actions.items()}
        return out
    out: dict = {}
    for s, a, c in available:
        out.setdefault(s, {}).setdefault(a, []).append(c)
    return out


def validate_selection(available, subject, action, camera) -> None:
    """Check --viz-subject/-action/-camera against the data set; the UserError lists the valid choices."""
    table = _normalise_available(available)
    if subject not in table:
        raise UserError(f"unknown --viz-subject '{subject}'; valid: {', '.join(sorted(table, key=natural_key))}")
    if action not in table[subject]:
        valid = ", ".join(sorted(table[subject], key=natural_key))
        raise UserError(f"unknown --viz-action '{action}' for {subject}; valid: {valid}")
    cameras = sorted(table[subject][action])
    if camera not in cameras:
        raise UserError(f"unknown --viz-camera {camera} for {subject} '{action}'; valid: "
                        f"{', '.join(str(c) for c in cameras)}")


def render_take(model, dataset, subject: str, action: str, camera: int = 0, *, output=None, export=None,
                tta: bool = True, ground_truth: bool = True, limit: int = -1, downsample: int = 1, size: int = 5,
                bitrate: int = 3000, video=None, video_skip: int = 0, batch_size: int = 1024, device=None,
                amp: bool = False, model_fps: float | None = None, person_size: str = "normalise",
                log=print) -> np.ndarray:
    """The paper's `--render` as a function: predict one take as seen by one camera, export it and/or animate it.

    As published: the prediction is saved in camera space (`export`, .npy); for the animation (`output`,
    .gif/.mp4) the ground-truth trajectory is added back and both pose sets go to world space with the
    camera's extrinsics. Without ground truth only the camera's rotation is applied and the lowest point is
    put on the floor. Returns the camera-space prediction (T, J, 3).

    A video of a custom data set is lifted at the model's frame rate (`model_fps`, what its checkpoint
    records) and the poses brought back to the video's: one pose per video frame (relpose.lift). Data
    sets with 3D are lifted at their own rate, as the published evaluation does. A custom video's person is
    zoomed to the size the model learned (relpose.person_scale; person_size="keep" does not), as every
    route that lifts a video does.
    """
    available = {s: {a: len(cams) for a, cams in acts.items()} for s, acts in dataset.positions_2d.items()}
    validate_selection(available, subject, action, camera)
    keypoints = np.asarray(dataset.positions_2d[subject][action][camera])
    truth = None
    if dataset.has_3d(subject):
        truth = np.array(dataset.positions_3d[subject][action][camera], dtype=np.float32)
    else:
        log("INFO: this action is unlabeled. Ground truth will not be rendered.")
    fps = dataset.fps_of(subject)
    if dataset.video_fps is not None and needs_resampling(fps, model_fps):
        log(f"INFO: lifting at the model's {model_fps:g} fps: keypoints resampled from the video's {fps:g} fps, "
            "poses back to it")
    elif dataset.video_fps is not None and model_fps and not fps:
        log(f"INFO: the keypoint file does not record the video's frame rate; lifting as if it were the model's "
            f"{model_fps:g} fps (write it with --fps or --video to resample)")
    cam = (dataset.cameras.get(subject) or next(iter(dataset.cameras.values())))[camera]
    lifted_keypoints = keypoints
    if dataset.video_fps is not None:   # a custom video: no 3D, any person size
        lifted_keypoints, _ = zoom_to_training_size(keypoints, cam["res_w"], cam["res_h"], dataset.input_layout().name,
                                                    person_size, log)
    prediction = lift_sequence(
        model, lifted_keypoints, fps=fps if dataset.video_fps is not None else None, model_fps=model_fps, tta=tta,
        kps_left=dataset.kps_left, kps_right=dataset.kps_right, joints_left=dataset.joints_left,
        joints_right=dataset.joints_right, batch_size=batch_size, device=device, amp=amp)
    if export:
        log(f"Exporting joint positions to {export}")
        export_predictions(export, prediction)  # camera space, as the model predicts
    if not output:
        return prediction

    shown = prediction
    if truth is not None:
        trajectory = truth[:, :1]
        truth[:, 1:] += trajectory
        shown = camera_to_world(prediction + trajectory, cam["orientation"], cam["translation"])
        truth = camera_to_world(truth, cam["orientation"], cam["translation"])
    else:
        shown = camera_to_world(prediction, cam["orientation"], np.zeros(3, np.float32))
        shown[:, :, 2] -= shown[:, :, 2].min()  # no trajectory: at least stand on the floor
    poses = {"Reconstruction": shown}
    if truth is not None and ground_truth:
        poses["Ground truth"] = truth
    pixels = image_coordinates(keypoints[..., :2], w=cam["res_w"], h=cam["res_h"])
    log(f"Rendering {subject} / {action} / camera {camera} to {output}")
    own_layout = dataset.input_layout().name == dataset.skeleton.name
    layout_2d = None if own_layout else dataset.input_layout()
    n = render_animation(pixels, poses, dataset.skeleton, fps or 0, bitrate, cam.get("azimuth", 0), output,
                         viewport=(cam["res_w"], cam["res_h"]), limit=limit, downsample=downsample, size=size,
                         input_video_path=video, input_video_skip=video_skip,
                         video_first_frame=int(cam.get("first_frame", 0)),
                         bones_2d=None if own_layout else layout_2d.bone_indices(),
                         keypoints_metadata=None if own_layout else {"keypoints_symmetry": list(layout_2d.symmetry)})
    log(f"Wrote {n} frames to {output}")
    return prediction
