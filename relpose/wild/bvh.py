"""BVH export of lifted poses: a skeleton whose bones keep one length, and joint rotations fitted to the positions.

A BVH file (Biovision Hierarchy) holds a skeleton (a tree of joints with fixed offsets) and, per frame, the
root's position and every joint's rotation; a reader (Blender, MotionBuilder, most mocap tools) rebuilds the
positions by forward kinematics. Lifted poses are positions with bones that change length from frame to frame,
so they are first fitted: `write_bvh` writes a skeleton with constant bones pointing where the lifted bones
point, and reports how far its joints are from the lifted ones (`BvhFit`).

Conventions (a BVH file cannot record them; these are the ones most readers assume):

- **Y up, right-handed, centimetres** (what Blender's BVH importer assumes by default). Camera-space poses
  (x right, y down, z forward, what the model predicts; axes="camera") become (x, -y, -z): up is the camera's
  -y (a camera tilted down tilts the floor with it), and a person facing the camera faces +Z with their left
  side at +X; the BVH frame is the video camera's in the OpenGL convention. World positions with z up
  (axes="z-up", VideoPose3D's world) become (x, z, -y); axes="y-up" are kept.
- **Rest pose: a T-pose** built from the fitted bone lengths: legs straight down (-Y), spine, neck and head
  straight up (+Y), hips, shoulders and arms out to the sides (left +X, right -X), facing +Z. From a T-pose the
  usual poses need turns well below 180 degrees, where a bone's shortest arc (below) is undefined.
- **Bone lengths**: each bone's median length over the frames, then averaged with its mirror image
  (left and right thigh get one length) unless symmetric=False: a person is close to symmetric, and the
  average halves the lifting noise.
- **Hierarchy**: the skeleton's joints (Human3.6M-17: Hip, RHip, ... ; HumanEva-15 works too) keep their names.
  A joint without children (ankles, wrists, head top) is the End Site of its parent (End Sites have no name
  in a BVH file). A joint with several children (the pelvis "Hip", the "Thorax") gets one extra joint per
  child at its own position, named PARENT_CHILD (Hip_RHip, Hip_LHip, Hip_Spine, Thorax_Nose, Thorax_LShoulder,
  Thorax_RShoulder): the spine bends and the shoulders shrug relative to the pelvis and chest, which one rigid
  joint cannot follow. So every joint is placed exactly where the lifted one points; only lengths differ.
- **Rotations**: a joint with several children turns by the least-squares rotation (Wahba's problem,
  scipy's `Rotation.align_vectors`) that takes its children's rest directions to the observed ones; every other
  joint (one child) by the shortest arc in its parent's frame, so it adds no twist of its own: the thigh
  twists with the pelvis (its left-right axis), the forearm with the upper arm.
- **Channels**: the root has Xposition Yposition Zposition and three rotations, every other joint three
  rotations, in degrees. As every BVH reader composes them, a joint's rotation is R1 R2 R3 with R1 about the
  axis of the first channel listed (intrinsic order). The order puts each bone's rest axis in the middle, so
  that a shortest arc meets gimbal lock only at a 180-degree turn: ZYX for the bones along Y in the T-pose
  (legs, spine, neck, head), ZXY for those along X (hips, shoulders, arms) and for the root and thorax (whose
  lock is a 90-degree pitch: lying down). euler_order="ZXY" writes one order for all joints.
  Angles are kept continuous over time (of the two Euler triples of a rotation, the one nearer the previous
  frame, then unwrapped), so a person turning round twice ends at 720 degrees, not jumping back.
- **Root position**: the first joint's position (zero for root-relative poses: the pelvis stays at the origin)
  plus `trajectory` when given.
"""
from __future__ import annotations

import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.spatial.transform import Rotation

from ..custom_keypoints import MAX_FRAMES, check_fps
from ..errors import UserError
from ..files import atomic_path, check_output_file
from ..skeleton import H36M_17, Skeleton

CM_PER_M = 100.0
DECIMALS = 4           # written decimals: 1e-4 degree and 1e-4 cm (1 micrometre)
_ROWS_PER_WRITE = 1000

# The three frames poses may come in, each mapped to the BVH's Y-up frame by a proper rotation.
AXES = {
    "camera": "x right, y down, z forward (camera space, as the model predicts)",
    "z-up": "world, z up",
    "y-up": "world, y up (the BVH frame)",
}
_TO_Y_UP = {
    "camera": np.diag([1.0, -1.0, -1.0]),
    "z-up": np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]]),
    "y-up": np.eye(3),
}

