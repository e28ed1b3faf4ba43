"""What a notebook shows, stored so that every reader sees it: figures with a static image, widgets with a picture.

GitHub, nbviewer and `jupyter nbconvert --to html` run no JavaScript from the notebook and no kernel:
a Plotly figure stored as JSON only is blank there, and a widget is the text `VBox(children=(...`.

- `register_renderer()` adds the Plotly renderer "relpose" (the notebooks' setup makes it the
  default): each figure is stored as Plotly JSON, compact and rounded
  (relpose.viz.figure_json), which JupyterLab draws interactively, plus a PNG
  of its matplotlib twin (relpose.viz.static), which every other reader shows (and JupyterLab too,
  until the mouse reaches the figure).
- `show_widget(widget, picture)` displays a widget and right after it a static picture of what it
  shows (a matplotlib Figure); `SequenceExplorer` does this by itself.
"""
from __future__ import annotations

import base64
import sys

from plotly.io.base_renderers import PlotlyRenderer

from .figure_json import PLOTLY_MIME, compact_plotly_json
from .static import png_bytes, static_png

RENDERER = "relpose"


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


def show_widget(widget, picture, caption: str = "static picture of the widget above") -> None:
    """Display `widget`, then a static picture of it (a matplotlib Figure or PNG bytes, or a function
    returning one) for readers without a kernel."""
    from IPython.display import display

    display(widget)
    display(picture_bundle(picture() if callable(picture) else picture, caption), raw=True)
