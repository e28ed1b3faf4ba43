"""The flags of `python -m relpose`: the published run.py flags (same names, short forms, defaults), plus
the kit's additions, checked before any work starts.

A flag that sets a configuration field has the field's name as its destination (-lfd sets `latent_dim`),
and FLAGS names each such field's flag. The configurations check their own values (relpose.config_rules):
`parse_args` builds them once to check the flags, and words any SettingError by the flag (FLAG_TERMS).
The parser itself checks only what no configuration holds (the --viz-* values, -s, lists, combinations).

    python -m relpose -k gt --stage 1 -lfd 256
    python -m relpose -k gt --stage 2 -lfd 256 -p stage_1_epoch_80.bin
    python -m relpose -k gt --stage 3 -lfd 256 -ft stage_2_epoch_80.bin -lr 0.0005 -e 20
    python -m relpose -k gt --evaluate gt_pretrained.bin --stage 3 -lfd 256
"""
from __future__ import annotations

import argparse
from dataclasses import fields

from ..config_rules import SETTING_WORDS, SettingError, Terms, shown
from ..datasets import DATASETS
from ..errors import UserError
from ..model import ModelConfig
from ..train import TrainConfig
from .common import OneLineParser

# The flag of every ModelConfig and TrainConfig field a flag sets, in the order a printed command line lists them.
FLAGS = {"filter_widths": "-arc", "channels": "-ch", "latent_dim": "-lfd", "hidden": "--hidden", "dropout": "-drop",
         "encoding": "--encoding", "epochs": "-e", "learning_rate": "-lr", "lr_decay": "-lrd", "batch_size": "-b",
         "downsample": "--downsample", "subset": "--subset", "seed": "--seed",
         "checkpoint_frequency": "--checkpoint-frequency", "eval_batch_size": "--eval-batch-size",
         "causal": "--causal", "dense": "--dense", "augment": "-no-da", "validate": "--no-eval",
         "hold_bn_stats": "--hold-bn-stats", "amp": "--amp", "stage": "--stage"}
# Messages about the main command's model and training name a setting by its flag; what no flag sets, the data
# set decides (its keypoints, its skeleton) or is named in words.
FLAG_TERMS = Terms({**SETTING_WORDS, **FLAGS, "num_input_joints": "the data set has {}",
                    "groups": "the skeleton has {}"}, gives="the flags give")
MODEL_FIELDS = [f.name for f in fields(ModelConfig) if f.name in FLAGS]
TRAIN_FIELDS = [f.name for f in fields(TrainConfig) if f.name in FLAGS]


