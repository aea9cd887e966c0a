"""EDM (Karras et al. 2022) around the DiT, as Cosmos-Predict1 uses it: preconditioning,
the uncertainty-weighted training loss, the Karras noise schedule, and Heun / Euler
sampling with classifier-free guidance. Everything here runs in fp32; only the raw
network may run in bf16.

Video2World conditioning: a mask [B, 1, T, 1, 1] marks the latent frames that are given.
There the network sees the clean latent plus a little noise (σ_aug) instead of the noisy
input, an extra channel tells it which frames those are, and the denoiser's output is
replaced by the clean latent, so the given frames come out exactly as they went in.

A reference (post-trained action models): latents the frames being made are expected to
stay close to, the scene held still. Diffusion then runs on the difference from it: the
reference is the starting guess (a network that outputs nothing predicts it from σ_max in
one step), and what the network has to learn is what moves.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import nn

from .model import DiT


@dataclass
class Condition:
    """What a denoiser call is conditioned on."""

    text: torch.Tensor  # [B, L, text_dim]
    text_mask: torch.Tensor  # [B, L] bool
    latents: torch.Tensor | None = None  # [B, C, T, h, w] clean latents (given frames used)
    mask: torch.Tensor | None = None  # [B, 1, T, 1, 1] 1.0 where a frame is given
    sigma_aug: torch.Tensor | float = 0.001  # noise on the given frames, per item or one value
    signals: dict[str, torch.Tensor] = field(default_factory=dict)  # post-trained: action, rays
    reference: torch.Tensor | None = None  # [B, C, T, h, w]: diffusion runs on x − reference
    aug_noise: torch.Tensor | None = None  # like the latents: the given frames' noise, drawn beforehand (training)

    def repeat(self, text: torch.Tensor, text_mask: torch.Tensor) -> Condition:
        """The same frames with other text (the negative prompt of guidance)."""
        return Condition(text, text_mask, self.latents, self.mask, self.sigma_aug, self.signals, self.reference)


class Denoiser(nn.Module):
    """D(x; σ) = c_skip·x + c_out·F(c_in·x; c_noise), with σ_data the latents' scale; with a
    reference r, D(x; σ) = r + D(x − r; σ) on the frames being made.
    ``net`` is the DiT, or an engine running its export (engines.runtime)."""

    def __init__(self, net: DiT | Callable[..., torch.Tensor], sigma_data: float | None = None) -> None:
        super().__init__()
        self.net = net
        self.sigma_data = sigma_data if sigma_data is not None else net.cfg.sigma_data  # type: ignore[union-attr]

    def forward(self, x: torch.Tensor, sigma: torch.Tensor, cond: Condition) -> torch.Tensor:
        if cond.reference is None:
            return self.denoise(x.float(), sigma, cond)
        ref = cond.reference.float()
        if cond.mask is not None:  # the given frames come out as given
            ref = ref * (1 - cond.mask.float())
        return ref + self.denoise(x.float() - ref, sigma, cond)

    def denoise(self, x: torch.Tensor, sigma: torch.Tensor, cond: Condition) -> torch.Tensor:
        sd = self.sigma_data
        s = sigma.float().reshape(-1, 1, 1, 1, 1)
        c_skip = sd**2 / (s**2 + sd**2)
        c_out = s * sd / (s**2 + sd**2).sqrt()
        c_in = 1 / (s**2 + sd**2).sqrt()
        c_noise = sigma.float().log() / 4
        net_in = c_in * x
        mask = torch.zeros_like(x[:, :1]) if cond.mask is None else cond.mask.expand_as(x[:, :1]).float()
        if cond.latents is not None and cond.mask is not None:
            aug = torch.as_tensor(cond.sigma_aug, dtype=torch.float32, device=x.device).reshape(-1, 1, 1, 1, 1)
            noise = torch.randn_like(x) if cond.aug_noise is None else cond.aug_noise.float()
            given = (cond.latents.float() + aug * noise) / (aug**2 + sd**2).sqrt()
            net_in = mask * given + (1 - mask) * net_in
        f = self.net(torch.cat([net_in, mask], dim=1), c_noise, cond.text, cond.text_mask, **cond.signals).float()
        out = c_skip * x + c_out * f
        if cond.latents is not None and cond.mask is not None:
            out = mask * cond.latents.float() + (1 - mask) * out
        return out


class Uncertainty(nn.Module):
    """u(σ): a linear head on Fourier features of c_noise; the loss learns its own weighting."""

    def __init__(self, features: int = 64) -> None:
        super().__init__()
        self.freqs: torch.Tensor
        self.register_buffer("freqs", torch.randn(features // 2) * 2 * math.pi)
        self.head = nn.Linear(features, 1)
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)

    def forward(self, sigma: torch.Tensor) -> torch.Tensor:
        a = (sigma.float().log() / 4)[:, None] * self.freqs[None]
        return self.head(torch.cat([a.cos(), a.sin()], dim=-1)).sum(-1)  # [B]: a new tensor, not a view (FSDP)


@dataclass
class Draws:
    """The random part of a training item: its noise level, its noise, and the noise on its
    given frames. Drawn for a whole batch at once, so any slice of the batch trains on
    what the whole batch would (data-parallel training gives each process a slice)."""

    sigma: torch.Tensor  # [B]
    noise: torch.Tensor  # like x0
    aug_noise: torch.Tensor  # like x0


def draw(x0: torch.Tensor, p_mean: float = -1.2, p_std: float = 1.2) -> Draws:
    """ln σ ~ N(P_mean, P_std²) and unit Gaussian noise, in the order ``edm_loss`` used to draw them."""
    sigma = torch.exp(torch.randn(x0.shape[0], device=x0.device) * p_std + p_mean)
    return Draws(sigma, torch.randn_like(x0), torch.randn_like(x0))


def edm_loss(
    denoiser: Denoiser,
    uncertainty: Uncertainty,
    x0: torch.Tensor,
    cond: Condition,
    p_mean: float = -1.2,
    p_std: float = 1.2,
    weight: torch.Tensor | None = None,
    draws: Draws | None = None,
) -> torch.Tensor:
    """L = λ(σ)·‖D(x₀ + n; σ) − x₀‖²·e^(−u(σ)) + u(σ), λ(σ) = (σ² + σ_d²)/(σ·σ_d)², ln σ ~ N(P_mean, P_std²),
    averaged over the frames that are not given; ``weight`` [B, 1, T, h, w] weighs latent
    pixels within that average (the action model's moving pixels); ``draws``: σ and the
    noise drawn beforehand (``draw``), else drawn here."""
    draws = draws or draw(x0, p_mean, p_std)
    sigma = draws.sigma
    noisy = x0 + sigma.reshape(-1, 1, 1, 1, 1) * draws.noise
    denoised = denoiser(noisy, sigma, dataclasses.replace(cond, aug_noise=draws.aug_noise))
    free = torch.ones_like(x0[:, :1]) if cond.mask is None else 1 - cond.mask.expand_as(x0[:, :1]).float()
    if weight is not None:
        free = free * weight
    err = ((denoised - x0) ** 2 * free).flatten(1).sum(1) / (free.flatten(1).sum(1) * x0.shape[1]).clamp_min(1)
    sd = denoiser.sigma_data
    lam = (sigma**2 + sd**2) / (sigma * sd) ** 2
    u = uncertainty(sigma)
    return (lam * err * torch.exp(-u) + u).mean()


# ------------------------------------------------------------------------------ sampling


def karras_sigmas(steps: int, sigma_min: float = 0.002, sigma_max: float = 80.0, rho: float = 7.0) -> torch.Tensor:
    """steps noise levels from σ_max down to σ_min (ρ = 7 spacing), then 0."""
    ramp = torch.linspace(0, 1, steps, dtype=torch.float64)
    lo, hi = sigma_min ** (1 / rho), sigma_max ** (1 / rho)
    sigmas = (hi + ramp * (lo - hi)) ** rho
    return torch.cat([sigmas, torch.zeros(1, dtype=torch.float64)]).float()


def guided(
    denoiser: Denoiser, cond: Condition, negative: Condition | None, guidance: float
) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """D with classifier-free guidance: D_c + g·(D_c − D_neg), both halves in one batch."""

    def run(x: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
        if negative is None or guidance == 0:
            return denoiser(x, sigma, cond)
        both = Condition(
            _pad_cat(cond.text, negative.text), _pad_cat(cond.text_mask, negative.text_mask),
            None if cond.latents is None else torch.cat([cond.latents, cond.latents]),
            None if cond.mask is None else torch.cat([cond.mask, cond.mask]),
            cond.sigma_aug,
            {k: torch.cat([v, negative.signals[k]]) for k, v in cond.signals.items()},
            None if cond.reference is None else torch.cat([cond.reference, cond.reference]),
        )
        d_cond, d_neg = denoiser(torch.cat([x, x]), torch.cat([sigma, sigma]), both).chunk(2)
        return d_cond + guidance * (d_cond - d_neg)

    return run


def _pad_cat(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Concatenate two [B, L, ...] batches whose L may differ (padding with zeros / False)."""
    n = max(a.shape[1], b.shape[1])

    def pad(t: torch.Tensor) -> torch.Tensor:
        if t.shape[1] == n:
            return t
        extra = torch.zeros(t.shape[0], n - t.shape[1], *t.shape[2:], dtype=t.dtype)
        return torch.cat([t, extra], dim=1)

    return torch.cat([pad(a), pad(b)])


def sample(
    denoise: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    noise: torch.Tensor,
    sigmas: torch.Tensor,
    method: str = "heun",
    progress: Callable[[int, int], None] | None = None,
) -> torch.Tensor:
    """Integrate the probability-flow ODE from ``noise`` (unit variance) along ``sigmas``:
    Euler, or Heun's 2nd-order correction on every step but the last (EDM Algorithm 1)."""
    if method not in ("heun", "euler"):
        raise ValueError(f"unknown sampler {method!r}: use heun or euler")
    x = noise.float() * sigmas[0]
    batch = x.shape[0]
    steps = len(sigmas) - 1
    for i in range(steps):
        s, s_next = sigmas[i], sigmas[i + 1]
        d = (x - denoise(x, s.repeat(batch))) / s
        x_next = x + (s_next - s) * d
        if method == "heun" and s_next > 0:
            d2 = (x_next - denoise(x_next, s_next.repeat(batch))) / s_next
            x_next = x + (s_next - s) * (d + d2) / 2
        x = x_next
        if progress:
            progress(i + 1, steps)
    return x
