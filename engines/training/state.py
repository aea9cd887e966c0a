"""A run on disk, whole and unsharded whatever the world size: the run module (network,
its EMA, anything else trained) and AdamW's moments as safetensors, with the random
generators' states (where the data is), and progress as JSON. No pickles.

Under FSDP each rank holds a shard of every tensor (a DTensor): saving gathers the full
tensor (every rank takes part; rank 0 writes) and loading hands each rank its shard, so
a run saved by N processes resumes on M."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ..media.files import atomic_output


def full(t: torch.Tensor) -> torch.Tensor:
    """The whole tensor on the CPU: a DTensor's shards gathered (a collective call)."""
    from torch.distributed.tensor import DTensor

    if isinstance(t, DTensor):
        t = t.full_tensor()
    return t.detach().cpu().contiguous()


def like(value: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """``value`` (a whole tensor) laid out as ``target``: its device, and its shard if it is a DTensor."""
    from torch.distributed.tensor import DTensor, distribute_tensor

    if isinstance(target, DTensor):
        return distribute_tensor(value.to(target.device), target.device_mesh, target.placements)
    return value.to(target.device)


def sharded(model: nn.Module) -> bool:
    from torch.distributed.tensor import DTensor

    return any(isinstance(p, DTensor) for p in model.parameters())


def save_state(path: Path, model: nn.Module, opt: torch.optim.Optimizer, meta: dict[str, Any],
               rng: np.random.Generator | None = None, write: bool = True) -> None:
    """Write the run ``model`` + ``opt`` (+ the generators: ``rng`` and torch's) to
    ``path``.safetensors and ``meta`` to ``path``.json; ``write`` False: only take part in
    gathering sharded tensors (ranks other than 0)."""
    from safetensors.torch import save_file

    tensors = {f"model.{k}": full(v) for k, v in model.state_dict().items()}
    names = {id(p): n for n, p in model.named_parameters()}
    for group in opt.param_groups:
        for p in group["params"]:
            state = opt.state.get(p)
            if state:
                tensors[f"adam.m.{names[id(p)]}"] = full(state["exp_avg"])
                tensors[f"adam.v.{names[id(p)]}"] = full(state["exp_avg_sq"])
                tensors[f"adam.step.{names[id(p)]}"] = torch.as_tensor(full(state["step"])).reshape(1).float()
    if not write:
        return
    tensors["rng.torch"] = torch.get_rng_state()
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        tensors["rng.cuda"] = torch.cuda.get_rng_state()
    if rng is not None:
        meta = meta | {"rng": rng.bit_generator.state}
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_output(path.with_suffix(".safetensors")) as tmp:
        save_file(tensors, str(tmp))
    with atomic_output(path.with_suffix(".json")) as tmp:
        tmp.write_text(json.dumps(meta, indent=1))


def load_state(path: Path, model: nn.Module, opt: torch.optim.Optimizer | None = None) -> dict[str, Any]:
    """Restore a run saved by ``save_state`` onto ``model`` (on its device, in its shards)
    and ``opt``; returns the run's JSON. The generators are restored by ``restore_rng``."""
    from safetensors.torch import load_file

    tensors = load_file(str(path.with_suffix(".safetensors")))
    current = model.state_dict()
    model.load_state_dict({k[6:]: like(v, current[k[6:]]) for k, v in tensors.items()
                           if k.startswith("model.")})
    if opt is not None:
        for name, p in model.named_parameters():
            if f"adam.m.{name}" in tensors:  # AdamW keeps its step counts on the CPU (unless capturable)
                opt.state[p] = {"exp_avg": like(tensors[f"adam.m.{name}"], p),
                                "exp_avg_sq": like(tensors[f"adam.v.{name}"], p),
                                "step": tensors[f"adam.step.{name}"].reshape(())}
    meta: dict[str, Any] = json.loads(path.with_suffix(".json").read_text())
    return meta


def restore_rng(path: Path, meta: dict[str, Any], seed: int) -> np.random.Generator:
    """The generators where a saved run left them; a run saved before they were saved
    starts them from its step (its batches are new ones, not the unbroken run's)."""
    from safetensors import safe_open

    step = int(meta.get("step", 0))
    weights = path.with_suffix(".safetensors")
    keys: set[str] = set()
    if weights.exists():
        with safe_open(str(weights), "pt") as f:
            keys = set(f.keys())
            if "rng.torch" in keys:
                torch.set_rng_state(f.get_tensor("rng.torch"))
            if "rng.cuda" in keys and torch.cuda.is_available():
                torch.cuda.set_rng_state(f.get_tensor("rng.cuda"))
    if "rng.torch" not in keys:
        torch.manual_seed(seed + step)
    rng = np.random.default_rng([seed, step])
    if "rng" in meta:
        rng.bit_generator.state = meta["rng"]
    return rng
