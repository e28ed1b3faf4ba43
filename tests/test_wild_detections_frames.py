"""Where the keypoints sit in the video (first_frame from the detector's frame numbers), leading and trailing
frames without the person trimmed (never held), interior gaps interpolated and marked, and the joints the
detector saw: the `seen` mask, its Human3.6M-17 version, and the one line about parts out of view."""
import numpy as np
import pytest

from relpose.cli import keypoints as cli
from relpose.errors import UserError
from relpose.keypoint_layouts import get_layout, seen_in_layout
from relpose.wild import detections as wd
from relpose.wild.visibility import body_part, unseen_parts, unseen_report

from test_wild_detections import flat, person, write_json

FRAMES = range(650, 658)          # the images the detector ran on: video frames 650-657
GAP = (653, 654)                  # nobody detected there


def step(frame: int) -> np.ndarray:
    """The person at video frame `frame`: 10 px further right each frame (linear: interpolation is exact)."""
    return person(17, dx=10 * (frame - 650))


def check_aligned(path, video_name: str, report_first: int = 650):
    """The written file: frames 650-657, 653 and 654 interpolated and marked, every other frame seen."""
    videos, layout, meta = wd.read_custom(path)
    v = videos[video_name]
    assert v["first_frame"] == report_first == meta["video_metadata"][video_name]["first_frame"]
    assert v["keypoints"].shape[0] == len(FRAMES)
    np.testing.assert_allclose(v["keypoints"], np.stack([step(f) for f in FRAMES]), atol=1e-3)   # float32 pixels
    expected = np.isin(np.array(FRAMES), GAP)
    np.testing.assert_array_equal(v["interpolated"], expected)
    assert v["seen"].shape == (len(FRAMES), 17) and (v["seen"] == ~expected[:, None]).all()
    return videos


def test_coco_results_of_images_650_to_657_are_video_frames_650_to_657(tmp_path, capsys):
    res = write_json(tmp_path / "res.json", [
        {"image_id": f, "category_id": 1, "keypoints": flat(step(f), 0.9), "score": 0.9}
        for f in FRAMES if f not in GAP])
    v = wd.read_coco_json(res, width=640, height=480)
    assert v.first_frame == 650 and len(v.frames) == 8 and [bool(f) for f in v.frames].count(False) == 2
    wd.convert_detections(v, tmp_path / "a.npz", log=None)
    check_aligned(tmp_path / "a.npz", "res")

    # The command line records it too, and says where the keypoints start.
    assert cli.main([str(res), "--name", "c", "--width", "640", "--height", "480", "--data-dir", str(tmp_path)]) == 0
    said = capsys.readouterr().out
    assert "'res' (8 frames from video frame 650)" in said and "2 of 8 frames had no person" in said
    check_aligned(tmp_path / "data_2d_custom_c.npz", "res")

    # Frame ids around them (frames 640-661): the 10 frames with nobody before and 4 after are trimmed, not held.
    v = wd.read_coco_json(res, width=640, height=480, frame_ids=range(640, 662))
    assert v.first_frame == 640 and len(v.frames) == 22
    lines = []
    (report,) = wd.convert_detections(v, tmp_path / "b.npz", log=lines.append).values()
    assert (report.trimmed_leading, report.trimmed_trailing, report.first_frame, report.frames) == (10, 4, 650, 8)
    assert "10 frames with nobody at the start and 4 at the end were trimmed (the keypoints start at video frame " \
           "650)" in lines[0]
    check_aligned(tmp_path / "b.npz", "res")
    with pytest.raises(UserError, match="frame_ids must be consecutive frame numbers in order"):
        wd.read_coco_json(res, width=640, height=480, frame_ids=[650, 651, 653])