_UP, _DOWN, _SIDE = (0.0, 1.0, 0.0), (0.0, -1.0, 0.0), "side"
# Rest direction of the bone that ends at a joint, by the joint's name without its L/R prefix.
_REST_DIRECTIONS = {"Spine": _UP, "Thorax": _UP, "Neck": _UP, "Nose": _UP, "Head": _UP,
                    "Knee": _DOWN, "Foot": _DOWN, "Ankle": _DOWN,
                    "Hip": _SIDE, "Shoulder": _SIDE, "Elbow": _SIDE, "Wrist": _SIDE}


def check_axes(axes: str, flag: str = "axes") -> str:
    if axes not in AXES:
        raise UserError(f"{flag} '{axes}': unknown axes; use one of {', '.join(AXES)} "
                        f"({'; '.join(f'{k}: {v}' for k, v in AXES.items())})")
    return axes


def to_bvh_frame(points, axes: str = "camera") -> np.ndarray:
    """Points (..., 3) in `axes` (see AXES) -> the BVH's Y-up frame, same units."""
    return np.asarray(points, dtype=float) @ _TO_Y_UP[check_axes(axes)].T


def rest_direction(name: str) -> np.ndarray:
    """Unit direction, in the T-pose, of the bone that ends at joint `name` (Y up, facing +Z, left +X)."""
    side = name[:1] if len(name) > 1 and name[0] in "LR" and name[1].isupper() else ""
    base = name[len(side):]
    if base not in _REST_DIRECTIONS:
        raise UserError(f"joint '{name}': no T-pose direction is known for it; the BVH export knows the joints "
                        f"{', '.join(sorted(_REST_DIRECTIONS))} (with L/R prefixes for sides)")
    direction = _REST_DIRECTIONS[base]
    if direction == _SIDE:
        if not side:
            raise UserError(f"joint '{name}': a {base} needs an L or R prefix to say which side it is on")
        direction = (1.0, 0.0, 0.0) if side == "L" else (-1.0, 0.0, 0.0)
    return np.array(direction)


# ------------------------------------------------------------------------------------------- skeleton
@dataclass(frozen=True)
class BvhSkeleton:
    """The BVH's tree, in file order (every parent before its children). Each node is a JOINT (the root
    first), an extra branch joint of a joint with several children, or an End Site."""

    names: tuple[str, ...]       # a pose joint's name; PARENT_CHILD for a branch (End Sites keep their joint's)
    parents: tuple[int, ...]     # parent node, -1 for the root
    offsets: np.ndarray          # (N, 3) metres, from the parent node, rest pose (T-pose), BVH frame
    joint: tuple[int, ...]       # the pose joint at each node; -1 for a branch
    end_site: tuple[bool, ...]
    orders: tuple[str, ...]      # intrinsic Euler order of each rotating node ('' for End Sites)
    bone_lengths: np.ndarray     # (J,) metres, the bone ending at each pose joint (0 for the root)
    rest_directions: np.ndarray  # (J, 3) unit T-pose direction of the bone ending at each pose joint (0 for the root)

    def children(self, node: int) -> list[int]:
        return [n for n, p in enumerate(self.parents) if p == node]

    def targets(self, node: int) -> list[int]:
        """The pose joints whose directions a rotating node's rotation is fitted to."""
        return [self.joint[k] if self.joint[k] >= 0 else self.joint[self.children(k)[0]]
                for k in self.children(node)]

    def source(self, node: int) -> int:
        """The pose joint at a node's position (a branch sits at its parent's joint)."""
        return self.joint[node] if self.joint[node] >= 0 else self.joint[self.parents[node]]


def fitted_bone_lengths(poses: np.ndarray, skeleton: Skeleton, symmetric: bool = True) -> np.ndarray:
    """(J,) metres: the median over frames of each bone (indexed by its child joint; 0 for the root), averaged
    with its mirror bone when `symmetric`."""
    lengths = np.zeros(skeleton.num_joints)
    for child, parent in skeleton.bones():
        lengths[child] = np.median(np.linalg.norm(poses[:, child] - poses[:, parent], axis=-1))
    if symmetric and skeleton.joints_left:
        lengths = 0.5 * (lengths + lengths[skeleton.symmetry_permutation()])
    return lengths


