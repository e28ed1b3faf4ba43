"""Files and flags that claim more than a machine has, or numbers no video has, end in one line naming
the file (or flag) and the limit: nothing is allocated for a claim, nothing hangs, no traceback.

The hostile files are a few hundred bytes that CLAIM terabytes; a check that regressed would try to
allocate them, so the in-process tests cap the address space (memory_cap) and the command-line tests
run under RLIMIT_AS: a regression fails with MemoryError instead of exhausting the machine."""
import io
import json
import math
import os
import pickle
import re
import resource
import subprocess
import sys
import time
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest

import relpose.safe_npz as safe_npz
from relpose import custom_keypoints as ck
from relpose.errors import DataError, UserError
from relpose.wild import detections as wd

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GIB = 2 ** 30


@pytest.fixture
def memory_cap():
    """This process may map at most 2 GiB more than it does now while the test runs."""
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    used = int(re.search(r"VmSize:\s+(\d+) kB", Path("/proc/self/status").read_text()).group(1)) * 1024
    cap = used + 2 * GIB if hard == resource.RLIM_INFINITY else min(hard, used + 2 * GIB)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def one_line(err, *names) -> str:
    message = str(err.value)
    assert "\n" not in message and len(message) < 500, message
    for name in names:
        assert str(name) in message, message
    return message


# ----------------------------------------------------------------------------- hostile .npz members

def npy_header(descr="|O", shape=()) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": descr, "fortran_order": False, "shape": shape})
    return buf.getvalue()


def npz(path, **members) -> Path:
    with zipfile.ZipFile(path, "w") as z:
        for key, data in members.items():
            z.writestr(f"{key}.npy", data)
    return path


class Call:
    """Pickles as `fn(*args)` (then `state` applied), what a crafted file can ask of an allowed name."""

    def __init__(self, fn, args, state=None):
        self.fn, self.args, self.state = fn, args, state

    def __reduce__(self):
        return (self.fn, self.args) if self.state is None else (self.fn, self.args, self.state)


def pickled(obj) -> bytes:
    return npy_header() + pickle.dumps(obj, protocol=3)


def shared_lists(depth: int) -> np.ndarray:
    """Lists that hold the same list twice, `depth` levels deep: a few bytes per level, 2**depth paths."""
    inner: list = []
    for _ in range(depth):
        inner = [inner, inner]
    top = np.empty((), dtype=object)
    top[()] = {"layout_name": "coco", "tree": inner}
    return top


RECONSTRUCT = np._core.multiarray._reconstruct
HOSTILE_MEMBERS = {
    "header claims 10**12 floats": (npy_header("<f8", (10 ** 12,)) + b"\0" * 16,
                                    "claims an array of shape (1000000000000,) (8,000,000,000,000 bytes"),
    "pickled bytearray(10**11)": (pickled(Call(bytearray, (10 ** 11,))), "bytearray(100,000,000,000) of zeros"),
    "pickled bytes(10**11)": (pickled(Call(bytes, (10 ** 11,))), "bytes(100,000,000,000) of zeros"),
    "bytearray8 opcode claims 10**11 bytes": (npy_header() + b"\x80\x05\x96" + (10 ** 11).to_bytes(8, "little")
                                              + b"abc.", "expected 100000000000 bytes in a bytearray8"),
    "memo entry 2**31": (npy_header() + b"\x80\x02]r\xff\xff\xff\x7f.", "memo entry 2,147,483,647 out of order"),
    "empty array of 10**12 bytes": (pickled(Call(RECONSTRUCT, (np.ndarray, (10 ** 12,), b"b"))),
                                    "asks numpy for an array of shape (1000000000000,)"),
    "object array state of 10**12 items": (
        pickled(Call(RECONSTRUCT, (np.ndarray, (0,), b"b"), (1, (10 ** 12,), np.dtype(object), False, [1]))),
        "claims an object array of shape (1000000000000,) (1,000,000,000,000 items) but holds 1"),
    "float array state of 10**12 items": (
        pickled(Call(RECONSTRUCT, (np.ndarray, (0,), b"b"), (1, (10 ** 12,), np.dtype("f8"), False, b"\0" * 8))),
        "claims an array of shape (1000000000000,) (8,000,000,000,000 bytes of float64) but holds 8 bytes"),
    "numpy.ndarray called directly": (pickled(Call(np.ndarray, ((10 ** 12,),))), "calls numpy.ndarray directly"),
    "a list of a long string's characters": (pickled(Call(list, ("x" * 1000,))), "list from a string"),
    "shared lists 100 levels deep": (pickled(shared_lists(100)), "nested more than 64 levels deep"),
    "header and pickle disagree": (npy_header("|O", (10 ** 9,)) + pickle.dumps(np.array([1, "a"], dtype=object),
                                                                                protocol=3), "header says shape"),
    "a 6000-digit decimal integer": (npy_header() + b"L" + b"9" * 6000 + b"L\n.", "cannot be read"),
}


