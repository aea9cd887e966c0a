"""Rolling the action-conditioned world model out over an action sequence, one latent
frame (4 video frames) at a time: each new latent frame is sampled with every frame so
far given, under the chunk of 4 actions that makes it. A model that predicts the change
(``WFMConfig.predicts_change``) makes each frame as a change from the scene held still."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F

from ..tokenizer.api import frames_to_input, videos_to_frames
from ..wfm.api import Sampling, WFMInputError, WorldModel, load
from ..wfm.data import LatentSpace
from ..wfm.edm import Condition, guided, karras_sigmas, sample
from .actions import CHUNK_DIM

DEFAULT = "action-pusher-cv4x8x8"  # sees where the actions put the pusher (action_train)
MAX_LATENT_FRAMES = 5  # what training showed it: 17-frame windows


def load_action_model(name: str = DEFAULT) -> WorldModel:
    return load(name, kind="action")


@torch.no_grad()
def rollout(
    model: WorldModel,
    given: torch.Tensor,
    actions: torch.Tensor,
    settings: Sampling,
    text: tuple[torch.Tensor, torch.Tensor] | None = None,
    progress: Callable[[int, int], None] | None = None,
    pusher: torch.Tensor | None = None,
) -> torch.Tensor:
    """Normalized latents [B, C, Tg + n, h, w]: ``given`` [B, C, Tg, h, w] continued by one
    latent frame per row of ``actions`` [B, n, 12] (see ``actions.chunked``). Without
    ``text`` the prompt is empty, as in the planner. ``settings.guidance`` is guidance on
    the actions, away from standing still: D(a) + g·(D(a) − D(0)), which strengthens what
    the actions do. A model that sees the pusher (``WFMConfig.map_channels``) takes
    ``pusher`` [B, 1, Tg + n, h, w]: where it is in every latent frame, the given ones and
    those the actions make (``pusher.pusher_maps``)."""
    b, _, t_given, h, w = given.shape
    if model.cfg.action_dim != CHUNK_DIM:
        raise WFMInputError(f"{model.name} is not action-conditioned (action_dim {model.cfg.action_dim})")
    if actions.ndim != 3 or actions.shape[0] != b or actions.shape[2] != CHUNK_DIM:
        raise WFMInputError(f"actions must be [{b}, latent frames, {CHUNK_DIM}], got {list(actions.shape)}")
    if not torch.isfinite(actions).all():
        raise WFMInputError("actions contain NaN or infinity")
    steps = actions.shape[1]
    if model.cfg.map_channels:
        if pusher is None:
            raise WFMInputError(f"{model.name} sees where the pusher is: pass its map for every latent frame "
                                "(the pusher's pose with the actions)")
        if pusher.shape != (b, model.cfg.map_channels, t_given + steps, h, w):
            raise WFMInputError(f"pusher maps must be [{b}, {model.cfg.map_channels}, {t_given + steps}, {h}, {w}], "
                                f"got {list(pusher.shape)}")
    if t_given + steps > MAX_LATENT_FRAMES:
        raise WFMInputError(f"{t_given} given + {steps} new latent frames exceed the {MAX_LATENT_FRAMES} the model "
                            f"was trained on ({1 + 4 * (MAX_LATENT_FRAMES - 1)} video frames); plan shorter "
                            "or re-encode the latest frames as the new start")
    tokens, mask = text if text is not None else model.encode_text([""] * b)
    tokens, mask = tokens.expand(b, -1, -1), mask.expand(b, -1)
    sigmas = karras_sigmas(settings.steps, settings.sigma_min, settings.sigma_max)
    generator = torch.Generator().manual_seed(settings.seed)
    z = given.float()
    for j in range(steps):
        t = z.shape[2] + 1
        latents = torch.cat([z, torch.zeros_like(z[:, :, :1])], dim=2)
        cond_mask = (torch.arange(t) < t - 1).float().reshape(1, 1, t, 1, 1).expand(b, -1, -1, -1, -1)
        signals = {"action": actions[:, j].float()}
        still_signals = {"action": torch.zeros_like(actions[:, j]).float()}
        if pusher is not None and model.cfg.map_channels:  # guidance's "standing still" keeps the true map
            signals["pusher"] = still_signals["pusher"] = pusher[:, :, :t].float()
        reference = None
        if model.cfg.predicts_change:
            reference = torch.cat([torch.zeros_like(z), still_reference(model.space, z)], dim=2)
        cond = Condition(tokens, mask, latents, cond_mask, settings.sigma_aug, signals, reference)
        still_pusher = Condition(tokens, mask, latents, cond_mask, settings.sigma_aug, still_signals, reference)
        noise = torch.randn((b, z.shape[1], t, h, w), generator=generator)
        with torch.random.fork_rng():
            torch.manual_seed(settings.seed + j)  # the given frames' augmentation noise
            made = sample(guided(model.denoiser, cond, still_pusher, settings.guidance), noise, sigmas, settings.method)
        z = torch.cat([z, made[:, :, -1:]], dim=2)
        if progress:
            progress(j + 1, steps)
    return z


@torch.no_grad()
def still_reference(space: LatentSpace, z: torch.Tensor) -> torch.Tensor:
    """The next latent frame [B, C, 1, h, w] if the scene froze now: after the first latent
    frame (one video frame) the tokenizer's, re-encoded with that frame held for 4 more; after
    later ones (four frames each) the last latent frame itself, as training saw it."""
    if z.shape[2] > 1:
        return z[:, :, -1:]
    frame = space.decode(z)  # [B, 3, 1, H, W]
    return space.encode(frame.expand(-1, -1, 5, -1, -1))[:, :, 1:2]


# How much a pixel must change (in [-1, 1] units, the largest over channels and its 3x3
# neighbours) before the rollout's pixel replaces the camera's; the change is taken in
# full from twice this. Picked on the pusher validation windows (0 to 0.7 tried).
CHANGE_THRESHOLD = 0.4


@torch.no_grad()
def composite_decode(model: WorldModel, z: torch.Tensor, given: torch.Tensor,
                     threshold: float = CHANGE_THRESHOLD) -> torch.Tensor:
    """Video [B, 3, T, H, W] in [-1, 1] of a rollout ``z`` from the real frames ``given``
    [B, 3, Tg, H, W]: the decoded rollout where it differs from the tokenizer's decode of
    the scene held still at the last given frame, that frame's own pixels elsewhere, with a
    soft edge between. Where the model moves nothing, the camera's pixels stay instead of
    the tokenizer's blur of them (in the spirit of the masks that composite predicted and
    copied pixels in CDNA-style video prediction). The given frames come out as they went
    in. With a moving camera everything changes, so the result tends to the plain decode."""
    t_given = given.shape[2]
    frames = 1 + 4 * (z.shape[2] - 1)
    still = torch.cat([given, given[:, :, -1:].expand(-1, -1, frames - t_given, -1, -1)], dim=2)
    decoded = model.space.decode(z)
    change = (decoded - model.space.decode(model.space.encode(still))).abs().amax(dim=1, keepdim=True)
    change = F.max_pool3d(change, (1, 3, 3), stride=1, padding=(0, 1, 1))
    weight = ((change - threshold) / threshold).clamp(0, 1)
    out = (still + weight * (decoded - still)).clamp(-1, 1)
    out[:, :, :t_given] = given
    return out


def composite_frames(model: WorldModel, z: torch.Tensor, given: np.ndarray) -> np.ndarray:
    """``composite_decode`` from and to uint8 frames: ``given`` [Tg, H, W, 3] (the same for
    every rollout in ``z``) -> [B, T, H, W, 3]."""
    real = frames_to_input(given)
    return videos_to_frames(composite_decode(model, z, real.expand(z.shape[0], -1, -1, -1, -1)))
