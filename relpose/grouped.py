"""The five body parts as one computation: the model's forward with batched matrix products.

relpose.model runs five local encoders, (stage 2/3) five fusion blocks and five decoders one after
another: about 75 module calls per step, each a handful of small kernels. For the small models of the
lab and the notebooks a step costs what its calls cost, not its FLOPs (benchmarks/README.md); on a GPU
every kernel is a launch. `GroupedRIEModel.forward` computes the same thing with the parts stacked:

- activations are (rows, parts, channels); a layer of the five parts is one `torch.bmm` over the part
  axis, with the five modules' weights stacked for the step (their own parameters, so gradients,
  optimizers and the published state_dict layout are those of the plain model);
- batch norm of the five parts is one batch norm over parts x channels, with the five modules' running
  statistics stacked in and written back (same momentum, same update);
- parts whose sizes differ (the first layer's input channels: 5 torso joints, 3 per limb; the
  decoders' outputs) are padded with zero weights, which add exact zeros.

It is a fast form like those of relpose.fastpaths (swapped in by `fastpaths.accelerated`, swapped back
after) and falls back to the model's own forward where its conditions do not hold (dense or non-TCN
encoders, cumulative batch-norm averages, mixed settings between parts) and on devices where it does not
pay. Measured (benchmarks/README.md, one CPU thread): a small model's step is bound by its matrix products and
element-wise passes more than by the number of calls; the grouped form gave 1.03-1.27x of the per-part fast forms on
the lab's and the quick model's training steps, 0.75-1.00x on their evaluation and 0.96x / 0.64x at the paper's
widths, so by default it runs only where each call is a kernel launch (CUDA); `grouping_on(...)` changes that (the
benchmark's 'grouped' variant). tests/test_grouped.py checks outputs, gradients and running statistics
against the plain model.
"""
from __future__ import annotations

import contextlib

import torch
import torch.nn as nn
import torch.nn.functional as F

from relpose.encoding import encoding_parts
from relpose.model import LRELU_SLOPE, RIEModel, TemporalEncoder


_DEVICES = {"cuda"}   # device types the grouped form runs on by default


@contextlib.contextmanager
def grouping_on(*device_types: str):
    """Inside this block the grouped form runs on these device types (e.g. "cpu", "cuda"; none: nowhere)."""
    global _DEVICES
    before, _DEVICES = _DEVICES, set(device_types)
    try:
        yield
    finally:
        _DEVICES = before


def _stacked_batch_norm(y: torch.Tensor, bns, bias=None) -> torch.Tensor:
    """Batch norm of (rows, parts * channels) with one BatchNorm1d per part; `bias` (parts * channels), the
    preceding linear layers' biases, enters as in bn(y + bias), without the pass that adds it: training-mode
    batch norm takes it out again (it only moves the running mean, added here by hand, as
    relpose.fastpaths.linear_bn does), and eval mode subtracts it from the running mean instead."""
    first = bns[0]
    weight = torch.cat([bn.weight for bn in bns])
    beta = torch.cat([bn.bias for bn in bns])
    running_mean = torch.cat([bn.running_mean for bn in bns])
    running_var = torch.cat([bn.running_var for bn in bns])
    if not first.training:
        if bias is not None:
            running_mean = running_mean - bias.detach()   # eval: bn(y + b) uses mean - b, same gradient for y
        return F.batch_norm(y, running_mean, running_var, weight, beta, False, 0.0, first.eps)
    m = first.momentum
    with torch.no_grad():
        if bias is not None:   # so that the update (1 - m) * old + m * mean adds m * bias
            running_mean.add_(bias.detach(), alpha=m / (1 - m))
    if bias is not None:       # 0 * bias: the zero gradient the bias gets anyway, so every parameter has one
        beta = beta + 0 * bias
    out = F.batch_norm(y, running_mean, running_var, weight, beta, True, m, first.eps)
    with torch.no_grad():
        torch._foreach_copy_([bn.running_mean for bn in bns], list(running_mean.chunk(len(bns))))
        torch._foreach_copy_([bn.running_var for bn in bns], list(running_var.chunk(len(bns))))
        torch._foreach_add_([bn.num_batches_tracked for bn in bns], 1)
    return out


def _bn_groupable(bns) -> bool:
    """Whether the parts' batch norms can run as one: same settings, affine, tracking, exponential average."""
    first = bns[0]
    return all(bn.affine and bn.track_running_stats and bn.training == first.training and bn.eps == first.eps
               and bn.momentum == first.momentum for bn in bns) and (
        not first.training or (first.momentum is not None and 0 <= first.momentum < 1))


