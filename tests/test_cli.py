"""The command line: published flags, the three stages end to end, resume, and one-line errors."""
import os
import subprocess
import sys

import pytest
import torch

from relpose import checkpoints
from relpose.cli import main
from relpose.cli.parser import parse_args

from cli_helpers import TINY_MODEL


def relpose(*args, cwd=None):
    """Run `python -m relpose` in a fresh process (to see exit codes and stderr as a user does)."""
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    return subprocess.run([sys.executable, "-m", "relpose", *args], capture_output=True, text=True, cwd=cwd,
                          env=env, timeout=300)


def test_published_defaults():
    a = parse_args([])
    assert (a.dataset, a.keypoints, a.subjects_train, a.subjects_test) == ("h36m", "cpn_ft_h36m_dbb",
                                                                           "S1,S5,S6,S7,S8", "S9,S11")
    assert (a.epochs, a.batch_size, a.dropout, a.learning_rate, a.lr_decay) == (80, 1024, 0.2, 0.001, 0.95)
    assert (a.architecture, a.channels, a.latent_dim, a.stage) == ("3,3,3,3,3", 256, 256, 1)
    assert a.augment and a.test_time_augmentation and a.validate and a.checkpoint == "checkpoint"
    assert parse_args(["-d", "synth"]).keypoints == "det"
    b = parse_args(["-k", "gt", "--stage", "2", "-lfd", "512", "-p", "x.bin", "-no-da", "-no-tta", "-arc", "3,3,3"])
    assert (b.stage, b.latent_dim, b.pretrain, b.filter_widths) == (2, 512, "x.bin", (3, 3, 3))
    assert not b.augment and not b.test_time_augmentation
    assert parse_args(["--disable-optimizations"]).disable_optimizations   # a published flag, accepted (no effect)


@pytest.mark.parametrize("flags, words", [
    (["-e", "0"], "-e 0: must be at least 1"),
    (["-lfd", "0"], "-lfd 0: must be a positive number"),
    (["--stage", "4"], "--stage 4: must be 1, 2 or 3"),
    (["--seed", "-1"], "--seed -1: must be a whole number in [0, 2^32)"),
    (["-arc", "3,x"], "-arc '3,x'"),
    (["-arc", "3,2"], "odd"),
    (["--subset", "1.5"], "--subset"),
    (["--frobnicate"], "unrecognized arguments: --frobnicate"),
])
def test_bad_flags_give_one_line_and_exit_2(flags, words):
    r = relpose(*flags)
    assert r.returncode == 2
    assert words in r.stderr
    assert "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_missing_data_file_names_file_folder_and_readme(tmp_path):
    r = relpose("-d", "h36m", "-k", "gt", "--data-dir", str(tmp_path), "--evaluate", "x.bin")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "data_3d_h36m.npz" in r.stderr and str(tmp_path) in r.stderr and "README" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_unknown_subject(tiny_data_dir):
    r = relpose("-d", "synth", "--data-dir", tiny_data_dir, "-ste", "S99", "--evaluate", "x.bin", *TINY_MODEL)
    assert r.returncode == 2 and "S99" in r.stderr and "S11" in r.stderr


def test_stage_flags_checked(tiny_data_dir, tmp_path):
    r = relpose("-d", "synth", "--data-dir", tiny_data_dir, "-c", str(tmp_path), "--stage", "2", *TINY_MODEL)
    assert r.returncode == 2 and "-p stage_1_epoch" in r.stderr


@pytest.fixture(scope="module")
def trained_stages(tiny_data_dir, tmp_path_factory):
    """Stages 1 -> 2 -> 3 through the command line, one epoch each, on the tiny synthetic set."""
    ck = str(tmp_path_factory.mktemp("ck"))
    common = ["-d", "synth", "--data-dir", tiny_data_dir, "-c", ck, *TINY_MODEL, "-e", "1", "--downsample", "4",
              "-str", "S1", "-ste", "S9,S11", "-a", "Walking,Sitting"]
    assert main([*common, "--stage", "1", "--no-eval"]) == 0
    assert main([*common, "--stage", "2", "-p", "stage_1_epoch_1.bin", "--no-eval"]) == 0
    assert main([*common, "--stage", "3", "-ft", "stage_2_epoch_1.bin", "-lr", "0.0005"]) == 0
    return ck, common


