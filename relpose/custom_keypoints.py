"""VideoPose3D's "custom" 2D file: a user's videos' keypoints, with no 3D and no calibration.

`data/data_2d_custom_<name>.npz`, exactly as VideoPose3D's prepare_data_2d_custom.py writes it:
  positions_2d = {video: {'custom': [array (T, J, 2) float32 pixels]}}
  metadata     = {'layout_name': 'coco', 'num_joints': 17, 'keypoints_symmetry': [left, right],
                  'video_metadata': {video: {'w': width, 'h': height}}}
The kit also writes, and reads when present, in each video's video_metadata entry:
  'fps'           the video's frame rate;
  'first_frame'   the video frame of the first keypoints (0 when absent);
  'interpolated'  (T,) bool: frames with nobody detected, filled by interpolation;
  'seen'          (T, J) bool: joints the detector saw (score >= min_score, inside the image); False where
                  a position was interpolated or held;
  'person'        the person's number, and 'video' the video's own name, for one of several people
                  (entries named '<video>.person<N>');
and a 'relpose' provenance entry in metadata (where the keypoints came from, how many were interpolated).
VideoPose3D's reader ignores every key it does not know.
Layout names are VideoPose3D's ('coco', 'h36m') or the kit's registered ones ('openpose-25').
Files are read through relpose.safe_npz: no pickle in them can run code.
"""
from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np

from . import __version__
from .errors import DataError, UserError
from .files import atomic_path, check_output_file
from .keypoint_layouts import LAYOUTS, get_layout
from .safe_npz import load_npz

# VideoPose3D's own names for the layouts it knows; every other layout is stored under the kit's name.
VIDEOPOSE3D_LAYOUT_NAMES = {"coco-17": "coco", "h36m-17": "h36m"}
_FROM_VIDEOPOSE3D = {v: k for k, v in VIDEOPOSE3D_LAYOUT_NAMES.items()}
CUSTOM_ACTION = "custom"   # every video's one action (VideoPose3D's --viz-action custom)
_NAME_OK = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


# Bounds of what a keypoint file may say about its video, checked where the file is read and where it
# is written (a number no video has would otherwise fail later, deep in the lifter or the renderer).
MAX_FRAME_SIDE = 65_536          # pixels: 16K video is 15,360 wide, and video codecs stop below this
MIN_FPS, MAX_FPS = 0.01, 100_000.0   # one frame in 100 s (a time-lapse) .. a high-speed camera
MAX_FRAMES = 1_000_000           # frames of one video's keypoints (9 hours at 30 fps); every array of the
                                 # video (detections, keypoints, the lifter's input) grows with it
MAX_FRAME_NUMBER = 100_000_000   # a frame of a video, e.g. the first one detected (23 days at 50 fps)
# A video whose frame rate nobody recorded is shown and judged as if at 25 fps (PAL, a common camera rate).
DEFAULT_VIDEO_FPS = 25.0
KEYPOINT_REACH = 100             # keypoints may lie outside the frame (detectors place hidden joints there),
                                 # but not this many frame sizes away


def interpolate_in_time(keypoints: np.ndarray, good: np.ndarray) -> np.ndarray:
    """(T, J, C) float64: each joint's positions where `good` (T, J) is False filled linearly in time between
    that joint's nearest good frames, held before the first and after the last: how the kit fills a detector's
    gaps (relpose.wild.detections.fill_gaps), and what 'interpolated' and 'seen' above mean. Every joint
    needs a good frame."""
    T, J, C = keypoints.shape
    out = np.empty((T, J, C))
    frame = np.arange(T)
    for j in range(J):
        use = good[:, j]
        for c in range(C):
            out[:, j, c] = np.interp(frame, frame[use], keypoints[use, j, c])
    return out


def shown(value, width: int = 60) -> str:
    """A value as a message shows it: short, and for integers of any size (str() refuses those of
    more than 4,300 digits)."""
    try:
        text = repr(value)
    except ValueError:
        return "a number too long to show"
    return text if len(text) <= width else text[:width - 3] + "..."


def _is_number(value) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))


