"""Training: stage freezing by name, BatchNorm schedules, checkpoints and exact resume."""
import math
import re

import numpy as np
import pytest
import torch

from relpose import checkpoints
from relpose.errors import UserError
from relpose.model import ModelConfig, RIEModel
from relpose.skeleton import H36M_17
from relpose.train import (CheckpointWriter, TrainConfig, bn_momentum, encoder_parameter_names, freeze_encoders,
                           load_encoders, make_optimizer, train_epochs)
from relpose.windows import Flip, WindowSampler

CFG = dict(filter_widths=(3, 3), channels=16, latent_dim=16, hidden=32)


def toy_sampler(seed=0, batch=64):
    rng = np.random.default_rng(seed)
    p2 = [rng.normal(size=(60, 17, 2)).astype(np.float32) * 0.3 for _ in range(3)]
    p3 = [rng.normal(size=(60, 17, 3)).astype(np.float32) * 0.2 for _ in range(3)]
    return WindowSampler(p2, p3, batch_size=batch, pad=4, shuffle=True, augment=True,
                         flip=Flip.of(H36M_17), seed=7)


def test_bn_momentum_decays_from_0p1_to_0p001():
    assert bn_momentum(0, 80) == pytest.approx(0.1)
    assert bn_momentum(80, 80) == pytest.approx(0.001)
    assert bn_momentum(40, 80) == pytest.approx(0.01)


def test_stage2_loads_encoders_by_name_and_freezes_them():
    torch.manual_seed(0)
    s1 = RIEModel(ModelConfig(stage=1, **CFG))
    s2 = RIEModel(ModelConfig(stage=2, **CFG))
    names = load_encoders(s2, s1.state_dict())
    assert names and all(n.startswith(("LocalLayer_", "GlobalInfo.")) for n in names)
    assert not any(n.startswith(("FuseBlocks", "Integration")) for n in names)
    for n in names:
        assert torch.equal(s2.state_dict()[n], s1.state_dict()[n])
    frozen = freeze_encoders(s2)
    assert set(frozen) == {n for n, _ in s2.named_parameters() if n.startswith(("LocalLayer_", "GlobalInfo."))}

    before = {k: v.clone() for k, v in s2.state_dict().items()}
    opt = make_optimizer(s2, 1e-2, torch.device("cpu"))
    assert all(p.requires_grad for g in opt.param_groups for p in g["params"])
    train_epochs(s2, toy_sampler(), opt, TrainConfig(stage=2, epochs=1, learning_rate=1e-2),
                 device=torch.device("cpu"), progress=False, log=lambda *_: None)
    after = s2.state_dict()
    for n, p in s2.named_parameters():
        changed = not torch.equal(before[n], after[n])
        assert changed != (n in frozen), n
    # Published default: the frozen encoders' BatchNorm statistics keep updating in stage 2.
    assert not torch.equal(before["LocalLayer_Torso.expand_bn.running_mean"],
                           after["LocalLayer_Torso.expand_bn.running_mean"])


def test_hold_bn_stats_keeps_encoder_statistics():
    torch.manual_seed(0)
    s2 = RIEModel(ModelConfig(stage=2, **CFG))
    freeze_encoders(s2)
    before = {k: v.clone() for k, v in s2.state_dict().items()}
    train_epochs(s2, toy_sampler(), make_optimizer(s2, 1e-2, torch.device("cpu")),
                 TrainConfig(stage=2, epochs=1, learning_rate=1e-2, hold_bn_stats=True), device=torch.device("cpu"),
                 progress=False, log=lambda *_: None)
    after = s2.state_dict()
    for n in encoder_parameter_names(s2):
        assert torch.equal(before[n], after[n]), n
    assert not torch.equal(before["Integration_Torso.bn_1.running_mean"], after["Integration_Torso.bn_1.running_mean"])


