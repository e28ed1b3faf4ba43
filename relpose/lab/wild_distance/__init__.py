"""People at any distance (issue 23): does zooming a take's keypoints to the training data's person size make
the in-the-wild model's lifted body independent of how far away the person is, and how well are the root's
path and the floor found?

The DeepMimic motion-capture clips (relpose.mocap, a 1.60 m humanoid) are filmed by virtual pinhole cameras
at 2, 4, 6 and 8 m, 1.0 and 1.6 m above the floor, aimed at the clip's mean body centre (the person in the
middle of the image, or a quarter of the image width to the right), each from an azimuth drawn once per
clip and view and shared by the four distances, so that the distance is the only thing that changes:
  - a phone held landscape (1920 x 1080, 65 degree horizontal field of view, focal 1507 px),
  - the same phone held portrait (1080 x 1920, the same focal),
  - Human3.6M's camera (1000 x 1002, focal 1145 px), the training data's.
A view where the body leaves the image in some frame is skipped and counted. The 2D keypoints are the synthetic
set's: COCO-17 points of the bodies (relpose.synth.coco), detector noise of the synthetic generator, converted
to Human3.6M-17 (relpose.synth.generator.coco_detections). Each view is lifted by the in-the-wild model
(relpose.lift.lift_keypoints, at the model's frame rate) from the keypoints as they are ("none") and zoomed to
the training size (relpose.person_scale) three ways: about the person, who stays where they were ("keep"),
moved to the image centre ("recentre"), or about the image centre ("image-centre", a virtual longer lens).

Measured per distance: MPJPE (Protocol #1, root-relative, no scale alignment) and N-MPJPE (mm), the lifted
height against the true one and the hip width (cm; both from bone lengths, relpose.wild.anthropometry), and
for the trajectory (relpose.wild.trajectory): the root's position error (cm, median over frames, median over
views) with the focal length known and with the default guess (the image width), the floor's angle error
(degrees) and the camera's height above it (cm error).

    python -m relpose.lab.wild_distance            # writes benchmarks/results/wild_distance.json, prints the tables

(the command line is relpose.cli.wild_distance).
"""
from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass

import numpy as np

from ...errors import UserError
from ...files import atomic_path
from ...lift import checkpoint_fps, lift_keypoints
from ...metrics import mpjpe, n_mpjpe
from ...skeleton import H36M_17, H36M_KEPT_JOINTS
from ...synth.coco import coco_keypoints_3d
from ...synth.generator import coco_detections, project
from ...tables import text_table
from ...wild.anthropometry import body_height
from ...person_scale import PLACEMENTS, TRAINING_PERSON_SIZE, normalise_person_size
from ...wild.trajectory import camera_trajectory, ground_plane
from ..settings import find_root

MOCAP_FPS = 50


@dataclass(frozen=True)
class VirtualCamera:
    name: str
    width: int
    height: int
    focal: float     # pixels


PHONE_FOCAL = 960 / np.tan(np.radians(65 / 2))    # 65 degrees across 1920 px
CAMERAS = (VirtualCamera("phone landscape", 1920, 1080, PHONE_FOCAL),
           VirtualCamera("phone portrait", 1080, 1920, PHONE_FOCAL),
           VirtualCamera("Human3.6M", 1000, 1002, 1145.0))
DISTANCES_M = (2.0, 4.0, 6.0, 8.0)
CAMERA_HEIGHTS_M = (1.0, 1.6)
OFFSETS = (0.0, 0.25)          # where the person's centre is: a fraction of the image width right of the centre
METHODS = ("none",) + PLACEMENTS
MARGIN_PX = 10.0
# The clips of people walking or running: the floor and the path are easiest to judge there (the others
# include crawling, rolling, cartwheels and getting up, where the ankles are not what touches the floor).
LOCOMOTION = ("run", "walk", "walker_0walk_forward", "walker_turn_left0", "walker_turn_left1", "walker_turn_right0",
              "walker_turn_right1")


@dataclass
class WildDistanceConfig:
    checkpoint: str | None = None      # default: the in-the-wild model the kit ships (relpose.lab.wild_model)
    data_dir: str = "data"
    clips: int | None = None           # the first N clips (all 20 when None)
    seed: int = 0


