"""Training data for the world model: a scene dataset's clips encoded once by the frozen
tokenizer, with their captions' MiniLM token embeddings and the empty prompt's (what
classifier-free guidance drops a caption to), cached in one safetensors file, so training
needs neither the tokenizer's decoder nor the text encoder.

Diffusion trains on normalized latents (z − mean) / std · σ_data, with the per-channel
statistics the tokenizer checkpoint ships. Windows of 17 frames start at frame 0 and, for
longer clips, every 8 frames after it; both RGB styles are used.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from ..media.video import read_video
from ..sim.dataset import read_manifest
from ..text import minilm
from ..tokenizer import checkpoint as tokenizers

STYLES = ("rgb.mp4", "rgb_plain.mp4")


def fingerprint(model: torch.nn.Module, prefixes: tuple[str, ...] = ("encoder.", "latent_")) -> str:
    """sha256 of the weights whose names start with ``prefixes``. For the latent space: the
    encoder's weights and the latent statistics. A retrained decoder keeps it; anything
    that moves the latents changes it."""
    digest = hashlib.sha256()
    state = model.state_dict()
    for key in sorted(k for k in state if k.startswith(prefixes)):
        digest.update(key.encode())
        digest.update(state[key].half().numpy().tobytes())
    return digest.hexdigest()


class LatentSpace:
    """A tokenizer plus the normalization the world model sees its latents in."""

    def __init__(self, tokenizer: str, sigma_data: float = 0.5) -> None:
        self.name = tokenizer
        self.model = tokenizers.load(tokenizer)
        if self.model.fsq is not None:
            raise ValueError(f"{tokenizer} is a discrete tokenizer; the diffusion model needs continuous latents")
        self.mean = self.model.latent_mean.reshape(1, -1, 1, 1, 1).float()
        self.std = self.model.latent_std.reshape(1, -1, 1, 1, 1).float()
        self.sigma_data = sigma_data
        self.fingerprint = fingerprint(self.model)

    @property
    def channels(self) -> int:
        return self.model.cfg.code_channels

    @torch.no_grad()
    def encode(self, video: torch.Tensor) -> torch.Tensor:
        """[B, 3, T, H, W] in [-1, 1] -> normalized latents [B, C, T', h, w]."""
        return self.normalized(self.model.encode(video))

    def normalized(self, latents: torch.Tensor) -> torch.Tensor:
        """The tokenizer's own latents -> what the world model sees."""
        return (latents - self.mean) / self.std * self.sigma_data

    def raw(self, latents: torch.Tensor) -> torch.Tensor:
        """Normalized latents -> the tokenizer's own latents (what the Decode node takes)."""
        return latents / self.sigma_data * self.std + self.mean

    @torch.no_grad()
    def decode(self, latents: torch.Tensor) -> torch.Tensor:
        """Normalized latents -> video in [-1, 1]."""
        return self.model.decode(self.raw(latents)).clamp(-1, 1)


def window_starts(frames: int, window: int = 17, stride: int = 8) -> list[int]:
    return list(range(0, frames - window + 1, stride))


def build_cache(
    data: Path,
    space: LatentSpace,
    out: Path,
    window: int = 17,
    progress: Callable[[int, int], None] | None = None,
) -> Path:
    """Encode every window of every clip of ``data`` into ``out`` (safetensors)."""
    return encode_windows(data, lambda video: space.encode(video).half(), out,
                          {"tokenizer": space.name, "latent_fingerprint": space.fingerprint}, window, progress)


def encode_windows(
    data: Path,
    encode: Callable[[torch.Tensor], torch.Tensor],
    out: Path,
    meta: dict[str, str],
    window: int = 17,
    progress: Callable[[int, int], None] | None = None,
    extras: Callable[[Path, list[int]], dict[str, torch.Tensor]] | None = None,
) -> Path:
    """``encode`` ([k, 3, window, H, W] in [-1, 1] -> k items) over the windows of each
    clip of ``data``, saved to ``out`` as ``latents`` with the captions' MiniLM tokens.
    ``extras`` (clip folder, window starts -> tensors [k, ...]) adds what else each window
    needs (its actions, its camera path) under those names."""
    from safetensors.torch import save_file

    from ..media.files import atomic_output

    records = read_manifest(data)
    if not records:
        raise ValueError(f"{data}: no finished clips to train on (no manifest lines)")
    latents: list[torch.Tensor] = []
    caption_ids: list[int] = []
    captions: list[str] = []
    index: dict[str, int] = {}
    side: dict[str, list[torch.Tensor]] = {}
    for i, r in enumerate(records):
        caption = r.get("caption", "")
        if caption not in index:
            index[caption] = len(captions)
            captions.append(caption)
        for style in STYLES:
            path = data / "clips" / r["id"] / style
            if not path.exists():
                continue
            frames, _ = read_video(path)
            video = torch.from_numpy(frames).permute(3, 0, 1, 2).float() / 127.5 - 1  # [3, T, H, W]
            starts = window_starts(video.shape[1], window)
            if starts:
                with torch.no_grad():
                    latents.extend(encode(torch.stack([video[:, s : s + window] for s in starts])))
                caption_ids.extend([index[caption]] * len(starts))
                for name, values in (extras(path.parent, starts) if extras else {}).items():
                    side.setdefault(name, []).extend(values)
        if progress:
            progress(i + 1, len(records))
    if not latents:
        raise ValueError(f"{data}: no clip has {window} frames")
    text, mask = minilm().tokens([*captions, ""])
    tensors = {
        "latents": torch.stack(latents).contiguous(),
        "caption_ids": torch.tensor(caption_ids, dtype=torch.int32),
        "text": text[:-1].half().contiguous(),
        "text_mask": mask[:-1].clone(),
        "null_text": text[-1:].half().contiguous(),
        "null_mask": mask[-1:].clone(),
    } | {name: torch.stack(values).contiguous() for name, values in side.items()}
    with atomic_output(out) as tmp:
        save_file(tensors, str(tmp), metadata={"data": str(data), "window": str(window)} | meta)
    return out


def load_cache(path: Path, space: LatentSpace) -> dict[str, Any]:
    """The cached tensors, or a ValueError if they were made with another tokenizer."""
    from safetensors import safe_open

    with safe_open(str(path), "pt") as f:
        meta = f.metadata()
        if meta.get("latent_fingerprint") != space.fingerprint:
            raise ValueError(f"{path}: made with another tokenizer checkpoint; delete it to re-encode")
        if "null_text" not in f.keys():  # noqa: SIM118
            raise ValueError(f"{path}: made by an older worldgraph (no empty-prompt embedding); "
                             "delete it to re-encode")
        return {k: f.get_tensor(k) for k in f.keys()} | {"meta": meta}  # noqa: SIM118 (safe_open is not iterable)
