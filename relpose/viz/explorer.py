"""The sequence explorer: a notebook widget to scrub through 2D inputs, 3D ground truth and predictions.

Subject / action / camera menus pick a sequence (`Sequence`: one camera view of one action); a
frame slider and a play button move through it, with the 2D keypoints in pixels on the left and
the root-relative 3D ground truth and prediction on the right, plus the frame's MPJPE and worst
joint. Everything a frame needs is precomputed once per sequence, so moving the slider only swaps
trace coordinates in place. The drawing helpers come from relpose.viz.primitives.
Needs a Jupyter kernel (ipywidgets); without one use relpose.viz.sequence_animation_figure. Shown
in a notebook it is followed by `static_picture()`, a frame strip for readers without a kernel.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go

from ..cameras import image_coordinates
from ..errors import UserError
from .figures import keypoints_2d_figure
from .notebook import show_widget
from .primitives import (SIDES, UP_AXES, bone_sides, check_up_axis, cube_ranges, display_coordinates, floor_trace,
                         natural_key, plotly_list, pose_traces, scene_layout, segment_coordinates, segment_index)
from .static import DEFAULT_EYE, DPI, draw_skeleton_2d, draw_skeleton_3d, view_angles


@dataclass
class Sequence:
    """One camera view of one action: 2D input in normalised screen coordinates (the model's input),
    absolute camera-space 3D ground truth in metres (or None), and the camera's resolution."""

    keypoints_2d: np.ndarray
    poses_3d: np.ndarray | None = None
    res_w: int = 1000
    res_h: int = 1000


class SequenceExplorer:
    """Scrub through sequences: 2D input and 3D ground truth / prediction linked to one frame slider.

    `sequences` maps (subject, action, camera) to a `Sequence`. Predictions come precomputed
    (`predictions[(subject, action, camera)] -> (T, J, 3)`) or lazily from `predict_fn(keypoints_2d)`,
    called once per sequence when it is first shown. Per-frame line coordinates are precomputed per
    sequence, so a frame change only swaps trace data in place (no figure rebuild).
    Predictions and ground truth are shown root-relative (as the metric sees them); the trajectory
    toggle adds the ground-truth root trajectory to both and draws the root's path.
    """

    def __init__(self, sequences: dict, skeleton, *, predictions: dict | None = None, predict_fn=None,
                 up_axis: str = "-y", fps: float = 50, height: int = 420):
        import ipywidgets as widgets  # only the widget needs a kernel-side dependency

        if not sequences:
            raise UserError("SequenceExplorer needs at least one sequence")
        self.sequences, self.skeleton, self.up_axis = dict(sequences), skeleton, check_up_axis(up_axis)
        self.predictions, self.predict_fn = dict(predictions or {}), predict_fn
        self._indices = {side: segment_index(b) for side, b in bone_sides(skeleton).items()}
        self._seq: dict | None = None
        self._busy = False

        self.subject_dropdown = widgets.Dropdown(description="subject", options=sorted(
            {k[0] for k in self.sequences}, key=natural_key), layout=widgets.Layout(width="180px"))
        self.action_dropdown = widgets.Dropdown(description="action", layout=widgets.Layout(width="260px"))
        self.camera_dropdown = widgets.Dropdown(description="camera", layout=widgets.Layout(width="150px"))
        self.frame_slider = widgets.IntSlider(description="frame", min=0, max=0, layout=widgets.Layout(width="420px"))
        self.play = widgets.Play(interval=max(1, int(1000 / fps)), min=0, max=0, step=1)
        widgets.jslink((self.play, "value"), (self.frame_slider, "value"))  # runs in the browser, no round trip
        self.gt_toggle = widgets.Checkbox(value=True, description="ground truth", indent=False)
        self.prediction_toggle = widgets.Checkbox(value=True, description="prediction", indent=False)
        self.trajectory_toggle = widgets.Checkbox(value=False, description="trajectory", indent=False)
        self.readout = widgets.HTML()

        fig2d = keypoints_2d_figure(np.zeros((skeleton.num_joints, 2)), skeleton, 1000, 1000, height=height)
        fig2d.update_layout(width=int(height * 1.05), legend=dict(orientation="h", y=1.1), margin_t=40)
        self.fig_2d = go.FigureWidget(fig2d)
        self.fig_3d = go.FigureWidget(self._empty_3d_figure(height))
        self.widget = widgets.VBox([
            widgets.HBox([self.subject_dropdown, self.action_dropdown, self.camera_dropdown]),
            widgets.HBox([self.play, self.frame_slider, self.gt_toggle, self.prediction_toggle,
                          self.trajectory_toggle]),
            self.readout,
            widgets.HBox([self.fig_2d, self.fig_3d]),
        ])
        for dropdown in (self.subject_dropdown, self.action_dropdown, self.camera_dropdown):
            dropdown.observe(self._on_selection, names="value")
        self.frame_slider.observe(lambda change: self._show_frame(change["new"]), names="value")
        for toggle in (self.gt_toggle, self.prediction_toggle):
            toggle.observe(lambda change: self._apply_visibility(), names="value")
        self.trajectory_toggle.observe(lambda change: self._show_sequence(keep_frame=True), names="value")
        self._on_selection()

    @classmethod
    def from_dataset(cls, dataset, *, subjects=None, actions=None, predictions=None, predict_fn=None,
                     skeleton=None, trajectory_in_root: bool = True, **kwargs) -> "SequenceExplorer":
        """Build from a PoseDataset (positions_2d / positions_3d per subject, action, camera; cameras).

        predict_fn(keypoints_2d (T, J, 2) normalised) -> (T, J, 3) runs lazily, once per shown sequence.
        """
        sequences = {}
        for key, kps, pos3d, cam in _dataset_views(dataset, trajectory_in_root):
            if (subjects is None or key[0] in subjects) and (actions is None or key[1] in actions):
                sequences[key] = Sequence(kps, pos3d, int(cam.get("res_w", 1000)), int(cam.get("res_h", 1000)))
        if not sequences:
            raise UserError(f"no sequences for subjects={subjects} actions={actions} in the data set")
        skeleton = skeleton or (dataset.skeleton() if callable(dataset.skeleton) else dataset.skeleton)
        return cls(sequences, skeleton, predictions=predictions, predict_fn=predict_fn, **kwargs)

    # --- public helpers -------------------------------------------------------------------------
    def set_frame(self, i: int) -> None:
        self.frame_slider.value = int(i)

    def select(self, subject, action, camera) -> None:
        """Choose a sequence from Python (same effect as the three dropdowns)."""
        if (subject, action, camera) not in self.sequences:
            raise UserError(f"no sequence ({subject!r}, {action!r}, {camera!r}) in this explorer")
        self._busy = True
        try:
            self.subject_dropdown.value = subject
            self._fill_options()
            self.action_dropdown.value = action
            self._fill_options()
            self.camera_dropdown.value = camera
        finally:
            self._busy = False
        self._show_sequence()

    @property
    def key(self):
        return self._seq["key"] if self._seq else None

    def frame_errors_mm(self) -> np.ndarray | None:
        """Per-joint error (mm) of the current frame, or None without ground truth or prediction."""
        errors = self._seq["errors"]
        return None if errors is None else errors[self.frame_slider.value]

    def static_picture(self, frames=None, count: int = 3):
        """A frame strip of the shown sequence as a matplotlib Figure, for readers without a kernel:
        per frame the 2D input in pixels above the root-relative 3D ground truth (light) and prediction.

        `frames` (indices) defaults to `count` frames evenly spread over the sequence.
        """
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        from matplotlib.ticker import MaxNLocator

        seq = self._seq
        frames = np.linspace(0, seq["T"] - 1, count).round().astype(int) if frames is None else np.asarray(frames)
        if len(frames) == 0 or frames.min() < 0 or frames.max() >= seq["T"]:
            raise UserError(f"static_picture frames must lie in 0..{seq['T'] - 1}, got {list(frames)}")
        view = seq["views"][False]
        shown_2d = seq["pixels"][frames].reshape(-1, 2)  # crop the image to the person, the same for all frames
        (x0, y0), (x1, y1) = shown_2d.min(axis=0), shown_2d.max(axis=0)
        pad = 0.15 * max(x1 - x0, y1 - y0, 1.0)
        fig = Figure(figsize=(3.6 * len(frames), 7.6), dpi=DPI)  # panels and text legible at the stored size
        FigureCanvasAgg(fig)
        for k, i in enumerate(frames):
            ax = fig.add_subplot(2, len(frames), k + 1)
            draw_skeleton_2d(ax, seq["pixels"][i], self.skeleton)
            ax.set(xlim=(x0 - pad, x1 + pad), ylim=(y1 + pad, y0 - pad), aspect="equal")  # image y points down
            ax.set_title(f"frame {i}", fontsize=11)
            ax3d = fig.add_subplot(2, len(frames), len(frames) + k + 1, projection="3d")
            for palette, name in ((1, "ground truth"), (0, "prediction")):
                if name in view["poses"]:
                    draw_skeleton_3d(ax3d, view["poses"][name][i], self.skeleton, palette=palette,
                                     linewidth=3.5 if palette else 2, label=name if k == 0 else None)
            ax3d.set(xlim=view["ranges"][0], ylim=view["ranges"][1], zlim=view["ranges"][2])
            ax3d.set_box_aspect((1, 1, 1))
            ax3d.view_init(*view_angles(DEFAULT_EYE))
            ax3d.tick_params(labelsize=10, pad=0)
            for axis in (ax3d.xaxis, ax3d.yaxis, ax3d.zaxis):
                axis.set_major_locator(MaxNLocator(3))
            if seq["errors"] is not None:
                ax3d.set_title(f"MPJPE {seq['errors'][i].mean():.1f} mm", fontsize=11)
        s, a, c = seq["key"]
        fig.suptitle(f"{s} · {a} · camera {c}: 2D input (px, cropped) and 3D (m, root-relative)", fontsize=11)
        if fig.axes[1].get_legend_handles_labels()[0]:
            fig.legend(*fig.axes[1].get_legend_handles_labels(), loc="lower center", ncol=2, fontsize=10, frameon=False)
        fig.subplots_adjust(left=0.07, right=0.98, top=0.92, bottom=0.07, wspace=0.2, hspace=0.15)
        return fig

    # --- internals ------------------------------------------------------------------------------
    def _empty_3d_figure(self, height: int) -> go.Figure:
        fig = go.Figure()
        zero = np.zeros((self.skeleton.num_joints, 3))
        sides = bone_sides(self.skeleton)
        for trace in pose_traces("ground truth", zero, sides, palette=1, width=9):
            fig.add_trace(trace)
        for trace in pose_traces("prediction", zero, sides, palette=0, width=5):
            fig.add_trace(trace)
        fig.add_trace(go.Scatter3d(x=[0], y=[0], z=[0], mode="lines", name="trajectory",
                                   line=dict(color="#9467bd", width=3), visible=False))
        fig.add_trace(floor_trace([[-1, 1]] * 3, 0.0))
        fig.update_layout(height=height, width=int(height * 1.6), margin=dict(l=0, r=0, t=10, b=0),
                          uirevision="keep-camera", legend=dict(x=0, y=1))
        return fig

    def _fill_options(self) -> None:
        """Cascade: actions of the chosen subject, cameras of the chosen (subject, action)."""
        s = self.subject_dropdown.value
        actions = sorted({k[1] for k in self.sequences if k[0] == s}, key=natural_key)
        if list(self.action_dropdown.options) != actions:
            keep = self.action_dropdown.value
            self.action_dropdown.options = actions
            self.action_dropdown.value = keep if keep in actions else actions[0]
        a = self.action_dropdown.value
        cams = sorted(k[2] for k in self.sequences if k[0] == s and k[1] == a)
        if [v for _, v in self.camera_dropdown.options] != cams:
            keep = self.camera_dropdown.value
            self.camera_dropdown.options = [(str(c), c) for c in cams]
            self.camera_dropdown.value = keep if keep in cams else cams[0]

    def _on_selection(self, change=None) -> None:
        if self._busy:
            return
        self._busy = True
        try:
            self._fill_options()
        finally:
            self._busy = False
        self._show_sequence()

    def _prediction(self, key, seq: Sequence):
        if key not in self.predictions and self.predict_fn is not None:
            self.predictions[key] = np.asarray(self.predict_fn(seq.keypoints_2d))
        pred = self.predictions.get(key)
        expected = (len(seq.keypoints_2d), self.skeleton.num_joints, 3)
        if pred is not None and pred.shape != expected:
            raise UserError(f"prediction for {key} has shape {pred.shape}, expected {expected}")
        return pred

    def _prepare(self, key) -> dict:
        """Everything a frame update needs, as arrays over the whole sequence (done once per sequence)."""
        seq = self.sequences[key]
        T = len(seq.keypoints_2d)
        pixels = image_coordinates(np.asarray(seq.keypoints_2d, np.float64), seq.res_w, seq.res_h)
        gt = None if seq.poses_3d is None else np.asarray(seq.poses_3d, np.float64)
        pred = self._prediction(key, seq)
        pred = None if pred is None else pred.astype(np.float64)
        traj = gt[:, :1] if gt is not None else np.zeros((T, 1, 3))
        rel = {name: p - p[:, :1] for name, p in (("ground truth", gt), ("prediction", pred)) if p is not None}
        errors = None
        if gt is not None and pred is not None:
            errors = np.linalg.norm(rel["prediction"] - rel["ground truth"], axis=-1) * 1000  # (T, J) mm
        views = {}
        for with_traj in (False, True):
            shown = {n: display_coordinates(p + traj * with_traj, self.up_axis) for n, p in rel.items()}
            path = display_coordinates(traj[:, 0] * with_traj, self.up_axis)
            pts = np.concatenate([p.reshape(-1, 3) for p in shown.values()] + [path])
            views[with_traj] = dict(
                segs={n: {s: segment_coordinates(p, idx) for s, idx in self._indices.items()}
                      for n, p in shown.items()},
                poses=shown, path=path, ranges=cube_ranges(pts), floor=float(np.nanmin(pts[:, 2])))
        segs2d = {s: segment_coordinates(pixels, idx) for s, idx in self._indices.items()}
        return dict(key=key, T=T, res=(seq.res_w, seq.res_h), pixels=pixels, segs2d=segs2d, views=views,
                    errors=errors)

    def _show_sequence(self, keep_frame: bool = False) -> None:
        key = (self.subject_dropdown.value, self.action_dropdown.value, self.camera_dropdown.value)
        if self._seq is None or self._seq["key"] != key:
            self._seq = self._prepare(key)
            keep_frame = False
        seq, view = self._seq, self._seq["views"][self.trajectory_toggle.value]
        frame = min(self.frame_slider.value, seq["T"] - 1) if keep_frame else 0
        self._busy = True
        try:
            self.frame_slider.max = self.play.max = seq["T"] - 1
            self.frame_slider.value = self.play.value = frame
        finally:
            self._busy = False
        titles = UP_AXES[self.up_axis][1]
        with self.fig_3d.batch_update(), self.fig_2d.batch_update():
            self.fig_3d.layout.scene.update(scene_layout(view["ranges"], titles))
            (x0, x1), (y0, y1) = view["ranges"][:2]
            floor = self.fig_3d.data[-1]
            floor.x, floor.y, floor.z = [x0, x1], [y0, y1], [[view["floor"]] * 2] * 2
            path = self.fig_3d.data[-2]
            path.x, path.y, path.z = view["path"][:, 0], view["path"][:, 1], view["path"][:, 2]
            self.fig_2d.layout.xaxis.range = [0, seq["res"][0]]
            self.fig_2d.layout.yaxis.range = [seq["res"][1], 0]
        self._apply_visibility()
        self._show_frame(frame)

    def _apply_visibility(self) -> None:
        if self._seq is None:
            return
        segs = self._seq["views"][False]["segs"]
        show = {"ground truth": self.gt_toggle.value and "ground truth" in segs,
                "prediction": self.prediction_toggle.value and "prediction" in segs}
        with self.fig_3d.batch_update():
            for k, name in enumerate(("ground truth", "prediction")):
                for trace in self.fig_3d.data[3 * k:3 * k + 3]:
                    trace.visible = show[name]
            self.fig_3d.data[-2].visible = self.trajectory_toggle.value

    def _show_frame(self, i: int) -> None:
        if self._seq is None or self._busy:
            return
        seq = self._seq
        view = seq["views"][self.trajectory_toggle.value]
        with self.fig_3d.batch_update(), self.fig_2d.batch_update():
            for trace, side in zip(self.fig_2d.data, SIDES):
                pts = seq["segs2d"][side][i]
                trace.x, trace.y = plotly_list(pts[:, 0]), plotly_list(pts[:, 1])
            for k, name in enumerate(("ground truth", "prediction")):
                if name not in view["segs"]:
                    continue
                for trace, side in zip(self.fig_3d.data[3 * k:3 * k + 3], SIDES):
                    pts = view["segs"][name][side][i]
                    trace.x, trace.y, trace.z = plotly_list(pts[:, 0]), plotly_list(pts[:, 1]), plotly_list(pts[:, 2])
        s, a, c = seq["key"]
        text = f"<b>{s} · {a} · camera {c}</b> — frame {i} / {seq['T'] - 1}"
        if seq["errors"] is None:
            text += " · MPJPE n/a (needs ground truth and a prediction)"
        else:
            e = seq["errors"][i]
            worst = int(np.argmax(e))
            name = self.skeleton.joint_names[worst] if self.skeleton.joint_names else str(worst)
            text += (f" · MPJPE {e.mean():.1f} mm · worst joint {name} ({e[worst]:.1f} mm)"
                     f" · sequence MPJPE {seq['errors'].mean():.1f} mm")
        self.readout.value = text

    def _ipython_display_(self):  # noqa: D401  (a bare `explorer` in a cell shows the widget and its picture)
        s, a, c = self._seq["key"]
        show_widget(self.widget, self.static_picture,
                    caption=f"static picture of the explorer: {s} · {a} · camera {c}, frames across the sequence")


def _dataset_views(dataset, trajectory_in_root: bool = True):
    """Yield ((subject, action, camera), keypoints_2d, absolute camera-space 3D or None, camera dict).

    Reads PoseDataset's `positions_2d` / `positions_3d` (subject -> action -> one array per camera)
    and `cameras`. With trajectory_in_root (PoseDataset's layout, as VideoPose3D keeps it: joint 0 =
    trajectory, other joints root-relative) the 3D is turned back into absolute positions.
    """
    pos2d, pos3d = getattr(dataset, "positions_2d", None), getattr(dataset, "positions_3d", None)
    cameras = dataset.cameras() if callable(getattr(dataset, "cameras", None)) else getattr(dataset, "cameras", {})
    if pos2d is None:
        raise UserError("SequenceExplorer.from_dataset needs a data set with positions_2d "
                        "(subject -> action -> cameras)")
    for subject in pos2d:
        cams = cameras.get(subject, [])
        for action, views in pos2d[subject].items():
            for c, kps in enumerate(views):
                p3 = None
                if pos3d is not None and action in pos3d.get(subject, {}):
                    p3 = np.array(pos3d[subject][action][c], dtype=np.float64)
                    if trajectory_in_root:
                        p3[:, 1:] += p3[:, :1]
                    n = min(len(p3), len(kps))
                    p3, kps = p3[:n], kps[:n]
                yield (subject, action, c), np.asarray(kps), p3, (cams[c] if c < len(cams) else {})
