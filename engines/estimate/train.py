"""Training the depth and segmentation estimators on a scene dataset, resumable.

Inputs are both renders of each clip (plain and `real`), flipped, colour-jittered and
sometimes blurred, because the estimators also read generated video, which is softer than a
render. Depth learns log-metres with a scale-invariant loss that keeps some weight on the
scale (Eigen et al.'s lambda); segmentation learns classes with cross-entropy weighted
against the floor's and the background's share of the pixels.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from .. import weights as files
from ..training import EMARun, fit, load_state, start_run
from .data import build_cache, load_cache
from .model import CLASSES, Estimator, EstimatorConfig

CHECKPOINTS = Path(__file__).resolve().parent.parent / "checkpoints"


@dataclass(frozen=True)
class Recipe:
    task: str
    steps: int = 2_000
    batch: int = 32
    lr: float = 2e-3
    warmup: int = 100
    decay_steps: int = 2_000
    ema: float = 0.995
    widths: tuple[int, ...] = (16, 32, 64, 96)
    every: int = 3  # keep every n-th frame of a clip (neighbours look alike)
    si_lambda: float = 0.5  # 1: fully scale-invariant depth; 0: plain log-L2
    checkpoint_seconds: float = 120.0
    seed: int = 0


RECIPES: dict[str, Recipe] = {
    "estimate-depth": Recipe("depth"),
    "estimate-seg": Recipe("seg"),
    "tiny-estimate-depth": Recipe("depth", steps=3, batch=4, warmup=1, widths=(8, 8, 8), checkpoint_seconds=0.0),
    "tiny-estimate-seg": Recipe("seg", steps=3, batch=4, warmup=1, widths=(8, 8, 8), checkpoint_seconds=0.0),
}


def checkpoint_name(task: str) -> str:
    return f"estimate-{task}"


def augment(rgb: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    """Colour jitter per frame and a Gaussian blur on half the batch; rgb [B, 3, H, W] in [0, 1]."""
    b = rgb.shape[0]
    gain = 1 + (torch.rand(b, 3, 1, 1, generator=g) - 0.5) * 0.2  # per-channel colour
    contrast = 1 + (torch.rand(b, 1, 1, 1, generator=g) - 0.5) * 0.4
    bright = (torch.rand(b, 1, 1, 1, generator=g) - 0.5) * 0.2
    mean = rgb.mean(dim=(1, 2, 3), keepdim=True)
    rgb = ((rgb - mean) * contrast + mean) * gain + bright
    sigma = float(torch.rand(1, generator=g)) * 1.2 + 0.3
    x = torch.arange(-2, 3, dtype=torch.float32)
    k = torch.exp(-x**2 / (2 * sigma**2))
    k = (k / k.sum()).view(1, 1, 1, 5)
    half = rgb[: b // 2].reshape(-1, 1, *rgb.shape[2:])  # [B/2 * 3, 1, H, W]: one channel at a time
    half = F.conv2d(F.pad(half, (2, 2, 0, 0), mode="replicate"), k)
    half = F.conv2d(F.pad(half, (0, 0, 2, 2), mode="replicate"), k.transpose(2, 3))
    rgb = torch.cat([half.reshape(b // 2, 3, *rgb.shape[2:]), rgb[b // 2:]])
    return rgb.clamp(0, 1)


def depth_loss(pred: torch.Tensor, metres: torch.Tensor, si_lambda: float) -> torch.Tensor:
    """Scale-invariant log loss over the pixels that hit something; pred is log-metres [B, 1, H, W]."""
    valid = metres > 0
    d = torch.where(valid, pred[:, 0] - torch.log(metres.clamp_min(1e-3)), torch.zeros_like(metres))
    n = valid.sum(dim=(1, 2)).clamp_min(1)
    mean_sq, mean = (d**2).sum(dim=(1, 2)) / n, d.sum(dim=(1, 2)) / n
    return (mean_sq - si_lambda * mean**2).mean()


def class_weights(classes: np.ndarray) -> torch.Tensor:
    """Cross-entropy weights (median share / share)^0.5, clipped: small objects count, not overwhelm."""
    counts = np.bincount(classes.reshape(-1), minlength=len(CLASSES)).astype(np.float64)
    share = counts / counts.sum()
    present = share > 0
    w = np.ones(len(CLASSES))
    w[present] = np.clip((np.median(share[present]) / share[present]) ** 0.5, 0.2, 5.0)
    return torch.tensor(w, dtype=torch.float32)


def train(
    recipe_name: str,
    data: Path,
    run_dir: Path,
    *,
    steps: int | None = None,
    minutes: float | None = None,
    threads: int = 0,
    report: Callable[[int, int, float, float], None] | None = None,
    encoding: Callable[[int, int], None] | None = None,
) -> Path:
    """Train (or resume) the estimator of ``recipe_name`` on the dataset ``data``."""
    recipe, _ = start_run(RECIPES, recipe_name, "cpu", threads, run_dir)
    cache_path = run_dir / "frames.safetensors"
    if not cache_path.exists():
        build_cache(data, cache_path, recipe.every, encoding)
    cache = load_cache(cache_path)
    rgb, depth, classes = (torch.from_numpy(cache[k]) for k in ("rgb", "depth", "classes"))
    weights = class_weights(cache["classes"])
    torch.manual_seed(recipe.seed)
    run = EMARun(Estimator(EstimatorConfig(recipe.task, recipe.widths)))
    opt = torch.optim.AdamW(run.net.parameters(), lr=recipe.lr, weight_decay=1e-4)
    checkpoint = run_dir / "last"
    meta: dict[str, Any] = {"recipe": recipe_name, "step": 0, "seconds": 0.0, "data": str(data),
                            "frames": int(rgb.shape[0]), "settings": asdict(recipe), "losses": []}
    if checkpoint.with_suffix(".safetensors").exists():
        meta = load_state(checkpoint, run, opt)

    def loss(rng: np.random.Generator) -> torch.Tensor:
        idx = torch.from_numpy(rng.integers(0, rgb.shape[0], recipe.batch))
        g = torch.Generator().manual_seed(int(rng.integers(2**31)))
        x = augment(rgb[idx].permute(0, 3, 1, 2).float() / 255, g)  # [B, 3, H, W]
        flip = bool(rng.integers(2))
        x = x.flip(-1) if flip else x
        out = run.net(x)
        if recipe.task == "depth":
            target = depth[idx].float()
            return depth_loss(out, target.flip(-1) if flip else target, recipe.si_lambda)
        target = classes[idx].long()
        return F.cross_entropy(out, target.flip(-1) if flip else target, weight=weights)

    return fit(run, opt, recipe, meta, checkpoint, loss, steps=steps, minutes=minutes, report=report)


def export_run(last: Path, folder: Path = CHECKPOINTS) -> Path:
    """A run's EMA weights as the shipped fp16 checkpoint."""
    state = files.read_meta(last.with_suffix(".json"))
    recipe = RECIPES[state["recipe"]]
    cfg = EstimatorConfig(recipe.task, recipe.widths)
    run = EMARun(Estimator(cfg))
    load_state(last, run, torch.optim.AdamW(run.parameters()))
    meta = {"config": cfg.to_json(), "recipe": state["recipe"], "steps": state["step"], "data": state["data"],
            "train_minutes": round(state["seconds"] / 60, 1),
            "command": f"worldgraph train estimator --recipe {state['recipe']} --data {state['data']}"}
    return files.save(run.ema, folder / f"{checkpoint_name(recipe.task)}.safetensors", meta)
