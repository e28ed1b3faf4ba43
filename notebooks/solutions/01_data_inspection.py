"""Solutions to notebook 01's exercises (data inspection), as code with the numbers it gives.

Run from the kit's top folder: `python notebooks/solutions/01_data_inspection.py` (a few seconds on one CPU
thread; nothing is trained). The numbers come from the synthetic set (quick mode), which the kit generates
identically everywhere, so they are checked tightly.
"""
from __future__ import annotations

import os
import sys
from functools import cache

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from solution_tools import expect, main, quick  # noqa: E402

from relpose import cameras, datasets, skeleton  # noqa: E402
from relpose.lab import data_stats  # noqa: E402
from relpose.lab import settings as lab  # noqa: E402
from relpose.safe_npz import load_npz  # noqa: E402
from relpose.windows import flip_poses  # noqa: E402

SUBJECT, CAMERA = "S9", 2
EXACT = dict(rel=1e-3, abs=1e-3)     # computed without training: the same on every machine, to rounding


@cache
def setup():
    s = quick()
    lab.ensure_data(s)
    spec = datasets.dataset_spec(s.dataset)
    world = load_npz(spec.files(s.keypoints, s.data_dir)[0])["positions_3d"].item()
    return s, spec, world


def world17(subject: str, action: str) -> np.ndarray:
    raw = setup()[2][subject][action]
    return skeleton.reduce_h36m_32_to_17(raw) if raw.shape[1] == 32 else raw


def exercise_1():
    """Camera 2: the distortion shift where a wrist is nearest the image border, and clipping far off-axis."""
    s, spec, world = setup()
    cam = cameras.load_rig(spec.rig)[SUBJECT][CAMERA]
    w, h = cam["res_w"], cam["res_h"]
    wrists = [skeleton.H36M_17.joint_names.index(n) for n in ("LWrist", "RWrist")]
    nearest = None                     # (pixels to the border, action, frame, wrist, shift in px)
    for action in world[SUBJECT]:      # every take of S9: where does a wrist come nearest the border?
        X = cameras.world_to_camera(world17(SUBJECT, action), cam["orientation"], cam["translation"])
        full = cameras.image_coordinates(cameras.project_to_2d(X, cam["intrinsic"]), w, h)
        linear = cameras.image_coordinates(cameras.project_to_2d_linear(X, cam["intrinsic"]), w, h)
        px = full[:, wrists]
        border = np.minimum.reduce([px[..., 0], w - px[..., 0], px[..., 1], h - px[..., 1]])   # (T, 2)
        t, k = np.unravel_index(np.argmin(border), border.shape)
        if nearest is None or border[t, k] < nearest[0]:
            shift = np.linalg.norm(full[t, wrists[k]] - linear[t, wrists[k]])
            nearest = (float(border[t, k]), action, int(t), ("left", "right")[k], float(shift))
    distance, action, frame, side, shift = nearest
    print(f"  {SUBJECT}, camera {CAMERA}: the {side} wrist comes nearest the border in {action}, frame {frame}")
    expect("its distance to the border", distance, 78.4, **EXACT, unit="px")
    expect("the distortion shift there", shift, 10.38, **EXACT, unit="px")
    # Far off-axis, project_to_2d clips x/z and y/z to [-1, 1] before the distortion polynomial (as the published
    # code does): a point 3 m to the side at 1 m depth lands where one 1 m to the side does. Bounded, but wrong.
    far, edge = np.array([[[3.0, 0.0, 1.0]]]), np.array([[[1.0, 0.0, 1.0]]])
    assert np.allclose(cameras.project_to_2d(far, cam["intrinsic"]), cameras.project_to_2d(edge, cam["intrinsic"]))


def exercise_2():
    """Range of motion without subtracting the root, a walk against a seated action."""
    names = skeleton.H36M_17.joint_names
    for action, root_rom, wrist_rel, wrist_abs in (("Walking", 1942.0, 645.6, 1979.0),
                                                   ("Sitting", 0.0, 549.8, 549.8)):
        poses = world17(SUBJECT, action)
        rel = data_stats.range_of_motion(poses, root_relative=True) * 1000
        absolute = data_stats.range_of_motion(poses, root_relative=False) * 1000
        grows = int(np.argmax(absolute - rel))
        print(f"  {action}: the range grows most for {names[grows]} (+{absolute[grows] - rel[grows]:.0f} mm)")
        expect(f"{action}: root, without subtracting the root", float(absolute[0]), root_rom, rel=1e-3, abs=0.1,
               unit="mm")
        wrist = names.index("RWrist")
        expect(f"{action}: right wrist, root-relative", float(rel[wrist]), wrist_rel, rel=1e-3, unit="mm")
        expect(f"{action}: right wrist, absolute", float(absolute[wrist]), wrist_abs, rel=1e-3, unit="mm")
        assert rel[0] == 0.0      # root-relative, the root never moves
    # In a walk every joint's absolute range is dominated by the distance walked (1.9 m here, the root's own range,
    # against 0.65 m for the wrist around the root); in the synthetic seated takes the root does not move at all
    # and the two ranges agree. RIE's
    # positional encoding (each joint minus the root) removes exactly this global part from the input, so the same
    # pose looks the same wherever the person stands.


