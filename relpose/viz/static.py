"""Static twins of Plotly figures, drawn with matplotlib: what a reader without a kernel or browser sees.

GitHub, nbviewer and `jupyter nbconvert --to html` cannot run plotly.js, so every figure a notebook
shows also stores a PNG. Plotly's own image export needs Chrome (through kaleido); this twin needs
nothing but matplotlib, works offline and takes a fraction of a second. It draws the figure's
traces from its JSON: scatter3d lines, markers and text, 2D scatter, bars, the flat surface used
as a floor, horizontal lines and annotations, in the subplot domains and with the axis ranges,
titles, 3D camera and colours of the figure. An animation is drawn at its first frame.
Also here: skeleton drawing on matplotlib axes for the widgets' static pictures.
"""
from __future__ import annotations

import io
import json
import math

import numpy as np

from .figure_json import compact_plotly_json
from .primitives import PALETTES, bone_sides

DEFAULT_SIZE = (700, 450)  # plotly's size when the layout names none, in pixels
DPI = 72  # one point is one pixel, as in plotly's layout
TEXT_PX = 10  # the smallest text drawn: legible at the stored size (relpose.viz.legibility)
MARGIN = {"l": 80, "r": 80, "t": 100, "b": 80}  # plotly's default margins (px)
DEFAULT_EYE = {"x": 1.25, "y": 1.25, "z": 1.25}  # plotly's default 3D camera position


# ----------------------------------------------------------------------------- reading plotly's JSON

def _get(d, *keys, default=None):
    for k in keys:
        if not isinstance(d, dict) or k not in d:
            return default
        d = d[k]
    return d


def _text(value) -> str:
    """A title given as a string or as {"text": ...}."""
    return (value.get("text") or "") if isinstance(value, dict) else (value or "")


def _numbers(values) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in (values or [])], dtype=np.float64)


def colour(value, default="#444444"):
    """A plotly colour ('#rrggbb', 'rgb(...)', 'rgba(...)', a name) as matplotlib takes it."""
    if not isinstance(value, str):
        return default
    v = value.strip()
    if v.startswith(("rgb(", "rgba(")):
        parts = [float(p) for p in v[v.index("(") + 1:v.rindex(")")].split(",")]
        rgb = [p / 255 for p in parts[:3]]
        return tuple(rgb + parts[3:4])
    return v


def first_frame(fig: dict) -> list[dict]:
    """The traces as the figure first shows them: an animation's frame 0 laid over its data."""
    data = [dict(t) for t in fig.get("data", [])]
    frames = fig.get("frames") or []
    if frames:
        frame = frames[0]
        targets = frame.get("traces") or list(range(len(frame.get("data", []))))
        for index, update in zip(targets, frame.get("data", [])):
            if index < len(data):
                data[index] = {**data[index], **{k: v for k, v in update.items() if k != "type"}}
    return data


def view_angles(eye: dict) -> tuple[float, float]:
    """matplotlib's (elevation, azimuth) in degrees for a plotly camera at `eye` looking at the centre."""
    return (math.degrees(math.atan2(eye["z"], math.hypot(eye["x"], eye["y"]))),
            math.degrees(math.atan2(eye["y"], eye["x"])))


def _axis_names(ref: str, prefix: str) -> str:
    """'x2' -> 'xaxis2', 'x' -> 'xaxis'."""
    return f"{prefix}axis{ref[1:]}" if ref else f"{prefix}axis"


# ----------------------------------------------------------------------------- drawing

