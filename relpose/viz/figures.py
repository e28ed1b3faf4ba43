"""Plotly figures: 3D skeletons (with the camera rig), 2D keypoints, per-joint errors, kernel-free animations.

Without a kernel (GitHub, nbviewer, a plain browser) use `sequence_animation_figure` and
`export_html`, which embeds plotly.js in the file (no CDN, no network). The notebook widget is
relpose.viz.explorer.SequenceExplorer.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..cameras import camera_to_world
from ..errors import UserError
from .primitives import (PALETTES, PERSON_PALETTES, SIDES, UP_AXES, bone_sides, bones_touching, cube_ranges,
                         display_coordinates, floor_trace, guessed_trace, hide_bones, joint_side, jpeg_data_uri,
                         path_traces, per_name, plotly_list, pose_traces, scene_layout, segment_coordinates,
                         segment_index)


def _camera_traces(cameras, up_axis: str, size: float = 0.3):
    """Rig cameras (dicts with orientation + translation, world space) as small frusta and markers.

    Returns the traces and the camera centres (display frame) so the axis ranges can include them.
    """
    corners = np.array([[-1, -0.75, 1.5], [1, -0.75, 1.5], [1, 0.75, 1.5], [-1, 0.75, 1.5]]) * size
    local = np.vstack([np.zeros((1, 3)), corners])  # camera centre + image-plane corners, camera space
    edges = segment_index([(0, 1), (0, 2), (0, 3), (0, 4), (1, 2), (2, 3), (3, 4), (4, 1)])
    lines, centres = [], []
    for cam in cameras:
        q, t = np.asarray(cam["orientation"], np.float64), np.asarray(cam["translation"], np.float64)
        world = display_coordinates(camera_to_world(local, q, t), up_axis)
        lines.append(np.vstack([segment_coordinates(world, edges), np.full((1, 3), np.nan)]))
        centres.append(world[0])
    lines, centres = np.concatenate(lines), np.array(centres)
    traces = [go.Scatter3d(x=plotly_list(lines[:, 0]), y=plotly_list(lines[:, 1]), z=plotly_list(lines[:, 2]),
                           mode="lines", name="cameras", line=dict(color="#2ca02c", width=2), hoverinfo="skip"),
              go.Scatter3d(x=centres[:, 0], y=centres[:, 1], z=centres[:, 2], mode="markers+text", showlegend=False,
                           text=[str(c.get("id", i)) for i, c in enumerate(cameras)], name="camera ids",
                           marker=dict(size=4, color="#2ca02c"))]
    return traces, centres


# ----------------------------------------------------------------------------- static figures

def skeleton_figure(poses: dict, skeleton, *, layout: str = "overlay", up_axis: str | None = None, to_world=None,
                    cameras=None, floor: bool = True, title: str | None = None, height: int = 480) -> go.Figure:
    """One or more 3D skeletons {name: (J, 3) metres}, overlaid in one scene or side by side.

    Later poses in an overlay use the light palette (draw the ground truth second to see the
    prediction on top of it). `cameras` (rig camera dicts) are drawn in world space.
    """
    if layout not in ("overlay", "side"):
        raise UserError(f"unknown layout '{layout}'; use 'overlay' or 'side'")
    up_axis = up_axis or ("z" if to_world is not None or cameras is not None else "-y")
    shown = {name: display_coordinates(p, up_axis, to_world) for name, p in poses.items()}
    sides, titles = bone_sides(skeleton), UP_AXES["z" if to_world is not None else up_axis][1]
    extra, centres = _camera_traces(cameras, up_axis) if cameras else ([], np.zeros((0, 3)))
    ranges = cube_ranges(np.concatenate([p.reshape(-1, 3) for p in shown.values()] + [centres]))
    floor_z = min(float(np.nanmin(p[..., 2])) for p in shown.values())
    n_scenes = 1 if layout == "overlay" else len(shown)
    fig = make_subplots(rows=1, cols=n_scenes, specs=[[{"type": "scene"}] * n_scenes],
                        subplot_titles=None if layout == "overlay" else list(shown))
    for k, (name, pose) in enumerate(shown.items()):
        scene = "scene" if layout == "overlay" or k == 0 else f"scene{k + 1}"
        palette = k if layout == "overlay" else 0
        for trace in pose_traces(name, pose, sides, palette=palette, width=5 if palette == 0 else 9, scene=scene):
            fig.add_trace(trace)
    for k in range(n_scenes):
        scene = "scene" if k == 0 else f"scene{k + 1}"
        if floor:
            fig.add_trace(floor_trace(ranges, floor_z, scene))
        for trace in extra:
            fig.add_trace(trace.update(scene=scene))
        fig.layout[scene].update(scene_layout(ranges, titles))
    fig.update_layout(title=title, height=height, margin=dict(l=0, r=0, t=40 if title else 10, b=0))
    return fig


def keypoints_2d_figure(keypoints, skeleton, res_w: int, res_h: int, *, title: str | None = None,
                        height: int = 420) -> go.Figure:
    """2D keypoints (J, 2) in pixels drawn in image space: y down, axes spanning the camera's resolution."""
    kps = np.asarray(keypoints, dtype=np.float64)
    fig = go.Figure()
    for side, bones in bone_sides(skeleton).items():
        seg = segment_coordinates(kps, segment_index(bones))
        fig.add_trace(go.Scatter(x=plotly_list(seg[:, 0]), y=plotly_list(seg[:, 1]), mode="lines+markers",
                                 name=side, line=dict(color=PALETTES[0][side], width=3), marker=dict(size=5)))
    fig.update_layout(title=title, height=height, margin=dict(l=50, r=10, t=40 if title else 10, b=40),
                      xaxis=dict(range=[0, res_w], title="x (px)", constrain="domain"),
                      yaxis=dict(range=[res_h, 0], title="y (px)", scaleanchor="x", constrain="domain"))
    return fig


