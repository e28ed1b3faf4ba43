import copy
import copy
import json
from importlib import resources

import pytest
import torch
import torch.nn.functional as F

from relpose import fastpaths
from relpose.errors import UserError
from relpose.model import (FCBlock, ModelConfig, RIEModel, TemporalEncoder, causal_shift, forward_dilated_sequence,
                           layer_geometry, receptive_field)
from relpose.skeleton import H36M_17, HUMANEVA_15

from float_tolerance import assert_float32_close

LAYOUT = json.loads(resources.files("relpose").joinpath("data", "rie_checkpoint_layout.json").read_text())
BUFFER_SUFFIXES = (".running_mean", ".running_var", ".num_batches_tracked")
PARTS = {"raw": 1, "raw+pos": 2, "raw+temp": 2, "raw+pos+temp": 3}


def small(**kw) -> ModelConfig:
    args = dict(filter_widths=(3, 3), channels=16, latent_dim=16, hidden=32)
    args.update(kw)
    return ModelConfig(**args)


def randomise_bn(model, seed=0):
    """Non-trivial batch-norm statistics, so eval-mode tests exercise them."""
    g = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm1d):
            m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=g) * 0.3)
            m.running_var.copy_(torch.rand(m.running_var.shape, generator=g) + 0.5)
            m.weight.data.copy_(torch.randn(m.weight.shape, generator=g) * 0.5 + 1)
            m.bias.data.copy_(torch.randn(m.bias.shape, generator=g) * 0.3)
    return model


# The numerical tests below hold for the model's plain modules and for the CPU fast forms the kit's loops swap in
# (relpose.fastpaths; tests/test_fastpaths.py compares the two directly).
FORMS = {"plain": lambda module: module, "accelerated": fastpaths.accelerate}
both_forms = pytest.mark.parametrize("form", sorted(FORMS))


def all_windows(seq, rf):
    """(1, L, J, 2) -> every window (L - rf + 1, rf, J, 2)."""
    return seq.unfold(1, rf, 1).permute(0, 1, 4, 2, 3).reshape(-1, rf, seq.shape[2], 2)


# --- the published layout -------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(LAYOUT["configs"]))
def test_state_dict_matches_published_layout(name):
    spec = LAYOUT["configs"][name]
    # The group names (LArm = joints 14-16) do not follow VideoPose3D's left/right lists; the layout does.
    cfg = ModelConfig(stage=spec["stage"], latent_dim=spec["latent_features_dim"])
    assert cfg.receptive_field() == spec["receptive_field"]
    with torch.device("meta"):
        model = RIEModel(cfg)
    ours = [(k, list(v.shape), str(v.dtype).removeprefix("torch.")) for k, v in model.state_dict().items()]
    assert ours == [tuple(e) for e in spec["state_dict"]]  # same keys, same order, shapes and dtypes
    assert model.num_parameters() == spec["num_parameters"]


@pytest.mark.parametrize("name", sorted(LAYOUT["configs"]))
def test_parameter_counts_per_part_match_layout(name):
    spec = LAYOUT["configs"][name]
    with torch.device("meta"):
        model = RIEModel(ModelConfig(stage=spec["stage"], latent_dim=spec["latent_features_dim"]))
    expected = {"local encoders": 0, "global encoder": 0, "fusion": 0, "decoders": 0}
    part_of = {"LocalLayer": "local encoders", "GlobalInfo": "global encoder", "FuseBlocks": "fusion",
               "Integration": "decoders"}
    for key, shape, _ in spec["state_dict"]:
        if key.endswith(BUFFER_SUFFIXES):
            continue
        n = 1
        for s in shape:
            n *= s
        expected[part_of[key.split(".")[0].split("_")[0]]] += n
    counts = model.parameter_counts()
    assert {k: counts[k] for k in expected} == expected
    assert counts["total"] == spec["num_parameters"]


def test_published_state_dict_loads_strictly():
    spec = LAYOUT["configs"]["stage3_lfd256"]
    model = RIEModel(ModelConfig(stage=3, latent_dim=256))
    g = torch.Generator().manual_seed(0)
    state = {}
    for key, shape, dtype in spec["state_dict"]:
        if dtype == "int64":
            state[key] = torch.randint(0, 1000, shape, generator=g)
        else:
            state[key] = torch.randn(shape, generator=g)
    model.load_state_dict(state, strict=True)
    own = model.state_dict()
    for key in ("LocalLayer_Torso.expand_conv.weight", "FuseBlocks.4.fc_2.bias", "Integration_RLeg.bn_1.running_var"):
        assert torch.equal(own[key], state[key])


