"""Training the depth and segmentation estimators on a scene dataset, resumable.

Inputs are both renders of each clip (plain and `real`), flipped, colour-jittered and
sometimes blurred, because the estimators also read generated video, which is softer than a
render. Depth learns log-metres with a scale-invariant loss that keeps some weight on the
scale (Eigen et al.'s lambda); segmentation learns classes with cross-entropy weighted
against the floor's and the background's share of the pixels. The loop is ``engines.training``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .. import weights as files
from ..training import EMARun, Schedule, Trainer, command, recipe_of
from .data import build_cache, load_cache
from .model import CLASSES, Estimator, EstimatorConfig


@dataclass(frozen=True, kw_only=True)
class Recipe(Schedule):
    task: str = field(kw_only=False)
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


RECIPES: dict[str, Recipe] = {
    "estimate-depth": Recipe("depth"),
    "estimate-seg": Recipe("seg"),
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


class EstimatorTrainer(Trainer, family="estimator", recipes=RECIPES, recipe=Recipe):
    """A depth or segmentation estimator on the frames of a scene dataset (CPU, fp32: the
    shipped estimators' figures were measured so)."""

    devices = ("cpu",)
    bf16 = False

    def prepare(self) -> None:
        ctx = self.ctx
        cache = load_cache(ctx.cached("frames.safetensors",
                                      lambda p: build_cache(ctx.data, p, self.recipe.every, ctx.encoding)))
        self.rgb, self.depth, self.classes = (torch.from_numpy(cache[k]) for k in ("rgb", "depth", "classes"))
        self.weights = class_weights(cache["classes"])

    def model(self, fresh: bool) -> nn.Module:
        return EMARun(Estimator(EstimatorConfig(self.recipe.task, self.recipe.widths)), self.recipe.ema)

    def optimizer(self, run: nn.Module) -> torch.optim.Optimizer:
        assert isinstance(run, EMARun)
        return torch.optim.AdamW(run.net.parameters(), lr=self.recipe.lr, weight_decay=1e-4)

    def meta(self) -> dict[str, Any]:
        return {"frames": int(self.rgb.shape[0])}

    def batch(self, rng: np.random.Generator, step: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Augmented frames [B, 3, H, W] (a random half blurred, all flipped or none) and their targets."""
        r = self.recipe
        idx = torch.from_numpy(rng.integers(0, self.rgb.shape[0], r.batch))
        g = torch.Generator().manual_seed(int(rng.integers(2**31)))
        x = augment(self.rgb[idx].permute(0, 3, 1, 2).float() / 255, g)  # [B, 3, H, W]
        flip = bool(rng.integers(2))
        target = self.depth[idx].float() if r.task == "depth" else self.classes[idx].long()
        return (x.flip(-1), target.flip(-1)) if flip else (x, target)

    def loss(self, run: nn.Module, batch: Any) -> torch.Tensor:
        x, target = batch
        assert isinstance(run, EMARun)
        out = run.net(x)
        if self.recipe.task == "depth":
            return depth_loss(out, target, self.recipe.si_lambda)
        return F.cross_entropy(out, target, weight=self.weights)

    @classmethod
    def saved(cls, state: dict[str, Any]) -> nn.Module:
        recipe = recipe_of(cls, state)
        return EMARun(Estimator(EstimatorConfig(recipe.task, recipe.widths)))

    @classmethod
    def export(cls, run: nn.Module, state: dict[str, Any], folder: Path) -> list[Path]:
        recipe = recipe_of(cls, state)
        cfg = EstimatorConfig(recipe.task, recipe.widths)
        meta = {"config": cfg.to_json(), "recipe": state["recipe"], "steps": state["step"], "data": state["data"],
                "train_minutes": round(state["seconds"] / 60, 1), "command": command(state, "estimator")}
        assert isinstance(run, EMARun)
        return [files.save(run.ema, folder / f"{checkpoint_name(recipe.task)}.safetensors", meta)]
