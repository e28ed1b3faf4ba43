"""Lifted poses as plain JSON: one object per video frame with every joint's position, for any tool to read.

Schema (version 1)::

    {
      "format": "relpose-joints",          # always this string
      "version": 1,                        # a reader refuses versions it does not know
      "units": "m",                        # metres, rounded to 0.1 mm (4 decimals)
      "axes": "camera: x right, y down, z forward (camera space, as the model predicts)",
                                           # the frame of the positions: "camera", "z-up" or "y-up",
                                           # then a colon and what it means (relpose.wild.bvh.AXES)
      "trajectory_added": false,           # false: the poses as the model predicts them, relative to the root
                                           # (joint 0 at or near the origin); true: a root trajectory was added
      "fps": 25.0,                         # frames per second of the video
      "joint_names": ["Hip", "RHip", ...], # J names (Human3.6M-17 for the kit's models)
      "parents": [-1, 0, 1, ...],          # J parent indices, -1 for the root
      "frames": [                          # one per frame, in order, consecutive
        {"frame": 0,                       # the frame's number in the video (first_frame + index)
         "interpolated": false,            # optional (absent: not known): true when the detector found nobody
                                           # in this frame and its 2D pose was filled in time
         "joints": [[x, y, z], ...],       # J positions
         "seen": [true, false, ...]},      # optional, J flags: the detector saw this joint (else filled)
        ...
      ]
    }

`write_joints_json` writes it (atomically, never over an existing file unless overwrite=True);
`read_joints_json` reads it back, checking every field, into a `JointsFile`.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..custom_keypoints import MAX_FRAMES, check_first_frame, check_fps
from ..errors import DataError, UserError
from ..files import atomic_path, check_output_file, read_json
from ..skeleton import H36M_17, HUMANEVA_15
from .bvh import AXES, check_axes

FORMAT = "relpose-joints"
VERSION = 1
DECIMALS = 4                      # metres: 0.1 mm
MAX_BYTES = 1024 * 2 ** 20        # 1 GiB: about two million frames of 17 joints
MAX_JOINTS = 1000


@dataclass
class JointsFile:
    """What a relpose-joints file holds (see the module's docstring)."""

    poses: np.ndarray                   # (T, J, 3) metres
    fps: float
    joint_names: tuple[str, ...]
    parents: tuple[int, ...]
    frames: np.ndarray                  # (T,) video frame numbers
    interpolated: np.ndarray | None     # (T,) bool, or None when the file does not say
    seen: np.ndarray | None             # (T, J) bool, or None when the file has none
    axes: str                           # "camera", "z-up" or "y-up"
    trajectory_added: bool


def _flags(value, shape: tuple[int, ...], what: str) -> np.ndarray | None:
    if value is None:
        return None
    flags = np.asarray(value)
    if flags.shape != shape or flags.dtype.kind not in "bui":
        raise UserError(f"{what}: expected {shape} booleans, got an array of shape {flags.shape} ({flags.dtype})")
    return flags.astype(bool)


def _parents_of(joint_names, parents) -> tuple[int, ...]:
    if parents is None:
        for skeleton in (H36M_17, HUMANEVA_15):
            if tuple(joint_names) == skeleton.joint_names:
                return skeleton.parents
        raise UserError("parents: give the parent of each joint (-1 for the root); the joint names are not "
                        "those of a skeleton the kit knows")
    parents = tuple(int(p) for p in parents)
    if len(parents) != len(joint_names) or any(not -1 <= p < len(parents) or p == j for j, p in enumerate(parents)):
        raise UserError(f"parents {list(parents)}: give one parent index per joint ({len(joint_names)}), "
                        "-1 for the root")
    return parents


def write_joints_json(path, poses, fps: float, joint_names, *, first_frame: int = 0, interpolated=None, seen=None,
                      trajectory=None, parents=None, axes: str = "camera", overwrite: bool = False) -> Path:
    """Write `poses` (T, J, 3) metres in `axes` as a relpose-joints JSON file (schema in the module's docstring).

    `trajectory` (T, 3) metres, when given, is added to every joint (the positions are then absolute);
    `interpolated` (T,) flags frames the detector missed, `seen` (T, J) the joints it saw (each left out of the
    file when not given: not known); `parents` defaults to those of the skeleton named by `joint_names`
    (Human3.6M-17 or HumanEva-15)."""
    path = check_output_file(path, "the joints file", overwrite=overwrite, suffixes=(".json",))
    poses = np.asarray(poses, dtype=float)
    joint_names = tuple(str(n) for n in joint_names)
    if poses.ndim != 3 or poses.shape[1:] != (len(joint_names), 3) or not 1 <= len(poses) <= MAX_FRAMES:
        raise UserError(f"poses: expected an array (frames, {len(joint_names)}, 3) with 1 to {MAX_FRAMES:,} frames, "
                        f"got shape {poses.shape}")
    frames = len(poses)
    if trajectory is not None:
        trajectory = np.asarray(trajectory, dtype=float)
        if trajectory.shape != (frames, 3):
            raise UserError(f"trajectory: expected shape ({frames}, 3), got {trajectory.shape}")
        poses = poses + trajectory[:, None]
    if not np.isfinite(poses).all():
        raise UserError("poses: hold NaN or infinite coordinates; fill or cut those frames first")
    fps = check_fps(fps, "the frame rate")
    if fps is None:
        raise UserError("the frame rate: give the video's frames per second")
    first_frame = check_first_frame(first_frame, "the first frame")
    interpolated = _flags(interpolated, (frames,), "interpolated")
    seen = _flags(seen, (frames, len(joint_names)), "seen")
    axes = check_axes(axes)
    parents = _parents_of(joint_names, parents)

    rounded = np.round(poses, DECIMALS).tolist()
    frame_list = []
    for t in range(frames):
        entry = {"frame": first_frame + t}
        if interpolated is not None:
            entry["interpolated"] = bool(interpolated[t])
        entry["joints"] = rounded[t]
        if seen is not None:
            entry["seen"] = seen[t].tolist()
        frame_list.append(entry)
    document = {"format": FORMAT, "version": VERSION, "units": "m", "axes": f"{axes}: {AXES[axes]}",
                "trajectory_added": trajectory is not None,
                "fps": fps, "joint_names": list(joint_names), "parents": list(parents), "frames": frame_list}
    with atomic_path(path, what="joints file") as tmp:
        # One frame per line: readable in a text editor, and diffs show which frames changed.
        head = json.dumps({k: v for k, v in document.items() if k != "frames"}, allow_nan=False)[:-1]
        lines = ",\n".join(json.dumps(entry, allow_nan=False) for entry in frame_list)
        tmp.write_text(f'{head}, "frames": [\n{lines}\n]}}\n', encoding="utf-8")
    return path


# ----------------------------------------------------------------------------------------- reading
def _load(path: Path) -> dict:
    document = read_json(path, what="a joints file", max_bytes=MAX_BYTES, fix="give a joints file written by relpose")
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise DataError(f"{path} is not a relpose joints file (its \"format\" is not \"{FORMAT}\")")
    return document


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def read_joints_json(path) -> JointsFile:
    """Read a relpose-joints file (see the module's docstring); DataError naming the file and field if it is not one."""
    path = Path(path)
    doc = _load(path)

    def bad(field: str, what: str) -> DataError:
        return DataError(f"{path}: \"{field}\" {what}; the file is damaged or was not written by relpose")

    version = doc.get("version")
    if version != VERSION:
        if _number(version) and version > VERSION:
            raise DataError(f"{path} is a joints file of version {version}; this relpose reads version {VERSION}: "
                            "update relpose")
        raise bad("version", f"must be {VERSION}")
    if doc.get("units") != "m":
        raise bad("units", "must be \"m\"")
    axes = doc.get("axes")
    axes = axes.split(":", 1)[0] if isinstance(axes, str) else None
    if axes not in AXES:
        raise bad("axes", f"must start with one of {', '.join(AXES)}")
    if not isinstance(doc.get("trajectory_added"), bool):
        raise bad("trajectory_added", "must be true or false")
    try:
        fps = check_fps(doc.get("fps"), f"{path}: \"fps\"")
    except DataError:
        raise bad("fps", "must be a frame rate") from None
    if fps is None:
        raise bad("fps", "must be a frame rate")
    names = doc.get("joint_names")
    if not (isinstance(names, list) and 1 <= len(names) <= MAX_JOINTS and all(isinstance(n, str) for n in names)):
        raise bad("joint_names", f"must be a list of 1 to {MAX_JOINTS} names")
    parents = doc.get("parents")
    if not (isinstance(parents, list) and len(parents) == len(names)
            and all(isinstance(p, int) and not isinstance(p, bool) and -1 <= p < len(names) for p in parents)):
        raise bad("parents", f"must be {len(names)} joint indices (-1 for the root)")
    entries = doc.get("frames")
    if not (isinstance(entries, list) and 1 <= len(entries) <= MAX_FRAMES):
        raise bad("frames", f"must be a list of 1 to {MAX_FRAMES:,} frames")

    joints = len(names)
    poses = np.empty((len(entries), joints, 3))
    numbers = np.empty(len(entries), dtype=np.int64)
    first = entries[0] if isinstance(entries[0], dict) else {}
    has_interpolated, has_seen = "interpolated" in first, "seen" in first
    interpolated = np.zeros(len(entries), dtype=bool) if has_interpolated else None
    seen = np.zeros((len(entries), joints), dtype=bool) if has_seen else None
    for t, entry in enumerate(entries):
        where = f"frames[{t}]"
        if not isinstance(entry, dict):
            raise bad(where, "must be an object")
        number = entry.get("frame")
        if not (isinstance(number, int) and not isinstance(number, bool) and number >= 0):
            raise bad(f"{where}.frame", "must be a frame number")
        if t and number != numbers[t - 1] + 1:
            raise bad(f"{where}.frame", f"is {number}, but frames must be consecutive (the one before is "
                                         f"{numbers[t - 1]})")
        numbers[t] = number
        if has_interpolated != ("interpolated" in entry):
            raise bad(f"{where}.interpolated", "must be in every frame or in none")
        if has_interpolated:
            if not isinstance(entry["interpolated"], bool):
                raise bad(f"{where}.interpolated", "must be true or false")
            interpolated[t] = entry["interpolated"]
        points = entry.get("joints")
        if not (isinstance(points, list) and len(points) == joints
                and all(isinstance(p, list) and len(p) == 3 and all(_number(x) for x in p) for p in points)):
            raise bad(f"{where}.joints", f"must be {joints} positions [x, y, z] in metres")
        poses[t] = points
        if has_seen != ("seen" in entry):
            raise bad(f"{where}.seen", "must be in every frame or in none")
        if has_seen:
            flags = entry["seen"]
            if not (isinstance(flags, list) and len(flags) == joints and all(isinstance(f, bool) for f in flags)):
                raise bad(f"{where}.seen", f"must be {joints} flags true/false")
            seen[t] = flags
    return JointsFile(poses=poses, fps=fps, joint_names=tuple(names), parents=tuple(parents), frames=numbers,
                      interpolated=interpolated, seen=seen, axes=axes, trajectory_added=doc["trajectory_added"])
