"""2D detections of a video -> one person per frame -> gaps filled -> VideoPose3D's custom 2D file.

Readers (each returns a `VideoDetections`, every person of every frame):
  coco-json  a list of {"image_id", "category_id", "keypoints": [x, y, v] * 17, "score", "bbox"?}, as
             MMPose and Detectron2 write COCO keypoint results; the third number is taken as the score
             (Detectron2 writes heatmap values there, not probabilities: choose min_score accordingly);
  openpose   a folder of OpenPose's `<video>_<frame number>_keypoints.json`, BODY_25 only;
  alphapose  AlphaPose's results list {"image_id": "12.jpg", "keypoints": [x, y, s] * K, "score", "box"?}
             with K = 17 (COCO) or 26 (Halpe);
  mediapipe  the kit's MediaPipe landmarks file (`write_mediapipe_json`), x and y normalised to [0, 1].
Image ids (OpenPose: file names) become frame numbers by the last run of digits in them; frames between
the first and last number that have no entry are kept as frames with nobody in them (pass `frame_ids` to
fix the range), and `VideoDetections.first_frame` is the first number: frames[t] is video frame first_frame + t.

Then one person or every person (`choose_people`: the highest-scoring one followed by overlap, a tracked
person by number, or all of them, relpose.wild.tracking), leading and trailing frames without that person
trimmed, gaps in between interpolated and marked (`fill_track`), and the output is exactly what
VideoPose3D's prepare_data_2d_custom.py writes:
  positions_2d = {video: {'custom': [(T, J, 2) float32 pixels]}}
  metadata = {'layout_name', 'num_joints', 'keypoints_symmetry': [left, right],
              'video_metadata': {video: {'w', 'h', 'fps'?, 'first_frame'?, 'interpolated', 'seen',
                                         'person'?, 'video'?}}, 'relpose': provenance}
VideoPose3D's reader ignores the keys it does not know (relpose.custom_keypoints describes them).
"""
from __future__ import annotations

import dataclasses
import json
import math
import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

# custom_file and read_custom are re-exported: the file's readers and writer belong together for users.
from ..custom_keypoints import (KEYPOINT_REACH, MAX_FRAME_NUMBER, MAX_FRAMES, check_first_frame,  # noqa: F401
                                check_fps, check_pixels, custom_file, interpolate_in_time, read_custom, shown,
                                write_custom)
from ..errors import DataError, UserError
from ..files import atomic_path, check_output_file, read_json
from ..keypoint_layouts import get_layout
from .tracking import MIN_TRACK_FRAMES, Tracks, box_iou, track_boxes  # noqa: F401 (box_iou: re-exported)
from .visibility import seen_mask, unseen_report

FORMATS = ("coco-json", "openpose", "alphapose", "mediapipe")
MEDIAPIPE_FORMAT = "mediapipe-pose-landmarks"
MEDIAPIPE_LANDMARKS = 33
# A detector's JSON larger than this is refused before it is read (json builds ~10 times its size in
# memory): a MediaPipe file of MAX_FRAMES frames is ~1.5 GB.
MAX_JSON_BYTES = 2 * 2 ** 30


# ----------------------------------------------------------------------------- data

