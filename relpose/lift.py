"""Lifting a 2D keypoint sequence to 3D with a trained model, as plain functions.

A model learns motion at the frame rate it was trained at (the data set's divided by --downsample, which
a checkpoint records): a window of 243 frames spans 4.9 s at 50 fps but 8.1 s of a 30 fps video. So the
keypoints are resampled in time to the model's rate, lifted, and the 3D poses resampled back to the
input's rate: one pose per input frame. Layouts are converted to the model's input layout first.
"""
from __future__ import annotations

import numpy as np

from .cameras import normalize_screen_coordinates
from .errors import UserError
from .evaluate import predict_sequence
from .keypoint_layouts import get_layout
from .person_scale import zoom_to_training_size
from .skeleton import H36M_17, HUMANEVA_15
from .windows import NO_FLIP, Flip

# Rates closer than this are taken as equal (30 vs 29.97 fps): resampling would only blur.
SAME_RATE = 0.02


def resample(seq: np.ndarray, src_fps: float, dst_fps: float, num_frames: int | None = None) -> np.ndarray:
    """(T, ...) samples taken at src_fps -> samples at dst_fps over the same time span, by linear interpolation.

    `num_frames` fixes the output length (the last samples hold the final value): used to come back to
    exactly the input's frame count.
    """
    seq = np.asarray(seq)
    if src_fps <= 0 or dst_fps <= 0:
        raise UserError(f"frame rates must be positive, got {src_fps} and {dst_fps}")
    if num_frames is None:
        num_frames = int(np.floor((len(seq) - 1) * dst_fps / src_fps + 1e-9)) + 1
    t = np.arange(num_frames) * (src_fps / dst_fps)          # output times in input frames
    t = np.clip(t, 0, len(seq) - 1)
    lo = np.floor(t).astype(int)
    hi = np.minimum(lo + 1, len(seq) - 1)
    w = (t - lo).reshape((-1,) + (1,) * (seq.ndim - 1))
    return ((1 - w) * seq[lo] + w * seq[hi]).astype(seq.dtype if np.issubdtype(seq.dtype, np.floating) else np.float64)


def needs_resampling(fps: float | None, model_fps: float | None) -> bool:
    return bool(fps and model_fps and abs(fps / model_fps - 1) > SAME_RATE)


def skeleton_for(num_joints: int):
    """The kit's output skeleton with that many joints (for the flip of test-time augmentation)."""
    for skeleton in (H36M_17, HUMANEVA_15):
        if skeleton.num_joints == num_joints:
            return skeleton
    raise UserError(f"no skeleton with {num_joints} joints is registered")


def checkpoint_fps(ckpt: dict) -> float | None:
    """The frame rate a checkpoint's model was trained at (this kit records it), None if unknown."""
    data = ckpt.get("data")
    fps = data.get("fps") if isinstance(data, dict) else None
    return float(fps) if fps else None


def checkpoint_input_layout(ckpt: dict, skeleton) -> str:
    """The keypoint layout a checkpoint's model reads: recorded in its configuration by this kit; a
    published checkpoint (or one written before layouts were recorded) reads the skeleton's own."""
    stored = ckpt.get("config") if isinstance(ckpt.get("config"), dict) else {}
    return stored.get("input_layout") or skeleton.name


def fit_input_layout(dataset, wanted: str, flag: str, log=print):
    """`dataset` with its keypoints in the `wanted` layout (what a model reads), converted, and said so in
    one line, when the file's layout differs; a UserError naming `flag` when no conversion exists."""
    have = dataset.input_layout()
    if have.name == wanted:
        return dataset
    try:
        converted = dataset.converted_to(wanted)
    except UserError:
        raise UserError(f"{flag}: the model reads {wanted} keypoints but -k {dataset.keypoints} holds "
                        f"{have.name} keypoints, which cannot be converted to {wanted}; use a model trained "
                        f"on {have.name} or h36m-17 keypoints") from None
    log(f"INFO: converting the {have.name} keypoints of -k {dataset.keypoints} to the model's {wanted} input "
        "(pelvis = mean of the hips, thorax = mean of the shoulders; relpose.keypoint_layouts)")
    return converted


def lift_sequence(model, keypoints, *, fps: float | None = None, model_fps: float | None = None,
                  tta: bool = True, flip: Flip = NO_FLIP,
                  batch_size: int = 1024, device=None, amp: bool = False) -> np.ndarray:
    """(T, J_in, 2) normalised keypoints at `fps` -> (T, J, 3) root-relative camera-space poses (metres).

    When both rates are known and differ, the model sees the sequence at `model_fps`.
    """
    keypoints = np.asarray(keypoints, dtype=np.float32)
    resampled = needs_resampling(fps, model_fps)
    x = resample(keypoints, fps, model_fps) if resampled else keypoints
    pred = predict_sequence(model, x, tta=tta, flip=flip, batch_size=batch_size, device=device,
                            amp=amp).float().cpu().numpy()
    if resampled:
        pred = resample(pred, model_fps, fps, num_frames=len(keypoints))
    return pred.astype(np.float32)


def lift_keypoints(model, keypoints_pixels, width: int, height: int, *, layout: str, fps: float | None = None,
                   model_fps: float | None = None, tta: bool = True, person_size: str = "normalise",
                   batch_size: int = 1024, device=None, log=print) -> np.ndarray:
    """One video's (T, J, 2) pixel keypoints in `layout` -> (T, J_out, 3) poses, for notebooks and scripts.

    Converts the layout to the model's input layout (model.config.input_layout; Human3.6M-17 when it
    does not say), normalises by the frame size as training did, zooms the take so the person is as big
    as in training (relpose.person_scale; person_size="keep" does not), and lifts at the model's frame
    rate: what `make wild` and `python -m relpose -d custom ... --render` do with the same keypoints.
    """
    source = get_layout(layout)
    wanted = get_layout(model.config.input_layout or skeleton_for(model.config.num_joints).name)
    kps = np.asarray(keypoints_pixels, dtype=np.float32)
    if source.name != wanted.name:
        if wanted.name != "h36m-17":
            raise UserError(f"the model reads {wanted.name} keypoints; {source.name} keypoints cannot be converted "
                            "to that layout (only to h36m-17)")
        log(f"converting {source.name} keypoints to the model's {wanted.name} input (relpose.keypoint_layouts)")
        kps = source.to_h36m17(kps)
    flip = Flip.of(skeleton_for(model.config.num_joints), wanted.symmetry)
    x = normalize_screen_coordinates(kps, width, height).astype(np.float32)
    x, _ = zoom_to_training_size(x, width, height, wanted.name, person_size, log)
    return lift_sequence(model, x, fps=fps, model_fps=model_fps, tta=tta, flip=flip, batch_size=batch_size,
                         device=device)