def build_skeleton(skeleton: Skeleton, bone_lengths: np.ndarray, euler_order: str = "auto") -> BvhSkeleton:
    """The BVH tree of `skeleton` in a T-pose with the given bone lengths (see the module's docstring)."""
    if not skeleton.joint_names:
        raise UserError(f"skeleton {skeleton.name} has no joint names; the BVH export needs them")
    if euler_order != "auto" and sorted(euler_order) != ["X", "Y", "Z"]:
        raise UserError(f"euler order '{euler_order}': give 'auto' or three different axes such as ZXY")
    roots = [j for j, p in enumerate(skeleton.parents) if p < 0]
    if roots != [0]:
        raise UserError(f"skeleton {skeleton.name}: the BVH export needs joint 0 as its only root, found {roots}")
    kids = skeleton.children()
    direction = {j: rest_direction(skeleton.joint_names[j]) for j in range(1, skeleton.num_joints)}
    nodes: list[tuple] = []   # (name, parent node, offset, pose joint, is an End Site, Euler order)

    def order_for(rest_axis: np.ndarray | None) -> str:
        if euler_order != "auto":
            return euler_order
        return "ZYX" if rest_axis is not None and abs(rest_axis[1]) > 0.5 else "ZXY"

    def add(*node) -> int:
        nodes.append(node)
        return len(nodes) - 1

    def visit(j: int, parent_node: int) -> None:
        offset = bone_lengths[j] * direction[j] if j else np.zeros(3)
        name = skeleton.joint_names[j]
        if not kids[j]:
            add(name, parent_node, offset, j, True, "")
            return
        multi = len(kids[j]) > 1
        node = add(name, parent_node, offset, j, False, order_for(None if multi else direction[kids[j][0]]))
        for c in kids[j]:
            if multi:
                branch = add(f"{name}_{skeleton.joint_names[c]}", node, np.zeros(3), -1, False, order_for(direction[c]))
                visit(c, branch)
            else:
                visit(c, node)

    visit(0, -1)
    names, parents, offsets, joint, end_site, orders = zip(*nodes)
    rest_directions = np.array([direction.get(j, np.zeros(3)) for j in range(skeleton.num_joints)])
    return BvhSkeleton(names, parents, np.array(offsets), joint, end_site, orders,
                       np.asarray(bone_lengths, dtype=float), rest_directions)


