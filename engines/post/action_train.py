"""Post-training the world model on the pusher's actions (Cosmos-Predict1's
action-conditioned next-frame model, on our simulator instead of Bridge).

Each batch gives the first k latent frames of a 17-frame window clean (k = 1..4, one k a
batch) and trains the model to make latent frame k under the 4 actions that produced it:
exactly what an autoregressive rollout asks of it, one latent frame at a time. The network
starts as the shipped world model with a zero action embedding (``base.post_trained``), or
as a shipped action model to fine-tune (``Recipe.start_from``).

What the actions decide is where the pusher and what it hits end up: a few latent pixels
of a static scene. A plain average over the frame drowns them in the background, so the
loss can weigh the latent pixels where the simulator's depth changes during the frame
being made (``Recipe.motion_weight``), and sample noise levels a little higher, where the
frame's layout (and so the actions) is decided (``p_mean``). It can make each frame as a
change from the scene held still (``Recipe.predict_change``; the final layer restarts at
zero, so the one-step prediction starts as "nothing moves"). And it can see where the
actions put the pusher, drawn on the latent grid (``Recipe.pusher_map``, ``pusher.py``).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from .. import catalog
from .. import weights as files
from ..training import Schedule
from ..wfm.api import DEFAULT as BASE
from ..wfm.data import LatentSpace, encode_windows, load_cache
from ..wfm.edm import Condition
from ..wfm.model import PRESETS, DiT, WFMConfig
from ..wfm.train import Batch, Diffusion, Run  # the network, u(σ) and the EMA copy, as the base trains
from .action_api import still_reference
from .actions import CHUNK, CHUNK_DIM, chunked, to_view
from .base import base_config, grown, post_trained
from .pusher import box_corners, latent_maps, occupancy, offsets

WINDOW = 17


@dataclass(frozen=True, kw_only=True)
class Recipe(Schedule):
    batch: int = 16
    lr: float = 1e-4
    warmup: int = 100
    decay_steps: int = 6_000
    ema: float = 0.995
    new_lr_scale: float = 30.0  # the action embedding starts at zero under a pretrained net: let it catch up
    text_drop: float = 0.5  # rollouts and the planner run without a caption
    aug_mean: float = -3.0  # ln σ_aug on the given frames, as in base training
    aug_std: float = 2.0
    p_mean: float = -1.2  # ln σ ~ N(p_mean, p_std²), as in base training unless raised
    p_std: float = 1.2
    motion_weight: float = 0.0  # extra loss weight on latent pixels that move (0: a plain average)
    start_from: str = ""  # a shipped action model to fine-tune instead of the base world model
    predict_change: bool = False  # diffuse the change from the scene held still (WFMConfig.predicts_change)
    pusher_map: bool = False  # also see where the actions put the pusher (engines.post.pusher)
    name: str = "action-cv4x8x8"
    # a world-model preset to start from scratch at (a small or a new size) instead of the shipped base
    preset: str = ""


RECIPES: dict[str, Recipe] = {
    "action-cv4x8x8": Recipe(steps=6_000),
    # fine-tunes action-cv4x8x8, which learned the scenes but not the actions
    "action-motion-cv4x8x8": Recipe(steps=6_000, decay_steps=6_000, warmup=50, motion_weight=4.0, p_mean=-0.6,
                                    p_std=1.4, new_lr_scale=10.0, start_from="action-cv4x8x8",
                                    name="action-motion-cv4x8x8"),
    "action-change-cv4x8x8": Recipe(steps=6_000, decay_steps=6_000, warmup=50, motion_weight=4.0, p_mean=-0.6,
                                    p_std=1.4, new_lr_scale=10.0, start_from="action-cv4x8x8",
                                    predict_change=True, name="action-change-cv4x8x8"),
    # sees where the actions put the pusher, drawn on the latent grid
    "action-pusher-cv4x8x8": Recipe(steps=6_000, decay_steps=6_000, warmup=50, motion_weight=4.0, p_mean=-0.6,
                                    p_std=1.4, new_lr_scale=10.0, start_from="action-cv4x8x8", pusher_map=True,
                                    name="action-pusher-cv4x8x8"),
}


def model_config(recipe: Recipe) -> WFMConfig:
    """The base's network (or ``recipe.preset``'s) with the action inputs."""
    start = PRESETS[recipe.preset] if recipe.preset else base_config()
    return dataclasses.replace(start, name=recipe.name, action_dim=CHUNK_DIM, predicts_change=recipe.predict_change,
                               map_channels=int(recipe.pusher_map))


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


MOTION_DEPTH = 0.01  # metres of depth change that count as moving


def window_motion(clip: Path, starts: list[int], block: int = 8) -> dict[str, torch.Tensor]:
    """Where each window's latent frames 1..4 move [k, 4, H/8, W/8] (1.0 or 0.0): a latent
    pixel moves when the depth anywhere in its 8x8 block changes by more than 1 cm between
    the frame before the latent frame's 4 frames and any of them."""
    depth = torch.from_numpy(np.load(clip / "depth.npy").astype(np.float32))  # [T, H, W]
    rows = []
    for s in starts:
        w = depth[s : s + WINDOW]
        before = w[0 : WINDOW - 1 : CHUNK].repeat_interleave(CHUNK, dim=0)  # frame 4k-4, for frames 4k-3..4k
        change = (w[1:] - before).abs().reshape(-1, CHUNK, *w.shape[1:]).amax(dim=1)  # [4, H, W]
        rows.append(torch.nn.functional.max_pool2d(change[None], block)[0] > MOTION_DEPTH)
    return {"motion": torch.stack(rows).to(torch.uint8)}


