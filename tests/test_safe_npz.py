"""No data file can run code (relpose.safe_npz): hostile pickles of every kind are refused before
anything runs, with one line naming the file; every genuine VideoPose3D layout still reads."""
import collections
import io
import os
import pickle
import subprocess
import sys
import zipfile

import numpy as np
import pytest

from relpose.datasets import load_dataset
from relpose.errors import DataError
from relpose.safe_npz import load_npz

H36M_META = {"layout_name": "h36m", "num_joints": 17,
             "keypoints_symmetry": [[4, 5, 6, 11, 12, 13], [1, 2, 3, 14, 15, 16]]}


class Payload:
    """Unpickling this runs `code` (what a hostile file does); it leaves a marker file if it ran."""
    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (exec, (f"open({self.marker!r}, 'w').write('ran')",))


class SystemPayload(Payload):
    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


class EvalPayload(Payload):
    def __reduce__(self):
        return (eval, (f"open({self.marker!r}, 'w')",))


class Plain:
    """An innocent-looking class: still not data."""


def npy_bytes(obj) -> bytes:
    """An object-dtype .npy member whose pickle is exactly `obj` (what np.save writes for an array)."""
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "|O", "fortran_order": False, "shape": ()})
    return header.getvalue() + pickle.dumps(obj, protocol=3)


def write_members(path, **members):
    with zipfile.ZipFile(path, "w") as z:
        for key, data in members.items():
            z.writestr(f"{key}.npy", data)


def genuine_2d(n=5):
    return {"S9": {"Walking": [np.zeros((n, 17, 2), np.float32) + i for i in range(4)]},
            "S11": {"Walking": [np.ones((n, 17, 2), np.float32) for _ in range(4)]}}


def hostile_cases(marker):
    as_array = lambda obj: np.array(obj, dtype=object)
    return {
        "exec in metadata": dict(positions_2d=npy_bytes(as_array(genuine_2d())), metadata=npy_bytes(
            as_array({"layout_name": "h36m", "x": Payload(marker)}))),
        "os.system in positions": dict(positions_2d=npy_bytes(as_array({"S9": {"Walking": [SystemPayload(marker)]}})),
                                       metadata=npy_bytes(as_array(H36M_META))),
        "eval deep in a list": dict(positions_2d=npy_bytes(as_array({"S9": {"W": [[[EvalPayload(marker)]]]}})),
                                    metadata=npy_bytes(as_array(H36M_META))),
        "a plain class instance": dict(positions_2d=npy_bytes(as_array({"S9": Plain()})),
                                       metadata=npy_bytes(as_array(H36M_META))),
        "a bare pickled payload": dict(positions_2d=npy_bytes(Payload(marker)), metadata=npy_bytes(as_array({}))),
        "a masked array (numpy, not plain)": dict(positions_2d=npy_bytes(as_array({"S9": np.ma.masked_array([1.0])})),
                                                  metadata=npy_bytes(as_array({}))),
    }


@pytest.mark.parametrize("case", list(hostile_cases("x")))
def test_hostile_object_arrays_are_refused_before_anything_runs(tmp_path, case):
    marker = tmp_path / "ran.txt"
    path = tmp_path / "data_2d_h36m_gt.npz"
    write_members(path, **hostile_cases(marker)[case])
    with pytest.raises(DataError) as e:
        load_npz(path)
    message = str(e.value)
    assert "\n" not in message and str(path) in message
    assert "refused" in message or "never needs" in message or "re-create" in message
    assert not marker.exists(), "the payload ran"
    # np.load(allow_pickle=True) would have run it: the test's payloads are live.
    if case in ("exec in metadata", "a bare pickled payload"):
        with np.load(path, allow_pickle=True) as z:
            for k in z.files:
                z[k]
        assert marker.exists()


def test_refusal_names_what_the_pickle_asked_for(tmp_path):
    path = tmp_path / "evil.npz"
    write_members(path, metadata=npy_bytes(np.array({"a": SystemPayload(tmp_path / "m")}, dtype=object)))
    with pytest.raises(DataError, match=r"evil\.npz \(key 'metadata'\) asks to load '(posix|os)\.system'"):
        load_npz(path)


