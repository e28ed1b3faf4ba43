"""People of any size in the image: zoom a take's 2D keypoints so the person is as big as in training.

A model lifting width-normalised 2D keypoints learns how big people look in its training images: the
synthetic set copies Human3.6M's cameras (focal ~1145 px at 1000 px width, the person ~5 m away), so
a person's image size also tells it how big they are. A pedestrian 120 px tall in a 1920 px video then
comes out about a metre tall with 8 cm hips, and someone close to the camera a giant. Zooming the
keypoints of the whole take about the person, by one factor chosen so that the person's image size
matches the training data's typical size, removes that without retraining. The factor is constant
over the take, so walking towards the camera still shows as a size change.

The size measure (`person_size_px`) is the median over frames of the 2D length of torso and legs
(thorax -> pelvis, plus the mean of the two thighs and the mean of the two shanks): arms move too much
and the head is not marked alike by every detector; the median and the mean of both sides keep a
bent or foreshortened leg in some frames from deciding it.
"""
from __future__ import annotations

import os

import numpy as np

from .cameras import image_coordinates, normalize_screen_coordinates
from .errors import UserError
from .keypoint_layouts import get_layout
from .skeleton import H36M_17_JOINT_NAMES

_J = {name: i for i, name in enumerate(H36M_17_JOINT_NAMES)}
_LEG_BONES = (("RHip", "RKnee"), ("LHip", "LKnee"), ("RKnee", "RFoot"), ("LKnee", "LFoot"))

# The median torso+legs length of a person in the in-the-wild model's training images, as a fraction of
# the image width (the model's input is normalised by the width): the synthetic training subjects
# S1, S5, S6, S7, S8, all takes and cameras of data_2d_synth_det_coco.npz (seed 0, size default, generator
# version 2; 1000 px wide images). Measured with
#   python -c "from relpose.person_scale import training_person_size; print(training_person_size('data'))"
# which printed 0.28758 (median over 600 take-camera pairs; quartiles 0.259 and 0.312; version 1 gave 0.28695).
TRAINING_PERSON_SIZE = 0.2876
PLACEMENTS = ("keep", "recentre", "image-centre")


def _as_h36m17(keypoints_px, layout: str) -> np.ndarray:
    kp = np.asarray(keypoints_px, dtype=np.float64)
    source = get_layout(layout)
    if kp.ndim != 3 or kp.shape[-1] < 2:
        raise UserError(f"expected keypoints of shape (T, {source.num_joints}, 2) in pixels, got {kp.shape}")
    if source.name == "h36m-17":
        return kp[..., :2]
    return source.to_h36m17(kp[..., :2]).astype(np.float64)   # (the conversion answers in float32)


def torso_legs_length(keypoints_px, layout: str = "h36m-17") -> np.ndarray:
    """Per frame (T,), the 2D length (pixels) of thorax -> pelvis plus the mean thigh and the mean shank."""
    kp = _as_h36m17(keypoints_px, layout)
    length = lambda a, b: np.linalg.norm(kp[:, _J[a]] - kp[:, _J[b]], axis=-1)
    thighs = (length("RHip", "RKnee") + length("LHip", "LKnee")) / 2
    shanks = (length("RKnee", "RFoot") + length("LKnee", "LFoot")) / 2
    return length("Thorax", "Hip") + thighs + shanks


def person_size_px(keypoints_px, layout: str = "h36m-17") -> float:
    """The person's size in the image (pixels): the median over frames of `torso_legs_length`.
    Frames with a missing (NaN) keypoint are skipped; UserError when no frame is complete."""
    per_frame = torso_legs_length(keypoints_px, layout)
    per_frame = per_frame[np.isfinite(per_frame)]
    if not len(per_frame) or np.median(per_frame) <= 0:
        raise UserError("cannot measure the person's size: no frame has the shoulders, hips, knees and ankles")
    return float(np.median(per_frame))


