"""Training the autoregressive world model on cached token ids, resumable.

Next-token cross-entropy over whole clips (so it also learns first frames, and any prefix
is a valid condition); captions are dropped now and then so the model also runs without
a prompt. An exponential moving average of the weights is what ships.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .. import weights as files
from ..training import EMARun, autocast, fit, load_state, start_run
from .data import Batches, build_cache, discrete, load_cache, token_fingerprint
from .model import PRESETS, VideoGPT, shifted

CHECKPOINTS = Path(__file__).resolve().parent.parent / "checkpoints"


@dataclass(frozen=True)
class Recipe:
    model: str  # a preset name
    steps: int
    batch: int = 32
    lr: float = 6e-4
    warmup: int = 300
    decay_steps: int = 20_000  # cosine down to 10% of lr by here
    ema: float = 0.999
    text_drop: float = 0.1
    weight_decay: float = 0.1
    checkpoint_seconds: float = 180.0
    seed: int = 0


RECIPES: dict[str, Recipe] = {
    "ar-dv4x8x8": Recipe("ar-dv4x8x8", steps=20_000),
    # one GPU (an H200, 5.7 steps/s beside another run): 8x the batch; held-out loss rose
    # after ~2,800 steps (1,500 clips: 6,000 windows x 2 mirror images), so the run stops there
    "ar-dv4x8x8-gpu": Recipe("ar-dv4x8x8", steps=2_500, batch=256, lr=1e-3, warmup=300, decay_steps=2_500),
    # continues an ar-dv4x8x8-gpu run (--run runs/ar-dv4x8x8-gpu) on a longer cosine
    "ar-dv4x8x8-gpu-extend": Recipe("ar-dv4x8x8", steps=2_800, batch=256, lr=1e-3, warmup=300,
                                    decay_steps=4_000),
    "tiny-ar": Recipe("tiny-ar", steps=4, batch=4, warmup=1, checkpoint_seconds=0.0),
}


def next_token_loss(net: VideoGPT, tokens: torch.Tensor, text: torch.Tensor | None,
                    text_mask: torch.Tensor | None) -> torch.Tensor:
    """Mean cross-entropy of every token given the ones before it."""
    logits = net(shifted(tokens), text=text, text_mask=text_mask)
    return F.cross_entropy(logits.flatten(0, 1).float(), tokens.flatten())


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
    The token cache is made on the CPU; the steps run on ``device``."""
    recipe, where = start_run(RECIPES, recipe_name, device, threads, run_dir)
    cfg = PRESETS[recipe.model]
    cache_path = run_dir / "tokens.safetensors"
    if not cache_path.exists():
        build_cache(data, cfg.tokenizer, cache_path, progress=encoding)
    cache = load_cache(cache_path, cfg.tokenizer)
    batches = Batches(cache, recipe.batch, recipe.text_drop, where)
    torch.manual_seed(recipe.seed)
    net = VideoGPT(cfg)
    run = EMARun(net).to(where)
    decay: list[nn.Parameter] = []  # weight matrices and embeddings; not norms, biases, positions
    rest: list[nn.Parameter] = []
    for n, p in net.named_parameters():
        (decay if p.dim() >= 2 and "position" not in n else rest).append(p)
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": recipe.weight_decay},
                             {"params": rest, "weight_decay": 0.0}], lr=recipe.lr, betas=(0.9, 0.95))
    checkpoint = run_dir / "last"
    meta: dict[str, Any] = {"recipe": recipe_name, "step": 0, "seconds": 0.0, "data": str(data),
                            "settings": asdict(recipe), "losses": []}
    if checkpoint.with_suffix(".safetensors").exists():
        meta = load_state(checkpoint, run, opt)
    meta["device"] = where.type

    def loss(rng: np.random.Generator) -> torch.Tensor:
        tokens, text, mask = batches.sample(rng)
        with autocast(device):
            return next_token_loss(net, tokens, text, mask)

    return fit(run, opt, recipe, meta, checkpoint, loss, steps=steps, minutes=minutes, report=report)


def export_run(last: Path, folder: Path = CHECKPOINTS) -> Path:
    """A run's EMA weights as the shipped fp16 checkpoint, with how the run was made."""
    state = files.read_meta(last.with_suffix(".json"))
    recipe = RECIPES[state["recipe"]]
    cfg = PRESETS[recipe.model]
    run = EMARun(VideoGPT(cfg))
    load_state(last, run, torch.optim.AdamW(run.parameters()))
    device = state.get("device", "cpu")
    command = f"worldgraph train ar --recipe {state['recipe']} --data {state['data']}"
    meta = {"config": cfg.to_json(), "recipe": state["recipe"], "steps": state["step"],
            "token_fingerprint": token_fingerprint(discrete(cfg.tokenizer)), "data": state["data"],
            "device": device, "train_minutes": round(state["seconds"] / 60, 1),
            "command": command + ("" if device == "cpu" else f" --device {device}")}
    return files.save(run.ema, folder / f"{cfg.name}.safetensors", meta)
