"""Does temporal smoothing (relpose.wild.smoothing) lower the error of a lifted video? Measured on the
DeepMimic motion-capture clips with detector noise (-d mocap -k det), which have ground truth.

Each clip is lifted as `make wild` lifts a video: its keypoints at the clip's rate (50 fps) through
relpose.lift.lift_sequence, which shows them to the model at the rate it was trained at (12.5 fps for the
quick model) and brings the poses back to 50 fps. Smoothing runs at 50 fps on the 2D keypoints before
lifting or on the 3D poses after. Errors against the root-relative truth, every camera of every clip,
frame-weighted: MPJPE (mm), MPJVE (mm/frame, relpose.metrics) and the acceleration error (mm/frame^2,
the error of the second differences).

Parameters are chosen by leave-one-clip-out: for each clip, the grid point of a filter (method and
2D/3D) with the lowest MPJPE on the other clips is applied to it, so no reported number chose its own
parameters. The parameters recommended for use are the grid point best on all clips (in-sample: its own
numbers are optimistic and are not the ones reported). A filter is kept only where its leave-one-clip-out
MPJPE is below the unsmoothed one; else the default stays 'none'.

Measured with the quick model (the set has no COCO-style 2D for the in-the-wild model, whose input those
are): no filter lowers the MPJPE (180.8 mm unsmoothed; leave-one-clip-out changes -0.15 to +0.10 mm, every
95% interval over clips but One Euro 3D's, which lies above 0, includes 0), so the default stays 'none'.
Why: the errors on these clips are the sim-to-real gap, not detector noise. Lifting the exact projections
of the truth, no detector noise at all, lowers the MPJPE by only 1.0 mm; Savitzky-Golay on the keypoints
removes a quarter of the noise (5.1 -> 4.0 px) and a tenth of that millimetre. The filters do lower MPJVE
(15.3 -> 14.6 mm/frame) and the acceleration error (6.0 -> 4.6 mm/frame^2, Savitzky-Golay 3D, 0.3 s):
smoother, not more accurate. A causal One Euro filter lags (+16 mm at min_cutoff 1 Hz, beta 0).

    python -m relpose.lab.wild_smoothing     # about a minute on one core; writes benchmarks/results/wild_smoothing.json
"""
from __future__ import annotations

import json
import os
import sys
from dataclasses import asdict, dataclass

import numpy as np

from ..cameras import project_to_2d
from ..datasets import load_dataset, without_trajectory
from ..errors import UserError
from ..files import atomic_path, check_writable_folder
from ..lift import checkpoint_fps, checkpoint_input_layout, lift_sequence
from ..metrics import mean_velocity_error, mpjpe
from ..tables import text_table
from ..weights import load_any_model
from ..wild.smoothing import smooth_keypoints, smooth_poses
from ..windows import Flip
from .settings import find_root

COMMAND = "python -m relpose.lab.wild_smoothing"
CHECKPOINT = os.path.join("checkpoint", "quick", "stage_3_epoch_3.bin")
OUTPUT = os.path.join("benchmarks", "results", "wild_smoothing.json")

# The grids. One Euro's beta is per unit of speed: keypoints are normalised (the image width spans 2;
# median joint speed on these clips 0.5/s), poses in metres (median 0.5 m/s), so beta 5 adds 2.5 Hz to a
# joint moving at the median speed in both.
SAVGOL_GRID = [dict(window_s=w, order=o) for w in (0.1, 0.2, 0.3, 0.5) for o in (2, 3)]
ONE_EURO_GRID = [dict(min_cutoff=f, beta=b, zero_phase=z) for f in (1.0, 2.0, 4.0, 8.0) for b in (0.0, 1.0, 5.0, 20.0)
                 for z in (False, True)]
BOOTSTRAP_RESAMPLES = 10000
FAMILIES = (("savgol", "2d"), ("savgol", "3d"), ("one-euro", "2d"), ("one-euro", "3d"))


