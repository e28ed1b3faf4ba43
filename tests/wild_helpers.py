"""What the in-the-wild command tests share (a plain module: `conftest` names clash between test folders):
a tiny video with its keypoint file, file names holding every shell metacharacter, and recorder programs
that stand in for python (they write their argument list and environment to a JSON-lines file)."""
import os
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
MARKER = "PWNED"   # every command hidden in the names below would create this file in the working folder
CLIP_SIZE = (64, 48)

# File names a careful but adversarial user might give; each is a valid file name on Linux.
NASTY_NAMES = [
    "my clip.mp4", "it's.mp4", 'say "hi".mp4', f"`touch {MARKER}`.mp4", f"$(touch {MARKER}).mp4",
    f"a;touch {MARKER};b.mp4", f"a|touch {MARKER}.mp4", f"a&&touch {MARKER}&.mp4", f"a>{MARKER}.mp4",
    "*.mp4", "-lead.mp4", "--help.mp4", "café ü 名前.mp4", "$HOME.mp4", "a\\b.mp4", "x#y.mp4",
    f"$$(touch {MARKER}).mp4", f"$(shell touch {MARKER}).mp4", "a=b:c%d.mp4", "{x,y}.mp4",
    f"'; touch {MARKER}; '.mp4", f"\"; touch {MARKER}; \".mp4", "!event.mp4", "~user.mp4",
]


def make_clip(path, frames: int = 8, size=CLIP_SIZE) -> Path:
    """A test-pattern video (libx264, 25 fps) written by the kit's own ffmpeg."""
    import imageio_ffmpeg
    path = Path(path)
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i",
                    f"testsrc=size={size[0]}x{size[1]}:rate=25", "-frames:v", str(frames), "-pix_fmt", "yuv420p",
                    str(path.resolve())], check=True)
    return path


def write_clip_keypoints(data_dir, name: str, tiny_data_dir, frames: int = 8, video: str = "clip.mp4",
                         size=CLIP_SIZE) -> Path:
    """data_dir/data_2d_custom_<name>.npz: the synthetic set's ground-truth 2D of one take (Human3.6M-17), in
    pixels of a `size` frame, repeated to `frames` frames."""
    from relpose.cameras import image_coordinates
    from relpose.custom_keypoints import custom_file, write_custom
    from relpose.datasets import load_dataset
    dataset = load_dataset("synth", "gt", tiny_data_dir)
    take = dataset.positions_2d["S1"][sorted(dataset.positions_2d["S1"])[0]][0]
    pixels = image_coordinates(np.resize(take, (frames, *take.shape[1:])), w=size[0], h=size[1])
    path = custom_file(data_dir, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_custom(path, {video: (pixels, size[0], size[1], 25.0)}, "h36m-17")


def write_recorder(path, record, extra: str = "") -> Path:
    """A shell script (quick to start) that appends its arguments and the environment's RELPOSE_WILD_*, VIDEO,
    NAME, ... to `record` (two lines per call, NUL-separated fields; read them with `records`), then runs `extra`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    watched = "RELPOSE_WILD_[A-Z_]*|VIDEO|NAME|START|LIMIT|CHECKPOINT|OVERWRITE|REDETECT|GIF"
    path.write_text("#!/bin/sh\n"
                    f"{{ printf '%s\\0' \"$@\"; echo; env -0 | grep -z -E '^({watched})='; echo; }} >> {shlex.quote(str(record))}\n"
                    + extra)
    path.chmod(0o755)
    return path


def records(record) -> list[dict]:
    """[{"argv": [...], "env": {...}}] per call of a recorder."""
    record = Path(record)
    if not record.exists():
        return []
    lines = record.read_bytes().decode("utf-8", "surrogateescape").split("\n")[:-1]
    out = []
    for args, env in zip(lines[::2], lines[1::2]):
        out.append({"argv": args.split("\0")[:-1],
                    "env": dict(item.split("=", 1) for item in env.split("\0")[:-1])})
    return out


def make_sandbox(folder, *, real_python: bool) -> dict:
    """A working folder for `make -f ROOT/Makefile wild`: a fake VENV whose stamp is newer than its (aged)
    prerequisites, so make installs nothing; its python is the test's interpreter (real_python) or a
    recorder. Returns the make command's head and the environment to run it with."""
    folder = Path(folder)
    for name in ("requirements.txt", "pyproject.toml", "requirements-detect.txt"):
        (folder / name).write_text("")
        os.utime(folder / name, (0, 0))
    venv = folder / "venv"
    if real_python:
        (venv / "bin").mkdir(parents=True)
        (venv / "bin" / "python").write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
        (venv / "bin" / "python").chmod(0o755)
    else:
        write_recorder(venv / "bin" / "python", folder / "make_record.rec")
    (venv / ".relpose-installed").write_text("")
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES")}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env["MPLBACKEND"] = "Agg"
    return {"make": ["make", "--no-print-directory", "-f", str(ROOT / "Makefile"), "wild", f"VENV={venv}"],
            "env": env, "record": folder / "make_record.rec"}


def fake_detector(folder, prepared_keypoints) -> Path:
    """DETECT_VENV with a stamp (make detect-env does nothing) and a python that records its arguments and,
    as relpose.wild.detect --name does, writes the landmarks and DATA_DIR/data_2d_custom_NAME.npz (a copy of
    `prepared_keypoints`)."""
    venv = Path(folder) / "detect-venv"
    write_recorder(venv / "bin" / "python", Path(folder) / "detect_record.rec", extra=(
        'for a in "$@"; do case "$a" in --output=*) out="${a#--output=}";; --name=*) name="${a#--name=}";; '
        '--data-dir=*) data="${a#--data-dir=}";; esac; done\n'
        'printf "{}" > "$out" && mkdir -p "$data" && '
        f'cp {shlex.quote(str(prepared_keypoints))} "$data/data_2d_custom_$name.npz"\n'))
    (venv / ".relpose-installed").write_text("")
    return venv
