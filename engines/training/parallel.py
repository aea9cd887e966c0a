"""Data parallel training on torch.distributed, as ``torchrun`` starts it.

Every rank draws the whole step's batch from the same generators (they stay in step on
every rank, so a run's state does not depend on the world size) and trains on its own
slice of it: the global batch is the recipe's batch, split evenly over the ranks (and
over ``accumulate`` micro-batches on each). Gradients are averaged by DDP (or reduced
and sharded by FSDP), so N processes take the step one process would take on the same
batch. gloo on CPUs, NCCL on GPUs; rank 0 saves, logs and exports.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist
from torch import nn


@dataclass(frozen=True)
class Group:
    """This process's place in a run: its rank among ``world`` processes and its device."""

    rank: int = 0
    world: int = 1
    device: torch.device = torch.device("cpu")

    @property
    def leader(self) -> bool:
        return self.rank == 0

    def barrier(self) -> None:
        if self.world > 1:
            dist.barrier()

    @contextlib.contextmanager
    def leader_first(self) -> Iterator[None]:
        """Rank 0 runs the block first (it builds the caches), then the others (they read them)."""
        if not self.leader:
            self.barrier()
        yield
        if self.leader:
            self.barrier()

    def total(self, values: list[float]) -> list[float]:
        """Each value summed over the ranks (one all-reduce for all of them)."""
        if self.world == 1:
            return values
        t = torch.tensor(values, dtype=torch.float64, device=self.device)
        dist.all_reduce(t)
        return t.tolist()


def start(device: torch.device) -> Group:
    """The process group ``torchrun`` describes in the environment (RANK, WORLD_SIZE,
    LOCAL_RANK, MASTER_ADDR...), joined with gloo on the CPU or NCCL on GPUs (each rank on
    its local GPU); a plain process is a group of one."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world == 1:
        return Group(device=device)
    if device.type == "cuda":
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return Group(dist.get_rank(), dist.get_world_size(), device)


def finish(group: Group) -> None:
    if group.world > 1 and dist.is_initialized():
        dist.destroy_process_group()


def batch_size(batch: Any) -> int:
    """The leading size of a batch's tensors (every tensor in a batch is batch-major)."""
    for t in tensors(batch):
        return int(t.shape[0])
    raise ValueError("a training batch holds no tensor")


def tensors(batch: Any) -> Iterator[torch.Tensor]:
    if isinstance(batch, torch.Tensor):
        yield batch
    elif dataclasses.is_dataclass(batch) and not isinstance(batch, type):
        for f in dataclasses.fields(batch):
            yield from tensors(getattr(batch, f.name))
    elif isinstance(batch, dict):
        for v in batch.values():
            yield from tensors(v)
    elif isinstance(batch, list | tuple):
        for v in batch:
            yield from tensors(v)


def rows(batch: Any, start: int, stop: int, size: int) -> Any:
    """Rows ``start:stop`` of every tensor in ``batch`` (tensors, dataclasses, dicts, lists,
    tuples; other values are kept as they are)."""
    if isinstance(batch, torch.Tensor):
        if batch.dim() == 0 or batch.shape[0] != size:
            raise ValueError(f"a batch tensor of shape {tuple(batch.shape)} is not batch-major "
                             f"(the batch has {size} items)")
        return batch[start:stop]
    if dataclasses.is_dataclass(batch) and not isinstance(batch, type):
        return dataclasses.replace(batch, **{f.name: rows(getattr(batch, f.name), start, stop, size)
                                             for f in dataclasses.fields(batch) if f.init})
    if isinstance(batch, dict):
        return {k: rows(v, start, stop, size) for k, v in batch.items()}
    if isinstance(batch, list | tuple):
        parts = [rows(v, start, stop, size) for v in batch]
        return type(batch)(parts) if isinstance(batch, list) else tuple(parts)
    return batch


def split(batch: Any, group: Group, accumulate: int) -> list[Any]:
    """This rank's micro-batches of a global batch: the rank's contiguous slice, in
    ``accumulate`` equal parts."""
    size = batch_size(batch)
    parts = group.world * accumulate
    if size % parts:
        raise ValueError(f"a batch of {size} does not split into {group.world} process(es) x {accumulate} "
                         f"micro-batch(es); choose a world size and --accumulate that divide it")
    if parts == 1:
        return [batch]
    each = size // parts
    first = group.rank * accumulate
    return [rows(batch, (first + i) * each, (first + i + 1) * each, size) for i in range(accumulate)]


class Objective(nn.Module):
    """A run's loss as a module, so DDP sees its forward: ``loss(run, batch)``."""

    def __init__(self, run: nn.Module, loss: Callable[[nn.Module, Any], torch.Tensor]) -> None:
        super().__init__()
        self.run = run
        self.loss = loss

    def forward(self, batch: Any) -> torch.Tensor:
        return self.loss(self.run, batch)


def data_parallel(objective: Objective, group: Group, sharded_run: bool) -> nn.Module:
    """DDP around the objective (FSDP runs reduce their own gradients; one process needs neither)."""
    if group.world == 1 or sharded_run:
        return objective
    import inspect

    from torch.nn.parallel import DistributedDataParallel

    ids = [group.device.index] if group.device.type == "cuda" else None
    # every rank's buffers are the same (one seed, and rank 0's state at the start): no sync each step
    quiet = ("forward_sync_buffers" if "forward_sync_buffers" in inspect.signature(DistributedDataParallel).parameters
             else "broadcast_buffers")
    options: dict[str, Any] = {quiet: False}
    return DistributedDataParallel(objective, device_ids=ids, **options)


def no_sync(wrapped: nn.Module, last: bool) -> contextlib.AbstractContextManager[object]:
    """Skip DDP's gradient all-reduce on every micro-batch but a step's last."""
    from torch.nn.parallel import DistributedDataParallel

    if last or not isinstance(wrapped, DistributedDataParallel):
        return contextlib.nullcontext()
    return wrapped.no_sync()


def fully_shard(run: nn.Module) -> None:
    """FSDP2 over a run: each block of a block list (nn.ModuleList elements) is one unit,
    then each top-level part of the run (network, its EMA, ...); parameters and AdamW's
    moments live sharded over the ranks, gathered a unit at a time for the forward."""
    from torch.distributed.fsdp import fully_shard as shard

    for part in run.children():
        if not any(True for _ in part.parameters()):
            continue
        for module in part.modules():
            if isinstance(module, nn.ModuleList):
                for block in module:
                    if any(True for _ in block.parameters()):
                        shard(block)
        shard(part)