def _box_from_points(keypoints: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """The bounding box of the joints the detector saw (score > 0: OpenPose writes 0 for a missing one)."""
    seen = (scores > 0) & np.isfinite(keypoints).all(axis=1)
    if not seen.any():
        return np.full(4, np.nan)
    p = keypoints[seen]
    return np.concatenate([p.min(axis=0), p.max(axis=0)])


@dataclass
class Detection:
    """One person in one frame: (J, 2) pixel keypoints, (J,) scores, the person's score, box x0 y0 x1 y1."""

    keypoints: np.ndarray
    scores: np.ndarray
    score: float
    box: np.ndarray | None = None

    def __post_init__(self):
        self.keypoints = np.asarray(self.keypoints, dtype=np.float64)
        self.scores = np.asarray(self.scores, dtype=np.float64)
        if self.keypoints.ndim != 2 or self.keypoints.shape[1] != 2 or self.scores.shape != self.keypoints.shape[:1]:
            raise ValueError(f"keypoints {self.keypoints.shape} and scores {self.scores.shape}: "
                             "expected (J, 2) and (J,)")
        self.score = float(self.score)
        self.box = (_box_from_points(self.keypoints, self.scores) if self.box is None
                    else np.asarray(self.box, dtype=np.float64).reshape(4))


@dataclass
class VideoDetections:
    """Every person a detector found in every frame of one video (frames[t] may be empty)."""

    name: str
    layout: str
    width: int
    height: int
    fps: float | None
    frames: list[list[Detection]]
    source: str | None = None          # the file or folder read, for messages and provenance
    source_format: str | None = None   # one of FORMATS
    first_frame: int = 0               # frames[0] is this frame of the video (detection from --start)

    def __post_init__(self):
        joints = get_layout(self.layout).num_joints
        for people in self.frames:
            for d in people:
                if len(d.keypoints) != joints:
                    raise ValueError(f"a detection has {len(d.keypoints)} joints, the {self.layout} layout {joints}")

    @property
    def where(self) -> str:
        return self.source or self.name


# ----------------------------------------------------------------------------- reading helpers

def _load_json(path: Path, what: str):
    return read_json(path, what=f"a {what} file", max_bytes=MAX_JSON_BYTES, fix=f"give the {what} file the detector wrote",
                     too_large=f" (the detections of {MAX_FRAMES:,} frames); split the video")


def _triplets(values, path, where: str, counts: dict[int, str]) -> tuple[np.ndarray, np.ndarray]:
    """A flat [x, y, s] * J list -> (J, 2) points, (J,) scores; J must be one of `counts` (J -> layout)."""
    try:
        if not isinstance(values, (list, tuple)):
            raise TypeError
        a = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        raise DataError(f"{path}: {where}: keypoints must be a flat list of numbers; re-export the file") from None
    expected = " or ".join(f"{3 * j} ({j} joints x 3, {name})" for j, name in counts.items())
    if a.ndim != 1 or a.size % 3 or a.size // 3 not in counts:
        raise DataError(f"{path}: {where}: keypoints have {a.size if a.ndim == 1 else a.shape} numbers, "
                        f"expected {expected}; check the detector's keypoint model")
    a = a.reshape(-1, 3)
    scores = np.where(np.isfinite(a).all(axis=1), a[:, 2], 0.0)   # a NaN coordinate is a missing joint
    return a[:, :2].copy(), scores


def _frame_number(image_id, path, what: str = "image_id") -> int:
    """An image id as a frame number, 0 to MAX_FRAME_NUMBER: an integer, or the last run of digits in a
    name ('frame_0012.jpg')."""
    number = None
    if isinstance(image_id, bool):
        pass
    elif isinstance(image_id, int):
        number = image_id
    elif isinstance(image_id, float) and image_id.is_integer():
        number = int(image_id)
    elif isinstance(image_id, str):
        digits = re.findall(r"\d+", image_id.replace("\\", "/").rsplit("/", 1)[-1])
        if digits:   # int() of more digits than a frame number has is refused below, unconverted
            number = int(digits[-1]) if len(digits[-1].lstrip("0")) <= 12 else MAX_FRAME_NUMBER + 1
    if number is not None:
        if not 0 <= number <= MAX_FRAME_NUMBER:
            raise DataError(f"{path}: {what} {shown(image_id)} is not a frame number from 0 to "
                            f"{MAX_FRAME_NUMBER:,}; the ids must number the video's frames")
        return number
    raise DataError(f"{path}: {what} {image_id!r} has no frame number in it; the ids must be numbers "
                    "or names with a number such as '12.jpg'")


def _need_size(width, height, path, what: str) -> tuple[int, int]:
    if width is None or height is None:
        raise UserError(f"{path}: {what} files do not record the video's frame size; give width and height "
                        "(--width W --height H, or --video FILE)")
    return check_pixels(width, "width", path), check_pixels(height, "height", path)


def _entries(data, path, what: str) -> list[dict]:
    if not isinstance(data, list) or not all(isinstance(e, dict) for e in data):
        raise DataError(f"{path}: a {what} file is a JSON list of objects, one per person, got "
                        f"{type(data).__name__}; give the detector's results file")
    return data


def _group_by_frame(people: list[tuple[int, Detection]], path, frame_ids=None) -> tuple[list[list[Detection]], int]:
    """Detections keyed by frame number -> (frames in order, the first frame's number): the frames of
    `frame_ids` if given (consecutive numbers), else first..last number."""
    if frame_ids is not None:
        if len(frame_ids) > MAX_FRAMES:
            raise UserError(f"{path}: {len(frame_ids):,} frame ids, more than the {MAX_FRAMES:,} frames one video's "
                            "keypoints may have; split the video")
        numbers = [_frame_number(i, path, "frame id") for i in frame_ids]
        first = numbers[0] if numbers else 0
        if numbers != list(range(first, first + len(numbers))):
            raise UserError(f"{path}: frame_ids must be consecutive frame numbers in order (frame t of the keypoints "
                            "is frame first + t of the video); give a range such as range(0, frames)")
    elif people:
        first, last = min(n for n, _ in people), max(n for n, _ in people)
        if last - first + 1 > MAX_FRAMES:   # checked before the frames are made
            raise DataError(f"{path}: the frame numbers run from {first:,} to {last:,}, more than the {MAX_FRAMES:,} "
                            "frames one video's keypoints may have; check the image ids, or split the video")
        numbers = list(range(first, last + 1))
    else:
        numbers = []
    slot = {n: i for i, n in enumerate(numbers)}
    frames: list[list[Detection]] = [[] for _ in numbers]
    for n, d in people:
        if n not in slot:
            raise DataError(f"{path}: frame {n} is not among the frame ids given; give every frame of the video")
        frames[slot[n]].append(d)
    return frames, (numbers[0] if numbers else 0)


def _box_xywh(value, path, where: str) -> np.ndarray | None:
    if value is None:
        return None
    try:
        x, y, w, h = (float(v) for v in value)
    except (TypeError, ValueError, OverflowError):
        raise DataError(f"{path}: {where}: a box is [x, y, width, height], got {shown(value)}; re-export the file") \
            from None
    if not all(np.isfinite([x, y, w, h])):
        raise DataError(f"{path}: {where}: a box must be finite numbers, got {shown(value)}; re-export the file")
    return np.array([x, y, x + w, y + h])


def _person_score(entry: dict, scores: np.ndarray, path, where: str) -> float:
    """The detector's score of the person, or the mean joint score where it gives none."""
    score = entry.get("score", None)
    if score is None:
        return float(scores.mean())
    try:
        value = math.nan if isinstance(score, bool) or not isinstance(score, (int, float)) else float(score)
    except OverflowError:   # an integer of hundreds of digits
        value = math.nan
    if not math.isfinite(value):
        raise DataError(f"{path}: {where}: score must be a finite number, got {shown(score)}; re-export the file")
    return value


def _results_list(path, what: str, counts: dict[int, str], frame_ids, skip_category: bool):
    """The shared reading of COCO-style and AlphaPose results lists -> (layout, frames)."""
    path = Path(path)
    entries = _entries(_load_json(path, what), path, what)
    people, layouts = [], set()
    for k, e in enumerate(entries):
        where = f"entry {k} (image_id {shown(e.get('image_id'), 30)})"
        if "image_id" not in e or "keypoints" not in e:
            raise DataError(f"{path}: {where} has no image_id or keypoints; give the detector's keypoint results")
        if skip_category and e.get("category_id", 1) != 1:   # COCO's person category is 1
            continue
        points, scores = _triplets(e["keypoints"], path, where, counts)
        layouts.add(counts[len(points)])
        box = _box_xywh(e.get("box", e.get("bbox")), path, where)
        score = _person_score(e, scores, path, where)
        people.append((_frame_number(e["image_id"], path), Detection(points, scores, score, box)))
    if len(layouts) > 1:
        raise DataError(f"{path} mixes keypoint layouts ({', '.join(sorted(layouts))}); give one detector's results")
    if not people:
        raise DataError(f"{path} holds no person detections; check the detector ran on the video")
    return (layouts.pop(), *_group_by_frame(people, path, frame_ids))


# ----------------------------------------------------------------------------- readers

def read_coco_json(path, *, width=None, height=None, fps=None, name=None, frame_ids=None) -> VideoDetections:
    """COCO-style keypoint results (MMPose, Detectron2): 17 keypoints per person, layout coco-17."""
    w, h = _need_size(width, height, path, "COCO results")
    layout, frames, first = _results_list(path, "COCO keypoint results", {17: "coco-17"}, frame_ids,
                                          skip_category=True)
    return VideoDetections(name or Path(path).stem, layout, w, h, check_fps(fps, path), frames, str(path), "coco-json",
                           first)


def read_alphapose_json(path, *, width=None, height=None, fps=None, name=None, frame_ids=None) -> VideoDetections:
    """AlphaPose's results JSON: 17 keypoints (coco-17) or 26 (halpe-26) per person."""
    w, h = _need_size(width, height, path, "AlphaPose results")
    layout, frames, first = _results_list(path, "AlphaPose results", {17: "coco-17", 26: "halpe-26"}, frame_ids,
                                          skip_category=False)
    return VideoDetections(name or Path(path).stem, layout, w, h, check_fps(fps, path), frames, str(path), "alphapose",
                           first)


_OPENPOSE_FILE = re.compile(r"(\d+)_keypoints\.json$")


def read_openpose_folder(folder, *, width=None, height=None, fps=None, name=None) -> VideoDetections:
    """A folder of OpenPose `*_keypoints.json` files (one per frame, BODY_25), in frame-number order: the
    frames from the first file's number to the last's, a number without a file a frame with nobody."""
    folder = Path(folder)
    if not folder.is_dir():
        state = "is a file, not a folder" if folder.exists() else "does not exist"
        raise DataError(f"{folder} {state}; give the folder OpenPose wrote its JSON files into (--write_json)")
    w, h = _need_size(width, height, folder, "OpenPose")
    numbered = {}
    for p in folder.glob("*_keypoints.json"):
        m = _OPENPOSE_FILE.search(p.name)
        if m is None:
            raise DataError(f"{p}: no frame number before '_keypoints.json'; keep OpenPose's file names")
        n = int(m.group(1))
        if n in numbered:
            raise DataError(f"{folder} holds two files for frame {n} ({numbered[n].name}, {p.name}); "
                            "keep one video's files per folder")
        numbered[n] = p
    if len(numbered) > MAX_FRAMES:
        raise DataError(f"{folder} holds {len(numbered):,} OpenPose files, more than the {MAX_FRAMES:,} frames one "
                        "video's keypoints may have; split the video")
    if not numbered:
        raise DataError(f"{folder} has no OpenPose *_keypoints.json files; give the folder of OpenPose's "
                        "--write_json output")
    people: list[tuple[int, Detection]] = []
    for n in sorted(numbered):
        p = numbered[n]
        data = _load_json(p, "OpenPose")
        if not isinstance(data, dict) or not isinstance(data.get("people"), list):
            raise DataError(f"{p}: an OpenPose file is an object with a 'people' list; "
                            "keep OpenPose's files as written")
        for k, person in enumerate(data["people"]):
            values = person.get("pose_keypoints_2d") if isinstance(person, dict) else None
            if isinstance(values, list) and len(values) == 54:
                raise DataError(f"{p}: person {k} has 54 numbers (18 joints x 3, OpenPose's COCO-18 model); only "
                                "BODY_25 (75 numbers) is supported: re-run OpenPose with --model_pose BODY_25")
            points, scores = _triplets(values, p, f"person {k}", {25: "openpose-25"})
            people.append((n, Detection(points, scores, float(scores.mean()))))   # OpenPose gives no person score
    first, last = min(numbered), max(numbered)   # a file with nobody is a frame with nobody, at the ends too
    if last - first + 1 > MAX_FRAMES:
        raise DataError(f"{folder}: the files number frames {first:,} to {last:,}, more than the {MAX_FRAMES:,} frames "
                        "one video's keypoints may have; keep one video's files per folder, or split the video")
    frames, first = _group_by_frame(people, folder, range(first, last + 1))
    return VideoDetections(name or folder.name, "openpose-25", w, h, check_fps(fps, folder), frames, str(folder),
                           "openpose", first)


def read_mediapipe_json(path) -> VideoDetections:
    """The kit's MediaPipe landmarks file (33 BlazePose landmarks per frame, visibility as the score)."""
    path = Path(path)
    data = _load_json(path, "MediaPipe landmarks")
    if not isinstance(data, dict) or data.get("format") != MEDIAPIPE_FORMAT:
        raise DataError(f"{path}: not a MediaPipe landmarks file (its 'format' must be '{MEDIAPIPE_FORMAT}'); "
                        "give the file python -m relpose.wild.detect wrote")
    width = check_pixels(data.get("width"), "width", path)
    height = check_pixels(data.get("height"), "height", path)
    fps = check_fps(data.get("fps"), path)
    if not isinstance(data.get("frames"), list) or not data["frames"]:
        raise DataError(f"{path}: 'frames' must be a list with one entry (null or landmarks) per frame; "
                        "re-run python -m relpose.wild.detect")
    if len(data["frames"]) > MAX_FRAMES:
        raise DataError(f"{path} holds {len(data['frames']):,} frames, more than the {MAX_FRAMES:,} one video's "
                        "keypoints may have; detect in parts (--start, --limit)")
    frames = []
    for t, frame in enumerate(data["frames"]):
        if frame is None:
            frames.append([])
            continue
        try:
            lm = np.asarray(frame["landmarks"], dtype=np.float64)
        except (TypeError, KeyError, ValueError, OverflowError):
            lm = None
        if lm is None or lm.shape != (MEDIAPIPE_LANDMARKS, 4):
            raise DataError(f"{path}: frame {t}: expected null or {{\"landmarks\": [[x, y, z, visibility] * 33]}}; "
                            "re-run python -m relpose.wild.detect")
        points = lm[:, :2] * [width, height]      # MediaPipe normalises x by the width, y by the height
        scores = np.where(np.isfinite(points).all(axis=1), lm[:, 3], 0.0)
        frames.append([Detection(points, scores, float(scores.mean()))])
    video = str(data.get("video") or "")
    name = Path(video).name if video else path.stem
    first = check_first_frame(data.get("first_frame", 0), path)
    return VideoDetections(name, "blazepose-33", width, height, fps, frames, str(path), "mediapipe", first)


def write_mediapipe_json(path, frames, *, width: int, height: int, fps: float | None = None, video: str = "",
                         first_frame: int = 0, overwrite: bool = False) -> Path:
    """Write MediaPipe pose landmarks: `frames` holds, per frame, None (nobody) or 33 x [x, y, z, visibility]
    with x, y normalised by the width and height as MediaPipe reports them; frames[0] is the video's
    frame `first_frame`."""
    path = check_output_file(path, "the MediaPipe landmarks file", overwrite=overwrite)
    out = []
    for t, frame in enumerate(frames):
        if frame is None:
            out.append(None)
            continue
        lm = np.asarray(frame, dtype=np.float64)
        if lm.shape != (MEDIAPIPE_LANDMARKS, 4):
            raise UserError(f"{path}: frame {t} has landmarks of shape {lm.shape}, expected (33, 4) "
                            "[x, y, z, visibility]")
        out.append({"landmarks": [[round(float(v), 6) for v in row] for row in lm]})
    if not 0 < len(out) <= MAX_FRAMES:
        raise UserError(f"{path}: {len(out):,} frames to write; give 1 to {MAX_FRAMES:,}")
    doc = {"format": MEDIAPIPE_FORMAT, "video": str(video), "width": check_pixels(width, "width", path),
           "height": check_pixels(height, "height", path), "fps": check_fps(fps, path), "frames": out}
    if check_first_frame(first_frame, path):
        doc["first_frame"] = int(first_frame)
    with atomic_path(path, what="MediaPipe landmarks file") as tmp:
        tmp.write_text(json.dumps(doc, separators=(",", ":")), encoding="utf-8")
    return path


def sniff_format(path) -> str:
    """Which of FORMATS a file or folder is, from its content."""
    path = Path(path)
    if path.is_dir():
        return "openpose"
    data = _load_json(path, "detections")
    if isinstance(data, dict):
        if data.get("format") == MEDIAPIPE_FORMAT:
            return "mediapipe"
        if "people" in data:
            raise DataError(f"{path} is one OpenPose frame; give the folder of all its *_keypoints.json files")
    if isinstance(data, list) and data and all(isinstance(e, dict) for e in data):
        first = data[0]
        image_id = first.get("image_id")
        if "box" in first or "idx" in first or len(first.get("keypoints") or ()) == 78 \
                or (isinstance(image_id, str) and re.search(r"\.(jpe?g|png|bmp)$", image_id, re.I)):
            return "alphapose"
        if "keypoints" in first and "image_id" in first:
            return "coco-json"
    raise DataError(f"{path}: cannot tell the detector's format; give it as one of {', '.join(FORMATS)}")


def read_detections(path, format: str | None = None, *, width=None, height=None, fps=None, name=None,
                    frame_ids=None) -> VideoDetections:
    """Read detections in `format` (one of FORMATS; None: recognised from the content)."""
    if format is None:
        format = sniff_format(path)
    if format not in FORMATS:
        raise UserError(f"unknown detection format '{format}' for {path}; use one of {', '.join(FORMATS)}")
    size = dict(width=width, height=height, fps=fps, name=name)
    if format == "coco-json":
        return read_coco_json(path, frame_ids=frame_ids, **size)
    if format == "alphapose":
        return read_alphapose_json(path, frame_ids=frame_ids, **size)
    if format == "openpose":
        return read_openpose_folder(path, **size)
    video = read_mediapipe_json(path)
    if name:
        video.name = name
    return video


# ----------------------------------------------------------------------------- one person, or several

@dataclass
class Track:
    """One person through the video: keypoints (T, J, 2) NaN where nobody, scores (T, J) 0 there,
    detected (T,), and `switches`: frames where no candidate overlapped the last chosen box, so the
    highest-scoring person was taken (possibly someone else). keypoints[0] is video frame first_frame;
    `person` is the tracked person's number (relpose.wild.tracking), None for the highest-scoring one."""

    name: str
    layout: str
    width: int
    height: int
    fps: float | None
    keypoints: np.ndarray
    scores: np.ndarray
    detected: np.ndarray
    switches: int = 0
    source: str | None = None
    source_format: str | None = None
    first_frame: int = 0
    person: int | None = None

    @property
    def num_frames(self) -> int:
        return len(self.detected)

    @property
    def num_detected(self) -> int:
        return int(self.detected.sum())


def _track_from_picks(video: VideoDetections, picks: list[int | None], switches: int = 0,
                      person: int | None = None) -> Track:
    """The Track of the detections `picks` names: picks[t] indexes frame t's people (None: nobody)."""
    joints = get_layout(video.layout).num_joints
    T = len(video.frames)
    keypoints = np.full((T, joints, 2), np.nan)
    scores = np.zeros((T, joints))
    detected = np.zeros(T, dtype=bool)
    for t, k in enumerate(picks):
        if k is not None:
            chosen = video.frames[t][k]
            keypoints[t], scores[t], detected[t] = chosen.keypoints, chosen.scores, True
    return Track(video.name, video.layout, video.width, video.height, video.fps, keypoints, scores, detected,
                 switches, video.source, video.source_format, video.first_frame, person)


def _best_picks(video: VideoDetections, iou_threshold: float) -> tuple[list[int | None], int]:
    """(the index of the chosen person per frame, the number of switches) of select_person."""
    picks: list[int | None] = []
    last_box, switches = None, 0
    for people in video.frames:
        if not people:
            picks.append(None)
            continue
        pick = int(np.argmax([d.score for d in people]))
        if last_box is not None:
            ious = [box_iou(d.box, last_box) for d in people]
            best = int(np.argmax(ious))
            if ious[best] >= iou_threshold:
                pick = best
            else:
                switches += 1
        picks.append(pick)
        if np.isfinite(people[pick].box).all():
            last_box = people[pick].box
    return picks, switches


def select_person(video: VideoDetections, iou_threshold: float = 0.3) -> Track:
    """Follow one person: the highest score in the first frame with people, then the best overlap with
    the last chosen box (IoU >= iou_threshold), else the highest score again (counted as a switch)."""
    return _track_from_picks(video, *_best_picks(video, iou_threshold))


def check_person(value) -> str | int:
    """Which person to keep: 'best' (the highest-scoring, followed by overlap), 'all', or a tracked
    person's number (1, 2, ... by first appearance); text as a command line gives it is accepted."""
    if isinstance(value, str) and value.strip().lower() in ("best", "all"):
        return value.strip().lower()
    if isinstance(value, str) and re.fullmatch(r"\s*[0-9]{1,9}\s*", value):
        value = int(value)
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool) and 1 <= value <= MAX_FRAMES:
        return int(value)
    raise UserError(f"--person {shown(value)}: give best (the highest-scoring person), all (every person, each its "
                    "own video in the file) or a person's number (1, 2, ... in order of appearance)")


