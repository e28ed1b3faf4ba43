"""A synthetic Human3.6M-shaped data set, written in the VideoPose3D file layout.

The real Human3.6M files are licence-gated, so the kit trains and evaluates on this stand-in. It
has the two kinds of motion the RIE paper is about: global motion (walks through the capture area,
steps to new spots, sitting down: the person changes position and scale in the image) and
small-range local motion (gestures, hands to the face, weight shifts).

The motion itself (body, footsteps, key poses, kinematics) comes from relpose.synth.motion; this module
assembles the data set, top to bottom:
  1. subjects: seven bodies of Human3.6M-like heights (`make_body`);
  2. camera views: the projection of the data files (full lens model) and a quick check that a
     pose is in front of the subject's four cameras and inside their images;
  3. takes: two takes of each of 15 actions per subject, posed in one batch; a take that leaves
     the view is redrawn in a smaller area (`make_takes`);
  4. detections: detector-like keypoints from the exact projections (jitter, outliers, left/right
     swaps);
  5. files: data_3d_synth.npz, data_2d_synth_gt.npz, data_2d_synth_det.npz (`generate`,
     `ensure_synthetic`; the command line `python -m relpose.synth` is relpose.cli.synth), and on
     request data_2d_synth_det_coco.npz: detector-like COCO-17 keypoints (relpose.synth.coco) converted
     to Human3.6M-17 as the kit converts a real detector's, for training a model for videos in the wild.
"""
from __future__ import annotations

import os
import time

import numpy as np

from ..cameras import image_coordinates, load_rig, project_to_2d, world_to_camera
from ..errors import UserError
from ..files import atomic_path
from ..keypoint_layouts import get_layout
from .coco import coco_keypoints_3d
from .library import library_take
from .motion import AREA_CENTRE, Body, Motion, concat_motions, make_motion, pose_from_motion
from ..skeleton import H36M_KEPT_JOINTS

SYNTH_SUBJECTS_TRAIN = ("S1", "S5", "S6", "S7", "S8")
SYNTH_SUBJECTS_TEST = ("S9", "S11")
BASE_ACTIONS = ("Directions", "Discussion", "Eating", "Greeting", "Phoning", "Photo", "Posing", "Purchases",
                 "Sitting", "SittingDown", "Smoking", "Waiting", "WalkDog", "Walking", "WalkTogether")
SYNTH_ACTIONS = tuple(name for a in BASE_ACTIONS for name in (a, a + " 1"))
# Frames per take (min, max) at 50 Hz. "h36m": ~2600 x 30 takes x 5 subjects ~ 390k frames per camera.
SIZES = {"tiny": (80, 80), "default": (400, 600), "h36m": (1800, 3400)}
FILE_NAMES = {"3d": "data_3d_synth.npz", "gt": "data_2d_synth_gt.npz", "det": "data_2d_synth_det.npz"}
# Files made only when asked for (`only`, `ensure_synthetic(keypoints=...)`): the default set stays the three above.
EXTRA_FILE_NAMES = {"det_coco": "data_2d_synth_det_coco.npz"}
KEYPOINT_SETS = ("gt", "det", "det_coco")
# Bump when the generator's output changes, so that files of another version are not mixed with new ones.
GENERATOR_VERSION = 2   # 2: floor work, crouching, waving and turning within five actions (FLOOR_VARIANTS)
METADATA = dict(layout_name="h36m", num_joints=17, keypoints_symmetry=[[4, 5, 6, 11, 12, 13], [1, 2, 3, 14, 15, 16]])


# ------------------------------------------------------------------------------------- subjects
SUBJECTS = SYNTH_SUBJECTS_TRAIN + SYNTH_SUBJECTS_TEST
_HEIGHTS = {"S1": 1.60, "S5": 1.57, "S6": 1.80, "S7": 1.66, "S8": 1.76, "S9": 1.88, "S11": 1.72}


