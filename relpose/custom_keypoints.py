"""VideoPose3D's "custom" 2D file: a user's videos' keypoints, with no 3D and no calibration.

`data/data_2d_custom_<name>.npz`, exactly as VideoPose3D's prepare_data_2d_custom.py writes it:
  positions_2d = {video: {'custom': [array (T, J, 2) pixels]}}
  metadata     = {'layout_name': 'coco', 'num_joints': 17, 'keypoints_symmetry': [left, right],
                  'video_metadata': {video: {'w': width, 'h': height}}}
The kit reads an optional 'fps' in each video's entry (it writes one when it knows the rate) and a
'relpose' provenance entry (where the keypoints came from, how many were interpolated); VideoPose3D's
reader ignores both. Layout names may be VideoPose3D's ('coco') or any registered one ('openpose-25').
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import DataError, UserError
from .files import atomic_path
from .keypoint_layouts import LAYOUT_ALIASES, get_layout, layout_name
from .safe_npz import load_npz, npz_keys

ACTION = "custom"   # the one action of every video (VideoPose3D's --viz-action custom)


@dataclass
class CustomVideo:
    keypoints: np.ndarray   # (T, J, 2) float32 pixels
    width: int
    height: int
    fps: float | None = None


@dataclass
class CustomKeypoints:
    videos: dict[str, CustomVideo]
    layout: str                       # a registered layout name
    metadata: dict = field(default_factory=dict, repr=False)


def custom_file(data_dir, name: str) -> Path:
    return Path(data_dir) / f"data_2d_custom_{name}.npz"


def _stored_layout_name(layout: str) -> str:
    """The name written to metadata: VideoPose3D's own where it has one ('coco'), else the kit's."""
    for alias, name in LAYOUT_ALIASES.items():
        if name == layout and alias in ("coco", "h36m"):
            return alias
    return layout


def write_custom(path, videos: dict, layout: str, *, provenance: dict | None = None, overwrite: bool = False) -> Path:
    """Write `videos` (name -> CustomVideo or (keypoints, width, height, fps)) in `layout` as a custom file."""
    path = Path(path)
    if path.exists() and not overwrite:
        raise UserError(f"{path} exists; choose another --name or pass --overwrite to replace it")
    lay = get_layout(layout)
    positions, video_meta = {}, {}
    for name, v in videos.items():
        v = v if isinstance(v, CustomVideo) else CustomVideo(*v)
        kps = np.asarray(v.keypoints, dtype=np.float32)
        if kps.ndim != 3 or kps.shape[1:] != (lay.num_joints, 2) or len(kps) == 0:
            raise DataError(f"video '{name}': expected (frames, {lay.num_joints}, 2) {lay.name} keypoints, "
                            f"got shape {kps.shape}")
        if not np.isfinite(kps).all():
            raise DataError(f"video '{name}': keypoints contain NaN or inf; fill the gaps before writing")
        positions[name] = {ACTION: [kps]}
        entry = {"w": int(v.width), "h": int(v.height)}
        if v.fps:
            entry["fps"] = float(v.fps)
        video_meta[name] = entry
    left, right = lay.symmetry
    metadata = {"layout_name": _stored_layout_name(lay.name), "num_joints": lay.num_joints,
                "keypoints_symmetry": [list(left), list(right)], "video_metadata": video_meta}
    if provenance:
        metadata["relpose"] = dict(provenance)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path, what="keypoint file") as tmp:
        with open(tmp, "wb") as f:
            np.savez_compressed(f, positions_2d=positions, metadata=metadata)
    return path


def read_custom(path) -> CustomKeypoints:
    """Read and check a custom file (through relpose.safe_npz: no pickle in it can run code)."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path.name} not found in folder {path.parent.resolve()}: write it with "
                        "`python -m relpose.cli.keypoints` or `make wild VIDEO=...` (see README, 'Your own video')")
    try:
        keys = npz_keys(path)
    except DataError:
        raise
    except Exception as e:
        raise DataError(f"{path} is not an .npz archive ({type(e).__name__}); write it again") from None
    missing = [k for k in ("positions_2d", "metadata") if k not in keys]
    if missing:
        raise DataError(f"{path} lacks {', '.join(missing)}; it is not a VideoPose3D custom 2D file")
    raw = {k: (v.item() if v.dtype == object and v.shape == () else v) for k, v in load_npz(path, keys).items()}
    meta, positions = raw["metadata"], raw["positions_2d"]
    if not isinstance(meta, dict) or not isinstance(positions, dict):
        raise DataError(f"{path}: metadata and positions_2d must be dicts; it is not a VideoPose3D custom 2D file")
    try:
        num_joints = int(meta["num_joints"])
        video_meta = dict(meta["video_metadata"])
    except Exception:
        raise DataError(f"{path}: metadata needs num_joints and video_metadata = {{video: {{'w', 'h'}}}}") from None
    stated = meta.get("layout_name")
    try:
        layout = get_layout(layout_name(stated)) if isinstance(stated, str) else None
    except UserError:
        layout = None
    if layout is None:
        raise DataError(f"{path}: metadata['layout_name'] {stated!r} is not a known layout; use one of "
                        "'coco', 'h36m', 'halpe-26', 'openpose-25', 'blazepose-33'")
    if layout.num_joints != num_joints:
        raise DataError(f"{path}: layout '{stated}' has {layout.num_joints} keypoints, metadata num_joints says "
                        f"{num_joints}; fix the metadata")
    videos = {}
    for name, actions in positions.items():
        where = f"{path}, video '{name}'"
        if not isinstance(actions, dict) or ACTION not in actions:
            raise DataError(f"{where}: expected {{'custom': [keypoints]}}; it is not a VideoPose3D custom 2D file")
        cams = actions[ACTION]
        kps = np.asarray(cams[0] if isinstance(cams, (list, tuple)) else cams)
        if kps.ndim != 3 or kps.shape[1:] != (num_joints, 2) or len(kps) == 0:
            raise DataError(f"{where}: expected a (frames, {num_joints}, 2) array, got shape {kps.shape}; "
                            f"the keypoints must be in the {layout.name} layout the metadata names")
        if not np.issubdtype(kps.dtype, np.number) or not np.isfinite(kps).all():
            raise DataError(f"{where}: keypoints must be finite numbers (fill gaps when converting)")
        entry = video_meta.get(name)
        try:
            w, h = int(entry["w"]), int(entry["h"])
            assert w > 0 and h > 0
        except Exception:
            raise DataError(f"{where}: metadata['video_metadata'] needs the video's 'w' and 'h' (pixels)") from None
        fps = entry.get("fps")
        videos[name] = CustomVideo(kps.astype(np.float32), w, h, float(fps) if fps else None)
    if not videos:
        raise DataError(f"{path} holds no video")
    return CustomKeypoints(videos, layout.name, meta)