def test_loss_decreases_and_lr_decays(tmp_path):
    torch.manual_seed(0)
    model = RIEModel(ModelConfig(stage=1, **CFG))
    sampler = toy_sampler()
    opt = make_optimizer(model, 1e-3, torch.device("cpu"))
    cfg = TrainConfig(stage=1, epochs=3, learning_rate=1e-3, lr_decay=0.5, checkpoint_frequency=2)
    with CheckpointWriter(tmp_path, cfg, log=lambda *_: None) as writer:
        hist = train_epochs(model, sampler, opt, cfg, device=torch.device("cpu"), callbacks=[writer], progress=False,
                            log=lambda *_: None)
    assert hist.train_mpjpe_mm[-1] < hist.train_mpjpe_mm[0]
    assert hist.lr == pytest.approx([1e-3, 5e-4, 2.5e-4])
    assert opt.param_groups[0]["lr"] == pytest.approx(1.25e-4)
    # every 2 epochs, and the final epoch
    assert sorted(p.name for p in tmp_path.glob("*.bin")) == ["stage_1_epoch_2.bin", "stage_1_epoch_3.bin"]
    assert hist.epochs == [1, 2, 3] and len(hist.seconds) == 3
    ckpt = checkpoints.load_checkpoint(tmp_path / "stage_1_epoch_3.bin")
    assert {"epoch", "lr", "random_state", "optimizer", "model_pos"} <= set(ckpt)
    assert ckpt["epoch"] == 3 and ckpt["lr"] == pytest.approx(1.25e-4)
    # BatchNorm momentum of the temporal encoders follows the schedule; the FC blocks keep 0.1.
    assert model.LocalLayer_Torso.expand_bn.momentum == pytest.approx(bn_momentum(2, 3))
    assert model.GlobalInfo.bn_1.momentum == pytest.approx(0.1)


def test_resumed_run_ends_where_an_uninterrupted_one_would(tmp_path):
    def run(epochs, start=0, state=None):
        torch.manual_seed(0)
        model = RIEModel(ModelConfig(stage=1, **CFG))
        sampler = toy_sampler()
        opt = make_optimizer(model, 1e-3, torch.device("cpu"))
        lr = 1e-3
        if state is not None:
            model.load_state_dict(state["model_pos"])
            opt.load_state_dict(state["optimizer"])
            sampler.set_random_state(state["random_state"])
            lr = state["lr"]
        cfg = TrainConfig(stage=1, epochs=epochs, lr_decay=0.9, checkpoint_frequency=1, seed=3)
        with CheckpointWriter(tmp_path, cfg, start_epoch=start, overwrite=True, log=lambda *_: None) as w:
            train_epochs(model, sampler, opt, cfg, device=torch.device("cpu"), start_epoch=start, lr=lr,
                         callbacks=[w], progress=False, log=lambda *_: None)
        return model.state_dict()

    full = run(3)
    state = checkpoints.load_checkpoint(tmp_path / "stage_1_epoch_1.bin")
    resumed = run(3, start=1, state=state)
    for k in full:
        assert torch.equal(full[k], resumed[k]), k


def test_train_config_checks_every_value_by_field_and_in_flag_terms():
    from relpose.cli.parser import FLAG_TERMS
    from relpose.config_rules import SettingError
    for kw, words in [(dict(stage=4), "--stage 4"), (dict(epochs=0), "-e 0"), (dict(batch_size=0), "-b 0"),
                      (dict(learning_rate=-1e-3), "-lr -0.001"), (dict(learning_rate=float("nan")), "-lr nan"),
                      (dict(lr_decay=0), "-lrd 0"), (dict(lr_decay=1.5), "-lrd 1.5"), (dict(subset=0), "--subset 0"),
                      (dict(downsample=1.5), "--downsample 1.5"), (dict(checkpoint_frequency=0), "--checkpoint-frequency 0"),
                      (dict(seed=-1), "--seed -1"), (dict(seed=2 ** 32), "--seed 4294967296"),
                      (dict(eval_batch_size=0), "--eval-batch-size 0")]:
        with pytest.raises(SettingError) as e:
            TrainConfig(**kw)
        (name, value), = kw.items()
        assert str(e.value).startswith(f"{name} {value}: ") and isinstance(e.value, UserError)
        assert str(e.value.named(FLAG_TERMS)).startswith(words + ": ")
    cfg = TrainConfig(stage=3, epochs=20, learning_rate=5e-4)
    assert TrainConfig.from_dict(cfg.to_dict()) == cfg