# ------------------------------------------------------------------------------------------- rotations
def _unit(v: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(v, axis=-1, keepdims=True)
    return np.where(n > 1e-9, v / np.maximum(n, 1e-12), 0.0)


def shortest_arc(rest: np.ndarray, target: np.ndarray) -> Rotation:
    """Per frame, the smallest rotation taking the unit vector `rest` (3,) to the direction of `target` (T, 3); a
    zero target keeps the rest direction (identity), an opposite one turns 180 degrees about an axis normal to it."""
    target = _unit(target)
    axis = np.cross(rest, target)
    sin, cos = np.linalg.norm(axis, axis=-1), target @ rest
    angle = np.arctan2(sin, cos)
    normal = np.cross(rest, np.eye(3)[np.argmin(np.abs(rest))])   # any axis normal to `rest`, for the 180-degree case
    axis = np.where((sin > 1e-9)[:, None], axis / np.maximum(sin, 1e-12)[:, None], normal / np.linalg.norm(normal))
    angle = np.where(np.linalg.norm(target, axis=-1) > 0, angle, 0.0)
    return Rotation.from_rotvec(axis * angle[:, None])


def _wahba(rest: np.ndarray, observed: np.ndarray) -> Rotation:
    """Per frame, the rotation taking the rest directions (K, 3) nearest (least squares) to the observed
    directions (T, K, 3). Children in a line leave the turn about that line undetermined: scipy warns and picks
    one, and the branch joints below still place every child exactly."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return Rotation.concatenate([Rotation.align_vectors(frame, rest)[0] for frame in _unit(observed)])


def fit_local_rotations(world: np.ndarray, skel: BvhSkeleton) -> list[Rotation | None]:
    """Per node, the rotations (T of them) relative to its parent that take the rest pose to `world` (T, J, 3)
    in the BVH frame; None for End Sites."""
    frames = len(world)
    local: list[Rotation | None] = [None] * len(skel.names)
    glob: list[Rotation | None] = [None] * len(skel.names)
    for node, parent in enumerate(skel.parents):
        if skel.end_site[node]:
            continue
        parent_rotation = glob[parent] if parent >= 0 else Rotation.identity(frames)
        targets, source = skel.targets(node), skel.source(node)
        observed = world[:, targets] - world[:, [source]]
        rest = skel.rest_directions[targets]
        if len(targets) > 1:
            glob[node] = _wahba(rest, observed)
            local[node] = parent_rotation.inv() * glob[node]
        else:
            local[node] = shortest_arc(rest[0], parent_rotation.inv().apply(observed[:, 0]))
            glob[node] = parent_rotation * local[node]
    return local


def continuous_euler(angles: np.ndarray) -> np.ndarray:
    """Degrees (T, N, 3) of intrinsic Tait-Bryan angles -> the same rotations, continuous in time: per frame the
    one of the two equivalent triples, (a, b, c) or (a + 180, 180 - b, c + 180), nearer the previous frame;
    then unwrapped (whole turns added) so that no angle jumps by 360."""
    alternative = angles + np.array([180.0, 0.0, 180.0])
    alternative[..., 1] = 180.0 - angles[..., 1]
    chosen = angles.copy()

    def distance(a, b):
        return np.abs((a - b + 180.0) % 360.0 - 180.0).sum(-1)

    for t in range(1, len(angles)):
        use_alternative = distance(alternative[t], chosen[t - 1]) < distance(angles[t], chosen[t - 1])
        chosen[t] = np.where(use_alternative[:, None], alternative[t], angles[t])
    return np.unwrap(chosen, axis=0, period=360.0)


def forward_kinematics(skel: BvhSkeleton, root_position: np.ndarray, local: list[Rotation | None]) -> np.ndarray:
    """Node positions (T, N, 3) of the skeleton posed by `local` rotations, root at `root_position` (T, 3)."""
    frames = len(root_position)
    positions = np.zeros((frames, len(skel.names), 3))
    glob: list[Rotation | None] = [None] * len(skel.names)
    for node, parent in enumerate(skel.parents):
        if parent < 0:
            positions[:, node] = root_position + skel.offsets[node]
            glob[node] = local[node]
            continue
        positions[:, node] = positions[:, parent] + glob[parent].apply(skel.offsets[node])
        if not skel.end_site[node]:
            glob[node] = glob[parent] * local[node]
    return positions


# ------------------------------------------------------------------------------------------- the file
@dataclass(frozen=True)
class BvhFit:
    """What `write_bvh` wrote, and how far its constant-bone skeleton is from the lifted positions."""

    path: Path
    fps: float
    joint_names: tuple[str, ...]
    joint_error_mm: np.ndarray      # (J,) mean over frames of each joint's distance to the lifted position
    frame_error_mm: np.ndarray      # (T,) mean over joints, per frame
    max_error_mm: float             # over all frames and joints
    bone_lengths: np.ndarray        # (J,) metres, the bone ending at each joint (0 for the root)
    fitted: np.ndarray              # (T, J, 3) metres, BVH frame (Y up): the written skeleton's joints
    seconds: float                  # time taken to fit and write

    @property
    def frames(self) -> int:
        return len(self.fitted)

    @property
    def mean_error_mm(self) -> float:
        return float(self.joint_error_mm.mean())

    @property
    def p95_frame_error_mm(self) -> float:
        """95% of the frames are closer than this (a few broken lifts make the maximum, not the typical frame)."""
        return float(np.percentile(self.frame_error_mm, 95))

    def summary(self) -> str:
        worst = int(np.argmax(self.joint_error_mm))
        return (f"wrote {self.path}: {self.frames} frames at {self.fps:g} fps; the constant-bone skeleton is "
                f"{self.mean_error_mm:.1f} mm from the lifted joints on average (95% of frames within "
                f"{self.p95_frame_error_mm:.1f} mm, max {self.max_error_mm:.1f} mm; worst joint "
                f"{self.joint_names[worst]}, {self.joint_error_mm[worst]:.1f} mm)")


def check_poses(poses, skeleton: Skeleton, what: str = "poses") -> np.ndarray:
    poses = np.asarray(poses, dtype=float)
    if poses.ndim != 3 or poses.shape[1:] != (skeleton.num_joints, 3) or not 1 <= len(poses) <= MAX_FRAMES:
        raise UserError(f"{what}: expected an array (frames, {skeleton.num_joints}, 3) of {skeleton.name} joints in "
                        f"metres with 1 to {MAX_FRAMES:,} frames, got shape {poses.shape}")
    bad = ~np.isfinite(poses).all(axis=(1, 2))
    if bad.any():
        raise UserError(f"{what}: frame {int(np.argmax(bad))} holds NaN or infinite coordinates ({int(bad.sum())} "
                        "frames do); fill or cut those frames first")
    return poses


def check_trajectory(trajectory, frames: int, what: str = "trajectory") -> np.ndarray | None:
    if trajectory is None:
        return None
    trajectory = np.asarray(trajectory, dtype=float)
    if trajectory.shape != (frames, 3):
        raise UserError(f"{what}: expected one root position per frame, shape ({frames}, 3), got {trajectory.shape}")
    if not np.isfinite(trajectory).all():
        raise UserError(f"{what}: holds NaN or infinite positions; fill them first")
    return trajectory


def _hierarchy_text(skel: BvhSkeleton) -> str:
    lines = ["HIERARCHY"]
    axis_name = {"X": "Xrotation", "Y": "Yrotation", "Z": "Zrotation"}

    def fmt(v) -> str:
        return " ".join(f"{x * CM_PER_M:.{DECIMALS}f}" for x in v)

    def visit(node: int, depth: int) -> None:
        pad = "  " * depth
        if skel.end_site[node]:
            lines.extend([f"{pad}End Site", f"{pad}{{", f"{pad}  OFFSET {fmt(skel.offsets[node])}", f"{pad}}}"])
            return
        root = skel.parents[node] < 0
        channels = (["Xposition", "Yposition", "Zposition"] if root else []) + [axis_name[a] for a in skel.orders[node]]
        lines.extend([f"{pad}{'ROOT' if root else 'JOINT'} {skel.names[node]}", f"{pad}{{",
                      f"{pad}  OFFSET {fmt(skel.offsets[node])}",
                      f"{pad}  CHANNELS {len(channels)} {' '.join(channels)}"])
        for child in skel.children(node):
            visit(child, depth + 1)
        lines.append(f"{pad}}}")

    visit(0, 0)
    return "\n".join(lines) + "\n"


def write_bvh(path, poses, fps: float, *, trajectory=None, axes: str = "camera", skeleton: Skeleton = H36M_17,
              symmetric: bool = True, euler_order: str = "auto", overwrite: bool = False) -> BvhFit:
    """Write lifted `poses` (T, J, 3) metres, in `axes` (see AXES), as a BVH file (Y up, centimetres; see the
    module's docstring) and return the fit report. `trajectory` (T, 3) metres in the same axes is added to the
    root. Never replaces an existing file unless `overwrite`; the file appears whole or not at all."""
    started = time.perf_counter()
    path = check_output_file(path, "the BVH file", overwrite=overwrite, suffixes=(".bvh",))
    fps = check_fps(fps, "the frame rate")
    if fps is None:
        raise UserError("the frame rate: give the video's frames per second")
    poses = check_poses(poses, skeleton)
    trajectory = check_trajectory(trajectory, len(poses))
    world = to_bvh_frame(poses, axes)
    if trajectory is not None:
        world = world + to_bvh_frame(trajectory, axes)[:, None]

    skel = build_skeleton(skeleton, fitted_bone_lengths(world, skeleton, symmetric), euler_order)
    local = fit_local_rotations(world, skel)
    rotating = [n for n in range(len(skel.names)) if not skel.end_site[n]]
    with warnings.catch_warnings():   # gimbal lock: scipy warns, but the angles it returns are still exact
        warnings.simplefilter("ignore", UserWarning)
        degrees = np.stack([local[n].as_euler(skel.orders[n], degrees=True) for n in rotating], axis=1)
    degrees = np.round(continuous_euler(degrees), DECIMALS)
    root = np.round(world[:, 0] * CM_PER_M, DECIMALS)

    # The report is of the file as written: rotations and root rebuilt from the rounded numbers.
    written = [None] * len(skel.names)
    for k, n in enumerate(rotating):
        written[n] = Rotation.from_euler(skel.orders[n], degrees[:, k], degrees=True)
    nodes = forward_kinematics(skel, root / CM_PER_M, written)
    fitted = np.zeros_like(world)
    for n, j in enumerate(skel.joint):
        if j >= 0:
            fitted[:, j] = nodes[:, n]
    error_mm = np.linalg.norm(fitted - world, axis=-1) * 1000.0

    motion = np.concatenate([root, degrees.reshape(len(world), -1)], axis=1)
    row = " ".join([f"%.{DECIMALS}f"] * motion.shape[1]) + "\n"
    with atomic_path(path, what="BVH file") as tmp:
        with open(tmp, "w", encoding="ascii") as f:
            f.write(_hierarchy_text(skel))
            f.write(f"MOTION\nFrames: {len(world)}\nFrame Time: {1.0 / fps:.8f}\n")
            for start in range(0, len(motion), _ROWS_PER_WRITE):   # one format call per block: fast, bounded memory
                block = motion[start:start + _ROWS_PER_WRITE]
                f.write((row * len(block)) % tuple(block.ravel()))
    return BvhFit(path=path, fps=fps, joint_names=tuple(skeleton.joint_names), joint_error_mm=error_mm.mean(0),
                  frame_error_mm=error_mm.mean(1), max_error_mm=float(error_mm.max()),
                  bone_lengths=skel.bone_lengths, fitted=fitted, seconds=time.perf_counter() - started)
