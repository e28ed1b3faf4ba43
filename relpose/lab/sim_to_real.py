"""The sim-to-real gap: a model's error on the real motion-capture clips (-d mocap) beside its error
on the synthetic test subjects, with the same 2D keypoint kind (gt or det) and frame rate.

Both sets are evaluated as the published protocol does (Protocol #1 MPJPE and #2 P-MPJPE, action-wise
averages; on mocap every clip is an action), at the model's training `downsample`: a model trained on
every 4th frame has learnt 12.5 fps motion, so 50 fps clips are shown to it at 12.5 fps too. As the
clips are short (0.8-4.4 s), every phase k = 0..downsample-1 of each sequence (frames k, k+d, ...) is
evaluated, so that all frames count. The per-joint errors (mm, pooled over frames) and the per-action
errors show where the gap lies.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..evaluate import evaluate_sequences
from ..tables import text_table
from ..windows import Flip

SYNTH_TEST_SUBJECTS = ("S9", "S11")
MOCAP_SUBJECTS = ("S11",)


@dataclass
class SetError:
    """Errors of one model on one data set (mm)."""

    name: str
    mpjpe_mm: float                                     # Protocol #1, action-wise average
    p_mpjpe_mm: float                                   # Protocol #2, action-wise average
    per_action: dict = field(default_factory=dict)      # action -> (MPJPE, P-MPJPE, frames)
    per_joint_mm: np.ndarray | None = None              # (J,) pooled over all frames
    frames: int = 0


def set_error(model, dataset, subjects, *, downsample: int = 1, tta: bool = True, cameras=None,
              batch_size: int = 1024) -> SetError:
    """Protocol #1/#2 per action and the per-joint error of `model` on `subjects` of `dataset`."""
    model.eval()
    per_action, joint_sum, frames = {}, 0.0, 0
    flip = Flip.from_dataset(dataset)
    for action, pairs in dataset.actions_by_name(list(subjects)).items():
        poses_3d, poses_2d = dataset.fetch_actions(pairs)
        n_cams = len(dataset.cameras[pairs[0][0]])
        keep = [k for k in range(len(poses_2d)) if cameras is None or k % n_cams in cameras]
        p3 = [poses_3d[k][phase::downsample] for k in keep for phase in range(downsample)]
        p2 = [poses_2d[k][phase::downsample] for k in keep for phase in range(downsample)]
        r, predictions = evaluate_sequences(model, p3, p2, action=action, tta=tta, batch_size=batch_size,
                                            return_predictions=True, flip=flip)
        per_action[action] = (r.mpjpe_mm, r.p_mpjpe_mm, r.frames)
        for pred, target in zip(predictions, p3):
            target = np.array(target, dtype=np.float32)
            target[:, 0] = 0
            joint_sum = joint_sum + np.linalg.norm(pred - target, axis=-1).sum(axis=0) * 1000
            frames += len(target)
    values = np.array([v[:2] for v in per_action.values()])
    return SetError(dataset.name, float(values[:, 0].mean()), float(values[:, 1].mean()), per_action,
                    joint_sum / max(frames, 1), frames)


@dataclass
class Gap:
    """One model's error on the synthetic test subjects and on the motion-capture clips."""

    synth: SetError
    mocap: SetError

    @property
    def gap_mm(self) -> float:
        return self.mocap.mpjpe_mm - self.synth.mpjpe_mm

    @property
    def ratio(self) -> float:
        return self.mocap.mpjpe_mm / self.synth.mpjpe_mm


def sim_to_real_gap(model, synth_dataset, mocap_dataset, *, downsample: int = 1, tta: bool = True,
                    synth_subjects=SYNTH_TEST_SUBJECTS, synth_cameras=None) -> Gap:
    """The model on the synthetic test subjects and on every mocap clip, same keypoints and `downsample`."""
    if synth_dataset.keypoints != mocap_dataset.keypoints:
        from ..errors import UserError
        raise UserError(f"compare like with like: synthetic keypoints '{synth_dataset.keypoints}' but mocap "
                        f"'{mocap_dataset.keypoints}'; load both with the same -k")
    return Gap(set_error(model, synth_dataset, synth_subjects, downsample=downsample, tta=tta, cameras=synth_cameras),
               set_error(model, mocap_dataset, MOCAP_SUBJECTS, downsample=downsample, tta=tta))


