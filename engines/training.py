"""What every training loop shares: the learning-rate schedule, bf16 autocast where it is
fast, and a run's state
(model + AdamW as safetensors, progress as JSON) saved every few minutes so a killed run
resumes where it stopped."""

from __future__ import annotations

import contextlib
import copy
import json
import math
import time
from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path
from typing import Any, Protocol, TypeVar

import numpy as np
import torch
from torch import nn

from .media.files import atomic_output

R = TypeVar("R")


@cache
def native_bf16() -> bool:
    """Whether this CPU computes bf16 natively (AVX512-BF16 or AMX). Without it bf16
    autocast is emulated: 3-4x slower for the DiT and 40x for the tokenizer's convolutions
    (measured on an AVX2-only machine), so training stays fp32 there."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def autocast(device: str = "cpu") -> contextlib.AbstractContextManager[object]:
    """bf16 autocast on CUDA and on CPUs with native bf16, fp32 otherwise."""
    kind = torch.device(device).type
    if kind == "cuda" or (kind == "cpu" and native_bf16()):
        return torch.autocast(kind, dtype=torch.bfloat16)
    return contextlib.nullcontext()


def training_device(name: str) -> torch.device:
    """``cpu`` or ``cuda[:N]``, checked before a run starts (not at its first step)."""
    try:
        device = torch.device(name)
    except RuntimeError:
        raise ValueError(f"unknown device {name!r}; use cpu or cuda[:N]") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {name!r}: this torch build sees no CUDA GPU")
    if device.type not in ("cpu", "cuda"):
        raise ValueError(f"device {name!r}: training runs on cpu or cuda")
    return device


def start_run(recipes: Mapping[str, R], name: str, device: str, threads: int, run_dir: Path) -> tuple[R, torch.device]:
    """The recipe ``name`` and the checked device of a run about to start in ``run_dir``."""
    if name not in recipes:
        raise ValueError(f"unknown recipe {name!r}; recipes: {', '.join(recipes)}")
    where = training_device(device)
    if threads:
        torch.set_num_threads(threads)
    run_dir.mkdir(parents=True, exist_ok=True)
    return recipes[name], where


def scheduled_lr(base: float, step: int, warmup: int, decay_steps: int) -> float:
    """Linear warm-up, then a cosine down to 10 % of ``base`` by ``decay_steps``, then flat."""
    lr = base * min(1.0, (step + 1) / warmup)
    decay = min(step, decay_steps) / decay_steps
    return lr * (0.5 * (1 + math.cos(math.pi * decay)) * 0.9 + 0.1)


class RunProgress:
    """Counts a run's steps, keeps its recent losses and throughput, reports each step and
    saves the run when ``every_seconds`` have passed, at ``total`` and at ``close``."""

    def __init__(
        self,
        checkpoint: Path,
        model: nn.Module,
        opt: torch.optim.Optimizer,
        meta: dict[str, Any],
        total: int,
        every_seconds: float,
        report: Callable[[int, int, float, float], None] | None = None,
    ) -> None:
        self.checkpoint, self.model, self.opt, self.meta = checkpoint, model, opt, meta
        self.total, self.every_seconds, self.report = total, every_seconds, report
        self.step = int(meta["step"])
        self.last_save = time.time()
        self.window: list[float] = []

    def record(self, loss: float, seconds: float) -> None:
        self.step += 1
        self.window = (self.window + [seconds])[-20:]
        self.meta["losses"] = (self.meta["losses"] + [round(loss, 5)])[-200:]
        if self.report:
            self.report(self.step, self.total, loss, len(self.window) / sum(self.window))
        if time.time() - self.last_save >= self.every_seconds or self.step == self.total:
            self.save()

    def save(self) -> None:
        self.meta |= {"step": self.step, "seconds": self.meta["seconds"] + time.time() - self.last_save}
        save_state(self.checkpoint, self.model, self.opt, self.meta)
        self.last_save = time.time()

    def close(self) -> Path:
        """Save what is not saved yet (also on Ctrl-C: loops call this in a ``finally``)."""
        if self.step != self.meta["step"]:
            self.save()
        return self.checkpoint


def optimize(
    progress: RunProgress,
    opt: torch.optim.Optimizer,
    loss_fn: Callable[[], torch.Tensor],
    lr: Callable[[int], float],
    after_step: Callable[[int], None],
    deadline: float = math.inf,
) -> None:
    """AdamW steps until the run's total or ``deadline``: loss, backward, gradients clipped
    to norm 1, step, then ``after_step`` (an EMA update, say); the run saves itself. A
    parameter group's ``lr_scale`` multiplies the schedule (new layers on a pretrained net)."""
    params = [p for group in opt.param_groups for p in group["params"]]
    while progress.step < progress.total and time.time() < deadline:
        for group in opt.param_groups:
            group["lr"] = lr(progress.step) * group.get("lr_scale", 1.0)
        t0 = time.time()
        loss = loss_fn()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        after_step(progress.step)
        progress.record(loss.item(), time.time() - t0)