def build_parser() -> argparse.ArgumentParser:
    p = OneLineParser(prog="relpose", description="Train and evaluate the RIE 3D pose lifting model.")
    a = p.add_argument
    # General (names, short forms and defaults as in the published run.py)
    a("-d", "--dataset", default="h36m", metavar="NAME", help=f"{', '.join(DATASETS)} (default h36m)")
    a("-k", "--keypoints", default=None, metavar="NAME",
      help="2D detections: gt, cpn_ft_h36m_dbb, ... (default cpn_ft_h36m_dbb; det for -d synth)")
    a("-str", "--subjects-train", default=None, metavar="LIST",
      help="training subjects (default: the data set's, S1,S5,S6,S7,S8 for Human3.6M)")
    a("-ste", "--subjects-test", default=None, metavar="LIST",
      help="test subjects (default: the data set's, S9,S11 for Human3.6M)")
    a("-a", "--actions", default="*", metavar="LIST", help="actions to train/test on, * for all")
    a("-c", "--checkpoint", default="checkpoint", metavar="PATH", help="checkpoint directory")
    a("--checkpoint-frequency", default=10, type=int, metavar="N", help="save a checkpoint every N epochs")
    a("-r", "--resume", default="", metavar="FILENAME", help="checkpoint to resume training from")
    a("--evaluate", default="", metavar="FILENAME", help="checkpoint to evaluate (no training)")
    a("--render", action="store_true", help="render a sequence (see --viz-*)")
    a("--by-subject", action="store_true", help="break down the error by subject")
    a("--export-training-curves", action="store_true", help="save training curves as PNG")
    # Model and training
    a("-s", "--stride", default=1, type=int, metavar="N",
      help="chunk size (target frames) per training window; RIE predicts one frame per window, so only 1")
    a("-e", "--epochs", default=80, type=int, metavar="N", help="number of training epochs")
    a("-b", "--batch-size", default=1024, type=int, metavar="N", help="batch size in frames")
    a("-drop", "--dropout", default=0.2, type=float, metavar="P", help="dropout probability")
    a("-lr", "--learning-rate", default=0.001, type=float, metavar="LR", help="initial learning rate")
    a("-lrd", "--lr-decay", default=0.95, type=float, metavar="LR", help="learning rate decay per epoch")
    a("-no-da", "--no-data-augmentation", dest="augment", action="store_false",
      help="disable train-time flipping")
    a("-no-tta", "--no-test-time-augmentation", dest="test_time_augmentation", action="store_false",
      help="disable test-time flipping")
    a("-arc", "--architecture", default="3,3,3,3,3", metavar="LAYERS", help="filter widths separated by comma")
    a("--causal", action="store_true", help="use causal convolutions for real-time processing")
    a("-ch", "--channels", default=256, type=int, metavar="N", help="number of channels in convolution layers")
    a("--stage", default=1, type=int, metavar="N", help="training stage of the multi-stage optimisation (1, 2, 3)")
    a("-lfd", "--latent-features-dim", dest="latent_dim", default=256, type=int, metavar="N",
      help="dimension of the latent features")
    a("-p", "--pretrain", default="", metavar="FILENAME", help="stage-1 checkpoint whose encoders stage 2 loads")
    a("-ft", "--finetune", default="", metavar="FILENAME", help="stage-2 checkpoint that stage 3 fine-tunes")
    # Experimental
    a("--subset", default=1, type=float, metavar="FRACTION", help="reduce dataset size by fraction")
    a("--downsample", default=1, type=int, metavar="FACTOR", help="downsample frame rate by factor")
    a("--no-eval", dest="validate", action="store_false",
      help="disable epoch evaluation while training (small speed-up)")
    a("--dense", action="store_true", help="use dense convolutions instead of dilated convolutions")
    a("--disable-optimizations", action="store_true", help="accepted for compatibility (no effect: the "
      "strided single-frame form is the only form, since the temporal encoding needs it)")
    # Visualisation
    a("--viz-subject", metavar="STR", help="subject to render")
    a("--viz-action", metavar="STR", help="action to render")
    a("--viz-camera", type=int, default=0, metavar="N", help="camera to render")
    a("--viz-video", metavar="PATH", help="path to input video")
    a("--viz-skip", type=int, default=0, metavar="N", help="skip first N frames of input video")
    a("--viz-output", metavar="PATH", help="output file name (.gif or .mp4)")
    a("--viz-export", metavar="PATH", help="output file name for coordinates (.npy)")
    a("--viz-bitrate", type=int, default=3000, metavar="N", help="bitrate for mp4 videos")
    a("--viz-no-ground-truth", action="store_true", help="do not show ground-truth poses")
    a("--keep-person-size", action="store_true",
      help="-d custom: lift the person at the size seen (default: zoomed to the size the model was trained on, "
           "relpose.person_scale)")
    a("--viz-limit", type=int, default=-1, metavar="N", help="only render first N frames")
    a("--viz-downsample", type=int, default=1, metavar="N", help="downsample FPS by a factor N")
    a("--viz-size", type=int, default=5, metavar="N", help="image size")
    # Additions of this kit
    a("--data-dir", default="data", metavar="PATH", help="folder with the data_*.npz files (default data)")
    a("--device", default=None, metavar="NAME", help="cpu, cuda, cuda:N (default: CUDA when present)")
    a("--amp", action="store_true", help="bf16 autocast (CUDA, or CPUs with bf16 instructions)")
    a("--seed", default=1234, type=int, help="random seed (window order, dropout, initialisation)")
    a("--hidden", default=1024, type=int, metavar="N", help="width of the fully connected blocks (1024 published)")
    a("--encoding", default="raw+pos+temp", metavar="NAME",
      help="input encoding: raw, raw+pos, raw+temp, raw+pos+temp (published)")
    a("--hold-bn-stats", action="store_true", help="stage 2: keep the frozen encoders' BatchNorm statistics fixed")
    a("--eval-batch-size", default=1024, type=int, metavar="N", help="windows per forward pass in evaluation")
    a("--no-progress", action="store_true", help="no progress bars")
    a("--overwrite", action="store_true",
      help="let a fresh run replace checkpoints, curves and --viz-* outputs that already exist (never without it)")
    return p