def test_alphapose_and_openpose_frames_keep_their_numbers(tmp_path):
    ap = write_json(tmp_path / "alphapose-results.json", [
        {"image_id": f"{f}.jpg", "category_id": 1, "keypoints": flat(step(f), 0.9), "score": 2.0}
        for f in FRAMES if f not in GAP])
    v = wd.read_alphapose_json(ap, width=640, height=480)
    assert v.first_frame == 650 and len(v.frames) == 8
    wd.convert_detections(v, tmp_path / "ap.npz", log=None)
    check_aligned(tmp_path / "ap.npz", "alphapose-results")

    # OpenPose writes a file per frame, empty ones included: frames 645-659, the person in 650-657.
    folder = tmp_path / "op"
    folder.mkdir()
    for f in range(645, 660):
        people = [] if f not in FRAMES or f in GAP else [{"pose_keypoints_2d": flat(person(25, dx=10 * (f - 650)),
                                                                                     0.8)}]
        write_json(folder / f"clip_{f:012d}_keypoints.json", {"version": 1.3, "people": people})
    v = wd.read_openpose_folder(folder, width=640, height=480)
    assert v.first_frame == 645 and len(v.frames) == 15
    lines = []
    (report,) = wd.convert_detections(v, tmp_path / "op.npz", log=lines.append).values()
    assert (report.trimmed_leading, report.trimmed_trailing, report.empty_frames) == (5, 2, 2)
    assert "5 frames with nobody at the start and 2 at the end were trimmed" in lines[0]
    videos, layout, _ = wd.read_custom(tmp_path / "op.npz")
    assert layout == "openpose-25" and videos["op"]["first_frame"] == 650
    np.testing.assert_array_equal(videos["op"]["interpolated"], np.isin(np.array(FRAMES), GAP))
    np.testing.assert_allclose(videos["op"]["keypoints"][3], person(25, dx=30), atol=1e-3)   # frame 653, between


def test_mediapipe_start_stays_right_after_trimming(tmp_path):
    lm = np.zeros((33, 4))
    lm[:, 0], lm[:, 1], lm[:, 3] = np.linspace(0.2, 0.8, 33), 0.5, 0.9
    frames = [None, None, lm, None, lm, None]          # detected from --start 100: video frames 102 and 104
    path = wd.write_mediapipe_json(tmp_path / "mp.json", frames, width=64, height=48, video="walk.mp4",
                                   first_frame=100)
    v = wd.read_mediapipe_json(path)
    assert v.first_frame == 100
    (report,) = wd.convert_detections(v, tmp_path / "mp.npz", log=None).values()
    videos, _, _ = wd.read_custom(tmp_path / "mp.npz")
    assert videos["walk.mp4"]["first_frame"] == report.first_frame == 102
    assert videos["walk.mp4"]["interpolated"].tolist() == [False, True, False]
    assert (report.trimmed_leading, report.trimmed_trailing) == (2, 1)


def test_seen_is_false_for_weak_joints_and_joints_outside_the_image():
    kp = np.stack([person(17), person(17)])
    kp[1, 0] = [-5, 200]                                # the nose left of the image in frame 1
    scores = np.full((2, 17), 0.9)
    scores[0, 3] = 0.1                                  # a weak left ear in frame 0
    track = wd.Track("v", "coco-17", 640, 480, None, kp, scores, np.array([True, True]), source="x")
    filled = wd.fill_track(track, min_score=0.3)
    expected = np.ones((2, 17), bool)
    expected[0, 3] = expected[1, 0] = False
    np.testing.assert_array_equal(filled.seen, expected)
    np.testing.assert_allclose(filled.keypoints[1, 0], [-5, 200])   # kept: a detector's position, just not seen


def chest_up_take(frames: int = 25, legs_in_view: int = 1, visibility: float = 0.2) -> list:
    """MediaPipe landmarks of a person seen from the chest up: the hips and legs placed below the 48-pixel
    frame (y > 1), with `visibility`, except in `legs_in_view` frames."""
    layout = get_layout("blazepose-33")
    low = [i for i, n in enumerate(layout.joint_names) if body_part(n) == "legs" or "hip" in n]
    out = []
    for t in range(frames):
        lm = np.zeros((33, 4))
        lm[:, 0], lm[:, 1], lm[:, 3] = 0.3 + 0.01 * np.arange(33), 0.3, 0.95
        if t >= legs_in_view:
            lm[low, 1], lm[low, 3] = 1.6, visibility
        out.append(lm)
    return out


