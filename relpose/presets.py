"""Named configurations: the paper's settings and the quick CPU settings of the demo and notebooks.

Each preset is a list of command-line flags, so the same words work in a shell, in `make demo`
and in a notebook's parameters cell.
"""

# The published model (RIE, Human3.6M): receptive field 243, 256 channels, FC width 1024.
PAPER = {
    "arch": "3,3,3,3,3", "channels": 256, "latent": 256, "hidden": 1024,
    "epochs": {1: 80, 2: 80, 3: 20}, "lr": {1: 1e-3, 2: 1e-3, 3: 5e-4}, "batch": 1024,
    "downsample": 1, "subset": 1.0,
}

# Minutes on 2 CPU cores with the default synthetic data: receptive field 27, small widths, every
# 4th frame of a 30% slice of each take (~45k training windows per epoch with flips).
QUICK = {
    "arch": "3,3,3", "channels": 64, "latent": 64, "hidden": 256,
    "epochs": {1: 6, 2: 3, 3: 3}, "lr": {1: 1e-3, 2: 1e-3, 3: 5e-4}, "batch": 512,
    "downsample": 4, "subset": 0.3,
}

# The two-minute tour of notebook 00: the same model, fewer epochs and windows.
QUICKSTART = dict(QUICK, epochs={1: 2, 2: 1, 3: 1}, subset=0.15)

PRESETS = {"paper": PAPER, "quick": QUICK, "quickstart": QUICKSTART}


def stage_flags(preset: dict, stage: int) -> list[str]:
    """Command-line flags for training one stage with a preset (without data/checkpoint flags)."""
    return [
        "--stage", str(stage), "-arc", preset["arch"], "-ch", str(preset["channels"]),
        "-lfd", str(preset["latent"]), "--hidden", str(preset["hidden"]),
        "-e", str(preset["epochs"][stage]), "-lr", str(preset["lr"][stage]), "-b", str(preset["batch"]),
        "--downsample", str(preset["downsample"]), "--subset", str(preset["subset"]),
    ]
