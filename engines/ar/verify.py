"""Verifiers for test-time scaling: which of several sampled futures to keep.

- ``likelihood``: the autoregressive model's own log-likelihood of the tokens it sampled.
  Free, but it judges a future with the same model that proposed it.
- ``diffusion``: the diffusion world model's denoising error. Each candidate is decoded,
  re-encoded into the continuous latents the diffusion model knows, noised at a few fixed
  levels with the same noise for every candidate, and denoised with the given frames as
  the condition; the EDM-weighted error on the generated frames is low where the diffusion
  model finds the future plausible. A second, independently trained model is the judge.
- ``forecast``: agreement in motion with the diffusion model's own Video2World forecast
  from the same given frames (one sample per clip, made once, decoded): the mean of the
  three Physics-IQ motion-mask IoUs between the candidate and the forecast, from the last
  given frame on. The likelihood, the denoising error and a latent distance to the
  forecast all favour futures in which little moves (easy to predict, easy to denoise,
  close to a blurred average) and lowered the motion IoUs as N grew; the motion masks
  carry where and when the diffusion model expects things to move, and a future in which
  nothing moves shares none of it.
"""

from __future__ import annotations

import torch

from ..metrics import motion_masks, spatial_iou, spatiotemporal_iou, weighted_spatial_iou
from ..tokenizer.api import TEMPORAL
from ..tokenizer.model import Tokenizer
from ..wfm.api import WorldModel
from ..wfm.edm import Condition
from .sample import Verifier

VERIFIERS = ("likelihood", "diffusion", "forecast")


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


def motion_from(video: torch.Tensor, start: int) -> torch.Tensor:
    """The motion masks [T, H, W] of a clip [3, T, H, W] in [-1, 1] from frame ``start`` on."""
    return motion_masks((video[:, start:].transpose(0, 1) + 1) / 2)


def agreement(a: torch.Tensor, b: torch.Tensor) -> float:
    """The mean of the three Physics-IQ IoUs of two motion masks [T, H, W]; two clips in
    which nothing moves agree fully."""
    values = [f(a, b) for f in (spatial_iou, spatiotemporal_iou, weighted_spatial_iou)]
    return float(sum(1.0 if v is None else v for v in values) / len(values))


def forecast(world: WorldModel, tokenizer: Tokenizer, steps: int = 15, batch: int = 32, seed: int = 0) -> Verifier:
    """A verifier scoring candidates by their motion's agreement with ``world``'s forecast."""
    from ..wfm.api import Sampling

    made: dict[bytes, torch.Tensor] = {}  # the given tokens -> the forecast's motion masks

    @torch.no_grad()
    def score(tokens: torch.Tensor, given: int, loglik: torch.Tensor) -> torch.Tensor:
        start = TEMPORAL * (given - 1)  # the last given frame
        videos = torch.cat([tokenizer.decode_tokens(tokens[i : i + batch]).clamp(-1, 1)
                            for i in range(0, len(tokens), batch)])
        keys = [t[:given].numpy().tobytes() for t in tokens]
        new = list({k: i for i, k in enumerate(keys) if k not in made}.items())  # a row per clip
        for first in range(0, len(new), batch):
            rows = [i for _, i in new[first : first + batch]]
            latents = world.space.encode(videos[rows][:, :, : 1 + start])
            # the full clip the model was trained on; a beam's prefix compares with its start
            predicted = world.generate([""] * len(rows), Sampling(steps=steps, guidance=0, seed=seed),
                                       given=latents, frames=17)
            for (key, _), v in zip(new[first : first + batch], world.space.decode(predicted), strict=True):
                made[key] = motion_from(v, start)
        mine = [motion_from(v, start) for v in videos]
        return torch.tensor([agreement(m, made[k][: len(m)]) for m, k in zip(mine, keys, strict=True)])

    return score