def _list(text: str, flag: str, what: str) -> list[str]:
    items = [s.strip() for s in text.split(",")]
    if not text.strip() or any(not s for s in items):
        raise UserError(f"{flag} '{text}': give a comma-separated list of {what}, with no empty entries")
    return items


def check_args(args: argparse.Namespace) -> argparse.Namespace:
    """Every check a flag's value can get on its own or against the others (one UserError each)."""
    positive = [("--viz-downsample", args.viz_downsample), ("--viz-size", args.viz_size),
                ("--viz-bitrate", args.viz_bitrate)]
    for flag, value in positive:
        if value <= 0:
            raise UserError(f"{flag} must be positive, got {value}")
    for flag, value in (("--viz-camera", args.viz_camera), ("--viz-skip", args.viz_skip)):
        if value < 0:
            raise UserError(f"{flag} must be 0 or more, got {value}")
    if args.viz_limit == 0 or args.viz_limit < -1:
        raise UserError(f"--viz-limit must be a positive number of frames (or -1 for all), got {args.viz_limit}")
    if args.stride != 1:
        raise UserError(f"-s {args.stride}: RIE predicts one frame per window (its temporal encoding is relative "
                        "to each window's centre frame), so windows cannot be chunked; use -s 1 (the default)")
    try:
        args.filter_widths = tuple(int(x) for x in args.architecture.split(","))
    except ValueError:
        raise UserError(f"-arc '{args.architecture}' is not a comma-separated list of integers, e.g. 3,3,3,3,3") from None
    try:   # the configurations' own checks, before any work (the data set's part of ModelConfig comes later)
        ModelConfig(**model_settings(args))
        TrainConfig(**train_settings(args))
    except SettingError as e:
        raise e.named(FLAG_TERMS) from None
    _check_combinations(args)
    args.actions_list = None if args.actions == "*" else _list(args.actions, "-a", "action names such as Walking")
    args.subjects_train_list = _list(args.subjects_train, "-str", "subjects such as S1,S5") \
        if args.subjects_train else []
    args.subjects_test_list = _list(args.subjects_test, "-ste", "subjects such as S9,S11") \
        if args.subjects_test or args.dataset != "custom" else []   # custom data: videos, no test subjects
    return args


def model_settings(args) -> dict:
    """The ModelConfig fields the flags set (the data set sets the rest: relpose.cli.run.model_config)."""
    return {name: getattr(args, name) for name in MODEL_FIELDS}


def train_settings(args) -> dict:
    """The TrainConfig the flags describe, as its fields."""
    return {name: getattr(args, name) for name in TRAIN_FIELDS}


