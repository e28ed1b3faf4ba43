"""`python -m relpose.cli.wild --keypoints NAME`: lift a video's custom keypoint file and write what a
person wants to see — the video with its 2D keypoints beside the 3D skeleton moving through space (MP4 or
GIF), the poses (.npy, one per video frame, camera space, metres, root-relative), the same as plain JSON
with the root's path and the video's frame numbers (.json), as BVH for animation tools (.bvh), and a
standalone HTML explorer — with the plausibility checks printed. Every person of the file's video is
lifted (python -m relpose.cli.keypoints --person all keeps several); each gets its own .npy/.json/.bvh
(NAME.person2.npy ...), and all are drawn together. `make wild VIDEO=...` runs the detector first (its own environment), then this
(relpose.cli.wild_make).

Every input is checked before anything is written or trained: the keypoint file is read, the video
probed (one frame decoded), the checkpoint found. The outputs keep the whole NAME (`-k walk.take2` writes
walk.take2.mp4), are held by a lock on their name while the command runs (a second run of the same name
is refused, not silently replaced), and are written into a hidden staging folder and moved into place
at the end: an interrupted run (Ctrl-C: exit 130) leaves none of them, and the next run of the name
removes what a killed one left.
"""
from __future__ import annotations

import os
import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..custom_keypoints import DEFAULT_VIDEO_FPS, custom_file
from ..errors import UserError
from ..files import TMP_PREFIX, OutputsLock, check_output_file, check_writable_folder
from ..wild.smoothing import parse_smoothing
from ..wild.video import probe_video
from .common import OneLineParser, run_command

# torch, plotly and matplotlib are imported where the lift starts, so that a refusal comes at once (and
# relpose.cli.wild_make checks make's variables without them).

OUTPUT_SUFFIXES = (".mp4", ".gif", ".npy", ".html", ".json", ".bvh")


def build_parser() -> OneLineParser:
    p = OneLineParser(prog="python -m relpose.cli.wild",
                      description="Lift a video's 2D keypoints (data_2d_custom_NAME.npz) to 3D and show them.")
    p.add_argument("--keypoints", "-k", required=True, metavar="NAME", help="reads DATA_DIR/data_2d_custom_NAME.npz")
    p.add_argument("--data-dir", default="data", metavar="PATH", help="folder of the keypoint file (default: data)")
    p.add_argument("--video", metavar="FILE", help="the video, drawn behind the 2D keypoints (optional)")
    p.add_argument("--video-name", metavar="NAME", help="which video of the file (when it holds several)")
    p.add_argument("--checkpoint", metavar="PATH", help="the model: a kit checkpoint or the published "
                                                         "cpn_pretrained.bin / gt_pretrained.bin (default: the in-the-wild "
                                                         "model the kit ships, relpose/data/models/wild-quick.bin)")
    p.add_argument("--out-dir", default="wild", metavar="PATH", help="where NAME.mp4/.gif, .npy, .html go (default: wild)")
    p.add_argument("--gif", action="store_true", help="write a GIF instead of an MP4")
    p.add_argument("--limit", type=int, default=None, metavar="N", help="render only the first N frames (default: all)")
    p.add_argument("--no-tta", action="store_true", help="no flip test-time augmentation")
    p.add_argument("--keep-person-size", action="store_true",
                   help="lift the person at the size seen (default: zoomed to the size the model was trained on)")
    p.add_argument("--smooth", default="none", metavar="SPEC",
                   help="smooth the 3D poses in time: none (default), savgol[:window_s=0.3,order=2] or "
                        "one-euro[:min_cutoff=4,beta=5]; smoother motion, not lower error (README)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar while rendering")
    p.add_argument("--overwrite", action="store_true", help="replace outputs that exist (never done without it)")
    return p


def output_paths(out_dir, name: str, gif: bool = False, people: tuple[str, ...] = ("",)) -> dict[str, Path]:
    """The outputs of `name`: the whole name plus a suffix (Path.with_suffix would cut 'walk.take2' to 'walk').
    `people`: one name part per person lifted ('' for the only one, 'person2' ...): each has its own poses,
    joints JSON and BVH; the movie and the page show them all."""
    out = Path(out_dir)
    paths = {"movie": out / f"{name}{'.gif' if gif else '.mp4'}", "page": out / f"{name}.html"}
    for person in people:
        stem = f"{name}.{person}" if person else name
        paths.update({f"poses{person}": out / f"{stem}.npy", f"joints{person}": out / f"{stem}.json",
                      f"bvh{person}": out / f"{stem}.bvh"})
    return paths


def person_parts(entries: list[str]) -> tuple[str, ...]:
    """The output name part of each entry lifted: '' for a video's only person, else 'personN' (its entry's
    suffix in the keypoint file)."""
    if len(entries) == 1:
        return ("",)
    return tuple(e.rsplit(".", 1)[-1] for e in entries)


