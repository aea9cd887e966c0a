"""Sampling the autoregressive model: temperature and top-p, token by token with a KV
cache (or, to measure what the cache buys, recomputing the whole prefix each token), and
test-time scaling over latent frames.

Test-time scaling (after SWIFT's finding that world models gain from search):
- best-of-N: N whole continuations, the one the verifier likes best is kept;
- beam search: at each latent frame every one of W beams proposes N/W sampled frames, the
  verifier scores the N prefixes and the best W go on.
A verifier maps candidate clips (token ids [B, T', h, w]) to scores, higher is better.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass

import torch

from .model import KVCache, VideoGPT

SEARCHES = ("none", "best_of_n", "beam")
MAX_CANDIDATES = 64

Verifier = Callable[[torch.Tensor, int, torch.Tensor], torch.Tensor]
"""(token ids [B, T', h, w], latent frames given, the AR model's log-likelihood of the
generated tokens [B]) -> scores [B], higher is better."""


class ARInputError(ValueError):
    """A request the autoregressive model cannot serve; the message says what to change."""


@dataclass(frozen=True)
class ARSampling:
    temperature: float = 1.0
    top_p: float = 0.9
    seed: int = 0
    search: str = "none"  # none | best_of_n | beam
    candidates: int = 1  # N: continuations (best-of-N) or frame proposals per step (beam)
    beam_width: int = 1  # W: beams kept after each latent frame

    def check(self) -> None:
        if not self.temperature > 0:
            raise ARInputError(f"temperature must be > 0, got {self.temperature:g} (use a small value, "
                               "e.g. 0.05, for near-greedy decoding)")
        if not 0 < self.top_p <= 1:
            raise ARInputError(f"top_p must be within (0, 1], got {self.top_p:g}")
        if self.search not in SEARCHES:
            raise ARInputError(f"unknown search {self.search!r}: use {', '.join(SEARCHES)}")
        if not 1 <= self.candidates <= MAX_CANDIDATES:
            raise ARInputError(f"candidates must be within 1..{MAX_CANDIDATES}, got {self.candidates}")
        if self.search == "beam" and not (1 <= self.beam_width <= self.candidates
                                          and self.candidates % self.beam_width == 0):
            raise ARInputError(f"beam_width must divide candidates ({self.candidates}) and be at least 1, "
                               f"got {self.beam_width}")


def top_p_filter(logits: torch.Tensor, top_p: float) -> torch.Tensor:
    """Logits with everything outside the smallest set of mass ≥ top_p set to -inf."""
    if top_p >= 1:
        return logits
    ordered, order = logits.sort(-1, descending=True)
    mass = ordered.softmax(-1).cumsum(-1)
    drop = mass - ordered.softmax(-1) >= top_p  # the first token always stays
    ordered = ordered.masked_fill(drop, float("-inf"))
    return torch.full_like(logits, float("-inf")).scatter(-1, order, ordered)


def draw(logits: torch.Tensor, settings: ARSampling, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """One token per row of ``logits`` [B, V] and its log-probability under the model."""
    logits = logits.float()
    probs = top_p_filter(logits / settings.temperature, settings.top_p).softmax(-1)
    token = torch.multinomial(probs, 1, generator=generator)[:, 0]
    return token, logits.log_softmax(-1).gather(1, token[:, None])[:, 0]


class Decoder:
    """Token-by-token continuation of a batch of token sequences with one model and prompt."""

    def __init__(self, net: VideoGPT, text: torch.Tensor | None, text_mask: torch.Tensor | None,
                 grid: tuple[int, int], settings: ARSampling, generator: torch.Generator,
                 use_cache: bool = True) -> None:
        self.net, self.grid, self.settings, self.generator = net, grid, settings, generator
        self.text, self.text_mask = net.text(text), text_mask
        self.use_cache = use_cache

    def rows(self, rows: torch.Tensor) -> Decoder:
        """The same decoder over the batch rows ``rows`` (their prompts follow them)."""
        text = None if self.text is None else self.text[rows]
        mask = None if self.text_mask is None else self.text_mask[rows]
        other = copy.copy(self)
        other.text, other.text_mask = text, mask
        return other

    def logits(self, inputs: torch.Tensor, start: int, cache: KVCache | None) -> torch.Tensor:
        return self.net(inputs, start, self.text, self.text_mask, cache, self.grid, normalized_text=True)

    def extend(self, tokens: torch.Tensor, count: int, cache: KVCache | None,
               progress: Callable[[int], None] | None = None) -> tuple[torch.Tensor, torch.Tensor, KVCache | None]:
        """``tokens`` [B, n] plus ``count`` sampled tokens, the sampled tokens' summed
        log-likelihood [B], and the cache (which holds slots 0..n-1 when given, else is
        built here; without ``use_cache`` every token recomputes the whole prefix)."""
        b, n = tokens.shape
        loglik = torch.zeros(b)
        start_token = torch.full((b, 1), -1, dtype=torch.long)
        for i in range(count):
            slot = n + i
            if not self.use_cache:
                inputs = torch.cat([start_token, tokens], 1)[:, : slot + 1]
                last = self.logits(inputs, 0, None)[:, -1]
            elif cache is None or cache.length == 0:
                cache = KVCache()
                last = self.logits(torch.cat([start_token, tokens], 1)[:, : slot + 1], 0, cache)[:, -1]
            else:
                last = self.logits(tokens[:, slot - 1 : slot], slot, cache)[:, -1]
            token, logp = draw(last, self.settings, self.generator)
            tokens = torch.cat([tokens, token[:, None]], 1)
            loglik += logp
            if progress:
                progress(1)
        return tokens, loglik, cache


@torch.no_grad()
def continue_tokens(
    net: VideoGPT,
    given: torch.Tensor,
    latent_frames: int,
    settings: ARSampling,
    text: torch.Tensor | None = None,
    text_mask: torch.Tensor | None = None,
    verifier: Verifier | None = None,
    use_cache: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> torch.Tensor:
    """Token ids [B, latent_frames, h, w] continuing ``given`` [B, Tg, h, w] (Tg ≥ 1 latent
    frames), searched as ``settings`` say; ``verifier`` scores candidates (default: the
    model's own likelihood)."""
    settings.check()
    b, tg, h, w = given.shape
    vocabulary, per_frame = net.cfg.vocabulary, h * w
    if given.min() < 0 or given.max() >= vocabulary:
        raise ARInputError(f"token ids must be within 0..{vocabulary - 1}, got {int(given.min())}.."
                           f"{int(given.max())}")
    if latent_frames * per_frame > net.cfg.max_tokens:
        gh, gw = net.cfg.grid
        raise ARInputError(f"{latent_frames} latent frames of {h}x{w} tokens is {latent_frames * per_frame} tokens; "
                           f"the model sees at most {net.cfg.max_tokens} (it was trained on {8 * gw}x{8 * gh} clips "
                           f"of {1 + 4 * (net.cfg.latent_frames - 1)} frames): resize the clip or generate "
                           "fewer frames")
    if not tg < latent_frames:
        raise ARInputError(f"{tg} latent frames given: nothing left to generate in {latent_frames}")
    if text is not None and text.shape[0] != b:
        raise ARInputError(f"{text.shape[0]} prompts for {b} clips")
    verify = verifier or (lambda tokens, g, loglik: loglik)
    generator = torch.Generator().manual_seed(settings.seed)
    n = settings.candidates if settings.search != "none" else 1
    total = (latent_frames - tg) * per_frame * b * n
    done = [0]

    def step(k: int) -> None:
        done[0] += k * b * n
        if progress:
            progress(min(done[0], total), total)

    grid = (h, w)
    prefix = given.flatten(1).long()
    rows = torch.arange(b).repeat_interleave(n)  # candidate row -> clip
    decoder = Decoder(net, text, text_mask, grid, settings, generator, use_cache).rows(rows)
    if settings.search in ("none", "best_of_n"):
        out, loglik, _ = decoder.extend(prefix[rows], (latent_frames - tg) * per_frame, None, step)
        clips = out.reshape(b * n, latent_frames, h, w)
        if n == 1:
            return clips
        scores = verify(clips, tg, loglik).reshape(b, n)
        return clips.reshape(b, n, latent_frames, h, w)[torch.arange(b), scores.argmax(1)]
    # beam search over latent frames: W beams per clip, each proposing N/W frames per step
    width = settings.beam_width
    per_beam = n // width
    beams, loglik = prefix[rows], torch.zeros(b * n)  # N rows per clip, at first all the given prefix
    cache: KVCache | None = None
    for frame in range(tg, latent_frames):
        beams, added, cache = decoder.extend(beams, per_frame, cache, step)
        loglik = loglik + added
        clips = beams.reshape(b * n, frame + 1, h, w)
        scores = verify(clips, tg, loglik).reshape(b, n)
        best = scores.topk(width, dim=1).indices  # [b, W]
        if frame == latent_frames - 1:
            return clips.reshape(b, n, frame + 1, h, w)[torch.arange(b), best[:, 0]]
        keep = (best + torch.arange(b)[:, None] * n).repeat_interleave(per_beam, 1).flatten()  # each beam x N/W
        beams, loglik = beams[keep], loglik[keep]
        cache = cache.select(keep) if cache is not None else None
    raise AssertionError("unreachable: the loop returns at the last frame")
