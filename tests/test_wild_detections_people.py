"""Several people in one detector's file: tracked by overlap (relpose.wild.tracking), counted and numbered by
first appearance, short tracks dropped; `--person best|all|N` keeps the highest-scoring one, every one (each
its own video in the custom file) or the Nth; MediaPipe stays single-person and says so."""
import numpy as np
import pytest

from relpose.cli import keypoints as cli
from relpose.errors import UserError
from relpose.wild import detections as wd
from relpose.wild.tracking import track_boxes

from test_wild_detections import flat, person, write_json

A_X, B_X, C_X = 0.0, 400.0, 250.0      # three people far enough apart that their boxes never overlap


def two_people(path, frames: int = 10, b_from: int = 3, c_frames=()):
    """A (score 0.9) in every frame, walking right 2 px a frame; B (score 0.6) from frame `b_from` on; C
    (score 0.95) only in `c_frames` (a person passing by)."""
    entries = []
    for t in range(frames):
        entries.append({"image_id": t, "category_id": 1, "keypoints": flat(person(17, dx=A_X + 2 * t), 0.9),
                        "score": 0.9})
        if t >= b_from:
            entries.append({"image_id": t, "category_id": 1, "keypoints": flat(person(17, dx=B_X, dy=-t), 0.8),
                            "score": 0.6})
        if t in c_frames:
            entries.append({"image_id": t, "category_id": 1, "keypoints": flat(person(17, dx=C_X, dy=150), 0.8),
                            "score": 0.95})
    return write_json(path, entries)


def box(x: float, y: float = 0.0, size: float = 10.0) -> np.ndarray:
    return np.array([x, y, x + size, y + size])


def test_tracks_follow_overlap_not_score_numbered_by_first_appearance():
    # B appears first with the higher score; A appears in frame 1; in frame 2 the two swap scores.
    boxes = [[box(100)], [box(101), box(0)], [box(1), box(102)], [box(2), box(103)], [box(103)]]
    scores = [[0.9], [0.8, 0.5], [0.99, 0.1], [0.5, 0.6], [0.7]]
    tracks = track_boxes(boxes, scores, min_frames=1)
    assert len(tracks) == 2 and tracks.dropped == 0
    assert tracks.members == [[0, 0, 1, 1, 0], [None, 1, 0, 0, None]]
    assert (tracks.frames_of(1), tracks.frames_of(2), tracks.person_of(2, 0)) == (5, 3, 2)
    # a person unseen for more than max_gap frames is a new track; short tracks go, the longest stays
    boxes = [[box(0)], [], [], [], [box(0)], [box(0)]]
    assert track_boxes(boxes, [[1.0] * len(f) for f in boxes], max_gap=2, min_frames=1).members == \
        [[0, None, None, None, None, None], [None, None, None, None, 0, 0]]
    tracks = track_boxes(boxes, [[1.0] * len(f) for f in boxes], max_gap=2, min_frames=5)
    assert len(tracks) == 1 and tracks.dropped == 1 and tracks.members[0][4] == 0
    assert track_boxes([[box(0)], [box(0)]], [[1.0], [1.0]], min_frames=5).dropped == 0   # the only one is kept


def test_best_keeps_todays_choice_and_says_how_many_people_were_found(tmp_path):
    res = two_people(tmp_path / "res.json")
    v = wd.read_coco_json(res, width=640, height=480)
    lines = []
    reports = wd.convert_detections(v, tmp_path / "best.npz", log=lines.append)
    assert list(reports) == ["res"]
    assert lines[0] == (f"{res}: 2 people found (tracks 1-2); kept person 1, the highest-scoring, in 10 of 10 "
                        "frames; --person all keeps every one")
    videos, _, meta = wd.read_custom(tmp_path / "best.npz")
    np.testing.assert_allclose(videos["res"]["keypoints"][4], person(17, dx=8), atol=1e-3)
    assert videos["res"]["person"] is None and meta["relpose"]["people_found"] == 2
    # one person alone: nothing to say about people
    one = write_json(tmp_path / "one.json", [{"image_id": t, "keypoints": flat(person(17), 0.9), "score": 1}
                                             for t in range(3)])
    lines = []
    wd.convert_detections(wd.read_coco_json(one, width=640, height=480), tmp_path / "one.npz", log=lines.append)
    assert len(lines) == 1 and "people" not in lines[0]


