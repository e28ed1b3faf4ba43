"""Cameras people film with: phones (the main camera and the 2x one, held landscape or portrait) and webcams,
placed around a person and aimed at them, as records in the JSON rig's form and as the kit's camera dicts.

Facts the ranges rest on:
- A "35 mm equivalent" focal length gives the field of view of that lens on a 36 x 24 mm frame, whose diagonal
  is 43.27 mm. Phone sensors are 4:3 and 16:9 video uses their full width, which is 4/5 of the 4:3 diagonal: the
  long side of the image spans 34.6 mm of the equivalent frame, so focal (pixels) = long side (pixels) x f_eq /
  34.6 mm. (Electronic video stabilisation crops a few percent more; not modelled.)
- Phone main cameras: Apple states 26 mm for the wide camera of the iPhone 11 to 13 and 24 mm from the iPhone
  14 Pro on. 2x: the telephoto of the iPhone 7 Plus to 12 Pro is 52 mm; the 2x of the iPhone 14 Pro and later
  is 48 mm (the central part of the main sensor). Hence 24-28 mm (horizontal field of view 63-72 degrees held
  landscape) and 48-52 mm (37-40 degrees).
- Webcams: Logitech states diagonal fields of view of 55 degrees for the C270, 78 for the C920 (70 across a
  16:9 image) and up to 90 for the Brio (82 across); 60-80 degrees across the image covers the common ones.
- Frame sizes: phones record 1920 x 1080 and 1280 x 720 video, held landscape or portrait (1080 x 1920,
  720 x 1280); webcams record 1920 x 1080, 1280 x 720 and 640 x 480 (VGA), landscape only.
- Lens distortion: phones correct it in their image pipeline, leaving little; the wide lenses of webcams show
  barrel distortion (k1 < 0). Human3.6M's calibrated lab cameras have k1 of about -0.2 (its calibration file),
  so both ranges here are small beside the lab's: k1 in [-0.02, 0] for phones, [-0.06, 0] for webcams; k2 = k3 =
  0; tangential coefficients within 5e-4 (a lens a little off the sensor's axis); the principal point within 1%
  of the image size of its centre.
- Placement: the camera is 0.1 m (a phone on the floor, looking up) to 2.5 m (held over the head, or on a
  shelf, looking down) above the floor and 2-8 m from the person along the floor; it is aimed at the target
  (the person's middle) to within AIM_JITTER_DEG either way, and rolled by up to 5 degrees when held in a hand
  (2 for a webcam on its stand).

Conventions are the kit's (relpose.cameras): world z up, the floor at z = 0; camera x right, y down, z forward;
the orientation rotates camera coordinates into world coordinates.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from scipy.spatial.transform import Rotation

from ..cameras import camera_from_record

EQUIVALENT_LONG_SIDE_MM = 43.27 * 4 / 5   # the long side of a 4:3 image in the 35 mm equivalent frame
PHONE_MM = {"phone": (24.0, 28.0), "phone 2x": (48.0, 52.0)}   # 35 mm equivalent focal lengths
WEBCAM_HFOV_DEG = (60.0, 80.0)
PHONE_SIZES = ((1920, 1080), (1080, 1920), (1280, 720), (720, 1280))
WEBCAM_SIZES = ((1920, 1080), (1280, 720), (640, 480))
KIND_SHARES = {"phone": 0.5, "phone 2x": 0.2, "webcam": 0.3}   # how often each kind is drawn (a choice)
RADIAL_K1 = {"phone": (-0.02, 0.0), "phone 2x": (-0.02, 0.0), "webcam": (-0.06, 0.0)}
TANGENTIAL = 5e-4
CENTRE_OFFSET = 0.01      # the principal point's largest offset from the image centre, a fraction of each side
HEIGHT_M = (0.1, 2.5)
DISTANCE_M = (2.0, 8.0)
AIM_JITTER_DEG = 3.0
ROLL_DEG = {"phone": 5.0, "phone 2x": 5.0, "webcam": 2.0}


@dataclass(frozen=True)
class WildCamera:
    """A drawn camera: its lens and image, and where it stands and looks (metres and radians)."""

    kind: str                                 # 'phone', 'phone 2x' or 'webcam'
    res_w: int
    res_h: int
    focal: float                              # pixels, square pixels
    centre: tuple[float, float]               # principal point, pixels
    radial: tuple[float, float, float]
    tangential: tuple[float, float]
    target: tuple[float, float, float]        # the world point it is aimed at
    azimuth: float                            # direction from the target to the camera, about the vertical
    distance: float                           # from the target along the floor
    height: float                             # above the floor
    aim: tuple[float, float]                  # yaw and pitch of the aim off the target
    roll: float

    def position(self) -> np.ndarray:
        x, y, _ = self.target
        return np.array([x + self.distance * np.cos(self.azimuth), y + self.distance * np.sin(self.azimuth),
                         self.height])

    def rotation(self) -> np.ndarray:
        """(3, 3) camera -> world: columns are the camera's x (right), y (down) and z (forward) in the world."""
        to_target = np.asarray(self.target, float) - self.position()
        heading = np.arctan2(to_target[1], to_target[0]) + self.aim[0]
        elevation = np.arctan2(to_target[2], np.hypot(to_target[0], to_target[1])) + self.aim[1]
        forward = np.array([np.cos(elevation) * np.cos(heading), np.cos(elevation) * np.sin(heading),
                            np.sin(elevation)])
        right = np.cross(forward, [0.0, 0.0, 1.0])
        right /= np.linalg.norm(right)
        down = np.cross(forward, right)
        c, s = np.cos(self.roll), np.sin(self.roll)      # turned about the forward axis
        return np.stack([c * right + s * down, c * down - s * right, forward], axis=1)

    def moved_back(self, factor: float) -> "WildCamera":
        """The same camera `factor` times as far from the target along the floor, aimed at it again."""
        return replace(self, distance=self.distance * factor)

    def framing_distance(self, extent: float, fill: float = 0.8) -> float:
        """The distance along the floor at which a vertical `extent` (metres) about the target fills `fill` of
        the image's height (no nearer than the camera's height above the target allows)."""
        along_axis = extent / 2 / (fill * self.res_h / 2 / self.focal)
        return float(np.sqrt(max(along_axis ** 2 - (self.height - self.target[2]) ** 2, 0.0)))

    def record(self, name: str) -> dict:
        """The camera in the JSON rig's form (relpose.cameras.camera_from_record): pixels, millimetres, plain
        numbers."""
        x, y, z, w = Rotation.from_matrix(self.rotation()).as_quat()
        q = np.array([w, x, y, z]) * (1 if w >= 0 else -1)       # one of the two signs, always the same
        return {"id": name, "kind": self.kind, "res_w": self.res_w, "res_h": self.res_h,
                "azimuth": round(float(np.degrees(self.azimuth) + 180) % 360 - 180),   # the 3D view's, degrees
                "center": [float(v) for v in self.centre], "focal_length": [float(self.focal)] * 2,
                "radial_distortion": [float(v) for v in self.radial],
                "tangential_distortion": [float(v) for v in self.tangential],
                "orientation": [float(v) for v in q], "translation": [float(v) * 1000 for v in self.position()]}

    def camera(self, name: str) -> dict:
        """The kit's camera dict (relpose.cameras.load_rig's form)."""
        return camera_from_record(self.record(name))

    def horizontal_fov(self) -> float:
        """Degrees across the image's width."""
        return float(np.degrees(2 * np.arctan(self.res_w / 2 / self.focal)))


