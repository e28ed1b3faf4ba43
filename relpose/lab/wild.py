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

from .. import checkpoints
from ..cameras import image_coordinates
from ..datasets import dataset_spec, load_dataset
from ..errors import UserError
from ..lift import checkpoint_fps, checkpoint_input_layout, fit_input_layout, lift_sequence
from ..model import ModelConfig
from ..weights import load_model as load_model_file
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


def load_any_model(path, device="cpu"):
    """(model, checkpoint) from a kit checkpoint (its stored configuration) or a published one
    (cpn_pretrained.bin, gt_pretrained.bin: the paper's architecture, stage 3 when it has fusion blocks)."""
    ckpt = checkpoints.load_checkpoint(path)
    config = None
    if not isinstance(ckpt.get("config"), dict):
        state = ckpt["model_pos"]
        fused = any(k.startswith("FuseBlocks.") for k in state)
        # The published models differ only in their feature size (-lfd 256 for gt, 512 for cpn).
        latent = int(state["LocalLayer_Torso.shrink.weight"].shape[0]) if "LocalLayer_Torso.shrink.weight" in state \
            else 256
        config = ModelConfig(stage=3 if fused else 1, latent_dim=latent)
    return load_model_file(path, device=device, config=config), ckpt


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


def lift_custom(model, ckpt: dict, keypoints_name: str, data_dir="data", video: str | None = None, *,
                tta: bool = True, log=print) -> LiftedVideo:
    """Lift one video of data_dir/data_2d_custom_<keypoints_name>.npz with `model` (converted to its input
    layout, at its frame rate), and check the result's plausibility."""
    dataset = load_dataset("custom", keypoints_name, data_dir)
    videos = dataset.subjects()
    if video is None:
        if len(videos) > 1:
            raise UserError(f"data_2d_custom_{keypoints_name}.npz holds {len(videos)} videos ({', '.join(videos)}); "
                            "choose one with --video-name")
        video = videos[0]
    elif video not in videos:
        raise UserError(f"--video-name {video!r}: data_2d_custom_{keypoints_name}.npz holds {', '.join(videos)}")
    dataset = fit_input_layout(dataset, checkpoint_input_layout(ckpt, dataset.skeleton), "the model", log)
    cam = dataset.cameras[video][0]
    x = dataset.positions_2d[video]["custom"][0]
    fps, model_fps = dataset.fps_of(video), checkpoint_fps(ckpt)
    poses = lift_sequence(model, x, fps=fps, model_fps=model_fps, tta=tta, kps_left=dataset.kps_left,
                          kps_right=dataset.kps_right, joints_left=dataset.joints_left,
                          joints_right=dataset.joints_right)
    pixels = image_coordinates(x, w=cam["res_w"], h=cam["res_h"])
    own_layout = dataset.num_keypoints() == dataset.skeleton.num_joints
    report = plausibility_report(poses, dataset.skeleton, fps or model_fps or 25.0, pixels if own_layout else None,
                                 cam["res_w"], cam["res_h"])
    return LiftedVideo(video, pixels, poses, fps, model_fps, cam["res_w"], cam["res_h"], int(cam.get("first_frame", 0)),
                       dataset.skeleton, report)


def world_view(lifted: LiftedVideo) -> np.ndarray:
    """The poses shown upright (Human3.6M S1 camera 0's orientation, feet on the floor), as --render does."""
    from ..cameras import camera_to_world, load_rig
    cam = load_rig("h36m")["S1"][0]
    shown = camera_to_world(lifted.poses, cam["orientation"], np.zeros(3, np.float32))
    shown[..., 2] -= shown[..., 2].min()
    return shown