@pytest.mark.parametrize("case", list(HOSTILE_MEMBERS))
def test_npz_members_claiming_too_much_are_refused_before_allocating(tmp_path, memory_cap, case):
    data, expected = HOSTILE_MEMBERS[case]
    path = npz(tmp_path / "data_2d_custom_x.npz", metadata=data)
    assert path.stat().st_size < 20_000
    t0 = time.perf_counter()
    with pytest.raises(DataError) as err:
        safe_npz.load_npz(path)
    assert time.perf_counter() - t0 < 2.0
    assert expected in one_line(err, path, "(key 'metadata')")


def test_shared_nested_lists_are_walked_once_each(tmp_path, memory_cap):
    path = tmp_path / "shared.npz"
    np.savez_compressed(path, metadata=shared_lists(60))   # 2**60 paths through the tree
    assert path.stat().st_size < 10_000
    t0 = time.perf_counter()
    tree = safe_npz.load_npz(path)["metadata"].item()["tree"]
    assert time.perf_counter() - t0 < 2.0
    assert tree[0] is tree[1] and len(tree[0][0]) == 2    # read back as written: shared, not copied


def test_a_list_that_contains_itself_is_refused(tmp_path):
    loop: list = [1]
    loop.append(loop)
    top = np.empty((), dtype=object)
    top[()] = {"a": loop}
    path = npz(tmp_path / "loop.npz", metadata=pickled(top))
    with pytest.raises(DataError) as err:
        safe_npz.load_npz(path)
    assert "contains itself" in one_line(err, path)


def test_the_archive_and_pickle_limits_are_named(tmp_path, monkeypatch):
    path = tmp_path / "big.npz"
    np.savez(path, a=np.zeros(300), metadata={"x": list(range(200))})
    monkeypatch.setattr(safe_npz, "MAX_READ_BYTES", 1000)
    with pytest.raises(DataError) as err:
        safe_npz.load_npz(path)
    assert "more than the 1,000 a data file may hold" in one_line(err, path, "(key 'a')")
    monkeypatch.setattr(safe_npz, "MAX_READ_BYTES", 10 ** 6)
    monkeypatch.setattr(safe_npz, "MAX_PICKLE_OPS", 100)
    with pytest.raises(DataError) as err:
        safe_npz.load_npz(path)
    assert "more than 100 opcodes" in one_line(err, path, "(key 'metadata')")
    assert safe_npz.load_npz(path, keys=("a",))["a"].shape == (300,)


def test_genuine_object_arrays_come_back_as_plain_arrays(tmp_path):
    shared = np.arange(6.0).reshape(2, 3)
    path = tmp_path / "ok.npz"
    np.savez(path, positions_2d={"S1": {"Walk": [shared, shared[:, ::2], np.array([1, None], dtype=object)]}},
             metadata={"fps": np.float64(50), "t": (shared,)})
    got = safe_npz.load_npz(path)
    walk = got["positions_2d"].item()["S1"]["Walk"]
    assert all(type(a) is np.ndarray for a in walk) and type(got["metadata"].item()["t"][0]) is np.ndarray
    np.testing.assert_array_equal(walk[1], shared[:, ::2])
    assert walk[2][1] is None and walk[0] is not walk[1]


