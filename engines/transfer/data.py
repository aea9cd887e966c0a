"""Training pairs for a ControlNet branch, encoded once and cached in one safetensors file:
the target (the clip's `real` render) and the hint (its control video, made with random
augmentation), both as the world model's normalized latents, plus the captions' MiniLM
token embeddings and the empty prompt's."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..media.files import atomic_output
from ..media.video import read_video
from ..sim.captions import with_floor
from ..sim.dataset import read_manifest
from ..sim.scene import read_floor_pattern
from ..text import minilm
from ..wfm.data import LatentSpace
from .controls import control_video


def to_input(frames: np.ndarray) -> torch.Tensor:
    """uint8 [T, H, W, 3] -> [1, 3, T, H, W] in [-1, 1]."""
    return torch.from_numpy(frames).permute(3, 0, 1, 2).float()[None] / 127.5 - 1


def build_cache(
    data: Path,
    space: LatentSpace,
    modality: str,
    out: Path,
    frames: int = 17,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
    floor_words: bool = False,
) -> Path:
    """Encode the first ``frames`` frames of every clip of ``data``: target and ``modality`` hint;
    with ``floor_words`` each caption also says the floor's texture, read off the clip's scene."""
    from safetensors.torch import save_file

    records = read_manifest(data)
    if not records:
        raise ValueError(f"{data}: no finished clips to train on (no manifest lines)")
    rng = np.random.default_rng(seed)
    targets, hints, caption_ids, captions = [], [], [], [""]
    for i, r in enumerate(records):
        clip = data / "clips" / r["id"]
        real = read_video(clip / "rgb.mp4")[0][:frames]
        if len(real) < frames:
            continue
        with torch.no_grad():
            targets.append(space.encode(to_input(real))[0].half())
            hints.append(space.encode(to_input(control_video(modality, clip, 0, frames, rng)))[0].half())
        caption_ids.append(len(captions))
        captions.append(clip_caption(clip, r, floor_words))
        if progress:
            progress(i + 1, len(records))
    if not targets:
        raise ValueError(f"{data}: no clip has {frames} frames")
    text, mask = minilm().tokens(captions)  # the first is the empty prompt
    tensors = {
        "latents": torch.stack(targets).contiguous(),
        "hints": torch.stack(hints).contiguous(),
        "caption_ids": torch.tensor(caption_ids, dtype=torch.int32),
        "text": text.half().contiguous(),
        "text_mask": mask.contiguous(),
        "null_text": text[:1].half().clone(),
        "null_mask": mask[:1].clone(),
    }
    with atomic_output(out) as tmp:
        save_file(tensors, str(tmp), metadata={"data": str(data), "modality": modality, "tokenizer": space.name,
                                               "latent_fingerprint": space.fingerprint, "frames": str(frames),
                                               "floor_words": str(floor_words)})
    return out


def clip_caption(clip: Path, record: dict[str, Any], floor_words: bool) -> str:
    caption = record.get("caption", "")
    return with_floor(caption, read_floor_pattern(clip / "scene.usda")) if floor_words else caption


def load_cache(path: Path, space: LatentSpace, modality: str, floor_words: bool = False) -> dict[str, Any]:
    """The cached tensors, or a ValueError if they were made for another tokenizer, modality
    or kind of caption."""
    from safetensors import safe_open

    with safe_open(str(path), "pt") as f:
        meta = f.metadata()
        if meta.get("latent_fingerprint") != space.fingerprint:
            raise ValueError(f"{path}: made with another tokenizer checkpoint; delete it to re-encode")
        if meta.get("modality") != modality:
            raise ValueError(f"{path}: holds {meta.get('modality')} controls, not {modality}; use another run folder")
        if meta.get("floor_words", "False") != str(floor_words):
            raise ValueError(f"{path}: its captions {'do not say' if floor_words else 'say'} the floor's texture, "
                             f"the recipe's {'do' if floor_words else 'do not'}; use another run folder")
        return {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118 (safe_open is not iterable)