# ------------------------------------------------------------------------------- virtual cameras
def look_at(position, target, yaw: float = 0.0) -> np.ndarray:
    """(3, 3) rows: the camera's x (right), y (down), z (forward) axes in the world (z up), looking from
    `position` at `target`, then turned by `yaw` radians about the vertical (positive: to the left, so the
    target moves right in the image)."""
    forward = np.asarray(target, float) - np.asarray(position, float)
    c, s = np.cos(yaw), np.sin(yaw)
    forward = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]]) @ forward
    z = forward / np.linalg.norm(forward)
    x = np.cross(z, [0.0, 0.0, 1.0])
    x /= np.linalg.norm(x)
    return np.stack([x, np.cross(z, x), z])


def camera_dict(camera: VirtualCamera) -> dict:
    """The synthetic generator's camera of a pinhole at the origin of camera space (identity extrinsics,
    no distortion, principal point at the image centre)."""
    f = 2 * camera.focal / camera.width
    return {"orientation": np.array([1, 0, 0, 0], np.float32), "translation": np.zeros(3, np.float32),
            "intrinsic": np.array([f, f, 0, 0, 0, 0, 0, 0, 0], np.float32), "res_w": camera.width,
            "res_h": camera.height}


def as_h36m32(poses_17) -> np.ndarray:
    """(T, 32, 3) with the 17 joints in their Human3.6M-32 places (the others zero): what coco_keypoints_3d
    reads (it uses only kept joints)."""
    out = np.zeros(poses_17.shape[:-2] + (32, 3), np.float32)
    out[..., list(H36M_KEPT_JOINTS), :] = poses_17
    return out


def place_camera(world, distance: float, height: float, azimuth: float, offset: float, camera: VirtualCamera):
    """(camera-space poses (T, 17, 3), R (3, 3) world -> camera rows, camera position) of a clip's world poses."""
    centre = world.reshape(-1, 3).mean(0)
    position = np.array([centre[0] + distance * np.cos(azimuth), centre[1] + distance * np.sin(azimuth), height])
    R = look_at(position, centre, yaw=np.arctan(offset * camera.width / camera.focal))
    return (world - position) @ R.T, R, position


def visible(cam_poses, camera: VirtualCamera) -> bool:
    """Are all COCO keypoints of every frame in front of the camera and inside the image?"""
    if cam_poses[..., 2].min() < 0.3:
        return False
    px = project(coco_keypoints_3d(as_h36m32(cam_poses)), camera_dict(camera))
    return bool(px.min() >= MARGIN_PX and px[..., 0].max() <= camera.width - MARGIN_PX
                and px[..., 1].max() <= camera.height - MARGIN_PX)


# ---------------------------------------------------------------------------------- one view
def _angle_deg(a, b) -> float:
    return float(np.degrees(np.arccos(np.clip(np.dot(a, b) / np.linalg.norm(a) / np.linalg.norm(b), -1, 1))))


def measure_view(model, model_fps, cam_poses, up_camera, camera_height: float, camera: VirtualCamera, rng) -> dict:
    """Per method: errors of the lifted poses and of the trajectory and floor placed from them."""
    keypoints = coco_detections(rng, as_h36m32(cam_poses), [camera_dict(camera)])[0].astype(np.float64)
    truth = cam_poses - cam_poses[:, :1]
    true_height = body_height(truth, H36M_17)
    out = {}
    for method in METHODS:
        seen, zoom = keypoints, 1.0
        if method != "none":
            seen, zoom = normalise_person_size(keypoints, camera.width, camera.height, "h36m-17",
                                               TRAINING_PERSON_SIZE, placement=method)
        pred = lift_keypoints(model, seen, camera.width, camera.height, layout="h36m-17", fps=MOCAP_FPS,
                              model_fps=model_fps, log=lambda *_: None).astype(np.float64)
        pred -= pred[:, :1]
        r = {"zoom": zoom, "mpjpe_mm": 1000 * float(mpjpe(pred, truth)), "n_mpjpe_mm": 1000 * float(n_mpjpe(pred, truth)),
             "height_cm": 100 * body_height(pred, H36M_17), "true_height_cm": 100 * true_height,
             "hip_width_cm": 100 * float(np.median(np.linalg.norm(pred[:, 1] - pred[:, 4], axis=-1)))}
        for label, focal in (("known", camera.focal), ("guessed", None)):
            root = camera_trajectory(pred, keypoints, camera.width, camera.height, focal=focal, converted=True)
            r[f"root_error_cm_{label}"] = 100 * float(np.nanmedian(np.linalg.norm(root - cam_poses[:, 0], axis=-1)))
            try:
                normal, offset = ground_plane(pred + root[:, None], H36M_17, fps=MOCAP_FPS)
                r[f"floor_angle_deg_{label}"] = _angle_deg(normal, up_camera)
                r[f"camera_height_error_cm_{label}"] = 100 * (-offset - camera_height)
            except UserError:
                r[f"floor_angle_deg_{label}"] = r[f"camera_height_error_cm_{label}"] = float("nan")
        out[method] = r
    return out