@dataclass(frozen=True)
class Variant:
    method: str          # 'none', 'savgol', 'one-euro'
    domain: str          # '2d' (keypoints, before lifting), '3d' (poses, after), '-' for none
    params: tuple        # ((name, value), ...)

    @property
    def name(self) -> str:
        if self.method == "none":
            return "none"
        return f"{self.method} {self.domain.upper()} " + " ".join(f"{k}={v:g}" for k, v in self.params)


NONE = Variant("none", "-", ())
# Not a filter: the exact projections of the truth lifted instead of the detections (no detector noise at
# all), the floor that any 2D filter can at best reach.
EXACT_2D = Variant("exact 2D", "-", ())


def grid() -> list[Variant]:
    """Every variant measured: none, then each filter's grid on 2D and on 3D."""
    grids = {"savgol": SAVGOL_GRID, "one-euro": ONE_EURO_GRID}
    return [NONE, EXACT_2D] + [Variant(m, d, tuple(p.items())) for m, d in FAMILIES for p in grids[m]]


@dataclass
class Errors:
    """Frame-weighted errors over some sequences: MPJPE mm, MPJVE mm/frame, acceleration error mm/frame^2,
    and the mean distance (pixels) of the keypoints the model read from the exact projections."""
    frames: int
    mpjpe_mm: float
    mpjve_mm: float
    accel_mm: float
    keypoints_px: float


def acceleration_error(pred: np.ndarray, target: np.ndarray) -> float:
    """Mean distance between predicted and true second differences along time (units per frame^2)."""
    if len(pred) < 3:
        raise ValueError(f"acceleration error needs at least 3 frames, got {len(pred)}")
    return float(np.linalg.norm(np.diff(pred, 2, axis=0) - np.diff(target, 2, axis=0), axis=-1).mean())


def sequence_errors(pred: np.ndarray, target: np.ndarray, keypoints_px: float) -> Errors:
    return Errors(len(target), float(mpjpe(pred, target)) * 1000, float(mean_velocity_error(pred, target)) * 1000,
                  acceleration_error(pred, target) * 1000, keypoints_px)


def pooled(errors) -> Errors:
    """Frame-weighted mean of several Errors (the published evaluation's pooling)."""
    errors = list(errors)
    n = sum(e.frames for e in errors)
    mean = lambda attr: sum(getattr(e, attr) * e.frames for e in errors) / n   # noqa: E731
    return Errors(n, mean("mpjpe_mm"), mean("mpjve_mm"), mean("accel_mm"), mean("keypoints_px"))


@dataclass
class Clip:
    name: str
    fps: float
    targets: list       # (T, J, 3) root-relative, one per camera
    keypoints: list     # (T, J, 2) normalised detections, one per camera
    exact: list         # (T, J, 2) normalised exact projections of the truth, one per camera
    pixels: list        # pixels per normalised unit (half the image width), one per camera


def exact_keypoints(poses_3d: np.ndarray, camera: dict) -> np.ndarray:
    """The noise-free keypoints of camera-space poses (joint 0 the trajectory, the others root-relative):
    the lens model of the data files, normalised coordinates."""
    absolute = np.array(poses_3d, dtype=np.float32)
    absolute[:, 1:] += absolute[:, :1]
    return project_to_2d(absolute, camera["intrinsic"]).astype(np.float32)


def mocap_clips(data_dir) -> tuple[object, list[Clip]]:
    """(dataset, clips) of the motion-capture set with detector noise."""
    dataset = load_dataset("mocap", "det", data_dir)
    clips = []
    for subject in dataset.subjects():
        for action, pairs in dataset.actions_by_name([subject]).items():
            poses_3d, poses_2d = dataset.fetch_actions(pairs)
            cams = [cam for subject, _ in pairs for cam in dataset.cameras[subject]]
            clips.append(Clip(action, float(dataset.fps_of(subject)), [without_trajectory(p) for p in poses_3d],
                              [np.asarray(k, np.float32) for k in poses_2d],
                              [exact_keypoints(p, cam) for p, cam in zip(poses_3d, cams)],
                              [cam["res_w"] / 2 for cam in cams]))
    return dataset, clips


