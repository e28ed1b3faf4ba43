"""Checkpoint files in the published RIE layout: save atomically, load without running pickled code.

A checkpoint is a dict with the keys epoch, lr, random_state (numpy RandomState.get_state()), optimizer
(optimizer.state_dict()) and model_pos (the model's state_dict), plus optional plain-data extras such as
'config'. Loading uses torch.load(weights_only=True): only tensors, plain Python data and the few numpy
types a RandomState state needs are allowed, so a file that tries to run code fails instead.
"""
from __future__ import annotations

import pickle
import re
from pathlib import Path

import numpy as np
import torch
from numpy._core.multiarray import _reconstruct

from relpose.errors import CheckpointError
from relpose.files import atomic_path

RESERVED_KEYS = ("epoch", "lr", "random_state", "optimizer", "model_pos")

# What unpickling numpy's ('MT19937', uint32 array, pos, has_gauss, cached_gaussian) state needs. Files
# written with numpy 1.x name the array rebuilder numpy.core.multiarray._reconstruct, hence both names.
_RANDOM_STATE_GLOBALS = [
    (_reconstruct, "numpy._core.multiarray._reconstruct"),
    (_reconstruct, "numpy.core.multiarray._reconstruct"),
    np.ndarray,
    np.dtype,
    np.dtypes.UInt32DType,  # the dtype instance's class, needed to restore its state
]

_PLAIN_TYPES = (type(None), bool, int, float, str, bytes, torch.Tensor)


def _check_plain(value, where: str) -> None:
    """Extras must load under weights_only=True: plain Python containers, numbers, strings, tensors."""
    if isinstance(value, dict):
        for k, v in value.items():
            _check_plain(k, f"{where} key")
            _check_plain(v, f"{where}[{k!r}]")
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            _check_plain(v, f"{where}[{i}]")
    elif not isinstance(value, _PLAIN_TYPES):
        raise TypeError(f"checkpoint extra {where} is a {type(value).__name__}; use plain Python data "
                        "(convert numpy values with .item() or .tolist())")


def save_checkpoint(path, *, epoch: int, lr: float, random_state, optimizer_state: dict, model_state: dict,
                    extra: dict | None = None) -> Path:
    """Write a checkpoint atomically (relpose.files.atomic_path: a temporary file, fsync, rename)."""
    path = Path(path)
    extra = dict(extra or {})
    clash = [k for k in extra if k in RESERVED_KEYS]
    if clash:
        raise ValueError(f"extra checkpoint keys {clash} clash with the layout's own keys {RESERVED_KEYS}")
    _check_plain(extra, "extra")
    payload = {"epoch": epoch, "lr": lr, "random_state": random_state, "optimizer": optimizer_state,
               "model_pos": model_state, **extra}
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path, what="checkpoint") as tmp, open(tmp, "wb") as f:
        torch.save(payload, f)
    return path


def load_checkpoint(path) -> dict:
    """Read a checkpoint onto the CPU with weights_only=True. Raises CheckpointError for any problem."""
    path = Path(path)
    if not path.exists():
        raise CheckpointError(f"checkpoint {path} not found")
    if path.is_dir():
        raise CheckpointError(f"checkpoint {path} is a folder, not a file")
    try:
        with torch.serialization.safe_globals(_RANDOM_STATE_GLOBALS):
            ckpt = torch.load(path, weights_only=True, map_location="cpu")
    except pickle.UnpicklingError as e:
        found = re.search(r"Unsupported global: GLOBAL (\S+)", str(e))
        if found:
            raise CheckpointError(f"checkpoint {path} holds a '{found.group(1)}' object, which a safe "
                                  "(weights-only) load refuses; only tensors and plain data are allowed") from e
        raise CheckpointError(f"checkpoint {path} is not a readable PyTorch file ({_first_line(e)})") from e
    except Exception as e:  # zip, EOF and format errors of truncated or foreign files
        raise CheckpointError(f"checkpoint {path} is not a readable PyTorch file "
                              f"({type(e).__name__}: {_first_line(e)})") from e
    if not isinstance(ckpt, dict) or "model_pos" not in ckpt:
        raise CheckpointError(f"checkpoint {path} has no 'model_pos' entry; is it an RIE/relpose checkpoint?")
    return ckpt


def _first_line(e: Exception) -> str:
    text = str(e).strip()
    return text.splitlines()[0][:200] if text else "no details"


def resolve_checkpoint(name, folder="checkpoint") -> Path:
    """A checkpoint name from the command line: looked up in the -c folder first, then as a path."""
    given = Path(name).expanduser()
    candidates = [given] if given.is_absolute() else [Path(folder) / given, given]
    tried = []
    for c in candidates:
        if c.is_file():
            return c
        if str(c) not in tried:
            tried.append(str(c))
    raise CheckpointError(f"checkpoint '{name}' not found (tried {', '.join(tried)}); "
                          "pass a path or the folder with -c")


