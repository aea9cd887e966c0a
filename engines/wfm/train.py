"""Training the diffusion world model on cached tokenizer latents (the loop is
``engines.training``).

Text2World and Video2World train jointly: each item of a batch is given 0, 1 or 2 clean
latent frames (the condition mask), its caption is dropped now and then (for
classifier-free guidance), and the loss is EDM's uncertainty-weighted one. An exponential
moving average of the weights is what ships. ``Diffusion`` is what the families built on
this model (action, camera, ControlNet) share: the run, the batch and the loss.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch
from torch import nn

from .. import weights as files
from ..training import EMARun, Schedule, Trainer, command, recipe_of
from .data import LatentSpace, build_cache, load_cache
from .edm import Condition, Denoiser, Draws, Uncertainty, draw, edm_loss
from .model import PRESETS, DiT, WFMConfig


@dataclass(frozen=True, kw_only=True)
class Recipe(Schedule):
    model: str = field(kw_only=False)  # a preset name
    batch: int = 32
    ema: float = 0.999
    p_mean: float = -1.2
    p_std: float = 1.2
    text_drop: float = 0.1
    given_frames: tuple[float, float, float] = (0.2, 0.4, 0.4)  # P(0, 1, 2 clean latent frames)
    aug_mean: float = -3.0  # ln σ_aug ~ N(aug_mean, aug_std²) on the given frames
    aug_std: float = 2.0
    # Start a fresh run from this shipped world model (network and EMA). Its latents may
    # be another tokenizer's if they are close: the fine-tune adapts it to this preset's.
    init: str = ""


RECIPES: dict[str, Recipe] = {
    "wfm-cv4x8x8": Recipe("wfm-cv4x8x8", steps=30_000),
    # one GPU (an H200: 13 steps/s): 16x the batch at a higher rate, EMA over more steps
    "wfm-cv4x8x8-gpu": Recipe("wfm-cv4x8x8", steps=8_300, batch=512, lr=7e-4, warmup=500,
                              decay_steps=8_300, ema=0.9995),
    # the GPU model carried over to cv4x8x8-v2's latents (23.6 % relative difference from
    # cv4x8x8's on held-out clips) on 2 CPU cores
    "wfm-cv4x8x8-v2": Recipe("wfm-cv4x8x8-v2", steps=3_000, lr=1e-4, warmup=100, decay_steps=3_000,
                             init="wfm-cv4x8x8"),
}


class Run(EMARun):
    """Everything a training run holds: the network, u(σ) and the EMA copy that ships."""

    def __init__(self, net: nn.Module, decay: float = 0.999) -> None:
        super().__init__(net, decay)
        self.uncertainty = Uncertainty()


@dataclass
class Batch:
    """One step's items: clean latents, their condition, σ and noise, and (action models)
    per-pixel loss weights; every tensor batch-major."""

    x0: torch.Tensor
    cond: Condition
    draws: Draws
    weight: torch.Tensor | None = None


class Batches:
    """Random training batches from the latent cache, held on the training device."""

    def __init__(self, cache: dict[str, Any], recipe: Recipe, device: torch.device) -> None:
        self.latents = cache["latents"].to(device)
        self.caption_ids = cache["caption_ids"].long().to(device)
        self.text = cache["text"].to(device)
        self.text_mask = cache["text_mask"].to(device)
        self.null = cache["null_text"].to(device)
        self.null_mask = cache["null_mask"].to(device)
        self.recipe = recipe
        self.device = device

    def __len__(self) -> int:
        return int(self.latents.shape[0])

    def sample(self, rng: np.random.Generator) -> tuple[torch.Tensor, Condition, torch.Tensor]:
        """Clean latents, their condition, and which cached windows they are."""
        r = self.recipe
        def tensor(a: np.ndarray) -> torch.Tensor:
            return torch.from_numpy(a).to(self.device)

        idx = tensor(rng.integers(0, len(self), r.batch))
        x0 = self.latents[idx].float()
        caps = self.caption_ids[idx]
        text, mask = self.text[caps].float(), self.text_mask[caps].clone()
        drop = tensor(rng.random(r.batch) < r.text_drop)
        text[drop], mask[drop] = self.null.float(), self.null_mask
        given = tensor(rng.choice(3, size=r.batch, p=list(r.given_frames)))
        frames = torch.arange(x0.shape[2], device=self.device)
        cond_mask = (frames[None] < given[:, None]).float().reshape(r.batch, 1, -1, 1, 1)
        aug = tensor(np.exp(rng.normal(r.aug_mean, r.aug_std, r.batch))).float()
        return x0, Condition(text, mask, x0, cond_mask, aug), idx


class Sampler(Protocol):
    """Where a diffusion family's items come from: clean latents, their condition, and a
    third part of its own (which windows, or loss weights)."""

    def sample(self, rng: np.random.Generator) -> tuple[torch.Tensor, Condition, torch.Tensor | None]: ...


class Diffusion(Trainer):
    """EDM training of a DiT-based run (``Run``): σ and the noise drawn with the batch, the
    uncertainty-weighted loss through ``denoiser``, the EMA network shipped with its card."""

    batches: Sampler

    @classmethod
    def config_of(cls, recipe: Any) -> WFMConfig:
        raise NotImplementedError

    def diffusion_batch(self, x0: torch.Tensor, cond: Condition, weight: torch.Tensor | None = None) -> Batch:
        return Batch(x0, cond, draw(x0, self.recipe.p_mean, self.recipe.p_std), weight)

    def batch(self, rng: np.random.Generator, step: int) -> Batch:
        x0, cond, _ = self.batches.sample(rng)
        return self.diffusion_batch(x0, cond)

    def denoiser(self, run: nn.Module, batch: Any) -> Denoiser:
        assert isinstance(run, Run)
        return Denoiser(run.net)

    def loss(self, run: nn.Module, batch: Any) -> torch.Tensor:
        assert isinstance(run, Run)
        return edm_loss(self.denoiser(run, batch), run.uncertainty, batch.x0, batch.cond, weight=batch.weight,
                        draws=batch.draws)

    @classmethod
    def saved(cls, state: dict[str, Any]) -> nn.Module:
        return Run(DiT(cls.config_of(recipe_of(cls, state))))

    @classmethod
    def card(cls, state: dict[str, Any], recipe: Any, cfg: WFMConfig) -> dict[str, Any]:
        """What a shipped DiT's JSON records: its config and latents, and how its run was made."""
        space = LatentSpace(cfg.tokenizer, cfg.sigma_data)
        return {"config": cfg.to_json(), "recipe": state["recipe"], "steps": state["step"],
                "latent_fingerprint": space.fingerprint, "data": state["data"], "device": state.get("device", "cpu"),
                "train_minutes": round(state["seconds"] / 60, 1), "command": command(state, cls.family)}

    @classmethod
    def export(cls, run: nn.Module, state: dict[str, Any], folder: Path) -> list[Path]:
        recipe = recipe_of(cls, state)
        cfg = cls.config_of(recipe)
        assert isinstance(run, Run)
        return [files.save(run.ema, folder / f"{cfg.name}.safetensors", cls.card(state, recipe, cfg))]


