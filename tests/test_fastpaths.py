"""The CPU fast forms (relpose.fastpaths) compute what the plain modules of relpose.model compute, the swap
changes no parameter, buffer or state_dict key, and the model runs its plain ops unless a caller opts in."""
import copy

import numpy as np
import pytest
import torch
import torch.nn as nn

from relpose import fastpaths
from relpose.evaluate import predict_sequence
from relpose.fastpaths import (BiasFreeFCBlock, BiasFreeResidualFC, CpuDropout, MatmulTemporalEncoder, accelerate,
                               accelerated, linear_bn, plain)
from relpose.model import FCBlock, ModelConfig, RIEModel, TemporalEncoder
from relpose.skeleton import H36M_17
from relpose.train import TrainConfig, make_optimizer, train_epochs
from relpose.windows import Flip, WindowSampler

from float_tolerance import assert_float32_close, float32_atol

FAST = (CpuDropout, MatmulTemporalEncoder, BiasFreeFCBlock, BiasFreeResidualFC)


def small_model(**kw) -> RIEModel:
    args = dict(filter_widths=(3, 3), channels=16, latent_dim=16, hidden=32, stage=3)
    return RIEModel(ModelConfig(**{**args, **kw}))


def classes(model) -> set:
    return {type(m) for m in model.modules()}


# ----------------------------------------------------------------------------- each fast form equals its plain form

@pytest.mark.parametrize("causal", [False, True])
def test_matmul_encoder_equals_the_conv1d_encoder_in_values_gradients_and_bn_statistics(causal):
    """The channels-last matrix-product encoder computes what the Conv1d modules compute: both float32
    forms agree with a float64 run of the plain form up to float32 rounding."""
    torch.manual_seed(0)
    enc = TemporalEncoder(30, 8, filter_widths=(3, 3, 3), channels=16, dropout=0.0, causal=causal)
    x = torch.randn(5, 30, 27)

    def run(fast, dtype):
        e = copy.deepcopy(enc).to(dtype).train()
        if fast:
            accelerate(e)
        assert type(e) is (MatmulTemporalEncoder if fast else TemporalEncoder)
        xi = x.to(dtype).clone().requires_grad_(True)
        y = e(xi)
        y.square().sum().backward()
        return y.detach(), xi.grad, e.expand_conv.weight.grad, e.layers_bn[0].running_mean.clone()

    exact = run(False, torch.float64)
    # The longest sums: a weight's gradient adds 5 windows x 25 frames of products; a layer's output
    # adds 30 channels x 3 taps (measured gaps are about 10 times below these bounds).
    for fast in (True, False):
        for name, got, ref in zip(("output", "input grad", "weight grad", "bn mean"), run(fast, torch.float32), exact):
            assert_float32_close(got, ref, n_terms=125, msg=f"{name} ({'matmul' if fast else 'conv1d'} form)")


@pytest.mark.parametrize("p", [0.2, 0.25, 0.5])
def test_cpu_dropout_mask_rate_scale_and_gradient(p):
    torch.manual_seed(0)
    d = accelerate(nn.Dropout(p)).train()
    assert type(d) is CpuDropout and d.p == p
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
    a = CpuDropout(p).train()(torch.ones(7, 5))
    torch.manual_seed(1)
    b = CpuDropout(p).train()(torch.ones(7, 5))
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


# ----------------------------------------------------------------------------- the whole model, both forms

def test_accelerated_model_equals_the_plain_model_in_outputs_gradients_and_statistics():
    """A training-mode forward and backward of the whole stage-3 model (dropout off: the masks are random
    draws of another kind), plain and accelerated float32, against the plain model in float64."""
    torch.manual_seed(0)
    model = small_model(dropout=0.0, fc_dropout=0.0).train()
    x = torch.randn(32, 9, 17, 2)

    def run(fast, dtype):
        m = copy.deepcopy(model).to(dtype)
        if fast:
            accelerate(m)
        assert bool(classes(m) & set(FAST)) == fast
        y = m(x.to(dtype))
        (y.square().sum() * 100).backward()
        grads = {n: p.grad for n, p in m.named_parameters()}
        stats = {n: b.clone() for n, b in m.named_buffers() if "running" in n}
        with torch.no_grad():
            evaluated = m.eval()(x.to(dtype))
        return y.detach(), grads, stats, evaluated

    exact = run(False, torch.float64)
    grad_scale = max(g.abs().max().item() for g in exact[1].values())
    # The longest sums are the FC blocks' gradients: 32 windows x 32 hidden units, through about ten layers
    # (measured: outputs and statistics within 4 n*eps of their scale, gradients within 16: the bounds below
    # are 60 to 250 times wider, and still ~1e-4 of the scale, far below what a wrong index or term changes).
    for fast in (False, True):
        form = "accelerated" if fast else "plain"
        y, grads, stats, evaluated = run(fast, torch.float32)
        assert_float32_close(y, exact[0], n_terms=1024, msg=f"training output ({form})")
        assert_float32_close(evaluated, exact[3], n_terms=1024, msg=f"eval output ({form})")
        for name, g in grads.items():
            if exact[1][name].abs().max() <= 1e-9 * grad_scale:
                # zero in theory: a bias every consumer of which is a linear layer and batch norm (which takes
                # any constant out); float32 leaves rounding noise at the scale of the model's gradients
                assert g.abs().max() <= float32_atol(1024, grad_scale), f"gradient of {name} ({form})"
            else:
                assert_float32_close(g, exact[1][name], n_terms=1024, msg=f"gradient of {name} ({form})")
        for name, s in stats.items():
            assert_float32_close(s, exact[2][name], n_terms=256, msg=f"{name} ({form})")


