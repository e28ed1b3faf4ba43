"""The CPU fast paths (relpose.fastpaths) compute what the plain PyTorch ops compute."""
import contextlib
import copy

import pytest
import torch

from relpose import fastpaths
from relpose.fastpaths import Dropout, linear_bn
from relpose.model import ModelConfig, RIEModel, TemporalEncoder

from float_tolerance import assert_float32_close


def test_matmul_form_equals_conv1d_form_in_values_gradients_and_bn_statistics():
    """The channels-last matrix-product encoder computes what the Conv1d modules would: both float32
    forms agree with a float64 run of the Conv1d form up to float32 rounding."""
    torch.manual_seed(0)
    enc = TemporalEncoder(30, 8, filter_widths=(3, 3, 3), channels=16, dropout=0.0)
    x = torch.randn(5, 30, 27)

    def run(form, dtype):
        e = copy.deepcopy(enc).to(dtype).train()
        xi = x.to(dtype).clone().requires_grad_(True)
        with contextlib.nullcontext() if form else fastpaths.disabled():
            assert fastpaths.use_matmul_convolutions(xi) == form
            y = e(xi)
        y.square().sum().backward()
        return y.detach(), xi.grad, e.expand_conv.weight.grad, e.layers_bn[0].running_mean.clone()

    exact = run(False, torch.float64)
    # The longest sums: a weight's gradient adds 5 windows x 25 frames of products; a layer's output
    # adds 30 channels x 3 taps (measured gaps are about 10 times below these bounds).
    for form in (True, False):
        for name, got, ref in zip(("output", "input grad", "weight grad", "bn mean"), run(form, torch.float32), exact):
            assert_float32_close(got, ref, n_terms=125, msg=f"{name} ({'matmul' if form else 'conv1d'} form)")


@pytest.mark.parametrize("p", [0.2, 0.25, 0.5])
def test_cpu_dropout_mask_rate_scale_and_gradient(p):
    torch.manual_seed(0)
    d = Dropout(p).train()
    x = torch.ones(512, 1024, requires_grad=True)
    y = d(x)
    dropped = y == 0
    assert abs(dropped.float().mean().item() - p) < 0.005
    # every 16-bit slice position of the random words drops at the same rate
    per_slot = dropped.view(-1, 4).float().mean(0)
    assert torch.all((per_slot - p).abs() < 0.01)
    assert torch.allclose(y[~dropped], torch.full_like(y[~dropped], 1 / (1 - p)))
    y.sum().backward()
    assert torch.equal(x.grad == 0, dropped)
    assert torch.equal(d.eval()(x), x)  # identity in eval mode
    torch.manual_seed(1)
    a = Dropout(p).train()(torch.ones(7, 5))
    torch.manual_seed(1)
    b = Dropout(p).train()(torch.ones(7, 5))
    assert a.shape == (7, 5) and torch.equal(a, b)  # any size; reproducible from the seed


@pytest.mark.parametrize("momentum", [0.1, 0.003])
def test_linear_bn_skips_the_bias_but_not_its_effects(momentum):
    """Training-mode bn(linear(x)) without the bias add: same output, gradients and running statistics."""
    torch.manual_seed(0)
    lin, bn = torch.nn.Linear(6, 5), torch.nn.BatchNorm1d(5, momentum=momentum)
    with torch.no_grad():
        lin.bias.uniform_(-2, 2)
        bn.running_mean.uniform_(-1, 1)
        bn.weight.uniform_(0.5, 1.5)
    lin2, bn2 = copy.deepcopy(lin), copy.deepcopy(bn)
    x = torch.randn(64, 6)
    for _ in range(3):  # a few steps, so the running statistics compound
        ref = bn(lin(x))
        got = linear_bn(x, lin2, bn2)
        torch.testing.assert_close(got, ref, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(bn2.running_mean, bn.running_mean, rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(bn2.running_var, bn.running_var)
    assert bn2.num_batches_tracked.item() == bn.num_batches_tracked.item() == 3
    r = torch.randn(64, 5)  # (a per-channel constant gradient would vanish in batch norm's backward)
    (ref * r).sum().backward()
    (got * r).sum().backward()
    for a, b in ((lin, lin2), (bn, bn2)):  # (the reference subtracts a mean that includes the bias: rounding)
        scale = a.weight.grad.abs().max().item()
        assert scale > 0.1
        torch.testing.assert_close(b.weight.grad, a.weight.grad, rtol=1e-4, atol=1e-4 * scale)
    assert lin2.bias.grad is not None and torch.all(lin2.bias.grad == 0)  # a zero gradient, as in theory
    assert lin.bias.grad.abs().max() < 1e-4                             # (and, up to rounding, with the bias)
    bn.eval(), bn2.eval()
    torch.testing.assert_close(linear_bn(x, lin2, bn2), bn(lin(x)), rtol=1e-5, atol=1e-5)


def test_disabled_restores_the_fast_paths_and_whole_models_agree():
    """A whole training-mode forward/backward with and without the fast paths (dropout off: masks differ)."""
    torch.manual_seed(0)
    cfg = ModelConfig(filter_widths=(3, 3), channels=16, latent_dim=16, hidden=32, stage=3, dropout=0.0,
                      fc_dropout=0.0)
    model = RIEModel(cfg).train()
    x = torch.randn(8, 9, 17, 2)
    results = []
    for plain in (False, True):
        m = copy.deepcopy(model)
        with fastpaths.disabled() if plain else contextlib.nullcontext():
            assert fastpaths.enabled() is not plain
            y = m(x)
        y.square().sum().backward()
        results.append((y.detach(), m.LocalLayer_Torso.expand_conv.weight.grad, m.GlobalInfo.fc_1.weight.grad))
    assert fastpaths.enabled()
    for a, b in zip(*results):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-4)
    with pytest.raises(RuntimeError):
        with fastpaths.disabled():
            raise RuntimeError("boom")
    assert fastpaths.enabled()  # restored after an exception too
