"""Training the diffusion world model on cached tokenizer latents, resumable.

Text2World and Video2World train jointly: each item of a batch is given 0, 1 or 2 clean
latent frames (the condition mask), its caption is dropped now and then (for
classifier-free guidance), and the loss is EDM's uncertainty-weighted one. An exponential
moving average of the weights is what ships.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from .. import weights as files
from ..training import EMARun, autocast, fit, load_state, start_run
from .data import LatentSpace, build_cache, load_cache
from .edm import Condition, Denoiser, Uncertainty, edm_loss
from .model import PRESETS, DiT

CHECKPOINTS = Path(__file__).resolve().parent.parent / "checkpoints"


@dataclass(frozen=True)
class Recipe:
    model: str  # a preset name
    steps: int
    batch: int = 32
    lr: float = 3e-4
    warmup: int = 300
    decay_steps: int = 30_000  # cosine down to 10% of lr by here
    ema: float = 0.999
    p_mean: float = -1.2
    p_std: float = 1.2
    text_drop: float = 0.1
    given_frames: tuple[float, float, float] = (0.2, 0.4, 0.4)  # P(0, 1, 2 clean latent frames)
    aug_mean: float = -3.0  # ln σ_aug ~ N(aug_mean, aug_std²) on the given frames
    aug_std: float = 2.0
    checkpoint_seconds: float = 180.0
    seed: int = 0
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
    "tiny-wfm": Recipe("tiny-wfm", steps=4, batch=4, warmup=1, checkpoint_seconds=0.0),
}


class Run(EMARun):
    """Everything a training run holds: the network, u(σ) and the EMA copy that ships."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__(net)
        self.uncertainty = Uncertainty()


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
    The latent cache is encoded on the CPU; the steps run on ``device``."""
    recipe, where = start_run(RECIPES, recipe_name, device, threads, run_dir)
    cfg = PRESETS[recipe.model]
    space = LatentSpace(cfg.tokenizer, cfg.sigma_data)
    cache_path = run_dir / "latents.safetensors"
    if not cache_path.exists():
        build_cache(data, space, cache_path, progress=encoding)
    batches = Batches(load_cache(cache_path, space), recipe, where)
    torch.manual_seed(recipe.seed)
    run = Run(DiT(cfg))
    checkpoint = run_dir / "last"
    resuming = checkpoint.with_suffix(".safetensors").exists()
    if recipe.init and not resuming:  # a resumed run has its own weights
        from .api import load

        shipped = load(recipe.init).net.state_dict()
        run.net.load_state_dict(shipped)
        run.ema.load_state_dict(shipped)
    run.to(where)
    trained = [p for p in run.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(trained, lr=recipe.lr, betas=(0.9, 0.99), weight_decay=0.01)
    meta: dict[str, Any] = {"recipe": recipe_name, "step": 0, "seconds": 0.0, "data": str(data),
                            "settings": asdict(recipe), "losses": []}
    if resuming:
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
    cfg = PRESETS[recipe.model]
    run = Run(DiT(cfg))
    load_state(last, run, torch.optim.AdamW(run.parameters()))
    space = LatentSpace(cfg.tokenizer, cfg.sigma_data)
    device = state.get("device", "cpu")
    command = f"worldgraph train wfm --recipe {state['recipe']} --data {state['data']}"
    meta = {"config": cfg.to_json(), "recipe": state["recipe"], "steps": state["step"],
            "latent_fingerprint": space.fingerprint, "data": state["data"], "device": device,
            "train_minutes": round(state["seconds"] / 60, 1),
            "command": command + ("" if device == "cpu" else f" --device {device}")}
    if recipe.init:
        meta["init"] = recipe.init
    return files.save(run.ema, folder / f"{cfg.name}.safetensors", meta)
