"""A person in a real video, as plain functions: the kit's in-the-wild model, lifting a custom keypoint
file, and what can be said without ground truth (notebook 09, `make wild`).

The in-the-wild model is the quick recipe trained on the synthetic set's 'det_coco' keypoints: COCO-17
keypoints of the synthetic bodies (eyes, ears and nose from the head's geometry) with detector noise,
converted to Human3.6M-17 by the same code that converts a real detector's output. Its 2D input then
has the systematic differences converted keypoints have (the head point from the eyes, the spine
between hips and shoulders), which a model trained on the 'det' keypoints never saw.
"""
from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass

import numpy as np

from ..cameras import image_coordinates
from ..datasets import dataset_spec, load_dataset
from ..errors import UserError
from ..files import path_argument
from ..lift import checkpoint_fps, checkpoint_input_layout, fit_input_layout, lift_sequence
from ..keypoint_layouts import COCO17
from ..safe_npz import load_npz
from ..skeleton import H36M_17_JOINT_NAMES, H36M_KEPT_JOINTS
from ..synth.coco import coco_keypoints_3d
from ..synth.generator import FILE_NAMES
from ..weights import load_any_model  # noqa: F401  (its home is relpose.weights; importable here as before)
from ..wild.plausibility import PlausibilityReport, plausibility_report
from .settings import Settings, ensure_checkpoint, find_root, settings

WILD_KEYPOINTS = "det_coco"


def wild_settings(root: str | None = None, preset: str = "quick", epochs: int | None = None) -> Settings:
    """The quick recipe on the synthetic 'det_coco' keypoints, checkpoints in checkpoint/wild-<preset>."""
    s = settings("quick", root, preset, epochs)
    root = root or find_root()
    return dataclasses.replace(s, keypoints=WILD_KEYPOINTS,
                               checkpoint_dir=os.path.join(root, "checkpoint", f"wild-{s.preset.name}"))


def ensure_wild_model(s: Settings | None = None, stage: int = 3, quiet: bool = True, log=print) -> str:
    """Path of the in-the-wild model's checkpoint, making its data and training it first if missing."""
    s = s or wild_settings()
    dataset_spec(s.dataset).make_missing(s.keypoints, s.data_dir, log=lambda *_: None)
    return ensure_checkpoint(s, stage, quiet=quiet, log=log)


def systematic_differences(data_dir="data", subjects=("S9", "S11")) -> dict[str, float]:
    """Per Human3.6M-17 joint, the mean 3D distance (mm) between the point the COCO -> Human3.6M-17
    conversion gives on the synthetic bodies (relpose.synth.coco) and Human3.6M's own joint (the synthetic
    3D file in data_dir, made if missing)."""
    dataset_spec("synth").make_missing(None, data_dir, log=lambda *_: None)
    world = load_npz(os.path.join(data_dir, FILE_NAMES["3d"]), ("positions_3d",))["positions_3d"].item()
    distances = []
    for s in subjects:
        for poses in world[s].values():
            converted = COCO17.to_h36m17(coco_keypoints_3d(poses))
            distances.append(np.linalg.norm(converted - poses[:, list(H36M_KEPT_JOINTS)], axis=-1))
    mean = 1000 * np.concatenate(distances).mean(0)
    return {name: round(float(m), 1) for name, m in zip(H36M_17_JOINT_NAMES, mean)}


def detect_in_own_environment(video, output, *, start: int = 0, limit: int | None = None, root: str | None = None,
                              python: str | None = None) -> str:
    """Run the MediaPipe detector (relpose.wild.detect) on `video` in its own environment (.venv-detect: it needs
    numpy < 2) and return what it printed; the landmarks go to `output`. UserError when that environment is absent."""
    import subprocess
    root = root or find_root()
    python = python or os.path.join(root, ".venv-detect", "bin", "python")
    if not os.path.exists(python):
        raise UserError(f"the detector's environment {python} is missing; make it with `make detect-env`")
    # An argument list (no shell); the flags' values in the --flag=value form, so none is read as a flag.
    command = [python, "-m", "relpose.wild.detect", path_argument(video), f"--output={output}", f"--start={start}",
               "--overwrite", "--no-progress"] + ([] if limit is None else [f"--limit={limit}"])
    # A notebook's kernel sets MPLBACKEND to its inline backend, which the detector's own matplotlib lacks.
    env = {**os.environ, "MPLBACKEND": "Agg"}
    done = subprocess.run(command, capture_output=True, text=True, cwd=root, env=env)
    if done.returncode != 0:
        raise UserError(done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "the detector failed")
    return done.stdout.strip()


