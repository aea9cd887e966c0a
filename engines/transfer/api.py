"""Transfer with the shipped branches: control videos and their weights (a number or a map)
in, the world model's latents out, every input checked with a message that names it."""

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
from ..wfm.api import Sampling, WFMInputError, WorldModel
from ..wfm.edm import Denoiser
from ..wfm.model import DiT
from .model import MODALITIES, Control, ControlBranch, ControlConfig, ControlledDiT
from .train import checkpoint_name


@dataclass(frozen=True, eq=False)
class ControlInput:
    """One modality's control video, uint8 [T, H, W, 3], and its weight: a number, or a map
    float [T, H, W] or [H, W] (static) of per-pixel weights, scaled by ``scale``."""

    modality: str
    frames: np.ndarray
    weight: float | np.ndarray = 1.0
    scale: float = 1.0


def installed() -> list[str]:
    """The modalities the catalog has a branch for (``controlnet-<modality>``)."""
    have = set(catalog.names("controlnet"))
    return [m for m in MODALITIES if checkpoint_name(m) in have]


def load_branch(modality: str, world: WorldModel, folder: Path | None = None) -> ControlBranch:
    """The ``modality`` branch (from the catalog, or only ``folder``), checked to belong to
    ``world``'s checkpoint."""
    if modality not in MODALITIES:
        raise WFMInputError(f"unknown control modality {modality!r}; modalities: {', '.join(MODALITIES)}")
    entry = catalog.find(checkpoint_name(modality), "controlnet", folder)
    return _branch(entry.card, entry.sha256, world.net, world.name)


def branch_of(card: Path, world: WorldModel) -> ControlBranch:
    """The branch of the checkpoint ``card`` (a .json), checked to belong to ``world``'s checkpoint."""
    return _branch(card, catalog.entry_of(card, expect="controlnet").version, world.net, world.name)


def forget_loaded() -> None:
    """Drop the branches loaded so far (after their files were replaced)."""
    _branch.cache_clear()


@cache
def _branch(json_path: Path, version: str, net: DiT, name: str) -> ControlBranch:
    meta = files.read_meta(json_path)
    cfg = ControlConfig.from_json(meta.get("config", {}))
    if meta.get("base_sha256") != catalog.find(name, "wfm").sha256:
        raise files.CheckpointError(f"{json_path}: trained on another {cfg.base} checkpoint than the one installed; "
                                    f"retrain it ({meta.get('command', 'worldgraph train controlnet')})")
    branch = files.load_into(ControlBranch(net, cfg), json_path.with_suffix(".safetensors"), meta)
    assert isinstance(branch, ControlBranch)
    return branch


def latent_weight(weight: float | np.ndarray, frames: int, size: tuple[int, int],
                  modality: str) -> float | torch.Tensor:
    """A number as is; a map [T, H, W] or [H, W] averaged over each latent frame's frames
    (the first alone, then groups of 4) and over 8x8 pixels -> [1, 1, T', H/8, W/8]."""
    if np.isscalar(weight):
        value = float(weight)  # type: ignore[arg-type]
        if not value >= 0:
            raise WFMInputError(f"{modality} weight must be >= 0, got {value:g}")
        return value
    w = np.asarray(weight, dtype=np.float32)
    h, wd = size
    if w.ndim == 2:
        w = np.broadcast_to(w, (frames, *w.shape))
    if w.shape != (frames, h, wd):
        raise WFMInputError(f"{modality} weight map is {'x'.join(map(str, w.shape))}; it must match the "
                            f"controls: [T, H, W] = {frames}x{h}x{wd} or [H, W] = {h}x{wd}")
    if not np.isfinite(w).all() or (w < 0).any():
        raise WFMInputError(f"{modality} weight map has negative or non-finite values")
    groups = [w[:1]] + [w[1 + TEMPORAL * k : 1 + TEMPORAL * (k + 1)] for k in range((frames - 1) // TEMPORAL)]
    per_frame = np.stack([g.mean(0) for g in groups])  # [T', H, W]
    pooled = per_frame.reshape(len(groups), h // 8, 8, wd // 8, 8).mean((2, 4))
    return torch.from_numpy(pooled)[None, None]


def transfer(
    world: WorldModel,
    prompt: str,
    controls: list[ControlInput],
    settings: Sampling,
    frames: int = 17,
    input_video: np.ndarray | None = None,
    text: tuple[torch.Tensor, torch.Tensor] | None = None,
    progress: Callable[[int, int], None] | None = None,
    folder: Path | None = None,
) -> torch.Tensor:
    """Normalized latents [1, C, T', h, w] of ``frames`` frames steered by ``controls``; with
    ``input_video`` the sampler starts from it noised to σ_max instead of from pure noise."""
    if not controls:
        raise WFMInputError("Transfer needs at least one control video (vis, edge, depth or seg)")
    if (frames - 1) % TEMPORAL or frames < 1:
        raise WFMInputError(f"{frames} frames: Transfer makes 1 + 4k frames (5, 9, 13, 17, ...)")
    videos = [(c.modality, c.frames) for c in controls] + ([("input", input_video)] if input_video is not None else [])
    size = controls[0].frames.shape[1:3]
    for name, video in videos:
        if video.ndim != 4 or video.shape[-1] != 3:
            raise WFMInputError(f"{name} video must be frames [T, H, W, 3], got shape {tuple(video.shape)}")
        if len(video) < frames:
            raise WFMInputError(f"{name} video has {len(video)} frames; Transfer makes {frames} (set frames <= "
                                f"{len(video)} or give a longer video)")
        if video.shape[1:3] != size:
            raise WFMInputError(f"{name} video is {video.shape[2]}x{video.shape[1]} but {controls[0].modality} is "
                                f"{size[1]}x{size[0]}: give every control at one size (none is resampled)")
    seen = [c.modality for c in controls]
    if len(set(seen)) != len(seen):
        raise WFMInputError(f"a modality is given twice: {', '.join(seen)}")
    steering = []
    for c in controls:
        weight = latent_weight(c.weight, frames, size, c.modality)
        weight = weight * c.scale
        hint = world.encode_video(c.frames[:frames])
        steering.append(Control(load_branch(c.modality, world, folder), hint, weight))
    if all(float(torch.as_tensor(s.weight).max()) <= 0 for s in steering):
        raise WFMInputError("every control weight is zero: nothing would steer the clip; raise a weight "
                            "(or use Text2World)")
    denoiser = Denoiser(ControlledDiT(world.net, steering), world.cfg.sigma_data)
    start = world.encode_video(input_video[:frames]) if input_video is not None else None
    return world.generate([prompt], settings, frames=frames, grid=(size[0] // 8, size[1] // 8), progress=progress,
                          text=text, denoiser=denoiser, start=start)
