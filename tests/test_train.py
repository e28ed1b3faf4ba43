"""Training: stage freezing by name, BatchNorm schedules, checkpoints and exact resume."""
import math

import numpy as np
import pytest
import torch

from relpose import checkpoints
from relpose.model import ModelConfig, RIEModel
from relpose.train import (bn_momentum, encoder_parameter_names, freeze_encoders, load_encoders,
                           make_optimizer, train)
from relpose.windows import WindowSampler

CFG = dict(filter_widths=(3, 3), channels=16, latent_dim=16, hidden=32)


def toy_sampler(seed=0, batch=64):
    rng = np.random.default_rng(seed)
    p2 = [rng.normal(size=(60, 17, 2)).astype(np.float32) * 0.3 for _ in range(3)]
    p3 = [rng.normal(size=(60, 17, 3)).astype(np.float32) * 0.2 for _ in range(3)]
    return WindowSampler(p2, p3, batch_size=batch, pad=4, shuffle=True, augment=True,
                         kps_left=[4, 5, 6, 11, 12, 13], kps_right=[1, 2, 3, 14, 15, 16],
                         joints_left=[4, 5, 6, 11, 12, 13], joints_right=[1, 2, 3, 14, 15, 16], seed=7)


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
    train(s2, sampler=toy_sampler(), optimizer=opt, epochs=1, lr=1e-2, lr_decay=0.95, device=torch.device("cpu"),
          stage=2, progress=False, log=lambda *_: None)
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
    train(s2, sampler=toy_sampler(), optimizer=make_optimizer(s2, 1e-2, torch.device("cpu")), epochs=1, lr=1e-2,
          lr_decay=0.95, device=torch.device("cpu"), stage=2, hold_bn_stats=True, progress=False,
          log=lambda *_: None)
    after = s2.state_dict()
    for n in encoder_parameter_names(s2):
        assert torch.equal(before[n], after[n]), n
    assert not torch.equal(before["Integration_Torso.bn_1.running_mean"], after["Integration_Torso.bn_1.running_mean"])


def test_loss_decreases_and_lr_decays(tmp_path):
    torch.manual_seed(0)
    model = RIEModel(ModelConfig(stage=1, **CFG))
    sampler = toy_sampler()
    opt = make_optimizer(model, 1e-3, torch.device("cpu"))
    hist = train(model, sampler=sampler, optimizer=opt, epochs=3, lr=1e-3, lr_decay=0.5, device=torch.device("cpu"),
                 stage=1, checkpoint_dir=str(tmp_path), checkpoint_frequency=2, progress=False, log=lambda *_: None)
    assert hist.train_mpjpe_mm[-1] < hist.train_mpjpe_mm[0]
    assert hist.lr == pytest.approx([1e-3, 5e-4, 2.5e-4])
    assert opt.param_groups[0]["lr"] == pytest.approx(1.25e-4)
    # every 2 epochs, and the final epoch
    assert sorted(p.name for p in tmp_path.glob("*.bin")) == ["stage_1_epoch_2.bin", "stage_1_epoch_3.bin"]
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
        train(model, sampler=sampler, optimizer=opt, epochs=epochs, lr=lr, lr_decay=0.9, start_epoch=start,
              device=torch.device("cpu"), stage=1, checkpoint_dir=str(tmp_path), checkpoint_frequency=1,
              progress=False, log=lambda *_: None, seed=3)
        return model.state_dict()

    full = run(3)
    state = checkpoints.load_checkpoint(tmp_path / "stage_1_epoch_1.bin")
    resumed = run(3, start=1, state=state)
    for k in full:
        assert torch.equal(full[k], resumed[k]), k