def make_body(subject: str, seed: int) -> Body:
    """The subject's body: scaled to its height, each segment varied by a few percent (from the seed)."""
    rng = np.random.default_rng([seed, 1000 + list(_HEIGHTS).index(subject)])
    ref = Body()
    height = _HEIGHTS[subject] + rng.uniform(-0.02, 0.02)
    scale = height / ref.height
    factors = np.clip(1 + 0.03 * rng.standard_normal(len(ref.__dataclass_fields__)), 0.94, 1.06)
    return Body(*(getattr(ref, k) * scale * f for k, f in zip(ref.__dataclass_fields__, factors)))


# ------------------------------------------------------------------------------ camera views
def project(pos, cam):
    """Pixels (..., J, 2) of world positions: the data files' projection (full lens model)."""
    X = world_to_camera(pos, cam["orientation"], cam["translation"])
    return image_coordinates(project_to_2d(X, cam["intrinsic"]), cam["res_w"], cam["res_h"])


def in_view(pos, cams, margin=12.0):
    """Per frame: are all joints over 0.5 m in front of every camera and inside its image?

    A quick pinhole check (rotation matrix, no distortion, one column at a time, which is faster than
    a batched matrix product here); the margin covers the lens distortion, which for these cameras
    pulls points towards the image centre anyway.
    """
    ok = np.ones(len(pos), bool)
    for cam in cams:
        w, x, y, z = cam["orientation"].astype(np.float64)
        R = np.array([[1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
                      [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
                      [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)]])  # camera -> world
        d = [pos[..., i] - cam["translation"][i] for i in range(3)]
        X, Y, Z = (sum(d[i] * np.float32(R[i, k]) for i in range(3)) for k in range(3))  # R^T (p - t)
        fx, fy, cx, cy = cam["intrinsic"][:4]
        w_px, h_px = cam["res_w"], cam["res_h"]
        Z = np.maximum(Z, 0.1)
        u = (fx * X / Z + cx + 1) * w_px / 2                   # image_coordinates of the pinhole point
        v = (fy * Y / Z + cy + h_px / w_px) * w_px / 2
        ok &= ((Z.min(-1) > 0.5) & (np.minimum(u, v).min(-1) >= margin) & (u.max(-1) <= w_px - margin)
               & (v.max(-1) <= h_px - margin))
    return ok


# ------------------------------------------------------------------------------------ takes
# Variety within an action, as the real Human3.6M has it: its SittingDown includes sitting and lying on the floor,
# Photo and Purchases crouch, kneel and bend to the floor, Greeting waves, Directions turns on the spot. A take of
# such an action is, with this chance, one of these library motions (relpose.synth.library), arms as the action
# holds them where it has a pose of its own.
FLOOR_VARIANTS = {
    "SittingDown": (0.5, ("sit_floor", "get_up", "lie_side", "lie_back"), None),
    "Photo": (0.4, ("kneel", "squat"), dict(sh_flex=60, sh_abd=25, elbow=125, nod=10)),
    "Purchases": (0.4, ("bend_reach", "lift", "squat"), None),
    "Greeting": (0.25, ("wave",), None),
    "Directions": (0.25, ("turn",), None),
}


def _library_choice(seed, subject, action, attempt):
    """(motion, arms) when this take of `action` is a library motion, else None (its own random stream, so that
    the other takes are what generator version 1 made)."""
    base = action.split(" ")[0]
    if base not in FLOOR_VARIANTS:
        return None
    p, motions, arms = FLOOR_VARIANTS[base]
    rng = np.random.default_rng([seed, SUBJECTS.index(subject), SYNTH_ACTIONS.index(action), attempt, 7])
    return (motions[int(rng.integers(len(motions)))], arms) if rng.uniform() < p else None


def _attempt(seed, subject, action, n_frames, attempt) -> Motion:
    si, ai = SUBJECTS.index(subject), SYNTH_ACTIONS.index(action)
    rng = np.random.default_rng([seed, si, ai, attempt])
    return make_motion(rng, make_body(subject, seed), action.split(" ")[0], n_frames, scale=0.85 ** attempt)


def _library_attempt(seed, subject, action, n_frames, attempt, choice) -> np.ndarray:
    si, ai = SUBJECTS.index(subject), SYNTH_ACTIONS.index(action)
    rng = np.random.default_rng([seed, si, ai, attempt, 8])
    motion, arms = choice
    return library_take(rng, make_body(subject, seed), motion, n_frames, centre=AREA_CENTRE, arms=arms)


def make_takes(seed: int, subject: str, frames: dict[str, int], cams: list[dict],
               library_motions: dict | None = None) -> dict[str, np.ndarray]:
    """World positions (T, 32, 3) float32 of a subject's takes (action -> array); `library_motions`, when given,
    receives action -> library motion for the takes that are one (FLOOR_VARIANTS).

    All takes of the key-pose generator are posed in one batch, library takes one by one; a take that leaves a
    camera's view is redrawn (in a smaller area for the key-pose generator), deterministically: the attempt
    number is part of its seed.
    """
    body = make_body(subject, seed)
    takes = {}
    todo, attempt = dict(frames), 0
    while todo:
        if attempt == 10:
            raise RuntimeError(f"synthetic takes {list(todo)} of {subject} do not fit the cameras' view")
        choices = {a: _library_choice(seed, subject, a, attempt) for a in todo}
        batch = {a: n for a, n in todo.items() if choices[a] is None}
        parts = []
        if batch:
            motion = concat_motions([_attempt(seed, subject, a, n, attempt) for a, n in batch.items()])
            parts.append(pose_from_motion(body, motion))
        parts += [_library_attempt(seed, subject, a, n, attempt, choices[a]) for a, n in todo.items()
                  if choices[a] is not None]
        order = list(batch) + [a for a in todo if choices[a] is not None]
        pos = np.concatenate(parts).astype(np.float32)
        ok, bounds = in_view(pos, cams), np.cumsum([0] + [todo[a] for a in order])
        for action, lo, hi in zip(order, bounds[:-1], bounds[1:]):
            if ok[lo:hi].all():
                takes[action] = pos[lo:hi]
                del todo[action]
                if library_motions is not None and choices[action] is not None:
                    library_motions[action] = choices[action][0]
        attempt += 1
    return {a: takes[a] for a in frames}


# ------------------------------------------------------------------------------- detections
# Detector noise per joint (pixels, before the temporal smoothing): hands and feet are the hardest.
_DET_SIGMA = np.array([3.0, 3.0, 3.5, 4.5, 3.0, 3.5, 4.5, 3.0, 2.5, 2.0, 2.5, 2.5, 3.5, 5.0, 2.5, 3.5, 5.0], np.float32)
_SWAP_PAIRS = (((2, 3), (5, 6)), ((12, 13), (15, 16)), ((3,), (6,)), ((13,), (16,)))
# The same for COCO-17 (face points are easy for a detector), swaps of the same limbs and joints.
_COCO_DET_SIGMA = np.array([2.0, 2.0, 2.0, 2.5, 2.5, 2.5, 2.5, 3.5, 3.5, 5.0, 5.0, 3.0, 3.0, 3.5, 3.5, 4.5, 4.5],
                           np.float32)
_COCO_SWAP_PAIRS = (((14, 16), (13, 15)), ((7, 9), (8, 10)), ((16,), (15,)), ((9,), (10,)))


def detections(rng, gt: np.ndarray, cams: list[dict], sigma=_DET_SIGMA, swap_pairs=_SWAP_PAIRS) -> np.ndarray:
    """Detector-like keypoints from exact ones (C, T, J, 2), pixels: jitter, outliers, left/right swaps.

    sigma (J,): per-joint jitter in pixels; swap_pairs: (joints, their mirror joints) a detector confuses.
    The defaults are for Human3.6M-17 keypoints.
    """
    C, T, J, _ = gt.shape
    if len(sigma) != J:
        raise ValueError(f"{J} keypoints but {len(sigma)} detector sigmas")
    kernel = np.array([0.3, 1.0, 0.3])                   # a little temporal correlation (lag-1 ~0.5)
    kernel /= np.linalg.norm(kernel)                     # unit gain on the variance
    white = rng.standard_normal((C, T + len(kernel) - 1, J, 2), dtype=np.float32)
    sigma = np.asarray(sigma, np.float32)[:, None]
    jitter = sum(np.float32(k) * white[:, i:i + T] for i, k in enumerate(kernel)) * sigma
    det = gt + jitter + 1.5 * rng.standard_normal((C, 1, J, 2), dtype=np.float32)      # plus a small per-camera bias
    # outliers: a joint jumps 20-60 px away for 2-6 frames, ~1% of the joint-frames
    c, t, j = np.nonzero(rng.random((C, T, J), dtype=np.float32) < 0.0025)
    duration, angle, radius = rng.integers(2, 7, len(t)), rng.uniform(0, 2 * np.pi, len(t)), rng.uniform(20, 60, len(t))
    jump = np.stack([np.cos(angle), np.sin(angle)], -1) * radius[:, None]
    for k in range(6):                                            # the k-th frame of each jump
        on = (k < duration) & (t + k < T)
        det[c[on], t[on] + k, j[on]] = gt[c[on], t[on] + k, j[on]] + jump[on]
    # rare left/right confusions of a limb or joint pair for a few frames
    for cam in range(C):
        for _ in range(rng.poisson(T / 800)):
            s, a, b = rng.integers(T), *swap_pairs[rng.integers(len(swap_pairs))]
            e = s + rng.integers(3, 11)
            det[cam, s:e, list(a + b)] = det[cam, s:e, list(b + a)]
    for i, cam in enumerate(cams):                                # a detector answers inside the image
        det[i] = np.clip(det[i], 0, [cam["res_w"] - 1, cam["res_h"] - 1])
    return det


# ------------------------------------------------------------------------------- files, API
def save_npz(path: str, **arrays) -> None:
    """np.savez to a temporary file beside `path`, then an atomic rename."""
    with atomic_path(path, what="synthetic data file") as tmp:
        with open(tmp, "wb") as f:
            np.savez(f, **arrays)   # uncompressed: noisy float32 hardly compresses and this is much faster


def check_args(data_dir, seed, size, frames_per_take, sizes=SIZES, what="the synthetic data") -> None:
    """The arguments of a synthetic set's maker: UserError for a bad one."""
    if size not in sizes:
        raise UserError(f"unknown size '{size}' for {what} (choose from {', '.join(sizes)})")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise UserError(f"seed must be a non-negative integer, got {seed!r}")
    if frames_per_take is not None and (isinstance(frames_per_take, bool) or
                                        not isinstance(frames_per_take, (int, np.integer)) or frames_per_take < 1):
        raise UserError(f"frames per take must be a positive integer, got {frames_per_take!r}")
    if os.path.exists(data_dir) and not os.path.isdir(data_dir):
        raise UserError(f"data directory '{data_dir}' is a file: pass a directory (--data-dir)")


def provenance(seed: int, size: str, frames_per_take: int | None) -> dict:
    """What the files record about how they were made: the same record means the same arrays."""
    return {"maker": "relpose.synth", "version": GENERATOR_VERSION, "seed": int(seed), "size": size,
            "frames_per_take": frames_per_take}


def read_provenance(path) -> dict | None:
    """The provenance record of a synthetic data file, or None for files the generator did not write."""
    from ..datasets import read_npz_metadata
    meta = read_npz_metadata(path)
    return meta.get("generator") if isinstance(meta, dict) else None


def _file_paths(data_dir) -> dict[str, str]:
    return {k: os.path.join(data_dir, name) for k, name in {**FILE_NAMES, **EXTRA_FILE_NAMES}.items()}


def coco_pixels(pos_32: np.ndarray, cams: list[dict]) -> np.ndarray:
    """(C, T, 17, 2) float32: the exact projections of the synthetic COCO keypoints of (T, 32, 3) poses."""
    coco = coco_keypoints_3d(pos_32)
    return np.stack([project(coco, cam) for cam in cams]).astype(np.float32)


def noisy_coco_keypoints(rng, exact: np.ndarray, cams: list[dict]) -> np.ndarray:
    """(C, T, 17, 2) COCO-17 pixels as a COCO detector marks them: detector noise added to their exact
    projections (coco_pixels)."""
    return detections(rng, exact, cams, _COCO_DET_SIGMA, _COCO_SWAP_PAIRS)


def coco_detections(rng, pos_32: np.ndarray, cams: list[dict]) -> np.ndarray:
    """(C, T, 17, 2) Human3.6M-17 pixels as the kit gets them from a COCO detector: the synthetic COCO
    keypoints projected, detector noise added in the COCO layout, then converted (`to_h36m17`)."""
    return get_layout("coco-17").to_h36m17(noisy_coco_keypoints(rng, coco_pixels(pos_32, cams), cams))


def prepare_output(data_dir, paths: dict[str, str], write: list[str], overwrite: bool) -> None:
    """Before a set is made: the files asked for are known and not there (unless overwrite), the folder exists."""
    unknown = [k for k in write if k not in paths]
    if unknown:
        raise UserError(f"unknown synthetic file(s) {unknown} (choose from {', '.join(paths)})")
    if not overwrite:
        for k in write:
            if os.path.exists(paths[k]):
                raise UserError(f"'{paths[k]}' exists and is not replaced: delete it, choose another --data-dir, "
                                "or pass --overwrite")
    try:
        os.makedirs(data_dir, exist_ok=True)
    except OSError as e:
        raise UserError(f"cannot create data directory '{data_dir}': {e.strerror}") from None


def refuse_foreign_files(paths: dict[str, str], missing: list[str], wanted: dict, made_by: str) -> None:
    """A set's missing files are added only beside files made by the same maker with the same settings."""
    for p in paths.values():
        if os.path.exists(p) and read_provenance(p) != wanted:
            raise UserError(f"{paths[missing[0]]} is missing, and {p} beside it was not made by {made_by} with seed "
                            f"{wanted['seed']}, size {wanted['size']}: relpose will not add files to a set that is "
                            "not its own; move those files away or use another --data-dir")


def generate_files(data_dir="data", *, seed=0, size="default", frames_per_take=None, overwrite=False, only=None):
    check_args(data_dir, seed, size, frames_per_take)
    paths = _file_paths(data_dir)
    write = list(FILE_NAMES) if only is None else list(only)
    prepare_output(data_dir, paths, write, overwrite)
    rig = load_rig("h36m")
    kept = list(H36M_KEPT_JOINTS)
    pos3d, gt2d, det2d, coco2d, frames, library = {}, {}, {}, {}, 0, {}
    for si, subject in enumerate(SUBJECTS):
        lengths = {a: frames_per_take or int(np.random.default_rng([seed, si, ai, 10 ** 6]).integers(
            SIZES[size][0], SIZES[size][1] + 1)) for ai, a in enumerate(SYNTH_ACTIONS)}
        library[subject] = {}
        pos3d[subject] = make_takes(seed, subject, lengths, rig[subject], library[subject])
        all_pos = np.concatenate(list(pos3d[subject].values()))
        gt = np.stack([project(all_pos[:, kept], cam) for cam in rig[subject]]).astype(np.float32)
        det = detections(np.random.default_rng([seed, si, 10 ** 6 + 1]), gt, rig[subject])
        bounds = np.cumsum([0] + list(lengths.values()))
        split = lambda a2d: {a: list(a2d[:, lo:hi]) for a, lo, hi in zip(lengths, bounds[:-1], bounds[1:])}
        gt2d[subject], det2d[subject] = split(gt), split(det)
        if "det_coco" in write:   # its own stream: det is the same whether or not this is made
            coco2d[subject] = split(coco_detections(np.random.default_rng([seed, si, 10 ** 6 + 2]), all_pos,
                                                    rig[subject]))
        frames += int(bounds[-1])
    made = dict(METADATA, generator=provenance(seed, size, frames_per_take))
    # which takes are library motions (floor work, crouching ...), for anyone who wants to find or leave them out
    contents = {"3d": dict(positions_3d=pos3d, metadata={"generator": made["generator"], "library_takes": library}),
                "gt": dict(positions_2d=gt2d, metadata=made), "det": dict(positions_2d=det2d, metadata=made),
                "det_coco": dict(positions_2d=coco2d, metadata=made)}
    for k in write:
        save_npz(paths[k], **contents[k])
    return {k: paths[k] for k in write}, frames


def generate(data_dir="data", *, seed: int = 0, size: str = "default", frames_per_take: int | None = None,
             overwrite: bool = False, only=None) -> dict[str, str]:
    """Write the synthetic data set; returns {'3d', 'gt', 'det'} -> file path (those written).

    Sizes: 'tiny' (80 frames per take, unit tests), 'default' (400-600 frames per take, the demo and
    notebooks), 'h36m' (Human3.6M scale, ~390k frames per camera over the training subjects; needs
    about 1.5 GB of memory). frames_per_take overrides the preset's take length. `only` picks some
    of the three files, or adds 'det_coco' (COCO-17 detections converted to Human3.6M-17), which is
    written only when named there. An existing file is never replaced unless overwrite=True.
    The same seed gives identical arrays.
    """
    return generate_files(data_dir, seed=seed, size=size, frames_per_take=frames_per_take, overwrite=overwrite,
                     only=only)[0]


def ensure_synthetic(data_dir="data", keypoints: str | None = None, *, seed: int = 0, size: str = "default",
                     frames_per_take: int | None = None, log=print) -> dict[str, str]:
    """Make the synthetic files that a run needs (3D and `keypoints`' 2D; 3D, gt and det when None) if missing.

    Only missing files are written, and only when every synthetic file already in `data_dir` was made
    by this generator with the same settings (so the new file matches them); anything else there is
    the user's, and this stops with a message instead of mixing with it or replacing it.
    """
    paths = _file_paths(data_dir)
    if keypoints is not None and keypoints not in KEYPOINT_SETS:
        raise UserError(f"the synthetic set has 2D keypoints 'gt' (exact projections), 'det' (detector-like) and "
                        f"'det_coco' (a COCO detector's, converted to Human3.6M-17), not '{keypoints}': "
                        "use -k gt or -k det or -k det_coco")
    needed = list(FILE_NAMES) if keypoints is None else ["3d", keypoints]
    missing = [k for k in needed if not os.path.exists(paths[k])]
    shown = {k: p for k, p in paths.items() if k in FILE_NAMES or k == keypoints}
    if not missing:
        made = read_provenance(paths["3d"]) or {}
        if made.get("maker") == "relpose.synth" and made.get("version") != GENERATOR_VERSION:
            log(f"note: {paths['3d']} was made by synthetic generator version {made.get('version')}; this kit makes "
                f"version {GENERATOR_VERSION} (see data/README.md): delete the synthetic files there to make it")
        return shown
    refuse_foreign_files(paths, missing, provenance(seed, size, frames_per_take), "relpose's synthetic generator")
    t0 = time.perf_counter()
    generate_files(data_dir, seed=seed, size=size, frames_per_take=frames_per_take, only=missing)
    names = ", ".join(os.path.basename(paths[k]) for k in missing)
    log(f"generated {names} in {data_dir} (synthetic set, size {size}, seed {seed}, "
        f"{time.perf_counter() - t0:.1f} s)")
    return shown
