"""Command line: the published run.py flags (same names, short forms, defaults), plus a few additions.

    python -m relpose -k gt --stage 1 -lfd 256
    python -m relpose -k gt --stage 2 -lfd 256 -p stage_1_epoch_80.bin
    python -m relpose -k gt --stage 3 -lfd 256 -ft stage_2_epoch_80.bin -lr 0.0005 -e 20
    python -m relpose -k gt --evaluate gt_pretrained.bin --stage 3 -lfd 256
"""
from __future__ import annotations

import argparse
import os
import sys

from .errors import UserError

DEFAULT_KEYPOINTS = {"synth": "det"}


class _Parser(argparse.ArgumentParser):
    """argparse, but a bad flag gives one line (no usage dump) and exit code 2."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="relpose", description="Train and evaluate the RIE 3D pose lifting model.")
    a = p.add_argument
    # General (names, short forms and defaults as in the published run.py)
    a("-d", "--dataset", default="h36m", metavar="NAME", help="h36m, humaneva15 or synth (default h36m)")
    a("-k", "--keypoints", default=None, metavar="NAME",
      help="2D detections: gt, cpn_ft_h36m_dbb, ... (default cpn_ft_h36m_dbb; det for -d synth)")
    a("-str", "--subjects-train", default="S1,S5,S6,S7,S8", metavar="LIST", help="training subjects")
    a("-ste", "--subjects-test", default="S9,S11", metavar="LIST", help="test subjects")
    a("-a", "--actions", default="*", metavar="LIST", help="actions to train/test on, * for all")
    a("-c", "--checkpoint", default="checkpoint", metavar="PATH", help="checkpoint directory")
    a("--checkpoint-frequency", default=10, type=int, metavar="N", help="save a checkpoint every N epochs")
    a("-r", "--resume", default="", metavar="FILENAME", help="checkpoint to resume training from")
    a("--evaluate", default="", metavar="FILENAME", help="checkpoint to evaluate (no training)")
    a("--render", action="store_true", help="render a sequence (see --viz-*)")
    a("--by-subject", action="store_true", help="break down the error by subject")
    a("--export-training-curves", action="store_true", help="save training curves as PNG")
    # Model and training
    a("-s", "--stride", default=1, type=int, metavar="N", help="chunk size (target frames) per training window")
    a("-e", "--epochs", default=80, type=int, metavar="N", help="number of training epochs")
    a("-b", "--batch-size", default=1024, type=int, metavar="N", help="batch size in frames")
    a("-drop", "--dropout", default=0.2, type=float, metavar="P", help="dropout probability")
    a("-lr", "--learning-rate", default=0.001, type=float, metavar="LR", help="initial learning rate")
    a("-lrd", "--lr-decay", default=0.95, type=float, metavar="LR", help="learning rate decay per epoch")
    a("-no-da", "--no-data-augmentation", dest="data_augmentation", action="store_false",
      help="disable train-time flipping")
    a("-no-tta", "--no-test-time-augmentation", dest="test_time_augmentation", action="store_false",
      help="disable test-time flipping")
    a("-arc", "--architecture", default="3,3,3,3,3", metavar="LAYERS", help="filter widths separated by comma")
    a("--causal", action="store_true", help="use causal convolutions for real-time processing")
    a("-ch", "--channels", default=256, type=int, metavar="N", help="number of channels in convolution layers")
    a("--stage", default=1, type=int, metavar="N", help="training stage of the multi-stage optimisation (1, 2, 3)")
    a("-lfd", "--latent-features-dim", default=256, type=int, metavar="N", help="dimension of the latent features")
    a("-p", "--pretrain", default="", metavar="FILENAME", help="stage-1 checkpoint whose encoders stage 2 loads")
    a("-ft", "--finetune", default="", metavar="FILENAME", help="stage-2 checkpoint that stage 3 fine-tunes")
    # Experimental
    a("--subset", default=1, type=float, metavar="FRACTION", help="reduce dataset size by fraction")
    a("--downsample", default=1, type=int, metavar="FACTOR", help="downsample frame rate by factor")
    a("--no-eval", action="store_true", help="disable epoch evaluation while training (small speed-up)")
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


def parse_args(argv=None) -> argparse.Namespace:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.keypoints is None:
        args.keypoints = DEFAULT_KEYPOINTS.get(args.dataset, "cpn_ft_h36m_dbb")
    try:
        args.filter_widths = tuple(int(x) for x in args.architecture.split(","))
    except ValueError:
        parser.error(f"-arc '{args.architecture}' is not a comma-separated list of integers, e.g. 3,3,3,3,3")
    for flag, value in (("-e", args.epochs), ("-b", args.batch_size), ("-ch", args.channels),
                        ("-lfd", args.latent_features_dim), ("-s", args.stride), ("--downsample", args.downsample),
                        ("--checkpoint-frequency", args.checkpoint_frequency), ("--hidden", args.hidden)):
        if value <= 0:
            parser.error(f"{flag} must be positive, got {value}")
    if not 0 < args.subset <= 1:
        parser.error(f"--subset must be in (0, 1], got {args.subset}")
    if any(w <= 0 or w % 2 == 0 for w in args.filter_widths):
        parser.error(f"-arc '{args.architecture}': filter widths must be odd positive integers, e.g. 3,3,3")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        from .run import run
        run(args)
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("interrupted; checkpoints written so far are intact (resume with -r)", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
