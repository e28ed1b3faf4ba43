"""Pose data sets in the VideoPose3D file layout: load, check, prepare per camera, fetch.

Two files per data set, in `data_dir`:
  data_3d_<name>.npz             key positions_3d: {subject: {action: (T, J3d, 3) float world positions, metres}}
  data_2d_<name>_<keypoints>.npz keys positions_2d: {subject: {action: [(T, J2d, 2) pixels, one per camera]}}
                                 and metadata: {num_joints, keypoints_symmetry: [left, right], layout_name?}
A set without a fixed rig (rig None in its DatasetSpec, e.g. 'synthwild') keeps each subject's cameras in its
2D file: metadata['cameras'] = {subject: [one record per camera, in the JSON rig's form: center and focal_length
in pixels, translation in millimetres]} (relpose.cameras.camera_from_record); its frame rate is the spec's.
Preparation is that of VideoPose3D's run.py, array for array: 3D goes into each camera's space with
joints 1.. made relative to the root and joint 0 keeping the trajectory; 2D is trimmed to the mocap
length and normalised with the camera's resolution. Names: 'h36m', 'synth' (Human3.6M rig, 32 or
17 joints in the 3D file, reduced to 17), 'synthwild' (cameras in the file) and 'humaneva*' (HumanEva-I
rig, 15 joints). The 2D joint count comes from the file's metadata (e.g. 17 COCO keypoints with 15-joint
HumanEva mocap).
"""
from __future__ import annotations

import hashlib
import zipfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

import numpy as np

from .cameras import check_camera_record, frame_rate, load_rig, normalize_screen_coordinates, world_to_camera
from .config_rules import DOWNSAMPLE_RULE, SUBSET_RULE, check_rules
from .custom_keypoints import CUSTOM_ACTION, read_custom
from .errors import DataError, UserError
from .keypoint_layouts import get_layout, guess_layout, model_inputs
from .safe_npz import load_npz, npz_keys
from .tables import text_table
from .skeleton import H36M_17, H36M_KEPT_JOINTS, HUMANEVA_15, Skeleton

GET_DATA = "see data/README.md, section 'Getting the data'"
GET_SYNTH = "run `python -m relpose.synth` or `make demo` to generate it"
GET_SYNTHWILD = "run `python -m relpose.synth --set wild` to generate it"
GET_CUSTOM = ("write it from your detector's output with `python -m relpose.cli.keypoints` or from a video with "
              "`make wild VIDEO=...` (README, 'Your own video')")
GET_MOCAP = "run `python -m relpose.mocap` to make it from pybullet's DeepMimic clips (pip install pybullet==3.2.7)"


# ----------------------------------------------------------------------------- the registry

@dataclass(frozen=True)
class DatasetSpec:
    """What the kit knows of a data set: everything a name stands for, registered once.

    keypoints: the 2D keypoint sets it has (None: any name, as Human3.6M has many detectors);
    joints_3d: joint counts its 3D file may hold (the first is reduced to the skeleton's);
    kit_made: the kit writes its files when they are missing, with the function its package registers
    (register_maker); calibration_by_basename: subjects such as 'Train/S1' use the cameras of 'S1'
    (HumanEva's splits); rig: the camera rig (relpose.cameras.RIGS), or None for a set whose 2D files record
    each subject's cameras (metadata['cameras']), whose frame rate is then capture_fps.
    """

    name: str
    description: str
    skeleton: Skeleton = field(repr=False)
    rig: str | None
    joints_3d: tuple[int, ...]
    get_data: str
    keypoints: tuple[str, ...] | None = None
    default_keypoints: str = "cpn_ft_h36m_dbb"
    subjects_train: tuple[str, ...] = ()
    subjects_test: tuple[str, ...] = ()
    kit_made: bool = False
    calibration_by_basename: bool = False
    custom: bool = False   # VideoPose3D's custom format: 2D only, one file data_2d_custom_<keypoints>.npz
    capture_fps: int | None = None   # frames per second of a set without a rig (its cameras are in the file)

    def __post_init__(self):
        if (self.rig is None) != (self.capture_fps is not None) or (self.rig is None and self.custom):
            raise ValueError(f"data set '{self.name}': give a rig, or no rig and capture_fps (cameras in the file)")

    @property
    def fps(self) -> int:
        return frame_rate(self.rig) if self.rig is not None else self.capture_fps

    def files(self, keypoints: str, data_dir="data") -> tuple[Path, Path]:
        """Paths of the 3D and 2D files (VideoPose3D's names)."""
        data_dir = Path(data_dir)
        return data_dir / f"data_3d_{self.name}.npz", data_dir / f"data_2d_{self.name}_{keypoints}.npz"

    def check_keypoints(self, keypoints: str) -> None:
        if not keypoints or any(c in keypoints for c in "/\\"):
            raise UserError(f"keypoints must be a plain name such as 'gt' or 'cpn_ft_h36m_dbb', got {keypoints!r}")
        if self.keypoints is not None and keypoints not in self.keypoints:
            choices = " or ".join(f"-k {k}" for k in self.keypoints)
            raise UserError(f"the {self.description} has 2D keypoints {', '.join(map(repr, self.keypoints))}, "
                            f"not '{keypoints}': use {choices}")

    def make_missing(self, keypoints: str | None, data_dir="data", log=print) -> None:
        """Write the files of a kit-made set that are missing (all of them for keypoints=None; nothing for
        sets the user brings)."""
        if not self.kit_made:
            return
        if self.name not in MAKERS:
            raise UserError(f"the {self.description} is made by the kit, but its maker was not imported here; "
                            f"{self.get_data}")
        MAKERS[self.name](str(data_dir), keypoints, log=log)