def measure_grid(model, ckpt, dataset, clips, variants=None) -> dict[Variant, dict[str, Errors]]:
    """{variant: {clip: Errors over its cameras}}. A 2D variant lifts again; 3D ones reuse the plain lift."""
    model.eval()   # predict_sequence does not switch modes itself
    variants = grid() if variants is None else variants
    flip = Flip.from_dataset(dataset)
    model_fps = checkpoint_fps(ckpt)

    def lift(clip, keypoints):
        return [lift_sequence(model, k, fps=clip.fps, model_fps=model_fps, flip=flip) for k in keypoints]

    def px(clip, keypoints):
        return [float(np.linalg.norm(k - e, axis=-1).mean()) * s for k, e, s in zip(keypoints, clip.exact, clip.pixels)]

    plain = {clip.name: lift(clip, clip.keypoints) for clip in clips}
    results = {}
    for v in variants:
        per_clip = {}
        for clip in clips:
            keypoints = clip.exact if v == EXACT_2D else clip.keypoints
            if v.domain == "2d":
                keypoints = [smooth_keypoints(k, clip.fps, v.method, **dict(v.params)) for k in keypoints]
            preds = plain[clip.name] if keypoints is clip.keypoints else lift(clip, keypoints)
            if v.domain == "3d":
                preds = [smooth_poses(p, clip.fps, v.method, **dict(v.params)) for p in preds]
            per_clip[clip.name] = pooled(sequence_errors(p, t, e) for p, t, e in
                                         zip(preds, clip.targets, px(clip, keypoints)))
        results[v] = per_clip
    return results


def leave_one_clip_out(results: dict, family: tuple[str, str]) -> dict[str, tuple[Variant, Errors]]:
    """{clip: (the family's variant with the lowest MPJPE on the other clips, its errors on this clip)}."""
    members = [v for v in results if (v.method, v.domain) == family]
    clips = list(results[NONE])
    out = {}
    for held_out in clips:
        others = [c for c in clips if c != held_out]
        best = min(members, key=lambda v: pooled(results[v][c] for c in others).mpjpe_mm)
        out[held_out] = (best, results[best][held_out])
    return out


def best_on_all(results: dict, family, attr: str = "mpjpe_mm") -> Variant:
    members = [v for v in results if (v.method, v.domain) == family]
    return min(members, key=lambda v: getattr(pooled(results[v].values()), attr))


def paired_interval(diffs, frames, *, resamples: int = BOOTSTRAP_RESAMPLES, seed: int = 0) -> tuple[float, float]:
    """95% interval of the frame-weighted mean of per-clip differences, clips resampled with replacement:
    how far the overall difference could move with another set of clips like these."""
    diffs, frames = np.asarray(diffs, float), np.asarray(frames, float)
    pick = np.random.default_rng(seed).integers(0, len(diffs), (resamples, len(diffs)))
    means = (diffs[pick] * frames[pick]).sum(1) / frames[pick].sum(1)
    lo, hi = np.percentile(means, [2.5, 97.5])
    return float(lo), float(hi)