# ----------------------------------------------------------------------------- the swap itself

def test_the_swap_changes_classes_only_and_is_undone():
    model = small_model()
    params = {n: p for n, p in model.named_parameters()}
    before = {k: v.clone() for k, v in model.state_dict().items()}
    assert not classes(model) & set(FAST)     # RIEModel is built from the plain modules
    assert accelerate(model) is model
    assert {type(model.LocalLayer_Torso), type(model.GlobalInfo), type(model.GlobalInfo.layers[0]),
            type(model.GlobalInfo.drop)} == {MatmulTemporalEncoder, BiasFreeFCBlock, BiasFreeResidualFC, CpuDropout}
    assert "MatmulTemporalEncoder" in repr(model)   # the swap shows when the model is printed
    # the same Parameter objects (an optimizer made before still works) and the published state_dict
    assert all(p is params[n] for n, p in model.named_parameters())
    after = model.state_dict()
    assert list(after) == list(before) and all(torch.equal(after[k], v) for k, v in before.items())
    model.load_state_dict(before, strict=True)
    assert plain(model) is model and not classes(model) & set(FAST)


def test_accelerated_restores_what_it_swapped_even_after_an_error():
    model = small_model()
    with pytest.raises(RuntimeError, match="boom"):
        with accelerated(model):
            assert type(model.LocalLayer_Torso) is MatmulTemporalEncoder
            raise RuntimeError("boom")
    assert not classes(model) & set(FAST)
    accelerate(model.GlobalInfo)
    with accelerated(model):                      # nested: the inner block leaves the outer swap alone
        assert type(model.Integration_Torso) is BiasFreeFCBlock
    assert type(model.GlobalInfo) is BiasFreeFCBlock and type(model.Integration_Torso) is FCBlock

    class MyEncoder(TemporalEncoder):             # a subclass keeps its own forward
        pass
    enc = MyEncoder(4, 4, (3,), channels=4)
    assert type(accelerate(enc)) is MyEncoder and type(enc.drop) is CpuDropout


def test_disabled_leaves_models_plain_and_is_restored():
    model = small_model()
    with fastpaths.disabled():
        assert not fastpaths.enabled()
        with accelerated(model):
            assert not classes(model) & set(FAST)
        assert not classes(accelerate(model)) & set(FAST)
    assert fastpaths.enabled()
    with pytest.raises(RuntimeError):
        with fastpaths.disabled():
            raise RuntimeError("boom")
    assert fastpaths.enabled()  # restored after an exception too


# ----------------------------------------------------------------------------- who opts in

def record_forward_classes(model) -> list:
    """Hooks that note the class each encoder, FC block and dropout has when it runs."""
    seen = []
    for m in (model.LocalLayer_Torso, model.GlobalInfo, model.GlobalInfo.drop):
        m.register_forward_hook(lambda mod, inp, out: seen.append(type(mod)))
    return seen


def test_model_runs_its_plain_ops_unless_a_caller_opts_in():
    model = small_model()
    seen = record_forward_classes(model)
    model.train()(torch.randn(4, 9, 17, 2))
    assert set(seen) == {TemporalEncoder, FCBlock, nn.Dropout}


def test_the_kits_inference_and_training_loop_run_the_fast_forms_and_give_the_model_back_plain():
    torch.manual_seed(0)
    model = small_model(stage=1)
    seen = record_forward_classes(model)
    predict_sequence(model, torch.randn(30, 17, 2), flip=Flip.of(H36M_17))
    assert set(seen) == {MatmulTemporalEncoder, BiasFreeFCBlock, CpuDropout}
    assert not classes(model) & set(FAST)

    rng = np.random.default_rng(0)
    p2 = [rng.normal(size=(40, 17, 2)).astype(np.float32) for _ in range(2)]
    p3 = [rng.normal(size=(40, 17, 3)).astype(np.float32) for _ in range(2)]
    sampler = WindowSampler(p2, p3, batch_size=32, pad=4, flip=Flip.of(H36M_17), seed=0)
    seen.clear()
    train_epochs(model, sampler, make_optimizer(model, 1e-3, torch.device("cpu")), TrainConfig(stage=1, epochs=1),
                 device=torch.device("cpu"), progress=False, log=lambda *a: None)
    assert set(seen) == {MatmulTemporalEncoder, BiasFreeFCBlock, CpuDropout}
    assert not classes(model) & set(FAST)
    seen.clear()
    with fastpaths.disabled():
        predict_sequence(model, torch.randn(30, 17, 2))
    assert set(seen) == {TemporalEncoder, FCBlock, nn.Dropout}
