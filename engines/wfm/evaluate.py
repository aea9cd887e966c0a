"""Physics-IQ-style evaluation of the world model against the simulator.

The table: method -> metric -> conditioning length ("1", "2": latent frames given).

For every held-out clip (real style) and each conditioning length, the model continues the
given frames and the continuation is compared with the simulator's frames by the
Physics-IQ metrics (motion-mask IoUs and MSE) plus PSNR / SSIM. Baselines, on the same
frames:
- copy_first_frame: the last given frame held still (the first frame when one is given);
- tokenizer_reconstruction: the truth through the tokenizer, the best our pipeline can do;
- physical_variance: the same scene simulated again with every dynamic body moved by a
  millimetre-scale random offset, the stand-in for Physics-IQ's second real take; its
  agreement with the truth defines 100 %.
The Physics-IQ-style score of a method is the mean of its three IoUs and of the inverse
MSE, each as a fraction of physical variance's (capped at 1), in percent.

Text2World prompt adherence: each held-out caption is generated from text alone and the
decoded frames are checked for the chromatic colours it names (see ``colours``).
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..media.video import read_video
from ..metrics import motion_masks, psnr, spatial_iou, spatiotemporal_iou, ssim, weighted_spatial_iou
from ..sim.dataset import read_manifest
from .api import Sampling, WorldModel
from .colours import adheres, named

METRICS = ("mse", "psnr", "ssim", "spatial_iou", "spatiotemporal_iou", "weighted_spatial_iou")
IOUS = ("spatial_iou", "spatiotemporal_iou", "weighted_spatial_iou")


def compare(pred: np.ndarray, truth: np.ndarray, given_frames: int) -> dict[str, float | None]:
    """Metrics of a continuation: uint8 clips [T, H, W, 3], the first ``given_frames`` given.
    Motion masks start at the last given frame, so the first generated step counts."""
    a = torch.from_numpy(pred).permute(0, 3, 1, 2).float() / 255
    b = torch.from_numpy(truth).permute(0, 3, 1, 2).float() / 255
    ma, mb = motion_masks(a[given_frames - 1 :]), motion_masks(b[given_frames - 1 :])
    fa, fb = a[given_frames:], b[given_frames:]
    return {
        "mse": (fa - fb).pow(2).mean().item(),
        "psnr": psnr(fa, fb).mean().item(),
        "ssim": ssim(fa, fb).mean().item(),
        "spatial_iou": spatial_iou(ma, mb),
        "spatiotemporal_iou": spatiotemporal_iou(ma, mb),
        "weighted_spatial_iou": weighted_spatial_iou(ma, mb),
    }


def retake(clip: Path, record: dict[str, Any], jitter: float) -> np.ndarray | None:
    """The clip's scene simulated again with its bodies' starts moved by ~``jitter`` metres
    (real style, uint8 [T, H, W, 3]); None when the scene cannot be rebuilt exactly or the
    moved bodies make the simulation diverge (a body nudged into another one)."""
    from ..sim.pipeline import ClipSettings, make_clip
    from ..sim.randomize import RandomizeConfig, random_scene
    from ..sim.simulate import SimulationDiverged

    meta = json.loads((clip / "metadata.json").read_text())
    if meta.get("scene") != "randomized":
        return None
    values: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in meta["settings"].items()}
    settings = ClipSettings(**values)
    with tempfile.TemporaryDirectory() as work:
        source = random_scene(Path(work) / "source.usda", int(meta["seed"]), RandomizeConfig())
        try:
            made = make_clip(source, replace(settings, styles=("real",)), int(meta["seed"]), jitter=jitter)
        except SimulationDiverged:
            return None
    if [b.path for b in made.scene.bodies] != [b["path"] for b in meta["bodies"]]:
        return None  # made with another randomization config than the default
    return made.render.rgb["real"]


def _mean(values: list[float | None]) -> float | None:
    kept = [v for v in values if v is not None]
    return round(float(np.mean(kept)), 4) if kept else None


def score(method: dict[str, float | None], reference: dict[str, float | None]) -> float | None:
    """Physics-IQ-style score in percent of physical variance (100 = as good as a retake)."""
    parts = []
    for key in IOUS:
        value, ref = method[key], reference[key]
        if value is not None and ref:
            parts.append(min(1.0, value / ref))
    value, ref = method["mse"], reference["mse"]
    if value and ref is not None:
        parts.append(min(1.0, ref / value))
    return round(100 * float(np.mean(parts)), 1) if parts else None


Continuation = Callable[[list[int], int], np.ndarray]
"""(held-out clip indices, latent frames given) -> their continuations, uint8 [b, T, H, W, 3]."""


def held_out(data: Path, clips: int = 0, frames: int = 17) -> tuple[list[dict[str, Any]], list[np.ndarray]]:
    """The manifest records of the first ``clips`` finished clips of ``data`` and their
    real-style videos (uint8 [frames, H, W, 3])."""
    records = read_manifest(data)[: clips or None]
    if not records:
        raise ValueError(f"{data}: no finished clips to evaluate on")
    truths = []
    for r in records:
        path = data / "clips" / r["id"] / "rgb.mp4"
        video, _ = read_video(path, max_frames=frames)
        if len(video) < frames:
            raise ValueError(f"{path}: {len(video)} frames, fewer than {frames}")
        truths.append(video)
    return records, truths


def as_input(truths: list[np.ndarray]) -> torch.Tensor:
    """uint8 videos -> the tokenizers' input [N, 3, T, H, W] in [-1, 1]."""
    return torch.from_numpy(np.stack(truths)).permute(0, 4, 1, 2, 3).float() / 127.5 - 1


