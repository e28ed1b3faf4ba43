"""A checkpoint against the flags (relpose.weights): mismatches named in flag terms, models built from checkpoints."""
import re

import pytest
import torch

from relpose.cli.parser import FLAG_TERMS
from relpose.config_rules import stored_terms
from relpose.errors import CheckpointError
from relpose.model import ModelConfig, RIEModel
from relpose.weights import check_compatible


def small(**kw) -> ModelConfig:
    args = dict(filter_widths=(3, 3), channels=16, latent_dim=16, hidden=32)
    args.update(kw)
    return ModelConfig(**args)


# --- compatibility with the flags -----------------------------------------------------------------------------

def meta_state(cfg):
    with torch.device("meta"):
        return RIEModel(cfg).state_dict()


@pytest.mark.parametrize("saved,flags,message", [
    (dict(latent_dim=32), dict(), "checkpoint has latent size 32 but -lfd is 16"),
    (dict(stage=3), dict(stage=1), r"stage-2/3 model \(has FuseBlocks\) but --stage is 1"),
    (dict(stage=1), dict(stage=3), r"stage-1 model \(no FuseBlocks\) but --stage is 3"),
    (dict(channels=32), dict(), "checkpoint has 32 convolution channels but -ch is 16"),
    (dict(filter_widths=(3, 3, 3)), dict(), "checkpoint architecture 3,3,3 but -arc is 3,3"),
    (dict(filter_widths=(3, 5)), dict(), "checkpoint architecture 3,5 but -arc is 3,3"),
    (dict(filter_widths=(3, 3), dense=True), dict(dense=False), "checkpoint architecture 3,7 but -arc is 3,3"),
    (dict(encoding="raw"), dict(), r"Torso encoder reads 10 input channels \(encoding raw\) but --encoding "
                                   r"raw\+pos\+temp gives 30"),
    (dict(hidden=64), dict(), "checkpoint has FC hidden size 64 but --hidden is 32"),
])
def test_incompatibility_is_named_in_flag_terms(saved, flags, message):
    with pytest.raises(CheckpointError, match=message):
        check_compatible(meta_state(small(**saved)), small(**flags), terms=FLAG_TERMS)


@pytest.mark.parametrize("terms, words", [
    (None, ["latent size 32 but latent_dim is 16", "convolution channels but channels is 16",
            "architecture 3,3,3 but filter_widths is 3,3", "stage-2/3 model (has FuseBlocks) but stage is 1",
            "encoding raw+pos+temp gives 30"]),
    (stored_terms("its stored config"), [
        "latent size 32 but its stored config has latent size 16", "but its stored config has channels 16",
        "architecture 3,3,3 but its stored config has filter widths 3,3", "but its stored config has stage 1",
        "but its stored config's encoding raw+pos+temp gives 30"]),
])
def test_a_configuration_not_from_flags_is_named_in_its_own_terms(terms, words):
    """Built in Python the settings are named by their fields; read from a file, in the file's words: no flag."""
    kw = {} if terms is None else dict(terms=terms)
    for saved, message in zip((dict(latent_dim=32), dict(channels=32), dict(filter_widths=(3, 3, 3)), dict(stage=3),
                               dict(encoding="raw")), words):
        with pytest.raises(CheckpointError) as e:
            check_compatible(meta_state(small(**saved)), small(), **kw)
        assert message in str(e.value) and not re.search(r" -(lfd|ch|arc|-stage|-encoding)\b", str(e.value))


def test_compatible_checkpoints_pass():
    for cfg in (small(), small(stage=3, encoding="raw", causal=True), small(dense=True, filter_widths=(3, 3, 3))):
        check_compatible(meta_state(cfg), cfg)
    # Stage 2 starts from a stage-1 checkpoint's encoders.
    check_compatible(meta_state(small(stage=1)), small(stage=2), encoders_only=True)
    with pytest.raises(CheckpointError, match="-lfd"):
        check_compatible(meta_state(small(stage=1, latent_dim=8)), small(stage=2), encoders_only=True, terms=FLAG_TERMS)


def test_published_layout_is_compatible_with_paper_flags():
    check_compatible(meta_state(ModelConfig(stage=3, latent_dim=512)), ModelConfig(stage=3, latent_dim=512))
    with pytest.raises(CheckpointError, match="latent size 512 but -lfd is 256"):
        check_compatible(meta_state(ModelConfig(stage=3, latent_dim=512)), ModelConfig(stage=3), terms=FLAG_TERMS)


