import io
import os
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

from relpose import checkpoints
from relpose.checkpoints import load_checkpoint, resolve_checkpoint, save_checkpoint
from relpose.errors import CheckpointError, UserError
from relpose.model import ModelConfig, RIEModel


def small(**kw) -> ModelConfig:
    args = dict(filter_widths=(3, 3), channels=16, latent_dim=16, hidden=32)
    args.update(kw)
    return ModelConfig(**args)


def trained_state(model):
    """An AdamW(amsgrad) state after one step, as the training loop saves it."""
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, amsgrad=True)
    model(torch.randn(4, model.receptive_field(), 17, 2)).pow(2).mean().backward()
    opt.step()
    return opt


def write(tmp_path, model, opt, rng, **extra):
    return save_checkpoint(tmp_path / "ck.bin", epoch=3, lr=0.00095, random_state=rng.get_state(),
                           optimizer_state=opt.state_dict(), model_state=model.state_dict(), extra=extra)


# --- save / load ----------------------------------------------------------------------------------------------

def test_round_trip_restores_everything(tmp_path):
    torch.manual_seed(0)
    cfg = small(stage=3)
    model = RIEModel(cfg)
    opt = trained_state(model)
    rng = np.random.RandomState(1234)
    rng.rand(7)
    path = write(tmp_path, model, opt, rng, config=cfg.to_dict())
    ck = load_checkpoint(path)

    assert set(ck) == {"epoch", "lr", "random_state", "optimizer", "model_pos", "config"}
    assert ck["epoch"] == 3 and ck["lr"] == 0.00095
    assert ModelConfig.from_dict(ck["config"]) == cfg
    # The RandomState continues exactly where it was saved.
    restored = np.random.RandomState()
    restored.set_state(ck["random_state"])
    assert ck["random_state"][1].dtype == np.uint32
    np.testing.assert_array_equal(restored.rand(5), rng.rand(5))
    # Model and optimizer restore (amsgrad's max_exp_avg_sq included).
    fresh = RIEModel(cfg)
    fresh.load_state_dict(ck["model_pos"], strict=True)
    for k, v in model.state_dict().items():
        assert torch.equal(fresh.state_dict()[k], v), k
    fresh_opt = torch.optim.AdamW(fresh.parameters(), lr=1e-3, amsgrad=True)
    fresh_opt.load_state_dict(ck["optimizer"])
    saved = opt.state_dict()["state"][0]
    assert torch.equal(fresh_opt.state_dict()["state"][0]["max_exp_avg_sq"], saved["max_exp_avg_sq"])
    assert fresh_opt.param_groups[0]["amsgrad"] is True
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]


def test_loads_numpy1_style_random_state(tmp_path):
    """Files written under numpy 1.x (the published ones) name numpy.core.multiarray._reconstruct."""
    rng = np.random.RandomState(5)
    buf = io.BytesIO()
    torch.save({"epoch": 1, "lr": 0.1, "random_state": rng.get_state(), "optimizer": {},
                "model_pos": {"w": torch.ones(2)}}, buf)
    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    path = tmp_path / "old.bin"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename.endswith("data.pkl"):
                assert b"numpy._core.multiarray\n_reconstruct" in data
                data = data.replace(b"numpy._core.multiarray\n_reconstruct", b"numpy.core.multiarray\n_reconstruct")
            dst.writestr(info, data)
    ck = load_checkpoint(path)
    np.testing.assert_array_equal(ck["random_state"][1], rng.get_state()[1])