def window_pusher(clip: Path, starts: list[int], still: bool = False) -> dict[str, torch.Tensor]:
    """Where the pusher is on each window's latent grid [k, 5, H/8, W/8] (``pusher.latent_maps``),
    moved by its true actions, or standing still at the window's first frame (``still``)."""
    camera = json.loads((clip / "camera.json").read_text())
    intrinsics, poses = np.asarray(camera["intrinsics"]), np.asarray(camera["world_from_camera"])
    velocities = np.load(clip / "actions.npy")
    rows = []
    for s in starts:
        moves = offsets(np.zeros((WINDOW - 1, 3)) if still else velocities[s : s + WINDOW - 1], camera["fps"])
        pixels = occupancy(box_corners(clip / "scene.usda", frame=s), moves, intrinsics, poses[s : s + WINDOW],
                           (camera["height"], camera["width"]))
        rows.append(latent_maps(pixels))
    return {"pusher": torch.from_numpy(np.stack(rows))}


def window_extras(clip: Path, starts: list[int]) -> dict[str, torch.Tensor]:
    return window_actions(clip, starts) | window_motion(clip, starts) | window_pusher(clip, starts)


def build_cache(data: Path, space: LatentSpace, out: Path, progress: Callable[[int, int], None] | None = None) -> Path:
    return encode_windows(data, lambda video: space.encode(video).half(), out,
                          {"tokenizer": space.name, "latent_fingerprint": space.fingerprint}, WINDOW, progress,
                          extras=window_extras)


def still_references(cache: dict[str, Any], space: LatentSpace, out: Path,
                     progress: Callable[[int, int], None] | None = None, batch: int = 64) -> torch.Tensor:
    """Each window's latent frame 1 with the scene frozen at its first frame [N, C, h, w]
    (``action_api.still_reference``), computed once and kept at ``out``."""
    from safetensors.torch import load_file, save_file

    from ..media.files import atomic_output

    if out.exists():
        return load_file(str(out))["still"]
    latents = cache["latents"]
    parts = []
    for i in range(0, len(latents), batch):
        parts.append(still_reference(space, latents[i : i + batch, :, :1].float())[:, :, 0].half())
        if progress:
            progress(min(i + batch, len(latents)), len(latents))
    with atomic_output(out) as tmp:
        save_file({"still": torch.cat(parts).contiguous()}, str(tmp))
    return load_file(str(out))["still"]


