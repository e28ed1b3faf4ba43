"""2D detections of a video -> one person per frame -> gaps filled -> VideoPose3D's custom 2D file.

Readers (each returns a `VideoDetections`, every person of every frame):
  coco-json  a list of {"image_id", "category_id", "keypoints": [x, y, v] * 17, "score", "bbox"?}, as
             MMPose and Detectron2 write COCO keypoint results; the third number is taken as the score
             (Detectron2 writes heatmap values there, not probabilities: choose min_score accordingly);
  openpose   a folder of OpenPose's `<video>_<frame number>_keypoints.json`, BODY_25 only;
  alphapose  AlphaPose's results list {"image_id": "12.jpg", "keypoints": [x, y, s] * K, "score", "box"?}
             with K = 17 (COCO) or 26 (Halpe);
  mediapipe  the kit's MediaPipe landmarks file (`write_mediapipe_json`), x and y normalised to [0, 1].
Image ids become frame numbers by the last run of digits in them; frames between the first and last
number that have no entry are kept as frames with nobody in them (pass `frame_ids` to fix the range).

The output is exactly what VideoPose3D's prepare_data_2d_custom.py writes:
  positions_2d = {video: {'custom': [(T, J, 2) float32 pixels]}}
  metadata = {'layout_name', 'num_joints', 'keypoints_symmetry': [left, right],
              'video_metadata': {video: {'w', 'h', 'fps'?}}, 'relpose': provenance}
VideoPose3D's reader ignores the keys it does not know ('fps', 'relpose').
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

# custom_file and read_custom are re-exported: the file's readers and writer belong together for users.
from ..custom_keypoints import (KEYPOINT_REACH, MAX_FRAME_NUMBER, MAX_FRAMES, check_first_frame,  # noqa: F401
                                check_fps, check_pixels, custom_file, read_custom, shown, write_custom)
from ..errors import DataError, UserError
from ..files import atomic_path, check_output_file
from ..keypoint_layouts import get_layout

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
    try:
        size = path.stat().st_size
        if size > MAX_JSON_BYTES:
            raise DataError(f"{path} holds {size:,} bytes, more than the {MAX_JSON_BYTES:,} a {what} file may hold "
                            f"(the detections of {MAX_FRAMES:,} frames); split the video")
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataError(f"{path} does not exist; give the {what} file the detector wrote") from None
    except IsADirectoryError:
        raise DataError(f"{path} is a folder; give the {what} file the detector wrote") from None
    except (OSError, UnicodeDecodeError) as e:
        raise DataError(f"{path} cannot be read ({getattr(e, 'strerror', None) or e}); give the {what} file") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise DataError(f"{path} is not valid JSON ({e.msg} at line {e.lineno}); give the {what} file "
                        "the detector wrote, complete") from None
    except RecursionError:   # json's parser recurses once per level
        raise DataError(f"{path} is nested deeper than Python's JSON reader can follow (a detector's file nests "
                        f"4 levels); give the {what} file the detector wrote") from None
    except ValueError as e:   # Python refuses integers of more than 4,300 digits
        raise DataError(f"{path} cannot be read as JSON ({str(e).split(';')[0][:120]}); give the {what} file "
                        "the detector wrote") from None


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


def _group_by_frame(people: list[tuple[int, Detection]], path, frame_ids) -> list[list[Detection]]:
    """Detections keyed by frame number -> frames in order: `frame_ids` if given, else first..last number."""
    if frame_ids is not None:
        if len(frame_ids) > MAX_FRAMES:
            raise UserError(f"{path}: {len(frame_ids):,} frame ids, more than the {MAX_FRAMES:,} frames one video's "
                            "keypoints may have; split the video")
        numbers = [_frame_number(i, path, "frame id") for i in frame_ids]
        if len(set(numbers)) != len(numbers):
            raise UserError(f"{path}: frame_ids repeat a frame number; give each frame once")
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
    return frames


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
    return layouts.pop(), _group_by_frame(people, path, frame_ids)


# ----------------------------------------------------------------------------- readers

def read_coco_json(path, *, width=None, height=None, fps=None, name=None, frame_ids=None) -> VideoDetections:
    """COCO-style keypoint results (MMPose, Detectron2): 17 keypoints per person, layout coco-17."""
    w, h = _need_size(width, height, path, "COCO results")
    layout, frames = _results_list(path, "COCO keypoint results", {17: "coco-17"}, frame_ids, skip_category=True)
    return VideoDetections(name or Path(path).stem, layout, w, h, check_fps(fps, path), frames, str(path), "coco-json")


def read_alphapose_json(path, *, width=None, height=None, fps=None, name=None, frame_ids=None) -> VideoDetections:
    """AlphaPose's results JSON: 17 keypoints (coco-17) or 26 (halpe-26) per person."""
    w, h = _need_size(width, height, path, "AlphaPose results")
    layout, frames = _results_list(path, "AlphaPose results", {17: "coco-17", 26: "halpe-26"}, frame_ids,
                                   skip_category=False)
    return VideoDetections(name or Path(path).stem, layout, w, h, check_fps(fps, path), frames, str(path), "alphapose")


