"""CPU fast paths of the model's layers: the same results as the plain PyTorch ops, in less time.

relpose.model calls these instead of the plain ops; each falls back to the plain op where it does not
pay (on a GPU, in eval mode, ...). Profiling a CPU training step (benchmarks/README.md) found:

- `Dropout`: PyTorch's CPU dropout (a float Bernoulli draw per element) took about a third of a
  small-config step; here one 64-bit random integer gives the mask of four elements (~1.2x).
- `linear_bn`: the bias add before training-mode batch norm is a full pass over the activations
  that batch norm takes out again; skipped on the CPU, with the running mean kept as with the bias.
- `strided_conv` / `pointwise_conv`: a convolution whose kernel equals its stride, in channels-last
  layout, is one matrix product (oneDNN's strided-convolution backward is slow: ~2x on the paper's
  configuration); the weights stay Conv1d parameters, so the state_dict keeps the published layout.

All are on by default. `disabled()` turns them off for a block (benchmarks compare against the
plain ops; tests/test_fastpaths.py checks each equals its plain form).
"""
from __future__ import annotations

import contextlib

import torch
import torch.nn as nn
import torch.nn.functional as F

_enabled = True


def enabled() -> bool:
    """Whether the fast paths are in use (True unless inside `disabled()`)."""
    return _enabled


@contextlib.contextmanager
def disabled():
    """Run the plain PyTorch ops instead of the fast paths inside this block."""
    global _enabled
    before, _enabled = _enabled, False
    try:
        yield
    finally:
        _enabled = before


def use_matmul_convolutions(x: torch.Tensor) -> bool:
    """Whether the temporal encoder runs its strided convolutions as channels-last matrix products.

    True whenever the fast paths are on: it pays on the CPU and costs nothing measurable on a GPU
    (one matmul per layer either way), so there is a single code path to test.
    """
    return _enabled


class Dropout(nn.Module):
    """Inverted dropout, as nn.Dropout, with a cheaper mask on the CPU.

    One 64-bit random integer gives the mask of four elements: each 16-bit slice v (uniform in
    [-32768, 32767]) keeps its element when v >= t. The mask is made with float arithmetic, which is
    exact on these integers and vectorises (comparisons that produce bool tensors, and bool-to-float
    casts, do not): clamp(v - t + 1, 0, 1) * 1/(1-p). The drop probability is rounded to a multiple
    of 1/65536 (0.2 becomes 0.199997). On CUDA, where the native kernel is fast, it calls F.dropout.
    """

    def __init__(self, p: float):
        super().__init__()
        if not 0 <= p < 1:
            raise ValueError(f"dropout probability must be in [0, 1), got {p}")
        self.p = p
        self.threshold = round(p * 65536) - 32768

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0:
            return x
        if x.device.type != "cpu" or not _enabled:
            return F.dropout(x, self.p, True)
        n = x.numel()
        draws = torch.empty((n + 3) // 4, dtype=torch.int64).random_(-2 ** 63, 2 ** 63 - 1)  # all 64 bits
        mask = draws.view(torch.int16)[:n].to(torch.float32).sub_(self.threshold - 1).clamp_(0, 1)
        mask = mask.mul_(1.0 / (1.0 - self.p)).view(x.shape)
        return x * (mask if x.dtype == torch.float32 else mask.to(x.dtype))

    def extra_repr(self) -> str:
        return f"p={self.p}"


def linear_bn(x: torch.Tensor, linear: nn.Linear, bn: nn.BatchNorm1d) -> torch.Tensor:
    """bn(linear(x)), on the CPU without the bias add that training-mode batch norm takes out again.

    In training, batch norm subtracts the batch mean, so a constant bias before it changes nothing
    but the running mean, and its gradient is zero. Skipping it saves a full pass over the
    activations per layer (addmm's bias broadcast) and the bias-gradient reduction; the running
    mean gets the bias added by hand, so the statistics, and eval mode, are as with the bias.
    """
    m = bn.momentum
    # CPU only: on a GPU the bias add is free (cuBLAS fuses it into the product) and a step is bound by
    # kernel launches, which the bookkeeping below would add to.
    if not (_enabled and x.device.type == "cpu" and bn.training and bn.track_running_stats and bn.affine
            and m is not None and 0 <= m < 1 and linear.bias is not None):
        return bn(linear(x))
    bn.num_batches_tracked.add_(1)
    with torch.no_grad():  # so that batch_norm's update (1 - m) * old + m * mean adds m * bias
        bn.running_mean.add_(linear.bias, alpha=m / (1 - m))
    # 0 * bias keeps the bias in the graph with the zero gradient it would get anyway (AdamW still
    # decays it, and DistributedDataParallel wants a gradient for every parameter); a vector op.
    return F.batch_norm(F.linear(x, linear.weight), bn.running_mean, bn.running_var, bn.weight,
                        bn.bias + 0 * linear.bias, True, m, bn.eps)


def strided_conv(x: torch.Tensor, conv: nn.Conv1d, width: int) -> torch.Tensor:
    """Conv1d with kernel = stride = `width` on channels-last (B, L, C) input -> (B, L / width, out)."""
    b, length, c = x.shape
    weight = conv.weight.permute(0, 2, 1).reshape(conv.out_channels, width * c)  # (out, tap-major)
    return F.linear(x.reshape(b, length // width, width * c), weight, conv.bias)


def pointwise_conv(x: torch.Tensor, conv: nn.Conv1d) -> torch.Tensor:
    """A 1x1 Conv1d on channels-last (..., C) input: a linear layer."""
    return F.linear(x, conv.weight[:, :, 0], conv.bias)