def _act(y: torch.Tensor, bns, drop: nn.Module, bias=None) -> torch.Tensor:
    """Batch norm, leaky ReLU, dropout of (parts, channels, rows): each (part, channel) row one batch-norm channel."""
    parts, channels, rows = y.shape
    out = _stacked_batch_norm(y.view(1, parts * channels, rows), bns, bias)
    return drop(F.leaky_relu(out, LRELU_SLOPE, inplace=True)).view(parts, channels, rows)


def _grouped_fc(x: torch.Tensor, blocks) -> torch.Tensor:
    """FCBlock.forward of several blocks of one shape at once, features first: x (parts, in, N) -> (parts, out, N)."""
    def linear_bn_act(inp, linears, bns, drop):   # (parts, k, N) -> (parts, h, N)
        weight = torch.stack([lin.weight for lin in linears])                  # (parts, h, k)
        return _act(torch.bmm(weight, inp), bns, drop, torch.cat([lin.bias for lin in linears]))

    x = linear_bn_act(x, [b.fc_1 for b in blocks], [b.bn_1 for b in blocks], blocks[0].drop)
    for k in range(len(blocks[0].layers)):
        res = [b.layers[k] for b in blocks]
        y = linear_bn_act(x, [r.w1 for r in res], [r.batch_norm1 for r in res], res[0].drop)
        x = x + linear_bn_act(y, [r.w2 for r in res], [r.batch_norm2 for r in res], res[0].drop)
    return _grouped_output(x, [b.fc_2 for b in blocks])


def _grouped_output(x: torch.Tensor, linears) -> torch.Tensor:
    """The blocks' last linear layers on (parts, k, N); outputs of different sizes padded with zeros to the
    largest -> (parts, largest, N)."""
    width = max(lin.out_features for lin in linears)
    weight = torch.stack([F.pad(lin.weight, (0, 0, 0, width - lin.out_features)) for lin in linears])
    bias = torch.stack([F.pad(lin.bias, (0, width - lin.out_features)) for lin in linears]).unsqueeze(2)
    return torch.baddbmm(bias, weight, x)