def test_train_stage_matches_the_loop_and_records_its_configuration(tiny_data_dir, tmp_path):
    """train_stage (windows, optimiser, loop) gives what the hand-assembled pieces give, and its checkpoint
    records the model and training configuration and the frame rate it was trained at."""
    from relpose.datasets import load_dataset
    from relpose.train import train_stage, training_record

    ds = load_dataset("synth", "gt", tiny_data_dir)
    cfg = TrainConfig(stage=1, epochs=2, batch_size=128, downsample=4, validate=False)
    torch.manual_seed(0)
    model = RIEModel(ModelConfig(stage=1, **CFG))
    start = {k: v.clone() for k, v in model.state_dict().items()}
    with CheckpointWriter(tmp_path, cfg, extra=training_record(model, cfg, ds), log=lambda *_: None) as w:
        _, hist = train_stage(model, ds, cfg, subjects=["S1"], actions=["Walking"], callbacks=[w], progress=False,
                              log=lambda *_: None)
    # The same by hand.
    _, p3, p2 = ds.fetch(["S1"], ["Walking"], downsample=4)
    again = RIEModel(ModelConfig(stage=1, **CFG))
    again.load_state_dict(start)
    sampler = WindowSampler(p2, p3, batch_size=128, pad=4, augment=True, flip=Flip.from_dataset(ds),
                            seed=cfg.seed)
    hist2 = train_epochs(again, sampler, make_optimizer(again, 1e-3, torch.device("cpu")), cfg,
                         device=torch.device("cpu"), progress=False, log=lambda *_: None)
    for k, v in model.state_dict().items():
        assert torch.equal(v, again.state_dict()[k]), k
    assert hist.train_mpjpe_mm == hist2.train_mpjpe_mm
    ckpt = checkpoints.load_checkpoint(tmp_path / "stage_1_epoch_2.bin")
    assert ModelConfig.from_dict(ckpt["config"]) == model.config and TrainConfig.from_dict(ckpt["train_config"]) == cfg
    assert ckpt["data"] == {"dataset": "synth", "keypoints": "gt", "fps": 12.5, "layout": "h36m"}
    assert ckpt["history"]["epochs"] == [1, 2]


@pytest.mark.parametrize("progress, shown, interval", [(True, True, 0.1), (False, False, None), (5.0, True, 5.0)])
def test_progress_bar_is_off_or_redrawn_at_most_every_given_seconds(monkeypatch, progress, shown, interval):
    # A notebook's bar must not flood the kernel's output channel (see relpose.lab.settings).
    import relpose.train as train_module
    made = []

    class FakeBar(list):
        def set_postfix(self, **_):
            pass

    def fake_tqdm(iterable, **kwargs):
        made.append(kwargs)
        return FakeBar(iterable)
    monkeypatch.setattr(train_module, "tqdm", fake_tqdm)
    model = RIEModel(ModelConfig(stage=1, **CFG))
    train_epochs(model, toy_sampler(), make_optimizer(model, 1e-3, torch.device("cpu")),
                 TrainConfig(stage=1, epochs=1), device=torch.device("cpu"), progress=progress, log=lambda *_: None)
    assert len(made) == 1 and made[0]["disable"] is (not shown)
    if shown:
        assert made[0]["mininterval"] == interval


def test_notebook_settings_redraw_progress_rarely_or_not_at_all(monkeypatch, tmp_path):
    from relpose.lab import settings as lab
    monkeypatch.delenv("RELPOSE_PROGRESS", raising=False)
    assert lab.settings("quick", root=str(tmp_path)).progress == lab.PROGRESS_SECONDS >= 1
    monkeypatch.setenv("RELPOSE_PROGRESS", "0")
    assert lab.settings("quick", root=str(tmp_path)).progress is False