def summarise(results: dict) -> dict:
    """The JSON-ready report: per filter (method and 2D/3D) the leave-one-clip-out errors (overall and per
    clip), the MPJPE difference to none with its interval over clips, the variant recommended (best on all
    clips), the lowest-MPJVE variant; the exact-2D floor; and the decision."""
    clips = list(results[NONE])
    none_all = pooled(results[NONE].values())
    frames = [results[NONE][c].frames for c in clips]
    families = {}
    for family in FAMILIES:
        loco = leave_one_clip_out(results, family)
        overall = pooled(e for _, e in loco.values())
        diffs = [loco[c][1].mpjpe_mm - results[NONE][c].mpjpe_mm for c in clips]
        recommended, smoothest = best_on_all(results, family), best_on_all(results, family, "mpjve_mm")
        families[f"{family[0]} {family[1].upper()}"] = dict(
            method=family[0], domain=family[1],
            leave_one_clip_out=asdict(overall),
            mpjpe_vs_none_mm=overall.mpjpe_mm - none_all.mpjpe_mm,
            mpjpe_vs_none_interval_mm=paired_interval(diffs, frames),
            clips_lower_mpjpe=int(sum(d < 0 for d in diffs)),
            per_clip={c: dict(chosen=v.name, **asdict(e)) for c, (v, e) in loco.items()},
            recommended=dict(variant=recommended.name, params=dict(recommended.params),
                             in_sample=asdict(pooled(results[recommended].values()))),
            lowest_mpjve=dict(variant=smoothest.name, in_sample=asdict(pooled(results[smoothest].values()))))
    # Kept: lower MPJPE overall, and still lower at the upper end of the interval over clips.
    kept = {k: f for k, f in families.items() if f["mpjpe_vs_none_interval_mm"][1] < 0}
    best = min(kept, key=lambda k: kept[k]["mpjpe_vs_none_mm"]) if kept else None
    if best is None:
        decision = dict(default="none", reason="no filter lowers the MPJPE beyond what the choice of clips moves it "
                                               "(no 95% interval over clips lies below 0)")
    else:
        decision = dict(default=families[best]["method"], domain=families[best]["domain"],
                        params=families[best]["recommended"]["params"],
                        reason=f"{best} lowers the leave-one-clip-out MPJPE the most, beyond the interval over clips")
    return dict(none=dict(overall=asdict(none_all), per_clip={c: asdict(results[NONE][c]) for c in clips}),
                exact_2d=dict(overall=asdict(pooled(results[EXACT_2D].values())),
                              per_clip={c: asdict(results[EXACT_2D][c]) for c in clips}),
                families=families, decision=decision,
                grid={v.name: asdict(pooled(r.values())) for v, r in results.items()})


def per_clip_table(report: dict, attr: str, title: str) -> str:
    """One error per clip: none, each filter (leave-one-clip-out) and the exact-2D floor."""
    fams = report["families"]
    columns = [report["none"], *(fams[f] for f in fams), report["exact_2d"]]
    rows = [[c, report["none"]["per_clip"][c]["frames"], *(col["per_clip"][c][attr] for col in columns)]
            for c in report["none"]["per_clip"]]
    overall = [report["none"]["overall"], *(fams[f]["leave_one_clip_out"] for f in fams), report["exact_2d"]["overall"]]
    footer = [["all (frame-weighted)", report["none"]["overall"]["frames"], *(o[attr] for o in overall)]]
    return text_table(["clip", "frames", "none", *fams, "exact 2D"], rows, footer=footer,
                      widths=[22, 7, 8] + [13] * len(fams) + [10], formats=["", "d"] + [".1f"] * (len(fams) + 2),
                      title=title)


def tables(report: dict) -> str:
    """Per clip MPJPE, MPJVE and acceleration error; per filter the overall errors and the decision."""
    fams = report["families"]
    clips = len(report["none"]["per_clip"])
    parts = [per_clip_table(report, attr, f"{what} per clip (4 cameras each; filters with leave-one-clip-out "
                                          "parameters; exact 2D: no detector noise)")
             for attr, what in (("mpjpe_mm", "MPJPE (mm)"), ("mpjve_mm", "MPJVE (mm/frame)"),
                                ("accel_mm", "acceleration error (mm/frame^2)"))]
    none, exact = report["none"]["overall"], report["exact_2d"]["overall"]
    rows = [["none", none["mpjpe_mm"], "", none["mpjve_mm"], none["accel_mm"], none["keypoints_px"], "", ""]]
    for f, r in fams.items():
        e, (lo, hi) = r["leave_one_clip_out"], r["mpjpe_vs_none_interval_mm"]
        rows.append([f, e["mpjpe_mm"], f"{r['mpjpe_vs_none_mm']:+.2f} [{lo:+.2f}, {hi:+.2f}]", e["mpjve_mm"],
                     e["accel_mm"], e["keypoints_px"], f"{r['clips_lower_mpjpe']}/{clips}",
                     r["recommended"]["variant"].split(" ", 2)[-1]])
    rows.append(["exact 2D", exact["mpjpe_mm"], f"{exact['mpjpe_mm'] - none['mpjpe_mm']:+.2f}", exact["mpjve_mm"],
                 exact["accel_mm"], exact["keypoints_px"], "", "(no detector noise)"])
    overall = text_table(["filter", "MPJPE", "vs none [95% over clips]", "MPJVE", "accel", "2D px", "clips better",
                          "best on all clips"], rows, widths=[12, 8, 26, 7, 7, 7, 13, 37],
                         formats=["", ".2f", "", ".2f", ".2f", ".2f", "", ""],
                         title="Overall, frame-weighted (leave-one-clip-out; 'best on all clips' is the in-sample "
                               "choice recommended for use)",
                         note="(mm, mm/frame, mm/frame^2 at 50 fps; 2D px: keypoints read vs exact projections)")
    rows = [[f, r["lowest_mpjve"]["variant"].split(" ", 2)[-1], r["lowest_mpjve"]["in_sample"]["mpjpe_mm"],
             r["lowest_mpjve"]["in_sample"]["mpjve_mm"], r["lowest_mpjve"]["in_sample"]["accel_mm"]]
            for f, r in fams.items()]
    smoothest = text_table(["filter", "lowest-MPJVE grid point", "MPJPE", "MPJVE", "accel"], rows,
                           widths=[12, 37, 8, 7, 7], formats=["", "", ".2f", ".2f", ".2f"],
                           note="(in-sample: what the smoothest setting costs in MPJPE)")
    d = report["decision"]
    verdict = f"default: {d['default']}" + (f" on {d['domain'].upper()} {d['params']}" if d["default"] != "none"
                                            else "") + f" ({d['reason']})"
    return "\n\n".join(parts + [overall, smoothest, verdict])


