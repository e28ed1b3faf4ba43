"""Model weights from checkpoints: what a checkpoint's tensors say of the model, checked against a
configuration, and the model a kit or a published checkpoint holds.

`check_compatible` names the first way a checkpoint differs from a configuration, in the terms of where
that configuration came from (relpose.config_rules.Terms: the command line passes its flags, "latent size
32 but -lfd is 16"; a stored configuration its own words). What a local encoder's tensors say of its
settings is read here too (ENCODER_SHAPES, the published 'tcn' type; another type is compared tensor by
tensor). `load_weights` loads a checkpoint into a model built from a configuration; `load_model` builds
the model a checkpoint's stored configuration describes; `load_any_model` also takes the published
checkpoints, which store none (`published_config` infers theirs from tensor shapes).
"""
from __future__ import annotations

import torch

from relpose import checkpoints
from relpose.config_rules import PYTHON_TERMS, Terms, stored_terms
from relpose.errors import CheckpointError, UserError
from relpose.model import ModelConfig, RIEModel
from relpose.skeleton import BodyGroup


def _widths_from_kernels(kernels: list[int], dense: bool) -> list[int] | None:
    """Filter widths from the convolution kernel sizes; dense kernels are 2 * pad + 1 wide."""
    if not dense:
        return kernels
    widths, dilation = [kernels[0]], kernels[0]
    for k in kernels[1:]:
        if (k - 1) % dilation:
            return None
        widths.append((k - 1) // dilation + 1)
        dilation *= widths[-1]
    return widths


def _tcn_mismatch(state: dict, prefix: str, config: ModelConfig, group: BodyGroup, terms: Terms) -> str | None:
    """Which setting a checkpoint's temporal-convolution encoder tensors (`prefix`.*) disagree with; None if none."""
    def shape(key):
        t = state.get(f"{prefix}.{key}")
        return None if t is None else tuple(t.shape)

    if shape("expand_conv.weight") is None or shape("shrink.weight") is None:
        return None  # not this encoder type: the tensor-by-tensor comparison names the difference
    n_blocks = len({k.split(".")[2] for k in state if k.startswith(f"{prefix}.layers_conv.")}) // 2
    kernels = [shape("expand_conv.weight")[2]] + [(shape(f"layers_conv.{2 * i}.weight") or (0, 0, 0))[2]
                                                  for i in range(n_blocks)]
    widths = _widths_from_kernels(kernels, config.dense)
    ours = terms.has("filter_widths", config.filter_widths) + (f" with {terms.name('dense')}" if config.dense else "")
    if widths is None:
        return f"checkpoint convolution widths {','.join(map(str, kernels))} do not fit {ours}"
    if widths != list(config.filter_widths):
        return f"checkpoint architecture {','.join(map(str, widths))} but {ours}"
    channels, in_width, _ = shape("expand_conv.weight")
    if channels != config.channels:
        return f"checkpoint has {channels} convolution channels but {terms.has('channels', config.channels)}"
    latent = shape("shrink.weight")[0]
    if latent != config.latent_dim:
        return f"checkpoint has latent size {latent} but {terms.has('latent_dim', config.latent_dim)}"
    expected = config.in_channels(group)
    if in_width != expected:
        parts = in_width / (2 * len(group.input_joints))
        guess = {1: "raw", 2: "raw+pos or raw+temp", 3: "raw+pos+temp"}.get(parts, "unknown")
        return (f"checkpoint's {group.name} encoder reads {in_width} input channels (encoding {guess}) "
                f"but {terms.setting('encoding', config.encoding)} gives {expected}")
    return None


# Per local encoder type (ModelConfig.local_encoder): a function(state, prefix, config, group, terms) naming the
# setting its tensors disagree with. A type without one is compared tensor by tensor.
ENCODER_SHAPES = {"tcn": _tcn_mismatch}


def _expected_state(config: ModelConfig, encoders_only: bool) -> tuple[dict, tuple[str, ...]]:
    with torch.device("meta"):
        model = RIEModel(config)
    prefixes = tuple(p + "." for p in model.encoder_prefixes())
    state = model.state_dict()
    if encoders_only:
        state = {k: v for k, v in state.items() if k.startswith(prefixes)}
    return state, prefixes


def check_compatible(state_dict: dict, config: ModelConfig, *, encoders_only: bool = False,
                     terms: Terms = PYTHON_TERMS) -> None:
    """Raise CheckpointError naming the first way a checkpoint's model_pos differs from `config`.

    Everything is read from tensor shapes. encoders_only=True checks just LocalLayer_* and GlobalInfo
    (stage 2 starts from a stage-1 checkpoint's encoders). `terms` name the settings as where `config`
    came from does (default: its field names; the command line passes its flags).
    """

    def shape(key):
        return tuple(state_dict[key].shape) if key in state_dict else None

    names = list(dict.fromkeys(k.split(".")[0][len("LocalLayer_"):] for k in state_dict
                               if k.startswith("LocalLayer_")))
    if not names or shape("GlobalInfo.fc_1.weight") is None:
        raise CheckpointError("checkpoint's model_pos has no LocalLayer_*/GlobalInfo tensors; it is not an RIE model")
    wanted = [g.name for g in config.groups]
    if sorted(names) != sorted(wanted):
        raise CheckpointError(f"checkpoint has body parts {', '.join(names)} but "
                              f"{terms.has('groups', ', '.join(wanted))}")
    expected, prefixes = _expected_state(config, encoders_only)
    # A tensor of another rank (a damaged or foreign file) is named before any shape is unpacked.
    for k, v in state_dict.items():
        if k in expected and state_dict[k].dim() != expected[k].dim():
            raise CheckpointError(f"checkpoint tensor '{k}' has shape {tuple(v.shape)} but the model's is "
                                  f"{tuple(expected[k].shape)}; it is not a model of this kit's architecture")
    hidden, in_feats = shape("GlobalInfo.fc_1.weight")
    if in_feats != 2 * config.num_input_joints:
        raise CheckpointError(f"checkpoint was trained on {in_feats // 2} joints but "
                              f"{terms.has('num_input_joints', config.num_input_joints)}")
    has_fusion = any(k.startswith("FuseBlocks.") for k in state_dict)
    if not encoders_only and has_fusion != (config.stage >= 2):
        if has_fusion:
            raise CheckpointError(f"checkpoint is a stage-2/3 model (has FuseBlocks) but "
                                  f"{terms.has('stage', config.stage)}")
        raise CheckpointError(f"checkpoint is a stage-1 model (no FuseBlocks) but {terms.has('stage', config.stage)}")
    explain = ENCODER_SHAPES.get(config.local_encoder)
    g0 = config.groups[0]
    message = explain(state_dict, f"LocalLayer_{g0.name}", config, g0, terms) if explain is not None else None
    if message:
        raise CheckpointError(message)
    if hidden != config.hidden:
        raise CheckpointError(f"checkpoint has FC hidden size {hidden} but {terms.has('hidden', config.hidden)}")

    # Anything else (a decoder width, a missing tensor): compare with the model these settings build.
    if encoders_only:
        state_dict = {k: v for k, v in state_dict.items() if k.startswith(prefixes)}
    for k, v in expected.items():
        if k not in state_dict:
            raise CheckpointError(f"checkpoint lacks tensor '{k}' that this model has; check the model flags")
        if tuple(state_dict[k].shape) != tuple(v.shape):
            raise CheckpointError(f"checkpoint tensor '{k}' has shape {tuple(state_dict[k].shape)} but the model's "
                                  f"is {tuple(v.shape)}; check the model flags")
    extra = [k for k in state_dict if k not in expected]
    if extra:
        raise CheckpointError(f"checkpoint has tensor '{extra[0]}' that this model lacks; check the model flags")


def check_stored_settings(checkpoint: dict, config: ModelConfig, path, terms: Terms = PYTHON_TERMS) -> None:
    """A relpose checkpoint records its ModelConfig: settings the tensors cannot show (causal, dropout, the
    encoding between raw+pos and raw+temp) must agree with `config` too (named in `terms`)."""
    stored = checkpoint.get("config")
    if not isinstance(stored, dict):
        return  # a published checkpoint: only its tensor shapes can be checked
    ours = config.to_dict()
    for key in ("causal", "dense", "encoding", "dropout", "fc_dropout", "local_encoder", "input_root", "input_layout"):
        if key in stored and stored[key] is not None and stored[key] != ours.get(key):
            raise CheckpointError(f"checkpoint {path} was trained with {terms.name(key)} {stored[key]!r} but "
                                  f"{terms.gives} {ours.get(key)!r}; use the checkpoint's setting")


def load_weights(model: RIEModel, path, *, config: ModelConfig | None = None, terms: Terms = PYTHON_TERMS) -> dict:
    """Load the checkpoint at `path` into `model` strictly, after checking it fits the model's configuration
    (or `config`), whose settings messages name in `terms`; returns the checkpoint."""
    ckpt = checkpoints.load_checkpoint(path)
    _check(ckpt, path, config or model.config, terms)
    model.load_state_dict(ckpt["model_pos"], strict=True)
    return ckpt


def _check(ckpt: dict, path, config: ModelConfig, terms: Terms) -> None:
    _named(path, check_compatible, ckpt["model_pos"], config, terms=terms)
    check_stored_settings(ckpt, config, path, terms)


def stored_model_config(ckpt: dict, path) -> ModelConfig:
    """The ModelConfig a relpose checkpoint stores (CheckpointError naming the file when there is none)."""
    if "config" not in ckpt:
        raise CheckpointError(f"checkpoint {path} stores no model configuration; build the model with its flags")
    try:
        return ModelConfig.from_stored(ckpt["config"], f"checkpoint {path}")
    except UserError as e:
        raise CheckpointError(str(e)) from None


def _build(ckpt: dict, path, config: ModelConfig, terms: Terms, device) -> RIEModel:
    _check(ckpt, path, config, terms)
    model = RIEModel(config)
    model.load_state_dict(ckpt["model_pos"], strict=True)
    return model.to(device).eval()


def load_model(path, device="cpu", config: ModelConfig | None = None, *, terms: Terms = PYTHON_TERMS) -> RIEModel:
    """The model a checkpoint holds, in eval mode on `device`, built from the configuration it stores (or from
    `config`, which a published checkpoint without one needs; `terms` name that configuration's settings)."""
    ckpt = checkpoints.load_checkpoint(path)
    if config is None:
        config, terms = stored_model_config(ckpt, path), stored_terms("its stored config")
    return _build(ckpt, path, config, terms, device)


def published_config(state: dict) -> ModelConfig:
    """The configuration of a published RIE checkpoint (cpn_pretrained.bin, gt_pretrained.bin) from its tensors:
    the paper's architecture, stage 3 when it has fusion blocks (stage 1 otherwise); the published models differ
    only in their feature size (256 for gt, 512 for cpn), the Torso encoder's last convolution's width."""
    fused = any(k.startswith("FuseBlocks.") for k in state)
    shrink = state.get("LocalLayer_Torso.shrink.weight")
    latent = int(shrink.shape[0]) if shrink is not None and shrink.dim() == 3 else ModelConfig.latent_dim
    return ModelConfig(stage=3 if fused else 1, latent_dim=latent)


def load_any_model(path, device="cpu") -> tuple[RIEModel, dict]:
    """(model in eval mode on `device`, checkpoint) of a kit checkpoint, built from its stored configuration, or
    of a published one (published_config). Messages name the stored configuration or the architecture assumed,
    never a flag."""
    ckpt = checkpoints.load_checkpoint(path)
    if isinstance(ckpt.get("config"), dict):
        return _build(ckpt, path, stored_model_config(ckpt, path), stored_terms("its stored config"), device), ckpt
    return _build(ckpt, path, published_config(ckpt["model_pos"]), stored_terms("the published architecture"),
                  device), ckpt


def _named(path, check, *args, **kw):
    """Run a check whose messages say "checkpoint ..." and name the file in them."""
    try:
        check(*args, **kw)
    except CheckpointError as e:
        message = str(e)
        if str(path) not in message:
            rest = message[len("checkpoint "):] if message.startswith("checkpoint ") else message
            message = f"checkpoint {path}: {rest}"
        raise CheckpointError(message) from None
