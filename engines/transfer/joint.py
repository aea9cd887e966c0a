"""Fine-tuning the four shipped ControlNet branches together, so they also work in combination.

Branches trained alone each learn to steer with their full weight. Combined, the weights
are normalized by max(Σw, 1), so with all four at weight 1 each residual is a quarter of
what its branch learnt to give, and uniform multi-control follows the structure worse than
the best single branch. Here every training clip gets a random non-empty subset of the
modalities (its size drawn with the recipe's odds), with weight 1 each and the same
normalization as at inference, so each branch learns to carry its share alone and next to
the others. It starts from the shipped branches and overwrites them on export.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from .. import weights as files
from ..training import recipe_of
from ..wfm import api as wfm
from ..wfm.edm import Denoiser
from ..wfm.train import Batches, Run
from .api import forget_loaded, load_branch
from .data import build_cache, load_cache
from .model import MODALITIES, Control, ControlBranch, ControlConfig, ControlledDiT
from .train import Branches, ControlBatch, checkpoint_name, shipped_meta
from .train import Recipe as BranchRecipe

EVERY_SIZE = (0.25, 0.25, 0.25, 0.25)  # subsets of 1, 2, 3 and 4 modalities equally likely


@dataclass(frozen=True)
class Recipe(BranchRecipe):
    """A branch recipe plus the odds of steering a clip with 1, 2, 3 or all 4 modalities."""

    sizes: tuple[float, ...] = EVERY_SIZE
    fresh: bool = False  # start the branches from the base's blocks instead of the shipped ones


# half the clips with all four, the sample graph's setting
MOSTLY_ALL = Recipe("wfm-cv4x8x8", steps=600, batch=16, lr=5e-5, warmup=20, decay_steps=600, text_drop=0.3,
                    given_frames=(0.7, 0.15, 0.15), sizes=(1 / 6, 1 / 6, 1 / 6, 1 / 2))

RECIPES: dict[str, Recipe] = {
    # a fine-tune: a quarter of the branches' own learning rate
    "controlnet-joint": Recipe("wfm-cv4x8x8", steps=1_200, batch=16, lr=5e-5, warmup=50, decay_steps=1_200,
                               text_drop=0.3, given_frames=(0.7, 0.15, 0.15)),
    "controlnet-joint-all": MOSTLY_ALL,
    # then the noise levels where the controls decide the layout: at the base's ln σ ~ N(-1.2, 1.2²)
    # the noisy input already shows most of the structure, so the branches' gradient is small there
    "controlnet-joint-high": replace(MOSTLY_ALL, p_mean=0.4, p_std=1.4),
    # then with captions that also say the floor's texture, which the controls do not show
    "controlnet-joint-floor": replace(MOSTLY_ALL, p_mean=0.4, p_std=1.4, floor_words=True),
    # one GPU: all four from the base at once, over the noise levels of both CPU stages
    "controlnet-joint-gpu": Recipe("wfm-cv4x8x8", steps=3_000, batch=128, lr=3e-4, warmup=200, decay_steps=3_000,
                                   text_drop=0.3, given_frames=(0.7, 0.15, 0.15), p_mean=0.2, p_std=1.5,
                                   sizes=(0.2, 0.2, 0.2, 0.4), fresh=True),
}


def subsets(rng: np.random.Generator, batch: int, sizes: tuple[float, ...] = EVERY_SIZE) -> np.ndarray:
    """Which modalities steer each clip, bool [batch, len(sizes)]: a subset size k drawn with
    odds ``sizes[k - 1]``, then k distinct modalities."""
    count = len(sizes)
    chosen = np.zeros((batch, count), bool)
    for row, size in zip(chosen, rng.choice(np.arange(1, count + 1), size=batch, p=list(sizes)), strict=True):
        row[rng.permutation(count)[:size]] = True
    return chosen


def paired_caches(data: Path, space: wfm.LatentSpace, run_dir: Path, seed: int,
                  encoding: Callable[[int, int], None] | None,
                  floor_words: bool = False) -> dict[str, dict[str, Any]]:
    """One cache per modality (built if missing), checked to hold the same clips in one order."""
    caches = {}
    for modality in MODALITIES:
        path = run_dir / f"controls-{modality}.safetensors"
        if not path.exists():
            build_cache(data, space, modality, path, seed=seed, progress=encoding, floor_words=floor_words)
        caches[modality] = load_cache(path, space, modality, floor_words)
    first = caches[MODALITIES[0]]
    for modality, cache in caches.items():
        if not torch.equal(cache["caption_ids"], first["caption_ids"]) or cache["latents"].shape != first[
                "latents"].shape:
            raise ValueError(f"{run_dir}/controls-{modality}.safetensors holds other clips than "
                             f"controls-{MODALITIES[0]}.safetensors; delete the caches to re-encode")
    return caches


class JointTrainer(Branches, family="controlnet-joint", recipes=RECIPES, recipe=Recipe):
    """The four branches together (``--modality all``), from the shipped ones (or fresh)."""

    def prepare(self) -> None:
        ctx, recipe = self.ctx, self.recipe
        self.world = self.frozen_base()
        caches = paired_caches(ctx.data, self.world.space, ctx.run_dir, recipe.seed, ctx.encoding, recipe.floor_words)
        self.batches = Batches(caches[MODALITIES[0]], recipe, ctx.device)
        self.hints = {m: c["hints"].to(ctx.device) for m, c in caches.items()}
        self.starts: dict[str, Any] = {}
        self.configs: dict[str, Any] = {}

    def model(self, fresh: bool) -> nn.Module:
        branches = nn.ModuleDict()
        for m in MODALITIES:
            if self.recipe.fresh:
                cfg = ControlConfig(m, self.world.name, self.recipe.blocks)
                branches[m] = ControlBranch(self.frozen, cfg)
                self.configs[m] = cfg.to_json()
                continue
            shipped = load_branch(m, self.world)
            branches[m] = ControlBranch(self.frozen, shipped.cfg)
            self.configs[m] = shipped.cfg.to_json()
            if fresh:
                branches[m].load_state_dict(shipped.state_dict())
                card = files.read_meta(load_card(m))
                self.starts[m] = {k: v for k, v in card.items()
                                  if k in ("command", "recipe", "steps", "train_minutes", "starts_from")}
        return Run(branches, self.recipe.ema)

    def meta(self) -> dict[str, Any]:
        return {"modality": "all", "base": self.recipe.model, "starts_from": self.starts, "configs": self.configs}

    def batch(self, rng: np.random.Generator, step: int) -> ControlBatch:
        x0, cond, idx = self.batches.sample(rng)
        on = torch.from_numpy(subsets(rng, self.recipe.batch, self.recipe.sizes)).float().to(self.ctx.device)
        plain = self.diffusion_batch(x0, cond)
        return ControlBatch(plain.x0, plain.cond, plain.draws, hints={m: h[idx].float() for m, h in self.hints.items()},
                            on=on)

    def denoiser(self, run: nn.Module, batch: Any) -> Denoiser:
        assert isinstance(run.net, nn.ModuleDict) and batch.on is not None
        controls = [Control(run.net[m], batch.hints[m], batch.on[:, i].reshape(-1, 1, 1, 1, 1))  # type: ignore[arg-type]
                    for i, m in enumerate(MODALITIES)]
        return Denoiser(ControlledDiT(self.frozen, controls), self.frozen.cfg.sigma_data)

    @classmethod
    def saved(cls, state: dict[str, Any]) -> nn.Module:
        recipe_of(cls, state)
        world = wfm.load(state["base"])
        return Run(nn.ModuleDict({m: ControlBranch(world.net, ControlConfig.from_json(state["configs"][m]))
                                  for m in MODALITIES}))

    @classmethod
    def export(cls, run: nn.Module, state: dict[str, Any], folder: Path) -> list[Path]:
        """The EMA branches, one checkpoint per modality; each card says which checkpoint the
        fine-tune started from and how that one was made."""
        world = wfm.load(state["base"])
        shipped = []
        assert isinstance(run, Run) and isinstance(run.ema, nn.ModuleDict)
        for m in MODALITIES:
            branch = run.ema[m]
            assert isinstance(branch, ControlBranch)
            meta = shipped_meta(state, branch.cfg, world, "all") | {"starts_from": state["starts_from"].get(m, {})}
            shipped.append(files.save(branch, folder / f"{checkpoint_name(m)}.safetensors", meta))
        forget_loaded()  # this process's cached branches are the old ones
        return shipped


def load_card(modality: str) -> Path:
    from .. import catalog

    return catalog.find(checkpoint_name(modality), "controlnet").card
