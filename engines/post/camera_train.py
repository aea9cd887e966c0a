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
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .. import weights as files
from ..training import autocast, fit, load_state, start_run
from ..wfm.data import LatentSpace
from ..wfm.edm import Condition, Denoiser, edm_loss
from ..wfm.model import PRESETS, DiT, WFMConfig
from ..wfm.train import Batches, Recipe, Run
from .base import base_config, post_trained
from .camera import RAY_CHANNELS
from .camera_data import camera_cache

CHECKPOINTS = Path(__file__).resolve().parent.parent / "checkpoints"
DEFAULT = "camera-cv4x8x8"

RECIPES: dict[str, Recipe] = {
    # fine-tuning: a tenth of the base's rate, a short warm-up (the ray columns start at zero)
    DEFAULT: Recipe(DEFAULT, steps=4_000, batch=16, lr=1e-4, warmup=50, decay_steps=4_000, ema=0.998,
                    text_drop=0.3, given_frames=(0.0, 0.75, 0.25), checkpoint_seconds=120.0),
    "tiny-camera": Recipe("tiny-camera", steps=4, batch=4, warmup=1, text_drop=0.3,
                          given_frames=(0.0, 0.75, 0.25), checkpoint_seconds=0.0),
}


def config(model: str) -> WFMConfig:
    """The network of a recipe's model: the base's config with ray channels (tiny: tiny-wfm's)."""
    if model == "tiny-camera":
        return dataclasses.replace(PRESETS["tiny-wfm"], name=model, ray_channels=RAY_CHANNELS)
    return dataclasses.replace(base_config(), name=model, ray_channels=RAY_CHANNELS)


def network(cfg: WFMConfig) -> DiT:
    """The base model's weights with zeroed ray columns; the tiny test model starts random."""
    if cfg.name == "tiny-camera":
        return DiT(cfg)
    return post_trained(cfg)


class CameraBatches(Batches):
    """The base model's batches over scene-only captions, with each window's rays."""

    def __init__(self, cache: dict[str, Any], recipe: Recipe, device: torch.device) -> None:
        text, mask, null, null_mask = same_length(cache["scene_text"], cache["scene_mask"], cache["null_text"],
                                                  cache["null_mask"])
        super().__init__(cache | {"text": text, "text_mask": mask, "null_text": null, "null_mask": null_mask},
                         recipe, device)
        self.rays = cache["rays"].to(device)  # [N, 6, T', h, w] fp16

    def sample(self, rng: np.random.Generator) -> tuple[torch.Tensor, Condition, torch.Tensor]:
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
) -> Path:
    """Train (or resume) ``recipe_name`` on the clips of ``data``; returns the run's checkpoint.
    A base run's ``latents.safetensors`` of the same data copied into ``run_dir`` skips encoding."""
    recipe, where = start_run(RECIPES, recipe_name, device, threads, run_dir)
    cfg = config(recipe.model)
    space = LatentSpace(cfg.tokenizer, cfg.sigma_data)
    batches = CameraBatches(camera_cache(data, space, run_dir / "latents.safetensors", encoding), recipe, where)
    torch.manual_seed(recipe.seed)
    run = Run(network(cfg)).to(where)
    opt = torch.optim.AdamW([p for p in run.parameters() if p.requires_grad], lr=recipe.lr, betas=(0.9, 0.99),
                            weight_decay=0.01)
    checkpoint = run_dir / "last"
    meta: dict[str, Any] = {"recipe": recipe_name, "step": 0, "seconds": 0.0, "data": str(data),
                            "settings": asdict(recipe), "losses": []}
    if checkpoint.with_suffix(".safetensors").exists():
        meta = load_state(checkpoint, run, opt)
    meta["device"] = where.type
    denoiser = Denoiser(run.net)

    def loss(rng: np.random.Generator) -> torch.Tensor:
        x0, cond, _ = batches.sample(rng)
        with autocast(device):
            return edm_loss(denoiser, run.uncertainty, x0, cond, recipe.p_mean, recipe.p_std)

    return fit(run, opt, recipe, meta, checkpoint, loss, steps=steps, minutes=minutes, report=report)


def export_run(last: Path, folder: Path = CHECKPOINTS) -> Path:
    """A run's EMA weights as the shipped fp16 checkpoint, with how the run was made."""
    state = files.read_meta(last.with_suffix(".json"))
    recipe = RECIPES[state["recipe"]]
    cfg = config(recipe.model)
    run = Run(DiT(cfg))
    load_state(last, run, torch.optim.AdamW(run.parameters()))
    space = LatentSpace(cfg.tokenizer, cfg.sigma_data)
    device = state.get("device", "cpu")
    command = f"worldgraph train camera --recipe {state['recipe']} --data {state['data']}"
    if device != "cpu":
        command += f" --device {device}"
    meta = {"config": cfg.to_json(), "kind": "camera", "recipe": state["recipe"], "steps": state["step"],
            "latent_fingerprint": space.fingerprint, "data": state["data"], "device": device,
            "train_minutes": round(state["seconds"] / 60, 1), "conditioning": "plucker-rays",
            "base": None if recipe.model == "tiny-camera" else base_config().name,
            "command": command + f" --steps {state['step']}"}
    return files.save(run.ema, folder / f"{cfg.name}.safetensors", meta)