@dataclass
class LiftedVideo:
    name: str
    keypoints: np.ndarray        # (T, J_in, 2) pixels, in the layout the model read
    poses: np.ndarray            # (T, J, 3) metres, camera space, root-relative: one per video frame
    fps: float | None
    model_fps: float | None
    width: int
    height: int
    first_frame: int             # the video frame of keypoints[0]
    skeleton: object
    report: PlausibilityReport


def take_plausibility(dataset, subject: str, action: str, camera: int, poses, model_fps=None) -> PlausibilityReport:
    """The plausibility checks of poses lifted from one take of `dataset` (no ground truth needed). The root is
    placed from the 2D keypoints only when they are in the skeleton's own layout (one keypoint per joint)."""
    cam = dataset.cameras[subject][camera]
    keypoints = None
    if dataset.input_layout().name == dataset.skeleton.name:
        keypoints = image_coordinates(dataset.positions_2d[subject][action][camera], w=cam["res_w"], h=cam["res_h"])
    fps = dataset.fps_of(subject) or model_fps or 25.0
    return plausibility_report(poses, dataset.skeleton, fps, keypoints, cam["res_w"], cam["res_h"])


def load_custom_video(keypoints_name: str, data_dir="data", video: str | None = None):
    """(dataset, video name) of data_dir/data_2d_custom_<keypoints_name>.npz: the file read and the video
    chosen, so that a command can check its inputs before it trains or lifts anything."""
    dataset = load_dataset("custom", keypoints_name, data_dir)
    videos = dataset.subjects()
    if video is None:
        if len(videos) > 1:
            raise UserError(f"data_2d_custom_{keypoints_name}.npz holds {len(videos)} videos ({', '.join(videos)}); "
                            "choose one with --video-name")
        video = videos[0]
    elif video not in videos:
        raise UserError(f"--video-name {video!r}: data_2d_custom_{keypoints_name}.npz holds {', '.join(videos)}")
    return dataset, video


def lift_custom(model, ckpt: dict, keypoints_name: str, data_dir="data", video: str | None = None, *,
                tta: bool = True, log=print, loaded=None) -> LiftedVideo:
    """Lift one video of data_dir/data_2d_custom_<keypoints_name>.npz with `model` (converted to its input
    layout, at its frame rate), and check the result's plausibility. `loaded`: what `load_custom_video`
    returned for the same file, when it was read already."""
    dataset, video = loaded if loaded is not None else load_custom_video(keypoints_name, data_dir, video)
    dataset = fit_input_layout(dataset, checkpoint_input_layout(ckpt, dataset.skeleton), "the model", log)
    cam = dataset.cameras[video][0]
    x = dataset.positions_2d[video]["custom"][0]
    fps, model_fps = dataset.fps_of(video), checkpoint_fps(ckpt)
    poses = lift_sequence(model, x, fps=fps, model_fps=model_fps, tta=tta, kps_left=dataset.kps_left,
                          kps_right=dataset.kps_right, joints_left=dataset.joints_left,
                          joints_right=dataset.joints_right)
    pixels = image_coordinates(x, w=cam["res_w"], h=cam["res_h"])
    report = take_plausibility(dataset, video, "custom", 0, poses, model_fps)
    return LiftedVideo(video, pixels, poses, fps, model_fps, cam["res_w"], cam["res_h"], int(cam.get("first_frame", 0)),
                       dataset.skeleton, report)


def world_view(lifted: LiftedVideo) -> np.ndarray:
    """The poses shown upright (Human3.6M S1 camera 0's orientation, feet on the floor), as --render does."""
    from ..cameras import camera_to_world, load_rig
    cam = load_rig("h36m")["S1"][0]
    shown = camera_to_world(lifted.poses, cam["orientation"], np.zeros(3, np.float32))
    shown[..., 2] -= shown[..., 2].min()
    return shown
