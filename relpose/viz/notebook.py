"""What a notebook shows, stored so that every reader sees it: figures with a static image, widgets with a picture.

GitHub, nbviewer and `jupyter nbconvert --to html` run no JavaScript from the notebook and no kernel:
a Plotly figure stored as JSON only is blank there, and a widget is the text `VBox(children=(...`.

- `register_renderer()` adds the Plotly renderer "relpose" (the notebooks' setup makes it the
  default): each figure is stored as Plotly JSON, compact and rounded
  (relpose.viz.figure_json), which JupyterLab draws interactively, plus a PNG
  of its matplotlib twin (relpose.viz.static), which every other reader shows (and JupyterLab too,
  until the mouse reaches the figure).
- `show_widget(widget, picture)` displays a widget and right after it a static picture of what it
  shows (a matplotlib Figure); `SequenceExplorer` does this by itself. The widget is stored without
  its text form (`VBox(children=(...`): a reader without a kernel would see that line above the picture.
- `measure_shown_figures()` (the notebooks' setup calls it) stores the legibility measurements of
  every matplotlib figure the kernel shows (relpose.viz.legibility) in its PNG's metadata, as
  `show_widget` does for its picture; tests/test_static_images.py checks them.
"""
from __future__ import annotations

import base64
import sys

from plotly.io.base_renderers import PlotlyRenderer

from .figure_json import PLOTLY_MIME, compact_plotly_json
from .legibility import METADATA_KEY, measure
from .static import DPI, png_bytes, static_png

RENDERER = "relpose"
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


class StaticImageRenderer(PlotlyRenderer):
    """Plotly's notebook renderer, plus a static PNG of the figure in the same output."""

    def to_mimebundle(self, fig_dict):
        figure = compact_plotly_json(super().to_mimebundle(fig_dict)[PLOTLY_MIME])
        return {PLOTLY_MIME: figure, "image/png": base64.b64encode(static_png(figure)).decode("ascii")}


def register_renderer(name: str = RENDERER) -> str:
    """Register the renderer under `name` and return the name (for `plotly.io.renderers.default`)."""
    import plotly.io as pio

    pio.renderers[name] = StaticImageRenderer()
    return name


def picture_bundle(picture, caption: str = "static picture of the widget above") -> dict:
    """A display bundle holding `picture` (a matplotlib Figure or PNG bytes) as image/png."""
    if not isinstance(picture, bytes):
        if "matplotlib.pyplot" in sys.modules:  # a pyplot figure would be shown a second time at the cell's end
            sys.modules["matplotlib.pyplot"].close(picture)
        picture = png_bytes(picture)
    return {"image/png": base64.b64encode(picture).decode("ascii"), "text/plain": f"[{caption}]"}


def widget_bundle(widget) -> dict:
    """A widget's display bundle without its text form: nbconvert, GitHub and nbviewer have no widget
    state and would print `VBox(children=(...` instead; JupyterLab draws the widget from the view alone."""
    bundle = widget._repr_mimebundle_() or {}
    return {WIDGET_MIME: bundle[WIDGET_MIME]} if WIDGET_MIME in bundle else {}


def show_widget(widget, picture, caption: str = "static picture of the widget above") -> None:
    """Display `widget`, then a static picture of it (a matplotlib Figure or PNG bytes, or a function
    returning one) for readers without a kernel, with the picture's measurements in its metadata."""
    from IPython.display import display

    view = widget_bundle(widget)
    if view:
        display(view, raw=True)
    picture = picture() if callable(picture) else picture
    measured = None if isinstance(picture, bytes) else measure(picture, DPI)
    display(picture_bundle(picture, caption), raw=True,
            metadata={"image/png": {METADATA_KEY: measured}} if measured else None)


def measure_shown_figures() -> bool:
    """Store every matplotlib figure the kernel shows with its measurements (relpose.viz.legibility) in the
    PNG's metadata. True when done; False outside IPython or without an inline backend (e.g. under
    MPLBACKEND=Agg no figure is shown, so there is nothing to measure)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    if shell is None or not hasattr(shell, "display_formatter"):
        return False
    import matplotlib
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    backend = matplotlib.get_backend()
    if "inline" not in backend:
        return False   # another backend shows figures in windows, or not at all
    plt.switch_backend(backend)   # load it now: the inline backend registers its PNG printer as it loads

    formatter = shell.display_formatter.formatters["image/png"]
    try:
        draw = formatter.lookup_by_type(Figure)
    except KeyError:
        return False
    if getattr(draw, "records_measurements", False):
        return True

    def png_with_measurements(figure):
        png = draw(figure)
        return None if png is None else (png, {METADATA_KEY: measure(figure)})

    png_with_measurements.records_measurements = True
    formatter.for_type(Figure, png_with_measurements)
    return True
