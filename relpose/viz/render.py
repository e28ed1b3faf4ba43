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
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..cameras import camera_to_world, image_coordinates
from ..custom_keypoints import DEFAULT_VIDEO_FPS
from ..errors import UserError
from ..files import atomic_path
from ..lift import lift_sequence, needs_resampling
from ..person_scale import zoom_to_training_size
from ..windows import Flip
from ..wild.video import for_ffmpeg as _for_ffmpeg
from .primitives import GUESSED_COLOUR, GUESSED_LABEL, display_coordinates, natural_key, per_name

WRITERS = {".gif": "pillow", ".mp4": "ffmpeg"}
RADIUS = 1.7  # metres shown around the root, as published
RIGHT_COLOUR, OTHER_COLOUR = "red", "black"
# (right, other) colours of each person when several are drawn; the first is the published pair.
PERSON_COLOURS = ((RIGHT_COLOUR, OTHER_COLOUR), ("#ff7f0e", "#1f77b4"), ("#e377c2", "#2ca02c"), ("#bcbd22", "#9467bd"))
GUESSED_STYLE = dict(color=GUESSED_COLOUR, linestyle=(0, (3, 2)), alpha=0.75)  # opaquer than in plotly: thin lines
FOLLOW = ("root", "scene")


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


def read_video_frames(path, frame_numbers, width: int | None = None, past_end: str = "error") -> list[np.ndarray]:
    """Just the frames numbered `frame_numbers` (0 = the video's first) of a video, in that order, as (H, W, 3)
    uint8, each shrunk to `width` pixels when given: the others are decoded and dropped, so memory holds only
    what is kept (150 frames at 320 px: 35 MB; the whole of a 10 s 1080p video: 1.9 GB). A frame past the
    video's end is an error, or with past_end="blank" a white image (keypoints a little longer than the
    video, as the MP4 render then stops at the video's end)."""
    import imageio_ffmpeg
    from PIL import Image

    numbers = np.asarray(frame_numbers, dtype=np.int64).reshape(-1)
    if len(numbers) and numbers.min() < 0:
        raise UserError(f"video frame {numbers.min()} of '{path}' does not exist; frames are numbered from 0")
    if not Path(path).is_file():
        raise UserError(f"--video '{path}' does not exist; give the path of the input video")
    wanted = set(numbers.tolist())
    last = max(wanted) if wanted else -1
    reader = imageio_ffmpeg.read_frames(_for_ffmpeg(path))
    meta = next(reader)
    w, h = meta["size"]
    found = {}
    count = 0
    try:
        for i, raw in enumerate(reader):
            count = i + 1
            if i in wanted:
                image = np.frombuffer(raw, dtype=np.uint8).reshape(h, w, 3)
                if width is not None and w > width:
                    shrunk = Image.fromarray(image).resize((width, max(1, round(h * width / w))),
                                                           Image.Resampling.BILINEAR, reducing_gap=2.0)
                    image = np.asarray(shrunk)
                found[i] = image.copy()
            if i >= last:
                break
    finally:
        reader.close()
    if len(found) < len(wanted) and past_end == "blank" and found:
        blank = np.full_like(next(iter(found.values())), 255)
        return [found.get(n, blank) for n in numbers.tolist()]
    if len(found) < len(wanted):
        raise UserError(f"video '{path}' has {count} frames; frame {last} was asked for (does the keypoint file "
                        "belong to this video?)")
    return [found[n] for n in numbers.tolist()]


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
    """ffmpeg killed by SIGINT (-2), or ending on a signal it caught: it then exits 255 (its exit status when
    it received a signal; its errors exit 1), whether or not its log level let it say "received signal 2"
    (on a loaded machine ffmpeg may end before Python sees the same Ctrl-C)."""
    return error.returncode in (-2, 255)


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


