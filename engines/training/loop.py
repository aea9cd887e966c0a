"""The training loop every family runs on: seeding, resume, bf16 autocast, data-parallel
slices and gradient accumulation, EMA, saving, metrics, progress, export."""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from . import parallel
from .family import Context, EMARun, Trainer, recipe_of, resolve
from .metrics import MetricsLog
from .plot import plot
from .precision import autocast, training_device
from .state import load_state, restore_rng, save_state, sharded

Report = Callable[[int, int, float, float], None]  # step, total, loss, steps per second


@dataclass(frozen=True)
class Launch:
    """How a run runs (none of it changes what it computes): where, how long, and how the
    recipe's batch is split. ``accumulate``: micro-batches per step on each process;
    ``fsdp``: shard the run over the processes (a model that does not fit one device);
    ``evals``: how many times a run measures its shipped weights on fixed batches (a run
    of fewer steps: once, at its end; 0: never)."""

    device: str = "cpu"
    threads: int = 0
    steps: int | None = None
    minutes: float | None = None
    accumulate: int = 1
    fsdp: bool = False
    evals: int = 10


def train(family: type[Trainer], recipe: str | Path | Any, data: Path, run_dir: Path, launch: Launch = Launch(), *,
          arguments: Mapping[str, str] | None = None, report: Report | None = None,
          encoding: Callable[[int, int], None] | None = None) -> Path:
    """Train (or resume) ``recipe`` of ``family`` on ``data`` in ``run_dir``; returns the
    run's checkpoint (``run_dir/last``). Under ``torchrun`` each process calls this."""
    name, recipe = resolve(family, recipe)
    arguments = dict(arguments or {})
    missing = [a for a in family.arguments if not arguments.get(a)]
    if missing:
        raise ValueError(f"training {family.family} needs {', '.join(missing)}")
    device = family_device(family, launch.device)
    if launch.accumulate < 1:
        raise ValueError(f"--accumulate is at least 1, not {launch.accumulate}")
    group = parallel.start(device)
    try:
        last = Run(family, name, recipe, data, run_dir, launch, group, arguments).fit(report, encoding)
        group.barrier()  # every rank done before the group goes (gloo aborts a rank that leaves mid-talk)
        return last
    finally:
        parallel.finish(group)


def family_device(family: type[Trainer], name: str) -> torch.device:
    """The checked device ``name`` of a run of ``family`` (which may train on the CPU only)."""
    kind = name.split(":")[0]
    if kind in ("cpu", "cuda") and kind not in family.devices:
        where = " or ".join(d.upper() if d == "cpu" else d for d in family.devices)
        raise ValueError(f"train {family.family} runs on the {where} only (--device {name})")
    return training_device(name)


class Run:
    """One process's part of a run, from its set-up to its last save."""

    def __init__(self, family: type[Trainer], name: str, recipe: Any, data: Path, run_dir: Path, launch: Launch,
                 group: parallel.Group, arguments: dict[str, str]) -> None:
        self.family, self.name, self.recipe, self.data = family, name, recipe, data
        self.run_dir, self.launch, self.group, self.arguments = run_dir, launch, group, arguments
        self.checkpoint = run_dir / "last"
        if launch.threads:
            torch.set_num_threads(launch.threads)
        run_dir.mkdir(parents=True, exist_ok=True)

    def fit(self, report: Report | None, encoding: Callable[[int, int], None] | None) -> Path:
        recipe, group, checkpoint = self.recipe, self.group, self.checkpoint
        resuming = checkpoint.with_suffix(".safetensors").exists()
        if resuming:
            self.check_arguments()
        ctx = Context(self.data, self.run_dir, group.device, self.arguments,
                      encoding if group.leader else None, resuming)
        with group.leader_first():  # rank 0 builds the caches, the others read them
            trainer = self.family(recipe, ctx)
        torch.manual_seed(recipe.seed)
        run = trainer.model(fresh=not resuming).to(group.device)
        meta: dict[str, Any] = {"family": self.family.family, "recipe": self.name, "step": 0, "seconds": 0.0,
                                "data": str(self.data), "settings": dataclasses.asdict(recipe), "losses": [],
                                "arguments": self.arguments} | trainer.meta()
        if self.launch.fsdp:
            if group.world == 1:
                raise ValueError("--fsdp shards a run over processes: start it with torchrun or --nproc")
            parallel.fully_shard(run)
        opt = trainer.optimizer(run)
        if resuming:
            meta = load_state(checkpoint, run, opt)
        meta |= {"device": group.device.type, "world_size": group.world}
        rng = restore_rng(checkpoint, meta, recipe.seed)
        total = self.launch.steps or recipe.steps
        log = MetricsLog(self.run_dir, int(meta["step"]), group.leader)
        progress = Progress(self, run, opt, meta, rng, total, report, log)
        try:
            Steps(self, trainer, run, opt, rng, progress, log).until(total)
        finally:
            progress.close()
            log.close()
        if group.leader:
            plot(self.run_dir, title=f"{self.family.family} {self.name}")
        return checkpoint

    def check_arguments(self) -> None:
        """A resumed run keeps the arguments it started with (the JSON of older runs has
        them at its top level)."""
        from .. import weights as files

        saved = files.read_meta(self.checkpoint.with_suffix(".json"))
        before = saved.get("arguments") or {a: saved.get(a) for a in self.arguments}
        for key, value in self.arguments.items():
            if before.get(key) not in (None, value):
                raise ValueError(f"{self.checkpoint}: a run with {key} {before[key]}, not {value}; "
                                 "use another run folder")


