"""Faster CPU forms of the model's modules, swapped in where the kit wants speed: same results as the
plain PyTorch ops of relpose.model, in less time.

relpose.model is written in plain ops, and `model(x)` runs them. The kit's training loop
(relpose.train.train_epochs) and inference (relpose.evaluate.predict_sequence) run their batches inside
`with accelerated(model):`, which gives every module that has a fast form the class below (a subclass
that only replaces `forward`) and gives the plain class back after the block. The parameters, buffers
and state_dict keys are the module's own throughout, so an optimizer, a DistributedDataParallel wrapper
and the published checkpoint layout see no difference. Each fast form falls back to its plain forward
where it does not pay (on a GPU, in eval mode, ...). Profiling a CPU training step
(benchmarks/README.md) found:

- `CpuDropout` for nn.Dropout: PyTorch's CPU dropout (a float Bernoulli draw per element) took about
  a third of a small-config step; here one 64-bit random integer gives the mask of four elements.
- `BiasFreeFCBlock` / `BiasFreeResidualFC`: the bias add before training-mode batch norm is a full
  pass over the activations that batch norm takes out again (`linear_bn` skips it on the CPU and
  keeps the running mean as with the bias).
- `MatmulTemporalEncoder`: a convolution whose kernel equals its stride, in channels-last layout, is
  one matrix product (oneDNN's strided-convolution backward is slow: ~2x on the paper's configuration).

`accelerate(model)` / `plain(model)` make the swap permanent or undo it; `disabled()` makes
`accelerate` (and so the kit's loops) leave models plain inside a block, for comparisons (the
benchmark's 'plain' variant). tests/test_fastpaths.py checks each fast form against its plain one.
"""
from __future__ import annotations

import contextlib

import torch
import torch.nn as nn
import torch.nn.functional as F

from relpose.grouped import GroupedRIEModel
from relpose.model import LRELU_SLOPE, FCBlock, ResidualFC, RIEModel, TemporalEncoder

_enabled = True
_grouping = True


def enabled() -> bool:
    """Whether `accelerate` swaps anything (True unless inside `disabled()`)."""
    return _enabled


@contextlib.contextmanager
def disabled():
    """Inside this block `accelerate` and `accelerated` leave models plain (a model already accelerated stays so)."""
    global _enabled
    before, _enabled = _enabled, False
    try:
        yield
    finally:
        _enabled = before


@contextlib.contextmanager
def ungrouped():
    """Inside this block `accelerate` leaves the model's per-part loop as it is (the per-module fast forms
    only): the step before relpose.grouped, for comparisons (the benchmark's 'parts' variant)."""
    global _grouping
    before, _grouping = _grouping, False
    try:
        yield
    finally:
        _grouping = before


def _fast_forms() -> dict:
    return FAST_FORMS if _grouping else {k: v for k, v in FAST_FORMS.items() if k is not RIEModel}