def test_person_all_writes_every_track_with_its_own_frames(tmp_path):
    res = two_people(tmp_path / "res.json")
    lines = []
    reports = wd.convert_detections(wd.read_coco_json(res, width=640, height=480), tmp_path / "all.npz",
                                    person="all", log=lines.append)
    assert list(reports) == ["res.person1", "res.person2"]
    assert lines[0] == (f"{res}: 2 people found (tracks 1-2); kept every one: res.person1 in 10 of 10 frames, "
                        "res.person2 in 7 of 10 frames")
    assert lines[2].startswith("res.person2: 3 frames with nobody at the start and 0 at the end were trimmed")
    videos, _, meta = wd.read_custom(tmp_path / "all.npz")
    a, b = videos["res.person1"], videos["res.person2"]
    assert (a["person"], a["video"], a["first_frame"], len(a["keypoints"])) == (1, "res", 0, 10)
    assert (b["person"], b["video"], b["first_frame"], len(b["keypoints"])) == (2, "res", 3, 7)
    np.testing.assert_allclose(b["keypoints"][0], person(17, dx=B_X, dy=-3), atol=1e-3)   # video frame 3
    assert meta["video_metadata"]["res.person2"]["person"] == 2
    assert set(meta["relpose"]["fill_by_video"]) == {"res.person1", "res.person2"}


def test_person_n_keeps_that_person_and_short_tracks_are_dropped(tmp_path):
    res = two_people(tmp_path / "res.json", c_frames=(5, 6))      # C, the highest score, in two frames only
    v = wd.read_coco_json(res, width=640, height=480)
    lines = []
    wd.convert_detections(v, tmp_path / "two.npz", person=2, log=lines.append)
    assert lines[0] == (f"{res}: 2 people found (tracks 1-2; 1 short track of fewer than 5 frames dropped); kept "
                        "person 2 (--person 2) in 7 of 10 frames")
    videos, _, _ = wd.read_custom(tmp_path / "two.npz")
    assert list(videos) == ["res"] and (videos["res"]["person"], videos["res"]["first_frame"]) == (2, 3)
    np.testing.assert_allclose(videos["res"]["keypoints"][-1], person(17, dx=B_X, dy=-9), atol=1e-3)
    with pytest.raises(UserError, match=r"--person 3, but 2 people found \(tracks 1-2; .*\); give a number from 1 "
                                        "to 2, best or all"):
        wd.convert_detections(v, tmp_path / "three.npz", person=3, log=None)
    assert not (tmp_path / "three.npz").exists()
    for bad in ("0", "first", True, 2.5, -1):
        with pytest.raises(UserError, match="give best .*, all .* or a person's number"):
            wd.check_person(bad)
    assert [wd.check_person(x) for x in ("best", "ALL", "2", 3)] == ["best", "all", 2, 3]


def test_command_line_person_flag_and_mediapipe_says_it_follows_one(tmp_path, capsys):
    res = two_people(tmp_path / "res.json")
    data = str(tmp_path / "data")
    size = ["--width", "640", "--height", "480", "--data-dir", data]
    assert cli.main([str(res), "--name", "all", "--person", "all", *size]) == 0
    out = capsys.readouterr().out
    assert "2 people found (tracks 1-2); kept every one" in out
    assert "'res.person1' (10 frames from video frame 0), 'res.person2' (7 frames from video frame 3)" in out
    assert "python -m relpose.cli.wild -k all --video-name res.person1" in out
    assert cli.main([str(res), "--name", "two", "--person", "2", *size]) == 0
    assert "kept person 2 (--person 2) in 7 of 10 frames" in capsys.readouterr().out
    assert cli.main([str(res), "--name", "x", "--person", "many", *size]) == 2
    assert "--person 'many': give best" in capsys.readouterr().err

    lm = np.full((33, 4), 0.5)
    mp = wd.write_mediapipe_json(tmp_path / "mp.json", [lm, lm], width=64, height=48, video="walk.mp4")
    assert cli.main([str(mp), "--name", "mp", "--person", "all", "--data-dir", data]) == 0
    assert "MediaPipe follows one person per frame; --person all does not apply" in capsys.readouterr().out
    videos, _, _ = wd.read_custom(tmp_path / "data" / "data_2d_custom_mp.npz")
    assert list(videos) == ["walk.mp4"]