DATASETS: dict[str, DatasetSpec] = {}
# What writes a kit-made set's files: function(data_dir, keypoints, log=...), registered by the package that
# makes the set when it is imported (relpose/synth, relpose/mocap): the core never imports a layer above it,
# so whoever asks for a kit-made set's files imports its package first.
MAKERS: dict[str, Callable] = {}


def register_dataset(spec: DatasetSpec) -> DatasetSpec:
    DATASETS[spec.name] = spec
    return spec


def register_maker(dataset: str, make: Callable) -> None:
    """Make `make(data_dir, keypoints, log=...)` write the missing files of the kit-made set `dataset`."""
    if not dataset_spec(dataset).kit_made:
        raise ValueError(f"data set '{dataset}' is not made by the kit; its files are the user's")
    MAKERS[dataset] = make


def dataset_spec(name: str) -> DatasetSpec:
    """The registered data set `name`; an unknown name is an error, never a fallback."""
    if name not in DATASETS:
        raise UserError(f"unknown data set '{name}' (known: {', '.join(DATASETS)})")
    return DATASETS[name]


H36M_TRAIN, H36M_TEST = ("S1", "S5", "S6", "S7", "S8"), ("S9", "S11")
register_dataset(DatasetSpec("h36m", "Human3.6M set", H36M_17, "h36m", (32, 17), GET_DATA,
                             subjects_train=H36M_TRAIN, subjects_test=H36M_TEST))
register_dataset(DatasetSpec("humaneva15", "HumanEva-I set (15 joints)", HUMANEVA_15, "humaneva", (15,), GET_DATA,
                             default_keypoints="gt", calibration_by_basename=True,
                             subjects_train=("Train/S1", "Train/S2", "Train/S3"),
                             subjects_test=("Validate/S1", "Validate/S2", "Validate/S3")))
# det_coco: a COCO detector's keypoints of the synthetic bodies converted to Human3.6M-17 (relpose.synth.coco).
register_dataset(DatasetSpec("synth", "synthetic set", H36M_17, "h36m", (32, 17), GET_SYNTH,
                             keypoints=("gt", "det", "det_coco"), default_keypoints="det",
                             subjects_train=H36M_TRAIN, subjects_test=H36M_TEST,
                             kit_made=True))
# The broad synthetic set the in-the-wild model trains on (relpose.synth.wild_set): bodies from children to tall
# adults, floor work to runs; each subject is filmed by a Human3.6M camera and by three cameras people use, which
# its 2D files record. 50 fps: the synthetic motion's rate.
SYNTHWILD_TRAIN = tuple(f"W{i:02d}" for i in range(1, 13))
SYNTHWILD_TEST = tuple(f"W{i:02d}" for i in range(13, 16))
register_dataset(DatasetSpec("synthwild", "broad synthetic set", H36M_17, None, (32, 17), GET_SYNTHWILD,
                             keypoints=("gt", "det", "det_coco"), default_keypoints="det_coco",
                             subjects_train=SYNTHWILD_TRAIN, subjects_test=SYNTHWILD_TEST, kit_made=True,
                             capture_fps=50))
