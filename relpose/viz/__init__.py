"""relpose.viz: figures, the notebook widget, animations and training curves, on top of the core.

One module per concept; imports point down only (viz reads the core, never the lab or the command line):

- `primitives`: what every figure shares: bones by body side, polylines with gaps, the z-up display
  frame (`display_coordinates`, `UP_AXES`), equal axis ranges, the 3D scene layout, pose and floor traces;
- `figures`: Plotly figures (3D skeletons and the camera rig, 2D keypoints, per-joint errors, a
  kernel-free animation) and `export_html` (plotly.js inline, works offline);
- `explorer`: `SequenceExplorer`, the ipywidgets explorer of 2D inputs, 3D ground truth and predictions;
- `render`: the paper's `--render` animation as GIF/MP4 (matplotlib), `read_video`, `export_predictions`,
  `validate_selection`;
- `curves`: training curves as a PNG (`--export-training-curves`).
"""
from .curves import save_training_curves, training_curves_figure
from .explorer import Sequence, SequenceExplorer
from .figures import export_html, joint_error_figure, keypoints_2d_figure, sequence_animation_figure, skeleton_figure
from .primitives import (PALETTES, SIDES, UP_AXES, bone_sides, check_up_axis, cube_ranges, display_coordinates,
                         floor_trace, joint_side, natural_key, plotly_list, pose_traces, scene_layout,
                         segment_coordinates, segment_index)
from .render import export_predictions, read_video, render_animation, validate_selection

__all__ = [
    "PALETTES", "SIDES", "UP_AXES", "Sequence", "SequenceExplorer", "bone_sides", "check_up_axis", "cube_ranges",
    "display_coordinates", "export_html", "export_predictions", "floor_trace", "joint_error_figure", "joint_side",
    "keypoints_2d_figure", "natural_key", "plotly_list", "pose_traces", "read_video", "render_animation",
    "save_training_curves", "scene_layout", "segment_coordinates", "segment_index", "sequence_animation_figure",
    "skeleton_figure", "training_curves_figure", "validate_selection",
]