@dataclass
class People:
    """Who is kept: (entry name in the custom file, track) per person, the line that says so (None when
    there is nothing to say), and how many tracks were found and dropped (None: not tracked, MediaPipe)."""

    entries: list[tuple[str, Track]]
    message: str | None
    found: int | None = None
    dropped: int | None = None


def _people_found(tracks: Tracks) -> str:
    n = len(tracks)
    said = "1 person found" if n == 1 else f"{n} people found"
    notes = [f"tracks 1-{n}"] if n > 1 else []
    if tracks.dropped:
        notes.append(f"{tracks.dropped} short track{'s' if tracks.dropped != 1 else ''} of fewer than "
                     f"{tracks.min_frames} frames dropped")
    return said + (f" ({'; '.join(notes)})" if notes else "")


def _no_person(where, frames: int) -> DataError:
    return DataError(f"no person detected in any of the {frames} frames of {where}; check the detector ran on "
                     "the right video and that a person is visible")


def choose_people(video: VideoDetections, person="best", iou_threshold: float = 0.3,
                  min_track_frames: int = MIN_TRACK_FRAMES) -> People:
    """The person or people to write (check_person). Detectors of several people (COCO results, AlphaPose,
    OpenPose) are tracked (relpose.wild.tracking) to count and number them: 'best' keeps select_person's
    choice, N the Nth tracked person, 'all' each tracked person as '<video>.person<N>'. MediaPipe follows
    one person: anything but 'best' keeps that one and says so."""
    person = check_person(person)
    T = len(video.frames)
    if video.source_format == "mediapipe":
        note = None if person == "best" else (f"{video.where}: MediaPipe follows one person per frame; --person "
                                              f"{person} does not apply, the one person found is kept")
        return People([(video.name, select_person(video, iou_threshold))], note)
    tracks = track_boxes([[d.box for d in f] for f in video.frames], [[d.score for d in f] for f in video.frames],
                         iou_threshold, min_track_frames)
    found = _people_found(tracks)
    if person == "best":
        picks, switches = _best_picks(video, iou_threshold)
        best = _track_from_picks(video, picks, switches)
        if len(tracks) <= 1 and not tracks.dropped:
            return People([(video.name, best)], None, len(tracks), tracks.dropped)
        owners = Counter(tracks.person_of(t, k) for t, k in enumerate(picks) if k is not None)
        main, count = owners.most_common(1)[0] if owners else (None, 0)
        if main is not None and count == best.num_detected:
            kept = f"kept person {main}, the highest-scoring, in {count} of {T} frames"
        else:
            kept = (f"kept the highest-scoring person in {best.num_detected} of {T} frames (person {main} in {count} "
                    "of them)")
        return People([(video.name, best)], f"{video.where}: {found}; {kept}; --person all keeps every one",
                      len(tracks), tracks.dropped)
    if not len(tracks):
        raise _no_person(video.where, T)
    if person == "all":
        entries = [(f"{video.name}.person{n}", _track_from_picks(video, tracks.members[n - 1], person=n))
                   for n in range(1, len(tracks) + 1)]
        kept = ", ".join(f"{name} in {track.num_detected} of {T} frames" for name, track in entries)
        return People(entries, f"{video.where}: {found}; kept every one: {kept}", len(tracks), tracks.dropped)
    if person > len(tracks):
        raise UserError(f"{video.where}: --person {person}, but {found}; give a number from 1 to {len(tracks)}, "
                        "best or all")
    track = _track_from_picks(video, tracks.members[person - 1], person=person)
    return People([(video.name, track)], f"{video.where}: {found}; kept person {person} (--person {person}) in "
                  f"{track.num_detected} of {T} frames", len(tracks), tracks.dropped)