# Real motion capture (DeepMimic's clips from pybullet, see relpose.mocap), for testing only: every clip is
# an action of one subject seen by S11's cameras; no training subjects.
# A user's own videos in VideoPose3D's custom format (relpose.custom_keypoints): 2D only, each video a
# subject with one action 'custom' and one camera; predictions are shown with Human3.6M's S1 camera 0
# orientation, as VideoPose3D does.
register_dataset(DatasetSpec("custom", "custom 2D keypoints", H36M_17, "h36m", (), GET_CUSTOM, custom=True))
register_dataset(DatasetSpec("mocap", "motion-capture test set", H36M_17, "h36m", (17,), GET_MOCAP,
                             keypoints=("gt", "det", "det_coco"), default_keypoints="det", subjects_test=("S11",),
                             kit_made=True))


def without_trajectory(poses_3d):
    """What the model predicts from camera-space 3D (VideoPose3D's layout: joint 0 holds the trajectory,
    the other joints are root-relative): a copy with joint 0 at the origin. numpy or torch, (..., J, 3)."""
    out = poses_3d.clone() if hasattr(poses_3d, "clone") else np.array(poses_3d, dtype=np.float32)
    out[..., 0, :] = 0
    return out


def _one_line(text) -> str:
    return " ".join(str(text).split())


def _where(path: Path, subject=None, action=None, camera=None) -> str:
    parts = [str(path)]
    if subject is not None:
        parts.append(f"subject '{subject}'")
    if action is not None:
        parts.append(f"action '{action}'")
    if camera is not None:
        parts.append(f"camera {camera}")
    return ", ".join(parts)


def deterministic_random(min_value: int, max_value: int, data: str) -> int:
    """The published pipeline's reproducible 'random' integer in [min_value, max_value) from a string."""
    digest = hashlib.sha256(data.encode()).digest()
    raw = int.from_bytes(digest[:4], byteorder="little", signed=False)
    return int(raw / (2 ** 32 - 1) * (max_value - min_value)) + min_value


def _load_npz(path: Path, keys: tuple[str, ...], hint: str) -> dict:
    """Read `keys` from an .npz file, unwrapping the pickled dicts of the layout."""
    if not path.is_file():
        raise DataError(f"{path.name} not found in folder {path.parent.resolve()}: {hint}")
    # Refuse anything that is not a zip archive: np.load with allow_pickle would unpickle a bare file.
    if not zipfile.is_zipfile(path):
        raise DataError(f"{path} is not an .npz (zip) archive; replace it with a file in the VideoPose3D layout ({hint})")
    try:
        # The layout stores nested dicts as pickled object arrays; relpose.safe_npz reads them without
        # letting a pickle name anything but plain data (np.load(allow_pickle=True) would run it).
        present = npz_keys(path)
        missing = [k for k in keys if k not in present]
        if missing:
            raise DataError(f"{path} lacks key(s) {', '.join(missing)} (has: {', '.join(present) or 'none'}); "
                            f"re-create it in the VideoPose3D layout ({hint})")
        arrays = load_npz(path, keys)
    except DataError as e:
        raise DataError(f"{e} ({hint})" if hint and hint not in str(e) else str(e)) from None
    except Exception as e:  # a corrupt archive: say so in one line
        raise DataError(f"{path} cannot be read ({type(e).__name__}: {_one_line(e)}); "
                        f"replace it with a good copy ({hint})") from None
    out = {k: v.item() if v.dtype == object and v.shape == () else v for k, v in arrays.items()}
    for k in keys:
        if k != "metadata" and not isinstance(out[k], dict):
            raise DataError(f"{path}: key {k} should hold a dict subject -> action -> poses, "
                            f"got {type(out[k]).__name__}; re-create the file ({hint})")
    return out


def read_npz_metadata(path) -> dict | None:
    """The 'metadata' entry of a data file, or None when it has none or cannot be read."""
    try:
        return _load_npz(Path(path), ("metadata",), "")["metadata"]
    except DataError:
        return None


def _check_poses(a, path: Path, joints: tuple[int, ...], dims: int, subject, action, camera=None) -> np.ndarray:
    """One pose sequence: (T, J, dims), float, finite. Returns it as float32."""
    where = _where(path, subject, action, camera)
    want = f"(frames, {' or '.join(map(str, joints))}, {dims})"
    if not isinstance(a, np.ndarray):
        raise DataError(f"{where}: expected a {want} array, got {type(a).__name__}; re-create the file")
    if a.ndim != 3 or a.shape[1] not in joints or a.shape[2] != dims or a.shape[0] == 0:
        raise DataError(f"{where}: expected a {want} array, got shape {a.shape}; "
                        "check the file was prepared for this data set and keypoint layout")
    if not np.issubdtype(a.dtype, np.floating):
        raise DataError(f"{where}: expected float coordinates, got dtype {a.dtype}; re-create the file")
    finite = np.isfinite(a).reshape(len(a), -1).all(axis=1)
    if not finite.all():
        raise DataError(f"{where}: contains NaN or inf values (first at frame {int(np.argmin(finite))}); "
                        "remove or repair those frames")
    return a.astype(np.float32, copy=False)