# ----------------------------------------------------------------------------- the building blocks

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
    if not (x.device.type == "cpu" and bn.training and bn.track_running_stats and bn.affine
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


# ----------------------------------------------------------------------------- the fast forms

class CpuDropout(nn.Dropout):
    """nn.Dropout with a cheaper mask on the CPU.

    One 64-bit random integer gives the mask of four elements: each 16-bit slice v (uniform in
    [-32768, 32767]) keeps its element when v >= t. The mask is made with float arithmetic, which is
    exact on these integers and vectorises (comparisons that produce bool tensors, and bool-to-float
    casts, do not): clamp(v - t + 1, 0, 1) * 1/(1-p). The drop probability is rounded to a multiple
    of 1/65536 (0.2 becomes 0.199997). On CUDA, where the native kernel is fast, it is nn.Dropout.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0:
            return x
        if x.device.type != "cpu" or self.inplace or self.p >= 1:
            return super().forward(x)
        threshold = round(self.p * 65536) - 32768
        n = x.numel()
        draws = torch.empty((n + 3) // 4, dtype=torch.int64).random_(-2 ** 63, 2 ** 63 - 1)  # all 64 bits
        mask = draws.view(torch.int16)[:n].to(torch.float32).sub_(threshold - 1).clamp_(0, 1)
        mask = mask.mul_(1.0 / (1.0 - self.p)).view(x.shape)
        return x * (mask if x.dtype == torch.float32 else mask.to(x.dtype))


class MatmulTemporalEncoder(TemporalEncoder):
    """TemporalEncoder.forward in (B, L, C) layout, each convolution one matrix product (same weights)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.dense or x.shape[-1] != self.receptive_field():
            return super().forward(x)   # the dense ablation form, and the plain form's error message

        def act(y, bn):   # batch norm over the (B * L, C) rows: the statistics of (B, C, L)
            b, length, c = y.shape
            return self._act(y.reshape(b * length, c), bn).view(b, length, c)

        x = act(strided_conv(x.transpose(1, 2), self.expand_conv, self.filter_widths[0]), self.expand_bn)
        for i, (w, dilation, _, shift) in enumerate(self.geometry):
            res = x[:, shift // dilation + w // 2::w]
            x = act(strided_conv(x, self.layers_conv[2 * i], w), self.layers_bn[2 * i])
            x = res + act(pointwise_conv(x, self.layers_conv[2 * i + 1]), self.layers_bn[2 * i + 1])
        return pointwise_conv(x, self.shrink)[:, 0]


class BiasFreeResidualFC(ResidualFC):
    """ResidualFC.forward with bn(linear(x)) as `linear_bn`."""

    def forward(self, x):
        y = self.drop(F.leaky_relu(linear_bn(x, self.w1, self.batch_norm1), LRELU_SLOPE, inplace=True))
        y = self.drop(F.leaky_relu(linear_bn(y, self.w2, self.batch_norm2), LRELU_SLOPE, inplace=True))
        return x + y


class BiasFreeFCBlock(FCBlock):
    """FCBlock.forward with bn(linear(x)) as `linear_bn`."""

    def forward(self, x):
        x = self.drop(F.leaky_relu(linear_bn(x, self.fc_1, self.bn_1), LRELU_SLOPE, inplace=True))
        for block in self.layers:
            x = block(x)
        return self.fc_2(x)


# Plain class -> its fast form. Only these exact classes are swapped: a subclass may have its own forward.
FAST_FORMS: dict[type, type] = {nn.Dropout: CpuDropout, TemporalEncoder: MatmulTemporalEncoder,
                                ResidualFC: BiasFreeResidualFC, FCBlock: BiasFreeFCBlock, RIEModel: GroupedRIEModel}
PLAIN_FORMS: dict[type, type] = {fast: plain for plain, fast in FAST_FORMS.items()}


def _swap(model: nn.Module, forms: dict[type, type]) -> list[nn.Module]:
    """Give each module of `model` whose class is a key of `forms` the class it maps to; the modules changed."""
    changed = [m for m in model.modules() if type(m) in forms]
    for m in changed:
        m.__class__ = forms[type(m)]
    return changed


def accelerate(model: nn.Module) -> nn.Module:
    """`model` (in place) with the fast form of every module that has one, unless inside `disabled()`."""
    if _enabled:
        _swap(model, _fast_forms())
    return model


def plain(model: nn.Module) -> nn.Module:
    """`model` (in place) with every fast form back to its plain class: what relpose.model's code says."""
    _swap(model, PLAIN_FORMS)
    return model


@contextlib.contextmanager
def accelerated(model: nn.Module):
    """`model` accelerated inside the block; the modules that were plain are plain again after it."""
    changed = _swap(model, _fast_forms()) if _enabled else []
    try:
        yield model
    finally:
        for m in changed:
            m.__class__ = PLAIN_FORMS[type(m)]
