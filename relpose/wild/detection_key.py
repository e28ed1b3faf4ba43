"""What a detection was made from, recorded in the keypoint file it wrote: the video (its resolved path,
size in bytes and modification time), the frames (start, limit) and the program that asked for it.

`make wild` (relpose.cli.wild_make) compares the key of the detection it would run with the one a keypoint
file records, to reuse a detection only when it was made from the same video and frames. The key is
metadata['relpose']['detection'] of the custom 2D file (relpose.custom_keypoints).
"""
from __future__ import annotations

from pathlib import Path

from ..errors import DataError
from ..safe_npz import load_npz

MADE_BY_MAKE_WILD = "make wild"
MADE_BY_DETECTOR = "python -m relpose.wild.detect"


def detection_key(video, start: int | None, limit: int | None, made_by: str) -> dict:
    """{'made_by', 'video': {'path', 'bytes', 'mtime_ns'}, 'start', 'limit'} of a detection in `video` from
    frame `start` (None: 0) for `limit` frames (None: to the end)."""
    path = Path(video).resolve()
    stat = path.stat()
    return {"made_by": made_by,
            "video": {"path": str(path), "bytes": int(stat.st_size), "mtime_ns": int(stat.st_mtime_ns)},
            "start": int(start or 0), "limit": None if limit is None else int(limit)}


def recorded_key(keypoint_file) -> dict | None:
    """The detection key a keypoint file records; None for a file without one (made by another program,
    by VideoPose3D, by hand) or one that cannot be read."""
    try:
        meta = load_npz(keypoint_file, keys=("metadata",)).get("metadata")
    except (DataError, OSError):
        return None
    meta = meta.item() if getattr(meta, "shape", None) == () else meta
    provenance = meta.get("relpose") if isinstance(meta, dict) else None
    key = provenance.get("detection") if isinstance(provenance, dict) else None
    if not isinstance(key, dict) or not isinstance(key.get("video"), dict):
        return None
    return key


def frames_text(key: dict) -> str:
    """START and LIMIT of a key as make's variables say them."""
    return f"START={key.get('start')} LIMIT={'(all)' if key.get('limit') is None else key.get('limit')}"