_OPENPOSE_FILE = re.compile(r"(\d+)_keypoints\.json$")


def read_openpose_folder(folder, *, width=None, height=None, fps=None, name=None) -> VideoDetections:
    """A folder of OpenPose `*_keypoints.json` files (one per frame, BODY_25), in frame-number order."""
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
    frames = []
    for n in sorted(numbered):
        p = numbered[n]
        data = _load_json(p, "OpenPose")
        if not isinstance(data, dict) or not isinstance(data.get("people"), list):
            raise DataError(f"{p}: an OpenPose file is an object with a 'people' list; "
                            "keep OpenPose's files as written")
        people = []
        for k, person in enumerate(data["people"]):
            values = person.get("pose_keypoints_2d") if isinstance(person, dict) else None
            if isinstance(values, list) and len(values) == 54:
                raise DataError(f"{p}: person {k} has 54 numbers (18 joints x 3, OpenPose's COCO-18 model); only "
                                "BODY_25 (75 numbers) is supported: re-run OpenPose with --model_pose BODY_25")
            points, scores = _triplets(values, p, f"person {k}", {25: "openpose-25"})
            people.append(Detection(points, scores, float(scores.mean())))   # OpenPose gives no person score
        frames.append(people)
    return VideoDetections(name or folder.name, "openpose-25", w, h, check_fps(fps, folder), frames, str(folder), "openpose")


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


# ----------------------------------------------------------------------------- one person per frame