# --- structure ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("encoding", sorted(PARTS))
def test_encoder_input_widths_follow_encoding(encoding):
    model = RIEModel(small(encoding=encoding))
    for g in H36M_17.groups:
        conv = getattr(model, f"LocalLayer_{g.name}").expand_conv
        assert conv.weight.shape[1] == len(g.joints) * 2 * PARTS[encoding]
    assert model.LocalLayer_Torso.expand_conv.weight.shape[1] == {1: 10, 2: 20, 3: 30}[PARTS[encoding]]


@pytest.mark.parametrize("stage", [1, 2, 3])
def test_stage_decides_fusion_blocks(stage):
    model = RIEModel(small(stage=stage))
    names = {n for n, _ in model.named_children()}
    assert {f"LocalLayer_{g.name}" for g in H36M_17.groups} <= names
    assert {f"Integration_{g.name}" for g in H36M_17.groups} <= names
    assert "GlobalInfo" in names
    assert ("FuseBlocks" in names) == (stage >= 2)
    width = model.Integration_Torso.fc_1.in_features
    assert width == (3 if stage >= 2 else 2) * 16
    if stage >= 2:
        assert len(model.FuseBlocks) == 5
        assert all(b.fc_1.in_features == 4 * 16 for b in model.FuseBlocks)
    else:
        assert model.parameter_counts()["fusion"] == 0


def test_dense_kernels_span_the_dilated_footprint():
    enc = TemporalEncoder(4, 8, (3, 3, 3), channels=8, dense=True)
    # pad of the block with dilation 3 is 3 -> width 7; with dilation 9 it is 9 -> width 19.
    assert [enc.layers_conv[i].kernel_size[0] for i in (0, 2)] == [7, 19]
    assert enc(torch.randn(2, 4, 27)).shape == (2, 8)


@pytest.mark.parametrize("kw, field_words, flag_words", [
    (dict(filter_widths=(3, 4)), "filter_widths 3,4: filter widths must be odd", "-arc 3,4: filter widths must be odd"),
    (dict(stage=4), "stage 4: must be 1, 2 or 3", "--stage 4: must be 1, 2 or 3"),
    (dict(encoding="nope"), "encoding nope: choose one of raw,", "--encoding nope: choose one of raw,"),
    (dict(latent_dim=0), "latent_dim 0: must be a positive number", "-lfd 0: must be a positive number"),
    (dict(channels=-1), "channels -1: must be a positive number", "-ch -1: must be a positive number"),
    (dict(dropout=1.0), "dropout 1.0: the dropout probability must be in [0, 1)", "-drop 1.0: the dropout"),
    (dict(fc_dropout=-0.1), "fc_dropout -0.1: the dropout probability", "FC dropout -0.1: the dropout"),
])
def test_config_validation_names_the_field_and_the_command_line_its_flag(kw, field_words, flag_words):
    """Built in Python, a bad value is named by its field; the command line words the same error by its flag."""
    from relpose.cli.parser import FLAG_TERMS
    from relpose.config_rules import SettingError
    with pytest.raises(SettingError) as e:
        ModelConfig(**kw)
    assert str(e.value).startswith(field_words)
    assert str(e.value.named(FLAG_TERMS)).startswith(flag_words)
    assert isinstance(e.value, UserError)


def test_config_structure_errors():
    with pytest.raises(ValueError, match="cover joints"):
        ModelConfig(num_joints=15)  # Human3.6M groups on a 15-joint skeleton


def test_config_dict_round_trip_and_geometry():
    cfg = small(stage=3, encoding="raw+pos", causal=True, groups=HUMANEVA_15.groups, num_joints=15)
    d = cfg.to_dict()
    json.dumps(d)  # plain data
    assert ModelConfig.from_dict(d) == cfg
    assert cfg.receptive_field() == 9 and cfg.pad() == 4
    assert cfg.causal_shift() == 1 + 3  # width 3 at dilation 1 and 3
    assert small().causal_shift() == 0