def test_other_differences_name_one_tensor():
    state = dict(meta_state(small(stage=3)))
    state.pop("Integration_LLeg.fc_2.bias")
    with pytest.raises(CheckpointError, match="lacks tensor 'Integration_LLeg.fc_2.bias'"):
        check_compatible(state, small(stage=3))
    state = dict(meta_state(small(stage=3)), **{"extra.weight": torch.ones(1)})
    with pytest.raises(CheckpointError, match="'extra.weight'"):
        check_compatible(state, small(stage=3))
    with pytest.raises(CheckpointError, match="15 joints but the data set has 17"):
        from relpose.skeleton import HUMANEVA_15
        check_compatible(meta_state(small(num_joints=15, groups=HUMANEVA_15.groups)), small(), terms=FLAG_TERMS)
    with pytest.raises(CheckpointError, match="not an RIE model"):
        check_compatible({"w": torch.ones(1)}, small())


def test_stored_config_catches_what_shapes_cannot(tmp_path):
    from relpose.checkpoints import save_checkpoint
    from relpose.weights import load_model, load_weights

    cfg = small(causal=True, encoding="raw+pos")
    model = RIEModel(cfg)
    path = save_checkpoint(tmp_path / "c.bin", epoch=1, lr=0.1, random_state=None, optimizer_state={},
                           model_state=model.state_dict(), extra={"config": cfg.to_dict()})
    # Same tensor shapes, other settings: --causal off, raw+temp instead of raw+pos.
    for wrong, words in ((small(encoding="raw+pos"), "--causal True"), (small(causal=True, encoding="raw+temp"),
                                                                        "--encoding 'raw+pos'")):
        with pytest.raises(CheckpointError, match=re.escape(words + " but the flags give")):
            load_weights(RIEModel(wrong), path, terms=FLAG_TERMS)
        with pytest.raises(CheckpointError, match=re.escape(words[2:] + " but the configuration has")):
            load_weights(RIEModel(wrong), path)
    loaded = load_model(path)
    assert loaded.config == cfg and not loaded.training
    for k, v in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[k], v)


def test_a_new_local_encoder_type_needs_only_the_model_module(tmp_path):
    """Register a second, tiny encoder type (here, in the test) and use it end to end: build, train a step,
    save, check, load. Nothing in the package outside relpose.model learns about it."""
    from relpose import model as model_module
    from relpose.checkpoints import save_checkpoint
    from relpose.train import make_optimizer, train_step
    from relpose.weights import load_model

    @model_module.register_local_encoder("mean-pool")
    class MeanPoolEncoder(torch.nn.Module):
        """Average the window over time, then one linear layer: no temporal structure at all."""

        def __init__(self, in_channels, latent_dim):
            super().__init__()
            self.proj = torch.nn.Linear(in_channels, latent_dim)

        @classmethod
        def from_config(cls, in_channels, c):
            return cls(in_channels, c.latent_dim)

        def forward(self, x):
            return self.proj(x.mean(dim=-1))

    try:
        cfg = small(local_encoder="mean-pool", stage=3)
        model = RIEModel(cfg)
        assert isinstance(model.LocalLayer_Torso, MeanPoolEncoder)
        assert model.LocalLayer_Torso.proj.in_features == 5 * 6  # 5 joints x (raw, pos, temp) x (x, y)
        opt = make_optimizer(model, 1e-3, torch.device("cpu"))
        loss = train_step(model, opt, torch.randn(16, 9, 17, 2), torch.randn(16, 1, 17, 3), device=torch.device("cpu"))
        assert torch.isfinite(loss)
        model.set_bn_momentum(0.05)  # encoders without batch norm are left alone
        path = save_checkpoint(tmp_path / "m.bin", epoch=1, lr=0.1, random_state=None, optimizer_state={},
                               model_state=model.state_dict(), extra={"config": cfg.to_dict()})
        loaded = load_model(path)
        x = torch.randn(3, 9, 17, 2)
        torch.testing.assert_close(loaded(x), model.eval()(x))
        # A checkpoint of the published encoder type does not pass for this one.
        with pytest.raises(CheckpointError, match="lacks tensor 'LocalLayer_Torso.proj.weight'"):
            check_compatible(meta_state(small(stage=3)), cfg)
    finally:
        del model_module.LOCAL_ENCODERS["mean-pool"]


@pytest.mark.parametrize("name", ["stage1_lfd256", "stage3_lfd256", "stage3_lfd512"])
def test_a_published_configuration_is_read_from_its_tensor_shapes(name):
    """The published checkpoints store no configuration: weights.published_config infers it (stage from the fusion
    blocks, latent size from the Torso encoder), and it builds the published layout key for key."""
    import json
    from importlib import resources
    from relpose.weights import published_config
    spec = json.loads(resources.files("relpose").joinpath("data", "rie_checkpoint_layout.json").read_text())["configs"][name]
    state = {k: torch.empty(s, device="meta") for k, s, _ in spec["state_dict"]}
    cfg = published_config(state)
    assert (cfg.stage, cfg.latent_dim) == (spec["stage"], spec["latent_features_dim"])
    check_compatible(state, cfg)
