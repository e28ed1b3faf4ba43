"""Receptive-field windows: training batches and evaluation windows, vectorised.

The model maps a window of 2D poses (receptive field 2 * pad + 1 frames) to the 3D pose of its
centre frame; with ``chunk_length`` > 1 a window of chunk_length + 2 * pad frames gives
chunk_length consecutive 3D poses. Windows that run past a sequence repeat its first/last frame
(edge padding). ``causal_shift`` moves the window into the past: output frame t sees 2D frames
[t - pad - causal_shift, t + pad - causal_shift], so causal_shift = pad uses no future frames.

WindowSampler yields the same batches, in the same order for the same seed, as VideoPose3D's
ChunkedGenerator (cameras and endless mode left out), but builds each batch with one indexing op:
at start-up every sequence is edge-padded once and all of them are concatenated into one buffer
on the target device (plus a mirrored copy when augmenting). Every window is then a contiguous
block of that buffer, so a batch is ``index_select`` on a strided view whose row i is the window
starting at buffer frame i.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from relpose.errors import DataError, UserError
from relpose.skeleton import symmetry_permutation


def flip_poses(x, left, right):
    """Mirror poses (..., J, C): negate x (channel 0) and swap the left and right joints.

    Works on numpy arrays and torch tensors; returns a new array of the same kind.
    """
    perm = symmetry_permutation(x.shape[-2], left, right)
    if isinstance(x, torch.Tensor):
        sign = torch.ones(x.shape[-1], dtype=x.dtype, device=x.device)
        perm = torch.as_tensor(perm, device=x.device)
    else:
        sign = np.ones(x.shape[-1], dtype=x.dtype)
    sign[0] = -1
    return x[..., perm, :] * sign


@dataclass(frozen=True)
class Flip:
    """The mirror symmetry of one data set: which 2D keypoints (the input layout's) and which 3D joints
    (the skeleton's) swap sides when a pose is mirrored. It travels as one value through augmentation and
    test-time flipping; `NO_FLIP` (no joints) is for callers that never mirror."""

    kps_left: tuple[int, ...] = ()
    kps_right: tuple[int, ...] = ()
    joints_left: tuple[int, ...] = ()
    joints_right: tuple[int, ...] = ()

    def __post_init__(self):
        for name in ("kps_left", "kps_right", "joints_left", "joints_right"):
            object.__setattr__(self, name, tuple(int(j) for j in getattr(self, name)))

    @classmethod
    def from_dataset(cls, dataset) -> "Flip":
        """A PoseDataset's symmetry (its keypoints' and its skeleton's left and right)."""
        return cls(dataset.kps_left, dataset.kps_right, dataset.joints_left, dataset.joints_right)

    @classmethod
    def of(cls, skeleton, keypoint_symmetry=None) -> "Flip":
        """A skeleton's joints; the keypoints' (left, right) from `keypoint_symmetry`, else the skeleton's own."""
        left, right = keypoint_symmetry or (skeleton.joints_left, skeleton.joints_right)
        return cls(left, right, skeleton.joints_left, skeleton.joints_right)

    def keypoints(self, x):
        """2D keypoints (..., J_in, C) mirrored."""
        return flip_poses(x, self.kps_left, self.kps_right)

    def joints(self, x):
        """3D joints (..., J, C) mirrored."""
        return flip_poses(x, self.joints_left, self.joints_right)


NO_FLIP = Flip()


def chunk_starts(num_frames: int, chunk_length: int) -> np.ndarray:
    """First target frame of each chunk of a sequence, as VideoPose3D splits it.

    ceil(T / chunk_length) chunks of chunk_length frames, centred on the sequence: the first may
    start before frame 0 and the last end after T - 1 (those target frames are edge-padded).
    """
    n_chunks = (num_frames + chunk_length - 1) // chunk_length
    offset = (n_chunks * chunk_length - num_frames) // 2
    return np.arange(n_chunks) * chunk_length - offset


def gather_windows(poses_2d, pad: int, causal_shift: int = 0, frames=None):
    """(T, J, C) sequence -> (N, 2 * pad + 1, J, C): the edge-padded window of every output frame.

    ``frames`` picks the output frames (default all T). Numpy in, numpy out; torch in, torch out
    on the same device. One indexing op with clamped frame indices.
    """
    num_frames = poses_2d.shape[0]
    if num_frames == 0:
        raise DataError("cannot cut windows from an empty sequence (0 frames)")
    if isinstance(poses_2d, torch.Tensor):
        dev = poses_2d.device
        frames = torch.arange(num_frames, device=dev) if frames is None else torch.as_tensor(frames, device=dev)
        offsets = torch.arange(-pad - causal_shift, pad - causal_shift + 1, device=dev)
        return poses_2d[(frames[:, None] + offsets).clamp(0, num_frames - 1)]
    poses_2d = np.asarray(poses_2d)
    frames = np.arange(num_frames) if frames is None else np.asarray(frames)
    offsets = np.arange(-pad - causal_shift, pad - causal_shift + 1)
    return poses_2d[np.clip(frames[:, None] + offsets, 0, num_frames - 1)]


def _windows_view(buffer: torch.Tensor, length: int) -> torch.Tensor:
    """(F, J, C) buffer -> (F - length + 1, length * J * C) view: row i = frames [i, i + length)."""
    frame_size = buffer[0].numel()
    flat = buffer.reshape(buffer.shape[0], frame_size)
    rows = buffer.shape[0] - length + 1
    return flat.as_strided((rows, length * frame_size), (frame_size, 1), flat.storage_offset())


class WindowSampler:
    """Shuffled training batches (inputs_2d, targets_3d) of receptive-field windows.

    inputs_2d: (B, chunk_length + 2 * pad, J, 2) float32; targets_3d: (B, chunk_length, J, 3)
    float32, or None without poses_3d. Both on ``device`` (default: the device of the first
    sequence if it is a tensor, else CPU). The last batch of an epoch may be smaller.

    With ``augment`` every chunk appears twice per epoch, as is and mirrored (flip_poses with
    `flip`'s keypoints for 2D and its joints for 3D). The shuffle uses a numpy RandomState that
    persists across epochs; save ``random_state()`` in a checkpoint and ``set_random_state`` on
    resume to get the batches an uninterrupted run would. With world_size > 1 all ranks draw the
    same permutation, pad it cyclically to a multiple of world_size (as torch's DistributedSampler
    does) and rank r takes every world_size-th window from r on: disjoint shares of equal size.

    ``reuse_buffers=True`` writes every batch into the same preallocated input and target tensors
    (as ChunkedGenerator reuses its arrays): a batch is valid only until the next one is drawn, so
    clone what you keep. It saves allocating fresh tensors per batch, which on CPU costs more than
    the gather for large windows (34 MB per batch at 243 frames); on a GPU it makes no difference.
    """

    def __init__(self, poses_2d, poses_3d, batch_size: int, chunk_length: int = 1, pad: int = 121,
                 causal_shift: int = 0, shuffle: bool = True, augment: bool = False,
                 flip: Flip = NO_FLIP, seed: int = 1234,
                 device=None, rank: int = 0, world_size: int = 1, reuse_buffers: bool = False):
        self._check_flags(poses_2d, poses_3d, batch_size, chunk_length, pad, causal_shift, rank, world_size)
        if augment and (not flip.kps_left or not flip.kps_right or (poses_3d is not None and not flip.joints_left)):
            raise UserError("augment=True needs a flip with kps_left/kps_right (and joints_left/joints_right with 3D "
                            "targets): pass Flip.from_dataset(dataset), or turn augmentation off")
        if device is None:
            device = poses_2d[0].device if isinstance(poses_2d[0], torch.Tensor) else "cpu"
        self.device = torch.device(device)
        self.batch_size, self.chunk_length, self.pad, self.causal_shift = batch_size, chunk_length, pad, causal_shift
        self.shuffle, self.augment, self.rank, self.world_size = shuffle, augment, rank, world_size
        self.reuse_buffers = reuse_buffers
        self._rng = np.random.RandomState(seed)

        # Chunk list in ChunkedGenerator's order: per sequence its chunks, then (augment) the same flipped.
        lengths = [int(p.shape[0]) for p in poses_2d]
        seq, start, mirrored = [], [], []
        for i, n in enumerate(lengths):
            starts = chunk_starts(n, chunk_length)
            for flipped in ((False, True) if augment else (False,)):
                seq.append(np.full(len(starts), i))
                start.append(starts)
                mirrored.append(np.full(len(starts), flipped))
        self.chunks_seq, self.chunks_start, self.chunks_flip = (np.concatenate(a) for a in (seq, start, mirrored))
        self.num_windows_total = len(self.chunks_seq)
        self.num_windows = -(-self.num_windows_total // world_size)  # this rank's share per epoch
        self.num_batches = -(-self.num_windows // batch_size)

        # Each sequence padded with `margin` edge copies per side, so no window crosses into a neighbour.
        margin = pad + abs(causal_shift) + chunk_length
        seq_begin = np.concatenate([[0], np.cumsum(np.asarray(lengths) + 2 * margin)[:-1]]) + margin
        self._buffer_2d = self._padded_buffer(poses_2d, margin, flip.keypoints)
        self._buffer_3d = None if poses_3d is None else self._padded_buffer(poses_3d, margin, flip.joints)
        half = int(np.sum(np.asarray(lengths) + 2 * margin))  # where the mirrored copy begins
        first_target = seq_begin[self.chunks_seq] + self.chunks_start + half * self.chunks_flip
        self._start_3d = torch.as_tensor(first_target, device=self.device)
        self._start_2d = self._start_3d - (pad + causal_shift)
        self._view_2d = _windows_view(self._buffer_2d, chunk_length + 2 * pad)
        self._view_3d = None if self._buffer_3d is None else _windows_view(self._buffer_3d, chunk_length)
        self._out_2d = self._out_3d = None

    @staticmethod
    def _check_flags(poses_2d, poses_3d, batch_size, chunk_length, pad, causal_shift, rank, world_size):
        if len(poses_2d) == 0:
            raise DataError("no 2D sequences to cut windows from: check the subjects/actions selected")
        if poses_3d is not None and len(poses_3d) != len(poses_2d):
            raise DataError(f"{len(poses_2d)} 2D sequences but {len(poses_3d)} 3D sequences: they must pair up")
        for i, p in enumerate(poses_2d):
            if p.ndim != 3 or p.shape[0] == 0:
                raise DataError(f"2D sequence {i} has shape {tuple(p.shape)}: expected (T, J, C) with T > 0")
            if poses_3d is not None and poses_3d[i].shape[0] != p.shape[0]:
                raise DataError(f"sequence {i}: {p.shape[0]} 2D frames but {poses_3d[i].shape[0]} 3D frames")
        if batch_size < 1:
            raise UserError(f"batch size must be at least 1, got {batch_size}")
        if chunk_length < 1:
            raise UserError(f"chunk length must be at least 1, got {chunk_length}")
        if pad < 0 or abs(causal_shift) > pad:
            raise UserError(f"need pad >= 0 and |causal_shift| <= pad, got pad={pad}, causal_shift={causal_shift}")
        if world_size < 1 or not 0 <= rank < world_size:
            raise UserError(f"rank {rank} is not in [0, world_size={world_size})")

    def _padded_buffer(self, sequences, margin, mirror) -> torch.Tensor:
        """All sequences edge-padded by `margin` frames per side, concatenated; mirrored copy appended."""
        parts = []
        for s in sequences:
            s = torch.as_tensor(np.asarray(s) if not isinstance(s, torch.Tensor) else s,
                                dtype=torch.float32, device=self.device)
            frames = torch.arange(-margin, s.shape[0] + margin, device=self.device).clamp_(0, s.shape[0] - 1)
            parts.append(s[frames])
        buffer = torch.cat(parts)
        if self.augment:
            buffer = torch.cat([buffer, mirror(buffer)])
        return buffer

    def __len__(self) -> int:
        return self.num_batches

    def num_frames(self) -> int:
        """Target frames this rank sees per epoch (augmented duplicates and edge-padded targets included)."""
        return self.num_windows * self.chunk_length

    def random_state(self) -> tuple:
        """The shuffle state, numpy's ``RandomState.get_state()`` tuple (what checkpoints store)."""
        return self._rng.get_state(legacy=True)

    def set_random_state(self, state) -> None:
        """Restore a state from ``random_state()`` (its key may also be a list of ints), or a RandomState."""
        if isinstance(state, np.random.RandomState):
            state = state.get_state(legacy=True)
        try:
            name, key, pos, has_gauss, cached = state
            self._rng.set_state((name, np.asarray(key, dtype=np.uint32), int(pos), int(has_gauss), float(cached)))
        except (TypeError, ValueError, IndexError) as e:
            raise UserError(f"malformed window sampler random state ({e}): was the checkpoint written by relpose?")

    def _epoch_order(self) -> np.ndarray:
        order = self._rng.permutation(self.num_windows_total) if self.shuffle else np.arange(self.num_windows_total)
        if self.world_size > 1:
            order = np.resize(order, self.num_windows * self.world_size)[self.rank::self.world_size]
        return order

    def __iter__(self):
        # One permutation per epoch, moved to the device once; each batch is then a slice and a gather.
        order = torch.as_tensor(self._epoch_order(), device=self.device)
        starts_2d, starts_3d = self._start_2d[order], self._start_3d[order]
        joints_2d, dims_2d = self._buffer_2d.shape[1:]
        if self.reuse_buffers and self._out_2d is None:
            self._out_2d = torch.empty(self.batch_size, *self._view_2d.shape[1:], device=self.device)
            if self._view_3d is not None:
                self._out_3d = torch.empty(self.batch_size, *self._view_3d.shape[1:], device=self.device)
        for b in range(self.num_batches):
            rows = slice(b * self.batch_size, (b + 1) * self.batch_size)
            n = len(starts_2d[rows])
            out = self._out_2d[:n] if self.reuse_buffers else None
            inputs = torch.index_select(self._view_2d, 0, starts_2d[rows], out=out)
            inputs = inputs.view(n, -1, joints_2d, dims_2d)
            targets = None
            if self._view_3d is not None:
                out = self._out_3d[:n] if self.reuse_buffers else None
                targets = torch.index_select(self._view_3d, 0, starts_3d[rows], out=out)
                targets = targets.view(n, self.chunk_length, *self._buffer_3d.shape[1:])
            yield inputs, targets
