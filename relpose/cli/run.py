"""One run of `python -m relpose`: flags -> configurations -> the core's functions.

The published run.py as a thin adapter: it checks every output before any work, loads the data set,
builds the model, trains a stage (relpose.train.train_stage) and/or evaluates (relpose.evaluate),
and renders (relpose.cli.render). Nothing below this layer sees the Namespace.
"""
from __future__ import annotations

import os

import torch

from .. import checkpoints, mocap, synth  # noqa: F401  (importing synth and mocap registers their makers)
from ..datasets import dataset_spec, load_dataset
from ..errors import UserError
from ..evaluate import evaluate_dataset
from ..files import check_output_file, check_writable_folder
from ..lift import checkpoint_fps, checkpoint_input_layout, fit_input_layout
from ..model import ModelConfig, RIEModel
from ..runtime import cpu_has_bf16, init_distributed, keep_freed_memory, seed_everything
from ..train import (CheckpointWriter, History, TrainConfig, load_previous_stage, train_stage, training_record)
from ..weights import load_weights
from .parser import FLAG_TERMS, FLAGS, model_settings, train_settings

RENDER_SUFFIXES = (".gif", ".mp4")


# ----------------------------------------------------------------------------- flags -> configurations

def model_config(args, dataset) -> ModelConfig:
    """The model for these flags and data: the skeleton's joints out, the keypoints' layout in (the
    body-part groups index the two separately, e.g. 17 COCO keypoints in, 15 HumanEva joints out)."""
    try:
        inputs = dataset.model_inputs()
    except UserError as e:
        raise UserError(f"-k {args.keypoints}: {e}") from None
    return ModelConfig(**inputs, **model_settings(args))


def train_config(args) -> TrainConfig:
    return TrainConfig(**train_settings(args))


def check_subjects(subjects: list[str], dataset, flag: str) -> list[str]:
    known = dataset.subjects()
    for s in subjects:
        if s not in known:
            raise UserError(f"{flag}: subject '{s}' is not in {dataset.name} (has {', '.join(known)})")
    return subjects


def training_curves_name(stage: int) -> str:
    return f"stage_{stage}_training_curves.png"


# ----------------------------------------------------------------------------- the run

def check_outputs(args) -> None:
    """Before any work: every file this run will write can be written (a bad path fails now, not after
    an epoch), nothing a user made is replaced unless --overwrite, and --viz-video is a video."""
    if not args.evaluate:
        check_writable_folder(args.checkpoint, "-c")
    if args.render:
        if args.viz_output:
            check_output_file(args.viz_output, "--viz-output", overwrite=args.overwrite, suffixes=RENDER_SUFFIXES)
        if args.viz_export:
            check_output_file(args.viz_export, "--viz-export", overwrite=args.overwrite, suffixes=(".npy",))
        if args.viz_video:
            from .render import check_video
            check_video(args.viz_video)
    if args.export_training_curves and not args.evaluate and not args.resume:
        check_output_file(os.path.join(args.checkpoint, training_curves_name(args.stage)), "--export-training-curves",
                          overwrite=args.overwrite)


def prepare_dataset(args, log=print):
    spec = dataset_spec(args.dataset)
    spec.make_missing(args.keypoints, args.data_dir, log=log)
    return load_dataset(args.dataset, args.keypoints, args.data_dir)


def run(args, log=print):
    dist, device = init_distributed(args.device)
    if device.type == "cpu":
        keep_freed_memory()
    if args.amp and device.type == "cpu" and not cpu_has_bf16():
        log("warning: --amp on a CPU without bf16 instructions runs bf16 in software (slower); "
            "see benchmarks/README.md")
    seed_everything(args.seed)
    if dist.is_main:
        check_outputs(args)
    dataset = prepare_dataset(args, log)
    # As in the published run.py, evaluating and rendering never look at the training subjects.
    if dataset.positions_3d is None and not args.evaluate:
        raise UserError(f"-d {args.dataset} has 2D keypoints only, no 3D poses to train on: train on a labelled set "
                        "(e.g. -d synth) and lift these keypoints with --evaluate CHECKPOINT --render")
    if dataset.positions_3d is None and not args.render:
        raise UserError(f"-d {args.dataset} has 2D keypoints only, nothing to evaluate against: lift a video with "
                        "--render --viz-subject VIDEO --viz-action custom --viz-export out.npy (and/or --viz-output)")
    subjects_test = [] if dataset.positions_3d is None else check_subjects(args.subjects_test_list, dataset, "-ste")
    if not args.render:   # before any checkpoint is read or epoch trained
        check_evaluated(args, dataset, subjects_test)
    ckpt, model_fps = None, None
    if args.evaluate:
        path = checkpoints.resolve_checkpoint(args.evaluate, args.checkpoint)
        ckpt = checkpoints.load_checkpoint(path)
        dataset = fit_input_layout(dataset, checkpoint_input_layout(ckpt, dataset.skeleton),
                                   f"--evaluate {args.evaluate}", log)
        model_fps = checkpoint_fps(ckpt)

    cfg = model_config(args, dataset)
    model = RIEModel(cfg).to(device)
    if dist.is_main:
        log(f"INFO: Receptive field: {model.receptive_field()} frames")
        log(f"INFO: Trainable parameter count: {model.num_parameters()}")

    if args.evaluate:
        log(f"Loading checkpoint {path}")
        load_weights(model, path, terms=FLAG_TERMS)
    else:
        train_from_args(args, dataset, model, device, dist, subjects_test, log)
    if not dist.is_main:
        return None

    if args.render:
        from .render import render_from_args
        render_from_args(args, dataset, model, device, model_fps=model_fps, log=log)
        return None

    results = []
    groups = [(None, subjects_test)] if not args.by_subject else [(s, [s]) for s in subjects_test]
    for subject, subjects in groups:
        if subject is not None:
            log(f"Evaluating on subject {subject}")
        r = evaluate_dataset(model, dataset, subjects, action_filter=args.actions_list, downsample=args.downsample,
                             tta=args.test_time_augmentation, batch_size=args.eval_batch_size, device=device,
                             amp=args.amp, log=log)
        r.subject = subject
        log("")
        log(r.table())
        results.append(r)
    return results


