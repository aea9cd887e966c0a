"""Training the tokenizers on synthetic datasets (the loop is ``engines.training``).

Most early steps are single frames (the causal design encodes a frame alone, and colour
and detail are learned per frame); a batch of whole windows every few steps teaches time,
and in the second part of training every other step is one.
Loss: L1 + an edge term (L1 of image gradients) + for videos an L1 of frame differences,
and optionally 1 - SSIM per frame (the structure term the evaluation reports).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ..media.video import read_video
from ..metrics import ssim
from ..sim.dataset import read_manifest
from ..training import Schedule, Trainer, command, recipe_of, scheduled_lr
from .model import PRESETS, Tokenizer


@dataclass(frozen=True, kw_only=True)
class Recipe(Schedule):
    model: str = field(kw_only=False)  # a preset name
    lr: float = 4e-4
    warmup: int = 200
    decay_steps: int = 12_000
    image_batch: int = 16
    video_batch: int = 4
    video_every: int = 5  # one step in this many is a video step ...
    video_every_late: int = 2  # ... and from late_step on, one in this many (colour and detail
    late_step: int = 6_000  # come first, from single frames; then time gets more of the steps)
    frames: int = 17
    edge_weight: float = 0.5
    motion_weight: float = 0.5
    # Decoder stage: from this step on (0: never) the encoder is frozen, so the latents the
    # world models train on stay put, and the decoder learns motion inside each 4-frame
    # group from video steps with a squared loss on frame differences (an L1 alone is
    # minimized by static frames when a small object's exact position is uncertain).
    decoder_from: int = 0
    decoder_lr: float = 1e-4
    motion_l2: float = 0.0
    ssim_weight: float = 0.0  # weight of 1 - SSIM over every frame
    frame_balance: float = 0.0  # > 0: the worst-reconstructed frames weigh more (frame_weights)
    # Start from this shipped checkpoint and train its decoder only (the whole run is a
    # decoder stage): a better decoder for the same latents, so world models stay valid.
    init: str = ""
    # With ``init``: False trains the encoder too, on video steps only, so the latents
    # change and the result ships under a name of its own (``export_as``).
    frozen_encoder: bool = True
    export_as: str = ""  # the shipped checkpoint's name (default: the preset's)


# Start from the shipped checkpoint and train its decoder only (see Recipe.init).
CV_DECODER = Recipe("cv4x8x8", steps=3_000, init="cv4x8x8", motion_l2=20.0)
DV_DECODER = Recipe("dv4x8x8", steps=3_000, init="dv4x8x8", motion_l2=20.0)
# The whole discrete tokenizer, encoder too, from the shipped dv4x8x8 (see RECIPES).
DV_V2 = Recipe("dv4x8x8", steps=6_000, lr=1e-4, decay_steps=6_000, init="dv4x8x8", frozen_encoder=False,
               export_as="dv4x8x8-v2", motion_l2=20.0, ssim_weight=2.0, frame_balance=2.0)

RECIPES: dict[str, Recipe] = {
    "cv4x8x8": Recipe("cv4x8x8", steps=19_631, decoder_from=16_631, motion_l2=20.0),
    "dv4x8x8": Recipe("dv4x8x8", steps=19_602, decoder_from=16_602, motion_l2=20.0),
    "cv4x8x8-decoder": CV_DECODER,
    "dv4x8x8-decoder": DV_DECODER,
    # The decoder once more from the shipped checkpoint (itself made by the recipes above),
    # now also trained on SSIM: L1 alone leaves low-contrast texture soft. The heavier
    # weights trade a little PSNR for SSIM.
    "cv4x8x8-decoder-ssim": replace(CV_DECODER, ssim_weight=2.0),
    "cv4x8x8-decoder-ssim6": replace(CV_DECODER, ssim_weight=6.0),
    "cv4x8x8-decoder-ssim20": replace(CV_DECODER, ssim_weight=20.0),
    "dv4x8x8-decoder-ssim": replace(DV_DECODER, ssim_weight=2.0),
    # then with the frames reconstructed worst weighing most (the ones just after the first
    # frame, where objects fall fastest): towards a flat per-frame PSNR
    "cv4x8x8-decoder-balanced": replace(CV_DECODER, ssim_weight=20.0, frame_balance=1.0),
    "dv4x8x8-decoder-balanced": replace(DV_DECODER, ssim_weight=2.0, frame_balance=1.0),
    # The whole model from the shipped cv4x8x8, frame-balanced: its latents kept 43 % of the
    # change inside each 4-frame group (benchmarks/tokenizer_temporal.py), so the frames
    # between latent frames were the worst; training the encoder on them keeps more.
    "cv4x8x8-v2": Recipe("cv4x8x8", steps=7_000, lr=1e-4, decay_steps=7_000, init="cv4x8x8",
                         frozen_encoder=False, export_as="cv4x8x8-v2", motion_l2=20.0, ssim_weight=20.0,
                         frame_balance=1.0),
    # The same for dv4x8x8, whose spread is all motion (flat from a mid-motion start, see the
    # README): the squared frame weights push harder on the fast-falling frames after the first.
    "dv4x8x8-v2": DV_V2,
    # then once more with the weights cubed: the spread was still 1.21 dB
    "dv4x8x8-v2-balanced": replace(DV_V2, steps=3_000, warmup=100, decay_steps=3_000, init="dv4x8x8-v2",
                                   frame_balance=3.0),
}


class ClipBank:
    """Every clip of a dataset, both RGB styles, in memory as uint8 [N, T, H, W, 3]."""

    def __init__(self, root: Path, limit: int = 0) -> None:
        records = read_manifest(root)[: limit or None]
        if not records:
            raise ValueError(f"{root}: no finished clips to train on (no manifest lines)")
        videos = []
        for r in records:
            for name in ("rgb.mp4", "rgb_plain.mp4"):
                path = root / "clips" / r["id"] / name
                if path.exists():
                    videos.append(read_video(path)[0])
        frames = min(v.shape[0] for v in videos)
        self.videos = torch.from_numpy(np.stack([v[:frames] for v in videos]))
        self.root = root

    @property
    def frames(self) -> int:
        return int(self.videos.shape[1])

    def sample(self, batch: int, frames: int, rng: np.random.Generator) -> torch.Tensor:
        """[B, 3, frames, H, W] in [-1, 1]: random clips, windows and left-right flips."""
        n, t = self.videos.shape[:2]
        clips = rng.integers(0, n, batch)
        starts = rng.integers(0, t - frames + 1, batch)
        out = torch.stack([self.videos[c, s : s + frames] for c, s in zip(clips, starts, strict=True)])
        flip = torch.from_numpy(rng.random(batch) < 0.5)
        out[flip] = out[flip].flip(3)
        return out.permute(0, 4, 1, 2, 3).float() / 127.5 - 1  # [B, 3, T, H, W]


def _frames(clips: torch.Tensor) -> torch.Tensor:
    """[B, 3, T, H, W] in [-1, 1] -> [B*T, 3, H, W] in [0, 1]."""
    return (clips.transpose(1, 2).flatten(0, 1) + 1) / 2


def frame_weights(x: torch.Tensor, y: torch.Tensor, balance: float) -> torch.Tensor:
    """[B, T] weights, mean 1 over each clip's frames: (its frame's MSE / the clip's mean
    MSE) ** ``balance``, held constant, so the frames reconstructed worst weigh most and the
    quality across the clip evens out; all ones when ``balance`` is 0."""
    if not balance or x.shape[2] == 1:
        return torch.ones(x.shape[0], x.shape[2], device=x.device)
    with torch.no_grad():
        mse = (y - x).pow(2).mean(dim=(1, 3, 4))
        w = (mse / mse.mean(1, keepdim=True).clamp_min(1e-12)).pow(balance)
        return w / w.mean(1, keepdim=True)


def reconstruction_loss(x: torch.Tensor, y: torch.Tensor, edge: float, motion: float,
                        motion_l2: float = 0.0, structure: float = 0.0, balance: float = 0.0) -> torch.Tensor:
    """Of a reconstruction ``y`` of clips ``x`` [B, 3, T, H, W] in [-1, 1]; ``balance``
    weighs the per-frame L1 and SSIM terms by ``frame_weights``."""
    w = frame_weights(x, y, balance)
    loss = ((y - x).abs().mean(dim=(1, 3, 4)) * w).mean()
    if structure:
        per_frame = ssim(_frames(x), _frames(y)).reshape(x.shape[0], x.shape[2])
        loss = loss + structure * ((1 - per_frame) * w).mean()
    for dim in (3, 4):  # image gradients keep edges sharp
        loss = loss + edge * (y.diff(dim=dim) - x.diff(dim=dim)).abs().mean()
    if x.shape[2] > 1:
        change = y.diff(dim=2) - x.diff(dim=2)
        loss = loss + motion * change.abs().mean() + motion_l2 * change.pow(2).mean()
    return loss


# ------------------------------------------------------------------------------ training


@dataclass
class Batch:
    """One step's clips [B, 3, T, H, W] in [-1, 1] (T = 1: an image step) and its stage."""

    clips: torch.Tensor
    decoder_stage: bool  # the encoder is frozen: its latents are made without gradients
    motion_l2: float


