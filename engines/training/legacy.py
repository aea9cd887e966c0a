"""The drivers' shared pieces from before the loop (``start_run``, ``RunProgress``,
``optimize``, ``fit``): kept only while the families not yet on ``loop.train`` use them."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import torch
from torch import nn

from .family import EMARun
from .precision import scheduled_lr, training_device
from .state import save_state

R = TypeVar("R")


def start_run(recipes: Mapping[str, R], name: str, device: str, threads: int, run_dir: Path) -> tuple[R, torch.device]:
    """The recipe ``name`` and the checked device of a run about to start in ``run_dir``."""
    if name not in recipes:
        raise ValueError(f"unknown recipe {name!r}; recipes: {', '.join(recipes)}")
    where = training_device(device)
    if threads:
        torch.set_num_threads(threads)
    run_dir.mkdir(parents=True, exist_ok=True)
    return recipes[name], where


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


def fit(
    run: EMARun,
    opt: torch.optim.Optimizer,
    recipe: Any,
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
