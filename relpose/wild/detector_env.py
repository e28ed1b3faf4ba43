"""The MediaPipe detector (relpose.wild.detect) started from the kit's environment as a process of its own
environment (.venv-detect: numpy < 2; `make detect-env` makes it), for notebook 09."""
from __future__ import annotations

import os
import subprocess

from ..errors import UserError
from ..files import find_root, path_argument


def detect_in_own_environment(video, output, *, start: int = 0, limit: int | None = None, root: str | None = None,
                              python: str | None = None) -> str:
    """Run the MediaPipe detector (relpose.wild.detect) on `video` in its own environment (.venv-detect: it needs
    numpy < 2) and return what it printed; the landmarks go to `output`. UserError when that environment is absent."""
    root = root or find_root()
    python = python or os.path.join(root, ".venv-detect", "bin", "python")
    if not os.path.exists(python):
        raise UserError(f"the detector's environment {python} is missing; make it with `make detect-env`")
    # An argument list (no shell); the flags' values in the --flag=value form, so none is read as a flag.
    command = [python, "-m", "relpose.wild.detect", path_argument(video), f"--output={output}", f"--start={start}",
               "--overwrite", "--no-progress"] + ([] if limit is None else [f"--limit={limit}"])
    # A notebook's kernel sets MPLBACKEND to its inline backend, which the detector's own matplotlib lacks.
    env = {**os.environ, "MPLBACKEND": "Agg"}
    done = subprocess.run(command, capture_output=True, text=True, cwd=root, env=env)
    if done.returncode != 0:
        raise UserError(done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "the detector failed")
    return done.stdout.strip()
