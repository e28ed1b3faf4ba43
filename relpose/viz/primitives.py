"""The drawing primitives every figure shares: bone sides, polylines, the display frame, axis ranges, traces.

Every skeleton is drawn as one line per body side (left, right, centre) with a gap between bones,
so a figure has few traces and a frame update only swaps a handful of short coordinate lists.
Plotly shows z up; `display_coordinates` maps poses into that frame (in Human3.6M camera space y
points down, hence the default up_axis "-y"; world space is z-up).
"""
from __future__ import annotations

import base64
import io
import re

import numpy as np

from ..cameras import camera_to_world
from ..errors import UserError

# Plotly is imported inside the functions that make its traces, so that --render (matplotlib) never loads it.

SIDES = ("left", "right", "centre")
# Palette 0 (predictions, single poses) is saturated; palette 1 (ground truth under an overlay) is light.
PALETTES = (
    {"left": "#1f5fbf", "right": "#d62728", "centre": "#333333"},
    {"left": "#8fb8f0", "right": "#f4a09c", "centre": "#a8a8a8"},
)
# One palette per person when a figure shows several people (the first is palette 0).
PERSON_PALETTES = (
    PALETTES[0],
    {"left": "#2ca02c", "right": "#ff7f0e", "centre": "#8c564b"},
    {"left": "#9467bd", "right": "#e377c2", "centre": "#17becf"},
    {"left": "#bcbd22", "right": "#7f7f7f", "centre": "#000000"},
)
# Joints the detector did not see are the model's guesses: drawn grey, dashed and faded.
GUESSED_COLOUR, GUESSED_OPACITY, GUESSED_LABEL = "#8a8a8a", 0.55, "guessed (not in view)"
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


def bones_touching(bones, guessed: np.ndarray) -> np.ndarray:
    """(..., n_bones) bool: the bone (child, parent) has a guessed end, for a (..., J) bool mask."""
    if not len(bones):
        return np.zeros(guessed.shape[:-1] + (0,), dtype=bool)
    child, parent = np.asarray(bones).T
    return guessed[..., child] | guessed[..., parent]


def hide_bones(segments: np.ndarray, hidden: np.ndarray) -> np.ndarray:
    """Polylines (..., L, C) of `segment_index(bones)` with the bones where hidden (..., n_bones) is True made gaps."""
    if hidden.shape[-1]:
        points = np.repeat(hidden, 3, axis=-1)[..., :-1]  # a bone's two points and the gap after it
        segments = segments.copy()
        segments[points] = np.nan
    return segments


def jpeg_data_uri(image, width: int = 320, quality: int = 70) -> str:
    """An (H, W, 3) uint8 image as a base64 JPEG data URI, shrunk to `width` pixels (never enlarged)."""
    from PIL import Image

    picture = Image.fromarray(np.asarray(image, dtype=np.uint8)).convert("RGB")
    if picture.width > width:
        picture = picture.resize((width, max(1, round(picture.height * width / picture.width))),
                                 Image.Resampling.BILINEAR, reducing_gap=2.0)
    out = io.BytesIO()
    picture.save(out, format="jpeg", quality=quality)
    return "data:image/jpeg;base64," + base64.b64encode(out.getvalue()).decode("ascii")


def per_name(value, names, what: str, shape: tuple) -> dict:
    """{name: array} from one array (the same for every name) or a dict by name; each array must have `shape`
    (None: any size), or more rows (frames past the others' end are never drawn)."""
    if value is None:
        return {}
    table = dict(value) if isinstance(value, dict) else {n: value for n in names}
    out = {}
    for name, array in table.items():
        array = np.asarray(array)
        if (array.ndim != len(shape) or len(array) < shape[0]
                or any(want is not None and got != want for got, want in zip(array.shape[1:], shape[1:]))):
            raise ValueError(f"{what} of '{name}' has shape {array.shape}, expected {tuple(shape)} (a row per frame)")
        out[name] = array
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


def scene_layout(ranges, titles, eye: dict | None = None) -> dict:
    """A 3D scene with fixed, equal ranges (true scale) and z up; `eye` places the camera (plotly's default if None)."""
    names = ("xaxis", "yaxis", "zaxis")
    axes = {name: dict(range=r, title=t, autorange=False) for name, r, t in zip(names, ranges, titles)}
    camera = dict(up=dict(x=0, y=0, z=1), **({"eye": eye} if eye else {}))
    return dict(aspectmode="cube", camera=camera, **axes)


def floor_trace(ranges, height: float, scene: str = "scene") -> go.Surface:
    """A flat grey square at `height` spanning the scene's x and y ranges."""
    import plotly.graph_objects as go
    (x0, x1), (y0, y1) = ranges[0], ranges[1]
    return go.Surface(x=[x0, x1], y=[y0, y1], z=[[height, height], [height, height]], name="floor", scene=scene,
                      showscale=False, opacity=0.25, colorscale=[[0, "#b0b0b0"], [1, "#b0b0b0"]], hoverinfo="skip",
                      showlegend=False)


def pose_traces(name: str, pose: np.ndarray, sides, palette: int = 0, width: float = 5, scene: str = "scene",
                colours: dict | None = None):
    """Three Scatter3d traces (left/right/centre) for one display-frame pose (J, 3); `colours` by side
    replaces the palette."""
    import plotly.graph_objects as go
    colours = colours or PALETTES[palette % len(PALETTES)]
    traces = []
    for side, bones in sides.items():
        seg = segment_coordinates(pose, segment_index(bones))
        traces.append(go.Scatter3d(
            x=plotly_list(seg[:, 0]), y=plotly_list(seg[:, 1]), z=plotly_list(seg[:, 2]), mode="lines+markers",
            name=f"{name} ({side})", legendgroup=name, scene=scene, line=dict(color=colours[side], width=width),
            marker=dict(size=2.5, color=colours[side]), hoverinfo="name"))
    return traces


def guessed_trace(x, y, z=None, *, scene: str = "scene", xaxis: str = "x", yaxis: str = "y", showlegend: bool = True,
                  width: float = 4):
    """The bones touching a guessed joint (polyline lists with gaps), grey and dashed, all under one legend entry."""
    import plotly.graph_objects as go
    style = dict(mode="lines+markers", name=GUESSED_LABEL, legendgroup="guessed", showlegend=showlegend,
                 opacity=GUESSED_OPACITY, line=dict(color=GUESSED_COLOUR, width=width, dash="dash"),
                 marker=dict(size=2.5 if z is not None else 4, color=GUESSED_COLOUR), hoverinfo="name")
    if z is None:
        return go.Scatter(x=x, y=y, xaxis=xaxis, yaxis=yaxis, **style)
    return go.Scatter3d(x=x, y=y, z=z, scene=scene, **style)


def path_traces(name: str, path: np.ndarray, colour: str, scene: str = "scene"):
    """A root's whole path on the floor (N, 3), thin and faded, and the part walked so far (filled per frame)."""
    import plotly.graph_objects as go
    whole = go.Scatter3d(x=plotly_list(path[:, 0]), y=plotly_list(path[:, 1]), z=plotly_list(path[:, 2]),
                         mode="lines", name=f"{name} (path)", legendgroup=name, scene=scene, opacity=0.35,
                         line=dict(color=colour, width=2), hoverinfo="skip", showlegend=False)
    walked = go.Scatter3d(x=[], y=[], z=[], mode="lines", name=f"{name} (path so far)", legendgroup=name,
                          scene=scene, line=dict(color=colour, width=4), hoverinfo="skip", showlegend=False)
    return whole, walked