class _Canvas:
    """A matplotlib Figure with plotly's plot area, and an Axes per subplot created on first use."""

    def __init__(self, layout: dict, width: int | None, height: int | None):
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        self.layout = layout
        self.width = int(width or layout.get("width") or DEFAULT_SIZE[0])
        self.height = int(height or layout.get("height") or DEFAULT_SIZE[1])
        self.figure = Figure(figsize=(self.width / DPI, self.height / DPI), dpi=DPI)
        FigureCanvasAgg(self.figure)
        self.figure.patch.set_facecolor(colour(self._template("paper_bgcolor"), "white"))
        margin = {**MARGIN, **(layout.get("margin") or {})}
        self.area = (margin["l"] / self.width, margin["b"] / self.height,
                     1 - (margin["l"] + margin["r"]) / self.width, 1 - (margin["t"] + margin["b"]) / self.height)
        self.axes: dict[str, object] = {}
        self.colourway = self._template("colorway") or ["#636efa", "#EF553B", "#00cc96", "#ab63fa", "#FFA15A"]

    def _template(self, key):
        return self.layout.get(key, _get(self.layout, "template", "layout", key))

    def paper(self, x: float, y: float) -> tuple[float, float]:
        """Plotly 'paper' coordinates (the plot area) as figure fractions."""
        left, bottom, w, h = self.area
        return left + x * w, bottom + y * h

    def _rect(self, domain_x, domain_y):
        (x0, y0), (x1, y1) = self.paper(domain_x[0], domain_y[0]), self.paper(domain_x[1], domain_y[1])
        return [x0, y0, max(x1 - x0, 1e-3), max(y1 - y0, 1e-3)]

    def scene(self, name: str):
        from matplotlib.ticker import MaxNLocator

        if name not in self.axes:
            spec = self.layout.get(name) or {}
            domain = spec.get("domain") or {}
            ax = self.figure.add_axes(self._rect(domain.get("x", [0, 1]), domain.get("y", [0, 1])), projection="3d")
            ranges = []
            for axis, set_lim, set_label in (("xaxis", ax.set_xlim, ax.set_xlabel),
                                             ("yaxis", ax.set_ylim, ax.set_ylabel),
                                             ("zaxis", ax.set_zlim, ax.set_zlabel)):
                rng = _get(spec, axis, "range")
                if rng:
                    set_lim(*rng)
                    ranges.append(abs(rng[1] - rng[0]))
                set_label(_text(_get(spec, axis, "title")), fontsize=TEXT_PX, labelpad=-2)
            if spec.get("aspectmode") == "cube" or len(ranges) < 3:
                ax.set_box_aspect((1, 1, 1))
            else:
                ax.set_box_aspect([r / max(ranges) for r in ranges])
            ax.view_init(*view_angles(_get(spec, "camera", "eye") or DEFAULT_EYE))
            ax.tick_params(labelsize=TEXT_PX, pad=0)
            for axis in (ax.xaxis, ax.yaxis, ax.zaxis):  # legible ticks, few enough not to overlap
                axis.set_major_locator(MaxNLocator(4))
            self.axes[name] = ax
        return self.axes[name]

    def cartesian(self, xref: str = "x", yref: str = "y"):
        key = f"{xref}{yref}"
        if key not in self.axes:
            xaxis, yaxis = self.layout.get(_axis_names(xref, "x")) or {}, self.layout.get(_axis_names(yref, "y")) or {}
            ax = self.figure.add_axes(self._rect(xaxis.get("domain", [0, 1]), yaxis.get("domain", [0, 1])))
            ax.set_facecolor(colour(self._template("plot_bgcolor"), "white"))
            ax.grid(True, color="white", linewidth=1)
            ax.set_axisbelow(True)
            for side in ax.spines.values():
                side.set_visible(False)
            if xaxis.get("range"):
                ax.set_xlim(*xaxis["range"])
            if yaxis.get("range"):
                ax.set_ylim(*yaxis["range"])  # [high, low] keeps image space's y pointing down
            ax.set_xlabel(_text(xaxis.get("title")), fontsize=TEXT_PX)
            ax.set_ylabel(_text(yaxis.get("title")), fontsize=TEXT_PX)
            ax.tick_params(labelsize=TEXT_PX)
            if yaxis.get("scaleanchor") == xref:
                ax.set_aspect("equal", adjustable="box")
            self.axes[key] = ax
        return self.axes[key]


def _line_and_marker(trace: dict, fallback: str):
    """The colours of a trace's line and of its markers (one, or one per point)."""
    marker_colour = _get(trace, "marker", "color")
    line_colour = colour(_get(trace, "line", "color"), colour(marker_colour, fallback))
    return line_colour, ([colour(c) for c in marker_colour] if isinstance(marker_colour, list)
                         else colour(marker_colour, line_colour))