def _check_combinations(args) -> None:
    """Flags that contradict each other: say so instead of ignoring one of them."""
    stage_inputs = {1: (), 2: ("-p",), 3: ("-ft",)}
    given = [f for f, v in (("-p", args.pretrain), ("-ft", args.finetune)) if v]
    if args.evaluate:
        for flag, value in (("-r", args.resume), ("-p", args.pretrain), ("-ft", args.finetune)):
            if value:
                raise UserError(f"--evaluate loads only its own checkpoint; drop {flag} {value}")
    elif args.resume:
        if given:
            raise UserError(f"-r resumes a run from its own checkpoint; drop {given[0]} (it was used when the run began)")
    else:
        wrong = [f for f in given if f not in stage_inputs[args.stage]]
        if wrong:
            need = {1: "stage 1 trains from scratch", 2: "stage 2 starts from -p, the stage-1 checkpoint",
                    3: "stage 3 starts from -ft, the stage-2 checkpoint"}[args.stage]
            raise UserError(f"{wrong[0]} does not go with --stage {args.stage}: {need}")
        if args.stage == 2 and not args.pretrain:
            raise UserError("--stage 2 needs the stage-1 checkpoint: add -p stage_1_epoch_<E>.bin")
        if args.stage == 3 and not args.finetune:
            raise UserError("--stage 3 needs the stage-2 checkpoint: add -ft stage_2_epoch_<E>.bin")
    if args.hold_bn_stats and args.stage != 2:
        raise UserError(f"--hold-bn-stats is for stage 2 (frozen encoders), not --stage {args.stage}")
    if not args.render:
        for flag, value in (("--viz-output", args.viz_output), ("--viz-export", args.viz_export),
                            ("--viz-video", args.viz_video), ("--viz-subject", args.viz_subject)):
            if value:
                raise UserError(f"{flag} needs --render (without it nothing is rendered)")


def parse_args(argv=None) -> argparse.Namespace:
    """Flags -> Namespace, checked; defaults that depend on the data set (-k, -str, -ste) filled in from its
    registration."""
    args = build_parser().parse_args(argv)
    if args.dataset not in DATASETS:
        raise UserError(f"-d {args.dataset}: unknown data set (known: {', '.join(DATASETS)})")
    spec = DATASETS[args.dataset]
    if args.keypoints is None:
        args.keypoints = spec.default_keypoints
    if args.subjects_train is None:
        args.subjects_train = ",".join(spec.subjects_train)
    if args.subjects_test is None:
        args.subjects_test = ",".join(spec.subjects_test)
    return check_args(args)


def flags_for(*, dataset: str, keypoints: str, model, train, data_dir: str | None = None,
              checkpoint_dir: str | None = None, previous: str | None = None, device: str | None = None) -> list[str]:
    """The `python -m relpose` flags that train `train` (a TrainConfig) of `model` (a ModelConfig): the inverse
    of relpose.cli.run's model_config/train_config, so a notebook or the demo can print its shell command.
    Only settings that differ from the defaults are written (plus the stage and its previous checkpoint)."""
    defaults = parse_args([])
    pairs = [("-d", dataset, defaults.dataset), ("-k", keypoints, None),
             ("--data-dir", data_dir, defaults.data_dir), ("-c", checkpoint_dir, defaults.checkpoint),
             ("--device", device, None), ("--stage", train.stage, None)]
    flags, switches = [], []
    for flag, value, default in pairs:
        if value is not None and value != default:
            flags += [flag, str(value)]
    for name, flag in FLAGS.items():
        if name == "stage":
            continue   # written above, always
        value, default = getattr(model if name in MODEL_FIELDS else train, name), getattr(defaults, name)
        if isinstance(default, bool):
            switches += [flag] if value != default else []
        elif value != default and shown(value) != shown(default):   # --subset 1.0 is the default 1
            flags += [flag, shown(value)]
    flags += switches
    if previous:
        flags += ["-p" if train.stage == 2 else "-ft", previous]
    return flags


def command_line(flags, root: str | None = None) -> str:
    """`python -m relpose ...` for a list of flags, with paths under `root` written relative to it."""
    import os
    import shlex

    def show(flag):
        flag = str(flag)
        if root and os.path.isabs(flag) and os.path.commonpath([root, flag]) == os.path.abspath(root):
            return os.path.relpath(flag, root)
        return flag
    return "python -m relpose " + shlex.join(show(f) for f in flags)