def _rooted(poses: np.ndarray, up_axis: str, centre: np.ndarray | None = None
            ) -> tuple[np.ndarray, tuple[float, float]]:
    """Display-frame poses with the root moved to the origin horizontally, and the z limits to show.

    World space (up_axis 'z') keeps heights so the floor stays at z = 0 (limits [0, radius]); other
    frames have no floor reference, so the root goes to the origin in all three axes. `centre` (T, 3),
    display frame, replaces the root: several people in one panel move together around their mean root.
    """
    shown = display_coordinates(poses, up_axis)
    centre = shown[:, 0] if centre is None else centre
    if up_axis == "z":
        shown[..., :2] -= centre[:, None, :2]
        return shown, (0.0, RADIUS)
    return shown - centre[:, None], (-RADIUS / 2, RADIUS / 2)


def _mean_root(bodies: list[np.ndarray]) -> np.ndarray:
    """(T, 3): per frame, the mean root of the bodies present (NaN rows are absent people); 0 where none is."""
    roots = np.stack([b[:, 0] for b in bodies])
    present = np.isfinite(roots).all(axis=-1, keepdims=True)
    count = present.sum(axis=0)
    return np.where(present, roots, 0).sum(axis=0) / np.maximum(count, 1)


def _scene_limits(bodies: list[np.ndarray], up_axis: str, margin: float = 0.2):
    """Fixed x, y, z limits holding every frame of every body (display frame, true scale), and the floor's height.

    Horizontally a square at least RADIUS wide around all the points; vertically from the floor (z = 0 in world
    space unless a point is lower, else the lowest point) to above the highest point, at least RADIUS."""
    points = np.concatenate([b.reshape(-1, 3) for b in bodies])
    points = points[np.isfinite(points).all(axis=1)]
    if not len(points):
        points = np.zeros((1, 3))
    lo, hi = points.min(axis=0), points.max(axis=0)
    centre, half = (lo + hi) / 2, max(RADIUS / 2, (hi - lo)[:2].max() / 2 + margin)
    floor = min(0.0, float(lo[2])) if up_axis == "z" else float(lo[2])
    top = max(float(hi[2]) + margin / 2, floor + RADIUS)
    return ((centre[0] - half, centre[0] + half), (centre[1] - half, centre[1] + half), (floor, top)), floor


def _follow_mode(follow: str) -> str:
    if follow not in FOLLOW:
        raise UserError(f"follow={follow!r}: use 'root' (the view moves with the body) or 'scene' (fixed limits "
                        "holding the whole path)")
    return follow


def _cut(series: dict, start: int, length: int | None = None) -> dict:
    return {k: v[start:None if length is None else start + length] for k, v in series.items()}


@dataclass
class _Take:
    """What one animation draws, cut to the frames it shows: 2D keypoints, 3D poses and guessed masks by name
    ('' for the one person of a single take), the video's frames (None: a black frame) and the frame rate."""

    keypoints: dict
    poses: dict
    masks: dict
    frames: np.ndarray | None
    fps: float
    count: int
    people: bool


@dataclass
class _Artists:
    """The matplotlib objects an animation's frame moves: (line, name, child, parent, colour) per bone."""

    image: object
    lines_2d: list
    points_2d: object
    lines_3d: list
    walked: list          # (line, the floor path (T, 3)) per body, follow='scene'
    shown: dict           # name -> display-frame poses the 3D lines read
    own_2d: bool          # the 2D keypoints are the skeleton's joints: its guessed mask applies to them


