"""``worldgraph train`` for the model families: every recipe through the one training loop
(``worldgraph.engines.training``), in this process, under ``torchrun``, or over
``--nproc`` local processes; ``--plot`` draws a run's curves."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from .cli_common import EXIT_FAILED, EXIT_OK


def add_options(train: argparse.ArgumentParser) -> None:
    """How a run runs: processes, micro-batches, sharding; and ``--plot``."""
    train.add_argument("--nproc", type=int, default=1,
                       help="data-parallel processes on this machine (torch.distributed: gloo on CPU, NCCL on "
                            "GPUs); the recipe's batch is split between them. Across machines: torchrun "
                            "--nnodes ... -m worldgraph train ... (docs/training.md)")
    train.add_argument("--accumulate", type=int, default=1,
                       help="micro-batches per step on each process (the same step in less memory)")
    train.add_argument("--fsdp", action="store_true",
                       help="shard the model and optimizer over the processes (FSDP), for a model that does not "
                            "fit one device")
    train.add_argument("--evals", type=int, default=10,
                       help="times a run measures its shipped weights on fixed batches (eval_loss in "
                            "metrics.jsonl; default: 10, 0: never)")
    train.add_argument("--plot", action="store_true",
                       help="only draw the run's curves (metrics.png from its metrics.jsonl) and exit")


def trainer(what: str, modality: str | None) -> Any:
    """The training family behind ``worldgraph train <what>``."""
    if what == "tokenizer":
        from worldgraph.engines.tokenizer.train import TokenizerTrainer
        return TokenizerTrainer
    if what == "wfm":
        from worldgraph.engines.wfm.train import WorldModel
        return WorldModel
    if what == "ar":
        from worldgraph.engines.ar.train import AutoRegressive
        return AutoRegressive
    if what == "estimator":
        from worldgraph.engines.estimate.train import EstimatorTrainer
        return EstimatorTrainer
    if what == "action":
        from worldgraph.engines.post.action_train import ActionModel
        return ActionModel
    if what == "camera":
        from worldgraph.engines.post.camera_train import CameraModel
        return CameraModel
    if modality == "all":
        from worldgraph.engines.transfer.joint import JointTrainer
        return JointTrainer
    from worldgraph.engines.transfer.train import BranchTrainer
    return BranchTrainer


def run_folder(args: argparse.Namespace) -> Path:
    if args.run:
        return Path(args.run)
    name = Path(args.recipe).stem if str(args.recipe).endswith(".json") else args.recipe
    return Path("runs") / (name + (f"-{args.modality}" if args.what == "controlnet" else ""))


def cmd_train(args: argparse.Namespace) -> int:
    """``worldgraph train`` for the families on the training loop (not guard, colours)."""
    from worldgraph.nodes import WorldgraphError

    if args.plot:
        return plot_run(args)
    if not args.recipe or not args.data:
        raise WorldgraphError(f"train {args.what} needs --recipe and --data")
    if args.what == "controlnet" and not args.modality:
        raise WorldgraphError("train controlnet needs --modality (vis, edge, depth, seg or all)")
    if args.nproc < 1:
        raise WorldgraphError(f"--nproc is at least 1, not {args.nproc}")
    from worldgraph.engines import training

    family = trainer(args.what, args.modality)
    try:
        training.resolve(family, args.recipe)
        training.family_device(family, args.device)
    except ValueError as e:
        raise WorldgraphError(str(e)) from None
    if args.nproc > 1 and "WORLD_SIZE" not in os.environ:
        return launch(args)
    return train_here(args, family)


def launch(args: argparse.Namespace) -> int:
    """This command again in ``--nproc`` processes, started by torchrun's launcher on this machine."""
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={args.nproc}",
               "-m", "worldgraph", *(["--debug"] if args.debug else []), *forwarded(args)]
    return EXIT_OK if subprocess.run(command, check=False).returncode == 0 else EXIT_FAILED