# ----------------------------------------------------------------------------- gaps

@dataclass
class FillReport:
    frames: int
    empty_frames: int               # frames with nobody, filled
    longest_gap: int                # the longest run of such frames
    filled_joint_values: int        # joints of detected frames below min_score, filled
    min_score: float
    switches: int = 0
    low_confidence_joints: tuple[str, ...] = field(default=())   # never >= min_score: their own values kept
    trimmed_leading: int = 0        # frames with nobody before the first detection, left out (fill_track)
    trimmed_trailing: int = 0       # and after the last
    first_frame: int = 0            # the video frame of the first frame kept

    def summary(self) -> str:
        parts = []
        if self.trimmed_leading or self.trimmed_trailing:
            parts.append(f"{self.trimmed_leading} frame{'s' if self.trimmed_leading != 1 else ''} with nobody at the "
                         f"start and {self.trimmed_trailing} at the end were trimmed (the keypoints start at video "
                         f"frame {self.first_frame})")
        if self.empty_frames:
            parts.append(f"{self.empty_frames} of {self.frames} frames had no person (longest gap "
                         f"{self.longest_gap} frame{'s' if self.longest_gap != 1 else ''}) and "
                         f"{'was' if self.empty_frames == 1 else 'were'} interpolated")
        else:
            parts.append(f"all {self.frames} frames had a person")
        parts.append(f"{self.filled_joint_values or 'no'} low-confidence joint position"
                     f"{'s' if self.filled_joint_values != 1 else ''} (score < {self.min_score:g}) "
                     f"{'was' if self.filled_joint_values == 1 else 'were'} interpolated")
        if self.switches:
            parts.append(f"the person was re-chosen by score {self.switches} time{'s' if self.switches != 1 else ''} "
                         "(no box overlapped the previous one)")
        if self.low_confidence_joints:
            parts.append(f"never seen with score >= {self.min_score:g}, kept at their low-confidence positions: "
                         + ", ".join(self.low_confidence_joints))
        return "; ".join(parts)

    def as_dict(self) -> dict:
        d = asdict(self)
        d["low_confidence_joints"] = list(self.low_confidence_joints)
        return d


