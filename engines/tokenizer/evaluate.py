"""Tokenizer quality and speed on held-out clips: PSNR, SSIM, PSNR per frame, codebook
usage, encode / decode time."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from ..media.video import read_video
from ..metrics import motion_iou, psnr, ssim
from ..sim.dataset import read_manifest
from .api import check_frames
from .model import Tokenizer


def evaluate(
    model: Tokenizer,
    data: Path,
    clips: int = 0,
    frames: int = 17,
    videos: tuple[str, ...] = ("rgb.mp4", "rgb_plain.mp4"),
    progress: Callable[[int, int], None] | None = None,
    start: int = 0,
) -> dict[str, Any]:
    """Reconstruct ``frames`` frames from frame ``start`` of every clip (both styles) one at
    a time. A later start puts the first, separately coded frame in mid-motion, which tells
    the causal first-frame effect apart from the motion of the clips' first frames."""
    check_frames(frames)
    if start < 0:
        raise ValueError(f"start {start}: give a frame index >= 0")
    records = read_manifest(data)[: clips or None]
    if not records:
        raise ValueError(f"{data}: no finished clips to evaluate on")
    per_frame: list[torch.Tensor] = []
    ssims: list[torch.Tensor] = []
    motion: list[float] = []
    encode_s, decode_s, used, n = 0.0, 0.0, set(), 0
    total = len(records) * len(videos)
    with torch.no_grad():
        for r in records:
            for name in videos:
                path = data / "clips" / r["id"] / name
                if not path.exists():
                    continue
                video, _ = read_video(path, max_frames=start + frames)
                if len(video) < start + frames:
                    raise ValueError(f"{path}: {len(video)} frames, fewer than {start + frames} "
                                     f"({frames} from frame {start})")
                video = video[start:]
                x = torch.from_numpy(video).permute(3, 0, 1, 2)[None].float() / 127.5 - 1
                t0 = time.perf_counter()
                z = model.encode(x)
                t1 = time.perf_counter()
                y = model.decode(z).clamp(-1, 1)
                t2 = time.perf_counter()
                encode_s, decode_s, n = encode_s + t1 - t0, decode_s + t2 - t1, n + 1
                if model.fsq is not None:
                    used.update(model.fsq.indices(z).unique().tolist())
                a, b = (x[0].transpose(0, 1) + 1) / 2, (y[0].transpose(0, 1) + 1) / 2  # [T, 3, H, W]
                per_frame.append(psnr(a, b))
                ssims.append(ssim(a, b))
                if (iou := motion_iou(a, b)) is not None:
                    motion.append(iou)
                if progress:
                    progress(n, total)
    curve = torch.stack(per_frame).mean(0)  # PSNR of frame t averaged over clips
    result: dict[str, Any] = {
        "model": model.cfg.name,
        "clips": len(records),
        "videos": n,
        "frames": frames,
        "start": start,
        "psnr": round(torch.cat(per_frame).mean().item(), 3),
        "ssim": round(torch.cat(ssims).mean().item(), 4),
        "psnr_per_frame": [round(v, 2) for v in curve.tolist()],
        "first_frame_psnr": round(curve[0].item(), 3),
        "other_frames_psnr": round(curve[1:].mean().item(), 3) if frames > 1 else None,
        "motion_iou": round(sum(motion) / len(motion), 3) if motion else None,
        "encode_ms": round(encode_s / n * 1e3, 1),
        "decode_ms": round(decode_s / n * 1e3, 1),
    }
    if model.fsq is not None:
        result["codebook_usage"] = round(len(used) / model.cfg.vocabulary, 4)
        result["codes_used"] = len(used)
    return result
