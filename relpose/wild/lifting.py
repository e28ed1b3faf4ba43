"""A person in a video, lifted: the custom keypoint file read, every person of one video lifted at its frame
rate and person size, optionally smoothed, placed in the camera and on the floor, and checked for
plausibility (`lift_people`, `lift_custom`, `LiftedVideo`); what `make wild` and notebook 09 draw and export.

Unlike the rest of relpose.wild it runs the model (torch), so the detector's environment never imports it.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..cameras import camera_to_world, image_coordinates, load_rig
from ..custom_keypoints import DEFAULT_VIDEO_FPS
from ..datasets import load_dataset
from ..errors import UserError
from ..keypoint_layouts import get_layout, seen_in_layout
from ..lift import checkpoint_fps, checkpoint_input_layout, fit_input_layout, lift_sequence
from ..person_scale import zoom_to_training_size
from ..windows import Flip
from .plausibility import PlausibilityReport, take_plausibility
from .smoothing import smooth_poses
from .trajectory import camera_trajectory, ground_plane, to_world
from .visibility import unseen_report


@dataclass
class LiftedVideo:
    """One person of one video, lifted: what the renders, the exports and the checks need."""

    name: str                    # the keypoint file's entry: the video, or 'video.personN' for one of several
    keypoints: np.ndarray        # (T, J_in, 2) pixels as detected (not zoomed), in the layout the model read
    poses: np.ndarray            # (T, J, 3) metres, camera space, root-relative: one per video frame
    fps: float | None
    model_fps: float | None
    width: int
    height: int
    first_frame: int             # the video frame of keypoints[0]
    skeleton: object
    report: PlausibilityReport
    interpolated: np.ndarray = None   # (T,) frames with nobody detected, filled in time
    guessed: np.ndarray = None        # (T, J) output joints the detector did not see (their 3D is a guess)
    unseen_note: str | None = None    # one line when a body part is out of view in most frames
    zoom: float = 1.0                 # the person-size zoom of the lifted keypoints (relpose.person_scale)
    trajectory: np.ndarray | None = None   # (T, 3) the root in camera space (metres), NaN where not placed
    world: np.ndarray = None          # (T, J, 3) metres, z up, floor at z = 0: the body moving through space
    world_note: str = ""              # how `world` was made (the floor found, or why not)
    person: int | None = None         # which person of the video (several tracked), None for the only one
    video: str = ""                   # the video's own name

    @property
    def frame_numbers(self) -> np.ndarray:
        return self.first_frame + np.arange(len(self.poses))


def load_custom_video(keypoints_name: str, data_dir="data", video: str | None = None):
    """(dataset, entries) of data_dir/data_2d_custom_<keypoints_name>.npz: the file read and the entries of one
    video chosen (one per tracked person: 'clip.mp4', or 'clip.mp4.person1', 'clip.mp4.person2' ...), so that a
    command can check its inputs before it trains or lifts anything. `video`: a video's name or one entry."""
    dataset = load_dataset("custom", keypoints_name, data_dir)
    entries = dataset.subjects()
    source = {e: dataset.cameras[e][0].get("video") or e for e in entries}
    videos = list(dict.fromkeys(source.values()))
    file = f"data_2d_custom_{keypoints_name}.npz"
    if video is None:
        if len(videos) > 1:
            raise UserError(f"{file} holds {len(videos)} videos ({', '.join(videos)}); choose one with --video-name")
        video = videos[0]
    if video in entries and source[video] != video:     # one person's entry, named
        return dataset, [video]
    if video not in videos:
        raise UserError(f"--video-name {video!r}: {file} holds {', '.join(videos)}")
    return dataset, [e for e in entries if source[e] == video]


def lift_custom(model, ckpt: dict, keypoints_name: str, data_dir="data", video: str | None = None, *,
                tta: bool = True, log=print, loaded=None, person_size: str = "normalise",
                smoothing: tuple[str, dict] = ("none", {})) -> LiftedVideo:
    """Lift the one person of one video of data_dir/data_2d_custom_<keypoints_name>.npz (see lift_people)."""
    people = lift_people(model, ckpt, keypoints_name, data_dir, video, tta=tta, log=log, loaded=loaded,
                         person_size=person_size, smoothing=smoothing)
    if len(people) > 1:
        raise UserError(f"data_2d_custom_{keypoints_name}.npz holds {len(people)} people of {people[0].video}; "
                        "lift them with lift_people, or choose one with --video-name VIDEO.personN")
    return people[0]


