"""Generating with the camera-conditioned world model: given frame(s) plus a camera path
(one world-from-camera pose per video frame) -> several plausible futures seen along that
path, one per seed, sampled as one batch."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import torch

from .. import catalog
from .. import weights as files
from ..tokenizer.api import TEMPORAL
from ..wfm.api import Sampling, WorldModel
from ..wfm.data import LatentSpace
from ..wfm.edm import Condition, guided, karras_sigmas, sample
from ..wfm.model import DiT, WFMConfig
from .camera import RAY_CHANNELS, CameraInputError, check_intrinsics, check_poses, check_rays, plucker

DEFAULT = "camera-cv4x8x8"
MAX_VARIANTS = 16


@dataclass(frozen=True, eq=False)
class CameraPath:
    """Where the camera is at every video frame: world-from-camera [T, 4, 4] (looking down -Z,
    +Y up) and pinhole intrinsics [3, 3] of the model's 64x64 frames."""

    poses: np.ndarray
    intrinsics: np.ndarray

    def rays(self, frames: int, size: tuple[int, int]) -> torch.Tensor:
        """Plücker rays [1, 6, T', h, w] of the first ``frames`` poses (exactly that many)."""
        if len(self.poses) != frames:
            raise CameraInputError(f"the camera path has {len(self.poses)} poses for {frames} frames: give one "
                                   "pose per frame, the given frames' included")
        return torch.from_numpy(plucker(self.poses, self.intrinsics, size, frames=frames))[None]


class CameraModel:
    """A loaded camera-conditioned checkpoint: the base world model's machinery (tokenizer,
    text encoder) around a network with ray input channels. Torch backend only."""

    def __init__(self, model: WorldModel) -> None:
        self.model = model

    @property
    def name(self) -> str:
        return self.model.name

    @property
    def space(self) -> LatentSpace:
        return self.model.space

    @property
    def cfg(self) -> WFMConfig:
        return self.model.cfg

    def encode_video(self, frames: np.ndarray) -> torch.Tensor:
        return self.model.encode_video(frames)

    def decode(self, latents: torch.Tensor) -> np.ndarray:
        return self.model.decode(latents)

    @torch.no_grad()
    def generate(
        self,
        prompt: str,
        settings: Sampling,
        given: torch.Tensor,
        path: CameraPath | None = None,
        frames: int = 17,
        variants: int = 1,
        rays: torch.Tensor | None = None,
        progress: Callable[[int, int], None] | None = None,
        text: tuple[torch.Tensor, torch.Tensor] | None = None,
    ) -> torch.Tensor:
        """Normalized latents [variants, C, T', h, w]: ``given`` [1, C, Tg, h, w] continued for
        ``frames`` frames along ``path`` (or precomputed ``rays`` [1 or variants, 6, T', h, w]),
        variant i sampled from seed ``settings.seed + i``."""
        settings.check([prompt])
        if not 1 <= variants <= MAX_VARIANTS:
            raise CameraInputError(f"variants must be within 1..{MAX_VARIANTS}, got {variants}")
        if frames < 1 or (frames - 1) % TEMPORAL:
            raise CameraInputError(f"{frames} frames: generate 1 + 4k frames (5, 9, 13, 17, ...)")
        t = 1 + (frames - 1) // TEMPORAL
        if given.ndim != 5 or given.shape[0] != 1 or given.shape[1] != self.cfg.latent_channels:
            raise CameraInputError(f"condition latents must be [1, {self.cfg.latent_channels}, Tg, h, w], got "
                                   f"{list(given.shape)}")
        tg, h, w = given.shape[2:]
        if tg >= t:
            raise CameraInputError(f"the condition covers {1 + TEMPORAL * (tg - 1)} frames, nothing left to "
                                   f"generate in {frames}")
        if rays is None:
            if path is None:
                raise CameraInputError("give a camera path (or its rays)")
            rays = path.rays(frames, (h * 8, w * 8))
        check_rays(rays, (t, h, w))
        if rays.shape[0] not in (1, variants):
            raise CameraInputError(f"rays for {rays.shape[0]} paths, {variants} variants")
        if not torch.isfinite(rays).all():
            raise CameraInputError("rays: non-finite values")
        tokens, mask = text if text is not None else self.model.encode_text([prompt])
        return continue_clips(self.model, settings, given.expand(variants, -1, -1, -1, -1), t,
                              (tokens.expand(variants, -1, -1), mask.expand(variants, -1)),
                              [settings.seed + i for i in range(variants)],
                              rays.float().expand(variants, -1, -1, -1, -1), progress)


