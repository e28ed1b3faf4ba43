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
