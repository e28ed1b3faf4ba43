"""The architecture figure's shapes are the real model's: checked against a forward pass with hooks."""
import matplotlib
import matplotlib.text
import pytest
import torch

from relpose.model import ModelConfig, RIEModel
from relpose.skeleton import H36M_17
from relpose.viz import legibility
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
    assert "FuseBlocks[4]" in texts and "(B, 30, 27) → (B, 8)" in texts and "the other 4 parts" in texts
    assert "(B, 32) → (B, 8)" in texts and "(B, 24) → (B, 5, 3)" in texts   # fusion; a decoder reads 3 x 8
    assert temporal_encoder_figure(cfg).axes[0].get_xlabel().startswith("frames seen")


def _visible_texts(fig):
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    texts = [t for t in fig.findobj(matplotlib.text.Text) if t.get_visible() and t.get_text().strip()]
    return [(t, t.get_window_extent(renderer)) for t in texts], renderer


@pytest.mark.parametrize("stage", [1, 2])
@pytest.mark.parametrize("widths, channels", [((3, 3, 3), 64), ((3, 3, 3, 3, 3), 256)])
def test_figures_are_readable_at_notebook_width(stage, widths, channels):
    """Drawn at the notebooks' 72 dpi: every text at least 10 px high, inside the figure and apart from the
    others, each box's text inside its box, and the figure no wider than a notebook's output area."""
    cfg = ModelConfig(filter_widths=widths, channels=channels, latent_dim=channels, hidden=4 * channels, stage=stage)
    with matplotlib.rc_context({"figure.dpi": 72}):
        for fig in (architecture_figure(cfg, H36M_17.joint_names), temporal_encoder_figure(cfg)):
            width, height = fig.canvas.get_width_height()
            assert width <= 800
            assert legibility.problems(legibility.measure(fig, dpi=72)) == []   # panels and text as stored
            texts, renderer = _visible_texts(fig)
            for text, box in texts:
                assert text.get_fontsize() * fig.dpi / 72 >= 10, text.get_text()
                assert box.x0 >= 0 and box.y0 >= 0 and box.x1 <= width and box.y1 <= height, text.get_text()
            for i, (a, box_a) in enumerate(texts):
                for b, box_b in texts[i + 1:]:
                    assert not box_a.overlaps(box_b), (a.get_text(), b.get_text())
            for patch in fig.axes[0].patches:
                frame = patch.get_window_extent(renderer)
                inside = [(t, box) for t, box in texts if frame.contains(*box.get_points().mean(axis=0))]
                for text, box in inside:
                    assert frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0 and box.y1 <= frame.y1, \
                        text.get_text()
