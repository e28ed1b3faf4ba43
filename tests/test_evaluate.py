"""The evaluation protocol against an independent, loop-based rendering of the published one."""
import numpy as np
import pytest
import torch

from relpose.datasets import load_dataset
from relpose.evaluate import evaluate_dataset, evaluate_sequences, predict_sequence
from relpose.metrics import p_mpjpe
from relpose.model import ModelConfig, RIEModel
from relpose.skeleton import H36M_17
from relpose.windows import Flip

from float_tolerance import assert_float32_close

LEFT, RIGHT = list(H36M_17.joints_left), list(H36M_17.joints_right)


def small_model(seed=0, **kw):
    torch.manual_seed(seed)
    cfg = ModelConfig(filter_widths=(3, 3), channels=16, latent_dim=16, hidden=32, **kw)
    model = RIEModel(cfg).eval()
    # Non-trivial BatchNorm statistics so that eval mode really differs from identity.
    for m in model.modules():
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            m.running_mean.uniform_(-0.1, 0.1)
            m.running_var.uniform_(0.5, 1.5)
    return model


def mirror(x, left, right):
    x = x.copy()
    x[..., 0] *= -1
    x[..., left + right, :] = x[..., right + left, :]
    return x


def reference_predictions(model, seq_2d, tta, causal_shift=0):
    """The published evaluation, spelt out: edge-pad the whole sequence, then one window per frame."""
    pad = (model.receptive_field() - 1) // 2
    padded = np.pad(seq_2d, ((pad + causal_shift, pad - causal_shift), (0, 0), (0, 0)), mode="edge")
    out = []
    with torch.no_grad():
        for t in range(seq_2d.shape[0]):
            w = padded[t:t + 2 * pad + 1]
            p = model(torch.from_numpy(w[None]).float())[0, 0].numpy()
            if tta:
                pf = model(torch.from_numpy(mirror(w, LEFT, RIGHT)[None]).float())[0, 0].numpy()
                p = (p + mirror(pf, LEFT, RIGHT)) / 2
            out.append(p)
    return np.stack(out)


@pytest.mark.parametrize("tta", [False, True])
@pytest.mark.parametrize("causal", [False, True])
def test_predict_sequence_matches_window_by_window_reference(tta, causal):
    model = small_model(causal=causal)
    pad = (model.receptive_field() - 1) // 2
    seq = np.random.default_rng(1).normal(size=(23, 17, 2)).astype(np.float32) * 0.3
    shift = pad if causal else 0
    got = predict_sequence(model, seq, tta=tta, flip=Flip.of(H36M_17), causal_shift=shift, batch_size=8).numpy()
    want = reference_predictions(model, seq, tta, shift)
    # Batches of 8 windows against one window at a time: the same float32 sums (a few hundred products per
    # layer) in another order.
    assert_float32_close(got, want, n_terms=256)


def test_errors_pool_frames_not_sequence_means():
    model = small_model()
    rng = np.random.default_rng(2)
    seqs_2d = [rng.normal(size=(n, 17, 2)).astype(np.float32) * 0.3 for n in (5, 40)]
    seqs_3d = [rng.normal(size=(n, 17, 3)).astype(np.float32) * 0.2 for n in (5, 40)]
    r = evaluate_sequences(model, seqs_3d, seqs_2d, tta=True, flip=Flip.of(H36M_17))
    err_sum, p2_sum, frames = 0.0, 0.0, 0
    for s2, s3 in zip(seqs_2d, seqs_3d):
        pred = reference_predictions(model, s2, True)
        target = s3.copy()
        target[:, 0] = 0  # target root zeroed, prediction as output
        err_sum += np.linalg.norm(pred - target, axis=-1).mean(axis=1).sum()
        p2_sum += p_mpjpe(pred, target) * len(s2)
        frames += len(s2)
    assert r.frames == 45
    assert r.mpjpe_mm == pytest.approx(err_sum / frames * 1000, abs=0.01)
    assert r.p_mpjpe_mm == pytest.approx(p2_sum / frames * 1000, abs=0.01)
    # A mean of per-sequence means would weight the 5-frame take as much as the 40-frame one.
    means = [np.linalg.norm(reference_predictions(model, s2, True) - np.concatenate(
        [np.zeros((len(s3), 1, 3)), s3[:, 1:]], 1), axis=-1).mean() for s2, s3 in zip(seqs_2d, seqs_3d)]
    assert abs(np.mean(means) * 1000 - r.mpjpe_mm) > 1e-3


def test_evaluate_dataset_groups_takes_and_prints_published_lines(tiny_data_dir):
    ds = load_dataset("synth", "gt", tiny_data_dir)
    model = small_model()
    lines = []
    res = evaluate_dataset(model, ds, ["S9", "S11"], action_filter=["Walking", "Sitting"], tta=True,
                           log=lines.append)
    names = [a.action for a in res.actions]
    assert names == sorted(set(names), key=names.index)  # each action once
    assert set(names) == {"Walking", "Sitting", "SittingDown"}  # prefix filter; takes grouped by first word
    text = "\n".join(lines)
    for name in names:
        assert f"----{name}----" in text
    assert "Protocol #1 Error (MPJPE):" in text and "Protocol #2 Error (P-MPJPE):" in text
    avg1 = [l for l in lines if l.startswith("Protocol #1   (MPJPE) action-wise average:")]
    avg2 = [l for l in lines if l.startswith("Protocol #2 (P-MPJPE) action-wise average:")]
    assert len(avg1) == len(avg2) == 1
    assert float(avg1[0].split(":")[1].split()[0]) == pytest.approx(np.mean([a.mpjpe_mm for a in res.actions]),
                                                                      abs=0.006)
    # Frame-weighted pooling over every subject, take and camera of the action.
    walking = next(a for a in res.actions if a.action == "Walking")
    pairs = ds.actions_by_name(["S9", "S11"], ["Walking"])["Walking"]
    p3, p2 = ds.fetch_actions(pairs)
    assert walking.frames == sum(len(p) for p in p2)
    assert len(p2) == 4 * len(pairs)
