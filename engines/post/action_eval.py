"""How well the action-conditioned model predicts the simulator, on held-out pusher clips.

Each held-out window of 17 frames starts from its first frame (one latent frame) and is
rolled out under the actions the pusher really took, 4 latent frames = 16 video frames.
The prediction is compared with the simulator's frames over the first 8 and all 16:
PSNR and SSIM of the decoded frames, and latent L2 (the root-mean-square difference of
the normalized latents, Cosmos's "latent L2"). Baselines on the same windows:
- no_action: the same model and seeds with every action zero (the pusher standing still,
  and, for a model that sees the pusher, its map showing it standing still);
- action_composite / no_action_composite: the same rollouts decoded where they change the
  scene and the given frame's pixels elsewhere (``action_api.composite_decode``, what the
  ActionVideo2World node's video shows): the background keeps the camera's pixels, so
  only what the model moves is compared through the tokenizer;
- copy_last_frame: the given frame held still;
- tokenizer_reconstruction: the truth through the tokenizer, our pipeline's ceiling.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from ..media.video import read_video
from ..metrics import psnr, ssim
from ..sim.dataset import read_manifest
from ..wfm.api import Sampling, WorldModel
from .action_api import composite_decode, rollout
from .action_train import WINDOW, window_actions, window_pusher

HORIZONS = (8, 16)
METHODS = ("action", "no_action", "action_composite", "no_action_composite", "copy_last_frame",
           "tokenizer_reconstruction")


def held_out_windows(data: Path, clips: int = 0) -> tuple[torch.Tensor, torch.Tensor, dict[str, torch.Tensor]]:
    """Real-style windows [N, 3, 17, H, W] in [-1, 1] (starts 0 and 16 of each clip, so they
    do not overlap), their actions [N, 4, 12], and the pusher's maps [N, 1, 5, h, w] as the
    actions move it ("action") and standing still ("no_action")."""
    records = read_manifest(data)[: clips or None]
    if not records:
        raise ValueError(f"{data}: no finished clips to evaluate on")
    videos, actions = [], []
    maps: dict[str, list[torch.Tensor]] = {"action": [], "no_action": []}
    for r in records:
        folder = data / "clips" / r["id"]
        frames, _ = read_video(folder / "rgb.mp4")
        starts = [s for s in (0, 16) if s + WINDOW <= len(frames)]
        if not starts:
            raise ValueError(f"{folder / 'rgb.mp4'}: {len(frames)} frames, fewer than {WINDOW}")
        video = torch.from_numpy(frames).permute(3, 0, 1, 2).float() / 127.5 - 1
        videos += [video[:, s : s + WINDOW] for s in starts]
        actions.append(window_actions(folder, starts)["actions"])
        maps["action"].append(window_pusher(folder, starts)["pusher"])
        maps["no_action"].append(window_pusher(folder, starts, still=True)["pusher"])
    return torch.stack(videos), torch.cat(actions), {k: torch.cat(v)[:, None] for k, v in maps.items()}


def metrics(pred: torch.Tensor, truth: torch.Tensor, z_pred: torch.Tensor, z_true: torch.Tensor,
            horizon: int) -> dict[str, float]:
    """Per-window means over frames 1..horizon: videos [N, 3, T, H, W] in [-1, 1], latents [N, C, T', h, w]."""
    a = (pred[:, :, 1 : horizon + 1] + 1) / 2
    b = (truth[:, :, 1 : horizon + 1] + 1) / 2
    frames_a = a.permute(0, 2, 1, 3, 4).flatten(0, 1)  # [N*horizon, 3, H, W]
    frames_b = b.permute(0, 2, 1, 3, 4).flatten(0, 1)
    latent = 1 + horizon // 4
    l2 = (z_pred[:, :, 1:latent] - z_true[:, :, 1:latent]).pow(2).mean(dim=(1, 2, 3, 4)).sqrt()
    return {"psnr": psnr(frames_a, frames_b).mean().item(), "ssim": ssim(frames_a, frames_b).mean().item(),
            "latent_l2": l2.mean().item()}


def evaluate(
    model: WorldModel,
    data: Path,
    settings: Sampling,
    clips: int = 0,
    batch: int = 16,
    progress: Callable[[str, int, int], None] | None = None,
) -> dict[str, Any]:
    """The table: method -> horizon ("8", "16") -> metric, plus seconds per window."""
    videos, actions, maps = held_out_windows(data, clips)
    space = model.space
    z_true = torch.cat([space.encode(videos[i : i + batch]) for i in range(0, len(videos), batch)])
    made: dict[str, torch.Tensor] = {}
    seconds: dict[str, float] = {}
    for method in ("action", "no_action"):
        start, parts = time.time(), []
        for i in range(0, len(videos), batch):
            acts = actions[i : i + batch] if method == "action" else torch.zeros_like(actions[i : i + batch])
            pusher = maps[method][i : i + batch] if model.cfg.map_channels else None
            parts.append(rollout(model, z_true[i : i + batch, :, :1], acts, settings, pusher=pusher))
            if progress:
                progress(method, min(i + batch, len(videos)), len(videos))
        made[method] = torch.cat(parts)
        seconds[method] = (time.time() - start) / len(videos)
    still = videos[:, :, :1].expand_as(videos)
    made["copy_last_frame"] = torch.cat([space.encode(still[i : i + batch]) for i in range(0, len(videos), batch)])
    made["tokenizer_reconstruction"] = z_true
    table: dict[str, Any] = {}
    for method in METHODS:
        rolled = method.removesuffix("_composite")
        z = made[rolled]
        if method == "copy_last_frame":
            video = still
        elif method != rolled:
            video = torch.cat([composite_decode(model, z[i : i + batch], videos[i : i + batch, :, :1])
                               for i in range(0, len(z), batch)])
        else:
            video = torch.cat([space.decode(z[i : i + batch]) for i in range(0, len(z), batch)])
        table[method] = {str(h): metrics(video, videos, z, z_true, h) for h in HORIZONS}
        if method in seconds:
            table[method]["seconds_per_window"] = round(seconds[method], 3)
    return {"model": model.name, "windows": len(videos), "data": str(data), "steps": settings.steps,
            "seed": settings.seed, "methods": table}


def format_table(result: dict[str, Any]) -> str:
    lines = [f"{result['model']} on {result['windows']} held-out windows ({result['data']}), "
             f"{result['steps']} sampler steps a latent frame",
             f"{'method':<26}" + "".join(f"{m + '@' + h:>13}" for h in map(str, HORIZONS)
                                          for m in ("PSNR", "SSIM", "latentL2"))]
    for method, row in result["methods"].items():
        cells = "".join(f"{row[str(h)][k]:>13.4f}" for h in HORIZONS for k in ("psnr", "ssim", "latent_l2"))
        lines.append(f"{method:<26}{cells}")
    return "\n".join(lines)