def measure(checkpoint=None, data_dir=None) -> dict:
    """The whole measurement with the quick model (or `checkpoint`), as a JSON-ready report."""
    root = find_root()
    checkpoint = checkpoint or os.path.join(root, CHECKPOINT)
    data_dir = data_dir or os.path.join(root, "data")
    model, ckpt = load_any_model(checkpoint)
    dataset, clips = mocap_clips(data_dir)
    layout = checkpoint_input_layout(ckpt, dataset.skeleton)
    if layout != dataset.input_layout().name:
        raise UserError(f"{checkpoint} reads {layout} keypoints; the mocap set's are {dataset.input_layout().name}")
    report = summarise(measure_grid(model, ckpt, dataset, clips))
    report["setup"] = dict(command=COMMAND, checkpoint=os.path.relpath(checkpoint, root), data="-d mocap -k det",
                           clip_fps=clips[0].fps, model_fps=checkpoint_fps(ckpt), tta=True,
                           selection="leave-one-clip-out on MPJPE", savgol_grid=SAVGOL_GRID,
                           one_euro_grid=ONE_EURO_GRID, one_euro_d_cutoff=1.0)
    return report


def check_output(output) -> str:
    """Before any work: `output` can be written, and an existing file there is this command's own result."""
    output = os.fspath(output)
    if os.path.isdir(output):
        raise UserError(f"'{output}' is a folder; give a .json file name")
    if os.path.exists(output):
        try:
            with open(output) as f:
                ours = json.load(f).get("setup", {}).get("command") == COMMAND
        except (OSError, ValueError, AttributeError):
            ours = False
        if not ours:
            raise UserError(f"'{output}' exists and was not written by {COMMAND}; move it away first")
    check_writable_folder(os.path.dirname(output) or ".", "the results folder")
    return output


def write_report(report: dict, output) -> None:
    """Write the report as JSON, atomically (check_output first)."""
    with atomic_path(output, what="results file") as tmp:
        with open(tmp, "w") as f:
            json.dump(report, f, indent=1)


def main(argv=None, checkpoint=None, data_dir=None, output=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv:
        raise UserError(f"{COMMAND} takes no arguments (got {' '.join(argv)}); from Python call "
                        "relpose.lab.wild_smoothing.main(checkpoint=..., data_dir=..., output=...)")
    output = check_output(output or os.path.join(find_root(), OUTPUT))
    report = measure(checkpoint, data_dir)
    write_report(report, output)
    print(tables(report))
    print(f"\nwritten: {output}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(e.exit_code)
