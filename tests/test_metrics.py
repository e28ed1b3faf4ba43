"""Pose error metrics: hand-checked cases and agreement with VideoPose3D's definitions."""
import numpy as np
import pytest
import torch

from relpose.metrics import (mean_velocity_error, mpjpe, mpjve, n_mpjpe, p_mpjpe, per_joint_mpjpe,
                             weighted_mpjpe)

RNG = np.random.default_rng(0)


def rotation(axis, angle):
    axis = np.asarray(axis, float) / np.linalg.norm(axis)
    k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    return np.eye(3) + np.sin(angle) * k + (1 - np.cos(angle)) * k @ k  # Rodrigues


def reference_p_mpjpe(pred, target):
    """Per-frame similarity alignment in plain numpy (Umeyama / VideoPose3D's numbered steps)."""
    errors = []
    for p, t in zip(pred.reshape(-1, *pred.shape[-2:]), target.reshape(-1, *target.shape[-2:])):
        pc, tc = p - p.mean(0), t - t.mean(0)
        u, s, vt = np.linalg.svd(tc.T @ pc)
        d = np.sign(np.linalg.det(vt.T @ u.T))
        rot = vt.T @ np.diag([1, 1, d]) @ u.T  # maps row vectors of pred onto target: p @ rot
        scale = (s * [1, 1, d]).sum() / (pc ** 2).sum()
        aligned = scale * pc @ rot + t.mean(0)
        errors.append(np.linalg.norm(aligned - t, axis=-1))
    return np.mean(errors)


def reference_n_mpjpe(pred, target):
    """Per (batch, frame) least-squares scale, as VideoPose3D computes it on (B, T, J, 3)."""
    out = np.empty_like(pred)
    for b in range(pred.shape[0]):
        for f in range(pred.shape[1]):
            p, t = pred[b, f], target[b, f]
            out[b, f] = p * (t * p).sum() / (p * p).sum()
    return np.mean(np.linalg.norm(out - target, axis=-1))


def test_identical_poses_give_zero():
    x = RNG.normal(size=(4, 17, 3))
    for metric in (mpjpe, p_mpjpe, n_mpjpe, mean_velocity_error):
        assert metric(x, x) == pytest.approx(0, abs=1e-6)
    np.testing.assert_allclose(per_joint_mpjpe(x, x), np.zeros(17))


def test_constant_offset():
    x = RNG.normal(size=(5, 17, 3))
    d = np.array([3.0, 0.0, 4.0])  # |d| = 5
    assert mpjpe(x + d, x) == pytest.approx(5.0)
    np.testing.assert_allclose(per_joint_mpjpe(x + d, x), np.full(17, 5.0))
    assert mean_velocity_error(x + d, x) == pytest.approx(0, abs=1e-12)  # same motion
    assert p_mpjpe(x + d, x) == pytest.approx(0, abs=1e-9)


def test_similarity_transform_is_removed_by_procrustes_only():
    x = RNG.normal(size=(6, 17, 3))
    pred = np.stack([1.7 * f @ rotation([1, 2, 0.5], 0.3 + i).T + [0.2, -1.0, 3.0] for i, f in enumerate(x)])
    assert mpjpe(pred, x) > 0.5
    assert p_mpjpe(pred, x) == pytest.approx(0, abs=1e-9)
    assert n_mpjpe(pred, x) > 0.1


def test_reflection_is_not_allowed():
    # A mirror image is not a rotation: P-MPJPE must stay > 0 (the reflection fix).
    x = RNG.normal(size=(3, 17, 3))
    mirrored = x * [-1, 1, 1]
    assert p_mpjpe(mirrored, x) > 0.1
    assert p_mpjpe(mirrored, x) == pytest.approx(reference_p_mpjpe(mirrored, x), rel=1e-9)


