"""`make wild` keys its detection by what it was made from (the video's resolved path, size and time, START,
LIMIT): the same key reuses it, another one detects again and replaces make wild's own file, and a file made
otherwise is never replaced without REDETECT=1. The decision (`plan_detection`) is tested alone, then the
whole of relpose.cli.wild_make with the MediaPipe detector replaced by the stored landmarks of a real clip."""
import json
import os
import subprocess
from importlib.resources import files as package_files
from types import SimpleNamespace

import numpy as np
import pytest

from relpose.cli import detect as cli_detect
from relpose.cli import wild_make
from relpose.cli.wild_make import plan_detection
from relpose.custom_keypoints import custom_file, read_custom, write_custom
from relpose.errors import UserError
from relpose.wild.detection_key import MADE_BY_DETECTOR, MADE_BY_MAKE_WILD, detection_key, recorded_key

from wild_helpers import make_clip


def keyed_file(path, key: dict | None):
    """A small keypoint file whose provenance records `key` (None: a file of the user's own)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_custom(path, {"clip.mp4": (np.full((2, 17, 2), 5.0), 64, 48, 25.0)}, "coco-17",
                        provenance=None if key is None else {"detection": key}, overwrite=True)


def test_plan_detection_decides_from_the_recorded_key(tmp_path):
    video = tmp_path / "clip.mp4"
    video.write_bytes(b"x" * 100)
    other = tmp_path / "other.mp4"
    other.write_bytes(b"y" * 100)
    file = custom_file(tmp_path / "data", "clip")
    wanted = detection_key(video, None, None, MADE_BY_MAKE_WILD)
    assert wanted == {"made_by": "make wild", "start": 0, "limit": None,
                      "video": {"path": str(video.resolve()), "bytes": 100, "mtime_ns": video.stat().st_mtime_ns}}
    plan = lambda key, **kw: plan_detection(file, key, **{"redetect": False, "frames_given": False, **kw})  # noqa

    assert plan(wanted) == wild_make.DetectionPlan(True, False, None)                   # no file: detect
    keyed_file(file, wanted)
    assert recorded_key(file) == wanted
    same = plan(wanted)
    assert (same.detect, same.replace) == (False, False)
    assert same.message == (f"using {file} (detected before by make wild in this video with START=0 LIMIT=(all); "
                            "REDETECT=1 detects again)")
    other_frames = plan(detection_key(video, 2, 5, MADE_BY_MAKE_WILD), frames_given=True)
    assert (other_frames.detect, other_frames.replace) == (True, True)
    assert other_frames.message == (f"{file} was detected by make wild with START=0 LIMIT=(all): detecting again "
                                    "with START=2 LIMIT=5, replacing it")
    os.utime(video, ns=(video.stat().st_atime_ns, video.stat().st_mtime_ns + 10 ** 9))   # the video was replaced
    changed = plan(detection_key(video, None, None, MADE_BY_MAKE_WILD))
    assert (changed.detect, changed.replace) == (True, True) and "before the video changed" in changed.message
    with pytest.raises(UserError, match=r"by make wild in another video .*; add REDETECT=1 to detect again in this"):
        plan(detection_key(other, None, None, MADE_BY_MAKE_WILD))
    assert plan(detection_key(other, None, None, MADE_BY_MAKE_WILD), redetect=True).replace

    # A file made otherwise (the user's own, or the detector run by hand): used as it is, never replaced.
    for key in (None, detection_key(video, None, None, MADE_BY_DETECTOR)):
        keyed_file(file, key)
        mine = plan(wanted)
        assert mine == wild_make.DetectionPlan(False, False,
                                               f"using {file} (detected before; REDETECT=1 detects again)")
        with pytest.raises(UserError) as err:
            plan(detection_key(video, 2, None, MADE_BY_MAKE_WILD), frames_given=True)
        assert ("not by make wild (a file of your own is never replaced); add REDETECT=1 to detect again"
                in str(err.value))
    assert plan(wanted, redetect=True) == wild_make.DetectionPlan(True, True, f"REDETECT=1: detecting again, "
                                                                             f"replacing {file}")
    file.write_bytes(b"not an archive")                  # unreadable: not make wild's either
    assert plan(wanted).detect is False and recorded_key(file) is None


@pytest.fixture
def make_wild(tmp_path, monkeypatch):
    """wild_make.main in tmp_path with the detector run in process on the stored landmarks of bikes.mp4 (frames
    from --start, --limit of them) and the lift recorded; returns run(**variables) -> (exit status, detections)."""
    monkeypatch.chdir(tmp_path)
    stored = json.loads((package_files("relpose") / "data" / "wild" / "bikes_landmarks.json").read_text())
    detections = []

    def detect_video(path, limit=None, start=0, stats=None, **_):
        frames = stored["frames"][:limit]
        stats.update(frames=len(frames), frames_with_person=len(frames), frames_per_second=30.0)
        return {**stored, "video": os.path.basename(path), "frames": frames, "first_frame": start}

    def run_detector(command, **_):
        assert command[:3] == ["detector-python", "-m", "relpose.wild.detect"]
        detections.append(command[3:])
        return subprocess.CompletedProcess(command, cli_detect.main(command[3:]))

    monkeypatch.setattr(cli_detect, "detect_video", detect_video)
    monkeypatch.setattr(wild_make, "_ensure_detector_environment", lambda: "detector-python")
    monkeypatch.setattr(wild_make, "subprocess", SimpleNamespace(run=run_detector))
    monkeypatch.setattr(wild_make.cli_wild, "_main", lambda argv, lock: 0)
    make_clip(tmp_path / "clip.mp4")

    def run(**variables):
        for k in ("VIDEO", "START", "LIMIT", "REDETECT", "NAME", "OVERWRITE"):
            monkeypatch.delenv("RELPOSE_WILD_" + k, raising=False)
        for k, v in {"VIDEO": "clip.mp4", **variables}.items():
            monkeypatch.setenv("RELPOSE_WILD_" + k, v)
        return wild_make.main([]), detections
    return run


def test_make_wild_reuses_the_same_detection_and_replaces_its_own_for_other_frames(make_wild, tmp_path, capsys):
    file = tmp_path / "data" / "data_2d_custom_clip.npz"
    status, detections = make_wild()
    assert status == 0 and len(detections) == 1 and "--made-by-make-wild" in detections[0]
    key = recorded_key(file)
    assert key == detection_key(tmp_path / "clip.mp4", None, None, MADE_BY_MAKE_WILD)
    capsys.readouterr()

    assert make_wild() == (0, detections) and len(detections) == 1            # the same: reused
    assert "(detected before by make wild in this video with START=0 LIMIT=(all)" in capsys.readouterr().out

    status, _ = make_wild(START="2", LIMIT="5")                                 # other frames: detected again
    assert status == 0 and len(detections) == 2 and "--overwrite" in detections[1]
    said = capsys.readouterr().out
    assert ("was detected by make wild with START=0 LIMIT=(all): detecting again with START=2 LIMIT=5, "
            "replacing it") in said
    videos, _, meta = read_custom(file)
    assert videos["clip.mp4"]["first_frame"] == 2 and len(videos["clip.mp4"]["keypoints"]) == 5
    assert (meta["relpose"]["detection"]["start"], meta["relpose"]["detection"]["limit"]) == (2, 5)

    # The user's own file: used as it is, and START/LIMIT refused without REDETECT=1; it is never replaced.
    file.unlink()
    keyed_file(file, None)
    mine = file.read_bytes()
    assert make_wild(START="1") == (2, detections) and len(detections) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "add REDETECT=1 to detect again" in err and file.read_bytes() == mine
    assert make_wild() == (0, detections) and len(detections) == 2 and file.read_bytes() == mine
    assert make_wild(START="1", REDETECT="1")[0] == 0 and len(detections) == 3
    assert recorded_key(file)["start"] == 1
