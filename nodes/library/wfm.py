"""worldgraph.wfm: the diffusion world model (Text2World, Video2World) and its text encoder."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..context import Context
from ..errors import NodeError
from ..schema import Input, Output, node
from ..types import ENUM, FLOAT, INT, LATENT, PROMPT, STRING, TOKENS, VIDEO, Latent, Prompt, Tokens, Video
from .backend import backend_input, engine_errors


def sampling_inputs(guidance: float) -> list[Input]:
    """The sampler's inputs; the guidance default differs: Video2World follows its given
    frames best unguided (lowest MSE on held-out clips), Text2World needs guidance to follow
    its prompt."""
    return [
        Input("frames", INT, 17, "frames to generate, 1 + 4k (the given ones included)", range=(5, 65)),
        Input("steps", INT, 35, "sampler steps (Heun evaluates the model twice a step)", range=(1, 200)),
        Input("guidance", FLOAT, guidance, "classifier-free guidance; 0 turns it off", range=(0, 20)),
        Input("negative", STRING, "", "negative prompt that guidance steers away from"),
        Input("seed", INT, -1, "noise seed; -1 derives one from the graph seed and this node", range=(-1, 2**31 - 1)),
        Input("sigma_max", FLOAT, 80.0, "noise level sampling starts from", range=(0.01, 1000)),
        Input("sampler", ENUM, "heun", "EDM Heun (2nd order) or Euler", choices=("heun", "euler")),
        backend_input(),
    ]


def world_model(backend: str) -> Any:
    from worldgraph.engines.wfm.api import load

    try:
        return load().on(backend)
    except engine_errors() as e:
        raise NodeError(str(e)) from None


def sampling(ctx: Context, steps: int, guidance: float, negative: str, seed: int, sigma_max: float,
             sampler: str) -> Any:
    """The sampler settings of the inputs ``sampling_inputs`` declares (seed -1: the node's)."""
    from worldgraph.engines.wfm.api import Sampling

    return Sampling(steps=steps, guidance=guidance, seed=ctx.seed % 2**31 if seed < 0 else seed,
                    sigma_max=sigma_max, method=sampler, negative=negative)


def prompt_tokens(prompt: Prompt) -> Any:
    """The prompt's token embeddings and mask [1, L, D], [1, L] when TextEncode made them, else None."""
    if prompt.embedding is None:
        return None
    import torch

    tokens = torch.from_numpy(prompt.embedding).float()[None]
    return tokens, torch.ones(tokens.shape[:2], dtype=torch.bool)


def _generate(ctx: Context, prompt: Prompt, given_video: Video | None, frames: int, steps: int, guidance: float,
              negative: str, seed: int, sigma_max: float, sampler: str, backend: str) -> dict[str, Latent]:
    from worldgraph.engines.wfm.api import WFMInputError

    model = world_model(backend)
    settings = sampling(ctx, steps, guidance, negative, seed, sigma_max, sampler)
    text = prompt_tokens(prompt)
    try:
        given = model.encode_video(given_video.frames) if given_video is not None else None
        z = model.generate([prompt.text], settings, given=given, frames=frames, progress=ctx.progress, text=text)
    except (WFMInputError, *engine_errors()) as e:
        raise NodeError(str(e)) from None
    values = model.space.raw(z)[0].numpy().astype(np.float32)
    fps = given_video.fps if given_video is not None else 16.0
    return {"latent": Latent(values, model.space.name, frames, fps)}


@node(
    "worldgraph.wfm.TextEncode",
    inputs=[Input("text", STRING, "", "what should happen, e.g. 'a red ball falls; the camera is still'"),
            backend_input()],
    outputs=[Output("prompt", PROMPT, "the text with its MiniLM token embeddings")],
)
def TextEncode(ctx: Context, text: str, backend: str) -> dict[str, Prompt]:
    """Encode a prompt once for the world-model nodes (MiniLM token embeddings)."""
    from worldgraph.engines.text import minilm

    try:
        hidden, _ = minilm().tokens([text], backend=backend)
    except engine_errors() as e:
        raise NodeError(str(e)) from None
    return {"prompt": Prompt(text, hidden[0].numpy())}


@node(
    "worldgraph.wfm.Text2World",
    inputs=[Input("prompt", PROMPT, doc="from TextEncode or PromptGuard"), *sampling_inputs(3.0)],
    outputs=[Output("latent", LATENT, "the generated clip's latents (decode with worldgraph.tokenizer.Decode)")],
    seeded=True,
)
def Text2World(
    ctx: Context, prompt: Prompt, frames: int, steps: int, guidance: float, negative: str, seed: int,
    sigma_max: float, sampler: str, backend: str,
) -> dict[str, Latent]:
    """Generate a clip from text alone with the diffusion world model."""
    return _generate(ctx, prompt, None, frames, steps, guidance, negative, seed, sigma_max, sampler, backend)


@node(
    "worldgraph.wfm.Video2World",
    inputs=[
        Input("video", VIDEO, doc="what happened so far: 1 frame, or 5 (1 + 4k) frames"),
        Input("prompt", PROMPT, doc="from TextEncode or PromptGuard"),
        *sampling_inputs(0.0),
    ],
    outputs=[Output("latent", LATENT, "latents of the whole clip, the given frames first")],
    seeded=True,
)
def Video2World(
    ctx: Context, video: Video, prompt: Prompt, frames: int, steps: int, guidance: float, negative: str,
    seed: int, sigma_max: float, sampler: str, backend: str,
) -> dict[str, Latent]:
    """Continue a clip: the world model generates what happens after the given frames."""
    return _generate(ctx, prompt, video, frames, steps, guidance, negative, seed, sigma_max, sampler, backend)


@node(
    "worldgraph.wfm.ARVideo2World",
    inputs=[
        Input("video", VIDEO, doc="what happened so far: 1 frame, or 5 (1 + 4k) frames"),
        Input("prompt", PROMPT, doc="from TextEncode or PromptGuard; none: unprompted", optional=True),
        Input("frames", INT, 17, "frames of the whole clip, 1 + 4k (the given ones included)", range=(5, 17)),
        Input("temperature", FLOAT, 1.0, "softmax temperature of every token draw", range=(0.01, 5)),
        Input("top_p", FLOAT, 0.9, "nucleus sampling: draw from the smallest set of tokens with this mass",
              range=(0.01, 1)),
        Input("search", ENUM, "none", "test-time scaling: best of N continuations, or a beam search over "
              "latent frames", choices=("none", "best_of_n", "beam")),
        Input("candidates", INT, 4, "N: continuations (best_of_n) or frame proposals per step (beam)",
              range=(1, 64)),
        Input("beam_width", INT, 2, "beams kept after each latent frame (beam; divides candidates)",
              range=(1, 64)),
        Input("verifier", ENUM, "likelihood", "what picks among candidates: the model's own likelihood, the "
              "diffusion world model's denoising error, or closeness to its forecast",
              choices=("likelihood", "diffusion", "forecast")),
        Input("seed", INT, -1, "sampling seed; -1 derives one from the graph seed and this node",
              range=(-1, 2**31 - 1)),
    ],
    outputs=[Output("latent", LATENT, "the whole clip's DV codes, the given frames first (decode with "
                    "worldgraph.tokenizer.Decode)"),
             Output("tokens", TOKENS, "the whole clip's token ids [T', h, w]")],
    seeded=True,
)
def ARVideo2World(
    ctx: Context, video: Video, prompt: Prompt | None, frames: int, temperature: float, top_p: float, search: str,
    candidates: int, beam_width: int, verifier: str, seed: int,
) -> dict[str, Any]:
    """Continue a clip token by token with the autoregressive world model (KV-cached), with
    optional best-of-N or beam search."""
    from worldgraph.engines.ar.api import load
    from worldgraph.engines.ar.sample import ARInputError, ARSampling

    try:
        model = load()
        settings = ARSampling(temperature, top_p, ctx.seed % 2**31 if seed < 0 else seed, search,
                              candidates if search != "none" else 1, beam_width)
        given = model.encode_video(video.frames)
        ids = model.generate([prompt.text if prompt else ""], given, settings, frames, verifier,
                             progress=ctx.progress)
    except (ARInputError, *engine_errors()) as e:
        raise NodeError(str(e)) from None
    assert model.tokenizer.fsq is not None  # load() accepts discrete tokenizers only
    codes = model.tokenizer.fsq.codes(ids)[0].numpy().astype(np.float32)
    name = model.cfg.tokenizer
    return {"latent": Latent(codes, name, frames, video.fps), "tokens": Tokens(ids[0].numpy(), name)}