def check_pixels(value, what: str, where) -> int:
    """A frame width or height: a whole number of pixels, 1 to MAX_FRAME_SIDE."""
    # The range is compared first: float() of an integer of hundreds of digits overflows.
    if not (_is_number(value) and 1 <= value <= MAX_FRAME_SIDE and float(value).is_integer()):
        raise DataError(f"{where}: {what} must be a whole number of pixels from 1 to {MAX_FRAME_SIDE:,}, "
                        f"got {shown(value)}")
    return int(value)


def check_fps(value, where) -> float | None:
    """A frame rate (None: unknown): MIN_FPS to MAX_FPS frames per second."""
    if value is None:
        return None
    if not (_is_number(value) and MIN_FPS <= value <= MAX_FPS):   # also false for NaN
        raise DataError(f"{where}: fps must be a number from {MIN_FPS:g} to {MAX_FPS:,.0f} frames per second "
                        f"(or unknown), got {shown(value)}")
    return float(value)


def check_first_frame(value, where) -> int:
    """The video frame of the first keypoints: a whole number from 0 to MAX_FRAME_NUMBER."""
    if not (_is_number(value) and 0 <= value <= MAX_FRAME_NUMBER and float(value).is_integer()):
        raise DataError(f"{where}: first_frame must be a frame number from 0 to {MAX_FRAME_NUMBER:,}, "
                        f"got {shown(value)}")
    return int(value)


def check_keypoints(k, joints: int, width: int, height: int, where, fix: str) -> np.ndarray:
    """(frames, joints, 2) real, finite pixels within KEYPOINT_REACH frame sizes of the frame, at most
    MAX_FRAMES frames -> float32. `fix` ends each message: what the user does about it."""
    if not isinstance(k, np.ndarray) or k.dtype.kind not in "iuf":
        what = f"dtype {k.dtype}" if isinstance(k, np.ndarray) else type(k).__name__
        raise DataError(f"{where}: keypoints must be real numbers (an integer or float array), got {what}; {fix}")
    if k.ndim != 3 or k.shape[1:] != (joints, 2) or len(k) == 0:
        raise DataError(f"{where}: keypoints of shape {k.shape}, expected (frames, {joints}, 2) with at least "
                        f"one frame; {fix}")
    if len(k) > MAX_FRAMES:
        raise DataError(f"{where}: {len(k):,} frames, more than the {MAX_FRAMES:,} a video's keypoints may have; "
                        "split the video")
    if not np.isfinite(k).all():
        t = int(np.argwhere(~np.isfinite(k))[0][0])
        raise DataError(f"{where}: keypoints are not all finite (frame {t}; NaN marks a missing joint); fill the "
                        "gaps in time first, as python -m relpose.cli.keypoints does")
    reach = KEYPOINT_REACH * max(width, height)
    far = np.abs(k.astype(np.float64, copy=False)) > reach
    if far.any():
        t = int(np.argwhere(far)[0][0])
        raise DataError(f"{where}: a keypoint of frame {t} lies more than {KEYPOINT_REACH} frame sizes "
                        f"({reach:,} pixels) from the {width}x{height} frame; {fix}")
    return k.astype(np.float32, copy=False)


def custom_file(data_dir, name: str) -> Path:
    """data_dir/data_2d_custom_<name>.npz, the file `-d custom -k <name>` reads."""
    if not isinstance(name, str) or not _NAME_OK.fullmatch(name):
        raise UserError(f"keypoints name {name!r}: use letters, digits, '.', '_' and '-' only (it becomes "
                        "data_2d_custom_<name>.npz)")
    return Path(data_dir) / f"data_2d_custom_{name}.npz"


def _plain(value, where):
    """Provenance as plain JSON data (what safe_npz reads back, and what any reader understands)."""
    try:
        return json.loads(json.dumps(value, default=lambda v: v.item() if isinstance(v, np.generic) else str(v)))
    except (TypeError, ValueError):
        raise UserError(f"the provenance given for {where} must be plain data (dicts, lists, strings, numbers)") \
            from None


# What write_custom takes for a video and read_custom gives back (in this order in the tuple form).
VIDEO_KEYS = ("keypoints", "width", "height", "fps", "first_frame", "interpolated", "seen", "person", "video")