class GroupedRIEModel(RIEModel):
    """RIEModel.forward with each kind of per-part module run for the five parts at once (see the module)."""

    def _groupable(self) -> bool:
        c = self.config
        encoders = self.local_encoders()
        if c.dense or not all(isinstance(e, TemporalEncoder) for e in encoders):
            return False
        bn_sets = [[e.expand_bn for e in encoders]] + [[e.layers_bn[k] for e in encoders]
                                                      for k in range(len(encoders[0].layers_bn))]
        return all(_bn_groupable(s) for s in bn_sets) and len({e.drop.p for e in encoders}) == 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        c = self.config
        if (x.dim() != 4 or x.shape[1] != c.receptive_field() or x.shape[2] != c.num_input_joints
                or x.shape[3] != 2 or x.device.type not in _DEVICES or not self._groupable()):
            return super().forward(x)    # the per-part form, and its error message
        local = self._grouped_local(x)                                        # (parts, L, B)
        parts, latent, n = local.shape
        global_feat = self.GlobalInfo(x[:, x.shape[1] // 2].flatten(1)).t().unsqueeze(0).expand(parts, latent, n)
        if c.stage >= 2:
            others = local[self.others_index].flatten(1, 2)                   # (parts, (parts-1) L, B)
            fused = _grouped_fc(others, list(self.FuseBlocks))
            inputs = torch.cat([local, fused, global_feat], dim=1)
        else:
            inputs = torch.cat([local, global_feat], dim=1)
        out = _grouped_fc(inputs, self.decoders())                            # (parts, padded 3 x joints, B)
        out = out.flatten(0, 1).index_select(0, self._output_rows(out.shape[1]))   # (3 J, B) in group order
        out = out.t().reshape(n, c.num_joints, 3)
        return out[:, self.joint_position].unsqueeze(1)                       # skeleton order

    # -- the local encoders ---------------------------------------------------------------------------
    def _encoding_maps(self, device) -> list[tuple[torch.Tensor, torch.Tensor | None]]:
        """Per part, the encodings as linear maps of the raw keypoints: the part's input channels at frame t
        are `now @ x(t) + centre @ x(centre frame)`, both (C_part, J * 2); centre is None without 'temp'.

        raw: x_j; pos: x_j minus the root (the mean of the root keypoints); temp: x_j(t) - x_j(centre)."""
        cache = self.__dict__.setdefault("_maps_cache", {})
        if device in cache:
            return cache[device]
        c = self.config
        blocks, width = encoding_parts(c.encoding), c.num_input_joints * 2
        maps = []
        for g in self.groups:
            now = torch.zeros(len(blocks) * len(g.input_joints) * 2, width, dtype=torch.float64)
            centre = torch.zeros_like(now)
            row = 0
            for block in blocks:
                for j in g.input_joints:
                    for xy in (0, 1):
                        now[row, 2 * j + xy] += 1
                        if block == "pos":
                            for r in c.input_root:
                                now[row, 2 * r + xy] -= 1 / len(c.input_root)
                        if block == "temp":
                            centre[row, 2 * j + xy] -= 1
                        row += 1
            maps.append((now.float().to(device), centre.float().to(device) if "temp" in blocks else None))
        cache[device] = maps
        return maps

    def _grouped_local(self, x: torch.Tensor) -> torch.Tensor:
        """The five TemporalEncoder.forward (strided form) at once: (B, T, J, 2) -> (parts, latent, B).

        Layout: (parts, channels, rows), rows ordered with the next layer's tap outermost, so that a strided
        convolution (kernel = stride = w) reads its (channel, tap) inputs as one plain view: the input frames
        are put in that order once, at the start (frame = ... + w1 * tap2 + tap1: taps of the first layer
        innermost become outermost). The encodings are linear in the keypoints, so they are folded into the
        first layer's weights: one matrix product of the raw windows with every part's expand_conv composed
        with its encoding map (no per-part gather, no encoded copies of the input), plus, with 'temp', the
        centre frame's share, once per window."""
        encoders = self.local_encoders()
        first = encoders[0]
        parts, (b, t) = len(encoders), x.shape[:2]
        widths = first.filter_widths
        maps = self._encoding_maps(x.device)
        # frames (B, t_L, ..., t_1, J*2) -> (J*2, t_1, t_2, ..., t_L, B): each layer's taps outermost in turn
        frames = x.reshape(b, *reversed(widths), -1)
        frames = frames.permute(len(widths) + 1, *range(len(widths), 0, -1), 0).reshape(-1, t // widths[0] * b)
        # expand_conv (out, C_part, w) composed with the part's map (C_part, J * 2): (out, J * 2, w), channel-major
        weight = torch.cat([torch.einsum("ocw,cd->odw", e.expand_conv.weight, now)
                            for e, (now, _) in zip(encoders, maps)])
        h = weight.flatten(1) @ frames                                        # (parts * C, rows)
        if maps[0][1] is not None:   # every tap subtracts the centre frame's share: once per window
            centre = torch.cat([torch.einsum("ocw,cd->od", e.expand_conv.weight, cmap)
                                for e, (_, cmap) in zip(encoders, maps)])
            share = centre @ x[:, t // 2].reshape(b, -1).t()                   # (parts * C, B)
            h = (h.view(h.shape[0], -1, b) + share.unsqueeze(1)).view(h.shape[0], -1)
        channels = first.expand_conv.out_channels
        h = _act(h.view(parts, channels, -1), [e.expand_bn for e in encoders], first.drop)
        for i, (w, dilation, _, shift) in enumerate(first.geometry):
            rows = h.shape[2] // w
            res = h.view(parts, channels, w, rows)[:, :, shift // dilation + w // 2]   # the middle (causal: last) tap
            weight = torch.stack([e.layers_conv[2 * i].weight.reshape(channels, -1) for e in encoders])
            h = _act(torch.bmm(weight, h.view(parts, channels * w, rows)), [e.layers_bn[2 * i] for e in encoders],
                     first.drop)
            weight = torch.stack([e.layers_conv[2 * i + 1].weight[:, :, 0] for e in encoders])
            h = res + _act(torch.bmm(weight, h), [e.layers_bn[2 * i + 1] for e in encoders], first.drop)
        weight = torch.stack([e.shrink.weight[:, :, 0] for e in encoders])  # (parts, latent, C)
        bias = torch.stack([e.shrink.bias for e in encoders]).unsqueeze(2)
        return torch.baddbmm(bias, weight, h)                                 # (parts, latent, B)

    def _output_rows(self, padded: int) -> torch.Tensor:
        """Columns of the flattened (parts, padded) decoder outputs that hold real joints, in group order."""
        key = (padded, str(self.joint_position.device))
        cache = self.__dict__.setdefault("_rows_cache", {})
        if key not in cache:
            rows = [k * padded + r for k, g in enumerate(self.groups) for r in range(3 * len(g.joints))]
            cache[key] = torch.tensor(rows, dtype=torch.long, device=self.joint_position.device)
        return cache[key]