def _check_keys(path: Path, subject, actions: dict) -> None:
    for key in [subject, *actions]:
        if not isinstance(key, str):
            raise DataError(f"{_where(path, subject)}: subject and action names must be strings, got {key!r}; "
                            "re-create the file")


def _read_3d(path: Path, joints: tuple[int, ...], hint: str) -> dict[str, dict[str, np.ndarray]]:
    """World positions per subject and action, reduced to the kit's skeleton (17 or 15 joints)."""
    data = _load_npz(path, ("positions_3d",), hint)["positions_3d"]
    out = {}
    for subject, actions in data.items():
        if not isinstance(actions, dict):
            raise DataError(f"{_where(path, subject)}: expected a dict action -> poses, got {type(actions).__name__}")
        _check_keys(path, subject, actions)
        out[subject] = {}
        for action, poses in actions.items():
            poses = _check_poses(poses, path, joints, 3, subject, action)
            if poses.shape[1] == 32:
                poses = poses[:, list(H36M_KEPT_JOINTS)]
            out[subject][action] = poses
    return out


def _read_2d(path: Path, hint: str) -> tuple[dict, dict]:
    """Pixel keypoints per subject, action and camera, and the checked metadata."""
    raw = _load_npz(path, ("positions_2d", "metadata"), hint)
    meta = raw["metadata"]
    try:
        num_joints = int(meta["num_joints"])
        left, right = ([int(j) for j in side] for side in meta["keypoints_symmetry"])
    except Exception:
        raise DataError(f"{path}: metadata should be a dict with num_joints and keypoints_symmetry = [left, right], "
                        f"got {_one_line(repr(meta))[:120]}; re-create the file ({hint})") from None
    if any(not 0 <= j < num_joints for j in left + right):
        raise DataError(f"{path}: metadata keypoints_symmetry has indices outside 0..{num_joints - 1}; fix the metadata")
    out = {}
    for subject, actions in raw["positions_2d"].items():
        if not isinstance(actions, dict):
            raise DataError(f"{_where(path, subject)}: expected a dict action -> list of cameras, "
                            f"got {type(actions).__name__}")
        _check_keys(path, subject, actions)
        out[subject] = {}
        for action, per_camera in actions.items():
            if isinstance(per_camera, np.ndarray) and per_camera.dtype != object:
                per_camera = list(per_camera)  # cameras stacked in one array
            if not isinstance(per_camera, (list, tuple, np.ndarray)) or len(per_camera) == 0:
                raise DataError(f"{_where(path, subject, action)}: expected a list with one (frames, {num_joints}, 2) "
                                f"array per camera, got {type(per_camera).__name__}")
            out[subject][action] = [_check_poses(kps, path, (num_joints,), 2, subject, action, i)
                                    for i, kps in enumerate(per_camera)]
    layout = meta.get("layout_name") if isinstance(meta, dict) else None
    return out, {"num_joints": num_joints, "left": left, "right": right,
                 "layout": layout if isinstance(layout, str) else None,
                 "cameras": meta.get("cameras") if isinstance(meta, dict) else None}


