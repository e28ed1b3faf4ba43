"""relpose.skeleton: the 32/17-joint Human3.6M and 15-joint HumanEva-I layouts."""
import numpy as np
import pytest

from relpose.skeleton import (H36M_17, H36M_32, H36M_KEPT_JOINTS, H36M_REMOVED_JOINTS, HUMANEVA_15, Skeleton,
                              reduce_h36m_32_to_17)

H36M_17_PARENTS = [-1, 0, 1, 2, 0, 4, 5, 0, 7, 8, 9, 8, 11, 12, 8, 14, 15]
H36M_KEPT = [0, 1, 2, 3, 6, 7, 8, 12, 13, 14, 15, 17, 18, 19, 25, 26, 27]


def test_h36m_17_layout():
    assert list(H36M_17.parents) == H36M_17_PARENTS
    assert list(H36M_17.joints_left) == [4, 5, 6, 11, 12, 13]
    assert list(H36M_17.joints_right) == [1, 2, 3, 14, 15, 16]
    assert H36M_17.num_joints == 17 and len(H36M_17.joint_names) == 17
    assert H36M_17.joint_names[11] == "LShoulder" and H36M_17.joint_names[14] == "RShoulder"


def test_h36m_kept_joints_and_reduction():
    assert list(H36M_KEPT_JOINTS) == H36M_KEPT
    assert H36M_32.num_joints == 32
    assert sorted(H36M_KEPT_JOINTS + H36M_REMOVED_JOINTS) == list(range(32))
    poses = np.arange(5 * 32 * 3, dtype=np.float32).reshape(5, 32, 3)
    reduced = reduce_h36m_32_to_17(poses)
    assert reduced.shape == (5, 17, 3)
    for new, old in enumerate(H36M_KEPT):
        np.testing.assert_array_equal(reduced[:, new], poses[:, old])
    with pytest.raises(ValueError, match="32 joints"):
        reduce_h36m_32_to_17(np.zeros((5, 17, 3)))


def test_humaneva_15_layout():
    assert list(HUMANEVA_15.parents) == [-1, 0, 1, 2, 3, 1, 5, 6, 0, 8, 9, 0, 11, 12, 1]
    assert list(HUMANEVA_15.joints_left) == [2, 3, 4, 8, 9, 10]
    assert list(HUMANEVA_15.joints_right) == [5, 6, 7, 11, 12, 13]
    assert HUMANEVA_15.num_joints == 15


@pytest.mark.parametrize("skeleton", [H36M_17, HUMANEVA_15], ids=["h36m17", "humaneva15"])
def test_groups_cover_every_joint_once(skeleton):
    joints = [j for g in skeleton.groups for j in g.joints]
    assert sorted(joints) == list(range(skeleton.num_joints))
    assert [g.name for g in skeleton.groups] == ["Torso", "LArm", "RArm", "LLeg", "RLeg"]


@pytest.mark.parametrize("skeleton", [H36M_32, H36M_17, HUMANEVA_15], ids=["h36m32", "h36m17", "humaneva15"])
def test_symmetry_permutation_is_an_involution_swapping_sides(skeleton):
    perm = skeleton.symmetry_permutation()
    np.testing.assert_array_equal(perm[perm], np.arange(skeleton.num_joints))
    assert list(perm[list(skeleton.joints_left)]) == list(skeleton.joints_right)
    assert list(perm[list(skeleton.joints_right)]) == list(skeleton.joints_left)
    centre = sorted(set(range(skeleton.num_joints)) - set(skeleton.joints_left) - set(skeleton.joints_right))
    assert list(perm[centre]) == centre


@pytest.mark.parametrize("skeleton", [H36M_32, H36M_17, HUMANEVA_15], ids=["h36m32", "h36m17", "humaneva15"])
def test_parents_form_a_tree_rooted_at_joint_0(skeleton):
    assert skeleton.parents[0] == -1
    for j in range(1, skeleton.num_joints):
        seen, p = set(), j
        while p != 0:
            assert p not in seen and 0 <= skeleton.parents[p] < skeleton.num_joints
            seen.add(p)
            p = skeleton.parents[p]


def test_remove_joints_reattaches_to_nearest_kept_ancestor():
    chain = Skeleton("toy", parents=(-1, 0, 1, 2, 0, 4), joints_left=(1, 2, 3), joints_right=(4, 5),
                     joint_names=("r", "a", "b", "c", "d", "e"))
    reduced, kept = chain.remove_joints([2, 4])
    assert kept == [0, 1, 3, 5]
    assert reduced.parents == (-1, 0, 1, 0)  # c hangs from a, e from the root
    assert reduced.joints_left == (1, 2) and reduced.joints_right == (3,)
    assert reduced.joint_names == ("r", "a", "c", "e")


def test_bones_children_and_lengths():
    assert len(H36M_17.bones()) == 16 and (11, 8) in H36M_17.bones() and (14, 8) in H36M_17.bones()
    assert sorted(H36M_17.children()[8]) == [9, 11, 14]
    poses = np.zeros((2, 17, 3))
    poses[:, 1] = [0.3, 0.4, 0.0]  # RHip 0.5 m from the hip
    lengths = H36M_17.bone_lengths(poses)
    assert lengths.shape == (2, 16)
    assert lengths[0, H36M_17.bones().index((1, 0))] == pytest.approx(0.5)


def test_registered_data_sets_name_their_skeleton_rig_and_rate():
    from relpose.datasets import dataset_spec
    assert [dataset_spec(n).skeleton for n in ("h36m", "synth", "humaneva15")] == [H36M_17, H36M_17, HUMANEVA_15]
    assert [dataset_spec(n).rig for n in ("h36m", "synth", "humaneva15")] == ["h36m", "h36m", "humaneva"]
    assert [dataset_spec(n).fps for n in ("h36m", "synth", "humaneva15")] == [50, 50, 60]
