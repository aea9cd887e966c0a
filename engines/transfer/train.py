"""Training a ControlNet branch on a frozen world model, resumable.

Pairs come from a scene dataset: the hint is a control video made from the clip's plain
render (vis, edge) or its depth / segmentation (depth, seg) with random augmentation, the
target is the clip's `real` render. The loss is the world model's own (EDM with learned
uncertainty); captions are dropped more often than in base training so the branch learns
to carry the structure itself. The branch's EMA weights ship.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from .. import catalog
from .. import weights as files
from ..training import command, recipe_of
from ..wfm import api as wfm
from ..wfm.edm import Denoiser
from ..wfm.train import Batch, Batches, Diffusion, Run
from ..wfm.train import Recipe as WFMRecipe
from .data import build_cache, load_cache
from .model import MODALITIES, Control, ControlBranch, ControlConfig, ControlledDiT


@dataclass(frozen=True)
class Recipe(WFMRecipe):
    """A world-model recipe whose ``model`` is the base checkpoint, plus the branch depth."""

    blocks: int = 3
    floor_words: bool = False  # captions say the floor's texture ("; the floor is checkered")


RECIPES: dict[str, Recipe] = {
    "controlnet": Recipe("wfm-cv4x8x8", steps=1_200, batch=16, lr=2e-4, warmup=100, decay_steps=1_200,
                         text_drop=0.3, given_frames=(0.7, 0.15, 0.15)),
    # twice as long: the seg branch did not yet beat Text2World on its own alignment at 1,200
    "controlnet-long": Recipe("wfm-cv4x8x8", steps=2_400, batch=16, lr=2e-4, warmup=100, decay_steps=2_400,
                              text_drop=0.3, given_frames=(0.7, 0.15, 0.15)),
}


def checkpoint_name(modality: str) -> str:
    return f"controlnet-{modality}"


def base_meta(name: str) -> tuple[Path, dict[str, Any]]:
    card = catalog.find(name, "wfm").card
    return card, files.read_meta(card)


@dataclass
class ControlBatch(Batch):
    """A world-model batch and the control hints of its items (per modality)."""

    hints: dict[str, torch.Tensor] | None = None
    on: torch.Tensor | None = None  # [B, modalities] 1.0 where a modality steers the item (joint training)


class Branches(Diffusion):
    """What a ControlNet run holds besides its branches: the frozen base world model."""

    def frozen_base(self) -> wfm.WorldModel:
        world = wfm.load(self.recipe.model)
        self.frozen = copy.deepcopy(world.net).to(self.ctx.device).requires_grad_(False)  # the loaded one is shared
        return world


class BranchTrainer(Branches, family="controlnet", recipes=RECIPES, recipe=Recipe):
    """One modality's branch on the frozen base (``--modality``)."""

    arguments = ("modality",)

    def prepare(self) -> None:
        ctx, recipe = self.ctx, self.recipe
        self.modality = ctx.arguments["modality"]
        if self.modality not in MODALITIES:
            raise ValueError(f"unknown modality {self.modality!r}; modalities: {', '.join(MODALITIES)}")
        self.world = self.frozen_base()
        space = self.world.space
        path = ctx.cached("controls.safetensors", lambda p: build_cache(
            ctx.data, space, self.modality, p, seed=recipe.seed, progress=ctx.encoding, floor_words=recipe.floor_words))
        cache = load_cache(path, space, self.modality, recipe.floor_words)
        self.batches, self.hints = Batches(cache, recipe, ctx.device), cache["hints"].to(ctx.device)

    def model(self, fresh: bool) -> nn.Module:
        return Run(ControlBranch(self.frozen, ControlConfig(self.modality, self.world.name, self.recipe.blocks)),
                   self.recipe.ema)

    def meta(self) -> dict[str, Any]:
        return {"modality": self.modality, "base": self.recipe.model}

    def batch(self, rng: np.random.Generator, step: int) -> ControlBatch:
        x0, cond, idx = self.batches.sample(rng)
        plain = self.diffusion_batch(x0, cond)
        return ControlBatch(plain.x0, plain.cond, plain.draws, hints={self.modality: self.hints[idx].float()})

    def denoiser(self, run: nn.Module, batch: Any) -> Denoiser:
        assert isinstance(run.net, ControlBranch)
        return Denoiser(ControlledDiT(self.frozen, [Control(run.net, batch.hints[self.modality])]),
                        self.frozen.cfg.sigma_data)

    @classmethod
    def saved(cls, state: dict[str, Any]) -> nn.Module:
        world = wfm.load(state["base"])
        return Run(ControlBranch(world.net, ControlConfig(state["modality"], world.name, recipe_of(cls, state).blocks)))

    @classmethod
    def export(cls, run: nn.Module, state: dict[str, Any], folder: Path) -> list[Path]:
        """The EMA branch, tied to the base it was trained on."""
        assert isinstance(run, Run) and isinstance(run.ema, ControlBranch)
        meta = shipped_meta(state, run.ema.cfg, wfm.load(state["base"]), state["modality"])
        return [files.save(run.ema, folder / f"{checkpoint_name(run.ema.cfg.modality)}.safetensors", meta)]


def shipped_meta(state: dict[str, Any], cfg: ControlConfig, world: wfm.WorldModel, modality: str) -> dict[str, Any]:
    """The JSON beside a shipped branch, from its run's state: config, base, provenance and
    the command that reproduces it (``modality``: the one trained, or ``all``)."""
    _, base = base_meta(state["base"])
    return {"config": cfg.to_json(), "recipe": state["recipe"], "steps": state["step"],
            "device": state.get("device", "cpu"), "base_sha256": base["sha256"],
            "latent_fingerprint": world.space.fingerprint, "data": state["data"],
            "train_minutes": round(state["seconds"] / 60, 1),
            "command": command(state | {"arguments": {"modality": modality}}, "controlnet")}
