"""Running push episodes under a policy: the world-model planner, random moves, or the
scripted oracle; what the benchmark and the MPC node share."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from ..post.pusher import body_corners
from ..wfm.api import WorldModel
from .locate import locate, reference_colour
from .mpc import UNSEEN_COST, CEMSettings, PusherPose, PushGoal, cem, plan_chunk
from .push import CHUNK, CHUNKS, Episode, oracle_chunk, random_chunk

POLICIES = ("mpc", "simulator", "random", "oracle")
CONTEXT = 5  # real frames the planner encodes: 2 latent frames (motion shows; rollouts stay short)


@dataclass
class Outcome:
    seed: int
    policy: str
    success: bool
    start_distance: float
    distance: float
    seconds: float
    diverged: bool  # the simulator blew up (a body driven into another): the episode stopped there
    video: np.ndarray  # uint8 [T, H, W, 3], real style, every frame of the episode
    actions: np.ndarray  # [T - 1, 3] world-axis velocities done


def push_goal(ep: Episode) -> PushGoal:
    """The planner's view of the goal, from the first frame: the object's colour under its
    mask, and the locator's offset there (the task knows where the object starts)."""
    frames, made = ep.render(1)
    ids = [i for i, path in made.segment_paths.items() if path == ep.target]
    colour = reference_colour(frames[0], np.isin(made.segmentation[0], ids))
    pose = made.extrinsics[0]
    where, seen = locate(frames, colour, made.intrinsics, pose, ep.target_radius())
    offset = where[0] - ep.object_xy() if seen[0] else np.zeros(2)
    return PushGoal(ep.goal, colour, made.intrinsics, pose, ep.target_radius(), offset)


def simulator_plan(ep: Episode, goal: PushGoal, settings: CEMSettings, rng: np.random.Generator) -> np.ndarray:
    """The planner with the simulator as its world model (the same CEM, rendering and
    locator): what MPC reaches with a perfect model, the ceiling of the learned one."""

    def cost(plans: np.ndarray) -> np.ndarray:
        costs = []
        for plan in plans:
            trial = replace(ep, actions=list(ep.actions), _simulated=None)
            ok = all(trial.step(np.tile([*velocity, 0.0], (CHUNK, 1)), goal.world_from_camera) for velocity in plan)
            costs.append(goal.cost(trial.render(1)[0])[0] if ok else UNSEEN_COST)
        return np.array(costs)

    chunk = np.zeros((CHUNK, 3))
    chunk[:, :2] = cem(cost, settings, rng)[0]
    return chunk


def pusher_pose(ep: Episode, frames: int) -> PusherPose:
    """The pusher's box now and where it was over the last ``frames`` frames."""
    corners = body_corners(ep.model, ep.trajectory(), ep.pusher)[-frames:]
    centres = corners.mean(axis=1)
    return PusherPose(corners[-1], centres - centres[-1])


def run_episode(
    ep: Episode,
    policy: str,
    model: WorldModel | None = None,
    settings: CEMSettings | None = None,
    chunks: int = CHUNKS,
    progress: Callable[[int, int], None] | None = None,
) -> Outcome:
    """Do ``chunks`` chunks of ``policy`` in ``ep``; ``model`` is the action-conditioned world
    model (mpc); ``simulator`` plans the same way with the simulator as the model."""
    if policy not in POLICIES:
        raise ValueError(f"unknown policy {policy!r}; use one of {', '.join(POLICIES)}")
    if policy == "mpc" and model is None:
        raise ValueError("the mpc policy needs the action-conditioned world model")
    settings = settings or CEMSettings()
    start = time.time()
    rng = np.random.default_rng([ep.seed, POLICIES.index(policy), settings.seed])
    goal = push_goal(ep)
    start_distance = ep.distance()
    diverged = False
    for k in range(chunks):
        if policy == "oracle":
            chunk = oracle_chunk(ep, goal.world_from_camera)
        elif policy == "random":
            chunk = random_chunk(rng)
        elif policy == "simulator":
            chunk = simulator_plan(ep, goal, settings, rng)
        else:
            assert model is not None
            recent, _ = ep.render(min(CONTEXT, 1 + CHUNK * ((ep.frames - 1) // CHUNK)))
            chunk = plan_chunk(model, recent, goal, settings, rng, pusher_pose(ep, len(recent)))
        diverged = not ep.step(chunk, goal.world_from_camera)
        if progress:
            progress(k + 1, chunks)
        if diverged:
            break
    video, _ = ep.render(ep.frames)
    return Outcome(ep.seed, policy, ep.success() and not diverged, start_distance, ep.distance(),
                   time.time() - start, diverged, video, np.array(ep.actions).reshape(-1, 3))
