"""Skeletons: joint hierarchies, left/right symmetry and the five body-part groups.

Human3.6M's motion capture has 32 joints; every pose-lifting paper (VideoPose3D, RIE) uses the
17-joint reduction built here. HumanEva-I has 15 joints.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .resources import package_json


@dataclass(frozen=True)
class BodyGroup:
    """One body part: a name (also the suffix of the model's module names), the output joints it
    predicts and, when the 2D input has another keypoint layout than the 3D skeleton (17 COCO
    keypoints in, 15 HumanEva joints out), the input keypoints its encoder reads."""

    name: str
    joints: tuple[int, ...]
    inputs: tuple[int, ...] | None = None  # None: the same indices as `joints`

    @property
    def input_joints(self) -> tuple[int, ...]:
        return self.joints if self.inputs is None else self.inputs


def symmetry_permutation(num_joints: int, left, right) -> np.ndarray:
    """Index array that swaps each joint of `left` with the one at the same place in `right`."""
    left, right = list(left), list(right)
    if len(left) != len(right):
        raise ValueError(f"left and right joint lists differ in length: {left} vs {right}")
    perm = np.arange(num_joints)
    perm[left], perm[right] = right, left
    return perm


@dataclass(frozen=True)
class Skeleton:
    name: str
    parents: tuple[int, ...]
    joints_left: tuple[int, ...]
    joints_right: tuple[int, ...]
    joint_names: tuple[str, ...] = ()
    groups: tuple[BodyGroup, ...] = ()

    @property
    def num_joints(self) -> int:
        return len(self.parents)

    def children(self) -> list[list[int]]:
        kids: list[list[int]] = [[] for _ in self.parents]
        for j, p in enumerate(self.parents):
            if p >= 0:
                kids[p].append(j)
        return kids

    def bones(self) -> list[tuple[int, int]]:
        """(child, parent) pairs, one per bone."""
        return [(j, p) for j, p in enumerate(self.parents) if p >= 0]

    def bone_lengths(self, positions: np.ndarray) -> np.ndarray:
        """Lengths (..., num_bones) of every bone of poses (..., J, 3)."""
        child, parent = np.array(self.bones()).T
        return np.linalg.norm(positions[..., child, :] - positions[..., parent, :], axis=-1)

    def symmetry_permutation(self) -> np.ndarray:
        """Index array that swaps left and right joints (used by flip augmentation)."""
        return symmetry_permutation(self.num_joints, self.joints_left, self.joints_right)

    def remove_joints(self, joints_to_remove) -> tuple["Skeleton", list[int]]:
        """Drop joints, re-attaching each kept joint to its nearest kept ancestor.

        Returns the reduced skeleton and the indices of the kept joints in the original layout.
        """
        removed = set(joints_to_remove)
        kept = [j for j in range(self.num_joints) if j not in removed]
        new_index = {old: new for new, old in enumerate(kept)}
        parents = []
        for j in kept:
            p = self.parents[j]
            while p in removed:
                p = self.parents[p]
            parents.append(new_index[p] if p >= 0 else -1)
        names = tuple(self.joint_names[j] for j in kept) if self.joint_names else ()
        reduced = Skeleton(
            name=self.name,
            parents=tuple(parents),
            joints_left=tuple(new_index[j] for j in self.joints_left if j in new_index),
            joints_right=tuple(new_index[j] for j in self.joints_right if j in new_index),
            joint_names=names,
        )
        return reduced, kept

    def with_parents(self, rewire: dict[int, int]) -> "Skeleton":
        parents = list(self.parents)
        for j, p in rewire.items():
            parents[j] = p
        return Skeleton(self.name, tuple(parents), self.joints_left, self.joints_right, self.joint_names, self.groups)

    def with_groups(self, groups) -> "Skeleton":
        return Skeleton(self.name, self.parents, self.joints_left, self.joints_right, self.joint_names, tuple(groups))


def _from_json(name: str, key: str, skeleton_name: str, joint_names=()) -> Skeleton:
    spec = package_json(f"{name}_cameras")[key]
    return Skeleton(skeleton_name, tuple(spec["parents"]), tuple(spec["joints_left"]), tuple(spec["joints_right"]),
                    tuple(joint_names))


# Joints that the 17-joint Human3.6M layout drops from the 32-joint motion capture skeleton.
H36M_REMOVED_JOINTS = (4, 5, 9, 10, 11, 16, 20, 21, 22, 23, 24, 28, 29, 30, 31)

H36M_17_JOINT_NAMES = (
    "Hip", "RHip", "RKnee", "RFoot", "LHip", "LKnee", "LFoot", "Spine", "Thorax", "Nose", "Head",
    "LShoulder", "LElbow", "LWrist", "RShoulder", "RElbow", "RWrist",
)

H36M_32 = _from_json("h36m", "skeleton_32", "h36m-32")

_reduced, _kept = H36M_32.remove_joints(H36M_REMOVED_JOINTS)
H36M_KEPT_JOINTS: tuple[int, ...] = tuple(_kept)

# The body-part groups of the published RIE checkpoints. Their module names (LocalLayer_LArm, ...)
# do NOT follow VideoPose3D's left/right lists: "LArm" holds joints 14-16, which VideoPose3D calls
# right. The names are kept so published checkpoints load key for key; the order is the fusion order.
H36M_17_GROUPS = (
    BodyGroup("Torso", (0, 7, 8, 9, 10)),
    BodyGroup("LArm", (14, 15, 16)),
    BodyGroup("RArm", (11, 12, 13)),
    BodyGroup("LLeg", (1, 2, 3)),
    BodyGroup("RLeg", (4, 5, 6)),
)

# Shoulders (17-joint indices 11 and 14) hang from the thorax (8) rather than the neck chain.
H36M_17 = Skeleton(
    name="h36m-17",
    parents=_reduced.parents,
    joints_left=_reduced.joints_left,
    joints_right=_reduced.joints_right,
    joint_names=H36M_17_JOINT_NAMES,
).with_parents({11: 8, 14: 8}).with_groups(H36M_17_GROUPS)

HUMANEVA_15_JOINT_NAMES = (
    "Pelvis", "Thorax", "LShoulder", "LElbow", "LWrist", "RShoulder", "RElbow", "RWrist",
    "LHip", "LKnee", "LAnkle", "RHip", "RKnee", "RAnkle", "Head",
)

# HumanEva-I groups follow the skeleton's own sides (there are no published checkpoints to match).
HUMANEVA_15_GROUPS = (
    BodyGroup("Torso", (0, 1, 14)),
    BodyGroup("LArm", (2, 3, 4)),
    BodyGroup("RArm", (5, 6, 7)),
    BodyGroup("LLeg", (8, 9, 10)),
    BodyGroup("RLeg", (11, 12, 13)),
)

HUMANEVA_15 = _from_json("humaneva", "skeleton_15", "humaneva-15", HUMANEVA_15_JOINT_NAMES).with_groups(
    HUMANEVA_15_GROUPS)


def reduce_h36m_32_to_17(positions: np.ndarray) -> np.ndarray:
    """Select the 17 kept joints from (..., 32, C) Human3.6M poses."""
    if positions.shape[-2] != 32:
        raise ValueError(f"expected 32 joints, got array of shape {positions.shape}")
    return positions[..., list(H36M_KEPT_JOINTS), :]
