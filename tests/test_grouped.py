"""The grouped forward (relpose.grouped): the five parts as one computation give what the plain model's
per-part modules give, in outputs, gradients and batch-norm statistics, for every encoding, stage and
keypoint layout, and it steps aside where it does not apply."""
import copy

import pytest
import torch

from relpose import fastpaths
from relpose.grouped import GroupedRIEModel, grouping_on
from relpose.keypoint_layouts import get_layout, model_inputs
from relpose.skeleton import H36M_17
from relpose.model import ModelConfig, RIEModel

from float_tolerance import assert_float32_close, float32_atol


@pytest.fixture(autouse=True)
def grouped_on_the_cpu():
    """The grouped form runs on CUDA by default; these tests check its arithmetic on the CPU."""
    with grouping_on("cpu", "cuda"):
        yield


def model_of(**kw) -> RIEModel:
    args = dict(filter_widths=(3, 3), channels=16, latent_dim=16, hidden=32, stage=3, dropout=0.0, fc_dropout=0.0)
    return RIEModel(ModelConfig(**{**args, **kw}))


def run(model, x, grouped: bool, dtype):
    m = copy.deepcopy(model).to(dtype).train()
    if grouped:
        m.__class__ = GroupedRIEModel
    xi = x.to(dtype).clone().requires_grad_(True)
    y = m(xi)
    (y.square().sum() * 100).backward()
    grads = {n: p.grad for n, p in m.named_parameters()}
    stats = {n: b.clone() for n, b in m.named_buffers()}
    with torch.no_grad():
        evaluated = m.eval()(x.to(dtype))
    return y.detach(), xi.grad, grads, stats, evaluated


def check_against_float64(model, x):
    exact = run(model, x, False, torch.float64)
    grad_scale = max(g.abs().max().item() for g in exact[2].values())
    y, xgrad, grads, stats, evaluated = run(model, x, True, torch.float32)
    # Same bounds as tests/test_fastpaths.py: the longest sums are the FC blocks' gradients (32 windows x 32
    # hidden units, through about ten layers); the folded first layer adds the encodings' few terms.
    assert_float32_close(y, exact[0], n_terms=1024, msg="training output")
    assert_float32_close(evaluated, exact[4], n_terms=1024, msg="eval output")
    assert_float32_close(xgrad, exact[1], n_terms=1024, msg="input gradient")
    for name, g in grads.items():
        if exact[2][name].abs().max() <= 1e-9 * grad_scale:   # a bias before batch norm: zero in theory
            assert g.abs().max() <= float32_atol(1024, grad_scale), f"gradient of {name}"
        else:
            assert_float32_close(g, exact[2][name], n_terms=1024, msg=f"gradient of {name}")
    assert stats.keys() == exact[3].keys()
    for name, s in stats.items():
        if "num_batches_tracked" in name:
            assert int(s) == int(exact[3][name]) == 1, name
        elif "running" in name:
            assert_float32_close(s, exact[3][name], n_terms=256, msg=name)


@pytest.mark.parametrize("stage", [1, 3])
@pytest.mark.parametrize("encoding", ["raw", "raw+pos", "raw+temp", "raw+pos+temp"])
def test_grouped_forward_equals_the_plain_model(stage, encoding):
    torch.manual_seed(0)
    model = model_of(stage=stage, encoding=encoding)
    check_against_float64(model, torch.randn(32, 9, 17, 2) * 0.4)


def test_grouped_forward_equals_the_plain_model_causal_three_layers_and_coco_input():
    """Causal shifts, a deeper encoder, and 2D keypoints in another layout (COCO: the root is the mean of the
    two hips, so the positional map has halves; parts read other keypoints than they output)."""
    torch.manual_seed(1)
    check_against_float64(model_of(filter_widths=(3, 3, 3), causal=True, stage=1), torch.randn(16, 27, 17, 2) * 0.4)
    groups, root = model_inputs(H36M_17, get_layout("coco-17"))
    coco = model_of(groups=groups, input_root=root, num_input_joints=17, input_layout="coco-17")
    assert coco.config.input_root != (0,) and coco.config.num_input_joints == 17
    check_against_float64(coco, torch.randn(16, 9, 17, 2) * 0.4)


def test_dropout_keeps_its_rate_in_the_grouped_form():
    """With dropout on, the grouped model draws one mask over all five parts: the training outputs vary from
    call to call and average to about the eval output's scale, and eval mode is deterministic."""
    torch.manual_seed(0)
    m = model_of(dropout=0.5, fc_dropout=0.5)
    m.__class__ = GroupedRIEModel
    x = torch.randn(64, 9, 17, 2)
    m.train()
    a, b = m(x), m(x)
    assert not torch.allclose(a, b)
    m.eval()
    assert torch.equal(m(x), m(x))


def test_grouped_form_steps_aside_where_it_does_not_apply():
    """Dense encoders, a cumulative batch-norm average or parts with different settings: the plain forward."""
    torch.manual_seed(0)
    x = torch.randn(8, 9, 17, 2)
    dense = model_of(dense=True)
    g = copy.deepcopy(dense)
    g.__class__ = GroupedRIEModel
    assert not g._groupable()
    torch.testing.assert_close(g.eval()(x), dense.eval()(x), rtol=0, atol=0)
    m = model_of()
    m.LocalLayer_LArm.expand_bn.momentum = None
    m.__class__ = GroupedRIEModel
    assert not m._groupable()
    m.LocalLayer_LArm.expand_bn.momentum = 0.1
    assert m._groupable()
    m.set_bn_momentum(0.05)            # the training loop's decay: all parts alike, still grouped
    assert m._groupable()
    with pytest.raises(ValueError, match="expected windows"):
        m(torch.randn(8, 7, 17, 2))


def test_grouped_form_runs_only_on_the_device_types_asked_for():
    """By default only on CUDA: on the CPU the model's own (per-part) forward runs, which a hook on one
    part's encoder sees; with grouping on the CPU that encoder's forward is never called."""
    torch.manual_seed(0)
    m = model_of()
    m.__class__ = GroupedRIEModel
    calls = []
    m.LocalLayer_Torso.register_forward_hook(lambda *a: calls.append(1))
    x = torch.randn(8, 9, 17, 2)
    grouped = m(x)
    assert calls == []
    with grouping_on("cuda"):
        per_part = m(x)
    assert calls == [1]
    assert_float32_close(grouped, per_part, n_terms=1024)


def test_accelerated_model_is_grouped_with_the_published_state_dict_and_ungrouped_restores_the_parts():
    model = model_of()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with fastpaths.accelerated(model):
        assert type(model) is GroupedRIEModel
        assert list(model.state_dict()) == list(before)
    assert type(model) is RIEModel
    with fastpaths.ungrouped():
        with fastpaths.accelerated(model):
            assert type(model) is RIEModel and type(model.LocalLayer_Torso) is fastpaths.MatmulTemporalEncoder
    model.load_state_dict(before, strict=True)
