"""The Physics-IQ-style table for the autoregressive model, beside the diffusion model on
the same held-out clips: both paradigms, copy-first-frame, each tokenizer's
reconstruction and physical variance in one table (see ``wfm.evaluate``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..wfm import evaluate as physics
from ..wfm.api import Sampling, WorldModel
from .api import ARWorldModel
from .sample import ARSampling


def continuation(model: ARWorldModel, settings: ARSampling, truths: list[np.ndarray], captions: list[str],
                 frames: int = 17, batch: int = 8, verifier: str = "likelihood") -> physics.Continuation:
    """The autoregressive model's Video2World continuations of held-out clips."""
    x = physics.as_input(truths)
    with torch.no_grad():
        tokens = torch.cat([model.tokenizer.tokens(x[i : i + batch]) for i in range(0, len(x), batch)])

    def run(ids: list[int], g: int) -> np.ndarray:
        out = model.generate([captions[i] for i in ids], tokens[ids][:, :g], settings, frames, verifier)
        return model.decode(out)

    return run


def reconstruct(model: ARWorldModel, truths: list[np.ndarray], batch: int = 8) -> np.ndarray:
    x = physics.as_input(truths)
    with torch.no_grad():
        return np.concatenate([model.decode(model.tokenizer.tokens(x[i : i + batch]))
                               for i in range(0, len(x), batch)])


def evaluate(
    model: ARWorldModel,
    data: Path,
    settings: ARSampling,
    clips: int = 0,
    frames: int = 17,
    given: tuple[int, ...] = (1, 2),
    batch: int = 8,
    jitter: float = 0.002,
    verifier: str = "likelihood",
    diffusion: tuple[WorldModel, Sampling] | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> dict[str, Any]:
    """The table ``worldgraph eval ar`` prints: method -> metric -> conditioning."""
    records, truths = physics.held_out(data, clips, frames)
    captions = [r.get("caption", "") for r in records]
    methods = {"autoregressive": continuation(model, settings, truths, captions, frames, batch, verifier)}
    references = {"dv_reconstruction": reconstruct(model, truths, batch)}
    if diffusion is not None:
        world, sampling = diffusion
        methods["diffusion"] = physics.video2world(world, sampling, truths, captions, frames, batch)
        references["cv_reconstruction"] = physics.reconstruct(world, truths, batch)
    table = physics.physics_table(data, records, truths, methods, references, frames, given, batch, jitter,
                                  progress)
    table["settings"] = {"clips": len(truths), "frames": frames, "model": model.name,
                         "temperature": settings.temperature, "top_p": settings.top_p, "seed": settings.seed,
                         "search": settings.search, "candidates": settings.candidates,
                         "beam_width": settings.beam_width, "verifier": verifier, "jitter_m": jitter,
                         "conditioning": physics.conditioning(given)}
    if diffusion is not None:
        table["settings"]["diffusion"] = {"model": diffusion[0].name, "steps": diffusion[1].steps,
                                          "guidance": diffusion[1].guidance, "sampler": diffusion[1].method}
    return table
