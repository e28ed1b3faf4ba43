"""2D keypoints from a real video: MediaPipe Pose over every frame, written as a landmarks file.

    python -m relpose.wild.detect VIDEO --output LANDMARKS.json [--limit N] [--overwrite] [--min-detection 0.5]

This runs in its own environment (`make detect-env` builds .venv-detect): mediapipe 0.10.21, the last
release with the `solutions` API, needs numpy < 2 while the kit pins numpy 2. So this module imports
neither torch nor any kit module that does; it uses only relpose.errors and relpose.files. The command line is relpose.cli.detect (flags are read there, as for
every command of the kit); this package's __main__ calls it.

Offline: model_complexity=1 is MediaPipe's `pose_landmark_full` model, which the wheel bundles;
complexities 0 and 2 are downloaded on first use and are therefore not offered. The bundled file is
checked before anything starts.

The landmarks file (JSON):

    {"format": "mediapipe-pose-landmarks", "video": <file name>, "width": int, "height": int,
     "fps": float or null, "frames": [null or {"landmarks": [[x, y, z, visibility] * 33]} per frame]}

x and y are normalised by the frame's width and height, as MediaPipe gives them; z is MediaPipe's
relative depth (same scale as x, origin at the hips); visibility is in [0, 1]. A frame without a
person is null. Keep in mind that in tracking mode MediaPipe can report a "person" in frames without
one (it keeps following a region after a shot cut): visibility does not tell those apart reliably.
"""
from __future__ import annotations

import contextlib
import math
import os
import sys
import tempfile
import time
from pathlib import Path

from ...errors import UserError
from ..detections import write_mediapipe_json

FORMAT = "mediapipe-pose-landmarks"
NUM_LANDMARKS = 33
MODEL_COMPLEXITY = 1  # pose_landmark_full, bundled in the wheel; 0 and 2 would be downloaded
BUNDLED_MODEL = Path("modules", "pose_landmark", "pose_landmark_full.tflite")
PROGRESS_EVERY_S = 5.0  # the plain progress line's interval when tqdm is not installed
DIGITS = 6  # decimals kept in the file (1e-6 of the frame size)


@contextlib.contextmanager
def _native_logs_captured():
    """Send what C++ code writes to file descriptor 2 (TFLite, absl, OpenCV's FFmpeg) into a temporary
    file for the length of the block, so that the user sees only this module's lines; Python's
    sys.stderr keeps writing to the real stderr. If the block fails with anything but a UserError,
    the captured lines are shown, since they may explain it."""
    sys.stderr.flush()
    saved_fd = os.dup(2)
    log = tempfile.TemporaryFile()
    real_stderr = os.fdopen(os.dup(saved_fd), "w", buffering=1)
    old_stderr = sys.stderr
    os.dup2(log.fileno(), 2)
    sys.stderr = real_stderr
    try:
        yield
    except BaseException as e:
        if not isinstance(e, (UserError, KeyboardInterrupt)):
            log.seek(0)
            real_stderr.write(log.read().decode(errors="replace"))
        raise
    finally:
        real_stderr.flush()
        os.dup2(saved_fd, 2)
        os.close(saved_fd)
        sys.stderr = old_stderr
        real_stderr.close()
        log.close()


def _import_mediapipe():
    try:
        import cv2
        import mediapipe
    except ImportError as e:
        raise UserError(f"{e.name} is not installed in {sys.executable}; run `make detect-env` and use "
                        f".venv-detect/bin/python -m relpose.wild.detect") from None
    model = Path(mediapipe.__file__).parent / BUNDLED_MODEL
    if not model.is_file():
        raise UserError(f"the MediaPipe install in {sys.executable} lacks its bundled model {model}; "
                        f"rebuild the environment with `make detect-env`")
    return cv2, mediapipe


class _Progress:
    """A tqdm bar when stderr is a terminal and tqdm is installed, else a line on stderr every
    PROGRESS_EVERY_S seconds (what a log file wants)."""

    def __init__(self, total: int | None, enabled: bool, name: str):
        self.total, self.enabled, self.name = total, enabled, name
        self.count, self.start, self.last = 0, time.perf_counter(), time.perf_counter()
        self.bar = None
        if enabled and sys.stderr.isatty():
            try:
                from tqdm import tqdm
            except ImportError:
                pass
            else:
                self.bar = tqdm(total=total, unit="frame", desc=f"detect {name}", file=sys.stderr)

    def update(self):
        self.count += 1
        if not self.enabled:
            return
        if self.bar is not None:
            self.bar.update(1)
            return
        now = time.perf_counter()
        if now - self.last >= PROGRESS_EVERY_S:
            self.last = now
            of = f"/{self.total}" if self.total else ""
            print(f"detect {self.name}: {self.count}{of} frames, {self.count / (now - self.start):.1f} frames/s",
                  file=sys.stderr, flush=True)

    def close(self):
        if self.bar is not None:
            self.bar.close()


def _landmarks(result) -> dict | None:
    if result.pose_landmarks is None:
        return None
    points = [[round(float(p.x), DIGITS), round(float(p.y), DIGITS), round(float(p.z), DIGITS),
               round(float(p.visibility), DIGITS)] for p in result.pose_landmarks.landmark]
    if len(points) != NUM_LANDMARKS:
        raise RuntimeError(f"MediaPipe returned {len(points)} landmarks, expected {NUM_LANDMARKS}")
    return {"landmarks": points}


