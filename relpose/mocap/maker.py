"""The motion-capture test set: DeepMimic clips as Human3.6M-17 in the VideoPose3D layout.

Each humanoid clip shipped by pybullet (read from the installed package when the files are made,
never copied into the repository) becomes one action of one subject, MOCAP_SUBJECT, whose cameras
are that Human3.6M subject's four: forward kinematics at 50 fps (relpose.mocap.deepmimic), moved on
the floor so that the clip's mean root position is the middle of the area the cameras see (the
synthetic set's AREA_CENTRE), projected with the synthetic set's lens model (gt) and given the
synthetic set's detector noise (det), so the two sets differ in their motion only; 'det_coco' are a COCO detector's
keypoints made as the synthetic set makes them (relpose.synth.coco_detections), for the in-the-wild model.
"""
from __future__ import annotations

import os
import time

import numpy as np
from scipy.spatial.transform import Rotation

from ..cameras import load_rig
from ..errors import UserError
from ..files import atomic_path
from ..skeleton import H36M_KEPT_JOINTS
from ..synth import METADATA, coco_detections, detections, project
from ..synth.motion import AREA_CENTRE
from .deepmimic import clip_files, clip_h36m17

MOCAP_SUBJECT = "S11"
FPS = 50
FILE_NAMES = {"3d": "data_3d_mocap.npz", "gt": "data_2d_mocap_gt.npz", "det": "data_2d_mocap_det.npz",
              "det_coco": "data_2d_mocap_det_coco.npz"}
KEYPOINT_SETS = ("gt", "det", "det_coco")
MAKER_VERSION = 1
SEEDS = 2 ** 32   # seeds are 0 .. 2**32 - 1, as for every seed of the kit (python -m relpose --seed)