def staging_folder(out_dir, name: str) -> Path:
    """Where a run of `name` writes its outputs before moving them into place (removed at its end)."""
    return Path(out_dir) / f"{TMP_PREFIX}{name}.partial"


def remove_leftovers(out_dir, name: str) -> list[Path]:
    """Delete what an interrupted run of `name` left in out_dir: its staging folder, and the temporary files of
    atomic writes of its outputs (`.relpose-<name>.<8 random>.tmp<suffix>`, nothing of another name).
    Call while holding the name's OutputsLock."""
    removed = []
    staging = staging_folder(out_dir, name)
    if staging.is_dir():
        shutil.rmtree(staging, ignore_errors=True)
        removed.append(staging)
    pattern = re.compile(re.escape(f"{TMP_PREFIX}{name}.") + r"[a-z0-9_]{8}\.tmp(" +
                         "|".join(re.escape(s) for s in OUTPUT_SUFFIXES) + ")")
    if Path(out_dir).is_dir():
        for p in Path(out_dir).iterdir():
            if pattern.fullmatch(p.name) and p.is_file():
                p.unlink(missing_ok=True)
                removed.append(p)
    return removed


def check_outputs(paths: dict[str, Path], overwrite: bool, flag: str = "--overwrite") -> None:
    """Refuse, in one line naming the file, an output that exists (unless `overwrite`) or cannot be written."""
    for path in paths.values():
        if path.exists() and not path.is_dir() and not overwrite:
            raise UserError(f"'{path}' already exists; choose another name, delete it, or pass {flag}")
        check_output_file(path, "the output", overwrite=True)


def check_video_matches(video, size: tuple[int, int], keypoint_file, recorded: tuple[int, int]) -> None:
    if tuple(size) != tuple(recorded):
        raise UserError(f"video '{video}' is {size[0]}x{size[1]} pixels but {keypoint_file} was detected in a "
                        f"{recorded[0]}x{recorded[1]} video; give that video, or detect again in this one")


def _main(argv, lock: OutputsLock | None = None) -> int:
    """The command; `lock`: the name's lock when the caller (relpose.cli.wild_make) holds it already."""
    args = build_parser().parse_args(argv)
    if args.limit is not None and args.limit < 1:
        raise UserError(f"--limit {args.limit}: give a positive number of frames, or leave it out for all of them")
    # Inputs first: nothing is written, trained or lifted for a run that cannot finish.
    keypoint_file = custom_file(args.data_dir, args.keypoints)
    from ..wild.lifting import load_custom_video
    loaded = load_custom_video(args.keypoints, args.data_dir, args.video_name)
    if args.checkpoint is not None and not Path(args.checkpoint).is_file():
        what = "is a folder" if Path(args.checkpoint).is_dir() else "does not exist"
        raise UserError(f"--checkpoint '{args.checkpoint}' {what}; give a checkpoint file (.bin), or leave it out "
                        "for the kit's in-the-wild model")
    smoothing = parse_smoothing(args.smooth)
    if args.video is not None:
        width, height, _ = probe_video(args.video, "--video")
        cam = loaded[0].cameras[loaded[1][0]][0]
        check_video_matches(args.video, (width, height), keypoint_file, (cam["res_w"], cam["res_h"]))
    paths = output_paths(args.out_dir, args.keypoints, args.gif, person_parts(loaded[1]))
    check_writable_folder(args.out_dir, "--out-dir")
    if lock is None:
        with OutputsLock(args.out_dir, args.keypoints, "-k") as held:
            return _lift_and_write(args, paths, loaded, smoothing, held)
    return _lift_and_write(args, paths, loaded, smoothing, lock)