def _video_entry(entry, where) -> dict:
    """A video given to write_custom: a dict with 'keypoints', 'width', 'height' and any of 'fps',
    'first_frame', 'interpolated', 'seen', 'person', 'video'; or (keypoints, width, height, fps[, first_frame])."""
    if isinstance(entry, dict):
        unknown = set(entry) - set(VIDEO_KEYS)
        if unknown or not {"keypoints", "width", "height"} <= set(entry):
            raise UserError(f"{where}: a video is a dict with 'keypoints', 'width', 'height' and any of "
                            f"{', '.join(VIDEO_KEYS[3:])}; got keys {', '.join(map(str, entry))}")
        return entry
    if not isinstance(entry, (tuple, list)) or len(entry) not in (4, 5):
        raise UserError(f"{where}: expected (keypoints, width, height, fps[, first_frame])")
    return dict(zip(VIDEO_KEYS, entry))


def _mask(value, shape: tuple, what: str, where, error=UserError) -> np.ndarray:
    """A bool array of `shape` (what `what` must be), else `error` naming `where`."""
    if not isinstance(value, np.ndarray) or value.dtype != np.bool_ or value.shape != shape:
        got = f"{value.dtype} {value.shape}" if isinstance(value, np.ndarray) else type(value).__name__
        raise error(f"{where}: '{what}' must be a bool array of shape {shape}, got {got}")
    return value


def _person(value, where, error=UserError) -> int:
    if not (_is_number(value) and 1 <= value <= MAX_FRAMES and float(value).is_integer()):
        raise error(f"{where}: 'person' must be a person's number, 1 or more, got {shown(value)}")
    return int(value)


def write_custom(path, videos: dict, layout: str, provenance=None, overwrite: bool = False) -> Path:
    """Write VideoPose3D's custom 2D file: `videos` maps a video name to a dict with 'keypoints' (T, J, 2)
    pixels, 'width', 'height' and optionally 'fps', 'first_frame' (the video frame of keypoints[0]),
    'interpolated' (T,) and 'seen' (T, J) bool masks, 'person' and 'video' (see the module's docstring);
    or to a tuple (keypoints, width, height, fps or None[, first_frame]). `layout` is a registered layout name."""
    path = check_output_file(path, "the 2D keypoint file", overwrite=overwrite, suffixes=(".npz",))
    lay = get_layout(layout)
    if not videos:
        raise UserError(f"{path}: no videos to write")
    positions, video_meta = {}, {}
    for name, entry in videos.items():
        # The videos are the caller's input: messages name the video, and the file only as the destination.
        where = f"video {shown(name)} (for {path})"
        if not isinstance(name, str) or not name:
            raise UserError(f"{where}: video names must be non-empty strings")
        v = _video_entry(entry, where)
        meta = {"w": check_pixels(v["width"], "width", where), "h": check_pixels(v["height"], "height", where)}
        keypoints = check_keypoints(np.asarray(v["keypoints"]), lay.num_joints, meta["w"], meta["h"], where,
                                    f"give the {layout} layout's keypoints in pixels")
        positions[name] = {CUSTOM_ACTION: [keypoints]}
        if v.get("fps") is not None:
            meta["fps"] = check_fps(v["fps"], where)
        if check_first_frame(v.get("first_frame", 0), where):   # the keypoints start at this frame of the video
            meta["first_frame"] = int(v["first_frame"])
        if v.get("interpolated") is not None:
            meta["interpolated"] = _mask(v["interpolated"], keypoints.shape[:1], "interpolated", where)
        if v.get("seen") is not None:
            meta["seen"] = _mask(v["seen"], keypoints.shape[:2], "seen", where)
        if v.get("person") is not None:
            meta["person"] = _person(v["person"], where)
        if v.get("video") is not None:
            if not isinstance(v["video"], str) or not v["video"]:
                raise UserError(f"{where}: 'video' must be the video's name, got {shown(v['video'])}")
            meta["video"] = v["video"]
        video_meta[name] = meta
    left, right = lay.symmetry
    metadata = {"layout_name": VIDEOPOSE3D_LAYOUT_NAMES.get(layout, layout), "num_joints": lay.num_joints,
                "keypoints_symmetry": [list(left), list(right)], "video_metadata": video_meta,
                "relpose": {"version": __version__, "layout": layout, **(_plain(provenance, path) or {})}}
    with atomic_path(path, what="2D keypoint file") as tmp, open(tmp, "wb") as f:
        np.savez_compressed(f, positions_2d=positions, metadata=metadata)
    return path


