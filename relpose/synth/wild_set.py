"""The broad synthetic set 'synthwild', in the VideoPose3D file layout: what the in-the-wild model trains on.

Where the synthetic set (relpose.synth.generator) stands in for Human3.6M, this one is broad: people of every
size doing everything, filmed by the cameras people use. Top to bottom:
  1. subjects: W01-W12 for training and W13-W15 for testing (relpose.datasets registers them), bodies drawn
     from human proportions, children to tall adults (relpose.synth.library.random_body);
  2. cameras: four per subject, aimed at the subject's middle over the capture area's centre: one of
     Human3.6M's (so the lab's view stays in the set: subject number k has camera k mod 4 of calibrated
     Human3.6M subject number k mod 7) and three cameras people use (relpose.synth.wild_cameras) from directions
     about 120 degrees apart, each moved back where it is too near to frame the standing body (people step
     back until the whole person fits: here the body's height in FRAME_FILL of the image's height);
  3. takes: one of each motion of the broad library (relpose.synth.library) and one of each of Human3.6M's
     15 actions (relpose.synth.motion), placed about the capture area's centre. A take that leaves a camera's
     image is drawn again (the attempt number is in its seed; placed nearer the centre), ATTEMPTS times at
     most; then each camera that still loses a frame moves back (by STEP_BACK at a time) until it sees them all:
     Human3.6M's along its optical axis, a drawn one along the floor, aimed again. So every joint and COCO
     keypoint of every frame lies inside every image, a margin away from its edges;
  4. keypoints: 'gt' (the exact projections), 'det' and 'det_coco' as in the synthetic set, and in these two
     the joints a detector misses for a few frames, filled as the kit fills a real detector's gaps
     (relpose.synth.missed_joints);
  5. files: data_3d_synthwild.npz and data_2d_synthwild_<gt|det|det_coco>.npz; the 2D files' metadata records
     every subject's cameras (metadata['cameras'], the JSON rig's form: relpose.datasets reads them) and the
     provenance, like the synthetic set's (maker, version, seed, size, and a digest of the motion code).
The motion is at 50 frames per second, the spec's capture_fps (relpose.synth.motion.FPS).
"""
from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import numpy as np

from ..cameras import camera_from_record, qrot, rig_records, world_to_camera
from ..datasets import dataset_spec
from ..errors import UserError
from ..keypoint_layouts import get_layout
from ..skeleton import H36M_KEPT_JOINTS
from . import library, motion
from .coco import coco_keypoints_3d
from .generator import (BASE_ACTIONS, METADATA, check_args, coco_pixels, detections, in_view,
                        noisy_coco_keypoints, prepare_output, project, refuse_foreign_files, save_npz)
from .library import LIBRARY_MOTIONS, library_take, random_body
from .missed_joints import fill_missed, missed_joints
from .motion import AREA_CENTRE, concat_motions, make_motion, pose_from_motion
from .wild_cameras import WildCamera, draw_camera

NAME = "synthwild"
SUBJECTS_TRAIN = dataset_spec(NAME).subjects_train
SUBJECTS_TEST = dataset_spec(NAME).subjects_test
SUBJECTS = SUBJECTS_TRAIN + SUBJECTS_TEST
ACTIONS = tuple(LIBRARY_MOTIONS) + BASE_ACTIONS
# Frames per take (min, max) at 50 Hz. "default": ~210 x 34 takes x 12 training subjects ~ 86k frames per camera.
SIZES = {"tiny": (60, 60), "default": (150, 270)}
KEYPOINT_SETS = ("gt", "det", "det_coco")
FILE_NAMES = {"3d": f"data_3d_{NAME}.npz", **{k: f"data_2d_{NAME}_{k}.npz" for k in KEYPOINT_SETS}}
# Bump when the set's output changes for a seed (the motion code's own changes show in the provenance's digest).
WILD_SET_VERSION = 1
MAKER = "relpose.synth.wild_set"
WILD_CAMERAS = 3
TARGET_HEIGHT = 0.5       # the cameras aim at this fraction of the body's height over the area's centre
FRAME_FILL = 0.8          # a drawn camera moves back until the standing body fills at most this of the image's height
ATTEMPTS = 4              # draws of a take before the cameras move back for it
PLACEMENT_M = 0.5         # a library take's centre is at most this far from the area's centre (first attempt)
STEP_BACK = 1.1           # a camera that loses a frame moves this many times as far from the target ...
MAX_STEPS = 60            # ... at most this often (1.1 ** 60 = 304: never reached, as moving back shrinks the view)


