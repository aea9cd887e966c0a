"""Generating with the shipped autoregressive world model: checked inputs, prompts, and
Video2World continuation of a clip's first latent frame(s) in token space."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path

import numpy as np
import torch

from .. import catalog
from .. import weights as files
from ..text import minilm
from ..tokenizer.api import TEMPORAL, TokenizerInputError, frames_to_input, videos_to_frames
from ..tokenizer.model import Tokenizer
from .data import discrete, token_fingerprint
from .model import ARConfig, VideoGPT
from .sample import ARInputError, ARSampling, Verifier, continue_tokens
from .verify import VERIFIERS, diffusion, forecast, likelihood

DEFAULT = "ar-dv4x8x8"


class ARWorldModel:
    """A loaded autoregressive checkpoint and the discrete tokenizer it reads and writes."""

    def __init__(self, net: VideoGPT, tokenizer: Tokenizer, name: str) -> None:
        self.net, self.tokenizer, self.name = net.eval(), tokenizer, name

    @property
    def cfg(self) -> ARConfig:
        return self.net.cfg

    def encode_video(self, frames: np.ndarray) -> torch.Tensor:
        """uint8 frames [T, H, W, 3] (1 + 4k of them) -> token ids [1, T', h, w]."""
        try:
            x = frames_to_input(frames)
        except TokenizerInputError as e:
            raise ARInputError(f"condition clip: {e}") from None
        with torch.no_grad():
            return self.tokenizer.tokens(x)

    def decode(self, tokens: torch.Tensor) -> np.ndarray:
        """Token ids [B, T', h, w] -> uint8 frames [B, T, H, W, 3]."""
        with torch.no_grad():
            return videos_to_frames(self.tokenizer.decode_tokens(tokens))

    def verifier(self, name: str) -> Verifier:
        if name == "likelihood":
            return likelihood
        if name in ("diffusion", "forecast"):
            from ..wfm.api import load as load_wfm

            return (diffusion if name == "diffusion" else forecast)(load_wfm(), self.tokenizer)
        raise ARInputError(f"unknown verifier {name!r}: use {', '.join(VERIFIERS)}")

    def generate(
        self,
        prompts: list[str],
        given: torch.Tensor,
        settings: ARSampling,
        frames: int = 17,
        verifier: str = "likelihood",
        use_cache: bool = True,
        progress: Callable[[int, int], None] | None = None,
    ) -> torch.Tensor:
        """Token ids [B, T', h, w] of ``frames`` frames whose first latent frames are
        ``given`` [B or 1, Tg, h, w]; a prompt per clip ("" for none)."""
        if (frames - 1) % TEMPORAL or frames < 1:
            raise ARInputError(f"{frames} frames: generate 1 + 4k frames (5, 9, 13, 17, ...)")
        given = given.expand(len(prompts), -1, -1, -1) if given.shape[0] == 1 else given
        if given.shape[0] != len(prompts):
            raise ARInputError(f"{given.shape[0]} condition clips for {len(prompts)} prompts")
        text, mask = minilm().tokens(prompts) if self.cfg.text_dim else (None, None)
        check = self.verifier(verifier) if settings.search != "none" else None
        return continue_tokens(self.net, given, 1 + (frames - 1) // TEMPORAL, settings, text, mask, check,
                               use_cache, progress)


def load(name: str = DEFAULT, folder: Path | None = None) -> ARWorldModel:
    """The autoregressive model ``name`` (a catalog name or a path to its .json), checked
    against the tokenizer whose tokens it was trained on; ``folder``: look only there."""
    entry = catalog.find(name, "ar", folder)
    return _load(entry.card, entry.version)


@cache
def _load(json_path: Path, version: str) -> ARWorldModel:
    meta = files.read_meta(json_path)
    try:
        cfg = ARConfig.from_json(meta["config"])
    except (KeyError, TypeError, ValueError) as e:
        raise files.CheckpointError(f"{json_path}: not an autoregressive-model config ({e})") from None
    tokenizer = discrete(cfg.tokenizer)
    if tokenizer.cfg.vocabulary != cfg.vocabulary:
        raise files.CheckpointError(f"{json_path}: the model has {cfg.vocabulary} tokens but {cfg.tokenizer} "
                                    f"makes {tokenizer.cfg.vocabulary}: it belongs to another tokenizer")
    if meta.get("token_fingerprint") != token_fingerprint(tokenizer):
        raise files.CheckpointError(f"{json_path}: trained on the tokens of another {cfg.tokenizer} encoder than "
                                    "the one installed; retrain it, or restore that tokenizer")
    net = files.load_into(VideoGPT(cfg), json_path.with_suffix(".safetensors"), meta)
    assert isinstance(net, VideoGPT)
    return ARWorldModel(net, tokenizer, cfg.name)
