"""The package's model (relpose.model.RIEModel) equals the plain-PyTorch transcription of the paper's
forward that notebooks 03 and 04 write from scratch.

The transcription lives in the notebooks' cells tagged "from-scratch" (03: the encodings, one part's
temporal encoder, the fully connected blocks, the stage-1 model and the loader of the published
state_dict; 04: fusion and the stage-2/3 decoders). This test runs those cells, and only those, in a
fresh namespace, loads a package model's state_dict into the transcription and compares the outputs in
eval mode. A change of meaning on either side (the notebook's code or the package's forward) fails it.
"""
import ast
import contextlib
from pathlib import Path

import nbformat
import pytest
import torch

from relpose import fastpaths
from relpose.lab.presets import QUICK
from relpose.model import ModelConfig, RIEModel

from float_tolerance import assert_float32_close

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
TRANSCRIPTION = ("03_stage1_encoders.ipynb", "04_stage2_fusion.ipynb")   # in this order: 04 builds on 03
TAG = "from-scratch"
DEFINITIONS = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.ClassDef)
MAX_LINES = 150   # issue 27: the whole transcription, well under 150 lines of code

CONFIGS = {   # the quick preset's widths, and the paper's five width-3 layers with small channels
    "quick": dict(filter_widths=QUICK.filter_widths, channels=QUICK.channels, latent_dim=QUICK.latent_dim,
                  hidden=QUICK.hidden),
    "paper-like": dict(filter_widths=(3, 3, 3, 3, 3), channels=16, latent_dim=8, hidden=32),
}


def tagged_sources(name: str) -> list[str]:
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    return [c.source for c in nb.cells if c.cell_type == "code" and TAG in c.metadata.get("tags", [])]


def code_lines(source: str) -> int:
    return sum(1 for line in source.splitlines() if line.strip() and not line.strip().startswith("#"))


@pytest.fixture(scope="module")
def scratch() -> dict:
    """The names the tagged cells define, run in a fresh namespace (03's cells, then 04's)."""
    namespace = {"__name__": "from_scratch"}
    for name in TRANSCRIPTION:
        sources = tagged_sources(name)
        assert sources, f"{name}: no code cell tagged {TAG!r}"
        for source in sources:
            # Definitions only: running these cells must not train, load files or print.
            for node in ast.parse(source).body:
                assert isinstance(node, DEFINITIONS), (
                    f"{name}: a {TAG!r} cell runs code ({type(node).__name__} at line {node.lineno}); "
                    "only imports, functions and classes belong in these cells")
            exec(compile(source, f"{name}[{TAG}]", "exec"), namespace)
    return namespace


def package_model(config: ModelConfig, seed: int = 0) -> RIEModel:
    """A package model with random weights and random batch-norm parameters and statistics, in eval mode.
    Freshly built batch norms are all alike (mean 0, variance 1, scale 1, shift 0): a transcription that
    loaded one into another's place would give the same output, so they are made all different."""
    torch.manual_seed(seed)
    model = RIEModel(config)
    generator = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        for name, tensor in model.state_dict().items():
            if "bn" in name or "batch_norm" in name:   # expand_bn, layers_bn, bn_1, batch_norm1/2
                if name.endswith("running_var"):
                    tensor.copy_(0.5 + torch.rand(tensor.shape, generator=generator))
                elif name.endswith(("running_mean", "bias")):
                    tensor.copy_(0.1 * torch.randn(tensor.shape, generator=generator))
                elif name.endswith("weight"):
                    tensor.copy_(1 + 0.1 * torch.randn(tensor.shape, generator=generator))
    return model.eval()


def transcription(scratch: dict, model: RIEModel, state: dict | None = None) -> torch.nn.Module:
    """The notebooks' model for `model`'s configuration, with `model`'s weights (or `state`), in eval mode."""
    cfg = model.config
    mine = (scratch["RIE"] if cfg.stage == 1 else scratch["RIEFusion"])(cfg)
    scratch["load_published"](mine, model.state_dict() if state is None else state, cfg.groups)
    return mine.eval()