# ------------------------------------------------------------------------------------ subjects, cameras
def subject_body(seed: int, si: int):
    """The body of subject number `si` (children to tall adults)."""
    return random_body(np.random.default_rng([seed, 7000, si]))


def lab_record(si: int, target, factor: float = 1.0) -> dict:
    """The Human3.6M camera of subject number `si` as a record in the JSON rig's form: Human3.6M's own, or
    moved back along its optical axis to `factor` times its distance from `target` (metres)."""
    calibrated = list(rig_records("h36m").values())
    record = dict(calibrated[si % len(calibrated)][si % 4], kind="Human3.6M")
    if factor != 1.0:
        cam = camera_from_record(record)
        forward = qrot(cam["orientation"].astype(np.float64), np.array([0.0, 0.0, 1.0]))   # its z axis in the world
        at = np.asarray(record["translation"], np.float64) / 1000
        at = at - forward * np.linalg.norm(at - np.asarray(target, np.float64)) * (factor - 1)
        record["translation"] = [float(v) * 1000 for v in at]
    return record


def _wild_cameras(seed: int, si: int, target, body_height: float) -> list[WildCamera]:
    """Three drawn cameras about 120 degrees apart, each as near as drawn or as far as framing the body asks."""
    rng = np.random.default_rng([seed, 7100, si])
    first = rng.uniform(-np.pi, np.pi)
    drawn = [draw_camera(rng, target, first + k * 2 * np.pi / WILD_CAMERAS + np.radians(rng.uniform(-40, 40)))
             for k in range(WILD_CAMERAS)]
    return [c.moved_back(max(1.0, c.framing_distance(body_height, FRAME_FILL) / c.distance)) for c in drawn]


# ------------------------------------------------------------------------------------------------ takes
def take_lengths(seed: int, si: int, size: str, frames_per_take: int | None) -> dict[str, int]:
    lo, hi = SIZES[size]
    return {a: frames_per_take or int(np.random.default_rng([seed, 7200, si, ai]).integers(lo, hi + 1))
            for ai, a in enumerate(ACTIONS)}


def _draw_takes(seed: int, si: int, body, lengths: dict[str, int], attempt: int) -> dict[str, np.ndarray]:
    """World positions (T, 32, 3) float32 of the takes `lengths` names, as drawn at this attempt."""
    nearer = 0.85 ** attempt
    drawn, actions = {}, []
    for action, n in lengths.items():
        rng = np.random.default_rng([seed, 7300, si, ACTIONS.index(action), attempt])
        if action in LIBRARY_MOTIONS:
            r, a = PLACEMENT_M * nearer * np.sqrt(rng.uniform()), rng.uniform(0, 2 * np.pi)
            centre = AREA_CENTRE + r * np.array([np.cos(a), np.sin(a)])
            drawn[action] = library_take(rng, body, action, n, centre=(float(centre[0]), float(centre[1])))
        else:
            actions.append((action, make_motion(rng, body, action, n, scale=nearer)))
    if actions:   # Human3.6M's actions posed in one batch, which is faster
        pos = pose_from_motion(body, concat_motions([m for _, m in actions]))
        for (action, _), part in zip(actions, np.split(pos, np.cumsum([lengths[a] for a, _ in actions])[:-1])):
            drawn[action] = part
    return {a: drawn[a].astype(np.float32) for a in lengths}


def _points(pos: np.ndarray) -> np.ndarray:
    """What must stay inside every image: the 32 joints and the COCO keypoints (the face) of (T, 32, 3) poses."""
    return np.concatenate([pos, coco_keypoints_3d(pos)], axis=1)


