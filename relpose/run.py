"""One run of the command line: load data, build the model, train a stage and/or evaluate, render.

The published run.py as a sequence of small steps; `relpose.cli` parses the flags.
"""
from __future__ import annotations

import os

import numpy as np
import torch

from . import checkpoints
from .datasets import load_dataset
from .errors import UserError
from .files import FolderLock, check_output_file, check_writable_folder, remove_stray_temporaries
from .evaluate import evaluate_dataset, validation_mpjpe
from .model import ModelConfig, RIEModel
from .runtime import cpu_has_bf16, init_distributed, keep_freed_memory, seed_everything
from .train import (check_stage_flags, checkpoint_epochs, checkpoint_name, freeze_encoders, load_encoders,
                    make_optimizer, restore_history, train)
from .windows import WindowSampler


def model_config_from_args(args, dataset) -> ModelConfig:
    skeleton = dataset.skeleton
    return ModelConfig(
        num_joints=skeleton.num_joints, groups=skeleton.groups, filter_widths=tuple(args.filter_widths),
        channels=args.channels, latent_dim=args.latent_features_dim, dropout=args.dropout, hidden=args.hidden,
        stage=args.stage, encoding=args.encoding, causal=args.causal, dense=args.dense)


def split_subjects(text: str, dataset, flag: str) -> list[str]:
    subjects = [s for s in text.split(",") if s]
    known = dataset.subjects()
    for s in subjects:
        if s not in known:
            raise UserError(f"{flag}: subject '{s}' is not in {dataset.name} (has {', '.join(known)})")
    return subjects


def action_filter_from_args(args):
    return None if args.actions == "*" else args.actions.split(",")


def prepare_dataset(args, log=print):
    if args.dataset == "synth":
        from .synth import ensure_synthetic
        ensure_synthetic(args.data_dir, args.keypoints, log=log)
    return load_dataset(args.dataset, args.keypoints, args.data_dir)


def load_model_weights(model: RIEModel, cfg: ModelConfig, name: str, folder: str, log=print) -> dict:
    path = checkpoints.resolve_checkpoint(name, folder)
    log(f"Loading checkpoint {path}")
    ckpt = checkpoints.load_checkpoint(path)
    checkpoints.check_compatible(ckpt["model_pos"], cfg)
    model.load_state_dict(ckpt["model_pos"], strict=True)
    return ckpt


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
    subjects_train = split_subjects(args.subjects_train, dataset, "-str")
    subjects_test = split_subjects(args.subjects_test, dataset, "-ste")
    action_filter = action_filter_from_args(args)

    cfg = model_config_from_args(args, dataset)
    model = RIEModel(cfg).to(device)
    pad = (model.receptive_field() - 1) // 2
    causal_shift = pad if args.causal else 0
    if dist.is_main:
        log(f"INFO: Receptive field: {model.receptive_field()} frames")
        log(f"INFO: Trainable parameter count: {sum(p.numel() for p in model.parameters())}")

    if args.evaluate:
        load_model_weights(model, cfg, args.evaluate, args.checkpoint, log)
    else:
        train_stage(args, dataset, model, cfg, device, dist, subjects_train, subjects_test, action_filter,
                    pad, causal_shift, log)
    if not dist.is_main:
        return None

    if args.render:
        from .render import render_from_args
        render_from_args(args, dataset, model, device, causal_shift, log)
        return None

    results = []
    groups = [(None, subjects_test)] if not args.by_subject else [(s, [s]) for s in subjects_test]
    for subject, subjects in groups:
        if subject is not None:
            log(f"Evaluating on subject {subject}")
        r = evaluate_dataset(model, dataset, subjects, action_filter=action_filter, downsample=args.downsample,
                             tta=args.test_time_augmentation, causal_shift=causal_shift,
                             batch_size=args.eval_batch_size, device=device, amp=args.amp, log=log)
        r.subject = subject
        log("")
        log(r.table())
        results.append(r)
    return results


def check_outputs(args) -> None:
    """Before any work: every file this run will write can be written (a bad path fails now, not after
    an epoch), and nothing a user made is replaced unless --overwrite."""
    from .render import WRITERS
    if not args.evaluate:
        check_writable_folder(args.checkpoint, "-c")
    if args.render:
        if args.viz_output:
            check_output_file(args.viz_output, "--viz-output", overwrite=args.overwrite, suffixes=tuple(WRITERS))
        if args.viz_export:
            check_output_file(args.viz_export, "--viz-export", overwrite=args.overwrite, suffixes=(".npy",))


def check_checkpoint_names(args, start_epoch: int, log=print) -> None:
    """A fresh run never writes over checkpoints of an earlier one (resume it with -r, or --overwrite)."""
    names = [checkpoint_name(args.stage, e) for e in checkpoint_epochs(start_epoch, args.epochs,
                                                                       args.checkpoint_frequency)]
    if args.export_training_curves and not args.resume:
        names.append(training_curves_name(args.stage))
    taken = [n for n in names if os.path.exists(os.path.join(args.checkpoint, n))]
    if taken and not args.overwrite:
        more = f" (and {len(taken) - 1} more)" if len(taken) > 1 else ""
        raise UserError(f"-c '{args.checkpoint}' already holds {taken[0]}{more} from an earlier run, which this run "
                        "would replace; resume that run with -r, train into another folder with -c, or pass --overwrite")
    if taken:
        log(f"--overwrite: replacing {', '.join(taken)} in {args.checkpoint}")


