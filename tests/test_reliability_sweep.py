"""Issue 22's classes, swept: damaged or hostile checkpoints, messages that name the file rather than flags a
command lacks, devices torch cannot use, files that are not what their flag says, evaluations over nothing,
degenerate poses in the metrics, sequences too short for a metric. One line each, exit 2, nothing written."""
import io
import os
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

from relpose.checkpoints import load_checkpoint, save_checkpoint
from relpose.errors import CheckpointError, UserError
from relpose.metrics import mean_velocity_error, mpjpe, n_mpjpe, p_mpjpe
from relpose.model import ModelConfig, RIEModel
from relpose.runtime import pick_device
from relpose.cli.parser import FLAG_TERMS
from relpose.weights import load_model, load_weights

from cli_helpers import TINY_MODEL

SMALL = dict(filter_widths=(3, 3), channels=16, latent_dim=16, hidden=32)


@pytest.fixture(scope="module")
def small_model():
    torch.manual_seed(0)
    return RIEModel(ModelConfig(**SMALL))


def write(path, model, config=None, state=None, **extra):
    cfg = model.config.to_dict() if config is None else config
    return save_checkpoint(path, epoch=1, lr=0.1, random_state=None, optimizer_state={},
                           model_state=state if state is not None else model.state_dict(),
                           extra=({"config": cfg} if cfg is not False else {}) | extra)


def one_line(e) -> str:
    message = str(e.value)
    assert "\n" not in message and "Traceback" not in message
    return message


class Ran:
    def __init__(self, returncode, stdout, stderr):
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


def relpose(capsys, *args, command=None):
    """A command in this process (the suite's time: no interpreter start per case); exceptions other than a
    UserError propagate, so a traceback fails the test."""
    if command is None:
        from relpose.cli import main as command
    capsys.readouterr()
    code = command([str(a) for a in args])
    out, err = capsys.readouterr()
    return Ran(code, out, err)


def refused(r, *words):
    assert r.returncode == 2, (r.returncode, r.stderr[-2000:])
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in r.stderr, r.stderr
    for w in words:
        assert w in lines[0], (w, lines[0])
    return lines[0]


# ----------------------------------------------------------------------------- stored configuration, as data

def edited(**changes):
    d = ModelConfig(**SMALL).to_dict()
    d.update(changes)
    return d


@pytest.mark.parametrize("config, words", [
    (edited(bogus=1), ["unknown key 'bogus'"]),
    (edited(channels="16"), ["'channels' is '16'", "whole number"]),
    (edited(channels=-16), ["'channels' is -16"]),
    (edited(channels=16.5), ["'channels' is 16.5"]),
    (edited(hidden=True), ["'hidden' is True"]),
    (edited(latent_dim=10 ** 12), ["'latent_dim'", "65536"]),
    (edited(filter_widths="3,3"), ["'filter_widths' is '3,3'"]),
    (edited(filter_widths=[3, 4]), ["'filter_widths' is [3, 4]", "odd"]),
    (edited(filter_widths=[]), ["'filter_widths' is []"]),
    (edited(filter_widths=[3] * 40), ["'filter_widths'", "1 to 12"]),
    (edited(groups=[["Torso"]]), ["'groups'"]),
    (edited(groups=5), ["'groups' is 5"]),
    (edited(groups=[["Torso", [0, 1]], ["Rest", list(range(1, 17))]]), ["'groups'", "exactly once"]),
    (edited(encoding="bogus"), ["'encoding' is 'bogus'", "raw+pos+temp"]),
    (edited(stage="1"), ["'stage' is '1'"]),
    (edited(dropout=float("nan")), ["'dropout' is nan"]),
    (edited(fc_dropout="0.25"), ["'fc_dropout'"]),
    (edited(causal="yes"), ["'causal' is 'yes'"]),
    (edited(input_root=[99]), ["'input_root' is [99]"]),
    (edited(num_joints="17"), ["'num_joints' is '17'"]),
    (edited(num_input_joints=-1), ["'num_input_joints' is -1"]),
    (edited(input_layout="bogus"), ["'input_layout' is 'bogus'"]),
    (edited(local_encoder="zzz"), ["'local_encoder' is 'zzz'"]),
    ([1, 2], ["stored config is a list"]),
])
def test_a_damaged_stored_config_is_named_by_file_and_key(tmp_path, small_model, config, words):
    path = write(tmp_path / "edited.bin", small_model, config)
    # The encoder registry is the model's: a well-formed but unregistered name is refused when the model is built.
    loaders = (load_model,) if "'local_encoder'" in words[0] else (load_checkpoint, load_model)
    for load in loaders:
        with pytest.raises(CheckpointError) as e:
            load(path)
        message = one_line(e)
        assert message.startswith(f"checkpoint {path}") and "checkpoint this kit wrote" in message
        for w in words:
            assert w in message, (w, message)
        # Built from the file, not from flags: no flag of the main command is named.
        assert not any(f" {flag} " in message for flag in ("-ch", "-lfd", "-arc", "--encoding", "--stage"))


