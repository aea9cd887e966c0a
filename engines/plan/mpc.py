"""Model-predictive control with the action-conditioned world model.

Each step: encode the latest real frames, sample action sequences by the cross-entropy
method (CEM), roll each out with the world model, score the predicted frames against the
goal, do the first chunk of the best plan in the simulator, and repeat. A plan is one
(right, forward) velocity per chunk of 4 frames, the way the training data moved.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from ..post.action_api import MAX_LATENT_FRAMES, rollout
from ..post.actions import CHUNK, CHUNK_DIM, to_world
from ..post.pusher import maps_ahead
from ..wfm.api import Sampling, WorldModel
from .locate import locate
from .push import MAX_SPEED

MAX_HORIZON = 2
UNSEEN_COST = 1.0  # metres: a plan that loses sight of the object scores as far off


@dataclass(frozen=True)
class CEMSettings:
    horizon: int = 1  # chunks (latent frames) looked ahead
    samples: int = 8  # plans per iteration
    iterations: int = 2
    elites: int = 3  # best plans the next iteration's distribution is fitted to
    init_std: float = 0.5  # m/s
    sampler_steps: int = 4  # Euler steps per predicted latent frame
    seed: int = 0

    def __post_init__(self) -> None:
        if not 1 <= self.horizon <= MAX_HORIZON:
            raise ValueError(f"horizon must be 1..{MAX_HORIZON} chunks (the model sees at most "
                             f"{MAX_LATENT_FRAMES} latent frames, 2 of them the latest real frames)")
        if not 1 <= self.elites <= self.samples:
            raise ValueError(f"elites must be within 1..samples ({self.samples}), got {self.elites}")
        if self.iterations < 1 or self.sampler_steps < 1:
            raise ValueError("iterations and sampler steps must be at least 1")


def cem(cost: Callable[[np.ndarray], np.ndarray], settings: CEMSettings, rng: np.random.Generator) -> np.ndarray:
    """The best plan [horizon, 2] found: Gaussian samples, refitted to the elites each iteration."""
    mean = np.zeros((settings.horizon, 2))
    std = np.full((settings.horizon, 2), settings.init_std)
    best, best_cost = mean, np.inf
    for _ in range(settings.iterations):
        plans = np.clip(mean + std * rng.normal(size=(settings.samples, settings.horizon, 2)), -MAX_SPEED, MAX_SPEED)
        costs = cost(plans)
        order = np.argsort(costs)
        if costs[order[0]] < best_cost:
            best, best_cost = plans[order[0]], float(costs[order[0]])
        elites = plans[order[: settings.elites]]
        mean, std = elites.mean(0), elites.std(0) + 0.05
    return best


def as_chunks(plans: np.ndarray) -> torch.Tensor:
    """Plans [n, horizon, 2] -> the model's actions [n, horizon, 12] (velocity held for 4 frames, no lift)."""
    per_frame = np.zeros((*plans.shape[:2], CHUNK, 3), np.float32)
    per_frame[..., :2] = plans[:, :, None, :]
    return torch.from_numpy(per_frame.reshape(*plans.shape[:2], CHUNK_DIM))


@dataclass
class PushGoal:
    """What the planner scores against: the goal on the floor, seen through the locator."""

    goal: np.ndarray  # world (x, y)
    colour: np.ndarray  # the object's colour, 0..1
    intrinsics: np.ndarray
    world_from_camera: np.ndarray
    height: float  # the object's centre above the floor
    offset: np.ndarray  # the locator's error on the first frame (it is biased towards the top face)

    def cost(self, frames: np.ndarray) -> np.ndarray:
        """Metres from the goal of the object in each uint8 frame [n, H, W, 3]."""
        where, seen = locate(frames, self.colour, self.intrinsics, self.world_from_camera, self.height)
        distance = np.linalg.norm(where - self.offset - self.goal, axis=1)
        return np.where(seen, distance, UNSEEN_COST)


@dataclass(frozen=True)
class PusherPose:
    """What the robot knows of its pusher over the latest real frames (proprioception), for
    a model that sees where the pusher is (``WFMConfig.map_channels``)."""

    corners: np.ndarray  # [8, 3] world corners of its box now
    past: np.ndarray  # [T, 3] where it was at each of the latest real frames, relative to now

    def maps(self, plans: np.ndarray, goal: PushGoal, fps: float, size: tuple[int, int]) -> torch.Tensor:
        """[P, 1, latent frames, h, w] for plans [P, horizon, 2] (right, forward m/s per chunk)."""
        out = []
        for plan in plans:
            view = np.zeros((len(plan) * CHUNK, 3))
            view[:, :2] = np.repeat(plan, CHUNK, axis=0)
            out.append(maps_ahead(self.corners, self.past, to_world(view, goal.world_from_camera), fps,
                                  goal.intrinsics, goal.world_from_camera, size))
        return torch.from_numpy(np.stack(out))[:, None]


def plan_chunk(model: WorldModel, recent: np.ndarray, goal: PushGoal, settings: CEMSettings,
               rng: np.random.Generator, pusher: PusherPose | None = None, fps: float = 16.0) -> np.ndarray:
    """The next chunk's actions [4, 3] (camera ground frame) from the latest real frames
    (uint8 [1 + 4k, H, W, 3], k <= 2); ``pusher``: its pose over them, for a model that
    sees where the pusher is."""
    given = model.encode_video(recent)
    sampling = Sampling(steps=settings.sampler_steps, guidance=0.0, method="euler",
                        seed=int(rng.integers(2**31)))
    if model.cfg.map_channels and pusher is None:
        raise ValueError(f"{model.name} sees where the pusher is: give the planner the pusher's pose")

    def cost(plans: np.ndarray) -> np.ndarray:
        maps = pusher.maps(plans, goal, fps, recent.shape[1:3]) if pusher and model.cfg.map_channels else None
        z = rollout(model, given.expand(len(plans), -1, -1, -1, -1), as_chunks(plans), sampling, pusher=maps)
        return goal.cost(model.decode(z)[:, -1])

    best = cem(cost, settings, rng)
    chunk = np.zeros((CHUNK, 3))
    chunk[:, :2] = best[0]
    return chunk