def gap_table(gaps: dict) -> str:
    """{model name: Gap} as one row each: synthetic and mocap Protocol #1/#2, the gap and the ratio."""
    rows = [[name, g.synth.mpjpe_mm, g.synth.p_mpjpe_mm, g.mocap.mpjpe_mm, g.mocap.p_mpjpe_mm, g.gap_mm, g.ratio]
            for name, g in gaps.items()]
    width = max(8, *(len(n) + 2 for n in gaps))
    return text_table(["model", "synth P1", "synth P2", "mocap P1", "mocap P2", "gap P1", "ratio"], rows,
                      widths=[width, 10, 10, 10, 10, 9, 7], formats=["", ".1f", ".1f", ".1f", ".1f", "+.1f", ".2f"],
                      note="(mm, action-wise averages; mocap: every DeepMimic clip is an action)")


def where_table(gap: Gap, joint_names, worst: int = 6) -> str:
    """Where the gap lies: per joint, mocap and synthetic error and their difference (largest first),
    then the `worst` mocap clips."""
    diff = gap.mocap.per_joint_mm - gap.synth.per_joint_mm
    order = np.argsort(-diff)
    joints = text_table(["joint", "synth", "mocap", "mocap-synth"],
                        [[joint_names[j], gap.synth.per_joint_mm[j], gap.mocap.per_joint_mm[j], diff[j]]
                         for j in order], widths=[12, 8, 8, 13], formats=["", ".1f", ".1f", "+.1f"])
    clips = sorted(gap.mocap.per_action.items(), key=lambda kv: -kv[1][0])[:worst]
    actions = text_table(["mocap clip", "MPJPE", "P-MPJPE", "frames"], [[a, *v] for a, v in clips],
                         widths=[22, 8, 9, 8], formats=["", ".1f", ".1f", "d"])
    return joints + "\n\n" + actions


def clip_table(gaps: dict) -> str:
    """Per DeepMimic clip, each model's Protocol #1 error (mm) and its ratio to the model's own synthetic error:
    the table that says which motions a model has never seen. Clips in the first model's order, worst first.
    `gaps`: {model name: Gap, or its gap_record (a stored result)}."""
    records = {n: g if isinstance(g, dict) else gap_record(g) for n, g in gaps.items()}
    names = list(records)
    first = records[names[0]]["per_clip_mm"]
    clips = sorted(first, key=lambda c: -first[c])
    header = ["clip"] + [h for n in names for h in (f"{n} P1", "x synth")]
    ratio = lambda n, mm: mm / records[n]["synth"]["mpjpe_mm"]
    rows = [[c] + [v for n in names for v in (records[n]["per_clip_mm"][c], ratio(n, records[n]["per_clip_mm"][c]))]
            for c in clips]
    rows.append(["all clips"] + [v for n in names for v in (records[n]["mocap"]["mpjpe_mm"], records[n]["ratio"])])
    rows.append(["synthetic test"] + [v for n in names for v in (records[n]["synth"]["mpjpe_mm"], 1.0)])
    width = max(10, *(len(h) + 2 for h in header[1:]))
    return text_table(header, rows, widths=[22] + [width, 8] * len(names), formats=[""] + [".1f", ".2f"] * len(names),
                      note="(Protocol #1 mm; 'x synth': the clip's error over the model's synthetic test error)")


