import os

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")

@pytest.fixture(scope="session")
def tiny_data_dir(tmp_path_factory):
    """The synthetic data set at its smallest size, generated once per test session."""
    from relpose.synth import generate

    folder = tmp_path_factory.mktemp("synth_tiny")
    generate(str(folder), seed=0, size="tiny")
    return str(folder)


@pytest.fixture(scope="session")
def tiny_checkpoint(tiny_data_dir, tmp_path_factory):
    """A stage-1 model of the tiny flags trained one epoch on the tiny set at --downsample 4 (it records
    12.5 fps), once per session; tests only read it."""
    import subprocess
    import sys

    from cli_helpers import TINY_MODEL
    ck = tmp_path_factory.mktemp("tiny_ck")
    r = subprocess.run([sys.executable, "-m", "relpose", "-d", "synth", "--data-dir", tiny_data_dir, "-c", str(ck),
                        *TINY_MODEL, "--downsample", "4", "-e", "1", "--no-eval"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return ck / "stage_1_epoch_1.bin"
