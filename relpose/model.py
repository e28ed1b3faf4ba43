"""The RIE model: one temporal encoder per body part, a global encoder, fusion blocks and per-part decoders.

Layout (Shan et al. 2021):

    x (B, T, J, 2) ──► group_channels per part ──► LocalLayer_<part> (TemporalEncoder) ──► local_i (B, L)
                 └──► centre frame, all joints ──► GlobalInfo (FCBlock)               ──► global  (B, L)
    stage 1:   Integration_<part>(cat[local_i, global])                    -> that part's joints in 3D
    stage 2/3: fused_i = FuseBlocks[i](cat[local_j for j != i])
               Integration_<part>(cat[local_i, fused_i, global])           -> that part's joints in 3D

Read top to bottom: the configuration, the local encoder (VideoPose3D's temporal convolutions, one
window in, one feature vector out), the fully connected blocks, the whole model, and the teaching
form that runs the encoders over a whole sequence. Every forward here is plain PyTorch ops, and
`model(x)` runs exactly them. Module and parameter names follow the published checkpoints key for
key, so they load with strict=True.

The kit's training loop and inference (relpose.train.train_epochs, relpose.evaluate.predict_sequence)
opt into faster forms of these modules for the CPU, visibly: `with fastpaths.accelerated(model):`
swaps in subclasses (relpose.fastpaths) that compute the same with other kernels (convolutions as
matrix products, cheaper dropout masks, no bias add before batch norm) and swaps back after; same
parameters, same state_dict. tests/test_fastpaths.py checks both forms agree.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import torch
import torch.nn as nn
import torch.nn.functional as F

from relpose.encoding import ROOT_JOINT, channels_per_joint, group_channels
from relpose.errors import UserError
from relpose.config_rules import MODEL_RULES, SettingError, check_rules
from relpose.stored_config import check_stored_config, stored_key_error
from relpose.skeleton import H36M_17, BodyGroup

LRELU_SLOPE = 0.2


@dataclass
class ModelConfig:
    num_joints: int = 17              # output joints (the 3D skeleton)
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
    local_encoder: str = "tcn"        # a name in LOCAL_ENCODERS
    num_input_joints: int | None = None   # 2D keypoints per frame; None: num_joints (same layout)
    input_root: tuple[int, ...] = (ROOT_JOINT,)  # keypoint(s) the positional encoding is relative to
    input_layout: str | None = None  # the 2D keypoints' layout (relpose.keypoint_layouts); None: the skeleton's

    def __post_init__(self):
        self.filter_widths = tuple(int(w) for w in self.filter_widths)
        self.groups = tuple(BodyGroup(g.name, tuple(g.joints), None if g.inputs is None else tuple(g.inputs))
                            for g in self.groups)
        self.input_root = tuple(int(j) for j in self.input_root)
        if self.num_input_joints is None:
            self.num_input_joints = self.num_joints
        check_rules(vars(self), MODEL_RULES)
        if self.local_encoder not in LOCAL_ENCODERS:
            raise SettingError("local_encoder", self.local_encoder,
                               f"not a registered local encoder type (known: {', '.join(LOCAL_ENCODERS)})")
        covered = sorted(j for g in self.groups for j in g.joints)
        if covered != list(range(self.num_joints)):
            raise ValueError(f"body groups {[g.joints for g in self.groups]} must cover joints 0..{self.num_joints - 1} "
                             "exactly once")
        read = {j for g in self.groups for j in g.input_joints} | set(self.input_root)
        if not read <= set(range(self.num_input_joints)):
            raise ValueError(f"body groups read input keypoints {sorted(read)}, but the input has "
                             f"{self.num_input_joints} (0..{self.num_input_joints - 1})")

    def receptive_field(self) -> int:
        return receptive_field(self.filter_widths)

    def pad(self) -> int:
        """Frames on each side of the output frame that a window needs."""
        return (self.receptive_field() - 1) // 2

    def causal_shift(self) -> int:
        """How many frames the output frame sits right of the window centre (VideoPose3D's total causal shift)."""
        return causal_shift(self.filter_widths, self.causal)

    def in_channels(self, group: BodyGroup) -> int:
        return len(group.input_joints) * channels_per_joint(self.encoding)

    def to_dict(self) -> dict:
        """Plain Python data (for the checkpoint's 'config' entry)."""
        d = asdict(self)
        d["filter_widths"] = list(self.filter_widths)
        d["input_root"] = list(self.input_root)
        d["groups"] = [[g.name, list(g.joints)] + ([] if g.inputs is None else [list(g.inputs)]) for g in self.groups]
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "ModelConfig":
        d = dict(d)
        if "groups" in d:
            d["groups"] = tuple(BodyGroup(g[0], tuple(g[1]), tuple(g[2]) if len(g) > 2 else None) for g in d["groups"])
        return cls(**d)

    @classmethod
    def from_stored(cls, d, source: str) -> "ModelConfig":
        """A configuration read from a file (a checkpoint's 'config'): every key checked as data first, so a
        damaged or edited file gives one UserError naming `source` and the key, never a flag it did not set."""
        check_stored_config(d, source)
        try:
            return cls.from_dict(d)
        except SettingError as e:   # a rule the data checks leave to the model (its encoder registry)
            raise stored_key_error(source, e.key, d[e.key], e.rule) from None
        except (UserError, ValueError, TypeError) as e:   # a combination the per-key checks let through
            raise UserError(f"{source}: its stored config does not describe a model ({e}); "
                            "use a checkpoint this kit wrote, unedited") from None


# --- local encoders ------------------------------------------------------------------------------------------
# A local encoder maps one body part's window (B, C, receptive field) to one feature vector (B, latent_dim).
# Each type is an nn.Module class registered by name, with a classmethod from_config(in_channels, ModelConfig);
# `ModelConfig.local_encoder` picks one. It may define set_bn_momentum(m) (the decaying batch-norm momentum of
# VideoPose3D). What a checkpoint's tensors say of a type's settings is relpose.weights' knowledge.
LOCAL_ENCODERS: dict[str, type] = {}


def register_local_encoder(name: str):
    """Class decorator: make a local encoder type available as ModelConfig(local_encoder=name)."""
    def add(cls):
        LOCAL_ENCODERS[name] = cls
        return cls
    return add


def layer_geometry(filter_widths, causal: bool) -> list[tuple[int, int, int, int]]:
    """Per layer: (width, dilation, pad, causal shift), pad and shift in frames, as VideoPose3D. A width-w
    layer of dilation d sees w frames d apart; the next layer's dilation is d * w."""
    out, dilation = [], 1
    for w in filter_widths:
        out.append((w, dilation, (w - 1) * dilation // 2, (w // 2) * dilation if causal else 0))
        dilation *= w
    return out


def receptive_field(filter_widths) -> int:
    """Frames one output sees: each layer multiplies the span by its width."""
    return math.prod(filter_widths)


def causal_shift(filter_widths, causal: bool) -> int:
    """Frames the output sits right of the window centre: the layers' causal shifts added (0 unless causal)."""
    return sum(shift for *_, shift in layer_geometry(filter_widths, causal))


@register_local_encoder("tcn")
class TemporalEncoder(nn.Module):
    """VideoPose3D's temporal convolution stack, mapping one window (B, C, RF) to one feature vector (B, latent).

    Training and inference use the strided "1-frame optimised" form: a convolution of width w with stride w
    sees exactly the frames a dilated convolution would for the single output frame, without computing
    the others. `forward_sequence` runs the same weights in the dilated whole-sequence form.
    With dense=True (VideoPose3D ablation) the layers are plain convolutions of width 2*pad+1.

    Per block: a width-w convolution (the receptive field grows w-fold), batch norm, leaky ReLU, dropout,
    then a 1x1 convolution with the same, and a residual connection that keeps the middle (or, causal,
    the last) frame of each group of w.

    Fast form (relpose.fastpaths.MatmulTemporalEncoder, swapped in by the kit's training and inference):
    this forward in (B, L, C) layout, each convolution one matrix product, faster on the CPU at these widths.
    """

    def __init__(self, in_channels: int, latent_dim: int, filter_widths=(3, 3, 3, 3, 3), channels: int = 256,
                 dropout: float = 0.2, causal: bool = False, dense: bool = False):
        super().__init__()
        self.filter_widths = tuple(filter_widths)
        self.causal = causal
        self.dense = dense
        self.geometry = layer_geometry(self.filter_widths, causal)[1:]   # the blocks after expand_conv
        self.drop = nn.Dropout(dropout)
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

    @classmethod
    def from_config(cls, in_channels: int, c: "ModelConfig") -> "TemporalEncoder":
        return cls(in_channels, c.latent_dim, c.filter_widths, c.channels, c.dropout, c.causal, c.dense)

    def receptive_field(self) -> int:
        return receptive_field(self.filter_widths)

    def set_bn_momentum(self, momentum: float) -> None:
        self.expand_bn.momentum = momentum
        for bn in self.layers_bn:
            bn.momentum = momentum

    def _act(self, x, bn):
        """Batch norm, leaky ReLU, dropout: what follows every convolution but the last."""
        return self.drop(F.leaky_relu(bn(x), LRELU_SLOPE, inplace=True))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, receptive field) -> (B, latent)."""
        if x.shape[-1] != self.receptive_field():
            raise ValueError(f"expected windows of {self.receptive_field()} frames, got shape {tuple(x.shape)}")
        if self.dense:
            return self.forward_sequence(x)[:, :, 0]
        x = self._act(self.expand_conv(x), self.expand_bn)
        for i, (w, dilation, _, shift) in enumerate(self.geometry):
            # In the strided domain one step is `dilation` frames, so the causal shift is shift // dilation steps.
            res = x[:, :, shift // dilation + w // 2::w]
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


# --- fully connected blocks (global encoder, fusion, decoders) ------------------------------------------------

class ResidualFC(nn.Module):
    """Two linear layers with batch norm, leaky ReLU and dropout, plus a skip connection.

    Fast form (relpose.fastpaths.BiasFreeResidualFC): no bias add before training-mode batch norm on the CPU."""

    def __init__(self, size: int, p_dropout: float):
        super().__init__()
        self.w1 = nn.Linear(size, size)
        self.batch_norm1 = nn.BatchNorm1d(size)
        self.w2 = nn.Linear(size, size)
        self.batch_norm2 = nn.BatchNorm1d(size)
        self.drop = nn.Dropout(p_dropout)

    def forward(self, x):
        y = self.drop(F.leaky_relu(self.batch_norm1(self.w1(x)), LRELU_SLOPE, inplace=True))
        y = self.drop(F.leaky_relu(self.batch_norm2(self.w2(y)), LRELU_SLOPE, inplace=True))
        return x + y


class FCBlock(nn.Module):
    """Linear -> BN -> lrelu -> dropout, `block_num` residual blocks, then a linear output layer.

    Fast form (relpose.fastpaths.BiasFreeFCBlock): no bias add before training-mode batch norm on the CPU."""

    def __init__(self, channel_in: int, channel_out: int, linear_size: int = 1024, block_num: int = 1,
                 p_dropout: float = 0.25):
        super().__init__()
        self.fc_1 = nn.Linear(channel_in, linear_size)
        self.bn_1 = nn.BatchNorm1d(linear_size)
        self.fc_2 = nn.Linear(linear_size, channel_out)
        self.layers = nn.ModuleList([ResidualFC(linear_size, p_dropout) for _ in range(block_num)])
        self.drop = nn.Dropout(p_dropout)

    def forward(self, x):
        x = self.drop(F.leaky_relu(self.bn_1(self.fc_1(x)), LRELU_SLOPE, inplace=True))
        for block in self.layers:
            x = block(x)
        return self.fc_2(x)


# --- the whole model -----------------------------------------------------------------------------------------

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
        encoder_type = LOCAL_ENCODERS[c.local_encoder]
        for g in c.groups:
            self.add_module(f"LocalLayer_{g.name}", encoder_type.from_config(c.in_channels(g), c))
        self.GlobalInfo = FCBlock(c.num_input_joints * 2, c.latent_dim, c.hidden, 2, c.fc_dropout)
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
    def local_encoders(self) -> list[nn.Module]:
        return [getattr(self, f"LocalLayer_{g.name}") for g in self.groups]

    def decoders(self) -> list[FCBlock]:
        return [getattr(self, f"Integration_{g.name}") for g in self.groups]

    def receptive_field(self) -> int:
        return self.config.receptive_field()

    def set_bn_momentum(self, momentum: float) -> None:
        """Decay the temporal encoders' batch-norm momentum (VideoPose3D); FC blocks keep PyTorch's 0.1."""
        for enc in self.local_encoders():
            if hasattr(enc, "set_bn_momentum"):
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
        return self.parameter_counts()["total"]

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
        """Windows (B, T = receptive field, J_in, 2) -> centre-frame 3D pose (B, 1, J, 3)."""
        c = self.config
        if x.dim() != 4 or x.shape[1] != c.receptive_field() or x.shape[2] != c.num_input_joints or x.shape[3] != 2:
            raise ValueError(f"expected windows (B, {c.receptive_field()}, {c.num_input_joints}, 2), "
                             f"got {tuple(x.shape)}")
        local = [enc(group_channels(x, g.input_joints, c.encoding, c.input_root))
                 for enc, g in zip(self.local_encoders(), self.groups)]
        global_feat = self.GlobalInfo(x[:, x.shape[1] // 2].flatten(1))   # (x0, y0, x1, y1, ...)
        return self._head(local, global_feat).unsqueeze(1)


def forward_dilated_sequence(model: RIEModel, seq: torch.Tensor) -> torch.Tensor:
    """Teaching only: run the local encoders in VideoPose3D's dilated whole-sequence form.

    seq (B, T + RF - 1, J, 2) -> (B, T, J, 3). The encodings are computed once for the whole sequence, so the
    temporal encoding is relative to the *sequence's* centre frame, as a naive port would do. With the
    'raw' and 'raw+pos' encodings this equals running `model` window by window; with a temporal part it does not.
    """
    c = model.config
    rf, pad = c.receptive_field(), c.pad()
    b, length = seq.shape[:2]
    t = length - rf + 1
    if t < 1:
        raise ValueError(f"sequence of {length} frames is shorter than the receptive field {rf}")
    local = []
    for enc, g in zip(model.local_encoders(), model.groups):
        feat = enc.forward_sequence(group_channels(seq, g.input_joints, c.encoding, c.input_root))  # (B, L, T)
        local.append(feat.transpose(1, 2).reshape(b * t, -1))
    centre = seq[:, pad:pad + t].reshape(b * t, -1)  # each window's centre frame
    return model._head(local, model.GlobalInfo(centre)).view(b, t, c.num_joints, 3)
