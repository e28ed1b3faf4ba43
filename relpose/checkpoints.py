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
