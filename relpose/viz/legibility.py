"""Is a stored picture legible at its stored size? Its smallest text and its panels, in pixels of the image.

GitHub, nbviewer and an HTML export show a notebook's PNGs at their natural size: text drawn at 7 px
stays 7 px, and four panels squeezed into one row stay 180 px wide. So every stored figure is measured
as it is saved, and the measurements are checked against two rules:

- text at least MIN_TEXT_PX pixels (the font size; 10 px is matplotlib's default at 72 dpi);
- each panel (an Axes with its axes drawn; colour bars and axes switched off are not panels) at least
  MIN_PANEL_PX (its longer side, its shorter side: a tall, narrow image panel is fine), a 3D one at
  least MIN_SCENE_PX (width, height).

`measure(figure, dpi)` draws a matplotlib Figure as it is saved at `dpi` and records every text the
renderer draws (not every Text object: tick labels outside the view and hidden axes do not count);
`problems(measurements)` lists what breaks the rules. relpose.viz.notebook records the measurements of
each figure a notebook shows beside its PNG, and tests/test_static_images.py checks every stored one.
"""
from __future__ import annotations

MIN_TEXT_PX = 10.0
MIN_PANEL_PX = (200, 140)   # a 2D panel's longer and shorter side: room for tick labels and a curve or two
MIN_SCENE_PX = (200, 200)   # a 3D panel's width and height: a skeleton needs more room than a curve
METADATA_KEY = "relpose/legibility"   # where a notebook output's image/png metadata keeps the measurements


def _recording_renderer(width: float, height: float, dpi: float, sizes: list):
    from matplotlib.backends.backend_agg import RendererAgg

    class Recorder(RendererAgg):
        def draw_text(self, gc, x, y, s, prop, angle, ismath=False, mtext=None):
            if str(s).strip():
                sizes.append(prop.get_size_in_points())
            return super().draw_text(gc, x, y, s, prop, angle, ismath=ismath, mtext=mtext)

    return Recorder(int(width), int(height), dpi)


def _is_panel(ax) -> bool:
    """An Axes that draws data in a frame with axes: not a colour bar, nor an Axes switched off to hold text
    (3D axes keep their own switch; matplotlib turns off the 2D one they do not use)."""
    if not ax.get_visible() or ax.get_label() == "<colorbar>":
        return False
    return ax.name == "3d" or ax.axison


def measure(figure, dpi: float | None = None) -> dict:
    """What a matplotlib Figure saved at `dpi` (default: its own) shows, in pixels of the saved image:
    {"text_px": smallest text drawn (None without text), "panels_px": [[w, h], ...] of its 2D panels,
    "scenes_px": [[w, h], ...] of its 3D panels}."""
    saved_dpi = float(dpi or figure.dpi)
    sizes: list[float] = []
    width, height = figure.get_size_inches() * figure.dpi
    renderer = _recording_renderer(width, height, figure.dpi, sizes)
    figure.draw(renderer)
    scale = saved_dpi / figure.dpi
    panels, scenes = [], []
    for ax in figure.axes:
        if _is_panel(ax):
            box = ax.get_window_extent(renderer)
            (scenes if ax.name == "3d" else panels).append([round(float(box.width) * scale, 1),
                                                            round(float(box.height) * scale, 1)])
    return {"text_px": round(float(min(sizes)) * saved_dpi / 72, 2) if sizes else None, "panels_px": panels,
            "scenes_px": scenes}


def problems(measurements: dict) -> list[str]:
    """What is too small in a figure's measurements (as `measure` returns them), one line each."""
    out = []
    text = measurements.get("text_px")
    if text is not None and text < MIN_TEXT_PX - 0.01:
        out.append(f"text of {text:g} px (at least {MIN_TEXT_PX:g} px)")
    long, short = MIN_PANEL_PX
    for w, h in measurements.get("panels_px") or []:
        if max(w, h) < long or min(w, h) < short:
            out.append(f"a panel of {w:g} x {h:g} px (at least {long} px along its longer side, {short} px along "
                       "the other)")
    for w, h in measurements.get("scenes_px") or []:
        if w < MIN_SCENE_PX[0] or h < MIN_SCENE_PX[1]:
            out.append(f"a 3D panel of {w:g} x {h:g} px (at least {MIN_SCENE_PX[0]} x {MIN_SCENE_PX[1]} px)")
    return out