def _longest_run(mask: np.ndarray) -> int:
    longest = run = 0
    for m in mask:
        run = run + 1 if m else 0
        longest = max(longest, run)
    return longest


def check_min_score(value, name: str = "--min-score", high: float | None = None) -> float:
    """A score threshold: a finite number >= 0 (and <= high where scores have a ceiling, such as
    MediaPipe's visibility, 0..1); Detectron2's scores are heatmap values without one."""
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool) \
        and 0 <= value < float("inf") and (high is None or value <= high)   # false for NaN
    if not ok:
        wanted = f"a score threshold from 0 to {high:g}" if high is not None else "a finite score threshold >= 0"
        raise UserError(f"{name} {shown(value)}: give {wanted} (joints scored below it are interpolated in time)")
    return float(value)


def fill_gaps(track: Track, min_score: float = 0.3) -> tuple[np.ndarray, FillReport]:
    """Every joint of every frame, finite: positions with nobody or score < min_score are interpolated
    linearly in time between the nearest good frames of that joint, held before the first / after the last.
    fill_track trims the frames with nobody at either end first, so that no frame is filled by holding."""
    T, J = track.scores.shape
    where = track.source or track.name
    check_min_score(min_score, "min_score")
    if not track.detected.any():
        raise _no_person(where, T)
    names = get_layout(track.layout).joint_names
    finite = np.isfinite(track.keypoints).all(axis=-1)
    seen = track.detected[:, None] & finite & (track.scores > 0)    # score 0: the detector did not see it
    good = seen & (track.scores >= min_score)
    filled, weak = 0, []
    for j in range(J):
        if not good[:, j].any():
            if not seen[:, j].any():
                raise DataError(f"{where}: joint '{names[j]}' ({track.layout} joint {j}) was never detected in any "
                                "frame; use a video where the whole body is visible")
            good[:, j] = seen[:, j]
            weak.append(names[j])
        filled += int((track.detected & ~good[:, j]).sum())
    out = interpolate_in_time(track.keypoints, good)
    report = FillReport(T, int((~track.detected).sum()), _longest_run(~track.detected), filled, float(min_score),
                        track.switches, tuple(weak))
    return out.astype(np.float32), report