# ------------------------------------------------------------------------------------ the run
def load_clips(data_dir: str) -> dict[str, np.ndarray]:
    """{clip: world poses (T, 17, 3)}: data_dir/data_3d_mocap.npz, or read from pybullet's clips if missing."""
    path = os.path.join(data_dir, "data_3d_mocap.npz")
    if os.path.exists(path):
        from ...mocap import MOCAP_SUBJECT
        from ...safe_npz import load_npz
        return dict(load_npz(path, ("positions_3d",))["positions_3d"].item()[MOCAP_SUBJECT])
    from ...mocap import mocap_takes
    return mocap_takes()


def default_checkpoint(root: str | None = None) -> str:
    """The in-the-wild model the kit ships (what `make wild` lifts with); `root` is kept for callers that pass it."""
    from ..wild_model import shipped_model_path
    return str(shipped_model_path())


def run(config: WildDistanceConfig, log=print) -> dict:
    from ...weights import load_any_model
    path = config.checkpoint or default_checkpoint()
    if not os.path.exists(path):
        raise UserError(f"no in-the-wild model at {path}: make it with `make wild-model` (relpose.lab.wild_model) "
                        "or pass --checkpoint")
    model, ckpt = load_any_model(path)
    model.eval()
    model_fps = checkpoint_fps(ckpt)
    clips = load_clips(config.data_dir)
    names = sorted(clips)[:config.clips] if config.clips else sorted(clips)
    t0 = time.perf_counter()
    views, skipped = [], []
    for ci, name in enumerate(names):
        world = np.asarray(clips[name], np.float64)
        for vi, (camera, height, offset) in enumerate((c, h, o) for c in CAMERAS for h in CAMERA_HEIGHTS_M
                                                      for o in OFFSETS):
            azimuth = np.random.default_rng([config.seed, ci, vi]).uniform(0, 2 * np.pi)
            for distance in DISTANCES_M:
                cam_poses, R, _ = place_camera(world, distance, height, azimuth, offset, camera)
                where = dict(clip=name, camera=camera.name, distance_m=distance, camera_height_m=height, offset=offset)
                if not visible(cam_poses, camera):
                    skipped.append(where)
                    continue
                rng = np.random.default_rng([config.seed, ci, vi, int(distance * 10)])
                views.append({**where, "methods": measure_view(model, model_fps, cam_poses, R[:, 2], height, camera,
                                                                rng)})
        log(f"  {name}: {len(views)} views so far, {len(skipped)} skipped ({time.perf_counter() - t0:.0f} s)")
    return {"checkpoint": os.path.relpath(path, find_root()) if os.path.isabs(path) else path,
            "config": asdict(config), "training_person_size": TRAINING_PERSON_SIZE,
            "cameras": [asdict(c) for c in CAMERAS], "distances_m": list(DISTANCES_M),
            "camera_heights_m": list(CAMERA_HEIGHTS_M), "offsets": list(OFFSETS), "methods": list(METHODS),
            "clips": names, "views": views, "skipped": skipped, "summary": summarise(views),
            "seconds": round(time.perf_counter() - t0, 1)}


