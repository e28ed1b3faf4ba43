"""Where the person is (relpose.wild.trajectory): the root from exact 2D of synthetic takes, the floor under
feet seen by a tilted camera, and the world frame with z up and the floor at z = 0."""
import numpy as np
import pytest

from relpose.errors import UserError
from relpose.keypoint_layouts import get_layout
from relpose.skeleton import H36M_17, reduce_h36m_32_to_17
from relpose.synth import FPS, make_body, make_motion, pose_from_motion
from relpose.synth.coco import coco_keypoints_3d
from relpose.wild import plausibility, trajectory
from relpose.wild.trajectory import camera_trajectory, ground_plane, to_world

WIDTH, HEIGHT, FOCAL = 1920, 1080, 1500.0


def take(action="Walking", frames=150, seed=0):
    """(world positions (T, 32, 3), z up, floor at z = 0) of a synthetic take of subject S1."""
    body = make_body("S1", 0)
    return pose_from_motion(body, make_motion(np.random.default_rng(seed), body, action, frames))


def camera(world, height=1.5, distance=6.0, roll_deg=5.0):
    """R (3, 3) world -> camera rows (x right, y down, z forward) and the camera's position: `distance` m from
    the take's mean position, `height` m up, looking at the body's mean centre, rolled by `roll_deg`."""
    centre = world.reshape(-1, 3).mean(0)
    position = centre + np.array([distance * 0.6, -distance * 0.8, 0.0])
    position[2] = height
    z = (centre - position) / np.linalg.norm(centre - position)
    x = np.cross(z, [0.0, 0.0, 1.0])
    x /= np.linalg.norm(x)
    R = np.stack([x, np.cross(z, x), z])
    a = np.radians(roll_deg)
    roll = np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1]])
    return roll @ R, position


def pinhole(X, focal=FOCAL):
    return focal * X[..., :2] / X[..., 2:] + np.array([WIDTH / 2, HEIGHT / 2])


def in_camera(world, R, position):
    return (world - position) @ R.T


def angle_deg(a, b):
    return np.degrees(np.arccos(np.clip(np.dot(a, b) / np.linalg.norm(a) / np.linalg.norm(b), -1, 1)))


# ------------------------------------------------------------------------------------ the root
@pytest.mark.parametrize("focal", [FOCAL, None])
def test_root_is_exact_on_exact_2d(focal):
    world = take()
    R, position = camera(world)
    cam = in_camera(reduce_h36m_32_to_17(world), R, position)
    kp = pinhole(cam, WIDTH if focal is None else focal)
    root = camera_trajectory(cam - cam[:, :1], kp, WIDTH, HEIGHT, focal=focal)
    assert np.abs(root - cam[:, 0]).max() < 1e-3


def test_coco_keypoints_place_the_root_exactly_from_the_joints_they_share():
    """A COCO detector's head, thorax and spine points are not Human3.6M's joints: used as such, they move the
    root by centimetres; camera_trajectory leaves them out and stays exact."""
    world = take()
    R, position = camera(world)
    cam = in_camera(reduce_h36m_32_to_17(world), R, position)
    rel = cam - cam[:, :1]
    coco = pinhole(in_camera(coco_keypoints_3d(world), R, position))
    for kwargs in (dict(keypoints_px=coco, layout="coco-17"),
                   dict(keypoints_px=get_layout("coco-17").to_h36m17(coco), converted=True)):
        root = camera_trajectory(rel, width=WIDTH, height=HEIGHT, focal=FOCAL, **kwargs)
        assert np.abs(root - cam[:, 0]).max() < 1e-3
    naive = camera_trajectory(rel, get_layout("coco-17").to_h36m17(coco), WIDTH, HEIGHT, focal=FOCAL)
    assert np.median(np.linalg.norm(naive - cam[:, 0], axis=-1)) > 0.01


def test_confidences_weight_the_joints_and_bad_keypoints_are_user_errors():
    world = take(frames=20)
    R, position = camera(world)
    cam = in_camera(reduce_h36m_32_to_17(world), R, position)
    kp = np.concatenate([pinhole(cam), np.ones((20, 17, 1))], -1)
    kp[:, 13, :2] += 200.0      # a wrist 200 px off...
    kp[:, 13, 2] = 0.0          # ...that the detector did not trust
    root = camera_trajectory(cam - cam[:, :1], kp, WIDTH, HEIGHT, focal=FOCAL)
    assert np.abs(root - cam[:, 0]).max() < 1e-3
    with pytest.raises(UserError, match=r"keypoints_px must be \(T, 17, 2 or 3\)"):
        camera_trajectory(cam, kp[:, :16], WIDTH, HEIGHT)
    with pytest.raises(UserError, match="unknown keypoint layout|no layout|layout"):
        camera_trajectory(cam, kp, WIDTH, HEIGHT, layout="nonsense-3")