def detect_video(path, limit: int | None = None, progress: bool = True, *, start: int = 0,
                 min_detection: float = 0.5, min_tracking: float = 0.5, stats: dict | None = None) -> dict:
    """Run MediaPipe Pose over the frames of `path` (from frame `start`, the first `limit` of them if
    given) and return the landmarks structure described in the module docstring; a `start` above 0
    is recorded as "first_frame" (frame i of the file is frame first_frame + i of the video).

    UserError for a missing or unreadable video, one without frames, or one with no person in any
    frame. If `stats` is a dict it receives "frames", "frames_with_person", "seconds" (the time spent
    detecting, without start-up) and "frames_per_second".
    """
    path = Path(path)
    _check_request(path, limit, start, min_detection)
    with _native_logs_captured():
        cv2, mediapipe = _import_mediapipe()
        capture = cv2.VideoCapture(str(path))
        try:
            fps, total = _skip_to_start(cv2, capture, path, start, limit)
            frames, size, seconds = _detect_frames(cv2, mediapipe, capture, path.name, total, limit, progress,
                                                   min_detection, min_tracking)
        finally:
            capture.release()
    return _landmarks_of(path, frames, size, fps, start, seconds, min_detection, stats)


def _check_request(path: Path, limit, start: int, min_detection: float) -> None:
    if not path.exists():
        raise UserError(f"video '{path}' does not exist; check the path")
    if not path.is_file():
        raise UserError(f"video '{path}' is not a file; give a video file such as an .mp4")
    if limit is not None and limit < 1:
        raise UserError(f"--limit {limit}: give a positive number of frames")
    if start < 0:
        raise UserError(f"--start {start}: give a frame number >= 0")
    if not 0.0 <= min_detection <= 1.0:
        raise UserError(f"--min-detection {min_detection}: give a confidence between 0 and 1")


def _skip_to_start(cv2, capture, path: Path, start: int, limit):
    """(fps or None, frames to detect or None when unknown), the capture moved to frame `start`."""
    if not capture.isOpened():
        raise UserError(f"cannot read video '{path}': OpenCV cannot open it; give a video file "
                        f"(.mp4, .avi, .mov) that a video player can play")
    fps = capture.get(cv2.CAP_PROP_FPS)
    fps = float(fps) if fps and math.isfinite(fps) and fps > 0 else None
    total = int(capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0) or None
    if total is not None:
        total = max(total - start, 0)
    for _ in range(start):   # decode and drop: seeking by frame number is not exact for every codec
        ok, _frame = capture.read()
        if not ok:
            raise UserError(f"--start {start}: video '{path}' has fewer frames than that")
    if limit is not None:
        total = min(total, limit) if total else limit
    return fps, total


def _detect_frames(cv2, mediapipe, capture, name: str, total, limit, progress, min_detection: float,
                   min_tracking: float):
    """(per frame the landmarks or None, (width, height) or None, seconds spent in MediaPipe)."""
    frames: list = []
    size = None
    seconds = 0.0
    bar = _Progress(total, progress, name)
    try:
        with mediapipe.solutions.pose.Pose(static_image_mode=False, model_complexity=MODEL_COMPLEXITY,
                                           min_detection_confidence=min_detection,
                                           min_tracking_confidence=min_tracking) as pose:
            while limit is None or len(frames) < limit:
                ok, bgr = capture.read()
                if not ok or bgr is None:
                    break
                if size is None:
                    height, width = bgr.shape[:2]
                    size = (width, height)
                t = time.perf_counter()
                result = pose.process(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
                seconds += time.perf_counter() - t
                frames.append(_landmarks(result))
                bar.update()
    finally:
        bar.close()
    return frames, size, seconds


def _landmarks_of(path: Path, frames: list, size, fps, start: int, seconds: float, min_detection: float,
                  stats: dict | None) -> dict:
    """The landmarks structure, once a frame was decoded and a person found in one."""
    if not frames:
        raise UserError(f"cannot read video '{path}': OpenCV decodes no frame from it; check that the file "
                        f"is a complete video that a video player can play")
    found = sum(f is not None for f in frames)
    if stats is not None:
        stats.update(frames=len(frames), frames_with_person=found, seconds=seconds,
                     frames_per_second=len(frames) / seconds if seconds > 0 else float("nan"))
    if not found:
        raise UserError(f"no person found in any of the {len(frames)} frames of '{path}'; use a video "
                        f"showing a whole person, or lower --min-detection (now {min_detection})")
    width, height = size
    out = {"format": FORMAT, "video": path.name, "width": int(width), "height": int(height), "fps": fps,
           "frames": frames}
    if start:
        out["first_frame"] = int(start)
    return out


def write_landmarks(landmarks: dict, path, *, overwrite: bool = False) -> Path:
    """Write the structure `detect_video` returns (relpose.wild.detections.write_mediapipe_json)."""
    return write_mediapipe_json(path, [None if f is None else f["landmarks"] for f in landmarks["frames"]],
                                width=landmarks["width"], height=landmarks["height"], fps=landmarks["fps"],
                                video=landmarks["video"], first_frame=landmarks.get("first_frame", 0),
                                overwrite=overwrite)