def render_animation(keypoints_2d, poses: dict, skeleton, fps: float, bitrate: int, azim: float, output_path,
                     viewport=(1000, 1000), limit: int = -1, downsample: int = 1, size: float = 6,
                     input_video_path=None, input_video_skip: int = 0, keypoints_metadata=None,
                     dpi: int = 80, up_axis: str = "z", video_first_frame: int = 0, progress: bool = False,
                     bones_2d=None, follow: str = "root", guessed=None) -> int:
    """Write the animation to output_path (.gif or .mp4); returns the number of frames written.

    keypoints_2d: (T, J, 2) pixels; poses: {title: (T, J, 3) metres}, world space (z up) as the CLI
    prepares them, or another up_axis ('-y' for camera space), one 3D panel per title. keypoints_metadata, when
    given, is VideoPose3D's dict whose 'keypoints_symmetry'[1] lists the right 2D joints. video_first_frame: the
    video frame the keypoints start at (keypoints detected in an excerpt of the video). progress: a bar
    over the frames drawn (drawing, not lifting, is what takes the time: ~5 frames/s on 2 CPU cores).
    bones_2d: (child, parent) pairs of the 2D keypoints when their layout is not the skeleton's (COCO
    keypoints in, HumanEva joints out); keypoints_metadata then names their right side.

    follow: 'root' (as published: the view follows the root horizontally, the trajectory is not seen) or
    'scene' (fixed limits holding every frame, the roots' paths drawn on the floor: a body walking away stays
    in view). Several people: keypoints_2d a dict {person: (T, J, 2)} and poses {person: (T, J, 3)}, drawn
    in one 3D panel, each in its own colours; NaN rows (a person absent in a frame) are not drawn.
    guessed: (T, J) bool (a dict by name for several people), True where the detector did not see the joint:
    the bones touching it are drawn grey, dashed and faded (2D too when the 2D layout is the skeleton's).
    """
    output_path = Path(output_path)   # as given, for messages; ffmpeg gets the absolute path
    writer_name = _writer_for(output_path, downsample)
    follow = _follow_mode(follow)
    import matplotlib

    take = _take_to_draw(keypoints_2d, poses, guessed, fps, output_path, limit=limit, downsample=downsample,
                         video=input_video_path, video_start=input_video_skip + video_first_frame,
                         skip=input_video_skip)
    views, limits, floor = _panel_views(take, follow, up_axis)
    with matplotlib.rc_context({"animation.ffmpeg_path": ffmpeg_executable()}):
        fig, artists = _draw_first_frame(take, views, limits, floor, skeleton, azim=azim, size=size,
                                         viewport=viewport, bones_2d=bones_2d, keypoints_metadata=keypoints_metadata,
                                         follow=follow)
        _save_animation(fig, _frame_updater(take, artists), take, output_path, writer_name, bitrate=bitrate,
                        dpi=dpi, progress=progress)
    return take.count


def _writer_for(output_path: Path, downsample: int) -> str:
    """The matplotlib writer of the output's extension; the flags checked before any work."""
    writer_name = WRITERS.get(output_path.suffix.lower())
    if writer_name is None:
        raise UserError(f"--viz-output '{output_path}': unsupported extension '{output_path.suffix}'; "
                        f"use {' or '.join(WRITERS)}")
    if downsample < 1:
        raise UserError(f"--viz-downsample must be >= 1, got {downsample}")
    return writer_name


def _take_to_draw(keypoints_2d, poses, guessed, fps, output_path, *, limit, downsample, video, video_start,
                  skip) -> _Take:
    """The series cut to the video's frames (from `video_start`), downsampled by averaging, and limited."""
    people = isinstance(keypoints_2d, dict)
    keypoints = {n: np.asarray(k, dtype=np.float64) for n, k in (keypoints_2d.items() if people
                                                                 else [("", keypoints_2d)])}
    poses = {title: np.asarray(p, dtype=np.float64) for title, p in poses.items()}
    T = min(len(a) for a in [*keypoints.values(), *poses.values()])
    J = next(iter(poses.values())).shape[1]
    masks = per_name(guessed, list(poses) + [n for n in keypoints if n not in poses], "guessed", (T, J))
    masks = {n: m.astype(bool) for n, m in masks.items()}
    series = {**{("2d", n): k for n, k in keypoints.items()}, **{("3d", n): p for n, p in poses.items()},
              **{("guessed", n): m for n, m in masks.items()}}
    if video is None:
        frames = None  # one black frame of the viewport's size stands for every frame
    else:
        frames, video_fps = read_video(video, video_start, limit * downsample if limit > 0 else -1)
        fps = fps or video_fps
        series = _cut(series, skip)
        length = min(min(len(v) for v in series.values()), len(frames))
        series, frames = _cut(series, 0, length), np.stack(frames[:length])
    fps = fps or DEFAULT_VIDEO_FPS   # neither the data nor a video says
    if downsample > 1:
        series = {k: downsample_frames(v.astype(np.float32), downsample) > 0 if k[0] == "guessed"
                  else downsample_frames(v, downsample) for k, v in series.items()}
        if frames is not None:
            frames = downsample_frames(frames.astype(np.float32), downsample).astype(np.uint8)
        fps = fps / downsample
    length = min(len(v) for v in series.values())
    count = length if limit < 1 else min(limit, length)
    if count < 1:
        raise UserError(f"nothing to render for '{output_path}': the sequence has no frames after "
                        f"skip={skip}, downsample={downsample}")
    series = _cut(series, 0, count)
    return _Take({n: series[("2d", n)] for n in keypoints}, {n: series[("3d", n)] for n in poses},
                 {n: series[("guessed", n)] for n in masks}, frames, fps, count, people)


