"""Nothing a user made is lost: one training per folder, outputs checked before work, no silent overwrite."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from relpose.errors import UserError
from relpose.files import FolderLock, atomic_path, check_output_file, check_writable_folder, remove_stray_temporaries

from cli_helpers import TINY_MODEL


def relpose(*args, wait=True):
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    cmd = [sys.executable, "-m", "relpose", *args]
    if not wait:
        return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)


def snapshot(folder: Path) -> dict:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def train_flags(data_dir, ck, *more):
    return ["-d", "synth", "--data-dir", data_dir, "-c", str(ck), *TINY_MODEL, "--downsample", "4",
            "-str", "S1", "-ste", "S9", "-a", "Walking", "--no-eval", "-no-tta", *more]


# ----------------------------------------------------------------------------- files.py

def test_atomic_path_keeps_the_old_file_on_failure(tmp_path):
    target = tmp_path / "a.txt"
    target.write_text("old")
    with pytest.raises(KeyboardInterrupt):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise KeyboardInterrupt
    assert target.read_text() == "old" and os.listdir(tmp_path) == ["a.txt"]
    with atomic_path(target) as tmp:
        assert tmp.suffix == ".txt" and tmp.parent == tmp_path
        tmp.write_text("new")
    assert target.read_text() == "new" and os.listdir(tmp_path) == ["a.txt"]


def test_output_checks_name_the_flag_and_the_way_out(tmp_path):
    (tmp_path / "file").write_text("mine")
    with pytest.raises(UserError, match=r"-c '.*file' is a file, not a folder"):
        check_writable_folder(tmp_path / "file", "-c")
    with pytest.raises(UserError, match=r"-c '.*file/sub' cannot be created"):
        check_writable_folder(tmp_path / "file" / "sub", "-c")
    with pytest.raises(UserError, match="already exists; choose another name, delete it, or pass --overwrite"):
        check_output_file(tmp_path / "file", "--viz-export")
    assert check_output_file(tmp_path / "file", "--viz-export", overwrite=True) == tmp_path / "file"
    with pytest.raises(UserError, match="is a folder"):
        check_output_file(tmp_path, "--viz-output")
    with pytest.raises(UserError, match="unsupported extension '.avi'; use .gif or .mp4"):
        check_output_file(tmp_path / "x.avi", "--viz-output", suffixes=(".gif", ".mp4"))
    with pytest.raises(UserError, match="folder of --viz-output"):
        check_output_file(tmp_path / "file" / "x.gif", "--viz-output")
    assert (tmp_path / "file").read_text() == "mine" and sorted(os.listdir(tmp_path)) == ["file"]


def test_folder_lock_refuses_a_second_holder_and_takes_over_a_stale_one(tmp_path):
    with FolderLock(tmp_path, command="first run") as first:
        assert first.stale is None
        with pytest.raises(UserError, match=rf"-c '{tmp_path}' is in use by another training run \(pid {os.getpid()}"
                                            r".*: first run\); wait for it to finish"):
            FolderLock(tmp_path).acquire()
    # Released: the next holder finds an empty record, not a stale one.
    with FolderLock(tmp_path) as again:
        assert again.stale is None
    # A holder that died without releasing leaves its record but no flock.
    (tmp_path / ".relpose.lock").write_text(json.dumps({"pid": 999999, "started": "yesterday"}))
    with FolderLock(tmp_path) as taker:
        assert taker.stale == {"pid": 999999, "started": "yesterday"}


def test_stray_temporaries_are_removed_and_nothing_else(tmp_path):
    keep = [tmp_path / "stage_1_epoch_1.bin", tmp_path / "notes.tmp"]
    stray = [tmp_path / ".relpose-stage_1_epoch_2.ab12.tmp.bin", tmp_path / ".stage_1_epoch_3.bin.xyz.tmp"]
    for p in keep + stray:
        p.write_text("x")
    assert sorted(remove_stray_temporaries(tmp_path)) == sorted(stray)
    assert sorted(tmp_path.iterdir()) == sorted(keep)


# ----------------------------------------------------------------------------- command line

def test_two_trainings_into_one_folder(tiny_data_dir, tmp_path):
    ck = tmp_path / "ck"
    first = relpose(*train_flags(tiny_data_dir, ck, "-e", "400"), wait=False)
    try:
        lock = ck / ".relpose.lock"
        deadline = time.time() + 120
        while not (lock.exists() and lock.read_text()) and time.time() < deadline:
            time.sleep(0.2)
        assert lock.read_text(), "the first run never took the lock"
        r = relpose(*train_flags(tiny_data_dir, ck, "-e", "1"))
        assert r.returncode == 2 and "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1
        assert f"is in use by another training run (pid {first.pid}" in r.stderr and "-e 400" in r.stderr
        assert not (ck / "stage_1_epoch_1.bin").exists()
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    # The killed run's lock is stale: the next run takes it over and says so.
    r = relpose(*train_flags(tiny_data_dir, ck, "-e", "1"))
    assert r.returncode == 0, r.stderr
    assert f"taking over the lock of an earlier run in {ck} that ended without releasing it (pid {first.pid}" \
        in r.stdout


def test_unwritable_checkpoint_folder_fails_before_training(tiny_data_dir, tmp_path):
    (tmp_path / "file").write_text("mine")
    t0 = time.perf_counter()
    r = relpose(*train_flags(tiny_data_dir, tmp_path / "file" / "ck", "-e", "50"))
    assert r.returncode == 2 and "cannot be created" in r.stderr and "Traceback" not in r.stderr
    assert "epoch" not in r.stdout and time.perf_counter() - t0 < 60
    assert (tmp_path / "file").read_text() == "mine"


@pytest.mark.parametrize("flag, name", [("--viz-output", "out.gif"), ("--viz-export", "out.npy")])
def test_render_outputs_checked_before_work_and_never_replaced(tiny_data_dir, tmp_path, flag, name):
    ck = tmp_path / "ck"
    assert relpose(*train_flags(tiny_data_dir, ck, "-e", "1")).returncode == 0
    render = [*train_flags(tiny_data_dir, ck), "--evaluate", "stage_1_epoch_1.bin", "--render",
              "--viz-subject", "S9", "--viz-action", "Walking", "--viz-limit", "3"]
    (tmp_path / "file").write_text("mine")
    r = relpose(*render, flag, str(tmp_path / "file" / name))
    assert r.returncode == 2 and f"the folder of {flag}" in r.stderr and "Loading checkpoint" not in r.stdout
    out = tmp_path / name
    out.write_bytes(b"the user's own file")
    r = relpose(*render, flag, str(out))
    assert r.returncode == 2 and "already exists" in r.stderr and "--overwrite" in r.stderr
    assert out.read_bytes() == b"the user's own file"
    r = relpose(*render, flag, str(out), "--overwrite")
    assert r.returncode == 0, r.stderr
    assert out.read_bytes() != b"the user's own file" and out.stat().st_size > 100


def test_fresh_run_never_replaces_earlier_checkpoints(tiny_data_dir, tmp_path):
    ck = tmp_path / "ck"
    assert relpose(*train_flags(tiny_data_dir, ck, "-e", "2", "--checkpoint-frequency", "1")).returncode == 0
    before = snapshot(ck)
    r = relpose(*train_flags(tiny_data_dir, ck, "-e", "2", "--seed", "7", "--export-training-curves"))
    assert r.returncode == 2 and "already holds stage_1_epoch_2.bin from an earlier run" in r.stderr
    assert "-r" in r.stderr and "--overwrite" in r.stderr and snapshot(ck) == before
    # Resuming the earlier run writes only what comes after its checkpoint.
    r = relpose(*train_flags(tiny_data_dir, ck, "-e", "3", "-r", "stage_1_epoch_2.bin"))
    assert r.returncode == 0, r.stderr
    after = snapshot(ck)
    assert {k: after[k] for k in before} == before and "stage_1_epoch_3.bin" in after
    r = relpose(*train_flags(tiny_data_dir, ck, "-e", "2", "--seed", "7", "--overwrite"))
    assert r.returncode == 0 and "--overwrite: replacing stage_1_epoch_2.bin" in r.stdout
    assert snapshot(ck)["stage_1_epoch_2.bin"] != before["stage_1_epoch_2.bin"]


def test_stray_temporaries_of_a_killed_save_are_cleaned_up(tiny_data_dir, tmp_path):
    ck = tmp_path / "ck"
    ck.mkdir()
    (ck / ".relpose-stage_1_epoch_1.k3j2.tmp.bin").write_bytes(b"half a checkpoint")
    r = relpose(*train_flags(tiny_data_dir, ck, "-e", "1"))
    assert r.returncode == 0 and "removed 1 temporary file(s) of an interrupted save" in r.stdout
    assert sorted(p.name for p in ck.iterdir()) == [".relpose.lock", "stage_1_epoch_1.bin"]


# ------------------------------------------------------------------ behave as the published code

def test_evaluation_and_rendering_need_only_the_subjects_they_use(tiny_data_dir, tmp_path):
    # The published run.py never loads the training subjects when evaluating: data holding only the
    # test subjects (S9, S11) must evaluate with the default -str, and --render needs --viz-subject only.
    import numpy as np
    from relpose.safe_npz import load_npz
    ck = tmp_path / "ck"
    assert relpose(*train_flags(tiny_data_dir, ck, "-e", "1")).returncode == 0
    only = tmp_path / "only_test"
    only.mkdir()
    for name, key in (("data_3d_synth.npz", "positions_3d"), ("data_2d_synth_det.npz", "positions_2d")):
        arrays = load_npz(Path(tiny_data_dir) / name)
        kept = {s: v for s, v in arrays[key].item().items() if s in ("S9", "S11")}
        extra = {"metadata": arrays["metadata"].item()} if "metadata" in arrays else {}
        np.savez(only / name, **{key: kept}, **extra)
    common = ["-d", "synth", "--data-dir", str(only), "-c", str(ck), *TINY_MODEL, "--downsample", "4",
              "--evaluate", "stage_1_epoch_1.bin", "-no-tta"]
    r = relpose(*common)
    assert r.returncode == 0, r.stderr
    assert "Protocol #1" in r.stdout or "MPJPE" in r.stdout
    r = relpose(*common, "-ste", "S9", "--render", "--viz-subject", "S11", "--viz-action", "Walking",
                "--viz-limit", "3", "--viz-output", str(tmp_path / "out.gif"))
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "out.gif").stat().st_size > 100
    # A subject the data lacks is still named when it is actually needed.
    r = relpose(*common, "-ste", "S1")
    assert r.returncode == 2 and "'S1'" in r.stderr and "S9" in r.stderr and "Traceback" not in r.stderr


def test_stride_above_one_is_explained_in_one_line(tiny_data_dir, tmp_path):
    r = relpose(*train_flags(tiny_data_dir, tmp_path / "ck", "-e", "1", "-s", "2"))
    assert r.returncode == 2 and "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert "-s 2" in r.stderr and "one frame per window" in r.stderr
    assert not (tmp_path / "ck" / "stage_1_epoch_1.bin").exists()
