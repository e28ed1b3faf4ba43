"""What `python -m relpose.cli.wild` (and so `make wild`) writes for a detector's file, end to end: the video's own
frame numbers (a COCO file whose first image is 650), frames with nobody marked and left out of the checks, the
BVH read back by an independent reader (pybvh) equal to the joints JSON, two people in one file each lifted and
drawn, and a chest-up take whose legs are reported and marked as guesses."""
import json
import warnings

import numpy as np
import pybvh

from relpose.cameras import image_coordinates
from relpose.cli import keypoints as cli_keypoints
from relpose.cli import wild as cli_wild
from relpose.datasets import load_dataset
from relpose.wild import detections as wd
from relpose.wild.joints_json import read_joints_json

from test_wild_detections_frames import chest_up_take
from test_wild_lift import _coco_from_h36m

SIZE = (1000, 1002)


def walker(tiny_data_dir, frames: int = 40, dx: float = 0.0) -> np.ndarray:
    """COCO-17 pixels of a synthetic test subject walking (a body the model can lift), shifted by dx pixels."""
    synth = load_dataset("synth", "gt", tiny_data_dir)
    take = synth.positions_2d["S9"][synth.actions("S9")[0]][0][:frames]
    coco = _coco_from_h36m(image_coordinates(take, w=SIZE[0], h=SIZE[1]))
    coco[..., 0] += dx
    return coco


def coco_results(path, people: dict, first_image: int = 0, nobody=()) -> str:
    """A COCO keypoint results file: {score: (T, 17, 2) pixels}, image ids from `first_image`."""
    entries = []
    for score, points in people.items():
        for t, p in enumerate(points):
            if first_image + t in nobody:
                continue
            flat = np.concatenate([p, np.full((17, 1), 0.9)], 1).ravel().tolist()
            entries.append({"image_id": first_image + t, "category_id": 1, "keypoints": flat, "score": score})
    path.write_text(json.dumps(entries))
    return str(path)


def wild(tmp_path, name: str, checkpoint, *more) -> None:
    assert cli_wild.main(["-k", name, "--data-dir", str(tmp_path / "data"), "--checkpoint", str(checkpoint),
                          "--out-dir", str(tmp_path / "out"), "--gif", "--limit", "2", "--no-progress", *more]) == 0


def bvh_positions(path) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # pybvh guesses the up axis and warns when its two guesses differ
        return pybvh.read_bvh_file(path, world_up="+y").node_positions() / 100   # cm -> m, (T, nodes, 3)


def test_frames_keep_the_videos_numbers_and_frames_with_nobody_are_marked(tiny_data_dir, tiny_checkpoint, tmp_path,
                                                                        capsys):
    results = coco_results(tmp_path / "res.json", {0.9: walker(tiny_data_dir)}, first_image=650, nobody=(660, 661))
    assert cli_keypoints.main([results, "--name", "walk", "--width", str(SIZE[0]), "--height", str(SIZE[1]),
                               "--fps", "50", "--data-dir", str(tmp_path / "data")]) == 0
    capsys.readouterr()
    wild(tmp_path, "walk", tiny_checkpoint)
    said = capsys.readouterr().out
    assert "video frames 650-689 (2 with nobody detected, filled in time and marked in the JSON)" in said
    assert "2 frames with nobody detected, filled in time, left out" in said   # the plausibility checks skip them
    joints = read_joints_json(tmp_path / "out" / "walk.json")
    np.testing.assert_array_equal(joints.frames, np.arange(650, 690))
    np.testing.assert_array_equal(np.flatnonzero(joints.interpolated) + 650, [660, 661])
    assert np.load(tmp_path / "out" / "walk.npy").shape == (40, 17, 3)
    # The HTML's slider counts the video's frames.
    page = (tmp_path / "out" / "walk.html").read_text()
    assert '"label":"650"' in page.replace(" ", "") and '"label":"0"' not in page.replace(" ", "")

    # The BVH, read back by pybvh: one frame per video frame, its root on the joints JSON's root path
    # (JSON: z up, metres; BVH: y up, centimetres), its joints within the constant-bone fit of the JSON's.
    bvh = bvh_positions(tmp_path / "out" / "walk.bvh")
    assert len(bvh) == 40
    root = joints.poses[:, 0]
    np.testing.assert_allclose(bvh[:, 0], np.stack([root[:, 0], root[:, 2], -root[:, 1]], 1), atol=1e-3)
    fit = float(said.split("constant bones: ")[1].split(" mm")[0])
    pelvis_to_feet = [joints.joint_names.index(n) for n in ("RFoot", "LFoot")]
    feet_json = joints.poses[:, pelvis_to_feet][..., [0, 2, 1]] * [1, 1, -1]
    feet_bvh = np.stack([bvh[:, i] for i in nearest_nodes(bvh, feet_json)], 1)
    assert np.linalg.norm(feet_bvh - feet_json, axis=-1).mean() * 1000 < 3 * fit + 5


def nearest_nodes(bvh: np.ndarray, targets: np.ndarray) -> list[int]:
    """The BVH node closest on average to each target joint (names differ: End Sites have none in pybvh)."""
    d = np.linalg.norm(bvh[:, :, None] - targets[:, None], axis=-1).mean(0)   # (nodes, targets)
    return [int(i) for i in d.argmin(0)]


def test_two_people_in_one_file_are_each_lifted_and_drawn(tiny_data_dir, tiny_checkpoint, tmp_path, capsys):
    results = coco_results(tmp_path / "two.json", {0.9: walker(tiny_data_dir), 0.6: walker(tiny_data_dir, dx=-500)})
    assert cli_keypoints.main([results, "--name", "two", "--width", str(SIZE[0]), "--height", str(SIZE[1]),
                               "--person", "all", "--data-dir", str(tmp_path / "data")]) == 0
    assert "2 people found" in capsys.readouterr().out
    wild(tmp_path, "two", tiny_checkpoint)
    said = capsys.readouterr().out
    assert "person 1: " in said and "person 2: " in said
    out = tmp_path / "out"
    for n in (1, 2):
        assert np.load(out / f"two.person{n}.npy").shape == (40, 17, 3)
        assert read_joints_json(out / f"two.person{n}.json").poses.shape == (40, 17, 3)
        assert (out / f"two.person{n}.bvh").stat().st_size > 1000
    page = (out / "two.html").read_text()
    assert "person 1" in page and "person 2" in page   # both drawn, one legend entry each
    assert not (out / "two.npy").exists()
    # The two stand 500 px apart in the image: their roots are apart in space too.
    a, b = (read_joints_json(out / f"two.person{n}.json").poses[:, 0] for n in (1, 2))
    assert np.linalg.norm(a - b, axis=-1).min() > 0.3


def test_a_chest_up_take_says_its_legs_are_guesses_and_marks_them(tiny_checkpoint, tmp_path, capsys):
    path = wd.write_mediapipe_json(tmp_path / "chest.json", chest_up_take(frames=30), width=64, height=48,
                                   video="chest.mp4", fps=25.0)
    assert cli_keypoints.main([str(path), "--name", "chest", "--data-dir", str(tmp_path / "data")]) == 0
    capsys.readouterr()
    wild(tmp_path, "chest", tiny_checkpoint)
    said = capsys.readouterr().out
    assert "the legs are not in view in 97% of frames: the 3D legs are guesses" in said
    joints = read_joints_json(tmp_path / "out" / "chest.json")
    legs = [joints.joint_names.index(n) for n in ("RKnee", "RFoot", "LKnee", "LFoot")]
    assert not joints.seen[1:, legs].any() and joints.seen[1:, joints.joint_names.index("LShoulder")].all()