def test_failed_save_leaves_no_file_and_keeps_the_old_one(tmp_path, monkeypatch):
    path = tmp_path / "ck.bin"
    save_checkpoint(path, epoch=1, lr=0.1, random_state=None, optimizer_state={}, model_state={"w": torch.ones(3)})
    before = path.read_bytes()
    real_save = torch.save

    def half_then_fail(obj, f, *a, **kw):
        real_save(obj, f, *a, **kw)
        f.seek(f.tell() // 2)
        f.truncate()
        raise OSError("disk full")

    monkeypatch.setattr(checkpoints.torch, "save", half_then_fail)
    with pytest.raises(UserError, match=r"cannot write checkpoint '.*ck.bin': disk full"):
        save_checkpoint(path, epoch=2, lr=0.1, random_state=None, optimizer_state={},
                        model_state={"w": torch.zeros(1000)})
    assert os.listdir(tmp_path) == ["ck.bin"]
    assert path.read_bytes() == before
    with pytest.raises(UserError):
        save_checkpoint(tmp_path / "new.bin", epoch=2, lr=0.1, random_state=None, optimizer_state={},
                        model_state={})
    assert os.listdir(tmp_path) == ["ck.bin"]


def test_extras_must_be_plain_data(tmp_path):
    kw = dict(epoch=1, lr=0.1, random_state=None, optimizer_state={}, model_state={})
    with pytest.raises(ValueError, match="epoch"):
        save_checkpoint(tmp_path / "a.bin", extra={"epoch": 2}, **kw)
    with pytest.raises(TypeError, match=r"history.*float32"):
        save_checkpoint(tmp_path / "a.bin", extra={"history": {"loss": [np.float32(1.0)]}}, **kw)
    assert not list(tmp_path.iterdir())


_PWNED = []


def _mark(path):
    _PWNED.append(path)
    Path(path).write_text("ran")


class Exploit:
    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return _mark, (self.path,)


def test_code_in_a_pickle_does_not_run(tmp_path):
    marker = tmp_path / "ran.txt"
    path = tmp_path / "evil.bin"
    torch.save({"epoch": 1, "lr": 0.1, "random_state": None, "optimizer": {}, "model_pos": Exploit(str(marker))},
               path)
    with pytest.raises(CheckpointError, match=r"evil\.bin.*_mark"):
        load_checkpoint(path)
    assert not marker.exists() and not _PWNED


def test_other_numpy_objects_are_refused(tmp_path):
    path = tmp_path / "f64.bin"
    torch.save({"model_pos": {}, "random_state": np.zeros(3)}, path)  # float64: not a RandomState state
    with pytest.raises(CheckpointError, match="f64.bin"):
        load_checkpoint(path)


def test_missing_garbage_and_foreign_files(tmp_path):
    with pytest.raises(CheckpointError, match=r"nothere\.bin not found"):
        load_checkpoint(tmp_path / "nothere.bin")
    garbage = tmp_path / "garbage.bin"
    garbage.write_bytes(b"this is not a checkpoint" * 10)
    with pytest.raises(CheckpointError, match=r"garbage\.bin is not a readable"):
        load_checkpoint(garbage)
    truncated = tmp_path / "truncated.bin"
    buf = io.BytesIO()
    torch.save({"model_pos": {"w": torch.ones(100)}}, buf)
    truncated.write_bytes(buf.getvalue()[:300])
    with pytest.raises(CheckpointError, match=r"truncated\.bin"):
        load_checkpoint(truncated)
    weights = tmp_path / "weights.bin"
    torch.save({"w": torch.ones(2)}, weights)
    with pytest.raises(CheckpointError, match=r"weights\.bin has no 'model_pos'"):
        load_checkpoint(weights)
    with pytest.raises(CheckpointError, match="folder"):
        load_checkpoint(tmp_path)


# --- resolving names ------------------------------------------------------------------------------------------

def test_resolve_checkpoint(tmp_path, monkeypatch):
    folder = tmp_path / "checkpoint"
    folder.mkdir()
    (folder / "a.bin").write_bytes(b"x")
    (tmp_path / "b.bin").write_bytes(b"x")
    monkeypatch.chdir(tmp_path)
    assert resolve_checkpoint("a.bin") == Path("checkpoint/a.bin")
    assert resolve_checkpoint("b.bin") == Path("b.bin")
    assert resolve_checkpoint(str(folder / "a.bin"), "elsewhere") == folder / "a.bin"
    assert resolve_checkpoint("a.bin", str(folder)) == folder / "a.bin"
    with pytest.raises(CheckpointError) as err:
        resolve_checkpoint("c.bin", "ckpts")
    assert "ckpts/c.bin" in str(err.value) and ", c.bin" in str(err.value)
    with pytest.raises(CheckpointError, match=r"tried /nowhere/c\.bin\)"):
        resolve_checkpoint("/nowhere/c.bin")
