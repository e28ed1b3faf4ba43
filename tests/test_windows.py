"""WindowSampler and gather_windows against a naive per-window loop (VideoPose3D's ChunkedGenerator logic)."""
import numpy as np
import pytest
import torch

from relpose.errors import DataError, UserError
from relpose.windows import Flip, WindowSampler, chunk_starts, flip_poses, gather_windows

KPS_LEFT, KPS_RIGHT = [1, 3], [2, 4]
J = 5


def naive_window(seq, start, end):
    """Frames [start, end) of seq, repeating the first/last frame where the range runs past it."""
    low, high = max(start, 0), min(end, len(seq))
    return np.pad(seq[low:high], ((low - start, end - high), (0, 0), (0, 0)), mode="edge")


def naive_flip(x, left, right):
    out = x.copy()
    out[..., 0] *= -1
    out[..., left + right, :] = out[..., right + left, :]
    return out


def naive_batches(poses_2d, poses_3d, batch_size, chunk_length, pad, causal_shift, shuffle, augment, seed):
    """A per-window loop with VideoPose3D's chunking, shuffle order and flipping."""
    pairs = []
    for i, seq in enumerate(poses_2d):
        n_chunks = (len(seq) + chunk_length - 1) // chunk_length
        offset = (n_chunks * chunk_length - len(seq)) // 2
        bounds = np.arange(n_chunks + 1) * chunk_length - offset
        for flip in ([False, True] if augment else [False]):
            pairs += [(i, int(a), int(b), flip) for a, b in zip(bounds[:-1], bounds[1:])]
    pairs = np.array(pairs, dtype=object)
    if shuffle:
        pairs = np.random.RandomState(seed).permutation(pairs)
    for b in range(0, len(pairs), batch_size):
        xs, ys = [], []
        for i, start, end, flip in pairs[b:b + batch_size]:
            x = naive_window(poses_2d[i], start - pad - causal_shift, end + pad - causal_shift)
            y = naive_window(poses_3d[i], start, end)
            if flip:
                x, y = naive_flip(x, KPS_LEFT, KPS_RIGHT), naive_flip(y, KPS_LEFT, KPS_RIGHT)
            xs.append(x)
            ys.append(y)
        yield np.stack(xs), np.stack(ys)


def random_sequences(lengths, seed=0):
    rng = np.random.default_rng(seed)
    return ([rng.normal(size=(n, J, 2)).astype(np.float32) for n in lengths],
            [rng.normal(size=(n, J, 3)).astype(np.float32) for n in lengths])


def make_sampler(p2, p3, **kw):
    kw = {"batch_size": 8, "pad": 4, **kw}
    return WindowSampler(p2, p3, flip=Flip(KPS_LEFT, KPS_RIGHT, KPS_LEFT, KPS_RIGHT), **kw)


def collect(sampler):
    return [(x.clone(), None if y is None else y.clone()) for x, y in sampler]


@pytest.mark.parametrize("chunk_length", [1, 3, 4])
@pytest.mark.parametrize("causal_shift", [0, 2, 4])
@pytest.mark.parametrize("augment", [False, True])
def test_sampler_equals_naive_loop(chunk_length, causal_shift, augment):
    # Sequences shorter than the window, of odd and even lengths, force edge padding at both ends.
    p2, p3 = random_sequences([1, 2, 7, 10, 23])
    sampler = make_sampler(p2, p3, chunk_length=chunk_length, causal_shift=causal_shift, augment=augment, seed=7)
    got = collect(sampler)
    want = list(naive_batches(p2, p3, 8, chunk_length, 4, causal_shift, True, augment, seed=7))
    assert len(got) == len(want) == len(sampler)
    for (x, y), (wx, wy) in zip(got, want):
        assert x.dtype == torch.float32 and x.shape == (len(wx), chunk_length + 8, J, 2)
        np.testing.assert_array_equal(x.numpy(), wx)
        np.testing.assert_array_equal(y.numpy(), wy)