def test_persistent_references_and_hand_made_opcodes_are_refused(tmp_path):
    class Persistent(pickle.Pickler):
        def persistent_id(self, obj):
            return "ref" if isinstance(obj, str) and obj == "x" else None
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": "|O", "fortran_order": False, "shape": ()})
    Persistent(buf, protocol=3).dump(np.array({"a": "x"}, dtype=object))
    write_members(tmp_path / "p.npz", metadata=buf.getvalue())
    with pytest.raises(DataError, match="persistent reference"):
        load_npz(tmp_path / "p.npz")
    # A protocol-0 pickle naming a global by hand (what a crafted file does without any Python class).
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "|O", "fortran_order": False, "shape": ()})
    write_members(tmp_path / "h.npz", metadata=header.getvalue() + b"csubprocess\ncheck_output\n(S'id'\ntR.")
    with pytest.raises(DataError, match="subprocess.check_output"):
        load_npz(tmp_path / "h.npz")


def test_not_an_archive_truncated_and_garbage_members(tmp_path):
    (tmp_path / "bare.npz").write_bytes(pickle.dumps(Payload(tmp_path / "m")))
    with pytest.raises(DataError, match="not an .npz"):
        load_npz(tmp_path / "bare.npz")
    good = npy_bytes(np.array(H36M_META, dtype=object))
    write_members(tmp_path / "cut.npz", metadata=good[: len(good) // 2])
    with pytest.raises(DataError, match="cannot be read"):
        load_npz(tmp_path / "cut.npz")
    write_members(tmp_path / "junk.npz", metadata=b"\x93NUMPY\x09\x00junk")
    with pytest.raises(DataError):
        load_npz(tmp_path / "junk.npz")
    assert not (tmp_path / "m").exists()


def test_genuine_files_read_exactly_as_numpy_reads_them(tmp_path):
    meta = dict(H36M_META, fps=np.float64(50.0), video_metadata={"clip": {"w": 1920, "h": 1080}})
    kps = genuine_2d()
    kps["S9"]["Ordered"] = collections.OrderedDict(a=np.arange(3))
    np.savez_compressed(tmp_path / "c.npz", positions_2d=kps, metadata=meta, plain=np.arange(6.0).reshape(2, 3))
    np.savez(tmp_path / "u.npz", positions_3d={"S1": {"Walking": np.ones((4, 32, 3), np.float64)}})
    for name in ("c.npz", "u.npz"):
        ours = load_npz(tmp_path / name)
        with np.load(tmp_path / name, allow_pickle=True) as ref:
            assert sorted(ours) == sorted(ref.files)
            for k in ref.files:
                a, b = ours[k], ref[k]
                assert a.dtype == b.dtype and a.shape == b.shape
                if a.dtype != object:
                    np.testing.assert_array_equal(a, b)
    got = load_npz(tmp_path / "c.npz")
    assert got["metadata"].item()["video_metadata"] == {"clip": {"w": 1920, "h": 1080}}
    np.testing.assert_array_equal(got["positions_2d"].item()["S9"]["Walking"][2], kps["S9"]["Walking"][2])
    assert load_npz(tmp_path / "c.npz", keys=("metadata",)).keys() == {"metadata"}


def test_the_data_loader_refuses_a_hostile_file_in_one_line(tmp_path):
    marker = tmp_path / "ran.txt"
    write_members(tmp_path / "data_2d_h36m_gt.npz", **hostile_cases(marker)["exec in metadata"])
    np.savez(tmp_path / "data_3d_h36m.npz", positions_3d={"S9": {"Walking": np.zeros((5, 32, 3), np.float32)}})
    with pytest.raises(DataError) as e:
        load_dataset("h36m", "gt", tmp_path)
    assert "\n" not in str(e.value) and "data_2d_h36m_gt.npz" in str(e.value) and "builtins.exec" in str(e.value)
    assert not marker.exists()


def test_the_command_line_refuses_a_hostile_file_with_exit_2(tmp_path):
    marker = tmp_path / "ran.txt"
    write_members(tmp_path / "data_3d_h36m.npz",
                  positions_3d=npy_bytes(np.array({"S9": {"Walking": SystemPayload(marker)}}, dtype=object)))
    np.savez(tmp_path / "data_2d_h36m_gt.npz", positions_2d=genuine_2d(), metadata=H36M_META)
    r = subprocess.run([sys.executable, "-m", "relpose", "-k", "gt", "--data-dir", str(tmp_path), "-c",
                        str(tmp_path / "ck"), "-e", "1", "-arc", "3,3", "--no-progress"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and "data_3d_h36m.npz" in lines[0], r.stderr
    assert "Traceback" not in r.stderr and not marker.exists()
