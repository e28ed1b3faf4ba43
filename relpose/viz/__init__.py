"""relpose.viz: figures, the notebook widget, animations and training curves, on top of the core.

One module per concept; imports point down only (viz reads the core, never the lab or the command line):

- `primitives`: what every figure shares: bones by body side, polylines with gaps, the z-up display
  frame (`display_coordinates`, `UP_AXES`), equal axis ranges, the 3D scene layout, pose and floor traces;
- `figures`: Plotly figures (3D skeletons and the camera rig, 2D keypoints, per-joint errors, a
  kernel-free animation) and `export_html` (plotly.js inline, works offline);
- `explorer`: `SequenceExplorer`, the ipywidgets explorer of 2D inputs, 3D ground truth and predictions,
  with `static_picture()`, a frame strip shown after it for readers without a kernel;
- `static`: the matplotlib twin of a Plotly figure (`static_figure`, `static_png`), no browser needed;
- `figure_json`: Plotly JSON as notebooks store it (`compact_plotly_json`: rounded plain numbers);
- `notebook`: the Plotly renderer that stores that twin as a PNG beside the figure's JSON
  (`register_renderer`), `show_widget(widget, picture)` (the widget without its text form, then its
  picture) and `measure_shown_figures` (each matplotlib figure a kernel shows keeps its measurements);
- `legibility`: a figure's smallest text and panel sizes in pixels of the stored image (`measure`), and
  what is too small to read (`problems`);
- `render`: the paper's `--render` animation as GIF/MP4 (matplotlib), `read_video`, `export_predictions`,
  `validate_selection`;
- `curves`: training curves as a PNG (`--export-training-curves`), without touching matplotlib's backend;
- `architecture`: the RIE architecture drawn from a ModelConfig, with the tensor shape on every arrow;
- `robustness`: the robustness lab's figures (perturbation examples, the ablation's curves and speed bins);
- `variety`: what the synthetic data covers: the motion library's poses on a child and an adult
  (`poses_figure`), and one pose of the broad set as its four cameras see it, with a top view of where they
  stand (`camera_views_figure`, `broad_set_view`).

Nothing is imported until it is used (`viz.skeleton_figure` imports relpose.viz.figures then): `--render`
and the command line load matplotlib's renderer without Plotly, ipywidgets or IPython.
"""
from __future__ import annotations

import importlib

# Each public name and the module it lives in; `__getattr__` imports that module the first time it is asked for.
HOMES = {
    "curves": ("save_training_curves", "training_curves_figure"),
    "explorer": ("Sequence", "SequenceExplorer"),
    "figure_json": ("PLOTLY_MIME", "compact_plotly_json"),
    "figures": ("export_html", "joint_error_figure", "keypoints_2d_figure", "sequence_animation_figure",
                "skeleton_figure"),
    "notebook": ("StaticImageRenderer", "picture_bundle", "register_renderer", "show_widget"),
    "primitives": ("PALETTES", "SIDES", "UP_AXES", "bone_sides", "check_up_axis", "cube_ranges",
                   "display_coordinates", "floor_trace", "joint_side", "natural_key", "plotly_list", "pose_traces",
                   "scene_layout", "segment_coordinates", "segment_index"),
    "render": ("export_predictions", "read_video", "render_animation", "render_take", "validate_selection"),
    "static": ("draw_skeleton_2d", "draw_skeleton_3d", "png_bytes", "static_figure", "static_png"),
    "variety": ("broad_set_view", "camera_views_figure", "poses_figure"),
}
_HOME_OF = {name: module for module, names in HOMES.items() for name in names}
MODULES = ("architecture", "curves", "explorer", "figure_json", "figures", "notebook", "primitives", "render",
           "robustness", "static", "variety")

__all__ = sorted(_HOME_OF, key=str.lower)


def __getattr__(name: str):
    if name in _HOME_OF:
        value = getattr(importlib.import_module(f"{__name__}.{_HOME_OF[name]}"), name)
    elif name in MODULES:
        value = importlib.import_module(f"{__name__}.{name}")
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value   # found once; later look-ups do not come here
    return value


def __dir__():
    return sorted(set(globals()) | set(_HOME_OF) | set(MODULES))