def subject_takes(seed: int, si: int, lengths: dict[str, int]) -> tuple[dict[str, np.ndarray], list[dict]]:
    """Subject number `si`'s takes (action -> (T, 32, 3) float32 world positions) and its cameras (records in
    the JSON rig's form), every point of every frame inside every image."""
    body = subject_body(seed, si)
    target = np.array([*AREA_CENTRE, TARGET_HEIGHT * body.height])
    wild = _wild_cameras(seed, si, target, body.height)
    records = [lab_record(si, target)] + [c.record(f"{SUBJECTS[si]}-{k + 1}") for k, c in enumerate(wild)]
    cams = [camera_from_record(r) for r in records]
    takes, todo = {}, dict(lengths)
    for attempt in range(ATTEMPTS):
        for action, pos in _draw_takes(seed, si, body, todo, attempt).items():
            if attempt == ATTEMPTS - 1 or in_view(_points(pos), cams).all():   # the last draw stays
                takes[action] = pos
                del todo[action]
    points = _points(np.concatenate([takes[a] for a in lengths]))
    for k in range(len(cams)):
        steps = 0
        while not in_view(points, cams[k:k + 1]).all():
            steps += 1
            if steps > MAX_STEPS:
                raise RuntimeError(f"camera {k} of {SUBJECTS[si]} does not see the takes even {STEP_BACK ** steps:.0f}"
                                   " times as far away")
            factor = STEP_BACK ** steps
            records[k] = (lab_record(si, target, factor) if k == 0
                          else wild[k - 1].moved_back(factor).record(records[k]["id"]))
            cams[k] = camera_from_record(records[k])
    return {a: takes[a] for a in lengths}, records


# ------------------------------------------------------------------------------------------- keypoints
def _depth(points: np.ndarray, cams: list[dict]) -> np.ndarray:
    """(C, T, J) distance along each camera's axis of (T, J, 3) world points."""
    return np.stack([world_to_camera(points, cam["orientation"], cam["translation"])[..., 2] for cam in cams])


def subject_keypoints(seed: int, si: int, pos: np.ndarray, bounds, cams: list[dict]) -> dict[str, np.ndarray]:
    """'gt', 'det' and 'det_coco': (C, T, 17, 2) Human3.6M-17 pixels of a subject's takes, concatenated in
    `pos` (T, 32, 3) (take i is frames bounds[i]:bounds[i + 1]); the detections with missed joints filled."""
    kept, coco = pos[:, list(H36M_KEPT_JOINTS)], coco_keypoints_3d(pos)
    gt = np.stack([project(kept, cam) for cam in cams]).astype(np.float32)
    exact_coco = coco_pixels(pos, cams)
    noisy = {"det": detections(np.random.default_rng([seed, 7400, si]), gt, cams),
             "det_coco": noisy_coco_keypoints(np.random.default_rng([seed, 7401, si]), exact_coco, cams)}
    out = {"gt": gt}
    for stream, (key, exact, points, layout) in enumerate((("det", gt, kept, "h36m-17"),
                                                           ("det_coco", exact_coco, coco, "coco-17"))):
        # where a detector misses a joint depends on the true motion, not on its own noise
        missed = missed_joints(np.random.default_rng([seed, 7402 + stream, si]), exact, _depth(points, cams),
                               get_layout(layout).joint_names, bounds[:-1])
        out[key] = fill_missed(noisy[key], missed, bounds)
    out["det_coco"] = get_layout("coco-17").to_h36m17(out["det_coco"])
    return out


# ------------------------------------------------------------------------------------------- files, API
def motion_code_digest() -> str:
    """A digest of the motion code (relpose.synth.motion and .library): the library's takes change with it, so
    files made by another version of it are never mixed with new ones (see ensure_synthwild)."""
    digest = hashlib.sha256()
    for module in (motion, library):
        digest.update(Path(module.__file__).read_bytes())
    return digest.hexdigest()[:16]


def provenance(seed: int, size: str, frames_per_take: int | None) -> dict:
    """What the files record about how they were made: the same record means the same arrays."""
    return {"maker": MAKER, "version": WILD_SET_VERSION, "seed": int(seed), "size": size,
            "frames_per_take": frames_per_take, "motion_code": motion_code_digest()}