def training_person_size(data_dir="data", subjects=("S1", "S5", "S6", "S7", "S8"), keypoints: str = "det_coco",
                         width: float = 1000.0) -> float:
    """The typical person size in the training images, as a fraction of the image width: the median over
    every take and camera of `subjects` of data_dir/data_2d_synth_<keypoints>.npz (Human3.6M-17 pixels of
    `width`-wide images). TRAINING_PERSON_SIZE holds its value for the kit's synthetic set."""
    from .safe_npz import load_npz
    path = os.path.join(data_dir, f"data_2d_synth_{keypoints}.npz")
    if not os.path.exists(path):
        raise UserError(f"{path} is missing: make it with `python -m relpose.synth --only {keypoints}`")
    positions = load_npz(path, ("positions_2d",))["positions_2d"].item()
    sizes = [person_size_px(view) / width for s in subjects for views in positions[s].values() for view in views]
    return float(np.median(sizes))


def normalise_person_size(keypoints_px, width: float, height: float, layout: str = "h36m-17",
                          reference: float = TRAINING_PERSON_SIZE, *, placement: str = "recentre"):
    """(keypoints zoomed, zoom): the take's keypoints (T, J, 2 or 3; a third channel, confidences, is kept)
    scaled by one factor so that `person_size_px` becomes `reference` x `width`.

    placement: where the zoomed person is. "recentre" (the default): zoomed about the person's median pelvis
    position over the take, and that point moved to the image centre; "keep": zoomed about that point, so
    the person stays where they were in the image; "image-centre": zoomed about the image centre, which is
    what a camera with a `zoom` times longer focal length would have seen (the person moves away from the
    centre as they grow). Measured on the DeepMimic clips from 4-8 m (python -m relpose.lab.wild_distance):
    recentring gives the lowest MPJPE, 9-17 mm below the other two; the model's input includes the absolute
    2D position, and its training subjects are near the image centre.
    """
    if placement not in PLACEMENTS:
        raise UserError(f"placement must be one of {', '.join(PLACEMENTS)}, got {placement!r}")
    if not (width > 0 and height > 0):
        raise UserError(f"the image size must be positive, got {width} x {height}")
    kp = np.asarray(keypoints_px, dtype=np.float64)
    zoom = reference * width / person_size_px(kp, layout)
    centre = np.array([width / 2, height / 2])
    if placement == "image-centre":
        anchor = target = centre
    else:
        pelvis = _as_h36m17(kp, layout)[:, _J["Hip"]]
        anchor = np.nanmedian(pelvis, axis=0)
        target = anchor if placement == "keep" else centre
    out = kp.copy()
    out[..., :2] = target + zoom * (kp[..., :2] - anchor)
    return out, float(zoom)


# How a lift treats the person's size in the image: "normalise" zooms the take to the training size
# (every route that lifts a video's keypoints does, by default); "keep" lifts the keypoints as they are.
PERSON_SIZE_CHOICES = ("normalise", "keep")


def zoom_to_training_size(keypoints_normalised, width: float, height: float, layout: str = "h36m-17",
                          person_size: str = "normalise", log=print):
    """(keypoints, zoom) for lifting one video's keypoints, normalised by the frame width as the model reads
    them (relpose.cameras.normalize_screen_coordinates): zoomed by `normalise_person_size` (recentred), or
    as they are with person_size="keep" (zoom 1). A take whose size cannot be measured (no frame with the
    torso and both legs) is lifted as it is, and `log` says so."""
    if person_size not in PERSON_SIZE_CHOICES:
        raise UserError(f"person size {person_size!r}: choose one of {', '.join(PERSON_SIZE_CHOICES)}")
    kps = np.asarray(keypoints_normalised, dtype=np.float32)
    if person_size == "keep":
        return kps, 1.0
    pixels = image_coordinates(kps[..., :2], w=width, h=height)
    try:
        zoomed, zoom = normalise_person_size(pixels, width, height, layout)
    except UserError as e:
        if log:
            log(f"the person's size is not normalised ({e}); lifted at the size seen")
        return kps, 1.0
    out = kps.copy()
    out[..., :2] = normalize_screen_coordinates(zoomed[..., :2], width, height)
    return out, zoom
