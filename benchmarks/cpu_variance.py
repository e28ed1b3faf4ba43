"""Where CPUs differ: the same 30 training steps of a small RIE model under other kernel settings.

Every setting runs in its own process (MKL and oneDNN read their variables once, at start) from the same
seed on the same inputs, and prints the final loss and the largest weight difference from the default
run, and its time as a ratio to the default's (measured in the same run; on a busy machine a ratio is
rough). Different values mean the setting changes the last bits that training then amplifies; the notebooks
are checked within stated tolerances because no setting makes every CPU agree (an Apple or ARM CPU has
no MKL at all).

    python benchmarks/cpu_variance.py            # a table, one row per setting
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from relpose.runtime import cpu_flags

SETTINGS = {
    "default (2 threads)": {},
    "1 thread": {"OMP_NUM_THREADS": "1"},
    "MKL_CBWR=AVX2": {"MKL_CBWR": "AVX2"},
    "MKL_CBWR=COMPATIBLE": {"MKL_CBWR": "COMPATIBLE"},
    "MKL_CBWR=COMPATIBLE, 1 thread": {"MKL_CBWR": "COMPATIBLE", "OMP_NUM_THREADS": "1"},
    "ATEN_CPU_CAPABILITY=avx2": {"ATEN_CPU_CAPABILITY": "avx2"},
    "ONEDNN_MAX_CPU_ISA=AVX2": {"ONEDNN_MAX_CPU_ISA": "AVX2"},
    "all pinned (COMPATIBLE, default ATen, SSE4.1 oneDNN, 1 thread)": {
        "MKL_CBWR": "COMPATIBLE", "ATEN_CPU_CAPABILITY": "default", "ONEDNN_MAX_CPU_ISA": "SSE41",
        "OMP_NUM_THREADS": "1"},
}
STEPS = 30


def train_once() -> dict:
    """One run in this process: the final loss and the weights (as lists, for the parent to compare)."""
    import torch

    from relpose import fastpaths
    from relpose.model import ModelConfig, RIEModel

    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "2")))
    torch.manual_seed(0)
    model = RIEModel(ModelConfig(filter_widths=(3, 3, 3), channels=32, latent_dim=32, hidden=128)).train()
    fastpaths.accelerate(model)   # the modules' CPU fast forms, as relpose.train.train_epochs runs them
    g = torch.Generator().manual_seed(1)
    x = torch.randn(256, 27, 17, 2, generator=g) * 0.3
    y = torch.randn(256, 1, 17, 3, generator=g) * 0.2
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    start = time.perf_counter()
    for _ in range(STEPS):
        opt.zero_grad()
        loss = (model(x) - y).norm(dim=-1).mean()
        loss.backward()
        opt.step()
    seconds = time.perf_counter() - start
    weights = torch.cat([p.detach().flatten() for p in model.parameters()])
    return {"loss": loss.item(), "weights": weights.tolist(), "torch": torch.__version__, "seconds": seconds}


def main() -> int:
    if os.environ.get("_RELPOSE_CPU_VARIANCE_CHILD"):
        print(json.dumps(train_once()))
        return 0
    rows, base = [], None
    for name, env in SETTINGS.items():
        child_env = {k: v for k, v in os.environ.items() if k not in ("MKL_CBWR", "OMP_NUM_THREADS")}
        child_env.update(env, _RELPOSE_CPU_VARIANCE_CHILD="1")
        out = subprocess.run([sys.executable, __file__], env=child_env, capture_output=True, text=True, check=True)
        result = json.loads(out.stdout.strip().splitlines()[-1])
        base = base or result
        gap = max(abs(a - b) for a, b in zip(result["weights"], base["weights"]))
        rows.append((name, result["loss"], gap, result["seconds"] / base["seconds"]))
    print(f"{STEPS} Adam steps of a small RIE model; torch {base['torch']}; CPU flags: {cpu_flags()}")
    print(f"{'setting':<66}{'final loss':>12}{'max |w - w_default|':>22}{'time / default':>16}")
    for name, loss, gap, ratio in rows:
        print(f"{name:<66}{loss:>12.7f}{gap:>22.2e}{ratio:>16.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
