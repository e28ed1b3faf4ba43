"""Cameras people use (relpose.synth.wild_cameras): aimed at their target, lenses and images of phones and webcams,
placed where people stand, and in the kit's camera conventions."""
import numpy as np
import pytest

from relpose.cameras import camera_to_world, project_to_2d, world_to_camera
from relpose.synth.generator import project
from relpose.synth.wild_cameras import draw_camera

# The test's own statement of the ranges (relpose.synth.wild_cameras says where they come from): degrees across
# the image's long side for phones (24-28 mm and 48-52 mm equivalent over 34.6 mm), across the width for webcams.
LONG_SIDE_FOV = {"phone": (2 * np.degrees(np.arctan(17.31 / 28)), 2 * np.degrees(np.arctan(17.31 / 24))),
                 "phone 2x": (2 * np.degrees(np.arctan(17.31 / 52)), 2 * np.degrees(np.arctan(17.31 / 48)))}
SIZES = {"phone": {(1920, 1080), (1080, 1920), (1280, 720), (720, 1280)},
         "webcam": {(1920, 1080), (1280, 720), (640, 480)}}


@pytest.fixture(scope="module")
def drawn():
    rng = np.random.default_rng(7)
    targets = np.column_stack([rng.uniform(-2, 2, 400), rng.uniform(-2, 2, 400), rng.uniform(0.4, 1.1, 400)])
    return [(t, draw_camera(rng, t)) for t in targets]


def test_every_camera_looks_at_its_target(drawn):
    for target, c in drawn:
        cam = c.camera("x")
        X = world_to_camera(target.astype(np.float32), cam["orientation"], cam["translation"])
        off_axis = np.degrees(np.arctan2(np.linalg.norm(X[:2]), X[2]))
        assert X[2] > 0 and off_axis < 3.0 * np.sqrt(2) + 0.01          # the aim's jitter, no more
        u, v = project(target[None, None].astype(np.float32), cam)[0, 0]
        assert abs(u - c.res_w / 2) < c.res_w / 4 and abs(v - c.res_h / 2) < c.res_h / 4


def test_lenses_and_images_of_phones_and_webcams(drawn):
    kinds = [c.kind for _, c in drawn]
    assert set(kinds) == {"phone", "phone 2x", "webcam"}
    for _, c in drawn:
        size = (c.res_w, c.res_h)
        assert size in SIZES["webcam" if c.kind == "webcam" else "phone"]
        if c.kind == "webcam":
            assert 60 <= c.horizontal_fov() <= 80
        else:
            lo, hi = LONG_SIDE_FOV[c.kind]
            assert lo - 1e-6 <= np.degrees(2 * np.arctan(max(size) / 2 / c.focal)) <= hi + 1e-6
        cam = c.camera("x")
        # the principal point within 1% of each side of the image centre (normalised: the centre is 0, 0)
        assert abs(cam["center"][0]) <= 0.02 + 1e-6 and abs(cam["center"][1]) <= 0.02 * c.res_h / c.res_w + 1e-6
        k1, k2, k3 = cam["radial_distortion"]
        assert -0.06 <= k1 <= 0 and k2 == k3 == 0 and np.abs(cam["tangential_distortion"]).max() <= 5e-4
    portrait = [c for _, c in drawn if c.res_h > c.res_w]
    assert portrait and all(c.kind != "webcam" for c in portrait)


def test_placed_where_people_stand_upright_but_for_a_little_roll(drawn):
    tilts = []
    for target, c in drawn:
        cam = c.camera("x")
        where = cam["translation"]
        assert 0.1 - 1e-6 <= where[2] <= 2.5 + 1e-6
        assert 2 - 1e-5 <= np.linalg.norm(where[:2] - target[:2]) <= 8 + 1e-5
        # up from below the target, down from above it (but where the aim's jitter tips it over)
        elevation = np.degrees(np.arctan2(target[2] - where[2], np.linalg.norm(target[:2] - where[:2])))
        forward = camera_to_world(np.array([0, 0, 1], np.float32), cam["orientation"], np.zeros(3, np.float32))
        assert abs(elevation) <= 3.01 or (forward[2] > 0) == (elevation > 0)
        tilts.append(np.degrees(np.arcsin(forward[2])))
        # the image's x axis stays within the roll's 5 degrees of level
        right = camera_to_world(np.array([1, 0, 0], np.float32), cam["orientation"], np.zeros(3, np.float32))
        assert abs(np.degrees(np.arcsin(right[2]))) <= 5.0 + 1e-3
        assert abs(np.linalg.norm(cam["orientation"]) - 1) < 1e-6
    assert min(tilts) < -20 and max(tilts) > 10       # from above the head and from the floor


def test_world_camera_world_round_trip_and_the_records_pixels(drawn):
    rng = np.random.default_rng(3)
    for target, c in drawn[:50]:
        cam = c.camera("x")
        points = (target + rng.normal(0, 0.5, (20, 3))).astype(np.float32)
        back = camera_to_world(world_to_camera(points, cam["orientation"], cam["translation"]), cam["orientation"],
                               cam["translation"])
        assert np.allclose(back, points, atol=1e-4)
        record = c.record("x")
        assert record["focal_length"][0] == pytest.approx(cam["focal_length"][0] * c.res_w / 2, rel=1e-6)
        assert np.allclose(np.asarray(record["translation"]) / 1000, cam["translation"])
        # the lens model: a point on the optical axis lands on the principal point
        on_axis = project_to_2d(np.array([[0, 0, 3.0]], np.float32), cam["intrinsic"])
        assert np.allclose(on_axis[0], cam["intrinsic"][2:4])


def test_the_same_seed_draws_the_same_cameras():
    one = [draw_camera(np.random.default_rng(5), (0, 0, 1)).record(str(i)) for i in range(2)]
    assert one[0] == {**one[1], "id": "0"}
    other = draw_camera(np.random.default_rng(6), (0, 0, 1)).record("0")
    assert other != one[0]


def test_a_camera_moved_back_keeps_its_lens_and_aim():
    c = draw_camera(np.random.default_rng(1), (0.2, 0.6, 0.9))
    far = c.moved_back(1.5)
    assert far.distance == pytest.approx(1.5 * c.distance) and far.focal == c.focal and far.height == c.height
    X = world_to_camera(np.array([0.2, 0.6, 0.9], np.float32), far.camera("x")["orientation"],
                        far.camera("x")["translation"])
    assert np.degrees(np.arctan2(np.linalg.norm(X[:2]), X[2])) < 3.0 * np.sqrt(2) + 0.01
    assert c.framing_distance(1.8) > c.framing_distance(1.0)                 # a taller body, farther
