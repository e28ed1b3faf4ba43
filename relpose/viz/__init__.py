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
- `curves`: training curves as a PNG (`--export-training-curves`), without touching matplotlib's backend.
"""
from .curves import save_training_curves, training_curves_figure
from .explorer import Sequence, SequenceExplorer
from .figure_json import PLOTLY_MIME, compact_plotly_json
from .figures import export_html, joint_error_figure, keypoints_2d_figure, sequence_animation_figure, skeleton_figure
from .notebook import StaticImageRenderer, picture_bundle, register_renderer, show_widget
from .primitives import (PALETTES, SIDES, UP_AXES, bone_sides, check_up_axis, cube_ranges, display_coordinates,
                         floor_trace, joint_side, natural_key, plotly_list, pose_traces, scene_layout,
                         segment_coordinates, segment_index)
from .render import export_predictions, read_video, render_animation, render_take, validate_selection
from .static import draw_skeleton_2d, draw_skeleton_3d, png_bytes, static_figure, static_png

__all__ = [
    "bone_sides", "check_up_axis", "compact_plotly_json", "cube_ranges", "display_coordinates", "draw_skeleton_2d",
    "draw_skeleton_3d", "export_html", "export_predictions", "floor_trace", "joint_error_figure", "joint_side",
    "keypoints_2d_figure", "natural_key", "PALETTES", "picture_bundle", "plotly_list", "PLOTLY_MIME", "png_bytes",
    "pose_traces", "read_video", "register_renderer", "render_animation", "render_take", "save_training_curves", "scene_layout",
    "segment_coordinates", "segment_index", "Sequence", "sequence_animation_figure", "SequenceExplorer",
    "show_widget", "SIDES", "skeleton_figure", "static_figure", "static_png", "StaticImageRenderer",
    "training_curves_figure", "UP_AXES", "validate_selection",
]