def test_scaled_copy_gives_zero_n_mpjpe():
    x = RNG.normal(size=(2, 4, 17, 3))
    scales = np.array([0.5, 2.0, 1.3, 0.9])[None, :, None, None]
    assert mpjpe(x * scales, x) > 0.1
    assert n_mpjpe(x * scales, x) == pytest.approx(0, abs=1e-12)


def test_p_and_n_mpjpe_match_reference_definitions():
    target = RNG.normal(size=(2, 5, 17, 3))
    pred = target + 0.3 * RNG.normal(size=target.shape)
    assert p_mpjpe(pred, target) == pytest.approx(reference_p_mpjpe(pred, target), rel=1e-10)
    assert n_mpjpe(pred, target) == pytest.approx(reference_n_mpjpe(pred, target), rel=1e-10)
    # float32 stays float32, within float32 precision
    got = p_mpjpe(pred.astype(np.float32), target.astype(np.float32))
    assert got.dtype == np.float32 and got == pytest.approx(reference_p_mpjpe(pred, target), rel=1e-4)


def test_velocity_error():
    t = np.arange(10)[:, None, None]
    start = RNG.normal(size=(1, 17, 3))
    v = RNG.normal(size=(1, 17, 3))
    a = start + t * v
    assert mpjve(a, start + 1.0 + t * v) == pytest.approx(0, abs=1e-12)  # same velocity, other position
    b = start + t * (v + [0.0, 0.6, 0.8])  # velocity differs by a vector of length 1 everywhere
    assert mean_velocity_error(b, a) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="at least 2 frames"):
        mean_velocity_error(a[:1], a[:1])


def test_weighted_mpjpe():
    pred, target = RNG.normal(size=(3, 4, 17, 3)), RNG.normal(size=(3, 4, 17, 3))
    assert weighted_mpjpe(pred, target, np.ones(17)) == pytest.approx(mpjpe(pred, target))
    w = np.zeros(17)
    w[5] = 17.0  # all the weight on joint 5
    assert weighted_mpjpe(pred, target, w) == pytest.approx(per_joint_mpjpe(pred, target)[5])
    sample_w = np.array([2.0, 0.0, 1.0])[:, None, None]
    want = (2 * np.linalg.norm(pred[0] - target[0], axis=-1).mean() + np.linalg.norm(pred[2] - target[2], axis=-1).mean()) / 3
    assert weighted_mpjpe(pred, target, sample_w) == pytest.approx(want)


@pytest.mark.parametrize("metric", [mpjpe, p_mpjpe, n_mpjpe, mean_velocity_error, per_joint_mpjpe])
def test_torch_and_numpy_agree(metric):
    target = RNG.normal(size=(6, 17, 3))
    pred = target + 0.2 * RNG.normal(size=target.shape)
    got_np = metric(pred, target)
    got_torch = metric(torch.from_numpy(pred), torch.from_numpy(target))
    assert isinstance(got_torch, torch.Tensor) and not isinstance(got_np, torch.Tensor)
    np.testing.assert_allclose(got_torch.numpy(), got_np, rtol=1e-12)


def test_torch_loss_is_differentiable():
    target = torch.randn(2, 3, 17, 3, dtype=torch.float64)
    pred = (target + 0.1 * torch.randn_like(target)).requires_grad_()
    for metric in (mpjpe, n_mpjpe):
        metric(pred, target).backward()
        assert pred.grad is not None and torch.isfinite(pred.grad).all()
        pred.grad = None
    weighted_mpjpe(pred, target, torch.ones(17)).backward()
    assert torch.isfinite(pred.grad).all()


def test_shape_and_kind_errors():
    with pytest.raises(ValueError, match=r"differ in shape: \(2, 17, 3\) vs \(2, 16, 3\)"):
        mpjpe(np.zeros((2, 17, 3)), np.zeros((2, 16, 3)))
    with pytest.raises(TypeError, match="both as numpy arrays or both as torch tensors"):
        mpjpe(np.zeros((2, 17, 3)), torch.zeros(2, 17, 3))
