"""torchrun awareness shared by training (DDP) and sharded embedding extraction.

Under ``torchrun`` the environment carries ``WORLD_SIZE``, ``RANK`` and ``LOCAL_RANK``; the
process group is gloo on CPU (so multi-process runs are testable here) and nccl on CUDA, and
rank r uses ``cuda:LOCAL_RANK``. Without ``torchrun`` everything is rank 0 of 1 and nothing is
initialised.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import torch
from torch import distributed as dist


@dataclass(frozen=True)
class Ranks:
    rank: int
    world: int
    device: torch.device

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def setup(device: str) -> Ranks:
    """Join the torchrun process group if there is one; the device this process should use."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world == 1:
        return Ranks(0, 1, torch.device(device))
    rank, local = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    use_cuda = device.startswith("cuda")
    if not dist.is_initialized():
        dist.init_process_group("nccl" if use_cuda else "gloo")
    dev = torch.device(f"cuda:{local}") if use_cuda else torch.device("cpu")
    if use_cuda:
        torch.cuda.set_device(dev)
    return Ranks(rank, world, dev)


def barrier(ranks: Ranks) -> None:
    if ranks.world > 1:
        dist.barrier()
