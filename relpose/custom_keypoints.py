"""VideoPose3D's "custom" 2D file: a user's videos' keypoints, with no 3D and no calibration.

`data/data_2d_custom_<name>.npz`, exactly as VideoPose3D's prepare_data_2d_custom.py writes it:
  positions_2d = {video: {'custom': [array (T, J, 2) float32 pixels]}}
  metadata     = {'layout_name': 'coco', 'num_joints': 17, 'keypoints_symmetry': [left, right],
                  'video_metadata': {video: {'w': width, 'h': height}}}
The kit also writes, and reads when present, each video's 'fps' and a 'relpose' provenance entry
(where the keypoints came from, how many were interpolated); VideoPose3D's reader ignores both.
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


def check_pixels(value, what: str, where) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not float(value).is_integer() or value <= 0:
        raise DataError(f"{where}: {what} must be a positive whole number of pixels, got {value!r}")
    return int(value)


def check_fps(value, where) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not math.isfinite(value) or value <= 0:
        raise DataError(f"{where}: fps must be a positive number (or unknown), got {value!r}")
    return float(value)



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
        raise UserError(f"{where}: provenance must be plain data (dicts, lists, strings, numbers)") from None


def write_custom(path, videos: dict, layout: str, provenance=None, overwrite: bool = False) -> Path:
    """Write VideoPose3D's custom 2D file: `videos` maps a video name to (keypoints (T, J, 2) pixels,
    width, height, fps or None[, first_frame: the video frame of keypoints[0], 0 by default]); `layout`
    is a registered layout name."""
    path = check_output_file(path, "the 2D keypoint file", overwrite=overwrite, suffixes=(".npz",))
    lay = get_layout(layout)
    if not videos:
        raise UserError(f"{path}: no videos to write")
    positions, video_meta = {}, {}
    for name, entry in videos.items():
        keypoints, width, height, fps, first_frame = (*entry, 0) if len(entry) == 4 else entry
        where = f"{path} (video {name!r})"
        if not isinstance(name, str) or not name:
            raise UserError(f"{where}: video names must be non-empty strings")
        k = np.asarray(keypoints, dtype=np.float32)
        if k.ndim != 3 or k.shape[1:] != (lay.num_joints, 2) or len(k) == 0:
            raise UserError(f"{where}: keypoints of shape {k.shape}, expected (frames, {lay.num_joints}, 2) "
                            f"for the {layout} layout")
        if not np.isfinite(k).all():
            raise UserError(f"{where}: keypoints must be finite; fill the gaps first (fill_gaps)")
        positions[name] = {CUSTOM_ACTION: [k]}
        video_meta[name] = {"w": check_pixels(width, "width", where), "h": check_pixels(height, "height", where)}
        if fps is not None:
            video_meta[name]["fps"] = check_fps(fps, where)
        if first_frame:   # the keypoints start at this frame of the video (a detected excerpt)
            video_meta[name]["first_frame"] = int(first_frame)
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
    """Read a custom 2D file -> ({video: {keypoints, width, height, fps}}, registered layout name, metadata)."""
    path = Path(path)
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
        raise DataError(f"{path}: metadata layout_name {stored!r} is not a known layout ({', '.join(LAYOUTS)}, "
                        "or VideoPose3D's 'coco', 'h36m'); fix the metadata")
    joints = get_layout(layout).num_joints
    if meta.get("num_joints") != joints:
        raise DataError(f"{path}: metadata num_joints {meta.get('num_joints')!r} does not match the {layout} "
                        f"layout's {joints}; fix the metadata")
    video_meta = meta.get("video_metadata")
    if not isinstance(video_meta, dict):
        raise DataError(f"{path}: metadata has no video_metadata {{video: {{'w', 'h'}}}}; re-create the file")
    videos = {}
    for name, actions in positions.items():
        where = f"{path} (video {name!r})"
        cams = actions.get(CUSTOM_ACTION) if isinstance(actions, dict) else None
        if not isinstance(cams, (list, tuple)) or not cams:
            raise DataError(f"{where}: expected {{'custom': [(frames, {joints}, 2) array]}}; re-create the file")
        k = cams[0]
        if not isinstance(k, np.ndarray) or not np.issubdtype(k.dtype, np.number) or k.ndim != 3 \
                or k.shape[1:] != (joints, 2) or len(k) == 0:
            raise DataError(f"{where}: keypoints of shape {getattr(k, 'shape', type(k).__name__)}, expected "
                            f"(frames, {joints}, 2); re-create the file")
        if not np.isfinite(k).all():
            raise DataError(f"{where}: keypoints are not all finite; re-create the file with the gaps filled")
        info = video_meta.get(name)
        if not isinstance(info, dict) or "w" not in info or "h" not in info:
            raise DataError(f"{where}: metadata video_metadata has no 'w' and 'h' for this video; fix the metadata")
        videos[name] = {"keypoints": k.astype(np.float32, copy=False), "width": check_pixels(info["w"], "w", where),
                        "height": check_pixels(info["h"], "h", where), "fps": check_fps(info.get("fps"), where),
                        "first_frame": int(info.get("first_frame", 0))}
    if not videos:
        raise DataError(f"{path} holds no videos; re-create it (python -m relpose.cli.keypoints)")
    return videos, layout, meta