def test_window_geometry_lives_in_one_place():
    """The layers' dilations, pads and causal shifts for widths 3, 5, 3 by hand; the receptive field and
    the total shift every caller reads (config, encoder, model) come from them."""
    assert layer_geometry((3, 5, 3), causal=True) == [(3, 1, 1, 1), (5, 3, 6, 6), (3, 15, 15, 15)]
    assert [g[3] for g in layer_geometry((3, 5, 3), causal=False)] == [0, 0, 0]
    assert receptive_field((3, 5, 3)) == 45 and causal_shift((3, 5, 3), True) == 22 == (45 - 1) // 2
    cfg = small(filter_widths=(3, 5, 3), causal=True)
    encoder = RIEModel(cfg).local_encoders()[0]
    assert cfg.receptive_field() == encoder.receptive_field() == RIEModel(cfg).receptive_field() == 45
    assert cfg.causal_shift() == 22 and cfg.pad() == 22
    assert encoder.geometry == layer_geometry((3, 5, 3), True)[1:]


def test_bn_momentum_only_touches_temporal_encoders():
    model = RIEModel(small(stage=3))
    model.set_bn_momentum(0.05)
    for name, m in model.named_modules():
        if isinstance(m, torch.nn.BatchNorm1d):
            assert m.momentum == (0.05 if name.startswith("LocalLayer_") else 0.1), name


def test_encoder_prefixes_cover_encoder_tensors():
    model = RIEModel(small(stage=3))
    prefixes = model.encoder_prefixes()
    assert set(prefixes) == {f"LocalLayer_{g.name}" for g in H36M_17.groups} | {"GlobalInfo"}
    for key in model.state_dict():
        is_encoder = key.split(".")[0] in prefixes
        assert is_encoder != key.startswith(("FuseBlocks.", "Integration_"))


# --- numerics -------------------------------------------------------------------------------------------------

@both_forms
def test_output_shape_and_batch_independence(form):
    torch.manual_seed(0)
    model = FORMS[form](randomise_bn(RIEModel(small(stage=3))).eval())
    x = torch.randn(6, 9, 17, 2)
    with torch.no_grad():
        batched = model(x)
        single = torch.cat([model(x[i:i + 1]) for i in range(6)])
    assert batched.shape == (6, 1, 17, 3)
    # Another batch size picks other kernels; every layer sums at most a few hundred float32 products.
    assert_float32_close(batched, single, n_terms=256)


@both_forms
def test_wrong_window_length_is_rejected(form):
    model = FORMS[form](RIEModel(small()))
    with pytest.raises(ValueError, match="9"):
        model(torch.randn(2, 7, 17, 2))
    with pytest.raises(ValueError, match="expected windows of 9 frames"):
        model.LocalLayer_Torso(torch.randn(2, 30, 7))


@both_forms
@pytest.mark.parametrize("causal", [False, True])
def test_skip_path_reads_centre_or_last_frame(causal, form):
    """With the residual branches silenced, the encoder sees a single frame: centre, or last when causal."""
    enc = FORMS[form](TemporalEncoder(1, 1, (3, 3, 3), channels=1, dropout=0.0, causal=causal).eval())
    with torch.no_grad():
        enc.expand_conv.weight.zero_()
        enc.expand_conv.weight[0, 0, 2 if causal else 1] = 1.0  # pick one frame of each group of 3
        for conv in enc.layers_conv:
            conv.weight.zero_()
        enc.shrink.weight.fill_(1.0)
        enc.shrink.bias.zero_()
    frames = torch.arange(27, dtype=torch.float32).view(1, 1, 27) + 1
    bn_scale = 1 / (1 + enc.expand_bn.eps) ** 0.5
    expected = (26 if causal else 13) + 1
    assert enc(frames).item() == pytest.approx(expected * bn_scale, rel=1e-6)


@both_forms
@pytest.mark.parametrize("training", [False, True])
def test_fcblock_matches_hand_written_forward(training, form):
    """Linear, batch norm (running statistics in eval mode, the batch's in training), leaky ReLU, residual blocks."""
    torch.manual_seed(0)
    block = FORMS[form](randomise_bn(FCBlock(6, 4, linear_size=8, block_num=2, p_dropout=0.0)).train(training))
    x = torch.randn(5, 6)

    def bn(m, v):
        if training:
            return (v - v.mean(0)) / torch.sqrt(v.var(0, unbiased=False) + m.eps) * m.weight + m.bias
        return (v - m.running_mean) / torch.sqrt(m.running_var + m.eps) * m.weight + m.bias

    h = F.leaky_relu(bn(block.bn_1, block.fc_1(x)), 0.2)
    for layer in block.layers:
        y = F.leaky_relu(bn(layer.batch_norm1, layer.w1(h)), 0.2)
        y = F.leaky_relu(bn(layer.batch_norm2, layer.w2(y)), 0.2)
        h = h + y
    with torch.no_grad():
        # (training: a sum of 5 rows and a division by their spread; default float32 tolerances)
        torch.testing.assert_close(block(x), block.fc_2(h))


