"""Training the autoregressive world model on cached token ids (the loop is
``engines.training``).

Next-token cross-entropy over whole clips (so it also learns first frames, and any prefix
is a valid condition); captions are dropped now and then so the model also runs without
a prompt. An exponential moving average of the weights is what ships.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .. import weights as files
from ..training import EMARun, Schedule, Trainer, command, recipe_of
from .data import Batches, build_cache, discrete, load_cache, token_fingerprint
from .model import PRESETS, VideoGPT, shifted


@dataclass(frozen=True, kw_only=True)
class Recipe(Schedule):
    model: str = field(kw_only=False)  # a preset name
    batch: int = 32
    lr: float = 6e-4
    decay_steps: int = 20_000
    ema: float = 0.999
    text_drop: float = 0.1
    weight_decay: float = 0.1


RECIPES: dict[str, Recipe] = {
    "ar-dv4x8x8": Recipe("ar-dv4x8x8", steps=20_000),
    # one GPU (an H200, 5.7 steps/s beside another run): 8x the batch; held-out loss rose
    # after ~2,800 steps (1,500 clips: 6,000 windows x 2 mirror images), so the run stops there
    "ar-dv4x8x8-gpu": Recipe("ar-dv4x8x8", steps=2_500, batch=256, lr=1e-3, warmup=300, decay_steps=2_500),
    # continues an ar-dv4x8x8-gpu run (--run runs/ar-dv4x8x8-gpu) on a longer cosine
    "ar-dv4x8x8-gpu-extend": Recipe("ar-dv4x8x8", steps=2_800, batch=256, lr=1e-3, warmup=300,
                                    decay_steps=4_000),
}


def next_token_loss(net: VideoGPT, tokens: torch.Tensor, text: torch.Tensor | None,
                    text_mask: torch.Tensor | None) -> torch.Tensor:
    """Mean cross-entropy of every token given the ones before it."""
    logits = net(shifted(tokens), text=text, text_mask=text_mask)
    return F.cross_entropy(logits.flatten(0, 1).float(), tokens.flatten())


class AutoRegressive(Trainer, family="ar", recipes=RECIPES, recipe=Recipe):
    """The GPT over a discrete tokenizer's tokens; the token cache is made on the CPU."""

    def prepare(self) -> None:
        ctx, recipe = self.ctx, self.recipe
        self.cfg = PRESETS[recipe.model]
        path = ctx.cached("tokens.safetensors",
                          lambda p: build_cache(ctx.data, self.cfg.tokenizer, p, progress=ctx.encoding))
        self.batches = Batches(load_cache(path, self.cfg.tokenizer), recipe.batch, recipe.text_drop, ctx.device)

    def model(self, fresh: bool) -> nn.Module:
        return EMARun(VideoGPT(self.cfg), self.recipe.ema)

    def optimizer(self, run: nn.Module) -> torch.optim.Optimizer:
        """Weight decay on weight matrices and embeddings; not on norms, biases, positions."""
        decay: list[nn.Parameter] = []
        rest: list[nn.Parameter] = []
        assert isinstance(run, EMARun)
        for n, p in run.net.named_parameters():
            (decay if p.dim() >= 2 and "position" not in n else rest).append(p)
        return torch.optim.AdamW([{"params": decay, "weight_decay": self.recipe.weight_decay},
                                  {"params": rest, "weight_decay": 0.0}], lr=self.recipe.lr, betas=(0.9, 0.95))

    def batch(self, rng: np.random.Generator, step: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        return self.batches.sample(rng)

    def loss(self, run: nn.Module, batch: Any) -> torch.Tensor:
        tokens, text, mask = batch
        assert isinstance(run, EMARun) and isinstance(run.net, VideoGPT)
        return next_token_loss(run.net, tokens, text, mask)

    @classmethod
    def saved(cls, state: dict[str, Any]) -> nn.Module:
        return EMARun(VideoGPT(PRESETS[recipe_of(cls, state).model]))

    @classmethod
    def export(cls, run: nn.Module, state: dict[str, Any], folder: Path) -> list[Path]:
        cfg = PRESETS[recipe_of(cls, state).model]
        meta = {"config": cfg.to_json(), "recipe": state["recipe"], "steps": state["step"],
                "token_fingerprint": token_fingerprint(discrete(cfg.tokenizer)), "data": state["data"],
                "device": state.get("device", "cpu"), "train_minutes": round(state["seconds"] / 60, 1),
                "command": command(state, "ar")}
        assert isinstance(run, EMARun)
        return [files.save(run.ema, folder / f"{cfg.name}.safetensors", meta)]
