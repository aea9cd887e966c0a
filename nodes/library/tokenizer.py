"""worldgraph.tokenizer: causal video tokenizers (CV continuous, DV discrete / FSQ)."""

from __future__ import annotations

from typing import Any

from ..context import Context
from ..errors import NodeError
from ..schema import Input, Output, node
from ..types import BOOL, ENUM, LATENT, VIDEO, Latent, Video
from .backend import backend_input, engine_errors, part_engine
from .models import ModelChoices

# the catalog's tokenizers; the -v2 ones: sharper motion, latents and tokens the world models do not use yet
MODELS = ModelChoices("tokenizer", "cv4x8x8")


def _tokenizer(name: str) -> Any:
    from worldgraph.engines.tokenizer.checkpoint import CheckpointError, load

    try:
        return load(name)
    except CheckpointError as e:
        raise NodeError(str(e)) from None


@node(
    "worldgraph.tokenizer.Encode",
    inputs=[
        Input("video", VIDEO, doc="1 + 4k frames, sides multiples of 8"),
        Input("model", ENUM, "cv4x8x8", "continuous (cv) or discrete (dv) tokenizer; the -v2 ones keep more motion",
              choices=MODELS),
        Input("pad", BOOL, False, "repeat the last frame up to the next 1 + 4k count instead of failing"),
        backend_input(),
    ],
    outputs=[Output("latent", LATENT, "latents (cv) or quantized codes (dv), 4x8x8 smaller")],
)
def Encode(ctx: Context, video: Video, model: str, pad: bool, backend: str) -> dict[str, Latent]:
    """Encode a clip into the tokenizer's latent space (the first frame on its own)."""
    from worldgraph.engines.tokenizer.api import TokenizerInputError, frames_to_input
    from worldgraph.engines.tokenizer.parts import encoder

    _tokenizer(model)
    try:
        x = frames_to_input(video.frames, pad)
    except TokenizerInputError as e:
        raise NodeError(str(e)) from None
    try:
        z = part_engine(encoder(model), backend)(x)[0].numpy()
    except engine_errors() as e:
        raise NodeError(str(e)) from None
    return {"latent": Latent(z, model, video.frames.shape[0], video.fps)}


@node(
    "worldgraph.tokenizer.Decode",
    inputs=[Input("latent", LATENT, doc="from Encode (or a world model)"), backend_input()],
    outputs=[Output("video", VIDEO, "the reconstructed clip")],
)
def Decode(ctx: Context, latent: Latent, backend: str) -> dict[str, Video]:
    """Decode latents back into frames with the tokenizer that made them."""
    import torch

    from worldgraph.engines.tokenizer.api import output_to_frames
    from worldgraph.engines.tokenizer.parts import decoder

    tokenizer = _tokenizer(latent.tokenizer)
    z = torch.from_numpy(latent.values)[None].float()
    if z.shape[1] != tokenizer.cfg.code_channels:
        raise NodeError(f"latent has {z.shape[1]} channels, {latent.tokenizer} decodes "
                        f"{tokenizer.cfg.code_channels}")
    try:
        y = part_engine(decoder(latent.tokenizer), backend)(z)
    except engine_errors() as e:
        raise NodeError(str(e)) from None
    return {"video": Video(output_to_frames(y, latent.frames or None), latent.fps)}
