"""Training data for the camera-conditioned world model: the base world model's latent
cache (same windows, same order) plus, per window, the Plücker rays of its camera path and
its caption without the camera clause.

Why the caption loses its camera clause ("...; the camera orbits right"): the rays say
what the camera does; a prompt that says it too would let the model follow the text and
ignore the rays. Prompts then describe the scene, as a user of a camera-control node
writes them.

Why rays are added to a base cache rather than encoded beside the latents: encoding the
6000 training windows is the slow part (~15 min on 16 cores); a base run's cache of the
same dataset is reused as it is (its fingerprint is checked), and the rays, cheap to
compute from camera.json, follow the same traversal. The caption ids of that traversal
must match the cache's, which catches a cache made from another dataset or order.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..media.files import atomic_output
from ..sim.dataset import read_manifest
from ..text import minilm
from ..wfm.data import STYLES, LatentSpace, build_cache, load_cache, window_starts
from .camera import plucker

CAMERA_CLAUSE = re.compile(r"\s*;?\s*the camera [^;]*$")


def scene_caption(caption: str) -> str:
    """The caption without its trailing camera clause: 'a ball falls; the camera pans left' -> 'a ball falls'."""
    return CAMERA_CLAUSE.sub("", caption).strip()


def clip_camera(clip: Path) -> tuple[np.ndarray, np.ndarray, tuple[int, int]]:
    """A clip's world-from-camera poses [T, 4, 4], intrinsics [3, 3] and frame size (height, width)."""
    path = clip / "camera.json"
    try:
        data = json.loads(path.read_text())
        poses = np.asarray(data["world_from_camera"], dtype=np.float64)
        intrinsics = np.asarray(data["intrinsics"], dtype=np.float64)
        size = (int(data.get("height", 64)), int(data.get("width", 64)))
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise ValueError(f"{path}: cannot read the camera path ({e})") from None
    return poses, intrinsics, size


def window_rays(clip: Path, starts: list[int], window: int = 17) -> list[torch.Tensor]:
    """Rays [6, T', h, w] (fp16) of each window of a clip, relative to the window's first frame."""
    poses, intrinsics, size = clip_camera(clip)
    return [torch.from_numpy(plucker(poses[s : s + window], intrinsics, size, frames=window)).half() for s in starts]


def camera_extras(data: Path, window: int = 17) -> tuple[list[torch.Tensor], list[int], list[str]]:
    """Rays per window, caption id per window and the captions, in the base cache's order
    (records, then styles present, then window starts; captions indexed on first sight)."""
    rays: list[torch.Tensor] = []
    caption_ids: list[int] = []
    captions: list[str] = []
    index: dict[str, int] = {}
    for r in read_manifest(data):
        caption = r.get("caption", "")
        if caption not in index:
            index[caption] = len(captions)
            captions.append(caption)
        clip = data / "clips" / r["id"]
        styles = [s for s in STYLES if (clip / s).exists()]
        if not styles:
            continue
        poses, _, _ = clip_camera(clip)
        starts = window_starts(len(poses), window)
        one = window_rays(clip, starts, window)
        for _ in styles:
            rays.extend(one)
            caption_ids.extend([index[caption]] * len(starts))
    return rays, caption_ids, captions


def add_camera(path: Path, data: Path, space: LatentSpace) -> dict[str, Any]:
    """Add ``rays`` and scene-only caption embeddings to the base latent cache at ``path``
    (rewritten in place); returns the cache."""
    from safetensors.torch import save_file

    cache = load_cache(path, space)
    meta = cache.pop("meta")
    window = int(meta.get("window", 17))
    rays, caption_ids, captions = camera_extras(data, window)
    cached_ids = cache["caption_ids"].tolist()
    if len(rays) != len(cached_ids) or caption_ids != cached_ids:
        raise ValueError(f"{path}: its windows are not those of {data} ({len(cached_ids)} cached, {len(rays)} "
                         "there); delete it to re-encode")
    text, mask = minilm().tokens([scene_caption(c) for c in captions])
    cache |= {"rays": torch.stack(rays).contiguous(), "scene_text": text.half().contiguous(),
              "scene_mask": mask.clone()}
    with atomic_output(path) as tmp:
        save_file(cache, str(tmp), metadata=meta | {"camera": "rays+scene_text"})
    return cache | {"meta": meta}


def camera_cache(data: Path, space: LatentSpace, path: Path,
                 progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """The camera cache at ``path``: encoded first when missing (a base run's cache of the same
    dataset copied there is used as it is), rays added when missing."""
    if not path.exists():
        build_cache(data, space, path, progress=progress)
    cache = load_cache(path, space)
    if "rays" not in cache:
        cache = add_camera(path, data, space)
    return cache