# ----------------------------------------------------------------------------- the custom layout's metadata

def custom_npz(path, *, keypoints=None, **video):
    meta = {"layout_name": "coco", "num_joints": 17, "keypoints_symmetry": [[1], [2]],
            "video_metadata": {"clip": {"w": 640, "h": 480, **video}}}
    k = np.zeros((3, 17, 2), np.float32) + 5 if keypoints is None else keypoints
    np.savez_compressed(path, positions_2d={"clip": {"custom": [k]}}, metadata=meta)
    return path


BAD_METADATA = {
    "width 10**9": (dict(w=10 ** 9), "w must be a whole number of pixels from 1 to 65,536, got 1000000000"),
    "width 10**20": (dict(w=10 ** 20), "from 1 to 65,536, got 100000000000000000000"),
    "width of 5000 digits": (dict(w=10 ** 5000), "got a number too long to show"),
    "height 0.5": (dict(h=0.5), "h must be a whole number"),
    "height nan": (dict(h=float("nan")), "got nan"),
    "width True": (dict(w=True), "got True"),
    "fps 1e-300": (dict(fps=1e-300), "fps must be a number from 0.01 to 100,000 frames per second"),
    "fps 1e300": (dict(fps=1e300), "got 1e+300"),
    "fps inf": (dict(fps=float("inf")), "got inf"),
    "fps a string": (dict(fps="30"), "got '30'"),
    "first frame -1": (dict(first_frame=-1), "first_frame must be a frame number from 0 to 100,000,000, got -1"),
    "first frame 10**12": (dict(first_frame=10 ** 12), "got 1000000000000"),
    "first frame a string": (dict(first_frame="12"), "got '12'"),
}


@pytest.mark.parametrize("case", list(BAD_METADATA))
def test_metadata_no_video_has_is_refused_where_it_is_read(tmp_path, case):
    video, expected = BAD_METADATA[case]
    path = custom_npz(tmp_path / "data_2d_custom_x.npz", **video)
    with pytest.raises(DataError) as err:
        ck.read_custom(path)
    assert expected in one_line(err, path, "'clip'")


@pytest.mark.parametrize("case", [c for c in BAD_METADATA if c != "fps a string"])
def test_metadata_no_video_has_is_refused_where_it_is_written(tmp_path, case):
    video, expected = BAD_METADATA[case]
    entry = {"w": 640, "h": 480, "fps": 30.0, "first_frame": 0, **video}
    path = tmp_path / "data_2d_custom_x.npz"
    with pytest.raises(UserError) as err:
        ck.write_custom(path, {"clip": (np.zeros((3, 17, 2)), entry["w"], entry["h"], entry["fps"],
                                        entry["first_frame"])}, "coco-17")
    assert expected.split(" must", 1)[-1] in one_line(err, "'clip'", path)   # 'width' here where the file says 'w'
    assert not path.exists()


BAD_KEYPOINTS = {
    "strings": (np.full((3, 17, 2), "1.5"),
                "keypoints must be real numbers (an integer or float array), got dtype <U3"),
    "complex": (np.zeros((3, 17, 2), np.complex64), "got dtype complex64"),
    "booleans": (np.zeros((3, 17, 2), bool), "got dtype bool"),
    "objects": (np.array([None] * 102, dtype=object).reshape(3, 17, 2), "got dtype object"),
    "no frames": (np.zeros((0, 17, 2), np.float32), "shape (0, 17, 2), expected (frames, 17, 2) with at least one"),
    "infinite": (np.full((3, 17, 2), np.inf, np.float32), "not all finite (frame 0"),
    "far away": (np.full((3, 17, 2), 1e30, np.float64), "lies more than 100 frame sizes (64,000 pixels)"),
}