class Progress:
    """Counts a run's steps, keeps its recent losses and speed, reports each step, and
    saves the run when the recipe's ``checkpoint_seconds`` have passed (on every rank's
    agreement), at the end and on the way out."""

    def __init__(self, owner: Run, run: nn.Module, opt: torch.optim.Optimizer, meta: dict[str, Any],
                 rng: np.random.Generator, total: int, report: Report | None, log: MetricsLog) -> None:
        self.owner, self.run, self.opt, self.meta, self.rng = owner, run, opt, meta, rng
        self.total, self.report, self.log = total, report, log
        self.step = int(meta["step"])
        self.last_save = time.time()
        self.window: list[float] = []

    def due(self) -> bool:
        return time.time() - self.last_save >= self.owner.recipe.checkpoint_seconds

    def record(self, loss: float, seconds: float, lr: float, save: bool) -> None:
        self.step += 1
        self.window = (self.window + [seconds])[-20:]
        self.meta["losses"] = (self.meta["losses"] + [round(loss, 5)])[-200:]
        speed = len(self.window) / sum(self.window)
        elapsed = self.meta["seconds"] + time.time() - self.last_save
        self.log.write(step=self.step, loss=loss, lr=lr, seconds=round(elapsed, 2), steps_per_s=round(speed, 4))
        if self.report and self.owner.group.leader:
            self.report(self.step, self.total, loss, speed)
        if save or self.step == self.total:
            self.save()

    def save(self) -> None:
        self.meta |= {"step": self.step, "seconds": self.meta["seconds"] + time.time() - self.last_save}
        leader = self.owner.group.leader
        if leader or sharded(self.run):  # gathering shards takes every rank
            save_state(self.owner.checkpoint, self.run, self.opt, self.meta, self.rng, write=leader)
        self.last_save = time.time()
        if leader:
            plot(self.owner.run_dir, title=f"{self.owner.family.family} {self.owner.name}")

    def close(self) -> None:
        """Save what is not saved yet (also on Ctrl-C: the loop calls this in a ``finally``)."""
        if self.step != self.meta["step"]:
            self.save()


