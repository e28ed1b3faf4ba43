"""The command-line layer: thin adapters from flags to the configurations and functions below.

- `parser`: the published run.py flags and the kit's additions, with every check of their values;
- `run`: `python -m relpose` (flags -> ModelConfig/TrainConfig -> relpose.train / relpose.evaluate);
- `render`: `--render` (one sequence to a GIF/MP4 and/or .npy);
- `detect`: `python -m relpose.wild.detect` (MediaPipe 2D landmarks, in the detector's own environment);
- `demo`: `make demo`;  `synth`: `python -m relpose.synth`;  `mocap`: `python -m relpose.mocap`;
- `keypoints`: `python -m relpose.cli.keypoints` (a 2D detector's output -> data_2d_custom_<name>.npz);
- `wild`: `python -m relpose.cli.wild` (lift a custom keypoint file, render, plausibility);
- `wild_make`: what `make wild` runs (detect, then lift; the Makefile's values through the environment);
- `wild_model`: `make wild-model` (the in-the-wild model the kit ships);
- `yardsticks`: `make yardsticks` (the plausibility checks' yardsticks a lift prints beside its values);
- `sim_to_real`: `python -m relpose.cli.sim_to_real` (models on the synthetic test subjects and the DeepMimic clips,
  per clip; `--seeds` trains the quick recipe per seed);
- `bvh`: `python -m relpose.cli.bvh` (an exported .npy of poses -> BVH and joints JSON);
- `wild_distance`: `python -m relpose.lab.wild_distance` (people at any distance, measured);
- `claims`: `python -m relpose.lab.claims`, `make claims` (the paper's claims decided over many seeds);
- `notebooks`: `python -m relpose.cli.notebooks refresh|normalise|check` (the stored notebooks);
- `common`: one-line errors and exit code 2 for every command.
Nothing outside this package imports it; it imports every layer below.
"""
from __future__ import annotations

import sys

from .common import run_command


def _main(argv) -> int:
    from .parser import parse_args
    from .run import run

    run(parse_args(argv))
    return 0


def main(argv=None) -> int:
    """`python -m relpose` / the `relpose` console script."""
    return run_command(_main, argv)


if __name__ == "__main__":
    sys.exit(main())