def _panel_views(take: _Take, follow: str, up_axis: str):
    """(views, limits, floor): per 3D panel (one per pose set, or all the people together in one) its bodies
    in the display frame and its axis limits; the floor's height with follow='scene' (else None)."""
    panels = {"Reconstruction": take.poses} if take.people else {title: {title: p} for title, p in take.poses.items()}
    views, limits, floor = {}, {}, None
    if follow == "scene":
        shown_all = {n: display_coordinates(p, up_axis) for n, p in take.poses.items()}
        box, floor = _scene_limits(list(shown_all.values()), up_axis)
        for title, bodies in panels.items():
            views[title] = {n: shown_all[n] for n in bodies}
            limits[title] = box
    else:
        for title, bodies in panels.items():
            centre = _mean_root([display_coordinates(p, up_axis) for p in bodies.values()])
            views[title] = {}
            for n, p in bodies.items():
                views[title][n], zlim = _rooted(p, up_axis, centre)
            limits[title] = ((-RADIUS / 2, RADIUS / 2), (-RADIUS / 2, RADIUS / 2), zlim)
    return views, limits, floor


def _draw_first_frame(take: _Take, views, limits, floor, skeleton, *, azim, size, viewport, bones_2d,
                      keypoints_metadata, follow):
    """The figure at frame 0: the input panel (video frame or black, 2D bones, points) and the 3D panels."""
    from matplotlib.figure import Figure  # no pyplot: no global figure state, works under any backend
    from matplotlib.lines import Line2D

    right_2d = set(keypoints_metadata["keypoints_symmetry"][1]) if keypoints_metadata else set(skeleton.joints_right)
    right_3d = set(skeleton.joints_right)
    bones = skeleton.bones()
    bones_2d = bones if bones_2d is None else list(bones_2d)
    names = list(take.poses) + [n for n in take.keypoints if n not in take.poses]
    colours = {n: PERSON_COLOURS[k % len(PERSON_COLOURS)] if take.people else PERSON_COLOURS[0]
               for k, n in enumerate(names)}
    colours[""] = PERSON_COLOURS[0]

    fig = Figure(figsize=(size * (1 + len(views)), size))
    ax_in = fig.add_subplot(1, 1 + len(views), 1)
    ax_in.set_axis_off()
    ax_in.set_title("Input")
    frames = take.frames
    background = frames[0] if frames is not None else np.zeros((viewport[1], viewport[0]), np.uint8)
    image = ax_in.imshow(background, aspect="equal", cmap="gray" if background.ndim == 2 else None,
                         vmin=0, vmax=255)
    blank = frames is None  # black lines vanish on the blank frame
    lines_2d = []  # (line, name, child, parent, colour)
    for n, kps in take.keypoints.items():
        right, other = colours[n]
        other = "#d0d0d0" if blank and other == OTHER_COLOUR else other
        for c, p in bones_2d:
            colour = right if c in right_2d else other
            lines_2d.append((ax_in.plot(*kps[0, [c, p]].T, color=colour)[0], n, c, p, colour))
    all_2d = np.concatenate(list(take.keypoints.values()), axis=1)
    points_2d = ax_in.scatter(*all_2d[0].T, 10, color="white", edgecolors="white", zorder=10)

    lines_3d, walked = [], []  # (line, name, child, parent, colour); (line, floor path (T, 3))
    first_3d = None
    for k, (title, bodies) in enumerate(views.items()):
        ax = fig.add_subplot(1, 1 + len(views), k + 2, projection="3d")
        first_3d = first_3d or ax
        ax.view_init(elev=15.0, azim=azim)
        xlim, ylim, zlim = limits[title]
        ax.set_xlim3d(list(xlim))
        ax.set_ylim3d(list(ylim))
        ax.set_zlim3d(list(zlim))
        ax.set_box_aspect((xlim[1] - xlim[0], ylim[1] - ylim[0], zlim[1] - zlim[0]))  # true scale
        ax.set_xticklabels([]), ax.set_yticklabels([]), ax.set_zticklabels([])
        ax.set_title(title)
        for n, data in bodies.items():
            right, other = colours[n]
            for c, p in bones:
                colour = right if c in right_3d else other
                lines_3d.append((ax.plot(*data[0, [c, p]].T, zdir="z", color=colour)[0], n, c, p, colour))
            if follow == "scene":
                path = np.concatenate([data[:, 0, :2], np.full((len(data), 1), floor)], axis=1)
                ax.plot(*path.T, color=other, alpha=0.3, linewidth=1)
                walked.append((ax.plot(*path[:1].T, color=other, alpha=0.8, linewidth=1.5)[0], path))
    handles = [Line2D([], [], color=colours[n][1], label=n) for n in take.poses] if take.people else []
    if take.masks:
        handles.append(Line2D([], [], label=GUESSED_LABEL, **GUESSED_STYLE))
    if handles:
        first_3d.legend(handles=handles, loc="upper right", fontsize="small", frameon=False)
    fig.subplots_adjust(left=0.01, right=0.99, bottom=0.02, top=0.9, wspace=0.05)
    shown = {n: data for bodies in views.values() for n, data in bodies.items()}
    return fig, _Artists(image, lines_2d, points_2d, lines_3d, walked, shown, own_2d=bones_2d == bones)


