"""The CUDA paths give the CPU's numbers. Skipped on machines without a GPU (CI has none)."""
import numpy as np
import pytest
import torch

from relpose.evaluate import evaluate_dataset, predict_sequence
from relpose.metrics import mpjpe
from relpose.model import ModelConfig, RIEModel
from relpose.skeleton import H36M_17
from relpose.train import TrainConfig, make_optimizer, train_epochs
from relpose.windows import Flip, WindowSampler

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")

CUDA, CPU = torch.device("cuda"), torch.device("cpu")
CFG = dict(filter_widths=(3, 3), channels=16, latent_dim=16, hidden=32)


@pytest.fixture(autouse=True)
def exact_fp32_matmuls():
    # TF32 would make CUDA differ from CPU by ~1e-3 relative; these tests compare the two.
    old = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    yield
    torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = old


def sequences(n=3, frames=50, seed=0):
    rng = np.random.default_rng(seed)
    p2 = [rng.normal(size=(frames, 17, 2)).astype(np.float32) * 0.3 for _ in range(n)]
    p3 = [rng.normal(size=(frames, 17, 3)).astype(np.float32) * 0.2 for _ in range(n)]
    return p2, p3


def sampler(device, p2, p3, pad=4):
    return WindowSampler(p2, p3, batch_size=32, pad=pad, shuffle=True, augment=True, flip=Flip.of(H36M_17),
                         seed=3, device=device)


def test_sampler_on_cuda_draws_the_cpu_batches_on_the_device():
    p2, p3 = sequences()
    for (xc, yc), (xg, yg) in zip(sampler(CPU, p2, p3), sampler(CUDA, p2, p3)):
        assert xg.device.type == "cuda" and yg.device.type == "cuda"
        assert torch.equal(xc, xg.cpu()) and torch.equal(yc, yg.cpu())


@pytest.mark.parametrize("stage", [1, 3])
def test_eval_forward_on_cuda_equals_cpu(stage):
    torch.manual_seed(0)
    model = RIEModel(ModelConfig(stage=stage, **CFG)).eval()
    x = torch.randn(8, model.receptive_field(), 17, 2)
    with torch.no_grad():
        ref = model(x)
        got = model.to(CUDA)(x.to(CUDA)).cpu()
    torch.testing.assert_close(got, ref, rtol=1e-4, atol=1e-5)


def test_predict_sequence_on_cuda_equals_cpu():
    torch.manual_seed(0)
    model = RIEModel(ModelConfig(stage=3, **CFG)).eval()
    seq = sequences(1, 40)[0][0]
    kw = dict(tta=True, flip=Flip.of(H36M_17), batch_size=16)
    ref = predict_sequence(model, seq, device=CPU, **kw)
    got = predict_sequence(model.to(CUDA), seq, device=CUDA, **kw)
    assert got.device.type == "cuda" and got.shape == (40, 17, 3)
    torch.testing.assert_close(got.cpu(), ref, rtol=1e-4, atol=1e-5)


def test_training_step_gradients_on_cuda_equal_cpu():
    """Same weights, same batch, no dropout: the loss and every gradient agree to float tolerance.

    (Whole training runs are not compared: AdamW divides by sqrt of the squared gradients, so a
    gradient that is ~0 on both devices turns rounding noise into full-size, sign-random steps.)
    """
    p2, p3 = sequences()
    x, y = next(iter(sampler(CPU, p2, p3)))
    y[:, :, 0] = 0
    results = []
    for device in (CPU, CUDA):
        torch.manual_seed(0)
        model = RIEModel(ModelConfig(stage=3, dropout=0.0, fc_dropout=0.0, **CFG)).to(device).train()
        loss = mpjpe(model(x.to(device)), y.to(device))
        loss.backward()
        results.append((loss.item(), {n: p.grad.cpu() for n, p in model.named_parameters()}))
    (loss_cpu, grads_cpu), (loss_cuda, grads_cuda) = results
    assert loss_cuda == pytest.approx(loss_cpu, rel=1e-5)
    for name, ref in grads_cpu.items():
        scale = ref.abs().max().item()
        torch.testing.assert_close(grads_cuda[name], ref, rtol=1e-3, atol=1e-4 * max(scale, 1e-6), msg=name)


def test_training_on_cuda_follows_cpu():
    p2, p3 = sequences()
    losses = []
    for device in (CPU, CUDA):
        torch.manual_seed(0)
        model = RIEModel(ModelConfig(stage=1, dropout=0.0, fc_dropout=0.0, **CFG)).to(device)
        hist = train_epochs(model, sampler(device, p2, p3), make_optimizer(model, 1e-3, device),
                            TrainConfig(stage=1, epochs=3), device=device, progress=False, log=lambda *_: None)
        losses.append(hist.train_mpjpe_mm)
    np.testing.assert_allclose(losses[1], losses[0], rtol=0.02)


def test_amp_training_runs_on_cuda_and_learns():
    p2, p3 = sequences()
    torch.manual_seed(0)
    model = RIEModel(ModelConfig(stage=1, **CFG)).to(CUDA)
    hist = train_epochs(model, sampler(CUDA, p2, p3), make_optimizer(model, 1e-3, CUDA),
                        TrainConfig(stage=1, epochs=4, amp=True), device=CUDA, progress=False, log=lambda *_: None)
    assert all(np.isfinite(hist.train_mpjpe_mm))
    assert hist.train_mpjpe_mm[-1] < hist.train_mpjpe_mm[0]
    assert all(p.dtype == torch.float32 for p in model.parameters())  # autocast, not a bf16 model


def test_evaluate_dataset_on_cuda_equals_cpu(tiny_data_dir):
    from relpose.datasets import load_dataset

    ds = load_dataset("synth", "det", tiny_data_dir)
    torch.manual_seed(0)
    model = RIEModel(ModelConfig(stage=3, **CFG)).eval()
    ref = evaluate_dataset(model, ds, ["S9"], tta=True, log=None)
    got = evaluate_dataset(model.to(CUDA), ds, ["S9"], tta=True, log=None)
    for a, b in zip(got.actions, ref.actions):
        assert a.action == b.action
        assert a.mpjpe_mm == pytest.approx(b.mpjpe_mm, abs=0.01)
        assert a.p_mpjpe_mm == pytest.approx(b.p_mpjpe_mm, abs=0.01)
