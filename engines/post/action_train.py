"""Post-training the world model on the pusher's actions (Cosmos-Predict1's
action-conditioned next-frame model, on our simulator instead of Bridge).

Each batch gives the first k latent frames of a 17-frame window clean (k = 1..4, one k a
batch) and trains the model to make latent frame k under the 4 actions that produced it:
exactly what an autoregressive rollout asks of it, one latent frame at a time. The network
starts as the shipped world model with a zero action embedding (``base.post_trained``).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .. import weights as files
from ..training import autocast, fit, load_state, start_run
from ..wfm.data import LatentSpace, encode_windows, load_cache
from ..wfm.edm import Condition, Denoiser, edm_loss
from ..wfm.model import DiT, WFMConfig
from ..wfm.train import Run  # the network, u(σ) and the EMA copy, as the base trains
from .actions import CHUNK, CHUNK_DIM, chunked, to_view
from .base import base_config, post_trained

CHECKPOINTS = Path(__file__).resolve().parent.parent / "checkpoints"
WINDOW = 17


@dataclass(frozen=True)
class Recipe:
    steps: int
    batch: int = 16
    lr: float = 1e-4
    warmup: int = 100
    decay_steps: int = 6_000
    ema: float = 0.995
    new_lr_scale: float = 30.0  # the action embedding starts at zero under a pretrained net: let it catch up
    text_drop: float = 0.5  # rollouts and the planner run without a caption
    aug_mean: float = -3.0  # ln σ_aug on the given frames, as in base training
    aug_std: float = 2.0
    checkpoint_seconds: float = 180.0
    seed: int = 0
    name: str = "action-cv4x8x8"
    tiny: bool = False  # tests: a 1-block model from scratch instead of the shipped one


RECIPES: dict[str, Recipe] = {
    "action-cv4x8x8": Recipe(steps=6_000),
    "tiny-action": Recipe(steps=3, batch=4, warmup=1, checkpoint_seconds=0.0, name="tiny-action", tiny=True),
}


def model_config(recipe: Recipe) -> WFMConfig:
    if recipe.tiny:
        return WFMConfig(name=recipe.name, width=32, depth=1, heads=2, lora_rank=8, action_dim=CHUNK_DIM)
    return dataclasses.replace(base_config(), name=recipe.name, action_dim=CHUNK_DIM)


def window_actions(clip: Path, starts: list[int]) -> dict[str, torch.Tensor]:
    """Each window's 16 actions in the camera's ground frame, one row per latent frame [4, 12]."""
    actions_file = clip / "actions.npy"
    if not actions_file.exists():
        raise ValueError(f"{clip}: no actions.npy; train on a dataset with a pusher "
                         "(samples/graphs/pusher_dataset.usda)")
    actions = np.load(actions_file)
    if actions.shape[1] != 3:
        raise ValueError(f"{actions_file}: expected one kinematic body (3 columns), got {actions.shape[1]}")
    poses = np.asarray(json.loads((clip / "camera.json").read_text())["world_from_camera"])
    rows = [chunked(to_view(actions[s : s + WINDOW - 1], poses[s])) for s in starts]
    return {"actions": torch.from_numpy(np.stack(rows))}


def build_cache(data: Path, space: LatentSpace, out: Path, progress: Callable[[int, int], None] | None = None) -> Path:
    return encode_windows(data, lambda video: space.encode(video).half(), out,
                          {"tokenizer": space.name, "latent_fingerprint": space.fingerprint}, WINDOW, progress,
                          extras=window_actions)


class Batches:
    """Next-latent-frame training items: k given latent frames, the (k+1)-th to make."""

    def __init__(self, cache: dict[str, Any], recipe: Recipe, device: torch.device) -> None:
        if "actions" not in cache:
            raise ValueError("the latent cache has no actions: delete it to re-encode an action dataset")
        self.latents = cache["latents"].to(device)
        self.actions = cache["actions"].float().to(device)
        self.caption_ids = cache["caption_ids"].long().to(device)
        self.text, self.text_mask = cache["text"].to(device), cache["text_mask"].to(device)
        self.null, self.null_mask = cache["null_text"].to(device), cache["null_mask"].to(device)
        self.recipe, self.device = recipe, device

    def sample(self, rng: np.random.Generator) -> tuple[torch.Tensor, Condition]:
        r = self.recipe
        idx = torch.from_numpy(rng.integers(0, len(self.latents), r.batch)).to(self.device)
        given = int(rng.integers(1, self.latents.shape[2]))  # latent frames given; frame `given` is made
        x0 = self.latents[idx, :, : given + 1].float()  # [B, C, given + 1, h, w]
        caps = self.caption_ids[idx]
        text, mask = self.text[caps].float(), self.text_mask[caps].clone()
        drop = torch.from_numpy(rng.random(r.batch) < r.text_drop).to(self.device)
        text[drop], mask[drop] = self.null.float(), self.null_mask
        cond_mask = torch.ones(r.batch, 1, given + 1, 1, 1, device=self.device)
        cond_mask[:, :, given] = 0
        aug = torch.from_numpy(np.exp(rng.normal(r.aug_mean, r.aug_std, r.batch))).float().to(self.device)
        action = self.actions[idx, given - 1]  # [B, 12]: the chunk that made latent frame `given`
        return x0, Condition(text, mask, x0, cond_mask, aug, {"action": action})


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
    """Train (or resume) ``recipe_name`` on the pusher clips of ``data``."""
    recipe, where = start_run(RECIPES, recipe_name, device, threads, run_dir)
    cfg = model_config(recipe)
    space = LatentSpace(cfg.tokenizer, cfg.sigma_data)
    cache_path = run_dir / "latents.safetensors"
    if not cache_path.exists():
        build_cache(data, space, cache_path, progress=encoding)
    batches = Batches(load_cache(cache_path, space), recipe, where)
    torch.manual_seed(recipe.seed)
    run = Run(DiT(cfg) if recipe.tiny else post_trained(cfg)).to(where)
    new = [p for n, p in run.named_parameters() if n.startswith("net.action.")]
    rest = [p for n, p in run.named_parameters() if p.requires_grad and not n.startswith("net.action.")]
    groups: list[dict[str, Any]] = [{"params": rest}, {"params": new, "lr_scale": recipe.new_lr_scale}]
    opt = torch.optim.AdamW(groups, lr=recipe.lr, betas=(0.9, 0.99), weight_decay=0.01)
    checkpoint = run_dir / "last"
    meta: dict[str, Any] = {"recipe": recipe_name, "step": 0, "seconds": 0.0, "data": str(data),
                            "settings": asdict(recipe), "losses": []}
    if checkpoint.with_suffix(".safetensors").exists():
        meta = load_state(checkpoint, run, opt)
    meta["device"] = where.type
    denoiser = Denoiser(run.net)

    def loss(rng: np.random.Generator) -> torch.Tensor:
        x0, cond = batches.sample(rng)
        with autocast(device):
            return edm_loss(denoiser, run.uncertainty, x0, cond)

    return fit(run, opt, recipe, meta, checkpoint, loss, steps=steps, minutes=minutes, report=report)


def export_run(last: Path, folder: Path = CHECKPOINTS) -> Path:
    """A run's EMA weights as the shipped fp16 checkpoint, with how the run was made."""
    state = files.read_meta(last.with_suffix(".json"))
    recipe = RECIPES[state["recipe"]]
    cfg = model_config(recipe)
    run = Run(DiT(cfg))
    load_state(last, run, torch.optim.AdamW(run.parameters()))
    space = LatentSpace(cfg.tokenizer, cfg.sigma_data)
    device = state.get("device", "cpu")
    command = f"worldgraph train action --recipe {state['recipe']} --data {state['data']}"
    meta = {"config": cfg.to_json(), "kind": "action", "recipe": state["recipe"], "steps": state["step"],
            "latent_fingerprint": space.fingerprint, "data": state["data"], "device": device,
            "action_axes": "right, forward, up (m/s, the camera's ground frame); 4 frames per latent frame",
            "frames_per_action_chunk": CHUNK, "train_minutes": round(state["seconds"] / 60, 1),
            "command": command + ("" if device == "cpu" else f" --device {device}")}
    return files.save(run.ema, folder / f"{cfg.name}.safetensors", meta)
