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

import copy
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from .. import weights as files
from ..training import autocast, fit, load_state, start_run
from ..wfm import api as wfm
from ..wfm.edm import Denoiser, edm_loss
from ..wfm.train import Batches, Run
from .api import forget_loaded, load_branch
from .data import build_cache, load_cache
from .model import MODALITIES, Control, ControlBranch, ControlConfig, ControlledDiT
from .train import CHECKPOINTS, checkpoint_name, shipped_meta
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
    "tiny-controlnet-joint": Recipe("wfm-cv4x8x8", steps=4, batch=2, warmup=1, checkpoint_seconds=0.0),
    "tiny-controlnet-joint-fresh": Recipe("wfm-cv4x8x8", steps=4, batch=2, warmup=1, blocks=1, checkpoint_seconds=0.0,
                                          fresh=True),
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


def train(
    recipe_name: str,
    data: Path,
    run_dir: Path,
    *,
    steps: int | None = None,
    minutes: float | None = None,
    threads: int = 0,
    device: str = "cpu",
    report: Callable[[int, int, float, float], None] | None = None,
    encoding: Callable[[int, int], None] | None = None,
    folder: Path = CHECKPOINTS,
) -> Path:
    """Fine-tune (or resume) the branches shipped in ``folder`` together on ``data``."""
    recipe, where = start_run(RECIPES, recipe_name, device, threads, run_dir)
    world = wfm.load(recipe.model)
    caches = paired_caches(data, world.space, run_dir, recipe.seed, encoding, recipe.floor_words)
    batches = Batches(caches[MODALITIES[0]], recipe, where)
    hints = {m: c["hints"].to(where) for m, c in caches.items()}
    frozen = copy.deepcopy(world.net).to(where).requires_grad_(False)  # the loaded model is shared
    checkpoint = run_dir / "last"
    branches = nn.ModuleDict()
    starts: dict[str, Any] = {}
    configs: dict[str, Any] = {}
    torch.manual_seed(recipe.seed)
    for m in MODALITIES:
        if recipe.fresh:
            cfg = ControlConfig(m, world.name, recipe.blocks)
            branches[m] = ControlBranch(frozen, cfg)
            configs[m] = cfg.to_json()
            continue
        shipped = load_branch(m, world, folder)
        branches[m] = ControlBranch(frozen, shipped.cfg)
        configs[m] = shipped.cfg.to_json()
        if not checkpoint.with_suffix(".safetensors").exists():
            branches[m].load_state_dict(shipped.state_dict())
            starts[m] = {k: v for k, v in files.read_meta(folder / f"{checkpoint_name(m)}.json").items()
                         if k in ("command", "recipe", "steps", "train_minutes", "starts_from")}
    run = Run(branches).to(where)
    opt = torch.optim.AdamW([p for p in run.parameters() if p.requires_grad], lr=recipe.lr, betas=(0.9, 0.99),
                            weight_decay=0.01)
    meta: dict[str, Any] = {"recipe": recipe_name, "modality": "all", "base": recipe.model, "step": 0,
                            "seconds": 0.0, "data": str(data), "settings": asdict(recipe), "losses": [],
                            "starts_from": starts, "configs": configs}
    if checkpoint.with_suffix(".safetensors").exists():
        meta = load_state(checkpoint, run, opt)
    meta["device"] = where.type

    def loss(rng: np.random.Generator) -> torch.Tensor:
        x0, cond, idx = batches.sample(rng)
        on = torch.from_numpy(subsets(rng, recipe.batch, recipe.sizes)).float().to(where)
        assert isinstance(run.net, nn.ModuleDict)
        controls = [Control(run.net[m], hints[m][idx].float(), on[:, i].reshape(-1, 1, 1, 1, 1))  # type: ignore[arg-type]
                    for i, m in enumerate(MODALITIES)]
        denoiser = Denoiser(ControlledDiT(frozen, controls), frozen.cfg.sigma_data)
        with autocast(device):
            return edm_loss(denoiser, run.uncertainty, x0, cond, recipe.p_mean, recipe.p_std)

    return fit(run, opt, recipe, meta, checkpoint, loss, steps=steps, minutes=minutes, report=report)


def export_run(last: Path, folder: Path = CHECKPOINTS) -> list[Path]:
    """A joint run's EMA branches as the shipped fp16 checkpoints, one per modality; each
    JSON says which checkpoint the fine-tune started from and how that one was made."""
    state = files.read_meta(last.with_suffix(".json"))
    world = wfm.load(state["base"])
    branches = nn.ModuleDict({m: ControlBranch(world.net, ControlConfig.from_json(state["configs"][m]))
                              for m in MODALITIES})
    run = Run(branches)
    load_state(last, run, torch.optim.AdamW(run.parameters()))
    shipped = []
    assert isinstance(run.ema, nn.ModuleDict)
    for m in MODALITIES:
        branch = run.ema[m]
        assert isinstance(branch, ControlBranch)
        meta = shipped_meta(state, branch.cfg, world, "all") | {"starts_from": state["starts_from"].get(m, {})}
        shipped.append(files.save(branch, folder / f"{checkpoint_name(m)}.safetensors", meta))
    forget_loaded()  # this process's cached branches are the old ones
    return shipped