def forwarded(args: argparse.Namespace) -> list[str]:
    """The arguments of this ``train`` command for each process (--nproc left out)."""
    out = ["train", args.what, "--recipe", str(args.recipe), "--data", str(args.data),
           "--run-dir", str(run_folder(args)), "--threads", str(args.threads), "--device", args.device,
           "--accumulate", str(args.accumulate), "--evals", str(args.evals)]
    out += ["--modality", args.modality] if args.modality else []
    out += ["--steps", str(args.steps)] if args.steps else []
    out += ["--minutes", str(args.minutes)] if args.minutes else []
    out += ["--fsdp"] if args.fsdp else []
    out += ["--no-export"] if args.no_export else []
    return out


def train_here(args: argparse.Namespace, family: Any) -> int:
    """Train in this process (one rank of many under torchrun); rank 0 reports and exports."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from worldgraph.engines import training
    from worldgraph.nodes import WorldgraphError

    run_dir = run_folder(args)
    leader = int(os.environ.get("RANK", "0")) == 0
    columns = (TextColumn(f"{args.recipe}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("loss {task.fields[loss]:.4f}  {task.fields[speed]:.2f} steps/s"),
               TimeRemainingColumn())
    tty, logged = sys.stderr.isatty() and leader, [0.0]
    with Progress(*columns, disable=not tty) as bar:
        task = bar.add_task("train", total=None, loss=0.0, speed=0.0)

        def report(step: int, total: int, loss: float, speed: float) -> None:
            bar.update(task, completed=step, total=total, loss=loss, speed=speed)
            if not tty and (time.time() - logged[0] > 60 or step == total):  # a line a minute in logs
                logged[0] = time.time()
                print(f"{args.recipe}: step {step}/{total} loss {loss:.4f} {speed:.2f} steps/s",
                      file=sys.stderr, flush=True)

        def encoding(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total, description="encoding clips")
            if not tty and (time.time() - logged[0] > 60 or done == total):
                logged[0] = time.time()
                print(f"{args.recipe}: encoding clips {done}/{total}", file=sys.stderr, flush=True)

        launch_options = training.Launch(device=args.device, threads=args.threads, steps=args.steps,
                                         minutes=args.minutes, accumulate=args.accumulate, fsdp=args.fsdp,
                                         evals=args.evals)
        arguments = {"modality": args.modality} if "modality" in family.arguments else {}
        try:
            last = training.train(family, args.recipe, args.data, run_dir, launch_options, arguments=arguments,
                                  report=report, encoding=encoding)
        except ValueError as e:
            raise WorldgraphError(str(e)) from None
    if not leader:
        return EXIT_OK
    state = json.loads(last.with_suffix(".json").read_text())
    print(f"{args.recipe}: step {state['step']}, {state['seconds'] / 60:.1f} min, checkpoint {last}; "
          f"curves {run_dir / 'metrics.png'}")
    if args.no_export:
        return EXIT_OK
    shipped = training.export(family, last)
    if len(shipped) > 1:  # controlnet --modality all
        print(f"exported {', '.join(str(p) for p in shipped)} (and their .json)")
        return EXIT_OK
    print(f"exported {shipped[0]} (and its .json)" + ("" if args.what == "controlnet" else
          f"; evaluate it with: worldgraph eval {args.what} --model {shipped[0].stem} --data <held-out dataset>"))
    return EXIT_OK


def plot_run(args: argparse.Namespace) -> int:
    from worldgraph.engines.training import plot
    from worldgraph.nodes import WorldgraphError

    if not args.run and not args.recipe:
        raise WorldgraphError("train --plot needs --run (or --recipe: runs/<recipe>)")
    run_dir = run_folder(args)
    if not (run_dir / "metrics.jsonl").exists():
        raise WorldgraphError(f"{run_dir}: no metrics.jsonl (not a run folder, or a run from before metrics)")
    print(plot(run_dir, title=f"{args.what} {run_dir.name}"))
    return EXIT_OK