def training_curves_name(stage: int) -> str:
    return f"stage_{stage}_training_curves.png"


def train_stage(args, dataset, model, cfg, device, dist, subjects_train, subjects_test, action_filter,
                pad, causal_shift, log):
    check_stage_flags(args.stage, args.pretrain, args.finetune, args.resume)
    if not dist.is_main:
        return _train_stage(args, dataset, model, cfg, device, dist, subjects_train, subjects_test, action_filter,
                            pad, causal_shift, log)
    with FolderLock(args.checkpoint, "-c") as lock:
        if lock.stale:
            log(f"INFO: taking over the lock of an earlier run in {args.checkpoint} that ended without releasing it "
                f"(pid {lock.stale.get('pid')}, started {lock.stale.get('started')})")
        stray = remove_stray_temporaries(args.checkpoint)
        if stray:
            log(f"INFO: removed {len(stray)} temporary file(s) of an interrupted save from {args.checkpoint}")
        return _train_stage(args, dataset, model, cfg, device, dist, subjects_train, subjects_test, action_filter,
                            pad, causal_shift, log)


def _train_stage(args, dataset, model, cfg, device, dist, subjects_train, subjects_test, action_filter,
                 pad, causal_shift, log):
    _, poses_train, poses_train_2d = dataset.fetch(subjects_train, action_filter, subset=args.subset,
                                                   downsample=args.downsample)
    start_epoch, lr, history, resume_ckpt = 0, args.learning_rate, None, None
    if args.resume:
        resume_ckpt = load_model_weights(model, cfg, args.resume, args.checkpoint, log)
        start_epoch, lr = int(resume_ckpt["epoch"]), float(resume_ckpt["lr"])
        history = restore_history(resume_ckpt)
    elif args.stage == 2:
        path = checkpoints.resolve_checkpoint(args.pretrain, args.checkpoint)
        log(f"Loading stage-1 encoders from {path}")
        state = checkpoints.load_checkpoint(path)["model_pos"]
        checkpoints.check_compatible(state, cfg, encoders_only=True)
        names = load_encoders(model, state)
        log(f"INFO: loaded {len(names)} encoder tensors")
    elif args.stage == 3:
        load_model_weights(model, cfg, args.finetune, args.checkpoint, log)
    if dist.is_main:
        check_checkpoint_names(args, start_epoch, log)
    if args.stage == 2:
        frozen = freeze_encoders(model)
        log(f"INFO: froze {len(frozen)} encoder parameters; training fusion and decoders")

    sampler = WindowSampler(poses_train_2d, poses_train, batch_size=max(1, args.batch_size // args.stride),
                            chunk_length=args.stride, pad=pad, causal_shift=causal_shift, shuffle=True,
                            augment=args.data_augmentation, kps_left=dataset.kps_left, kps_right=dataset.kps_right,
                            joints_left=dataset.joints_left, joints_right=dataset.joints_right, seed=args.seed,
                            device=device, rank=dist.rank, world_size=dist.world_size)
    optimizer = make_optimizer(model, lr, device)
    if resume_ckpt is not None:
        optimizer.load_state_dict(resume_ckpt["optimizer"])
        sampler.set_random_state(resume_ckpt["random_state"])
    if dist.is_main:
        log(f"INFO: Training on {sampler.num_frames()} frames ({sampler.num_batches} batches per epoch)")

    evaluate_fn = None
    if not args.no_eval and dist.is_main:
        _, poses_valid, poses_valid_2d = dataset.fetch(subjects_test, action_filter, downsample=args.downsample)
        evaluate_fn = lambda m: validation_mpjpe(m, poses_valid, poses_valid_2d, causal_shift=causal_shift,
                                                 batch_size=args.eval_batch_size, device=device, amp=args.amp)

    net = model
    if dist.enabled:
        net = torch.nn.parallel.DistributedDataParallel(
            model, device_ids=[device.index] if device.type == "cuda" else None)
    curves = os.path.join(args.checkpoint, training_curves_name(args.stage)) \
        if args.export_training_curves else None
    train(net, sampler=sampler, optimizer=optimizer, epochs=args.epochs, lr=lr, lr_decay=args.lr_decay,
          start_epoch=start_epoch, device=device, stage=args.stage, checkpoint_dir=args.checkpoint,
          checkpoint_frequency=args.checkpoint_frequency, checkpoint_extra={"config": cfg.to_dict()},
          evaluate_fn=evaluate_fn, amp=args.amp, hold_bn_stats=args.hold_bn_stats, seed=args.seed, dist=dist,
          history=history, progress=not args.no_progress, curves_path=curves, log=log)
    if dist.enabled:
        torch.distributed.barrier()