def gap_record(gap: Gap, joint_names=None) -> dict:
    """A Gap as plain numbers (rounded to 0.1 mm) for a JSON file; per joint when `joint_names` are given."""
    r = lambda v: round(float(v), 1)
    record = {"synth": {"mpjpe_mm": r(gap.synth.mpjpe_mm), "p_mpjpe_mm": r(gap.synth.p_mpjpe_mm),
                        "frames": gap.synth.frames},
              "mocap": {"mpjpe_mm": r(gap.mocap.mpjpe_mm), "p_mpjpe_mm": r(gap.mocap.p_mpjpe_mm),
                        "frames": gap.mocap.frames},
              "ratio": round(gap.ratio, 3),
              "per_clip_mm": {c: r(v[0]) for c, v in gap.mocap.per_action.items()}}
    if joint_names is not None:
        record["per_joint_mm"] = {"synth": dict(zip(joint_names, map(r, gap.synth.per_joint_mm))),
                                  "mocap": dict(zip(joint_names, map(r, gap.mocap.per_joint_mm)))}
    return record


def stored_results(path) -> dict:
    """A results file of `python -m relpose.cli.sim_to_real --json` (json only: it runs no code)."""
    import json
    with open(path) as f:
        return json.load(f)


# ------------------------------------------------------------------------------------- over seeds
def seed_settings(s, seed: int, folder: str):
    """Settings `s` with the recipe's training seed set to `seed` and checkpoints in folder/seed-<seed>."""
    import dataclasses
    import os
    return dataclasses.replace(s, preset=s.preset.with_train(seed=int(seed)),
                               checkpoint_dir=os.path.join(folder, f"seed-{int(seed)}"))


def gaps_over_seeds(s, seeds, folder: str, synth_dataset, mocap_dataset, *, stage: int = 3, log=print) -> dict:
    """{seed: Gap} of the recipe of settings `s` trained with each seed (each made if missing, in folder/seed-k):
    one training run says little about an error on motion it never saw, which moves a lot from seed to seed."""
    from .settings import ensure_checkpoint, load_model
    gaps = {}
    for seed in seeds:
        sk = seed_settings(s, seed, folder)
        path = ensure_checkpoint(sk, stage, log=log)
        gaps[int(seed)] = sim_to_real_gap(load_model(sk, stage, path), synth_dataset, mocap_dataset,
                                          downsample=sk.train_config(stage).downsample)
    return gaps


def seeds_summary(gaps: dict, level: float = 0.95) -> dict:
    """Mean and Student-t interval over seeds of the synthetic error, the mocap error, their ratio and each clip's."""
    from .intervals import mean_interval
    values = {"synth P1": [g.synth.mpjpe_mm for g in gaps.values()],
              "mocap P1": [g.mocap.mpjpe_mm for g in gaps.values()], "ratio": [g.ratio for g in gaps.values()]}
    clips = next(iter(gaps.values())).mocap.per_action
    values.update({f"clip {c}": [g.mocap.per_action[c][0] for g in gaps.values()] for c in clips})
    return {k: mean_interval(v, level) for k, v in values.items()}


def seeds_line(stored: dict) -> str:
    """One line of a stored --seeds result: each quantity's mean ± 95% half-width over the seeds."""
    over = stored.get("over_seeds")
    if not over:
        return "no seeds in this result"
    parts = [f"{k} {v['mean']:.2f} ± {v['half_width_95']:.2f}" if k == "ratio" else
             f"{k} {v['mean']:.1f} ± {v['half_width_95']:.1f} mm" for k, v in over.items() if not k.startswith("clip")]
    return f"over {next(iter(over.values()))['n']} seeds (mean ± 95% half-width): " + ", ".join(parts)


def seed_means(stored: dict) -> dict:
    """A stored --seeds result as one record of the seeds' means (for clip_table): per clip, mocap, synth, ratio."""
    over = stored["over_seeds"]
    return {"synth": {"mpjpe_mm": over["synth P1"]["mean"]}, "mocap": {"mpjpe_mm": over["mocap P1"]["mean"]},
            "ratio": over["ratio"]["mean"],
            "per_clip_mm": {k[len("clip "):]: v["mean"] for k, v in over.items() if k.startswith("clip ")}}