# --- compatibility with the model flags ----------------------------------------------------------------------

def _arc(widths) -> str:
    return ",".join(str(w) for w in widths)


def _widths_from_kernels(kernels: list[int], dense: bool) -> list[int] | None:
    """Filter widths (-arc) from the convolution kernel sizes; dense kernels are 2 * pad + 1 wide."""
    if not dense:
        return kernels
    widths, dilation = [kernels[0]], kernels[0]
    for k in kernels[1:]:
        if (k - 1) % dilation:
            return None
        widths.append((k - 1) // dilation + 1)
        dilation *= widths[-1]
    return widths


def check_compatible(state_dict: dict, config, *, encoders_only: bool = False) -> None:
    """Raise CheckpointError naming the first way a checkpoint's model_pos differs from `config` (a ModelConfig).

    Everything is read from tensor shapes. encoders_only=True checks just LocalLayer_* and GlobalInfo
    (stage 2 starts from a stage-1 checkpoint's encoders).
    """
    from relpose.model import RIEModel  # late import: the model imports the encoding module

    def shape(key):
        return tuple(state_dict[key].shape) if key in state_dict else None

    names = [k.split(".")[0][len("LocalLayer_"):] for k in state_dict if k.startswith("LocalLayer_")]
    names = list(dict.fromkeys(names))
    if not names or shape("GlobalInfo.fc_1.weight") is None:
        raise CheckpointError("checkpoint's model_pos has no LocalLayer_*/GlobalInfo tensors; it is not an RIE model")
    wanted = [g.name for g in config.groups]
    if sorted(names) != sorted(wanted):
        raise CheckpointError(f"checkpoint has body parts {', '.join(names)} but the skeleton has {', '.join(wanted)}")

    g0 = config.groups[0]
    local = f"LocalLayer_{g0.name}"
    hidden, in_feats = shape("GlobalInfo.fc_1.weight")
    if in_feats != 2 * config.num_joints:
        raise CheckpointError(f"checkpoint was trained on {in_feats // 2} joints but the data set has "
                              f"{config.num_joints}")

    has_fusion = any(k.startswith("FuseBlocks.") for k in state_dict)
    if not encoders_only and has_fusion != (config.stage >= 2):
        if has_fusion:
            raise CheckpointError(f"checkpoint is a stage-2/3 model (has FuseBlocks) but --stage is {config.stage}")
        raise CheckpointError(f"checkpoint is a stage-1 model (no FuseBlocks) but --stage is {config.stage}")

    n_blocks = len({k.split(".")[2] for k in state_dict if k.startswith(f"{local}.layers_conv.")}) // 2
    kernels = [shape(f"{local}.expand_conv.weight")[2]] + [
        (shape(f"{local}.layers_conv.{2 * i}.weight") or (0, 0, 0))[2] for i in range(n_blocks)]
    ck_widths = _widths_from_kernels(kernels, config.dense)
    if ck_widths != list(config.filter_widths):
        dense = " with --dense" if config.dense else ""
        if ck_widths is None:
            raise CheckpointError(f"checkpoint convolution widths {_arc(kernels)} do not fit -arc "
                                  f"{_arc(config.filter_widths)}{dense}")
        raise CheckpointError(f"checkpoint architecture {_arc(ck_widths)} but -arc is "
                              f"{_arc(config.filter_widths)}{dense}")

    channels, in_width, _ = shape(f"{local}.expand_conv.weight")
    if channels != config.channels:
        raise CheckpointError(f"checkpoint has {channels} convolution channels but -ch is {config.channels}")
    latent = shape(f"{local}.shrink.weight")[0]
    if latent != config.latent_dim:
        raise CheckpointError(f"checkpoint has latent size {latent} but -lfd is {config.latent_dim}")
    expected_width = config.in_channels(g0)
    if in_width != expected_width:
        parts = in_width / (2 * len(g0.joints))
        guess = {1: "raw", 2: "raw+pos or raw+temp", 3: "raw+pos+temp"}.get(parts, "unknown")
        raise CheckpointError(f"checkpoint's {g0.name} encoder reads {in_width} input channels (encoding {guess}) "
                              f"but --encoding {config.encoding} gives {expected_width}")
    if hidden != config.hidden:
        raise CheckpointError(f"checkpoint has FC hidden size {hidden} but --hidden is {config.hidden}")

    # Anything else (a decoder width, a missing tensor): compare with the model these flags build.
    with torch.device("meta"):
        model = RIEModel(config)
    expected = model.state_dict()
    if encoders_only:
        prefixes = tuple(p + "." for p in model.encoder_prefixes())
        expected = {k: v for k, v in expected.items() if k.startswith(prefixes)}
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