def check_seed(seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < SEEDS:
        raise UserError(f"--seed {seed!r}: give a whole number from 0 to {SEEDS - 1:,}")
    return int(seed)


def _check_data_dir(data_dir) -> None:
    if not str(data_dir).strip():
        raise UserError("--data-dir is empty: give a directory (default: data)")
    if os.path.exists(data_dir) and not os.path.isdir(data_dir):
        raise UserError(f"data directory '{data_dir}' is a file: pass a directory (--data-dir)")


def _write_npz(path: str, **arrays) -> None:
    with atomic_path(path, what="motion-capture data file") as tmp, open(tmp, "wb") as f:
        np.savez(f, **arrays)


def provenance(seed: int) -> dict:
    return {"maker": "relpose.mocap", "version": MAKER_VERSION, "seed": int(seed), "fps": FPS,
            "source": "pybullet_data DeepMimic clips (pybullet 3.2.7)"}


def _inside_images(pos, cams, margin: float = 10.0) -> bool:
    """Are all joints of every frame inside every camera's image (pixels, `margin` from the border)?"""
    for cam in cams:
        px = project(pos, cam)
        if px.min() < margin or px[..., 0].max() > cam["res_w"] - margin or px[..., 1].max() > cam["res_h"] - margin:
            return False
    return True


def place(pos, cams, turns: int = 8) -> np.ndarray:
    """The clip moved on the floor so its mean root position is AREA_CENTRE, and turned about the vertical by
    the first of 0, 45, 90 ... degrees that keeps it inside every camera's image (e.g. 'run' crosses 2.8 m);
    unturned if none does (a detector's keypoints are clipped to the image anyway)."""
    centred = pos.copy()
    centred[..., :2] -= pos[:, 0, :2].mean(axis=0)
    for k in range(turns):
        a = 2 * np.pi * k / turns
        moved = Rotation.from_euler("z", a).apply(centred.reshape(-1, 3)).reshape(centred.shape)
        moved[..., :2] += AREA_CENTRE
        if _inside_images(moved, cams):
            return moved
    centred[..., :2] += AREA_CENTRE
    return centred


def mocap_takes(root: str | None = None) -> dict[str, np.ndarray]:
    """{clip name: world positions (T, 17, 3) float32, metres, z up, placed in the capture area (see place)}."""
    cams = load_rig("h36m")[MOCAP_SUBJECT]
    return {name: place(clip_h36m17(path, FPS), cams).astype(np.float32) for name, path in clip_files(root).items()}


def make_files(data_dir="data", *, seed: int = 0, only=None, log=print) -> dict[str, str]:
    """Write the four files (or those in `only`) into `data_dir`; an existing file is never replaced."""
    seed = check_seed(seed)
    _check_data_dir(data_dir)
    paths = {k: os.path.join(data_dir, n) for k, n in FILE_NAMES.items()}
    write = list(FILE_NAMES) if only is None else list(only)
    for k in write:
        if os.path.exists(paths[k]):
            raise UserError(f"'{paths[k]}' exists and is not replaced: delete it or choose another --data-dir")
    try:
        os.makedirs(data_dir, exist_ok=True)
    except OSError as e:
        raise UserError(f"cannot create data directory '{data_dir}': {e.strerror}") from None
    t0 = time.perf_counter()
    takes = mocap_takes()
    cams = load_rig("h36m")[MOCAP_SUBJECT]
    lengths = [len(p) for p in takes.values()]
    gt = np.stack([project(np.concatenate(list(takes.values())), cam) for cam in cams]).astype(np.float32)
    det = detections(np.random.default_rng([seed, 2 * 10 ** 6]), gt, cams)
    # the in-the-wild model's keypoints: a COCO detector's on the humanoid (its face from the head's geometry,
    # relpose.synth.coco, which needs only joints Human3.6M-17 has), converted back to Human3.6M-17
    all_17 = np.concatenate(list(takes.values()))
    as_32 = np.zeros((len(all_17), 32, 3), np.float32)
    as_32[:, list(H36M_KEPT_JOINTS)] = all_17
    coco = coco_detections(np.random.default_rng([seed, 2 * 10 ** 6 + 2]), as_32, cams) if "det_coco" in write else None
    bounds = np.cumsum([0] + lengths)
    split = (lambda a: {n: list(a[:, lo:hi]) for n, lo, hi in zip(takes, bounds[:-1], bounds[1:])})
    made = dict(METADATA, generator=provenance(seed))
    contents = {"3d": dict(positions_3d={MOCAP_SUBJECT: takes}, metadata={"generator": made["generator"]}),
                "gt": dict(positions_2d={MOCAP_SUBJECT: split(gt)}, metadata=made),
                "det": dict(positions_2d={MOCAP_SUBJECT: split(det)}, metadata=made),
                "det_coco": dict(positions_2d={MOCAP_SUBJECT: split(coco) if coco is not None else {}}, metadata=made)}
    for k in write:
        _write_npz(paths[k], **contents[k])
    log(f"wrote {', '.join(os.path.basename(paths[k]) for k in write)} in {data_dir}: {len(takes)} DeepMimic clips "
        f"({int(bounds[-1]):,} frames at {FPS} fps, {bounds[-1] / FPS:.1f} s), subject {MOCAP_SUBJECT}'s 4 cameras, "
        f"{time.perf_counter() - t0:.1f} s")
    return {k: paths[k] for k in write}


def ensure_mocap(data_dir="data", keypoints: str | None = None, *, seed: int = 0, log=print) -> dict[str, str]:
    """Write the missing files a run needs (3D and `keypoints`' 2D), only beside files this maker wrote."""
    from ..synth import read_provenance
    seed = check_seed(seed)
    if keypoints is not None and keypoints not in KEYPOINT_SETS:
        raise UserError(f"the motion-capture set has 2D keypoints 'gt', 'det' and 'det_coco', not '{keypoints}': "
                        "use -k gt, -k det or -k det_coco")
    paths = {k: os.path.join(data_dir, n) for k, n in FILE_NAMES.items()}
    needed = ["3d", "gt", "det"] if keypoints is None else ["3d", keypoints]
    missing = [k for k in needed if not os.path.exists(paths[k])]
    if not missing:
        return paths
    for k, p in paths.items():
        if os.path.exists(p) and read_provenance(p) != provenance(seed):
            raise UserError(f"{paths[missing[0]]} is missing, and {p} beside it was not made by relpose.mocap with "
                            f"seed {seed}: move those files away or use another --data-dir")
    make_files(data_dir, seed=seed, only=missing, log=log)
    return paths