def test_unshuffled_order_and_flipped_copies():
    p2, p3 = random_sequences([6, 9])
    plain = [x for x, _ in make_sampler(p2, p3, batch_size=1, shuffle=False)]
    aug = [x for x, _ in make_sampler(p2, p3, batch_size=1, shuffle=False, augment=True)]
    # Per sequence: its chunks as they are, then the same chunks mirrored.
    assert len(aug) == 2 * len(plain) == 30
    expected = plain[:6] + [flip_poses(x, KPS_LEFT, KPS_RIGHT) for x in plain[:6]] + plain[6:] + \
        [flip_poses(x, KPS_LEFT, KPS_RIGHT) for x in plain[6:]]
    for a, e in zip(aug, expected):
        torch.testing.assert_close(a, e, rtol=0, atol=0)


def test_edge_padding_by_hand():
    seq = np.arange(3, dtype=np.float32)[:, None, None] * np.ones((1, 2, 2), np.float32)
    s = WindowSampler([seq], None, batch_size=3, pad=2, shuffle=False)
    (x, y), = list(s)
    assert y is None
    np.testing.assert_array_equal(x[:, :, 0, 0].numpy(), [[0, 0, 0, 1, 2], [0, 0, 1, 2, 2], [0, 1, 2, 2, 2]])
    # Causal: frame t sees frames t - 4 .. t only.
    (x, _), = list(WindowSampler([seq], None, batch_size=3, pad=2, causal_shift=2, shuffle=False))
    np.testing.assert_array_equal(x[:, :, 0, 0].numpy(), [[0, 0, 0, 0, 0], [0, 0, 0, 0, 1], [0, 0, 0, 1, 2]])


def test_chunk_starts_follow_videopose3d():
    np.testing.assert_array_equal(chunk_starts(10, 4), [-1, 3, 7])  # 3 chunks over 12 frames, centred
    np.testing.assert_array_equal(chunk_starts(9, 3), [0, 3, 6])
    np.testing.assert_array_equal(chunk_starts(5, 1), [0, 1, 2, 3, 4])