def lift_people(model, ckpt: dict, keypoints_name: str, data_dir="data", video: str | None = None, *,
                tta: bool = True, log=print, loaded=None, person_size: str = "normalise",
                smoothing: tuple[str, dict] = ("none", {})) -> list[LiftedVideo]:
    """Lift every person of one video of data_dir/data_2d_custom_<keypoints_name>.npz with `model`: each
    converted to the model's input layout, zoomed to the person size it learned (person_size="keep" does
    not), lifted at its frame rate, optionally smoothed in time (relpose.wild.smoothing: (method, params),
    on the 3D poses), placed in the camera and on the floor, and checked for plausibility (frames with
    nobody detected left out). `loaded`: what `load_custom_video` returned for the same file."""
    dataset, entries = loaded if loaded is not None else load_custom_video(keypoints_name, data_dir, video)
    file_layout = dataset.input_layout().name
    fitted = fit_input_layout(dataset, checkpoint_input_layout(ckpt, dataset.skeleton), "the model", log)
    return [_lift_entry(model, ckpt, dataset, fitted, entry, file_layout, tta=tta, log=log, person_size=person_size,
                        smoothing=smoothing) for entry in entries]


def _lift_entry(model, ckpt, dataset, fitted, entry: str, file_layout: str, *, tta, log, person_size,
                smoothing) -> LiftedVideo:
    cam = fitted.cameras[entry][0]
    width, height = cam["res_w"], cam["res_h"]
    x = fitted.positions_2d[entry]["custom"][0]
    fps, model_fps = fitted.fps_of(entry), checkpoint_fps(ckpt)
    lifted_input, zoom = zoom_to_training_size(x, width, height, fitted.input_layout().name, person_size, log)
    poses = lift_sequence(model, lifted_input, fps=fps, model_fps=model_fps, tta=tta, flip=Flip.from_dataset(fitted))
    method, params = smoothing
    if method != "none":
        poses = smooth_poses(poses, fps or model_fps or DEFAULT_VIDEO_FPS, method, **params).astype(np.float32)
    pixels = image_coordinates(x, w=width, h=height)
    T = len(poses)
    original = dataset.cameras[entry][0]
    interpolated = np.zeros(T, bool) if original.get("interpolated") is None else np.asarray(original["interpolated"], bool)
    seen = np.ones((T, get_layout(file_layout).num_joints), bool) if original.get("seen") is None \
        else np.asarray(original["seen"], bool)
    guessed = ~seen_in_layout(seen, file_layout, fitted.skeleton.name)
    report = take_plausibility(fitted, entry, "custom", 0, poses, model_fps)
    trajectory, world, world_note = place_in_world(poses, pixels, width, height, fitted, file_layout, fps or model_fps)
    return LiftedVideo(entry, pixels, poses, fps, model_fps, width, height, int(cam.get("first_frame", 0)),
                       fitted.skeleton, report, interpolated, guessed, unseen_report(seen, file_layout, interpolated),
                       zoom, trajectory, world, world_note, original.get("person"), original.get("video") or entry)


def place_in_world(poses, pixels, width: int, height: int, dataset, file_layout: str, fps):
    """(trajectory, world, note): the root placed in the camera from the video's own keypoints (focal length
    assumed equal to the image width), the floor fitted under the planted feet, and the poses in a world frame
    with z up and the floor at z = 0. Where the root cannot be placed (keypoints not in the skeleton's layout)
    or no floor is found (no planted foot, e.g. lying or crawling), the poses are shown upright in place."""
    if dataset.input_layout().name == dataset.skeleton.name:
        trajectory = fill_in_time(camera_trajectory(poses, pixels, width, height, skeleton=dataset.skeleton,
                                                    converted=file_layout != dataset.skeleton.name))
        try:
            if trajectory is None:
                raise UserError("no frame could be placed")
            plane = ground_plane(poses + trajectory[:, None], dataset.skeleton, fps=fps)
            return trajectory, to_world(poses, trajectory, plane).astype(np.float32), \
                "the root placed from the 2D keypoints (focal length = image width), the floor under the planted feet"
        except UserError as e:
            note = f"no floor found ({e}): shown upright in place"
    else:
        trajectory, note = None, "the root not placed (the keypoints are not in the skeleton's layout): shown upright in place"
    return trajectory, upright(poses), note


def fill_in_time(series) -> np.ndarray | None:
    """(T, C) with NaN rows filled by linear interpolation in time (held at the ends); None if all are NaN."""
    series = np.asarray(series, dtype=float)
    ok = np.isfinite(series).all(1)
    if not ok.any():
        return None
    if ok.all():
        return series
    t = np.arange(len(series))
    return np.stack([np.interp(t, t[ok], series[ok, c]) for c in range(series.shape[1])], 1)


def upright(poses) -> np.ndarray:
    """The poses shown upright in place (Human3.6M S1 camera 0's orientation, feet on the floor), as --render
    shows a take without ground truth."""
    cam = load_rig("h36m")["S1"][0]
    shown = camera_to_world(np.asarray(poses, np.float32), cam["orientation"], np.zeros(3, np.float32))
    shown[..., 2] -= np.nanmin(shown[..., 2])
    return shown


def world_view(lifted: LiftedVideo) -> np.ndarray:
    """The poses as the renders show them: moving through space where the floor was found, else upright in place."""
    return lifted.world if lifted.world is not None else upright(lifted.poses)