def test_the_stored_config_check_knows_every_model_setting():
    from dataclasses import fields
    from relpose.stored_config import CONFIG_KEYS, check_stored_config
    assert set(CONFIG_KEYS) == {f.name for f in fields(ModelConfig)}
    check_stored_config(ModelConfig(**SMALL, stage=3, causal=True, input_layout="h36m-17").to_dict(), "x")
    with pytest.raises(UserError, match="'local_encoder' is ''"):
        check_stored_config(edited(local_encoder=""), "x")


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_non_finite_weights_are_refused_before_anything_is_written(tmp_path, small_model, bad, tiny_data_dir,
                                                                    capsys):
    state = {k: v.clone() for k, v in small_model.state_dict().items()}
    state["LocalLayer_LArm.shrink.bias"][3] = bad
    path = write(tmp_path / "diverged.bin", small_model, state=state)
    with pytest.raises(CheckpointError) as e:
        load_model(path)
    assert "'LocalLayer_LArm.shrink.bias' holds NaN or infinite weights" in one_line(e)
    if bad != bad:   # once through the main command: nothing rendered
        out = tmp_path / "poses.npy"
        r = relpose(capsys, "-d", "synth", "--data-dir", tiny_data_dir, "-c", tmp_path, *TINY_MODEL, "--evaluate", path.name,
                    "--render", "--viz-subject", "S9", "--viz-action", "Walking", "--viz-export", out)
        refused(r, "diverged.bin", "NaN or infinite")
        assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["diverged.bin"]


def test_model_pos_entries_epoch_and_frame_rate_are_data(tmp_path, small_model):
    cases = {
        "not_a_dict.bin": ({"epoch": 1, "model_pos": [1, 2]}, "'model_pos' is a list"),
        "empty_state.bin": ({"epoch": 1, "model_pos": {}}, "'model_pos' is a dict with no tensors"),
        "string_tensor.bin": ({"epoch": 1, "model_pos": {"w": "x"}}, "model_pos entry 'w' is a str"),
        "epoch.bin": ({"epoch": "ten", "model_pos": small_model.state_dict()}, "'epoch' is 'ten'"),
        "fps.bin": ({"epoch": 1, "model_pos": small_model.state_dict(), "data": {"fps": -5.0}}, "frame rate -5.0"),
        "fps_text.bin": ({"epoch": 1, "model_pos": small_model.state_dict(), "data": {"fps": "fast"}},
                         "frame rate 'fast'"),
    }
    for name, (payload, words) in cases.items():
        torch.save(payload, tmp_path / name)
        with pytest.raises(CheckpointError) as e:
            load_checkpoint(tmp_path / name)
        assert name in one_line(e) and words in str(e.value), str(e.value)


class CodeBearing:
    def __reduce__(self):
        return os.system, ("touch marker_ran",)