@pytest.mark.parametrize("chunk_length, augment, batch_size", [(1, False, 8), (3, True, 5), (2, False, 1000)])
def test_counts_known_up_front(chunk_length, augment, batch_size):
    p2, p3 = random_sequences([5, 11, 30])
    s = make_sampler(p2, p3, chunk_length=chunk_length, augment=augment, batch_size=batch_size)
    n_chunks = sum(-(-n // chunk_length) for n in (5, 11, 30)) * (2 if augment else 1)
    assert s.num_frames() == n_chunks * chunk_length
    batches = list(s)
    assert len(batches) == len(s) == s.num_batches == -(-n_chunks // batch_size)
    assert sum(y.shape[0] * y.shape[1] for _, y in batches) == s.num_frames()
    assert all(x.shape[0] == batch_size for x, _ in batches[:-1])


def test_deterministic_by_seed():
    p2, p3 = random_sequences([20, 13])
    a, b = collect(make_sampler(p2, p3, seed=3)), collect(make_sampler(p2, p3, seed=3))
    c = collect(make_sampler(p2, p3, seed=4))
    assert all(torch.equal(x, y) for (x, _), (y, _) in zip(a, b))
    assert not all(torch.equal(x, y) for (x, _), (y, _) in zip(a, c))


def test_random_state_round_trip_resumes_identical_batches(tmp_path):
    from relpose.checkpoints import load_checkpoint, save_checkpoint

    p2, p3 = random_sequences([20, 13])
    run = make_sampler(p2, p3, seed=5)
    collect(run)  # epoch 1
    save_checkpoint(tmp_path / "ckpt.bin", epoch=1, lr=0.1, random_state=run.random_state(), optimizer_state={},
                    model_state={"w": torch.zeros(1)})   # a checkpoint holds a model's tensors
    epoch2, epoch3 = collect(run), collect(run)
    assert not all(torch.equal(x, y) for (x, _), (y, _) in zip(epoch2, epoch3))  # epochs differ

    resumed = make_sampler(p2, p3, seed=999)
    resumed.set_random_state(load_checkpoint(tmp_path / "ckpt.bin")["random_state"])
    for want, got in ((epoch2, collect(resumed)), (epoch3, collect(resumed))):
        for (wx, wy), (gx, gy) in zip(want, got):
            assert torch.equal(wx, gx) and torch.equal(wy, gy)


def test_random_state_forms():
    p2, p3 = random_sequences([20])
    a, b, c = (make_sampler(p2, p3, seed=s) for s in (5, 6, 7))
    name, key, pos, has_gauss, cached = a.random_state()
    b.set_random_state((name, key.tolist(), pos, has_gauss, cached))  # plain-data form
    c.set_random_state(np.random.RandomState(5))
    want = collect(a)
    for other in (b, c):
        assert all(torch.equal(x, y) for (x, _), (y, _) in zip(want, collect(other)))


def test_bad_random_state_is_a_user_error():
    p2, p3 = random_sequences([5])
    with pytest.raises(UserError, match="random state"):
        make_sampler(p2, p3).set_random_state(("MT19937", [1, 2, 3], 0, 0, 0.0))


def labelled_sequences(lengths):
    """Every value of sequence i, frame t is +(1000 i + t + 1): a window's centre names its frame."""
    p = [np.broadcast_to((1000 * i + np.arange(n) + 1.0)[:, None, None], (n, J, 3)).astype(np.float32)
         for i, n in enumerate(lengths)]
    return [a[..., :2].copy() for a in p], p


@pytest.mark.parametrize("world_size, batch_size", [(2, 4), (3, 5), (4, 64)])
def test_distributed_ranks_are_disjoint_and_cover(world_size, batch_size):
    lengths = [7, 12, 4]  # 23 chunks x 2 (augment): 46 windows, not a multiple of 3 or 4
    p2, p3 = labelled_sequences(lengths)
    ranks = [make_sampler(p2, p3, batch_size=batch_size, augment=True, rank=r, world_size=world_size, seed=11)
             for r in range(world_size)]
    assert len({len(s) for s in ranks}) == 1 and len({s.num_frames() for s in ranks}) == 1
    shares = []
    for s in ranks:
        ids = [(y[:, 0, 0, 0]) for _, y in s]  # signed label: sign says flipped, value names (sequence, frame)
        assert len(ids) == len(s)
        shares.append(torch.cat(ids).tolist())
        assert len(shares[-1]) == s.num_frames()
    every = [v for share in shares for v in share]
    want = {s * (1000 * i + t + 1) for i, n in enumerate(lengths) for t in range(n) for s in (1, -1)}
    assert set(every) == want  # covering
    # Disjoint: a window repeats only where the epoch was padded cyclically to a multiple of world_size.
    assert len(every) - len(want) == (-len(want)) % world_size


def test_distributed_shares_partition_the_single_process_epoch():
    p2, p3 = labelled_sequences([8, 8])  # 16 windows, 4 ranks
    single = torch.cat([y[:, 0, 0, 0] for _, y in make_sampler(p2, p3, batch_size=16, seed=2)])
    shares = [torch.cat([y[:, 0, 0, 0] for _, y in make_sampler(p2, p3, batch_size=16, seed=2, rank=r, world_size=4)])
              for r in range(4)]
    for r in range(4):
        assert torch.equal(shares[r], single[r::4])  # same permutation everywhere, rank takes its slice


def test_reuse_buffers_gives_same_values():
    p2, p3 = random_sequences([20, 13])
    fresh = collect(make_sampler(p2, p3, seed=1, augment=True))
    reused = collect(make_sampler(p2, p3, seed=1, augment=True, reuse_buffers=True))
    assert all(torch.equal(a, b) and torch.equal(c, d) for (a, c), (b, d) in zip(fresh, reused))


def test_accepts_tensors_and_float64():
    p2, p3 = random_sequences([9])
    a = collect(make_sampler(p2, p3, seed=1))
    b = collect(make_sampler([torch.from_numpy(p2[0])], [p3[0].astype(np.float64)], seed=1))
    assert all(torch.equal(x, y) and y2.dtype == torch.float32 for (x, _), (y, y2) in zip(a, b))


@pytest.mark.parametrize("kw, error, match", [
    ({"batch_size": 0}, UserError, "batch size"),
    ({"chunk_length": 0}, UserError, "chunk length"),
    ({"causal_shift": 5}, UserError, "causal_shift"),
    ({"rank": 2, "world_size": 2}, UserError, "rank 2"),
])
def test_bad_flags(kw, error, match):
    p2, p3 = random_sequences([9])
    with pytest.raises(error, match=match):
        make_sampler(p2, p3, **kw)


def test_flip_is_one_value():
    """Flip holds a data set's symmetry as one hashable value: 2D keypoints and 3D joints mirrored apart."""
    from relpose.keypoint_layouts import get_layout
    from relpose.skeleton import H36M_17

    coco = get_layout("coco-17")
    flip = Flip.of(H36M_17, coco.symmetry)
    assert (flip.kps_left, flip.kps_right) == (tuple(coco.symmetry[0]), tuple(coco.symmetry[1]))
    assert (flip.joints_left, flip.joints_right) == (H36M_17.joints_left, H36M_17.joints_right)
    assert Flip([1, 3], [2, 4]) == Flip((1, 3), (2, 4)) and hash(Flip([1, 3], [2, 4])) == hash(Flip((1, 3), (2, 4)))
    x = np.random.default_rng(0).normal(size=(3, 17, 2)).astype(np.float32)
    np.testing.assert_array_equal(flip.keypoints(x), naive_flip(x, list(coco.symmetry[0]), list(coco.symmetry[1])))
    np.testing.assert_array_equal(flip.joints(x), naive_flip(x, list(H36M_17.joints_left), list(H36M_17.joints_right)))
    dataset = type("Data", (), dict(kps_left=[1, 3], kps_right=[2, 4], joints_left=[5], joints_right=[6]))
    assert Flip.from_dataset(dataset) == Flip((1, 3), (2, 4), (5,), (6,))
    assert Flip.of(H36M_17) == Flip(H36M_17.joints_left, H36M_17.joints_right, H36M_17.joints_left,
                                    H36M_17.joints_right)


def test_bad_data():
    p2, p3 = random_sequences([9, 4])
    with pytest.raises(DataError, match="sequence 1: 4 2D frames but 5 3D frames"):
        WindowSampler(p2, [p3[0], p3[0][:5]], batch_size=2)
    with pytest.raises(DataError, match="no 2D sequences"):
        WindowSampler([], None, batch_size=2)
    with pytest.raises(UserError, match="kps_left"):
        WindowSampler(p2, p3, batch_size=2, augment=True)


@pytest.mark.parametrize("pad, causal_shift", [(0, 0), (3, 0), (3, 3), (4, -2)])
def test_gather_windows_equals_naive(pad, causal_shift):
    seq = np.random.default_rng(1).normal(size=(6, J, 2)).astype(np.float32)
    want = np.stack([naive_window(seq, t - pad - causal_shift, t + pad - causal_shift + 1) for t in range(6)])
    np.testing.assert_array_equal(gather_windows(seq, pad, causal_shift), want)
    got = gather_windows(torch.from_numpy(seq), pad, causal_shift)
    assert isinstance(got, torch.Tensor) and got.shape == (6, 2 * pad + 1, J, 2)
    np.testing.assert_array_equal(got.numpy(), want)
    np.testing.assert_array_equal(gather_windows(seq, pad, causal_shift, frames=[5, 0]), want[[5, 0]])


def test_gather_windows_matches_sampler_windows():
    p2, p3 = random_sequences([11])
    x = torch.cat([x for x, _ in make_sampler(p2, p3, shuffle=False, causal_shift=2)])
    torch.testing.assert_close(gather_windows(torch.from_numpy(p2[0]), 4, 2), x, rtol=0, atol=0)


def test_flip_poses_numpy_and_torch():
    x = np.random.default_rng(2).normal(size=(2, 3, J, 2))
    want = naive_flip(x, KPS_LEFT, KPS_RIGHT)
    np.testing.assert_array_equal(flip_poses(x, KPS_LEFT, KPS_RIGHT), want)
    np.testing.assert_array_equal(flip_poses(torch.from_numpy(x), KPS_LEFT, KPS_RIGHT).numpy(), want)
    np.testing.assert_array_equal(flip_poses(want, KPS_LEFT, KPS_RIGHT), x)  # an involution
    assert flip_poses(x[0, 0], KPS_LEFT, KPS_RIGHT)[1, 0] == -x[0, 0, 2, 0]