def _lift_and_write(args, paths: dict[str, Path], loaded, smoothing, lock: OutputsLock) -> int:
    from ..lab.wild_model import default_wild_model
    from ..viz.figures import export_html, sequence_animation_figure
    from ..viz.render import export_predictions, render_animation
    from ..weights import load_any_model
    from ..wild.bvh import write_bvh
    from ..wild.joints_json import write_joints_json
    from ..wild.lifting import lift_people
    check_outputs(paths, args.overwrite)
    if remove_leftovers(args.out_dir, args.keypoints):
        print(f"removed what an interrupted run of {args.keypoints} left in {args.out_dir}")
    path = args.checkpoint or default_wild_model(log=print)
    print(f"model: {path}")
    model, ckpt = load_any_model(path)
    people = lift_people(model, ckpt, args.keypoints, args.data_dir, tta=not args.no_tta, loaded=loaded,
                         person_size="keep" if args.keep_person_size else "normalise", smoothing=smoothing)
    parts = person_parts([p.name for p in people])
    label = {p.name: (f"person {p.person}" if len(people) > 1 else "Reconstruction") for p in people}
    shown = together(people)

    staging = staging_folder(args.out_dir, args.keypoints)
    staging.mkdir()
    try:
        staged = {k: staging / p.name for k, p in paths.items()}
        first = people[0]
        fps = first.fps or first.model_fps or DEFAULT_VIDEO_FPS
        n = render_animation({label[k]: v for k, v in shown.keypoints.items()},
                             {label[k]: v for k, v in shown.world.items()}, first.skeleton, fps, 3000, 70,
                             staged["movie"], viewport=(first.width, first.height), limit=args.limit or -1,
                             input_video_path=args.video, video_first_frame=shown.first_frame,
                             progress=not args.no_progress, follow="scene",
                             guessed={label[k]: v for k, v in shown.guessed.items()})
        fig = sequence_animation_figure({label[k]: v for k, v in shown.world.items()}, first.skeleton,
                                        keypoints_2d={label[k]: v for k, v in shown.keypoints.items()},
                                        res_w=first.width, res_h=first.height, fps=fps, up_axis="z",
                                        first_frame=shown.first_frame,
                                        background_frames=video_background(args.video, shown),
                                        guessed={label[k]: v for k, v in shown.guessed.items()}, path=True,
                                        floor=0.0, title=f"{args.keypoints}: 2D keypoints and the lifted 3D pose")
        export_html(fig, staged["page"])
        fits = {}
        for person, part in zip(people, parts):
            export_predictions(staged[f"poses{part}"], person.poses)
            root = person.world[:, :1]
            write_joints_json(staged[f"joints{part}"], person.world - root, fps, person.skeleton.joint_names,
                              trajectory=root[:, 0],
                              first_frame=person.first_frame, interpolated=person.interpolated, seen=~person.guessed,
                              parents=list(person.skeleton.parents), axes="z-up")
            fits[part] = write_bvh(staged[f"bvh{part}"], person.world, fps, axes="z-up", skeleton=person.skeleton)
        for key, target in paths.items():   # the lock is held: nobody else of the kit wrote these meanwhile
            os.replace(staged[key], target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    print(f"wrote {paths['movie']} ({n} frames), {paths['page']}")
    for person, part in zip(people, parts):
        who = f"person {person.person}: " if len(people) > 1 else ""
        fit = fits[part]
        print(f"{who}{paths[f'poses{part}']} ({len(person.poses)} poses from video frame {person.first_frame}, camera "
              f"space, metres, root-relative), {paths[f'joints{part}']} (z up, floor at 0, root path included), "
              f"{paths[f'bvh{part}']} (constant bones: {fit.mean_error_mm:.1f} mm from the lifted joints on average)")
        print(f"{who}{describe_lift(person)}")
        if person.unseen_note:
            print(f"{who}{person.unseen_note}")
        print(person.report.table())
        print(person.report.summary())
    return 0


@dataclass
class Together:
    """Every person lifted from one video on the video's common frames (NaN where a person is absent)."""

    first_frame: int
    keypoints: dict
    world: dict
    guessed: dict


def together(people) -> Together:
    """The people of one video on one frame range: from the first frame anyone is in to the last."""
    first = min(p.first_frame for p in people)
    last = max(p.first_frame + len(p.poses) for p in people)
    keypoints, world, guessed = {}, {}, {}
    for p in people:
        at = slice(p.first_frame - first, p.first_frame - first + len(p.poses))
        for out, value, fill in ((keypoints, p.keypoints, np.nan), (world, p.world, np.nan), (guessed, p.guessed, False)):
            full = np.full((last - first, *value.shape[1:]), fill, dtype=value.dtype)
            full[at] = value
            out[p.name] = full
    return Together(first, keypoints, world, guessed)


def video_background(video, shown: Together):
    """The video's frames behind the HTML's 2D panel (those the page keeps), white past the video's end;
    None without a video."""
    if video is None:
        return None
    from ..viz.figures import animation_frames
    from ..viz.render import read_video_frames
    rows = animation_frames(len(next(iter(shown.world.values()))))
    return read_video_frames(video, shown.first_frame + rows, width=320, past_end="blank")


def describe_lift(person) -> str:
    """One line: the frames lifted, the person-size zoom, and how the body was placed in space."""
    frames = len(person.poses)
    filled = int(np.asarray(person.interpolated).sum())
    text = f"video frames {person.first_frame}-{person.first_frame + frames - 1}"
    if filled:
        text += f" ({filled} with nobody detected, filled in time and marked in the JSON)"
    if person.zoom != 1.0:
        text += f"; the person zoomed x{person.zoom:.2f} to the size the model learned"
    return f"{text}; {person.world_note}"


def main(argv=None, lock: OutputsLock | None = None) -> int:
    return run_command(lambda a: _main(a, lock), argv)


if __name__ == "__main__":
    sys.exit(main())