@pytest.mark.parametrize("case", list(BAD_KEYPOINTS))
def test_keypoints_must_be_real_finite_pixels_read_and_written(tmp_path, case):
    keypoints, expected = BAD_KEYPOINTS[case]
    path = tmp_path / "in.npz"
    np.savez_compressed(path, positions_2d={"clip": {"custom": [keypoints]}},
                        metadata={"layout_name": "coco", "num_joints": 17, "video_metadata": {"clip": {"w": 640,
                                                                                                      "h": 480}}})
    out = tmp_path / "out.npz"
    with warnings.catch_warnings():
        warnings.simplefilter("error")   # complex numbers are refused, not cast with a warning
        with pytest.raises(DataError) as err:
            ck.read_custom(path)
        assert expected in one_line(err, path, "'clip'")
        with pytest.raises(DataError) as err:
            ck.write_custom(out, {"clip": (keypoints, 640, 480, None)}, "coco-17")
    message = one_line(err, "video 'clip' (for ", out)
    assert expected in message and not message.startswith(str(out)) and "fill_gaps" not in message
    assert not out.exists()


def test_a_folder_is_called_a_folder(tmp_path):
    (tmp_path / "data_2d_custom_x.npz").mkdir()
    with pytest.raises(DataError) as err:
        ck.read_custom(tmp_path / "data_2d_custom_x.npz")
    assert "is a folder" in one_line(err) and "does not exist" not in str(err.value)


# ----------------------------------------------------------------------------- detector files

def coco(path, ids, keypoints=None, **extra):
    kp = [10.0, 20.0, 0.9] * 17 if keypoints is None else keypoints
    path.write_text(json.dumps([{"image_id": i, "category_id": 1, "keypoints": kp, "score": 0.9, **extra}
                                for i in ids]))
    return path


def test_detector_files_claiming_too_much_end_in_one_line(tmp_path, memory_cap):
    cases = {
        "ids 0 and 10**12": (coco(tmp_path / "a.json", [0, 10 ** 12]), "image_id 1000000000000 is not a frame number "
                                                                       "from 0 to 100,000,000"),
        "ids 0 and 5,000,000": (coco(tmp_path / "b.json", [0, 5_000_000]),
                                "frame numbers run from 0 to 5,000,000, more than the 1,000,000 frames"),
        "a negative id": (coco(tmp_path / "c.json", [3, -1]), "image_id -1 is not a frame number"),
        "an id name of 5000 digits": (coco(tmp_path / "d.json", ["f" + "9" * 5000 + ".jpg"]), "image_id 'f999"),
        "an id of 5000 digits": (tmp_path / "e.json", "Exceeds the limit (4300 digits)"),
        "nested 100,000 deep": (tmp_path / "f.json", "nested deeper than Python's JSON reader can follow"),
        "keypoints of 400 digits": (coco(tmp_path / "g.json", [0], [10 ** 400] * 51), "must be a flat list of numbers"),
        "a NaN score": (tmp_path / "h.json", "score must be a finite number, got nan"),
        "an infinite box": (coco(tmp_path / "i.json", [0], bbox=[0, 0, float("inf"), 5]), "a box must be finite"),
    }
    (tmp_path / "e.json").write_text('[{"image_id": ' + "9" * 5000 + ', "keypoints": []}]')
    (tmp_path / "f.json").write_text("[" * 100_000 + "]" * 100_000)
    (tmp_path / "h.json").write_text(coco(tmp_path / "h.json", [0]).read_text().replace('"score": 0.9', '"score": NaN'))
    for case, (path, expected) in cases.items():
        with pytest.raises(DataError) as err:
            wd.read_detections(path, "coco-json", width=640, height=480)
        assert expected in one_line(err, path), case


def mediapipe(path, **over):
    doc = {"format": wd.MEDIAPIPE_FORMAT, "video": "v.mp4", "width": 64, "height": 48, "fps": 25.0,
           "frames": [{"landmarks": [[0.5, 0.5, 0.0, 0.9]] * 33}], **over}
    path.write_text(json.dumps(doc))
    return path