def box_iou(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two x0 y0 x1 y1 boxes (0 for a box with no extent or NaN)."""
    iw = min(a[2], b[2]) - max(a[0], b[0])
    ih = min(a[3], b[3]) - max(a[1], b[1])
    if not (iw > 0 and ih > 0):     # also false for NaN
        return 0.0
    inter = iw * ih
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union) if union > 0 else 0.0


@dataclass
class Track:
    """One person through the video: keypoints (T, J, 2) NaN where nobody, scores (T, J) 0 there,
    detected (T,), and `switches`: frames where no candidate overlapped the last chosen box, so the
    highest-scoring person was taken (possibly someone else)."""

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

    @property
    def num_frames(self) -> int:
        return len(self.detected)

    @property
    def num_detected(self) -> int:
        return int(self.detected.sum())


def select_person(video: VideoDetections, iou_threshold: float = 0.3) -> Track:
    """Follow one person: the highest score in the first frame with people, then the best overlap with
    the last chosen box (IoU >= iou_threshold), else the highest score again (counted as a switch)."""
    joints = get_layout(video.layout).num_joints
    T = len(video.frames)
    keypoints = np.full((T, joints, 2), np.nan)
    scores = np.zeros((T, joints))
    detected = np.zeros(T, dtype=bool)
    last_box, switches = None, 0
    for t, people in enumerate(video.frames):
        if not people:
            continue
        pick = int(np.argmax([d.score for d in people]))
        if last_box is not None:
            ious = [box_iou(d.box, last_box) for d in people]
            best = int(np.argmax(ious))
            if ious[best] >= iou_threshold:
                pick = best
            else:
                switches += 1
        chosen = people[pick]
        keypoints[t], scores[t], detected[t] = chosen.keypoints, chosen.scores, True
        if np.isfinite(chosen.box).all():
            last_box = chosen.box
    return Track(video.name, video.layout, video.width, video.height, video.fps, keypoints, scores, detected,
                 switches, video.source, video.source_format)


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

    def summary(self) -> str:
        if self.empty_frames:
            parts = [f"{self.empty_frames} of {self.frames} frames had no person (longest gap "
                     f"{self.longest_gap} frame{'s' if self.longest_gap != 1 else ''}) and were interpolated"]
        else:
            parts = [f"all {self.frames} frames had a person"]
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
    linearly in time between the nearest good frames of that joint, held before the first / after the last."""
    T, J = track.scores.shape
    where = track.source or track.name
    check_min_score(min_score, "min_score")
    if not track.detected.any():
        raise DataError(f"no person detected in any of the {T} frames of {where}; check the detector ran on "
                        "the right video and that a person is visible")
    names = get_layout(track.layout).joint_names
    finite = np.isfinite(track.keypoints).all(axis=-1)
    seen = track.detected[:, None] & finite & (track.scores > 0)    # score 0: the detector did not see it
    good = seen & (track.scores >= min_score)
    out = np.empty((T, J, 2))
    frame = np.arange(T)
    filled, weak = 0, []
    for j in range(J):
        use = good[:, j]
        if not use.any():
            use = seen[:, j]
            if not use.any():
                raise DataError(f"{where}: joint '{names[j]}' ({track.layout} joint {j}) was never detected in any "
                                "frame; use a video where the whole body is visible")
            weak.append(names[j])
        filled += int((track.detected & ~use).sum())
        for c in range(2):
            out[:, j, c] = np.interp(frame, frame[use], track.keypoints[use, j, c])
    report = FillReport(T, int((~track.detected).sum()), _longest_run(~track.detected), filled, float(min_score),
                        track.switches, tuple(weak))
    return out.astype(np.float32), report


def _check_reach(track: Track, video: VideoDetections) -> None:
    """The detected keypoints lie within KEYPOINT_REACH frame sizes of the frame (else the file is at
    fault, not the keypoint file it would become)."""
    reach = KEYPOINT_REACH * max(video.width, video.height)
    with np.errstate(invalid="ignore"):
        far = np.abs(track.keypoints) > reach   # NaN (missing joints) compares false
    if far.any():
        t = int(np.argwhere(far)[0][0])
        raise DataError(f"{video.where}: a keypoint of frame {video.first_frame + t} lies more than {KEYPOINT_REACH} "
                        f"frame sizes ({reach:,} pixels) from the {video.width}x{video.height} frame; check the "
                        "detector's output and the frame size given")


def convert_detections(video: VideoDetections, path, *, min_score: float = 0.3, iou_threshold: float = 0.3,
                       overwrite: bool = False, log=print) -> FillReport:
    """select_person + fill_gaps + write_custom for one video; logs one line with the summary."""
    check_output_file(path, "the 2D keypoint file", overwrite=overwrite, suffixes=(".npz",))   # before the work
    track = select_person(video, iou_threshold)
    _check_reach(track, video)
    keypoints, report = fill_gaps(track, min_score)
    provenance = {"source": video.source, "source_format": video.source_format, "iou_threshold": float(iou_threshold),
                  "fill": report.as_dict()}
    write_custom(path, {video.name: (keypoints, video.width, video.height, video.fps, video.first_frame)},
                 video.layout, provenance,
                 overwrite=overwrite)
    if log is not None:
        log(f"{video.name}: {report.summary()}")
    return report