class TokenizerTrainer(Trainer, family="tokenizer", recipes=RECIPES, recipe=Recipe):
    """A causal tokenizer; no moving average: its weights ship as they are."""

    def prepare(self) -> None:
        self.bank = ClipBank(self.ctx.data)
        if self.bank.frames < self.recipe.frames:
            raise ValueError(f"{self.ctx.data}: clips have {self.bank.frames} frames, the recipe needs "
                             f"{self.recipe.frames}")
        self.fine_tune = bool(self.recipe.init)

    def model(self, fresh: bool) -> nn.Module:
        model = Tokenizer(PRESETS[self.recipe.model])
        if self.recipe.init and fresh:
            from . import checkpoint as shipped

            model.load_state_dict(shipped.load(self.recipe.init).state_dict())
        return model

    def meta(self) -> dict[str, Any]:
        return {"init": self.recipe.init} if self.recipe.init else {}

    def decoder_stage(self, step: int) -> bool:
        r = self.recipe
        return (self.fine_tune and r.frozen_encoder) or 0 < r.decoder_from <= step

    def before_step(self, run: nn.Module, step: int) -> None:
        assert isinstance(run, Tokenizer)
        run.encoder.requires_grad_(not self.decoder_stage(step))

    def lr(self, step: int) -> float:
        r = self.recipe
        return r.decoder_lr if self.decoder_stage(step) else scheduled_lr(r.lr, step, r.warmup, r.decay_steps)

    def batch(self, rng: np.random.Generator, step: int) -> Batch:
        """Whole windows on video steps, single frames otherwise (sampled on the CPU)."""
        r = self.recipe
        decoder_stage = self.decoder_stage(step)
        every = r.video_every if step < r.late_step else r.video_every_late
        video = self.fine_tune or decoder_stage or step % every == every - 1
        clips = self.bank.sample(r.video_batch if video else r.image_batch, r.frames if video else 1, rng)
        return Batch(clips.to(self.ctx.device), decoder_stage, r.motion_l2 if decoder_stage or self.fine_tune else 0.0)

    def loss(self, run: nn.Module, batch: Any) -> torch.Tensor:
        assert isinstance(run, Tokenizer)
        x, r = batch.clips, self.recipe
        if batch.decoder_stage:
            with torch.no_grad():
                z = run.encode(x)
            y = run.decode(z)
        else:
            y = run(x)
        with torch.autocast(x.device.type, enabled=False):  # the loss in fp32
            return reconstruction_loss(x, y.float(), r.edge_weight, r.motion_weight, batch.motion_l2,
                                       r.ssim_weight, r.frame_balance)

    @classmethod
    def saved(cls, state: dict[str, Any]) -> nn.Module:
        return Tokenizer(PRESETS[recipe_of(cls, state).model])

    @classmethod
    def export(cls, run: nn.Module, state: dict[str, Any], folder: Path) -> list[Path]:
        """The weights as fp16, with the latent statistics of 32 training windows (for the
        diffusion model) and how the run was made."""
        from . import checkpoint

        recipe = recipe_of(cls, state)
        model = run
        assert isinstance(model, Tokenizer)
        data = Path(state["data"])
        extra: dict[str, Any] = {}
        if recipe.init:
            before = checkpoint.meta(recipe.init)
            extra["init"] = {k: before.get(k) for k in ("recipe", "steps", "init", "sha256")}
        if recipe.init and recipe.frozen_encoder:  # the latents keep their statistics
            init = checkpoint.load(recipe.init)
            mean, std = init.latent_mean, init.latent_std
        else:
            sample = ClipBank(data, limit=32).sample(32, recipe.frames, np.random.default_rng(0))
            mean, std = checkpoint.latent_statistics(model.eval(), sample)
        model.latent_mean.copy_(mean)
        model.latent_std.copy_(std)
        extra |= {"recipe": state["recipe"], "steps": state["step"], "data": str(data),
                  "train_minutes": round(state["seconds"] / 60, 1), "device": state.get("device", "cpu"),
                  "command": command(state, "tokenizer", steps=state["step"] != recipe.steps)}
        return [checkpoint.export(model, recipe.export_as or recipe.model, extra, folder)]