def summarise(views: list[dict]) -> dict:
    """{method: {distance: aggregate}}: means of MPJPE/N-MPJPE, medians of the rest over the views."""
    out = {}
    for method in METHODS:
        out[method] = {}
        for d in DISTANCES_M:
            rows = [v["methods"][method] for v in views if v["distance_m"] == d]
            if not rows:
                continue
            col = lambda k: np.array([r[k] for r in rows], float)
            out[method][str(d)] = {
                "views": len(rows), "mpjpe_mm": float(col("mpjpe_mm").mean()),
                "n_mpjpe_mm": float(col("n_mpjpe_mm").mean()), "height_cm": float(np.median(col("height_cm"))),
                "height_cm_iqr": [float(q) for q in np.percentile(col("height_cm"), [25, 75])],
                "true_height_cm": float(np.median(col("true_height_cm"))),
                "hip_width_cm": float(np.median(col("hip_width_cm"))), "zoom": float(np.median(col("zoom"))),
                **{k: float(np.nanmedian(col(k))) for k in rows[0] if k.startswith(("root_error", "floor_angle"))},
                **{k: float(np.nanmedian(np.abs(col(k)))) for k in rows[0] if k.startswith("camera_height")},
                "floor_failures": int(np.isnan(col("floor_angle_deg_known")).sum()),
            }
            walking = [v["methods"][method] for v in views if v["distance_m"] == d and v["clip"] in LOCOMOTION]
            if walking:
                out[method][str(d)].update({f"{k}_locomotion": float(np.nanmedian([r[k] for r in walking]))
                                            for k in ("root_error_cm_known", "floor_angle_deg_known", "height_cm")})
                out[method][str(d)]["mpjpe_mm_locomotion"] = float(np.mean([r["mpjpe_mm"] for r in walking]))
    return out


def tables(result: dict) -> str:
    s = result["summary"]
    pose = [[m, f"{d:g}", a["views"], f"{a['zoom']:.2f}", f"{a['mpjpe_mm']:.0f}", f"{a['n_mpjpe_mm']:.0f}",
             f"{a['height_cm']:.0f} ({a['height_cm_iqr'][0]:.0f}-{a['height_cm_iqr'][1]:.0f})",
             f"{a['true_height_cm']:.0f}", f"{a['hip_width_cm']:.1f}", f"{a.get('mpjpe_mm_locomotion', np.nan):.0f}",
             f"{a.get('height_cm_locomotion', np.nan):.0f}"]
            for m in METHODS for d, a in ((float(k), v) for k, v in s[m].items())]
    first = text_table(["input", "distance m", "views", "zoom", "MPJPE mm", "N-MPJPE mm", "height cm (IQR)",
                        "true cm", "hip width cm", "walk/run: MPJPE", "height cm"], pose, sep="  ",
                       title="lifted poses of the DeepMimic clips seen from virtual cameras (true hip width 17 cm)")
    place = [[m, f"{d:g}", f"{a['root_error_cm_known']:.0f}", f"{a['root_error_cm_guessed']:.0f}",
              f"{a['floor_angle_deg_known']:.1f}", f"{a['floor_angle_deg_guessed']:.1f}",
              f"{a['camera_height_error_cm_known']:.0f}", a["floor_failures"],
              f"{a.get('root_error_cm_known_locomotion', np.nan):.0f}", f"{a.get('floor_angle_deg_known_locomotion', np.nan):.1f}"]
             for m in METHODS for d, a in ((float(k), v) for k, v in s[m].items())]
    second = text_table(["input", "distance m", "root err cm (f known)", "(f = width)", "floor deg (f known)",
                         "(f = width)", "camera height err cm", "no floor",
                         "walk/run: root cm", "floor deg"], place, sep="  ",
                        title="trajectory and floor (medians over views; root error: median over frames)")
    skipped = f"{len(result['skipped'])} views skipped (the body leaves the image), {len(result['views'])} measured"
    return "\n\n".join([first, second, skipped])


def write_result(result: dict, output) -> None:
    """The result as JSON at `output` (written atomically; the caller checked it may be written)."""
    with atomic_path(output, what="results file") as tmp, open(tmp, "w") as f:
        json.dump(result, f, indent=1)