def exercise_3():
    """Which detected joints are noisiest: per-joint pixel error of `det` against `gt`."""
    s, spec, _ = setup()
    det = load_npz(spec.files("det", s.data_dir)[1])["positions_2d"].item()
    gt = load_npz(spec.files("gt", s.data_dir)[1])["positions_2d"].item()
    errors = np.concatenate([np.linalg.norm(d - g, axis=-1) for subj in gt for act in gt[subj]
                             for d, g in zip(det[subj][act], gt[subj][act])])
    per_joint = errors.mean(axis=0)
    names = skeleton.H36M_17.joint_names
    order = np.argsort(per_joint)[::-1]
    print("  noisiest: " + ", ".join(f"{names[j]} {per_joint[j]:.2f} px" for j in order[:4]))
    print("  least noisy: " + ", ".join(f"{names[j]} {per_joint[j]:.2f} px" for j in order[-3:]))
    expect("mean error over all joints", float(per_joint.mean()), 5.103, rel=1e-3, unit="px")
    assert {names[j] for j in order[:4]} == {"LWrist", "RWrist", "LFoot", "RFoot"}, [names[j] for j in order[:4]]
    # The detector-noise model (relpose.synth) gives the wrists and ankles ('Foot' is the ankle joint) the largest
    # sigma, as real detectors show: they move fastest and are often occluded; the nose and head the smallest.


def exercise_4():
    """Flip a 2D pose: why left and right must be swapped, not only x negated."""
    s = setup()[0]
    ds = lab.load_data(s)
    pose = ds.positions_2d[SUBJECT]["Walking"][0][100]          # normalised screen coordinates
    left, right = ds.kps_left, ds.kps_right
    flipped = flip_poses(pose, left, right)
    negated = pose * np.array([-1.0, 1.0])
    names = skeleton.H36M_17.joint_names
    lw, rw = names.index("LWrist"), names.index("RWrist")
    # The flipped left wrist is the mirror image of the right one: the body's left side is still labelled left.
    assert np.allclose(flipped[lw], [-pose[rw, 0], pose[rw, 1]])
    # Negating alone leaves the label on the other side: the 'left wrist' now sits where a right wrist belongs.
    print(f"  original: LWrist x {pose[lw, 0]:+.3f}, RWrist x {pose[rw, 0]:+.3f}")
    print(f"  x negated only: 'LWrist' x {negated[lw, 0]:+.3f} (on the right side of the mirrored body)")
    print(f"  flipped: LWrist x {flipped[lw, 0]:+.3f} (the mirrored right wrist)")
    assert np.allclose(flip_poses(flipped, left, right), pose)     # flipping twice is the identity
    # A model trained on negated-only poses would learn that the joint called 'left wrist' is on the right:
    # mirrored labels. The flip augmentation swaps the lists so a flipped sample is a valid pose.


def exercise_5():
    """Drop the shoulder rewiring: which bones change, which groups does it touch?"""
    reduced, _ = skeleton.H36M_32.remove_joints(skeleton.H36M_REMOVED_JOINTS)    # shoulders hang from the spine
    rewired = skeleton.H36M_17
    names = rewired.joint_names
    changed = [(names[j], names[p], names[q])
               for j, (p, q) in enumerate(zip(reduced.parents, rewired.parents)) if p != q]
    assert changed == [("LShoulder", "Spine", "Thorax"), ("RShoulder", "Spine", "Thorax")], changed
    pose = world17(SUBJECT, "Walking")
    before = dict(zip(reduced.bones(), reduced.bone_lengths(pose).mean(0) * 1000))
    after = dict(zip(rewired.bones(), rewired.bone_lengths(pose).mean(0) * 1000))
    for shoulder in (11, 14):
        print(f"  {names[shoulder]}: from Spine {before[(shoulder, 7)]:.0f} mm, "
              f"from Thorax {after[(shoulder, 8)]:.0f} mm")
    expect("LShoulder bone from the spine", float(before[(11, 7)]), 295.8, rel=1e-3, unit="mm")
    expect("LShoulder bone from the thorax", float(after[(11, 8)]), 177.2, rel=1e-3, unit="mm")
    groups = [g.name for g in rewired.groups if 11 in g.joints or 14 in g.joints]
    print(f"  groups holding a shoulder: {groups}")
    # The groups list joints, not bones, so no group changes; the drawn skeleton, every bone-length statistic and
    # the kinematic chains of the arms do (the arm now starts at the neck base, as a body does).


if __name__ == "__main__":
    main(__name__)