class Batches:
    """Next-latent-frame training items: k given latent frames, the (k+1)-th to make."""

    def __init__(self, cache: dict[str, Any], recipe: Recipe, device: torch.device,
                 still: torch.Tensor | None = None) -> None:
        if "actions" not in cache:
            raise ValueError("the latent cache has no actions: delete it to re-encode an action dataset")
        self.latents = cache["latents"].to(device)
        self.actions = cache["actions"].float().to(device)
        if recipe.motion_weight and "motion" not in cache:
            raise ValueError("the latent cache has no motion maps: delete it to re-encode the dataset")
        self.motion = cache["motion"].to(device) if recipe.motion_weight else None
        self.still = None if still is None else still.to(device)
        if recipe.pusher_map and "pusher" not in cache:
            raise ValueError("the latent cache has no pusher maps: delete it to re-encode the dataset")
        self.pusher = cache["pusher"].float().to(device) if recipe.pusher_map else None
        self.caption_ids = cache["caption_ids"].long().to(device)
        self.text, self.text_mask = cache["text"].to(device), cache["text_mask"].to(device)
        self.null, self.null_mask = cache["null_text"].to(device), cache["null_mask"].to(device)
        self.recipe, self.device = recipe, device

    def sample(self, rng: np.random.Generator) -> tuple[torch.Tensor, Condition, torch.Tensor | None]:
        """k given latent frames and the one to make (k drawn once for the batch), and the
        loss weight of the moving pixels."""
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
        weight = None
        if self.motion is not None:  # only frame `given` counts in the loss
            moving = self.motion[idx, given - 1].float()[:, None, None]  # [B, 1, 1, h, w]
            weight = (1 + r.motion_weight * moving).expand(-1, -1, given + 1, -1, -1)
        reference = None
        if self.still is not None:  # the frame before, or the first frame held still after it
            reference = torch.zeros_like(x0)
            reference[:, :, given] = x0[:, :, given - 1] if given > 1 else self.still[idx].float()
        signals = {"action": action}
        if self.pusher is not None:
            signals["pusher"] = self.pusher[idx, None, : given + 1]  # [B, 1, given + 1, h, w]
        return x0, Condition(text, mask, x0, cond_mask, aug, signals, reference), weight


class ActionModel(Diffusion, family="action", recipes=RECIPES, recipe=Recipe):
    """The world model post-trained on a pusher's actions, from the shipped base (or a
    shipped action model, or a preset from scratch)."""

    @classmethod
    def config_of(cls, recipe: Recipe) -> WFMConfig:
        return model_config(recipe)

    def prepare(self) -> None:
        ctx, cfg = self.ctx, self.config_of(self.recipe)
        space = LatentSpace(cfg.tokenizer, cfg.sigma_data)
        path = ctx.cached("latents.safetensors", lambda p: build_cache(ctx.data, space, p, progress=ctx.encoding))
        cache = load_cache(path, space)
        still = (still_references(cache, space, ctx.run_dir / "still.safetensors", ctx.encoding)
                 if cfg.predicts_change else None)
        self.batches = Batches(cache, self.recipe, ctx.device, still)

    def model(self, fresh: bool) -> nn.Module:
        return Run(starting_network(self.recipe, self.config_of(self.recipe)), self.recipe.ema)

    def optimizer(self, run: nn.Module) -> torch.optim.Optimizer:
        """The action embedding starts at zero under a pretrained net: it learns faster (``new_lr_scale``)."""
        new = [p for n, p in run.named_parameters() if n.startswith("net.action.")]
        rest = [p for n, p in run.named_parameters() if p.requires_grad and not n.startswith("net.action.")]
        groups: list[dict[str, Any]] = [{"params": rest}, {"params": new, "lr_scale": self.recipe.new_lr_scale}]
        return torch.optim.AdamW(groups, lr=self.recipe.lr, betas=(0.9, 0.99), weight_decay=0.01)

    def batch(self, rng: np.random.Generator, step: int) -> Batch:
        x0, cond, weight = self.batches.sample(rng)
        return self.diffusion_batch(x0, cond, weight)

    @classmethod
    def card(cls, state: dict[str, Any], recipe: Recipe, cfg: WFMConfig) -> dict[str, Any]:
        return super().card(state, recipe, cfg) | {
            "kind": "action", "action_axes": "right, forward, up (m/s, the camera's ground frame); 4 frames per "
            "latent frame", "frames_per_action_chunk": CHUNK,
            "starts_from": recipe.start_from or (None if recipe.preset else BASE)}


def starting_network(recipe: Recipe, cfg: WFMConfig) -> DiT:
    """The network a run starts from: a fresh one of ``recipe.preset``'s size, the base
    world model with a zero action embedding, or a shipped action model with the same
    architecture."""
    if recipe.preset:
        return DiT(cfg)
    if not recipe.start_from:
        return post_trained(cfg)
    json_path = catalog.find(recipe.start_from, "action").card
    meta = files.read_meta(json_path)
    start = WFMConfig.from_json(meta["config"])
    if dataclasses.replace(start, name=cfg.name, predicts_change=cfg.predicts_change,
                           map_channels=cfg.map_channels) != cfg:
        raise ValueError(f"{recipe.start_from}: its architecture differs from recipe {recipe.name}'s")
    net = grown(files.load_into(DiT(start), json_path.with_suffix(".safetensors"), meta), cfg)
    if cfg.predicts_change and not start.predicts_change:  # it made whole frames: start from "nothing moves"
        torch.nn.init.zeros_(net.patch_out.weight)
        torch.nn.init.zeros_(net.patch_out.bias)
    return net.requires_grad_(True).train()
