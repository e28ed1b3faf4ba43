"""Every field of the configurations survives its round trips with a value that is not its default: to_dict and
back, a saved checkpoint (the training record), and the printed command line. The values are generated from
dataclasses.fields, so a new field is covered the day it is added (or this test says what it needs)."""
import dataclasses

import pytest
import torch

from relpose import model as model_module
from relpose.keypoint_layouts import COCO17, model_inputs
from relpose.model import ModelConfig, RIEModel, TemporalEncoder
from relpose.skeleton import HUMANEVA_15
from relpose.train import TrainConfig, training_record

# Fields whose valid values depend on each other: a 15-joint HumanEva skeleton read from 17 COCO keypoints,
# a second local encoder type (registered by the fixture below).
GROUPS, INPUT_ROOT = model_inputs(HUMANEVA_15, COCO17)
COHERENT = {
    ModelConfig: dict(num_joints=15, groups=GROUPS, num_input_joints=17, input_root=INPUT_ROOT,
                      input_layout=COCO17.name, filter_widths=(3, 5), encoding="raw+pos", local_encoder="tcn-copy"),
    TrainConfig: {},
}


def non_default(cls, **coherent):
    """An instance of `cls` with every field away from its default: booleans flipped, numbers scaled (small,
    so the model stays small), the rest from COHERENT. Fails naming a field it cannot vary."""
    values, defaults = {}, {}
    for f in dataclasses.fields(cls):
        default = defaults[f.name] = f.default if f.default is not dataclasses.MISSING else f.default_factory()
        if f.name in COHERENT[cls]:
            value = COHERENT[cls][f.name]
        elif isinstance(default, bool):
            value = not default
        elif isinstance(default, int):
            value = default // 8 + 1 if default // 8 + 1 != default else default + 1
        elif isinstance(default, float):
            value = default / 2
        else:
            pytest.fail(f"{cls.__name__}.{f.name}: give it a non-default value in COHERENT")
        values[f.name] = value
    config = cls(**values)
    same = [name for name, default in defaults.items() if getattr(config, name) == default]
    assert not same, f"{cls.__name__} fields left at their defaults: {same}"
    return config


@pytest.fixture
def second_encoder_type():
    model_module.register_local_encoder("tcn-copy")(type("TcnCopy", (TemporalEncoder,), {}))
    yield
    del model_module.LOCAL_ENCODERS["tcn-copy"]


@pytest.fixture
def configs(second_encoder_type):
    return non_default(ModelConfig), non_default(TrainConfig)


def test_every_field_survives_to_dict(configs):
    cfg, train = configs
    assert ModelConfig.from_stored(cfg.to_dict(), "x") == cfg
    assert ModelConfig.from_dict(cfg.to_dict()) == cfg
    assert TrainConfig.from_dict(train.to_dict()) == train


def test_a_dropped_field_would_be_caught(configs):
    """Guard the guard: a to_dict that forgot a field gives back another configuration, or none at all."""
    cfg, train = configs
    for config in (cfg, train):
        for f in dataclasses.fields(config):
            stored = config.to_dict()
            del stored[f.name]
            try:
                back = type(config).from_dict(stored)
            except ValueError:   # e.g. without num_joints, HumanEva's body parts do not fit 17 joints
                continue
            assert back != config, f.name


class _DataSet:
    name, keypoints, fps, layout = "humaneva15", "coco", 60, "coco-17"


def test_every_field_survives_a_saved_checkpoint(configs, tmp_path):
    from relpose.checkpoints import load_checkpoint, save_checkpoint
    from relpose.weights import load_model
    cfg, train = configs
    model = RIEModel(cfg)
    path = save_checkpoint(tmp_path / "c.bin", epoch=1, lr=0.1, random_state=None, optimizer_state={},
                           model_state=model.state_dict(), extra=training_record(model, train, _DataSet()))
    ckpt = load_checkpoint(path)
    assert ModelConfig.from_stored(ckpt["config"], str(path)) == cfg
    assert TrainConfig.from_dict(ckpt["train_config"]) == train
    loaded = load_model(path)
    assert loaded.config == cfg and isinstance(loaded.LocalLayer_Torso, model_module.LOCAL_ENCODERS["tcn-copy"])
    for k, v in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[k], v), k


def test_every_flag_setting_survives_the_printed_command_line(configs):
    """relpose.cli.parser.flags_for (what the demo prints) parses back into the same configurations."""
    from relpose.cli.parser import MODEL_FIELDS, flags_for, model_settings, parse_args, train_settings
    cfg, train = configs
    assert cfg.stage == train.stage == 2   # one --stage; --hold-bn-stats needs stage 2
    args = parse_args(flags_for(dataset="synth", keypoints="det", model=cfg, train=train, previous="s1.bin"))
    assert model_settings(args) == {name: getattr(cfg, name) for name in MODEL_FIELDS}
    assert TrainConfig(**train_settings(args)) == train