@dataclass(eq=False)
class PoseDataset:
    """A prepared data set: camera-space 3D (root-relative, trajectory in joint 0) and normalised 2D.

    positions_3d / positions_2d: subject -> action -> list with one (T, J, C) float32 array per camera.
    positions_3d is None for 2D-only data; subjects only in the 2D file (e.g. HumanEva's Unlabeled/...)
    have 2D but no 3D. Fetched arrays are the stored ones (or views): do not modify them in place.
    """

    name: str
    keypoints: str
    skeleton: Skeleton = field(repr=False)
    cameras: dict[str, list[dict]] = field(repr=False)
    kps_left: list[int]
    kps_right: list[int]
    joints_left: list[int]
    joints_right: list[int]
    positions_3d: dict | None = field(repr=False)
    positions_2d: dict = field(repr=False)
    fps: float
    layout: str | None = None  # the 2D keypoints' layout name as the file's metadata gives it (layout_name)
    video_fps: dict | None = None  # custom data: subject (video) -> its frame rate, None where unknown

    def fps_of(self, subject: str) -> float | None:
        """The frame rate of a subject's takes (a custom video's own, else the data set's)."""
        if self.video_fps is not None:
            return self.video_fps.get(subject)
        return self.fps

    def input_layout(self):
        """The keypoint layout of the 2D input (relpose.keypoint_layouts), from the metadata or the count."""
        return guess_layout(self.num_keypoints(), self.skeleton, self.layout)

    def model_inputs(self) -> dict:
        """ModelConfig arguments for a model reading this data's keypoints and predicting its skeleton:
        the body-part groups index the input keypoints and the output joints separately."""
        layout = self.input_layout()
        groups, root = model_inputs(self.skeleton, layout)
        return dict(num_joints=self.skeleton.num_joints, groups=groups, input_root=root,
                    num_input_joints=layout.num_joints, input_layout=layout.name)

    def converted_to(self, layout_name: str) -> "PoseDataset":
        """The same data with its 2D keypoints converted to `layout_name` (only to Human3.6M-17, the layout
        the conversions are written for; see relpose.keypoint_layouts)."""
        source = self.input_layout()
        if source.name == layout_name:
            return self
        if layout_name != "h36m-17":
            raise UserError(f"keypoints in the {source.name} layout cannot be converted to {layout_name}; "
                            "only conversion to h36m-17 is defined")
        target = get_layout(layout_name)
        positions_2d = {s: {a: [source.to_h36m17(seq) for seq in cams] for a, cams in acts.items()}
                        for s, acts in self.positions_2d.items()}
        left, right = target.symmetry
        return replace(self, positions_2d=positions_2d, kps_left=list(left), kps_right=list(right),
                       layout=target.name)

    def subjects(self) -> list[str]:
        """Subjects with 3D (file order), then those with 2D only."""
        labelled = list(self.positions_3d or {})
        return labelled + [s for s in self.positions_2d if s not in labelled]

    def num_keypoints(self) -> int:
        """2D keypoints per frame (the input layout's joint count; the 3D skeleton may have another)."""
        first_take = next(iter(next(iter(self.positions_2d.values())).values()))
        return int(first_take[0].shape[1])

    def has_3d(self, subject: str) -> bool:
        return self.positions_3d is not None and subject in self.positions_3d

    def actions(self, subject: str) -> list[str]:
        self._check_subjects([subject])
        return list((self.positions_3d if self.has_3d(subject) else self.positions_2d)[subject])

    def num_frames(self, subjects=None) -> int:
        """Frames summed over every take and camera of `subjects` (all by default)."""
        subjects = self._check_subjects(self.subjects() if subjects is None else subjects)
        return sum(len(kps) for s in subjects for cams in self.positions_2d[s].values() for kps in cams)

    def _check_subjects(self, subjects) -> list[str]:
        subjects = [subjects] if isinstance(subjects, str) else list(subjects)
        unknown = [s for s in subjects if s not in self.positions_2d]
        if unknown:
            raise UserError(f"unknown subject(s) {', '.join(map(repr, unknown))} in data set {self.name} "
                            f"(available: {', '.join(self.subjects())}); check the subject list")
        return subjects

    def _need_3d(self, subject: str) -> None:
        if not self.has_3d(subject):
            raise UserError(f"subject '{subject}' of data set {self.name} has 2D keypoints only, no 3D poses; "
                            "use a labelled subject or fetch with parse_3d_poses=False")

    def fetch(self, subjects, action_filter=None, subset=1.0, downsample=1, parse_3d_poses=True):
        """(camera intrinsics or None, 3D poses or None, 2D poses), one entry per take and camera.

        Order: subjects as given, actions in file order, cameras in order. `action_filter` keeps
        actions starting with any of its prefixes; `subset` < 1 keeps a deterministic contiguous
        part of each sequence; `downsample` takes every n-th frame.
        """
        subjects = self._check_subjects(subjects)
        filters = _check_filter(action_filter)
        check_rules({"subset": subset}, [SUBSET_RULE])   # TrainConfig's rules (relpose.config_rules)
        stride = _check_stride(downsample)
        intrinsics, poses_3d, poses_2d = [], [], []
        for subject in subjects:
            if parse_3d_poses:
                self._need_3d(subject)
            for action, cams_2d in self.positions_2d[subject].items():
                if filters is not None and not any(action.startswith(a) for a in filters):
                    continue
                poses_2d.extend(cams_2d)
                for cam in self.cameras[subject]:
                    if "intrinsic" in cam:
                        intrinsics.append(cam["intrinsic"])
                if parse_3d_poses:
                    poses_3d.extend(self.positions_3d[subject][action])
        if not poses_2d:
            raise UserError(f"action filter {','.join(filters)} matches no action of subject(s) {', '.join(subjects)} "
                            f"in data set {self.name}; filters are prefixes such as 'Walking' or 'Sitting'")
        poses_3d = poses_3d or None
        if subset < 1:
            for i, seq in enumerate(poses_2d):
                n_frames = int(round(len(seq) // stride * subset) * stride)
                start = deterministic_random(0, len(seq) - n_frames + 1, str(len(seq)))
                poses_2d[i] = seq[start:start + n_frames:stride]
                if poses_3d is not None:
                    poses_3d[i] = poses_3d[i][start:start + n_frames:stride]
        elif stride > 1:
            poses_2d = [seq[::stride] for seq in poses_2d]
            if poses_3d is not None:
                poses_3d = [seq[::stride] for seq in poses_3d]
        return intrinsics or None, poses_3d, poses_2d

    def actions_by_name(self, subjects, action_filter=None) -> dict[str, list[tuple[str, str]]]:
        """Takes grouped by action name ('SittingDown 1' -> 'SittingDown'), for per-action evaluation.

        Groups appear in order of first occurrence (subjects as given, actions in file order);
        `action_filter` keeps names starting with any of its prefixes. Pass one subject to get the
        per-subject grouping of the published evaluation.
        """
        subjects = self._check_subjects(subjects)
        filters = _check_filter(action_filter)
        groups: dict[str, list[tuple[str, str]]] = {}
        for subject in subjects:
            for action in self.actions(subject):
                name = action.split(" ")[0]
                if filters is None or any(name.startswith(a) for a in filters):
                    groups.setdefault(name, []).append((subject, action))
        return groups

    def fetch_actions(self, pairs, downsample=1) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """3D and 2D poses of every camera of the (subject, action) takes, every `downsample`-th frame."""
        stride = _check_stride(downsample)
        poses_3d, poses_2d = [], []
        for subject, action in pairs:
            self._check_subjects([subject])
            self._need_3d(subject)
            if action not in self.positions_2d[subject]:
                raise UserError(f"subject '{subject}' of data set {self.name} has no action '{action}' "
                                f"(available: {', '.join(self.actions(subject))})")
            poses_2d.extend(seq[::stride] for seq in self.positions_2d[subject][action])
            poses_3d.extend(seq[::stride] for seq in self.positions_3d[subject][action])
        return poses_3d, poses_2d

    def summary(self) -> list[tuple[str, int, int, int, int]]:
        """Rows (subject, actions, takes, frames per camera, cameras); 'frames' counts the first camera."""
        rows = []
        for subject in self.subjects():
            takes = self.positions_2d[subject]
            names = {action.split(" ")[0] for action in takes}
            frames = sum(len(cams[0]) for cams in takes.values())
            rows.append((subject, len(names), len(takes), frames, max(len(c) for c in takes.values())))
        return rows

    def format_summary(self) -> str:
        """The summary as an aligned text table, with a title line and a total row."""
        rows = self.summary()
        total = ("total", len({a.split(" ")[0] for s in self.subjects() for a in self.positions_2d[s]}),
                 sum(r[2] for r in rows), sum(r[3] for r in rows), max((r[4] for r in rows), default=0))
        kind = "3D + 2D" if self.positions_3d is not None else "2D only"
        title = (f"{self.name} / {self.keypoints}: {len(rows)} subjects, {kind}, "
                 f"{self.skeleton.num_joints}-joint skeleton, {self.fps} fps")
        return text_table(("subject", "actions", "takes", "frames/camera", "cameras"), rows, footer=[total],
                          sep="  ", title=title)


def _check_filter(action_filter):
    if action_filter is None:
        return None
    filters = [action_filter] if isinstance(action_filter, str) else list(action_filter)
    if not filters or not all(isinstance(a, str) and a for a in filters):
        raise UserError(f"action filter must be a list of non-empty action name prefixes, got {action_filter!r}")
    return filters


def _check_stride(downsample) -> int:
    check_rules({"downsample": downsample}, [DOWNSAMPLE_RULE])
    return int(downsample)


def merged_datasets(first: PoseDataset, *others: PoseDataset) -> PoseDataset:
    """One data set of several, their subjects side by side (the in-the-wild model trains on the broad synthetic
    set and the Human3.6M-shaped one together). They must agree on what a sample is: skeleton, 2D keypoints
    and their layout, frame rate; subject names must differ, so that no take is silently replaced."""
    merged = first
    for other in others:
        what = {"skeleton": (merged.skeleton.num_joints, other.skeleton.num_joints),
                "keypoints": (merged.keypoints, other.keypoints),
                "keypoint layout": (merged.input_layout().name, other.input_layout().name),
                "frame rate": (merged.fps, other.fps), "3D poses": (merged.positions_3d is not None,
                                                                   other.positions_3d is not None)}
        for name, (a, b) in what.items():
            if a != b:
                raise UserError(f"data sets {merged.name} and {other.name} differ in {name} ({a} against {b}); "
                                "only data sets with the same kind of samples can be trained on together")
        shared = sorted(set(merged.positions_2d) & set(other.positions_2d))
        if shared:
            raise UserError(f"data sets {merged.name} and {other.name} both have subject(s) {', '.join(shared)}; "
                            "subject names must differ to train on them together")
        positions_3d = None if merged.positions_3d is None else {**merged.positions_3d, **other.positions_3d}
        merged = replace(merged, name=f"{merged.name}+{other.name}", cameras={**merged.cameras, **other.cameras},
                         positions_3d=positions_3d, positions_2d={**merged.positions_2d, **other.positions_2d},
                         video_fps=None)
    return merged


def load_dataset(name: str, keypoints: str, data_dir="data", with_3d: bool = True) -> PoseDataset:
    """Load and prepare data set `name` (see DATASETS) with 2D keypoints `keypoints` from `data_dir`.

    with_3d=False reads the 2D file only (positions_3d is None).
    """
    spec = dataset_spec(name)
    spec.check_keypoints(keypoints)
    if spec.custom:
        return _load_custom(spec, keypoints, data_dir)
    path_3d, path_2d = spec.files(keypoints, data_dir)
    rig = load_rig(spec.rig) if spec.rig is not None else None
    world = _read_3d(path_3d, spec.joints_3d, spec.get_data) if with_3d else None
    kps, meta = _read_2d(path_2d, spec.get_data)
    if rig is None:
        cameras = _cameras_in_file(spec, meta["cameras"], kps, path_2d)
    else:
        cameras = _cameras_of(spec, rig, list(world or {}) + list(kps), world, path_3d)
    positions_3d = None if world is None else _camera_space_3d(world, kps, cameras, path_3d, path_2d)
    rig_name = f"the {name} rig" if rig is not None else "its metadata's camera list"
    positions_2d = _normalised_2d(kps, cameras, positions_3d, rig_name, path_2d, path_3d)
    skeleton = spec.skeleton
    return PoseDataset(
        name=name, keypoints=keypoints, skeleton=skeleton, cameras=cameras,
        kps_left=meta["left"], kps_right=meta["right"],
        joints_left=list(skeleton.joints_left), joints_right=list(skeleton.joints_right),
        positions_3d=positions_3d, positions_2d=positions_2d, fps=spec.fps, layout=meta["layout"],
    )


def _cameras_of(spec: DatasetSpec, rig: dict, subjects, world, path_3d) -> dict[str, list[dict]]:
    """Each subject's cameras from the rig; a subject with 3D must be calibrated."""
    # Intrinsics belong to the camera, not the subject: 2D-only subjects without extrinsics (Human3.6M
    # S2-S4, HumanEva S4) get the rig's intrinsic parameters, as in the published pipeline.
    intrinsics_only = [{k: v for k, v in cam.items() if k not in ("orientation", "translation")}
                       for cam in next(iter(rig.values()))]
    cameras = {}
    for subject in subjects:
        calib = subject.rsplit("/", 1)[-1] if spec.calibration_by_basename else subject
        if calib in rig:
            cameras[subject] = rig[calib]
        elif world is not None and subject in world:
            raise DataError(f"{_where(path_3d, subject)}: no camera calibration for this subject "
                            f"(calibrated: {', '.join(rig)}); use one of those subjects")
        else:
            cameras[subject] = intrinsics_only
    return cameras


def _cameras_in_file(spec: DatasetSpec, recorded, kps: dict, path_2d: Path) -> dict[str, list[dict]]:
    """Each subject's cameras from the 2D file's metadata['cameras'] (a set without a rig). Subjects of the 3D
    file only are left to _camera_space_3d, which names them."""
    fix = f"re-create the file ({spec.get_data})"
    if not isinstance(recorded, dict):
        raise DataError(f"{path_2d}: metadata has no 'cameras' {{subject: [camera records]}}, where the "
                        f"{spec.description} keeps its cameras; {fix}")
    cameras = {}
    for subject in kps:
        records = recorded.get(subject)
        if not isinstance(records, (list, tuple)) or not records:
            raise DataError(f"{_where(path_2d, subject)}: metadata 'cameras' has no list of camera records for this "
                            f"subject; {fix}")
        cameras[subject] = [check_camera_record(r, _where(path_2d, subject, camera=i)) for i, r in enumerate(records)]
    return cameras


def _camera_space_3d(world: dict, kps: dict, cameras: dict, path_3d, path_2d) -> dict:
    """subject -> action -> per camera (T, J, 3): root-relative joints, the trajectory in joint 0. The 2D file
    must hold the same subjects and takes."""
    positions_3d = {}
    for subject, actions in world.items():
        if subject not in kps:
            raise DataError(f"{_where(path_2d)}: subject '{subject}' of {path_3d.name} is missing; "
                            "the 2D file must cover every subject and action of the 3D file")
        missing = [a for a in actions if a not in kps[subject]]
        extra = [a for a in kps[subject] if a not in actions]
        if missing or extra:
            what = f"lacks action '{missing[0]}' of" if missing else f"has action '{extra[0]}' not in"
            raise DataError(f"{_where(path_2d, subject)}: {what} {path_3d.name} ({len(missing)} missing, "
                            f"{len(extra)} extra); the two files must hold the same takes")
        positions_3d[subject] = {}
        for action, poses in actions.items():
            per_camera = []
            for cam in cameras[subject]:
                pos = world_to_camera(poses, cam["orientation"], cam["translation"]).astype(np.float32)
                pos[:, 1:] -= pos[:, :1]  # root-relative joints, trajectory stays in joint 0
                per_camera.append(pos)
            positions_3d[subject][action] = per_camera
    return positions_3d


def _normalised_2d(kps: dict, cameras: dict, positions_3d, rig_name: str, path_2d, path_3d) -> dict:
    """subject -> action -> per camera (T, J, 2) in normalised screen coordinates, cut to the 3D's length;
    rig_name says where the cameras come from."""
    positions_2d = {}
    for subject, actions in kps.items():
        positions_2d[subject] = {}
        for action, per_camera in actions.items():
            if len(per_camera) != len(cameras[subject]):
                raise DataError(f"{_where(path_2d, subject, action)}: {len(per_camera)} cameras, but {rig_name} "
                                f"has {len(cameras[subject])}; re-create the file with every camera")
            out = []
            for i, seq in enumerate(per_camera):
                if positions_3d is not None and subject in positions_3d:
                    n = len(positions_3d[subject][action][i])
                    if len(seq) < n:
                        raise DataError(f"{_where(path_2d, subject, action, i)}: {len(seq)} frames, shorter than the "
                                        f"{n} frames of {path_3d.name}; re-create the 2D file for the same takes")
                    seq = seq[:n]  # some videos have extra frames at the end
                cam = cameras[subject][i]
                out.append(normalize_screen_coordinates(seq, cam["res_w"], cam["res_h"]).astype(np.float32, copy=False))
            positions_2d[subject][action] = out
    return positions_2d


def _load_custom(spec: DatasetSpec, keypoints: str, data_dir) -> PoseDataset:
    """A custom file as a 2D-only data set: each video a subject with action 'custom' and one camera of
    the video's size (Human3.6M S1 camera 0's orientation, for showing the prediction upright)."""
    _, path = spec.files(keypoints, data_dir)
    videos, layout_name, _ = read_custom(path)
    layout = get_layout(layout_name)
    shown_by = load_rig(spec.rig)["S1"][0]
    cameras, positions_2d, video_fps = {}, {}, {}
    for video, v in videos.items():
        cam = {"id": video, "res_w": v["width"], "res_h": v["height"], "azimuth": shown_by["azimuth"],
               "orientation": shown_by["orientation"], "translation": shown_by["translation"],
               "first_frame": v["first_frame"],   # the video frame of the first keypoints (--viz-video)
               # (T,) frames with nobody, interpolated; (T, J) joints the detector saw, in the file's layout
               # (relpose.keypoint_layouts.seen_in_layout maps them to a model's joints)
               "interpolated": v["interpolated"], "seen": v["seen"],
               # which person of which video this entry is (python -m relpose.cli.keypoints --person all)
               "person": v["person"], "video": v["video"]}
        cameras[video] = [cam]
        positions_2d[video] = {CUSTOM_ACTION: [normalize_screen_coordinates(v["keypoints"], v["width"], v["height"])
                                               .astype(np.float32, copy=False)]}
        video_fps[video] = v["fps"]
    known = {f for f in video_fps.values() if f}
    left, right = layout.symmetry
    return PoseDataset(
        name=spec.name, keypoints=keypoints, skeleton=spec.skeleton, cameras=cameras,
        kps_left=list(left), kps_right=list(right),
        joints_left=list(spec.skeleton.joints_left), joints_right=list(spec.skeleton.joints_right),
        positions_3d=None, positions_2d=positions_2d, fps=known.pop() if len(known) == 1 else 0.0,
        layout=layout.name, video_fps=video_fps)