def test_a_chest_up_take_says_the_legs_are_guesses_in_one_line(tmp_path, capsys):
    path = wd.write_mediapipe_json(tmp_path / "chest.json", chest_up_take(), width=64, height=48, video="chest.mp4")
    lines = []
    wd.convert_detections(wd.read_mediapipe_json(path), tmp_path / "chest.npz", log=lines.append)
    assert lines[-1] == "chest.mp4: the legs are not in view in 96% of frames: the 3D legs are guesses"
    videos, _, _ = wd.read_custom(tmp_path / "chest.npz")
    assert unseen_report(videos["chest.mp4"]["seen"], "blazepose-33") == lines[-1].split(": ", 1)[1]
    # the command line prints it
    assert cli.main([str(path), "--name", "chest", "--data-dir", str(tmp_path / "d")]) == 0
    assert "the legs are not in view in 96% of frames: the 3D legs are guesses" in capsys.readouterr().out
    # placed outside the image, they are guesses however visible MediaPipe calls them
    sure = wd.write_mediapipe_json(tmp_path / "sure.json", chest_up_take(visibility=0.99), width=64, height=48)
    lines = []
    wd.convert_detections(wd.read_mediapipe_json(sure), tmp_path / "sure.npz", log=lines.append)
    assert lines[-1].endswith("the legs are not in view in 96% of frames: the 3D legs are guesses")
    # the whole body in view in most frames: nothing to say
    whole = wd.write_mediapipe_json(tmp_path / "whole.json", chest_up_take(legs_in_view=13), width=64, height=48)
    lines = []
    wd.convert_detections(wd.read_mediapipe_json(whole), tmp_path / "whole.npz", log=lines.append)
    assert len(lines) == 1 and "not in view" not in lines[0]


def test_unseen_report_groups_parts_by_joint_names():
    coco = get_layout("coco-17")
    assert [body_part(n) for n in coco.joint_names] == ["head"] * 5 + ["torso", "torso", "arms", "arms", "arms",
                                                                        "arms", "torso", "torso"] + ["legs"] * 4
    assert [body_part(n) for n in ("LFoot", "left_foot_index", "Thorax", "Head", "right_big_toe", "mid_hip")] == \
        ["legs", "legs", "torso", "head", "legs", "torso"]
    seen = np.ones((10, 17), bool)
    assert unseen_report(seen, "coco-17") is None
    seen[:6, :5] = False                                 # the head out of view in 6 of 10 frames
    assert unseen_report(seen, "coco-17") == "the head is not in view in 60% of frames: the 3D head is a guess"
    seen[:5, 13:] = False                                # the legs in 5 of 10: not more than half
    assert unseen_report(seen, "coco-17").startswith("the head is")
    seen[:8, 13:] = False
    assert unseen_report(seen, "coco-17") == ("the legs and head are not in view in 80% and 60% of frames: the 3D "
                                              "legs and head are guesses")
    # frames with nobody (interpolated) do not count: the head is out in 6 of the 8 others
    interpolated = np.zeros(10, bool)
    interpolated[[8, 9]] = True
    assert unseen_parts(seen, "coco-17", interpolated)["head"] == pytest.approx(6 / 8, abs=1e-12)
    # one ankle of the four leg joints unseen everywhere: not more than half, the legs are in view
    assert unseen_parts(np.ones((4, 17), bool) & (np.arange(17) != 15), "coco-17")["legs"] == 0.0


def test_seen_in_layout_a_derived_joint_needs_all_its_sources():
    coco = get_layout("coco-17")
    h36m = get_layout("h36m-17")
    seen = np.ones((3, 17), bool)
    seen[1, coco.index("left_hip")] = False
    seen[2, coco.index("left_eye")] = False
    out = seen_in_layout(seen, "coco-17")
    assert out.shape == (3, 17) and out.dtype == bool
    unseen = lambda t: sorted(h36m.joint_names[j] for j in np.flatnonzero(~out[t]))   # noqa: E731
    assert unseen(0) == []
    assert unseen(1) == ["Hip", "LHip", "Spine"]          # pelvis and spine are means with the left hip in them
    assert unseen(2) == ["Head"]                          # the head is the mean of the eyes
    np.testing.assert_array_equal(seen_in_layout(out, "h36m-17"), out)
    assert seen_in_layout(seen, "coco", "humaneva-15").shape == (3, 15)
    with pytest.raises(UserError, match="no conversion to the openpose-25 layout"):
        seen_in_layout(seen, "coco-17", "openpose-25")