def _focal(rng, kind: str, width: int, height: int) -> float:
    if kind == "webcam":
        return width / 2 / np.tan(np.radians(rng.uniform(*WEBCAM_HFOV_DEG)) / 2)
    return max(width, height) * rng.uniform(*PHONE_MM[kind]) / EQUIVALENT_LONG_SIDE_MM


def draw_camera(rng, target, azimuth: float | None = None) -> WildCamera:
    """A camera people use, aimed at the world point `target` (metres); from the direction `azimuth` (radians
    about the vertical, from the target) when given, else from any direction."""
    kind = str(rng.choice(list(KIND_SHARES), p=list(KIND_SHARES.values())))
    sizes = WEBCAM_SIZES if kind == "webcam" else PHONE_SIZES
    width, height = sizes[rng.integers(len(sizes))]
    focal = _focal(rng, kind, width, height)
    centre = tuple(float(v) for v in np.array([width, height]) * (0.5 + rng.uniform(-1, 1, 2) * CENTRE_OFFSET))
    radial = (float(rng.uniform(*RADIAL_K1[kind])), 0.0, 0.0)
    tangential = tuple(float(v) for v in rng.uniform(-TANGENTIAL, TANGENTIAL, 2))
    azimuth = float(rng.uniform(-np.pi, np.pi) if azimuth is None else azimuth)
    aim = tuple(float(v) for v in np.radians(rng.uniform(-AIM_JITTER_DEG, AIM_JITTER_DEG, 2)))
    return WildCamera(kind, int(width), int(height), float(focal), centre, radial, tangential,
                      tuple(float(v) for v in target), azimuth, float(rng.uniform(*DISTANCE_M)),
                      float(rng.uniform(*HEIGHT_M)), aim, float(np.radians(rng.uniform(-1, 1) * ROLL_DEG[kind])))