def _draw_scatter3d(canvas: _Canvas, trace: dict, fallback: str):
    ax = canvas.scene(trace.get("scene", "scene"))
    x, y, z = (_numbers(trace.get(k)) for k in ("x", "y", "z"))
    mode = trace.get("mode") or "lines+markers"
    line_colour, marker_colour = _line_and_marker(trace, fallback)
    label = trace.get("name") if trace.get("showlegend", True) is not False else None
    if "lines" in mode:
        # WebGL keeps the first line drawn where two meet at one depth: here too, earlier traces lie on top
        # (an overlay's prediction over its thicker, lighter ground truth)
        ax.plot(x, y, z, color=line_colour, linewidth=0.6 * (_get(trace, "line", "width") or 2), label=label,
                zorder=2 - 0.001 * len(ax.lines))
        label = None
    if "markers" in mode:
        size = _get(trace, "marker", "size") or 6
        ax.scatter(x, y, z, s=size ** 2 * 0.5, color=marker_colour, depthshade=False, label=label, linewidths=0)
    if "text" in mode:
        text_colour = marker_colour if isinstance(marker_colour, (str, tuple)) else line_colour
        for xi, yi, zi, t in zip(x, y, z, trace.get("text") or []):
            if np.isfinite([xi, yi, zi]).all():
                ax.text(xi, yi, zi, str(t), fontsize=TEXT_PX, color=text_colour)


def _draw_scatter(canvas: _Canvas, trace: dict, fallback: str):
    ax = canvas.cartesian(trace.get("xaxis", "x"), trace.get("yaxis", "y"))
    x, y = _numbers(trace.get("x")), _numbers(trace.get("y"))
    mode = trace.get("mode") or "lines+markers"
    line_colour, marker_colour = _line_and_marker(trace, fallback)
    label = trace.get("name") if trace.get("showlegend", True) is not False else None
    if "lines" in mode:
        ax.plot(x, y, color=line_colour, linewidth=_get(trace, "line", "width") or 2, label=label)
        label = None
    if "markers" in mode:
        ax.scatter(x, y, s=(_get(trace, "marker", "size") or 6) ** 2 * 0.6, color=marker_colour, label=label,
                   zorder=3)


def _draw_bar(canvas: _Canvas, trace: dict, fallback: str):
    ax = canvas.cartesian(trace.get("xaxis", "x"), trace.get("yaxis", "y"))
    labels, heights = [str(v) for v in trace.get("x") or []], _numbers(trace.get("y"))
    _, colours = _line_and_marker(trace, fallback)
    ax.bar(np.arange(len(heights)), heights, color=colours, label=trace.get("name"))
    ax.set_xticks(np.arange(len(labels)), labels, rotation=45, ha="right", rotation_mode="anchor")
    ax.set_xlim(-0.6, len(labels) - 0.4)


def _draw_surface(canvas: _Canvas, trace: dict, fallback: str):
    ax = canvas.scene(trace.get("scene", "scene"))
    z = np.array([[np.nan if v is None else v for v in row] for row in trace.get("z") or []], dtype=np.float64)
    if z.ndim != 2 or z.size == 0:
        return
    x = _numbers(trace.get("x")) if trace.get("x") is not None else np.arange(z.shape[1], dtype=np.float64)
    y = _numbers(trace.get("y")) if trace.get("y") is not None else np.arange(z.shape[0], dtype=np.float64)
    xx, yy = np.meshgrid(x, y)
    scale = trace.get("colorscale")
    face = colour(scale[0][1] if isinstance(scale, list) and scale else None, fallback)
    ax.plot_surface(xx, yy, z, color=face, alpha=trace.get("opacity", 1.0), shade=False, linewidth=0)


DRAW = {"scatter3d": _draw_scatter3d, "scatter": _draw_scatter, "scattergl": _draw_scatter, "bar": _draw_bar,
        "surface": _draw_surface}


def _transform(canvas: _Canvas, ax, xref: str, yref: str):
    """matplotlib's transform for plotly's (xref, yref) of a shape or annotation."""
    from matplotlib.transforms import blended_transform_factory

    return blended_transform_factory(ax.transAxes if "domain" in xref else ax.transData,
                                     ax.transAxes if "domain" in yref else ax.transData)