def check_evaluated(args, dataset, subjects) -> None:
    """An evaluation over nothing is refused in one line (never a table of NaN): -ste/-a must select takes,
    each subject's under --by-subject."""
    for group in ([[s] for s in subjects] if args.by_subject else [subjects]):
        if not group or dataset.actions_by_name(group, args.actions_list):
            continue
        have = sorted({a.split(" ")[0] for s in group for a in dataset.actions(s)})
        raise UserError(f"-a {args.actions}: no action of {', '.join(group)} (-ste) matches; "
                        f"{'it has' if len(group) == 1 else 'they have'} {', '.join(have)}")
    if not subjects:
        raise UserError("-ste '': evaluation needs test subjects; give a list such as S9,S11")


# The training settings a resumed run must share with the run that wrote its checkpoint (only -e may grow).
RESUME_MUST_MATCH = ("stage", "batch_size", "learning_rate", "lr_decay", "augment", "subset", "downsample", "seed",
                     "hold_bn_stats")


def _check_resume(ckpt: dict, cfg: TrainConfig, path) -> None:
    """A resumed run must be the run that wrote the checkpoint (only -e may grow)."""
    stored = ckpt.get("train_config")
    if not isinstance(stored, dict):
        return  # a published checkpoint (the RIE release) records no training configuration
    ours = cfg.to_dict()
    for key in RESUME_MUST_MATCH:
        if key in stored and stored[key] != ours[key]:
            raise UserError(f"-r {path}: the run was trained with {FLAGS[key]} {stored[key]!r}, the flags give "
                            f"{ours[key]!r}; resume with the run's own flags")
    if int(ckpt["epoch"]) >= cfg.epochs:
        raise UserError(f"-r {path}: the run already did {ckpt['epoch']} epochs and -e is {cfg.epochs}; "
                        "give a larger -e to train on")


def train_from_args(args, dataset, model, device, dist, subjects_test, log) -> History:
    cfg = train_config(args)
    if not args.subjects_train_list:
        raise UserError("-str '': training needs subjects; give a list such as S1,S5,S6,S7,S8")
    subjects_train = check_subjects(args.subjects_train_list, dataset, "-str")
    resume = None
    if args.resume:
        path = checkpoints.resolve_checkpoint(args.resume, args.checkpoint)
        resume = load_weights(model, path, terms=FLAG_TERMS)
        _check_resume(resume, cfg, path)
    elif args.stage in (2, 3):
        flag, name = ("-p", args.pretrain) if args.stage == 2 else ("-ft", args.finetune)
        path = checkpoints.resolve_checkpoint(name, args.checkpoint)
        log(f"Loading stage-{args.stage - 1} {'encoders' if args.stage == 2 else 'model'} from {path}")
        names = load_previous_stage(model, checkpoints.load_checkpoint(path), FLAG_TERMS)
        log(f"INFO: loaded {len(names)} tensors")
    start = int(resume["epoch"]) if resume else 0
    if not dist.is_main:
        _, history = train_stage(model, dataset, cfg, subjects=subjects_train, actions=args.actions_list,
                                 device=device, resume=resume, dist=dist, progress=False, log=log)
        return history
    callbacks = []
    writer = CheckpointWriter(args.checkpoint, cfg, start_epoch=start, extra=training_record(model, cfg, dataset),
                              overwrite=args.overwrite, log=log)
    callbacks.append(writer)
    if args.export_training_curves:
        from ..viz.curves import save_training_curves
        curves = os.path.join(args.checkpoint, training_curves_name(args.stage))
        callbacks.append(lambda state: save_training_curves(state.history, curves))
    with writer:
        _, history = train_stage(model, dataset, cfg, subjects=subjects_train, actions=args.actions_list,
                                 valid_subjects=subjects_test, device=device, resume=resume, callbacks=callbacks,
                                 dist=dist, progress=not args.no_progress, log=log)
    return history