def test_three_stages_write_published_checkpoint_layout(trained_stages):
    ck, _ = trained_stages
    s1 = checkpoints.load_checkpoint(os.path.join(ck, "stage_1_epoch_1.bin"))
    s2 = checkpoints.load_checkpoint(os.path.join(ck, "stage_2_epoch_1.bin"))
    s3 = checkpoints.load_checkpoint(os.path.join(ck, "stage_3_epoch_1.bin"))
    for c in (s1, s2, s3):
        assert {"epoch", "lr", "random_state", "optimizer", "model_pos"} <= set(c)
    assert not any(k.startswith("FuseBlocks") for k in s1["model_pos"])
    assert any(k.startswith("FuseBlocks") for k in s2["model_pos"])
    # Stage 2 kept the stage-1 encoder weights (frozen); stage 3 changed them (fine-tuned).
    k = "LocalLayer_Torso.expand_conv.weight"
    assert torch.equal(s1["model_pos"][k], s2["model_pos"][k])
    assert not torch.equal(s2["model_pos"][k], s3["model_pos"][k])
    assert s3["lr"] == pytest.approx(0.0005 * 0.95)


def test_evaluate_prints_protocols_and_table(trained_stages, capsys):
    ck, common = trained_stages
    assert main([*common, "--evaluate", "stage_3_epoch_1.bin", "--stage", "3", "-a", "Walking,Sitting"]) == 0
    out = capsys.readouterr().out
    assert "----Walking----" in out and "----SittingDown----" in out
    assert "Protocol #1   (MPJPE) action-wise average:" in out
    assert "Protocol #2 (P-MPJPE) action-wise average:" in out
    # absolute checkpoint path works too
    assert main([*common, "--evaluate", os.path.join(ck, "stage_3_epoch_1.bin"), "--stage", "3",
                 "-a", "Walking", "--by-subject", "-no-tta"]) == 0
    out = capsys.readouterr().out
    assert "Evaluating on subject S9" in out and "Evaluating on subject S11" in out


def test_checkpoint_mismatch_is_named(trained_stages):
    ck, common = trained_stages
    r = relpose(*common, "--evaluate", "stage_3_epoch_1.bin", "--stage", "3", "-lfd", "32")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "latent size 16" in r.stderr and "-lfd is 32" in r.stderr
    r = relpose(*common, "--evaluate", "stage_1_epoch_1.bin", "--stage", "3")
    assert r.returncode == 2 and "stage" in r.stderr
    r = relpose(*common, "--evaluate", "nope.bin")
    assert r.returncode == 2 and "nope.bin" in r.stderr and ck in r.stderr


def test_cli_resume_matches_uninterrupted(tiny_data_dir, tmp_path):
    base = ["-d", "synth", "--data-dir", tiny_data_dir, *TINY_MODEL, "-e", "2", "--checkpoint-frequency", "1",
            "--no-eval", "--downsample", "4", "-str", "S1", "-a", "Walking,Sitting"]
    a, b = tmp_path / "a", tmp_path / "b"
    assert main([*base, "-c", str(a)]) == 0
    b.mkdir()
    (b / "stage_1_epoch_1.bin").write_bytes((a / "stage_1_epoch_1.bin").read_bytes())
    assert main([*base, "-c", str(b), "-r", "stage_1_epoch_1.bin"]) == 0
    wa = checkpoints.load_checkpoint(a / "stage_1_epoch_2.bin")["model_pos"]
    wb = checkpoints.load_checkpoint(b / "stage_1_epoch_2.bin")["model_pos"]
    for k in wa:
        assert torch.equal(wa[k], wb[k]), k


def test_unknown_synthetic_keypoints_lists_the_valid_ones(tiny_data_dir):
    r = relpose("-d", "synth", "--data-dir", tiny_data_dir, "-k", "cpn_ft_h36m_dbb", "--evaluate", "x.bin")
    assert r.returncode == 2 and "-k gt or -k det" in r.stderr and "Traceback" not in r.stderr


def test_command_line_shows_paths_relative_to_the_kit(tmp_path):
    from relpose.cli.parser import command_line
    root = str(tmp_path)
    flags = ["-d", "synth", "--data-dir", str(tmp_path / "data"), "-c", "/elsewhere/ckpt", "-a", "Walking 1"]
    assert command_line(flags, root) == \
        "python -m relpose -d synth --data-dir data -c /elsewhere/ckpt -a 'Walking 1'"