def windows(config: ModelConfig, batch: int = 16, seed: int = 2) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return 0.3 * torch.randn(batch, config.receptive_field(), config.num_input_joints, 2, generator=generator)


def longest_sum(config: ModelConfig) -> int:
    """Terms in the longest dot product of the forward pass: the float32 rounding scales with it."""
    return max(config.hidden, config.channels * max(config.filter_widths), 3 * config.latent_dim,
               2 * config.num_input_joints)


@pytest.mark.parametrize("fast_paths", [True, False], ids=["fast-paths", "plain-ops"])
@pytest.mark.parametrize("stage", [1, 3])
@pytest.mark.parametrize("size", list(CONFIGS))
def test_package_model_equals_the_notebooks_transcription(scratch, size, stage, fast_paths):
    config = ModelConfig(stage=stage, encoding="raw+pos+temp", **CONFIGS[size])
    model = package_model(config)
    mine = transcription(scratch, model)
    x = windows(config)
    with torch.no_grad():
        ours = mine(x)
        with fastpaths.accelerated(model) if fast_paths else contextlib.nullcontext():
            theirs = model(x)
    assert ours.shape == theirs.shape == (len(x), 1, config.num_joints, 3)
    assert theirs.abs().max() > 0.05      # the outputs are not all (nearly) zero: the comparison can see a difference
    # The fast paths (channels-last matrix products) add the same terms in another order: equal up to float32
    # rounding, n * eps * scale with n the longest sum (about 1e-5 of the output's scale; measured: 1e-7).
    # The plain ops run the same kernels in the same order as the transcription: bit for bit equal.
    if fast_paths:
        assert_float32_close(ours, theirs, n_terms=longest_sum(config), msg=f"{size}, stage {stage}")
    else:
        torch.testing.assert_close(ours, theirs, rtol=0, atol=0)


@pytest.mark.parametrize("encoding", ["raw", "raw+pos", "raw+temp"])
def test_transcription_equals_the_package_for_the_ablation_encodings(scratch, encoding):
    config = ModelConfig(stage=3, encoding=encoding, **CONFIGS["paper-like"])
    model = package_model(config)
    x = windows(config)
    with torch.no_grad():
        assert_float32_close(transcription(scratch, model)(x), model(x), n_terms=longest_sum(config), msg=encoding)


def test_a_misplaced_tensor_changes_the_output_far_beyond_the_tolerance(scratch):
    """The comparison above can fail: the two batch norms of one temporal block swapped on loading (a wrong
    key mapping) move the output by far more than the tolerance."""
    config = ModelConfig(stage=3, **CONFIGS["paper-like"])
    model = package_model(config)
    state = dict(model.state_dict())
    for stat in ("weight", "bias", "running_mean", "running_var"):
        a, b = f"LocalLayer_Torso.layers_bn.0.{stat}", f"LocalLayer_Torso.layers_bn.1.{stat}"
        state[a], state[b] = state[b], state[a]
    x = windows(config)
    with torch.no_grad():
        gap = (transcription(scratch, model, state)(x) - model(x)).abs().max().item()
    tolerance = longest_sum(config) * torch.finfo(torch.float32).eps * model(x).abs().max().item()
    assert gap > 100 * tolerance


def test_transcription_is_short_and_loads_every_published_tensor(scratch):
    lines = sum(code_lines(s) for name in TRANSCRIPTION for s in tagged_sources(name))
    assert lines < MAX_LINES, f"the from-scratch cells hold {lines} lines of code"
    config = ModelConfig(stage=2, **CONFIGS["paper-like"])
    model = package_model(config)
    mine = transcription(scratch, model)   # load_state_dict(strict=True) inside: no tensor missing or left over
    assert sum(p.numel() for p in mine.parameters()) == model.num_parameters()