class Steps:
    """The optimizer steps: lr from the schedule, the batch, this rank's micro-batches
    under autocast, backward (DDP averages the gradients), clip to norm 1, AdamW, EMA."""

    def __init__(self, owner: Run, trainer: Trainer, run: nn.Module, opt: torch.optim.Optimizer,
                 rng: np.random.Generator, progress: Progress, log: MetricsLog) -> None:
        self.owner, self.trainer, self.run, self.opt, self.rng = owner, trainer, run, opt, rng
        self.progress, self.log = progress, log
        self.params = [p for group in opt.param_groups for p in group["params"]]
        self.trainable: tuple[bool, ...] = ()
        self.objective: nn.Module = parallel.Objective(run, trainer.loss)
        self.evaluation = Evaluation(owner, trainer, run)

    def wrapped(self) -> nn.Module:
        """The objective, in DDP over what trains now (wrapped again when that changes)."""
        trainable = tuple(p.requires_grad for p in self.run.parameters())
        if trainable != self.trainable:
            self.trainable = trainable
            plain = parallel.Objective(self.run, self.trainer.loss)
            self.objective = parallel.data_parallel(plain, self.owner.group, sharded(self.run))
        return self.objective

    def until(self, total: int) -> None:
        owner, recipe, group = self.owner, self.owner.recipe, self.owner.group
        minutes = owner.launch.minutes
        deadline = time.time() + minutes * 60 if minutes else math.inf
        evals = 0 if sharded(self.run) else owner.launch.evals  # FSDP: no swapping in the EMA's shards
        every = (total // evals or total) if evals else 0
        self.run.train()
        stop = False
        while self.progress.step < total and not stop:
            step = self.progress.step
            self.trainer.before_step(self.run, step)
            objective = self.wrapped()
            lr = self.trainer.lr(step)
            for g in self.opt.param_groups:
                g["lr"] = lr * g.get("lr_scale", 1.0)
            t0 = time.time()
            parts = parallel.split(self.trainer.batch(self.rng, step), group, owner.launch.accumulate)
            self.opt.zero_grad(set_to_none=True)
            loss = 0.0
            with self.own_draws(step):
                for i, part in enumerate(parts):
                    with parallel.no_sync(objective, i == len(parts) - 1), self.precision():
                        value = objective(part) / len(parts)
                    value.backward()
                    loss += value.item()
            torch.nn.utils.clip_grad_norm_(self.params, 1.0)
            self.opt.step()
            if isinstance(self.run, EMARun):
                self.run.update_ema(self.run.decay if step >= recipe.warmup else 0.0)
            # one all-reduce: the batch's mean loss, and whether any rank wants to save or stop
            total_loss, save, late = group.total([loss, float(self.progress.due()), float(time.time() > deadline)])
            stop = late > 0
            self.progress.record(total_loss / group.world, time.time() - t0, lr, save > 0 or stop)
            if every and (self.progress.step % every == 0 or self.progress.step == total):
                self.log.write(step=self.progress.step, eval_loss=self.evaluation.loss())

    def precision(self) -> Any:
        import contextlib

        return autocast(self.owner.group.device) if self.trainer.bf16 else contextlib.nullcontext()

    def own_draws(self, step: int) -> Any:
        """What a forward draws (the AR model's dropout) from a generator of this rank and
        step, when there are several ranks: each slice gets masks of its own, and the run's
        generators (the same on every rank) are left as they were. One process draws from
        the run's generator as it always did."""
        import contextlib

        group = self.owner.group
        if group.world == 1:
            return contextlib.nullcontext()
        fork = torch.random.fork_rng(devices=[group.device] if group.device.type == "cuda" else [])
        seed = int(np.random.SeedSequence([self.owner.recipe.seed, step, group.rank]).generate_state(1)[0])

        @contextlib.contextmanager
        def forked() -> Any:
            with fork:
                torch.manual_seed(seed)
                yield

        return forked()


class Evaluation:
    """The shipped weights (the EMA where a run keeps one) on 2 batches drawn once with
    their own generators: a smooth curve beside the noisy per-step loss. It draws from
    no generator of the run, so the training batches are the same with it or without."""

    BATCHES = 2

    def __init__(self, owner: Run, trainer: Trainer, run: nn.Module) -> None:
        self.owner, self.trainer, self.run = owner, trainer, run
        self.batches: list[Any] | None = None

    def loss(self) -> float:
        group = self.owner.group
        with torch.random.fork_rng(devices=[group.device] if group.device.type == "cuda" else []):
            torch.manual_seed(self.owner.recipe.seed + 1_000_003)
            if self.batches is None:
                rng = np.random.default_rng([self.owner.recipe.seed, 1_000_003])
                self.batches = [parallel.split(self.trainer.batch(rng, 0), group, 1)[0] for _ in range(self.BATCHES)]
            with torch.no_grad(), shipped_weights(self.run), self.autocast():
                self.run.eval()
                total = sum(self.trainer.loss(self.run, b).item() for b in self.batches)
                self.run.train()
        return round(group.total([total / self.BATCHES])[0] / group.world, 6)

    def autocast(self) -> Any:
        import contextlib

        return autocast(self.owner.group.device) if self.trainer.bf16 else contextlib.nullcontext()


class shipped_weights:  # noqa: N801 - a context manager
    """Swap an EMARun's average into its network for the block (and back after it)."""

    def __init__(self, run: nn.Module) -> None:
        self.pairs = list(zip(run.net.parameters(), run.ema.parameters(), strict=True)) if isinstance(
            run, EMARun) else []

    def swap(self) -> None:
        for p, e in self.pairs:
            p.data, e.data = e.data, p.data

    def __enter__(self) -> None:
        self.swap()

    def __exit__(self, *exc: object) -> None:
        self.swap()


def export(family: type[Trainer], last: Path, folder: Path | None = None) -> list[Path]:
    """A saved run's shipped checkpoint(s) and their cards, in ``folder`` (default: the
    catalog's shipped set)."""
    from .. import catalog
    from .. import weights as files

    state = files.read_meta(last.with_suffix(".json"))
    recipe_of(family, state)  # the settings still make a recipe
    run = family.saved(state)
    load_state(last, run)
    return family.export(run, state, folder or catalog.SHIPPED)


def command(state: Mapping[str, Any], family: str, *, steps: bool = False) -> str:
    """The command that reproduces a saved run: its family, arguments, recipe and data, its
    steps when asked, and its device when not the CPU."""
    arguments = state.get("arguments") or {}
    device = state.get("device", "cpu")
    return (f"worldgraph train {family}" + "".join(f" --{k} {v}" for k, v in arguments.items())
            + f" --recipe {state['recipe']} --data {state['data']}"
            + (f" --steps {state['step']}" if steps else "") + ("" if device == "cpu" else f" --device {device}"))