@both_forms
def test_decoder_outputs_are_scattered_to_skeleton_order(form):
    model = FORMS[form](RIEModel(small(stage=1)).eval())
    with torch.no_grad():
        for i, dec in enumerate(model.decoders()):
            dec.fc_2.weight.zero_()
            dec.fc_2.bias.fill_(float(i))
        out = model(torch.randn(2, 9, 17, 2))
    owner = torch.empty(17)
    for i, g in enumerate(H36M_17.groups):
        owner[list(g.joints)] = float(i)
    assert torch.equal(out[:, 0], owner.view(1, 17, 1).expand(2, 17, 3))


@both_forms
def test_fusion_blocks_read_the_other_parts_in_group_order(form):
    model = FORMS[form](RIEModel(small(stage=3)).eval())
    seen = {}
    for i, enc in enumerate(model.local_encoders()):
        enc.register_forward_hook(lambda m, inp, out, i=i: torch.full_like(out, float(i + 1)))
    for i, block in enumerate(model.FuseBlocks):
        block.register_forward_pre_hook(lambda m, inp, i=i: seen.__setitem__(i, inp[0].clone()))
    with torch.no_grad():
        model(torch.randn(3, 9, 17, 2))
    for i in range(5):
        others = [k + 1 for k in range(5) if k != i]
        expected = torch.tensor(others, dtype=torch.float32).repeat_interleave(16).expand(3, -1)
        assert torch.equal(seen[i], expected)


@pytest.mark.parametrize("encoding,same", [("raw", True), ("raw+pos", True), ("raw+pos+temp", False)])
@pytest.mark.parametrize("causal,dense", [(False, False), (True, False), (False, True)])
@both_forms
def test_dilated_sequence_form_matches_windows_unless_temporal(encoding, same, causal, dense, form):
    torch.manual_seed(1)
    cfg = small(filter_widths=(3, 3, 3), stage=3, encoding=encoding, causal=causal, dense=dense)
    model = FORMS[form](randomise_bn(RIEModel(cfg)).eval())
    seq = torch.randn(1, 20 + 26, 17, 2)
    with torch.no_grad():
        whole = forward_dilated_sequence(model, seq)
        windowed = model(all_windows(seq, 27))[:, 0]
    assert whole.shape == (1, 20, 17, 3)
    if same:
        assert_float32_close(whole[0], windowed, n_terms=256)   # the same sums in another order
    else:
        assert (whole[0] - windowed).abs().max() > 1e-2


@both_forms
def test_follows_module_device_and_dtype(form):
    model = FORMS[form](RIEModel(small(stage=3)).double().eval())
    out = model(torch.randn(2, 9, 17, 2, dtype=torch.float64))
    assert out.dtype == torch.float64
    assert model.others_index.dtype == torch.long and "others_index" not in model.state_dict()


def test_input_layout_may_differ_from_the_output_skeleton():
    """17 COCO keypoints in, 15 HumanEva joints out: the groups index inputs and outputs separately."""
    from relpose.skeleton import BodyGroup

    groups = (BodyGroup("Torso", (0, 1, 14), (0, 1, 2, 3, 4, 5, 6)), BodyGroup("LArm", (2, 3, 4), (5, 7, 9)),
              BodyGroup("RArm", (5, 6, 7), (6, 8, 10)), BodyGroup("LLeg", (8, 9, 10), (11, 13, 15)),
              BodyGroup("RLeg", (11, 12, 13), (12, 14, 16)))
    cfg = small(num_joints=15, num_input_joints=17, groups=groups, input_root=(11, 12), stage=3)
    model = randomise_bn(RIEModel(cfg)).eval()
    assert model.LocalLayer_Torso.expand_conv.in_channels == 7 * 6 and model.GlobalInfo.fc_1.in_features == 34
    x = torch.randn(4, 9, 17, 2)
    assert model(x).shape == (4, 1, 15, 3)
    # The positional encoding is relative to the mean of the two hips: moving every keypoint by the same
    # offset changes only the raw block, and a raw-free variant of the model would not see it at all.
    assert ModelConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(ValueError, match="expected windows \\(B, 9, 17, 2\\)"):
        model(torch.randn(4, 9, 15, 2))
    with pytest.raises(ValueError, match="read input keypoints"):
        small(num_joints=15, num_input_joints=12, groups=groups)