@dataclass
class FilledTrack:
    """A track ready to write: keypoints (T, J, 2) float32 finite pixels, `interpolated` (T,) frames with
    nobody (filled), `seen` (T, J) joints the detector saw (relpose.wild.visibility.seen_mask), the video
    frame of keypoints[0], and the report."""

    keypoints: np.ndarray
    interpolated: np.ndarray
    seen: np.ndarray
    first_frame: int
    report: FillReport


def trim_track(track: Track) -> tuple[Track, int, int]:
    """(the track without the frames with nobody before its first and after its last detection, how many
    were cut at the start, at the end); first_frame moves with the start."""
    found = np.flatnonzero(track.detected)
    if not len(found):
        return track, 0, 0
    a, b = int(found[0]), int(found[-1]) + 1
    cut = dataclasses.replace(track, keypoints=track.keypoints[a:b], scores=track.scores[a:b],
                              detected=track.detected[a:b], first_frame=track.first_frame + a)
    return cut, a, track.num_frames - b


def fill_track(track: Track, min_score: float = 0.3) -> FilledTrack:
    """trim_track, then fill_gaps, with the masks of what was interpolated and what was seen."""
    check_min_score(min_score, "min_score")
    cut, leading, trailing = trim_track(track)
    keypoints, report = fill_gaps(cut, min_score)
    report = dataclasses.replace(report, trimmed_leading=leading, trimmed_trailing=trailing,
                                 first_frame=cut.first_frame)
    seen = seen_mask(cut.keypoints, cut.scores, cut.detected, cut.width, cut.height, min_score)
    return FilledTrack(keypoints, ~cut.detected, seen, cut.first_frame, report)


