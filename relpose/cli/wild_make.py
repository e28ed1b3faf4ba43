"""What `make wild` runs: detect (if needed, in the detector's environment) and lift, from make's variables.

The Makefile hands each variable given on make's command line to this module through the environment,
unexpanded (RELPOSE_WILD_VIDEO, _NAME, _START, _LIMIT, _CHECKPOINT, _GIF, _OVERWRITE, _REDETECT, _DIR): no
shell and no make function ever parses a user's file name, and the programs run from here get argument
lists with `--flag=value` (a name starting with '-' stays a value). Everything is checked before any work
(the video probed, the checkpoint found, the outputs free), and the outputs' lock is held from detection to
the end of the lift.

Two decisions, two variables: OVERWRITE=1 replaces wild/NAME.mp4/.gif/.npy/.html; REDETECT=1 runs the
detector again over data/data_2d_custom_NAME.npz (which may be a file made with another detector).
Without REDETECT=1 a detection is keyed by what it was made from (relpose.wild.detection_key: the video's
path, size and modification time, START and LIMIT): make wild's own detection is reused for the same key and
made again (replacing it) for another one; a file made otherwise is used as it is, never replaced
(`plan_detection`).
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from ..custom_keypoints import custom_file
from ..errors import UserError
from ..files import OutputsLock, check_writable_folder, path_argument
from ..wild.detection_key import MADE_BY_MAKE_WILD, detection_key, frames_text, recorded_key
from ..wild.video import probe_video
from . import wild as cli_wild
from .common import run_command

PREFIX = "RELPOSE_WILD_"
DATA_DIR = "data"
_NAME_CHARS = re.compile(r"[^A-Za-z0-9._-]+")
_TRUE, _FALSE = ("1", "yes", "true"), ("", "0", "no", "false")


def _value(variable: str) -> str:
    value = os.environ.get(PREFIX + variable, "")
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise UserError(f"{variable}={value!r} holds a control character (a newline?); rename the file")
    return value


def _switch(variable: str) -> bool:
    value = _value(variable).strip().lower()
    if value in _TRUE or value in _FALSE:
        return value in _TRUE
    raise UserError(f"{variable}={_value(variable)!r}: give {variable}=1 or leave it out")


def _count(variable: str, least: int) -> int | None:
    text = _value(variable).strip()
    if not text:
        return None
    if not re.fullmatch(r"[0-9]{1,9}", text) or int(text) < least:
        kind = "a frame number >= 0" if least == 0 else "a positive number of frames"
        raise UserError(f"{variable}={_value(variable)!r}: give {kind}")
    return int(text)


def name_from_video(video: str) -> str:
    """The keypoints name of a video: its file name without the last extension, with each run of characters
    a name cannot hold ('my clip', "it's") made '_' and no leading '.', '_' or '-'."""
    name = _NAME_CHARS.sub("_", Path(video).stem).lstrip("._-")
    if not name:
        raise UserError(f"VIDEO='{video}': no keypoints name can be made from this file name; give one with "
                        "NAME=letters_digits")
    return name


def _checked_name(video: str) -> str:
    name = _value("NAME")
    if not name:
        return name_from_video(video)
    try:
        custom_file(DATA_DIR, name)
    except UserError:
        raise UserError(f"NAME={name!r}: use letters, digits, '.', '_' and '-' only, starting with a letter or "
                        "digit (it becomes data/data_2d_custom_NAME.npz and wild/NAME.mp4)") from None
    return name


@dataclass(frozen=True)
class DetectionPlan:
    """Whether to run the detector, whether it may replace the keypoint file (and the landmarks beside the
    outputs), and the line that says what is done (None: nothing to say)."""

    detect: bool
    replace: bool
    message: str | None = None


def plan_detection(keypoint_file, wanted: dict, *, redetect: bool, frames_given: bool) -> DetectionPlan:
    """What make wild does about `keypoint_file` for a detection keyed `wanted` (detection_key): REDETECT=1
    detects again; no file: detect; make wild's own file for this video: reuse it when the key is the same,
    else detect again and replace it; a file made otherwise (another detector, a user's own): use it as it is
    when START and LIMIT were not given (`frames_given`), else refuse (UserError) naming REDETECT=1."""
    keypoint_file = Path(keypoint_file)
    if redetect:
        return DetectionPlan(True, True, f"REDETECT=1: detecting again, replacing {keypoint_file}"
                             if keypoint_file.exists() else None)
    if not keypoint_file.exists():
        return DetectionPlan(True, False)
    recorded = recorded_key(keypoint_file)
    if recorded is None or recorded.get("made_by") != MADE_BY_MAKE_WILD:
        if frames_given:
            raise UserError(f"START/LIMIT choose the frames to detect, but {keypoint_file} was made before, not by "
                            "make wild (a file of your own is never replaced); add REDETECT=1 to detect again with "
                            "them, or leave them out")
        return DetectionPlan(False, False, f"using {keypoint_file} (detected before; REDETECT=1 detects again)")
    was, now = recorded["video"], wanted["video"]
    if was.get("path") != now["path"]:
        raise UserError(f"{keypoint_file} was detected by make wild in another video ('{was.get('path')}'); add "
                        "REDETECT=1 to detect again in this one, or give another NAME")
    same_video = (was.get("bytes"), was.get("mtime_ns")) == (now["bytes"], now["mtime_ns"])
    same_frames = (recorded.get("start"), recorded.get("limit")) == (wanted["start"], wanted["limit"])
    if same_video and same_frames:
        return DetectionPlan(False, False, f"using {keypoint_file} (detected before by make wild in this video with "
                                           f"{frames_text(wanted)}; REDETECT=1 detects again)")
    why = (f"with {frames_text(recorded)}" if same_video else "before the video changed (its size or time)")
    return DetectionPlan(True, True, f"{keypoint_file} was detected by make wild {why}: detecting again with "
                                     f"{frames_text(wanted)}, replacing it")


def _ensure_detector_environment() -> str:
    """The detector's python, `make detect-env` run first (it does nothing when the environment is up to date).
    make gets no MAKEFLAGS: they carry the user's VIDEO=... etc., which that make must not see."""
    venv = os.environ.get(PREFIX + "DETECT_VENV") or ".venv-detect"
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES")}
    command = [os.environ.get(PREFIX + "MAKE") or "make", "--no-print-directory"]
    makefile = os.environ.get(PREFIX + "MAKEFILE")
    if makefile:
        command += ["-f", makefile]
    escape = lambda v: v.replace("$", "$$")   # noqa: E731  (make reads '$' in a command-line value)
    command += ["detect-env", f"DETECT_VENV={escape(venv)}"]
    if os.environ.get(PREFIX + "PYTHON"):
        command.append(f"PYTHON={escape(os.environ[PREFIX + 'PYTHON'])}")
    # `make -q` first: silent when the environment is up to date (make would say "Nothing to be done").
    up_to_date = subprocess.run(command[:1] + ["-q"] + command[1:], env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL).returncode == 0
    done = subprocess.run(command, env=env) if not up_to_date else None
    if done is not None and done.returncode != 0:
        raise UserError(f"the detector's environment {venv} could not be made (make detect-env exited "
                        f"{done.returncode}; its output is above)")
    return os.path.join(venv, "bin", "python")


def _main(argv) -> int:
    if argv:
        raise UserError("python -m relpose.cli.wild_make takes no arguments; run make wild VIDEO=path/to/video.mp4")
    video = _value("VIDEO")
    if not video:
        raise UserError("give the video: make wild VIDEO=path/to/video.mp4")
    name = _checked_name(video)
    start, limit = _count("START", 0), _count("LIMIT", 1)
    checkpoint = _value("CHECKPOINT")
    gif, overwrite, redetect = _switch("GIF"), _switch("OVERWRITE"), _switch("REDETECT")
    out_dir = _value("DIR") or "wild"
    # Every input before any work: nothing is written for a run that cannot finish.
    probe_video(video, "VIDEO")
    if checkpoint and not Path(checkpoint).is_file():
        what = "is a folder" if Path(checkpoint).is_dir() else "does not exist"
        raise UserError(f"CHECKPOINT='{checkpoint}' {what}; give a checkpoint file (.bin), or leave CHECKPOINT out "
                        "for the kit's in-the-wild model")
    keypoint_file = custom_file(DATA_DIR, name)
    wanted = detection_key(video, start, limit, MADE_BY_MAKE_WILD)
    paths = cli_wild.output_paths(out_dir, name, gif)
    check_writable_folder(out_dir, "WILD_DIR")
    with OutputsLock(out_dir, name, "NAME") as lock:
        cli_wild.check_outputs(paths, overwrite, "OVERWRITE=1")
        plan = plan_detection(keypoint_file, wanted, redetect=redetect,
                              frames_given=start is not None or limit is not None)
        landmarks = Path(out_dir) / f"{name}_landmarks.json"
        if plan.message:
            print(plan.message, flush=True)
        if plan.detect:
            if landmarks.exists() and not (plan.replace or overwrite):
                raise UserError(f"'{landmarks}' already exists (an earlier detection); add REDETECT=1 to detect "
                                "again, or delete it")
            command = [_ensure_detector_environment(), "-m", "relpose.wild.detect", path_argument(video),
                       f"--output={landmarks}", f"--name={name}", f"--data-dir={DATA_DIR}"]
            command += [f"--start={start}"] if start is not None else []
            command += [f"--limit={limit}"] if limit is not None else []
            command += ["--made-by-make-wild"]
            # A detection replaced takes its keypoint file with it; the landmarks beside the outputs go with them.
            command += ["--overwrite"] if plan.replace or (overwrite and not keypoint_file.exists()) else []
            done = subprocess.run(command)
            if done.returncode != 0:
                return done.returncode   # the detector said why, in one line
        lift = [f"--keypoints={name}", f"--data-dir={DATA_DIR}", f"--video={video}", f"--out-dir={out_dir}"]
        lift += [f"--checkpoint={checkpoint}"] if checkpoint else []
        lift += ["--gif"] if gif else []
        lift += ["--overwrite"] if overwrite else []
        return cli_wild._main(lift, lock)


def main(argv=None) -> int:
    return run_command(_main, sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    sys.exit(main())