def joint_error_figure(errors_mm, skeleton, *, title: str | None = None, height: int = 360) -> go.Figure:
    """Per-joint error bars (mm), coloured by body side, with the mean as a dashed line."""
    errors = np.asarray(errors_mm, dtype=np.float64)
    if errors.shape != (skeleton.num_joints,):
        raise ValueError(f"expected {skeleton.num_joints} per-joint errors, got shape {errors.shape}")
    names = list(skeleton.joint_names) or [str(j) for j in range(skeleton.num_joints)]
    colours = [PALETTES[0][joint_side(skeleton, j)] for j in range(skeleton.num_joints)]
    fig = go.Figure(go.Bar(x=names, y=errors, marker_color=colours, name="error"))
    fig.add_hline(y=float(errors.mean()), line_dash="dash", annotation_text=f"mean {errors.mean():.1f} mm")
    fig.update_layout(title=title, height=height, yaxis_title="error (mm)", xaxis_title="joint",
                      margin=dict(l=50, r=10, t=40 if title else 10, b=40))
    return fig


def animation_frames(length: int, downsample: int | None = None, max_frames: int = 150) -> np.ndarray:
    """The rows an animation keeps: every `downsample`-th, by default the stride that keeps at most `max_frames`."""
    stride = downsample or max(1, -(-length // max_frames))
    return np.arange(0, length, stride)


def _frame_numbers(length: int, first_frame: int, frame_numbers) -> np.ndarray:
    """The video frame of each row: `frame_numbers` as given, else first_frame, first_frame + 1, ..."""
    if frame_numbers is None:
        return np.arange(length) + int(first_frame)
    if first_frame:
        raise ValueError("give frame_numbers or first_frame, not both")
    numbers = np.asarray(frame_numbers).astype(np.int64)
    if numbers.shape != (length,) or len(np.unique(numbers)) != length:
        raise ValueError(f"frame_numbers must hold {length} distinct frame numbers, one per pose, got shape "
                         f"{np.shape(frame_numbers)}")
    return numbers


def _background_images(background_frames, numbers: np.ndarray, keep: np.ndarray, width: int, quality: int) -> list:
    """JPEG data URIs of the kept frames: from a video file, a callable (video frame number -> image), or images
    (one per kept frame, or one per pose)."""
    if isinstance(background_frames, (str, Path)):
        from .render import read_video_frames
        images = read_video_frames(background_frames, numbers[keep], width=width)
    elif callable(background_frames):
        images = [background_frames(int(n)) for n in numbers[keep]]
    else:
        images = list(background_frames) if not isinstance(background_frames, np.ndarray) else background_frames
        if len(images) == len(numbers) and len(images) != len(keep):
            images = [images[t] for t in keep]
        elif len(images) != len(keep):
            raise ValueError(f"background_frames holds {len(images)} images; give one per kept frame ({len(keep)}) "
                             f"or one per pose ({len(numbers)})")
    return [jpeg_data_uri(image, width, quality) for image in images]


def _scene_ranges(points: np.ndarray, floor: float, margin: float = 0.1) -> list[list[float]]:
    """Equal ranges (true scale) holding every point of every frame and the floor, the floor near the bottom.

    cube_ranges centres the cube on the points; the cube is as tall as their widest extent (a walk of several
    metres), so it is moved up to start `margin` under the lowest point or the floor: nothing shows under the floor.
    """
    points = points[np.isfinite(points).all(axis=1)]
    centre = points.mean(axis=0) if len(points) else np.zeros(3)
    points = np.concatenate([points, [[centre[0], centre[1], floor]]])
    ranges = cube_ranges(points, margin)
    (lo, hi), start = ranges[2], max(ranges[2][0], float(points[:, 2].min()) - margin)
    ranges[2] = [start, start + hi - lo]
    return ranges


# Controls under the plot, in pixels: below the 2D panel's tick labels and axis title, buttons left of the slider.
CONTROLS_GAP, BUTTONS_WIDTH, CONTROLS_HEIGHT = 58, 150, 125
# The 3D camera a little further out than plotly's default (1.25, 1.25, 1.25), so the cube's corners stay inside.
SCENE_EYE = dict(x=1.75, y=1.75, z=1.1)


def sequence_animation_figure(poses: dict, skeleton, *, keypoints_2d=None, res_w: int = 1000, res_h: int = 1000,
                              fps: float = 50, downsample: int | None = None, max_frames: int = 150,
                              up_axis: str | None = None, to_world=None, title: str | None = None,
                              height: int = 480, first_frame: int = 0, frame_numbers=None, background_frames=None,
                              background_width: int = 320, background_quality: int = 70, guessed=None,
                              path: bool = False, floor: float | None = None) -> go.Figure:
    """A kernel-free animation: {name: (T, J, 3)} overlaid in one scene (+ optional 2D input panel in pixels).

    Keeps every `downsample`-th frame; by default the stride is chosen so at most `max_frames`
    frames are stored (file size grows linearly with frames). Slider and play button work in any browser.
    The slider shows the video's frame numbers: `first_frame` (the video frame of row 0) or `frame_numbers`
    (one per row). The scene is fixed and holds every frame's points (a body walking through space stays
    inside); `path` draws each pose set's root path on the floor (`floor`: its height, default the lowest point).

    Several people: `keypoints_2d` a dict {person: (T, J, 2)} and `poses` {person: (T, J, 3)}, each person in
    its own colours; NaN rows (a person absent in a frame) are not drawn. `guessed`: (T, J) bool, True where
    the detector did not see the joint (a dict by name for several people); the bones touching such a joint
    are drawn grey, dashed and faded in both panels. `background_frames`: the video behind the 2D panel, a
    video file, a callable (video frame number -> (H, W, 3) uint8 image) or the images (one per kept frame or
    one per row), stored as `background_width`-pixel JPEGs (8-16 kB a frame at 320 px: +1.2-2.4 MB for 150).
    The 2D panel's share of the width grows with the image's aspect (40% up to 4:3, at most 55%), so a wide
    video is not drawn as a thin strip.
    """
    names = list(poses)
    arrays = {n: np.asarray(p, dtype=np.float64) for n, p in poses.items()}
    T, J = next(iter(arrays.values())).shape[:2]
    for n, p in arrays.items():
        if p.shape != (T, J, 3):
            raise ValueError(f"poses of '{n}' have shape {p.shape}, expected ({T}, {J}, 3) like the first")
    keep = animation_frames(T, downsample, max_frames)
    stride = keep[1] - keep[0] if len(keep) > 1 else 1
    numbers = _frame_numbers(T, first_frame, frame_numbers)
    up_axis = up_axis or ("z" if to_world is not None else "-y")
    shown = {n: display_coordinates(p[keep], up_axis, to_world) for n, p in arrays.items()}
    sides = bone_sides(skeleton)
    indices = {side: segment_index(b) for side, b in sides.items()}
    all_bones = [bone for side in SIDES for bone in sides[side]]
    all_index = segment_index(all_bones)

    people = isinstance(keypoints_2d, dict)
    if keypoints_2d is None:
        kps2d = {}
    else:
        kps2d = per_name(keypoints_2d if people else {"": keypoints_2d}, (), "keypoints_2d", (T, None, 2))
    order = names + [n for n in kps2d if n not in names]
    colours = {n: (PERSON_PALETTES[k % len(PERSON_PALETTES)] if people else PALETTES[k % len(PALETTES)])
               for k, n in enumerate(order)}
    colours[""] = PALETTES[0]  # one person's 2D keypoints
    masks = per_name(guessed, order if people else names + [""], "guessed", (T, J))
    masks = {n: m.astype(bool)[keep] for n, m in masks.items()}

    def side_segments(points, name, side):
        """(F, L, C) polylines of one side, the bones touching a guessed joint left out."""
        seg = segment_coordinates(points, indices[side])
        if name not in masks or points.shape[1] != J:
            return seg
        return hide_bones(seg, bones_touching(sides[side], masks[name]))

    def guessed_segments(points, name):
        return hide_bones(segment_coordinates(points, all_index), ~bones_touching(all_bones, masks[name]))

    points = np.concatenate([p.reshape(-1, 3) for p in shown.values()])
    points = points[np.isfinite(points).all(axis=1)]
    floor_z = floor if floor is not None else float(points[:, 2].min()) if len(points) else 0.0
    paths = {n: np.concatenate([p[:, 0, :2], np.full((len(p), 1), floor_z)], axis=1) for n, p in shown.items()}
    ranges = _scene_ranges(np.concatenate([points] + (list(paths.values()) if path else [])), floor_z)

    has_2d = bool(kps2d)
    share_2d = float(np.clip(0.4 * (res_w / res_h) / (4 / 3), 0.4, 0.55))   # the image's aspect decides
    fig = make_subplots(rows=1, cols=2 if has_2d else 1, column_widths=[share_2d, 1 - share_2d] if has_2d else None,
                        horizontal_spacing=0.06 if share_2d > 0.4 else None,
                        specs=[([{"type": "xy"}] if has_2d else []) + [{"type": "scene"}]])
    animated, per_frame = [], []  # the animated traces' indices, and for each its (x, y[, z]) lists at kept frame f
    shown_guessed_legend = False

    def add(trace, values, row=None, col=None):
        fig.add_trace(trace, row=row, col=col)
        animated.append(len(fig.data) - 1)
        per_frame.append(values)

    def lists(seg, f):
        return [plotly_list(seg[f, :, d]) for d in range(seg.shape[-1])]

    for n, kps in kps2d.items():
        kept = kps.astype(np.float64)[keep]
        label = f"{n} 2D" if people else "2D"
        for side in SIDES:
            seg = side_segments(kept, n, side)
            add(go.Scatter(x=plotly_list(seg[0, :, 0]), y=plotly_list(seg[0, :, 1]), mode="lines+markers",
                           name=f"{label} ({side})", legendgroup=n if people else label, showlegend=not people,
                           line=dict(color=colours[n][side])),
                lambda f, seg=seg: lists(seg, f), row=1, col=1)
        if n in masks and kps.shape[1] == J:  # the mask names the skeleton's joints
            seg = guessed_segments(kept, n)
            add(guessed_trace(plotly_list(seg[0, :, 0]), plotly_list(seg[0, :, 1]), showlegend=False, width=2),
                lambda f, seg=seg: lists(seg, f), row=1, col=1)
    if has_2d:
        fig.update_xaxes(range=[0, res_w], title="x (px)", constrain="domain", row=1, col=1)
        fig.update_yaxes(range=[res_h, 0], title="y (px)", scaleanchor="x", constrain="domain", row=1, col=1)
    for k, n in enumerate(names):
        width = 5 if k == 0 or people else 9
        segs = {side: side_segments(shown[n], n, side) for side in SIDES}
        traces = pose_traces(n, shown[n][0], sides, width=width, colours=colours[n])
        for trace, side in zip(traces, SIDES):
            seg = segs[side]
            trace.update(x=plotly_list(seg[0, :, 0]), y=plotly_list(seg[0, :, 1]), z=plotly_list(seg[0, :, 2]))
            if people:  # one legend entry per person (its 2D and 3D), not one per side
                trace.update(showlegend=side == "centre", **({"name": n} if side == "centre" else {}))
            add(trace, lambda f, seg=seg: lists(seg, f))
        if n in masks:
            seg = guessed_segments(shown[n], n)
            add(guessed_trace(*lists(seg, 0), showlegend=not shown_guessed_legend),
                lambda f, seg=seg: lists(seg, f))
            shown_guessed_legend = True
        if path:
            whole, walked = path_traces(n, paths[n], colours[n]["centre"])
            fig.add_trace(whole)
            walked.update(**dict(zip("xyz", lists(paths[n][None, :1], 0))))
            add(walked, lambda f, n=n: lists(paths[n][None, :f + 1], 0))
    fig.add_trace(floor_trace(ranges, floor_z))
    fig.layout.scene.update(scene_layout(ranges, UP_AXES["z" if to_world is not None else up_axis][1], eye=SCENE_EYE))

    backgrounds = []
    if background_frames is not None:
        if not has_2d:
            raise ValueError("background_frames need keypoints_2d: the video is drawn behind the 2D panel")
        backgrounds = _background_images(background_frames, numbers, keep, background_width, background_quality)
        fig.update_xaxes(showgrid=False, row=1, col=1)
        fig.update_yaxes(showgrid=False, row=1, col=1)

    def background(f):
        return dict(source=backgrounds[f], xref="x", yref="y", x=0, y=0, sizex=res_w, sizey=res_h,
                    xanchor="left", yanchor="top", sizing="stretch", layer="below")

    frames = []
    for f, t in enumerate(keep):
        data = []
        for values in per_frame:
            axes = values(f)
            cls = go.Scatter if len(axes) == 2 else go.Scatter3d
            data.append(cls(**dict(zip("xyz", axes))))
        layout = dict(images=[background(f)]) if backgrounds else None
        frames.append(go.Frame(data=data, traces=animated, name=str(int(numbers[t])), layout=layout))
    fig.frames = frames
    fig.update_layout(title=title, height=height, margin=dict(l=50, r=10, t=40 if title else 10, b=CONTROLS_HEIGHT),
                      images=[background(0)] if backgrounds else None, **_controls(frames, 1000 * stride / fps))
    return fig


def _controls(frames, step_ms: float) -> dict:
    """Play/Pause in a row at the left and the slider (labelled with the frames' names) right of them, both in
    the bottom margin under the 2D panel's axis title, so that no text lies on another."""
    anim = dict(mode="immediate", frame=dict(duration=step_ms, redraw=True), transition=dict(duration=0))
    return dict(
        updatemenus=[dict(type="buttons", direction="left", showactive=False, x=0, y=0, xanchor="left",
                          yanchor="top", pad=dict(t=CONTROLS_GAP, r=0, l=0, b=0), buttons=[
            dict(label="Play", method="animate", args=[None, dict(anim, fromcurrent=True)]),
            dict(label="Pause", method="animate", args=[[None], dict(anim, frame=dict(duration=0, redraw=False))])])],
        sliders=[dict(active=0, x=0, len=1, y=0, xanchor="left", yanchor="top",
                      pad=dict(t=CONTROLS_GAP, l=BUTTONS_WIDTH, r=10, b=0),
                      currentvalue=dict(prefix="frame ", xanchor="left"), steps=[
            dict(label=fr.name, method="animate", args=[[fr.name], anim]) for fr in frames])])


def export_html(fig: go.Figure, path, include_plotlyjs=True) -> Path:
    """Write a standalone HTML file with plotly.js inline (True) or beside it ('directory'); never a CDN."""
    if include_plotlyjs not in (True, "directory"):
        raise UserError(f"include_plotlyjs={include_plotlyjs!r} is not allowed; use True (inline) or 'directory' "
                        "so the page works offline")
    path = Path(path)
    if path.suffix.lower() not in (".html", ".htm"):
        raise UserError(f"HTML export path '{path}' must end in .html")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.write_html(str(path), include_plotlyjs=include_plotlyjs, include_mathjax=False, full_html=True,
                   auto_play=False)
    return path