def test_code_bearing_checkpoints_are_refused_without_the_unsafe_advice(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name, payload in (("evil_state.bin", {"model_pos": CodeBearing()}),
                          ("evil_extra.bin", {"model_pos": {"w": torch.ones(1)}, "config": CodeBearing()})):
        torch.save(payload, tmp_path / name)
        with pytest.raises(CheckpointError) as e:
            load_checkpoint(tmp_path / name)
        message = one_line(e)
        assert "holds code-bearing objects" in message and "is refused" in message and name in message
        assert "weights_only" not in message and "Re-running" not in message
    assert not (tmp_path / "marker_ran").exists()


def test_files_that_are_not_checkpoints(tmp_path, small_model):
    (tmp_path / "empty.bin").write_bytes(b"")
    (tmp_path / "config.json").write_text('{"model_pos": {}}')
    (tmp_path / "notes.txt").write_text("stage 1, 80 epochs\n")
    with zipfile.ZipFile(tmp_path / "other.zip", "w") as z:
        z.writestr("readme.txt", "not a checkpoint")
    good = write(tmp_path / "good.bin", small_model).read_bytes()
    for cut in (len(good) // 2, len(good) - 30, 100):
        (tmp_path / f"cut{cut}.bin").write_bytes(good[:cut])
    buf = io.BytesIO(good)
    with zipfile.ZipFile(buf) as src, zipfile.ZipFile(tmp_path / "missing_data.bin", "w") as dst:
        for info in src.infolist():
            if "/data/" not in info.filename:   # the tensors' storage gone
                dst.writestr(info, src.read(info.filename))
    (tmp_path / "folder.bin").mkdir()
    expected = {"empty.bin": "is empty", "config.json": "PyTorch checkpoint", "notes.txt": "PyTorch checkpoint",
                "folder.bin": "is a folder"}
    for p in sorted(tmp_path.iterdir()):
        if p.name == "good.bin":
            continue
        with pytest.raises(CheckpointError) as e:
            load_checkpoint(p)
        message = one_line(e)
        assert str(p) in message and "weights_only" not in message, message
        assert expected.get(p.name, "checkpoint") in message, message


def test_another_architecture_or_layout_is_named(tmp_path, small_model):
    from relpose.skeleton import HUMANEVA_15
    humaneva = RIEModel(ModelConfig(**SMALL, num_joints=15, groups=HUMANEVA_15.groups))
    path = write(tmp_path / "humaneva.bin", humaneva, config=False)
    with pytest.raises(CheckpointError) as e:
        load_weights(RIEModel(ModelConfig(**SMALL)), path)
    assert "humaneva.bin" in one_line(e) and "trained on 15 joints but num_input_joints is 17" in str(e.value)
    with pytest.raises(CheckpointError) as e:   # the main command: the data set decides the input
        load_weights(RIEModel(ModelConfig(**SMALL)), path, terms=FLAG_TERMS)
    assert "humaneva.bin" in one_line(e) and "the data set has 17" in str(e.value)
    # VideoPose3D's own checkpoints hold one temporal model, no body parts.
    torch.save({"epoch": 80, "model_pos": {"expand_conv.weight": torch.ones(1024, 34, 3)}}, tmp_path / "vp3d.bin")
    with pytest.raises(CheckpointError, match=r"vp3d\.bin.*not an RIE model"):
        load_weights(RIEModel(ModelConfig(**SMALL)), tmp_path / "vp3d.bin")
    # A tensor of the wrong rank is named before any shape is read from it.
    state = dict(small_model.state_dict(), **{"LocalLayer_Torso.expand_conv.weight": torch.ones(16, 30)})
    with pytest.raises(CheckpointError, match=r"'LocalLayer_Torso.expand_conv.weight' has shape \(16, 30\)"):
        load_model(write(tmp_path / "rank.bin", small_model, state=state))


def test_published_layout_mismatches_name_the_published_architecture_not_flags(tmp_path):
    import json
    from importlib import resources
    from relpose.weights import load_any_model
    layout = json.loads(resources.files("relpose").joinpath("data", "rie_checkpoint_layout.json").read_text())
    spec = layout["configs"]["stage1_lfd256"]["state_dict"]
    # Expanded zeros: the published shapes in files of a few kB (one stored element per tensor).
    state = {k: torch.zeros(1, dtype=torch.int64 if t == "int64" else torch.float32).reshape([1] * len(s)).expand(s)
             for k, s, t in spec}
    cases = {"channels.bin": ("LocalLayer_Torso.expand_conv.weight", [128, 30, 3], "128 convolution channels"),
             "hidden.bin": ("GlobalInfo.fc_1.weight", [512, 34], "FC hidden size 512"),
             "joints.bin": ("GlobalInfo.fc_1.weight", [1024, 30], "trained on 15 joints")}
    for name, (key, shape, words) in cases.items():
        torch.save({"epoch": 80, "model_pos": dict(state, **{key: torch.zeros(1).expand(shape)})}, tmp_path / name)
        with pytest.raises(CheckpointError) as e:
            load_any_model(tmp_path / name)
        message = one_line(e)
        assert name in message and words in message and "the published architecture" in message, message
        assert not any(flag in message for flag in (" -ch ", " --hidden ", "data set"))


def test_stored_values_the_tensors_contradict_are_named_by_file_in_the_wild_command(tmp_path, small_model, capsys):
    from relpose.cli.wild import main as wild
    from relpose.custom_keypoints import custom_file, write_custom
    rng = np.random.default_rng(0)
    write_custom(custom_file(tmp_path, "clip"), {"v": (rng.uniform(100, 400, (12, 17, 2)), 640, 480, 25.0)},
                 "h36m-17")
    for name, changes, words in (("ch.bin", dict(channels=128), "its stored config has channels 128"),
                                 ("enc.bin", dict(encoding="bogus"), "stored config key 'encoding' is 'bogus'")):
        path = write(tmp_path / name, small_model, edited(**changes))
        r = relpose(capsys, "--keypoints", "clip", "--data-dir", tmp_path, "--checkpoint", path,
                    "--out-dir", tmp_path / "out", command=wild)
        line = refused(r, str(path), words)
        assert "-ch" not in line and "--encoding" not in line
        # nothing written but the name's (empty) lock file, which the wild command keeps as training does
        out = tmp_path / "out"
        assert not out.exists() or [p.name for p in out.iterdir()] in ([], [".relpose-clip.lock"])


# ----------------------------------------------------------------------------- the main command

@pytest.mark.parametrize("name, words", [("cuda", "no CUDA device"), ("mps", "cannot run the kit on 'mps'"),
                                         ("meta", "'meta'"), ("xla", "'xla'"), ("bogus", "not a device name"),
                                         ("cuda:x", "not a device name"), ("", None), ("cpu", None)])
def test_devices_torch_cannot_use(name, words):
    if name.startswith("cuda") and torch.cuda.is_available() and words == "no CUDA device":
        words = None
    if words is None:
        assert pick_device(name).type in ("cpu", "cuda")
        return
    with pytest.raises(UserError) as e:
        pick_device(name)
    assert f"--device {name}" in one_line(e).replace("'", "") and words in str(e.value)


def test_cuda_index_beyond_the_machine(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    with pytest.raises(UserError, match=r"--device cuda:3: this machine has 1 CUDA device\(s\), cuda:0 to cuda:0"):
        pick_device("cuda:3")


def test_video_flag_given_what_is_not_a_video(tmp_path):
    from relpose.cli.render import check_video
    (tmp_path / "text.mp4").write_text("not a video\n")
    (tmp_path / "empty.mp4").write_bytes(b"")
    (tmp_path / "folder.mp4").mkdir()
    (tmp_path / "noise.mp4").write_bytes(np.random.default_rng(0).bytes(5000))
    for name, words in (("text.mp4", "cannot be read as a video"), ("empty.mp4", "is an empty file"), ("folder.mp4", "is a folder"),
                        ("noise.mp4", "cannot be read as a video"), ("missing.mp4", "does not exist")):
        with pytest.raises(UserError) as e:
            check_video(tmp_path / name)
        assert f"--viz-video '{tmp_path / name}'" in one_line(e) and words in str(e.value)


def test_main_command_sweep(tiny_data_dir, tiny_checkpoint, tmp_path, capsys):
    """Each class through `python -m relpose`: one line, exit 2, before the checkpoint is loaded or anything
    is written."""
    ck = tiny_checkpoint.parent
    common = ["-d", "synth", "--data-dir", tiny_data_dir, "-c", ck, *TINY_MODEL, "--downsample", "4",
              "--evaluate", tiny_checkpoint.name, "-no-tta"]
    render = [*common, "--render", "--viz-subject", "S9", "--viz-action", "Walking", "--viz-limit", "3"]
    (tmp_path / "text.mp4").write_text("not a video\n")
    (tmp_path / "ck.json").write_text('{"model_pos": {}}')
    out = tmp_path / "out.gif"
    cases = [
        ([*common, "--device", "mps"], ["--device mps"]),
        ([*common, "-a", "NoSuchAction"], ["-a NoSuchAction", "no action of S9, S11", "Walking"]),
        ([*common, "-a", "NoSuchAction", "--by-subject"], ["-a NoSuchAction", "no action of S9 (-ste)"]),
        ([*common[:-5], "--downsample", "100000", *common[-3:]], ["single frame", "downsampling by 100000"]),
        ([*render, "--viz-video", tmp_path / "text.mp4", "--viz-output", out], ["text.mp4", "cannot be read as a video"]),
        ([*common[:-3], "--evaluate", tmp_path / "ck.json"], ["ck.json", "not a PyTorch checkpoint"]),
    ]
    for args, words in cases:
        r = relpose(capsys, *args)
        line = refused(r, *words)
        assert "nan" not in r.stdout and "Average" not in r.stdout, line
    assert not out.exists()


# ----------------------------------------------------------------------------- degenerate poses in the metrics

def poses(seed=0, frames=4):
    return np.random.default_rng(seed).normal(size=(frames, 17, 3)).astype(np.float32)


def test_degenerate_poses_give_defined_errors():
    truth, zero = poses(), np.zeros((4, 17, 3), np.float32)
    spread = np.linalg.norm(truth - truth.mean(1, keepdims=True), axis=-1).mean()
    # An all-zero prediction aligns to the truth's centre (scale 0): the error is the truth's spread.
    np.testing.assert_allclose(p_mpjpe(zero, truth), spread, rtol=1e-5)
    np.testing.assert_allclose(n_mpjpe(zero, truth), np.linalg.norm(truth, axis=-1).mean(), rtol=1e-5)
    # An all-zero truth: every prediction aligns onto it.
    assert p_mpjpe(truth, zero) == pytest.approx(0, abs=1e-6) and n_mpjpe(truth, zero) == 0
    assert p_mpjpe(zero, zero) == 0 and n_mpjpe(zero, zero) == 0
    # Collinear poses (a rank-1 cross-covariance): finite, and zero for a scaled copy.
    line = np.zeros((4, 17, 3), np.float32)
    line[..., 0] = np.arange(17)
    assert np.isfinite(p_mpjpe(line, truth)) and p_mpjpe(2 * line + 1, line) == pytest.approx(0, abs=1e-4)
    # Same answers in torch.
    assert float(p_mpjpe(torch.tensor(zero), torch.tensor(truth))) == pytest.approx(spread, rel=1e-5)


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_non_finite_poses_give_nan_not_an_svd_error(bad):
    truth, pred = poses(1), poses(2)
    pred[2, 5, 1] = bad
    assert np.isnan(p_mpjpe(pred, truth)) and np.isnan(p_mpjpe(truth, pred))
    assert np.isnan(n_mpjpe(pred, truth)) and not np.isfinite(mpjpe(pred, truth))
    # The other frames are aligned as before.
    keep = [0, 1, 3]
    assert p_mpjpe(np.delete(pred, 2, 0), np.delete(truth, 2, 0)) == pytest.approx(
        np.mean([p_mpjpe(pred[i], truth[i]) for i in keep]), rel=1e-5)


def test_sequences_too_short_for_the_velocity_error(small_model):
    from relpose.evaluate import evaluate_sequences
    with pytest.raises(ValueError, match="at least 2 frames"):
        mean_velocity_error(poses()[:1], poses()[:1])
    long, short = poses(3, frames=6), poses(4, frames=1)
    two_d = [np.random.default_rng(5).normal(size=(n, 17, 2)).astype(np.float32) for n in (6, 1)]
    # Sequences shorter than the receptive field (9) are edge-padded; a 1-frame one adds no velocity.
    both = evaluate_sequences(small_model.eval(), [long, short], two_d, tta=False)
    alone = evaluate_sequences(small_model, [long], two_d[:1], tta=False)
    assert both.frames == 7 and both.mpjve_mm == pytest.approx(alone.mpjve_mm, rel=1e-6)
    assert np.isfinite([both.mpjpe_mm, both.p_mpjpe_mm, both.n_mpjpe_mm]).all()
    with pytest.raises(UserError, match="single frame, too few for the velocity error"):
        evaluate_sequences(small_model, [short], two_d[1:], tta=False, action="Walking")
