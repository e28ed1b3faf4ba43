"""The custom 2D file's per-video masks ('interpolated' (T,), 'seen' (T, J)) and person entries: written as
numpy bool arrays inside video_metadata, read back through relpose.safe_npz, defaults for files without
them (VideoPose3D's own), refusals, and the custom data set's cameras."""
import numpy as np
import pytest

from relpose.custom_keypoints import custom_file, read_custom, write_custom
from relpose.datasets import load_dataset
from relpose.errors import DataError, UserError
from relpose.safe_npz import load_npz


def entry(frames: int = 5, joints: int = 17, **more) -> dict:
    rng = np.random.default_rng(frames)
    return {"keypoints": rng.uniform(0, 60, (frames, joints, 2)), "width": 64, "height": 48, "fps": 25.0, **more}


def test_masks_and_person_round_trip_through_the_file_and_the_data_set(tmp_path):
    interpolated = np.array([False, True, True, False, False])
    seen = np.ones((5, 17), bool)
    seen[interpolated] = False
    seen[:, 15:] = False                                     # the ankles never seen
    path = write_custom(custom_file(tmp_path, "m"), {
        "clip.mp4.person2": entry(interpolated=interpolated, seen=seen, first_frame=650, person=2, video="clip.mp4"),
        "old.mp4": (entry(3)["keypoints"], 64, 48, None)}, "coco-17")
    # stored as bool arrays in video_metadata, and safe_npz reads them back as such
    meta = load_npz(path, keys=("metadata",))["metadata"].item()
    stored = meta["video_metadata"]["clip.mp4.person2"]
    assert stored["interpolated"].dtype == np.bool_ and stored["seen"].dtype == np.bool_
    assert {k: stored[k] for k in ("first_frame", "person", "video")} == {"first_frame": 650, "person": 2,
                                                                         "video": "clip.mp4"}
    videos, layout, _ = read_custom(path)
    v = videos["clip.mp4.person2"]
    np.testing.assert_array_equal(v["interpolated"], interpolated)
    np.testing.assert_array_equal(v["seen"], seen)
    assert (v["first_frame"], v["person"], v["video"]) == (650, 2, "clip.mp4")
    # a file without them (VideoPose3D's, or written as a tuple): nothing interpolated, everything seen
    old = videos["old.mp4"]
    assert old["interpolated"].tolist() == [False] * 3 and old["seen"].shape == (3, 17) and old["seen"].all()
    assert (old["person"], old["video"], old["first_frame"]) == (None, "old.mp4", 0)

    dataset = load_dataset("custom", "m", tmp_path)
    cam = dataset.cameras["clip.mp4.person2"][0]
    assert cam["first_frame"] == 650
    np.testing.assert_array_equal(cam["interpolated"], interpolated)
    np.testing.assert_array_equal(cam["seen"], seen)
    assert dataset.cameras["old.mp4"][0]["seen"].all()


def test_masks_of_the_wrong_kind_are_refused_written_and_read(tmp_path):
    cases = {"interpolated": (np.zeros(4, bool), "'interpolated' must be a bool array of shape (5,), got bool (4,)"),
             "seen": (np.ones((5, 17), np.uint8), "'seen' must be a bool array of shape (5, 17), got uint8"),
             "person": (0, "'person' must be a person's number, 1 or more, got 0"),
             "video": ("", "'video' must be the video's name")}
    for key, (value, said) in cases.items():
        with pytest.raises(UserError) as err:
            write_custom(tmp_path / f"w_{key}.npz", {"clip": entry(**{key: value})}, "coco-17")
        assert said in str(err.value) and "'clip'" in str(err.value) and "\n" not in str(err.value)
        assert not (tmp_path / f"w_{key}.npz").exists()
    with pytest.raises(UserError, match="any of fps, first_frame, interpolated, seen, person, video; got keys"):
        write_custom(tmp_path / "x.npz", {"clip": entry(colour="red")}, "coco-17")

    # read: a file someone else wrote with masks that do not fit
    for key, (value, said) in cases.items():
        path = tmp_path / f"data_2d_custom_r_{key}.npz"
        np.savez_compressed(path, positions_2d={"clip": {"custom": [np.zeros((5, 17, 2), np.float32)]}},
                            metadata={"layout_name": "coco", "num_joints": 17, "keypoints_symmetry": [[1], [2]],
                                      "video_metadata": {"clip": {"w": 64, "h": 48, key: value}}})
        with pytest.raises(DataError) as err:
            read_custom(path)
        assert said in str(err.value) and str(path) in str(err.value) and "\n" not in str(err.value)
