"""Generating with the shipped world model: checked inputs, text encoding, Text2World and
Video2World sampling in batches. Latents come out in the tokenizer's own space, ready for
its decoder."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .. import catalog
from .. import weights as files
from ..runtime import engine
from ..runtime.spec import BATCH, Axis, Part, Port
from ..text import minilm
from ..tokenizer.api import TEMPORAL, TokenizerInputError, frames_to_input, videos_to_frames
from ..tokenizer.parts import encoder
from .data import LatentSpace
from .edm import Condition, Denoiser, guided, karras_sigmas, sample
from .model import DiT, WFMConfig

CHECKPOINTS = catalog.SHIPPED  # where training exports by default
KINDS = ("wfm", "action", "camera")  # the catalog families of world models: the base, post-trained ones
DEFAULT = "wfm-cv4x8x8"
MAX_GUIDANCE, MAX_STEPS = 20.0, 200


class WFMInputError(ValueError):
    """A request the world model cannot serve; the message says what to change."""


@dataclass(frozen=True)
class Sampling:
    steps: int = 35
    guidance: float = 3.0  # 0: no classifier-free guidance
    seed: int = 0
    sigma_max: float = 80.0
    sigma_min: float = 0.002
    method: str = "heun"  # heun | euler
    negative: str = ""  # the negative prompt guidance pushes away from
    sigma_aug: float = 0.001  # noise on the given frames

    def check(self, prompts: list[str]) -> None:
        if not 1 <= self.steps <= MAX_STEPS:
            raise WFMInputError(f"steps must be within 1..{MAX_STEPS}, got {self.steps}")
        if not 0 <= self.guidance <= MAX_GUIDANCE:
            raise WFMInputError(f"guidance must be within 0..{MAX_GUIDANCE:g}, got {self.guidance:g}")
        if not 0 < self.sigma_min < self.sigma_max <= 1000:
            raise WFMInputError(f"need 0 < sigma_min < sigma_max <= 1000, got {self.sigma_min:g} and "
                                f"{self.sigma_max:g}")
        if self.method not in ("heun", "euler"):
            raise WFMInputError(f"unknown sampler {self.method!r}: use heun or euler")
        if self.guidance > 0 and any(not p.strip() for p in prompts) and not self.negative.strip():
            raise WFMInputError("an empty prompt with guidance on: guidance steers away from the (also empty) "
                                "negative prompt, so it would do nothing; write a prompt or set guidance to 0")


def available(kind: str = "wfm") -> list[str]:
    """The world models of ``kind`` in the catalog (kept for the training drivers)."""
    return catalog.names(kind)


def net_part(name: str) -> Part:
    """The engine part of world model ``name``: the DiT F(c_in x, c_noise, text) one
    denoiser call evaluates (the sampler stays in Python)."""
    entry = catalog.find(name, "wfm")
    cfg = entry.config
    side = cfg.get("patch", 2)
    tokens = Axis("tokens", 1, 16, 128)

    def source() -> dict[str, Any]:
        return {"sha256": catalog.find(name, "wfm").sha256, "config": cfg}

    return Part(
        f"{name}.net", "the DiT F(c_in x, c_noise, text) one denoiser call evaluates (the sampler stays in Python)",
        (Port("x", "float32", (BATCH, cfg.get("latent_channels", 16) + 1, Axis("latent_frames", 1, 5, 17),
                               Axis("grid_h", side, 8, 32, step=side), Axis("grid_w", side, 8, 32, step=side)),
              "normal"),
         Port("c_noise", "float32", (BATCH,), "sigma"),
         Port("text", "float32", (BATCH, tokens, cfg.get("text_dim", 384)), "normal"),
         Port("text_mask", "bool", (BATCH, tokens), "mask")),
        ("f",), lambda: load(name).net, source, ("worldgraph.engines.wfm.model",), tolerance=2e-3,
    )


class WorldModel:
    """A loaded world-model checkpoint and the tokenizer whose latents it was trained on;
    its networks run on ``backend`` (engines.runtime), the sampler in Python."""

    def __init__(self, net: DiT, space: LatentSpace, name: str, backend: str = "torch") -> None:
        self.net, self.space, self.name, self.backend = net, space, name, backend
        self.denoiser = Denoiser(net if backend == "torch" else engine(net_part(name), backend), net.cfg.sigma_data)

    def on(self, backend: str) -> WorldModel:
        """The same model with its networks on ``backend`` (shipped models only)."""
        return self if backend == self.backend else WorldModel(self.net, self.space, self.name, backend)

    @property
    def cfg(self) -> WFMConfig:
        return self.net.cfg

    def encode_text(self, prompts: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        return minilm().tokens(prompts, backend=self.backend)

    def encode_video(self, frames: np.ndarray) -> torch.Tensor:
        """uint8 frames [T, H, W, 3] (1 + 4k of them) -> normalized latents [1, C, T', h, w]."""
        try:
            x = frames_to_input(frames)
        except TokenizerInputError as e:
            raise WFMInputError(f"condition clip: {e}") from None
        side = 8 * self.cfg.patch
        if x.shape[3] % side or x.shape[4] % side:
            raise WFMInputError(f"condition clip is {x.shape[4]}x{x.shape[3]}: this model needs sides that are "
                                f"multiples of {side} (it was trained at 64x64)")
        if self.backend == "torch":
            return self.space.encode(x)
        return self.space.normalized(engine(encoder(self.space.name), self.backend)(x))

    def decode(self, latents: torch.Tensor) -> np.ndarray:
        """Normalized latents [B, C, T, h, w] -> uint8 frames [B, T', H, W, 3]."""
        return videos_to_frames(self.space.decode(latents))

    @torch.no_grad()
    def generate(
        self,
        prompts: list[str],
        settings: Sampling,
        given: torch.Tensor | None = None,
        frames: int = 17,
        grid: tuple[int, int] = (8, 8),
        progress: Callable[[int, int], None] | None = None,
        text: tuple[torch.Tensor, torch.Tensor] | None = None,
        denoiser: Denoiser | None = None,
        start: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Normalized latents [B, C, T', h, w] of ``frames`` frames for each prompt; with
        ``given`` [B or 1, C, Tg, h, w] the first Tg latent frames are those (Video2World).
        ``text``: the prompts' token embeddings and mask when already encoded. ``denoiser``
        replaces the model's own (a ControlNet-steered one, say); ``start`` [B or 1, C, T', h, w]
        is noised to σ_max instead of starting from pure noise (structure-preserving edits)."""
        settings.check(prompts)
        if (frames - 1) % TEMPORAL or frames < 1:
            raise WFMInputError(f"{frames} frames: generate 1 + 4k frames (5, 9, 13, 17, ...)")
        latent_frames = 1 + (frames - 1) // TEMPORAL
        b = len(prompts)
        if given is not None:
            if given.shape[1] != self.cfg.latent_channels:
                raise WFMInputError(f"condition latents have {given.shape[1]} channels, the model takes "
                                    f"{self.cfg.latent_channels}")
            if given.shape[2] >= latent_frames:
                raise WFMInputError(f"the condition covers {1 + TEMPORAL * (given.shape[2] - 1)} frames, "
                                    f"nothing left to generate in {frames}")
            grid = (given.shape[3], given.shape[4])
            given = given.expand(b, -1, -1, -1, -1) if given.shape[0] == 1 else given
            if given.shape[0] != b:
                raise WFMInputError(f"{given.shape[0]} condition clips for {b} prompts")
        shape = (b, self.cfg.latent_channels, latent_frames, *grid)
        tokens, mask = text if text is not None else self.encode_text(prompts)
        cond = Condition(tokens, mask)
        if given is not None:
            latents = torch.zeros(shape)
            latents[:, :, : given.shape[2]] = given
            cond_mask = (torch.arange(latent_frames) < given.shape[2]).float().reshape(1, 1, -1, 1, 1)
            cond = Condition(tokens, mask, latents, cond_mask.expand(b, -1, -1, -1, -1), settings.sigma_aug)
        negative = None
        if settings.guidance > 0:
            neg_text, neg_mask = self.encode_text([settings.negative] * b)
            negative = cond.repeat(neg_text, neg_mask)
        sigmas = karras_sigmas(settings.steps, settings.sigma_min, settings.sigma_max)
        generator = torch.Generator().manual_seed(settings.seed)
        noise = torch.randn(shape, generator=generator)
        if start is not None:
            if start.shape[1:] != shape[1:]:
                raise WFMInputError(f"the start latents are {tuple(start.shape[1:])}, the clip is {shape[1:]}")
            noise = noise + start / settings.sigma_max  # the sampler scales noise by σ_max
        # fp32: bf16 autocast ran the DiT 3-4x slower on CPUs without native bf16 (AVX2 only)
        with torch.random.fork_rng():
            torch.manual_seed(settings.seed)  # the given frames' augmentation noise
            return sample(guided(denoiser or self.denoiser, cond, negative, settings.guidance), noise, sigmas,
                          settings.method, progress)


def load(name: str = DEFAULT, folder: Path | None = None, kind: str = "wfm") -> WorldModel:
    """The world model ``name`` (a catalog name or a path to its .json), checked against its
    tokenizer; ``kind``: what it must be (wfm, action, camera); ``folder``: look only there."""
    try:
        entry = catalog.find(name, folder=folder)
    except catalog.CheckpointError:
        catalog.find(name, kind, folder)  # the same error, naming the models of this kind
        raise
    if entry.family not in KINDS:
        raise files.CheckpointError(f"{entry.card}: a {entry.family} checkpoint, not a world model")
    if entry.family != kind:
        raise files.CheckpointError(f"{entry.card}: the {entry.family}-conditioned world model, not a {kind} one")
    return _load(entry.card, entry.version)


@cache
def _load(json_path: Path, version: str) -> WorldModel:
    meta = files.read_meta(json_path)
    try:
        cfg = WFMConfig.from_json(meta["config"])
    except (KeyError, TypeError, ValueError) as e:
        raise files.CheckpointError(f"{json_path}: not a world-model config ({e})") from None
    space = LatentSpace(cfg.tokenizer, cfg.sigma_data)
    if space.channels != cfg.latent_channels:
        raise files.CheckpointError(
            f"{json_path}: the model takes {cfg.latent_channels}-channel latents but its tokenizer "
            f"{cfg.tokenizer} makes {space.channels}: the checkpoint belongs to another tokenizer")
    if meta.get("latent_fingerprint") != space.fingerprint:
        raise files.CheckpointError(
            f"{json_path}: trained on the latents of another {cfg.tokenizer} encoder than the one installed "
            f"({catalog.find(cfg.tokenizer, 'tokenizer').card}); retrain it, or restore that tokenizer")
    net = files.load_into(DiT(cfg), json_path.with_suffix(".safetensors"), meta)
    assert isinstance(net, DiT)
    return WorldModel(net, space, cfg.name)