def file_paths(data_dir) -> dict[str, str]:
    return {k: os.path.join(data_dir, name) for k, name in FILE_NAMES.items()}


def generate_wild(data_dir="data", *, seed: int = 0, size: str = "default", frames_per_take: int | None = None,
                  overwrite: bool = False, only=None) -> tuple[dict[str, str], dict]:
    """Write the broad synthetic set: (paths written, by '3d', 'gt', 'det', 'det_coco'; a summary).

    Sizes: 'tiny' (60 frames per take, unit tests) and 'default' (150-270 frames per take); frames_per_take
    overrides the preset's. `only` picks some of the four files (all by default). An existing file is never
    replaced unless overwrite=True. The same seed gives the same bytes. The summary has the frames per camera
    (all subjects, training subjects) and the cameras' distances from their targets along the floor.
    """
    check_args(data_dir, seed, size, frames_per_take, SIZES, "the broad synthetic set")
    paths = file_paths(data_dir)
    write = list(FILE_NAMES) if only is None else list(only)
    prepare_output(data_dir, paths, write, overwrite)
    positions_3d, positions_2d, cameras = {}, {k: {} for k in KEYPOINT_SETS}, {}
    frames, distances = {}, []
    for si, subject in enumerate(SUBJECTS):
        takes, cameras[subject] = subject_takes(seed, si, take_lengths(seed, si, size, frames_per_take))
        bounds = np.cumsum([0] + [len(p) for p in takes.values()])
        cams = [camera_from_record(r) for r in cameras[subject]]
        keypoints = subject_keypoints(seed, si, np.concatenate(list(takes.values())), bounds, cams)
        for key, pixels in keypoints.items():
            positions_2d[key][subject] = {a: list(pixels[:, lo:hi]) for a, lo, hi in zip(takes, bounds, bounds[1:])}
        positions_3d[subject], frames[subject] = takes, int(bounds[-1])
        target = np.array([*AREA_CENTRE, TARGET_HEIGHT * subject_body(seed, si).height])
        distances += [float(np.linalg.norm(c["translation"][:2] - target[:2])) for c in cams]
    made = provenance(seed, size, frames_per_take)
    for k in write:
        if k == "3d":
            save_npz(paths[k], positions_3d=positions_3d, metadata={"generator": made})
        else:
            save_npz(paths[k], positions_2d=positions_2d[k], metadata=dict(METADATA, generator=made, cameras=cameras))
    summary = {"frames": sum(frames.values()), "frames_train": sum(frames[s] for s in SUBJECTS_TRAIN),
               "camera_distances": distances}
    return {k: paths[k] for k in write}, summary


def ensure_synthwild(data_dir="data", keypoints: str | None = None, *, seed: int = 0, size: str = "default",
                     frames_per_take: int | None = None, log=print) -> dict[str, str]:
    """Make the broad synthetic set's files that a run needs (3D and `keypoints`' 2D; all four when None) if
    missing, only beside files made by this maker with the same settings (as relpose.synth.ensure_synthetic)."""
    if keypoints is not None and keypoints not in KEYPOINT_SETS:
        raise UserError(f"the broad synthetic set has 2D keypoints {', '.join(map(repr, KEYPOINT_SETS))}, not "
                        f"'{keypoints}': use -k gt or -k det or -k det_coco")
    paths = file_paths(data_dir)
    needed = list(FILE_NAMES) if keypoints is None else ["3d", keypoints]
    missing = [k for k in needed if not os.path.exists(paths[k])]
    if missing:
        refuse_foreign_files(paths, missing, provenance(seed, size, frames_per_take),
                             "relpose's broad synthetic generator")
        t0 = time.perf_counter()
        generate_wild(data_dir, seed=seed, size=size, frames_per_take=frames_per_take, only=missing)
        log(f"generated {', '.join(os.path.basename(paths[k]) for k in missing)} in {data_dir} (broad synthetic "
            f"set, size {size}, seed {seed}, {time.perf_counter() - t0:.1f} s)")
    return {k: paths[k] for k in needed}
