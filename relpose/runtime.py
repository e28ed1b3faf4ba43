"""Where and how the model runs: device choice, bf16 autocast, seeding, torchrun ranks."""
from __future__ import annotations

import contextlib
import platform
import os
import random
from dataclasses import dataclass

import numpy as np
import torch

from .errors import UserError


def pick_device(name: str | None = None) -> torch.device:
    """`--device`: CUDA when present unless told otherwise. A device this PyTorch cannot use is refused here,
    in one line, not at the first tensor moved to it."""
    if not name:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except (RuntimeError, ValueError, TypeError):
        raise UserError(f"--device '{name}' is not a device name; use cpu, cuda or cuda:N") from None
    if device.type == "cpu":
        return device
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise UserError(f"--device {name} asked for, but this PyTorch sees no CUDA device; use --device cpu")
        count = torch.cuda.device_count()
        if device.index is not None and device.index >= count:
            raise UserError(f"--device {name}: this machine has {count} CUDA device(s), cuda:0 to cuda:{count - 1}")
        return device
    if device.type == "mps" and torch.backends.mps.is_available():
        return device
    # meta, xla, mps without Apple's GPU, ...: the kit trains and evaluates on CPU or CUDA only.
    raise UserError(f"--device {name}: this PyTorch cannot run the kit on '{device.type}'; use cpu, cuda or cuda:N")


def cpu_flags() -> str:
    """The CPU's vector and matrix instruction flags that change float results and speed (AVX2, FMA,
    AVX-512 *, AMX *), for provenance records and benchmark figures."""
    try:
        flags = open("/proc/cpuinfo").read().split("flags", 1)[1].split("\n", 1)[0].split()
    except (OSError, IndexError):
        return platform.processor() or platform.machine()
    wanted = [f for f in flags if f.startswith(("avx512", "amx")) or f in ("avx2", "fma")]
    return " ".join(sorted(set(wanted)))


def cpu_has_bf16() -> bool:
    """True when the CPU has native bf16 matrix instructions (AVX512-BF16 or AMX)."""
    try:
        flags = open("/proc/cpuinfo").read()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def autocast(device: torch.device, enabled: bool):
    """bf16 autocast context for `--amp` (CUDA, or CPUs with bf16 instructions)."""
    if not enabled:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16)


def keep_freed_memory() -> bool:
    """Let glibc keep large freed blocks for reuse instead of returning them to the OS.

    A CPU training step allocates and frees activations of tens of MB (the paper's configuration:
    85 MB per layer output at batch 1024). glibc serves blocks above 32 MB with fresh mmap'd
    pages, so every step pays a page fault per 4 KB on first touch: about a third of the step.
    Raising the mmap and trim thresholds to 1 GiB makes freed activations reusable
    (1.5x faster training at the paper's configuration, see benchmarks/README.md), at the cost of
    the process keeping its peak memory. No-op where the C library is not glibc.
    """
    import ctypes
    import ctypes.util
    import platform

    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3
    one_gib = ctypes.c_int(1 << 30)
    return bool(libc.mallopt(m_mmap_threshold, one_gib)) and bool(libc.mallopt(m_trim_threshold, one_gib))


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


@dataclass
class Distributed:
    """Rank information under torchrun (world_size 1 otherwise)."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def init_distributed(device_name: str | None) -> tuple[Distributed, torch.device]:
    """Join the torchrun process group when WORLD_SIZE > 1; returns ranks and this rank's device."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size <= 1:
        return Distributed(), pick_device(device_name)
    rank, local_rank = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    device = pick_device(device_name)
    if device.type == "cuda":
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
    backend = "nccl" if device.type == "cuda" else "gloo"
    if not torch.distributed.is_initialized():
        torch.distributed.init_process_group(backend=backend)
    return Distributed(rank, world_size, local_rank), device
