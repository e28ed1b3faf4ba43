"""The virtual cameras of relpose.lab.wild_distance: where they stand, what they see, and how views are summed up."""
import numpy as np
import pytest

from relpose.errors import UserError
from relpose.lab import wild_distance as wd
from relpose.synth.generator import project

CAMERA = wd.VirtualCamera("test", 1920, 1080, 1500.0)


def standing(T=4):
    """(T, 17, 3) world poses (z up) of a 1.7 m column of joints at (1, 2) on the floor."""
    poses = np.zeros((T, 17, 3))
    poses[..., 0], poses[..., 1] = 1.0, 2.0
    poses[..., 2] = np.linspace(0.05, 1.7, 17)
    return poses


@pytest.mark.parametrize("offset", [0.0, 0.25])
def test_the_camera_stands_at_its_distance_and_height_and_sees_the_centre_where_asked(offset):
    world = standing()
    centre = world.reshape(-1, 3).mean(0)
    cam_poses, R, position = wd.place_camera(world, 4.0, centre[2], 0.7, offset, CAMERA)
    np.testing.assert_allclose(R @ R.T, np.eye(3), atol=1e-12)
    assert np.linalg.det(R) == pytest.approx(1.0)
    assert np.linalg.norm(position[:2] - centre[:2]) == pytest.approx(4.0)
    np.testing.assert_allclose(R[1] @ [0, 0, 1], -1.0)     # level camera: image y points down
    seen = project(((centre - position) @ R.T)[None], wd.camera_dict(CAMERA))[0]
    np.testing.assert_allclose(seen, [960 + offset * 1920, 540], atol=1e-3)
    np.testing.assert_allclose(cam_poses, (world - position) @ R.T)


def test_a_person_too_close_is_not_visible():
    world = standing()
    assert wd.visible(wd.place_camera(world, 6.0, 1.2, 0.0, 0.0, CAMERA)[0], CAMERA)
    assert not wd.visible(wd.place_camera(world, 1.0, 1.2, 0.0, 0.0, CAMERA)[0], CAMERA)


def test_summary_means_and_medians_per_distance_and_method():
    def view(distance, clip, mpjpe, height):
        row = {"zoom": 1.0, "mpjpe_mm": mpjpe, "n_mpjpe_mm": mpjpe / 2, "height_cm": height, "true_height_cm": 160.0,
               "hip_width_cm": 17.0, "root_error_cm_known": 10.0, "root_error_cm_guessed": 20.0,
               "floor_angle_deg_known": np.nan if clip == "crawl" else 2.0, "floor_angle_deg_guessed": 3.0,
               "camera_height_error_cm_known": -5.0, "camera_height_error_cm_guessed": 6.0}
        return {"clip": clip, "distance_m": distance, "methods": {m: row for m in wd.METHODS}}
    views = [view(4.0, "walk", 100.0, 150.0), view(4.0, "crawl", 300.0, 170.0), view(4.0, "run", 110.0, 200.0)]
    s = wd.summarise(views)["recentre"]["4.0"]
    assert s["views"] == 3 and s["mpjpe_mm"] == pytest.approx(170.0) and s["height_cm"] == 170.0
    assert s["mpjpe_mm_locomotion"] == pytest.approx(105.0) and s["height_cm_locomotion"] == pytest.approx(175.0)
    assert s["floor_failures"] == 1 and s["floor_angle_deg_known"] == 2.0 and s["camera_height_error_cm_known"] == 5.0
    table = wd.tables({"summary": wd.summarise(views), "skipped": [], "views": views})
    assert "recentre" in table and "170" in table and "0 views skipped" in table


def test_a_missing_model_is_named(tmp_path):
    with pytest.raises(UserError, match="no in-the-wild model at .*nothing.bin"):
        wd.run(wd.WildDistanceConfig(checkpoint=str(tmp_path / "nothing.bin")))
    from relpose.cli.wild_distance import main
    assert main(["--checkpoint", str(tmp_path / "nothing.bin"), "--output", str(tmp_path / "x.json")]) == 2
    assert not (tmp_path / "x.json").exists()
    assert main(["--clips", "0"]) == 2