def physics_table(
    data: Path,
    records: list[dict[str, Any]],
    truths: list[np.ndarray],
    methods: dict[str, Continuation],
    references: dict[str, np.ndarray],
    frames: int = 17,
    given: tuple[int, ...] = (1, 2),
    batch: int = 8,
    jitter: float = 0.002,
    progress: Callable[[str, int, int], None] | None = None,
) -> dict[str, Any]:
    """method -> metric -> conditioning for every continuation method, every reference
    (clips compared as they are, e.g. tokenizer reconstructions), copy-first-frame and
    physical variance; each method also gets its seconds per clip."""
    n = len(truths)
    takes = []
    for i, r in enumerate(records):
        take = retake(data / "clips" / r["id"], r, jitter)
        takes.append(None if take is None else take[:frames])
        if progress:
            progress("physical variance", i + 1, n)

    rows: dict[str, dict[str, list[dict[str, float | None]]]] = {}
    seconds: dict[str, float] = {}

    def add(method: str, cond: str, m: dict[str, float | None]) -> None:
        rows.setdefault(method, {}).setdefault(cond, []).append(m)

    for g in given:
        cond, shown = str(g), 1 + 4 * (g - 1)
        for method, continuation in methods.items():
            generated = []
            for start in range(0, n, batch):
                t0 = time.perf_counter()
                generated.append(continuation(list(range(start, min(start + batch, n))), g))
                seconds[method] = seconds.get(method, 0.0) + time.perf_counter() - t0
                if progress:
                    progress(f"{method}, {shown} frame(s) given", min(start + batch, n), n)
            for i, video in enumerate(np.concatenate(generated)):
                add(method, cond, compare(video, truths[i], shown))
        for i in range(n):
            still = np.repeat(truths[i][shown - 1 : shown], frames, axis=0)
            still[:shown] = truths[i][:shown]
            add("copy_first_frame", cond, compare(still, truths[i], shown))
            for name, videos in references.items():
                add(name, cond, compare(videos[i], truths[i], shown))
            if (take := takes[i]) is not None:
                add("physical_variance", cond, compare(take, truths[i], shown))

    table: dict[str, Any] = {}
    for method, by_cond in rows.items():
        for cond, ms in by_cond.items():
            for k in METRICS:
                table.setdefault(method, {}).setdefault(k, {})[cond] = _mean([m[k] for m in ms])
            table[method].setdefault("clips", {})[cond] = len(ms)
    for method in table:
        table[method]["score"] = {}
        for cond in map(str, given):
            figures = {k: table[method][k].get(cond) for k in METRICS}
            reference = {k: table.get("physical_variance", {}).get(k, {}).get(cond) for k in METRICS}
            table[method]["score"][cond] = score(figures, reference) if reference["mse"] is not None else None
    for method, total in seconds.items():
        table[method]["seconds_per_clip"] = round(total / (n * len(given)), 3)
    return table


