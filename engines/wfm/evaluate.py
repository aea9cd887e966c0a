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
  agreement with the truth defines 100 %. The retake starts from the clip's own
  ``scene.usda`` (``sim.retake``), so any dataset has one; a clip without one is left out
  of this row with its reason in ``physical_variance["unavailable"]``.
Two scores per method, both in percent and both from the table's means over clips:
- ``score`` (ours): the mean of its three IoUs and of the inverse MSE, each as a fraction of
  physical variance's (capped at 1);
- ``physics_iq``: the published Physics-IQ formula, the mean of the three IoU ratios minus
  the MSE difference, clipped to [0, 1] (see ``physics_iq``); the motion masks it reads are
  ours, not the benchmark's (README, "Diffusion world model").

Text2World prompt adherence: each held-out caption is generated from text alone and the
decoded frames are checked for the chromatic colours it names (see ``colours``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..media.video import read_video
from ..metrics import motion_masks, psnr, spatial_iou, spatiotemporal_iou, ssim, weighted_spatial_iou
from ..sim.dataset import read_manifest
from ..sim.retake import RetakeError, retake
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


def _mean(values: list[float | None]) -> float | None:
    kept = [v for v in values if v is not None]
    return round(float(np.mean(kept)), 4) if kept else None


def physics_iq(method: dict[str, float | None], reference: dict[str, float | None]) -> float | None:
    """The Physics-IQ score in percent, as the benchmark's public code computes its original
    (leaderboard) score from dataset means: 100 · clip(mean over the spatial, spatiotemporal
    and weighted spatial IoU of IoU / IoU_pv − (MSE − MSE_pv), 0, 1). The ratios are not capped
    before the clip. None when a figure is missing or a reference IoU is zero."""
    values, refs = [method[k] for k in (*IOUS, "mse")], [reference[k] for k in (*IOUS, "mse")]
    if any(v is None for v in values + refs) or not all(refs[:3]):
        return None
    ratios = [v / r for v, r in zip(values[:3], refs[:3], strict=True)]  # type: ignore[operator]
    raw = float(np.mean(ratios)) - (values[3] - refs[3])  # type: ignore[operator]
    return round(100 * min(1.0, max(0.0, raw)), 1)


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
    takes: list[np.ndarray | None] = []
    unavailable: dict[str, str] = {}  # clip id -> why it has no retake
    for i, r in enumerate(records):
        try:
            takes.append(retake(data / "clips" / r["id"], jitter, r).render.rgb["real"][:frames])
        except RetakeError as e:
            takes.append(None)
            unavailable[r["id"]] = str(e)
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
        for cond in map(str, given):
            ms = by_cond.get(cond, [])
            for k in METRICS:
                table.setdefault(method, {}).setdefault(k, {})[cond] = _mean([m[k] for m in ms])
            table[method].setdefault("clips", {})[cond] = len(ms)
    if "physical_variance" not in table:  # no clip could be simulated again: a row of blanks
        table["physical_variance"] = {k: dict.fromkeys(map(str, given)) for k in METRICS}
        table["physical_variance"]["clips"] = dict.fromkeys(map(str, given), 0)
    for method in table:
        table[method]["score"], table[method]["physics_iq"] = {}, {}
        for cond in map(str, given):
            figures = {k: table[method][k].get(cond) for k in METRICS}
            reference = {k: table["physical_variance"][k].get(cond) for k in METRICS}
            known = reference["mse"] is not None
            table[method]["score"][cond] = score(figures, reference) if known else None
            table[method]["physics_iq"][cond] = physics_iq(figures, reference) if known else None
    table["physical_variance"]["unavailable"] = unavailable
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