def _unwrap(value, key: str, path):
    if isinstance(value, np.ndarray) and value.dtype == object and value.shape == ():
        value = value.item()
    if not isinstance(value, dict):
        raise DataError(f"{path}: '{key}' should be a dict, got {type(value).__name__}; re-create the file "
                        "(python -m relpose.cli.keypoints)")
    return value


def read_custom(path) -> tuple[dict, str, dict]:
    """Read a custom 2D file -> ({video: {keypoints, width, height, fps, first_frame, interpolated, seen, person,
    video}}, registered layout name, metadata). Where the file does not say: fps None, first_frame 0,
    interpolated all False (T,), seen all True (T, J), person None, video the entry's own name."""
    path = Path(path)
    if path.is_dir():
        raise DataError(f"{path} is a folder, not a keypoint file; give the data_2d_custom_<NAME>.npz file "
                        "python -m relpose.cli.keypoints wrote")
    if not path.is_file():
        raise DataError(f"{path} does not exist; make it from a detector's output with python -m relpose.cli.keypoints")
    raw = load_npz(path, keys=("positions_2d", "metadata"))
    for key in ("positions_2d", "metadata"):
        if key not in raw:
            raise DataError(f"{path} has no '{key}'; it is not a VideoPose3D 2D file: re-create it "
                            "(python -m relpose.cli.keypoints)")
    positions = _unwrap(raw["positions_2d"], "positions_2d", path)
    meta = _unwrap(raw["metadata"], "metadata", path)
    stored = meta.get("layout_name")
    layout = _FROM_VIDEOPOSE3D.get(stored, stored)
    if layout not in LAYOUTS:
        raise DataError(f"{path}: metadata layout_name {shown(stored)} is not a known layout ({', '.join(LAYOUTS)}, "
                        "or VideoPose3D's 'coco', 'h36m'); fix the metadata")
    joints = get_layout(layout).num_joints
    if meta.get("num_joints") != joints:
        raise DataError(f"{path}: metadata num_joints {shown(meta.get('num_joints'))} does not match the {layout} "
                        f"layout's {joints}; fix the metadata")
    video_meta = meta.get("video_metadata")
    if not isinstance(video_meta, dict):
        raise DataError(f"{path}: metadata has no video_metadata {{video: {{'w', 'h'}}}}; re-create the file")
    videos = {}
    for name, actions in positions.items():
        where = f"{path} (video {shown(name)})"
        cams = actions.get(CUSTOM_ACTION) if isinstance(actions, dict) else None
        if not isinstance(cams, (list, tuple)) or not cams:
            raise DataError(f"{where}: expected {{'custom': [(frames, {joints}, 2) array]}}; re-create the file")
        info = video_meta.get(name)
        if not isinstance(info, dict) or "w" not in info or "h" not in info:
            raise DataError(f"{where}: metadata video_metadata has no 'w' and 'h' for this video; fix the metadata")
        width, height = check_pixels(info["w"], "w", where), check_pixels(info["h"], "h", where)
        keypoints = check_keypoints(cams[0], joints, width, height, where, "re-create the file")
        interpolated, seen = info.get("interpolated"), info.get("seen")
        video = info.get("video", name)
        if not isinstance(video, str) or not video:
            raise DataError(f"{where}: 'video' must be the video's name, got {shown(video)}; fix the metadata")
        videos[name] = {
            "keypoints": keypoints, "width": width, "height": height, "fps": check_fps(info.get("fps"), where),
            "first_frame": check_first_frame(info.get("first_frame", 0), where),
            "interpolated": (np.zeros(len(keypoints), bool) if interpolated is None
                             else _mask(interpolated, keypoints.shape[:1], "interpolated", where, DataError)),
            "seen": (np.ones(keypoints.shape[:2], bool) if seen is None
                     else _mask(seen, keypoints.shape[:2], "seen", where, DataError)),
            "person": None if info.get("person") is None else _person(info["person"], where, DataError),
            "video": video}
    if not videos:
        raise DataError(f"{path} holds no videos; re-create it (python -m relpose.cli.keypoints)")
    return videos, layout, meta