def evaluate(
    model: WorldModel,
    data: Path,
    settings: Sampling,
    clips: int = 0,
    frames: int = 17,
    given: tuple[int, ...] = (1, 2),
    batch: int = 8,
    jitter: float = 0.002,
    text2world: Sampling | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> dict[str, Any]:
    """The table ``worldgraph eval wfm`` prints: method -> metric -> conditioning. ``settings``
    sample Video2World; ``text2world`` (its own settings) adds the prompt-adherence check."""
    records, truths = held_out(data, clips, frames)
    captions = [r.get("caption", "") for r in records]
    table = physics_table(data, records, truths, {"video2world": video2world(model, settings, truths, captions,
                                                                             frames, batch)},
                          {"tokenizer_reconstruction": reconstruct(model, truths, batch)},
                          frames, given, batch, jitter, progress)
    if text2world is not None:
        table["text2world"] = text2world_adherence(model, captions, text2world, frames, batch, truths, progress)
        table["text2world"]["guidance"] = text2world.guidance
    table["settings"] = {"clips": len(truths), "frames": frames, "steps": settings.steps,
                         "guidance": settings.guidance, "sampler": settings.method, "seed": settings.seed,
                         "jitter_m": jitter, "conditioning": conditioning(given)}
    return table


def conditioning(given: tuple[int, ...]) -> dict[str, str]:
    return {str(g): f"{g} latent frame(s) = {1 + 4 * (g - 1)} frame(s)" for g in given}


def reconstruct(model: WorldModel, truths: list[np.ndarray], batch: int = 8) -> np.ndarray:
    """The clips through the world model's tokenizer: the best its continuations can look."""
    x = as_input(truths)
    return np.concatenate([model.decode(model.space.encode(x[i : i + batch])) for i in range(0, len(x), batch)])


def video2world(model: WorldModel, settings: Sampling, truths: list[np.ndarray], captions: list[str],
                frames: int = 17, batch: int = 8) -> Continuation:
    """The diffusion model's Video2World continuations of held-out clips."""
    x = as_input(truths)
    latents = torch.cat([model.space.encode(x[i : i + batch]) for i in range(0, len(x), batch)])

    def run(ids: list[int], g: int) -> np.ndarray:
        out = model.generate([captions[i] for i in ids], settings, given=latents[ids][:, :, :g], frames=frames)
        return model.decode(out)

    return run


def text2world_adherence(
    model: WorldModel,
    captions: list[str],
    settings: Sampling,
    frames: int,
    batch: int,
    truths: list[np.ndarray],
    progress: Callable[[str, int, int], None] | None = None,
) -> dict[str, Any]:
    """Share of Text2World clips showing the colours their prompts name, beside the same
    check on the simulator's own clips (the detector's ceiling) and on clips paired with
    another clip's caption (chance)."""
    checked = [i for i, c in enumerate(captions) if named(c)]  # prompts naming a chromatic object
    hits = 0
    for start in range(0, len(checked), batch):
        ids = checked[start : start + batch]
        videos = model.decode(model.generate([captions[i] for i in ids], settings, frames=frames))
        hits += sum(bool(adheres(v, captions[i])) for v, i in zip(videos, ids, strict=True))
        if progress:
            progress("text2world", min(start + batch, len(checked)), len(checked))
    truth_hits = sum(bool(adheres(truths[i], captions[i])) for i in checked)
    shuffled = sum(bool(adheres(truths[i], captions[checked[(k + 1) % len(checked)]])) for k, i in enumerate(checked))
    total = max(1, len(checked))
    return {"prompt_adherence": round(hits / total, 4), "prompt_adherence_simulator": round(truth_hits / total, 4),
            "prompt_adherence_shuffled": round(shuffled / total, 4), "prompts": len(checked)}
