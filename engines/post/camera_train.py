"""Post-training the world model for camera control (Cosmos's camera-conditioned
Video2World): the shipped base model, plus 6 Plücker-ray input channels per latent pixel
(zero-initialized, so training starts exactly at the base), fine-tuned on clips whose
camera orbits, dollies, pans or stays still.

Every item is Video2World: 1 given latent frame (the first video frame), sometimes 2 (the
first 5 frames); the rays of the whole window, relative to its first frame, go in with
every latent frame. The loss, EMA and resumable runs are the base model's.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from ..training import command
from ..wfm.data import LatentSpace
from ..wfm.edm import Condition
from ..wfm.model import PRESETS, DiT, WFMConfig
from ..wfm.train import Batches, Diffusion, Run
from ..wfm.train import Recipe as WFMRecipe
from .base import base_config, post_trained
from .camera import RAY_CHANNELS
from .camera_data import camera_cache

DEFAULT = "camera-cv4x8x8"


@dataclass(frozen=True)
class Recipe(WFMRecipe):
    """A world-model recipe whose ``model`` names the camera model it makes."""

    # a world-model preset to start from scratch at (a small or a new size) instead of the shipped base
    preset: str = ""


RECIPES: dict[str, Recipe] = {
    # fine-tuning: a tenth of the base's rate, a short warm-up (the ray columns start at zero)
    DEFAULT: Recipe(DEFAULT, steps=4_000, batch=16, lr=1e-4, warmup=50, decay_steps=4_000, ema=0.998,
                    text_drop=0.3, given_frames=(0.0, 0.75, 0.25), checkpoint_seconds=120.0),
}


def config(recipe: Recipe) -> WFMConfig:
    """The network of a recipe: the base's config (or ``recipe.preset``'s) with ray channels."""
    start = PRESETS[recipe.preset] if recipe.preset else base_config()
    return dataclasses.replace(start, name=recipe.model, ray_channels=RAY_CHANNELS)


def network(recipe: Recipe, cfg: WFMConfig) -> DiT:
    """The base model's weights with zeroed ray columns; a preset starts random."""
    return DiT(cfg) if recipe.preset else post_trained(cfg)


class CameraBatches(Batches):
    """The base model's batches over scene-only captions, with each window's rays."""

    def __init__(self, cache: dict[str, Any], recipe: Recipe, device: torch.device) -> None:
        text, mask, null, null_mask = same_length(cache["scene_text"], cache["scene_mask"], cache["null_text"],
                                                  cache["null_mask"])
        super().__init__(cache | {"text": text, "text_mask": mask, "null_text": null, "null_mask": null_mask},
                         recipe, device)
        self.rays = cache["rays"].to(device)  # [N, 6, T', h, w] fp16

    def sample(self, rng: np.random.Generator) -> tuple[torch.Tensor, Condition, torch.Tensor]:
        """The base's batch, with each window's rays."""
        x0, cond, idx = super().sample(rng)
        cond.signals = {"rays": self.rays[idx].float()}
        return x0, cond, idx


def same_length(*pairs: torch.Tensor) -> list[torch.Tensor]:
    """(tokens [N, L, D], mask [N, L]) pairs padded to one length L (zeros / False), so a
    dropped caption can be swapped for the empty prompt's tokens."""
    n = max(t.shape[1] for t in pairs[::2])
    out = []
    for t in pairs:
        pad = torch.zeros(t.shape[0], n - t.shape[1], *t.shape[2:], dtype=t.dtype)
        out.append(torch.cat([t, pad], dim=1))
    return out


class CameraModel(Diffusion, family="camera", recipes=RECIPES, recipe=Recipe):
    """The world model post-trained for camera control: every latent frame gets its rays.
    A base run's ``latents.safetensors`` of the same data copied into the run folder skips
    encoding."""

    @classmethod
    def config_of(cls, recipe: Recipe) -> WFMConfig:
        return config(recipe)

    def prepare(self) -> None:
        cfg = self.config_of(self.recipe)
        space = LatentSpace(cfg.tokenizer, cfg.sigma_data)
        cache = camera_cache(self.ctx.data, space, self.ctx.run_dir / "latents.safetensors", self.ctx.encoding)
        self.batches = CameraBatches(cache, self.recipe, self.ctx.device)

    def model(self, fresh: bool) -> nn.Module:
        return Run(network(self.recipe, self.config_of(self.recipe)), self.recipe.ema)

    @classmethod
    def card(cls, state: dict[str, Any], recipe: Recipe, cfg: WFMConfig) -> dict[str, Any]:
        return super().card(state, recipe, cfg) | {
            "kind": "camera", "conditioning": "plucker-rays", "base": None if recipe.preset else base_config().name,
            "command": command(state, "camera", steps=True)}
