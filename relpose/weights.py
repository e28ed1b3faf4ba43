"""Model weights from checkpoints: check a checkpoint against a configuration, build the model it holds.

`check_compatible` names the first way a checkpoint differs from the flags in flag terms ("latent size
32 but -lfd is 16"); the local encoder type explains its own tensors (its `mismatch` method, see
relpose.model), so a new encoder type needs no change here. `load_model` builds a model from the
configuration a relpose checkpoint stores; `load_weights` loads a checkpoint into a model built
from flags.
"""
from __future__ import annotations

import torch

from relpose import checkpoints
from relpose.errors import CheckpointError, UserError
from relpose.model import FLAG_TERMS, LOCAL_ENCODERS, ModelConfig, RIEModel


def config_terms(what: str) -> dict:
    """Terms naming the settings of a configuration that did not come from flags (`what`: "its stored config",
    "the published architecture"), in the form of relpose.model.FLAG_TERMS."""
    names = {"filter_widths": "filter widths", "channels": "channels", "latent_dim": "latent size",
             "hidden": "FC hidden size", "stage": "stage", "num_input_joints": "input keypoints",
             "groups": "body parts"}
    terms = {k: f"{what} has {v} {{}}" for k, v in names.items()}
    terms.update(dense=" (dense)", encoding=f"{what}'s encoding {{}}")
    return terms


def _expected_state(config: ModelConfig, encoders_only: bool) -> tuple[dict, tuple[str, ...]]:
    with torch.device("meta"):
        model = RIEModel(config)
    prefixes = tuple(p + "." for p in model.encoder_prefixes())
    state = model.state_dict()
    if encoders_only:
        state = {k: v for k, v in state.items() if k.startswith(prefixes)}
    return state, prefixes


def check_compatible(state_dict: dict, config: ModelConfig, *, encoders_only: bool = False,
                     terms: dict | None = None) -> None:
    """Raise CheckpointError naming the first way a checkpoint's model_pos differs from `config`.

    Everything is read from tensor shapes. encoders_only=True checks just LocalLayer_* and GlobalInfo
    (stage 2 starts from a stage-1 checkpoint's encoders). `terms` name the settings (default: the main
    command's flags, relpose.model.FLAG_TERMS; config_terms for a configuration read from a file).
    """
    terms = terms or FLAG_TERMS

    def shape(key):
        return tuple(state_dict[key].shape) if key in state_dict else None

    names = list(dict.fromkeys(k.split(".")[0][len("LocalLayer_"):] for k in state_dict
                               if k.startswith("LocalLayer_")))
    if not names or shape("GlobalInfo.fc_1.weight") is None:
        raise CheckpointError("checkpoint's model_pos has no LocalLayer_*/GlobalInfo tensors; it is not an RIE model")
    wanted = [g.name for g in config.groups]
    if sorted(names) != sorted(wanted):
        raise CheckpointError(f"checkpoint has body parts {', '.join(names)} but "
                              f"{terms['groups'].format(', '.join(wanted))}")
    expected, prefixes = _expected_state(config, encoders_only)
    # A tensor of another rank (a damaged or foreign file) is named before any shape is unpacked.
    for k, v in state_dict.items():
        if k in expected and state_dict[k].dim() != expected[k].dim():
            raise CheckpointError(f"checkpoint tensor '{k}' has shape {tuple(v.shape)} but the model's is "
                                  f"{tuple(expected[k].shape)}; it is not a model of this kit's architecture")
    hidden, in_feats = shape("GlobalInfo.fc_1.weight")
    if in_feats != 2 * config.num_input_joints:
        raise CheckpointError(f"checkpoint was trained on {in_feats // 2} joints but "
                              f"{terms['num_input_joints'].format(config.num_input_joints)}")
    has_fusion = any(k.startswith("FuseBlocks.") for k in state_dict)
    if not encoders_only and has_fusion != (config.stage >= 2):
        if has_fusion:
            raise CheckpointError(f"checkpoint is a stage-2/3 model (has FuseBlocks) but "
                                  f"{terms['stage'].format(config.stage)}")
        raise CheckpointError(f"checkpoint is a stage-1 model (no FuseBlocks) but "
                              f"{terms['stage'].format(config.stage)}")
    explain = getattr(LOCAL_ENCODERS[config.local_encoder], "mismatch", None)
    g0 = config.groups[0]
    message = explain(state_dict, f"LocalLayer_{g0.name}", config, g0, terms) if explain is not None else None
    if message:
        raise CheckpointError(message)
    if hidden != config.hidden:
        raise CheckpointError(f"checkpoint has FC hidden size {hidden} but {terms['hidden'].format(config.hidden)}")

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


def check_stored_config(checkpoint: dict, config: ModelConfig, path) -> None:
    """A relpose checkpoint records its ModelConfig: settings the tensors cannot show (--causal, -drop,
    --encoding between raw+pos and raw+temp) must agree with the flags too."""
    stored = checkpoint.get("config")
    if not isinstance(stored, dict):
        return  # a published checkpoint: only its tensor shapes can be checked
    flags = {"causal": "--causal", "dense": "--dense", "encoding": "--encoding", "dropout": "-drop",
             "fc_dropout": "FC dropout", "local_encoder": "local encoder type", "input_root": "input root",
             "input_layout": "2D keypoint layout"}
    ours = config.to_dict()
    for key, flag in flags.items():
        if key in stored and stored[key] is not None and stored[key] != ours.get(key):
            raise CheckpointError(f"checkpoint {path} was trained with {flag} {stored[key]!r} but the flags give "
                                  f"{ours.get(key)!r}; use the checkpoint's setting")


def load_weights(model: RIEModel, path, *, config: ModelConfig | None = None) -> dict:
    """Load the checkpoint at `path` into `model` (built from the main command's flags) strictly, after
    checking it fits; returns the checkpoint."""
    config = config or model.config
    ckpt = checkpoints.load_checkpoint(path)
    _named(path, check_compatible, ckpt["model_pos"], config)
    check_stored_config(ckpt, config, path)
    model.load_state_dict(ckpt["model_pos"], strict=True)
    return ckpt


def load_model(path, device="cpu", config: ModelConfig | None = None, *,
               config_source: str = "the model flags") -> RIEModel:
    """The model a checkpoint holds, in eval mode on `device`, built from the configuration it stores
    (or from `config`, which a published checkpoint without one needs; `config_source` says in messages
    where that configuration came from, e.g. "the published architecture")."""
    ckpt = checkpoints.load_checkpoint(path)
    if config is None:
        if "config" not in ckpt:
            raise CheckpointError(f"checkpoint {path} stores no model configuration; build the model with its flags")
        try:
            config = ModelConfig.from_stored(ckpt["config"], f"checkpoint {path}")
        except UserError as e:
            raise CheckpointError(str(e)) from None
        terms = config_terms("its stored config")
    else:
        terms = FLAG_TERMS if config_source == "the model flags" else config_terms(config_source)
    _named(path, check_compatible, ckpt["model_pos"], config, terms=terms)
    check_stored_config(ckpt, config, path)
    model = RIEModel(config)
    model.load_state_dict(ckpt["model_pos"], strict=True)
    return model.to(device).eval()


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
