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

from relpose.errors import CheckpointError, UserError
from relpose.files import atomic_path
from relpose.stored_config import check_stored_config

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

MAX_FPS = 10_000   # frames per second a recorded training rate may claim

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
    """Read a checkpoint onto the CPU with weights_only=True and check what it holds as data (check_contents).
    Raises CheckpointError, one line naming the file, for any problem."""
    path = Path(path)
    if not path.exists():
        raise CheckpointError(f"checkpoint {path} not found")
    if path.is_dir():
        raise CheckpointError(f"checkpoint {path} is a folder, not a file; give the checkpoint file inside it "
                              "(e.g. stage_1_epoch_80.bin)")
    if path.stat().st_size == 0:
        raise CheckpointError(f"checkpoint {path} is empty (0 bytes), perhaps from an interrupted copy; "
                              "copy or train it again")
    try:
        with torch.serialization.safe_globals(_RANDOM_STATE_GLOBALS):
            ckpt = torch.load(path, weights_only=True, map_location="cpu")
    except pickle.UnpicklingError as e:
        # torch words a blocked global differently by version and by why it is blocked.
        found = re.search(r"(?:Unsupported global: |unsupported )GLOBAL ([\w.]+)", str(e))
        if found:
            # Never repeat torch's advice to load with weights_only=False: that would run the file's code.
            raise CheckpointError(f"checkpoint {path} holds code-bearing objects ('{found.group(1)}') and is "
                                  "refused: a checkpoint may hold only tensors and plain data; use a checkpoint "
                                  "from a source you trust") from None
        raise CheckpointError(f"checkpoint {path} is not a PyTorch checkpoint (not the zip or pickle format "
                              "torch.save writes); give a .bin/.pth file a training run wrote") from None
    except Exception as e:  # zip, EOF and format errors of truncated or foreign files
        raise CheckpointError(f"checkpoint {path} is not a readable PyTorch checkpoint ({_reason(e)}); it may be "
                              "truncated or another kind of file: copy or train it again") from None
    check_contents(ckpt, path)
    return ckpt


def _reason(e: Exception) -> str:
    text = str(e).strip()
    first = text.splitlines()[0][:160] if text else ""
    if not first or "weights_only" in first:   # torch's own advice is not for a user of this kit
        return type(e).__name__
    return f"{type(e).__name__}: {first}"


def check_contents(ckpt, path) -> None:
    """What the kit reads from a checkpoint, checked as data before anything uses it: model_pos a dict of
    finite tensors, a whole epoch, the stored model configuration (relpose.model.check_stored_config) and
    the recorded frame rate. CheckpointError naming the file and the key."""
    if not isinstance(ckpt, dict) or "model_pos" not in ckpt:
        raise CheckpointError(f"checkpoint {path} has no 'model_pos' entry; is it an RIE/relpose checkpoint?")
    state = ckpt["model_pos"]
    if not isinstance(state, dict) or not state:
        raise CheckpointError(f"checkpoint {path}: 'model_pos' is a {type(state).__name__} with no tensors, "
                              "not a model's state_dict; is it an RIE/relpose checkpoint?")
    for key, tensor in state.items():
        if not isinstance(key, str) or not isinstance(tensor, torch.Tensor):
            raise CheckpointError(f"checkpoint {path}: model_pos entry {key!r} is a {type(tensor).__name__}, "
                                  "not a tensor; is it an RIE/relpose checkpoint?")
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            raise CheckpointError(f"checkpoint {path}: tensor '{key}' holds NaN or infinite weights (the training "
                                  "diverged or the file is damaged); use an earlier checkpoint of the run")
    epoch = ckpt.get("epoch", 0)
    if not isinstance(epoch, int) or isinstance(epoch, bool) or epoch < 0:
        raise CheckpointError(f"checkpoint {path}: 'epoch' is {epoch!r}, not a whole number >= 0; "
                              "the file was damaged or edited")
    if "config" in ckpt:
        try:
            check_stored_config(ckpt["config"], f"checkpoint {path}")
        except UserError as e:
            raise CheckpointError(str(e)) from None
    data = ckpt.get("data")
    if data is not None:
        fps = data.get("fps") if isinstance(data, dict) else None
        if not isinstance(data, dict) or (fps is not None and not (
                isinstance(fps, (int, float)) and not isinstance(fps, bool) and 0 < fps <= MAX_FPS)):
            raise CheckpointError(f"checkpoint {path}: its 'data' record (frame rate {fps!r}) is not a dict with "
                                  f"a frame rate from 0 to {MAX_FPS}; the file was damaged or edited")


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
