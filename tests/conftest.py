import os

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")

# Tiny model flags shared by the command-line tests: receptive field 9, narrow layers.
TINY_MODEL = ["-arc", "3,3", "-ch", "16", "-lfd", "16", "--hidden", "32", "-b", "256", "--no-progress"]


@pytest.fixture(scope="session")
def tiny_data_dir(tmp_path_factory):
    """The synthetic data set at its smallest size, generated once per test session."""
    from relpose.synth import generate

    folder = tmp_path_factory.mktemp("synth_tiny")
    generate(str(folder), seed=0, size="tiny")
    return str(folder)
