"""relpose.wild.detections: each detector's format read back to known pixels, frame order, one person per
frame, gap filling, VideoPose3D's custom 2D file (structure and round trip), refusals, and the command line."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from relpose.cli import keypoints as cli
from relpose.errors import DataError, UserError
from relpose.keypoint_layouts import get_layout
from relpose.wild import detections as wd

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def person(joints: int, dx: float = 0.0, dy: float = 0.0) -> np.ndarray:
    """Known pixels: joint j at (100 + 10 j + dx, 200 + 5 j + dy)."""
    j = np.arange(joints, dtype=np.float64)
    return np.stack([100 + 10 * j + dx, 200 + 5 * j + dy], axis=1)


def flat(points: np.ndarray, scores) -> list[float]:
    """[x, y, s] * J as the detectors write it."""
    scores = np.broadcast_to(np.asarray(scores, dtype=np.float64), (len(points),))
    return np.concatenate([points, scores[:, None]], axis=1).ravel().tolist()


def write_json(path, data):
    path.write_text(json.dumps(data))
    return path


def one_line_naming(err, path) -> str:
    message = str(err.value)
    assert "\n" not in message and str(path) in message, message
    return message


# ----------------------------------------------------------------------------- readers

def test_coco_json_string_ids_in_sorted_order_with_empty_frames_kept(tmp_path):
    p = write_json(tmp_path / "res.json", [
        {"image_id": "frame_0003.jpg", "category_id": 1, "keypoints": flat(person(17, dx=30), 0.8), "score": 0.7},
        {"image_id": "frame_0001.jpg", "category_id": 1, "keypoints": flat(person(17), 0.9), "score": 0.95,
         "bbox": [10, 20, 30, 40]},
        # category 2 is not a person: skipped
        {"image_id": "frame_0001.jpg", "category_id": 2, "keypoints": flat(person(17), 0.9), "score": 0.99},
    ])
    v = wd.read_coco_json(p, width=640, height=480, fps=25)
    assert (v.layout, v.width, v.height, v.fps, v.name) == ("coco-17", 640, 480, 25.0, "res")
    assert v.source_format == "coco-json" and v.source == str(p)
    assert [len(f) for f in v.frames] == [1, 0, 1]          # frames 1, 2 (nobody), 3
    first, third = v.frames[0][0], v.frames[2][0]
    hip = get_layout("coco-17").index("left_hip")
    np.testing.assert_array_equal(first.keypoints[hip], [100 + 10 * hip, 200 + 5 * hip])
    np.testing.assert_array_equal(third.keypoints, person(17, dx=30))
    np.testing.assert_array_equal(first.scores, np.full(17, 0.9))
    assert first.score == 0.95 and third.score == 0.7
    np.testing.assert_array_equal(first.box, [10, 20, 40, 60])       # [x, y, w, h] -> x0 y0 x1 y1
    np.testing.assert_array_equal(third.box, [130, 200, 130 + 160, 200 + 80])   # from the keypoints

    ints = write_json(tmp_path / "ints.json", [{"image_id": 7, "category_id": 1, "keypoints": flat(person(17), 1)}])
    v = wd.read_coco_json(ints, width=10, height=10, frame_ids=range(5, 10))
    assert [len(f) for f in v.frames] == [0, 0, 1, 0, 0] and v.frames[2][0].score == 1.0   # no score: joint mean


def test_openpose_folder_in_frame_number_order_and_missing_joints_score_zero(tmp_path):
    folder = tmp_path / "op"
    folder.mkdir()
    pts = person(25)
    scores = np.full(25, 0.7)
    scores[11] = 0                                 # right_ankle missing: OpenPose writes 0, 0, 0
    written = flat(pts, scores)
    written[33:36] = [0, 0, 0]
    for n, dx in ((10, 20), (2, 10), (1, 0)):      # unpadded names: '10' sorts after '2' only by number
        people = [{"person_id": [-1], "pose_keypoints_2d": [v + dx if i % 3 == 0 and v else v
                                                            for i, v in enumerate(written)]}]
        write_json(folder / f"clip_{n}_keypoints.json", {"version": 1.3, "people": people})
    write_json(folder / "clip_3_keypoints.json", {"version": 1.3, "people": []})
    v = wd.read_openpose_folder(folder, width=1920, height=1080)
    # frames 1..10 of the video: 3 (an empty file) and 4-9 (no file) hold nobody
    assert v.layout == "openpose-25" and v.name == "op" and [len(f) for f in v.frames] == [1, 1] + [0] * 7 + [1]
    assert v.first_frame == 1
    mid_hip = get_layout("openpose-25").index("mid_hip")
    assert [v.frames[t][0].keypoints[mid_hip, 0] for t in (0, 1, 9)] == [180, 190, 200]   # frames 1, 2, 10
    d = v.frames[0][0]
    assert d.scores[11] == 0 and d.scores[0] == 0.7
    assert d.box[3] == pts[24, 1]                    # the box ignores the missing joint at (0, 0)
    assert d.box[0] == pts[0, 0]


def test_alphapose_halpe_and_coco_by_keypoint_count_frames_from_image_names(tmp_path):
    p = write_json(tmp_path / "alphapose-results.json", [
        {"image_id": "12.jpg", "category_id": 1, "keypoints": flat(person(26, dx=12), 0.6), "score": 2.1,
         "box": [1, 2, 3, 4], "idx": 0},
        {"image_id": "2.jpg", "category_id": 1, "keypoints": flat(person(26, dx=2), 0.5), "score": 1.5, "idx": 0},
        {"image_id": "10.jpg", "category_id": 1, "keypoints": flat(person(26, dx=10), 0.4), "score": 1.0},
    ])
    v = wd.read_alphapose_json(p, width=100, height=50)
    assert v.layout == "halpe-26" and len(v.frames) == 11             # frames 2..12
    assert [n for n, f in enumerate(v.frames) if f] == [0, 8, 10]
    head = get_layout("halpe-26").index("head")
    assert v.frames[10][0].keypoints[head, 0] == 100 + 10 * head + 12
    np.testing.assert_array_equal(v.frames[10][0].box, [1, 2, 4, 6])
    assert v.frames[8][0].score == 1.0
    coco = write_json(tmp_path / "ap17.json", [{"image_id": "0.jpg", "keypoints": flat(person(17), 0.5), "score": 1}])
    assert wd.read_alphapose_json(coco, width=1, height=1).layout == "coco-17"


def test_mediapipe_round_trip_normalised_to_pixels(tmp_path):
    lm = np.zeros((33, 4))
    lm[:, 0], lm[:, 1], lm[:, 2], lm[:, 3] = np.linspace(0.1, 0.9, 33), 0.5, -0.2, 0.75
    p = wd.write_mediapipe_json(tmp_path / "mp.json", [lm, None, lm], width=640, height=360, fps=None,
                                video="videos/walk.mp4")
    doc = json.loads(p.read_text())
    assert doc["format"] == "mediapipe-pose-landmarks" and doc["frames"][1] is None and doc["fps"] is None
    v = wd.read_mediapipe_json(p)
    assert (v.layout, v.name, v.width, v.height, v.fps) == ("blazepose-33", "walk.mp4", 640, 360, None)
    assert [len(f) for f in v.frames] == [1, 0, 1]
    hip = get_layout("blazepose-33").index("left_hip")
    np.testing.assert_allclose(v.frames[2][0].keypoints[hip], [lm[hip, 0] * 640, 180])
    np.testing.assert_array_equal(v.frames[0][0].scores, np.full(33, 0.75))
    with pytest.raises(UserError, match="already exists"):
        wd.write_mediapipe_json(p, [None], width=1, height=1)


def test_read_detections_recognises_each_format(tmp_path):
    coco = write_json(tmp_path / "c.json", [{"image_id": 0, "category_id": 1, "keypoints": flat(person(17), 1),
                                             "score": 1, "bbox": [0, 0, 1, 1]}])
    ap = write_json(tmp_path / "a.json", [{"image_id": "0.jpg", "keypoints": flat(person(26), 1), "score": 1}])
    op = tmp_path / "op"
    op.mkdir()
    write_json(op / "v_000000000000_keypoints.json", {"people": [{"pose_keypoints_2d": flat(person(25), 1)}]})
    mp = wd.write_mediapipe_json(tmp_path / "m.json", [None], width=4, height=4)
    size = dict(width=4, height=4)
    assert [wd.read_detections(p, **size).source_format for p in (coco, ap, op, mp)] == \
        ["coco-json", "alphapose", "openpose", "mediapipe"]
    assert wd.read_detections(coco, "coco-json", name="x", **size).name == "x"
    with pytest.raises(UserError) as err:
        wd.read_detections(coco, "yolo", **size)
    assert "coco-json, openpose, alphapose, mediapipe" in one_line_naming(err, coco)


# ----------------------------------------------------------------------------- refusals

def test_refusals_name_the_file_in_one_line(tmp_path):
    bad_count = write_json(tmp_path / "short.json", [{"image_id": 1, "keypoints": [1.0] * 48, "score": 1}])
    with pytest.raises(DataError) as err:
        wd.read_coco_json(bad_count, width=1, height=1)
    assert "48 numbers" in one_line_naming(err, bad_count) and "51" in str(err.value)

    garbage = tmp_path / "garbage.json"
    garbage.write_text("[{\"image_id\": 1, ")
    for reader in (lambda p: wd.read_coco_json(p, width=1, height=1), wd.read_mediapipe_json, wd.read_detections):
        with pytest.raises(DataError) as err:
            reader(garbage)
        assert "not valid JSON" in one_line_naming(err, garbage)

    op = tmp_path / "op18"
    op.mkdir()
    frame = write_json(op / "v_000000000000_keypoints.json", {"people": [{"pose_keypoints_2d": [1.0] * 54}]})
    with pytest.raises(DataError) as err:
        wd.read_openpose_folder(op, width=1, height=1)
    message = one_line_naming(err, frame)
    assert "54 numbers" in message and "COCO-18" in message and "only BODY_25" in message

    with pytest.raises(UserError) as err:
        wd.read_coco_json(bad_count)
    assert "width and height" in one_line_naming(err, bad_count)

    empty = wd.write_mediapipe_json(tmp_path / "nobody.json", [None] * 4, width=8, height=8)
    with pytest.raises(DataError) as err:
        wd.convert_detections(wd.read_mediapipe_json(empty), tmp_path / "out.npz", log=None)
    assert "no person detected in any of the 4 frames of" in one_line_naming(err, empty)
    assert not (tmp_path / "out.npz").exists()


# ----------------------------------------------------------------------------- one person, gaps

def det(dx: float, score: float, joints: int = 17) -> wd.Detection:
    return wd.Detection(person(joints, dx=dx), np.ones(joints), score)


def video(frames, layout="coco-17") -> wd.VideoDetections:
    return wd.VideoDetections("v", layout, 640, 480, 30.0, frames, source="clip.json")


def test_select_person_keeps_the_track_when_the_other_person_scores_higher():
    a, b = 0.0, 400.0                       # two people far apart; B outscores A from frame 1 on
    frames = [[det(a, 0.9), det(b, 0.6)], [det(b, 0.95), det(a + 5, 0.5)], [det(a + 10, 0.4), det(b, 0.99)], [],
              [det(b + 3, 0.97), det(a + 15, 0.3)]]
    t = wd.select_person(video(frames))
    assert t.keypoints.shape == (5, 17, 2) and t.scores.shape == (5, 17)
    assert t.detected.tolist() == [True, True, True, False, True] and t.switches == 0
    np.testing.assert_array_equal(t.keypoints[[0, 1, 2, 4], 0, 0], [100, 105, 110, 115])
    assert np.isnan(t.keypoints[3]).all() and (t.scores[3] == 0).all()

    # A leaves; only B remains, nowhere near A's last box: the highest score is taken, counted as a switch.
    t = wd.select_person(video([[det(a, 0.9), det(b, 0.6)], [det(b, 0.6)], [det(b + 1, 0.6)]]))
    assert t.switches == 1 and t.keypoints[2, 0, 0] == 501


def test_fill_gaps_linear_between_good_frames_held_at_the_ends():
    kp = np.full((7, 17, 2), np.nan)
    sc = np.zeros((7, 17))
    detected = np.array([False, True, False, False, True, True, False])
    kp[1], kp[4], kp[5] = person(17), person(17, dx=30, dy=-60), person(17, dx=99)
    sc[[1, 4, 5]] = 0.9
    sc[5, 0] = 0.1                           # a weak nose in frame 5: interpolated, not trusted
    track = wd.Track("v", "coco-17", 640, 480, None, kp, sc, detected, source="clip.json")
    out, report = wd.fill_gaps(track, min_score=0.3)
    assert out.shape == (7, 17, 2) and out.dtype == np.float32 and np.isfinite(out).all()
    np.testing.assert_allclose(out[0], person(17))                          # held before the first good frame
    np.testing.assert_allclose(out[2], person(17, dx=10, dy=-20))           # a third of the way from 1 to 4
    np.testing.assert_allclose(out[3], person(17, dx=20, dy=-40))
    np.testing.assert_allclose(out[5, 0], person(17, dx=30, dy=-60)[0])     # the weak nose: held from frame 4
    np.testing.assert_allclose(out[5, 1:], person(17, dx=99)[1:])
    np.testing.assert_allclose(out[6, 1:], person(17, dx=99)[1:])           # held after the last
    assert (report.frames, report.empty_frames, report.longest_gap, report.filled_joint_values) == (7, 4, 2, 1)
    assert report.summary() == ("4 of 7 frames had no person (longest gap 2 frames) and were interpolated; "
                                "1 low-confidence joint position (score < 0.3) was interpolated")

    sc[:, 3] = np.where(detected, 0.2, 0)   # left_ear never confident: its own weak positions are used
    out, report = wd.fill_gaps(track, min_score=0.3)
    np.testing.assert_allclose(out[4, 3], person(17, dx=30, dy=-60)[3])
    assert report.low_confidence_joints == ("left_ear",) and "left_ear" in report.summary()
    sc[:, 3] = 0                            # never seen at all: refused, naming the joint
    with pytest.raises(DataError) as err:
        wd.fill_gaps(track)
    assert "'left_ear'" in one_line_naming(err, "clip.json")


# ----------------------------------------------------------------------------- VideoPose3D's custom file

def test_custom_file_has_exactly_videopose3d_structure(tmp_path):
    frames = [[det(0, 0.9)], [], [det(20, 0.9)]]
    path = wd.custom_file(tmp_path / "data", "mine")
    assert path == tmp_path / "data" / "data_2d_custom_mine.npz"
    lines = []
    (report,) = wd.convert_detections(video(frames), path, log=lines.append).values()
    assert report.empty_frames == 1 and lines == [f"v: {report.summary()}"]
    with np.load(path, allow_pickle=True) as f:         # as VideoPose3D reads it (our own file)
        assert sorted(f.files) == ["metadata", "positions_2d"]
        positions, meta = f["positions_2d"].item(), f["metadata"].item()
    assert list(positions) == ["v"] and list(positions["v"]) == ["custom"] and len(positions["v"]["custom"]) == 1
    k = positions["v"]["custom"][0]
    assert k.shape == (3, 17, 2) and k.dtype == np.float32
    np.testing.assert_allclose(k[1], person(17, dx=10))
    assert set(meta) == {"layout_name", "num_joints", "keypoints_symmetry", "video_metadata", "relpose"}
    assert meta["layout_name"] == "coco" and meta["num_joints"] == 17
    left, right = get_layout("coco-17").symmetry
    assert meta["keypoints_symmetry"] == [list(left), list(right)]
    v_meta = meta["video_metadata"]["v"]
    assert {k: v_meta[k] for k in ("w", "h", "fps")} == {"w": 640, "h": 480, "fps": 30.0}
    assert set(v_meta) == {"w", "h", "fps", "interpolated", "seen"}    # first frame 0: not written
    assert v_meta["interpolated"].tolist() == [False, True, False] and v_meta["seen"].shape == (3, 17)
    prov = meta["relpose"]
    assert prov["source_format"] is None and prov["fill"]["empty_frames"] == 1 and prov["fill"]["min_score"] == 0.3
    assert prov["layout"] == "coco-17"

    with pytest.raises(UserError) as err:
        wd.convert_detections(video(frames), path, log=None)
    assert "already exists" in one_line_naming(err, path)
    wd.convert_detections(video([[det(5, 0.9)]] * 2), path, overwrite=True, log=None)
    videos, layout, _ = wd.read_custom(path)
    assert layout == "coco-17" and videos["v"]["keypoints"].shape == (2, 17, 2)


def test_write_read_custom_round_trip_several_videos(tmp_path):
    rng = np.random.default_rng(0)
    a, b = rng.uniform(0, 500, (4, 25, 2)), rng.uniform(0, 500, (2, 25, 2))
    path = wd.write_custom(tmp_path / "data_2d_custom_two.npz", {"a.mp4": (a, 1280, 720, 29.97),
                                                                 "b.mp4": (b, 640, 480, None)},
                           "openpose-25", provenance={"note": "test", "n": np.int64(3)})
    videos, layout, meta = wd.read_custom(path)
    assert layout == "openpose-25" and meta["layout_name"] == "openpose-25" and list(videos) == ["a.mp4", "b.mp4"]
    np.testing.assert_array_equal(videos["a.mp4"]["keypoints"], a.astype(np.float32))
    assert {k: videos["a.mp4"][k] for k in ("width", "height", "fps")} == {"width": 1280, "height": 720, "fps": 29.97}
    assert videos["b.mp4"]["fps"] is None and "fps" not in meta["video_metadata"]["b.mp4"]
    assert meta["relpose"]["note"] == "test" and meta["relpose"]["n"] == 3
    assert meta["keypoints_symmetry"] == [list(s) for s in get_layout("openpose-25").symmetry]
    with pytest.raises(UserError, match="fill the gaps"):
        wd.write_custom(tmp_path / "x.npz", {"a": (np.full((2, 25, 2), np.nan), 1, 1, None)}, "openpose-25")


def test_read_custom_refuses_bad_files_naming_file_and_video(tmp_path):
    def meta(**over):
        return {"layout_name": "coco", "num_joints": 17, "keypoints_symmetry": [[1], [2]],
                "video_metadata": {"clip": {"w": 10, "h": 10}}, **over}

    cases = {
        "shape": ({"clip": {"custom": [np.zeros((3, 16, 2), np.float32)]}}, meta(), "shape (3, 16, 2)"),
        "nan": ({"clip": {"custom": [np.full((3, 17, 2), np.nan, np.float32)]}}, meta(), "not all finite"),
        "nowh": ({"clip": {"custom": [np.zeros((3, 17, 2), np.float32)]}}, meta(video_metadata={"clip": {"w": 1}}),
                 "no 'w' and 'h'"),
        "zero": ({"clip": {"custom": [np.zeros((3, 17, 2), np.float32)]}},
                 meta(video_metadata={"clip": {"w": 0, "h": 5}}), "from 1 to 65,536, got 0"),
        "layout": ({"clip": {"custom": [np.zeros((3, 17, 2), np.float32)]}}, meta(layout_name="yolo"), "'yolo'"),
    }
    for name, (positions, metadata, expected) in cases.items():
        path = tmp_path / f"data_2d_custom_{name}.npz"
        np.savez_compressed(path, positions_2d=positions, metadata=metadata)
        with pytest.raises(DataError) as err:
            wd.read_custom(path)
        message = one_line_naming(err, path)
        assert expected in message, message
        if name != "layout":
            assert "'clip'" in message
    with pytest.raises(DataError, match="does not exist"):
        wd.read_custom(tmp_path / "missing.npz")
    h36m = tmp_path / "h.npz"
    np.savez_compressed(h36m, positions_2d={"clip": {"custom": [np.zeros((3, 17, 2), np.float32)]}},
                        metadata=meta(layout_name="h36m"))
    assert wd.read_custom(h36m)[1] == "h36m-17"


# ----------------------------------------------------------------------------- command line

def test_cli_writes_the_file_and_refuses_bad_input_in_one_line(tmp_path):
    res = write_json(tmp_path / "res.json", [
        {"image_id": i, "category_id": 1, "keypoints": flat(person(17, dx=i), 0.9), "score": 0.9} for i in (0, 1, 3)])
    env = {**os.environ, "PYTHONPATH": ROOT}
    run = lambda *a: subprocess.run([sys.executable, "-m", "relpose.cli.keypoints", *a], cwd=tmp_path, env=env,
                                    capture_output=True, text=True, timeout=120)
    ok = run(str(res), "--format", "coco-json", "--name", "mine", "--width", "640", "--height", "480", "--fps", "25")
    assert ok.returncode == 0, ok.stderr
    videos, layout, _ = wd.read_custom(tmp_path / "data" / "data_2d_custom_mine.npz")
    assert layout == "coco-17" and videos["res"]["keypoints"].shape == (4, 17, 2) and videos["res"]["fps"] == 25
    assert "1 of 4 frames had no person" in ok.stdout
    assert "python -m relpose -d custom -k mine --evaluate <checkpoint> --render --viz-subject res" in ok.stdout

    garbage = tmp_path / "garbage.json"
    garbage.write_text("not json")
    bad = run(str(garbage), "--name", "x", "--width", "1", "--height", "1")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and str(garbage) in bad.stderr
    assert bad.stderr.startswith("error: ") and "Traceback" not in bad.stderr


def test_cli_size_from_video_or_flags_in_process(tmp_path, capsys):
    imageio_ffmpeg = pytest.importorskip("imageio_ffmpeg")
    clip = tmp_path / "walk.mp4"
    writer = imageio_ffmpeg.write_frames(str(clip), (64, 48), fps=10, macro_block_size=16)
    writer.send(None)
    for _ in range(3):
        writer.send(np.zeros((48, 64, 3), np.uint8))
    writer.close()
    assert cli.video_properties(clip) == (64, 48, 10.0)

    res = write_json(tmp_path / "res.json", [{"image_id": 0, "keypoints": flat(person(17), 1), "score": 1}])
    data = str(tmp_path / "data")
    assert cli.main([str(res), "--name", "w", "--video", str(clip), "--data-dir", data]) == 0
    videos, _, _ = wd.read_custom(tmp_path / "data" / "data_2d_custom_w.npz")
    assert list(videos) == ["walk.mp4"] and (videos["walk.mp4"]["width"], videos["walk.mp4"]["fps"]) == (64, 10.0)
    assert "--viz-video" in capsys.readouterr().out

    not_video = tmp_path / "broken.mp4"
    not_video.write_text("nothing here")
    for flags, expected in ((["--name", "b", "--video", str(not_video)], "cannot be read as a video"),
                            (["--name", "c"], "give width and height"),
                            (["--name", "w", "--width", "1", "--height", "1"], "already exists")):
        assert cli.main([str(res), *flags, "--data-dir", data]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and expected in err, err

    # Detections the video cannot hold: they start past its end, or run past it (a 3-frame clip).
    late = wd.write_mediapipe_json(tmp_path / "late.json", [[[0.5, 0.5, 0, 1]] * 33], width=64, height=48,
                                   first_frame=5)
    long = write_json(tmp_path / "long.json", [{"image_id": i, "keypoints": flat(person(17), 1), "score": 1}
                                               for i in range(10)])
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    beyond = f"but --video '{clip}' has about 3"
    for path, flags, expected in ((late, ["--video", str(clip)], f"holds frames 5 to 5, {beyond}"),
                                  (long, ["--video", str(clip)], f"holds frames 0 to 9, {beyond}"),
                                  (res, ["--video", str(empty)], "is an empty file"),
                                  (res, ["--video", str(tmp_path)], "is a folder")):
        assert cli.main([str(path), "--name", "late", *flags, "--data-dir", data]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and expected in err, err
    assert not (tmp_path / "data" / "data_2d_custom_late.npz").exists()
