"""The architecture figure's shapes are the real model's: checked against a forward pass with hooks."""
import matplotlib
import pytest
import torch

from relpose.model import ModelConfig, RIEModel
from relpose.skeleton import H36M_17
from relpose.viz.architecture import architecture_figure, describe, encoder_layers, temporal_encoder_figure

matplotlib.use("Agg")


@pytest.mark.parametrize("stage", [1, 3])
@pytest.mark.parametrize("encoding", ["raw", "raw+pos+temp"])
def test_described_shapes_are_the_forward_pass_shapes(stage, encoding):
    cfg = ModelConfig(filter_widths=(3, 3, 3), channels=16, latent_dim=8, hidden=32, stage=stage, encoding=encoding)
    model = RIEModel(cfg).eval()
    seen = {}

    def hook(name):
        def record(module, inputs, output):
            seen[name] = (tuple(inputs[0].shape[1:]), tuple(output.shape[1:]))
        return record

    for name, module in model.named_children():
        if name == "FuseBlocks":
            for i, block in enumerate(module):
                block.register_forward_hook(hook(f"FuseBlocks[{i}]"))
        else:
            module.register_forward_hook(hook(name))
    with torch.no_grad():
        model(torch.randn(3, 27, 17, 2))
    blocks = describe(cfg, H36M_17.joint_names)
    assert {b.name for b in blocks} == set(seen)
    for b in blocks:
        assert (b.in_shape, b.out_shape) == seen[b.name], b.name
    assert "LHip" in " ".join(b.inputs for b in blocks)   # joint names, not indices


def test_encoder_layers_multiply_up_to_the_receptive_field():
    cfg = ModelConfig(filter_widths=(3, 3, 3, 3, 3))
    layers = encoder_layers(cfg)
    assert [seen for _, _, seen, _ in layers] == [3, 9, 27, 81, 243]
    assert layers[-1][3] == 1 and layers[0][0] == "expand_conv"


def test_figures_draw():
    cfg = ModelConfig(filter_widths=(3, 3, 3), channels=16, latent_dim=8, hidden=32, stage=2)
    fig = architecture_figure(cfg, H36M_17.joint_names)
    texts = " ".join(t.get_text() for t in fig.axes[0].texts)
    assert "FuseBlocks[4]" in texts and "(B, 30, 27)" in texts and "others (B, 32)" in texts and "fused (B, 8)" in texts
    assert temporal_encoder_figure(cfg).axes[0].get_xlabel().startswith("frames seen")