@pytest.mark.parametrize("over, expected", [
    (dict(width=10 ** 9), "width must be a whole number of pixels from 1 to 65,536"),
    (dict(height=10 ** 20), "got 100000000000000000000"),
    (dict(fps=1e300), "fps must be a number from 0.01"),
    (dict(fps=1e-300), "got 1e-300"),
    (dict(first_frame=10 ** 12), "first_frame must be a frame number from 0 to 100,000,000"),
    (dict(first_frame=-5), "got -5"),
    (dict(frames=[]), "'frames' must be a list"),
    (dict(frames=[{"landmarks": [[1e300, 0.5, 0.0, 0.9]] * 33}]), "lies more than 100 frame sizes"),
])
def test_mediapipe_metadata_no_video_has(tmp_path, over, expected):
    path = mediapipe(tmp_path / "m.json", **over)
    with pytest.raises(DataError) as err:
        wd.convert_detections(wd.read_mediapipe_json(path), tmp_path / "out.npz", log=None)
    assert expected in one_line(err, path)
    assert not (tmp_path / "out.npz").exists()


def test_score_thresholds_and_frame_counts_are_checked_by_the_api(tmp_path):
    video = wd.read_mediapipe_json(mediapipe(tmp_path / "m.json"))
    for bad in (float("nan"), -0.1, float("inf")):
        with pytest.raises(UserError, match=r"min_score .*: give a finite score threshold >= 0"):
            wd.convert_detections(video, tmp_path / "out.npz", min_score=bad, log=None)
    with pytest.raises(UserError, match="0 frames to write"):
        wd.write_mediapipe_json(tmp_path / "none.json", [], width=4, height=4)
    assert not (tmp_path / "out.npz").exists() and not (tmp_path / "none.json").exists()


# ----------------------------------------------------------------------------- command lines

def run_capped(module, *args, cwd):
    """`python -m module args` with at most 4 GiB of address space: exit code and stderr."""
    cap = lambda: resource.setrlimit(resource.RLIMIT_AS, (4 * GIB, 4 * GIB))  # noqa: E731
    r = subprocess.run([sys.executable, "-m", module, *map(str, args)], capture_output=True, text=True, timeout=60,
                       cwd=cwd, env={**os.environ, "PYTHONPATH": ROOT}, preexec_fn=cap)
    return r.returncode, r.stderr


