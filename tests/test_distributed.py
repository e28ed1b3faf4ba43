"""DistributedDataParallel on CPU with the gloo backend: two ranks stay identical, rank 0 writes."""
import os
import socket
import subprocess
import sys

import numpy as np
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from relpose.model import ModelConfig, RIEModel
from relpose.runtime import Distributed
from relpose.train import TrainConfig, make_optimizer, train_epochs
from relpose.windows import Flip, WindowSampler

from cli_helpers import TINY_MODEL


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _worker(rank, world_size, port, out_dir):
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=world_size)
    torch.set_num_threads(1)
    torch.manual_seed(0)  # same initial weights on both ranks (DDP also broadcasts rank 0's)
    model = RIEModel(ModelConfig(filter_widths=(3, 3), channels=16, latent_dim=16, hidden=32))
    rng = np.random.default_rng(0)
    p2 = [rng.normal(size=(50, 17, 2)).astype(np.float32) for _ in range(2)]
    p3 = [rng.normal(size=(50, 17, 3)).astype(np.float32) for _ in range(2)]
    sampler = WindowSampler(p2, p3, batch_size=16, pad=4, augment=True, flip=Flip((4, 5, 6), (1, 2, 3), (4, 5, 6), (1, 2, 3)),
                            seed=5, rank=rank, world_size=world_size)
    net = torch.nn.parallel.DistributedDataParallel(model)
    opt = make_optimizer(model, 1e-3, torch.device("cpu"))
    train_epochs(net, sampler, opt, TrainConfig(stage=1, epochs=1), device=torch.device("cpu"),
                 dist=Distributed(rank, world_size), progress=False, log=lambda *_: None)
    torch.save({"state": model.state_dict(), "batches": sampler.num_batches}, os.path.join(out_dir, f"rank{rank}.pt"))
    dist.destroy_process_group()


def test_two_gloo_ranks_hold_identical_weights_after_training(tmp_path):
    mp.spawn(_worker, args=(2, _free_port(), str(tmp_path)), nprocs=2, join=True)
    r0 = torch.load(tmp_path / "rank0.pt")
    r1 = torch.load(tmp_path / "rank1.pt")
    assert r0["batches"] == r1["batches"] > 0
    torch.manual_seed(0)
    initial = RIEModel(ModelConfig(filter_widths=(3, 3), channels=16, latent_dim=16, hidden=32)).state_dict()
    for k, v in r0["state"].items():
        assert torch.equal(v, r1["state"][k]), k
    assert not torch.equal(r0["state"]["LocalLayer_Torso.expand_conv.weight"],
                           initial["LocalLayer_Torso.expand_conv.weight"])


def test_torchrun_command_line(tiny_data_dir, tmp_path):
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", "-m", "relpose",
           "-d", "synth", "--data-dir", tiny_data_dir, "-c", str(tmp_path), *TINY_MODEL, "-e", "1",
           "--downsample", "4", "--no-eval", "-a", "Walking", "--device", "cpu"]
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONWARNINGS="ignore")
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
    assert r.returncode == 0, r.stderr[-2000:]
    assert (tmp_path / "stage_1_epoch_1.bin").exists()
    # only rank 0 logs
    assert r.stdout.count("Saving checkpoint to") == 1
    assert r.stdout.count("Protocol #1   (MPJPE) action-wise average:") == 1
