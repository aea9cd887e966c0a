"""Verifiers for test-time scaling: which of several sampled futures to keep.

- ``likelihood``: the autoregressive model's own log-likelihood of the tokens it sampled.
  Free, but it judges a future with the same model that proposed it.
- ``diffusion``: the diffusion world model's denoising error. Each candidate is decoded,
  re-encoded into the continuous latents the diffusion model knows, noised at a few fixed
  levels with the same noise for every candidate, and denoised with the given frames as
  the condition; the EDM-weighted error on the generated frames is low where the diffusion
  model finds the future plausible. A second, independently trained model is the judge.
"""

from __future__ import annotations

import torch

from ..tokenizer.model import Tokenizer
from ..wfm.api import WorldModel
from ..wfm.edm import Condition
from .sample import Verifier

VERIFIERS = ("likelihood", "diffusion")


def likelihood(tokens: torch.Tensor, given: int, loglik: torch.Tensor) -> torch.Tensor:
    return loglik


def diffusion(world: WorldModel, tokenizer: Tokenizer, sigmas: tuple[float, ...] = (0.3, 0.7, 1.5),
              batch: int = 32, seed: int = 0) -> Verifier:
    """A verifier scoring candidates by ``world``'s denoising error (negated)."""
    text, mask = world.encode_text([""])
    sd = world.cfg.sigma_data

    @torch.no_grad()
    def score(tokens: torch.Tensor, given: int, loglik: torch.Tensor) -> torch.Tensor:
        out = []
        for i in range(0, len(tokens), batch):
            video = tokenizer.decode_tokens(tokens[i : i + batch]).clamp(-1, 1)
            latents = world.space.encode(video)
            b, t = latents.shape[0], latents.shape[2]
            frames = torch.arange(t).reshape(1, 1, t, 1, 1)
            cond = Condition(text.expand(b, -1, -1), mask.expand(b, -1), latents,
                             (frames < given).float().expand(b, -1, -1, -1, -1), 0.0)
            generator = torch.Generator().manual_seed(seed)  # the same noise for every candidate
            error = torch.zeros(b)
            for sigma in sigmas:
                noise = torch.randn(latents.shape[1:], generator=generator)
                s = torch.full((b,), sigma)
                with torch.random.fork_rng():
                    torch.manual_seed(seed)
                    denoised = world.denoiser(latents + sigma * noise, s, cond)
                weight = (sigma**2 + sd**2) / (sigma * sd) ** 2
                error += weight * (denoised - latents)[:, :, given:].pow(2).flatten(1).mean(1)
            out.append(-error / len(sigmas))
        return torch.cat(out)

    return score