def test_keypoints_command_refuses_hostile_files_in_one_line(tmp_path):
    far = coco(tmp_path / "far.json", [0, 10 ** 12])
    (tmp_path / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
    big = mediapipe(tmp_path / "big.json", width=10 ** 20)
    for path, flags, expected in ((far, ["--width", 64, "--height", 48], "is not a frame number"),
                                  (tmp_path / "deep.json", ["--width", 64, "--height", 48, "--format", "coco-json"],
                                   "nested deeper"),
                                  (big, [], "from 1 to 65,536")):
        code, err = run_capped("relpose.cli.keypoints", path, "--name", "x", "--data-dir", tmp_path / "data", *flags,
                               cwd=tmp_path)
        assert code == 2 and len(err.strip().splitlines()) == 1 and expected in err, err
        assert "Traceback" not in err and not (tmp_path / "data" / "data_2d_custom_x.npz").exists()


@pytest.mark.parametrize("flags, expected", [
    (["--width", 0, "--height", 48], "--width 0: give the frame's size in pixels, 1 to 65,536"),
    (["--width", 64, "--height", 10 ** 20], "--height 100000000000000000000: give"),
    (["--width", 64, "--height", 48, "--fps", "nan"], "--fps nan: give the video's frame rate, 0.01 to 100,000"),
    (["--width", 64, "--height", 48, "--fps", "1e300"], "--fps 1e+300"),
    (["--width", 64, "--height", 48, "--fps", "1e-300"], "--fps 1e-300"),
    (["--width", 64, "--height", 48, "--min-score", "nan"], "--min-score nan: give a finite score threshold >= 0"),
    (["--width", 64, "--height", 48, "--min-score", "-1"], "--min-score -1.0"),
    (["--video", "."], "--video '.' is a folder"),
])
def test_keypoints_command_flag_ranges(tmp_path, capsys, flags, expected):
    from relpose.cli.keypoints import main
    path = coco(tmp_path / "res.json", [0, 1])
    assert main([str(path), "--name", "x", "--data-dir", str(tmp_path / "data"), *map(str, flags)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and expected in err, err
    assert not (tmp_path / "data").exists()


@pytest.mark.parametrize("flags, expected", [
    (["--limit", 0], "--limit 0: give a number of frames from 1 to 1,000,000"),
    (["--limit", -3], "--limit -3"),
    (["--limit", 10 ** 12], "--limit 1000000000000"),
    (["--start", -1], "--start -1: give a frame number from 0 to 100,000,000"),
    (["--start", 10 ** 12], "--start 1000000000000"),
    (["--min-score", "nan"], "--min-score nan: give a score threshold from 0 to 1"),
    (["--min-score", 2], "--min-score 2.0"),
    (["--min-detection", "nan"], "--min-detection nan: give a confidence from 0 to 1"),
])
def test_detect_command_flag_ranges_before_the_video_is_opened(tmp_path, capsys, flags, expected):
    from relpose.cli.detect import main
    out = tmp_path / "lm.json"
    assert main(["no-such-video.mp4", "--output", str(out), "--name", "x", "--data-dir", str(tmp_path),
                 *map(str, flags)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and expected in err, err
    assert not out.exists()


def test_limits_are_consistent():
    assert ck.MAX_FRAMES < ck.MAX_FRAME_NUMBER and ck.MIN_FPS < 1 < 1000 < ck.MAX_FPS
    assert 15_360 < ck.MAX_FRAME_SIDE and math.isfinite(ck.KEYPOINT_REACH)


def test_openpose_folder_messages_say_what_the_path_is(tmp_path):
    (tmp_path / "file").write_text("{}")
    (tmp_path / "ok").mkdir()
    (tmp_path / "ok" / "v_000000000000_keypoints.json").mkdir()   # a folder where a frame's file belongs
    for path, expected in ((tmp_path / "missing", "does not exist"), (tmp_path / "file", "is a file, not a folder"),
                           (tmp_path / "ok", "is a folder; give the OpenPose file")):
        with pytest.raises(DataError) as err:
            wd.read_openpose_folder(path, width=64, height=48)
        assert expected in one_line(err, path)


def test_person_scores_of_hundreds_of_digits_are_refused(tmp_path):
    path = tmp_path / "s.json"
    path.write_text(coco(path, [0]).read_text().replace('"score": 0.9', '"score": 1' + "0" * 400))
    with pytest.raises(DataError) as err:
        wd.read_detections(path, "coco-json", width=64, height=48)
    assert "score must be a finite number, got 1000" in one_line(err, path)


@pytest.mark.parametrize("shape", [(10 ** 5000,), (-1,), (2 ** 70,), "abc"])
def test_array_states_with_impossible_shapes_are_refused(tmp_path, memory_cap, shape):
    state = (1, shape, np.dtype(object), False, [1])
    path = npz(tmp_path / "s.npz", metadata=pickled(Call(RECONSTRUCT, (np.ndarray, (0,), b"b"), state)))
    with pytest.raises(DataError) as err:
        safe_npz.load_npz(path)
    assert "gives an array a shape that is not a tuple of sizes" in one_line(err, path)


def test_a_detector_file_larger_than_the_limit_is_not_read(tmp_path, monkeypatch):
    path = coco(tmp_path / "r.json", [0, 1])
    monkeypatch.setattr(wd, "MAX_JSON_BYTES", 100)
    with pytest.raises(DataError) as err:
        wd.read_detections(path, width=64, height=48)
    assert f"holds {path.stat().st_size:,} bytes, more than the 100 a detections file may hold" in one_line(err, path)