def save_state(path: Path, model: nn.Module, opt: torch.optim.Optimizer, meta: dict[str, Any]) -> None:
    """A training run: model and AdamW state as safetensors (no pickles), plus a JSON of progress."""
    from safetensors.torch import save_file

    tensors = {f"model.{k}": v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    names = {id(p): n for n, p in model.named_parameters()}
    for group in opt.param_groups:
        for p in group["params"]:
            state = opt.state.get(p)
            if state:
                tensors[f"adam.m.{names[id(p)]}"] = state["exp_avg"].cpu().contiguous()
                tensors[f"adam.v.{names[id(p)]}"] = state["exp_avg_sq"].cpu().contiguous()
                tensors[f"adam.step.{names[id(p)]}"] = torch.as_tensor(state["step"]).reshape(1).float().cpu()
    with atomic_output(path.with_suffix(".safetensors")) as tmp:
        save_file(tensors, str(tmp))
    with atomic_output(path.with_suffix(".json")) as tmp:
        tmp.write_text(json.dumps(meta, indent=1))


def load_state(path: Path, model: nn.Module, opt: torch.optim.Optimizer) -> dict[str, Any]:
    """Restore a run saved by ``save_state`` onto the device ``model`` lives on."""
    from safetensors.torch import load_file

    device = next(model.parameters()).device
    # AdamW keeps its step counts on the CPU (unless capturable), whatever the device
    tensors = {k: v if k.startswith("adam.step.") else v.to(device)
               for k, v in load_file(str(path.with_suffix(".safetensors"))).items()}
    model.load_state_dict({k[6:]: v for k, v in tensors.items() if k.startswith("model.")})
    params = dict(model.named_parameters())
    for name, p in params.items():
        if f"adam.m.{name}" in tensors:
            opt.state[p] = {
                "exp_avg": tensors[f"adam.m.{name}"],
                "exp_avg_sq": tensors[f"adam.v.{name}"],
                "step": tensors[f"adam.step.{name}"].reshape(()),
            }
    return json.loads(path.with_suffix(".json").read_text())


class Schedule(Protocol):
    """The fields of a training recipe that ``fit`` reads."""

    @property
    def steps(self) -> int: ...
    @property
    def lr(self) -> float: ...
    @property
    def warmup(self) -> int: ...
    @property
    def decay_steps(self) -> int: ...
    @property
    def ema(self) -> float: ...
    @property
    def checkpoint_seconds(self) -> float: ...
    @property
    def seed(self) -> int: ...


class EMARun(nn.Module):
    """A network in training and the exponential moving average of its weights (what ships)."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net
        self.ema = copy.deepcopy(net).requires_grad_(False)

    @torch.no_grad()
    def update_ema(self, decay: float) -> None:
        for e, p in zip(self.ema.parameters(), self.net.parameters(), strict=True):
            e.lerp_(p, 1 - decay)


def fit(
    run: EMARun,
    opt: torch.optim.Optimizer,
    recipe: Schedule,
    meta: dict[str, Any],
    checkpoint: Path,
    loss: Callable[[np.random.Generator], torch.Tensor],
    *,
    steps: int | None,
    minutes: float | None,
    report: Callable[[int, int, float, float], None] | None,
) -> Path:
    """Train ``run`` from ``meta['step']`` on ``recipe``'s schedule (batches seeded by the
    step, so a resumed run draws what an unbroken one would), EMA after warm-up, saved as
    it goes and on the way out; returns the run's checkpoint."""
    rng = np.random.default_rng([recipe.seed, meta["step"]])
    torch.manual_seed(recipe.seed + meta["step"])
    deadline = time.time() + minutes * 60 if minutes else math.inf
    progress = RunProgress(checkpoint, run, opt, meta, steps or recipe.steps, recipe.checkpoint_seconds, report)
    run.train()
    try:
        optimize(progress, opt, lambda: loss(rng),
                 lambda step: scheduled_lr(recipe.lr, step, recipe.warmup, recipe.decay_steps),
                 lambda step: run.update_ema(recipe.ema if step >= recipe.warmup else 0.0), deadline)
    finally:
        progress.close()
    return progress.checkpoint