class WorldModel(Diffusion, family="wfm", recipes=RECIPES, recipe=Recipe):
    """The base world model, from a preset (or a shipped model, ``Recipe.init``)."""

    @classmethod
    def config_of(cls, recipe: Recipe) -> WFMConfig:
        return PRESETS[recipe.model]

    def prepare(self) -> None:
        ctx, cfg = self.ctx, self.config_of(self.recipe)
        space = LatentSpace(cfg.tokenizer, cfg.sigma_data)
        path = ctx.cached("latents.safetensors", lambda p: build_cache(ctx.data, space, p, progress=ctx.encoding))
        self.batches = Batches(load_cache(path, space), self.recipe, ctx.device)

    def model(self, fresh: bool) -> nn.Module:
        run = Run(DiT(self.config_of(self.recipe)), self.recipe.ema)
        if self.recipe.init and fresh:  # a resumed run has its own weights
            from .api import load

            shipped = load(self.recipe.init).net.state_dict()
            run.net.load_state_dict(shipped)
            run.ema.load_state_dict(shipped)
        return run

    @classmethod
    def card(cls, state: dict[str, Any], recipe: Recipe, cfg: WFMConfig) -> dict[str, Any]:
        return super().card(state, recipe, cfg) | ({"init": recipe.init} if recipe.init else {})
