"""RIE input encodings and the channel layout of one body-part branch."""
import pytest
import torch

from relpose.encoding import (ENCODINGS, channels_per_joint, encoding_parts, group_channels,
                              positional_encoding, temporal_encoding)
from relpose.errors import UserError

TORSO = (0, 7, 8, 9, 10)


def windows(b=2, t=9, j=17, seed=0):
    return torch.randn(b, t, j, 2, generator=torch.Generator().manual_seed(seed))


def test_positional_encoding_root_zero_and_translation_invariant():
    x = windows()
    pos = positional_encoding(x)
    assert torch.equal(pos[:, :, 0], torch.zeros(2, 9, 2))
    torch.testing.assert_close(pos[:, :, 5], x[:, :, 5] - x[:, :, 0])
    shift = torch.randn(2, 9, 1, 2)  # a different 2D offset per frame, the same for all its joints
    torch.testing.assert_close(positional_encoding(x + shift), pos)


def test_temporal_encoding_zero_at_centre():
    for t in (9, 10):
        x = windows(t=t)
        temp = temporal_encoding(x)
        assert torch.equal(temp[:, t // 2], torch.zeros(2, 17, 2))
        torch.testing.assert_close(temp[:, 0], x[:, 0] - x[:, t // 2])


def test_channels_per_joint():
    assert [channels_per_joint(e) for e in ENCODINGS] == [2, 4, 4, 6]
    assert encoding_parts("raw+pos+temp") == ("raw", "pos", "temp")
    with pytest.raises(UserError, match="unknown encoding 'pos': choose one of raw, raw\\+pos"):
        channels_per_joint("pos")


def test_layout_matches_hand_built_example():
    x = windows(t=5)
    got = group_channels(x, TORSO, "raw+pos+temp")
    assert got.shape == (2, 30, 5)
    centre = x[:, 2]
    hand = []
    for block in ("raw", "pos", "temp"):
        for j in TORSO:
            for c in (0, 1):
                if block == "raw":
                    hand.append(x[:, :, j, c])
                elif block == "pos":
                    hand.append(x[:, :, j, c] - x[:, :, 0, c])
                else:
                    hand.append(x[:, :, j, c] - centre[:, None, j, c])
    torch.testing.assert_close(got, torch.stack(hand, dim=1), rtol=0, atol=0)
    # e.g. channel 2 is raw x of joint 7, channel 15 is pos y of joint 8, channel 29 temp y of joint 10
    assert torch.equal(got[:, 2], x[:, :, 7, 0])
    assert torch.equal(got[:, 15], x[:, :, 8, 1] - x[:, :, 0, 1])
    assert torch.equal(got[:, 29], x[:, :, 10, 1] - x[:, 2:3, 10, 1])


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("joints", [TORSO, (14, 15, 16), (4,)])
def test_shapes_and_blocks_for_each_encoding(encoding, joints):
    x = windows(t=7)
    got = group_channels(x, joints, encoding)
    n = len(joints)
    assert got.shape == (2, n * channels_per_joint(encoding), 7)
    full = group_channels(x, joints, "raw+pos+temp")
    wanted = {"raw": 0, "pos": 1, "temp": 2}
    blocks = [full[:, wanted[p] * 2 * n:(wanted[p] + 1) * 2 * n] for p in encoding.split("+")]
    assert torch.equal(got, torch.cat(blocks, dim=1))


def test_joint_order_follows_argument():
    x = windows()
    a = group_channels(x, (1, 2, 3), "raw")
    b = group_channels(x, (3, 2, 1), "raw")
    assert torch.equal(a[:, 0:2], b[:, 4:6])
