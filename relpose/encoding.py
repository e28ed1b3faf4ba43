"""Relative information encoding (RIE): what the model sees of each 2D window.

Besides the raw 2D keypoints, RIE feeds each body-part branch two relative views of them:

- positional encoding: every joint minus the root joint (joint 0) of the same frame. It does not
  change when the whole person moves in the image, which makes the model robust to translation.
- temporal encoding: every joint minus the same joint in the window's centre frame (T // 2), the
  frame whose 3D pose is predicted. It stresses how the pose changes around that frame.

``group_channels`` lays one body part out as the (B, C, T) tensor a Conv1d branch takes, in exactly
the channel order of the published checkpoints, so their first-layer weights load unchanged.
"""
from __future__ import annotations

import torch

from relpose.errors import UserError

# The last is the published model; "raw" (keypoints only, like VideoPose3D) is the ablation baseline.
ENCODINGS = ("raw", "raw+pos", "raw+temp", "raw+pos+temp")

ROOT_JOINT = 0


def encoding_parts(encoding: str) -> tuple[str, ...]:
    """The blocks of an encoding in channel order, e.g. ("raw", "pos", "temp")."""
    if encoding not in ENCODINGS:
        raise UserError(f"unknown encoding {encoding!r}: choose one of {', '.join(ENCODINGS)}")
    return tuple(encoding.split("+"))


def channels_per_joint(encoding: str) -> int:
    """Input channels per joint: (x, y) for each block of the encoding."""
    return 2 * len(encoding_parts(encoding))


def root_position(x: torch.Tensor, root=(ROOT_JOINT,)) -> torch.Tensor:
    """(..., J, 2) keypoints -> (..., 1, 2) root of each frame: one joint, or the mean of several
    (keypoint layouts without a pelvis, such as COCO, take the mean of the two hips)."""
    root = tuple(root)
    if len(root) == 1:
        return x[..., root[0]:root[0] + 1, :]
    return x[..., list(root), :].mean(dim=-2, keepdim=True)


def positional_encoding(x: torch.Tensor, root=(ROOT_JOINT,)) -> torch.Tensor:
    """(..., J, 2) keypoints -> each joint minus the root joint of the same frame."""
    return x - root_position(x, root)


def temporal_encoding(x: torch.Tensor) -> torch.Tensor:
    """(..., T, J, 2) windows -> each joint minus the same joint in the centre frame T // 2."""
    centre = x.shape[-3] // 2
    return x - x[..., centre:centre + 1, :, :]


def group_channels(x: torch.Tensor, joints, encoding: str, root=(ROOT_JOINT,)) -> torch.Tensor:
    """(B, T, J, 2) windows -> (B, C, T) channels of one body part for a Conv1d branch.

    C = len(joints) * channels_per_joint(encoding). Channel order: blocks [raw, pos, temp] (those
    selected), inside each block the joints in the order of ``joints``, (x, y) per joint.
    For joints (0, 7, 8, 9, 10) and "raw+pos+temp": raw x0 y0 x7 y7 ... x10 y10, then pos, then temp.
    ``joints`` may be a sequence of ints or a LongTensor; a model should pass a tensor already on
    x's device (e.g. a registered buffer) to save a host-to-device copy per call. ``root`` names the
    input keypoint(s) whose (mean) position the positional encoding subtracts.
    """
    parts = encoding_parts(encoding)
    if x.ndim != 4:
        raise ValueError(f"expected windows of shape (B, T, J, 2), got {tuple(x.shape)}")
    index = torch.as_tensor(joints, dtype=torch.long, device=x.device)
    picked = x.index_select(2, index)  # (B, T, n, 2)
    blocks = []
    if "raw" in parts:
        blocks.append(picked)
    if "pos" in parts:
        # Relative to the root of the full skeleton, which need not be in this group.
        blocks.append(picked - root_position(x, root))
    if "temp" in parts:
        blocks.append(temporal_encoding(picked))
    stacked = torch.stack(blocks, dim=2)  # (B, T, blocks, n, 2): flattening gives the channel order
    batch, frames = x.shape[:2]
    return stacked.reshape(batch, frames, -1).permute(0, 2, 1)