def _frame_updater(take: _Take, artists: _Artists):
    """The function FuncAnimation calls for frame i: every artist moved to it, guessed bones restyled."""
    styled = set()  # the lines drawn as guesses now
    keypoints, masks, a = take.keypoints, take.masks, artists

    def restyle(line, is_guessed: bool, colour: str):
        """Grey, dashed and faded while a bone touches a guessed joint; its own colour otherwise."""
        if is_guessed == (line in styled):
            return
        if is_guessed:
            styled.add(line)
            line.set(**GUESSED_STYLE)
        else:
            styled.discard(line)
            line.set(color=colour, linestyle="-", alpha=1.0)

    def update(i):
        if take.frames is not None:
            a.image.set_data(take.frames[i])
        for line, n, c, p, colour in a.lines_2d:
            line.set_data(keypoints[n][i, [c, p], 0], keypoints[n][i, [c, p], 1])
            if a.own_2d and n in masks:
                restyle(line, bool(masks[n][i, c] or masks[n][i, p]), colour)
        a.points_2d.set_offsets(np.concatenate([kps[i] for kps in keypoints.values()]))
        for line, n, c, p, colour in a.lines_3d:
            data = a.shown[n]
            line.set_data_3d(data[i, [c, p], 0], data[i, [c, p], 1], data[i, [c, p], 2])
            if n in masks:
                restyle(line, bool(masks[n][i, c] or masks[n][i, p]), colour)
        for line, path in a.walked:
            line.set_data_3d(path[:i + 1, 0], path[:i + 1, 1], path[:i + 1, 2])
        return []

    return update


def _save_animation(fig, update, take: _Take, output_path: Path, writer_name: str, *, bitrate, dpi, progress):
    """Every frame written through a temporary file; a Ctrl-C (ffmpeg's too) ends as a KeyboardInterrupt."""
    from matplotlib.animation import FFMpegWriter, FuncAnimation, PillowWriter

    anim = FuncAnimation(fig, update, frames=np.arange(take.count), interval=1000 / take.fps, repeat=False)
    output_path.parent.mkdir(parents=True, exist_ok=True)
    if writer_name == "ffmpeg":
        writer = FFMpegWriter(fps=take.fps, codec="libx264", bitrate=bitrate, extra_args=["-pix_fmt", "yuv420p"])
    else:
        writer = PillowWriter(fps=take.fps)
    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=take.count, unit="frame", desc=f"rendering {output_path.name}")
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
        flip=Flip.from_dataset(dataset), batch_size=batch_size, device=device, amp=amp)
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
