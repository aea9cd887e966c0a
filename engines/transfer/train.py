"""Training a ControlNet branch on a frozen world model, resumable.

Pairs come from a scene dataset: the hint is a control video made from the clip's plain
render (vis, edge) or its depth / segmentation (depth, seg) with random augmentation, the
target is the clip's `real` render. The loss is the world model's own (EDM with learned
uncertainty); captions are dropped more often than in base training so the branch learns
to carry the structure itself. The branch's EMA weights ship.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .. import weights as files
from ..training import autocast, fit, load_state, start_run
from ..wfm import api as wfm
from ..wfm.edm import Denoiser, edm_loss
from ..wfm.train import Batches, Run
from ..wfm.train import Recipe as WFMRecipe
from .data import build_cache, load_cache
from .model import MODALITIES, Control, ControlBranch, ControlConfig, ControlledDiT

CHECKPOINTS = Path(__file__).resolve().parent.parent / "checkpoints"


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
    "tiny-controlnet": Recipe("wfm-cv4x8x8", steps=4, batch=2, warmup=1, blocks=1, checkpoint_seconds=0.0),
}


def checkpoint_name(modality: str) -> str:
    return f"controlnet-{modality}"


def base_meta(name: str) -> tuple[Path, dict[str, Any]]:
    json_path = files.locate(name, wfm.CHECKPOINTS, "world-model", wfm.available())
    return json_path, files.read_meta(json_path)


def train(
    recipe_name: str,
    data: Path,
    run_dir: Path,
    *,
    modality: str,
    base: str | None = None,
    steps: int | None = None,
    minutes: float | None = None,
    threads: int = 0,
    device: str = "cpu",
    report: Callable[[int, int, float, float], None] | None = None,
    encoding: Callable[[int, int], None] | None = None,
) -> Path:
    """Train (or resume) a ``modality`` branch on ``base`` (default: the recipe's world model)."""
    if modality not in MODALITIES:
        raise ValueError(f"unknown modality {modality!r}; modalities: {', '.join(MODALITIES)}")
    recipe, where = start_run(RECIPES, recipe_name, device, threads, run_dir)
    world = wfm.load(base or recipe.model)
    cache_path = run_dir / "controls.safetensors"
    if not cache_path.exists():
        build_cache(data, world.space, modality, cache_path, seed=recipe.seed, progress=encoding,
                    floor_words=recipe.floor_words)
    cache = load_cache(cache_path, world.space, modality, recipe.floor_words)
    batches, hints = Batches(cache, recipe, where), cache["hints"].to(where)
    frozen = copy.deepcopy(world.net).to(where).requires_grad_(False)  # the loaded model is shared
    torch.manual_seed(recipe.seed)
    run = Run(ControlBranch(frozen, ControlConfig(modality, world.name, recipe.blocks))).to(where)
    opt = torch.optim.AdamW([p for p in run.parameters() if p.requires_grad], lr=recipe.lr, betas=(0.9, 0.99),
                            weight_decay=0.01)
    checkpoint = run_dir / "last"
    meta: dict[str, Any] = {"recipe": recipe_name, "modality": modality, "base": base or recipe.model,
                            "step": 0, "seconds": 0.0, "data": str(data), "settings": asdict(recipe), "losses": []}
    if checkpoint.with_suffix(".safetensors").exists():
        meta = load_state(checkpoint, run, opt)
        if meta.get("modality") != modality:
            raise ValueError(f"{checkpoint}: a {meta.get('modality')} run, not {modality}; use another run folder")
    meta["device"] = where.type

    def loss(rng: np.random.Generator) -> torch.Tensor:
        x0, cond, idx = batches.sample(rng)
        assert isinstance(run.net, ControlBranch)
        denoiser = Denoiser(ControlledDiT(frozen, [Control(run.net, hints[idx].float())]), frozen.cfg.sigma_data)
        with autocast(device):
            return edm_loss(denoiser, run.uncertainty, x0, cond, recipe.p_mean, recipe.p_std)

    return fit(run, opt, recipe, meta, checkpoint, loss, steps=steps, minutes=minutes, report=report)


def export_run(last: Path, folder: Path = CHECKPOINTS) -> Path:
    """A run's EMA branch as the shipped fp16 checkpoint, tied to the base it was trained on."""
    state = files.read_meta(last.with_suffix(".json"))
    recipe = RECIPES[state["recipe"]]
    world = wfm.load(state["base"])
    cfg = ControlConfig(state["modality"], world.name, recipe.blocks)
    run = Run(ControlBranch(world.net, cfg))
    load_state(last, run, torch.optim.AdamW(run.parameters()))
    meta = shipped_meta(state, cfg, world, cfg.modality)
    return files.save(run.ema, folder / f"{checkpoint_name(cfg.modality)}.safetensors", meta)


def shipped_meta(state: dict[str, Any], cfg: ControlConfig, world: wfm.WorldModel, modality: str) -> dict[str, Any]:
    """The JSON beside a shipped branch, from its run's state: config, base, provenance and
    the command that reproduces it (``modality``: the one trained, or ``all``)."""
    _, base = base_meta(state["base"])
    device = state.get("device", "cpu")
    command = (f"worldgraph train controlnet --modality {modality} --recipe {state['recipe']} "
               f"--data {state['data']}" + ("" if device == "cpu" else f" --device {device}"))
    return {"config": cfg.to_json(), "recipe": state["recipe"], "steps": state["step"], "device": device,
            "base_sha256": base["sha256"], "latent_fingerprint": world.space.fingerprint, "data": state["data"],
            "train_minutes": round(state["seconds"] / 60, 1), "command": command}