def _draw_shapes_and_annotations(canvas: _Canvas):
    for shape in canvas.layout.get("shapes") or []:
        xref, yref = shape.get("xref", "x"), shape.get("yref", "y")
        if shape.get("type") != "line" or "paper" in (xref, yref):
            continue
        ax = canvas.cartesian(xref.split()[0], yref.split()[0])
        ax.plot([shape["x0"], shape["x1"]], [shape["y0"], shape["y1"]], transform=_transform(canvas, ax, xref, yref),
                color=colour(_get(shape, "line", "color"), "#444444"), linewidth=_get(shape, "line", "width") or 2,
                linestyle="--" if _get(shape, "line", "dash") in ("dash", "dot", "dashdot") else "-")
    for note in canvas.layout.get("annotations") or []:
        xref, yref, text = note.get("xref", "x"), note.get("yref", "y"), _text(note.get("text"))
        align = {"ha": {"left": "left", "right": "right"}.get(note.get("xanchor"), "center"),
                 "va": {"bottom": "bottom", "top": "top"}.get(note.get("yanchor"), "center")}
        if xref == "paper" and yref == "paper":  # subplot titles
            canvas.figure.text(*canvas.paper(note.get("x", 0.5), note.get("y", 1.0)), text, fontsize=11, **align)
            continue
        ax = canvas.cartesian(xref.split()[0], yref.split()[0])
        ax.text(note.get("x", 0), note.get("y", 0), text, transform=_transform(canvas, ax, xref, yref), fontsize=TEXT_PX,
                **align)


def static_figure(fig, width: int | None = None, height: int | None = None):
    """A matplotlib Figure drawn from a Plotly figure (a go.Figure or its JSON dict), without a browser."""
    fig = compact_plotly_json(json.loads(fig.to_json()) if hasattr(fig, "to_json") else fig)  # plain lists
    layout = fig.get("layout") or {}
    canvas = _Canvas(layout, width, height)
    for k, trace in enumerate(first_frame(fig)):
        if trace.get("visible", True) in (False, "legendonly"):
            continue
        draw = DRAW.get(trace.get("type", "scatter"))
        if draw is not None:
            draw(canvas, trace, colour(canvas.colourway[k % len(canvas.colourway)]))
    _draw_shapes_and_annotations(canvas)
    title = _text(layout.get("title"))
    if title:
        canvas.figure.text(0.02, 1 - 8 / canvas.height, title, fontsize=13, va="top")
    handles = [(h, lab) for ax in canvas.axes.values() for h, lab in zip(*ax.get_legend_handles_labels())]
    if len(handles) > 1 and layout.get("showlegend", True) is not False:
        canvas.figure.legend(*zip(*handles), loc="upper right", fontsize=TEXT_PX, frameon=False)
    frames = fig.get("frames") or []
    if frames:
        canvas.figure.text(0.99, 0.01, f"frame {frames[0].get('name', 0)} of an animation of {len(frames)} frames "
                           "(run the notebook to play it)", fontsize=TEXT_PX, ha="right", va="bottom", color="#666666")
    return canvas.figure


def png_bytes(figure, dpi: int = DPI, colours: int = 256) -> bytes:
    """A matplotlib Figure as PNG bytes, reduced to a palette of `colours` (a third of the size, looks the same)."""
    from PIL import Image

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, facecolor=figure.get_facecolor())
    if not colours:
        return buffer.getvalue()
    image = Image.open(io.BytesIO(buffer.getvalue())).convert("RGB").quantize(colours, method=Image.Quantize.MEDIANCUT)
    out = io.BytesIO()
    image.save(out, format="png", optimize=True)
    return out.getvalue()


def static_png(fig, width: int | None = None, height: int | None = None) -> bytes:
    """The static twin of a Plotly figure as PNG bytes."""
    return png_bytes(static_figure(fig, width, height))


# ----------------------------------------------------------------------------- skeletons on matplotlib axes

def draw_skeleton_2d(ax, pose, skeleton, palette: int = 0, linewidth: float = 2.0) -> None:
    """Bones of a (J, 2) pose on 2D axes, coloured by body side like the Plotly figures."""
    pose = np.asarray(pose, dtype=np.float64)
    for side, bones in bone_sides(skeleton).items():
        for child, parent in bones:
            ax.plot(*pose[[child, parent]].T, color=PALETTES[palette][side], linewidth=linewidth)


def draw_skeleton_3d(ax, pose, skeleton, palette: int = 0, linewidth: float = 2.0, label: str | None = None) -> None:
    """Bones of a display-frame (J, 3) pose (z up) on 3D axes, coloured by body side."""
    pose = np.asarray(pose, dtype=np.float64)
    for side, bones in bone_sides(skeleton).items():
        for child, parent in bones:
            ax.plot(*pose[[child, parent]].T, color=PALETTES[palette][side], linewidth=linewidth, label=label)
            label = None