def test_plausibility_places_the_root_with_the_same_function():
    assert plausibility.pseudo_trajectory is trajectory.pseudo_trajectory
    assert plausibility.feet is trajectory.feet


# ----------------------------------------------------------------------------------- the floor
@pytest.mark.parametrize("action, degrees, metres", [("Walking", 0.5, 0.03), ("Waiting", 2.0, 0.15)])
def test_ground_plane_of_a_known_floor_seen_by_a_tilted_rolled_camera(action, degrees, metres):
    """Exact positions, a camera 1.5 m up, rolled 5 degrees, 6 m away. Walking, the planted feet spread over
    the floor and fix it (measured: 0.01 degrees, camera height 1.486 m: the ankle sits 8.5 cm above the
    synthetic floor, the anthropometric 0.039 H = 6.3 cm). Waiting, the feet stay on a line, and the tilt
    across it is the body's up direction's (measured: 1.46 degrees; 6 m away that is the camera height off by
    12 cm, 1.375 m)."""
    world = take(action)
    R, position = camera(world)
    cam = in_camera(reduce_h36m_32_to_17(world), R, position)
    normal, offset = ground_plane(cam, H36M_17, fps=FPS)
    assert angle_deg(normal, R[:, 2]) < degrees
    assert -offset == pytest.approx(1.5, abs=metres)


def test_ground_plane_ignores_frames_placed_wrongly():
    world = take()
    R, position = camera(world)
    cam = in_camera(reduce_h36m_32_to_17(world), R, position)
    clean = ground_plane(cam, H36M_17, fps=FPS)
    bad = cam.copy()
    bad[40:52] -= 0.3 * R[:, 2]           # twelve frames placed 30 cm too low, as a bad root estimate would
    normal, offset = ground_plane(bad, H36M_17, fps=FPS)
    assert angle_deg(normal, clean[0]) < 0.5 and offset == pytest.approx(clean[1], abs=0.01)


def test_ground_plane_needs_placed_frames_and_planted_feet():
    with pytest.raises(UserError, match="at least 2 frames"):
        ground_plane(np.full((10, 17, 3), np.nan), H36M_17)
    pose = reduce_h36m_32_to_17(take(frames=3))
    with pytest.raises(UserError, match="planted foot positions; it needs 3"):
        ground_plane(pose[:2], H36M_17, contact_height=-1.0)


# ---------------------------------------------------------------------------------- the world
def test_to_world_puts_the_floor_at_zero_and_the_camera_above_the_origin():
    world = reduce_h36m_32_to_17(take())
    R, position = camera(world)
    cam = in_camera(world, R, position)
    plane = (R[:, 2], -position[2])                              # the true floor, in camera space
    out = to_world(cam - cam[:, :1], cam[:, 0], plane)
    np.testing.assert_allclose(out[..., 2], world[..., 2], atol=1e-9)    # heights over the floor
    # a rigid motion of the true world: distances between any two points are kept
    a, b = out.reshape(-1, 3), world.reshape(-1, 3)
    np.testing.assert_allclose(np.linalg.norm(a[1:] - a[0], axis=-1), np.linalg.norm(b[1:] - b[0], axis=-1), atol=1e-9)
    # the camera stands over the origin, looking along +y
    origin = to_world(np.zeros((1, 1, 3)), np.zeros((1, 3)), plane)[0, 0]
    np.testing.assert_allclose(origin, [0, 0, position[2]], atol=1e-9)
    ahead = to_world(np.zeros((1, 1, 3)), np.array([[0.0, 0.0, 1.0]]), plane)[0, 0] - origin
    assert ahead[0] == pytest.approx(0, abs=1e-9) and ahead[1] > 0.9


def test_to_world_of_estimated_floor_and_path():
    """From exact 2D only: the root placed, the floor found, the world built; heights within 3 cm of the truth."""
    world32 = take()
    world = reduce_h36m_32_to_17(world32)
    R, position = camera(world32)
    cam = in_camera(world, R, position)
    rel = cam - cam[:, :1]
    root = camera_trajectory(rel, pinhole(cam), WIDTH, HEIGHT, focal=FOCAL)
    out = to_world(rel, root, ground_plane(rel + root[:, None], H36M_17, fps=FPS))
    assert np.abs(out[..., 2] - world[..., 2]).max() < 0.03


def test_to_world_bad_shapes():
    with pytest.raises(UserError, match=r"poses \(T, J, 3\) and a trajectory \(T, 3\)"):
        to_world(np.zeros((5, 17, 3)), np.zeros((4, 3)), (np.array([0, -1.0, 0]), -1.5))
    with pytest.raises(UserError, match="looking straight down"):
        to_world(np.zeros((5, 17, 3)), np.zeros((5, 3)), (np.array([0, 0, -1.0]), -1.5))
