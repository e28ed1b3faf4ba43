"""The drawing primitives every figure shares: bone sides, polylines, the display frame, axis ranges, traces.

Every skeleton is drawn as one line per body side (left, right, centre) with a gap between bones,
so a figure has few traces and a frame update only swaps a handful of short coordinate lists.
Plotly shows z up; `display_coordinates` maps poses into that frame (in Human3.6M camera space y
points down, hence the default up_axis "-y"; world space is z-up).
"""
from __future__ import annotations

import re

import numpy as np
import plotly.graph_objects as go

from ..cameras import camera_to_world
from ..errors import UserError

SIDES = ("left", "right", "centre")
# Palette 0 (predictions, single poses) is saturated; palette 1 (ground truth under an overlay) is light.
PALETTES = (
    {"left": "#1f5fbf", "right": "#d62728", "centre": "#333333"},
    {"left": "#8fb8f0", "right": "#f4a09c", "centre": "#a8a8a8"},
)
# Rotations from the poses' frame into Plotly's z-up frame (all proper rotations), with axis titles.
UP_AXES = {
    "z": (np.eye(3), ("x (m)", "y (m)", "z (m)")),
    "-y": (np.array([[1, 0, 0], [0, 0, 1], [0, -1, 0]]), ("x (m)", "z (m)", "-y (m)")),
    "y": (np.array([[1, 0, 0], [0, 0, -1], [0, 1, 0]]), ("x (m)", "-z (m)", "y (m)")),
}


def check_up_axis(up_axis: str) -> str:
    if up_axis not in UP_AXES:
        raise UserError(f"unknown up_axis '{up_axis}'; use one of {', '.join(UP_AXES)}")
    return up_axis


def bone_sides(skeleton) -> dict[str, list[tuple[int, int]]]:
    """Bones (child, parent) by side: a bone is left/right when its child joint is."""
    sides = {side: [] for side in SIDES}
    for child, parent in skeleton.bones():
        sides[joint_side(skeleton, child)].append((child, parent))
    return sides


def joint_side(skeleton, joint: int) -> str:
    return "left" if joint in skeleton.joints_left else "right" if joint in skeleton.joints_right else "centre"


def segment_index(bones) -> np.ndarray:
    """Joint indices [c0, p0, -1, c1, p1, -1, ...] (no trailing gap); -1 marks a None separator."""
    if not bones:
        return np.zeros(0, dtype=int)
    return np.array([[c, p, -1] for c, p in bones]).reshape(-1)[:-1]


def segment_coordinates(poses: np.ndarray, index: np.ndarray) -> np.ndarray:
    """Gather (..., J, C) poses into (..., L, C) polyline points, NaN where index is -1."""
    out = np.asarray(poses, dtype=np.float64)[..., np.maximum(index, 0), :]
    out[..., index < 0, :] = np.nan
    return out


def plotly_list(values: np.ndarray) -> list:
    """A 1D float array as a list with None for NaN (Plotly's gap marker)."""
    return [None if v != v else float(v) for v in values.tolist()]


def natural_key(value):
    """Sort key that puts S2 before S11 and 'Walking 1' after 'Walking'."""
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", str(value))]


def display_coordinates(poses, up_axis: str = "-y", to_world=None) -> np.ndarray:
    """Poses (..., 3) in Plotly's z-up display frame.

    to_world=(orientation, translation) first maps camera-space poses to world space (z up) as
    VideoPose3D's renderer does; otherwise `up_axis` names the poses' up direction.
    """
    poses = np.asarray(poses, dtype=np.float64)
    if to_world is not None:
        orientation, translation = to_world
        poses = camera_to_world(poses, np.asarray(orientation, np.float64), np.asarray(translation, np.float64))
        up_axis = "z"
    return poses @ UP_AXES[check_up_axis(up_axis)][0].T


def cube_ranges(points: np.ndarray, margin: float = 0.1) -> list[list[float]]:
    """Equal-length [lo, hi] ranges for x, y, z around all finite points (so aspectmode 'cube' is true scale)."""
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 3)
    pts = pts[np.isfinite(pts).all(axis=1)]
    if len(pts) == 0:
        return [[-1.0, 1.0]] * 3
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    centre, half = (lo + hi) / 2, max((hi - lo).max() / 2, 0.5) + margin
    return [[float(c - half), float(c + half)] for c in centre]


def scene_layout(ranges, titles) -> dict:
    """A 3D scene with fixed, equal ranges (true scale) and z up."""
    names = ("xaxis", "yaxis", "zaxis")
    axes = {name: dict(range=r, title=t, autorange=False) for name, r, t in zip(names, ranges, titles)}
    return dict(aspectmode="cube", camera=dict(up=dict(x=0, y=0, z=1)), **axes)


def floor_trace(ranges, height: float, scene: str = "scene") -> go.Surface:
    """A flat grey square at `height` spanning the scene's x and y ranges."""
    (x0, x1), (y0, y1) = ranges[0], ranges[1]
    return go.Surface(x=[x0, x1], y=[y0, y1], z=[[height, height], [height, height]], name="floor", scene=scene,
                      showscale=False, opacity=0.25, colorscale=[[0, "#b0b0b0"], [1, "#b0b0b0"]], hoverinfo="skip",
                      showlegend=False)


def pose_traces(name: str, pose: np.ndarray, sides, palette: int = 0, width: float = 5, scene: str = "scene"):
    """Three Scatter3d traces (left/right/centre) for one display-frame pose (J, 3)."""
    colours = PALETTES[palette % len(PALETTES)]
    traces = []
    for side, bones in sides.items():
        seg = segment_coordinates(pose, segment_index(bones))
        traces.append(go.Scatter3d(
            x=plotly_list(seg[:, 0]), y=plotly_list(seg[:, 1]), z=plotly_list(seg[:, 2]), mode="lines+markers",
            name=f"{name} ({side})", legendgroup=name, scene=scene, line=dict(color=colours[side], width=width),
            marker=dict(size=2.5, color=colours[side]), hoverinfo="name"))
    return traces