def _check_reach(track: Track, video: VideoDetections) -> None:
    """The detected keypoints lie within KEYPOINT_REACH frame sizes of the frame (else the file is at
    fault, not the keypoint file it would become)."""
    reach = KEYPOINT_REACH * max(video.width, video.height)
    with np.errstate(invalid="ignore"):
        far = np.abs(track.keypoints) > reach   # NaN (missing joints) compares false
    if far.any():
        t = int(np.argwhere(far)[0][0])
        raise DataError(f"{video.where}: a keypoint of frame {track.first_frame + t} lies more than {KEYPOINT_REACH} "
                        f"frame sizes ({reach:,} pixels) from the {video.width}x{video.height} frame; check the "
                        "detector's output and the frame size given")


def convert_detections(video: VideoDetections, path, *, min_score: float = 0.3, iou_threshold: float = 0.3,
                       person="best", min_track_frames: int = MIN_TRACK_FRAMES, overwrite: bool = False,
                       provenance: dict | None = None, log=print) -> dict[str, FillReport]:
    """choose_people + fill_track + write_custom for one video -> {entry name: report} in the file's order.
    Logs who was kept (when there is something to say), then per entry the summary and, when a body part
    was out of view in most frames, the line that says so (relpose.wild.visibility.unseen_report).
    `provenance`: more entries for metadata['relpose'] (e.g. 'detection', relpose.wild.detection_key)."""
    check_output_file(path, "the 2D keypoint file", overwrite=overwrite, suffixes=(".npz",))   # before the work
    check_min_score(min_score, "min_score")
    people = choose_people(video, person, iou_threshold, min_track_frames)
    filled = {}
    for entry, track in people.entries:
        _check_reach(track, video)
        filled[entry] = (track, fill_track(track, min_score))
    videos = {entry: {"keypoints": f.keypoints, "width": video.width, "height": video.height, "fps": video.fps,
                      "first_frame": f.first_frame, "interpolated": f.interpolated, "seen": f.seen,
                      "person": track.person, "video": None if track.person is None else video.name}
              for entry, (track, f) in filled.items()}
    reports = {entry: f.report for entry, (_, f) in filled.items()}
    record = {"source": video.source, "source_format": video.source_format, "iou_threshold": float(iou_threshold),
              "person": check_person(person), "people_found": people.found, "short_tracks_dropped": people.dropped}
    if len(reports) == 1 and record["person"] != "all":
        record["fill"] = next(iter(reports.values())).as_dict()
    else:
        record["fill_by_video"] = {entry: r.as_dict() for entry, r in reports.items()}
    write_custom(path, videos, video.layout, {**record, **(provenance or {})}, overwrite=overwrite)
    if log is not None:
        if people.message:
            log(people.message)
        for entry, (_, f) in filled.items():
            log(f"{entry}: {f.report.summary()}")
            unseen = unseen_report(f.seen, video.layout, f.interpolated)
            if unseen:
                log(f"{entry}: {unseen}")
    return reports