def continue_clips(
    model: WorldModel,
    settings: Sampling,
    given: torch.Tensor,
    latent_frames: int,
    text: tuple[torch.Tensor, torch.Tensor],
    seeds: list[int],
    rays: torch.Tensor | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> torch.Tensor:
    """Video2World for a batch: given latents [B, C, Tg, h, w] continued to ``latent_frames``,
    item i from noise of seed ``seeds[i]`` (so the same clip gets the same noise whichever
    model or batch), with ``rays`` [B, 6, T', h, w] for a camera-conditioned ``model`` (none:
    the base model). Returns normalized latents [B, C, T', h, w]."""
    b, c, tg, h, w = given.shape
    shape = (b, c, latent_frames, h, w)
    latents = torch.zeros(shape)
    latents[:, :, :tg] = given
    cond_mask = (torch.arange(latent_frames) < tg).float().reshape(1, 1, -1, 1, 1).expand(b, -1, -1, -1, -1)
    signals = {} if rays is None else {"rays": rays}
    cond = Condition(text[0], text[1], latents, cond_mask, settings.sigma_aug, signals)
    negative = None
    if settings.guidance > 0:
        neg = model.encode_text([settings.negative])
        negative = cond.repeat(neg[0].expand(b, -1, -1), neg[1].expand(b, -1))
    sigmas = karras_sigmas(settings.steps, settings.sigma_min, settings.sigma_max)
    # one generator per item: an item's noise does not depend on the batch it is in
    noise = torch.cat([torch.randn((1, *shape[1:]), generator=torch.Generator().manual_seed(seed))
                       for seed in seeds])
    with torch.random.fork_rng():
        torch.manual_seed(seeds[0])  # the given frames' augmentation noise
        return sample(guided(model.denoiser, cond, negative, settings.guidance), noise, sigmas,
                      settings.method, progress)


def load(name: str = DEFAULT, folder: Path | None = None) -> CameraModel:
    """The camera-conditioned model ``name`` (a catalog name or a path to its .json), checked
    to take rays and to match the installed tokenizer; ``folder``: look only there."""
    try:
        entry = catalog.find(name, folder=folder)
    except catalog.CheckpointError:
        catalog.find(name, "camera", folder)  # the same error, naming the camera models there are
        raise
    if entry.family not in ("wfm", "action", "camera"):
        raise files.CheckpointError(f"{entry.card}: a {entry.family} checkpoint, not a camera-conditioned model")
    return _load(entry.card, entry.version)  # a world model without rays is refused there, saying so


@cache
def _load(json_path: Path, version: str) -> CameraModel:
    meta = files.read_meta(json_path)
    try:
        cfg = WFMConfig.from_json(meta["config"])
    except (KeyError, TypeError, ValueError) as e:
        raise files.CheckpointError(f"{json_path}: not a world-model config ({e})") from None
    if cfg.ray_channels != RAY_CHANNELS:
        raise files.CheckpointError(f"{json_path}: not a camera-conditioned model (its config has ray_channels "
                                    f"{cfg.ray_channels}, the camera model takes {RAY_CHANNELS}); train one with "
                                    "worldgraph train camera")
    space = LatentSpace(cfg.tokenizer, cfg.sigma_data)
    if meta.get("latent_fingerprint") != space.fingerprint:
        raise files.CheckpointError(
            f"{json_path}: trained on the latents of another {cfg.tokenizer} encoder than the one installed "
            f"({catalog.find(cfg.tokenizer, 'tokenizer').card}); retrain it, or restore that tokenizer")
    net = files.load_into(DiT(cfg), json_path.with_suffix(".safetensors"), meta)
    assert isinstance(net, DiT)
    return CameraModel(WorldModel(net, space, cfg.name))


def path_of(poses: np.ndarray, intrinsics: np.ndarray, what: str = "camera path") -> CameraPath:
    """A checked CameraPath."""
    return CameraPath(check_poses(poses, what), check_intrinsics(intrinsics, what))

