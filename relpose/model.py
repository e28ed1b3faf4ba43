"""The RIE model: one temporal encoder per body part, a global encoder, fusion blocks and per-part decoders.

Layout (Shan et al. 2021):

    x (B, T, J, 2) ──► group_channels per part ──► LocalLayer_<part> (TemporalEncoder) ──► local_i (B, L)
                 └──► centre frame, all joints ──► GlobalInfo (FCBlock)               ──► global  (B, L)
    stage 1:   Integration_<part>(cat[local_i, global])                    -> that part's joints in 3D
    stage 2/3: fused_i = FuseBlocks[i](cat[local_j for j != i])
               Integration_<part>(cat[local_i, fused_i, global])           -> that part's joints in 3D

Module and parameter names follow the published checkpoints key for key, so they load with strict=True.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import torch
import torch.nn as nn
import torch.nn.functional as F

from relpose.encoding import ENCODINGS, channels_per_joint, group_channels
from relpose.errors import UserError
from relpose.skeleton import H36M_17, BodyGroup

LRELU_SLOPE = 0.2


@dataclass
class ModelConfig:
    num_joints: int = 17
    # NOTE: the published group names do not follow VideoPose3D's left/right joint lists ("LArm" holds
    # joints 14-16, which VideoPose3D calls right); they are kept so published checkpoints load as they are.
    groups: tuple[BodyGroup, ...] = field(default_factory=lambda: H36M_17.groups)
    filter_widths: tuple[int, ...] = (3, 3, 3, 3, 3)
    channels: int = 256       # temporal convolution channels (-ch)
    latent_dim: int = 256     # size of every local/global/fused feature (-lfd)
    dropout: float = 0.2      # temporal encoders
    hidden: int = 1024        # FC blocks' hidden size (small in quick mode)
    fc_dropout: float = 0.25  # FC blocks
    stage: int = 1            # 1: no fusion; 2 and 3: with FuseBlocks (same architecture)
    encoding: str = "raw+pos+temp"
    causal: bool = False
    dense: bool = False

    def __post_init__(self):
        self.filter_widths = tuple(int(w) for w in self.filter_widths)
        self.groups = tuple(BodyGroup(g.name, tuple(g.joints)) for g in self.groups)
        arc = ",".join(map(str, self.filter_widths))
        if not self.filter_widths or any(w < 1 or w % 2 == 0 for w in self.filter_widths):
            raise UserError(f"-arc {arc}: filter widths must be odd numbers, e.g. 3,3,3,3,3")
        if self.stage not in (1, 2, 3):
            raise UserError(f"--stage {self.stage}: must be 1, 2 or 3")
        if self.encoding not in ENCODINGS:
            raise UserError(f"--encoding {self.encoding}: choose one of {', '.join(ENCODINGS)}")
        for flag, value in (("-ch", self.channels), ("-lfd", self.latent_dim), ("hidden size", self.hidden)):
            if value < 1:
                raise UserError(f"{flag} {value}: must be a positive number")
        covered = sorted(j for g in self.groups for j in g.joints)
        if covered != list(range(self.num_joints)):
            raise ValueError(f"body groups {[g.joints for g in self.groups]} must cover joints 0..{self.num_joints - 1} "
                             "exactly once")

    def receptive_field(self) -> int:
        rf = 1
        for w in self.filter_widths:
            rf *= w
        return rf

    def pad(self) -> int:
        """Frames on each side of the output frame that a window needs."""
        return (self.receptive_field() - 1) // 2

    def causal_shift(self) -> int:
        """How many frames the output frame sits right of the window centre (VideoPose3D's total causal shift)."""
        if not self.causal:
            return 0
        shift, dilation = 0, 1
        for w in self.filter_widths:
            shift += w // 2 * dilation
            dilation *= w
        return shift

    def in_channels(self, group: BodyGroup) -> int:
        return len(group.joints) * channels_per_joint(self.encoding)

    def to_dict(self) -> dict:
        """Plain Python data (for the checkpoint's 'config' entry)."""
        d = asdict(self)
        d["filter_widths"] = list(self.filter_widths)
        d["groups"] = [[g.name, list(g.joints)] for g in self.groups]
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "ModelConfig":
        d = dict(d)
        if "groups" in d:
            d["groups"] = tuple(BodyGroup(name, tuple(joints)) for name, joints in d["groups"])
        return cls(**d)


class Dropout(nn.Module):
    """Inverted dropout, as nn.Dropout, with a cheaper mask on the CPU.

    Profiling a CPU training step shows PyTorch's dropout (one float Bernoulli draw per element,
    then two multiplies) taking about a third of the step: 15-28 ms per million activations on
    2 cores. Here one 64-bit random integer gives the mask of four elements: each 16-bit slice v
    (uniform in [-32768, 32767]) keeps its element when v >= t. The mask is made with float
    arithmetic, which is exact on these integers and vectorises (comparisons that produce bool
    tensors, and bool-to-float casts, do not): clamp(v - t + 1, 0, 1) * 1/(1-p). The drop
    probability is rounded to a multiple of 1/65536 (0.2 becomes 0.199997). On CUDA, where the
    native kernel is fast, it calls F.dropout.
    """

    def __init__(self, p: float):
        super().__init__()
        if not 0 <= p < 1:
            raise ValueError(f"dropout probability must be in [0, 1), got {p}")
        self.p = p
        self.threshold = round(p * 65536) - 32768

    # False uses PyTorch's own dropout everywhere (the straightforward way; benchmarks).
    cheap_cpu_mask = True

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0:
            return x
        if x.device.type != "cpu" or not self.cheap_cpu_mask:
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
    if not (x.device.type == "cpu" and bn.training and bn.track_running_stats and bn.affine and m is not None
            and 0 <= m < 1 and linear.bias is not None):
        return bn(linear(x))
    bn.num_batches_tracked.add_(1)
    with torch.no_grad():  # so that batch_norm's update (1 - m) * old + m * mean adds m * bias
        bn.running_mean.add_(linear.bias, alpha=m / (1 - m))
    # 0 * bias keeps the bias in the graph with the zero gradient it would get anyway (AdamW still
    # decays it, and DistributedDataParallel wants a gradient for every parameter); a vector op.
    return F.batch_norm(F.linear(x, linear.weight), bn.running_mean, bn.running_var, bn.weight,
                        bn.bias + 0 * linear.bias, True, m, bn.eps)


def _layer_geometry(filter_widths, causal):
    """Per block after the first: (width, dilation, pad, causal shift in frames), as VideoPose3D."""
    out, dilation = [], filter_widths[0]
    for w in filter_widths[1:]:
        out.append((w, dilation, (w - 1) * dilation // 2, (w // 2) * dilation if causal else 0))
        dilation *= w
    return out


class TemporalEncoder(nn.Module):
    """VideoPose3D's temporal convolution stack, mapping one window (B, C, RF) to one feature vector (B, latent).

    Training and inference use the strided "1-frame optimised" form: a convolution of width w with stride w
    sees exactly the frames a dilated convolution would for the single output frame, without computing
    the others. `forward_sequence` runs the same weights in the dilated whole-sequence form.
    With dense=True (VideoPose3D ablation) the layers are plain convolutions of width 2*pad+1.
    """

    def __init__(self, in_channels: int, latent_dim: int, filter_widths=(3, 3, 3, 3, 3), channels: int = 256,
                 dropout: float = 0.2, causal: bool = False, dense: bool = False):
        super().__init__()
        self.filter_widths = tuple(filter_widths)
        self.causal = causal
        self.dense = dense
        self.geometry = _layer_geometry(self.filter_widths, causal)
        self.drop = Dropout(dropout)
        # Registration order = state_dict key order of the published checkpoints.
        self.expand_bn = nn.BatchNorm1d(channels, momentum=0.1)
        self.shrink = nn.Conv1d(channels, latent_dim, 1)
        w0 = self.filter_widths[0]
        self.expand_conv = nn.Conv1d(in_channels, channels, w0, stride=1 if dense else w0, bias=False)
        convs, bns = [], []
        for w, _, pad, _ in self.geometry:
            if dense:
                convs.append(nn.Conv1d(channels, channels, 2 * pad + 1, bias=False))
            else:
                convs.append(nn.Conv1d(channels, channels, w, stride=w, bias=False))
            convs.append(nn.Conv1d(channels, channels, 1, bias=False))
            bns += [nn.BatchNorm1d(channels, momentum=0.1), nn.BatchNorm1d(channels, momentum=0.1)]
        self.layers_conv = nn.ModuleList(convs)
        self.layers_bn = nn.ModuleList(bns)

    def receptive_field(self) -> int:
        rf = 1
        for w in self.filter_widths:
            rf *= w
        return rf

    def set_bn_momentum(self, momentum: float) -> None:
        self.expand_bn.momentum = momentum
        for bn in self.layers_bn:
            bn.momentum = momentum

    def _act(self, x, bn):
        return self.drop(F.leaky_relu(bn(x), LRELU_SLOPE, inplace=True))

    # The strided form computes in channels-last layout (B, L, C), where a convolution whose kernel
    # equals its stride is one matrix product over the flattened (tap, channel) axis and a 1x1
    # convolution is a plain linear layer. On the CPU this runs the paper's configuration about 2x
    # faster than Conv1d (oneDNN's strided-convolution backward is slow); the weights stay Conv1d
    # parameters, so the state_dict keeps the published layout.
    @staticmethod
    def _strided_conv(x, conv, w):
        b, length, c = x.shape
        weight = conv.weight.permute(0, 2, 1).reshape(conv.out_channels, w * c)  # (out, tap-major)
        return F.linear(x.reshape(b, length // w, w * c), weight, conv.bias)

    @staticmethod
    def _pointwise_conv(x, conv):
        return F.linear(x, conv.weight[:, :, 0], conv.bias)

    def _act_last(self, x, bn):
        b, length, c = x.shape
        return self._act(x.reshape(b * length, c), bn).view(b, length, c)

    # False runs the same strided form with Conv1d modules (the straightforward way; benchmarks).
    matmul_form = True

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, receptive field) -> (B, latent)."""
        if x.shape[-1] != self.receptive_field():
            raise ValueError(f"expected windows of {self.receptive_field()} frames, got shape {tuple(x.shape)}")
        if self.dense:
            return self.forward_sequence(x)[:, :, 0]
        if not self.matmul_form:
            return self._forward_conv1d(x)
        x = x.transpose(1, 2)  # (B, RF, C)
        x = self._act_last(self._strided_conv(x, self.expand_conv, self.filter_widths[0]), self.expand_bn)
        for i, (w, _, _, _) in enumerate(self.geometry):
            # In the strided domain one step is `dilation` frames, so the causal shift is w // 2 steps.
            shift = w // 2 if self.causal else 0
            res = x[:, shift + w // 2::w]
            x = self._act_last(self._strided_conv(x, self.layers_conv[2 * i], w), self.layers_bn[2 * i])
            x = res + self._act_last(self._pointwise_conv(x, self.layers_conv[2 * i + 1]), self.layers_bn[2 * i + 1])
        return self._pointwise_conv(x, self.shrink)[:, 0]

    def _forward_conv1d(self, x: torch.Tensor) -> torch.Tensor:
        x = self._act(self.expand_conv(x), self.expand_bn)
        for i, (w, _, _, _) in enumerate(self.geometry):
            shift = w // 2 if self.causal else 0
            res = x[:, :, shift + w // 2::w]
            x = self._act(self.layers_conv[2 * i](x), self.layers_bn[2 * i])
            x = res + self._act(self.layers_conv[2 * i + 1](x), self.layers_bn[2 * i + 1])
        return self.shrink(x)[:, :, 0]

    def forward_sequence(self, x: torch.Tensor) -> torch.Tensor:
        """Dilated whole-sequence form: (B, C, T + RF - 1) -> (B, latent, T), same weights as `forward`."""
        x = self._act(F.conv1d(x, self.expand_conv.weight), self.expand_bn)
        for i, (_, dilation, pad, shift) in enumerate(self.geometry):
            res = x[:, :, pad + shift:x.shape[2] - pad + shift]
            conv = self.layers_conv[2 * i]
            x = self._act(F.conv1d(x, conv.weight, dilation=1 if self.dense else dilation), self.layers_bn[2 * i])
            x = res + self._act(self.layers_conv[2 * i + 1](x), self.layers_bn[2 * i + 1])
        return self.shrink(x)


class ResidualFC(nn.Module):
    """Two linear layers with batch norm, leaky ReLU and dropout, plus a skip connection."""

    def __init__(self, size: int, p_dropout: float):
        super().__init__()
        self.w1 = nn.Linear(size, size)
        self.batch_norm1 = nn.BatchNorm1d(size)
        self.w2 = nn.Linear(size, size)
        self.batch_norm2 = nn.BatchNorm1d(size)
        self.drop = Dropout(p_dropout)

    def forward(self, x):
        y = self.drop(F.leaky_relu(linear_bn(x, self.w1, self.batch_norm1), LRELU_SLOPE, inplace=True))
        y = self.drop(F.leaky_relu(linear_bn(y, self.w2, self.batch_norm2), LRELU_SLOPE, inplace=True))
        return x + y


class FCBlock(nn.Module):
    """Linear -> BN -> lrelu -> dropout, `block_num` residual blocks, then a linear output layer."""

    def __init__(self, channel_in: int, channel_out: int, linear_size: int = 1024, block_num: int = 1,
                 p_dropout: float = 0.25):
        super().__init__()
        self.fc_1 = nn.Linear(channel_in, linear_size)
        self.bn_1 = nn.BatchNorm1d(linear_size)
        self.fc_2 = nn.Linear(linear_size, channel_out)
        self.layers = nn.ModuleList([ResidualFC(linear_size, p_dropout) for _ in range(block_num)])
        self.drop = Dropout(p_dropout)

    def forward(self, x):
        x = self.drop(F.leaky_relu(linear_bn(x, self.fc_1, self.bn_1), LRELU_SLOPE, inplace=True))
        for block in self.layers:
            x = block(x)
        return self.fc_2(x)


class RIEModel(nn.Module):
    # Why there is no whole-sequence form (VideoPose3D evaluates a whole sequence in one dilated pass):
    # the temporal encoding subtracts each window's own centre frame, so the very first layer's input,
    # and therefore every activation, differs for every output frame; nothing can be shared between
    # neighbouring windows. Inference therefore runs window by window: the evaluation gathers all windows
    # with vectorised indexing on the device and runs the original and flipped windows as one batch.
    # `forward_dilated_sequence` below shows what a naive whole-sequence implementation would compute.

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = c = config
        self.groups = c.groups
        for g in c.groups:
            self.add_module(f"LocalLayer_{g.name}", TemporalEncoder(
                c.in_channels(g), c.latent_dim, c.filter_widths, c.channels, c.dropout, c.causal, c.dense))
        self.GlobalInfo = FCBlock(c.num_joints * 2, c.latent_dim, c.hidden, 2, c.fc_dropout)
        n = len(c.groups)
        if c.stage >= 2:
            self.FuseBlocks = nn.ModuleList([
                FCBlock((n - 1) * c.latent_dim, c.latent_dim, c.hidden, 1, c.fc_dropout) for _ in range(n)])
        parts = 3 if c.stage >= 2 else 2
        for g in c.groups:
            self.add_module(f"Integration_{g.name}", FCBlock(
                parts * c.latent_dim, len(g.joints) * 3, c.hidden, 1, c.fc_dropout))

        # Index helpers as non-persistent buffers: they follow .to(device) and stay out of the state_dict.
        others = [[j for j in range(n) if j != i] for i in range(n)]
        self.register_buffer("others_index", torch.tensor(others, dtype=torch.long), persistent=False)
        grouped_order = [j for g in c.groups for j in g.joints]  # joint held by each decoder output row
        position = [0] * c.num_joints
        for row, j in enumerate(grouped_order):
            position[j] = row
        self.register_buffer("joint_position", torch.tensor(position, dtype=torch.long), persistent=False)

    # --- helpers ------------------------------------------------------------------------------------
    def local_encoders(self) -> list[TemporalEncoder]:
        return [getattr(self, f"LocalLayer_{g.name}") for g in self.groups]

    def decoders(self) -> list[FCBlock]:
        return [getattr(self, f"Integration_{g.name}") for g in self.groups]

    def receptive_field(self) -> int:
        return self.config.receptive_field()

    def set_bn_momentum(self, momentum: float) -> None:
        """Decay the temporal encoders' batch-norm momentum (VideoPose3D); FC blocks keep PyTorch's 0.1."""
        for enc in self.local_encoders():
            enc.set_bn_momentum(momentum)

    def encoder_prefixes(self) -> tuple[str, ...]:
        """state_dict prefixes of the encoders (loaded from stage 1 and frozen in stage 2)."""
        return tuple(f"LocalLayer_{g.name}" for g in self.groups) + ("GlobalInfo",)

    def parameter_counts(self) -> dict[str, int]:
        def count(modules):
            return sum(p.numel() for m in modules for p in m.parameters())
        counts = {
            "local encoders": count(self.local_encoders()),
            "global encoder": count([self.GlobalInfo]),
            "fusion": count([self.FuseBlocks]) if self.config.stage >= 2 else 0,
            "decoders": count(self.decoders()),
        }
        counts["total"] = sum(counts.values())
        return counts

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())

    # --- forward -------------------------------------------------------------------------------------
    def _head(self, local: list[torch.Tensor], global_feat: torch.Tensor) -> torch.Tensor:
        """Per-part features (N, L) each and global (N, L) -> (N, J, 3) in skeleton joint order."""
        if self.config.stage >= 2:
            stacked = torch.stack(local, dim=1)                    # (N, G, L)
            others = stacked[:, self.others_index].flatten(2)      # (N, G, (G-1) L), other parts in group order
            fused = [block(others[:, i]) for i, block in enumerate(self.FuseBlocks)]
            inputs = [torch.cat([loc, fus, global_feat], dim=1) for loc, fus in zip(local, fused)]
        else:
            inputs = [torch.cat([loc, global_feat], dim=1) for loc in local]
        out = torch.cat([dec(inp) for dec, inp in zip(self.decoders(), inputs)], dim=1)
        out = out.view(out.shape[0], self.config.num_joints, 3)   # rows in group order
        return out[:, self.joint_position]                         # back to skeleton order

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Windows (B, T = receptive field, J, 2) -> centre-frame 3D pose (B, 1, J, 3)."""
        c = self.config
        if x.dim() != 4 or x.shape[1] != c.receptive_field() or x.shape[2] != c.num_joints or x.shape[3] != 2:
            raise ValueError(f"expected windows (B, {c.receptive_field()}, {c.num_joints}, 2), got {tuple(x.shape)}")
        local = [enc(group_channels(x, g.joints, c.encoding)) for enc, g in zip(self.local_encoders(), self.groups)]
        global_feat = self.GlobalInfo(x[:, x.shape[1] // 2].flatten(1))   # (x0, y0, x1, y1, ...)
        return self._head(local, global_feat).unsqueeze(1)


def forward_dilated_sequence(model: RIEModel, seq: torch.Tensor) -> torch.Tensor:
    """Teaching only: run the local encoders in VideoPose3D's dilated whole-sequence form.

    seq (B, T + RF - 1, J, 2) -> (B, T, J, 3). The encodings are computed once for the whole sequence, so the
    temporal encoding is relative to the *sequence's* centre frame, as a naive port would do. With the
    'raw' and 'raw+pos' encodings this equals running `model` window by window; with a temporal part it does not.
    """
    c = model.config
    rf = c.receptive_field()
    b, length = seq.shape[:2]
    t = length - rf + 1
    if t < 1:
        raise ValueError(f"sequence of {length} frames is shorter than the receptive field {rf}")
    local = []
    for enc, g in zip(model.local_encoders(), model.groups):
        feat = enc.forward_sequence(group_channels(seq, g.joints, c.encoding))  # (B, L, T)
        local.append(feat.transpose(1, 2).reshape(b * t, -1))
    centre = seq[:, rf // 2:rf // 2 + t].reshape(b * t, -1)  # each window's centre frame
    return model._head(local, model.GlobalInfo(centre)).view(b, t, c.num_joints, 3)
