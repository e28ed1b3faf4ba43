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
from .primitives import (PALETTES, SIDES, UP_AXES, bone_sides, cube_ranges, display_coordinates, floor_trace,
                         joint_side, plotly_list, pose_traces, scene_layout, segment_coordinates, segment_index)


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


def sequence_animation_figure(poses: dict, skeleton, *, keypoints_2d=None, res_w: int = 1000, res_h: int = 1000,
                              fps: float = 50, downsample: int | None = None, max_frames: int = 150,
                              up_axis: str | None = None, to_world=None, title: str | None = None,
                              height: int = 480) -> go.Figure:
    """A kernel-free animation: {name: (T, J, 3)} overlaid in one scene (+ optional 2D input panel in pixels).

    Keeps every `downsample`-th frame; by default the stride is chosen so at most `max_frames`
    frames are stored (file size grows linearly with frames). Slider and play button work in any browser.
    """
    names = list(poses)
    T = len(next(iter(poses.values())))
    stride = downsample or max(1, -(-T // max_frames))
    keep = np.arange(0, T, stride)
    up_axis = up_axis or ("z" if to_world is not None else "-y")
    shown = {n: display_coordinates(np.asarray(p)[keep], up_axis, to_world) for n, p in poses.items()}
    sides = bone_sides(skeleton)
    indices = {side: segment_index(b) for side, b in sides.items()}
    segs = {n: {s: segment_coordinates(p, idx) for s, idx in indices.items()} for n, p in shown.items()}
    ranges = cube_ranges(np.concatenate([p.reshape(-1, 3) for p in shown.values()]))
    has_2d = keypoints_2d is not None
    fig = make_subplots(rows=1, cols=2 if has_2d else 1, column_widths=[0.4, 0.6] if has_2d else None,
                        specs=[([{"type": "xy"}] if has_2d else []) + [{"type": "scene"}]])
    if has_2d:
        kps = np.asarray(keypoints_2d, dtype=np.float64)[keep]
        segs2d = {s: segment_coordinates(kps, idx) for s, idx in indices.items()}
        for side in SIDES:
            fig.add_trace(go.Scatter(x=plotly_list(segs2d[side][0, :, 0]), y=plotly_list(segs2d[side][0, :, 1]),
                                     mode="lines+markers", name=f"2D ({side})", line=dict(color=PALETTES[0][side])),
                          row=1, col=1)
        fig.update_xaxes(range=[0, res_w], title="x (px)", row=1, col=1)
        fig.update_yaxes(range=[res_h, 0], title="y (px)", scaleanchor="x", row=1, col=1)
    for k, n in enumerate(names):
        for trace in pose_traces(n, shown[n][0], sides, palette=k, width=5 if k == 0 else 9):
            fig.add_trace(trace)
    animated = list(range(len(fig.data)))
    fig.add_trace(floor_trace(ranges, min(float(np.nanmin(p[..., 2])) for p in shown.values())))
    fig.layout.scene.update(scene_layout(ranges, UP_AXES["z" if to_world is not None else up_axis][1]))

    frames = []
    for f, t in enumerate(keep):
        data = []
        if has_2d:
            data += [go.Scatter(x=plotly_list(segs2d[s][f, :, 0]), y=plotly_list(segs2d[s][f, :, 1])) for s in SIDES]
        data += [go.Scatter3d(x=plotly_list(segs[n][s][f, :, 0]), y=plotly_list(segs[n][s][f, :, 1]),
                              z=plotly_list(segs[n][s][f, :, 2])) for n in names for s in SIDES]
        frames.append(go.Frame(data=data, traces=animated, name=str(int(t))))
    fig.frames = frames
    step_ms = 1000 * stride / fps
    anim = dict(mode="immediate", frame=dict(duration=step_ms, redraw=True), transition=dict(duration=0))
    fig.update_layout(
        title=title, height=height, margin=dict(l=40, r=10, t=40 if title else 10, b=110),
        updatemenus=[dict(type="buttons", showactive=False, x=0, y=0, xanchor="left", yanchor="top", buttons=[
            dict(label="Play", method="animate", args=[None, dict(anim, fromcurrent=True)]),
            dict(label="Pause", method="animate", args=[[None], dict(anim, frame=dict(duration=0, redraw=False))])])],
        sliders=[dict(active=0, x=0.12, len=0.88, y=0, currentvalue=dict(prefix="frame "), steps=[
            dict(label=fr.name, method="animate", args=[[fr.name], anim]) for fr in frames])])
    return fig


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
